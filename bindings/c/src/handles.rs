//! The registry of live handles and strings. A handle is an opaque number the library
//! never reuses, not an address: a NULL, foreign or already-freed handle is refused with an
//! error instead of being dereferenced, even after its memory went to a new handle. Entries
//! carry their type, so a session handle passed where an engine is expected is refused too.
//! Each entry is an `Arc`: a call in flight holds its own reference, so freeing a handle on
//! one thread while another thread's call is using it is safe (the object goes when that
//! call ends).

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

type Entry = Arc<dyn Any + Send + Sync>;

static LIVE: Mutex<BTreeMap<(usize, TypeId), Entry>> = Mutex::new(BTreeMap::new());
static STRINGS: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());
/// The next handle's number; 16 apart, so that handles look like aligned pointers to
/// tools that print them.
static NEXT: AtomicUsize = AtomicUsize::new(0x1000);

/// Locks `mutex`; a poisoned registry still holds valid entries: keep using it.
fn locked<T>(mutex: &'static Mutex<T>) -> MutexGuard<'static, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records `value` under a new handle.
pub(crate) fn register<T: Send + Sync + 'static>(value: T) -> *mut T {
    let id = NEXT.fetch_add(16, Ordering::Relaxed);
    locked(&LIVE).insert((id, TypeId::of::<T>()), Arc::new(value));
    id as *mut T
}

/// The object behind `handle`, if this library made it and has not freed it.
pub(crate) fn get<T: Send + Sync + 'static>(handle: *const T) -> Option<Arc<T>> {
    let entry = locked(&LIVE).get(&(handle as usize, TypeId::of::<T>())).cloned()?;
    entry.downcast::<T>().ok()
}

/// Forgets `handle`; its object is dropped once no call in flight holds it. False if it
/// was not live.
pub(crate) fn release<T: 'static>(handle: *mut T) -> bool {
    let entry = locked(&LIVE).remove(&(handle as usize, TypeId::of::<T>()));
    // Dropped outside the registry's lock: dropping an engine waits for its GPU.
    entry.is_some()
}

/// Records a string handed to the caller (strings are real pointers: the caller reads them).
pub(crate) fn remember_string(text: *mut std::ffi::c_char) {
    locked(&STRINGS).insert(text as usize);
}

/// Forgets a string; false if it was not one of ours, or freed already.
pub(crate) fn forget_string(text: *mut std::ffi::c_char) -> bool {
    locked(&STRINGS).remove(&(text as usize))
}
