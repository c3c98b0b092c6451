//! Signed results: a verdict a server can trust.
//!
//! The server sends a nonce; the terminal signs its result with its Ed25519 key over that
//! nonce, the library's identity (its version, the result schema's, the SHA-256 of each
//! weights file), the adapter, the camera and the time; the server verifies with the
//! terminal's public key and its own nonce. A changed byte, another nonce (a replayed
//! result), another key or a cut signature fails.
//!
//! The document is one JSON object with exactly two keys:
//!
//! ```text
//! {"signed": "<payload: a JSON object, as a string>",
//!  "signature": {"algorithm": "ed25519", "public_key": "<64 hex>", "value": "<128 hex>"}}
//! ```
//!
//! The signature is over the UTF-8 bytes of `"liveshade-signed-result-v1\n"` followed by
//! the payload string exactly as it stands, so a verifier in any language needs no
//! canonical JSON: it parses the document, verifies the bytes of `signed`, then parses
//! them. Everything a server may act on (the verdict, score, reasons, frames used and
//! rejected) is inside the payload; a document with any other key is refused. The payload
//! holds no pixels, landmarks or per-frame scores.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::engine::Report;
use crate::error::{Error, Result};
use crate::gpu::AdapterSummary;
use crate::json::{RESULT_SCHEMA_VERSION, verdict_value};
use crate::liveness::Verdict;
use crate::models::weights_sha256;

/// The payload's `format` and the prefix of every signed message (domain separation: a
/// liveshade signature can be taken for nothing else).
pub const SIGNED_FORMAT: &str = "liveshade-signed-result-v1";

/// Nonce lengths accepted, in bytes: at least 128 bits, as a server's random nonce has.
const NONCE_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

fn invalid(reason: impl Into<String>) -> Error {
    Error::Signature { reason: reason.into() }
}

/// A terminal's Ed25519 secret key. Zeroized when dropped; `Debug` never shows it.
pub struct SecretKey {
    key: SigningKey,
}

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SecretKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| Error::Random { reason: e.to_string() })?;
        Ok(SecretKey { key: SigningKey::from_bytes(&seed) })
    }

    /// Reads a key file's text: the 32-byte seed as 64 hex digits (whitespace around it
    /// ignored), as [`SecretKey::to_text`] writes it.
    pub fn from_text(text: &str) -> Result<SecretKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), seed.as_mut())
            .map_err(|_| invalid("a secret key is 64 hex digits (liveshade keygen writes one); this is not one"))?;
        Ok(SecretKey { key: SigningKey::from_bytes(&seed) })
    }

    /// The secret as 64 hex digits, zeroized when dropped (room for one more byte, so a
    /// C string made of it is not reallocated, leaving a copy behind).
    pub fn to_hex(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.key.to_bytes());
        let mut digits = Zeroizing::new([0u8; 64]);
        // 32 bytes always fit 64 digits.
        let _ = hex::encode_to_slice(seed.as_ref(), digits.as_mut());
        let mut text = Zeroizing::new(String::with_capacity(65));
        text.extend(digits.iter().map(|&d| d as char));
        text
    }

    /// The key file's text: 64 hex digits and a newline, zeroized when dropped.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut text = self.to_hex();
        text.push('\n');
        text
    }

    /// The public key a server verifies with.
    pub fn public_key(&self) -> PublicKey {
        PublicKey { key: self.key.verifying_key() }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {})", self.public_key().to_hex())
    }
}

/// A terminal's Ed25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PublicKey {
    /// Reads a public key file's text: 64 hex digits, whitespace around them ignored.
    pub fn from_text(text: &str) -> Result<PublicKey> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| invalid("a public key is 64 hex digits (liveshade keygen writes one); this is not one"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| invalid("those 64 hex digits are not an Ed25519 public key"))?;
        Ok(PublicKey { key })
    }

    /// The key as 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.key.as_bytes())
    }

    /// The key file's text: 64 hex digits and a newline.
    pub fn to_text(&self) -> String {
        format!("{}\n", self.to_hex())
    }
}

/// The server's nonce for one result: 16 to 64 bytes, given as hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nonce {
    bytes: Vec<u8>,
}

