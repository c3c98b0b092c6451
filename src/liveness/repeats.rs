//! The repeated-frame screen: a still image streamed as video (a photo played through a
//! virtual camera, a frame injected over and over) repeats its pixels; a real sensor never
//! does, because its read-out noise changes every pixel a little in every frame.
//!
//! Each frame is sampled on a sparse grid (about [`SAMPLES`] brightness bytes: G of RGB, Y
//! of YUV, as the camera sent them) and compared with the last [`REMEMBERED`] frames that
//! passed, so a loop of a few stills is caught too. The change between two frames is the
//! mean absolute difference of their samples, in brightness levels:
//!
//! - 0: every sample equal: `repeated_frame`;
//! - under [`NOISE_FLOOR`]: `noise_free_frame` (fewer than 1 sample in 100 moved by one level).
//!
//! The floor was measured over the 7 shared sequences (`shared/faces/sequences`, 531 frames
//! compared with the 8 before them; `examples/noise_floor.rs`), all decoded from compressed
//! video, whose skipped macroblocks repeat whole areas exactly: the least change is 0.027
//! (bbal7p_crop, a 96x128 crop where 98 % of the samples did not move), the medians 0.86 to
//! 1.30 (the GIF demo 5.9); a camera's raw frames move more. 0.01 stays under the least of
//! them by a factor of 2.7. What the screen does not catch: a still with noise or motion
//! added on purpose, a recorded video (MiniFASNet and the flatness cue are the defences
//! there; SECURITY.md).
//!
//! The samples are pixels: zeroized when the screen is cleared (at each verdict) or dropped.

use std::collections::VecDeque;

use zeroize::Zeroizing;

use crate::frame::{Frame, PixelFormat};
use crate::liveness::quality::Rejection;

/// Samples taken of a frame, about (a grid step of at least 1 pixel).
pub const SAMPLES: u64 = 16_384;

/// Frames that passed the screen kept for comparison.
pub const REMEMBERED: usize = 8;

/// Mean absolute change, in brightness levels, under which a frame repeats an earlier one.
pub const NOISE_FLOOR: f32 = 0.01;

/// The samples of one frame.
struct Sample {
    width: u32,
    height: u32,
    format: PixelFormat,
    values: Zeroizing<Vec<u8>>,
}

impl Sample {
    fn of(frame: &Frame<'_>) -> Sample {
        let (width, height) = (frame.width(), frame.height());
        let step = grid_step(width, height);
        let mut values = Zeroizing::new(Vec::with_capacity(((width / step + 1) * (height / step + 1)) as usize));
        // The grid starts half a step in, so it does not sample only the frame's edges.
        for y in (step / 2..height).step_by(step as usize) {
            for x in (step / 2..width).step_by(step as usize) {
                values.push(frame.brightness_byte(x, y));
            }
        }
        Sample { width, height, format: frame.format(), values }
    }

    /// Mean absolute difference from `earlier`; None for frames of another size or format
    /// (a camera that changed its mode has changed its frames).
    fn change_from(&self, earlier: &Sample) -> Option<f32> {
        if (self.width, self.height, self.format) != (earlier.width, earlier.height, earlier.format) || self.values.is_empty() {
            return None;
        }
        let total: u64 = self.values.iter().zip(earlier.values.iter()).map(|(a, b)| a.abs_diff(*b) as u64).sum();
        Some(total as f32 / self.values.len() as f32)
    }
}

/// The grid step (pixels) that takes about [`SAMPLES`] samples of a `width` x `height` frame.
fn grid_step(width: u32, height: u32) -> u32 {
    let pixels = width as u64 * height as u64;
    let mut step = (pixels as f64 / SAMPLES as f64).sqrt().floor().max(1.0) as u32;
    while (width / step) as u64 * (height / step) as u64 > SAMPLES * 2 {
        step += 1;
    }
    step
}

/// The screen of one session.
#[derive(Default)]
pub struct RepeatScreen {
    recent: VecDeque<Sample>,
}

impl RepeatScreen {
    /// Why `frame` is rejected as a repeat of a recent frame, if it is; a frame that passes
    /// is remembered.
    pub fn screen(&mut self, frame: &Frame<'_>) -> Option<Rejection> {
        let sample = Sample::of(frame);
        let least = self.least_change(&sample);
        if least == Some(0.0) {
            return Some(Rejection::RepeatedFrame);
        }
        if least.is_some_and(|change| change < NOISE_FLOOR) {
            return Some(Rejection::NoiseFreeFrame);
        }
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back(sample);
        None
    }

    /// The smallest change from `frame` to a remembered frame (None: nothing comparable
    /// remembered); does not remember it. For measuring a stream's noise floor.
    pub fn least_change_of(&self, frame: &Frame<'_>) -> Option<f32> {
        self.least_change(&Sample::of(frame))
    }

    fn least_change(&self, sample: &Sample) -> Option<f32> {
        self.recent.iter().filter_map(|earlier| sample.change_from(earlier)).reduce(f32::min)
    }

    /// Forgets every frame (their samples are zeroized).
    pub fn clear(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32, seed: u32) -> Vec<u8> {
        (0..width * height * 3).map(|i| ((i * 7 + seed * 13) % 251) as u8).collect()
    }

