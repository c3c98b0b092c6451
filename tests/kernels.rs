//! Every kernel against its CPU reference (src/nn/reference.rs) on random shapes: odd and
//! 1x1 spatial sizes, prime channel counts, stride 2 on odd inputs, every padding mode and
//! activation, with and without fused residuals.

mod common;

use common::{assert_close, gpu, random_tensor, random_values, report, rng, run, tuning, upload};
use liveshade::gpu::BufferArena;
use liveshade::nn::kernels;
use liveshade::nn::{self, Activation, Conv2d, Conv2dDesc, Dense, Depthwise, GeneralConv, Padding, Pointwise, PointwiseVariant, Skip, Tuning, reference};
use liveshade::tensor::Shape;
use rand::Rng;
use rand::rngs::StdRng;

const PRIMES: [u32; 12] = [1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31];

/// Spatial sizes every family must handle, then random ones.
const FIXED_SIZES: [(u32, u32); 5] = [(1, 1), (7, 5), (13, 1), (1, 13), (9, 9)];

fn spatial(rng: &mut StdRng, case: usize) -> (u32, u32) {
    FIXED_SIZES.get(case).copied().unwrap_or_else(|| (rng.random_range(1..=17), rng.random_range(1..=17)))
}

fn random_activation(rng: &mut StdRng, channels: u32, case: usize) -> Activation {
    match case % 5 {
        0 => Activation::None,
        1 => Activation::Relu,
        2 => Activation::Relu6,
        3 => Activation::PRelu((0..channels).map(|_| rng.random_range(-1.5f32..1.5)).collect()),
        _ => Activation::Sigmoid,
    }
}

/// Values spread to [-4, 4] so ReLU6 and sigmoid see their saturated ranges too.
fn scaled(values: Vec<f32>, scale: f32) -> Vec<f32> {
    values.into_iter().map(|v| v * scale).collect()
}

fn random_padding(rng: &mut StdRng, kernel_h: u32, kernel_w: u32, height: u32, width: u32, stride: u32, case: usize) -> Padding {
    match case % 4 {
        0 => Padding::VALID,
        1 => Padding::same(height, width, kernel_h, kernel_w, stride),
        2 => Padding::symmetric((kernel_h.min(kernel_w) - 1) / 2),
        _ => Padding {
            top: rng.random_range(0..kernel_h),
            bottom: rng.random_range(0..kernel_h),
            left: rng.random_range(0..kernel_w),
            right: rng.random_range(0..kernel_w),
        },
    }
}

#[test]
fn conv2d_general_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(2);
    let mut largest = 0.0f32;
    let mut cases = 0;
    let mut attempt = 0;
    while cases < 40 {
        let case = attempt;
        attempt += 1;
        let (height, width) = spatial(&mut rng, case % 8);
        let kernel_h = rng.random_range(1..=7);
        let kernel_w = if case % 3 == 0 { kernel_h } else { rng.random_range(1..=7) };
        let stride = 1 + (case as u32 % 2);
        let padding = random_padding(&mut rng, kernel_h, kernel_w, height, width, stride, case / 2);
        let (in_channels, out_channels, groups) = match case % 3 {
            0 => (PRIMES[rng.random_range(0..12)], PRIMES[rng.random_range(0..12)], 1),
            1 => {
                let c = PRIMES[rng.random_range(0..12)];
                (c, c, c) // depthwise through the general kernel
            }
            _ => {
                let g = rng.random_range(2..=3);
                (g * rng.random_range(1..=5), g * rng.random_range(1..=4), g)
            }
        };
        let desc = Conv2dDesc { in_channels, out_channels, kernel_h, kernel_w, stride, padding, groups };
        let input_shape = Shape::new(height, width, in_channels).with_batch(1 + (case as u32 % 4 == 3) as u32);
        let Ok(out_shape) = desc.output_shape(input_shape) else { continue };
        cases += 1;
        let input = random_tensor(&mut rng, input_shape);
        let weights = random_values(&mut rng, out_channels as usize * desc.weights_per_output());
        let bias = scaled(random_values(&mut rng, out_channels as usize), 2.0);
        let activation = random_activation(&mut rng, out_channels, case);
        let residual = (case % 4 == 1).then(|| {
            let channels = rng.random_range(1..=out_channels);
            random_tensor(&mut rng, Shape { channels, ..out_shape })
        });
        let want = reference::conv2d(&input, &desc, &weights, Some(&bias), &activation, residual.as_ref()).unwrap();

        let mut arena = BufferArena::new();
        let layer = GeneralConv::new(gpu, &tuning(), desc, &weights, Some(&bias), activation).unwrap();
        let input_gpu = upload(&mut arena, &input);
        let residual_gpu = residual.as_ref().map(|r| upload(&mut arena, r));
        let output = arena.tensor(gpu, "output", out_shape).unwrap();
        let dispatch = layer.bind(gpu, &input_gpu, &output, residual_gpu.as_ref()).unwrap();
        let got = run(&[&dispatch], &output);
        largest = largest.max(assert_close(&format!("conv2d case {case} {desc:?} on {input_shape}"), &got, &want, desc.weights_per_output()));
    }
    report("conv2d general", cases, largest);
}

