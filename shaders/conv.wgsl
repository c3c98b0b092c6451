// General 2D convolution, NHWC: any kernel size, stride, explicit padding and group count.
// Used where no specialised kernel applies (the networks' stems and output convolutions;
// 1x1 goes to pointwise.wgsl, depthwise 3x3 / 5x5 to depthwise.wgsl).
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
fn conv2d(@builtin(global_invocation_id) id: vec3<u32>,
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
