//! Whether a check's verdict can stand: the quality gates. MiniFASNet answers "live" or
//! "spoof" for any crop, including a face cut by the border, turned away, in the dark or
//! out of focus, where it was never trained and its answer means nothing; a check whose best
//! face fails a gate says "inconclusive" with the gates' reason codes instead (as
//! ArcSoft's and KBY-AI's SDKs return them), and the raw MiniFASNet result stays in the
//! report ([`Face::liveness`]). Sessions use the same gates on every frame
//! (src/liveness/quality.rs adds the motion gate).

use crate::engine::landmarks;
use crate::engine::report::{CheckVerdict, Face, Label, Report};

/// Why a frame (or a single check) cannot be judged, as reason codes: the gates below,
/// then the session's own (motion, unreadable or repeated frames, time).
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

/// Limits of the gates (a single check's and a session's frames). Defaults and how they
/// were chosen:
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

/// The gates one frame's report fails, in order (empty: it can be judged). `pose_exempt`
/// lifts the pose gate (a session during a head-turn challenge). The best face's pose and
/// eye distance come from the report, or from its landmarks in a report built by hand.
pub fn gates(report: &Report, limits: &QualityLimits, pose_exempt: bool) -> Vec<Rejection> {
    let Some(face) = report.faces.first() else { return vec![Rejection::NoFace] };
    let mut failed = Vec::new();
    if report.faces.iter().skip(1).any(|f| f.score >= limits.second_face_score) {
        failed.push(Rejection::SeveralFaces);
    }
    if face.presence < 0.5 {
        // BlazeFace's box holds nothing Face Mesh takes for a face.
        failed.push(Rejection::NoFace);
    }
    let b = face.face_box;
    let margin = limits.border_margin * (b.x1 - b.x0);
    if b.x0 < margin || b.y0 < margin || b.x1 > report.width as f32 - margin || b.y1 > report.height as f32 - margin {
        failed.push(Rejection::FaceCutByBorder);
    }
    if let Some(q) = face.quality {
        if q.brightness < limits.min_brightness {
            failed.push(Rejection::TooDark);
        }
        if q.brightness > limits.max_brightness {
            failed.push(Rejection::TooBright);
        }
        if q.background - q.brightness > limits.max_backlight {
            failed.push(Rejection::Backlit);
        }
        if q.sharpness < limits.min_sharpness {
            failed.push(Rejection::TooBlurry);
        }
    }
    if eye_distance(face).is_some_and(|d| d < limits.min_interocular) {
        failed.push(Rejection::FaceTooSmall);
    }
    let limit = limits.max_pose_degrees;
    if !pose_exempt && pose(face).is_some_and(|p| p.yaw.abs() > limit || p.pitch.abs() > limit || p.roll.abs() > limit) {
        failed.push(Rejection::PoseNotFrontal);
    }
    failed
}

/// The face's eye distance in pixels: reported, or measured on its landmarks.
pub fn eye_distance(face: &Face) -> Option<f32> {
    face.eye_distance.or_else(|| face.landmarks.as_deref().map(landmarks::interocular))
}

/// The face's head pose: reported, or measured on its landmarks.
pub fn pose(face: &Face) -> Option<landmarks::Pose> {
    face.pose.or_else(|| face.landmarks.as_deref().map(landmarks::pose))
}

impl Report {
    /// The check's verdict under the default gates ([`QualityLimits::default`]):
    /// `no_face`, `inconclusive` when the best face fails a gate ([`Report::reasons`]
    /// says which), or MiniFASNet's label on the best face.
    pub fn verdict(&self) -> CheckVerdict {
        self.judge(&QualityLimits::default()).0
    }

    /// Why the verdict is `inconclusive` under the default gates (empty otherwise).
    pub fn reasons(&self) -> Vec<Rejection> {
        self.judge(&QualityLimits::default()).1
    }

