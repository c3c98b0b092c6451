//! Frame sources and the watch loop: YUYV / NV12 converted on the GPU against the CPU
//! reference, sessions back to back over a folder, a source that fails mid-session, and the
//! camera path on a machine without a camera.

mod common;

use common::gpu;
use liveshade::internals::{Resampling, resample, yuv_to_rgb};
use liveshade::{Engine, EngineOptions, Error, GpuOptions};
use liveshade::{FolderSource, FrameSource, SourceFrame};
use liveshade::{Frame, PixelFormat};
use liveshade::{SessionOptions, Sessions, VerdictKind};
use liveshade::{WatchEvent, watch};
use rand::{Rng, SeedableRng};

#[test]
fn yuv_to_rgb_follows_bt601_limited_range() {
    assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
    assert_eq!(yuv_to_rgb(235, 128, 128), [255, 255, 255]);
    assert_eq!(yuv_to_rgb(81, 90, 240), [255, 0, 0]); // BT.601 red
    assert_eq!(yuv_to_rgb(145, 54, 34), [0, 255, 1]); // green (integer rounding)
}

fn random_yuv(rng: &mut rand::rngs::StdRng, format: PixelFormat, width: u32, height: u32, padding: u32) -> (u32, Vec<u8>) {
    let stride = format.row_bytes(width) as u32 + padding;
    let rows = if matches!(format, PixelFormat::Nv12 | PixelFormat::Nv21 | PixelFormat::I420) { height + height / 2 } else { height };
    (stride, (0..stride * rows).map(|_| rng.random()).collect())
}

#[test]
fn every_pixel_format_is_converted_on_the_gpu_exactly_as_the_cpu_reference() {
    let gpu = gpu();
    let mut rng = rand::rngs::StdRng::seed_from_u64(30);
    for (case, (width, height, padding)) in [(2, 2, 0), (64, 48, 0), (130, 98, 6), (200, 320, 2), (96, 128, 16)].into_iter().enumerate() {
        for format in PixelFormat::ALL.into_iter().filter(|f| *f != PixelFormat::Rgb8) {
            let (stride, bytes) = random_yuv(&mut rng, format, width, height, padding);
            let frame = Frame::new(width, height, stride, format, &bytes).unwrap();
            let rgb = frame.to_rgb8();
            let reference = Frame::rgb8(width, height, &rgb).unwrap();
            let (w, h) = (width as i32, height as i32);
            let crop = Resampling::Crop { rect: [w / 5, h / 7, w - 1 - w / 9, h - 1] };
            for what in [Resampling::Letterbox, crop, Resampling::FaceMesh { roi: [w as f32 / 2.0, h as f32 / 2.0, w as f32 * 0.7, w as f32 * 0.7, 0.3] }] {
                let got = resample(gpu, &frame, what).unwrap();
                let want = resample(gpu, &reference, what).unwrap();
                assert_eq!(got.data, want.data, "case {case}: {format:?} {width}x{height} stride {stride}, {what:?}");
            }
        }
    }
    // Bad YUV geometry.
    assert!(Frame::new(3, 2, 6, PixelFormat::Yuyv, &[0; 12]).is_err(), "odd width");
    assert!(Frame::new(4, 3, 4, PixelFormat::Nv12, &[0; 24]).is_err(), "odd height");
    assert!(Frame::new(4, 4, 4, PixelFormat::Nv12, &[0; 23]).is_err(), "too few bytes");
    assert!(Frame::new(4, 4, 4, PixelFormat::I420, &[0; 23]).is_err(), "too few bytes");
    assert!(Frame::new(4, 4, 5, PixelFormat::I420, &[0; 64]).is_err(), "odd I420 stride");
    assert!(Frame::new(4, 3, 4, PixelFormat::Nv21, &[0; 24]).is_err(), "odd height");
}

fn engine() -> Engine {
    let backend = liveshade::Backend::from_env().unwrap();
    Engine::new(EngineOptions { gpu: GpuOptions { backend, ..Default::default() }, warm_up: None, ..Default::default() })
        .unwrap_or_else(|e| panic!("the watch tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()))
}

fn sequence(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sequences").join(name)
}

#[test]
fn watch_runs_sessions_back_to_back_over_a_folder() {
    let engine = engine();
    let mut source = FolderSource::open(&sequence("brbk7n"), 25.0).unwrap();
    let total = source.len();
    let (mut statuses, mut verdict_events) = (0, 0);
    let started = std::time::Instant::now();
    // MiniFASNet alone decides here (no blink needed to confirm): the test is of sessions
    // run back to back, one per 8 frames.
    let options = SessionOptions { confirm_live: false, ..SessionOptions::passive() };
    let verdicts = watch(&Sessions::new(&engine), &mut source, &options, None, |event| match event {
        WatchEvent::Status(status) => {
            statuses += 1;
            assert!(status.face_found);
            assert_eq!(status.challenge, None);
        }
        WatchEvent::Verdict(_) => verdict_events += 1,
    })
    .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("watch over brbk7n: {total} frames in {seconds:.2} s ({:.1} frames per second), {} verdicts", total as f64 / seconds, verdicts.len());
    assert_eq!(statuses, total, "a status per frame");
    assert_eq!(verdict_events, verdicts.len());
    assert!(verdicts.len() >= 8, "75 frames give one verdict per 8 frames, then the rest");
    let (last, full) = verdicts.split_last().unwrap();
    assert!(full.iter().all(|v| v.kind == VerdictKind::Live), "{full:?}");
    assert!(last.kind == VerdictKind::Live || last.kind == VerdictKind::Inconclusive);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new());
}

/// A camera that delivers `working` frames, then vanishes.
struct VanishingCamera {
    inner: FolderSource,
    working: usize,
}

impl FrameSource for VanishingCamera {
    fn next_frame(&mut self) -> liveshade::Result<Option<SourceFrame>> {
        if self.working == 0 {
            return Err(Error::Camera { reason: "the camera stopped delivering frames: device unplugged".into() });
        }
        self.working -= 1;
        self.inner.next_frame()
    }
}

#[test]
fn a_camera_that_vanishes_ends_the_session_as_inconclusive_with_the_error() {
    let engine = engine();
    let mut source = VanishingCamera { inner: FolderSource::open(&sequence("brbk7n"), 25.0).unwrap(), working: 5 };
    let mut last = None;
    let result = watch(&Sessions::new(&engine), &mut source, &SessionOptions::passive(), None, |event| {
        if let WatchEvent::Verdict(v) = event {
            last = Some(v.clone());
        }
    });
    assert!(matches!(result, Err(Error::Camera { .. })), "the error is returned");
    let verdict = last.expect("the interrupted session still reports");
    assert_eq!(verdict.kind, VerdictKind::Inconclusive);
    assert!(verdict.reasons[0].contains("device unplugged"), "{:?}", verdict.reasons);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new());
}

#[cfg(feature = "camera")]
#[test]
fn without_a_camera_listing_is_empty_and_opening_is_a_clear_error() {
    use liveshade::camera::{Camera, Consent, list_cameras};
    let cameras = list_cameras().unwrap();
    if cameras.is_empty() {
        match Camera::open(0, None, Consent::given_by_user()) {
            Err(Error::Camera { reason }) => assert!(!reason.is_empty()),
            Err(other) => panic!("expected a camera error, got {other}"),
            Ok(_) => panic!("a camera opened where none is listed"),
        }
    }
}
