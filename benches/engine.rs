//! The end-to-end frame: `Engine::check` on a sample image (upload, one submission with all
//! four networks, readback, erase). Also prints the median of each stage of the report's
//! timings. Run: `cargo bench --bench engine`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use liveshade::{Backend, DecodedImage, Engine, EngineOptions, GpuOptions};

fn engine(c: &mut Criterion) {
    let backend = Backend::from_env().expect("backend");
    let engine =
        Engine::new(EngineOptions { gpu: GpuOptions { backend, ..Default::default() }, ..Default::default() }).expect("the benches need a GPU adapter");
    let image = DecodedImage::open(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/live_T1.jpg").as_ref()).unwrap();
    let frame = image.frame().unwrap();
    eprintln!("benchmarking on {}: {} dispatches per check", engine.adapter(), engine.dispatches_per_check().expect("dispatch count"));
    let mut stages: Vec<[f64; 5]> = Vec::new();
    c.bench_function("engine/check-480x640", |b| {
        b.iter(|| {
            let t = engine.check(&frame).unwrap().timings;
            stages.push([t.upload_ms, t.record_ms, t.gpu_ms, t.readback_ms, t.total_ms]);
        })
    });
    let median = |i: usize| {
        let mut v: Vec<f64> = stages.iter().map(|s| s[i]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "stage medians over {} checks (ms): upload {:.3}, record {:.3}, gpu {:.2}, readback {:.3}, total {:.2}",
        stages.len(),
        median(0),
        median(1),
        median(2),
        median(3),
        median(4)
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(4));
    targets = engine
}
criterion_main!(benches);
