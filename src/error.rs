//! The one error type of the library: a variant per failure class, each carrying what a
//! user needs to act on it (the backend, the adapter, the op and the shapes involved).
//! It stands below every other module and imports none of them.

use std::sync::{Mutex, MutexGuard};

/// Everything that can go wrong in liveshade.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requested backend is not compiled in or not supported on this platform.
    #[error("the {backend} backend is not available on this platform; `liveshade devices` lists the adapters of the backends that are")]
    BackendUnavailable {
        /// The backend asked for (`vulkan`, `metal`, `dx12`, `gl`).
        backend: String,
    },

    /// A backend name that is none of auto, vulkan, metal, dx12 or gl.
    #[error("unknown backend {name:?} (expected auto, vulkan, metal, dx12 or gl)")]
    UnknownBackend {
        /// The name given.
        name: String,
    },

    /// No adapter matched the request.
    #[error(
        "no GPU adapter found for backend {backend}{name}; adapters present: {available}. \
         On Linux without a GPU, install Mesa's software Vulkan driver \
         (apt-get install mesa-vulkan-drivers)",
        name = .name_filter.as_deref().map(|n| format!(" with a name containing {n:?}")).unwrap_or_default(),
        available = if .available.is_empty() { "none".to_string() } else { .available.join(", ") }
    )]
    NoAdapter {
        /// The backend searched.
        backend: String,
        /// The adapter name fragment asked for, if any.
        name_filter: Option<String>,
        /// Every adapter of that backend, described.
        available: Vec<String>,
    },

    /// The adapter refused to create a device.
    #[error(
        "adapter {adapter} refused to create a device: {reason}. Update its driver, or pick another adapter (--backend, --adapter; `liveshade devices` lists them)"
    )]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// What the driver said.
        reason: String,
    },

    /// The device was lost (driver reset, GPU removed, or destroyed); the engine must be
    /// created again.
    #[error("the GPU device was lost: {reason}. Create the engine again; if it keeps happening, check the driver")]
    DeviceLost {
        /// The driver's reason.
        reason: String,
    },

    /// The GPU reported an error (validation, out of memory) or did not finish in time.
    #[error("GPU error during {during}: {message}")]
    Gpu {
        /// What the engine was doing.
        during: &'static str,
        /// What wgpu reported.
        message: String,
    },

    /// A kernel needs a device feature the adapter lacks.
    #[error("kernel {kernel} needs device features {features} that this adapter lacks; pick another adapter (`liveshade devices` lists them)")]
    MissingFeature {
        /// The kernel's name.
        kernel: &'static str,
        /// The features it needs.
        features: String,
    },

    /// A thread panicked while holding one of the engine's locks; the engine (or session
    /// guard) it belongs to should be created again.
    #[error("{what} is unusable: a thread panicked while holding its lock; create it again")]
    Poisoned {
        /// What the lock guards.
        what: &'static str,
    },

    /// A weights file is missing, truncated, mislabelled or holds a bad tensor.
    #[error("weights {file}{tensor}: {reason}", tensor = .tensor.as_deref().map(|t| format!(", tensor {t:?}")).unwrap_or_default())]
    Weights {
        /// The weights file.
        file: String,
        /// The tensor concerned, if one.
        tensor: Option<String>,
        /// What is wrong.
        reason: String,
    },

    /// An engine option out of its range.
    #[error("bad engine options: {reason}")]
    Options {
        /// Which option, what it was and what it may be.
        reason: String,
    },

    /// A session option out of its range ([`crate::SessionOverrides`]).
    #[error("bad session options: {reason}")]
    SessionOptions {
        /// Which option, what it was and what it may be.
        reason: String,
    },

    /// A frame's size, stride or byte count is unusable.
    #[error("bad frame: {reason}")]
    Frame {
        /// What is wrong, with the sizes involved.
        reason: String,
    },

    /// An image file could not be read or decoded.
    #[error("{path}: {reason}")]
    Image {
        /// The file.
        path: String,
        /// What the decoder said.
        reason: String,
    },

    /// No camera, a camera that refused to open, or one that stopped delivering frames.
    #[error("camera: {reason}")]
    Camera {
        /// What happened.
        reason: String,
    },

    /// Too many sessions failed recently: new sessions are refused for a while.
    #[error("too many failed sessions: new sessions are refused for another {} s", .remaining.as_secs())]
    CoolingDown {
        /// How long new sessions stay refused.
        remaining: std::time::Duration,
    },

    /// The operating system's random source failed (active challenges need it).
    #[error("no random numbers from the operating system: {reason}")]
    Random {
        /// What the operating system said.
        reason: String,
    },

    /// A session made from reports was given a frame: it has no engine to check it on.
    #[error("this session was made from reports (Session::from_reports) and has no engine to check frames; push reports, or start it from Sessions")]
    NoEngine,

    /// Arguments to an op do not fit together.
    #[error("{op}: {reason}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// What does not fit.
        reason: String,
    },

    /// A signed result, key or nonce that does not check out (src/signing.rs).
    #[error("signature: {reason}")]
    Signature {
        /// What failed, and what to do.
        reason: String,
    },

    /// A buffer would exceed what the device can bind or dispatch.
    #[error("{what} needs {needed} {unit} but the device allows at most {limit} ({limit_name}); a smaller frame, or an adapter with larger limits, fits")]
    TooLarge {
        /// What would be too large.
        what: String,
        /// What it needs.
        needed: u64,
        /// What `needed` and `limit` count ("bytes", "workgroups").
        unit: &'static str,
        /// What the device allows.
        limit: u64,
        /// The wgpu limit concerned.
        limit_name: &'static str,
    },

    /// The pipeline cache directory an integrator named is missing or not a directory
    /// (src/gpu/pipeline_file.rs; a file that cannot be trusted, read or written is a cold
    /// start, never this error).
    #[error("pipeline cache {path}: {reason}")]
    PipelineCache {
        /// The directory or file.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// `Result` with liveshade's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn shape(op: &'static str, reason: impl Into<String>) -> Self {
        Error::Shape { op, reason: reason.into() }
    }
}

/// Locks `mutex`, or [`Error::Poisoned`] naming `what` if a thread panicked holding it:
/// the one place the library turns a poisoned lock into an error.
pub(crate) fn lock<'a, T>(mutex: &'a Mutex<T>, what: &'static str) -> Result<MutexGuard<'a, T>> {
    mutex.lock().map_err(|_| Error::Poisoned { what })
}
