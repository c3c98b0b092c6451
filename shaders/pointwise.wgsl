// Pointwise (1x1, stride 1) convolution as a matrix multiply, NHWC:
// output[pixel][co] = sum_ci input[pixel][ci] * weights[ci][co].
// Three variants of the same product, chosen per adapter (src/nn/pointwise.rs,
// `PointwiseVariant`; measurements in shared/PERF_NOTES.md and BENCHMARKS.md):
//   pointwise_naive    one output value per invocation: the baseline.
//   pointwise_blocked  8 pixels x 8 output channels per invocation in named registers,
//                      vec4 loads; the fastest on CPU adapters (lavapipe: ~20x the naive).
//   pointwise_tiled    64 x 64 output tiles staged through workgroup memory; the usual
//                      winner on discrete GPUs, the slowest on lavapipe.
// Launcher: src/nn/pointwise.rs; `PointwiseParams` there has the same field order.

struct PointwiseParams {
    pixels: u32,         // batch * height * width
    in_c4: u32,          // input channel groups (input row stride, in vec4)
    out_c: u32,          // real output channels
    out_c4: u32,         // output channel groups (output row stride, in vec4)
    weight_c4: u32,      // weight row stride in vec4: out_c4 rounded up to even
    activation: u32,
    residual_c4: u32,    // residual row stride in vec4 (0 = no residual)
    _padding: u32,
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

fn store(pixel: u32, c4: u32, sum: vec4<f32>) {
    var skip = vec4<f32>(0.0);
    if (c4 < params.residual_c4) { skip = residual[pixel * params.residual_c4 + c4]; }
    let slope = channel_params[slope_base(params.out_c) + c4];
    output[pixel * params.out_c4 + c4] =
        finish(sum, channel_params[c4], skip, slope, params.activation, c4, params.out_c);
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
    var skip = 0.0;
    if (c4 < params.residual_c4) { skip = residual[pixel * params.residual_c4 + c4][lane]; }
    let bias = channel_params[c4][lane];
    let slope = channel_params[slope_base(params.out_c) + c4][lane];
    let value = activate(vec4<f32>(sum + bias + skip), params.activation, vec4<f32>(slope)).x;
    output_values[index] = select(0.0, value, co < params.out_c);
}

fn store_pair(pixel: u32, c4: u32, first: vec4<f32>, second: vec4<f32>) {
    if (pixel >= params.pixels) { return; }
    store(pixel, c4, first);
    if (c4 + 1u < params.out_c4) { store(pixel, c4 + 1u, second); }
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

    // Rows past the last pixel re-read the last one (always in bounds) and are not stored.
    let last = params.pixels - 1u;
    let row0 = min(first_pixel, last) * params.in_c4;
    let row1 = min(first_pixel + 1u, last) * params.in_c4;
    let row2 = min(first_pixel + 2u, last) * params.in_c4;
    let row3 = min(first_pixel + 3u, last) * params.in_c4;
    let row4 = min(first_pixel + 4u, last) * params.in_c4;
    let row5 = min(first_pixel + 5u, last) * params.in_c4;
    let row6 = min(first_pixel + 6u, last) * params.in_c4;
    let row7 = min(first_pixel + 7u, last) * params.in_c4;
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
    store_pair(first_pixel, c4, sum0a, sum0b);
    store_pair(first_pixel + 1u, c4, sum1a, sum1b);
    store_pair(first_pixel + 2u, c4, sum2a, sum2b);
    store_pair(first_pixel + 3u, c4, sum3a, sum3b);
    store_pair(first_pixel + 4u, c4, sum4a, sum4b);
    store_pair(first_pixel + 5u, c4, sum5a, sum5b);
    store_pair(first_pixel + 6u, c4, sum6a, sum6b);
    store_pair(first_pixel + 7u, c4, sum7a, sum7b);
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
        if (pixel < params.pixels) { store(pixel, c4, sum[p]); }
    }
}