    #[test]
    fn grid_step_takes_about_the_samples_wanted() {
        for (w, h) in [(1, 1), (96, 128), (640, 480), (1920, 1080), (16384, 1), (1, 16384), (16384, 16384)] {
            let step = grid_step(w, h);
            let taken = (w.div_ceil(step) as u64) * (h.div_ceil(step) as u64);
            assert!(step >= 1 && taken <= SAMPLES * 2 + w.max(h) as u64, "{w}x{h}: step {step} takes {taken}");
        }
        assert_eq!(grid_step(96, 128), 1);
        assert_eq!(grid_step(640, 480), 4);
    }

    #[test]
    fn a_repeated_frame_is_rejected_and_a_changed_one_passes() {
        let (w, h) = (64, 48);
        let (a, b) = (gradient(w, h, 0), gradient(w, h, 1));
        let mut screen = RepeatScreen::default();
        fn frame(bytes: &[u8]) -> Frame<'_> {
            Frame::rgb8(64, 48, bytes).unwrap()
        }
        assert_eq!(screen.screen(&frame(&a)), None);
        assert_eq!(screen.screen(&frame(&a)), Some(Rejection::RepeatedFrame));
        assert_eq!(screen.screen(&frame(&b)), None);
        // A loop of two stills: the third frame repeats the first.
        assert_eq!(screen.screen(&frame(&a)), Some(Rejection::RepeatedFrame));
        assert_eq!(screen.screen(&frame(&b)), Some(Rejection::RepeatedFrame));
        // Another size is another stream.
        let small = gradient(w - 2, h, 0);
        assert_eq!(screen.screen(&Frame::rgb8(w - 2, h, &small).unwrap()), None);
        screen.clear();
        assert_eq!(screen.screen(&frame(&a)), None);
    }

    #[test]
    fn changes_under_the_noise_floor_are_rejected_and_sensor_noise_passes() {
        let (w, h) = (64, 48);
        let a = gradient(w, h, 0);
        let samples = (w * h) as usize; // step 1
        // One level on 0.5 % of the pixels' G bytes: under the floor.
        let mut faint = a.clone();
        for p in (0..samples).step_by(200) {
            faint[3 * p + 1] ^= 1;
        }
        // A sensor's noise: most pixels move by a level or two.
        let mut noisy = a.clone();
        for p in 0..samples {
            noisy[3 * p + 1] = noisy[3 * p + 1].wrapping_add((p % 3) as u8);
        }
        let mut screen = RepeatScreen::default();
        assert_eq!(screen.screen(&Frame::rgb8(w, h, &a).unwrap()), None);
        assert!(screen.least_change_of(&Frame::rgb8(w, h, &faint).unwrap()).is_some_and(|c| c > 0.0 && c < NOISE_FLOOR));
        assert_eq!(screen.screen(&Frame::rgb8(w, h, &faint).unwrap()), Some(Rejection::NoiseFreeFrame));
        assert_eq!(screen.screen(&Frame::rgb8(w, h, &noisy).unwrap()), None);
    }

    #[test]
    fn every_format_is_sampled_on_its_brightness_bytes() {
        let (w, h) = (32u32, 16u32);
        for format in [
            PixelFormat::Rgb8,
            PixelFormat::Bgr8,
            PixelFormat::Rgba8,
            PixelFormat::Bgra8,
            PixelFormat::Yuyv,
            PixelFormat::Nv12,
            PixelFormat::Nv21,
            PixelFormat::I420,
        ] {
            // An odd padding at the end of each row, never sampled.
            let stride = format.row_bytes(w) as u32 + if format == PixelFormat::I420 { 6 } else { 5 };
            let len = format.frame_len(w, h, stride).unwrap();
            let a: Vec<u8> = (0..len).map(|i| (i % 199) as u8).collect();
            let mut padded = a.clone();
            let mut brighter = a.clone();
            for y in 0..h as usize {
                // (The last row of a packed frame ends at its pixels: no padding there.)
                for b in format.row_bytes(w) as usize..stride as usize {
                    if let Some(byte) = padded.get_mut(y * stride as usize + b) {
                        *byte ^= 0xff;
                    }
                }
                for x in 0..w {
                    let i = y * stride as usize + match format {
                        PixelFormat::Rgb8 | PixelFormat::Bgr8 => 3 * x as usize + 1,
                        PixelFormat::Rgba8 | PixelFormat::Bgra8 => 4 * x as usize + 1,
                        PixelFormat::Yuyv => 2 * x as usize,
                        _ => x as usize,
                    };
                    brighter[i] = brighter[i].wrapping_add(9);
                }
            }
            let frame = |bytes| Frame::new(w, h, stride, format, bytes).unwrap();
            let mut screen = RepeatScreen::default();
            assert_eq!(screen.screen(&frame(&a)), None, "{format:?}");
            assert_eq!(screen.screen(&frame(&padded)), Some(Rejection::RepeatedFrame), "{format:?}: padding is not a pixel");
            assert_eq!(screen.least_change_of(&frame(&brighter)), Some(9.0), "{format:?}");
        }
    }
}
