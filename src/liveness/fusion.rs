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

/// The passive fusion rule (module documentation: how each default was chosen).
#[derive(Clone, Copy, Debug)]
pub struct FusionRule {
    /// Accepted frames before any decision: 8.
    pub min_frames: usize,
    /// Fused live probability at or above which the session is live: 0.7.
    pub live_threshold: f32,
    /// At or below which it is a spoof: 0.3.
    pub spoof_threshold: f32,
    /// Share of frames that must agree with the decision individually: 0.8.
    pub agreement: f32,
    /// Share of the highest and of the lowest scores dropped before averaging: 0.1.
    pub trim: f32,
}

impl Default for FusionRule {
    fn default() -> Self {
        FusionRule { min_frames: 8, live_threshold: 0.7, spoof_threshold: 0.3, agreement: 0.8, trim: 0.1 }
    }
}

/// What the scores say so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Live by the rule.
    Live,
    /// Spoof by the rule.
    Spoof,
    /// Not decisive (yet).
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

/// The decision over the accepted frames' live probabilities, and the fused score.
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

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: FusionRule = FusionRule { min_frames: 8, live_threshold: 0.7, spoof_threshold: 0.3, agreement: 0.8, trim: 0.1 };

    #[test]
    fn the_trim_drops_the_extremes_before_averaging() {
        // 10 scores: one from each end is dropped.
        let scores = [0.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0];
        assert!((trimmed_mean(&scores, 0.1) - 0.9).abs() < 1e-6);
        assert_eq!(trimmed_mean(&[], 0.1), 0.0);
        assert_eq!(trimmed_mean(&[0.25], 0.5), 0.25, "one score is never trimmed away");
    }

    #[test]
    fn too_few_frames_never_decide() {
        assert_eq!(decide(&[1.0; 7], &RULE).0, Decision::Undecided);
        assert_eq!(decide(&[1.0; 8], &RULE).0, Decision::Live);
        assert_eq!(decide(&[0.0; 8], &RULE).0, Decision::Spoof);
    }

    #[test]
    fn a_high_mean_without_agreement_is_not_live() {
        // Mean 0.75 but only 7 of 10 frames individually live (< 80 %).
        let scores = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.4, 0.4, 0.4];
        let (decision, fused) = decide(&scores, &RULE);
        assert!(fused >= 0.7, "fused {fused}");
        assert_eq!(decision, Decision::Undecided);
    }

    #[test]
    fn scores_between_the_thresholds_stay_undecided() {
        assert_eq!(decide(&[0.5; 20], &RULE).0, Decision::Undecided);
        assert_eq!(decide(&[0.31; 20], &RULE).0, Decision::Undecided);
        assert_eq!(decide(&[0.25; 20], &RULE).0, Decision::Spoof);
        assert_eq!(decide(&[0.75; 20], &RULE).0, Decision::Live);
    }
}
