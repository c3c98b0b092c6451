// Following one face from a session's frame to the next without BlazeFace (MediaPipe's
// face_landmark_front graph: the next frame's region comes from this frame's landmarks, and
// the detector runs again only when they lose the face). Appended to roi.wgsl, whose
// bindings and ROI writer (write_mesh_roi) these share.
//
// The region is the one BlazeFace's detection would give, not MediaPipe's landmark box
// (face_landmark_landmarks_to_roi.pbtxt): at each detection the offsets of BlazeFace's box
// and six keypoints from the landmarks are measured, and each tracked frame's detection
// record is rebuilt from its landmarks with those offsets. The Face Mesh ROI, the MiniFASNet
// box and the crops then follow the face as they did with BlazeFace on every frame, which
// keeps the sessions' verdicts (MediaPipe's own box moved Face Mesh's landmarks by 0.024 eye
// distances on average and MiniFASNet's crops with them: ACCURACY.md, "Tracking").
//   track_region   a tracked frame's detection record and Face Mesh ROI and warp (as
//                  face_regions computes them from a detection), from the record kept from
//                  the frame before, in place of the letterbox, BlazeFace and detect_faces;
//                  no face (Face Mesh sees zeros) when it was lost or the size changed.
//   keep_track     after the landmarks: in a detection frame, the offsets of BlazeFace's
//                  record from the landmarks; in every frame, the record rebuilt from this
//                  frame's landmarks, kept for the next frame while Face Mesh's presence is
//                  at least 0.5 (the FaceMesh solution's min_tracking_confidence). In a
//                  tracked frame that record is also this frame's detection, for
//                  face_quality and face_regions' MiniFASNet box and crops.
// Launcher: src/engine/track.rs.

// Face Mesh's presence logit at or above which the face is still followed: sigmoid 0.5.
const PRESENCE_LOGIT: f32 = 0.0;
// Landmarks standing in for BlazeFace's six keypoints before their offsets: the eye
// centres (corner pairs 33/133 and 362/263), the nose tip (1), the mouth's centre (inner
// lips 13/14), the face's outline at the ears (234, 454). Over the 544 reference frames of
// shared/golden they sit 0.09-0.16 eye distances from BlazeFace's keypoints.
const KEYPOINT_LANDMARKS: array<vec2<u32>, 6> = array<vec2<u32>, 6>(
    vec2<u32>(33u, 133u), vec2<u32>(362u, 263u), vec2<u32>(1u, 1u),
    vec2<u32>(13u, 14u), vec2<u32>(234u, 234u), vec2<u32>(454u, 454u),
);
// Record layout of `track` (floats):
const TRACK_VALID: u32 = 0u;         // 1 while the face is followed
const TRACK_FRAME: u32 = 1u;         // frame width, height it was kept in
const TRACK_BOX: u32 = 4u;           // BlazeFace's box: centre offset x, y, width, height
const TRACK_KEYPOINTS: u32 = 8u;     // its 6 keypoints' offsets (x, y)
const TRACK_RECORD: u32 = 20u;       // the rebuilt detection record (DETECTION_STRIDE floats)
// (offsets in units of the landmarks' bounding-box side, from its centre and from the
// keypoint landmarks; the record relative to the frame, as detect.wgsl's.)

// `TRACK_RECORD + DETECTION_STRIDE` floats (src/engine/track.rs TRACK_BYTES). Outside the
// per-frame clear: erased when the session ends.
@group(0) @binding(10) var<storage, read_write> track: array<f32>;
// Face Mesh's face-presence logit (first lane).
@group(0) @binding(11) var<storage, read> face_flag: array<f32>;
// detect.wgsl's layout (roi.wgsl reads the same buffer as `detections`).
@group(0) @binding(12) var<storage, read_write> tracked_detections: array<f32>;

@compute @workgroup_size(1)
fn track_region() {
    let frame = vec2<f32>(f32(params.frame_w), f32(params.frame_h));
    let same_size = all(vec2<f32>(track[TRACK_FRAME], track[TRACK_FRAME + 1u]) == frame);
    let valid = track[TRACK_VALID] != 0.0 && same_size;
    regions[5] = select(0.0, 1.0, valid);
    transforms[8u + 6u] = select(0.0, 1.0, valid);
    tracked_detections[0] = select(0.0, 1.0, valid);
    if (!valid) { return; }
    let d = detection_at(0u);
    for (var i = 0u; i < DETECTION_STRIDE; i++) {
        tracked_detections[d + i] = track[TRACK_RECORD + i];
    }
    // face_regions' ROI of that record.
    let r = TRACK_RECORD;
    let eye0 = vec2<f32>(track[r + 5u], track[r + 6u]) * frame;
    let eye1 = vec2<f32>(track[r + 7u], track[r + 8u]) * frame;
    let box = vec4<f32>(track[r + 1u], track[r + 2u], track[r + 3u], track[r + 4u]);
    write_detection_roi(box, eye_roll(eye0, eye1), frame.x, frame.y);
}

