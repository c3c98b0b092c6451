// General 2D convolution, NHWC: any kernel size, stride and explicit padding.
//   conv2d_dense    groups = 1 (the networks' stems): 4 neighbouring output pixels x 4
//                   output channels per invocation, vec4 loads of input and weights.
//   conv2d_grouped  any group count, one output vec4 per invocation, scalar loads.
// 1x1 goes to pointwise.wgsl, depthwise 3x3 / 5x5 to depthwise.wgsl.
// Launcher: src/nn/conv.rs; `ConvParams` there has the same field order.

struct ConvParams {
    batch: u32, in_h: u32, in_w: u32, in_c: u32,
    out_h: u32, out_w: u32, out_c: u32, kernel_h: u32,
    kernel_w: u32, stride_h: u32, stride_w: u32, pad_top: u32,
    pad_left: u32, groups: u32, activation: u32, residual_c: u32,
}

@group(0) @binding(0) var<uniform> params: ConvParams;
// NHWC, channel stride 4 * ceil(in_c / 4), read per channel.
@group(0) @binding(1) var<storage, read> input: array<f32>;
// [out_c][kernel_h][kernel_w][in_c / groups] (OHWI within each group).
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> channel_params: array<vec4<f32>>;
// Same pixels as the output, residual_c channels (0 = no residual); missing channels add 0.
@group(0) @binding(4) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> output: array<vec4<f32>>;
// conv2d_dense's views: the input as channel groups, and weights as
// [kernel_h * kernel_w taps][in_c4 * 4 input channels][out_c4] vec4 (HWIO, padded).
@group(0) @binding(6) var<storage, read> input_groups: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> weights_hwio: array<vec4<f32>>;

fn conv_sum(n: u32, oy: u32, ox: u32, co: u32) -> f32 {
    let in_stride = ((params.in_c + 3u) / 4u) * 4u;
    let in_per_group = params.in_c / params.groups;
    let out_per_group = params.out_c / params.groups;
    let first_in = (co / out_per_group) * in_per_group;
    var sum = 0.0;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
        let iy = i32(oy * params.stride_h + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        for (var kx = 0u; kx < params.kernel_w; kx++) {
            let ix = i32(ox * params.stride_w + kx) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(params.in_w)) { continue; }
            let in_base = ((n * params.in_h + u32(iy)) * params.in_w + u32(ix)) * in_stride + first_in;
            let w_base = ((co * params.kernel_h + ky) * params.kernel_w + kx) * in_per_group;
            for (var ci = 0u; ci < in_per_group; ci++) {
                sum = fma(input[in_base + ci], weights[w_base + ci], sum);
            }
        }
    }
    return sum;
}

@compute @workgroup_size(64)
fn conv2d_grouped(@builtin(global_invocation_id) id: vec3<u32>,
          @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let out_c4 = (params.out_c + 3u) / 4u;
    if (index >= params.batch * params.out_h * params.out_w * out_c4) { return; }
    let c4 = index % out_c4;
    let pixel = index / out_c4;
    let ox = pixel % params.out_w;
    let oy = (pixel / params.out_w) % params.out_h;
    let n = pixel / (params.out_w * params.out_h);

    var sum = vec4<f32>(0.0);
    for (var lane = 0u; lane < 4u; lane++) {
        let co = c4 * 4u + lane;
        if (co < params.out_c) { sum[lane] = conv_sum(n, oy, ox, co); }
    }
    let residual_c4 = (params.residual_c + 3u) / 4u;
    var skip = vec4<f32>(0.0);
    if (c4 < residual_c4) { skip = residual[pixel * residual_c4 + c4]; }
    let base = slope_base(params.out_c);
    output[index] = finish(sum, channel_params[c4], skip, channel_params[base + c4],
                           params.activation, c4, params.out_c);
}

const DENSE_PIXELS: u32 = 4u;

