//! The watch loop: liveness sessions one after another over a [`FrameSource`], reporting
//! a status per frame and each verdict as it comes. The CLI's `watch`, its preview window
//! and the tests drive it, one frame at a time ([`Watcher::step`]) or to the end ([`watch`]).

use crate::engine::FaceBox;
use crate::error::Result;
use crate::liveness::{Challenge, Session, SessionOptions, Sessions, Verdict};
use crate::source::{FrameSource, SourceFrame};

/// What the loop reports.
#[derive(Debug)]
pub enum WatchEvent<'a> {
    /// After every frame of a running session.
    Status(Status),
    /// A session ended.
    Verdict(&'a Verdict),
}

/// The live status line of a terminal.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Sessions finished before this one.
    pub session: usize,
    /// Frames seen by this session.
    pub frames: usize,
    /// Whether the last frame showed a face.
    pub face_found: bool,
    /// The best face's box in the last frame.
    pub face_box: Option<FaceBox>,
    /// The challenge the person should perform now (active mode).
    pub challenge: Option<Challenge>,
    /// Seconds since the session started.
    pub elapsed: f64,
}

/// What one step did.
pub enum Step {
    /// A frame was checked (it is returned for a preview); maybe a session ended with it.
    Frame {
        /// The frame, for a preview.
        frame: SourceFrame,
        /// The status after it.
        status: Status,
        /// The verdict, if a session ended with this frame.
        verdict: Option<Verdict>,
    },
    /// A frame could not be decoded (a corrupt file, a broken MJPEG frame): the session
    /// counted it as rejected and goes on.
    Unreadable {
        /// What the decoder said.
        reason: String,
        /// The status after it.
        status: Status,
        /// The verdict, if the session ended with this frame.
        verdict: Option<Verdict>,
    },
    /// The source ended; the running session's verdict if it had frames.
    End(Option<Verdict>),
}

/// A step that failed: the error, and the verdict it ended the running session with (a
/// source that failed ends it as inconclusive).
#[derive(Debug)]
pub struct StepError {
    /// What failed.
    pub error: crate::Error,
    /// The running session's verdict, if the failure ended one.
    pub verdict: Option<Verdict>,
}

impl StepError {
    fn alone(error: crate::Error) -> Box<StepError> {
        Box::new(StepError { error, verdict: None })
    }
}

/// Sessions back to back over a source, one frame per [`Watcher::step`].
pub struct Watcher<'e> {
    sessions: Sessions<'e>,
    options: SessionOptions,
    session: Option<Session<'e>>,
    started: Option<f64>,
    sessions_done: usize,
}

impl<'e> Watcher<'e> {
    /// Sessions of `options`, started through `sessions` (which keeps the failure limit).
    pub fn new(sessions: &Sessions<'e>, options: SessionOptions) -> Self {
        Watcher { sessions: sessions.clone(), options, session: None, started: None, sessions_done: 0 }
    }

    /// Verdicts given so far.
    pub fn sessions_done(&self) -> usize {
        self.sessions_done
    }

    /// Reads and checks one frame. A source error (a camera that vanished) ends the running
    /// session as inconclusive and is returned with that verdict.
    pub fn step(&mut self, source: &mut dyn FrameSource) -> std::result::Result<Step, Box<StepError>> {
        if self.session.is_none() {
            self.session = Some(self.sessions.start(self.options.clone()).map_err(StepError::alone)?);
            self.started = None;
        }
        let Some(session) = self.session.as_mut() else { return Ok(Step::End(None)) };
        let frame = match source.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                let verdict = (session.frames() > 0).then(|| session.finish());
                self.session = None;
                self.sessions_done += verdict.is_some() as usize;
                return Ok(Step::End(verdict));
            }
            Err(error @ crate::Error::Image { .. }) => {
                let verdict = session.push_unreadable();
                let status = Status {
                    session: self.sessions_done,
                    frames: session.frames(),
                    face_found: false,
                    face_box: None,
                    challenge: session.current_challenge(),
                    elapsed: 0.0,
                };
                if verdict.is_some() {
                    self.session = None;
                    self.sessions_done += 1;
                }
                return Ok(Step::Unreadable { reason: error.to_string(), status, verdict });
            }
            Err(error) => {
                let verdict = session.abort(&format!("the frame source failed: {error}"));
                self.session = None;
                self.sessions_done += 1;
                return Err(Box::new(StepError { error, verdict: Some(verdict) }));
            }
        };
        let start = *self.started.get_or_insert(frame.timestamp);
        let t = frame.timestamp - start;
        let checked = frame.frame().and_then(|f| session.push_at(&f, t));
        let verdict = checked.map_err(StepError::alone)?;
        let status = Status {
            session: self.sessions_done,
            frames: session.frames(),
            face_found: session.last_frame_had_face(),
            face_box: session.last_face_box(),
            challenge: session.current_challenge(),
            elapsed: t,
        };
        if verdict.is_some() {
            self.session = None;
            self.sessions_done += 1;
        }
        Ok(Step::Frame { frame, status, verdict })
    }
}

/// Runs sessions back to back until the source ends (or `max_sessions` verdicts). A source
/// error ends the running session as inconclusive, reports it, and is returned.
pub fn watch(
    sessions: &Sessions<'_>,
    source: &mut dyn FrameSource,
    options: &SessionOptions,
    max_sessions: Option<usize>,
    mut on_event: impl FnMut(WatchEvent<'_>),
) -> Result<Vec<Verdict>> {
    let mut watcher = Watcher::new(sessions, options.clone());
    let mut verdicts = Vec::new();
    while max_sessions.is_none_or(|m| verdicts.len() < m) {
        match watcher.step(source) {
            Ok(Step::Frame { status, verdict, .. } | Step::Unreadable { status, verdict, .. }) => {
                on_event(WatchEvent::Status(status));
                if let Some(verdict) = verdict {
                    on_event(WatchEvent::Verdict(&verdict));
                    verdicts.push(verdict);
                }
            }
            Ok(Step::End(verdict)) => {
                if let Some(verdict) = verdict {
                    on_event(WatchEvent::Verdict(&verdict));
                    verdicts.push(verdict);
                }
                break;
            }
            Err(failed) => {
                let StepError { error, verdict } = *failed;
                if let Some(verdict) = verdict {
                    on_event(WatchEvent::Verdict(&verdict));
                }
                return Err(error);
            }
        }
    }
    Ok(verdicts)
}
