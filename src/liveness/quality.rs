//! A session's frames through the quality gates (the engine's, src/engine/judge.rs, which a
//! single check applies too) and the session's own motion gate: a frame that fails one is
//! not used, and the reason is counted.

pub use crate::engine::{QualityLimits, Rejection};
use crate::engine::landmarks::{self, Point, Pose};
use crate::engine::{Report, judge};

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
    if let Some(&failed) = judge::gates(report, limits, pose_exempt).first() {
        return Err(failed);
    }
    let face = report.faces.first().ok_or(Rejection::NoFace)?;
    let (Some(points), Some(liveness)) = (face.landmarks.as_ref(), face.liveness.as_ref()) else {
        return Err(Rejection::NoFace);
    };
    let (interocular, pose) = (landmarks::interocular(points), landmarks::pose(points));
    let b = face.face_box;
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
            pose: None,
            eye_distance: None,
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
