//! Liveness sessions: many frames into one verdict a terminal can act on.
//!
//! Each frame is first compared with the last few (`repeats.rs`: a still image streamed
//! repeats its pixels), then goes through the engine and the quality gates (`quality.rs`); accepted
//! frames feed the passive fusion of MiniFASNet's live probability (`fusion.rs`), the
//! flatness cue (is the face a plane? on its texture, `texture.rs`, or for sessions fed
//! reports alone on its landmarks, `geometry.rs`), blink / mouth / turn detection
//! (`cues.rs`, on the engine's landmark measurements, `engine/landmarks.rs`) and, in active mode, a random
//! sequence of challenges (`challenge.rs`). [`Session`] (`session.rs`) ends with a
//! [`Verdict`] (`verdict.rs`): live, spoof or inconclusive, with its reasons and no pixels.
//! [`Sessions`] starts them and keeps the failure limit (`failures.rs`). The session
//! side uses the engine; the engine knows nothing of sessions.

crate::internal_mod!(challenge);
crate::internal_mod!(cues);
mod failures;
crate::internal_mod!(fusion);
crate::internal_mod!(geometry);
mod options;
crate::internal_mod!(quality);
crate::internal_mod!(repeats);
mod session;
crate::internal_mod!(texture);
mod verdict;

pub use challenge::Challenge;
pub use failures::{FailureGuard, FailureLimit};
pub use fusion::FusionRule;
pub use options::{FlatnessRule, Mode, SessionOptions, SessionOverrides};
pub use quality::{QualityLimits, Rejection};
pub use session::{Session, Sessions};
pub use verdict::{Cues, Verdict, VerdictKind};
