//! A session: frames in, one verdict out. Each frame's report goes through the quality
//! gates; accepted frames feed the cues and the fusion; session/decision.rs applies the
//! rules in the order the README states them.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::engine::landmarks;
use crate::engine::{Engine, FaceBox, FaceTrack, Report};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::liveness::challenge::{self, Challenge};
use crate::liveness::cues::BlinkCounter;
use crate::liveness::failures::{FailureGuard, FailureLimit};
use crate::liveness::geometry;
use crate::liveness::options::{Mode, SessionOptions};
use crate::liveness::quality::{self, Observation, Rejection};
use crate::liveness::repeats::RepeatScreen;
use crate::liveness::texture::TextureTracker;
use crate::liveness::verdict::{Cues, Verdict, VerdictKind};

mod decision;

use decision::undecided;

/// Starts sessions on one engine and refuses new ones for a while after repeated failures
/// ([`FailureLimit`]): the session side of a terminal.
///
/// ```no_run
/// use liveshade::{Engine, EngineOptions, SessionOptions, Sessions};
/// let engine = Engine::new(EngineOptions::default())?;
/// let sessions = Sessions::new(&engine);
/// let mut session = sessions.start(SessionOptions::passive())?;
/// # let frames: Vec<liveshade::DecodedImage> = Vec::new();
/// for image in &frames {
///     if let Some(verdict) = session.push(&image.frame()?)? {
///         println!("{}: {:?}", verdict.kind.as_str(), verdict.reasons);
///         break;
///     }
/// }
/// # Ok::<(), liveshade::Error>(())
/// ```
#[derive(Clone)]
pub struct Sessions<'e> {
    engine: &'e Engine,
    failures: FailureGuard,
}

impl<'e> Sessions<'e> {
    /// Sessions on `engine` with the default failure limit (5 failures in 5 minutes, then
    /// 5 minutes' refusal).
    pub fn new(engine: &'e Engine) -> Self {
        Sessions::with_limit(engine, FailureLimit::default())
    }

    /// Sessions on `engine` with `limit`.
    pub fn with_limit(engine: &'e Engine, limit: FailureLimit) -> Self {
        Sessions { engine, failures: FailureGuard::new(limit) }
    }

    /// Starts a session, unless too many sessions failed recently ([`Error::CoolingDown`]).
    pub fn start(&self, options: SessionOptions) -> Result<Session<'e>> {
        Session::start(Some(self.engine), Some(self.failures.clone()), options)
    }

    /// The engine the sessions check frames on.
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }
}

/// A liveness session over a stream of frames.
pub struct Session<'e> {
    engine: Option<&'e Engine>,
    /// Where the session's end is recorded (sessions started through [`Sessions`]).
    failures: Option<FailureGuard>,
    options: SessionOptions,
    started: Instant,
    challenges: Vec<Challenge>,
    next_challenge: usize,
    accepted: Vec<Observation>,
    scores: Vec<f32>,
    rejected: BTreeMap<Rejection, usize>,
    blinks: BlinkCounter,
    /// Nose parallax of the frame pairs with enough motion, measured on the landmarks
    /// (sessions fed reports) or on the texture (sessions that see the pixels).
    parallax: Vec<f32>,
    /// The face's texture since the reference frame (pixels: cleared at the verdict).
    texture: TextureTracker,
    /// Whether the frames' pixels were seen (`push`), so flatness is the texture's.
    pixels_seen: bool,
    cues: Cues,
    frames: usize,
    last_t: f64,
    last_face: bool,
    last_box: Option<FaceBox>,
    /// Samples of the last frames, to reject a still image streamed.
    repeats: RepeatScreen,
    /// How the engine follows the face between frames (its region is erased at the verdict).
    track: FaceTrack,
    done: Option<Verdict>,
}

