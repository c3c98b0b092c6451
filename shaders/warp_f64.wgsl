// The Face Mesh warp in double precision, for adapters with SHADER_F64. Appended to
// warp.wgsl (whose frame access and interpolation it shares) as one module.
//
// OpenCV computes the warp in double from float32 corner points: cv2.boxPoints of the
// rotated ROI (float arithmetic, cos and sin of the angle rounded to float),
// getPerspectiveTransform onto the tensor corners and its inverse (double), then per pixel
// X = rint((X0 + M00 x) * 32 / W) (double). f32 positions land on another 1/32-pixel
// grid point for about 1 value in 10^4 (measured: 8 of 110,592 on image_F1); this path
// reproduces OpenCV's positions and so its bytes.
//   face_warp_f64             the inverse map, from the ROI in `regions` (roi.wgsl)
//   warp_perspective_u8_f64   the warp itself (warp_affine_u8 with double positions)
// Launcher: src/engine/resample.rs (the warp) and src/engine/detect.rs (the map).

// [M00, M01, M02, M10, M11, M12, M20, M21, M22, valid]: tensor pixel -> image pixel.
@group(0) @binding(6) var<storage, read_write> transform64: array<f64, 10>;
// roi.wgsl's regions: [cx, cy, w, h, rotation, valid, ...] in pixels.
@group(0) @binding(7) var<storage, read> rois: array<f32>;

const PI64: f64 = 3.141592653589793;

// cos and sin in double by their Taylor series (|x| <= pi here: 1e-16 accurate), since
// shader cos/sin exist only in single precision.
fn cos_sin64(x: f64) -> vec2<f64> {
    let x2 = x * x;
    var c: f64 = 1.0;
    var s: f64 = x;
    var term_c: f64 = 1.0;
    var term_s: f64 = x;
    for (var k = 1; k < 24; k++) {
        term_c = -term_c * x2 / (f64(2 * k - 1) * f64(2 * k));
        term_s = -term_s * x2 / (f64(2 * k) * f64(2 * k + 1));
        c += term_c;
        s += term_s;
    }
    return vec2<f64>(c, s);
}

// One float32 operation, evaluated exactly in double and rounded once.
fn fmul(a: f32, b: f32) -> f32 { return f32(f64(a) * f64(b)); }
fn fsub(a: f32, b: f32) -> f32 { return f32(f64(a) - f64(b)); }
fn fadd(a: f32, b: f32) -> f32 { return f32(f64(a) + f64(b)); }

@compute @workgroup_size(1)
fn face_warp_f64() {
    transform64[9] = f64(rois[5]);
    if (rois[5] == 0.0) { return; }
    let cx = rois[0];
    let cy = rois[1];
    let w = rois[2];
    let h = rois[3];
    // RotatedRect(centre, size, float degrees); points(): double radians, float cos/sin.
    let degrees = f32(f64(rois[4]) * 180.0 / PI64);
    let cs = cos_sin64(f64(degrees) * PI64 / 180.0);
    let b = fmul(f32(cs.x), 0.5);
    let a = fmul(f32(cs.y), 0.5);
    let p0 = vec2<f32>(fsub(fsub(cx, fmul(a, h)), fmul(b, w)), fsub(fadd(cy, fmul(b, h)), fmul(a, w)));
    let p1 = vec2<f32>(fsub(fadd(cx, fmul(a, h)), fmul(b, w)), fsub(fsub(cy, fmul(b, h)), fmul(a, w)));
    let p2 = vec2<f32>(fsub(fmul(2.0, cx), p0.x), fsub(fmul(2.0, cy), p0.y));
    let p3 = vec2<f32>(fsub(fmul(2.0, cx), p1.x), fsub(fmul(2.0, cy), p1.y));
    // The projective map of the unit square onto the quad p1 (0,0), p2 (1,0), p3 (1,1),
    // p0 (0,1) (Heckbert's square-to-quad), in double.
    let x0 = f64(p1.x); let y0 = f64(p1.y);
    let x1 = f64(p2.x); let y1 = f64(p2.y);
    let x2 = f64(p3.x); let y2 = f64(p3.y);
    let x3 = f64(p0.x); let y3 = f64(p0.y);
    let sx = x0 - x1 + x2 - x3;
    let sy = y0 - y1 + y2 - y3;
    let dx1 = x1 - x2; let dx2 = x3 - x2;
    let dy1 = y1 - y2; let dy2 = y3 - y2;
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (sx * dy2 - dx2 * sy) / den;
    let hh = (dx1 * sy - sx * dy1) / den;
    let size = f64(params.out_w);
    transform64[0] = (x1 - x0 + g * x1) / size;
    transform64[1] = (x3 - x0 + hh * x3) / size;
    transform64[2] = x0;
    transform64[3] = (y1 - y0 + g * y1) / size;
    transform64[4] = (y3 - y0 + hh * y3) / size;
    transform64[5] = y0;
    transform64[6] = g / size;
    transform64[7] = hh / size;
    transform64[8] = 1.0;
}

@compute @workgroup_size(64)
fn warp_perspective_u8_f64(@builtin(global_invocation_id) id: vec3<u32>,
                           @builtin(num_workgroups) workgroups: vec3<u32>) {
    let index = linear_index(id, workgroups);
    if (index >= params.out_w * params.out_h) { return; }
    if (transform64[9] == 0.0) {
        output[index] = vec4<f32>(0.0);
        return;
    }
    let x = f64(index % params.out_w);
    let y = f64(index / params.out_w);
    let m = transform64;
    let x_row = m[1] * y + m[2];
    let y_row = m[4] * y + m[5];
    let w_row = m[7] * y + m[8];
    let w = w_row + m[6] * x;
    let scale = select(0.0, 32.0 / w, w != 0.0);
    let big: f64 = 2147483647.0;
    let fx = clamp((x_row + m[0] * x) * scale, -big - 1.0, big);
    let fy = clamp((y_row + m[3] * x) * scale, -big - 1.0, big);
    sample_bilinear(index, i32(round(fx)), i32(round(fy)));
}
