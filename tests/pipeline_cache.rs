//! The pipeline cache file (`GpuOptions::pipeline_cache_dir`, src/gpu/pipeline_file.rs):
//! with no directory nothing is read or written (tools/privacy_trace.sh watches every file
//! the default engine opens); with one, a single file named for the
//! adapter is written at the end of `Engine::new` and never again, checks of faces leave it
//! byte for byte as it was (it cannot hold frame data), the next start reads it, the
//! results are the same with and without it, and a damaged file is a cold start that the
//! engine repairs; a file or directory that others could have written is not read, and a
//! file that cannot be read or written never stops the engine. On an adapter without
//! wgpu's pipeline cache (GL) the directory is still checked and stays empty.

use std::path::{Path, PathBuf};

use liveshade::{Backend, DecodedImage, Engine, EngineOptions, Error, GpuOptions};

/// Our header before the driver's bytes: magic, length, SHA-256 (src/gpu/pipeline_file.rs).
const HEADER_BYTES: u64 = 20 + 8 + 32;

/// A fresh directory of this test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("liveshade-pipeline-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Owner-only whatever the umask: a group-writable directory (umask 002) is not trusted.
        #[cfg(unix)]
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        Scratch(dir)
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn engine(dir: Option<&Path>) -> liveshade::Result<Engine> {
    let backend = Backend::from_env().unwrap();
    let gpu = GpuOptions { backend, pipeline_cache_dir: dir.map(Path::to_path_buf), ..Default::default() };
    Engine::new(EngineOptions { gpu, warm_up: None, ..Default::default() }).map_err(|e| match e {
        Error::NoAdapter { .. } | Error::RequestDevice { .. } => {
            panic!("the pipeline cache tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok())
        }
        other => other,
    })
}

/// The file's contents and what says it was not rewritten: a rename or a second write
/// would give another inode or another modification time.
#[derive(Debug, PartialEq)]
struct Untouched {
    contents: Vec<u8>,
    inode: u64,
    modified: std::time::SystemTime,
}

fn untouched(path: &Path) -> Untouched {
    let meta = std::fs::metadata(path).unwrap();
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Untouched { contents: std::fs::read(path).unwrap(), inode, modified: meta.modified().unwrap() }
}

fn faces(engine: &Engine) -> Vec<Vec<liveshade::Face>> {
    ["live_T1.jpg", "spoof_print_F1.jpg"]
        .iter()
        .map(|name| {
            let image = DecodedImage::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)).unwrap();
            engine.check(&image.frame().unwrap()).unwrap().faces
        })
        .collect()
}

#[test]
fn a_named_cache_is_written_once_before_any_frame_read_back_and_changes_no_result() {
    let scratch = Scratch::new("once");
    let first = engine(Some(&scratch.0)).unwrap();
    // wgpu 30 keeps an application-managed pipeline cache on Vulkan only.
    let has_cache = first.adapter().backend == Backend::Vulkan;
    assert_eq!(first.pipeline_cache_file().is_some(), has_cache, "{}", first.adapter());
    if !has_cache {
        assert!(scratch.files().is_empty(), "an adapter without a pipeline cache wrote {:?}", scratch.files());
        return;
    }
    let report = first.pipeline_cache_file().unwrap();
    let path = report.path.clone();
    assert_eq!(report.offered_bytes, 0, "an empty directory is a cold start");
    assert_eq!((report.not_read, report.not_written), (None, None));
    assert_eq!(scratch.files(), vec![path.clone()], "one file, no temporary left behind");
    let written = untouched(&path);
    assert!(written.contents.starts_with(b"liveshade pipelines1") && written.contents.len() as u64 > HEADER_BYTES);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "owner-only");
    }

    let with_cache = faces(&first);
    assert_eq!(untouched(&path), written, "checks of faces changed the cache file");
    drop(first);
    assert_eq!(untouched(&path), written, "dropping the engine changed the cache file");

    let second = engine(Some(&scratch.0)).unwrap();
    let report = second.pipeline_cache_file().unwrap();
    assert_eq!(report.offered_bytes as u64, written.contents.len() as u64 - HEADER_BYTES, "the second start read the whole file");
    assert_eq!((report.not_read, report.not_written), (None, None));
    assert_eq!(faces(&second), with_cache);
    drop(second);
    assert_eq!(scratch.files(), vec![path.clone()]);
    assert_eq!(untouched(&path), written, "an unchanged cache is not rewritten");

    let without = engine(None).unwrap();
    assert!(without.pipeline_cache_file().is_none());
    assert_eq!(faces(&without), with_cache, "the cache changed a result");
}