/// The stems and output convolutions of the three networks (shared/golden/ARCHITECTURES.md).
#[test]
fn conv2d_matches_reference_on_network_geometries() {
    let gpu = gpu();
    let mut rng = rng(3);
    let cases = [
        // BlazeFace stem: 5x5 s2 SAME on 128 -> pads (1, 2, 1, 2), ReLU (input cut to 32).
        (Shape::new(32, 32, 3), Conv2dDesc::new(3, 24, 5, 2, Padding::same(32, 32, 5, 5, 2)), Activation::Relu),
        // Face Mesh stem: 3x3 s2 SAME on an even input -> (0, 1, 0, 1), PReLU.
        (Shape::new(24, 24, 3), Conv2dDesc::new(3, 16, 3, 2, Padding::same(24, 24, 3, 3, 2)), Activation::PRelu(random_values(&mut rng, 16))),
        // MiniFASNet conv1: 3x3 s2, PyTorch padding 1.
        (Shape::new(20, 20, 3), Conv2dDesc::new(3, 32, 3, 2, Padding::symmetric(1)), Activation::PRelu(random_values(&mut rng, 32))),
        // The stems' specialised kernels (CPU adapters) off their own geometry: odd sizes,
        // stride 1, asymmetric padding, fewer input channels.
        (Shape::new(17, 13, 3), Conv2dDesc::new(3, 24, 5, 1, Padding { top: 2, bottom: 1, left: 0, right: 2 }), Activation::Relu),
        (Shape::new(9, 23, 2), Conv2dDesc::new(2, 16, 3, 2, Padding { top: 0, bottom: 1, left: 1, right: 0 }), Activation::None),
        (Shape::new(11, 7, 4), Conv2dDesc::new(4, 32, 3, 1, Padding::symmetric(1)), Activation::Relu),
        // Face Mesh output conv: 3x3 s3 VALID on 3x3x32 -> 1x1x1404 (cut to 140).
        (Shape::new(3, 3, 32), Conv2dDesc::new(32, 140, 3, 3, Padding::VALID), Activation::None),
        // MiniFASNet conv_6_dw: 5x5 depthwise VALID on 5x5x512 (cut to 40 channels).
        (Shape::new(5, 5, 40), Conv2dDesc::new(40, 40, 5, 1, Padding::VALID).with_groups(40), Activation::None),
    ];
    let mut largest = 0.0f32;
    for (input_shape, desc, activation) in cases.iter().cloned() {
        let out_shape = desc.output_shape(input_shape).unwrap();
        let input = random_tensor(&mut rng, input_shape);
        let weights = random_values(&mut rng, desc.out_channels as usize * desc.weights_per_output());
        let bias = random_values(&mut rng, desc.out_channels as usize);
        let want = reference::conv2d(&input, &desc, &weights, Some(&bias), &activation, None).unwrap();
        let mut arena = BufferArena::new();
        let layer = Conv2d::new(gpu, &tuning(), desc, &weights, Some(&bias), activation).unwrap();
        let input_gpu = upload(&mut arena, &input);
        let output = arena.tensor(gpu, "output", out_shape).unwrap();
        let got = run(&[&layer.bind(gpu, &input_gpu, &output, None).unwrap()], &output);
        largest = largest.max(assert_close(&format!("{desc:?}"), &got, &want, desc.weights_per_output()));
    }
    report("conv2d network geometries", cases.len(), largest);
}