@compute @workgroup_size(64)
fn conv2d_dense(@builtin(global_invocation_id) id: vec3<u32>,
                @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let out_c4 = (params.out_c + 3u) / 4u;
    let in_c4 = (params.in_c + 3u) / 4u;
    let column_groups = (params.out_w + DENSE_PIXELS - 1u) / DENSE_PIXELS;
    if (index >= params.batch * params.out_h * column_groups * out_c4) { return; }
    let c4 = index % out_c4;
    let column_group = (index / out_c4) % column_groups;
    let row = index / (out_c4 * column_groups);
    let oy = row % params.out_h;
    let n = row / params.out_h;
    let ox0 = column_group * DENSE_PIXELS;

    var sum: array<vec4<f32>, DENSE_PIXELS>;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
        let iy = i32(oy * params.stride_h + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        let row_base = (n * params.in_h + u32(iy)) * params.in_w;
        for (var kx = 0u; kx < params.kernel_w; kx++) {
            let tap = (ky * params.kernel_w + kx) * in_c4 * 4u;
            for (var k4 = 0u; k4 < in_c4; k4++) {
                let w = (tap + k4 * 4u) * out_c4 + c4;
                let w0 = weights_hwio[w];
                let w1 = weights_hwio[w + out_c4];
                let w2 = weights_hwio[w + 2u * out_c4];
                let w3 = weights_hwio[w + 3u * out_c4];
                for (var p = 0u; p < DENSE_PIXELS; p++) {
                    let ix = i32((ox0 + p) * params.stride_w + kx) - i32(params.pad_left);
                    if (ix >= 0 && ix < i32(params.in_w)) {
                        let a = input_groups[(row_base + u32(ix)) * in_c4 + k4];
                        sum[p] = fma(vec4<f32>(a.x), w0, fma(vec4<f32>(a.y), w1,
                                 fma(vec4<f32>(a.z), w2, fma(vec4<f32>(a.w), w3, sum[p]))));
                    }
                }
            }
        }
    }
    let bias = channel_params[c4];
    let slope = channel_params[slope_base(params.out_c) + c4];
    let residual_c4 = (params.residual_c + 3u) / 4u;
    for (var p = 0u; p < DENSE_PIXELS; p++) {
        let ox = ox0 + p;
        if (ox >= params.out_w) { break; }
        let pixel = row * params.out_w + ox;
        var skip = vec4<f32>(0.0);
        if (c4 < residual_c4) { skip = residual[pixel * residual_c4 + c4]; }
        output[pixel * out_c4 + c4] = finish(sum[p], bias, skip, slope, params.activation, c4, params.out_c);
    }
}

// conv2d_dense with every output channel group of 4 neighbouring pixels in one invocation
// (up to WIDE_C4 groups = 32 channels): each input value is loaded once for all outputs.
// The stems of all three networks fit (24, 16, 32 channels); chosen on CPU adapters, where
// the 4 x 8 accumulators are plain memory (src/nn/conv.rs).
const WIDE_C4: u32 = 8u;

@compute @workgroup_size(64)
fn conv2d_dense_wide(@builtin(global_invocation_id) id: vec3<u32>,
                     @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let out_c4 = (params.out_c + 3u) / 4u;
    let in_c4 = (params.in_c + 3u) / 4u;
    let column_groups = (params.out_w + DENSE_PIXELS - 1u) / DENSE_PIXELS;
    if (index >= params.batch * params.out_h * column_groups) { return; }
    let column_group = index % column_groups;
    let row = index / column_groups;
    let oy = row % params.out_h;
    let n = row / params.out_h;
    let ox0 = column_group * DENSE_PIXELS;

    var sum: array<vec4<f32>, 32>;      // [pixel][channel group], DENSE_PIXELS x WIDE_C4
    for (var ky = 0u; ky < params.kernel_h; ky++) {
        let iy = i32(oy * params.stride_h + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        let row_base = (n * params.in_h + u32(iy)) * params.in_w;
        for (var kx = 0u; kx < params.kernel_w; kx++) {
            let tap = (ky * params.kernel_w + kx) * in_c4 * 4u;
            for (var k4 = 0u; k4 < in_c4; k4++) {
                var a: array<vec4<f32>, DENSE_PIXELS>;
                for (var p = 0u; p < DENSE_PIXELS; p++) {
                    let ix = i32((ox0 + p) * params.stride_w + kx) - i32(params.pad_left);
                    if (ix >= 0 && ix < i32(params.in_w)) {
                        a[p] = input_groups[(row_base + u32(ix)) * in_c4 + k4];
                    }
                }
                let w = (tap + k4 * 4u) * out_c4;
                for (var c4 = 0u; c4 < out_c4; c4++) {
                    let w0 = weights_hwio[w + c4];
                    let w1 = weights_hwio[w + out_c4 + c4];
                    let w2 = weights_hwio[w + 2u * out_c4 + c4];
                    let w3 = weights_hwio[w + 3u * out_c4 + c4];
                    for (var p = 0u; p < DENSE_PIXELS; p++) {
                        let s = p * WIDE_C4 + c4;
                        sum[s] = fma(vec4<f32>(a[p].x), w0, fma(vec4<f32>(a[p].y), w1,
                                 fma(vec4<f32>(a[p].z), w2, fma(vec4<f32>(a[p].w), w3, sum[s]))));
                    }
                }
            }
        }
    }
    let base = slope_base(params.out_c);
    let residual_c4 = (params.residual_c + 3u) / 4u;
    for (var p = 0u; p < DENSE_PIXELS; p++) {
        let ox = ox0 + p;
        if (ox >= params.out_w) { break; }
        let pixel = row * params.out_w + ox;
        for (var c4 = 0u; c4 < out_c4; c4++) {
            var skip = vec4<f32>(0.0);
            if (c4 < residual_c4) { skip = residual[pixel * residual_c4 + c4]; }
            output[pixel * out_c4 + c4] = finish(sum[p * WIDE_C4 + c4], channel_params[c4], skip,
                                                 channel_params[base + c4], params.activation, c4, params.out_c);
        }
    }
}
