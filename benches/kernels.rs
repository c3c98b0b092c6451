//! Kernel throughput at the shapes the three networks use (shared/golden/ARCHITECTURES.md).
//!
//! Each iteration records BATCH dispatches of one layer into one compute pass, submits and
//! waits, so the per-submit cost is spread as it is in a real frame. Criterion's
//! "elem/s" is FLOP/s here (2 x multiply-adds). Run: `cargo bench --bench kernels`;
//! LIVESHADE_BACKEND / WGPU_BACKEND picks the backend.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use liveshade::gpu::{Backend, BufferArena, Dispatch, Gpu, GpuOptions, Tensor, record_all};
use liveshade::nn::{Activation, Conv2d, Conv2dDesc, Depthwise, Padding, Pointwise, PointwiseVariant, Tuning};
use liveshade::tensor::{HostTensor, Shape};

const BATCH: usize = 16;

fn gpu() -> Gpu {
    let backend = Backend::from_env().expect("backend");
    let gpu = Gpu::new(&GpuOptions { backend, ..Default::default() }).expect("the benches need a GPU adapter");
    eprintln!("benchmarking on {}", gpu.adapter());
    gpu
}

fn values(count: usize) -> Vec<f32> {
    (0..count).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect()
}

fn input(gpu: &Gpu, arena: &mut BufferArena, shape: Shape) -> Tensor {
    let tensor = arena.tensor(gpu, "input", shape).unwrap();
    gpu.write_tensor(&tensor, &HostTensor::new(shape, values(shape.len() as usize)).unwrap()).unwrap();
    tensor
}

fn run_batch(gpu: &Gpu, dispatch: &Dispatch) {
    let mut encoder = gpu.encoder("bench");
    record_all(&mut encoder, std::iter::repeat_n(dispatch, BATCH));
    gpu.submit_and_wait(encoder).unwrap();
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

/// (name, input, output channels): 16x16x128 -> 128 is the reference shape of the notes.
const POINTWISE_SHAPES: [(&str, Shape, u32); 5] = [
    ("16x16x128-128", Shape::new(16, 16, 128), 128),
    ("blazeface-64x64x24-24", Shape::new(64, 64, 24), 24),
    ("blazeface-16x16x88-96", Shape::new(16, 16, 88), 96),
    ("facemesh-96x96x16-16", Shape::new(96, 96, 16), 16),
    ("minifasnet-20x20x64-103", Shape::new(20, 20, 64), 103),
];

fn pointwise(c: &mut Criterion) {
    let gpu = gpu();
    let mut group = c.benchmark_group("pointwise");
    for (name, shape, out_channels) in POINTWISE_SHAPES {
        let mut arena = BufferArena::new();
        let x = input(&gpu, &mut arena, shape);
        let y = arena.tensor(&gpu, "output", Shape { channels: out_channels, ..shape }).unwrap();
        let weights = values((shape.channels * out_channels) as usize);
        for variant in PointwiseVariant::ALL {
            let layer = Pointwise::new(&gpu, &Tuning::for_adapter(gpu.adapter()), shape.channels, out_channels, &weights, None, Activation::Relu)
                .unwrap()
                .with_variant(variant);
            let dispatch = layer.bind(&gpu, &x, &y, None).unwrap();
            group.throughput(Throughput::Elements(layer.flops(shape.pixels()) * BATCH as u64));
            group.bench_with_input(BenchmarkId::new(variant.name(), name), &dispatch, |b, d| b.iter(|| run_batch(&gpu, d)));
        }
    }
    group.finish();
}

fn depthwise(c: &mut Criterion) {
    let gpu = gpu();
    let mut group = c.benchmark_group("depthwise");
    let shapes = [
        ("blazeface-64x64x24-s1", Shape::new(64, 64, 24), 3, 1),
        ("blazeface-32x32x42-s2", Shape::new(32, 32, 42), 3, 2),
        ("facemesh-96x96x16-s1", Shape::new(96, 96, 16), 3, 1),
        ("minifasnet-20x20x103-s2", Shape::new(20, 20, 103), 3, 2),
        ("minifasnet-5x5x512-5x5", Shape::new(5, 5, 512), 5, 1),
    ];
    for (name, shape, kernel, stride) in shapes {
        let padding = if kernel == 5 { Padding::VALID } else { Padding::same(shape.height, shape.width, kernel, kernel, stride) };
        let desc = Conv2dDesc::new(shape.channels, shape.channels, kernel, stride, padding).with_groups(shape.channels);
        let out = desc.output_shape(shape).unwrap();
        let mut arena = BufferArena::new();
        let x = input(&gpu, &mut arena, shape);
        let y = arena.tensor(&gpu, "output", out).unwrap();
        let layer = Depthwise::new(&gpu, shape.channels, kernel, stride, padding, &values((shape.channels * kernel * kernel) as usize), None, Activation::None)
            .unwrap();
        let dispatch = layer.bind(&gpu, &x, &y, None).unwrap();
        group.throughput(Throughput::Elements(2 * out.len() * (kernel * kernel) as u64 * BATCH as u64));
        group.bench_with_input(BenchmarkId::new("depthwise", name), &dispatch, |b, d| b.iter(|| run_batch(&gpu, d)));
    }
    group.finish();
}

fn conv2d(c: &mut Criterion) {
    let gpu = gpu();
    let mut group = c.benchmark_group("conv2d");
    let stems = [
        ("blazeface-stem-128x128x3-24-5x5s2", Shape::new(128, 128, 3), Conv2dDesc::new(3, 24, 5, 2, Padding::same(128, 128, 5, 5, 2))),
        ("facemesh-stem-192x192x3-16-3x3s2", Shape::new(192, 192, 3), Conv2dDesc::new(3, 16, 3, 2, Padding::same(192, 192, 3, 3, 2))),
        ("minifasnet-conv1-80x80x3-32-3x3s2", Shape::new(80, 80, 3), Conv2dDesc::new(3, 32, 3, 2, Padding::symmetric(1))),
    ];
    for (name, shape, desc) in stems {
        let out = desc.output_shape(shape).unwrap();
        let mut arena = BufferArena::new();
        let x = input(&gpu, &mut arena, shape);
        let y = arena.tensor(&gpu, "output", out).unwrap();
        let layer = Conv2d::new(
            &gpu,
            &Tuning::for_adapter(gpu.adapter()),
            desc,
            &values(desc.out_channels as usize * desc.weights_per_output()),
            None,
            Activation::Relu,
        )
        .unwrap();
        let dispatch = layer.bind(&gpu, &x, &y, None).unwrap();
        group.throughput(Throughput::Elements(2 * out.len() * desc.weights_per_output() as u64 * BATCH as u64));
        group.bench_with_input(BenchmarkId::new("general", name), &dispatch, |b, d| b.iter(|| run_batch(&gpu, d)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = pointwise, depthwise, conv2d
}
criterion_main!(benches);
