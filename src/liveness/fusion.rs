//! Passive fusion: many frames' MiniFASNet live probabilities into one decision.
//!
//! The rule, in plain words: once at least `min_frames` frames have been accepted, take
//! their live probabilities, drop the highest and lowest 10 % (a few glitched frames cannot
//! swing it), and average the rest. At or above `live_threshold` (0.7) and with at least
//! `agreement` (80 %) of the frames saying live (p >= 0.5): live. At or below
//! `spoof_threshold` (0.3) with 80 % of the frames saying spoof: spoof. Anything between
//! keeps collecting frames until the time or frame limit, and then is inconclusive.
//! Thresholds chosen on the shared material: the GRID speakers sit at 0.95-1.0, the
//! GIF demo's replay and print parts under 0.2 (shared/golden/sequences). `min_frames` 8
//! is a third of a second at 25 fps; with 80 % agreement at least 7 of 8 frames must agree,
//! so one odd frame cannot decide (MiniFASNet flips about 1 live frame in 10 on the small
//! faces of the GIF demo).

#[derive(Clone, Copy, Debug)]
pub struct FusionRule {
    pub min_frames: usize,
    pub live_threshold: f32,
    pub spoof_threshold: f32,
    pub agreement: f32,
    pub trim: f32,
}

impl Default for FusionRule {
    fn default() -> Self {
        FusionRule { min_frames: 8, live_threshold: 0.7, spoof_threshold: 0.3, agreement: 0.8, trim: 0.1 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    Live,
    Spoof,
    Undecided,
}

/// The trimmed mean of `scores` (the fused score).
pub fn trimmed_mean(scores: &[f32], trim: f32) -> f32 {
    if scores.is_empty() {
        return 0.0;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f32::total_cmp);
    let cut = ((sorted.len() as f32 * trim).floor() as usize).min((sorted.len() - 1) / 2);
    let kept = &sorted[cut..sorted.len() - cut];
    kept.iter().sum::<f32>() / kept.len() as f32
}

pub fn decide(scores: &[f32], rule: &FusionRule) -> (Decision, f32) {
    let fused = trimmed_mean(scores, rule.trim);
    if scores.len() < rule.min_frames {
        return (Decision::Undecided, fused);
    }
    let live_share = scores.iter().filter(|p| **p >= 0.5).count() as f32 / scores.len() as f32;
    if fused >= rule.live_threshold && live_share >= rule.agreement {
        (Decision::Live, fused)
    } else if fused <= rule.spoof_threshold && 1.0 - live_share >= rule.agreement {
        (Decision::Spoof, fused)
    } else {
        (Decision::Undecided, fused)
    }
}
