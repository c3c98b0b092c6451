//! What a check returns: boxes, keypoints, landmarks and scores; never pixels.

use crate::engine::landmarks::Pose;
use crate::models::minifasnet::LIVE_CLASS;

/// A face box in image pixels (x0, y0) - (x1, y1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

/// MiniFASNet's verdict on one face.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// A live face.
    Live,
    /// A print, a screen or another presentation attack.
    Spoof,
}

impl Label {
    /// "live" or "spoof".
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Live => "live",
            Label::Spoof => "spoof",
        }
    }
}

/// The MiniFASNet ensemble on the best face (Silent-Face-Anti-Spoofing test.py):
/// prediction = softmax(V2) + softmax(V1SE), label = argmax, class 1 = live.
#[derive(Clone, Debug, PartialEq)]
pub struct Liveness {
    /// The ensemble's live probability: `(V2[1] + V1SE[1]) / 2`.
    pub live: f32,
    /// The ensemble's argmax.
    pub label: Label,
    /// `prediction[label] / 2`, as test.py prints it.
    pub score: f32,
    /// MiniFASNetV2's softmax (2.7 crop); class 1 is live, 0 and 2 are the two spoof classes.
    pub minifasnet_v2: [f32; 3],
    /// MiniFASNetV1SE's softmax (4.0 crop).
    pub minifasnet_v1se: [f32; 3],
    /// The face box the crops were cut around, [x, y, w, h] pixels (after the box map).
    pub face_box: [i32; 4],
    /// The inclusive crop rectangles [left, top, right, bottom] of V2 (2.7) and V1SE (4.0).
    pub crops: [[i32; 4]; 2],
    /// Radians both crops were turned by about their centres, the eyes' roll
    /// ([`EngineOptions::upright_crops`](crate::EngineOptions)); 0 for the published crops.
    pub crop_rotation: f32,
}

impl Liveness {
    /// The ensemble of the two softmaxes (class 1 = live).
    pub fn from_softmaxes(v2: [f32; 3], v1se: [f32; 3], face_box: [i32; 4], crops: [[i32; 4]; 2]) -> Self {
        let sum = [v2[0] + v1se[0], v2[1] + v1se[1], v2[2] + v1se[2]];
        let best = (0..3).fold(0, |b, i| if sum[i] > sum[b] { i } else { b });
        Liveness {
            live: sum[LIVE_CLASS] / 2.0,
            label: if best == LIVE_CLASS { Label::Live } else { Label::Spoof },
            score: sum[best] / 2.0,
            minifasnet_v2: v2,
            minifasnet_v1se: v1se,
            face_box,
            crops,
            crop_rotation: 0.0,
        }
    }
}

/// Light and focus of the best face, measured on the GPU (shaders/warp.wgsl, face_quality).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceQuality {
    /// Mean luma of the face, 0..255.
    pub brightness: f32,
    /// Standard deviation of that luma.
    pub contrast: f32,
    /// Laplacian spread over the contrast (scale and exposure free; low = out of focus).
    pub sharpness: f32,
    /// Mean luma around the face.
    pub background: f32,
}

/// One detected face.
#[derive(Clone, Debug, PartialEq)]
pub struct Face {
    /// The box in image pixels.
    pub face_box: FaceBox,
    /// BlazeFace's score.
    pub score: f32,
    /// Right eye, left eye, nose tip, mouth, right ear, left ear (image pixels).
    pub keypoints: [[f32; 2]; 6],
    /// Face Mesh's 468 (x, y, z) in image pixels; on the best face, when asked.
    pub landmarks: Option<Vec<[f32; 3]>>,
    /// Face Mesh's face-presence probability (best face only; 0 elsewhere).
    pub presence: f32,
    /// Light and focus of the best face.
    pub quality: Option<FaceQuality>,
    /// The best face's liveness: MiniFASNet's raw result, whatever the gates say.
    pub liveness: Option<Liveness>,
    /// The best face's head pose, from its landmarks (degrees; the pose gate's measure).
    pub pose: Option<Pose>,
    /// The best face's eye distance in pixels, from its landmarks (the size gate's measure).
    pub eye_distance: Option<f32>,
}

/// Wall-clock stage timings of one check, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Validating and uploading the frame.
    pub upload_ms: f64,
    /// Recording and submitting the one command buffer.
    pub record_ms: f64,
    /// From submit to the GPU finishing every network, crop, readback copy and clear.
    pub gpu_ms: f64,
    /// Mapping the readback and building the report.
    pub readback_ms: f64,
    /// From the call to the report.
    pub total_ms: f64,
}

/// The result of one check. Faces are sorted by BlazeFace score, best first; only the best
/// face gets landmarks and a liveness verdict (MediaPipe's num_faces 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The frame's width in pixels.
    pub width: u32,
    /// The frame's height in pixels.
    pub height: u32,
    /// The faces found, best first.
    pub faces: Vec<Face>,
    /// Where the time went.
    pub timings: Timings,
}

/// What a single check concludes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckVerdict {
    /// MiniFASNet calls the best face live.
    Live,
    /// MiniFASNet calls the best face a spoof.
    Spoof,
    /// No face was found.
    NoFace,
    /// The best face cannot be judged: it fails a quality gate ([`Report::reasons`] says
    /// which: cut by the border, too small, turned, too dark, too bright, blurred, a second
    /// face). MiniFASNet's raw result stays in [`Face::liveness`].
    Inconclusive,
}

impl CheckVerdict {
    /// "live", "spoof", "no_face" or "inconclusive", as the JSON contract spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckVerdict::Live => "live",
            CheckVerdict::Spoof => "spoof",
            CheckVerdict::NoFace => "no_face",
            CheckVerdict::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for CheckVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
