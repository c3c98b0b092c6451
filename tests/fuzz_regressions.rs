//! Every fuzz seed (fuzz/seeds/TARGET) and every input a fuzzer crashed on
//! (fuzz/regressions/TARGET, kept once fixed) through the fuzz targets' own properties
//! (fuzz/src/properties.rs), in the ordinary test run: a crash found once stays fixed.

#[allow(dead_code)]
#[path = "../fuzz/src/properties.rs"]
mod properties;

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut found = Vec::new();
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            found.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    found.sort();
    found
}

fn run(target: &str, property: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no seeds for {target}");
    for (name, bytes) in &inputs {
        eprintln!("{target}: {name} ({} bytes)", bytes.len());
        property(bytes);
        // Every prefix too: the cut files a fuzzer starts from.
        for cut in [0, 1, bytes.len() / 3, bytes.len() / 2, bytes.len().saturating_sub(1)] {
            property(&bytes[..cut.min(bytes.len())]);
        }
    }
}

#[test]
fn image_files() {
    run("decode_image", properties::decode_image);
}

#[test]
fn frames() {
    run("frame_new", properties::frame_new);
}

#[test]
fn weights_files() {
    run("weights", properties::weights);
}

#[test]
fn signed_results() {
    run("verify", properties::verify_document);
}

#[test]
fn the_seeds_reach_the_success_paths() {
    // Seeds that only ever fail would fuzz only the error paths: check each target has one
    // that parses.
    let decoded = inputs("decode_image").iter().filter(|(_, b)| liveshade::DecodedImage::from_encoded(b).is_ok()).count();
    assert!(decoded >= 4, "{decoded} seed images decode");
    let weights = inputs("weights").iter().filter(|(_, b)| liveshade::models::Weights::from_bytes("seed", std::borrow::Cow::Owned(b.clone())).is_ok()).count();
    assert_eq!(weights, 2);
    let key = liveshade::signing::SecretKey::from_text(&hex::encode(properties::FUZZ_SEED)).unwrap().public_key();
    let nonce = liveshade::signing::Nonce::from_hex(properties::FUZZ_NONCE).unwrap();
    let verified = inputs("verify")
        .iter()
        .filter(|(_, b)| b.first() == Some(&0) && liveshade::signing::verify(std::str::from_utf8(&b[1..]).unwrap(), &key, &nonce).is_ok())
        .count();
    assert_eq!(verified, 1, "one seed is a valid signed result");
}
