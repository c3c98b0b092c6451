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

/// Counts blinks in a stream of eye-openness values (landmarks::eye_openness).
#[derive(Default)]
pub struct BlinkCounter {
    recent: VecDeque<f32>,
    closed_since: Option<(f64, f32)>,
    pub blinks: u32,
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

    /// Feeds one frame's openness at time `t` (seconds); true when a blink just ended.
    pub fn push(&mut self, t: f64, openness: f32) -> bool {
        let mut blinked = false;
        if let Some(baseline) = self.baseline() {
            match self.closed_since {
                None if openness < CLOSED_FRACTION * baseline => self.closed_since = Some((t, baseline)),
                Some((start, closed_baseline)) if openness > REOPENED_FRACTION * closed_baseline => {
                    self.closed_since = None;
                    if t - start <= MAX_BLINK_SECONDS + 1e-9 {
                        self.blinks += 1;
                        blinked = true;
                    }
                }
                _ => {}
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
