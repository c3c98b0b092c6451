// Pointwise (1x1, stride 1) convolution as a matrix multiply, NHWC:
// output[pixel][co] = sum_ci input[pixel][ci] * weights[ci][co].
// Four variants of the same product, chosen per adapter (src/nn/tuning.rs, `Tuning`, and
// src/nn/pointwise.rs, `PointwiseVariant`; measurements in shared/PERF_NOTES.md and BENCHMARKS.md):
//   pointwise_naive    one output value per invocation: the baseline.
//   pointwise_blocked  8 pixels x 8 output channels per invocation in named registers,
//                      vec4 loads; the fastest on CPU adapters (lavapipe: ~10x the naive).
//   pointwise_wide     16 pixels x 16 output channels per invocation; CPU adapters, on the
//                      layers where it beats the 8 x 8 block.
//   pointwise_tiled    64 x 64 output tiles staged through workgroup memory; the usual
//                      winner on discrete GPUs, the slowest on lavapipe.
// Every variant adds the residual, or reads a 2x2-max-pooled one (`pool_residual`).
// Launcher: src/nn/pointwise.rs; `PointwiseParams` there has the same field order.

struct PointwiseParams {
    pixels: u32,         // batch * height * width
    in_c4: u32,          // input channel groups (input row stride, in vec4)
    out_c: u32,          // real output channels
    out_c4: u32,         // output channel groups (output row stride, in vec4)
    weight_c4: u32,      // weight row stride in vec4: out_c4 rounded up to even
    activation: u32,
    residual_c4: u32,    // residual row stride in vec4 (0 = no residual)
    // 1: the residual is the 2x2 max pool (TFLite SAME: positions past the edge are not in
    // the window) of a residual_h x residual_w tensor, the skip path of a stride-2 MediaPipe
    // block read here instead of pooled by a dispatch of its own.
    pool_residual: u32,
    out_w: u32,
    out_h: u32,
    residual_w: u32,
    residual_h: u32,
}

@group(0) @binding(0) var<uniform> params: PointwiseParams;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
// [in_c4 * 4 rows][weight_c4], zero past the real channels.
@group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> channel_params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> output: array<vec4<f32>>;
// The naive variant writes single values through this view of the output buffer.
@group(0) @binding(6) var<storage, read_write> output_values: array<f32>;

// The residual of one output channel group of one pixel: zero past its channels.
fn skip_at(pixel: u32, c4: u32) -> vec4<f32> {
    let stride = params.residual_c4;
    if (c4 >= stride) { return vec4<f32>(0.0); }
    if (params.pool_residual == 0u) { return residual[pixel * stride + c4]; }
    let x = pixel % params.out_w;
    let rest = pixel / params.out_w;
    let y = rest % params.out_h;
    let n = rest / params.out_h;
    let x1 = min(2u * x + 1u, params.residual_w - 1u);
    let row0 = (n * params.residual_h + 2u * y) * params.residual_w;
    let row1 = (n * params.residual_h + min(2u * y + 1u, params.residual_h - 1u)) * params.residual_w;
    let top = max(residual[(row0 + 2u * x) * stride + c4], residual[(row0 + x1) * stride + c4]);
    let bottom = max(residual[(row1 + 2u * x) * stride + c4], residual[(row1 + x1) * stride + c4]);
    return max(top, bottom);
}

// Where `pixel`'s input row starts. Rows past the last pixel (a block's tail) re-read the
// last one, always in bounds; their sums are not stored.
fn input_row(pixel: u32) -> u32 {
    return min(pixel, params.pixels - 1u) * params.in_c4;
}

// Bias, residual, activation, store: one output channel group of one pixel.
fn store(pixel: u32, c4: u32, sum: vec4<f32>, bias: vec4<f32>, slope: vec4<f32>) {
    output[pixel * params.out_c4 + c4] = finish(sum, bias, skip_at(pixel, c4), slope, params.activation, c4, params.out_c);
}

fn bias_of(c4: u32) -> vec4<f32> {
    return channel_params[c4];
}

fn slope_of(c4: u32) -> vec4<f32> {
    return channel_params[slope_base(params.out_c) + c4];
}

