// Fully connected layers and softmax.
//   dense    out[n][o] = act(sum_i in[n][i] * weights[i][o] + bias[o]); the input is the
//            NHWC tensor flattened in (h, w, padded c) order, so a VALID convolution that
//            covers its whole input (Face Mesh's 3x3 output convs) is a dense layer too.
//   softmax  over the channels of each pixel (MiniFASNet's 3 classes).
// Launcher: src/nn/dense.rs; `DenseParams` there has the same field order.

struct DenseParams {
    batch: u32,
    in_c4: u32,          // flattened input length / 4
    out_c: u32,
    out_c4: u32,
    weight_c4: u32,      // weight row stride in vec4
    activation: u32,
    _padding0: u32, _padding1: u32,
}

@group(0) @binding(0) var<uniform> params: DenseParams;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
// [in_c4 * 4 rows][weight_c4], the layout of pointwise.wgsl.
@group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> channel_params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(64)
fn dense(@builtin(global_invocation_id) id: vec3<u32>,
         @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    if (index >= params.batch * params.out_c4) { return; }
    let c4 = index % params.out_c4;
    let n = index / params.out_c4;
    var sum = vec4<f32>(0.0);
    for (var k4 = 0u; k4 < params.in_c4; k4++) {
        let x = input[n * params.in_c4 + k4];
        let w = k4 * 4u * params.weight_c4 + c4;
        sum = fma(vec4<f32>(x.x), weights[w], fma(vec4<f32>(x.y), weights[w + params.weight_c4],
              fma(vec4<f32>(x.z), weights[w + 2u * params.weight_c4],
              fma(vec4<f32>(x.w), weights[w + 3u * params.weight_c4], sum))));
    }
    let slope = channel_params[slope_base(params.out_c) + c4];
    output[index] = finish(sum, channel_params[c4], vec4<f32>(0.0), slope, params.activation, c4,
                           params.out_c);
}

// Softmax over the out_c channels of each of `batch` rows (one invocation per row).
@compute @workgroup_size(64)
fn softmax(@builtin(global_invocation_id) id: vec3<u32>,
           @builtin(num_workgroups) workgroups: vec3<u32>) {
    let row = linear_index(id, workgroups);
    if (row >= params.batch) { return; }
    let base = row * params.out_c4;
    var largest = -3.4028235e38;
    for (var c = 0u; c < params.out_c; c++) {
        largest = max(largest, input[base + c / 4u][c % 4u]);
    }
    var total = 0.0;
    for (var c4 = 0u; c4 < params.out_c4; c4++) {
        let e = mask_channels(exp(input[base + c4] - vec4<f32>(largest)), c4, params.out_c);
        total += e.x + e.y + e.z + e.w;
    }
    for (var c4 = 0u; c4 < params.out_c4; c4++) {
        let e = mask_channels(exp(input[base + c4] - vec4<f32>(largest)), c4, params.out_c);
        output[base + c4] = e / total;
    }
}
