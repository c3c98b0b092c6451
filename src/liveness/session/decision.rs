//! How a session decides (README "How a session decides"): fusion's decision, then the
//! injection, flatness and confirmation rules, challenges, and the limits. session.rs
//! takes the frames in and keeps the state this reads.

use std::collections::BTreeMap;

use crate::liveness::fusion::{self, Decision};
use crate::liveness::quality::Rejection;
use crate::liveness::session::Session;
use crate::liveness::verdict::{Cues, Verdict, VerdictKind};

impl Session<'_> {
    /// Frames rejected as repeats of earlier ones.
    fn repeated_frames(&self) -> usize {
        [Rejection::RepeatedFrame, Rejection::NoiseFreeFrame].iter().filter_map(|r| self.rejected.get(r)).sum()
    }

    fn flatness(&mut self) -> Option<f32> {
        let rule = self.options.flatness;
        self.cues.motion_pairs = self.parallax.len();
        if self.parallax.len() < rule.min_pairs {
            return None;
        }
        let mut sorted = self.parallax.clone();
        sorted.sort_by(f32::total_cmp);
        Some(sorted[sorted.len() / 2])
    }

    pub(super) fn decide(&mut self, finish: bool) -> Option<Verdict> {
        let (decision, score) = fusion::decide(&self.scores, &self.options.fusion);
        let flatness = self.flatness();
        self.cues.flatness = flatness;
        let rule = self.options.flatness;
        let (flat_below, head_above, measured_on) = if self.pixels_seen {
            (rule.texture_flat_below, rule.texture_head_above, "the face's texture moved as one plane")
        } else {
            (rule.flat_below, rule.head_above, "the nose's landmarks moved with the plane of the face")
        };
        let out_of_time = self.last_t >= self.options.time_limit.as_secs_f64() || self.frames >= self.options.max_frames;
        let finish = finish || out_of_time;
        let challenges_done = self.next_challenge >= self.challenges.len();
        let mut reasons = Vec::new();
        let repeats = self.repeated_frames();
        // MiniFASNet alone never says live: a photo held still gives it nothing else to go
        // on. A sign of a living 3-D face must confirm it: a natural blink, the nose's
        // parallax as the head moves, or (active mode) challenges a recording cannot know.
        let blinked = self.cues.blinks > 0;
        let parallax = flatness.is_some_and(|f| f >= head_above);
        let confirmed = !self.options.confirm_live || !self.challenges.is_empty() || blinked || parallax;
        let kind = if repeats >= self.options.fusion.min_frames && 2 * repeats > self.frames {
            reasons.push(format!(
                "injection: {repeats} of {} frames repeat an earlier frame's pixels, within a sensor's noise (a still image streamed, not a camera)",
                self.frames
            ));
            Some(VerdictKind::Spoof)
        } else if flatness.is_some_and(|f| f <= flat_below) {
            reasons.push(format!(
                "flat: over {} frame pairs with motion {measured_on} (nose parallax {:.4} <= {flat_below:.4})",
                self.parallax.len(),
                flatness.unwrap_or(0.0),
            ));
            Some(VerdictKind::Spoof)
        } else if decision == Decision::Spoof {
            reasons.push(format!(
                "passive: MiniFASNet's fused live probability {score:.3} <= {:.2} over {} frames",
                self.options.fusion.spoof_threshold,
                self.scores.len()
            ));
            Some(VerdictKind::Spoof)
        } else if decision == Decision::Live && challenges_done && confirmed {
            reasons.push(format!(
                "passive: MiniFASNet's fused live probability {score:.3} >= {:.2} over {} frames",
                self.options.fusion.live_threshold,
                self.scores.len()
            ));
            if !self.challenges.is_empty() {
                reasons.push(format!("active: {} challenges met in order", self.challenges.len()));
            }
            if blinked {
                reasons.push(format!("blinks: {} natural blinks in {:.1} s", self.cues.blinks, self.last_t));
            }
            if parallax {
                reasons.push(format!("geometry: the nose moved out of the face's plane (parallax {:.4})", flatness.unwrap_or(0.0)));
            }
            Some(VerdictKind::Live)
        } else if finish {
            if !challenges_done {
                let missing: Vec<&str> = self.challenges[self.next_challenge..].iter().map(|c| c.as_str()).collect();
                reasons.push(format!("active: challenges not met in time: {}", missing.join(", ")));
            }
            if decision == Decision::Live && !confirmed {
                reasons.push(format!(
                    "passive: MiniFASNet's fused live probability {score:.3} is live, but no sign of a living 3-D face came in {:.1} s (no natural blink, no parallax as the head moved): a photo held still looks the same",
                    self.last_t
                ));
            }
            if decision == Decision::Undecided {
                reasons.push(format!(
                    "passive: fused live probability {score:.3} over {} accepted frames is not decisive (needs {} frames and >= {:.2} or <= {:.2})",
                    self.scores.len(),
                    self.options.fusion.min_frames,
                    self.options.fusion.live_threshold,
                    self.options.fusion.spoof_threshold
                ));
            }
            Some(VerdictKind::Inconclusive)
        } else {
            None
        };
        kind.map(|kind| {
            if let Some((reason, count)) = self.rejected.iter().max_by_key(|(_, c)| **c) {
                reasons.push(format!("{} of {} frames rejected, most for {}: {count}", self.rejected.values().sum::<usize>(), self.frames, reason.as_str()));
            }
            Verdict {
                kind,
                score,
                frames_accepted: self.accepted.len(),
                frames_rejected: self.rejected.values().sum(),
                rejections: self.rejected.iter().map(|(r, c)| (r.as_str(), *c)).collect(),
                cues: self.cues.clone(),
                reasons,
            }
        })
    }
}

/// `decide(true)` always decides; this keeps `finish` total without a panic path.
pub(super) fn undecided(cues: &Cues) -> Verdict {
    Verdict {
        kind: VerdictKind::Inconclusive,
        score: 0.0,
        frames_accepted: 0,
        frames_rejected: 0,
        rejections: BTreeMap::new(),
        cues: cues.clone(),
        reasons: vec!["no decision".into()],
    }
}
