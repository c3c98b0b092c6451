//! The single-frame engine end to end: from each golden case's decoded pixels
//! (`image.rgb_u8`) to the report, against the reference pipeline (shared/golden README
//! sections 3-5 and 7); verdicts from the JPEG files; privacy; bad input; threads.

mod common;

use common::{Golden, gpu};
use liveshade::Error;
use liveshade::internals::{Resampling, resample};
use liveshade::nn::Tuning;
use liveshade::{DecodedImage, Frame, PixelFormat};
use liveshade::{Engine, EngineOptions, Label};
use std::sync::OnceLock;

const CASES: [&str; 4] = ["image_F1", "image_F2", "image_T1", "astronaut"];

fn engine(calibrate_box: bool) -> &'static Engine {
    static CALIBRATED: OnceLock<Engine> = OnceLock::new();
    static RAW: OnceLock<Engine> = OnceLock::new();
    let cell = if calibrate_box { &CALIBRATED } else { &RAW };
    cell.get_or_init(|| {
        let backend = liveshade::Backend::from_env().unwrap();
        // The published pipeline's crops: these engines are checked against its goldens.
        let gpu = liveshade::GpuOptions { backend, ..Default::default() };
        let options = EngineOptions { gpu, calibrate_box, upright_crops: false, landmarks: true, ..Default::default() };
        Engine::new(options).unwrap_or_else(|e| panic!("the engine tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()))
    })
}

fn image(golden: &Golden) -> DecodedImage {
    let (shape, rgb) = golden.raw("image.rgb_u8");
    DecodedImage::from_rgb8(shape[1] as u32, shape[0] as u32, &rgb).unwrap()
}

/// Largest |got - want| (the figure the tests print; each asserts its bound).
fn max_difference(got: &[f32], want: &[f32]) -> f32 {
    common::assert_within("max_difference", got, want, f32::INFINITY)
}

#[test]
fn network_inputs_are_bit_exact_with_the_reference_resamplers() {
    let gpu = gpu();
    for case in CASES {
        let golden = Golden::load(case);
        let image = image(&golden);
        let frame = image.frame().unwrap();
        let letterbox = resample(gpu, &frame, Resampling::Letterbox).unwrap();
        assert_eq!(letterbox.data, golden.nhwc("blazeface.input.nhwc").data, "{case}: BlazeFace input");
        let roi = golden.get("facemesh.roi_px").1;
        let mesh = resample(gpu, &frame, Resampling::FaceMesh { roi: [roi[0], roi[1], roi[2], roi[3], roi[4]] }).unwrap();
        let want = golden.nhwc("facemesh.input.nhwc");
        let differing = mesh.data.iter().zip(&want.data).filter(|(a, b)| a != b).count();
        if gpu.has_shader_f64() {
            assert_eq!(differing, 0, "{case}: Face Mesh input differs in {differing} of {} values", want.data.len());
        } else {
            // Without f64 (GL here) the warp positions are single precision: a few source
            // positions move by 1/32 px (shaders/warp_f64.wgsl), changing those values by a
            // few levels at most.
            let levels = mesh.data.iter().zip(&want.data).fold(0.0f32, |m, (a, b)| m.max((a - b).abs())) * 255.0;
            eprintln!("{case}: no SHADER_F64, Face Mesh input differs in {differing} of {} values, by up to {levels:.1} levels", want.data.len());
            assert!(differing * 1000 < want.data.len(), "{case}: {differing} values differ");
            assert!(levels <= 8.0, "{case}: {levels} levels off");
        }
        for source in ["retinaface", "blazeface"] {
            for model in ["v2", "v1se"] {
                let rect = golden.ints(&format!("minifas.{source}.{model}.crop_box_ltrb"));
                let crop = resample(gpu, &frame, Resampling::Crop { rect: [rect[0], rect[1], rect[2], rect[3]] }).unwrap();
                assert_eq!(crop.data, golden.nchw(&format!("minifas.{source}.{model}.input.nchw")).data, "{case}: {source} {model} crop");
            }
        }
    }
}

#[test]
fn reports_match_the_reference_pipeline_from_decoded_pixels() {
    let (mut box_max, mut landmark_max, mut softmax_max) = (0.0f32, 0.0f32, 0.0f32);
    for case in CASES {
        let golden = Golden::load(case);
        let image = image(&golden);
        // Without the box map the MiniFASNet box is BlazeFace's own: the golden `blazeface` path.
        let report = engine(false).check(&image.frame().unwrap()).unwrap();
        assert_eq!(report.faces.len(), 1, "{case}: one face");
        let face = &report.faces[0];
        let want_box = golden.get("blazeface.detections.box_px_xyxy").1;
        box_max = box_max.max(max_difference(&[face.face_box.x0, face.face_box.y0, face.face_box.x1, face.face_box.y1], &want_box));
        let keypoints: Vec<f32> = face.keypoints.iter().flatten().copied().collect();
        box_max = box_max.max(max_difference(&keypoints, &golden.get("blazeface.detections.keypoints_px").1));
        assert!((face.score - golden.get("blazeface.detections.score").1[0]).abs() < 1e-4, "{case}: score");
        let landmarks: Vec<f32> = face.landmarks.as_ref().unwrap().iter().flat_map(|p| [p[0], p[1]]).collect();
        let want: Vec<f32> = golden.get("facemesh.landmarks_px").1.chunks_exact(3).flat_map(|p| [p[0], p[1]]).collect();
        landmark_max = landmark_max.max(max_difference(&landmarks, &want));
        let liveness = face.liveness.as_ref().unwrap();
        assert_eq!(liveness.face_box.to_vec(), golden.ints("minifas.blazeface.bbox_xywh"), "{case}: MiniFASNet box");
        assert_eq!(liveness.crops[0].to_vec(), golden.ints("minifas.blazeface.v2.crop_box_ltrb"), "{case}: V2 crop");
        assert_eq!(liveness.crops[1].to_vec(), golden.ints("minifas.blazeface.v1se.crop_box_ltrb"), "{case}: V1SE crop");
        softmax_max = softmax_max.max(max_difference(&liveness.minifasnet_v2, &golden.get("minifas.blazeface.v2.softmax").1));
        softmax_max = softmax_max.max(max_difference(&liveness.minifasnet_v1se, &golden.get("minifas.blazeface.v1se.softmax").1));
    }
    eprintln!("end to end: boxes/keypoints max |diff| {box_max:.4} px, landmarks {landmark_max:.4} px, MiniFASNet softmax {softmax_max:.2e}");
    assert!(box_max <= 0.01, "boxes and keypoints within 0.01 px: {box_max}");
    assert!(landmark_max <= 0.05, "landmarks within 0.05 px: {landmark_max}");
    assert!(softmax_max <= 1e-3, "softmaxes within 1e-3 for the same box: {softmax_max}");
}

fn sample(name: &str) -> DecodedImage {
    DecodedImage::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images").join(name)).unwrap()
}

#[test]
fn verdicts_from_the_jpeg_files_equal_the_golden_verdicts() {
    // shared/golden/README.md section 8: F1 and F2 spoof, T1 real, with either box source.
    for (file, want) in [("spoof_print_F1.jpg", Label::Spoof), ("spoof_replay_tablet_F2.jpg", Label::Spoof), ("live_T1.jpg", Label::Live)] {
        let image = sample(file);
        assert_eq!((image.width(), image.height()), (480, 640), "{file}: EXIF orientation applied");
        for calibrate in [true, false] {
            let report = engine(calibrate).check(&image.frame().unwrap()).unwrap();
            let liveness = report.faces[0].liveness.as_ref().unwrap();
            eprintln!("{file} (box map {calibrate}): {:?} live {:.4}", liveness.label, liveness.live);
            assert_eq!(liveness.label, want, "{file} with box map {calibrate}");
        }
    }
}

#[test]
fn nothing_of_a_frame_remains_on_the_gpu_after_a_check() {
    let engine = engine(true);
    let report = engine.check(&sample("live_T1.jpg").frame().unwrap()).unwrap();
    assert_eq!(report.faces.len(), 1);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "buffers still holding data after a check");
    // And after a frame with no face at all.
    let black = vec![0u8; 64 * 48 * 4];
    let report = engine.check(&Frame::rgba8(64, 48, &black).unwrap()).unwrap();
    assert!(report.faces.is_empty());
    assert_eq!(report.verdict(), liveshade::CheckVerdict::NoFace);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new());
}

