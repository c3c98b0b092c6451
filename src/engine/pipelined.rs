//! Checks with two frames in flight ([`super::Engine::pipelined`]): frame k+1 is uploaded
//! and submitted while frame k computes; the map waits only for frame k's submission.

use std::sync::MutexGuard;

use crate::engine::Engine;
use crate::engine::check::{Check, Submitted};
use crate::engine::report::Report;
use crate::error::Result;
use crate::frame::Frame;

/// Checks with two frames in flight ([`Engine::pipelined`]).
pub struct Pipelined<'e> {
    engine: &'e Engine,
    check: MutexGuard<'e, Check>,
    landmarks: bool,
    in_flight: Option<Submitted>,
    next_readback: usize,
}

impl<'e> Pipelined<'e> {
    pub(super) fn new(engine: &'e Engine, check: MutexGuard<'e, Check>, landmarks: bool) -> Self {
        Pipelined { engine, check, landmarks, in_flight: None, next_readback: 0 }
    }

    /// Submits `frame` and returns the report of the frame pushed before it (None for the
    /// first). On an error every buffer is erased and nothing stays in flight.
    pub fn push(&mut self, frame: &Frame<'_>) -> Result<Option<Report>> {
        let engine = self.engine;
        let readback = self.next_readback;
        let submitted = match self.check.submit(&engine.gpu, &engine.options, self.landmarks, frame, readback) {
            Ok(submitted) => submitted,
            Err(error) => return Err(self.abandon(error)),
        };
        self.next_readback ^= 1;
        match self.in_flight.replace(submitted) {
            None => Ok(None),
            Some(previous) => match self.check.collect(&engine.gpu, previous, false) {
                Ok(report) => Ok(Some(report)),
                Err(error) => Err(self.abandon(error)),
            },
        }
    }

    /// The report of the last frame pushed, once everything is erased.
    pub fn finish(mut self) -> Result<Option<Report>> {
        self.drain()
    }

    /// Forgets what is in flight and erases every buffer.
    fn abandon(&mut self, error: crate::Error) -> crate::Error {
        self.in_flight = None;
        self.check.erase(&self.engine.gpu);
        error
    }

    fn drain(&mut self) -> Result<Option<Report>> {
        let engine = self.engine;
        let Some(last) = self.in_flight.take() else { return Ok(None) };
        let result = self.check.collect(&engine.gpu, last, true);
        if result.is_err() {
            self.check.erase(&engine.gpu);
        }
        result.map(Some)
    }
}

impl Drop for Pipelined<'_> {
    fn drop(&mut self) {
        if self.in_flight.is_some() {
            let _ = self.drain();
        }
    }
}