#[test]
fn conv2d_routes_to_the_kernels_each_tuning_policy_chooses() {
    let gpu = gpu();
    for tuning in [Tuning::CPU, Tuning::GPU] {
        let conv = |desc: Conv2dDesc, weights: usize| Conv2d::new(gpu, &tuning, desc, &vec![0.0; weights], None, Activation::None).unwrap().kernel();
        assert_eq!(conv(Conv2dDesc::new(8, 8, 1, 1, Padding::VALID), 64), tuning.pointwise.kernel(8, 64), "{tuning:?}");
        assert_eq!(conv(Conv2dDesc::new(8, 8, 3, 2, Padding::same(8, 8, 3, 3, 2)).with_groups(8), 72), &kernels::DEPTHWISE_3X3);
        assert_eq!(conv(Conv2dDesc::new(4, 4, 5, 1, Padding::VALID).with_groups(4), 100), &kernels::DEPTHWISE_5X5);
        assert_eq!(conv(Conv2dDesc::new(4, 4, 7, 1, Padding::VALID).with_groups(4), 196), &kernels::CONV2D_GROUPED);
        let dense = if tuning.wide_dense_conv { &kernels::CONV2D_DENSE_WIDE } else { &kernels::CONV2D_DENSE };
        assert_eq!(conv(Conv2dDesc::new(4, 4, 1, 2, Padding::VALID), 16), dense, "{tuning:?}: a strided 1x1 is a dense convolution");
        for (kernel, out, specialised) in [(5, 24, &kernels::CONV2D_STEM_5X5_24), (3, 16, &kernels::CONV2D_STEM_3X3_16), (3, 32, &kernels::CONV2D_STEM_3X3_32)]
        {
            let want = if tuning.specialised_stems { specialised } else { dense };
            assert_eq!(
                conv(Conv2dDesc::new(3, out, kernel, 2, Padding::VALID), (3 * out * kernel * kernel) as usize),
                want,
                "{tuning:?}: {kernel}x{kernel} 3 -> {out}"
            );
        }
    }
}

#[test]
fn depthwise_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(4);
    let mut largest = 0.0f32;
    let mut cases = 0;
    let mut attempt = 0;
    while cases < 40 {
        let case = attempt;
        attempt += 1;
        let (height, width) = spatial(&mut rng, case % 10);
        let kernel = if case % 2 == 0 { 3 } else { 5 };
        let stride = 1 + (case as u32 / 2) % 2;
        let padding = random_padding(&mut rng, kernel, kernel, height, width, stride, case / 4);
        let channels = PRIMES[rng.random_range(0..12)] + if case % 5 == 4 { 100 } else { 0 };
        let desc = Conv2dDesc::new(channels, channels, kernel, stride, padding).with_groups(channels);
        let input_shape = Shape::new(height, width, channels).with_batch(1 + (case % 7 == 6) as u32);
        let Ok(out_shape) = desc.output_shape(input_shape) else { continue };
        cases += 1;
        let input = random_tensor(&mut rng, input_shape);
        let weights = random_values(&mut rng, (channels * kernel * kernel) as usize);
        let bias = scaled(random_values(&mut rng, channels as usize), 2.0);
        let activation = random_activation(&mut rng, channels, case / 2);
        let residual = (case % 3 == 0).then(|| {
            let channels = rng.random_range(1..=channels);
            random_tensor(&mut rng, Shape { channels, ..out_shape })
        });
        let want = reference::conv2d(&input, &desc, &weights, Some(&bias), &activation, residual.as_ref()).unwrap();

        let mut arena = BufferArena::new();
        let layer = Depthwise::new(gpu, channels, kernel, stride, padding, &weights, Some(&bias), activation).unwrap();
        let input_gpu = upload(&mut arena, &input);
        let residual_gpu = residual.as_ref().map(|r| upload(&mut arena, r));
        let output = arena.tensor(gpu, "output", out_shape).unwrap();
        let dispatch = layer.bind(gpu, &input_gpu, &output, residual_gpu.as_ref()).unwrap();
        let got = run(&[&dispatch], &output);
        largest = largest.max(assert_close(&format!("depthwise case {case} {desc:?} on {input_shape}"), &got, &want, (kernel * kernel) as usize));
    }
    report("depthwise", cases, largest);
}

fn pointwise_case(variant: PointwiseVariant, rng: &mut StdRng, input_shape: Shape, out_channels: u32, case: usize) -> f32 {
    let gpu = gpu();
    let in_channels = input_shape.channels;
    let out_shape = Shape { channels: out_channels, ..input_shape };
    let input = random_tensor(rng, input_shape);
    let weights = random_values(rng, (in_channels * out_channels) as usize);
    let bias = scaled(random_values(rng, out_channels as usize), 2.0);
    let activation = random_activation(rng, out_channels, case);
    // Residuals with fewer channels than the output: BlazeFace's channel-padded skip.
    let residual = (case % 3 != 2).then(|| {
        let channels = rng.random_range(1..=out_channels);
        random_tensor(rng, Shape { channels, ..out_shape })
    });
    let want = reference::pointwise(&input, out_channels, &weights, Some(&bias), &activation, residual.as_ref()).unwrap();

    let mut arena = BufferArena::new();
    let layer = Pointwise::new(gpu, &tuning(), in_channels, out_channels, &weights, Some(&bias), activation).unwrap().with_variant(variant);
    let input_gpu = upload(&mut arena, &input);
    let residual_gpu = residual.as_ref().map(|r| upload(&mut arena, r));
    let output = arena.tensor(gpu, "output", out_shape).unwrap();
    let dispatch = layer.bind(gpu, &input_gpu, &output, residual_gpu.as_ref()).unwrap();
    let got = run(&[&dispatch], &output);
    assert_close(&format!("pointwise {variant:?} case {case}: {input_shape} -> {out_channels}"), &got, &want, in_channels as usize)
}