/// The warm-up Engine::new runs (a blank frame, BENCHMARKS.md "Cold start") leaves nothing
/// behind, takes any frame size a camera has and refuses absurd ones with a clear error.
#[test]
fn the_warm_up_leaves_nothing_and_refuses_absurd_sizes() {
    let engine = engine(true);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "the warm-up in Engine::new left data behind");
    engine.warm_up(1280, 720).unwrap();
    engine.warm_up(3, 5).unwrap();
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new());
    assert!(matches!(engine.warm_up(100_000, 10), Err(liveshade::Error::Options { .. })));
    assert!(engine.warm_up(0, 480).is_err());
    // The reports after it are the same as ever.
    let report = engine.check(&sample("live_T1.jpg").frame().unwrap()).unwrap();
    assert_eq!(report.faces.len(), 1);
}

#[test]
fn pixel_formats_and_strides_give_the_same_report() {
    let engine = engine(true);
    let image = sample("spoof_print_F1.jpg");
    let (w, h) = (image.width(), image.height());
    let reference = engine.check(&image.frame().unwrap()).unwrap();
    let rgb_bytes = rgb_bytes(&image);
    let mut rgba = Vec::with_capacity((w * h * 4) as usize);
    let mut bgra = Vec::with_capacity((w * h * 4) as usize);
    for p in rgb_bytes.chunks_exact(3) {
        rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
        bgra.extend_from_slice(&[p[2], p[1], p[0], 255]);
    }
    let stride = w * 3 + 13;
    let mut strided = vec![0xEEu8; (stride * h) as usize];
    for y in 0..h as usize {
        strided[y * stride as usize..y * stride as usize + (w * 3) as usize].copy_from_slice(&rgb_bytes[y * (w * 3) as usize..(y + 1) * (w * 3) as usize]);
    }
    for (name, frame) in [
        ("rgba", Frame::rgba8(w, h, &rgba).unwrap()),
        ("bgra", Frame::bgra8(w, h, &bgra).unwrap()),
        ("rgb with stride", Frame::new(w, h, stride, PixelFormat::Rgb8, &strided).unwrap()),
    ] {
        let report = engine.check(&frame).unwrap();
        assert_eq!(report.faces, reference.faces, "{name}");
    }
}

