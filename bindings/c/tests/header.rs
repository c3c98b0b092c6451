//! include/liveshade.h is what cbindgen generates from this crate today: a change to the
//! ABI that forgot the header fails here (and so tools/test.sh). To regenerate it:
//! `LIVESHADE_WRITE_HEADER=1 cargo test -p liveshade-c --test header`.

#[test]
fn the_committed_header_is_what_cbindgen_generates() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new().with_crate(crate_dir).with_config(config).generate().expect("cbindgen generates the header").write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = crate_dir.join("../../include/liveshade.h");
    if std::env::var_os("LIVESHADE_WRITE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/liveshade.h differs from what cbindgen generates; run LIVESHADE_WRITE_HEADER=1 cargo test -p liveshade-c --test header and commit it"
    );
}