fn pointwise_matches_reference(variant: PointwiseVariant, seed: u64) {
    let mut rng = rng(seed);
    let mut largest = 0.0f32;
    let cases = 30;
    for case in 0..cases {
        let (height, width) = spatial(&mut rng, case % 8);
        let in_channels = if case % 2 == 0 { PRIMES[rng.random_range(0..12)] } else { rng.random_range(1..=131) };
        let out_channels = if case % 3 == 0 { PRIMES[rng.random_range(0..12)] } else { rng.random_range(1..=131) };
        let shape = Shape::new(height, width, in_channels).with_batch(1 + (case % 6 == 5) as u32);
        largest = largest.max(pointwise_case(variant, &mut rng, shape, out_channels, case));
    }
    // The networks' own widest shapes: a full 64x64 tile, several K stages.
    for (case, (shape, out_channels)) in [(Shape::new(16, 16, 128), 128), (Shape::new(10, 10, 128), 231), (Shape::new(24, 24, 64), 64)].into_iter().enumerate()
    {
        largest = largest.max(pointwise_case(variant, &mut rng, shape, out_channels, case));
    }
    report(&format!("pointwise {}", variant.name()), cases + 3, largest);
}

/// One test per pointwise variant, the body written once (`pointwise_matches_reference`);
/// a failure names the variant, the case and the shape.
macro_rules! pointwise_variant_tests {
    ($($name:ident: $variant:ident, seed $seed:literal;)*) => {$(
        #[test]
        fn $name() {
            pointwise_matches_reference(PointwiseVariant::$variant, $seed);
        }
    )*};
}

pointwise_variant_tests! {
    pointwise_naive_matches_reference_on_random_shapes: Naive, seed 5;
    pointwise_blocked_matches_reference_on_random_shapes: Blocked, seed 6;
    pointwise_blocked_narrow_matches_reference_on_random_shapes: BlockedNarrow, seed 9;
    pointwise_wide_matches_reference_on_random_shapes: Wide, seed 8;
    pointwise_tiled_matches_reference_on_random_shapes: Tiled, seed 7;
}

#[test]
fn pointwise_with_a_pooled_residual_matches_pool_then_pointwise() {
    // The stride-2 MediaPipe skip path read inside the pointwise kernel: the same as
    // max_pool_2x2 (SAME, ceil) + the zero-padded residual of the reference, every variant,
    // odd sizes included.
    let gpu = gpu();
    let mut rng = rng(18);
    let mut largest = 0.0f32;
    let mut cases = 0;
    for variant in PointwiseVariant::ALL {
        for case in 0..8 {
            let (height, width) = (rng.random_range(1..=23), rng.random_range(1..=23));
            let source_channels = PRIMES[rng.random_range(0..12)];
            let out_channels = source_channels + [0, 3, 8, 24][case % 4];
            let in_channels = rng.random_range(1..=70);
            let batch = 1 + (case % 5 == 4) as u32;
            let source = random_tensor(&mut rng, Shape::new(height, width, source_channels).with_batch(batch));
            let out_shape = Shape::new(height.div_ceil(2), width.div_ceil(2), out_channels).with_batch(batch);
            let input = random_tensor(&mut rng, Shape { channels: in_channels, ..out_shape });
            let weights = random_values(&mut rng, (in_channels * out_channels) as usize);
            let bias = random_values(&mut rng, out_channels as usize);
            let activation = [Activation::Relu, Activation::PRelu(random_values(&mut rng, out_channels as usize)), Activation::None][case % 3].clone();
            let pooled = reference::max_pool_2x2(&source, out_shape.height, out_shape.width);
            let want = reference::pointwise(&input, out_channels, &weights, Some(&bias), &activation, Some(&pooled)).unwrap();

            let layer = Pointwise::new(gpu, &tuning(), in_channels, out_channels, &weights, Some(&bias), activation).unwrap().with_variant(variant);
            let mut arena = BufferArena::new();
            let (input_gpu, source_gpu) = (upload(&mut arena, &input), upload(&mut arena, &source));
            let output = arena.tensor(gpu, "output", out_shape).unwrap();
            let got = run(&[&layer.bind_with_pooled_residual(gpu, &input_gpu, &output, &source_gpu).unwrap()], &output);
            largest = largest.max(assert_close(
                &format!("{} pooled residual case {case}: {} -> {out_shape}", variant.name(), source.shape),
                &got,
                &want,
                in_channels as usize,
            ));
            cases += 1;
        }
    }
    // A source that does not pool onto the output is refused.
    let layer = Pointwise::new(gpu, &tuning(), 4, 4, &[0.0; 16], None, Activation::None).unwrap();
    let mut arena = BufferArena::new();
    let input = arena.tensor(gpu, "input", Shape::new(4, 4, 4)).unwrap();
    let output = arena.tensor(gpu, "output", Shape::new(4, 4, 4)).unwrap();
    let wrong = arena.tensor(gpu, "source", Shape::new(10, 8, 4)).unwrap();
    assert!(layer.bind_with_pooled_residual(gpu, &input, &output, &wrong).is_err());
    report("pointwise with pooled residual", cases, largest);
}