fn rgb_bytes(image: &DecodedImage) -> Vec<u8> {
    image.rgb().to_vec()
}

#[test]
fn bad_frames_and_files_are_clear_errors() {
    let bytes = vec![0u8; 16];
    assert!(matches!(Frame::rgba8(0, 10, &bytes), Err(Error::Frame { .. })));
    assert!(matches!(Frame::rgba8(10, 0, &bytes), Err(Error::Frame { .. })));
    assert!(matches!(Frame::rgba8(100_000, 1, &bytes), Err(Error::Frame { .. })));
    assert!(matches!(Frame::rgba8(2, 2, &bytes[..15]), Err(Error::Frame { .. })));
    assert!(matches!(Frame::new(4, 1, 8, PixelFormat::Rgba8, &bytes), Err(Error::Frame { .. })), "stride shorter than a row");
    assert!(matches!(DecodedImage::from_encoded(b"not an image at all"), Err(Error::Image { .. })));
    let jpeg = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/live_T1.jpg")).unwrap();
    assert!(matches!(DecodedImage::from_encoded(&jpeg[..120]), Err(Error::Image { .. })), "a JPEG cut inside its header");
    assert!(matches!(DecodedImage::open(std::path::Path::new("/nonexistent.jpg")), Err(Error::Image { .. })));
}

#[test]
fn a_photo_larger_than_the_device_binds_is_checked_in_its_own_pixels() {
    let engine = engine(true);
    let image = sample("live_T1.jpg");
    let small = engine.check(&image.frame().unwrap()).unwrap();
    // The sample blown up 15 times (nearest neighbour): larger than any binding the device
    // allows, so the engine shrinks it by a whole factor before the upload.
    let scale = 15u32;
    let limit = engine.adapter().max_storage_buffer_binding_size;
    let (w, h) = (image.width() * scale, image.height() * scale);
    assert!(w as u64 * h as u64 * 3 > limit, "{w}x{h} fits the device's {limit} bytes: scale more");
    let mut big = vec![0u8; (w * h * 3) as usize];
    for (y, row) in big.chunks_exact_mut((w * 3) as usize).enumerate() {
        let source = &image.rgb()[(y as u32 / scale * image.width() * 3) as usize..][..(image.width() * 3) as usize];
        for (x, pixel) in row.chunks_exact_mut(3).enumerate() {
            pixel.copy_from_slice(&source[x / scale as usize * 3..][..3]);
        }
    }
    let report = engine.check(&Frame::rgb8(w, h, &big).unwrap()).unwrap();
    assert_eq!((report.width, report.height), (w, h));
    assert_eq!(report.verdict(), small.verdict());
    let (a, b) = (small.faces[0].face_box, report.faces[0].face_box);
    let side = (a.x1 - a.x0) * scale as f32;
    for (got, want) in [(b.x0, a.x0), (b.y0, a.y0), (b.x1, a.x1), (b.y1, a.y1)] {
        assert!((got - want * scale as f32).abs() < 0.02 * side, "box {b:?} against {a:?} x {scale}");
    }
    let (live_small, live_big) = (small.faces[0].liveness.as_ref().unwrap().live, report.faces[0].liveness.as_ref().unwrap().live);
    eprintln!("{w}x{h}: box {b:?} (the sample's x {scale}: {a:?}); live {live_big:.4} (the sample: {live_small:.4})");
    assert!((live_big - live_small).abs() < 0.1);
}

#[test]
fn concurrent_checks_give_the_same_reports_as_sequential_ones() {
    let engine = engine(true);
    let images: Vec<DecodedImage> = ["live_T1.jpg", "spoof_print_F1.jpg", "spoof_replay_tablet_F2.jpg"].iter().map(|n| sample(n)).collect();
    let sequential: Vec<_> = images.iter().map(|i| engine.check(&i.frame().unwrap()).unwrap().faces).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|t| {
                let image = &images[t % 3];
                scope.spawn(move || engine.check(&image.frame().unwrap()).unwrap().faces)
            })
            .collect();
        for (t, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.join().unwrap(), sequential[t % 3], "thread {t}");
        }
    });
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
}