impl Nonce {
    /// Reads a nonce of 32 to 128 hex digits.
    pub fn from_hex(text: &str) -> Result<Nonce> {
        let text = text.trim();
        let bytes = hex::decode(text).map_err(|_| invalid(format!("a nonce is hex digits; {text:?} is not")))?;
        if !NONCE_BYTES.contains(&bytes.len()) {
            return Err(invalid(format!(
                "a nonce is {} to {} bytes ({} to {} hex digits), not {} bytes: take it from the server, fresh for each result",
                NONCE_BYTES.start(),
                NONCE_BYTES.end(),
                2 * NONCE_BYTES.start(),
                2 * NONCE_BYTES.end(),
                bytes.len()
            )));
        }
        Ok(Nonce { bytes })
    }

    /// The nonce as lower-case hex, as the payload records it.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.bytes)
    }
}

/// Where a result was made, as the payload records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The adapter's name.
    pub adapter: String,
    /// The graphics API it was found through.
    pub backend: String,
    /// Its driver and version.
    pub driver: String,
    /// The camera the frames came from, as the platform names it; None for files.
    pub camera: Option<String>,
}

impl Provenance {
    /// The provenance of results made on `adapter` from files (no camera).
    pub fn of_adapter(adapter: &AdapterSummary) -> Provenance {
        Provenance { adapter: adapter.name.clone(), backend: adapter.backend.to_string(), driver: adapter.driver.clone(), camera: None }
    }
}

/// A session's verdict, signed: the document described in the module's documentation.
pub fn sign_verdict(verdict: &Verdict, provenance: &Provenance, nonce: &Nonce, key: &SecretKey) -> String {
    sign("session", verdict_value(verdict), provenance, nonce, key)
}

/// A single check's result, signed: its verdict, the best face's live probability and the
/// number of faces (no boxes, landmarks or pixels).
pub fn sign_report(report: &Report, provenance: &Provenance, nonce: &Nonce, key: &SecretKey) -> String {
    let live = report.faces.first().and_then(|f| f.liveness.as_ref()).map(|l| l.live);
    let reasons: Vec<&str> = report.reasons().iter().map(|r| r.as_str()).collect();
    let result = json!({"verdict": report.verdict().as_str(), "reasons": reasons, "score": live, "faces": report.faces.len(), "width": report.width, "height": report.height});
    sign("check", result, provenance, nonce, key)
}

fn signed_message(payload: &str) -> Vec<u8> {
    [SIGNED_FORMAT.as_bytes(), b"\n", payload.as_bytes()].concat()
}

fn sign(kind: &str, result: Value, provenance: &Provenance, nonce: &Nonce, key: &SecretKey) -> String {
    let weights: serde_json::Map<String, Value> = weights_sha256().into_iter().map(|(file, hash)| (file.to_string(), Value::String(hash))).collect();
    let time_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_millis() as u64);
    let payload = json!({
        "format": SIGNED_FORMAT,
        "result_schema": RESULT_SCHEMA_VERSION,
        "liveshade": env!("CARGO_PKG_VERSION"),
        "weights": weights,
        "adapter": {"name": provenance.adapter, "backend": provenance.backend, "driver": provenance.driver},
        "camera": provenance.camera,
        "nonce": nonce.to_hex(),
        "time_unix_ms": time_ms,
        "kind": kind,
        "result": result,
    })
    .to_string();
    let signature = key.key.sign(&signed_message(&payload));
    json!({
        "signed": payload,
        "signature": {"algorithm": "ed25519", "public_key": key.public_key().to_hex(), "value": hex::encode(signature.to_bytes())},
    })
    .to_string()
}

/// A signed document as `verify` reads it, strictly.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    signed: String,
    signature: SignatureField,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureField {
    algorithm: String,
    public_key: String,
    value: String,
}

/// A result whose signature, key and nonce checked out.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// "session" or "check".
    pub kind: String,
    /// "live", "spoof", "inconclusive" or "no_face".
    pub verdict: String,
    /// The payload exactly as signed (JSON): everything the result says.
    pub payload: String,
}

