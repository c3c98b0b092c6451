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

/// The session options a terminal's software sets by name (the C ABI's JSON object, Python's
/// keyword arguments), each None for [`SessionOptions`]' default: one place that says what
/// each may be, so that every binding accepts and refuses the same values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionOverrides {
    /// Active mode (random challenges, 20 s) instead of passive (10 s).
    pub active: bool,
    /// Seconds before the session gives up: more than 0, at most a day.
    pub time_limit_s: Option<f64>,
    /// Frames before the session gives up: at least 1.
    pub max_frames: Option<usize>,
    /// Accepted frames fusion needs before it decides: at least 1, at most `max_frames`.
    pub min_frames: Option<usize>,
    /// Fused score at or above which MiniFASNet says live: a probability.
    pub live_threshold: Option<f32>,
    /// Fused score at or below which it says spoof: a probability under `live_threshold`.
    pub spoof_threshold: Option<f32>,
    /// BlazeFace at least once in this many frames: at least 1.
    pub detect_every: Option<u32>,
    /// False: MiniFASNet's fused score decides passive mode alone, the published pipeline's
    /// rule ([`SessionOptions::confirm_live`]).
    pub confirm_live: Option<bool>,
}

impl SessionOverrides {
    /// The names, in the order the bindings list them.
    pub const NAMES: [&'static str; 8] =
        ["active", "time_limit_s", "max_frames", "min_frames", "live_threshold", "spoof_threshold", "detect_every", "confirm_live"];

    /// The defaults with these values set, or the first value out of its range.
    pub fn options(&self) -> crate::error::Result<SessionOptions> {
        let bad = |reason: String| Err(crate::error::Error::SessionOptions { reason });
        let mut options = if self.active { SessionOptions::active() } else { SessionOptions::passive() };
        if let Some(seconds) = self.time_limit_s {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0) {
                return bad(format!("time_limit_s is {seconds}; it must be a number of seconds over 0 and at most 86400"));
            }
            options.time_limit = Duration::from_secs_f64(seconds);
        }
        if self.max_frames == Some(0) {
            return bad("max_frames is 0; it must be at least 1".to_string());
        }
        if self.detect_every == Some(0) {
            return bad("detect_every is 0; it must be at least 1 (1 runs BlazeFace on every frame)".to_string());
        }
        for (name, value) in [("live_threshold", self.live_threshold), ("spoof_threshold", self.spoof_threshold)] {
            if let Some(value) = value.filter(|v| !(0.0..=1.0).contains(v)) {
                return bad(format!("{name} is {value}; it must be a probability in [0, 1]"));
            }
        }
        options.max_frames = self.max_frames.unwrap_or(options.max_frames);
        options.fusion.min_frames = self.min_frames.unwrap_or(options.fusion.min_frames);
        options.fusion.live_threshold = self.live_threshold.unwrap_or(options.fusion.live_threshold);
        options.fusion.spoof_threshold = self.spoof_threshold.unwrap_or(options.fusion.spoof_threshold);
        if options.fusion.spoof_threshold >= options.fusion.live_threshold {
            return bad(format!("spoof_threshold {} is not under live_threshold {}", options.fusion.spoof_threshold, options.fusion.live_threshold));
        }
        if !(1..=options.max_frames).contains(&options.fusion.min_frames) {
            return bad(format!("min_frames is {}; it must be at least 1 and at most max_frames ({})", options.fusion.min_frames, options.max_frames));
        }
        options.detect_every = self.detect_every.unwrap_or(options.detect_every);
        options.confirm_live = self.confirm_live.unwrap_or(options.confirm_live);
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_set_what_they_name_and_refuse_what_is_out_of_range() {
        assert_eq!(format!("{:?}", SessionOverrides::default().options().unwrap()), format!("{:?}", SessionOptions::passive()));
        let active = SessionOverrides { active: true, ..Default::default() }.options().unwrap();
        assert_eq!((active.mode, active.time_limit), (Mode::Active, Duration::from_secs(20)));
        let set = SessionOverrides {
            time_limit_s: Some(2.5),
            max_frames: Some(7),
            min_frames: Some(3),
            live_threshold: Some(0.9),
            spoof_threshold: Some(0.2),
            detect_every: Some(1),
            confirm_live: Some(false),
            ..Default::default()
        }
        .options()
        .unwrap();
        assert_eq!(set.time_limit, Duration::from_millis(2500));
        assert_eq!((set.max_frames, set.fusion.min_frames, set.detect_every, set.confirm_live), (7, 3, 1, false));
        assert_eq!((set.fusion.live_threshold, set.fusion.spoof_threshold), (0.9, 0.2));
        // The edges of each range are accepted.
        let edges = SessionOverrides {
            time_limit_s: Some(86_400.0),
            max_frames: Some(1),
            min_frames: Some(1),
            live_threshold: Some(1.0),
            spoof_threshold: Some(0.0),
            ..Default::default()
        };
        assert!(edges.options().is_ok(), "{:?}", edges.options().err());
        let refused = [
            (SessionOverrides { time_limit_s: Some(0.0), ..Default::default() }, "time_limit_s"),
            (SessionOverrides { time_limit_s: Some(f64::NAN), ..Default::default() }, "time_limit_s"),
            (SessionOverrides { time_limit_s: Some(1e9), ..Default::default() }, "time_limit_s"),
            (SessionOverrides { max_frames: Some(0), ..Default::default() }, "max_frames"),
            (SessionOverrides { min_frames: Some(0), ..Default::default() }, "min_frames is 0"),
            (SessionOverrides { max_frames: Some(5), min_frames: Some(6), ..Default::default() }, "at most max_frames (5)"),
            (SessionOverrides { detect_every: Some(0), ..Default::default() }, "detect_every"),
            (SessionOverrides { live_threshold: Some(1.5), ..Default::default() }, "live_threshold"),
            (SessionOverrides { spoof_threshold: Some(-0.1), ..Default::default() }, "spoof_threshold"),
            (SessionOverrides { live_threshold: Some(0.3), spoof_threshold: Some(0.4), ..Default::default() }, "not under"),
        ];
        for (overrides, named) in refused {
            match overrides.options() {
                Err(crate::error::Error::SessionOptions { reason }) => assert!(reason.contains(named), "{reason}"),
                other => panic!("{overrides:?}: {other:?}"),
            }
        }
    }
}
