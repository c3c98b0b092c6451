//! Per-frame quality gates: a frame that fails one is not used, and the reason is counted.

use crate::engine::Report;

use super::landmarks::{self, Point, Pose};

/// Why a frame did not count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejection {
    /// No face was found.
    NoFace,
    /// A second confident face.
    SeveralFaces,
    /// Under the smallest eye distance.
    FaceTooSmall,
    /// The face box touches the frame border.
    FaceCutByBorder,
    /// Turned, tilted or rolled too far.
    PoseNotFrontal,
    /// The face is too dark.
    TooDark,
    /// The face is too bright.
    TooBright,
    /// The surround is much brighter than the face.
    Backlit,
    /// Out of focus.
    TooBlurry,
    /// The face moved too fast between frames.
    MovedTooFast,
    /// The frame could not be read (a corrupt or cut file, a broken MJPEG frame).
    UnreadableFrame,
    /// The frame's time is not after the previous frame's: a replayed or injected stream
    /// (a real camera's clock only moves forward).
    TimestampNotIncreasing,
    /// The frame's pixels repeat a recent frame's exactly: a still image streamed (a real
    /// sensor's noise changes every frame; src/liveness/repeats.rs).
    RepeatedFrame,
    /// The frame differs from a recent one by less than a sensor's noise.
    NoiseFreeFrame,
}

impl Rejection {
    /// The reason code the JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::NoFace => "no_face",
            Rejection::SeveralFaces => "several_faces",
            Rejection::FaceTooSmall => "face_too_small",
            Rejection::FaceCutByBorder => "face_cut_by_border",
            Rejection::PoseNotFrontal => "pose_not_frontal",
            Rejection::TooDark => "too_dark",
            Rejection::TooBright => "too_bright",
            Rejection::Backlit => "backlit",
            Rejection::TooBlurry => "too_blurry",
            Rejection::MovedTooFast => "moved_too_fast",
            Rejection::UnreadableFrame => "unreadable_frame",
            Rejection::TimestampNotIncreasing => "timestamp_not_increasing",
            Rejection::RepeatedFrame => "repeated_frame",
            Rejection::NoiseFreeFrame => "noise_free_frame",
        }
    }
}

/// Limits of the gates. Defaults and how they were chosen:
#[derive(Clone, Debug)]
pub struct QualityLimits {
    /// Smallest eye distance in pixels: 12, the smallest face whose MiniFASNet crops are
    /// not upsampled. BlazeFace's box is about 2.5 eye distances (the golden cases), so at
    /// 12 px MiniFASNetV2's 2.7x crop is 81 px, its 80-px input; smaller faces would be
    /// scored on interpolated texture. (The smallest faces of the shared sequences, the
    /// printed photo in the GIF demo, have 12.5-14.8 px.)
    pub min_interocular: f32,
    /// Largest |yaw|, |pitch|, |roll| in degrees for a passive frame: 30 (MiniFASNet was
    /// trained on near-frontal crops; 30 degrees keeps the far cheek in the crop).
    pub max_pose_degrees: f32,
    /// Face box margin to the frame border, as a fraction of the box: 0 (any cut rejects).
    pub border_margin: f32,
    /// Largest move of the face centre between frames, in eye distances per second: 6
    /// (a head turning normally moves about 1-2 eye distances per second).
    pub max_speed: f32,
    /// Second face: a second detection above this score makes the frame ambiguous: 0.7.
    pub second_face_score: f32,
    /// Mean face luma (0..255) below which the frame is too dark, and above which it is
    /// too bright: 40 and 225. The shared photos and sequences span 97-179.
    pub min_brightness: f32,
    /// See `min_brightness`.
    pub max_brightness: f32,
    /// Backlight: the surround brighter than the face by more than this: 90 levels. The
    /// brightest surround among the shared photos (obama3.jpg, a chandelier hall) is 82
    /// above its face and still gives the right verdict.
    pub max_backlight: f32,
    /// Sharpness (FaceQuality::sharpness) below which the face is too blurry: 0.3. The
    /// shared material spans 0.37 (96x128 crops upscaled from video) to 1.9 (sharp photos);
    /// a 9-pixel box blur of live_T1 reads 0.24 (tests/engine.rs).
    pub min_sharpness: f32,
}

impl Default for QualityLimits {
    fn default() -> Self {
        QualityLimits {
            min_interocular: 12.0,
            max_pose_degrees: 30.0,
            border_margin: 0.0,
            max_speed: 6.0,
            second_face_score: 0.7,
            min_brightness: 40.0,
            max_brightness: 225.0,
            max_backlight: 90.0,
            min_sharpness: 0.3,
        }
    }
}

/// The measurements of one accepted frame that the cues and the fusion use.
#[derive(Clone, Debug)]
pub struct Observation {
    pub t: f64,
    pub live: f32,
    pub landmarks: Vec<Point>,
    pub pose: Pose,
    pub interocular: f32,
    pub centre: [f32; 2],
}

