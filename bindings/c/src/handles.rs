//! The registry of live handles and strings: every pointer this library hands out is
//! recorded until it is freed, so a NULL, foreign or already-freed pointer is refused with
//! an error instead of being dereferenced. Entries carry their type, so a session handle
//! passed where an engine is expected is refused too.

use std::any::TypeId;
use std::collections::BTreeSet;
use std::sync::Mutex;

static LIVE: Mutex<BTreeSet<(usize, TypeId)>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<(usize, TypeId)>> {
    // A poisoned registry still holds valid addresses: keep using it.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Boxes `value` and records its address.
pub(crate) fn register<T: 'static>(value: T) -> *mut T {
    let raw = Box::into_raw(Box::new(value));
    live().insert((raw as usize, TypeId::of::<T>()));
    raw
}

/// The handle behind `pointer`, if it is one this library made and has not freed.
pub(crate) fn get<'a, T: 'static>(pointer: *const T) -> Option<&'a T> {
    if pointer.is_null() || !live().contains(&(pointer as usize, TypeId::of::<T>())) {
        return None;
    }
    // SAFETY: the entry says `Box::into_raw` made this pointer from a `T`, and it stays
    // valid until `release` removes the entry.
    Some(unsafe { &*pointer })
}

/// Forgets and drops the handle behind `pointer`; false if it was not live.
pub(crate) fn release<T: 'static>(pointer: *mut T) -> bool {
    if pointer.is_null() || !live().remove(&(pointer as usize, TypeId::of::<T>())) {
        return false;
    }
    // SAFETY: it was registered by `register::<T>` and is now forgotten, so no other call
    // can reach it.
    drop(unsafe { Box::from_raw(pointer) });
    true
}

/// Records a string handed to the caller.
pub(crate) fn remember_string(text: *mut std::ffi::c_char) {
    live().insert((text as usize, TypeId::of::<std::ffi::CString>()));
}

/// Forgets a string; false if it was not one of ours, or freed already.
pub(crate) fn forget_string(text: *mut std::ffi::c_char) -> bool {
    live().remove(&(text as usize, TypeId::of::<std::ffi::CString>()))
}
