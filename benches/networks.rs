//! Each network recorded as one submission (one encoder, one compute pass, one submit and
//! wait), at its real input size. Run: `cargo bench --bench networks`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use liveshade::gpu::{Backend, BufferArena, Gpu, GpuOptions};
use liveshade::models::{BlazeFace, BuildOptions, FaceMesh, Graph, MiniFasNet, Network, Variant, Weights};
use liveshade::nn::Tuning;

fn run(gpu: &Gpu, graph: &Graph) {
    let mut encoder = gpu.encoder("bench");
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
        graph.record(&mut pass);
    }
    gpu.submit_and_wait(encoder).unwrap();
}

fn networks(c: &mut Criterion) {
    let backend = Backend::from_env().expect("backend");
    let gpu = Gpu::new(&GpuOptions { backend, ..Default::default() }).expect("the benches need a GPU adapter");
    eprintln!("benchmarking on {}", gpu.adapter());
    let mut arena = BufferArena::new();
    let weights = |n| Weights::bundled(n).unwrap();
    let v2 = MiniFasNet::new(&gpu, Variant::V2, &weights(Network::MiniFasNetV2), &mut arena).unwrap();
    let v1se = MiniFasNet::new(&gpu, Variant::V1Se, &weights(Network::MiniFasNetV1Se), &mut arena).unwrap();
    // Both block forms, whatever the adapter's default.
    let (fused, unfused) = (
        BuildOptions { tuning: Tuning::for_adapter(gpu.adapter()).with_fused_blocks(true), keep_taps: true },
        BuildOptions { tuning: Tuning::for_adapter(gpu.adapter()).with_fused_blocks(false), keep_taps: true },
    );
    let blazeface = BlazeFace::with_options(&gpu, &weights(Network::BlazeFace), &mut arena, fused).unwrap();
    let facemesh = FaceMesh::with_options(&gpu, &weights(Network::FaceMesh), &mut arena, fused).unwrap();
    let blazeface_unfused = BlazeFace::with_options(&gpu, &weights(Network::BlazeFace), &mut arena, unfused).unwrap();
    let facemesh_unfused = FaceMesh::with_options(&gpu, &weights(Network::FaceMesh), &mut arena, unfused).unwrap();
    let mut group = c.benchmark_group("network");
    for (name, graph) in [
        ("blazeface_fused", blazeface.graph()),
        ("blazeface_unfused", blazeface_unfused.graph()),
        ("facemesh_fused", facemesh.graph()),
        ("facemesh_unfused", facemesh_unfused.graph()),
        ("minifasnet_v2", v2.graph()),
        ("minifasnet_v1se", v1se.graph()),
    ] {
        let id = format!("{name}/{}-dispatches", graph.dispatch_count());
        group.bench_function(id, |b| b.iter(|| run(&gpu, graph)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = networks
}
criterion_main!(benches);