#[test]
fn pipelined_checks_give_the_sequential_reports_and_leave_nothing() {
    let engine = engine(true);
    let images: Vec<DecodedImage> = ["live_T1.jpg", "spoof_print_F1.jpg", "spoof_replay_tablet_F2.jpg"].iter().map(|n| sample(n)).collect();
    let black = vec![0u8; 64 * 48 * 4];
    let mut frames: Vec<Frame> = images.iter().map(|i| i.frame().unwrap()).collect();
    frames.insert(1, Frame::rgba8(64, 48, &black).unwrap());
    frames.push(images[0].frame().unwrap());
    let sequential: Vec<_> = frames.iter().map(|f| engine.check_with_landmarks(f).unwrap().faces).collect();
    let mut pipeline = engine.pipelined(true).unwrap();
    let mut pipelined = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let report = pipeline.push(frame).unwrap();
        assert_eq!(report.is_some(), i > 0, "reports come one push late");
        pipelined.extend(report.map(|r| r.faces));
    }
    pipelined.push(pipeline.finish().unwrap().expect("the last frame's report").faces);
    assert_eq!(pipelined, sequential);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "after finish");
    // Dropped with a frame in flight: that frame is read back and erased too.
    let mut pipeline = engine.pipelined(false).unwrap();
    assert!(pipeline.push(&frames[0]).unwrap().is_none());
    drop(pipeline);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "after a drop mid-stream");
}

#[test]
fn the_gpu_configuration_gives_the_same_reports() {
    // The whole GPU tuning policy (fused blocks, the tiled pointwise GEMM, narrow dense
    // convolutions, generic stems, the other faces' batch run directly rather than gated by
    // indirect dispatch), checked here on lavapipe against the CPU policy: the same faces,
    // boxes, landmarks and verdicts up to float summation order, for one face and for two.
    let backend = liveshade::Backend::from_env().unwrap();
    let gpu_options = liveshade::GpuOptions { backend, ..Default::default() };
    let options = EngineOptions { gpu: gpu_options, tuning: Some(Tuning::GPU), landmarks: true, warm_up: None, ..Default::default() };
    let gpu_like = Engine::new(options.clone()).unwrap_or_else(|e| panic!("the engine tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()));
    let cpu_like = Engine::new(EngineOptions { tuning: Some(Tuning::CPU), ..options.clone() }).unwrap();
    assert!(gpu_like.dispatches_per_check().unwrap() < cpu_like.dispatches_per_check().unwrap() - 50, "fused blocks cut dispatches");
    let images = ["live_T1.jpg", "spoof_print_F1.jpg", "spoof_replay_tablet_F2.jpg"].map(|file| (file, sample(file)));
    for (file, frame_image) in images.into_iter().chain([("live_T1 beside F2", live_beside_replay())]) {
        let frame = frame_image.frame().unwrap();
        let (want, got) = (cpu_like.check(&frame).unwrap(), gpu_like.check(&frame).unwrap());
        assert_eq!(got.faces.len(), want.faces.len(), "{file}");
        for (g, w) in got.faces.iter().zip(&want.faces) {
            let corners = |b: &liveshade::FaceBox| [b.x0, b.y0, b.x1, b.y1];
            common::assert_within(&format!("{file}: box"), &corners(&g.face_box), &corners(&w.face_box), 0.01);
            assert!((g.score - w.score).abs() < 1e-4, "{file}: score");
            let flat = |l: &Option<Vec<[f32; 3]>>| l.iter().flatten().flatten().copied().collect::<Vec<f32>>();
            common::assert_within(&format!("{file}: landmarks"), &flat(&g.landmarks), &flat(&w.landmarks), 0.01);
            assert_eq!(g.liveness.is_some(), w.liveness.is_some(), "{file}");
            let (Some(gl), Some(wl)) = (g.liveness.as_ref(), w.liveness.as_ref()) else { continue };
            assert_eq!(gl.label, wl.label, "{file}");
            assert_eq!((gl.face_box, gl.crops), (wl.face_box, wl.crops), "{file}: MiniFASNet box and crops");
            assert!((gl.live - wl.live).abs() < 1e-4, "{file}: live {} vs {}", gl.live, wl.live);
        }
    }
    assert_eq!(gpu_like.audit().unwrap(), Vec::<String>::new());
}

#[test]
fn a_larger_frame_grows_the_frame_buffer_and_still_matches() {
    let engine = engine(true);
    let image = sample("live_T1.jpg");
    let small = engine.check(&image.frame().unwrap()).unwrap();
    // 2400 x 2400 RGBA (23 MB) exceeds the initial 1920x1080 RGBA buffer.
    let big = vec![0u8; 2400 * 2400 * 4];
    assert!(engine.check(&Frame::rgba8(2400, 2400, &big).unwrap()).unwrap().faces.is_empty());
    assert_eq!(engine.check(&image.frame().unwrap()).unwrap().faces, small.faces);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new());
}

/// live_T1 with its pixels changed: `f` maps (x, y, rgb) to new rgb.
fn altered(image: &DecodedImage, f: impl Fn(u32, u32, [u8; 3]) -> [u8; 3]) -> DecodedImage {
    let (w, h) = (image.width(), image.height());
    let rgb = image.rgb();
    let mut out = Vec::with_capacity(rgb.len());
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            out.extend_from_slice(&f(x, y, [rgb[i], rgb[i + 1], rgb[i + 2]]));
        }
    }
    DecodedImage::from_rgb8(w, h, &out).unwrap()
}