#[test]
fn a_damaged_cache_file_is_a_cold_start_that_the_engine_repairs() {
    let scratch = Scratch::new("damaged");
    let healthy = {
        let engine = engine(Some(&scratch.0)).unwrap();
        if engine.pipeline_cache_file().is_none() {
            return; // GL: covered by the test above (nothing is written).
        }
        faces(&engine)
    };
    let path = scratch.files().pop().unwrap();
    let good = std::fs::read(&path).unwrap();
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 0x40;
    let mut wrong_length = good.clone();
    wrong_length[20] ^= 1;
    let damaged: [(&str, Vec<u8>); 5] = [
        ("empty", Vec::new()),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("one bit of the driver's bytes flipped", flipped),
        ("a wrong length", wrong_length),
        ("another program's file", b"\x7fELF not a pipeline cache at all".to_vec()),
    ];
    for (what, contents) in damaged {
        std::fs::write(&path, &contents).unwrap();
        let engine = engine(Some(&scratch.0)).unwrap_or_else(|e| panic!("{what}: {e}"));
        let report = engine.pipeline_cache_file().unwrap();
        assert_eq!(report.offered_bytes, 0, "{what}: loaded as if intact");
        assert!(report.not_read.as_deref().is_some_and(|r| r.contains("not an intact")), "{what}: {report:?}");
        assert_eq!(faces(&engine), healthy, "{what}");
        drop(engine);
        assert_eq!(std::fs::read(&path).unwrap(), good, "{what}: not repaired");
        assert_eq!(scratch.files(), vec![path.clone()], "{what}");
    }

    // Intact by our hash but saved on another device: wgpu's header (magic 8 bytes,
    // version 4, ABI 4, backend 1, then the adapter's key; wgpu-core's pipeline_cache.rs)
    // names another adapter. wgpu 30 raises DeviceMismatch even with `fallback`.
    use sha2::Digest;
    let mut body = good[HEADER_BYTES as usize..].to_vec();
    body[17] ^= 0xff;
    let mut foreign = good[..20].to_vec();
    foreign.extend_from_slice(&(body.len() as u64).to_le_bytes());
    foreign.extend_from_slice(&sha2::Sha256::digest(&body));
    foreign.extend_from_slice(&body);
    std::fs::write(&path, &foreign).unwrap();
    let engine = engine(Some(&scratch.0)).expect("a cache of another device's stopped the engine");
    let report = engine.pipeline_cache_file().unwrap();
    assert_eq!(report.offered_bytes, 0, "{report:?}");
    assert!(report.not_read.as_deref().is_some_and(|r| r.starts_with("wgpu rejected it")), "{report:?}");
    assert_eq!(faces(&engine), healthy);
    drop(engine);
    assert_eq!(std::fs::read(&path).unwrap(), good, "not repaired");
}

#[test]
fn a_cache_directory_that_does_not_exist_is_a_clear_error() {
    let scratch = Scratch::new("missing");
    let missing = scratch.0.join("not-here");
    let file = scratch.0.join("a-file");
    std::fs::write(&file, b"").unwrap();
    for dir in [missing, file] {
        match engine(Some(&dir)) {
            Err(Error::PipelineCache { path, reason }) => {
                assert_eq!(path, dir.display().to_string());
                assert!(reason.contains("not an existing directory"), "{reason}");
            }
            Err(other) => panic!("{}: another error: {other}", dir.display()),
            Ok(_) => panic!("{}: an engine without its cache directory", dir.display()),
        }
    }
    assert_eq!(scratch.files(), vec![scratch.0.join("a-file")], "nothing created beside it");
}

