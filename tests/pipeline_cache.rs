//! The pipeline cache file (`GpuOptions::pipeline_cache_dir`, src/gpu/pipeline_file.rs):
//! with no directory nothing is read or written (tools/privacy_trace.sh watches every file
//! the default engine opens); with one, a single file named for the
//! adapter is written at the end of `Engine::new` and never again, checks of faces leave it
//! byte for byte as it was (it cannot hold frame data), the next start reads it, the
//! results are the same with and without it, and a damaged file is a cold start that the
//! engine repairs. On an adapter without wgpu's pipeline cache (GL) the directory is still
//! checked and stays empty.

use std::path::{Path, PathBuf};

use liveshade::{Backend, DecodedImage, Engine, EngineOptions, Error, GpuOptions};

/// wgpu 30 keeps an application-managed pipeline cache on Vulkan only.
const HEADER_BYTES: u64 = 20 + 8 + 32;

/// A fresh directory of this test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("liveshade-pipeline-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
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
    let has_cache = first.adapter().backend == Backend::Vulkan;
    assert_eq!(first.pipeline_cache_file().is_some(), has_cache, "{}", first.adapter());
    if !has_cache {
        assert!(scratch.files().is_empty(), "an adapter without a pipeline cache wrote {:?}", scratch.files());
        return;
    }
    let (path, loaded) = first.pipeline_cache_file().map(|(p, b)| (p.to_path_buf(), b)).unwrap();
    assert_eq!(loaded, 0, "an empty directory is a cold start");
    assert_eq!(scratch.files(), vec![path.clone()], "one file, no temporary left behind");
    let written = std::fs::read(&path).unwrap();
    assert!(written.starts_with(b"liveshade pipelines1") && written.len() as u64 > HEADER_BYTES);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "owner-only");
    }

    let with_cache = faces(&first);
    assert_eq!(std::fs::read(&path).unwrap(), written, "checks of faces changed the cache file");
    drop(first);
    assert_eq!(std::fs::read(&path).unwrap(), written, "dropping the engine changed the cache file");

    let second = engine(Some(&scratch.0)).unwrap();
    let (_, loaded) = second.pipeline_cache_file().unwrap();
    assert_eq!(loaded as u64, written.len() as u64 - HEADER_BYTES, "the second start read the whole file");
    assert_eq!(faces(&second), with_cache);
    drop(second);
    assert_eq!(scratch.files(), vec![path.clone()]);
    assert_eq!(std::fs::read(&path).unwrap(), written, "an unchanged cache is not rewritten");

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
        assert_eq!(engine.pipeline_cache_file().unwrap().1, 0, "{what}: loaded as if intact");
        assert_eq!(faces(&engine), healthy, "{what}");
        drop(engine);
        assert_eq!(std::fs::read(&path).unwrap(), good, "{what}: not repaired");
        assert_eq!(scratch.files(), vec![path.clone()], "{what}");
    }
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