#[test]
fn max_pool_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(8);
    let mut largest = 0.0f32;
    let mut cases = 0;
    for case in 0..40 {
        if cases == 24 {
            break;
        }
        let (height, width) = spatial(&mut rng, case % 8);
        let ceil = case % 2 == 1;
        let channels = PRIMES[rng.random_range(0..12)];
        let input_shape = Shape::new(height, width, channels).with_batch(1 + (case % 5 == 4) as u32);
        let out_shape = nn::max_pool_2x2_shape(input_shape, ceil);
        if out_shape.is_empty() {
            continue;
        }
        cases += 1;
        let input = random_tensor(&mut rng, input_shape);
        let want = reference::max_pool_2x2(&input, out_shape.height, out_shape.width);
        let mut arena = BufferArena::new();
        let input_gpu = upload(&mut arena, &input);
        let output = arena.tensor(gpu, "output", out_shape).unwrap();
        let got = run(&[&nn::max_pool_2x2(gpu, &input_gpu, &output).unwrap()], &output);
        largest = largest.max(assert_close(&format!("max pool case {case} {input_shape} -> {out_shape}"), &got, &want, 1));
    }
    assert!(cases >= 20);
    report("max_pool_2x2", cases, largest);
}

#[test]
fn global_average_pool_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(9);
    let mut largest = 0.0f32;
    for case in 0..20 {
        let (height, width) = spatial(&mut rng, case % 8);
        let channels = PRIMES[rng.random_range(0..12)] * if case % 4 == 3 { 9 } else { 1 };
        let input_shape = Shape::new(height, width, channels).with_batch(1 + (case % 3 == 2) as u32);
        let input = random_tensor(&mut rng, input_shape);
        let want = reference::global_average_pool(&input);
        let mut arena = BufferArena::new();
        let input_gpu = upload(&mut arena, &input);
        let output = arena.tensor(gpu, "output", want.shape).unwrap();
        let got = run(&[&nn::global_average_pool(gpu, &input_gpu, &output).unwrap()], &output);
        largest = largest.max(assert_close(&format!("global average pool case {case} {input_shape}"), &got, &want, (height * width) as usize));
    }
    report("global_average_pool", 20, largest);
}

#[test]
fn add_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(10);
    let mut largest = 0.0f32;
    for case in 0..20 {
        let (height, width) = spatial(&mut rng, case % 8);
        let channels = PRIMES[rng.random_range(0..12)];
        let shape = Shape::new(height, width, channels);
        let a = random_tensor(&mut rng, shape);
        let b = random_tensor(&mut rng, shape);
        let activation = random_activation(&mut rng, channels, case);
        let want = reference::add(&a, &b, &activation).unwrap();
        let mut arena = BufferArena::new();
        let (a_gpu, b_gpu) = (upload(&mut arena, &a), upload(&mut arena, &b));
        let output = arena.tensor(gpu, "output", shape).unwrap();
        let got = run(&[&nn::add(gpu, &a_gpu, &b_gpu, &output, &activation).unwrap()], &output);
        largest = largest.max(assert_close(&format!("add case {case} {shape} {activation:?}"), &got, &want, 1));
    }
    report("add", 20, largest);
}

#[test]
fn channel_pad_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(11);
    for case in 0..20 {
        let (height, width) = spatial(&mut rng, case % 8);
        let channels = PRIMES[rng.random_range(0..12)];
        let out_channels = channels + [0, 1, 4, 6, 8, 13][case % 6];
        let shape = Shape::new(height, width, channels);
        let input = random_tensor(&mut rng, shape);
        let want = reference::channel_pad(&input, out_channels);
        let mut arena = BufferArena::new();
        let input_gpu = upload(&mut arena, &input);
        let output = arena.tensor(gpu, "output", want.shape).unwrap();
        let got = run(&[&nn::channel_pad(gpu, &input_gpu, &output).unwrap()], &output);
        assert_eq!(got, want, "channel pad case {case}: {shape} -> {out_channels} channels must be exact");
    }
    report("channel_pad", 20, 0.0);
}

