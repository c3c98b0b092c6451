// Shared by every kernel family: the kernel tables (src/nn/kernels.rs, src/engine/kernels.rs)
// prepend this file to each family's source, so the activation codes and the epilogue are
// defined once.
//
// Activation layout (every family): NHWC, the channel axis padded to a multiple of 4 and
// read as vec4<f32>. Padding lanes are always stored as 0 (see `finish`), so a reader can
// treat them as real zero channels (BlazeFace's channel-padded residuals rely on it).

// Activation codes: src/nn/layer.rs, `Activation::code` (same numbers).
const ACTIVATION_NONE: u32 = 0u;
const ACTIVATION_RELU: u32 = 1u;
const ACTIVATION_RELU6: u32 = 2u;
const ACTIVATION_PRELU: u32 = 3u;
const ACTIVATION_SIGMOID: u32 = 4u;

// Invocations per workgroup of the one-dimensional kernels: the `workgroup_size` of their
// entries in the kernel tables, which tests/shaders.rs holds against each entry point.
const LINEAR_WORKGROUP: u32 = 64u;

// Dispatch grids are two-dimensional when one dimension would exceed the device's
// max_compute_workgroups_per_dimension; this folds (x, y) back into one index.
fn linear_index(id: vec3<u32>, workgroups: vec3<u32>) -> u32 {
    return id.x + id.y * workgroups.x * LINEAR_WORKGROUP;
}

fn activate(v: vec4<f32>, kind: u32, slope: vec4<f32>) -> vec4<f32> {
    switch kind {
        case ACTIVATION_RELU: { return max(v, vec4<f32>(0.0)); }
        case ACTIVATION_RELU6: { return clamp(v, vec4<f32>(0.0), vec4<f32>(6.0)); }
        case ACTIVATION_PRELU: { return select(v * slope, v, v >= vec4<f32>(0.0)); }
        case ACTIVATION_SIGMOID: { return 1.0 / (1.0 + exp(-v)); }
        default: { return v; }
    }
}

// The per-channel parameter buffer (src/nn/layer.rs `channel_params`): bias for
// channel groups [0, n), then PReLU slopes for [n, 2n), n = slope_base(channels).
fn slope_base(channels: u32) -> u32 {
    return ((channels + 7u) / 8u) * 2u;
}

// Zero the lanes of channel group `c4` that lie past `channels`.
fn mask_channels(v: vec4<f32>, c4: u32, channels: u32) -> vec4<f32> {
    let lane = vec4<u32>(0u, 1u, 2u, 3u) + vec4<u32>(c4 * 4u);
    return select(vec4<f32>(0.0), v, lane < vec4<u32>(channels));
}

// bias + residual -> activation -> zeroed padding lanes: the end of every layer.
fn finish(sum: vec4<f32>, bias: vec4<f32>, residual: vec4<f32>, slope: vec4<f32>,
          activation: u32, c4: u32, channels: u32) -> vec4<f32> {
    return mask_channels(activate(sum + bias + residual, activation, slope), c4, channels);
}

// One input vec4 times a 4 x 4 weight block (rows w0..w3), added to `sum`: the inner step
// of every matrix-multiply kernel.
fn multiply_add(sum: vec4<f32>, a: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>) -> vec4<f32> {
    return fma(vec4<f32>(a.x), w0, fma(vec4<f32>(a.y), w1, fma(vec4<f32>(a.z), w2, fma(vec4<f32>(a.w), w3, sum))));
}

// The same for 4 output channel groups at once: each column of `sum` (and of each weight
// row w0..w3) is one group. The wide GEMM and the stem convolution use it.
fn multiply_add4(sum: mat4x4<f32>, a: vec4<f32>, w0: mat4x4<f32>, w1: mat4x4<f32>, w2: mat4x4<f32>, w3: mat4x4<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(
        multiply_add(sum[0], a, w0[0], w1[0], w2[0], w3[0]),
        multiply_add(sum[1], a, w0[1], w1[1], w2[1], w3[1]),
        multiply_add(sum[2], a, w0[2], w1[2], w2[2], w3[2]),
        multiply_add(sum[3], a, w0[3], w1[3], w2[3], w3[3]));
}