@compute @workgroup_size(64)
fn pointwise_naive(@builtin(global_invocation_id) id: vec3<u32>,
                   @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let row = params.out_c4 * 4u;
    if (index >= params.pixels * row) { return; }
    let co = index % row;
    let pixel = index / row;
    let c4 = co / 4u;
    let lane = co % 4u;
    var sum = 0.0;
    for (var k4 = 0u; k4 < params.in_c4; k4++) {
        let a = input[pixel * params.in_c4 + k4];
        for (var j = 0u; j < 4u; j++) {
            sum = fma(a[j], weights[(k4 * 4u + j) * params.weight_c4 + c4][lane], sum);
        }
    }
    let skip = skip_at(pixel, c4)[lane];
    let bias = channel_params[c4][lane];
    let slope = channel_params[slope_base(params.out_c) + c4][lane];
    let value = activate(vec4<f32>(sum + bias + skip), params.activation, vec4<f32>(slope)).x;
    output_values[index] = select(0.0, value, co < params.out_c);
}

// The two channel groups of one pixel (bias and slope loaded once per invocation).
fn store_pair(pixel: u32, c4: u32, first: vec4<f32>, second: vec4<f32>, bias: mat2x4<f32>, slope: mat2x4<f32>) {
    if (pixel >= params.pixels) { return; }
    store(pixel, c4, first, bias[0], slope[0]);
    if (c4 + 1u < params.out_c4) { store(pixel, c4 + 1u, second, bias[1], slope[1]); }
}

// 8 pixels x 2 channel groups, written out by hand: no local arrays and no inner loops.
// On lavapipe a local array indexed in a loop is kept in memory and every access is a
// per-lane gather; these 16 named accumulators stay in registers. Measured on 16x16x128 ->
// 128 in the same run: 12.2 GFLOP/s with arrays, 27.4 written out (BENCHMARKS.md).
@compute @workgroup_size(64)
fn pointwise_blocked(@builtin(global_invocation_id) id: vec3<u32>,
                     @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let channel_blocks = params.weight_c4 / 2u;
    let pixel_blocks = (params.pixels + 7u) / 8u;
    if (index >= channel_blocks * pixel_blocks) { return; }
    let c4 = (index % channel_blocks) * 2u;
    let first_pixel = (index / channel_blocks) * 8u;

    let row0 = input_row(first_pixel);
    let row1 = input_row(first_pixel + 1u);
    let row2 = input_row(first_pixel + 2u);
    let row3 = input_row(first_pixel + 3u);
    let row4 = input_row(first_pixel + 4u);
    let row5 = input_row(first_pixel + 5u);
    let row6 = input_row(first_pixel + 6u);
    let row7 = input_row(first_pixel + 7u);
    // sum<pixel><channel group a|b>
    var sum0a = vec4<f32>(0.0); var sum0b = vec4<f32>(0.0);
    var sum1a = vec4<f32>(0.0); var sum1b = vec4<f32>(0.0);
    var sum2a = vec4<f32>(0.0); var sum2b = vec4<f32>(0.0);
    var sum3a = vec4<f32>(0.0); var sum3b = vec4<f32>(0.0);
    var sum4a = vec4<f32>(0.0); var sum4b = vec4<f32>(0.0);
    var sum5a = vec4<f32>(0.0); var sum5b = vec4<f32>(0.0);
    var sum6a = vec4<f32>(0.0); var sum6b = vec4<f32>(0.0);
    var sum7a = vec4<f32>(0.0); var sum7b = vec4<f32>(0.0);
    let stride = params.weight_c4;
    for (var k4 = 0u; k4 < params.in_c4; k4++) {
        let w = k4 * 4u * stride + c4;
        let w0a = weights[w];               let w0b = weights[w + 1u];
        let w1a = weights[w + stride];      let w1b = weights[w + stride + 1u];
        let w2a = weights[w + 2u * stride]; let w2b = weights[w + 2u * stride + 1u];
        let w3a = weights[w + 3u * stride]; let w3b = weights[w + 3u * stride + 1u];
        let a0 = input[row0 + k4];
        sum0a = multiply_add(sum0a, a0, w0a, w1a, w2a, w3a); sum0b = multiply_add(sum0b, a0, w0b, w1b, w2b, w3b);
        let a1 = input[row1 + k4];
        sum1a = multiply_add(sum1a, a1, w0a, w1a, w2a, w3a); sum1b = multiply_add(sum1b, a1, w0b, w1b, w2b, w3b);
        let a2 = input[row2 + k4];
        sum2a = multiply_add(sum2a, a2, w0a, w1a, w2a, w3a); sum2b = multiply_add(sum2b, a2, w0b, w1b, w2b, w3b);
        let a3 = input[row3 + k4];
        sum3a = multiply_add(sum3a, a3, w0a, w1a, w2a, w3a); sum3b = multiply_add(sum3b, a3, w0b, w1b, w2b, w3b);
        let a4 = input[row4 + k4];
        sum4a = multiply_add(sum4a, a4, w0a, w1a, w2a, w3a); sum4b = multiply_add(sum4b, a4, w0b, w1b, w2b, w3b);
        let a5 = input[row5 + k4];
        sum5a = multiply_add(sum5a, a5, w0a, w1a, w2a, w3a); sum5b = multiply_add(sum5b, a5, w0b, w1b, w2b, w3b);
        let a6 = input[row6 + k4];
        sum6a = multiply_add(sum6a, a6, w0a, w1a, w2a, w3a); sum6b = multiply_add(sum6b, a6, w0b, w1b, w2b, w3b);
        let a7 = input[row7 + k4];
        sum7a = multiply_add(sum7a, a7, w0a, w1a, w2a, w3a); sum7b = multiply_add(sum7b, a7, w0b, w1b, w2b, w3b);
    }
    // The second group's bias and slope past the last channel group read padding or the
    // slopes; they are never stored.
    let bias = mat2x4<f32>(bias_of(c4), bias_of(c4 + 1u));
    let slope = mat2x4<f32>(slope_of(c4), slope_of(c4 + 1u));
    store_pair(first_pixel, c4, sum0a, sum0b, bias, slope);
    store_pair(first_pixel + 1u, c4, sum1a, sum1b, bias, slope);
    store_pair(first_pixel + 2u, c4, sum2a, sum2b, bias, slope);
    store_pair(first_pixel + 3u, c4, sum3a, sum3b, bias, slope);
    store_pair(first_pixel + 4u, c4, sum4a, sum4b, bias, slope);
    store_pair(first_pixel + 5u, c4, sum5a, sum5b, bias, slope);
    store_pair(first_pixel + 6u, c4, sum6a, sum6b, bias, slope);
    store_pair(first_pixel + 7u, c4, sum7a, sum7b, bias, slope);
}

