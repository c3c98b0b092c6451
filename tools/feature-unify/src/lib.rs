//! Empty: this crate exists for its Cargo.toml (the features it pins), see there.
