//! The one error type of the library: a variant per failure class, each carrying what a
//! user needs to act on it (the backend, the adapter, the op and the shapes involved).

use crate::gpu::Backend;

/// Everything that can go wrong in liveshade.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requested backend is not compiled in or not supported on this platform.
    #[error("the {backend} backend is not available on this platform")]
    BackendUnavailable { backend: Backend },

    /// No adapter matched the request.
    #[error(
        "no GPU adapter found for backend {backend}{name}; adapters present: {available}. \
         On Linux without a GPU, install Mesa's software Vulkan driver \
         (apt-get install mesa-vulkan-drivers)",
        name = .name_filter.as_deref().map(|n| format!(" with a name containing {n:?}")).unwrap_or_default(),
        available = if .available.is_empty() { "none".to_string() } else { .available.join(", ") }
    )]
    NoAdapter { backend: Backend, name_filter: Option<String>, available: Vec<String> },

    /// The adapter refused to create a device.
    #[error("adapter {adapter} refused to create a device: {reason}")]
    RequestDevice { adapter: String, reason: String },

    /// The device was lost (driver reset, GPU removed, or destroyed); the engine must be
    /// created again.
    #[error("the GPU device was lost: {reason}")]
    DeviceLost { reason: String },

    /// The GPU reported an error (validation, out of memory) or did not finish in time.
    #[error("GPU error during {during}: {message}")]
    Gpu { during: &'static str, message: String },

    /// A weights file is missing, truncated, mislabelled or holds a bad tensor.
    #[error("weights {file}{tensor}: {reason}", tensor = .tensor.as_deref().map(|t| format!(", tensor {t:?}")).unwrap_or_default())]
    Weights { file: String, tensor: Option<String>, reason: String },

    /// A frame's size, stride or byte count is unusable.
    #[error("bad frame: {reason}")]
    Frame { reason: String },

    /// An image file could not be read or decoded.
    #[error("{path}: {reason}")]
    Image { path: String, reason: String },

    /// No camera, a camera that refused to open, or one that stopped delivering frames.
    #[error("camera: {reason}")]
    Camera { reason: String },

    /// Too many sessions failed recently: new sessions are refused for a while.
    #[error("too many failed sessions: new sessions are refused for another {} s", .remaining.as_secs())]
    CoolingDown { remaining: std::time::Duration },

    /// The operating system's random source failed (active challenges need it).
    #[error("no random numbers from the operating system: {reason}")]
    Random { reason: String },

    /// Arguments to an op do not fit together.
    #[error("{op}: {reason}")]
    Shape { op: &'static str, reason: String },

    /// A buffer would exceed what the device can bind or dispatch.
    #[error("{what} needs {needed} but the device allows at most {limit} ({limit_name})")]
    TooLarge { what: String, needed: u64, limit: u64, limit_name: &'static str },
}

/// `Result` with liveshade's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn shape(op: &'static str, reason: impl Into<String>) -> Self {
        Error::Shape { op, reason: reason.into() }
    }
}