// Four channel groups of one weight row. Groups past weight_c4 read the next row (or past
// the end, which reads zero); they feed sums that are never stored.
fn weight_row(at: u32) -> mat4x4<f32> {
    return mat4x4<f32>(weights[at], weights[at + 1u], weights[at + 2u], weights[at + 3u]);
}

fn store_four(pixel: u32, c4: u32, sum: mat4x4<f32>, bias: mat4x4<f32>, slope: mat4x4<f32>) {
    if (pixel >= params.pixels) { return; }
    store(pixel, c4, sum[0], bias[0], slope[0]);
    if (c4 + 1u < params.out_c4) { store(pixel, c4 + 1u, sum[1], bias[1], slope[1]); }
    if (c4 + 2u < params.out_c4) { store(pixel, c4 + 2u, sum[2], bias[2], slope[2]); }
    if (c4 + 3u < params.out_c4) { store(pixel, c4 + 3u, sum[3], bias[3], slope[3]); }
}

// 16 pixels x 4 channel groups (16 output channels) per invocation, each pixel's sums a
// matrix: twice the multiply-adds of pointwise_blocked per load. For CPU adapters on
// layers of 80 channels and more, or a multiple of 16 (src/nn/pointwise.rs), where little
// of the block is padding. Measured on lavapipe in the same run: 1.16-1.28x the 8 x 8
// block on 32-128 channel layers, 0.94x on 24 channels (BENCHMARKS.md).
@compute @workgroup_size(64)
fn pointwise_wide(@builtin(global_invocation_id) id: vec3<u32>,
                  @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let channel_blocks = (params.out_c4 + 3u) / 4u;
    let pixel_blocks = (params.pixels + 15u) / 16u;
    if (index >= channel_blocks * pixel_blocks) { return; }
    let c4 = (index % channel_blocks) * 4u;
    let first_pixel = (index / channel_blocks) * 16u;

    let row0 = input_row(first_pixel);
    let row1 = input_row(first_pixel + 1u);
    let row2 = input_row(first_pixel + 2u);
    let row3 = input_row(first_pixel + 3u);
    let row4 = input_row(first_pixel + 4u);
    let row5 = input_row(first_pixel + 5u);
    let row6 = input_row(first_pixel + 6u);
    let row7 = input_row(first_pixel + 7u);
    let row8 = input_row(first_pixel + 8u);
    let row9 = input_row(first_pixel + 9u);
    let row10 = input_row(first_pixel + 10u);
    let row11 = input_row(first_pixel + 11u);
    let row12 = input_row(first_pixel + 12u);
    let row13 = input_row(first_pixel + 13u);
    let row14 = input_row(first_pixel + 14u);
    let row15 = input_row(first_pixel + 15u);
    var sum0 = mat4x4<f32>();  var sum1 = mat4x4<f32>();  var sum2 = mat4x4<f32>();  var sum3 = mat4x4<f32>();
    var sum4 = mat4x4<f32>();  var sum5 = mat4x4<f32>();  var sum6 = mat4x4<f32>();  var sum7 = mat4x4<f32>();
    var sum8 = mat4x4<f32>();  var sum9 = mat4x4<f32>();  var sum10 = mat4x4<f32>(); var sum11 = mat4x4<f32>();
    var sum12 = mat4x4<f32>(); var sum13 = mat4x4<f32>(); var sum14 = mat4x4<f32>(); var sum15 = mat4x4<f32>();
    let stride = params.weight_c4;
    for (var k4 = 0u; k4 < params.in_c4; k4++) {
        let w = k4 * 4u * stride + c4;
        let w0 = weight_row(w);
        let w1 = weight_row(w + stride);
        let w2 = weight_row(w + 2u * stride);
        let w3 = weight_row(w + 3u * stride);
        sum0 = multiply_add4(sum0, input[row0 + k4], w0, w1, w2, w3);
        sum1 = multiply_add4(sum1, input[row1 + k4], w0, w1, w2, w3);
        sum2 = multiply_add4(sum2, input[row2 + k4], w0, w1, w2, w3);
        sum3 = multiply_add4(sum3, input[row3 + k4], w0, w1, w2, w3);
        sum4 = multiply_add4(sum4, input[row4 + k4], w0, w1, w2, w3);
        sum5 = multiply_add4(sum5, input[row5 + k4], w0, w1, w2, w3);
        sum6 = multiply_add4(sum6, input[row6 + k4], w0, w1, w2, w3);
        sum7 = multiply_add4(sum7, input[row7 + k4], w0, w1, w2, w3);
        sum8 = multiply_add4(sum8, input[row8 + k4], w0, w1, w2, w3);
        sum9 = multiply_add4(sum9, input[row9 + k4], w0, w1, w2, w3);
        sum10 = multiply_add4(sum10, input[row10 + k4], w0, w1, w2, w3);
        sum11 = multiply_add4(sum11, input[row11 + k4], w0, w1, w2, w3);
        sum12 = multiply_add4(sum12, input[row12 + k4], w0, w1, w2, w3);
        sum13 = multiply_add4(sum13, input[row13 + k4], w0, w1, w2, w3);
        sum14 = multiply_add4(sum14, input[row14 + k4], w0, w1, w2, w3);
        sum15 = multiply_add4(sum15, input[row15 + k4], w0, w1, w2, w3);
    }
    let bias = mat4x4<f32>(bias_of(c4), bias_of(c4 + 1u), bias_of(c4 + 2u), bias_of(c4 + 3u));
    let slope = mat4x4<f32>(slope_of(c4), slope_of(c4 + 1u), slope_of(c4 + 2u), slope_of(c4 + 3u));
    store_four(first_pixel, c4, sum0, bias, slope);
    store_four(first_pixel + 1u, c4, sum1, bias, slope);
    store_four(first_pixel + 2u, c4, sum2, bias, slope);
    store_four(first_pixel + 3u, c4, sum3, bias, slope);
    store_four(first_pixel + 4u, c4, sum4, bias, slope);
    store_four(first_pixel + 5u, c4, sum5, bias, slope);
    store_four(first_pixel + 6u, c4, sum6, bias, slope);
    store_four(first_pixel + 7u, c4, sum7, bias, slope);
    store_four(first_pixel + 8u, c4, sum8, bias, slope);
    store_four(first_pixel + 9u, c4, sum9, bias, slope);
    store_four(first_pixel + 10u, c4, sum10, bias, slope);
    store_four(first_pixel + 11u, c4, sum11, bias, slope);
    store_four(first_pixel + 12u, c4, sum12, bias, slope);
    store_four(first_pixel + 13u, c4, sum13, bias, slope);
    store_four(first_pixel + 14u, c4, sum14, bias, slope);
    store_four(first_pixel + 15u, c4, sum15, bias, slope);
}

