// BlazeFace's 896 anchors -> face detections, on the GPU (MediaPipe 0.10.14
// TensorsToDetectionsCalculator + NonMaxSuppressionCalculator + DetectionProjectionCalculator,
// re-stated in shared/golden/scripts/mp_pipeline.py and README section 3):
//   decode every anchor (XYWH, scale 128, fixed-size anchors), sigmoid(clamp(logit, +-100)),
//   keep score >= 0.5 with non-negative w and h, sort by score, weighted NMS (IoU > 0.3,
//   score-weighted mean of box corners and keypoints, the top score kept), then undo the
//   letterbox: relative image coordinates.
// One workgroup: every invocation decodes anchors, invocation 0 sorts and suppresses
// (a face gives 7-10 candidates; the sequential loop keeps MediaPipe's summation order).
// Launcher: src/engine/detect.rs; `DetectParams` there has the same field order.

const ANCHORS: u32 = 896u;
const MIN_SCORE: f32 = 0.5;             // face_detection_short_range.pbtxt, min_score_thresh
const SCORE_CLIP: f32 = 100.0;          // score_clipping_thresh
const SUPPRESSION_IOU: f32 = 0.3;       // min_suppression_threshold
const TENSOR_SCALE: f32 = 128.0;        // x_scale = y_scale = w_scale = h_scale
const MAX_DETECTIONS: u32 = 16u;        // kept after NMS (the engine reports the best ones)
const DETECTION_STRIDE: u32 = 20u;      // floats per detection record, see below

struct DetectParams {
    frame_w: u32, frame_h: u32, _padding0: u32, _padding1: u32,
}

@group(0) @binding(0) var<uniform> params: DetectParams;
// The four head tensors, NHWC with channels padded to 4.
@group(0) @binding(1) var<storage, read> classifier_s8: array<f32>;    // [16,16,4]
@group(0) @binding(2) var<storage, read> regressor_s8: array<f32>;     // [16,16,32]
@group(0) @binding(3) var<storage, read> classifier_s16: array<f32>;   // [8,8,8]
@group(0) @binding(4) var<storage, read> regressor_s16: array<f32>;    // [8,8,96]
// Scratch: per anchor [score, ymin, xmin, ymax, xmax, kp0x, kp0y, ... kp5y] (tensor units).
@group(0) @binding(5) var<storage, read_write> decoded: array<f32>;
// [count, 0, 0, 0], then MAX_DETECTIONS records of DETECTION_STRIDE floats:
// [score, xmin, ymin, width, height, kp0x, kp0y, ..., kp5x, kp5y, anchors blended, 0, 0]
// in coordinates relative to the image (MediaPipe's RELATIVE_BOUNDING_BOX); `Detections` in
// src/engine/readback.rs.
@group(0) @binding(6) var<storage, read_write> detections: array<f32>;

var<workgroup> candidates: array<u32, ANCHORS>;
var<workgroup> candidate_count: atomic<u32>;

fn raw(anchor: u32, j: u32) -> f32 {
    if (anchor < 512u) {
        let cell = anchor / 2u;
        return regressor_s8[cell * 32u + (anchor % 2u) * 16u + j];
    }
    let cell = (anchor - 512u) / 6u;
    return regressor_s16[cell * 96u + ((anchor - 512u) % 6u) * 16u + j];
}

fn logit(anchor: u32) -> f32 {
    if (anchor < 512u) { return classifier_s8[(anchor / 2u) * 4u + anchor % 2u]; }
    let cell = (anchor - 512u) / 6u;
    return classifier_s16[cell * 8u + (anchor - 512u) % 6u];
}

// SsdAnchorsCalculator with fixed_anchor_size: centre (x + 0.5) / grid, w = h = 1.
// Stride 8: 16x16 cells x 2 anchors; stride 16: 8x8 cells x 6 anchors; order y, x, anchor.
fn anchor_centre(anchor: u32) -> vec2<f32> {
    if (anchor < 512u) {
        let cell = anchor / 2u;
        return (vec2<f32>(f32(cell % 16u), f32(cell / 16u)) + 0.5) / 16.0;
    }
    let cell = (anchor - 512u) / 6u;
    return (vec2<f32>(f32(cell % 8u), f32(cell / 8u)) + 0.5) / 8.0;
}

fn record(anchor: u32) -> u32 { return anchor * 17u; }

// IoU of two decoded anchors (mp_pipeline._iou, on tensor-normalised boxes).
fn iou(a: u32, b: u32) -> f32 {
    let ra = record(a);
    let rb = record(b);
    let ay0 = decoded[ra + 1u]; let ax0 = decoded[ra + 2u];
    let ay1 = decoded[ra + 3u]; let ax1 = decoded[ra + 4u];
    let by0 = decoded[rb + 1u]; let bx0 = decoded[rb + 2u];
    let by1 = decoded[rb + 3u]; let bx1 = decoded[rb + 4u];
    if (!(ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1)) { return 0.0; }
    let inter = (min(ax1, bx1) - max(ax0, bx0)) * (min(ay1, by1) - max(ay0, by0));
    let total = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
    return select(0.0, inter / total, total > 0.0);
}

