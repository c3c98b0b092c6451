// A depthwise-separable block in one dispatch: the residual block of BlazeFace and Face
// Mesh and the depthwise + projection of MiniFASNet's (shared/golden/ARCHITECTURES.md 1.1,
// 2.1, 3.2):
//   t    = dw_act(depthwise_3x3(x, stride, padding) + dw_bias)   (dw_act: none or PReLU)
//   skip = none | x, or max_pool_2x2(x) at stride 2, zero channels appended up to out_c
//          (MediaPipe) | a residual tensor of the output's pixels (MiniFASNet)
//   out  = act(pointwise(t) + pw_bias + skip)
// Each workgroup owns `tile_pixels` output pixels: it computes their depthwise outputs for
// every input channel once into workgroup memory, then the pointwise product from there in
// register blocks of 8 pixels x 2 channel groups, so t never goes to global memory and the
// block costs one dispatch instead of two or three.
// Launcher: src/nn/separable.rs; `SeparableParams` there has the same field order.

const TILE_VALUES: u32 = 1024u;   // tile_pixels x in_c4 <= this: 16 KiB of vec4
const WORKGROUP: u32 = 64u;

const SKIP_NONE: u32 = 0u;
const SKIP_INPUT: u32 = 1u;
const SKIP_RESIDUAL: u32 = 2u;

struct SeparableParams {
    batch: u32, in_h: u32, in_w: u32, in_c: u32,
    out_h: u32, out_w: u32, out_c: u32, stride: u32,
    pad_top: u32, pad_left: u32, activation: u32, weight_c4: u32,
    dw_activation: u32, skip: u32, residual_c: u32, tile_pixels: u32,
}

@group(0) @binding(0) var<uniform> params: SeparableParams;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
// [9 taps][in channel groups] (depthwise.wgsl's layout)
@group(0) @binding(2) var<storage, read> dw_weights: array<vec4<f32>>;
// biases, then PReLU slopes from slope_base(in_c) (layer.rs channel_params)
@group(0) @binding(3) var<storage, read> dw_params: array<vec4<f32>>;
// [in_c4 * 4 rows][weight_c4] (pointwise.wgsl's layout)
@group(0) @binding(4) var<storage, read> pw_weights: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> channel_params: array<vec4<f32>>;
// SKIP_RESIDUAL: the output's pixels, residual_c channels (missing channels add zero)
@group(0) @binding(6) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> output: array<vec4<f32>>;

var<workgroup> tile: array<vec4<f32>, TILE_VALUES>;  // [tile_pixels][in_c4]

// (n, y, x) of output pixel `pixel`.
fn position(pixel: u32) -> vec3<u32> {
    return vec3<u32>(pixel / (params.out_w * params.out_h), (pixel / params.out_w) % params.out_h,
                     pixel % params.out_w);
}

fn input_at(n: u32, y: u32, x: u32, c4: u32, in_c4: u32) -> vec4<f32> {
    return input[((n * params.in_h + y) * params.in_w + x) * in_c4 + c4];
}

fn depthwise_at(pixel: u32, c4: u32, in_c4: u32) -> vec4<f32> {
    let at = position(pixel);
    var sum = vec4<f32>(0.0);
    for (var ky = 0u; ky < 3u; ky++) {
        let iy = i32(at.y * params.stride + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        for (var kx = 0u; kx < 3u; kx++) {
            let ix = i32(at.z * params.stride + kx) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(params.in_w)) { continue; }
            sum = fma(input_at(at.x, u32(iy), u32(ix), c4, in_c4), dw_weights[(ky * 3u + kx) * in_c4 + c4], sum);
        }
    }
    return finish(sum, dw_params[c4], vec4<f32>(0.0), dw_params[slope_base(params.in_c) + c4], params.dw_activation, c4, params.in_c);
}

