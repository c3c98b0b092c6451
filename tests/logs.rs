//! PRIVACY.md promise 7: logs say what the engine did, never what it saw. Every log record
//! of every crate (wgpu's included) is captured at trace level through checks of the
//! samples and a whole session, and none holds a score, a box coordinate, a keypoint or a
//! landmark of the reports (each printed as the logs would print it).

use std::sync::Mutex;

use liveshade::{DecodedImage, Engine, EngineOptions, GpuOptions, Report, Session, SessionOptions};

static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS.lock().unwrap().push(format!("{} {}: {}", record.level(), record.target(), record.args()));
    }
    fn flush(&self) {}
}

/// The numbers of a report as text, in the forms a log line would show them.
fn numbers(report: &Report) -> Vec<String> {
    let mut values: Vec<f32> = Vec::new();
    for face in &report.faces {
        let b = face.face_box;
        values.extend([b.x0, b.y0, b.x1, b.y1, face.score]);
        values.extend(face.keypoints.iter().flatten());
        values.extend(face.landmarks.iter().flatten().flatten().take(30));
        values.extend(face.pose.iter().flat_map(|p| [p.yaw, p.pitch, p.roll]).chain(face.eye_distance));
        if let Some(l) = &face.liveness {
            values.extend([l.live, l.score]);
            values.extend(l.minifasnet_v2.iter().chain(&l.minifasnet_v1se));
        }
    }
    values.iter().filter(|v| v.abs() > 1e-3).flat_map(|v| [format!("{v}"), format!("{v:.4}"), format!("{v:?}")]).filter(|t| t.len() >= 5).collect()
}

#[test]
fn no_log_record_holds_what_a_check_or_a_session_saw() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let backend = std::env::var("WGPU_BACKEND").ok().filter(|b| !b.is_empty()).unwrap_or_else(|| "auto".into());
    let options = EngineOptions { gpu: GpuOptions { backend: backend.parse().unwrap(), ..Default::default() }, landmarks: true, ..Default::default() };
    let engine = Engine::new(options).unwrap_or_else(|e| panic!("the log test needs a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = Vec::new();
    for name in ["live_T1.jpg", "spoof_print_F1.jpg", "spoof_replay_tablet_F2.jpg"] {
        let image = DecodedImage::open(&root.join("samples").join(name)).unwrap();
        let report = engine.check(&image.frame().unwrap()).unwrap();
        seen.extend(numbers(&report));
    }
    let mut session = Session::from_reports(SessionOptions::passive()).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/sequences/brbk7n")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for (i, file) in files.iter().take(12).enumerate() {
        let report = engine.check_with_landmarks(&DecodedImage::open(file).unwrap().frame().unwrap()).unwrap();
        seen.extend(numbers(&report));
        if let Some(verdict) = session.push_report(&report, i as f64 / 25.0) {
            seen.push(format!("{}", verdict.score));
            break;
        }
    }
    let records = RECORDS.lock().unwrap();
    eprintln!("{} log records captured; {} numbers of the reports looked for", records.len(), seen.len());
    for record in records.iter() {
        for number in &seen {
            // A whole number, not the start of a longer one (a shader's constant 0.00285
            // holds a score's 0.0028).
            let whole = record.match_indices(number.as_str()).any(|(at, _)| !record[at + number.len()..].starts_with(|c: char| c.is_ascii_digit()));
            assert!(!whole, "a log record holds {number}, a number the engine saw: {record}");
        }
    }
}
