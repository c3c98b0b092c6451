// From the best detection to the regions the other two networks see, on the GPU:
//   face_regions       Face Mesh ROI (MediaPipe DetectionsToRects + RectTransformation:
//                      rotation from the eyes, square of the longer side, scale 1.5) and
//                      its 192x192 warp; the MiniFASNet face box (optionally mapped to
//                      the RetinaFace box the models were trained with) and the two crop
//                      rectangles of Silent-Face's CropImage (scales 2.7 and 4.0), and
//                      optionally those rectangles turned upright: warp records that
//                      rotate each about its centre by the eyes' roll (kept inside the
//                      frame), so MiniFASNet sees the face as it was trained, eyes level.
//   project_landmarks  Face Mesh's 468 (x, y, z) from crop pixels to image pixels
//                      (TensorsToLandmarks + LandmarkProjection).
//   gate_other_faces   the workgroup counts of the other faces' dispatches (their crops and
//                      MiniFASNet batch): as built when a second face was found, zero when
//                      not, so a frame with one face costs nothing more.
// Formulas: shared/golden/README.md sections 4-5, shared/golden/BOX_CALIBRATION.md.
// Launcher: src/engine/detect.rs; `RegionParams` there has the same field order.

const PI: f32 = 3.14159265358979;
const ROI_SCALE: f32 = 1.5;                 // face_detection_front_detection_to_roi.pbtxt, scale_x/y
const MESH_SIZE: f32 = 192.0;               // face_landmark.tflite input
const CROP_SCALES: array<f32, 2> = array<f32, 2>(2.7, 4.0);   // MiniFASNetV2, MiniFASNetV1SE
const CROP_SIZE: f32 = 80.0;                // MiniFASNet input (get_kernel(80, 80))
const DETECTION_STRIDE: u32 = 20u;          // detect.wgsl's record
const OTHER_FACE_INTS: u32 = 24u;           // `OtherFaceCrops` in src/engine/readback.rs
// BOX_CALIBRATION.md map A: the RetinaFace box from the BlazeFace box (centre shift and
// scale, relative to the BlazeFace box), fitted over 544 box pairs of shared/faces.
const MAP_A: vec4<f32> = vec4<f32>(-0.00285, -0.04005, 0.99316, 1.04583);

struct RegionParams {
    frame_w: u32, frame_h: u32, calibrate_box: u32, upright_crops: u32,
    // tracked: a session's frame whose Face Mesh ROI came from the frame before (track.wgsl),
    // so face_regions leaves the ROI and cuts only the crops.
    other_faces: u32, tracked: u32, _padding1: u32, _padding2: u32,
}

@group(0) @binding(0) var<uniform> params: RegionParams;
@group(0) @binding(1) var<storage, read> detections: array<f32>;      // detect.wgsl layout
@group(0) @binding(2) var<storage, read> landmarks_raw: array<f32>;   // [1404] crop pixels
// Warp records (warp.wgsl): 0 = letterbox (written by the CPU), 1 = Face Mesh, 2 and 3 =
// the upright MiniFASNetV2 and V1SE crops (valid only with upright_crops).
@group(0) @binding(3) var<storage, read_write> transforms: array<f32>;
// Crop records (warp.wgsl; [5] is the upright crop's rotation, f32 bits): 0 = MiniFASNetV2,
// 1 = MiniFASNetV1SE; then the face box
// [x, y, w, h] (ints) at 16..19 (`Crops` in src/engine/readback.rs).
@group(0) @binding(4) var<storage, read_write> crops: array<i32>;
// [cx, cy, w, h (pixels), rotation (rad), valid, 0, 0], then 468 x (x, y, z) pixels
// (`FaceRegion` in src/engine/readback.rs).
@group(0) @binding(5) var<storage, read_write> regions: array<f32>;
// The other faces' crop records: per face V2's, V1SE's, then its face box and 4 zeros.
@group(0) @binding(6) var<storage, read_write> other_crops: array<i32>;
// The other faces' upright warp records: per face V2's, then V1SE's.
@group(0) @binding(7) var<storage, read_write> other_transforms: array<f32>;

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

// The detection record of face `k`, best first (detect.wgsl `detections`).
fn detection_at(k: u32) -> u32 {
    return 4u + k * DETECTION_STRIDE;
}

// The roll of the face at detection `d`: the angle of the line between its eye keypoints
// (DetectionsToRects' rotation, the Face Mesh ROI's), in radians.
fn eye_rotation(d: u32, frame_w: f32, frame_h: f32) -> f32 {
    let eye0 = vec2<f32>(detections[d + 5u] * frame_w, detections[d + 6u] * frame_h);
    let eye1 = vec2<f32>(detections[d + 7u] * frame_w, detections[d + 8u] * frame_h);
    return eye_roll(eye0, eye1);
}

// The angle of the line from eye0 to eye1 (pixels), DetectionsToRects' rotation in radians.
fn eye_roll(eye0: vec2<f32>, eye1: vec2<f32>) -> f32 {
    return normalize_radians(0.0 - atan2(-(eye1.y - eye0.y), eye1.x - eye0.x));
}

