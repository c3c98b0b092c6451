// Depthwise convolution (one filter per channel, depth multiplier 1), NHWC, vec4 over
// channels, specialised per kernel size through the `kernel_size` override: the
// launcher builds `depthwise_3x3` (every BlazeFace, Face Mesh and MiniFASNet depthwise
// layer but one) and `depthwise_5x5` (MiniFASNet conv_6_dw) from this one entry point,
// so the tap loops have constant bounds and unroll.
// Each invocation computes PIXELS_PER_INVOCATION neighbouring output pixels of one
// channel group: measured on lavapipe, four pixels per invocation doubled the
// throughput of one (shared/PERF_NOTES.md).
// Launcher: src/nn/depthwise.rs; `DepthwiseParams` there has the same field order.

override kernel_size: u32 = 3u;
const PIXELS_PER_INVOCATION: u32 = 4u;

struct DepthwiseParams {
    batch: u32, in_h: u32, in_w: u32, channels: u32,
    out_h: u32, out_w: u32, stride: u32, pad_top: u32,
    pad_left: u32, activation: u32, residual_c: u32, _padding: u32,
}

@group(0) @binding(0) var<uniform> params: DepthwiseParams;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
// [kernel_size * kernel_size taps][channel groups], tap-major.
@group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> channel_params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(64)
fn depthwise(@builtin(global_invocation_id) id: vec3<u32>,
             @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let c4s = (params.channels + 3u) / 4u;
    let column_groups = (params.out_w + PIXELS_PER_INVOCATION - 1u) / PIXELS_PER_INVOCATION;
    if (index >= params.batch * params.out_h * column_groups * c4s) { return; }
    let c4 = index % c4s;
    let column_group = (index / c4s) % column_groups;
    let row = index / (c4s * column_groups);
    let oy = row % params.out_h;
    let n = row / params.out_h;
    let ox0 = column_group * PIXELS_PER_INVOCATION;

    // Four accumulators (the columns of a matrix), not a local array: lavapipe keeps a
    // loop-indexed local array in memory and gathers every access per lane (pointwise.wgsl).
    // A 3x3 kernel reads each input row once for all four pixels (a sliding window: 6
    // loads at stride 1 and 9 at stride 2 instead of 12); loads are what costs there.
    var sums = mat4x4<f32>();
    let step = i32(params.stride);
    let ix = i32(ox0 * params.stride) - i32(params.pad_left);
    for (var ky = 0u; ky < kernel_size; ky++) {
        let iy = i32(oy * params.stride + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        let row_base = (n * params.in_h + u32(iy)) * params.in_w;
        let first_tap = ky * kernel_size * c4s + c4;
        if (kernel_size == 3u) {
            let w0 = weights[first_tap];
            let w1 = weights[first_tap + c4s];
            let w2 = weights[first_tap + 2u * c4s];
            if (step == 1) {
                sums = row3_stride1(row_base, ix, c4, c4s, w0, w1, w2, sums);
            } else {
                sums = row3_stride2(row_base, ix, c4, c4s, w0, w1, w2, sums);
            }
        } else {
            for (var kx = 0u; kx < kernel_size; kx++) {
                let w = weights[first_tap + kx * c4s];
                let x = ix + i32(kx);
                sums[0] = fma(tap(row_base, x, c4, c4s), w, sums[0]);
                sums[1] = fma(tap(row_base, x + step, c4, c4s), w, sums[1]);
                sums[2] = fma(tap(row_base, x + 2 * step, c4, c4s), w, sums[2]);
                sums[3] = fma(tap(row_base, x + 3 * step, c4, c4s), w, sums[3]);
            }
        }
    }
    let sum0 = sums[0];
    let sum1 = sums[1];
    let sum2 = sums[2];
    let sum3 = sums[3];

    let bias = channel_params[c4];
    let slope = channel_params[slope_base(params.channels) + c4];
    let residual_c4 = (params.residual_c + 3u) / 4u;
    let first_pixel = row * params.out_w + ox0;
    finish_pixel(first_pixel, ox0, c4, c4s, residual_c4, sum0, bias, slope);
    finish_pixel(first_pixel + 1u, ox0 + 1u, c4, c4s, residual_c4, sum1, bias, slope);
    finish_pixel(first_pixel + 2u, ox0 + 2u, c4, c4s, residual_c4, sum2, bias, slope);
    finish_pixel(first_pixel + 3u, ox0 + 3u, c4, c4s, residual_c4, sum3, bias, slope);
}

// One input value of a tap, zero outside the row (the padding): a clamped load and a
// select, no branch.
fn tap(row_base: u32, ix: i32, c4: u32, c4s: u32) -> vec4<f32> {
    let inside = ix >= 0 && ix < i32(params.in_w);
    let value = input[(row_base + u32(clamp(ix, 0, i32(params.in_w) - 1))) * c4s + c4];
    return select(vec4<f32>(0.0), value, inside);
}

// One kernel row of a 3x3 depthwise at stride 1 for four neighbouring pixels: input
// columns ix .. ix + 5, each loaded once.
fn row3_stride1(row_base: u32, ix: i32, c4: u32, c4s: u32, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>,
                sums: mat4x4<f32>) -> mat4x4<f32> {
    let x0 = tap(row_base, ix, c4, c4s);
    let x1 = tap(row_base, ix + 1, c4, c4s);
    let x2 = tap(row_base, ix + 2, c4, c4s);
    let x3 = tap(row_base, ix + 3, c4, c4s);
    let x4 = tap(row_base, ix + 4, c4, c4s);
    let x5 = tap(row_base, ix + 5, c4, c4s);
    return mat4x4<f32>(
        fma(x2, w2, fma(x1, w1, fma(x0, w0, sums[0]))),
        fma(x3, w2, fma(x2, w1, fma(x1, w0, sums[1]))),
        fma(x4, w2, fma(x3, w1, fma(x2, w0, sums[2]))),
        fma(x5, w2, fma(x4, w1, fma(x3, w0, sums[3]))));
}

// The same at stride 2: input columns ix .. ix + 8.
fn row3_stride2(row_base: u32, ix: i32, c4: u32, c4s: u32, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>,
                sums: mat4x4<f32>) -> mat4x4<f32> {
    let x0 = tap(row_base, ix, c4, c4s);
    let x1 = tap(row_base, ix + 1, c4, c4s);
    let x2 = tap(row_base, ix + 2, c4, c4s);
    let x3 = tap(row_base, ix + 3, c4, c4s);
    let x4 = tap(row_base, ix + 4, c4, c4s);
    let x5 = tap(row_base, ix + 5, c4, c4s);
    let x6 = tap(row_base, ix + 6, c4, c4s);
    let x7 = tap(row_base, ix + 7, c4, c4s);
    let x8 = tap(row_base, ix + 8, c4, c4s);
    return mat4x4<f32>(
        fma(x2, w2, fma(x1, w1, fma(x0, w0, sums[0]))),
        fma(x4, w2, fma(x3, w1, fma(x2, w0, sums[1]))),
        fma(x6, w2, fma(x5, w1, fma(x4, w0, sums[2]))),
        fma(x8, w2, fma(x7, w1, fma(x6, w0, sums[3]))));
}

fn finish_pixel(pixel: u32, ox: u32, c4: u32, c4s: u32, residual_c4: u32, sum: vec4<f32>,
                bias: vec4<f32>, slope: vec4<f32>) {
    if (ox >= params.out_w) { return; }
    var skip = vec4<f32>(0.0);
    if (c4 < residual_c4) { skip = residual[pixel * residual_c4 + c4]; }
    output[pixel * c4s + c4] = finish(sum, bias, skip, slope, params.activation, c4, params.channels);
}
