//! What a check and a session give back, as Python objects: `Report` (faces, boxes,
//! keypoints, scores; `to_dict()` is the JSON contract of DESIGN.md) and `Verdict`. None
//! holds pixels.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `json.loads(text)`: the contract's JSON, made once by the library for every caller.
pub(crate) fn json_dict<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyDict>> {
    Ok(py.import("json")?.call_method1("loads", (text,))?.cast_into::<PyDict>()?)
}

/// MiniFASNet's ensemble on the best face.
#[pyclass(module = "liveshade", frozen, get_all)]
pub struct Liveness {
    /// The ensemble's live probability, (V2[1] + V1SE[1]) / 2.
    live: f32,
    /// "live" or "spoof" (the ensemble's argmax).
    label: &'static str,
    /// The ensemble's probability of its label.
    score: f32,
    /// MiniFASNetV2's softmax (class 1 is live).
    minifasnet_v2: (f32, f32, f32),
    /// MiniFASNetV1SE's softmax.
    minifasnet_v1se: (f32, f32, f32),
}

#[pymethods]
impl Liveness {
    fn __repr__(&self) -> String {
        format!("Liveness(label={:?}, live={:.4})", self.label, self.live)
    }
}

/// One face: its box and keypoints in image pixels, BlazeFace's score and, on the best
/// face, Face Mesh's landmarks (when the engine was made with landmarks=True) and liveness.
#[pyclass(module = "liveshade", frozen, get_all)]
pub struct Face {
    /// (x0, y0, x1, y1).
    #[pyo3(name = "box")]
    bounds: (f32, f32, f32, f32),
    /// BlazeFace's score.
    score: f32,
    /// Right eye, left eye, nose tip, mouth, right ear, left ear: (x, y) each.
    keypoints: Vec<(f32, f32)>,
    /// 468 (x, y, z), or None.
    landmarks: Option<Vec<(f32, f32, f32)>>,
    /// The best face's liveness; None on the others.
    liveness: Option<Py<Liveness>>,
}

#[pymethods]
impl Face {
    fn __repr__(&self) -> String {
        let (x0, y0, x1, y1) = self.bounds;
        let liveness = self.liveness.as_ref().map(|l| l.get().__repr__()).unwrap_or_else(|| "None".into());
        format!("Face(box=({x0:.1}, {y0:.1}, {x1:.1}, {y1:.1}), score={:.4}, liveness={liveness})", self.score)
    }
}

/// The result of one check.
#[pyclass(module = "liveshade", frozen)]
pub struct Report {
    report: liveshade::Report,
    landmarks: bool,
}

impl Report {
    pub(crate) fn new(report: liveshade::Report, landmarks: bool) -> Self {
        Report { report, landmarks }
    }
}

#[pymethods]
impl Report {
    /// "live", "spoof", "no_face" or "inconclusive" (the best face fails a quality gate:
    /// `reasons` says which; MiniFASNet's own answer stays in faces[0].liveness).
    #[getter]
    fn verdict(&self) -> &'static str {
        self.report.verdict().as_str()
    }

    /// Why the verdict is "inconclusive" ("face_cut_by_border", "too_dark", ...); empty
    /// otherwise.
    #[getter]
    fn reasons(&self) -> Vec<&'static str> {
        self.report.reasons().iter().map(|r| r.as_str()).collect()
    }

    /// The frame's width in pixels.
    #[getter]
    fn width(&self) -> u32 {
        self.report.width
    }

    /// The frame's height in pixels.
    #[getter]
    fn height(&self) -> u32 {
        self.report.height
    }

    /// The faces found, best first.
    #[getter]
    fn faces(&self, py: Python<'_>) -> PyResult<Vec<Face>> {
        self.report
            .faces
            .iter()
            .map(|face| {
                let b = face.face_box;
                let liveness = face
                    .liveness
                    .as_ref()
                    .map(|l| {
                        let [a, b, c] = l.minifasnet_v2;
                        let [d, e, f] = l.minifasnet_v1se;
                        Py::new(py, Liveness { live: l.live, label: l.label.as_str(), score: l.score, minifasnet_v2: (a, b, c), minifasnet_v1se: (d, e, f) })
                    })
                    .transpose()?;
                let landmarks = face.landmarks.as_ref().filter(|_| self.landmarks).map(|points| points.iter().map(|&[x, y, z]| (x, y, z)).collect());
                Ok(Face {
                    bounds: (b.x0, b.y0, b.x1, b.y1),
                    score: face.score,
                    keypoints: face.keypoints.iter().map(|&[x, y]| (x, y)).collect(),
                    landmarks,
                    liveness,
                })
            })
            .collect()
    }

    /// Milliseconds per stage: upload, record, gpu, readback, total.
    #[getter]
    fn timing_ms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = self.report.timings;
        let out = PyDict::new(py);
        for (key, ms) in [("upload", t.upload_ms), ("record", t.record_ms), ("gpu", t.gpu_ms), ("readback", t.readback_ms), ("total", t.total_ms)] {
            out.set_item(key, ms)?;
        }
        Ok(out)
    }

    /// The report as the JSON contract of `liveshade check --json` (DESIGN.md), without the
    /// `image` key.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_dict(py, &self.report.to_json(self.landmarks))
    }

    fn __repr__(&self) -> String {
        let live = self.report.faces.first().and_then(|f| f.liveness.as_ref()).map(|l| format!(", live={:.4}", l.live)).unwrap_or_default();
        format!("Report(verdict={:?}, faces={}{live})", self.verdict(), self.report.faces.len())
    }
}

/// What a session concludes.
#[pyclass(module = "liveshade", frozen)]
pub struct Verdict {
    verdict: liveshade::Verdict,
}

impl Verdict {
    pub(crate) fn new(verdict: liveshade::Verdict) -> Self {
        Verdict { verdict }
    }
}

#[pymethods]
impl Verdict {
    /// "live", "spoof" or "inconclusive".
    #[getter]
    fn verdict(&self) -> &'static str {
        self.verdict.kind.as_str()
    }

    /// The fused live probability.
    #[getter]
    fn score(&self) -> f32 {
        self.verdict.score
    }

    /// Frames that passed the quality gates.
    #[getter]
    fn frames_accepted(&self) -> usize {
        self.verdict.frames_accepted
    }

    /// Frames the quality gates rejected.
    #[getter]
    fn frames_rejected(&self) -> usize {
        self.verdict.frames_rejected
    }

    /// Why, in words, most decisive first.
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.verdict.reasons.clone()
    }

    /// Natural blinks counted.
    #[getter]
    fn blinks(&self) -> u32 {
        self.verdict.cues.blinks
    }

    /// Median nose parallax in eye distances on the face's texture (a plane is under
    /// 0.015, a head over 0.03), or None without enough motion.
    #[getter]
    fn flatness(&self) -> Option<f32> {
        self.verdict.cues.flatness
    }

    /// The verdict as the JSON of `liveshade session --json`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_dict(py, &self.verdict.to_json())
    }

    fn __repr__(&self) -> String {
        format!("Verdict(verdict={:?}, score={:.4}, frames_accepted={})", self.verdict(), self.verdict.score, self.verdict.frames_accepted)
    }
}