impl<'e> Session<'e> {
    /// A session fed with reports (recorded, or from the caller's own engine calls):
    /// no GPU needed.
    pub fn from_reports(options: SessionOptions) -> Result<Session<'static>> {
        Session::start(None, None, options)
    }

    /// A session fed with reports whose end is recorded in `failures` (and refused while it
    /// cools down): for callers that check frames themselves and keep one failure record
    /// across sessions (the C and Python bindings).
    pub fn from_reports_with_guard(options: SessionOptions, failures: &FailureGuard) -> Result<Session<'static>> {
        Session::start(None, Some(failures.clone()), options)
    }

    /// A new session, unless `failures` refuses it (cooling down).
    fn start(engine: Option<&'e Engine>, failures: Option<FailureGuard>, options: SessionOptions) -> Result<Session<'e>> {
        if let Some(failures) = &failures {
            failures.admit()?;
        }
        let challenges = match (options.mode, &options.challenges) {
            (Mode::Passive, _) => Vec::new(),
            (Mode::Active, Some(fixed)) => fixed.clone(),
            (Mode::Active, None) => challenge::random_sequence().map_err(|e| Error::Random { reason: e.to_string() })?,
        };
        let cues = Cues { challenges: challenges.iter().map(|c| (*c, false)).collect(), ..Cues::default() };
        let track = FaceTrack::new(options.detect_every);
        Ok(Session {
            engine,
            failures,
            options,
            started: Instant::now(),
            challenges,
            next_challenge: 0,
            accepted: Vec::new(),
            scores: Vec::new(),
            rejected: BTreeMap::new(),
            blinks: BlinkCounter::default(),
            parallax: Vec::new(),
            texture: TextureTracker::default(),
            pixels_seen: false,
            cues,
            frames: 0,
            last_t: 0.0,
            last_face: false,
            last_box: None,
            repeats: RepeatScreen::default(),
            track,
            done: None,
        })
    }

    /// The challenges the person must perform, in order (empty in passive mode).
    pub fn challenges(&self) -> &[Challenge] {
        &self.challenges
    }

    /// The challenge now expected, if any.
    pub fn current_challenge(&self) -> Option<Challenge> {
        self.challenges.get(self.next_challenge).copied()
    }

    /// Frames seen so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Checks a frame now (time from the session's start) and returns the verdict once
    /// there is one.
    pub fn push(&mut self, frame: &Frame<'_>) -> Result<Option<Verdict>> {
        let t = self.started.elapsed().as_secs_f64();
        self.push_at(frame, t)
    }

    /// As [`Session::push`], with the frame's capture time in seconds (recorded frames).
    pub fn push_at(&mut self, frame: &Frame<'_>, t: f64) -> Result<Option<Verdict>> {
        let engine = self.engine.ok_or(Error::NoEngine)?;
        self.push_checked_on(engine, frame, t)
    }

    /// As [`Session::push_at`], the frame checked on `engine`: for sessions made with
    /// [`Session::from_reports_with_guard`] whose caller holds the engine (the bindings).
    /// A frame whose pixels repeat one of the last few (`repeated_frame`,
    /// `noise_free_frame`: a still image streamed) is rejected before the engine sees it.
    pub fn push_checked_on(&mut self, engine: &Engine, frame: &Frame<'_>, t: f64) -> Result<Option<Verdict>> {
        if self.done.is_some() {
            return Ok(self.done.clone());
        }
        if let Some(repeat) = self.repeats.screen(frame) {
            // The face is the one of the frame it repeats: last_face and last_box stay.
            self.frames += 1;
            *self.rejected.entry(repeat).or_default() += 1;
            return Ok(self.conclude());
        }
        let report = engine.check_followed(frame, &mut self.track)?;
        let verdict = self.push_checked(&report, t, Some(frame));
        if verdict.is_some() {
            self.release_on(engine)?;
        }
        Ok(verdict)
    }

    /// Feeds one frame's report (it needs the best face's landmarks). A frame whose time
    /// `t` is not after the previous frame's is rejected (`timestamp_not_increasing`).
    /// Reports carry no pixels: repeated frames are screened only by the `push` calls.
    /// Without the pixels the flatness cue has only the landmarks (FlatnessRule).
    pub fn push_report(&mut self, report: &Report, t: f64) -> Option<Verdict> {
        self.push_checked(report, t, None)
    }

    /// One frame's report, and its pixels where the caller has them (the texture cue).
    fn push_checked(&mut self, report: &Report, t: f64, frame: Option<&Frame<'_>>) -> Option<Verdict> {
        if let Some(done) = &self.done {
            return Some(done.clone());
        }
        let in_order = self.frames == 0 || t > self.last_t;
        self.frames += 1;
        self.last_face = !report.faces.is_empty();
        self.last_box = report.faces.first().map(|f| f.face_box);
        if !in_order {
            *self.rejected.entry(Rejection::TimestampNotIncreasing).or_default() += 1;
            return self.conclude();
        }
        self.last_t = t;
        let turning = matches!(self.current_challenge(), Some(Challenge::TurnLeft | Challenge::TurnRight));
        match quality::assess(report, t, &self.options.quality, self.accepted.last(), turning) {
            Ok(observation) => self.accept(observation, frame),
            Err(reason) => *self.rejected.entry(reason).or_default() += 1,
        }
        self.conclude()
    }

    /// Counts a frame that could not be read (a corrupt file in a folder, a broken MJPEG
    /// frame from a camera) as rejected, `unreadable_frame`, and goes on; the verdict if
    /// that was the last frame the session allows.
    pub fn push_unreadable(&mut self) -> Option<Verdict> {
        if let Some(done) = &self.done {
            return Some(done.clone());
        }
        self.frames += 1;
        self.last_face = false;
        self.last_box = None;
        *self.rejected.entry(Rejection::UnreadableFrame).or_default() += 1;
        self.conclude()
    }

    /// The verdict, if the frames so far decide one; recorded once.
    fn conclude(&mut self) -> Option<Verdict> {
        let verdict = self.decide(false);
        if let Some(v) = &verdict {
            self.done = Some(v.clone());
            self.record_end(v.kind);
        }
        verdict
    }

    fn accept(&mut self, o: Observation, frame: Option<&Frame<'_>>) {
        let rule = self.options.flatness;
        // The face's texture since the reference frame (the first accepted frame large
        // enough), where the pixels are seen.
        let motion = match frame {
            Some(frame) if o.interocular >= rule.texture_min_interocular => self.texture.observe(frame, &o.landmarks),
            _ => None,
        };
        self.pixels_seen |= frame.is_some();
        let blinked = self.blinks.push_seen(o.t, landmarks::eye_openness(&o.landmarks), motion.map(|m| m.eye_change), frame.is_some());
        self.cues.blinks = self.blinks.blinks;
        let mouth = landmarks::mouth_openness(&o.landmarks);
        self.cues.max_mouth_openness = self.cues.max_mouth_openness.max(mouth);
        self.cues.max_yaw = if self.accepted.is_empty() { o.pose.yaw } else { self.cues.max_yaw.max(o.pose.yaw) };
        self.cues.min_yaw = if self.accepted.is_empty() { o.pose.yaw } else { self.cues.min_yaw.min(o.pose.yaw) };
        if frame.is_some() {
            // Frames with the eyes closing are left out: the lids move the brows' texture too.
            if let Some(motion) = motion.filter(|m| m.shape_change >= rule.texture_min_shape_change && !self.blinks.eyes_closed()) {
                self.parallax.push(motion.parallax);
            }
        } else if let Some(reference) = self.accepted.first().filter(|r| r.interocular.min(o.interocular) >= rule.min_interocular) {
            if geometry::shape_change(&reference.landmarks, &o.landmarks) >= rule.min_shape_change {
                if let Some(p) = geometry::nose_parallax(&reference.landmarks, &o.landmarks) {
                    self.parallax.push(p);
                }
            }
        }
        if let Some(challenge) = self.current_challenge() {
            if challenge.met(&o.landmarks, blinked) {
                self.cues.challenges[self.next_challenge].1 = true;
                self.next_challenge += 1;
            }
        }
        // Frames that perform a challenge (turned head, closed eyes, open mouth) are kept
        // for the cues but MiniFASNet only scores near-frontal, open-eyed frames.
        if o.pose.yaw.abs() <= self.options.quality.max_pose_degrees {
            self.scores.push(o.live);
        }
        self.accepted.push(o);
    }

    /// Records the verdict's kind with the failure limit and forgets the frames' samples,
    /// texture patches and the face region its engine kept.
    fn record_end(&mut self, kind: VerdictKind) {
        self.repeats.clear();
        self.texture.clear();
        if let Some(engine) = self.engine {
            // A device that cannot run the clear is lost, and the region with its memory.
            let _ = engine.forget_track(&mut self.track);
        }
        if let Some(failures) = &self.failures {
            failures.record(kind);
        }
    }

    /// Whether the last frame pushed showed a face.
    pub fn last_frame_had_face(&self) -> bool {
        self.last_face
    }

    /// The best face's box in the last frame pushed.
    pub fn last_face_box(&self) -> Option<FaceBox> {
        self.last_box
    }

    /// Ends the session at once as inconclusive because of `reason` (a camera that vanished).
    pub fn abort(&mut self, reason: &str) -> Verdict {
        if let Some(done) = &self.done {
            return done.clone();
        }
        let mut verdict = self.decide(true).unwrap_or_else(|| undecided(&self.cues));
        verdict.kind = VerdictKind::Inconclusive;
        verdict.reasons.insert(0, reason.to_string());
        self.record_end(verdict.kind);
        self.done = Some(verdict.clone());
        verdict
    }

    /// Erases what `engine` keeps of this session between frames (the tracked face region)
    /// without deciding anything: for sessions whose frames the caller checks on its own
    /// engine ([`Session::push_checked_on`]), when they are freed before their verdict.
    pub fn release_on(&mut self, engine: &Engine) -> Result<()> {
        engine.forget_track(&mut self.track)
    }

    /// As [`Session::finish`] for a session whose frames were checked on `engine`
    /// ([`Session::push_checked_on`]): the face region `engine` kept between the frames is
    /// erased too.
    pub fn finish_checked_on(&mut self, engine: &Engine) -> Result<Verdict> {
        let verdict = self.finish();
        self.release_on(engine)?;
        Ok(verdict)
    }

    /// Ends the session now (the stream ran out): the verdict, inconclusive if undecided.
    pub fn finish(&mut self) -> Verdict {
        if let Some(done) = &self.done {
            return done.clone();
        }
        let verdict = self.decide(true).unwrap_or_else(|| undecided(&self.cues));
        self.record_end(verdict.kind);
        self.done = Some(verdict.clone());
        verdict
    }
}