@compute @workgroup_size(256)
fn detect_faces(@builtin(local_invocation_index) local: u32) {
    if (local == 0u) { atomicStore(&candidate_count, 0u); }
    workgroupBarrier();
    for (var anchor = local; anchor < ANCHORS; anchor += 256u) {
        let centre = anchor_centre(anchor);
        let xc = raw(anchor, 0u) / TENSOR_SCALE + centre.x;
        let yc = raw(anchor, 1u) / TENSOR_SCALE + centre.y;
        let w = raw(anchor, 2u) / TENSOR_SCALE;
        let h = raw(anchor, 3u) / TENSOR_SCALE;
        let score = 1.0 / (1.0 + exp(-clamp(logit(anchor), -SCORE_CLIP, SCORE_CLIP)));
        let r = record(anchor);
        decoded[r] = score;
        decoded[r + 1u] = yc - h / 2.0;
        decoded[r + 2u] = xc - w / 2.0;
        decoded[r + 3u] = yc + h / 2.0;
        decoded[r + 4u] = xc + w / 2.0;
        for (var k = 0u; k < 6u; k++) {
            decoded[r + 5u + 2u * k] = raw(anchor, 4u + 2u * k) / TENSOR_SCALE + centre.x;
            decoded[r + 6u + 2u * k] = raw(anchor, 5u + 2u * k) / TENSOR_SCALE + centre.y;
        }
        let width = decoded[r + 4u] - decoded[r + 2u];
        let height = decoded[r + 3u] - decoded[r + 1u];
        if (score >= MIN_SCORE && width >= 0.0 && height >= 0.0) {
            candidates[atomicAdd(&candidate_count, 1u)] = anchor;
        }
    }
    workgroupBarrier();
    let count = atomicLoad(&candidate_count);
    if (local != 0u) { return; }

    // Score descending, anchor order among equal scores (Python's stable sort).
    for (var i = 1u; i < count; i++) {
        let item = candidates[i];
        var j = i;
        loop {
            if (j == 0u) { break; }
            let other = candidates[j - 1u];
            let before = decoded[record(other)] > decoded[record(item)] ||
                         (decoded[record(other)] == decoded[record(item)] && other < item);
            if (before) { break; }
            candidates[j] = other;
            j -= 1u;
        }
        candidates[j] = item;
    }

    // Weighted NMS over the remaining list (compacted in place, order kept).
    var remaining = count;
    var found = 0u;
    let frame_w = f32(params.frame_w);
    let frame_h = f32(params.frame_h);
    // The letterbox ROI (ImageToTensor, keep_aspect_ratio): a square of the longer side.
    let side = max(frame_w, frame_h);
    loop {
        if (remaining == 0u || found == MAX_DETECTIONS) { break; }
        let top = candidates[0];
        var total = 0.0;
        var box = vec4<f32>(0.0);            // xmin, ymin, xmax, ymax, score-weighted
        var keypoints: array<vec2<f32>, 6>;
        var kept = 0u;
        var members = 0u;
        for (var i = 0u; i < remaining; i++) {
            let c = candidates[i];
            if (iou(c, top) > SUPPRESSION_IOU) {
                let r = record(c);
                let s = decoded[r];
                total += s;
                box += vec4<f32>(decoded[r + 2u], decoded[r + 1u], decoded[r + 4u], decoded[r + 3u]) * s;
                for (var k = 0u; k < 6u; k++) {
                    keypoints[k] += vec2<f32>(decoded[r + 5u + 2u * k], decoded[r + 6u + 2u * k]) * s;
                }
                members += 1u;
            } else {
                candidates[kept] = c;
                kept += 1u;
            }
        }
        let xmin = box.x / total;
        let ymin = box.y / total;
        let width = box.z / total - xmin;
        let height = box.w / total - ymin;
        // DetectionProjectionCalculator with GetRotatedSubRectToRectTransformMatrix of the
        // letterbox ROI (centre (W/2, H/2), side S, rotation 0), in its float32 order.
        let g = 1.0 / frame_w;
        let hh = 1.0 / frame_h;
        let m0 = side * 1.0 * 1.0 * g;
        let m3 = ((-0.5 * side) * 1.0 * 1.0 + (0.5 * side) * 0.0 + 0.5 * frame_w) * g;
        let m5 = side * 1.0 * hh;
        let m7 = ((-0.5 * side) * 1.0 - (0.5 * side) * 0.0 * 1.0 + 0.5 * frame_h) * hh;
        let out = 4u + found * DETECTION_STRIDE;
        let x0 = xmin * m0 + m3;
        let x1 = (xmin + width) * m0 + m3;
        let y0 = ymin * m5 + m7;
        let y1 = (ymin + height) * m5 + m7;
        detections[out] = decoded[record(top)];
        detections[out + 1u] = min(x0, x1);
        detections[out + 2u] = min(y0, y1);
        detections[out + 3u] = max(x0, x1) - min(x0, x1);
        detections[out + 4u] = max(y0, y1) - min(y0, y1);
        for (var k = 0u; k < 6u; k++) {
            let kp = keypoints[k] / total;
            detections[out + 5u + 2u * k] = kp.x * m0 + m3;
            detections[out + 6u + 2u * k] = kp.y * m5 + m7;
        }
        detections[out + 17u] = f32(members);
        found += 1u;
        remaining = kept;
    }
    detections[0] = f32(found);
}
