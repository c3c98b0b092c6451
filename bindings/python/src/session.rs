//! `liveshade.Session`: frames pushed one by one until the session says live, spoof or
//! inconclusive.

use std::sync::{Arc, Mutex};
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

impl Session {
    /// Runs `f` on the session's state with the lock taken while the GIL is released: a
    /// `push` holds the lock through a GPU check, and a thread waiting for it must not stop
    /// every other Python thread meanwhile.
    fn with_state<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut State) -> R + Send) -> PyResult<R> {
        let state = &self.state;
        py.detach(|| state.lock().map(|mut state| f(&mut state)).map_err(|_| ()))
            .map_err(|_| Error::new_err("the session is unusable: a call on it failed inside liveshade; start another"))
    }
}

/// A session freed before its verdict leaves nothing on its engine either (the face region
/// the engine kept between its frames).
impl Drop for Session {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = state.session.release_on(&self.engine);
    }
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
                state.verdict = image.with_frame(|frame| state.session.push_checked_on(engine, frame, t))?;
            }
            Ok::<_, liveshade::Error>(state.verdict.clone())
        });
        Ok(verdict.map_err(py_error)?.map(Verdict::new))
    }

    /// Ends the session now (the frames ran out): the verdict, inconclusive if undecided.
    fn finish(&self, py: Python<'_>) -> PyResult<Verdict> {
        let engine = &self.engine;
        let verdict = self.with_state(py, |state| {
            let verdict = match &state.verdict {
                Some(verdict) => verdict.clone(),
                None => state.session.finish_checked_on(engine)?,
            };
            state.verdict = Some(verdict.clone());
            Ok::<_, liveshade::Error>(verdict)
        })?;
        Ok(Verdict::new(verdict.map_err(py_error)?))
    }

    /// The verdict, or None while the session is still collecting frames.
    #[getter]
    fn verdict(&self, py: Python<'_>) -> PyResult<Option<Verdict>> {
        Ok(self.with_state(py, |state| state.verdict.clone())?.map(Verdict::new))
    }

    /// Active mode: the challenge now expected ("blink", "turn_left", "turn_right",
    /// "open_mouth"), to be shown to the person; None in passive mode or once all are met.
    #[getter]
    fn challenge(&self, py: Python<'_>) -> PyResult<Option<&'static str>> {
        self.with_state(py, |state| state.session.current_challenge().map(|c| c.as_str()))
    }

    /// The verdict signed for a server: one JSON document over the server's `nonce` (32 to
    /// 128 hex digits) with `secret_key` (64 hex digits, from liveshade.keygen); see
    /// liveshade.verify. An error while there is no verdict yet.
    fn signed(&self, py: Python<'_>, secret_key: &str, nonce: &str) -> PyResult<String> {
        use liveshade::signing::{Nonce, Provenance, SecretKey, sign_verdict};
        let key = SecretKey::from_text(secret_key).map_err(py_error)?;
        let nonce = Nonce::from_hex(nonce).map_err(py_error)?;
        let provenance = Provenance::of_adapter(self.engine.adapter());
        let signed = self.with_state(py, |state| state.verdict.as_ref().map(|verdict| sign_verdict(verdict, &provenance, &nonce, &key)))?;
        signed.ok_or_else(|| Error::new_err("the session has no verdict yet (push more frames, or finish())"))
    }

    /// Frames pushed so far.
    #[getter]
    fn frames(&self, py: Python<'_>) -> PyResult<usize> {
        self.with_state(py, |state| state.session.frames())
    }
}
