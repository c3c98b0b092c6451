//! A session's face followed between frames (src/engine/track.rs, shaders/track.wgsl): a
//! tracked frame is recomputed here on the CPU (BlazeFace's offsets from the landmarks at
//! the detection, applied to the last frame's landmarks; the region; Face Mesh on its warp;
//! the projection back), a face that leaves is lost at once and found again by BlazeFace,
//! and the kept region is erased with the verdict, by any other check and when a session
//! is dropped.

mod common;

use std::sync::OnceLock;

use liveshade::gpu::BufferArena;
use liveshade::internals::{Resampling, resample};
use liveshade::models::{FaceMesh, Network, Weights};
use liveshade::{DecodedImage, Engine, EngineOptions, FaceTrack, Frame, GpuOptions, Report, Session, SessionOptions, Sessions};

/// The engine, one test at a time: any other check erases the region a test follows.
fn engine() -> (std::sync::MutexGuard<'static, ()>, &'static Engine) {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    let serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let engine = ENGINE.get_or_init(|| {
        let backend = liveshade::Backend::from_env().unwrap();
        let options = EngineOptions { gpu: GpuOptions { backend, ..Default::default() }, warm_up: None, ..Default::default() };
        Engine::new(options).unwrap_or_else(|e| panic!("the tracking tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()))
    });
    (serial, engine)
}

fn frames(name: &str, count: usize) -> Vec<DecodedImage> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sequences").join(name);
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().take(count).map(|f| DecodedImage::open(f).unwrap()).collect()
}

fn points(report: &Report) -> &[[f32; 3]] {
    report.faces[0].landmarks.as_deref().unwrap()
}

fn xy(points: &[[f32; 3]], i: usize) -> [f32; 2] {
    [points[i][0], points[i][1]]
}

/// The bounding box of the landmarks: centre and longer side.
fn landmark_box(points: &[[f32; 3]]) -> ([f32; 2], f32) {
    let (mut low, mut high) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in points {
        for k in 0..2 {
            low[k] = low[k].min(p[k]);
            high[k] = high[k].max(p[k]);
        }
    }
    ([(low[0] + high[0]) / 2.0, (low[1] + high[1]) / 2.0], (high[0] - low[0]).max(high[1] - low[1]))
}

/// The landmarks that stand in for BlazeFace's keypoints (track.wgsl KEYPOINT_LANDMARKS).
fn keypoint_landmarks(points: &[[f32; 3]]) -> [[f32; 2]; 6] {
    let mean = |i: usize, j: usize| [(points[i][0] + points[j][0]) / 2.0, (points[i][1] + points[j][1]) / 2.0];
    [mean(33, 133), mean(362, 263), xy(points, 1), mean(13, 14), xy(points, 234), xy(points, 454)]
}

/// BlazeFace's box and keypoints measured against the landmarks of the same frame, in units
/// of the landmarks' side: centre offset, width, height, then the keypoints' offsets.
struct Offsets {
    centre: [f32; 2],
    size: [f32; 2],
    keypoints: [[f32; 2]; 6],
}

fn offsets(detected: &Report) -> Offsets {
    let face = &detected.faces[0];
    let (centre, side) = landmark_box(points(detected));
    let b = face.face_box;
    let stand_ins = keypoint_landmarks(points(detected));
    Offsets {
        centre: [((b.x0 + b.x1) / 2.0 - centre[0]) / side, ((b.y0 + b.y1) / 2.0 - centre[1]) / side],
        size: [(b.x1 - b.x0) / side, (b.y1 - b.y0) / side],
        keypoints: std::array::from_fn(|k| [(face.keypoints[k][0] - stand_ins[k][0]) / side, (face.keypoints[k][1] - stand_ins[k][1]) / side]),
    }
}

/// The box [x0, y0, x1, y1] and keypoints rebuilt from `points` with `offsets`.
fn rebuilt(points: &[[f32; 3]], offsets: &Offsets) -> ([f32; 4], [[f32; 2]; 6]) {
    let (centre, side) = landmark_box(points);
    let c = [centre[0] + offsets.centre[0] * side, centre[1] + offsets.centre[1] * side];
    let half = [offsets.size[0] * side / 2.0, offsets.size[1] * side / 2.0];
    let stand_ins = keypoint_landmarks(points);
    let keypoints = std::array::from_fn(|k| [stand_ins[k][0] + offsets.keypoints[k][0] * side, stand_ins[k][1] + offsets.keypoints[k][1] * side]);
    ([c[0] - half[0], c[1] - half[1], c[0] + half[0], c[1] + half[1]], keypoints)
}

/// face_regions' Face Mesh ROI of a detection (DetectionsToRects + RectTransformation):
/// the box's centre, the longer side x1.5, turned by the line between the eyes.
fn roi_of(b: [f32; 4], keypoints: [[f32; 2]; 6]) -> [f32; 5] {
    let side = (b[2] - b[0]).max(b[3] - b[1]) * 1.5;
    let ([x0, y0], [x1, y1]) = (keypoints[0], keypoints[1]);
    let angle = -(-(y1 - y0)).atan2(x1 - x0);
    let rotation = angle - 2.0 * std::f32::consts::PI * ((angle + std::f32::consts::PI) / (2.0 * std::f32::consts::PI)).floor();
    [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, side, side, rotation]
}

/// Face Mesh on `roi` of `frame`, its landmarks projected to image pixels (MediaPipe's
/// TensorsToLandmarks + LandmarkProjection), all outside the engine.
fn face_mesh_on(engine: &Engine, frame: &Frame<'_>, roi: [f32; 5]) -> Vec<[f32; 3]> {
    let gpu = engine.gpu();
    let mut arena = BufferArena::new();
    let net = FaceMesh::new(gpu, &Weights::bundled(Network::FaceMesh).unwrap(), &mut arena).unwrap();
    let input = resample(gpu, frame, Resampling::FaceMesh { roi }).unwrap();
    gpu.write_tensor(net.input(), &input).unwrap();
    let mut encoder = gpu.encoder("face mesh");
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
        net.graph().record(&mut pass);
    }
    gpu.submit_and_wait(encoder).unwrap();
    let raw = gpu.read_tensor(net.landmarks()).unwrap().data;
    let [cx, cy, w, h, rotation] = roi;
    let (c, s) = (rotation.cos(), rotation.sin());
    raw.chunks_exact(3)
        .map(|p| {
            let (x, y, z) = (p[0] / 192.0 - 0.5, p[1] / 192.0 - 0.5, p[2] / 192.0);
            [(c * x - s * y) * w + cx, (s * x + c * y) * h + cy, z * w]
        })
        .collect()
}

