//! The liveshade command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use liveshade::engine::{Engine, EngineOptions, Report};
use liveshade::frame::DecodedImage;
use liveshade::gpu::{Backend, GpuOptions, list_adapters};
use liveshade::liveness::{SessionOptions, Verdict};
use liveshade::source::{FolderSource, FrameSource};
use liveshade::watch::WatchEvent;
use serde_json::json;

#[derive(Parser)]
#[command(name = "liveshade", version, about = "Face liveness on the GPU (WGSL compute shaders on wgpu)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the GPU adapters of every backend.
    Devices {
        /// Only this backend: auto, vulkan, metal, dx12 or gl.
        #[arg(long, default_value = "auto")]
        backend: String,
    },
    /// Check images for a live face: one report per image.
    Check {
        /// JPEG or PNG files.
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// One JSON object per line (the contract of DESIGN.md).
        #[arg(long)]
        json: bool,
        /// Include the 468 Face Mesh landmarks of the best face.
        #[arg(long)]
        landmarks: bool,
        /// auto, vulkan, metal, dx12 or gl.
        #[arg(long, default_value = "auto")]
        backend: String,
        /// Take the first adapter whose name contains this text.
        #[arg(long)]
        adapter: Option<String>,
        /// Cut MiniFASNet's crops around BlazeFace's own box instead of the RetinaFace-like
        /// box the models were trained with (shared/golden/BOX_CALIBRATION.md).
        #[arg(long)]
        raw_box: bool,
    },
    /// Sessions one after another from a camera (after asking for consent) or a folder of
    /// frames, each verdict printed as it comes, with a live status line.
    Watch {
        /// The camera's index (liveshade devices lists them).
        #[arg(long, default_value_t = 0)]
        camera: u32,
        /// The camera mode, WIDTHxHEIGHT@FPS (e.g. 640x480@30); the driver's default if absent.
        #[arg(long)]
        mode: Option<String>,
        /// Read frames from this folder instead of a camera (sorted by name).
        #[arg(long)]
        frames: Option<PathBuf>,
        #[arg(long)]
        active: bool,
        /// The person has agreed already: do not ask.
        #[arg(long)]
        consent: bool,
        /// One JSON object per verdict.
        #[arg(long)]
        json: bool,
        /// The folder's frame rate.
        #[arg(long, default_value_t = 25.0)]
        fps: f64,
        #[arg(long, default_value = "auto")]
        backend: String,
        /// Show a preview window: the frame, the face box, the challenge and the verdict.
        #[arg(long)]
        window: bool,
        /// With --window: close it once the frames run out.
        #[arg(long)]
        close_when_done: bool,
    },
    /// Latency and throughput of the whole pipeline and of each stage, per adapter.
    Bench {
        /// all, auto (the preferred adapter), vulkan, metal, dx12 or gl.
        #[arg(long, default_value = "all")]
        backend: String,
        /// Frames to time per adapter.
        #[arg(long, default_value_t = 50)]
        frames: usize,
        /// One JSON object per adapter (DESIGN.md).
        #[arg(long)]
        json: bool,
        /// The image to check (a sample by default).
        #[arg(long, default_value = "samples/live_T1.jpg")]
        image: PathBuf,
    },
    /// A liveness session over a folder of frames (sorted by name): one verdict.
    Session {
        /// A folder of .jpg / .png frames.
        dir: PathBuf,
        /// Ask for a random sequence of challenges (a recording cannot know them).
        #[arg(long)]
        active: bool,
        /// One JSON object (DESIGN.md).
        #[arg(long)]
        json: bool,
        /// The frames' rate, for the time limits and the speed gate.
        #[arg(long, default_value_t = 25.0)]
        fps: f64,
        #[arg(long, default_value = "auto")]
        backend: String,
    },
}