#[test]
fn channel_scale_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(12);
    let mut largest = 0.0f32;
    for case in 0..20 {
        let (height, width) = spatial(&mut rng, case % 8);
        let channels = PRIMES[rng.random_range(0..12)] * if case % 3 == 0 { 4 } else { 1 };
        let shape = Shape::new(height, width, channels).with_batch(1 + (case % 4 == 3) as u32);
        let input = random_tensor(&mut rng, shape);
        let scale = random_tensor(&mut rng, Shape { height: 1, width: 1, ..shape });
        let residual = (case % 2 == 0).then(|| random_tensor(&mut rng, shape));
        let want = reference::channel_scale(&input, &scale, residual.as_ref());
        let mut arena = BufferArena::new();
        let (input_gpu, scale_gpu) = (upload(&mut arena, &input), upload(&mut arena, &scale));
        let residual_gpu = residual.as_ref().map(|r| upload(&mut arena, r));
        let output = arena.tensor(gpu, "output", shape).unwrap();
        let got = run(&[&nn::channel_scale(gpu, &input_gpu, &scale_gpu, residual_gpu.as_ref(), &output).unwrap()], &output);
        largest = largest.max(assert_close(&format!("channel scale case {case} {shape}"), &got, &want, 2));
    }
    report("channel_scale", 20, largest);
}

#[test]
fn dense_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(13);
    let mut largest = 0.0f32;
    let mut shapes: Vec<(Shape, u32)> = vec![
        (Shape::new(1, 1, 512), 128), // MiniFASNet linear
        (Shape::new(1, 1, 128), 3),   // MiniFASNet prob
        (Shape::new(3, 3, 32), 1404), // Face Mesh landmarks as dense
        (Shape::new(3, 3, 32), 1),    // Face Mesh face flag
    ];
    for case in 0..16 {
        let (height, width) = spatial(&mut rng, case % 8);
        shapes.push((Shape::new(height.min(5), width.min(5), PRIMES[rng.random_range(0..12)]), PRIMES[rng.random_range(0..12)] + case as u32));
    }
    for (case, (item, out_features)) in shapes.iter().copied().enumerate() {
        let shape = item.with_batch(1 + (case % 5 == 4) as u32 * 2);
        let features = item.len() as usize;
        let input = random_tensor(&mut rng, shape);
        let weights = random_values(&mut rng, features * out_features as usize);
        let bias = random_values(&mut rng, out_features as usize);
        let activation = random_activation(&mut rng, out_features, case);
        let want = reference::dense(&input, out_features, &weights, Some(&bias), &activation);
        let mut arena = BufferArena::new();
        let layer = Dense::new(gpu, item, out_features, &weights, Some(&bias), activation).unwrap();
        let input_gpu = upload(&mut arena, &input);
        let output = arena.tensor(gpu, "output", layer.output_shape(shape.batch)).unwrap();
        let got = run(&[&layer.bind(gpu, &input_gpu, &output).unwrap()], &output);
        largest = largest.max(assert_close(&format!("dense case {case} {shape} -> {out_features}"), &got, &want, features));
    }
    report("dense", shapes.len(), largest);
}

#[test]
fn dense_equals_the_valid_convolution_it_replaces() {
    // Face Mesh's 3x3 stride-3 VALID output conv over a 3x3 map is a dense layer whose
    // weights are the OIHW kernel re-ordered to (h, w, c).
    let gpu = gpu();
    let mut rng = rng(14);
    let item = Shape::new(3, 3, 7);
    let desc = Conv2dDesc::new(7, 11, 3, 3, Padding::VALID);
    let input = random_tensor(&mut rng, item);
    let oihw = random_values(&mut rng, 11 * 7 * 9);
    let mut ohwc = vec![0.0; oihw.len()];
    for o in 0..11 {
        for i in 0..7 {
            for t in 0..9 {
                ohwc[o * 63 + t * 7 + i] = oihw[(o * 7 + i) * 9 + t];
            }
        }
    }
    let want = reference::conv2d(&input, &desc, &oihw, None, &Activation::None, None).unwrap();
    let mut arena = BufferArena::new();
    let layer = Dense::new(gpu, item, 11, &ohwc, None, Activation::None).unwrap();
    let input_gpu = upload(&mut arena, &input);
    let output = arena.tensor(gpu, "output", layer.output_shape(1)).unwrap();
    let got = run(&[&layer.bind(gpu, &input_gpu, &output).unwrap()], &output);
    assert_close("dense as VALID conv", &got, &want, 63);
}

#[test]
fn softmax_matches_reference_on_random_shapes() {
    let gpu = gpu();
    let mut rng = rng(15);
    let mut largest = 0.0f32;
    for case in 0..20 {
        let (height, width) = spatial(&mut rng, case % 8);
        let channels = PRIMES[rng.random_range(0..12)];
        let shape = Shape::new(height.min(4), width.min(4), channels);
        // Logits up to +-60: the kernel must subtract the maximum before exponentiating.
        let input = liveshade::tensor::HostTensor::new(shape, scaled(random_values(&mut rng, shape.len() as usize), 60.0)).unwrap();
        let want = reference::softmax(&input);
        let mut arena = BufferArena::new();
        let input_gpu = upload(&mut arena, &input);
        let output = arena.tensor(gpu, "output", shape).unwrap();
        let got = run(&[&nn::softmax(gpu, &input_gpu, &output).unwrap()], &output);
        largest = largest.max(assert_close(&format!("softmax case {case} {shape}"), &got, &want, channels as usize));
    }
    report("softmax", 20, largest);
}