/// A session dropped before its verdict leaves nothing on its engine either.
impl Drop for Session<'_> {
    fn drop(&mut self) {
        if let Some(engine) = self.engine {
            let _ = engine.forget_track(&mut self.track);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::landmarks::{FOREHEAD, LEFT_EYE, RIGHT_EYE};

    #[test]
    fn the_texture_patches_are_forgotten_at_the_verdict() {
        // A textured frame and a face spread over it, eyes 60 px apart.
        let pixels: Vec<u8> = (0..320 * 240).flat_map(|i| [((i * 7919 + i / 320 * 31) % 251) as u8; 3]).collect();
        let frame = Frame::rgb8(320, 240, &pixels).unwrap();
        let mut points: Vec<[f32; 3]> = (0..468).map(|i| [100.0 + (i * 37 % 120) as f32, 60.0 + (i * 59 % 120) as f32, 0.0]).collect();
        for (eye, x) in [(RIGHT_EYE, 130.0), (LEFT_EYE, 190.0)] {
            points[eye[0]] = [x - 5.0, 100.0, 0.0];
            points[eye[1]] = [x + 5.0, 100.0, 0.0];
        }
        points[FOREHEAD] = [160.0, 70.0, 0.0];
        let mut session = Session::from_reports(SessionOptions::passive()).unwrap();
        assert!(session.texture.observe(&frame, &points).is_none());
        assert!(session.texture.has_reference(), "the reference frame's patches are kept");
        session.finish();
        assert!(!session.texture.has_reference(), "and forgotten at the verdict");
    }
}
