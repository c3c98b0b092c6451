//! The GPU runtime: adapter choice, clear errors for bad requests and bad arguments, the
//! arena's one-call zeroing, and a lost device.

mod common;

use common::{gpu, random_tensor, random_values, rng, tuning, upload};
use liveshade::Error;
use liveshade::gpu::{Backend, BufferArena, Gpu, GpuOptions};
use liveshade::nn::kernels;
use liveshade::nn::{self, Activation, Conv2d, Conv2dDesc, Dense, Depthwise, GeneralConv, Padding, Pointwise, Tuning};
use liveshade::tensor::Shape;

#[test]
fn gpu_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Gpu>();
    assert_send_sync::<liveshade::gpu::Dispatch>();
}

#[test]
fn backend_names_parse_and_an_empty_variable_means_auto() {
    assert_eq!("vulkan".parse::<Backend>().unwrap(), Backend::Vulkan);
    assert_eq!("GL".parse::<Backend>().unwrap(), Backend::Gl);
    assert_eq!("dx12".parse::<Backend>().unwrap(), Backend::Dx12);
    assert!(matches!("directx9".parse::<Backend>(), Err(Error::UnknownBackend { name }) if name == "directx9"));
}

#[test]
fn an_unknown_adapter_name_is_a_clear_error_listing_what_exists() {
    let options = GpuOptions { adapter_name: Some("no-such-adapter-xyz".into()), ..Default::default() };
    match Gpu::new(&options) {
        Err(Error::NoAdapter { name_filter, available, .. }) => {
            assert_eq!(name_filter.as_deref(), Some("no-such-adapter-xyz"));
            assert!(!available.is_empty(), "the error should list the adapters that do exist");
        }
        Err(other) => panic!("expected NoAdapter, got {other}"),
        Ok(_) => panic!("an adapter named no-such-adapter-xyz was found"),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_backend_missing_on_this_platform_is_a_clear_error() {
    for backend in [Backend::Metal, Backend::Dx12] {
        match Gpu::new(&GpuOptions { backend, ..Default::default() }) {
            Err(Error::BackendUnavailable { backend: b }) => assert_eq!(b, backend.to_string()),
            Err(other) => panic!("expected BackendUnavailable for {backend}, got {other}"),
            Ok(_) => panic!("{backend} is not available on Linux"),
        }
    }
}

#[test]
fn the_adapter_can_be_chosen_by_name() {
    let name = gpu().adapter().name.clone();
    let fragment: String = name.chars().take(6).collect::<String>().to_uppercase();
    let chosen = Gpu::new(&GpuOptions { backend: Backend::from_env().unwrap(), adapter_name: Some(fragment), ..Default::default() }).unwrap();
    assert_eq!(chosen.adapter().name, name);
}

#[test]
fn the_device_gets_the_adapters_own_limits() {
    let gpu = gpu();
    assert!(gpu.limits().max_storage_buffer_binding_size >= wgpu::Limits::default().max_storage_buffer_binding_size);
    assert_eq!(gpu.limits().max_storage_buffer_binding_size, gpu.adapter().max_storage_buffer_binding_size);
    assert_eq!(gpu.has_shader_f16(), gpu.adapter().shader_f16);
}

#[test]
fn the_arena_zeroes_every_buffer_in_one_recorded_call() {
    let gpu = gpu();
    let mut rng = rng(20);
    let mut arena = BufferArena::new();
    let shapes = [Shape::new(7, 5, 3), Shape::new(13, 1, 17), Shape::new(1, 1, 1)];
    let tensors: Vec<_> = shapes.iter().map(|s| upload(&mut arena, &random_tensor(&mut rng, *s))).collect();
    let staging = arena.buffer(gpu, "staging", 100, wgpu::BufferUsages::COPY_SRC).unwrap();
    gpu.queue().write_buffer(&staging, 0, &[0xAB; 112]);
    for tensor in &tensors {
        assert!(gpu.read_tensor(tensor).unwrap().data.iter().any(|v| *v != 0.0));
    }
    let mut encoder = gpu.encoder("clear");
    arena.record_clear(&mut encoder);
    gpu.submit_and_wait(encoder).unwrap();
    assert_eq!(arena.buffers().len(), 4);
    for buffer in arena.buffers() {
        let bytes = gpu.read_buffer(buffer).unwrap();
        assert!(bytes.iter().all(|b| *b == 0), "buffer {:?} not zeroed", buffer);
    }
}

#[test]
fn pooled_buffers_are_reused_only_once_no_tensor_holds_them() {
    let gpu = gpu();
    let mut arena = BufferArena::new();
    let pool = arena.open_pool();
    let big = arena.pooled_tensor(gpu, pool, "a", Shape::new(8, 8, 16)).unwrap();
    let held = arena.pooled_tensor(gpu, pool, "b", Shape::new(4, 4, 4)).unwrap();
    assert!(held.buffer() != big.buffer(), "a live tensor's buffer was handed out again");
    let flat = big.flattened();
    drop(big);
    let while_flat_lives = arena.pooled_tensor(gpu, pool, "c", Shape::new(4, 4, 4)).unwrap();
    assert!(while_flat_lives.buffer() != flat.buffer(), "a view keeps its buffer in use");
    let flat_buffer = flat.buffer().clone();
    drop(flat);
    // Free now: a smaller tensor of the same pool gets the buffer, bigger ones and other
    // pools do not.
    let other_pool = arena.open_pool();
    assert!(arena.pooled_tensor(gpu, other_pool, "d", Shape::new(2, 2, 4)).unwrap().buffer() != &flat_buffer);
    assert!(arena.pooled_tensor(gpu, pool, "e", Shape::new(16, 16, 16)).unwrap().buffer() != &flat_buffer);
    let reused = arena.pooled_tensor(gpu, pool, "f", Shape::new(3, 5, 7)).unwrap();
    assert!(reused.buffer() == &flat_buffer, "a free buffer that fits was not reused");
    assert_eq!(reused.shape(), Shape::new(3, 5, 7));
    assert_eq!(arena.buffers().len(), 5, "a, b, c, d and e; f reused");
}

#[test]
fn zero_sized_tensors_are_refused() {
    let gpu = gpu();
    let mut arena = BufferArena::new();
    for shape in [Shape::new(0, 5, 3), Shape::new(5, 0, 3), Shape::new(5, 5, 0), Shape::new(5, 5, 3).with_batch(0)] {
        assert!(matches!(arena.tensor(gpu, "empty", shape), Err(Error::Shape { .. })), "{shape} accepted");
    }
    assert!(matches!(arena.buffer(gpu, "empty", 0, wgpu::BufferUsages::STORAGE), Err(Error::Shape { .. })));
    assert!(Conv2dDesc::new(0, 4, 3, 1, Padding::VALID).validate().is_err());
    assert!(Pointwise::new(gpu, &tuning(), 0, 4, &[], None, Activation::None).is_err());
    assert!(Dense::new(gpu, Shape::new(1, 1, 0), 4, &[], None, Activation::None).is_err());
}

#[test]
fn a_tensor_larger_than_the_binding_limit_is_refused() {
    let gpu = gpu();
    let mut arena = BufferArena::new();
    let limit = gpu.limits().max_storage_buffer_binding_size;
    // 65536 x 65536 pixels x 4 channels x 4 bytes = 64 GiB: beyond any device's binding.
    match arena.tensor(gpu, "huge", Shape::new(65536, 65536, 4)) {
        Err(Error::TooLarge { needed, limit: reported, .. }) => {
            assert!(needed > limit);
            assert_eq!(reported, limit.min(gpu.limits().max_buffer_size));
        }
        other => panic!("expected TooLarge, got {:?}", other.map(|t| t.shape())),
    }
    assert!(arena.buffers().is_empty(), "nothing is allocated for a refused tensor");
}

#[test]
fn mismatched_shapes_are_errors_not_panics() {
    let gpu = gpu();
    let mut arena = BufferArena::new();
    let t = |arena: &mut BufferArena, h, w, c| arena.tensor(gpu, "t", Shape::new(h, w, c)).unwrap();
    let input = t(&mut arena, 8, 8, 4);
    let pointwise = Pointwise::new(gpu, &tuning(), 4, 6, &[0.0; 24], None, Activation::None).unwrap();
    // Wrong input channels, wrong output size, residual with too many channels, output = input.
    assert!(pointwise.bind(gpu, &t(&mut arena, 8, 8, 5), &t(&mut arena, 8, 8, 6), None).is_err());
    assert!(pointwise.bind(gpu, &input, &t(&mut arena, 8, 7, 6), None).is_err());
    assert!(pointwise.bind(gpu, &input, &t(&mut arena, 8, 8, 6), Some(&t(&mut arena, 8, 8, 7))).is_err());
    assert!(pointwise.bind(gpu, &input, &t(&mut arena, 8, 8, 6), Some(&t(&mut arena, 4, 4, 6))).is_err());
    let square = Pointwise::new(gpu, &tuning(), 4, 4, &[0.0; 16], None, Activation::None).unwrap();
    assert!(square.bind(gpu, &input, &input, None).is_err(), "in-place is refused");
    // Weights, bias or slopes of the wrong length.
    assert!(Pointwise::new(gpu, &tuning(), 4, 6, &[0.0; 23], None, Activation::None).is_err());
    assert!(Pointwise::new(gpu, &tuning(), 4, 6, &[0.0; 24], Some(&[0.0; 5]), Activation::None).is_err());
    assert!(Pointwise::new(gpu, &tuning(), 4, 6, &[0.0; 24], None, Activation::PRelu(vec![0.1; 4])).is_err());
    // Convolution geometry: unsupported kernel, padding not smaller than the kernel,
    // kernel larger than the padded input, groups not dividing the channels.
    assert!(Depthwise::new(gpu, 4, 4, 1, Padding::VALID, &[0.0; 64], None, Activation::None).is_err());
    assert!(Conv2dDesc::new(4, 4, 3, 1, Padding::symmetric(3)).validate().is_err());
    assert!(Conv2dDesc::new(4, 4, 8, 1, Padding::VALID).validate().is_err());
    assert!(Conv2dDesc::new(4, 6, 3, 1, Padding::VALID).with_groups(4).validate().is_err());
    let big = GeneralConv::new(gpu, &tuning(), Conv2dDesc::new(4, 4, 7, 1, Padding::VALID), &[0.0; 784], None, Activation::None).unwrap();
    assert!(matches!(big.bind(gpu, &t(&mut arena, 3, 3, 4), &t(&mut arena, 1, 1, 4), None), Err(Error::Shape { .. })));
    let conv = Conv2d::new(gpu, &tuning(), Conv2dDesc::new(4, 4, 3, 2, Padding::same(8, 8, 3, 3, 2)), &[0.0; 144], None, Activation::None).unwrap();
    assert!(conv.bind(gpu, &input, &t(&mut arena, 8, 8, 4), None).is_err(), "stride 2 must halve the output");
    // Pools, elementwise, dense, softmax.
    assert!(nn::max_pool_2x2(gpu, &input, &t(&mut arena, 3, 4, 4)).is_err());
    assert!(nn::global_average_pool(gpu, &input, &t(&mut arena, 2, 1, 4)).is_err());
    assert!(nn::add(gpu, &input, &t(&mut arena, 8, 8, 3), &t(&mut arena, 8, 8, 4), &Activation::None).is_err());
    assert!(nn::channel_pad(gpu, &input, &t(&mut arena, 8, 8, 3)).is_err());
    assert!(nn::channel_scale(gpu, &input, &t(&mut arena, 2, 1, 4), None, &t(&mut arena, 8, 8, 4)).is_err());
    let dense = Dense::new(gpu, Shape::new(2, 2, 3), 5, &[0.0; 60], None, Activation::None).unwrap();
    assert!(dense.bind(gpu, &input, &t(&mut arena, 1, 1, 5)).is_err());
    assert!(nn::softmax(gpu, &input, &t(&mut arena, 8, 8, 5)).is_err());
    // Uploads of the wrong shape.
    let host = liveshade::tensor::HostTensor::zeros(Shape::new(8, 8, 5));
    assert!(gpu.write_tensor(&input, &host).is_err());
    assert!(liveshade::tensor::HostTensor::new(Shape::new(2, 2, 2), vec![0.0; 7]).is_err());
}

#[test]
fn every_kernel_has_a_pipeline_and_distinct_specialisations() {
    // Both tables compile and run once on this device (the f64 kernels where it has f64).
    let gpu = gpu();
    gpu.prepare(kernels::KERNELS).unwrap();
    gpu.prepare(liveshade::internals::ENGINE_KERNELS).unwrap();
    let all: Vec<_> = kernels::KERNELS.iter().chain(liveshade::internals::ENGINE_KERNELS).collect();
    assert_eq!(all.len(), 31);
    let mut names: Vec<&str> = all.iter().map(|k| k.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len(), "kernel names are unique");
    assert_eq!(kernels::DEPTHWISE_3X3.entry_point, kernels::DEPTHWISE_5X5.entry_point);
    assert_ne!(kernels::DEPTHWISE_3X3.constants, kernels::DEPTHWISE_5X5.constants);
}

#[test]
fn a_lost_device_gives_device_lost_errors_not_panics() {
    // A device of its own: the shared one must survive for the other tests.
    let lost = Gpu::new(&GpuOptions { backend: Backend::from_env().unwrap(), ..Default::default() }).unwrap();
    let mut arena = BufferArena::new();
    let input = arena.tensor(&lost, "input", Shape::new(4, 4, 4)).unwrap();
    let output = arena.tensor(&lost, "output", Shape::new(4, 4, 4)).unwrap();
    let layer = Pointwise::new(&lost, &Tuning::for_adapter(lost.adapter()), 4, 4, &random_values(&mut rng(21), 16), None, Activation::None).unwrap();
    let dispatch = layer.bind(&lost, &input, &output, None).unwrap();
    lost.destroy_device();
    let mut encoder = lost.encoder("after loss");
    liveshade::gpu::record_all(&mut encoder, [&dispatch]);
    assert!(matches!(lost.submit_and_wait(encoder), Err(Error::DeviceLost { .. })));
    assert!(matches!(arena.tensor(&lost, "more", Shape::new(4, 4, 4)), Err(Error::DeviceLost { .. })));
    assert!(matches!(lost.read_tensor(&output), Err(Error::DeviceLost { .. })));
    assert!(matches!(Pointwise::new(&lost, &Tuning::for_adapter(lost.adapter()), 4, 4, &[0.0; 16], None, Activation::None), Err(Error::DeviceLost { .. })));
}

/// The threads that compile pipelines (`liveshade-compile-N`, as Linux shortens it).
#[cfg(target_os = "linux")]
fn compiler_threads() -> usize {
    // A thread that ends while the folder is read is simply not counted.
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("liveshade-comp"))
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn a_device_dropped_with_pipelines_still_compiling_joins_its_compiler_threads() {
    // In a process of its own: other tests' devices have compiler threads too.
    const CHILD: &str = "LIVESHADE_TEST_COMPILER_THREADS";
    if std::env::var_os(CHILD).is_none() {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "a_device_dropped_with_pipelines_still_compiling_joins_its_compiler_threads", "--test-threads", "1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success(), "the test in its own process: {}\n{stdout}", child.status);
        // A renamed test would select nothing and pass.
        assert!(stdout.contains("1 passed"), "the test did not run in its own process:\n{stdout}");
        return;
    }
    assert_eq!(compiler_threads(), 0);
    let own = Gpu::new(&GpuOptions { backend: Backend::from_env().unwrap(), ..Default::default() }).unwrap();
    // A thread takes its name once it runs: wait for that (10 s at most).
    let named = (0..1000).any(|_| {
        compiler_threads() > 0 || {
            std::thread::sleep(std::time::Duration::from_millis(10));
            false
        }
    });
    assert!(named, "a device compiles on threads of its own");
    // Kernels bound (their compiles queued) and dropped before anything waited for them.
    let mut arena = BufferArena::new();
    let input = arena.tensor(&own, "input", Shape::new(9, 7, 12)).unwrap();
    let output = arena.tensor(&own, "output", Shape::new(9, 7, 12)).unwrap();
    let tuning = Tuning::for_adapter(own.adapter());
    let pointwise = Pointwise::new(&own, &tuning, 12, 12, &random_values(&mut rng(5), 144), None, Activation::Relu).unwrap();
    let depthwise = Depthwise::new(&own, 12, 3, 1, Padding::symmetric(1), &random_values(&mut rng(6), 108), None, Activation::None).unwrap();
    let depthwise_5x5 = Depthwise::new(&own, 12, 5, 1, Padding::symmetric(2), &random_values(&mut rng(9), 300), None, Activation::None).unwrap();
    // Three kernels: on a machine of two cores one still waits in the queue at the drop.
    let bound = [
        pointwise.bind(&own, &input, &output, None).unwrap(),
        depthwise.bind(&own, &input, &output, None).unwrap(),
        depthwise_5x5.bind(&own, &input, &output, None).unwrap(),
    ];
    drop(bound);
    drop((arena, input, output, pointwise, depthwise, depthwise_5x5));
    drop(own);
    assert_eq!(compiler_threads(), 0, "every compiler thread is joined when its device is dropped");
    // And a kernel recorded right after it was bound runs (its pipeline compiled on demand).
    let gpu = Gpu::new(&GpuOptions { backend: Backend::from_env().unwrap(), ..Default::default() }).unwrap();
    let mut arena = BufferArena::new();
    let host = random_tensor(&mut rng(7), Shape::new(5, 3, 8));
    let input = arena.tensor(&gpu, "input", host.shape).unwrap();
    gpu.write_tensor(&input, &host).unwrap();
    let output = arena.tensor(&gpu, "output", Shape::new(5, 3, 8)).unwrap();
    let weights = random_values(&mut rng(8), 64);
    let layer = Pointwise::new(&gpu, &Tuning::for_adapter(gpu.adapter()), 8, 8, &weights, None, Activation::None).unwrap();
    let dispatch = layer.bind(&gpu, &input, &output, None).unwrap();
    let mut encoder = gpu.encoder("at once");
    liveshade::gpu::record_all(&mut encoder, [&dispatch]);
    gpu.submit_and_wait(encoder).unwrap();
    let got = gpu.read_tensor(&output).unwrap();
    let want = liveshade::nn::reference::pointwise(&host, 8, &weights, None, &Activation::None, None).unwrap();
    common::assert_close("pointwise recorded at once", &got, &want, 8);
}
