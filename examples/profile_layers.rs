//! Times every dispatch of the four networks on its own (fastest of repeated submits),
//! to find where a frame's time goes, and each network built with and without fused
//! blocks in the same run. `cargo run --release --example profile_layers`.

use std::time::Instant;

use liveshade::DecodedImage;
use liveshade::gpu::{Backend, BufferArena, Gpu, GpuOptions, record_all};
use liveshade::{Engine, EngineOptions, Stage};

/// The layer kernels, whose times the network sections above break down.
const NETWORK_KERNELS: [&str; 14] = [
    "conv2d_dense",
    "conv2d_dense_wide",
    "conv2d_stem",
    "conv2d_grouped",
    "depthwise",
    "pointwise_blocked",
    "pointwise_wide",
    "pointwise_tiled",
    "separable_block",
    "max_pool_2x2",
    "global_average_pool",
    "channel_scale",
    "dense",
    "softmax",
];
use liveshade::models::{BlazeFace, BuildOptions, FaceMesh, Graph, MiniFasNet, Network, Variant, Weights};
use liveshade::nn::Tuning;

/// Whole-network times of two builds of a network, measured alternately (fastest of 21).
fn compare(gpu: &Gpu, name: &str, unfused: &Graph, fused: &Graph) {
    let (mut a, mut b) = (f64::MAX, f64::MAX);
    for _ in 0..21 {
        a = a.min(fastest_ms(gpu, |e| record_all(e, unfused.dispatches_iter())));
        b = b.min(fastest_ms(gpu, |e| record_all(e, fused.dispatches_iter())));
    }
    println!("{name}: unfused {} dispatches {a:.2} ms, fused blocks {} dispatches {b:.2} ms ({:.2}x)", unfused.dispatch_count(), fused.dispatch_count(), a / b);
}

