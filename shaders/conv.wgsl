// General 2D convolution, NHWC: any kernel size, stride and explicit padding.
//   conv2d_dense    groups = 1 (the networks' stems): 4 neighbouring output pixels x 4
//                   output channels per invocation, vec4 loads of input and weights.
//   conv2d_dense_wide, conv2d_stem   the same for CPU adapters (below).
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

// conv2d_dense for CPU adapters: 4 neighbouring output pixels x 4 output channel groups
// per invocation in 16 named accumulators (no local arrays: lavapipe gathers every access
// to a loop-indexed local array per lane; see pointwise.wgsl). Each input vec4 is loaded
// once for 16 output channels, each weight vec4 once for 4 pixels.
@compute @workgroup_size(64)
fn conv2d_dense_wide(@builtin(global_invocation_id) id: vec3<u32>,
                     @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let out_c4 = (params.out_c + 3u) / 4u;
    let in_c4 = (params.in_c + 3u) / 4u;
    let channel_blocks = (out_c4 + 3u) / 4u;
    let column_groups = (params.out_w + DENSE_PIXELS - 1u) / DENSE_PIXELS;
    if (index >= params.batch * params.out_h * column_groups * channel_blocks) { return; }
    let c4 = (index % channel_blocks) * 4u;
    let column_group = (index / channel_blocks) % column_groups;
    let row = index / (channel_blocks * column_groups);
    let oy = row % params.out_h;
    let n = row / params.out_h;
    let ox0 = column_group * DENSE_PIXELS;

    // sum<pixel><channel group>
    var sum00 = vec4<f32>(0.0); var sum01 = vec4<f32>(0.0); var sum02 = vec4<f32>(0.0); var sum03 = vec4<f32>(0.0);
    var sum10 = vec4<f32>(0.0); var sum11 = vec4<f32>(0.0); var sum12 = vec4<f32>(0.0); var sum13 = vec4<f32>(0.0);
    var sum20 = vec4<f32>(0.0); var sum21 = vec4<f32>(0.0); var sum22 = vec4<f32>(0.0); var sum23 = vec4<f32>(0.0);
    var sum30 = vec4<f32>(0.0); var sum31 = vec4<f32>(0.0); var sum32 = vec4<f32>(0.0); var sum33 = vec4<f32>(0.0);
    let step = i32(params.stride_w);
    for (var ky = 0u; ky < params.kernel_h; ky++) {
        let iy = i32(oy * params.stride_h + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        let row_base = (n * params.in_h + u32(iy)) * params.in_w;
        for (var kx = 0u; kx < params.kernel_w; kx++) {
            let tap = (ky * params.kernel_w + kx) * in_c4 * 4u;
            let ix = i32(ox0 * params.stride_w + kx) - i32(params.pad_left);
            for (var k4 = 0u; k4 < in_c4; k4++) {
                let a0 = dense_input(row_base, ix, in_c4, k4);
                let a1 = dense_input(row_base, ix + step, in_c4, k4);
                let a2 = dense_input(row_base, ix + 2 * step, in_c4, k4);
                let a3 = dense_input(row_base, ix + 3 * step, in_c4, k4);
                // Columns past out_c4 read the next weight row (or nothing, past the end);
                // their sums are never stored.
                let w = (tap + k4 * 4u) * out_c4 + c4;
                let s = out_c4;
                let w00 = weights_hwio[w];      let w01 = weights_hwio[w + 1u];
                let w02 = weights_hwio[w + 2u]; let w03 = weights_hwio[w + 3u];
                let w10 = weights_hwio[w + s];      let w11 = weights_hwio[w + s + 1u];
                let w12 = weights_hwio[w + s + 2u]; let w13 = weights_hwio[w + s + 3u];
                let w20 = weights_hwio[w + 2u * s];      let w21 = weights_hwio[w + 2u * s + 1u];
                let w22 = weights_hwio[w + 2u * s + 2u]; let w23 = weights_hwio[w + 2u * s + 3u];
                let w30 = weights_hwio[w + 3u * s];      let w31 = weights_hwio[w + 3u * s + 1u];
                let w32 = weights_hwio[w + 3u * s + 2u]; let w33 = weights_hwio[w + 3u * s + 3u];
                sum00 = multiply_add(sum00, a0, w00, w10, w20, w30); sum01 = multiply_add(sum01, a0, w01, w11, w21, w31);
                sum02 = multiply_add(sum02, a0, w02, w12, w22, w32); sum03 = multiply_add(sum03, a0, w03, w13, w23, w33);
                sum10 = multiply_add(sum10, a1, w00, w10, w20, w30); sum11 = multiply_add(sum11, a1, w01, w11, w21, w31);
                sum12 = multiply_add(sum12, a1, w02, w12, w22, w32); sum13 = multiply_add(sum13, a1, w03, w13, w23, w33);
                sum20 = multiply_add(sum20, a2, w00, w10, w20, w30); sum21 = multiply_add(sum21, a2, w01, w11, w21, w31);
                sum22 = multiply_add(sum22, a2, w02, w12, w22, w32); sum23 = multiply_add(sum23, a2, w03, w13, w23, w33);
                sum30 = multiply_add(sum30, a3, w00, w10, w20, w30); sum31 = multiply_add(sum31, a3, w01, w11, w21, w31);
                sum32 = multiply_add(sum32, a3, w02, w12, w22, w32); sum33 = multiply_add(sum33, a3, w03, w13, w23, w33);
            }
        }
    }
    let pixel = row * params.out_w + ox0;
    dense_store(pixel, ox0, c4, sum00, sum01, sum02, sum03);
    dense_store(pixel + 1u, ox0 + 1u, c4, sum10, sum11, sum12, sum13);
    dense_store(pixel + 2u, ox0 + 2u, c4, sum20, sum21, sum22, sum23);
    dense_store(pixel + 3u, ox0 + 3u, c4, sum30, sum31, sum32, sum33);
}

// One input channel group at column `ix` of an input row; zero in the padding.
fn dense_input(row_base: u32, ix: i32, in_c4: u32, k4: u32) -> vec4<f32> {
    if (ix < 0 || ix >= i32(params.in_w)) { return vec4<f32>(0.0); }
    return input_groups[(row_base + u32(ix)) * in_c4 + k4];
}

fn dense_store_group(pixel: u32, c4: u32, sum: vec4<f32>) {
    let out_c4 = (params.out_c + 3u) / 4u;
    if (c4 >= out_c4) { return; }
    let residual_c4 = (params.residual_c + 3u) / 4u;
    var skip = vec4<f32>(0.0);
    if (c4 < residual_c4) { skip = residual[pixel * residual_c4 + c4]; }
    output[pixel * out_c4 + c4] = finish(sum, channel_params[c4], skip,
                                         channel_params[slope_base(params.out_c) + c4], params.activation, c4, params.out_c);
}

fn dense_store(pixel: u32, ox: u32, c4: u32, s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>) {
    if (ox >= params.out_w) { return; }
    dense_store_group(pixel, c4, s0);
    dense_store_group(pixel, c4 + 1u, s1);
    dense_store_group(pixel, c4 + 2u, s2);
    dense_store_group(pixel, c4 + 3u, s3);
}

// conv2d_stem: the networks' stems (at most 4 input channels, 4-8 output channel groups)
// on CPU adapters, specialised per stem through the override constants below. With the tap
// loops' bounds and the weight row stride constant, every weight offset is a constant once
// the loops unroll, and lavapipe then loads each weight vec4 once for all lanes instead of
// lane by lane with bounds checks (its broadcast path takes constant offsets only). Each
// invocation computes 4 neighbouring pixels x every output channel group, each pixel's
// groups the columns of two matrices. Measured in the same run: BlazeFace's stem 1.86 ->
// 1.21 ms (BENCHMARKS.md).
override stem_kernel: u32 = 3u;   // square kernel size
override stem_out_c4: u32 = 8u;   // output channel groups, 5-8 use the second matrix

// Four output channel groups of one weight row (groups past the row read the next one, or
// nothing past the end; their sums are never stored).
fn stem_weights(at: u32) -> mat4x4<f32> {
    return mat4x4<f32>(weights_hwio[at], weights_hwio[at + 1u], weights_hwio[at + 2u], weights_hwio[at + 3u]);
}

@compute @workgroup_size(64)
fn conv2d_stem(@builtin(global_invocation_id) id: vec3<u32>,
               @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let column_groups = (params.out_w + DENSE_PIXELS - 1u) / DENSE_PIXELS;
    if (index >= params.batch * params.out_h * column_groups) { return; }
    let column_group = index % column_groups;
    let row = index / column_groups;
    let oy = row % params.out_h;
    let n = row / params.out_h;
    let ox0 = column_group * DENSE_PIXELS;

    // Channel groups 0-3 (low) and 4-7 (high) of the 4 pixels.
    var low0 = mat4x4<f32>(); var low1 = mat4x4<f32>(); var low2 = mat4x4<f32>(); var low3 = mat4x4<f32>();
    var high0 = mat4x4<f32>(); var high1 = mat4x4<f32>(); var high2 = mat4x4<f32>(); var high3 = mat4x4<f32>();
    let step = i32(params.stride_w);
    for (var ky = 0u; ky < stem_kernel; ky++) {
        let iy = i32(oy * params.stride_h + ky) - i32(params.pad_top);
        let row_inside = iy >= 0 && iy < i32(params.in_h);
        let row_base = (n * params.in_h + u32(clamp(iy, 0, i32(params.in_h) - 1))) * params.in_w;
        for (var kx = 0u; kx < stem_kernel; kx++) {
            let ix = i32(ox0 * params.stride_w + kx) - i32(params.pad_left);
            let a0 = select(vec4<f32>(0.0), dense_input(row_base, ix, 1u, 0u), row_inside);
            let a1 = select(vec4<f32>(0.0), dense_input(row_base, ix + step, 1u, 0u), row_inside);
            let a2 = select(vec4<f32>(0.0), dense_input(row_base, ix + 2 * step, 1u, 0u), row_inside);
            let a3 = select(vec4<f32>(0.0), dense_input(row_base, ix + 3 * step, 1u, 0u), row_inside);
            // HWIO rows of this tap: 4 input channels, stem_out_c4 groups each.
            let w = (ky * stem_kernel + kx) * 4u * stem_out_c4;
            let w0 = stem_weights(w);
            let w1 = stem_weights(w + stem_out_c4);
            let w2 = stem_weights(w + 2u * stem_out_c4);
            let w3 = stem_weights(w + 3u * stem_out_c4);
            low0 = multiply_add4(low0, a0, w0, w1, w2, w3);
            low1 = multiply_add4(low1, a1, w0, w1, w2, w3);
            low2 = multiply_add4(low2, a2, w0, w1, w2, w3);
            low3 = multiply_add4(low3, a3, w0, w1, w2, w3);
            if (stem_out_c4 > 4u) {
                let v0 = stem_weights(w + 4u);
                let v1 = stem_weights(w + stem_out_c4 + 4u);
                let v2 = stem_weights(w + 2u * stem_out_c4 + 4u);
                let v3 = stem_weights(w + 3u * stem_out_c4 + 4u);
                high0 = multiply_add4(high0, a0, v0, v1, v2, v3);
                high1 = multiply_add4(high1, a1, v0, v1, v2, v3);
                high2 = multiply_add4(high2, a2, v0, v1, v2, v3);
                high3 = multiply_add4(high3, a3, v0, v1, v2, v3);
            }
        }
    }
    let pixel = row * params.out_w + ox0;
    dense_store(pixel, ox0, 0u, low0[0], low0[1], low0[2], low0[3]);
    dense_store(pixel + 1u, ox0 + 1u, 0u, low1[0], low1[1], low1[2], low1[3]);
    dense_store(pixel + 2u, ox0 + 2u, 0u, low2[0], low2[1], low2[2], low2[3]);
    dense_store(pixel + 3u, ox0 + 3u, 0u, low3[0], low3[1], low3[2], low3[3]);
    if (stem_out_c4 > 4u) {
        dense_store(pixel, ox0, 4u, high0[0], high0[1], high0[2], high0[3]);
        dense_store(pixel + 1u, ox0 + 1u, 4u, high1[0], high1[1], high1[2], high1[3]);
        dense_store(pixel + 2u, ox0 + 2u, 4u, high2[0], high2[1], high2[2], high2[3]);
        dense_store(pixel + 3u, ox0 + 3u, 4u, high3[0], high3[1], high3[2], high3[3]);
    }
}
