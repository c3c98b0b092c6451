//! Measurements on Face Mesh's 468 landmarks: eye and mouth openness, head pose, eye
//! distance. The engine reports the best face's pose and eye distance (and judges a single
//! check by them, judge.rs); the session's cues measure the rest.
//!
//! Indices are MediaPipe's canonical face mesh (shared/models/canonical_face_model.obj has
//! the same vertex order). "Right" and "left" are the subject's: for a camera facing the
//! person without mirroring, the subject's right eye is on the image's left.

/// Right eye: outer corner, inner corner, upper lid (2), lower lid (2).
pub const RIGHT_EYE: [usize; 6] = [33, 133, 160, 158, 144, 153];
/// Left eye: inner corner, outer corner, upper lid (2), lower lid (2).
pub const LEFT_EYE: [usize; 6] = [362, 263, 385, 387, 380, 373];
/// Inner lips (upper, lower) and mouth corners (right, left).
pub const MOUTH: [usize; 4] = [13, 14, 78, 308];
/// The right cheek at the face's outline.
pub const RIGHT_CHEEK: usize = 234;
/// The left cheek at the face's outline.
pub const LEFT_CHEEK: usize = 454;
/// The top of the forehead.
pub const FOREHEAD: usize = 10;
/// The bottom of the chin.
pub const CHIN: usize = 152;
/// The nose, from bridge to tip and the nostril wings: the points that stand out of the
/// face's plane (held out of the flatness fit).
pub const NOSE: [usize; 8] = [1, 4, 5, 6, 195, 197, 48, 278];
/// Points spread over the face away from the nose, where a plane fits a photo exactly:
/// eye corners and lids, brows, mouth, chin, forehead, cheeks.
pub const PLANE: [usize; 24] = [33, 133, 160, 144, 362, 263, 385, 380, 70, 105, 107, 336, 334, 300, 61, 291, 13, 14, 152, 10, 234, 454, 172, 397];

/// One landmark: x, y in image pixels, z in the same scale (negative towards the camera).
pub type Point = [f32; 3];

fn distance(a: Point, b: Point) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn eye_aspect_ratio(points: &[Point], eye: [usize; 6]) -> f32 {
    let p = |i: usize| points[eye[i]];
    let width = distance(p(0), p(1));
    if width <= f32::EPSILON {
        return 0.0;
    }
    (distance(p(2), p(4)) + distance(p(3), p(5))) / (2.0 * width)
}

/// Eye aspect ratio (Soukupova and Cech 2016): lid distance over eye width, both eyes
/// averaged. About 0.25-0.35 open, under 0.15 closed.
pub fn eye_openness(points: &[Point]) -> f32 {
    (eye_aspect_ratio(points, RIGHT_EYE) + eye_aspect_ratio(points, LEFT_EYE)) / 2.0
}

/// Inner-lip gap over mouth width: near 0 closed, above 0.4 clearly open.
pub fn mouth_openness(points: &[Point]) -> f32 {
    let width = distance(points[MOUTH[2]], points[MOUTH[3]]);
    if width <= f32::EPSILON {
        return 0.0;
    }
    distance(points[MOUTH[0]], points[MOUTH[1]]) / width
}

/// Distance between the eye centres, in pixels.
pub fn interocular(points: &[Point]) -> f32 {
    let centre = |eye: [usize; 6]| {
        let (a, b) = (points[eye[0]], points[eye[1]]);
        [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0, 0.0]
    };
    distance(centre(RIGHT_EYE), centre(LEFT_EYE))
}

/// Head pose in degrees from the landmarks' x, y and depth z (Face Mesh's z is scaled like
/// x, negative towards the camera).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pose {
    /// Positive when the subject turns to their left (the nose moves to the image's right).
    pub yaw: f32,
    /// Positive when the subject looks up.
    pub pitch: f32,
    /// Positive when the subject's left eye is lower in the image than the right.
    pub roll: f32,
}

/// The head's pose: yaw from the cheeks' depths, pitch from forehead to chin, roll from the
/// eyes' outer corners.
pub fn pose(points: &[Point]) -> Pose {
    let (right, left) = (points[RIGHT_CHEEK], points[LEFT_CHEEK]);
    let yaw = (left[2] - right[2]).atan2(left[0] - right[0]);
    let (top, bottom) = (points[FOREHEAD], points[CHIN]);
    let pitch = (top[2] - bottom[2]).atan2(bottom[1] - top[1]);
    let (r, l) = (points[RIGHT_EYE[0]], points[LEFT_EYE[1]]);
    let roll = (l[1] - r[1]).atan2(l[0] - r[0]);
    Pose { yaw: yaw.to_degrees(), pitch: pitch.to_degrees(), roll: roll.to_degrees() }
}