// The skip path of one output channel group (see the top of the file).
fn skip_at(pixel: u32, c4: u32, in_c4: u32) -> vec4<f32> {
    if (params.skip == SKIP_RESIDUAL) {
        let residual_c4 = (params.residual_c + 3u) / 4u;
        if (c4 >= residual_c4) { return vec4<f32>(0.0); }
        return residual[pixel * residual_c4 + c4];
    }
    if (params.skip != SKIP_INPUT || c4 >= in_c4) { return vec4<f32>(0.0); }
    let at = position(pixel);
    if (params.stride == 1u) { return input_at(at.x, at.y, at.z, c4, in_c4); }
    // TFLite SAME max pool: positions past the edge are not part of the window.
    let y1 = min(2u * at.y + 1u, params.in_h - 1u);
    let x1 = min(2u * at.z + 1u, params.in_w - 1u);
    let top = max(input_at(at.x, 2u * at.y, 2u * at.z, c4, in_c4), input_at(at.x, 2u * at.y, x1, c4, in_c4));
    let bottom = max(input_at(at.x, y1, 2u * at.z, c4, in_c4), input_at(at.x, y1, x1, c4, in_c4));
    return max(top, bottom);
}

fn store(pixel: u32, c4: u32, in_c4: u32, sum: vec4<f32>, bias: vec4<f32>, slope: vec4<f32>) {
    let out_c4 = (params.out_c + 3u) / 4u;
    output[pixel * out_c4 + c4] = finish(sum, bias, skip_at(pixel, c4, in_c4), slope, params.activation, c4, params.out_c);
}

fn store_pair(pixel: u32, c4: u32, in_c4: u32, first: vec4<f32>, second: vec4<f32>, bias: mat2x4<f32>, slope: mat2x4<f32>) {
    let pixels = params.batch * params.out_h * params.out_w;
    if (pixel >= pixels) { return; }
    store(pixel, c4, in_c4, first, bias[0], slope[0]);
    if (c4 + 1u < (params.out_c + 3u) / 4u) { store(pixel, c4 + 1u, in_c4, second, bias[1], slope[1]); }
}

