//! Liveness sessions: many frames into one verdict a terminal can act on.
//!
//! Each frame goes through the engine, then the quality gates ([`quality`]); accepted frames
//! feed the passive fusion of MiniFASNet's live probability ([`fusion`]), the geometry cue
//! (is the face a plane? [`geometry`]), blink / mouth / turn detection ([`cues`]) and, in
//! active mode, a random sequence of challenges ([`challenge`]). The session ends with a
//! [`Verdict`]: live, spoof or inconclusive, with its reasons and no pixels.

pub mod challenge;
pub mod cues;
pub mod fusion;
pub mod geometry;
pub mod landmarks;
pub mod quality;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use challenge::Challenge;
pub use fusion::FusionRule;
pub use quality::{QualityLimits, Rejection};

use crate::engine::{Engine, Report};
use crate::error::{Error, Result};
use crate::frame::Frame;
use cues::BlinkCounter;
use fusion::Decision;
use quality::Observation;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// MiniFASNet fusion and the geometry cue only; the person just looks at the camera.
    Passive,
    /// Also a random sequence of challenges, met in order within the time limit.
    Active,
}

/// When the flatness cue decides. Chosen on synthetic faces (tests/session.rs: the
/// canonical face mesh turned as a head, and the same mesh as a flat photo moved and
/// tilted, landmark noise 0.25-1 px at a 60-px eye distance): a pair of frames counts only
/// once the face's shape changed clearly (a head turned by about 10 degrees, a photo tilted
/// by about 20), and only on faces large enough that landmark noise is a small part of the
/// eye distance. Below that the cue says nothing.
#[derive(Clone, Copy, Debug)]
pub struct FlatnessRule {
    /// Smallest eye distance (px) the cue works on.
    pub min_interocular: f32,
    /// Shape change (geometry::shape_change) a pair of frames needs before it counts.
    pub min_shape_change: f32,
    /// Pairs needed before the cue decides.
    pub min_pairs: usize,
    /// Median nose parallax at or below this: a plane (spoof).
    pub flat_below: f32,
    /// At or above this: a head.
    pub head_above: f32,
}

impl Default for FlatnessRule {
    fn default() -> Self {
        FlatnessRule { min_interocular: 30.0, min_shape_change: 0.05, min_pairs: 5, flat_below: 0.05, head_above: 0.1 }
    }
}

#[derive(Clone, Debug)]
pub struct SessionOptions {
    pub mode: Mode,
    pub fusion: FusionRule,
    pub quality: QualityLimits,
    pub flatness: FlatnessRule,
    /// The session gives up (inconclusive) after this long.
    pub time_limit: Duration,
    /// Or after this many frames.
    pub max_frames: usize,
    /// Active mode: the challenges to ask for; None draws 2 or 3 at random (the default).
    pub challenges: Option<Vec<Challenge>>,
}

impl SessionOptions {
    pub fn passive() -> Self {
        SessionOptions {
            mode: Mode::Passive,
            fusion: FusionRule::default(),
            quality: QualityLimits::default(),
            flatness: FlatnessRule::default(),
            time_limit: Duration::from_secs(10),
            max_frames: 300,
            challenges: None,
        }
    }