fn box_blur(image: &DecodedImage, radius: i64) -> DecodedImage {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let rgb = image.rgb();
    altered(image, |x, y, _| {
        let mut sum = [0u32; 3];
        let mut n = 0;
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                let (xx, yy) = ((x as i64 + dx).clamp(0, w - 1), (y as i64 + dy).clamp(0, h - 1));
                let i = ((yy * w + xx) * 3) as usize;
                for c in 0..3 {
                    sum[c] += rgb[i + c] as u32;
                }
                n += 1;
            }
        }
        sum.map(|s| (s / n) as u8)
    })
}

#[test]
fn face_quality_measures_light_and_focus_for_the_gates() {
    use liveshade::QualityLimits;
    let engine = engine(true);
    let limits = QualityLimits::default();
    let image = sample("live_T1.jpg");
    let quality = |image: &DecodedImage| engine.check(&image.frame().unwrap()).unwrap().faces[0].quality.unwrap();
    let normal = quality(&image);
    eprintln!("live_T1: {normal:?}");
    assert!(normal.brightness > limits.min_brightness && normal.brightness < limits.max_brightness);
    assert!(normal.sharpness > limits.min_sharpness && normal.background - normal.brightness < limits.max_backlight);
    let dark = quality(&altered(&image, |_, _, p| p.map(|v| v / 8)));
    assert!(dark.brightness < limits.min_brightness, "{dark:?}");
    let blurred = quality(&box_blur(&image, 4));
    eprintln!("live_T1 with a 9x9 box blur: {blurred:?}");
    assert!(blurred.sharpness < limits.min_sharpness, "{blurred:?}");
    // Backlight: everything outside the face box lifted to near white, the face darkened.
    let face = engine.check(&image.frame().unwrap()).unwrap().faces[0].face_box;
    let backlit = quality(&altered(&image, |x, y, p| {
        let inside = (x as f32) >= face.x0 && (x as f32) <= face.x1 && (y as f32) >= face.y0 && (y as f32) <= face.y1;
        if inside { p.map(|v| v / 2) } else { [250, 250, 250] }
    }));
    eprintln!("backlit: {backlit:?}");
    assert!(backlit.background - backlit.brightness > limits.max_backlight, "{backlit:?}");
}

#[test]
fn a_single_check_that_cannot_be_judged_is_inconclusive_with_its_reasons() {
    use liveshade::{CheckVerdict, Rejection};
    let engine = engine(true);
    let image = sample("live_T1.jpg");
    let report = engine.check(&image.frame().unwrap()).unwrap();
    assert_eq!((report.verdict(), report.reasons()), (CheckVerdict::Live, vec![]));
    let face = &report.faces[0];
    let pose = face.pose.expect("the best face's pose");
    eprintln!("live_T1: pose {pose:?}, eye distance {:?}", face.eye_distance);
    assert!(pose.yaw.abs() < 30.0 && pose.roll.abs() < 30.0 && face.eye_distance.is_some_and(|d| d > 12.0));

    // The face cut by the frame's left edge: the right third of the face box shifted out.
    let b = face.face_box;
    let cut = (b.x0 + (b.x1 - b.x0) / 3.0) as u32;
    let (w, h) = (image.width() - cut, image.height());
    let rgb: Vec<u8> = (0..h).flat_map(|y| image.rgb()[((y * image.width() + cut) * 3) as usize..((y + 1) * image.width() * 3) as usize].to_vec()).collect();
    let report = engine.check(&liveshade::Frame::rgb8(w, h, &rgb).unwrap()).unwrap();
    eprintln!("live_T1 cut at x = {cut}: {} {:?}, MiniFASNet {:?}", report.verdict(), report.reasons(), report.model_verdict());
    assert_eq!(report.verdict(), CheckVerdict::Inconclusive);
    assert!(report.reasons().contains(&Rejection::FaceCutByBorder), "{:?}", report.reasons());
    assert!(report.faces[0].liveness.is_some(), "MiniFASNet's raw result stays in the report");
    let json: serde_json::Value = serde_json::from_str(&report.to_json(false)).unwrap();
    assert_eq!(json["verdict"], "inconclusive");
    assert!(json["reasons"].as_array().unwrap().iter().any(|r| r == "face_cut_by_border"), "{}", json["reasons"]);

    // In the dark: too dark, whatever MiniFASNet says.
    let dark = engine.check(&altered(&image, |_, _, p| p.map(|v| v / 8)).frame().unwrap()).unwrap();
    assert_eq!(dark.verdict(), CheckVerdict::Inconclusive);
    assert!(dark.reasons().contains(&Rejection::TooDark), "{:?}", dark.reasons());
    // Without a face, no_face and no reasons.
    let black = vec![0u8; 64 * 64 * 3];
    let none = engine.check(&liveshade::Frame::rgb8(64, 64, &black).unwrap()).unwrap();
    assert_eq!((none.verdict(), none.reasons()), (CheckVerdict::NoFace, vec![]));
}

