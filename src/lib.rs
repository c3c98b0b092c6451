//! liveshade: face liveness on the GPU.
//!
//! A camera frame goes to the GPU and everything after it runs in video memory as
//! hand-written WGSL compute shaders on wgpu: face detection (BlazeFace), 468 face
//! keypoints (Face Mesh) and passive liveness (the MiniFASNet ensemble of
//! Silent-Face-Anti-Spoofing), in one submission. Only a few hundred bytes come back, and
//! every buffer that held the frame is zeroed before a check returns. Frames never touch
//! the disk or the network (PRIVACY.md).
//!
//! # One frame
//!
//! ```no_run
//! use liveshade::{DecodedImage, Engine, EngineOptions};
//!
//! let engine = Engine::new(EngineOptions::default())?;            // compiles and warms up every kernel
//! let image = DecodedImage::open("samples/live_T1.jpg".as_ref())?; // EXIF orientation applied
//! let report = engine.check(&image.frame()?)?;                     // one submission, erased before it returns
//! println!("{}", report.verdict());                                // live, spoof or no_face
//! # Ok::<(), liveshade::Error>(())
//! ```
//!
//! Frames can also come straight from a camera or the caller: [`Frame::rgba8`],
//! [`Frame::rgb8`], [`Frame::bgra8`] or [`Frame::new`] with any row stride and the
//! camera formats of [`PixelFormat`]. A [`Report`] holds the faces found (box, keypoints,
//! optionally the landmarks, light and focus) and the best face's [`Liveness`]: never
//! pixels.
//!
//! # Many frames, one verdict
//!
//! A [`Session`] fuses many frames and adds quality gates, the flatness cue (a photo is a
//! plane, a head is not), blinks and, in active mode, random challenges, before it says
//! [`VerdictKind::Live`], `Spoof` or `Inconclusive` with its reasons. [`Sessions`] starts
//! them on an engine and refuses new ones for a while after repeated failures.
//!
//! ```no_run
//! use liveshade::{Engine, EngineOptions, FolderSource, FrameSource, SessionOptions, Sessions};
//!
//! let engine = Engine::new(EngineOptions::default())?;
//! let sessions = Sessions::new(&engine);
//! let mut session = sessions.start(SessionOptions::passive())?;  // or ::active()
//! let mut frames = FolderSource::open("tests/sequences/bbaf2n".as_ref(), 25.0)?;
//! while let Some(frame) = frames.next_frame()? {
//!     if let Some(verdict) = session.push(&frame.frame()?)? {
//!         println!("{}: {:?}", verdict.kind.as_str(), verdict.reasons);
//!         break;
//!     }
//! }
//! # Ok::<(), liveshade::Error>(())
//! ```
//!
//! # Cameras, watching, the preview
//!
//! With the `camera` feature (default), [`camera`] lists and opens cameras; opening one
//! needs a [`camera::Consent`], which only the user's recorded consent makes. [`watch()`]
//! runs sessions one after another over any [`FrameSource`]; with the `window` feature,
//! [`preview`] draws them in a window with the engine's own device.
//!
//! # Internals
//!
//! The GPU runtime, the layers, the networks and the engine's tools (per-dispatch timing,
//! the resamplers on their own) are the `internals` feature: benches, examples and tests
//! use them; they are not the product's API and may change.
#![warn(missing_docs)]

/// Declares a module that is public with the `internals` feature and private without it.
macro_rules! internal_mod {
    ($(#[$meta:meta])* $name:ident) => {
        #[cfg(feature = "internals")]
        $(#[$meta])*
        #[allow(missing_docs)]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        #[allow(dead_code, unused_imports)]
        mod $name;
    };
}
pub(crate) use internal_mod;

// Each module imports only those before it in the data flow (the order is in tests/layering.rs).
mod error;
internal_mod!(
    /// Shapes and CPU tensors.
    tensor
);
mod frame;
internal_mod!(
    /// The GPU runtime: adapter, device, buffer arena, kernels as data.
    gpu
);
internal_mod!(
    /// The layers as recorded dispatches, their kernel table, tuning and CPU references.
    nn
);
internal_mod!(
    /// The four networks built from weights/.
    models
);
#[cfg(feature = "camera")]
pub mod camera;
mod engine;
mod json;
mod liveness;
#[cfg(feature = "window")]
pub mod preview;
pub mod signing;
mod source;
mod watch;

pub use engine::{CheckVerdict, Engine, EngineOptions, Face, FaceBox, FaceQuality, FaceTrack, Label, Liveness, Pipelined, Pose, Report, Stage, Timings};
pub use error::{Error, Result};
pub use frame::{DecodedImage, Frame, PixelFormat};
pub use gpu::{AdapterSummary, Backend, GpuOptions, PipelineCacheReport, list_adapters};
pub use json::RESULT_SCHEMA_VERSION;
pub use liveness::{
    Challenge, Cues, FailureGuard, FailureLimit, FlatnessRule, FusionRule, Mode, QualityLimits, Rejection, Session, SessionOptions, SessionOverrides, Sessions,
    Verdict, VerdictKind,
};
pub use models::weights_sha256;
pub use source::{FolderSource, FrameSource, SourceFrame};
pub use watch::{Status, Step, StepError, WatchEvent, Watcher, watch};

/// The engine's internals for benches, tools and tests: the resamplers run on their own,
/// the session's measurements. Not the product API.
#[cfg(feature = "internals")]
pub mod internals {
    pub use crate::engine::kernels::{KERNELS as ENGINE_KERNELS, SHADERS as ENGINE_SHADERS};
    pub use crate::engine::landmarks;
    pub use crate::engine::{Resampling, resample, upright_crop_transform};
    pub use crate::frame::yuv_to_rgb;
    pub use crate::liveness::{challenge, cues, fusion, geometry, quality, repeats, texture};
}