fn fastest_ms(gpu: &Gpu, run: impl Fn(&mut wgpu::CommandEncoder)) -> f64 {
    let mut times: Vec<f64> = (0..21)
        .map(|_| {
            let mut encoder = gpu.encoder("profile");
            run(&mut encoder);
            let start = Instant::now();
            gpu.submit_and_wait(encoder).expect("submit");
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    // The fastest run: on a shared, noisy machine the least disturbed one (medians moved
    // 20-30 % between runs; minima about half that).
    times[0]
}

fn profile(gpu: &Gpu, name: &str, graph: &Graph) {
    let empty = fastest_ms(gpu, |_| {});
    let whole = fastest_ms(gpu, |e| record_all(e, graph.dispatches_iter()));
    println!("{name}: {} dispatches, whole network {whole:.2} ms (an empty submit: {empty:.3} ms)", graph.dispatch_count());
    let mut rows: Vec<(f64, String)> = graph
        .dispatches_iter()
        .enumerate()
        .map(|(i, d)| {
            let ms = fastest_ms(gpu, |e| record_all(e, [d])) - empty;
            (ms, format!("  #{i:<3} {:<22} {:>7.3} ms  grid {:?}", d.kernel().name, ms, d.workgroups()))
        })
        .collect();
    let sum: f64 = rows.iter().map(|r| r.0).sum();
    // Per kernel: where the network's time goes by kind of layer.
    let mut by_kernel: Vec<(&str, f64, usize)> = Vec::new();
    for (d, (ms, _)) in graph.dispatches_iter().zip(rows.iter()) {
        let name = d.kernel().name;
        match by_kernel.iter_mut().find(|k| k.0 == name) {
            Some(k) => {
                k.1 += ms;
                k.2 += 1;
            }
            None => by_kernel.push((name, *ms, 1)),
        }
    }
    for (name, ms, count) in &by_kernel {
        println!("  {name:<22} {count:>3} dispatches {ms:>7.2} ms");
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, row) in rows.iter().take(60) {
        println!("{row}");
    }
    println!("  sum of single dispatches {sum:.2} ms");
}

fn main() -> liveshade::Result<()> {
    let gpu = Gpu::new(&GpuOptions { backend: Backend::from_env()?, ..Default::default() })?;
    println!("{}", gpu.adapter());
    let mut arena = BufferArena::new();
    let blazeface = BlazeFace::new(&gpu, &Weights::bundled(Network::BlazeFace)?, &mut arena)?;
    let facemesh = FaceMesh::new(&gpu, &Weights::bundled(Network::FaceMesh)?, &mut arena)?;
    let v2 = MiniFasNet::new(&gpu, Variant::V2, &Weights::bundled(Network::MiniFasNetV2)?, &mut arena)?;
    let v1se = MiniFasNet::new(&gpu, Variant::V1Se, &Weights::bundled(Network::MiniFasNetV1Se)?, &mut arena)?;
    for (name, graph) in [("blazeface", blazeface.graph()), ("facemesh", facemesh.graph()), ("minifasnet_v2", v2.graph()), ("minifasnet_v1se", v1se.graph())] {
        profile(&gpu, name, graph);
    }
    let (unfused, fused) = (
        BuildOptions { tuning: Tuning::for_adapter(gpu.adapter()).with_fused_blocks(false), keep_taps: false },
        BuildOptions { tuning: Tuning::for_adapter(gpu.adapter()).with_fused_blocks(true), keep_taps: false },
    );
    let weights = Weights::bundled(Network::BlazeFace)?;
    let (a, b) = (BlazeFace::with_options(&gpu, &weights, &mut arena, unfused)?, BlazeFace::with_options(&gpu, &weights, &mut arena, fused)?);
    compare(&gpu, "blazeface", a.graph(), b.graph());
    let weights = Weights::bundled(Network::FaceMesh)?;
    let (a, b) = (FaceMesh::with_options(&gpu, &weights, &mut arena, unfused)?, FaceMesh::with_options(&gpu, &weights, &mut arena, fused)?);
    compare(&gpu, "facemesh", a.graph(), b.graph());
    for (name, variant, network) in [("minifasnet_v2", Variant::V2, Network::MiniFasNetV2), ("minifasnet_v1se", Variant::V1Se, Network::MiniFasNetV1Se)] {
        let weights = Weights::bundled(network)?;
        let a = MiniFasNet::with_options(&gpu, variant, &weights, &mut arena, unfused)?;
        let b = MiniFasNet::with_options(&gpu, variant, &weights, &mut arena, fused)?;
        compare(&gpu, name, a.graph(), b.graph());
    }
    drop(gpu);

    // The engine's own dispatches (resamplers, detection, regions) on a sample frame,
    // fastest of 21 runs of the whole per-dispatch timing.
    let engine = Engine::new(EngineOptions { gpu: GpuOptions { backend: Backend::from_env()?, ..Default::default() }, ..Default::default() })?;
    // The sample image: the first argument, else samples/live_T1.jpg of the current directory
    // (where the binary was carried to another machine) or of this checkout.
    let image_path = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| {
        let here = std::path::PathBuf::from("samples/live_T1.jpg");
        if here.exists() { here } else { std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/live_T1.jpg") }
    });
    let image = DecodedImage::open(&image_path)?;
    let frame = image.frame()?;
    let mut fastest: Vec<(Stage, &str, f64)> = engine.time_dispatches(&frame)?;
    for _ in 0..20 {
        for (best, now) in fastest.iter_mut().zip(engine.time_dispatches(&frame)?) {
            best.2 = best.2.min(now.2);
        }
    }
    println!("engine on {}: {} dispatches", image_path.display(), fastest.len());
    for stage in Stage::ALL {
        let of_stage: Vec<_> = fastest.iter().filter(|t| t.0 == stage).collect();
        let total: f64 = of_stage.iter().map(|t| t.2).sum();
        println!("  {:<10} {:>3} dispatches, sum {total:.2} ms", stage.name(), of_stage.len());
        for (_, kernel, ms) in of_stage.iter().filter(|t| !NETWORK_KERNELS.contains(&t.1)) {
            println!("    {kernel:<24} {ms:.3} ms");
        }
    }
    Ok(())
}