/// The default engine: MiniFASNet's crops turned upright.
fn upright_engine() -> &'static Engine {
    static UPRIGHT: OnceLock<Engine> = OnceLock::new();
    UPRIGHT.get_or_init(|| {
        let backend = liveshade::Backend::from_env().unwrap();
        let options = EngineOptions { gpu: liveshade::GpuOptions { backend, ..Default::default() }, landmarks: true, ..Default::default() };
        assert!(options.upright_crops, "upright crops are the default");
        Engine::new(options).unwrap_or_else(|e| panic!("the engine tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()))
    })
}

/// cv2.warpAffine INTER_LINEAR with a replicated border, in OpenCV's fixed point (as
/// shaders/warp.wgsl states it): source positions rounded to 1/32 px, weights
/// (32-ty|ty)*(32-tx|tx)*32, (sum + 2^14) >> 15. Output NHWC, BGR.
fn warp_affine_bgr(image: &DecodedImage, m: [f32; 6], size: u32) -> Vec<f32> {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let rgb = image.rgb();
    let mut out = Vec::with_capacity((size * size * 3) as usize);
    for v in 0..size {
        for u in 0..size {
            let (x, y) = (u as f32, v as f32);
            let fx = ((m[1] * y + m[2] + m[0] * x) * 32.0).round_ties_even() as i64;
            let fy = ((m[4] * y + m[5] + m[3] * x) * 32.0).round_ties_even() as i64;
            let (sx, sy, tx, ty) = (fx >> 5, fy >> 5, fx & 31, fy & 31);
            let mut sum = [0i64; 3];
            for (dy, wy) in [(0, 32 - ty), (1, ty)] {
                for (dx, wx) in [(0, 32 - tx), (1, tx)] {
                    let (xx, yy) = ((sx + dx).clamp(0, w - 1), (sy + dy).clamp(0, h - 1));
                    let i = ((yy * w + xx) * 3) as usize;
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += rgb[i + c] as i64 * wy * wx * 32;
                    }
                }
            }
            let [r, g, b] = sum.map(|s| ((s + (1 << 14)) >> 15).clamp(0, 255) as f32);
            out.extend([b, g, r]);
        }
    }
    out
}

/// (values that differ, largest difference in levels) of two crops.
fn crop_difference(got: &[f32], want: &[f32]) -> (usize, f32) {
    assert_eq!(got.len(), want.len());
    got.iter().zip(want).fold((0, 0.0f32), |(n, largest), (a, b)| (n + (a != b) as usize, largest.max((a - b).abs())))
}

