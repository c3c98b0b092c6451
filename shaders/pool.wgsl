// Pooling, NHWC, vec4 over channels.
//   max_pool_2x2         2x2 window, stride 2 (BlazeFace and Face Mesh skip paths). Output
//                        size is given: floor (VALID) or ceil (TFLite SAME, whose padded
//                        positions never win the max) of in / 2.
//   global_average_pool  mean over height and width (MiniFASNet squeeze-excitation).
// Launcher: src/nn/pool.rs; `PoolParams` there has the same field order.

struct PoolParams {
    batch: u32, in_h: u32, in_w: u32, channels: u32,
    out_h: u32, out_w: u32, _padding0: u32, _padding1: u32,
}

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(64)
fn max_pool_2x2(@builtin(global_invocation_id) id: vec3<u32>,
                @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let c4s = (params.channels + 3u) / 4u;
    if (index >= params.batch * params.out_h * params.out_w * c4s) { return; }
    let c4 = index % c4s;
    let pixel = index / c4s;
    let ox = pixel % params.out_w;
    let oy = (pixel / params.out_w) % params.out_h;
    let n = pixel / (params.out_w * params.out_h);
    let y1 = min(2u * oy + 1u, params.in_h - 1u);
    let x1 = min(2u * ox + 1u, params.in_w - 1u);
    let row0 = (n * params.in_h + 2u * oy) * params.in_w;
    let row1 = (n * params.in_h + y1) * params.in_w;
    let top = max(input[(row0 + 2u * ox) * c4s + c4], input[(row0 + x1) * c4s + c4]);
    let bottom = max(input[(row1 + 2u * ox) * c4s + c4], input[(row1 + x1) * c4s + c4]);
    output[index] = max(top, bottom);
}

@compute @workgroup_size(64)
fn global_average_pool(@builtin(global_invocation_id) id: vec3<u32>,
                       @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let c4s = (params.channels + 3u) / 4u;
    if (index >= params.batch * c4s) { return; }
    let c4 = index % c4s;
    let n = index / c4s;
    let area = params.in_h * params.in_w;
    var sum = vec4<f32>(0.0);
    for (var i = 0u; i < area; i++) {
        sum += input[(n * area + i) * c4s + c4];
    }
    output[index] = sum / f32(area);
}