// Landmark `i` in image pixels (project_landmarks' output in `regions`).
fn landmark(i: u32) -> vec2<f32> {
    return vec2<f32>(regions[8u + 3u * i], regions[9u + 3u * i]);
}

fn keypoint_landmark(k: u32) -> vec2<f32> {
    let pair = KEYPOINT_LANDMARKS[k];
    return (landmark(pair.x) + landmark(pair.y)) / 2.0;
}

@compute @workgroup_size(1)
fn keep_track() {
    let frame = vec2<f32>(f32(params.frame_w), f32(params.frame_h));
    let tracked = params.tracked != 0u;
    let present = regions[5] != 0.0 && face_flag[0] >= PRESENCE_LOGIT;
    var low = landmark(0u);
    var high = low;
    for (var i = 1u; i < 468u; i++) {
        let p = landmark(i);
        low = min(low, p);
        high = max(high, p);
    }
    let centre = (low + high) / 2.0;
    let side = max(max(high.x - low.x, high.y - low.y), 1e-3);
    let d = detection_at(0u);
    if (!tracked && present) {
        // A detection frame: BlazeFace's record measured against this frame's landmarks.
        let box = vec4<f32>(tracked_detections[d + 1u], tracked_detections[d + 2u], tracked_detections[d + 3u], tracked_detections[d + 4u]);
        let box_centre = (box.xy + box.zw / 2.0) * frame;
        track[TRACK_BOX] = (box_centre.x - centre.x) / side;
        track[TRACK_BOX + 1u] = (box_centre.y - centre.y) / side;
        track[TRACK_BOX + 2u] = box.z * frame.x / side;
        track[TRACK_BOX + 3u] = box.w * frame.y / side;
        for (var k = 0u; k < 6u; k++) {
            let keypoint = vec2<f32>(tracked_detections[d + 5u + 2u * k], tracked_detections[d + 6u + 2u * k]) * frame;
            let offset = (keypoint - keypoint_landmark(k)) / side;
            track[TRACK_KEYPOINTS + 2u * k] = offset.x;
            track[TRACK_KEYPOINTS + 2u * k + 1u] = offset.y;
        }
    }
    // The record rebuilt from this frame's landmarks with the offsets measured last.
    let r = TRACK_RECORD;
    let box_centre = centre + vec2<f32>(track[TRACK_BOX], track[TRACK_BOX + 1u]) * side;
    let box_size = vec2<f32>(track[TRACK_BOX + 2u], track[TRACK_BOX + 3u]) * side;
    track[r] = 1.0 / (1.0 + exp(-face_flag[0]));
    track[r + 1u] = (box_centre.x - box_size.x / 2.0) / frame.x;
    track[r + 2u] = (box_centre.y - box_size.y / 2.0) / frame.y;
    track[r + 3u] = box_size.x / frame.x;
    track[r + 4u] = box_size.y / frame.y;
    for (var k = 0u; k < 6u; k++) {
        let offset = vec2<f32>(track[TRACK_KEYPOINTS + 2u * k], track[TRACK_KEYPOINTS + 2u * k + 1u]);
        let keypoint = (keypoint_landmark(k) + offset * side) / frame;
        track[r + 5u + 2u * k] = keypoint.x;
        track[r + 6u + 2u * k] = keypoint.y;
    }
    for (var i = 17u; i < DETECTION_STRIDE; i++) {
        track[r + i] = 0.0;
    }
    track[TRACK_VALID] = select(0.0, 1.0, present);
    track[TRACK_FRAME] = frame.x;
    track[TRACK_FRAME + 1u] = frame.y;
    if (!tracked) { return; }
    // A tracked frame: that record is this frame's detection (face_quality, face_regions).
    tracked_detections[0] = select(0.0, 1.0, present);
    for (var i = 0u; i < DETECTION_STRIDE; i++) {
        tracked_detections[d + i] = track[r + i];
    }
}
