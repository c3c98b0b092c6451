// Frame bytes -> network input tensors, with OpenCV's fixed-point uint8 resamplers
// re-stated bit for bit (shared/golden/scripts/cv_interp_u8.py; README section 7.2):
//   warp_affine_u8    cv2.warpPerspective INTER_LINEAR of an affine map: source positions
//                     rounded half-to-even to 1/32 px, weights (32-ty|ty)*(32-tx|tx)*32,
//                     (sum + 2^14) >> 15; border zero (BlazeFace letterbox) or replicate
//                     (Face Mesh). The inverse map comes from a GPU buffer.
//   resize_linear_u8  cv2.resize INTER_LINEAR of an inclusive crop rectangle read from a GPU
//                     buffer: 11-bit coefficients, int32 horizontal pass, vertical pass
//                     ((((S0>>4)*b0)>>16) + (((S1>>4)*b1)>>16) + 2) >> 2 (MiniFASNet crops).
// The frame is the caller's bytes as uploaded, read through shaders/frame.wgsl (prepended); the
// u8 -> float conversion goes through a 256-entry table built on the CPU with the reference
// pipeline's exact float arithmetic (no FMA contraction can change a value).
// Launcher: src/engine/resample.rs; `WarpParams` there has the same field order.

struct WarpParams {
    frame_w: u32, frame_h: u32, frame_stride: u32, frame_format: u32,
    out_w: u32, out_h: u32, replicate: u32, bgr: u32,
    transform: u32,      // index of the 8-float transform (warp) or 8-int crop (resize) record
    // A batch of `batch` outputs, one per face: output n reads record
    // transform + n * record_stride (the other faces' crops; 1 and 0 for one output).
    batch: u32, record_stride: u32, _padding: u32,
}

@group(0) @binding(0) var<uniform> params: WarpParams;
@group(0) @binding(1) var<storage, read> frame: array<u32>;
// warp: per record [m00, m01, m02, m10, m11, m12, valid, 0], tensor (x, y) -> image (X, Y)
@group(0) @binding(2) var<storage, read> transforms: array<f32>;
@group(0) @binding(3) var<storage, read> to_float: array<f32, 256>;
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;
// resize: per record [left, top, right, bottom (inclusive), valid, 0, 0, 0]
@group(0) @binding(5) var<storage, read> crops: array<i32>;

fn store(index: u32, rgb: vec3<i32>) {
    let c = select(rgb, rgb.zyx, params.bgr != 0u);
    output[index] = vec4<f32>(to_float[c.x], to_float[c.y], to_float[c.z], 0.0);
}

@compute @workgroup_size(64)
fn warp_affine_u8(@builtin(global_invocation_id) id: vec3<u32>,
                  @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let per_output = params.out_w * params.out_h;
    if (index >= per_output * params.batch) { return; }
    let t = (params.transform + (index / per_output) * params.record_stride) * 8u;
    if (transforms[t + 6u] == 0.0) {            // no face: the network sees zeros
        output[index] = vec4<f32>(0.0);
        return;
    }
    let pixel = index % per_output;
    let x = f32(pixel % params.out_w);
    let y = f32(pixel / params.out_w);
    // cv::warpPerspective: X0 = M01*y + M02, then (X0 + M00*x) * 32, rounded.
    let fx = (transforms[t + 1u] * y + transforms[t + 2u] + transforms[t] * x) * 32.0;
    let fy = (transforms[t + 4u] * y + transforms[t + 5u] + transforms[t + 3u] * x) * 32.0;
    let big = 2147483520.0;
    sample_bilinear(index, i32(round(clamp(fx, -big, big))), i32(round(clamp(fy, -big, big))));
}

// warpPerspective's interpolation at a source position in 1/32 pixels: 15-bit weights
// (32-ty|ty)*(32-tx|tx)*32, (sum + 2^14) >> 15, zero or replicated border.
fn sample_bilinear(index: u32, px: i32, py: i32) {
    let sx = px >> 5u;
    let sy = py >> 5u;
    let tx = px & 31;
    let ty = py & 31;
    let w = i32(params.frame_w);
    let h = i32(params.frame_h);
    var sum = vec3<i32>(0);
    for (var dy = 0; dy < 2; dy++) {
        let wy = select(32 - ty, ty, dy == 1);
        let yy = sy + dy;
        for (var dx = 0; dx < 2; dx++) {
            let wx = select(32 - tx, tx, dx == 1);
            let xx = sx + dx;
            let inside = yy >= 0 && yy < h && xx >= 0 && xx < w;
            if (inside || params.replicate != 0u) {
                let v = frame_rgb(u32(clamp(xx, 0, w - 1)), u32(clamp(yy, 0, h - 1)));
                sum += v * (wy * wx * 32);
            }
        }
    }
    store(index, clamp((sum + vec3<i32>(1 << 14u)) >> vec3<u32>(15u), vec3<i32>(0), vec3<i32>(255)));
}

// One axis of cv2.resize's coefficients for destination index d: (source index, a0, a1).
fn resize_axis(d: u32, src: u32, dst: u32) -> vec3<i32> {
    // float32((d + 0.5) * src / dst - 0.5), computed as one correctly rounded division of
    // exact integers (the double expression OpenCV evaluates rounds to the same float).
    var f = f32(i32((2u * d + 1u) * src) - i32(dst)) / f32(2u * dst);
    var s = i32(floor(f));
    f = f - f32(s);
    if (s < 0) { f = 0.0; s = 0; }
    if (s >= i32(src) - 1) { f = 0.0; s = i32(src) - 1; }
    return vec3<i32>(s, i32(round((1.0 - f) * 2048.0)), i32(round(f * 2048.0)));
}

