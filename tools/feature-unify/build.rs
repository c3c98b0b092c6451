// Empty: a build script makes cargo build the `[build-dependencies]` whose features this
// crate pins for procedural macros (Cargo.toml).
fn main() {}