fn largest_difference(a: &[[f32; 3]], b: &[[f32; 3]]) -> f32 {
    a.iter().zip(b).flat_map(|(p, q)| [(p[0] - q[0]).abs(), (p[1] - q[1]).abs()]).fold(0.0, f32::max)
}

#[test]
fn a_tracked_frame_is_the_detection_rebuilt_from_the_last_landmarks_as_on_the_cpu() {
    let (_serial, engine) = engine();
    let images = frames("brbk7n", 8);
    let mut track = FaceTrack::new(1000);
    let mut tracked: Vec<Report> = Vec::new();
    let (mut landmark_max, mut box_max) = (0.0f32, 0.0f32);
    for (k, image) in images.iter().enumerate() {
        let frame = image.frame().unwrap();
        let report = engine.check_followed(&frame, &mut track).unwrap();
        assert_eq!(track.frames_since_detection(), k as u32, "frame {k}: BlazeFace on the first frame only");
        assert_eq!(report.faces.len(), 1, "frame {k}: the face followed");
        if let Some(previous) = tracked.last() {
            // BlazeFace's offsets from the landmarks at the detection (frame 0), applied to
            // the last frame's landmarks: the region Face Mesh saw.
            let measured = offsets(&tracked[0]);
            let (b, keypoints) = rebuilt(points(previous), &measured);
            let want = face_mesh_on(engine, &frame, roi_of(b, keypoints));
            landmark_max = landmark_max.max(largest_difference(points(&report), &want));
            // This frame's box and keypoints: the same offsets on its own landmarks.
            let face = &report.faces[0];
            let (b, keypoints) = rebuilt(points(&report), &measured);
            let got = [face.face_box.x0, face.face_box.y0, face.face_box.x1, face.face_box.y1];
            box_max = got.iter().zip(b).fold(box_max, |m, (g, w)| m.max((g - w).abs()));
            for (g, w) in face.keypoints.iter().zip(keypoints) {
                box_max = box_max.max((g[0] - w[0]).abs()).max((g[1] - w[1]).abs());
            }
            assert!(face.presence >= 0.5 && (face.score - face.presence).abs() < 1e-6, "frame {k}: the score is Face Mesh's presence");
            assert!(face.liveness.is_some() && face.quality.is_some(), "frame {k}: judged and measured");
        }
        tracked.push(report);
    }
    // Tracked frames stay close to BlazeFace's on the same frames (checked after the
    // tracking: any other check erases the kept region).
    let (mut from_detection, mut box_from_detection) = (0.0f32, 0.0f32);
    for (image, report) in images.iter().zip(&tracked).skip(1) {
        let detected = engine.check_with_landmarks(&image.frame().unwrap()).unwrap();
        let eyes = report.faces[0].eye_distance.unwrap();
        let (a, b) = (points(report), points(&detected));
        let mean = a.iter().zip(b).map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()).sum::<f32>() / a.len() as f32;
        from_detection = from_detection.max(mean / eyes);
        let (t, d) = (report.faces[0].face_box, detected.faces[0].face_box);
        let corners = [t.x0 - d.x0, t.y0 - d.y0, t.x1 - d.x1, t.y1 - d.y1];
        box_from_detection = corners.iter().fold(box_from_detection, |m, c| m.max(c.abs() / eyes));
    }
    eprintln!(
        "tracked frames: landmarks within {landmark_max:.4} px of the CPU's rebuilt region, box and keypoints {box_max:.4} px; \
         from BlazeFace's frames: landmarks {from_detection:.4} eye distances on average, box corners up to {box_from_detection:.4}"
    );
    assert!(landmark_max <= 0.05, "landmarks of a tracked frame: {landmark_max} px from the CPU reference");
    assert!(box_max <= 0.01, "box and keypoints from the landmarks: {box_max} px");
    assert!(from_detection <= 0.02, "tracked landmarks {from_detection} eye distances from the detected ones");
    assert!(box_from_detection <= 0.1, "tracked box corners {box_from_detection} eye distances from BlazeFace's");
}

