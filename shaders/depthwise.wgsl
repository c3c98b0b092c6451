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

    var sum: array<vec4<f32>, PIXELS_PER_INVOCATION>;
    for (var ky = 0u; ky < kernel_size; ky++) {
        let iy = i32(oy * params.stride + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.in_h)) { continue; }
        let row_base = (n * params.in_h + u32(iy)) * params.in_w;
        for (var kx = 0u; kx < kernel_size; kx++) {
            let w = weights[(ky * kernel_size + kx) * c4s + c4];
            for (var p = 0u; p < PIXELS_PER_INVOCATION; p++) {
                let ix = i32((ox0 + p) * params.stride + kx) - i32(params.pad_left);
                if (ix >= 0 && ix < i32(params.in_w)) {
                    sum[p] = fma(input[(row_base + u32(ix)) * c4s + c4], w, sum[p]);
                }
            }
        }
    }

    let bias = channel_params[c4];
    let slope = channel_params[slope_base(params.channels) + c4];
    let residual_c4 = (params.residual_c + 3u) / 4u;
    for (var p = 0u; p < PIXELS_PER_INVOCATION; p++) {
        let ox = ox0 + p;
        if (ox >= params.out_w) { break; }
        let pixel = row * params.out_w + ox;
        var skip = vec4<f32>(0.0);
        if (c4 < residual_c4) { skip = residual[pixel * residual_c4 + c4]; }
        output[pixel * c4s + c4] = finish(sum[p], bias, skip, slope, params.activation, c4,
                                          params.channels);
    }
}
