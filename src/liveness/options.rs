//! How a session decides: its mode, the rules of each cue and its limits.

use std::time::Duration;

use crate::liveness::challenge::Challenge;
use crate::liveness::fusion::FusionRule;
use crate::liveness::quality::QualityLimits;

/// Whether a session asks the person to do anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// MiniFASNet fusion and the geometry cue only; the person just looks at the camera.
    Passive,
    /// Also a random sequence of challenges, met in order within the time limit.
    Active,
}

/// When the flatness cue decides. A session that sees the frames' pixels (every `push`)
/// measures the face's texture (texture.rs); one fed reports alone (`push_report`) has
/// only Face Mesh's landmarks (geometry.rs), which move like a head even on a photo turned
/// in front of the camera (ACCURACY.md), and so has its own, looser thresholds.
///
/// The landmark thresholds were chosen on synthetic faces (tests/session.rs: the canonical
/// face mesh turned as a head, and the same mesh as a flat photo moved and tilted, landmark
/// noise 0.25-1 px at a 60-px eye distance): a pair of frames counts only once the face's
/// shape changed clearly (a head turned by about 10 degrees, a photo tilted by about 20),
/// and only on faces large enough that landmark noise is a small part of the eye distance.
/// The texture thresholds are in the fields' own notes. Below them the cue says nothing.
#[derive(Clone, Copy, Debug)]
pub struct FlatnessRule {
    /// Smallest eye distance (px) the landmark cue works on.
    pub min_interocular: f32,
    /// Shape change (geometry::shape_change) a pair of frames needs before it counts.
    pub min_shape_change: f32,
    /// Pairs needed before the cue decides (both measures).
    pub min_pairs: usize,
    /// Median landmark nose parallax at or below this: a plane (spoof).
    pub flat_below: f32,
    /// At or above this: a head.
    pub head_above: f32,
    /// Smallest eye distance (px) the texture cue works on: its patches reach a fifth of
    /// the eye distance from their centre, at least 6 px. Measured down to 17 px (the GIF
    /// demo's live part, a rendered print 0.8 m away).
    pub texture_min_interocular: f32,
    /// Texture shape change (texture::TextureMotion::shape_change) a pair needs before it
    /// counts: a rendered print held with hand tremor stays under 0.008, tilted by 20
    /// degrees it reaches 0.024, waved by 30 degrees 0.037.
    pub texture_min_shape_change: f32,
    /// Median texture nose parallax at or below this: a plane (spoof). Rendered prints
    /// moving measure 0.0014-0.009.
    pub texture_flat_below: f32,
    /// At or above this: a head.
    pub texture_head_above: f32,
}

impl Default for FlatnessRule {
    fn default() -> Self {
        FlatnessRule {
            min_interocular: 30.0,
            min_shape_change: 0.05,
            min_pairs: 5,
            flat_below: 0.05,
            head_above: 0.1,
            texture_min_interocular: 16.0,
            texture_min_shape_change: 0.015,
            texture_flat_below: 0.015,
            texture_head_above: 0.03,
        }
    }
}

/// How a session decides.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// Passive or active.
    pub mode: Mode,
    /// How MiniFASNet's per-frame scores are fused.
    pub fusion: FusionRule,
    /// Which frames count.
    pub quality: QualityLimits,
    /// When the flatness cue decides.
    pub flatness: FlatnessRule,
    /// The session gives up (inconclusive) after this long.
    pub time_limit: Duration,
    /// Or after this many frames.
    pub max_frames: usize,
    /// Active mode: the challenges to ask for; None draws 2 or 3 at random (the default).
    pub challenges: Option<Vec<Challenge>>,
    /// Passive mode says live only once a sign of a living 3-D face confirms MiniFASNet: a
    /// natural blink or the nose's parallax as the head moves (true, the default). False
    /// lets MiniFASNet's fused score decide alone, as the published pipeline does.
    pub confirm_live: bool,
    /// BlazeFace runs on the session's first frame, whenever Face Mesh loses the face (its
    /// presence under 0.5) and at least once in this many frames, so that a second face
    /// coming in is seen; on the frames between, the face is followed from the last
    /// frame's landmarks on the GPU (MediaPipe's tracking). 1 runs BlazeFace on every frame.
    /// Default 10: a third of a second at 30 frames per second.
    pub detect_every: u32,
}

impl SessionOptions {
    /// Passive mode with the documented defaults: 10 s, 300 frames.
    pub fn passive() -> Self {
        SessionOptions {
            mode: Mode::Passive,
            fusion: FusionRule::default(),
            quality: QualityLimits::default(),
            flatness: FlatnessRule::default(),
            time_limit: Duration::from_secs(10),
            max_frames: 300,
            challenges: None,
            confirm_live: true,
            detect_every: 10,
        }
    }

    /// Active mode: also 2 or 3 random challenges, 20 s.
    pub fn active() -> Self {
        SessionOptions { mode: Mode::Active, time_limit: Duration::from_secs(20), ..SessionOptions::passive() }
    }
}
