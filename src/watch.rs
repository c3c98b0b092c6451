//! The watch loop: liveness sessions one after another over a [`FrameSource`], reporting
//! a status per frame and each verdict as it comes. The CLI's `watch` and the tests drive it.

use crate::engine::Engine;
use crate::error::Result;
use crate::liveness::{Challenge, SessionOptions, Verdict};
use crate::source::FrameSource;

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
    /// The challenge the person should perform now (active mode).
    pub challenge: Option<Challenge>,
    /// Seconds since the session started.
    pub elapsed: f64,
}

/// Runs sessions back to back until the source ends (or `max_sessions` verdicts). A source
/// error (a camera that vanished) ends the running session as inconclusive, reports it,
/// and is returned.
pub fn watch(
    engine: &Engine,
    source: &mut dyn FrameSource,
    options: &SessionOptions,
    max_sessions: Option<usize>,
    mut on_event: impl FnMut(WatchEvent<'_>),
) -> Result<Vec<Verdict>> {
    let mut verdicts = Vec::new();
    while max_sessions.is_none_or(|m| verdicts.len() < m) {
        let mut session = engine.session(options.clone())?;
        let mut started: Option<f64> = None;
        loop {
            let frame = match source.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    if session.frames() > 0 {
                        let verdict = session.finish();
                        on_event(WatchEvent::Verdict(&verdict));
                        verdicts.push(verdict);
                    }
                    return Ok(verdicts);
                }
                Err(error) => {
                    let verdict = session.abort(&format!("the frame source failed: {error}"));
                    on_event(WatchEvent::Verdict(&verdict));
                    return Err(error);
                }
            };
            let start = *started.get_or_insert(frame.timestamp);
            let t = frame.timestamp - start;
            let verdict = session.push_at(&frame.frame()?, t)?;
            on_event(WatchEvent::Status(Status {
                session: verdicts.len(),
                frames: session.frames(),
                face_found: session.last_frame_had_face(),
                challenge: session.current_challenge(),
                elapsed: t,
            }));
            if let Some(verdict) = verdict {
                on_event(WatchEvent::Verdict(&verdict));
                verdicts.push(verdict);
                break;
            }
        }
    }
    Ok(verdicts)
}