fn verdict_json(v: &Verdict) -> serde_json::Value {
    let challenges: Vec<serde_json::Value> = v.cues.challenges.iter().map(|(c, met)| json!({"challenge": c.as_str(), "met": met})).collect();
    json!({
        "verdict": v.kind.as_str(),
        "score": v.score,
        "frames": {"accepted": v.frames_accepted, "rejected": v.frames_rejected},
        "rejections": v.rejections,
        "cues": {
            "blinks": v.cues.blinks,
            "flatness": v.cues.flatness,
            "motion_pairs": v.cues.motion_pairs,
            "yaw_range": [v.cues.min_yaw, v.cues.max_yaw],
            "max_mouth_openness": v.cues.max_mouth_openness,
            "challenges": challenges,
        },
        "reasons": v.reasons,
    })
}

fn session(dir: &std::path::Path, active: bool, json: bool, fps: f64, backend: &str) -> Result<bool, liveshade::Error> {
    let mut source = FolderSource::open(dir, fps)?;
    let engine = Engine::new(EngineOptions { gpu: GpuOptions { backend: backend.parse()?, ..Default::default() }, ..Default::default() })?;
    let options = if active { SessionOptions::active() } else { SessionOptions::passive() };
    let mut session = engine.session(options)?;
    if !session.challenges().is_empty() && !json {
        let steps: Vec<&str> = session.challenges().iter().map(|c| c.as_str()).collect();
        println!("challenges: {}", steps.join(", "));
    }
    let mut verdict = None;
    while let Some(frame) = source.next_frame()? {
        if let Some(v) = session.push_at(&frame.frame()?, frame.timestamp)? {
            verdict = Some(v);
            break;
        }
    }
    let verdict = verdict.unwrap_or_else(|| session.finish());
    if json {
        println!("{}", verdict_json(&verdict));
    } else {
        println!("{}: {} (score {:.3}; {} frames used, {} rejected)", dir.display(), verdict.kind.as_str(), verdict.score, verdict.frames_accepted, verdict.frames_rejected);
        for reason in &verdict.reasons {
            println!("  - {reason}");
        }
    }
    Ok(true)
}

#[cfg(feature = "camera")]
fn print_cameras() {
    println!("Cameras:");
    match liveshade::camera::list_cameras() {
        Ok(cameras) if cameras.is_empty() => println!("  none found (no video device on this machine)"),
        Ok(cameras) => {
            for camera in cameras {
                println!("  [{}] {}", camera.index, camera.name);
                for (w, h, format, fps) in camera.modes {
                    println!("      {w}x{h} {format} {fps} fps");
                }
            }
        }
        Err(error) => println!("  could not list cameras: {error}"),
    }
}

#[cfg(not(feature = "camera"))]
fn print_cameras() {
    println!("Cameras: this build has no camera support (built without the `camera` feature)");
}