@compute @workgroup_size(64)
fn resize_linear_u8(@builtin(global_invocation_id) id: vec3<u32>,
                    @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    let per_output = params.out_w * params.out_h;
    if (index >= per_output * params.batch) { return; }
    let c = (params.transform + (index / per_output) * params.record_stride) * 8u;
    if (crops[c + 4u] == 0) {
        output[index] = vec4<f32>(0.0);
        return;
    }
    let left = u32(crops[c]);
    let top = u32(crops[c + 1u]);
    let src_w = u32(crops[c + 2u]) - left + 1u;
    let src_h = u32(crops[c + 3u]) - top + 1u;
    let pixel = index % per_output;
    let xs = resize_axis(pixel % params.out_w, src_w, params.out_w);
    let ys = resize_axis(pixel / params.out_w, src_h, params.out_h);
    let x0 = left + u32(xs.x);
    let x1 = left + min(u32(xs.x) + 1u, src_w - 1u);
    let y0 = top + u32(ys.x);
    let y1 = top + min(u32(ys.x) + 1u, src_h - 1u);
    let row0 = frame_rgb(x0, y0) * xs.y + frame_rgb(x1, y0) * xs.z;
    let row1 = frame_rgb(x0, y1) * xs.y + frame_rgb(x1, y1) * xs.z;
    let v = (((row0 >> vec3<u32>(4u)) * ys.y) >> vec3<u32>(16u)) + (((row1 >> vec3<u32>(4u)) * ys.z) >> vec3<u32>(16u));
    store(index, clamp((v + vec3<i32>(2)) >> vec3<u32>(2u), vec3<i32>(0), vec3<i32>(255)));
}

// ---------------------------------------------------------------- face image quality
// Light and focus of the best face, for the session's quality gates (src/liveness/quality.rs),
// so no pixel has to leave the GPU: one workgroup samples the face box (its inner 70 %) on a
// 32 x 32 grid and a 32 x 32 grid over the box enlarged 1.8x outside the face.
//   brightness  mean luma (BT.601 weights, 0..255) of the face
//   contrast    standard deviation of that luma
//   sharpness   standard deviation of a Laplacian taken at 1/64 of the box width, over the
//               contrast: scale and exposure free, low when the face is out of focus
//   background  mean luma around the face (backlight: much brighter than the face)
@group(0) @binding(8) var<storage, read> quality_detections: array<f32>;   // detect.wgsl layout
// [brightness, contrast, sharpness, background, valid, 0, 0, 0] (`Quality` in
// src/engine/readback.rs)
@group(0) @binding(9) var<storage, read_write> quality: array<f32>;

const QUALITY_GRID: u32 = 32u;
var<workgroup> partial: array<vec4<f32>, 256>;
var<workgroup> partial_background: array<vec2<f32>, 256>;

fn luma(x: i32, y: i32) -> f32 {
    let c = frame_rgb(u32(clamp(x, 0, i32(params.frame_w) - 1)), u32(clamp(y, 0, i32(params.frame_h) - 1)));
    return (299.0 * f32(c.x) + 587.0 * f32(c.y) + 114.0 * f32(c.z)) / 1000.0;
}

@compute @workgroup_size(256)
fn face_quality(@builtin(local_invocation_index) local: u32) {
    let valid = quality_detections[0] >= 1.0;
    let w = f32(params.frame_w);
    let h = f32(params.frame_h);
    let box = vec4<f32>(quality_detections[5] * w, quality_detections[6] * h,
                        (quality_detections[5] + quality_detections[7]) * w,
                        (quality_detections[6] + quality_detections[8]) * h);
    let size = box.zw - box.xy;
    let step = i32(max(1.0, round(size.x / 64.0)));
    var sums = vec4<f32>(0.0);          // luma, luma^2, laplacian, laplacian^2
    var background = vec2<f32>(0.0);    // luma, count
    if (valid) {
        for (var s = local; s < QUALITY_GRID * QUALITY_GRID; s += 256u) {
            let g = (vec2<f32>(f32(s % QUALITY_GRID), f32(s / QUALITY_GRID)) + 0.5) / f32(QUALITY_GRID);
            let p = vec2<i32>(box.xy + size * (0.15 + 0.7 * g));
            let c = luma(p.x, p.y);
            let lap = 4.0 * c - luma(p.x - step, p.y) - luma(p.x + step, p.y) - luma(p.x, p.y - step) - luma(p.x, p.y + step);
            sums += vec4<f32>(c, c * c, lap, lap * lap);
            let q = (box.xy + box.zw) / 2.0 + size * 1.8 * (g - 0.5);
            let inside_face = all(q >= box.xy) && all(q <= box.zw);
            let inside_frame = all(q >= vec2<f32>(0.0)) && q.x < w && q.y < h;
            if (!inside_face && inside_frame) {
                background += vec2<f32>(luma(i32(q.x), i32(q.y)), 1.0);
            }
        }
    }
    partial[local] = sums;
    partial_background[local] = background;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride /= 2u) {
        if (local < stride) {
            partial[local] += partial[local + stride];
            partial_background[local] += partial_background[local + stride];
        }
        workgroupBarrier();
    }
    if (local == 0u) {
        let n = f32(QUALITY_GRID * QUALITY_GRID);
        let total = partial[0];
        let mean = total.x / n;
        let contrast = sqrt(max(total.y / n - mean * mean, 0.0));
        let lap_mean = total.z / n;
        let lap_std = sqrt(max(total.w / n - lap_mean * lap_mean, 0.0));
        let bg = partial_background[0];
        quality[0] = mean;
        quality[1] = contrast;
        quality[2] = lap_std / max(contrast, 4.0);
        quality[3] = select(mean, bg.x / max(bg.y, 1.0), bg.y > 0.0);
        quality[4] = select(0.0, 1.0, valid);
    }
}
