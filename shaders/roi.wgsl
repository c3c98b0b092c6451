// From the best detection to the regions the other two networks see, on the GPU:
//   face_regions       Face Mesh ROI (MediaPipe DetectionsToRects + RectTransformation:
//                      rotation from the eyes, square of the longer side, scale 1.5) and
//                      its 192x192 warp; the MiniFASNet face box (optionally mapped to
//                      the RetinaFace box the models were trained with) and the two crop
//                      rectangles of Silent-Face's CropImage (scales 2.7 and 4.0).
//   project_landmarks  Face Mesh's 468 (x, y, z) from crop pixels to image pixels
//                      (TensorsToLandmarks + LandmarkProjection).
// Formulas: shared/golden/README.md sections 4-5, shared/golden/BOX_CALIBRATION.md.
// Launcher: src/engine/detect.rs; `RegionParams` there has the same field order.

const PI: f32 = 3.14159265358979;
const ROI_SCALE: f32 = 1.5;                 // face_detection_front_detection_to_roi.pbtxt, scale_x/y
const MESH_SIZE: f32 = 192.0;               // face_landmark.tflite input
const CROP_SCALES: array<f32, 2> = array<f32, 2>(2.7, 4.0);   // MiniFASNetV2, MiniFASNetV1SE
// BOX_CALIBRATION.md map A: the RetinaFace box from the BlazeFace box (centre shift and
// scale, relative to the BlazeFace box), fitted over 544 box pairs of shared/faces.
const MAP_A: vec4<f32> = vec4<f32>(-0.00285, -0.04005, 0.99316, 1.04583);

struct RegionParams {
    frame_w: u32, frame_h: u32, calibrate_box: u32, _padding: u32,
}

@group(0) @binding(0) var<uniform> params: RegionParams;
@group(0) @binding(1) var<storage, read> detections: array<f32>;      // detect.wgsl layout
@group(0) @binding(2) var<storage, read> landmarks_raw: array<f32>;   // [1404] crop pixels
// Warp records (warp.wgsl): 0 = letterbox (written by the CPU), 1 = Face Mesh.
@group(0) @binding(3) var<storage, read_write> transforms: array<f32>;
// Crop records (warp.wgsl): 0 = MiniFASNetV2, 1 = MiniFASNetV1SE; then the face box
// [x, y, w, h] (ints) at 16..19 (`Crops` in src/engine/readback.rs).
@group(0) @binding(4) var<storage, read_write> crops: array<i32>;
// [cx, cy, w, h (pixels), rotation (rad), valid, 0, 0], then 468 x (x, y, z) pixels
// (`FaceRegion` in src/engine/readback.rs).
@group(0) @binding(5) var<storage, read_write> regions: array<f32>;

fn normalize_radians(angle: f32) -> f32 {
    return angle - 2.0 * PI * floor((angle + PI) / (2.0 * PI));
}

// CropImage._get_new_box + int(): inclusive [left, top, right, bottom].
fn crop_rect(box: vec4<f32>, scale_wanted: f32, src_w: f32, src_h: f32) -> vec4<i32> {
    let scale = min(min((src_h - 1.0) / box.w, (src_w - 1.0) / box.z), scale_wanted);
    let centre = box.xy + box.zw / 2.0;
    let size = box.zw * scale;
    var l = centre.x - size.x / 2.0;
    var t = centre.y - size.y / 2.0;
    var r = centre.x + size.x / 2.0;
    var b = centre.y + size.y / 2.0;
    if (l < 0.0) { r -= l; l = 0.0; }
    if (t < 0.0) { b -= t; t = 0.0; }
    if (r > src_w - 1.0) { l -= r - src_w + 1.0; r = src_w - 1.0; }
    if (b > src_h - 1.0) { t -= b - src_h + 1.0; b = src_h - 1.0; }
    return vec4<i32>(i32(l), i32(t), i32(r), i32(b));     // truncation toward zero
}