#[test]
fn a_face_that_leaves_is_lost_at_once_and_found_again_by_blazeface() {
    let (_serial, engine) = engine();
    let images = frames("brbk7n", 4);
    let (width, height) = (images[0].width(), images[0].height());
    let grey = vec![128u8; width as usize * height as usize * 3];
    let blank = Frame::rgb8(width, height, &grey).unwrap();
    let mut track = FaceTrack::new(1000);
    let mut seen = Vec::new();
    for frame in [images[0].frame().unwrap(), images[1].frame().unwrap(), blank, images[2].frame().unwrap(), images[3].frame().unwrap()] {
        let report = engine.check_followed(&frame, &mut track).unwrap();
        seen.push((report.faces.len(), track.frames_since_detection()));
    }
    // The grey frame is tracked, and Face Mesh finds nothing there: no face, and the next
    // frame runs BlazeFace again.
    assert_eq!(seen, [(1, 0), (1, 1), (0, 2), (1, 0), (1, 1)]);
    // A frame of another size is never tracked.
    let small = images[0].frame().unwrap();
    let smaller = DecodedImage::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/live_T1.jpg")).unwrap();
    engine.check_followed(&small, &mut track).unwrap();
    engine.check_followed(&smaller.frame().unwrap(), &mut track).unwrap();
    assert_eq!(track.frames_since_detection(), 0, "a new frame size runs BlazeFace");
    engine.forget_track(&mut track).unwrap();
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new());
}

#[test]
fn the_tracked_region_is_erased_with_the_verdict_by_other_checks_and_on_drop() {
    let (_serial, engine) = engine();
    let images = frames("brbk7n", 3);
    let dirty = |what: &str| {
        let audit = engine.audit().unwrap();
        assert!(audit.iter().any(|b| b.contains("tracked region")) && audit.len() == 1, "{what}: {audit:?}");
    };
    let sessions = Sessions::new(engine);
    let mut session = sessions.start(SessionOptions::passive()).unwrap();
    for (i, image) in images.iter().enumerate() {
        assert!(session.push_at(&image.frame().unwrap(), i as f64 / 25.0).unwrap().is_none());
    }
    // Between a session's frames the region is all the engine holds, until the verdict.
    dirty("between frames");
    session.finish();
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "after the verdict");
    // Another check erases it (and the session's next frame runs BlazeFace).
    let mut session = sessions.start(SessionOptions::passive()).unwrap();
    session.push_at(&images[0].frame().unwrap(), 0.0).unwrap();
    dirty("one frame in");
    engine.check(&images[1].frame().unwrap()).unwrap();
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "after a plain check");
    session.push_at(&images[1].frame().unwrap(), 0.04).unwrap();
    dirty("the next frame");
    // A session dropped without a verdict erases it too.
    drop(session);
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "after the session was dropped");
    // A session that reaches its verdict on a frame erases it with that frame.
    let options = SessionOptions { max_frames: 3, ..SessionOptions::passive() };
    let mut session = sessions.start(options).unwrap();
    let verdicts: Vec<_> = images.iter().enumerate().map(|(i, image)| session.push_at(&image.frame().unwrap(), i as f64 / 25.0).unwrap()).collect();
    assert!(verdicts[2].is_some(), "the third frame ends the session");
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "after the verdict on a frame");
    // A session whose caller holds the engine (the bindings') erases it when released.
    let guard = liveshade::FailureGuard::new(liveshade::FailureLimit::default());
    let mut session = Session::from_reports_with_guard(SessionOptions::passive(), &guard).unwrap();
    session.push_checked_on(engine, &images[0].frame().unwrap(), 0.0).unwrap();
    dirty("a binding's session, one frame in");
    session.release_on(engine).unwrap();
    assert_eq!(engine.audit().unwrap(), Vec::<String>::new(), "after the binding's session was released");
}