// 64 pixels x 16 channel groups per workgroup of 256; each invocation owns 4 pixels x 1
// channel group; the reduction advances 4 channel groups (16 channels) per stage.
const TILE_PIXELS: u32 = 64u;
const TILE_C4: u32 = 16u;
const STAGE_K4: u32 = 4u;
var<workgroup> tile_input: array<vec4<f32>, 256>;     // [TILE_PIXELS][STAGE_K4]
var<workgroup> tile_weights: array<vec4<f32>, 256>;   // [STAGE_K4 * 4 rows][TILE_C4]

@compute @workgroup_size(256)
fn pointwise_tiled(@builtin(workgroup_id) group: vec3<u32>,
                   @builtin(local_invocation_index) local: u32,
                   @builtin(num_workgroups) workgroups: vec3<u32>) {
    let tile = group.x + group.y * workgroups.x;
    let channel_tiles = (params.weight_c4 + TILE_C4 - 1u) / TILE_C4;
    let pixel_tiles = (params.pixels + TILE_PIXELS - 1u) / TILE_PIXELS;
    if (tile >= channel_tiles * pixel_tiles) { return; }   // uniform across the workgroup
    let tile_c4 = (tile % channel_tiles) * TILE_C4;
    let tile_pixel = (tile / channel_tiles) * TILE_PIXELS;
    let my_c4 = local % TILE_C4;
    let my_pixels = (local / TILE_C4) * 4u;

    var sum: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < params.in_c4; k0 += STAGE_K4) {
        // Stage: each invocation loads one input vec4 and one weight vec4.
        let load_pixel = tile_pixel + local / STAGE_K4;
        let load_k4 = k0 + local % STAGE_K4;
        var a = vec4<f32>(0.0);
        if (load_pixel < params.pixels && load_k4 < params.in_c4) {
            a = input[load_pixel * params.in_c4 + load_k4];
        }
        tile_input[local] = a;
        let load_row = k0 * 4u + local / TILE_C4;
        let load_c4 = tile_c4 + local % TILE_C4;
        var w = vec4<f32>(0.0);
        if (load_row < params.in_c4 * 4u && load_c4 < params.weight_c4) {
            w = weights[load_row * params.weight_c4 + load_c4];
        }
        tile_weights[local] = w;
        workgroupBarrier();
        for (var k = 0u; k < STAGE_K4; k++) {
            let w0 = tile_weights[(k * 4u) * TILE_C4 + my_c4];
            let w1 = tile_weights[(k * 4u + 1u) * TILE_C4 + my_c4];
            let w2 = tile_weights[(k * 4u + 2u) * TILE_C4 + my_c4];
            let w3 = tile_weights[(k * 4u + 3u) * TILE_C4 + my_c4];
            for (var p = 0u; p < 4u; p++) {
                let x = tile_input[(my_pixels + p) * STAGE_K4 + k];
                sum[p] = fma(vec4<f32>(x.x), w0, fma(vec4<f32>(x.y), w1,
                         fma(vec4<f32>(x.z), w2, fma(vec4<f32>(x.w), w3, sum[p]))));
            }
        }
        workgroupBarrier();
    }
    let c4 = tile_c4 + my_c4;
    if (c4 >= params.out_c4) { return; }
    for (var p = 0u; p < 4u; p++) {
        let pixel = tile_pixel + my_pixels + p;
        if (pixel < params.pixels) { store(pixel, c4, sum[p], bias_of(c4), slope_of(c4)); }
    }
}