#[test]
fn upright_crops_sample_the_turned_rectangle_as_the_cpu_reference() {
    use liveshade::internals::upright_crop_transform;
    let gpu = gpu();
    let (mut differing, mut values, mut largest) = (0, 0, 0.0f32);
    for case in CASES {
        let golden = Golden::load(case);
        let image = image(&golden);
        let frame = image.frame().unwrap();
        let (w, h) = (image.width() as i32, image.height() as i32);
        let v2 = golden.ints("minifas.blazeface.v2.crop_box_ltrb");
        // The V2 crop, one touching the top-left corner, a thin one at the bottom-right, an
        // odd-sized one: each turned so that some of it leaves the frame (replicated border).
        let rects = [[v2[0], v2[1], v2[2], v2[3]], [0, 0, w / 2, h / 3], [w - 17, h / 2, w - 1, h - 1], [w / 7, h / 5, w / 7 + 40, h / 5 + 61]];
        for rect in rects {
            for rotation in [0.0f32, 0.43, -1.1, 3.0] {
                let got = resample(gpu, &frame, Resampling::UprightCrop { rect, rotation }).unwrap();
                let want = warp_affine_bgr(&image, upright_crop_transform(rect, rotation, 80.0), 80);
                let (n, levels) = crop_difference(&got.data, &want);
                (differing, values, largest) = (differing + n, values + want.len(), largest.max(levels));
            }
            // Not turned, the upright crop samples where cv2.resize does (Silent-Face's crop);
            // only the interpolation's fixed point differs (1/32 px against 11-bit weights).
            // Where the crop is enlarged (a rectangle under 80 px a side) its outermost
            // samples fall outside the rectangle: cv2.resize repeats the rectangle's edge
            // there, the warp reads the frame's next pixel, and they may differ much.
            let enlarged = rect[2] - rect[0] + 1 < 80 || rect[3] - rect[1] + 1 < 80;
            let published = resample(gpu, &frame, Resampling::Crop { rect }).unwrap();
            let upright = resample(gpu, &frame, Resampling::UprightCrop { rect, rotation: 0.0 }).unwrap();
            let (n, levels) = crop_difference(&upright.data, &published.data);
            let mean = upright.data.iter().zip(&published.data).map(|(a, b)| (a - b).abs()).sum::<f32>() / published.data.len() as f32;
            eprintln!("{case} {rect:?}: upright at 0 against cv2.resize: {n} values differ, by up to {levels} levels, {mean:.3} on average");
            assert!(enlarged || (levels <= 4.0 && mean < 0.5), "{case} {rect:?}: {levels} levels, mean {mean}");
        }
    }
    eprintln!("upright crops against the CPU warp: {differing} of {values} values differ, by up to {largest} levels");
    // The GPU may contract the position's multiply-adds (FMA), moving a position that falls
    // on a rounding boundary by 1/32 px: rare, and a few levels at most.
    assert!(differing * 2000 < values, "{differing} of {values} values differ");
    assert!(largest <= 8.0, "{largest} levels off");
}

/// `image` turned by `degrees` about its centre (positive: counter-clockwise on screen),
/// grey outside.
fn rolled(image: &DecodedImage, degrees: f32) -> DecodedImage {
    let (w, h) = (image.width(), image.height());
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let rgb = image.rgb();
    altered(image, |x, y, _| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = ((cx + c * dx - s * dy).round() as i64, (cy + s * dx + c * dy).round() as i64);
        if sx < 0 || sy < 0 || sx >= w as i64 || sy >= h as i64 {
            return [128; 3];
        }
        let i = ((sy * w as i64 + sx) * 3) as usize;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    })
}

#[test]
fn the_engine_turns_the_crops_upright_by_the_eyes_roll() {
    use liveshade::models::{MiniFasNet, Network, Variant, Weights};
    let gpu = gpu();
    let mut arena = liveshade::gpu::BufferArena::new();
    let v2 = MiniFasNet::new(gpu, Variant::V2, &Weights::bundled(Network::MiniFasNetV2).unwrap(), &mut arena).unwrap();
    let image = sample("live_T1.jpg");
    let upright = upright_engine().check(&image.frame().unwrap()).unwrap();
    let straight = upright.faces[0].liveness.clone().unwrap();
    for degrees in [-25.0f32, -10.0, 10.0, 25.0] {
        let turned = rolled(&image, degrees);
        let frame = turned.frame().unwrap();
        let report = upright_engine().check(&frame).unwrap();
        let liveness = report.faces[0].liveness.clone().unwrap();
        let published = engine(true).check(&frame).unwrap().faces[0].liveness.clone().unwrap();
        let measured = liveness.crop_rotation.to_degrees();
        eprintln!(
            "live_T1 rolled {degrees:+}°: crops turned {measured:+.1}°, upright live {:.4} ({:?}), published crops live {:.4} ({:?}); upright {:.4}",
            liveness.live, liveness.label, published.live, published.label, straight.live
        );
        // The image turned counter-clockwise by d puts the eyes at -d in image coordinates
        // (y down); the crop turns with them. BlazeFace's eye keypoints are a few degrees off.
        assert!((measured + degrees - straight.crop_rotation.to_degrees()).abs() < 4.0, "{degrees}°: crops turned {measured}°");
        assert_eq!(liveness.label, Label::Live, "{degrees}°: the rolled live face stays live with upright crops");
        // The engine's own crop is the resampler's turned rectangle: MiniFASNetV2 on it gives
        // the engine's softmax.
        let crop = resample(gpu, &frame, Resampling::UprightCrop { rect: liveness.crops[0], rotation: liveness.crop_rotation }).unwrap();
        gpu.write_tensor(v2.input(), &crop).unwrap();
        let softmax = common::run(&v2.graph().dispatches_iter().collect::<Vec<_>>(), v2.softmax());
        common::assert_within(&format!("{degrees}°: V2 on the resampled crop"), &softmax.data, &liveness.minifasnet_v2, 1e-4);
    }
}

