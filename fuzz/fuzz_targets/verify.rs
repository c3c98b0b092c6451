//! The fuzz target for `properties::verify_document` (fuzz/src/properties.rs).
#![no_main]

#[allow(dead_code)] // each target runs one of the properties
#[path = "../src/properties.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|input: &[u8]| properties::verify_document(input));
