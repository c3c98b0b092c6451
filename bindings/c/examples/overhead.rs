//! What the C ABI adds to a check: the same frame checked through the Rust API, through
//! `liveshade_check` (the C struct) and through `liveshade_check_json`, interleaved in one
//! process so that all three see the same machine state. Prints the median and the 10th and
//! 90th percentiles of each, in milliseconds, as JSON (tools/bindings_overhead.sh runs it
//! beside the Python package's figures).
//!
//!     cargo run --release -p liveshade-c --example overhead -- [checks] [image]

use std::ffi::CString;
use std::ptr::null_mut;
use std::time::Instant;

use liveshade::{DecodedImage, Engine, EngineOptions, GpuOptions};
use liveshade_c::*;

fn percentiles(mut ms: Vec<f64>) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    serde_json::json!({"median": at(0.5), "p10": at(0.1), "p90": at(0.9), "checks": ms.len()})
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let checks: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(40);
    let path = args.next().unwrap_or_else(|| "samples/live_T1.jpg".into());
    let backend = std::env::var("WGPU_BACKEND").ok().filter(|b| !b.is_empty()).unwrap_or_else(|| "auto".into());

    let image = DecodedImage::open(path.as_ref())?;
    let frame = image.frame()?;
    let (w, h, pixels) = (image.width(), image.height(), image.rgb().as_ptr());
    let engine = Engine::new(EngineOptions { gpu: GpuOptions { backend: backend.parse()?, ..Default::default() }, ..EngineOptions::default() })?;
    let options = CString::new(format!(r#"{{"backend": "{backend}"}}"#))?;
    let mut c_engine = null_mut();
    if unsafe { liveshade_engine_new(options.as_ptr(), &mut c_engine) } != LIVESHADE_OK {
        return Err("liveshade_engine_new failed".into());
    }
    let mut report: Box<LiveshadeReport> = Box::new(unsafe { std::mem::zeroed() });

    let (mut rust, mut c_struct, mut c_json) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..checks + 3 {
        let t = Instant::now();
        let verdict = engine.check(&frame)?.verdict();
        let rust_ms = t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        let status = unsafe { liveshade_check(c_engine, pixels, w, h, w * 3, LIVESHADE_PIXEL_FORMAT_RGB8, &mut *report) };
        let struct_ms = t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        let mut json = null_mut();
        let json_status = unsafe { liveshade_check_json(c_engine, pixels, w, h, w * 3, LIVESHADE_PIXEL_FORMAT_RGB8, &mut json) };
        unsafe { liveshade_string_free(json) };
        let json_ms = t.elapsed().as_secs_f64() * 1e3;

        if status != LIVESHADE_OK || json_status != LIVESHADE_OK || (report.verdict == LIVESHADE_VERDICT_LIVE) != (verdict == liveshade::CheckVerdict::Live) {
            return Err("the C ABI and the Rust API disagree".into());
        }
        if round >= 3 {
            // The first rounds warm the caches and the driver up.
            rust.push(rust_ms);
            c_struct.push(struct_ms);
            c_json.push(json_ms);
        }
    }
    liveshade_engine_free(c_engine);
    let out = serde_json::json!({
        "adapter": engine.adapter().name,
        "image": path,
        "rust": percentiles(rust),
        "c_check": percentiles(c_struct),
        "c_check_json": percentiles(c_json),
    });
    println!("{out}");
    Ok(())
}
