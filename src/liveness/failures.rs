//! The limit on failed sessions: after repeated spoof or inconclusive verdicts, new
//! sessions are refused for a while, which slows an attacker who tries prints and screens
//! one after another.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, lock};
use crate::liveness::verdict::VerdictKind;

/// After `max_failures` failed sessions (spoof or inconclusive) within `window`, the engine
/// refuses new sessions for `cooldown`.
#[derive(Clone, Copy, Debug)]
pub struct FailureLimit {
    /// Failed sessions that trigger the cool-down.
    pub max_failures: usize,
    /// Within this long.
    pub window: Duration,
    /// How long new sessions are then refused.
    pub cooldown: Duration,
}

impl Default for FailureLimit {
    fn default() -> Self {
        FailureLimit { max_failures: 5, window: Duration::from_secs(300), cooldown: Duration::from_secs(300) }
    }
}

/// The record of failed sessions.
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

/// The failure record shared by every session started through one [`super::Sessions`]
/// (clones share it): after [`FailureLimit::max_failures`] failed sessions within the
/// window, new sessions are refused with [`Error::CoolingDown`].
#[derive(Clone, Default)]
pub struct FailureGuard {
    limit: FailureLimit,
    log: Arc<Mutex<FailureLog>>,
}

impl FailureGuard {
    /// A guard with its own, empty record.
    pub fn new(limit: FailureLimit) -> Self {
        FailureGuard { limit, log: Arc::default() }
    }

    /// Fails with [`Error::CoolingDown`] while new sessions are refused.
    pub fn admit(&self) -> Result<()> {
        lock(&self.log, "the session failure record")?.admit(Instant::now())
    }

    /// Records how a session ended (only failures count).
    pub(crate) fn record(&self, kind: VerdictKind) {
        if kind != VerdictKind::Live {
            if let Ok(mut log) = self.log.lock() {
                log.record_failure(Instant::now(), &self.limit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: FailureLimit = FailureLimit { max_failures: 3, window: Duration::from_secs(60), cooldown: Duration::from_secs(30) };

    #[test]
    fn failures_within_the_window_start_the_cooldown() {
        let mut log = FailureLog::default();
        let t0 = Instant::now();
        for k in 0..3 {
            assert!(log.admit(t0 + Duration::from_secs(k)).is_ok());
            log.record_failure(t0 + Duration::from_secs(k), &LIMIT);
        }
        match log.admit(t0 + Duration::from_secs(10)) {
            Err(Error::CoolingDown { remaining }) => assert_eq!(remaining, Duration::from_secs(22)),
            other => panic!("expected a cool-down, got {other:?}"),
        }
        assert!(log.admit(t0 + Duration::from_secs(33)).is_ok(), "the cool-down ends");
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let mut log = FailureLog::default();
        let t0 = Instant::now();
        log.record_failure(t0, &LIMIT);
        log.record_failure(t0 + Duration::from_secs(1), &LIMIT);
        log.record_failure(t0 + Duration::from_secs(100), &LIMIT);
        assert!(log.admit(t0 + Duration::from_secs(101)).is_ok());
    }

    #[test]
    fn live_sessions_do_not_count_and_clones_share_the_record() {
        let guard = FailureGuard::new(FailureLimit { max_failures: 2, ..LIMIT });
        let clone = guard.clone();
        guard.record(VerdictKind::Live);
        guard.record(VerdictKind::Live);
        assert!(clone.admit().is_ok());
        guard.record(VerdictKind::Spoof);
        clone.record(VerdictKind::Inconclusive);
        assert!(matches!(guard.admit(), Err(Error::CoolingDown { .. })));
    }
}
