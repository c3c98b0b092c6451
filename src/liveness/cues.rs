//! Per-frame cues turned into events: blinks, an open mouth, head turns.

use std::collections::VecDeque;

/// Frames of recent eye openness the baseline is the median of.
const BASELINE_FRAMES: usize = 15;
/// A blink starts when the eyes fall under this fraction of their recent median and ends
/// when they are back above the second. Chosen on the shared sequences' Face Mesh output
/// (shared/golden/sequences): example_2blinks dips to 0.72 and 0.83 of its median in its two
/// blinks, GRID speakers to 0.52-0.63; open-eye noise and slow drifts stay above 0.87.
const CLOSED_FRACTION: f32 = 0.85;
const REOPENED_FRACTION: f32 = 0.92;
/// Longer closures are not blinks (eyes shut, or a face lost): 0.5 s.
const MAX_BLINK_SECONDS: f64 = 0.5;
/// Where the frames' pixels are seen, a closure counts as a blink only if the eyes'
/// texture changed by at least this much in it (texture::TextureMotion::eye_change): a
/// photo tilted back shortens Face Mesh's lids with the rest of the face, but its eyes
/// keep their texture. Measured on the shared GRID speakers (examples/error_rates.rs,
/// LIVESHADE_PROBE): their blinks change it by 0.47-0.66, open eyes by 0.01-0.06 (0.12 as
/// the lids start to fall); the rendered prints' eyes by at most 0.05.
pub const MIN_BLINK_EYE_CHANGE: f32 = 0.25;

/// Counts blinks in a stream of eye-openness values (landmarks::eye_openness).
#[derive(Default)]
pub struct BlinkCounter {
    recent: VecDeque<f32>,
    closed_since: Option<(f64, f32)>,
    /// The most the eyes' texture changed in the closure under way (None: not measured).
    closure_eye_change: Option<f32>,
    pub blinks: u32,
    /// Closures that would have been blinks but left the eyes' texture as it was.
    pub rigid_closures: u32,
}

impl BlinkCounter {
    fn baseline(&self) -> Option<f32> {
        if self.recent.len() < 5 {
            return None;
        }
        let mut sorted: Vec<f32> = self.recent.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        Some(sorted[sorted.len() / 2])
    }

    /// Whether the eyes are closing or closed now (a blink under way): the face's texture
    /// around them is changing.
    pub fn eyes_closed(&self) -> bool {
        self.closed_since.is_some()
    }

    /// Feeds one frame's openness at time `t` (seconds); true when a blink just ended.
    /// Without the pixels: every closure short enough is a blink.
    pub fn push(&mut self, t: f64, openness: f32) -> bool {
        self.push_seen(t, openness, None, false)
    }

    /// As [`BlinkCounter::push`] for a session that sees the pixels (`pixels`): the
    /// frame's eye texture change, where measured, and a closure counts only if it changed.
    pub fn push_seen(&mut self, t: f64, openness: f32, eye_change: Option<f32>, pixels: bool) -> bool {
        let mut blinked = false;
        if let Some(baseline) = self.baseline() {
            match self.closed_since {
                None if openness < CLOSED_FRACTION * baseline => {
                    self.closed_since = Some((t, baseline));
                    self.closure_eye_change = eye_change;
                }
                Some((start, closed_baseline)) if openness > REOPENED_FRACTION * closed_baseline => {
                    self.closed_since = None;
                    if t - start <= MAX_BLINK_SECONDS + 1e-9 {
                        if !pixels || self.closure_eye_change.is_some_and(|c| c >= MIN_BLINK_EYE_CHANGE) {
                            self.blinks += 1;
                            blinked = true;
                        } else {
                            self.rigid_closures += 1;
                        }
                    }
                }
                Some(_) => {
                    if let Some(c) = eye_change {
                        self.closure_eye_change = Some(self.closure_eye_change.map_or(c, |m| m.max(c)));
                    }
                }
                None => {}
            }
        }
        // The baseline follows open eyes only.
        if self.closed_since.is_none() {
            self.recent.push_back(openness);
            if self.recent.len() > BASELINE_FRAMES {
                self.recent.pop_front();
            }
        }
        blinked
    }
}

/// Mouth openness (landmarks::mouth_openness) that counts as an open mouth: the inner lips
/// apart by 40 % of the mouth's width (closed and speaking mouths in GRID stay under 0.3).
pub const MOUTH_OPEN: f32 = 0.4;
/// Yaw (degrees) that counts as a head turn for the active challenges.
pub const TURN_DEGREES: f32 = 20.0;

#[cfg(test)]
mod tests {
    use super::*;

    /// Open eyes at 0.3 for 10 frames, closed (0.15) for 3, open again; the eyes' texture
    /// change in the closed frames is `closed_change`.
    fn blinks(closed_change: Option<f32>, pixels: bool) -> BlinkCounter {
        let mut counter = BlinkCounter::default();
        for i in 0..20 {
            let closed = (10..13).contains(&i);
            let (openness, change) = if closed { (0.15, closed_change) } else { (0.3, Some(0.02)) };
            counter.push_seen(i as f64 / 25.0, openness, change, pixels);
        }
        counter
    }

    #[test]
    fn a_closure_counts_as_a_blink_only_if_the_eyes_texture_changed() {
        let lids = blinks(Some(0.5), true);
        assert_eq!((lids.blinks, lids.rigid_closures), (1, 0));
        // A photo tilted back: Face Mesh's lids close, the eyes' pixels stay.
        let photo = blinks(Some(0.03), true);
        assert_eq!((photo.blinks, photo.rigid_closures), (0, 1));
        // Pixels seen but the texture not measured in the closure: not a blink either.
        let unmeasured = blinks(None, true);
        assert_eq!(unmeasured.blinks, 0);
        // Sessions fed reports alone keep the landmark rule.
        assert_eq!(blinks(None, false).blinks, 1);
    }
}