@compute @workgroup_size(1)
fn face_regions() {
    let frame_w = f32(params.frame_w);
    let frame_h = f32(params.frame_h);
    let valid = detections[0] >= 1.0;
    regions[5] = select(0.0, 1.0, valid);
    transforms[8u + 6u] = select(0.0, 1.0, valid);
    crops[4] = select(0, 1, valid);
    crops[8 + 4] = select(0, 1, valid);
    if (!valid) { return; }
    let d = 4u;                                   // the first (best) detection
    let xmin = detections[d + 1u];
    let ymin = detections[d + 2u];
    let width = detections[d + 3u];
    let height = detections[d + 4u];

    // Face Mesh ROI, relative then pixels.
    let xc = xmin + width / 2.0;
    let yc = ymin + height / 2.0;
    let eye0 = vec2<f32>(detections[d + 5u] * frame_w, detections[d + 6u] * frame_h);
    let eye1 = vec2<f32>(detections[d + 7u] * frame_w, detections[d + 8u] * frame_h);
    let rotation = normalize_radians(0.0 - atan2(-(eye1.y - eye0.y), eye1.x - eye0.x));
    let long_side = max(width * frame_w, height * frame_h);
    let roi_w = long_side / frame_w * ROI_SCALE;
    let roi_h = long_side / frame_h * ROI_SCALE;
    let centre = vec2<f32>(xc * frame_w, yc * frame_h);
    let size = vec2<f32>(roi_w * frame_w, roi_h * frame_h);
    regions[0] = centre.x;
    regions[1] = centre.y;
    regions[2] = size.x;
    regions[3] = size.y;
    regions[4] = rotation;

    // The 192x192 warp (ImageToTensor: cv2.boxPoints of the rotated ROI mapped onto the
    // tensor corners): tensor (u, v) -> p1 + u/192 (p2 - p1) + v/192 (p0 - p1).
    let b = cos(rotation) * 0.5;
    let a = sin(rotation) * 0.5;
    let p0 = vec2<f32>(centre.x - a * size.y - b * size.x, centre.y + b * size.y - a * size.x);
    let p1 = vec2<f32>(centre.x + a * size.y - b * size.x, centre.y - b * size.y - a * size.x);
    let p2 = 2.0 * centre - p0;
    let along_u = (p2 - p1) / MESH_SIZE;
    let along_v = (p0 - p1) / MESH_SIZE;
    transforms[8u] = along_u.x;
    transforms[9u] = along_v.x;
    transforms[10u] = p1.x;
    transforms[11u] = along_u.y;
    transforms[12u] = along_v.y;
    transforms[13u] = p1.y;

    // MiniFASNet face box in pixels: [x, y, w, h] = [int(l), int(t), int(r-l+1), int(b-t+1)].
    var box = vec4<f32>(xmin * frame_w, ymin * frame_h, (xmin + width) * frame_w, (ymin + height) * frame_h);
    if (params.calibrate_box != 0u) {
        let w = box.z - box.x;
        let h = box.w - box.y;
        let c = vec2<f32>(box.x + w / 2.0 + MAP_A.x * w, box.y + h / 2.0 + MAP_A.y * h);
        let half_size = vec2<f32>(MAP_A.z * w, MAP_A.w * h) / 2.0;
        box = vec4<f32>(c - half_size, c + half_size);
    }
    let face = vec4<i32>(i32(box.x), i32(box.y), i32(box.z - box.x + 1.0), i32(box.w - box.y + 1.0));
    crops[16] = face.x;
    crops[17] = face.y;
    crops[18] = face.z;
    crops[19] = face.w;
    for (var m = 0u; m < 2u; m++) {
        let rect = crop_rect(vec4<f32>(face), CROP_SCALES[m], frame_w, frame_h);
        crops[m * 8u] = rect.x;
        crops[m * 8u + 1u] = rect.y;
        crops[m * 8u + 2u] = rect.z;
        crops[m * 8u + 3u] = rect.w;
    }
}

@compute @workgroup_size(64)
fn project_landmarks(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= 468u) { return; }
    let out = 8u + 3u * i;
    if (regions[5] == 0.0) {
        regions[out] = 0.0;
        regions[out + 1u] = 0.0;
        regions[out + 2u] = 0.0;
        return;
    }
    let frame_w = f32(params.frame_w);
    let frame_h = f32(params.frame_h);
    let x = landmarks_raw[3u * i] / MESH_SIZE - 0.5;
    let y = landmarks_raw[3u * i + 1u] / MESH_SIZE - 0.5;
    let z = landmarks_raw[3u * i + 2u] / MESH_SIZE;
    let rotation = regions[4];
    let c = cos(rotation);
    let s = sin(rotation);
    // Relative ROI size: the pixel size over the frame size.
    let roi_w = regions[2] / frame_w;
    let roi_h = regions[3] / frame_h;
    regions[out] = ((c * x - s * y) * roi_w + regions[0] / frame_w) * frame_w;
    regions[out + 1u] = ((s * x + c * y) * roi_h + regions[1] / frame_h) * frame_h;
    regions[out + 2u] = z * roi_w * frame_w;
}