#[test]
fn a_blazeblock_chains_kernels_in_one_pass() {
    // depthwise 3x3 s2 -> pointwise with the max-pooled, channel-padded input as residual,
    // ReLU: BlazeFace block03 at a quarter of its size, five dispatches recorded in one pass.
    let gpu = gpu();
    let mut rng = rng(16);
    let (cin, cout) = (28, 32);
    let input = random_tensor(&mut rng, Shape::new(16, 16, cin));
    let dw_w = random_values(&mut rng, (cin * 9) as usize);
    let dw_b = random_values(&mut rng, cin as usize);
    let pw_w = random_values(&mut rng, (cin * cout) as usize);
    let pw_b = random_values(&mut rng, cout as usize);
    let padding = Padding::same(16, 16, 3, 3, 2);
    let dw_desc = Conv2dDesc::new(cin, cin, 3, 2, padding).with_groups(cin);
    let t = reference::conv2d(&input, &dw_desc, &dw_w, Some(&dw_b), &Activation::None, None).unwrap();
    let pooled = reference::max_pool_2x2(&input, 8, 8);
    let skip = reference::channel_pad(&pooled, cout);
    let want = reference::pointwise(&t, cout, &pw_w, Some(&pw_b), &Activation::Relu, Some(&skip)).unwrap();

    let mut arena = BufferArena::new();
    let input_gpu = upload(&mut arena, &input);
    let t_gpu = arena.tensor(gpu, "t", t.shape).unwrap();
    let pooled_gpu = arena.tensor(gpu, "pooled", pooled.shape).unwrap();
    let skip_gpu = arena.tensor(gpu, "skip", skip.shape).unwrap();
    let output = arena.tensor(gpu, "output", want.shape).unwrap();
    let dw = Depthwise::new(gpu, cin, 3, 2, padding, &dw_w, Some(&dw_b), Activation::None).unwrap();
    let pw = Pointwise::new(gpu, &tuning(), cin, cout, &pw_w, Some(&pw_b), Activation::Relu).unwrap();
    let dispatches = [
        dw.bind(gpu, &input_gpu, &t_gpu, None).unwrap(),
        nn::max_pool_2x2(gpu, &input_gpu, &pooled_gpu).unwrap(),
        nn::channel_pad(gpu, &pooled_gpu, &skip_gpu).unwrap(),
        pw.bind(gpu, &t_gpu, &output, Some(&skip_gpu)).unwrap(),
    ];
    let got = run(&dispatches.iter().collect::<Vec<_>>(), &output);
    assert_close("BlazeBlock", &got, &want, (cin + 9) as usize);
}

