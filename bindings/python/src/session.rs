//! `liveshade.Session`: frames pushed one by one until the session says live, spoof or
//! inconclusive.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use pyo3::prelude::*;

use crate::images::image;
use crate::results::Verdict;
use crate::{Error, py_error};

struct State {
    session: liveshade::Session<'static>,
    verdict: Option<liveshade::Verdict>,
}

/// A liveness session on an engine (Engine.session).
#[pyclass(module = "liveshade", frozen)]
pub struct Session {
    /// Keeps the engine alive while the session is.
    engine: Arc<liveshade::Engine>,
    started: Instant,
    state: Mutex<State>,
}

impl Session {
    pub(crate) fn new(engine: Arc<liveshade::Engine>, session: liveshade::Session<'static>) -> Self {
        Session { engine, started: Instant::now(), state: Mutex::new(State { session, verdict: None }) }
    }
}

fn lock(state: &Mutex<State>) -> PyResult<MutexGuard<'_, State>> {
    state.lock().map_err(|_| Error::new_err("the session is unusable: a call on it failed inside liveshade; start another"))
}

#[pymethods]
impl Session {
    /// Checks one frame (as Engine.check takes it) and returns the verdict once there is
    /// one, None before. `timestamp` is the frame's capture time in seconds (any origin,
    /// increasing); None is now. After the verdict, frames are not checked again.
    #[pyo3(signature = (image, timestamp = None, format = None))]
    fn push(&self, py: Python<'_>, image: &Bound<'_, PyAny>, timestamp: Option<f64>, format: Option<&str>) -> PyResult<Option<Verdict>> {
        let image = self::image(image, format)?;
        let t = timestamp.filter(|t| t.is_finite()).unwrap_or_else(|| self.started.elapsed().as_secs_f64());
        let (engine, state) = (&self.engine, &self.state);
        // The lock is taken with the GIL released: a thread holding it never waits for the GIL.
        let verdict = py.detach(|| {
            let mut state = state.lock().map_err(|_| liveshade::Error::Poisoned { what: "the session" })?;
            if state.verdict.is_none() {
                let report = image.with_frame(|frame| engine.check_with_landmarks(frame))?;
                state.verdict = state.session.push_report(&report, t);
            }
            Ok::<_, liveshade::Error>(state.verdict.clone())
        });
        Ok(verdict.map_err(py_error)?.map(Verdict::new))
    }

    /// Ends the session now (the frames ran out): the verdict, inconclusive if undecided.
    fn finish(&self) -> PyResult<Verdict> {
        let mut state = lock(&self.state)?;
        let verdict = match &state.verdict {
            Some(verdict) => verdict.clone(),
            None => state.session.finish(),
        };
        state.verdict = Some(verdict.clone());
        Ok(Verdict::new(verdict))
    }

    /// The verdict, or None while the session is still collecting frames.
    #[getter]
    fn verdict(&self) -> PyResult<Option<Verdict>> {
        Ok(lock(&self.state)?.verdict.clone().map(Verdict::new))
    }

    /// Active mode: the challenge now expected ("blink", "turn_left", "turn_right",
    /// "open_mouth"), to be shown to the person; None in passive mode or once all are met.
    #[getter]
    fn challenge(&self) -> PyResult<Option<&'static str>> {
        Ok(lock(&self.state)?.session.current_challenge().map(|c| c.as_str()))
    }

    /// The verdict signed for a server: one JSON document over the server's `nonce` (32 to
    /// 128 hex digits) with `secret_key` (64 hex digits, from liveshade.keygen); see
    /// liveshade.verify. An error while there is no verdict yet.
    fn signed(&self, secret_key: &str, nonce: &str) -> PyResult<String> {
        use liveshade::signing::{Nonce, Provenance, SecretKey, sign_verdict};
        let key = SecretKey::from_text(secret_key).map_err(py_error)?;
        let nonce = Nonce::from_hex(nonce).map_err(py_error)?;
        let state = lock(&self.state)?;
        let verdict = state.verdict.as_ref().ok_or_else(|| Error::new_err("the session has no verdict yet (push more frames, or finish())"))?;
        Ok(sign_verdict(verdict, &Provenance::of_adapter(self.engine.adapter()), &nonce, &key))
    }

    /// Frames pushed so far.
    #[getter]
    fn frames(&self) -> PyResult<usize> {
        Ok(lock(&self.state)?.session.frames())
    }
}
