//! The C ABI of liveshade (`include/liveshade.h`, generated from this crate by cbindgen).
//!
//! Every function returns a status (`LIVESHADE_OK`, 0, on success) and leaves a message for
//! [`liveshade_last_error`] on failure; none unwinds across the boundary (each catches
//! panics and returns `LIVESHADE_ERROR_PANIC`). Handles are checked against the set of live
//! handles, so a NULL, foreign or freed handle is an error, not a crash.
//!
//! Threads: every function may be called from any thread. Calls on one engine from several
//! threads at once are safe and run one after another on the GPU; calls on one session are
//! safe too and are serialised. The last error is per thread. An engine may be freed while
//! its sessions live: it goes when the last of them is freed.
//!
//! Privacy: the caller's pixels are read during the call only and not copied on the CPU
//! (they go straight to the GPU, whose buffers are zeroed before the call returns; a frame
//! larger than the device binds is first shrunk into zeroized memory); strings
//! and images this library returns are zeroed when freed.

mod check;
mod handles;
mod session;
mod signing;

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

pub use check::*;
pub use session::*;
pub use signing::*;

/// Success.
pub const LIVESHADE_OK: c_int = 0;
/// A NULL pointer, a freed or foreign handle, bad options, an unknown pixel format or a
/// frame whose sizes do not fit together.
pub const LIVESHADE_ERROR_INVALID_ARGUMENT: c_int = 1;
/// No GPU adapter (or not the backend asked for).
pub const LIVESHADE_ERROR_NO_ADAPTER: c_int = 2;
/// The GPU reported an error.
pub const LIVESHADE_ERROR_GPU: c_int = 3;
/// The GPU device was lost: free the engine and create another.
pub const LIVESHADE_ERROR_DEVICE_LOST: c_int = 4;
/// An image file could not be read or decoded.
pub const LIVESHADE_ERROR_IMAGE: c_int = 5;
/// Too many failed sessions recently: new sessions are refused for a while.
pub const LIVESHADE_ERROR_COOLING_DOWN: c_int = 6;
/// A bug in liveshade: a panic was caught at the boundary.
pub const LIVESHADE_ERROR_PANIC: c_int = 7;
/// Anything else (the message says what).
pub const LIVESHADE_ERROR_OTHER: c_int = 8;
/// A signed result that does not verify (changed, another key, another nonce, cut), or a
/// key or nonce that is not one.
pub const LIVESHADE_ERROR_SIGNATURE: c_int = 9;

/// A failure on its way to the caller: the status and the message.
pub(crate) struct Failure {
    status: c_int,
    message: String,
}

impl Failure {
    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure { status: LIVESHADE_ERROR_INVALID_ARGUMENT, message: message.into() }
    }
}

impl From<liveshade::Error> for Failure {
    fn from(error: liveshade::Error) -> Failure {
        use liveshade::Error as E;
        let status = match &error {
            E::NoAdapter { .. } | E::BackendUnavailable { .. } | E::RequestDevice { .. } => LIVESHADE_ERROR_NO_ADAPTER,
            E::DeviceLost { .. } => LIVESHADE_ERROR_DEVICE_LOST,
            E::Gpu { .. } | E::MissingFeature { .. } | E::TooLarge { .. } => LIVESHADE_ERROR_GPU,
            E::Image { .. } => LIVESHADE_ERROR_IMAGE,
            E::Signature { .. } => LIVESHADE_ERROR_SIGNATURE,
            E::CoolingDown { .. } => LIVESHADE_ERROR_COOLING_DOWN,
            E::Frame { .. } | E::UnknownBackend { .. } | E::Shape { .. } | E::Options { .. } | E::SessionOptions { .. } => LIVESHADE_ERROR_INVALID_ARGUMENT,
            _ => LIVESHADE_ERROR_OTHER,
        };
        Failure { status, message: error.to_string() }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
}

/// Runs an entry point: catches panics, records the message of a failure, returns the status.
pub(crate) fn ffi(what: &str, body: impl FnOnce() -> Result<(), Failure>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error("");
            LIVESHADE_OK
        }
        Ok(Err(failure)) => {
            set_last_error(&format!("{what}: {}", failure.message));
            failure.status
        }
        Err(_) => {
            set_last_error(&format!("{what}: internal error (a panic was caught; please report it)"));
            LIVESHADE_ERROR_PANIC
        }
    }
}

/// The message of the last failed call on this thread ("" after a success). Valid until the
/// next liveshade call on this thread; never NULL; owned by the library.
#[unsafe(no_mangle)]
pub extern "C" fn liveshade_last_error() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().as_ptr())
}

/// The library's identity as JSON: `{"library": "0.1.0", "result_schema": 2, "weights":
/// {file: sha256, ...}}`. Static; never NULL; owned by the library.
#[unsafe(no_mangle)]
pub extern "C" fn liveshade_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let weights: serde_json::Map<String, serde_json::Value> =
                liveshade::weights_sha256().into_iter().map(|(file, hash)| (file.to_string(), serde_json::Value::String(hash))).collect();
            let json = serde_json::json!({"library": env!("CARGO_PKG_VERSION"), "result_schema": liveshade::RESULT_SCHEMA_VERSION, "weights": weights});
            CString::new(json.to_string()).unwrap_or_default()
        })
        .as_ptr()
}

/// Frees a string this library returned (JSON results), zeroing it first. NULL is ignored.
///
/// # Safety
/// `text` is NULL or a string from this library, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_string_free(text: *mut c_char) {
    if text.is_null() || !handles::forget_string(text) {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: `text` was made by `CString::into_raw` in `give_string` and is live (the
        // registry said so and has now forgotten it).
        let owned = unsafe { CString::from_raw(text) };
        zeroize::Zeroize::zeroize(&mut owned.into_bytes());
    });
}

/// Hands `text` to the caller through `out`.
pub(crate) fn give_string(text: String, out: *mut *mut c_char) -> Result<(), Failure> {
    let text = CString::new(text).map_err(|_| Failure::invalid("a result held a NUL byte"))?;
    let raw = text.into_raw();
    handles::remember_string(raw);
    // SAFETY: the caller checked `out` is not NULL.
    unsafe { *out = raw };
    Ok(())
}

/// Reads an optional C string argument.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string.
pub(crate) unsafe fn optional_str<'a>(text: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if text.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(text) };
    text.to_str().map(Some).map_err(|_| Failure::invalid(format!("{what} is not UTF-8")))
}

/// Fails on a NULL pointer argument.
pub(crate) fn non_null<T>(pointer: *const T, what: &str) -> Result<(), Failure> {
    if pointer.is_null() { Err(Failure::invalid(format!("{what} is NULL"))) } else { Ok(()) }
}
