//! `liveshade bench`: latency and throughput of the whole check and of each stage, the
//! pipelined rate, CPU time and GPU memory, per adapter.

use std::path::PathBuf;

use clap::Args;
use liveshade::{Backend, DecodedImage, Engine, EngineOptions, GpuOptions, Stage, list_adapters};
use serde_json::json;

/// The arguments of `bench`.
#[derive(Args)]
pub struct BenchArgs {
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
    /// Keep the driver's compiled pipelines in this existing directory (as `check
    /// --pipeline-cache`): run twice to time a start that finds them.
    #[arg(long, value_name = "DIR")]
    pipeline_cache: Option<PathBuf>,
}

fn median_p99(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// Benchmarks every adapter asked for.
pub fn run(args: &BenchArgs) -> Result<bool, liveshade::Error> {
    let (backend, json) = (args.backend.as_str(), args.json);
    let frames = args.frames.max(1);
    let image = DecodedImage::open(&args.image)?;
    let frame = image.frame()?;
    let adapters: Vec<_> = match backend {
        "all" => list_adapters(),
        other => {
            let wanted: Backend = other.parse()?;
            list_adapters()
                .into_iter()
                .filter(|a| wanted == Backend::Auto || a.backend == wanted)
                .take(if wanted == Backend::Auto { 1 } else { usize::MAX })
                .collect()
        }
    };
    if adapters.is_empty() {
        return Err(liveshade::Error::NoAdapter { backend: backend.to_string(), name_filter: None, available: Vec::new() });
    }
    if !json {
        println!(
            "{:<40} {:<7} {:<5} {:>14} {:>9} {:>7} {:>8} {:>9} {:>8} {:>5} {:>6} {:>9} {:>9}  stages (median / p99 ms, timer)",
            "adapter", "backend", "timer", "end-to-end ms", "p99 ms", "fps", "fps pipe", "record ms", "host ms", "disp", "MiB", "start ms", "first ms"
        );
    }
    for adapter in adapters {
        let options = EngineOptions {
            gpu: GpuOptions { backend: adapter.backend, adapter_name: Some(adapter.name.clone()), pipeline_cache_dir: args.pipeline_cache.clone() },
            // Warmed up at the image's size, as a terminal warms up at its camera's.
            warm_up: Some((frame.width(), frame.height())),
            ..Default::default()
        };
        // Start (Engine::new, its warm-up included) and the first check after it: what a
        // terminal waits for after boot. Cold or warm is the driver's shader cache
        // (MESA_SHADER_CACHE_DISABLE=true for cold on Mesa).
        let started = std::time::Instant::now();
        let engine = Engine::new(options)?;
        let start_ms = started.elapsed().as_secs_f64() * 1e3;
        let first = std::time::Instant::now();
        engine.check(&frame)?;
        let first_ms = first.elapsed().as_secs_f64() * 1e3;
        // What the start did with the cache file (null: no file used).
        let cache = engine.pipeline_cache_file();
        for _ in 0..2 {
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
        let dispatches = engine.dispatches_per_check()?;
        let (median, p99) = median_p99(&mut total);
        let (cpu_median, _) = median_p99(&mut cpu);
        let (host_median, _) = median_p99(&mut host);
        let stage_stats: Vec<(&str, (f64, f64))> = Stage::ALL.iter().zip(stages.iter_mut()).map(|(s, v)| (s.name(), median_p99(v))).collect();
        let memory = engine.frame_memory_bytes()? as f64 / (1024.0 * 1024.0);
        let constants = engine.constant_bytes() as f64 / (1024.0 * 1024.0);
        if json {
            let stage_json: serde_json::Map<String, serde_json::Value> =
                stage_stats.iter().map(|(n, (m, p))| (n.to_string(), json!({"median": m, "p99": p}))).collect();
            println!(
                "{}",
                json!({
                    "adapter": adapter.name, "backend": adapter.backend.to_string(), "timer": "wall", "stage_timer": stage_timer,
                    "end_to_end_ms": {"median": median, "p99": p99},
                    "fps_sequential": 1000.0 / median, "fps_pipelined": fps_pipelined,
                    "cpu_ms_per_frame": cpu_median, "host_ms_per_frame": host_median,
                    "dispatches_per_frame": dispatches,
                    "frame_memory_mib": memory, "weights_memory_mib": constants, "gpu_memory_mib": memory + constants,
                    "frames": frames, "stages": stage_json,
                    "engine_start_ms": start_ms, "first_check_ms": first_ms,
                    "pipeline_cache_offered_bytes": cache.as_ref().map(|c| c.offered_bytes),
                    "pipeline_cache_not_read": cache.as_ref().and_then(|c| c.not_read.clone()),
                    "pipeline_cache_not_written": cache.as_ref().and_then(|c| c.not_written.clone()),
                })
            );
        } else {
            let stage_text: Vec<String> =
                stage_stats.iter().map(|(n, (m, p))| format!("{n} {m:.1} / {p:.1}")).chain([format!("({stage_timer} timer)")]).collect();
            println!(
                "{:<40} {:<7} {:<5} {:>14.2} {:>9.2} {:>7.1} {:>8.1} {:>9.3} {:>8.3} {:>5} {:>6.1} {:>9.0} {:>9.1}  {}",
                adapter.name.chars().take(40).collect::<String>(),
                adapter.backend.to_string(),
                "wall",
                median,
                p99,
                1000.0 / median,
                fps_pipelined,
                cpu_median,
                host_median,
                dispatches,
                memory + constants,
                start_ms,
                first_ms,
                stage_text.join(", ")
            );
        }
    }
    Ok(true)
}
