// Per-element and per-channel operations, NHWC, vec4 over channels.
//   add            out = act(a + b), a and b of the same shape.
//   channel_pad    out = a with zero channels appended (TFLite PAD on BlazeFace's skip path).
//   channel_scale  out = a * scale[n][c] (+ residual): squeeze-excitation's multiply,
//                  with MiniFASNet's residual add fused.
// Launcher: src/nn/elementwise.rs; `ElementwiseParams` there has the same field order.

struct ElementwiseParams {
    pixels: u32,        // batch * height * width of the output
    channels: u32,      // output channels
    in_c: u32,          // channels of `a`
    activation: u32,
    pixels_per_batch: u32,
    has_residual: u32,
    _padding0: u32, _padding1: u32,
}

@group(0) @binding(0) var<uniform> params: ElementwiseParams;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
// add: the second operand; channel_scale: the scales, [batch][channel groups].
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> channel_params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) id: vec3<u32>,
       @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let c4s = (params.channels + 3u) / 4u;
    if (index >= params.pixels * c4s) { return; }
    let c4 = index % c4s;
    let slope = channel_params[slope_base(params.channels) + c4];
    output[index] = finish(a[index], vec4<f32>(0.0), b[index], slope, params.activation, c4,
                           params.channels);
}

@compute @workgroup_size(64)
fn channel_pad(@builtin(global_invocation_id) id: vec3<u32>,
               @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let c4s = (params.channels + 3u) / 4u;
    if (index >= params.pixels * c4s) { return; }
    let c4 = index % c4s;
    let pixel = index / c4s;
    let in_c4s = (params.in_c + 3u) / 4u;
    var value = vec4<f32>(0.0);
    if (c4 < in_c4s) { value = a[pixel * in_c4s + c4]; }   // lanes past in_c are stored 0
    output[index] = value;
}

@compute @workgroup_size(64)
fn channel_scale(@builtin(global_invocation_id) id: vec3<u32>,
                 @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let c4s = (params.channels + 3u) / 4u;
    if (index >= params.pixels * c4s) { return; }
    let c4 = index % c4s;
    let n = (index / c4s) / params.pixels_per_batch;
    var value = a[index] * b[n * c4s + c4];
    if (params.has_residual != 0u) { value += residual[index]; }
    output[index] = value;
}