/// Asks on the terminal; anything but yes is no.
fn ask_consent(camera: u32) -> bool {
    use std::io::Write;
    eprint!("liveshade will use camera {camera} to check liveness. Frames stay in memory and are erased after each verdict. Allow? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(feature = "camera")]
fn open_camera(index: u32, mode: Option<(u32, u32, u32)>, consent_flag: bool) -> Result<Option<Box<dyn FrameSource>>, liveshade::Error> {
    use liveshade::camera::{Camera, Consent, list_cameras};
    if list_cameras()?.is_empty() {
        return Err(liveshade::Error::Camera { reason: "no camera found (liveshade devices lists them)".into() });
    }
    if !consent_flag && !ask_consent(index) {
        return Ok(None);
    }
    // The person said yes (or the operator passed --consent on their behalf).
    Ok(Some(Box::new(Camera::open(index, mode, Consent::given_by_user())?)))
}

#[cfg(not(feature = "camera"))]
fn open_camera(_index: u32, _mode: Option<(u32, u32, u32)>, _consent_flag: bool) -> Result<Option<Box<dyn FrameSource>>, liveshade::Error> {
    let _ = ask_consent;
    Err(liveshade::Error::Camera { reason: "this build has no camera support (the `camera` feature is off)".into() })
}

/// "640x480@30" -> (640, 480, 30).
fn parse_mode(text: Option<&str>) -> Result<Option<(u32, u32, u32)>, liveshade::Error> {
    let Some(text) = text else { return Ok(None) };
    let bad = || liveshade::Error::Camera { reason: format!("camera mode {text:?} is not WIDTHxHEIGHT@FPS (e.g. 640x480@30)") };
    let (size, fps) = text.split_once('@').ok_or_else(bad)?;
    let (w, h) = size.split_once('x').ok_or_else(bad)?;
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
    Ok(Some((number(w)?, number(h)?, number(fps)?)))
}

#[allow(clippy::too_many_arguments)]
fn watch(camera: u32, mode: Option<(u32, u32, u32)>, frames: Option<PathBuf>, active: bool, consent: bool, json: bool, fps: f64, backend: &str, window: Option<bool>) -> Result<bool, liveshade::Error> {
    use std::io::Write;
    let mut source: Box<dyn FrameSource> = match frames {
        Some(dir) => Box::new(FolderSource::open(&dir, fps)?),
        None => match open_camera(camera, mode, consent)? {
            Some(source) => source,
            None => {
                eprintln!("liveshade: no consent, the camera stays closed");
                return Ok(false);
            }
        },
    };
    let engine = Engine::new(EngineOptions { gpu: GpuOptions { backend: backend.parse()?, ..Default::default() }, ..Default::default() })?;
    let options = if active { SessionOptions::active() } else { SessionOptions::passive() };
    let started = std::time::Instant::now();
    let mut frames_seen = 0usize;
    let on_event = |event: WatchEvent<'_>| match event {
        WatchEvent::Status(status) => {
            frames_seen += 1;
            if !json {
                let challenge = status.challenge.map(|c| c.as_str()).unwrap_or("-");
                eprint!(
                    "\r[session {}] frame {:>3}  face: {:<3}  challenge: {:<10}  {:>5.1} s ",
                    status.session + 1,
                    status.frames,
                    if status.face_found { "yes" } else { "no" },
                    challenge,
                    status.elapsed
                );
                let _ = std::io::stderr().flush();
            }
        }
        WatchEvent::Verdict(verdict) => {
            if json {
                println!("{}", verdict_json(verdict));
            } else {
                eprintln!();
                println!("{} (score {:.3}; {} frames used, {} rejected): {}", verdict.kind.as_str(), verdict.score, verdict.frames_accepted, verdict.frames_rejected, verdict.reasons.first().map(String::as_str).unwrap_or(""));
            }
        }
    };
    let result = match window {
        Some(close_when_done) => preview_window(&engine, source, options, close_when_done, on_event),
        None => liveshade::watch::watch(&engine, source.as_mut(), &options, None, on_event).map(|_| ()),
    };
    let seconds = started.elapsed().as_secs_f64();
    if !json {
        eprintln!("{frames_seen} frames in {seconds:.1} s ({:.1} frames per second)", frames_seen as f64 / seconds.max(1e-9));
    }
    result.map(|_| true)
}

#[cfg(feature = "window")]
fn preview_window(engine: &Engine, source: Box<dyn FrameSource>, options: SessionOptions, close_when_done: bool, on_event: impl FnMut(WatchEvent<'_>)) -> Result<(), liveshade::Error> {
    liveshade::preview::run(engine, source, options, close_when_done, on_event)
}

#[cfg(not(feature = "window"))]
fn preview_window(_: &Engine, _: Box<dyn FrameSource>, _: SessionOptions, _: bool, _: impl FnMut(WatchEvent<'_>)) -> Result<(), liveshade::Error> {
    Err(liveshade::Error::Gpu { during: "the preview window", message: "this build has no window support (the `window` feature is off)".into() })
}

fn median_p99(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn bench(backend: &str, frames: usize, json: bool, image: &std::path::Path) -> Result<bool, liveshade::Error> {
    let frames = frames.max(1);
    let image = DecodedImage::open(image)?;
    let frame = image.frame()?;
    let adapters: Vec<_> = match backend {
        "all" => list_adapters(),
        other => {
            let wanted: Backend = other.parse()?;
            list_adapters().into_iter().filter(|a| wanted == Backend::Auto || a.backend == wanted).take(if wanted == Backend::Auto { 1 } else { usize::MAX }).collect()
        }
    };
    if adapters.is_empty() {
        return Err(liveshade::Error::NoAdapter { backend: backend.parse().unwrap_or_default(), name_filter: None, available: Vec::new() });
    }
    if !json {
        println!(
            "{:<40} {:<7} {:<5} {:>14} {:>9} {:>7} {:>8} {:>9} {:>8} {:>5} {:>6}  stages (median / p99 ms, timer)",
            "adapter", "backend", "timer", "end-to-end ms", "p99 ms", "fps", "fps pipe", "record ms", "host ms", "disp", "MiB"
        );
    }
    for adapter in adapters {
        let options = EngineOptions { gpu: GpuOptions { backend: adapter.backend, adapter_name: Some(adapter.name.clone()), ..Default::default() }, ..Default::default() };
        let engine = Engine::new(options)?;
        for _ in 0..3 {
            engine.check(&frame)?;
        }
        let progress = (!json).then(|| {
            let bar = indicatif::ProgressBar::new((3 * frames) as u64);
            bar.set_message(format!("{} ({})", adapter.name, adapter.backend));
            bar
        });
        let (mut total, mut cpu, mut host) = (Vec::with_capacity(frames), Vec::with_capacity(frames), Vec::with_capacity(frames));
        let mut stages: [Vec<f64>; 3] = Default::default();
        let mut stage_timer = "wall";
        for _ in 0..frames {
            let t = engine.check(&frame)?.timings;
            total.push(t.total_ms);
            cpu.push(t.record_ms);
            host.push(t.upload_ms + t.record_ms + t.readback_ms);
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        }
        // Pipelined: frame k+1 is uploaded and submitted while frame k computes.
        let pipelined_start = std::time::Instant::now();
        let mut pipeline = engine.pipelined(false)?;
        for _ in 0..frames {
            pipeline.push(&frame)?;
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        }
        pipeline.finish()?;
        let fps_pipelined = frames as f64 / pipelined_start.elapsed().as_secs_f64();
        for _ in 0..frames {
            let (times, gpu_timer) = engine.time_stages(&frame)?;
            stage_timer = if gpu_timer { "gpu" } else { "wall" };
            for (series, ms) in stages.iter_mut().zip(times) {
                series.push(ms);
            }
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        }
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        let (median, p99) = median_p99(&mut total);
        let (cpu_median, _) = median_p99(&mut cpu);
        let (host_median, _) = median_p99(&mut host);
        let stage_stats: Vec<(&str, (f64, f64))> = liveshade::engine::Stage::ALL.iter().zip(stages.iter_mut()).map(|(s, v)| (s.name(), median_p99(v))).collect();
        let memory = engine.frame_memory_bytes() as f64 / (1024.0 * 1024.0);
        let constants = engine.gpu().constant_bytes() as f64 / (1024.0 * 1024.0);
        if json {
            let stage_json: serde_json::Map<String, serde_json::Value> = stage_stats.iter().map(|(n, (m, p))| (n.to_string(), json!({"median": m, "p99": p}))).collect();
            println!(
                "{}",
                json!({
                    "adapter": adapter.name, "backend": adapter.backend.to_string(), "timer": "wall", "stage_timer": stage_timer,
                    "end_to_end_ms": {"median": median, "p99": p99},
                    "fps_sequential": 1000.0 / median, "fps_pipelined": fps_pipelined,
                    "cpu_ms_per_frame": cpu_median, "host_ms_per_frame": host_median,
                    "dispatches_per_frame": engine.dispatches_per_check(),
                    "frame_memory_mib": memory, "weights_memory_mib": constants, "gpu_memory_mib": memory + constants,
                    "frames": frames, "stages": stage_json,
                })
            );
        } else {
            let stage_text: Vec<String> = stage_stats.iter().map(|(n, (m, p))| format!("{n} {m:.1} / {p:.1}")).chain([format!("({stage_timer} timer)")]).collect();
            println!(
                "{:<40} {:<7} {:<5} {:>14.2} {:>9.2} {:>7.1} {:>8.1} {:>9.3} {:>8.3} {:>5} {:>6.1}  {}",
                adapter.name.chars().take(40).collect::<String>(),
                adapter.backend.to_string(),
                "wall",
                median,
                p99,
                1000.0 / median,
                fps_pipelined,
                cpu_median,
                host_median,
                engine.dispatches_per_check(),
                memory + constants,
                stage_text.join(", ")
            );
        }
    }
    Ok(true)
}

fn devices(backend: &str) -> Result<(), liveshade::Error> {
    let backend: Backend = backend.parse()?;
    println!("GPU adapters:");
    let adapters: Vec<_> = list_adapters().into_iter().filter(|a| backend == Backend::Auto || a.backend == backend).collect();
    if adapters.is_empty() {
        println!("  none found. On Linux without a GPU, install Mesa's software drivers: apt-get install mesa-vulkan-drivers");
    }
    for (index, adapter) in adapters.iter().enumerate() {
        println!("  [{index}] {adapter}");
    }
    for b in Backend::ALL {
        if !b.is_built() {
            println!("  ({b}: not available on this platform)");
        }
    }
    print_cameras();
    Ok(())
}

fn report_json(path: &str, report: &Report, landmarks: bool) -> serde_json::Value {
    let faces: Vec<serde_json::Value> = report
        .faces
        .iter()
        .map(|face| {
            let b = face.face_box;
            let mut value = json!({
                "box": [b.x0, b.y0, b.x1, b.y1],
                "score": face.score,
                "keypoints": face.keypoints,
            });
            if let (true, Some(points)) = (landmarks, &face.landmarks) {
                value["landmarks"] = json!(points);
            }
            if let Some(l) = &face.liveness {
                value["presence"] = json!(face.presence);
                value["liveness"] = json!({
                    "live": l.live,
                    "label": l.label.as_str(),
                    "score": l.score,
                    "models": {"minifasnet_v2": l.minifasnet_v2, "minifasnet_v1se": l.minifasnet_v1se},
                    "face_box_xywh": l.face_box,
                });
            }
            value
        })
        .collect();
    let t = report.timings;
    json!({
        "image": path,
        "width": report.width,
        "height": report.height,
        "faces": faces,
        "verdict": report.verdict(),
        "timing_ms": {"upload": t.upload_ms, "record": t.record_ms, "gpu": t.gpu_ms, "readback": t.readback_ms, "total": t.total_ms},
    })
}

fn print_report(path: &str, report: &Report) {
    match report.faces.first().and_then(|f| f.liveness.as_ref().map(|l| (f, l))) {
        Some((face, l)) => println!(
            "{path}: {} (live {:.4}; face {:.0},{:.0}-{:.0},{:.0} score {:.3}; {} face(s); {:.1} ms)",
            l.label.as_str(),
            l.live,
            face.face_box.x0,
            face.face_box.y0,
            face.face_box.x1,
            face.face_box.y1,
            face.score,
            report.faces.len(),
            report.timings.total_ms
        ),
        None => println!("{path}: no_face ({:.1} ms)", report.timings.total_ms),
    }
}

fn check(images: &[PathBuf], json: bool, landmarks: bool, backend: &str, adapter: Option<String>, raw_box: bool) -> Result<bool, liveshade::Error> {
    let options = EngineOptions {
        gpu: GpuOptions { backend: backend.parse()?, adapter_name: adapter, ..Default::default() },
        calibrate_box: !raw_box,
        landmarks,
        ..Default::default()
    };
    let engine = Engine::new(options)?;
    let mut all_ok = true;
    for path in images {
        let name = path.display().to_string();
        let result = DecodedImage::open(path).and_then(|image| engine.check(&image.frame()?));
        match result {
            Ok(report) if json => println!("{}", report_json(&name, &report, landmarks)),
            Ok(report) => print_report(&name, &report),
            Err(error) => {
                eprintln!("liveshade: {error}");
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devices { backend } => devices(&backend).map(|()| true),
        Command::Check { images, json, landmarks, backend, adapter, raw_box } => check(&images, json, landmarks, &backend, adapter, raw_box),
        Command::Session { dir, active, json, fps, backend } => session(&dir, active, json, fps, &backend),
        Command::Bench { backend, frames, json, image } => bench(&backend, frames, json, &image),
        Command::Watch { camera, mode, frames, active, consent, json, fps, backend, window, close_when_done } => parse_mode(mode.as_deref())
            .and_then(|mode| watch(camera, mode, frames, active, consent, json, fps, &backend, window.then_some(close_when_done))),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("liveshade: {error}");
            ExitCode::from(2)
        }
    }
}
