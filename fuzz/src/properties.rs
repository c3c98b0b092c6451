//! What each fuzz target holds for any input: an error, never a panic, and a few facts on
//! success. The fuzz targets (fuzz_targets/) and the regression test of every seed and every
//! crash found (tests/fuzz_regressions.rs) run these same functions.

use std::borrow::Cow;

use ed25519_dalek::{Signer, SigningKey};
use liveshade::internals::repeats::RepeatScreen;
use liveshade::models::Weights;
use liveshade::signing::{Nonce, SecretKey, verify};
use liveshade::{DecodedImage, Frame, PixelFormat};

/// Any bytes as an image file: an error, or an image whose frame has its stated size.
pub fn decode_image(bytes: &[u8]) {
    if let Ok(image) = DecodedImage::from_encoded(bytes) {
        let frame = image.frame().expect("a decoded image is a valid frame");
        assert_eq!((frame.width(), frame.height()), (image.width(), image.height()));
        assert_eq!(image.rgb().len(), 3 * image.width() as usize * image.height() as usize);
    }
}

const FORMATS: [PixelFormat; 8] =
    [PixelFormat::Rgb8, PixelFormat::Rgba8, PixelFormat::Bgr8, PixelFormat::Bgra8, PixelFormat::Yuyv, PixelFormat::Nv12, PixelFormat::Nv21, PixelFormat::I420];

/// `Frame::new` with any size, stride, format and byte count (13 bytes of header: width,
/// height and stride as little-endian u32, then the format): an error, or a frame every CPU
/// reader (the RGB conversion, the repeated-frame screen) reads within its bytes.
pub fn frame_new(input: &[u8]) {
    let Some((head, bytes)) = input.split_first_chunk::<13>() else { return };
    let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    // The top bit of the format byte lets sizes take any u32 (the limits' edges); otherwise
    // they stay small enough that the fuzzer's inputs can fill them.
    let any_size = head[12] & 0x80 != 0;
    let size = |v: u32, small: u32| if any_size { v } else { v % small };
    let (width, height, stride) = (size(word(0), 1025), size(word(4), 1025), size(word(8), 4200));
    let format = FORMATS[(head[12] & 0x7f) as usize % FORMATS.len()];
    let Ok(frame) = Frame::new(width, height, stride, format, bytes) else { return };
    assert!(format.frame_len(width, height, stride).is_ok_and(|len| len <= bytes.len()));
    let rgb = frame.to_rgb8();
    assert_eq!(rgb.len(), 3 * width as usize * height as usize);
    let mut screen = RepeatScreen::default();
    assert!(screen.screen(&frame).is_none(), "the first frame repeats nothing");
    assert!(screen.screen(&frame).is_some(), "a frame repeats itself");
}

/// Any bytes as a weights file: an error, or a file each of whose tensors reads as that many
/// finite values or fails with an error.
pub fn weights(bytes: &[u8]) {
    let Ok(weights) = Weights::from_bytes("fuzz.safetensors", Cow::Owned(bytes.to_vec())) else { return };
    let Ok(names) = weights.unused() else { return };
    for name in names.iter().take(64) {
        let shape = weights.shape(name).expect("a listed tensor has a shape");
        if let Ok(values) = weights.tensor(name, &shape) {
            assert_eq!(values.len(), shape.iter().product::<usize>());
            assert!(values.iter().all(|v| v.is_finite()));
        }
    }
}

/// The fuzzing key: 32 bytes of 0x07 (it signs nothing but fuzz inputs).
pub const FUZZ_SEED: [u8; 32] = [7; 32];
/// The nonce the fuzzed documents are checked against.
pub const FUZZ_NONCE: &str = "000102030405060708090a0b0c0d0e0f";

/// Reading a signed result. The first byte picks how the rest is used: even, as the whole
/// document (what a server receives); odd, as a payload signed here with the fuzzing key
/// (what lies behind a valid signature), so both the envelope's checks and the payload's
/// are reached. Verification ends in an error or a result, never a panic.
pub fn verify_document(input: &[u8]) {
    let Some((&mode, rest)) = input.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let secret = SecretKey::from_text(&hex::encode(FUZZ_SEED)).expect("a valid seed");
    let (public, nonce) = (secret.public_key(), Nonce::from_hex(FUZZ_NONCE).expect("a valid nonce"));
    let document = if mode % 2 == 0 {
        text.to_string()
    } else {
        let message = [b"liveshade-signed-result-v1\n".as_slice(), text.as_bytes()].concat();
        let signature = hex::encode(SigningKey::from_bytes(&FUZZ_SEED).sign(&message).to_bytes());
        serde_json::json!({"signed": text, "signature": {"algorithm": "ed25519", "public_key": public.to_hex(), "value": signature}}).to_string()
    };
    if let Ok(verified) = verify(&document, &public, &nonce) {
        assert!(verified.payload.contains(FUZZ_NONCE), "a verified payload carries the nonce");
    }
}