/// Checks one report. `previous` is the last observation (for the speed gate);
/// `pose_exempt` lifts the pose gate (during a head-turn challenge).
pub fn assess(report: &Report, t: f64, limits: &QualityLimits, previous: Option<&Observation>, pose_exempt: bool) -> Result<Observation, Rejection> {
    let face = report.faces.first().ok_or(Rejection::NoFace)?;
    if report.faces.iter().skip(1).any(|f| f.score >= limits.second_face_score) {
        return Err(Rejection::SeveralFaces);
    }
    let (Some(points), Some(liveness)) = (face.landmarks.as_ref(), face.liveness.as_ref()) else {
        return Err(Rejection::NoFace);
    };
    if face.presence < 0.5 {
        return Err(Rejection::NoFace);
    }
    let b = face.face_box;
    let margin = limits.border_margin * (b.x1 - b.x0);
    if b.x0 < margin || b.y0 < margin || b.x1 > report.width as f32 - margin || b.y1 > report.height as f32 - margin {
        return Err(Rejection::FaceCutByBorder);
    }
    if let Some(q) = face.quality {
        if q.brightness < limits.min_brightness {
            return Err(Rejection::TooDark);
        }
        if q.brightness > limits.max_brightness {
            return Err(Rejection::TooBright);
        }
        if q.background - q.brightness > limits.max_backlight {
            return Err(Rejection::Backlit);
        }
        if q.sharpness < limits.min_sharpness {
            return Err(Rejection::TooBlurry);
        }
    }
    let interocular = landmarks::interocular(points);
    if interocular < limits.min_interocular {
        return Err(Rejection::FaceTooSmall);
    }
    let pose = landmarks::pose(points);
    let limit = limits.max_pose_degrees;
    if !pose_exempt && (pose.yaw.abs() > limit || pose.pitch.abs() > limit || pose.roll.abs() > limit) {
        return Err(Rejection::PoseNotFrontal);
    }
    let centre = [(b.x0 + b.x1) / 2.0, (b.y0 + b.y1) / 2.0];
    if let Some(p) = previous {
        let dt = (t - p.t).max(1e-3) as f32;
        let moved = ((centre[0] - p.centre[0]).powi(2) + (centre[1] - p.centre[1]).powi(2)).sqrt() / interocular;
        if moved / dt > limits.max_speed {
            return Err(Rejection::MovedTooFast);
        }
    }
    Ok(Observation { t, live: liveness.live, landmarks: points.clone(), pose, interocular, centre })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Face, FaceBox, FaceQuality, Liveness, Timings};

    fn report(faces: Vec<Face>) -> Report {
        Report { width: 640, height: 480, faces, timings: Timings::default() }
    }

    /// A face in the middle of the frame, well lit and sharp, with landmarks.
    fn face() -> Face {
        Face {
            face_box: FaceBox { x0: 200.0, y0: 120.0, x1: 400.0, y1: 360.0 },
            score: 0.95,
            keypoints: [[0.0; 2]; 6],
            landmarks: Some(vec![[300.0, 240.0, 0.0]; 468]),
            presence: 0.99,
            quality: Some(FaceQuality { brightness: 130.0, contrast: 40.0, sharpness: 0.9, background: 120.0 }),
            liveness: Some(Liveness::from_softmaxes([0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0; 4], [[0; 4]; 2])),
        }
    }

    fn rejection(faces: Vec<Face>) -> Option<Rejection> {
        assess(&report(faces), 0.0, &QualityLimits::default(), None, false).err()
    }

    #[test]
    fn each_gate_rejects_with_its_reason() {
        assert_eq!(rejection(vec![]), Some(Rejection::NoFace));
        assert_eq!(rejection(vec![face(), Face { score: 0.7, ..face() }]), Some(Rejection::SeveralFaces));
        assert_eq!(rejection(vec![Face { presence: 0.4, ..face() }]), Some(Rejection::NoFace));
        assert_eq!(rejection(vec![Face { face_box: FaceBox { x0: -1.0, ..face().face_box }, ..face() }]), Some(Rejection::FaceCutByBorder));
        assert_eq!(rejection(vec![Face { face_box: FaceBox { y1: 481.0, ..face().face_box }, ..face() }]), Some(Rejection::FaceCutByBorder));
        let with = |q: FaceQuality| vec![Face { quality: Some(q), ..face() }];
        let good = face().quality.unwrap();
        assert_eq!(rejection(with(FaceQuality { brightness: 39.0, background: 39.0, ..good })), Some(Rejection::TooDark));
        assert_eq!(rejection(with(FaceQuality { brightness: 226.0, background: 226.0, ..good })), Some(Rejection::TooBright));
        assert_eq!(rejection(with(FaceQuality { background: 221.0, ..good })), Some(Rejection::Backlit));
        assert_eq!(rejection(with(FaceQuality { sharpness: 0.29, ..good })), Some(Rejection::TooBlurry));
        // All the landmarks on one point: no eye distance.
        assert_eq!(rejection(vec![face()]), Some(Rejection::FaceTooSmall));
    }

    #[test]
    fn a_weak_second_face_does_not_reject() {
        let faces = vec![face(), Face { score: 0.69, ..face() }];
        assert_ne!(rejection(faces), Some(Rejection::SeveralFaces));
    }

    #[test]
    fn reason_codes_are_distinct() {
        use Rejection::*;
        let all = [
            NoFace,
            SeveralFaces,
            FaceTooSmall,
            FaceCutByBorder,
            PoseNotFrontal,
            TooDark,
            TooBright,
            Backlit,
            TooBlurry,
            MovedTooFast,
            UnreadableFrame,
            TimestampNotIncreasing,
            RepeatedFrame,
            NoiseFreeFrame,
        ];
        let mut codes: Vec<&str> = all.iter().map(|r| r.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