    /// The verdict under `limits`, with the gates the best face failed.
    pub fn judge(&self, limits: &QualityLimits) -> (CheckVerdict, Vec<Rejection>) {
        let Some(liveness) = self.faces.first().and_then(|f| f.liveness.as_ref()) else {
            return (CheckVerdict::NoFace, Vec::new());
        };
        let failed = gates(self, limits, false);
        if !failed.is_empty() {
            return (CheckVerdict::Inconclusive, failed);
        }
        let verdict = match liveness.label {
            Label::Live => CheckVerdict::Live,
            Label::Spoof => CheckVerdict::Spoof,
        };
        (verdict, failed)
    }

    /// MiniFASNet's label on the best face with no gate applied: the published pipeline's
    /// answer (parity with Silent-Face), `no_face` without a face.
    pub fn model_verdict(&self) -> CheckVerdict {
        match self.faces.first().and_then(|f| f.liveness.as_ref()).map(|l| l.label) {
            Some(Label::Live) => CheckVerdict::Live,
            Some(Label::Spoof) => CheckVerdict::Spoof,
            None => CheckVerdict::NoFace,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::report::{FaceBox, FaceQuality, Liveness, Timings};

    fn report(face: Face) -> Report {
        Report { width: 640, height: 480, faces: vec![face], timings: Timings::default() }
    }

    fn face() -> Face {
        Face {
            face_box: FaceBox { x0: 200.0, y0: 120.0, x1: 400.0, y1: 360.0 },
            score: 0.95,
            keypoints: [[0.0; 2]; 6],
            landmarks: None,
            presence: 0.99,
            quality: Some(FaceQuality { brightness: 130.0, contrast: 40.0, sharpness: 0.9, background: 120.0 }),
            liveness: Some(Liveness::from_softmaxes([0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0; 4], [[0; 4]; 2])),
            pose: Some(landmarks::Pose { yaw: 5.0, pitch: -3.0, roll: 2.0 }),
            eye_distance: Some(60.0),
        }
    }

    #[test]
    fn a_face_that_passes_every_gate_gets_minifasnets_verdict() {
        assert_eq!(report(face()).judge(&QualityLimits::default()), (CheckVerdict::Live, vec![]));
        assert_eq!(report(face()).model_verdict(), CheckVerdict::Live);
    }

    #[test]
    fn every_failed_gate_is_a_reason_and_the_model_verdict_stays() {
        let bad = Face {
            face_box: FaceBox { x0: -57.0, ..face().face_box },
            quality: Some(FaceQuality { brightness: 20.0, background: 30.0, sharpness: 0.1, ..face().quality.unwrap() }),
            pose: Some(landmarks::Pose { yaw: 45.0, pitch: 0.0, roll: 0.0 }),
            eye_distance: Some(8.0),
            ..face()
        };
        let (verdict, reasons) = report(bad).judge(&QualityLimits::default());
        use Rejection::*;
        assert_eq!((verdict, reasons), (CheckVerdict::Inconclusive, vec![FaceCutByBorder, TooDark, TooBlurry, FaceTooSmall, PoseNotFrontal]));
        let mut two = report(face());
        two.faces.push(Face { score: 0.9, liveness: None, ..face() });
        assert_eq!(two.reasons(), vec![SeveralFaces]);
        assert_eq!(two.model_verdict(), CheckVerdict::Live);
        let roll = Face { pose: Some(landmarks::Pose { yaw: 0.0, pitch: 0.0, roll: -31.0 }), ..face() };
        assert_eq!(report(roll).reasons(), vec![PoseNotFrontal]);
        assert_eq!(
            gates(&report(Face { pose: Some(landmarks::Pose { yaw: 40.0, pitch: 0.0, roll: 0.0 }), ..face() }), &QualityLimits::default(), true),
            vec![]
        );
    }

    #[test]
    fn no_face_is_no_face_without_reasons() {
        let empty = Report { width: 64, height: 64, faces: vec![], timings: Timings::default() };
        assert_eq!(empty.judge(&QualityLimits::default()), (CheckVerdict::NoFace, vec![]));
        assert_eq!(gates(&empty, &QualityLimits::default(), false), vec![Rejection::NoFace]);
    }
}