// The MiniFASNet face box of the face at detection `d`, in pixels: [x, y, w, h] =
// [int(l), int(t), int(r-l+1), int(b-t+1)], mapped to the RetinaFace box when asked.
fn minifasnet_box(d: u32, frame_w: f32, frame_h: f32) -> vec4<i32> {
    let xmin = detections[d + 1u];
    let ymin = detections[d + 2u];
    var box = vec4<f32>(xmin * frame_w, ymin * frame_h, (xmin + detections[d + 3u]) * frame_w, (ymin + detections[d + 4u]) * frame_h);
    if (params.calibrate_box != 0u) {
        let w = box.z - box.x;
        let h = box.w - box.y;
        let c = vec2<f32>(box.x + w / 2.0 + MAP_A.x * w, box.y + h / 2.0 + MAP_A.y * h);
        let half_size = vec2<f32>(MAP_A.z * w, MAP_A.w * h) / 2.0;
        box = vec4<f32>(c - half_size, c + half_size);
    }
    return vec4<i32>(i32(box.x), i32(box.y), i32(box.z - box.x + 1.0), i32(box.w - box.y + 1.0));
}

// Model `m`'s crop rectangle of `face`: Silent-Face's, or the one to be turned upright.
fn crop_for(face: vec4<i32>, m: u32, rotation: f32, frame_w: f32, frame_h: f32) -> vec4<i32> {
    if (params.upright_crops != 0u) {
        return upright_rect(vec4<f32>(face), CROP_SCALES[m], rotation, frame_w, frame_h);
    }
    return crop_rect(vec4<f32>(face), CROP_SCALES[m], frame_w, frame_h);
}

@compute @workgroup_size(1)
fn face_regions() {
    let frame_w = f32(params.frame_w);
    let frame_h = f32(params.frame_h);
    let upright = params.upright_crops != 0u;
    let valid = detections[0] >= 1.0;
    let tracked = params.tracked != 0u;
    regions[5] = select(0.0, 1.0, valid);
    transforms[8u + 6u] = select(0.0, 1.0, valid);
    for (var m = 0u; m < 2u; m++) {
        transforms[(2u + m) * 8u + 6u] = select(0.0, 1.0, valid && upright);
        crops[m * 8u + 4u] = select(0, 1, valid);
    }
    cut_other_faces(frame_w, frame_h);
    if (!valid) { return; }
    let d = detection_at(0u);
    let rotation = eye_rotation(d, frame_w, frame_h);
    if (!tracked) {
        let box = vec4<f32>(detections[d + 1u], detections[d + 2u], detections[d + 3u], detections[d + 4u]);
        write_detection_roi(box, rotation, frame_w, frame_h);
    }

    let face = minifasnet_box(d, frame_w, frame_h);
    crops[16] = face.x;
    crops[17] = face.y;
    crops[18] = face.z;
    crops[19] = face.w;
    for (var m = 0u; m < 2u; m++) {
        let rect = crop_for(face, m, rotation, frame_w, frame_h);
        crops[m * 8u] = rect.x;
        crops[m * 8u + 1u] = rect.y;
        crops[m * 8u + 2u] = rect.z;
        crops[m * 8u + 3u] = rect.w;
        if (upright) {
            crops[m * 8u + 5u] = bitcast<i32>(rotation);
            let warp = upright_crop(rect, rotation);
            for (var i = 0u; i < 6u; i++) {
                transforms[(2u + m) * 8u + i] = warp[i];
            }
        }
    }
}

// The Face Mesh ROI of a detection's box (xmin, ymin, width, height relative to the frame)
// turned by `rotation`: DetectionsToRects + RectTransformation, the box's centre and its
// longer side x1.5 (relative, then pixels).
fn write_detection_roi(box: vec4<f32>, rotation: f32, frame_w: f32, frame_h: f32) {
    let xc = box.x + box.z / 2.0;
    let yc = box.y + box.w / 2.0;
    let long_side = max(box.z * frame_w, box.w * frame_h);
    let roi_w = long_side / frame_w * ROI_SCALE;
    let roi_h = long_side / frame_h * ROI_SCALE;
    write_mesh_roi(vec2<f32>(xc * frame_w, yc * frame_h), vec2<f32>(roi_w * frame_w, roi_h * frame_h), rotation);
}

// The Face Mesh ROI (centre and size in pixels, rotation in radians) into `regions` and
// its 192x192 warp record (ImageToTensor: cv2.boxPoints of the rotated ROI mapped onto the
// tensor corners): tensor (u, v) -> p1 + u/192 (p2 - p1) + v/192 (p0 - p1).
fn write_mesh_roi(centre: vec2<f32>, size: vec2<f32>, rotation: f32) {
    regions[0] = centre.x;
    regions[1] = centre.y;
    regions[2] = size.x;
    regions[3] = size.y;
    regions[4] = rotation;
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
}

