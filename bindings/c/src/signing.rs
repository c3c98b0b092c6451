//! Signed verdicts for a server (the format: the library's src/signing.rs):
//! `liveshade_keygen`, `liveshade_session_verdict_signed`, `liveshade_verify`.

use std::ffi::{c_char, c_int};

use liveshade::signing::{self, Nonce, Provenance, PublicKey, SecretKey};

use crate::session::{LiveshadeSession, session_verdict};
use crate::{Failure, ffi, give_string, non_null, optional_str};

/// Reads a required string argument.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string.
unsafe fn required<'a>(text: *const c_char, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: as documented above.
    unsafe { optional_str(text, what) }?.ok_or_else(|| Failure::invalid(format!("{what} is NULL")))
}

/// Makes an Ed25519 key pair: `*secret_out` (64 hex digits: keep it on the terminal, in
/// its secure storage) and `*public_out` (64 hex digits: for the server), each freed with
/// `liveshade_string_free` (which zeroes the secret).
///
/// # Safety
/// `secret_out` and `public_out` point at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_keygen(secret_out: *mut *mut c_char, public_out: *mut *mut c_char) -> c_int {
    ffi("liveshade_keygen", || {
        non_null(secret_out, "secret_out")?;
        non_null(public_out, "public_out")?;
        let key = SecretKey::generate()?;
        give_string(key.public_key().to_hex(), public_out)?;
        // Moved into the C string whole: `to_hex` leaves room for the NUL, so no copy is
        // left behind by a reallocation; liveshade_string_free zeroes it.
        let mut secret = key.to_hex();
        give_string(std::mem::take(&mut *secret), secret_out)
    })
}

/// The session's verdict signed with `secret_key` (64 hex digits) over the server's
/// `nonce_hex` (32 to 128 hex digits): one JSON document, freed with
/// `liveshade_string_free`; an error while there is no verdict yet.
///
/// # Safety
/// `secret_key` and `nonce_hex` are NUL-terminated strings; `json_out` points at writable
/// storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_session_verdict_signed(
    session: *mut LiveshadeSession,
    secret_key: *const c_char,
    nonce_hex: *const c_char,
    json_out: *mut *mut c_char,
) -> c_int {
    ffi("liveshade_session_verdict_signed", || {
        non_null(json_out, "json_out")?;
        // SAFETY: as documented above.
        let key = SecretKey::from_text(unsafe { required(secret_key, "secret_key") }?)?;
        // SAFETY: as documented above.
        let nonce = Nonce::from_hex(unsafe { required(nonce_hex, "nonce_hex") }?)?;
        let document = session_verdict(session, |engine, verdict| signing::sign_verdict(verdict, &Provenance::of_adapter(engine.adapter()), &nonce, &key))?;
        give_string(document, json_out)
    })
}

/// Verifies a signed result against the terminal's `public_key` (64 hex digits) and the
/// `nonce_hex` the server sent: `LIVESHADE_OK` and, when `payload_out` is not NULL, the
/// signed payload (JSON, freed with `liveshade_string_free`) only if the signature is
/// valid, by that key, over that nonce; `LIVESHADE_ERROR_SIGNATURE` with the reason in
/// `liveshade_last_error` otherwise.
///
/// # Safety
/// The three strings are NUL-terminated; `payload_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_verify(
    document: *const c_char,
    public_key: *const c_char,
    nonce_hex: *const c_char,
    payload_out: *mut *mut c_char,
) -> c_int {
    ffi("liveshade_verify", || {
        // SAFETY: as documented above.
        let (document, key, nonce) = unsafe { (required(document, "document")?, required(public_key, "public_key")?, required(nonce_hex, "nonce_hex")?) };
        let verified = signing::verify(document, &PublicKey::from_text(key)?, &Nonce::from_hex(nonce)?)?;
        if payload_out.is_null() { Ok(()) } else { give_string(verified.payload, payload_out) }
    })
}