@compute @workgroup_size(64)
fn separable_block(@builtin(workgroup_id) group: vec3<u32>,
                   @builtin(local_invocation_index) local: u32,
                   @builtin(num_workgroups) workgroups: vec3<u32>) {
    let pixels = params.batch * params.out_h * params.out_w;
    let tile_pixels = params.tile_pixels;
    let first = (group.x + group.y * workgroups.x) * tile_pixels;
    if (first >= pixels) { return; }                       // uniform across the workgroup
    let in_c4 = (params.in_c + 3u) / 4u;
    let out_c4 = (params.out_c + 3u) / 4u;

    // Phase 1: the depthwise outputs of the tile, every input channel group.
    for (var item = local; item < tile_pixels * in_c4; item += WORKGROUP) {
        let p = item / in_c4;
        let c4 = item % in_c4;
        tile[item] = depthwise_at(min(first + p, pixels - 1u), c4, in_c4);
    }
    workgroupBarrier();

    // Phase 2: 8 pixels x 2 output channel groups per item, in named registers (lavapipe
    // keeps loop-indexed local arrays in memory; see pointwise.wgsl).
    let channel_blocks = (out_c4 + 1u) / 2u;
    let stride = params.weight_c4;
    for (var item = local; item < (tile_pixels / 8u) * channel_blocks; item += WORKGROUP) {
        let c4 = (item % channel_blocks) * 2u;
        let p0 = (item / channel_blocks) * 8u;
        var sum0a = vec4<f32>(0.0); var sum0b = vec4<f32>(0.0);
        var sum1a = vec4<f32>(0.0); var sum1b = vec4<f32>(0.0);
        var sum2a = vec4<f32>(0.0); var sum2b = vec4<f32>(0.0);
        var sum3a = vec4<f32>(0.0); var sum3b = vec4<f32>(0.0);
        var sum4a = vec4<f32>(0.0); var sum4b = vec4<f32>(0.0);
        var sum5a = vec4<f32>(0.0); var sum5b = vec4<f32>(0.0);
        var sum6a = vec4<f32>(0.0); var sum6b = vec4<f32>(0.0);
        var sum7a = vec4<f32>(0.0); var sum7b = vec4<f32>(0.0);
        let row = p0 * in_c4;
        for (var k4 = 0u; k4 < in_c4; k4++) {
            let w = k4 * 4u * stride + c4;
            let w0a = pw_weights[w];               let w0b = pw_weights[w + 1u];
            let w1a = pw_weights[w + stride];      let w1b = pw_weights[w + stride + 1u];
            let w2a = pw_weights[w + 2u * stride]; let w2b = pw_weights[w + 2u * stride + 1u];
            let w3a = pw_weights[w + 3u * stride]; let w3b = pw_weights[w + 3u * stride + 1u];
            let a0 = tile[row + k4];
            sum0a = multiply_add(sum0a, a0, w0a, w1a, w2a, w3a); sum0b = multiply_add(sum0b, a0, w0b, w1b, w2b, w3b);
            let a1 = tile[row + in_c4 + k4];
            sum1a = multiply_add(sum1a, a1, w0a, w1a, w2a, w3a); sum1b = multiply_add(sum1b, a1, w0b, w1b, w2b, w3b);
            let a2 = tile[row + 2u * in_c4 + k4];
            sum2a = multiply_add(sum2a, a2, w0a, w1a, w2a, w3a); sum2b = multiply_add(sum2b, a2, w0b, w1b, w2b, w3b);
            let a3 = tile[row + 3u * in_c4 + k4];
            sum3a = multiply_add(sum3a, a3, w0a, w1a, w2a, w3a); sum3b = multiply_add(sum3b, a3, w0b, w1b, w2b, w3b);
            let a4 = tile[row + 4u * in_c4 + k4];
            sum4a = multiply_add(sum4a, a4, w0a, w1a, w2a, w3a); sum4b = multiply_add(sum4b, a4, w0b, w1b, w2b, w3b);
            let a5 = tile[row + 5u * in_c4 + k4];
            sum5a = multiply_add(sum5a, a5, w0a, w1a, w2a, w3a); sum5b = multiply_add(sum5b, a5, w0b, w1b, w2b, w3b);
            let a6 = tile[row + 6u * in_c4 + k4];
            sum6a = multiply_add(sum6a, a6, w0a, w1a, w2a, w3a); sum6b = multiply_add(sum6b, a6, w0b, w1b, w2b, w3b);
            let a7 = tile[row + 7u * in_c4 + k4];
            sum7a = multiply_add(sum7a, a7, w0a, w1a, w2a, w3a); sum7b = multiply_add(sum7b, a7, w0b, w1b, w2b, w3b);
        }
        // The second group's bias and slope past the last group read padding or slopes;
        // they are never stored.
        let base = slope_base(params.out_c);
        let bias = mat2x4<f32>(channel_params[c4], channel_params[c4 + 1u]);
        let slope = mat2x4<f32>(channel_params[base + c4], channel_params[base + c4 + 1u]);
        let pixel = first + p0;
        store_pair(pixel, c4, in_c4, sum0a, sum0b, bias, slope);
        store_pair(pixel + 1u, c4, in_c4, sum1a, sum1b, bias, slope);
        store_pair(pixel + 2u, c4, in_c4, sum2a, sum2b, bias, slope);
        store_pair(pixel + 3u, c4, in_c4, sum3a, sum3b, bias, slope);
        store_pair(pixel + 4u, c4, in_c4, sum4a, sum4b, bias, slope);
        store_pair(pixel + 5u, c4, in_c4, sum5a, sum5b, bias, slope);
        store_pair(pixel + 6u, c4, in_c4, sum6a, sum6b, bias, slope);
        store_pair(pixel + 7u, c4, in_c4, sum7a, sum7b, bias, slope);
    }
}