// The crops of the faces after the best (params.other_faces of them), for MiniFASNet's
// batch over every face: per face OTHER_FACE_INTS ints of other_crops (the two crop
// records, then its face box) and two warp records of other_transforms (upright crops).
fn cut_other_faces(frame_w: f32, frame_h: f32) {
    let upright = params.upright_crops != 0u;
    for (var j = 0u; j < params.other_faces; j++) {
        let valid = detections[0] >= f32(j + 2u);
        let base = j * OTHER_FACE_INTS;
        for (var m = 0u; m < 2u; m++) {
            other_crops[base + m * 8u + 4u] = select(0, 1, valid);
            other_transforms[(2u * j + m) * 8u + 6u] = select(0.0, 1.0, valid && upright);
        }
        if (!valid) { continue; }
        let d = detection_at(j + 1u);
        let rotation = eye_rotation(d, frame_w, frame_h);
        let face = minifasnet_box(d, frame_w, frame_h);
        other_crops[base + 16u] = face.x;
        other_crops[base + 17u] = face.y;
        other_crops[base + 18u] = face.z;
        other_crops[base + 19u] = face.w;
        for (var m = 0u; m < 2u; m++) {
            let rect = crop_for(face, m, rotation, frame_w, frame_h);
            other_crops[base + m * 8u] = rect.x;
            other_crops[base + m * 8u + 1u] = rect.y;
            other_crops[base + m * 8u + 2u] = rect.z;
            other_crops[base + m * 8u + 3u] = rect.w;
            if (upright) {
                other_crops[base + m * 8u + 5u] = bitcast<i32>(rotation);
                let warp = upright_crop(rect, rotation);
                for (var i = 0u; i < 6u; i++) {
                    other_transforms[(2u * j + m) * 8u + i] = warp[i];
                }
            }
        }
    }
}

// CropImage's rectangle for a crop that will be turned by `rotation`: the face box grown by
// `scale_wanted` about its centre, then, as CropImage keeps its crop inside the image, made
// smaller and moved until the turned rectangle fits in the frame, so that MiniFASNet sees
// only the camera's pixels (never a replicated border). At rotation 0 this is crop_rect's
// rectangle. Inclusive [left, top, right, bottom], truncated as crop_rect's.
fn upright_rect(box: vec4<f32>, scale_wanted: f32, rotation: f32, src_w: f32, src_h: f32) -> vec4<i32> {
    var centre = box.xy + box.zw / 2.0;
    var size = box.zw * scale_wanted;
    let c = abs(cos(rotation));
    let s = abs(sin(rotation));
    var extent = vec2<f32>(c * size.x + s * size.y, s * size.x + c * size.y) / 2.0;
    let fit = min(1.0, min((src_w - 1.0) / (2.0 * extent.x), (src_h - 1.0) / (2.0 * extent.y)));
    size *= fit;
    extent *= fit;
    centre = clamp(centre, extent, vec2<f32>(src_w - 1.0, src_h - 1.0) - extent);
    let lt = centre - size / 2.0;
    let rb = centre + size / 2.0;
    return vec4<i32>(i32(lt.x), i32(lt.y), i32(rb.x), i32(rb.y));
}

// The warp record (its first 6 floats) of crop rectangle `rect` (inclusive ltrb) turned by
// `rotation` about its centre, onto the 80x80 tensor. At rotation 0 it samples where
// cv2.resize INTER_LINEAR does: tensor (u, v) -> left + (u + 0.5) W/80 - 0.5 (W = right - left
// + 1), the same source positions, interpolated as warp_affine_u8 does. Turned, it is image =
// centre + R local, local = ((u + 0.5) W/80 - W/2, (v + 0.5) H/80 - H/2), R the Face Mesh
// ROI's rotation (tensor x along the eyes). src/engine/resample.rs `upright_crop_transform`
// is the same on the CPU.
fn upright_crop(rect: vec4<i32>, rotation: f32) -> array<f32, 6> {
    let size = vec2<f32>(f32(rect.z - rect.x + 1), f32(rect.w - rect.y + 1));
    let centre = vec2<f32>(f32(rect.x + rect.z), f32(rect.y + rect.w)) / 2.0;
    let step = size / CROP_SIZE;
    let c = cos(rotation);
    let s = sin(rotation);
    let first = 0.5 * step - size / 2.0;        // local position of tensor pixel (0, 0)
    return array<f32, 6>(
        c * step.x, -s * step.y, centre.x + c * first.x - s * first.y,
        s * step.x, c * step.y, centre.y + s * first.x + c * first.y,
    );
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

// [x, y, z] per dispatch of the other faces, as recorded (written once by the CPU).
@group(0) @binding(8) var<storage, read> built_workgroups: array<u32>;
// The same, or zeros without a second face: dispatch_workgroups_indirect reads these.
@group(0) @binding(9) var<storage, read_write> gated_workgroups: array<u32>;

@compute @workgroup_size(64)
fn gate_other_faces(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&built_workgroups)) { return; }
    gated_workgroups[i] = select(0u, built_workgroups[i], detections[0] >= 2.0);
}
