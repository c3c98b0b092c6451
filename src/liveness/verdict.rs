//! What a session concludes.

use std::collections::BTreeMap;

use crate::liveness::challenge::Challenge;

/// Live, spoof or inconclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    /// A living person in front of the camera.
    Live,
    /// A presentation attack (print, screen, flat face).
    Spoof,
    /// Not enough evidence either way within the limits.
    Inconclusive,
}

impl VerdictKind {
    /// "live", "spoof" or "inconclusive".
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Live => "live",
            VerdictKind::Spoof => "spoof",
            VerdictKind::Inconclusive => "inconclusive",
        }
    }
}

/// What the cues measured over the session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cues {
    /// Natural blinks counted.
    pub blinks: u32,
    /// Median nose parallax over frame pairs with enough motion (None: too little motion).
    pub flatness: Option<f32>,
    /// Frame pairs with enough shape change for the flatness cue.
    pub motion_pairs: usize,
    /// Largest yaw seen, degrees.
    pub max_yaw: f32,
    /// Smallest yaw seen, degrees.
    pub min_yaw: f32,
    /// Widest mouth opening seen (inner lips apart over mouth width).
    pub max_mouth_openness: f32,
    /// Active mode: each challenge and whether it was met.
    pub challenges: Vec<(Challenge, bool)>,
}

/// What a session concludes, with its reasons; never pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Live, spoof or inconclusive.
    pub kind: VerdictKind,
    /// The fused live probability (trimmed mean over the accepted frames).
    pub score: f32,
    /// Frames that passed the quality gates.
    pub frames_accepted: usize,
    /// Frames rejected by them.
    pub frames_rejected: usize,
    /// Rejected frames by reason.
    pub rejections: BTreeMap<&'static str, usize>,
    /// What each cue measured.
    pub cues: Cues,
    /// Why, in words, most decisive first.
    pub reasons: Vec<String>,
}