/// live_T1 and the tablet replay F2 side by side: a live face beside a screen.
fn live_beside_replay() -> DecodedImage {
    let (live, replay) = (sample("live_T1.jpg"), sample("spoof_replay_tablet_F2.jpg"));
    assert_eq!((live.width(), live.height()), (replay.width(), replay.height()));
    let (w, h) = (live.width(), live.height());
    let mut rgb = Vec::with_capacity((2 * w * h * 3) as usize);
    for y in 0..h as usize {
        let row = |image: &DecodedImage| image.rgb()[y * w as usize * 3..(y + 1) * w as usize * 3].to_vec();
        rgb.extend(row(&live));
        rgb.extend(row(&replay));
    }
    DecodedImage::from_rgb8(2 * w, h, &rgb).unwrap()
}

#[test]
fn every_face_gets_its_own_liveness_in_the_same_check() {
    use liveshade::models::{MiniFasNet, Network, Variant, Weights};
    use liveshade::{CheckVerdict, Rejection};
    let image = live_beside_replay();
    let frame = image.frame().unwrap();
    let report = upright_engine().check(&frame).unwrap();
    assert!(report.faces.len() >= 2, "two faces: {:?}", report.faces.iter().map(|f| f.face_box).collect::<Vec<_>>());
    let half = image.width() as f32 / 2.0;
    let side = |f: &liveshade::Face| if (f.face_box.x0 + f.face_box.x1) / 2.0 < half { "live_T1" } else { "F2" };
    let gpu = gpu();
    let mut arena = liveshade::gpu::BufferArena::new();
    let v2 = MiniFasNet::new(gpu, Variant::V2, &Weights::bundled(Network::MiniFasNetV2).unwrap(), &mut arena).unwrap();
    let v1se = MiniFasNet::new(gpu, Variant::V1Se, &Weights::bundled(Network::MiniFasNetV1Se).unwrap(), &mut arena).unwrap();
    for (i, face) in report.faces.iter().take(2).enumerate() {
        let liveness = face.liveness.as_ref().unwrap_or_else(|| panic!("face {i} has its own liveness"));
        eprintln!("face {i} ({}): {:?} live {:.4}, crops turned {:+.1}°", side(face), liveness.label, liveness.live, liveness.crop_rotation.to_degrees());
        let want = if side(face) == "live_T1" { Label::Live } else { Label::Spoof };
        assert_eq!(liveness.label, want, "face {i} ({})", side(face));
        // Its batch item is what each network gives that face's crop alone.
        for (net, crop, softmax) in [(&v2, liveness.crops[0], liveness.minifasnet_v2), (&v1se, liveness.crops[1], liveness.minifasnet_v1se)] {
            let input = resample(gpu, &frame, Resampling::UprightCrop { rect: crop, rotation: liveness.crop_rotation }).unwrap();
            gpu.write_tensor(net.input(), &input).unwrap();
            let alone = common::run(&net.graph().dispatches_iter().collect::<Vec<_>>(), net.softmax());
            common::assert_within(&format!("face {i}: its batch item against its crop alone"), &softmax, &alone.data, 1e-4);
        }
    }
    assert_ne!(side(&report.faces[0]), side(&report.faces[1]), "one face each side");
    // The check says there are two: inconclusive, several_faces (one person at a terminal).
    assert_eq!(report.verdict(), CheckVerdict::Inconclusive);
    assert!(report.reasons().contains(&Rejection::SeveralFaces), "{:?}", report.reasons());
    let json: serde_json::Value = serde_json::from_str(&report.to_json(false)).unwrap();
    assert!(json["faces"][1]["liveness"]["live"].is_number(), "the second face's liveness in the JSON");
    // A session's frame judges the best face only; max_faces 1 does the same for checks.
    let session_frame = upright_engine().check_with_landmarks(&frame).unwrap();
    assert!(session_frame.faces[0].liveness.is_some() && session_frame.faces[1].liveness.is_none());
    assert_eq!(session_frame.faces[0].liveness, report.faces[0].liveness, "the best face's result is the same either way");
    assert_eq!(upright_engine().audit().unwrap(), Vec::<String>::new(), "nothing of the frame remains");
}

#[test]
fn max_faces_or_warm_up_out_of_range_is_a_clear_error() {
    for max_faces in [0, 9] {
        let options = EngineOptions { max_faces, ..Default::default() };
        match Engine::new(options) {
            Err(Error::Options { reason }) => assert!(reason.contains("max_faces") && reason.contains("1 to 8"), "{reason}"),
            Err(other) => panic!("max_faces {max_faces}: {other}"),
            Ok(_) => panic!("max_faces {max_faces} accepted"),
        }
    }
    // A warm-up frame the engine could not check is refused before the GPU is touched.
    for size in [(0, 480), (640, 0), (8193, 480), (640, 100_000)] {
        match Engine::new(EngineOptions { warm_up: Some(size), ..Default::default() }) {
            Err(Error::Options { reason }) => assert!(reason.contains("warm_up") && reason.contains("1 to 8192"), "{reason}"),
            Err(other) => panic!("warm_up {size:?}: {other}"),
            Ok(_) => panic!("warm_up {size:?} accepted"),
        }
    }
}
