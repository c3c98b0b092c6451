//! `liveshade.Engine`: the GPU, the four networks and every buffer, made once; `check` runs
//! one frame in one submission with the GIL released.

use std::path::PathBuf;
use std::sync::Arc;

use liveshade::{EngineOptions, FailureGuard, FailureLimit, GpuOptions, Session as CoreSession, SessionOverrides};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::images::image;
use crate::py_error;
use crate::results::Report;
use crate::session::Session;

/// A liveness engine on one GPU adapter.
#[pyclass(module = "liveshade", frozen)]
pub struct Engine {
    engine: Arc<liveshade::Engine>,
    /// The failure record its sessions share.
    failures: FailureGuard,
    landmarks: bool,
}

#[pymethods]
impl Engine {
    /// Picks the adapter, loads the networks, compiles the kernels they and the engine use,
    /// and warms up at `warm_up`'s size.
    // Python's keyword arguments, one per engine option.
    #[allow(clippy::too_many_arguments)]
    #[new]
    #[pyo3(signature = (backend = "auto", adapter = None, landmarks = false, calibrate_box = true, upright_crops = true, max_faces = 2, warm_up = Some((640, 480)), max_failed_sessions = None, pipeline_cache_dir = None))]
    fn new(
        py: Python<'_>,
        backend: &str,
        adapter: Option<String>,
        landmarks: bool,
        calibrate_box: bool,
        upright_crops: bool,
        max_faces: u32,
        warm_up: Option<(u32, u32)>,
        max_failed_sessions: Option<usize>,
        pipeline_cache_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let gpu = GpuOptions { backend: backend.parse().map_err(py_error)?, adapter_name: adapter, pipeline_cache_dir };
        // The rest (the `internals` feature's tuning) is the default; built alone, without that
        // feature, the update names no field, which clippy would otherwise refuse.
        #[allow(clippy::needless_update)]
        let options = EngineOptions { gpu, landmarks, calibrate_box, upright_crops, max_faces, warm_up, ..EngineOptions::default() };
        let mut limit = FailureLimit::default();
        if let Some(max) = max_failed_sessions {
            limit.max_failures = max;
        }
        let engine = py.detach(|| liveshade::Engine::new(options)).map_err(py_error)?;
        Ok(Engine { engine: Arc::new(engine), failures: FailureGuard::new(limit), landmarks })
    }

    /// The adapter's name, as the driver gives it.
    #[getter]
    fn adapter(&self) -> String {
        self.engine.adapter().name.clone()
    }

    /// The graphics API the adapter was found through: "vulkan", "metal", "dx12" or "gl".
    #[getter]
    fn backend(&self) -> String {
        self.engine.adapter().backend.to_string()
    }

    /// What became of the pipeline cache file at start: None where none is used (no
    /// `pipeline_cache_dir`, or an adapter without wgpu's pipeline cache), else a dict with
    /// `path`, `offered_bytes` (what the file gave the driver; 0: a cold start), `not_read`
    /// and `not_written` (None, or why: the file never stops an engine).
    #[getter]
    fn pipeline_cache<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(report) = self.engine.pipeline_cache_file() else { return Ok(None) };
        let dict = PyDict::new(py);
        dict.set_item("path", report.path.display().to_string())?;
        dict.set_item("offered_bytes", report.offered_bytes)?;
        dict.set_item("not_read", report.not_read)?;
        dict.set_item("not_written", report.not_written)?;
        Ok(Some(dict))
    }

    /// Checks one image: a path, the bytes of a JPEG or PNG file, or a numpy.uint8 array
    /// HxWx3 (RGB; format="BGR" for OpenCV's) or HxWx4 (RGBA; "BGRA").
    #[pyo3(signature = (image, format = None))]
    fn check(&self, py: Python<'_>, image: &Bound<'_, PyAny>, format: Option<&str>) -> PyResult<Report> {
        let image = self::image(image, format)?;
        let engine = &self.engine;
        let report = py.detach(|| image.with_frame(|frame| engine.check(frame))).map_err(py_error)?;
        Ok(Report::new(report, self.landmarks))
    }

    /// Starts a session: many frames, one verdict. `active` asks for random challenges
    /// (Session.challenge says which is expected). The other arguments override the
    /// defaults of SessionOptions (`detect_every`: BlazeFace at least once in this many
    /// frames, 10; between, the face is followed from its landmarks; `confirm_live=False`:
    /// MiniFASNet's fused score decides passive mode alone, the published pipeline's rule).
    /// A value out of its range is a ValueError naming it.
    // Python's keyword arguments, one per session option.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (active = false, time_limit_s = None, max_frames = None, min_frames = None, live_threshold = None, spoof_threshold = None, detect_every = None, confirm_live = None))]
    fn session(
        &self,
        active: bool,
        time_limit_s: Option<f64>,
        max_frames: Option<usize>,
        min_frames: Option<usize>,
        live_threshold: Option<f32>,
        spoof_threshold: Option<f32>,
        detect_every: Option<u32>,
        confirm_live: Option<bool>,
    ) -> PyResult<Session> {
        let overrides = SessionOverrides { active, time_limit_s, max_frames, min_frames, live_threshold, spoof_threshold, detect_every, confirm_live };
        let options = overrides.options().map_err(py_error)?;
        let session = CoreSession::from_reports_with_guard(options, &self.failures).map_err(py_error)?;
        Ok(Session::new(Arc::clone(&self.engine), session))
    }

    fn __repr__(&self) -> String {
        format!("Engine(adapter={:?}, backend={:?})", self.adapter(), self.backend())
    }
}
