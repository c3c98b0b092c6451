// A whole depthwise-separable residual block in one dispatch: the block of BlazeFace and
// Face Mesh (shared/golden/ARCHITECTURES.md 1.1, 2.1):
//   t    = depthwise_3x3(x, stride, SAME) + dw_bias
//   skip = x, or max_pool_2x2(x) when the stride is 2, zero channels appended to out_c
//   out  = act(pointwise(t) + pw_bias + skip)
// Each workgroup owns TILE_PIXELS output pixels: it computes their depthwise outputs for
// every input channel once into workgroup memory, then the pointwise product from there,
// so t never goes to global memory and the block costs one dispatch instead of two or three.
// Launcher: src/nn/separable.rs; `SeparableParams` there has the same field order.

const TILE_PIXELS: u32 = 32u;
const MAX_IN_C4: u32 = 32u;          // up to 128 input channels (both networks' widest)
const WORKGROUP: u32 = 64u;
const BLOCK: u32 = 8u;             // pixels per phase-2 item (register block)

struct SeparableParams {
    batch: u32, in_h: u32, in_w: u32, in_c: u32,
    out_h: u32, out_w: u32, out_c: u32, stride: u32,
    pad_top: u32, pad_left: u32, activation: u32, weight_c4: u32,
}

@group(0) @binding(0) var<uniform> params: SeparableParams;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
// [9 taps][in channel groups] (depthwise.wgsl's layout)
@group(0) @binding(2) var<storage, read> dw_weights: array<vec4<f32>>;
// [in channel groups]
@group(0) @binding(3) var<storage, read> dw_bias: array<vec4<f32>>;
// [in_c4 * 4 rows][weight_c4] (pointwise.wgsl's layout)
@group(0) @binding(4) var<storage, read> pw_weights: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> channel_params: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> output: array<vec4<f32>>;

var<workgroup> tile: array<vec4<f32>, 1024>;  // [TILE_PIXELS][MAX_IN_C4]: 16 KiB

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
    var sum = dw_bias[c4];
    for (var ky = 0u; ky < 3u; ky++) {
        let iy = i32(at.y * params.stride + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        for (var kx = 0u; kx < 3u; kx++) {
            let ix = i32(at.z * params.stride + kx) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(params.in_w)) { continue; }
            sum = fma(input_at(at.x, u32(iy), u32(ix), c4, in_c4), dw_weights[(ky * 3u + kx) * in_c4 + c4], sum);
        }
    }
    return sum;
}

// The skip path: x at the output pixel, or the max of its 2x2 window for stride 2 (TFLite
// SAME: positions past the edge are not part of the window). Channel groups past the
// input's are the appended zero channels.
fn skip_at(pixel: u32, c4: u32, in_c4: u32) -> vec4<f32> {
    if (c4 >= in_c4) { return vec4<f32>(0.0); }
    let at = position(pixel);
    if (params.stride == 1u) { return input_at(at.x, at.y, at.z, c4, in_c4); }
    let y1 = min(2u * at.y + 1u, params.in_h - 1u);
    let x1 = min(2u * at.z + 1u, params.in_w - 1u);
    let top = max(input_at(at.x, 2u * at.y, 2u * at.z, c4, in_c4), input_at(at.x, 2u * at.y, x1, c4, in_c4));
    let bottom = max(input_at(at.x, y1, 2u * at.z, c4, in_c4), input_at(at.x, y1, x1, c4, in_c4));
    return max(top, bottom);
}

@compute @workgroup_size(64)
fn separable_block(@builtin(workgroup_id) group: vec3<u32>,
                   @builtin(local_invocation_index) local: u32,
                   @builtin(num_workgroups) workgroups: vec3<u32>) {
    let pixels = params.batch * params.out_h * params.out_w;
    let first = (group.x + group.y * workgroups.x) * TILE_PIXELS;
    if (first >= pixels) { return; }                       // uniform across the workgroup
    let in_c4 = (params.in_c + 3u) / 4u;
    let out_c4 = (params.out_c + 3u) / 4u;

    // Phase 1: the depthwise outputs of the tile, every input channel group.
    for (var item = local; item < TILE_PIXELS * in_c4; item += WORKGROUP) {
        let p = item / in_c4;
        let c4 = item % in_c4;
        let pixel = min(first + p, pixels - 1u);
        tile[p * MAX_IN_C4 + c4] = depthwise_at(pixel, c4, in_c4);
    }
    workgroupBarrier();

    // Phase 2: BLOCK pixels x 1 output channel group per item.
    for (var item = local; item < (TILE_PIXELS / BLOCK) * out_c4; item += WORKGROUP) {
        let c4 = item % out_c4;
        let p0 = (item / out_c4) * BLOCK;
        var sum: array<vec4<f32>, BLOCK>;
        for (var k4 = 0u; k4 < in_c4; k4++) {
            let w = k4 * 4u * params.weight_c4 + c4;
            let w0 = pw_weights[w];
            let w1 = pw_weights[w + params.weight_c4];
            let w2 = pw_weights[w + 2u * params.weight_c4];
            let w3 = pw_weights[w + 3u * params.weight_c4];
            for (var p = 0u; p < BLOCK; p++) {
                let a = tile[(p0 + p) * MAX_IN_C4 + k4];
                sum[p] = fma(vec4<f32>(a.x), w0, fma(vec4<f32>(a.y), w1,
                         fma(vec4<f32>(a.z), w2, fma(vec4<f32>(a.w), w3, sum[p]))));
            }
        }
        let bias = channel_params[c4];
        let slope = channel_params[slope_base(params.out_c) + c4];
        for (var p = 0u; p < BLOCK; p++) {
            let pixel = first + p0 + p;
            if (pixel < pixels) {
                output[pixel * out_c4 + c4] = finish(sum[p], bias, skip_at(pixel, c4, in_c4), slope,
                                                     params.activation, c4, params.out_c);
            }
        }
    }
}