/// What an attacker with a foothold beside the cache could plant, and what a full or
/// read-only disk does: none of it is read, none of it stops the engine, and every case is
/// named in the report. Unix: ownership, modes, FIFOs and links.
#[cfg(unix)]
#[test]
fn a_cache_file_others_could_have_written_is_not_read_and_no_file_problem_stops_the_engine() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new("untrusted");
    let path = {
        let engine = engine(Some(&scratch.0)).unwrap();
        match engine.pipeline_cache_file() {
            Some(report) => report.path,
            None => return, // GL: nothing is read or written (the first test).
        }
    };
    let good = std::fs::read(&path).unwrap();
    let replace = |plant: &dyn Fn() -> &'static str| {
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir(&path);
        plant()
    };
    let plain = || std::fs::write(&path, &good).unwrap();
    // Each plants something under the cache's name and gives the reason the report must name.
    let cases: [(&str, &dyn Fn() -> &'static str); 4] = [
        ("a FIFO (an open that would wait for a writer)", &|| {
            assert!(std::process::Command::new("mkfifo").arg(&path).status().unwrap().success());
            "not a regular file"
        }),
        ("a link to /dev/zero (a read that never ends)", &|| {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
            "a link"
        }),
        ("an intact file that others may write", &|| {
            plain();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
            "the file is writable by its group or by others"
        }),
        ("an intact file of another user's", &|| {
            plain();
            // Giving a file away needs root; as another user the case is a group-writable one.
            if std::os::unix::fs::chown(&path, Some(4242), None).is_ok() {
                "the file belongs to another user"
            } else {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).unwrap();
                "the file is writable by its group or by others"
            }
        }),
    ];
    for (what, plant) in cases {
        let reason = replace(plant);
        let engine = engine(Some(&scratch.0)).unwrap_or_else(|e| panic!("{what}: {e}"));
        let report = engine.pipeline_cache_file().unwrap();
        assert_eq!(report.offered_bytes, 0, "{what}: read");
        assert!(report.not_read.as_deref().is_some_and(|r| r.contains(reason)), "{what}: {report:?}");
        assert_eq!(report.not_written, None, "{what}");
        drop(engine);
        // Replaced by a file of our own: a rename replaces the name, never writes through it.
        assert_eq!(std::fs::read(&path).unwrap(), good, "{what}: not replaced");
        assert!(std::fs::symlink_metadata(&path).unwrap().is_file(), "{what}");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{what}");
    }

    // A directory others may write: nothing read from it, nothing written to it.
    let before = untouched(&path);
    std::fs::set_permissions(&scratch.0, std::fs::Permissions::from_mode(0o777)).unwrap();
    let engine_in_shared_dir = engine(Some(&scratch.0)).unwrap();
    let report = engine_in_shared_dir.pipeline_cache_file().unwrap();
    std::fs::set_permissions(&scratch.0, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(report.offered_bytes, 0);
    for problem in [&report.not_read, &report.not_written] {
        assert!(problem.as_deref().is_some_and(|p| p.contains("the directory is writable by its group or by others")), "{report:?}");
    }
    drop(engine_in_shared_dir);
    assert_eq!(untouched(&path), before, "written to a directory others may write");

    // A name that cannot be written (a directory stands there): a cold start, a clear
    // report, a working engine, and no temporary left behind.
    replace(&|| {
        std::fs::create_dir(&path).unwrap();
        ""
    });
    let engine = engine(Some(&scratch.0)).unwrap();
    let report = engine.pipeline_cache_file().unwrap();
    assert_eq!(report.offered_bytes, 0);
    assert!(report.not_read.as_deref().is_some_and(|r| r.contains("not a regular file")), "{report:?}");
    assert!(report.not_written.as_deref().is_some_and(|r| r.starts_with("cannot write it")), "{report:?}");
    assert_eq!(faces(&engine).len(), 2);
    drop(engine);
    assert_eq!(scratch.files(), vec![path.clone()], "a temporary left behind");
    assert!(path.is_dir());
}