#[test]
fn separable_block_matches_reference_on_random_shapes() {
    // The fused block against the composition of reference ops it replaces:
    // act(pointwise(dw_act(depthwise_3x3(x))) + skip), skip none, channel_pad(x or
    // max_pool_2x2(x)) or a residual tensor; SAME or explicit padding.
    let gpu = gpu();
    let mut rng = rng(17);
    let mut largest = 0.0f32;
    let cases = 36;
    for case in 0..cases {
        let (height, width) = spatial(&mut rng, case % 8);
        let stride = 1 + (case as u32 % 2);
        let skip = [Skip::Input, Skip::Residual, Skip::None][case % 3];
        let in_channels = match case {
            c if c == cases - 1 => 128,
            c if c == cases - 2 => 231, // MiniFASNet's widest expansion: an 8-pixel tile
            _ => PRIMES[rng.random_range(0..12)] + [0, 24, 60][case % 3],
        };
        let out_channels = match skip {
            Skip::Input => in_channels + [0, 1, 4, 8, 13][case % 5],
            _ => 1 + rng.random_range(0..in_channels + 40),
        };
        let input_shape = Shape::new(height, width, in_channels).with_batch(1 + (case % 7 == 6) as u32);
        // The input as skip is the MediaPipe block: SAME padding only.
        let padding = if case % 4 < 2 || skip == Skip::Input { None } else { Some(random_padding(&mut rng, 3, 3, height, width, stride, case)) };
        let dw_padding = padding.unwrap_or_else(|| Padding::same(height, width, 3, 3, stride));
        let dw_desc = Conv2dDesc::new(in_channels, in_channels, 3, stride, dw_padding).with_groups(in_channels);
        let Ok(t_shape) = dw_desc.output_shape(input_shape) else { continue };
        let input = random_tensor(&mut rng, input_shape);
        let depthwise = random_values(&mut rng, (in_channels * 9) as usize);
        let depthwise_bias = random_values(&mut rng, in_channels as usize);
        let pointwise = random_values(&mut rng, (in_channels * out_channels) as usize);
        let pointwise_bias = random_values(&mut rng, out_channels as usize);
        let dw_activation = if case % 2 == 0 { Activation::None } else { Activation::PRelu(random_values(&mut rng, in_channels as usize)) };
        let activation = [Activation::Relu, Activation::PRelu(random_values(&mut rng, out_channels as usize)), Activation::None][case % 3].clone();
        let residual = (skip == Skip::Residual).then(|| {
            let channels = rng.random_range(1..=out_channels);
            random_tensor(&mut rng, Shape { channels, ..t_shape })
        });
        let t = reference::conv2d(&input, &dw_desc, &depthwise, Some(&depthwise_bias), &dw_activation, None).unwrap();
        let skip_tensor = match skip {
            Skip::Input if stride == 2 => Some(reference::channel_pad(&reference::max_pool_2x2(&input, t.shape.height, t.shape.width), out_channels)),
            Skip::Input => Some(reference::channel_pad(&input, out_channels)),
            Skip::Residual => residual.clone(),
            Skip::None => None,
        };
        let want = reference::pointwise(&t, out_channels, &pointwise, Some(&pointwise_bias), &activation, skip_tensor.as_ref()).unwrap();

        let weights = nn::SeparableWeights { depthwise: &depthwise, depthwise_bias: &depthwise_bias, pointwise: &pointwise, pointwise_bias: &pointwise_bias };
        let desc = nn::SeparableDesc { in_channels, out_channels, stride, padding, skip };
        let block = nn::SeparableBlock::with_desc(gpu, desc, &weights, dw_activation, activation).unwrap();
        let mut arena = BufferArena::new();
        let input_gpu = upload(&mut arena, &input);
        let residual_gpu = residual.as_ref().map(|r| upload(&mut arena, r));
        let output = arena.tensor(gpu, "output", want.shape).unwrap();
        let got = run(&[&block.bind(gpu, &input_gpu, &output, residual_gpu.as_ref()).unwrap()], &output);
        largest = largest.max(assert_close(
            &format!("separable block case {case}: {input_shape} -> {out_channels}, stride {stride}, {padding:?}, skip {skip:?}"),
            &got,
            &want,
            (in_channels + 9) as usize,
        ));
    }
    report("separable_block", cases, largest);
}

#[test]
fn batch_norm_folded_into_a_convolution_matches_conv_then_batch_norm() {
    let mut rng = rng(18);
    for case in 0..20 {
        let (height, width) = spatial(&mut rng, case % 8);
        let (cin, cout) = (PRIMES[rng.random_range(0..12)], PRIMES[rng.random_range(0..12)]);
        let desc = Conv2dDesc::new(cin, cout, 3, 1, Padding::symmetric(1));
        let input = random_tensor(&mut rng, Shape::new(height, width, cin));
        let weights = random_values(&mut rng, (cout * cin * 9) as usize);
        let bias = (case % 2 == 0).then(|| random_values(&mut rng, cout as usize));
        let gamma = random_values(&mut rng, cout as usize);
        let beta = random_values(&mut rng, cout as usize);
        let mean = random_values(&mut rng, cout as usize);
        let var: Vec<f32> = random_values(&mut rng, cout as usize).iter().map(|v| v.abs() + 0.1).collect();
        let bn = nn::BatchNorm { weight: &gamma, bias: &beta, running_mean: &mean, running_var: &var, eps: 1e-5 };
        let conv = reference::conv2d(&input, &desc, &weights, bias.as_deref(), &Activation::None, None).unwrap();
        let mut want = conv.clone();
        for (i, v) in want.data.iter_mut().enumerate() {
            let c = i % cout as usize;
            *v = ((*v as f64 - mean[c] as f64) / (var[c] as f64 + 1e-5).sqrt() * gamma[c] as f64 + beta[c] as f64) as f32;
        }
        let (folded_weights, folded_bias) = nn::fold_batch_norm(&weights, bias.as_deref(), cout as usize, &bn).unwrap();
        let got = reference::conv2d(&input, &desc, &folded_weights, Some(&folded_bias), &Activation::None, None).unwrap();
        assert_close(&format!("batch norm fold case {case}"), &got, &want, (cin * 9) as usize);
    }
    assert!(
        nn::fold_batch_norm(
            &[0.0; 6],
            None,
            3,
            &nn::BatchNorm { weight: &[1.0; 2], bias: &[0.0; 3], running_mean: &[0.0; 3], running_var: &[1.0; 3], eps: 1e-5 }
        )
        .is_err()
    );
}