    pub fn active() -> Self {
        SessionOptions { mode: Mode::Active, time_limit: Duration::from_secs(20), ..SessionOptions::passive() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    Live,
    Spoof,
    Inconclusive,
}

impl VerdictKind {
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
    pub blinks: u32,
    /// Median nose parallax over frame pairs with enough motion (None: too little motion).
    pub flatness: Option<f32>,
    pub motion_pairs: usize,
    pub max_yaw: f32,
    pub min_yaw: f32,
    pub max_mouth_openness: f32,
    /// Active mode: each challenge and whether it was met.
    pub challenges: Vec<(Challenge, bool)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub kind: VerdictKind,
    /// The fused live probability (trimmed mean over the accepted frames).
    pub score: f32,
    pub frames_accepted: usize,
    pub frames_rejected: usize,
    /// Rejected frames by reason.
    pub rejections: BTreeMap<&'static str, usize>,
    pub cues: Cues,
    /// Why, in words, most decisive first.
    pub reasons: Vec<String>,
}

/// After `max_failures` failed sessions (spoof or inconclusive) within `window`, the engine
/// refuses new sessions for `cooldown`.
#[derive(Clone, Copy, Debug)]
pub struct FailureLimit {
    pub max_failures: usize,
    pub window: Duration,
    pub cooldown: Duration,
}

impl Default for FailureLimit {
    fn default() -> Self {
        FailureLimit { max_failures: 5, window: Duration::from_secs(300), cooldown: Duration::from_secs(300) }
    }
}

/// The engine's record of failed sessions.
#[derive(Default)]
pub(crate) struct FailureLog {
    failures: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl FailureLog {
    pub(crate) fn admit(&mut self, now: Instant) -> Result<()> {
        match self.blocked_until {
            Some(until) if now < until => Err(Error::CoolingDown { remaining: until - now }),
            _ => Ok(()),
        }
    }

    pub(crate) fn record_failure(&mut self, now: Instant, limit: &FailureLimit) {
        self.failures.push_back(now);
        while self.failures.front().is_some_and(|t| now.duration_since(*t) > limit.window) {
            self.failures.pop_front();
        }
        if self.failures.len() >= limit.max_failures {
            self.blocked_until = Some(now + limit.cooldown);
            self.failures.clear();
        }
    }
}

/// A liveness session over a stream of frames.
pub struct Session<'e> {
    engine: Option<&'e Engine>,
    options: SessionOptions,
    started: Instant,
    challenges: Vec<Challenge>,
    next_challenge: usize,
    accepted: Vec<Observation>,
    scores: Vec<f32>,
    rejected: BTreeMap<Rejection, usize>,
    blinks: BlinkCounter,
    parallax: Vec<f32>,
    cues: Cues,
    frames: usize,
    last_t: f64,
    last_face: bool,
    last_box: Option<crate::engine::FaceBox>,
    done: Option<Verdict>,
}

impl<'e> Session<'e> {
    /// A session fed with reports (recorded, or from the caller's own engine calls):
    /// no GPU needed.
    pub fn from_reports(options: SessionOptions) -> Result<Session<'static>> {
        Session::start(None, options)
    }

    fn start(engine: Option<&'e Engine>, options: SessionOptions) -> Result<Session<'e>> {
        let challenges = match (options.mode, &options.challenges) {
            (Mode::Passive, _) => Vec::new(),
            (Mode::Active, Some(fixed)) => fixed.clone(),
            (Mode::Active, None) => challenge::random_sequence().map_err(|e| Error::Random { reason: e.to_string() })?,
        };
        let cues = Cues { challenges: challenges.iter().map(|c| (*c, false)).collect(), ..Cues::default() };
        Ok(Session {
            engine,
            options,
            started: Instant::now(),
            challenges,
            next_challenge: 0,
            accepted: Vec::new(),
            scores: Vec::new(),
            rejected: BTreeMap::new(),
            blinks: BlinkCounter::default(),
            parallax: Vec::new(),
            cues,
            frames: 0,
            last_t: 0.0,
            last_face: false,
            last_box: None,
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
        let engine = self.engine.ok_or_else(|| Error::shape("session", "a session from reports has no engine to check frames"))?;
        if self.done.is_some() {
            return Ok(self.done.clone());
        }
        let report = engine.check_with_landmarks(frame)?;
        Ok(self.push_report(&report, t))
    }

    /// Feeds one frame's report (it needs the best face's landmarks).
    pub fn push_report(&mut self, report: &Report, t: f64) -> Option<Verdict> {
        if let Some(done) = &self.done {
            return Some(done.clone());
        }
        self.frames += 1;
        self.last_t = t;
        self.last_face = !report.faces.is_empty();
        self.last_box = report.faces.first().map(|f| f.face_box);
        let turning = matches!(self.current_challenge(), Some(Challenge::TurnLeft | Challenge::TurnRight));
        match quality::assess(report, t, &self.options.quality, self.accepted.last(), turning) {
            Ok(observation) => self.accept(observation),
            Err(reason) => *self.rejected.entry(reason).or_default() += 1,
        }
        let verdict = self.decide(false);
        if verdict.is_some() {
            self.done = verdict.clone();
            if let (Some(engine), Some(v)) = (self.engine, &verdict) {
                engine.record_session(v.kind);
            }
        }
        verdict
    }

    fn accept(&mut self, o: Observation) {
        let blinked = self.blinks.push(o.t, landmarks::eye_openness(&o.landmarks));
        self.cues.blinks = self.blinks.blinks;
        let mouth = landmarks::mouth_openness(&o.landmarks);
        self.cues.max_mouth_openness = self.cues.max_mouth_openness.max(mouth);
        self.cues.max_yaw = if self.accepted.is_empty() { o.pose.yaw } else { self.cues.max_yaw.max(o.pose.yaw) };
        self.cues.min_yaw = if self.accepted.is_empty() { o.pose.yaw } else { self.cues.min_yaw.min(o.pose.yaw) };
        let rule = self.options.flatness;
        if let Some(reference) = self.accepted.first().filter(|r| r.interocular.min(o.interocular) >= rule.min_interocular) {
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

    fn decide(&mut self, finish: bool) -> Option<Verdict> {
        let (decision, score) = fusion::decide(&self.scores, &self.options.fusion);
        let flatness = self.flatness();
        self.cues.flatness = flatness;
        let rule = self.options.flatness;
        let out_of_time = self.last_t >= self.options.time_limit.as_secs_f64() || self.frames >= self.options.max_frames;
        let finish = finish || out_of_time;
        let challenges_done = self.next_challenge >= self.challenges.len();
        let mut reasons = Vec::new();
        let kind = if flatness.is_some_and(|f| f <= rule.flat_below) {
            reasons.push(format!("flat: over {} frame pairs with motion the nose moved with the plane of the face (parallax {:.3} <= {:.3})", self.parallax.len(), flatness.unwrap_or(0.0), rule.flat_below));
            Some(VerdictKind::Spoof)
        } else if decision == Decision::Spoof {
            reasons.push(format!("passive: MiniFASNet's fused live probability {score:.3} <= {:.2} over {} frames", self.options.fusion.spoof_threshold, self.scores.len()));
            Some(VerdictKind::Spoof)
        } else if decision == Decision::Live && challenges_done {
            reasons.push(format!("passive: MiniFASNet's fused live probability {score:.3} >= {:.2} over {} frames", self.options.fusion.live_threshold, self.scores.len()));
            if !self.challenges.is_empty() {
                reasons.push(format!("active: {} challenges met in order", self.challenges.len()));
            }
            if flatness.is_some_and(|f| f >= rule.head_above) {
                reasons.push(format!("geometry: the nose moved out of the face's plane (parallax {:.3})", flatness.unwrap_or(0.0)));
            }
            Some(VerdictKind::Live)
        } else if finish {
            if !challenges_done {
                let missing: Vec<&str> = self.challenges[self.next_challenge..].iter().map(|c| c.as_str()).collect();
                reasons.push(format!("active: challenges not met in time: {}", missing.join(", ")));
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

    /// Whether the last frame pushed showed a face.
    pub fn last_frame_had_face(&self) -> bool {
        self.last_face
    }

    /// The best face's box in the last frame pushed.
    pub fn last_face_box(&self) -> Option<crate::engine::FaceBox> {
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
        if let Some(engine) = self.engine {
            engine.record_session(verdict.kind);
        }
        self.done = Some(verdict.clone());
        verdict
    }

    /// Ends the session now (the stream ran out): the verdict, inconclusive if undecided.
    pub fn finish(&mut self) -> Verdict {
        if let Some(done) = &self.done {
            return done.clone();
        }
        let verdict = self.decide(true).unwrap_or_else(|| undecided(&self.cues));
        if let Some(engine) = self.engine {
            engine.record_session(verdict.kind);
        }
        self.done = Some(verdict.clone());
        verdict
    }
}

/// `decide(true)` always decides; this keeps `finish` total without a panic path.
fn undecided(cues: &Cues) -> Verdict {
    Verdict { kind: VerdictKind::Inconclusive, score: 0.0, frames_accepted: 0, frames_rejected: 0, rejections: BTreeMap::new(), cues: cues.clone(), reasons: vec!["no decision".into()] }
}

impl Engine {
    /// Starts a session, unless too many sessions failed recently ([`FailureLimit`]).
    pub fn session(&self, options: SessionOptions) -> Result<Session<'_>> {
        self.failures().lock().map_err(|_| Error::shape("session", "lock poisoned"))?.admit(Instant::now())?;
        Session::start(Some(self), options)
    }

    pub(crate) fn record_session(&self, kind: VerdictKind) {
        if kind != VerdictKind::Live {
            if let Ok(mut log) = self.failures().lock() {
                log.record_failure(Instant::now(), &self.failure_limit());
            }
        }
    }
}

/// Keeps `Mutex` in scope for the engine's failure log type.
pub(crate) type SharedFailureLog = Mutex<FailureLog>;