/// Verifies a signed document against the terminal's public key and the nonce the server
/// sent; the reason in the error says what failed.
pub fn verify(document: &str, key: &PublicKey, nonce: &Nonce) -> Result<Verified> {
    let value: Value = serde_json::from_str(document).map_err(|e| invalid(format!("the result is not JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| invalid("the result is not a JSON object"))?;
    if let Some(extra) = object.keys().find(|k| *k != "signed" && *k != "signature") {
        return Err(invalid(format!("the result has a key outside the signature, {extra:?}: only \"signed\" and \"signature\" may be there")));
    }
    // Parsed again strictly: a key twice (which `Value` would silently take the last of,
    // while a server's parser may take the first) or an unknown key in the signature fails.
    let strict: Document = serde_json::from_str(document).map_err(|e| invalid(format!("the result's fields are not as signed results have them: {e}")))?;
    let (payload, signature) = (strict.signed.as_str(), &strict.signature);
    if signature.algorithm != "ed25519" {
        return Err(invalid("the signature's algorithm is not \"ed25519\""));
    }
    // Lower-case hex only, as signed: a document that differs by a byte never verifies.
    let lower_hex = |text: &str, digits: usize| text.len() == digits && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let value = Some(signature.value.as_str()).filter(|v| lower_hex(v, 128));
    let value = value.ok_or_else(|| invalid("the signature's value is not 128 lower-case hex digits (cut or changed)"))?;
    let named = Some(signature.public_key.as_str()).filter(|k| lower_hex(k, 64));
    let named = named.ok_or_else(|| invalid("the signature's public_key is not 64 lower-case hex digits"))?;
    if named != key.to_hex() {
        return Err(invalid(format!("the result was signed by another key ({named}), not {}", key.to_hex())));
    }
    let mut bytes = [0u8; 64];
    hex::decode_to_slice(value, &mut bytes).map_err(|_| invalid("the signature's value is not hex"))?;
    if key.key.verify_strict(&signed_message(payload), &Signature::from_bytes(&bytes)).is_err() {
        return Err(invalid("the signature does not match: the result was changed after it was signed, or signed by another key"));
    }
    let fields: Value = serde_json::from_str(payload).map_err(|_| invalid("the signed payload is not JSON"))?;
    if fields.get("format").and_then(Value::as_str) != Some(SIGNED_FORMAT) {
        return Err(invalid(format!("the signed payload is not a {SIGNED_FORMAT} result")));
    }
    if fields.get("nonce").and_then(Value::as_str) != Some(nonce.to_hex().as_str()) {
        return Err(invalid("the result was signed over another nonce: a replayed or foreign result"));
    }
    let text = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let verdict = fields.get("result").and_then(|r| r.get("verdict")).and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Verified { kind: text("kind"), verdict, payload: payload.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::{Cues, VerdictKind};

    fn verdict() -> Verdict {
        Verdict {
            kind: VerdictKind::Live,
            score: 0.97,
            frames_accepted: 8,
            frames_rejected: 1,
            rejections: [("blurred", 1)].into_iter().collect(),
            cues: Cues::default(),
            reasons: vec!["passive: fused live probability 0.970 >= 0.70 over 8 frames".into()],
        }
    }

    fn provenance() -> Provenance {
        Provenance { adapter: "llvmpipe".into(), backend: "vulkan".into(), driver: "Mesa".into(), camera: Some("/dev/video0 uvcvideo".into()) }
    }

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn signed() -> (String, SecretKey) {
        let key = SecretKey::generate().unwrap();
        (sign_verdict(&verdict(), &provenance(), &Nonce::from_hex(NONCE).unwrap(), &key), key)
    }

    fn reason(result: Result<Verified>) -> String {
        match result {
            Err(Error::Signature { reason }) => reason,
            other => panic!("expected a signature error, got {other:?}"),
        }
    }

    #[test]
    fn a_signed_verdict_verifies_and_says_what_was_signed() {
        let (document, key) = signed();
        let verified = verify(&document, &key.public_key(), &Nonce::from_hex(NONCE).unwrap()).unwrap();
        assert_eq!((verified.kind.as_str(), verified.verdict.as_str()), ("session", "live"));
        let payload: Value = serde_json::from_str(&verified.payload).unwrap();
        assert_eq!(payload["nonce"], NONCE);
        assert_eq!(payload["camera"], "/dev/video0 uvcvideo");
        assert_eq!(payload["result"]["frames"]["accepted"], 8);
        assert_eq!(payload["result"]["frames"]["rejected"], 1);
        assert_eq!(payload["weights"].as_object().unwrap().len(), 4);
        assert!(payload["time_unix_ms"].as_u64().unwrap() > 1_700_000_000_000);
    }

    #[test]
    fn a_changed_byte_anywhere_fails() {
        let (document, key) = signed();
        let (public, nonce) = (key.public_key(), Nonce::from_hex(NONCE).unwrap());
        let bytes = document.as_bytes();
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x20] {
                let mut changed = bytes.to_vec();
                changed[at] ^= flip;
                let Ok(text) = String::from_utf8(changed) else { continue };
                assert!(verify(&text, &public, &nonce).is_err(), "byte {at} ({:?}) ^ {flip:#x} still verified", bytes[at] as char);
            }
        }
    }

    #[test]
    fn another_nonce_another_key_a_cut_signature_or_an_extra_key_fail() {
        let (document, key) = signed();
        let nonce = Nonce::from_hex(NONCE).unwrap();
        let other_nonce = Nonce::from_hex("ffeeddccbbaa99887766554433221100").unwrap();
        assert!(reason(verify(&document, &key.public_key(), &other_nonce)).contains("another nonce"));
        let other_key = SecretKey::generate().unwrap().public_key();
        assert!(reason(verify(&document, &other_key, &nonce)).contains("another key"));
        // A forger who names the server's expected key in the document still fails.
        let mut value: Value = serde_json::from_str(&document).unwrap();
        value["signature"]["public_key"] = Value::String(other_key.to_hex());
        assert!(reason(verify(&value.to_string(), &other_key, &nonce)).contains("does not match"));
        let mut value: Value = serde_json::from_str(&document).unwrap();
        let full = value["signature"]["value"].as_str().unwrap().to_string();
        value["signature"]["value"] = Value::String(full[..full.len() - 2].to_string());
        assert!(reason(verify(&value.to_string(), &key.public_key(), &nonce)).contains("128 lower-case hex digits"));
        let mut value: Value = serde_json::from_str(&document).unwrap();
        value["verdict"] = Value::String("live".into());
        assert!(reason(verify(&value.to_string(), &key.public_key(), &nonce)).contains("outside the signature"));
        assert!(reason(verify(&document[..document.len() / 2], &key.public_key(), &nonce)).contains("not JSON"));
        // A second "signed" before the genuine one: a first-wins parser would read the forgery.
        let forged = document.replacen(r#","signed":"#, r#","signed":"{\"verdict\":\"live\"}","signed":"#, 1);
        assert_ne!(forged, document);
        assert!(reason(verify(&forged, &key.public_key(), &nonce)).contains("duplicate field"), "{forged}");
        let mut value: Value = serde_json::from_str(&document).unwrap();
        value["signature"]["comment"] = Value::String("unsigned".into());
        assert!(reason(verify(&value.to_string(), &key.public_key(), &nonce)).contains("unknown field"));
    }

    #[test]
    fn keys_and_nonces_read_back_and_refuse_bad_text() {
        let key = SecretKey::generate().unwrap();
        let again = SecretKey::from_text(&key.to_text()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(PublicKey::from_text(&key.public_key().to_text()).unwrap(), key.public_key());
        assert!(!format!("{key:?}").contains(key.to_text().trim()), "Debug shows no secret");
        assert!(SecretKey::from_text("abcd").is_err());
        assert!(PublicKey::from_text(&"zz".repeat(32)).is_err());
        assert!(Nonce::from_hex("0011").is_err(), "2 bytes are too few");
        assert!(Nonce::from_hex(&"00".repeat(65)).is_err());
        assert!(Nonce::from_hex("not hex at all, not hex at all!!").is_err());
    }
}
