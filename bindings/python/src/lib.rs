//! `liveshade._liveshade`, the native module of the Python package (python/liveshade
//! re-exports it with its type stubs).
//!
//! The GIL is released while a frame is checked or an image decoded, so other Python
//! threads run meanwhile; one engine may be used from several threads at once (its checks
//! run one after another on the GPU). A numpy array is copied once into zeroized memory
//! first (images.rs says why), and no reference to it is kept.

mod engine;
mod images;
mod results;
mod session;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

pyo3::create_exception!(liveshade, Error, PyRuntimeError, "liveshade failed: no GPU adapter, a GPU error, a lost device.");
pyo3::create_exception!(liveshade, CoolingDownError, Error, "Too many failed sessions recently: new sessions are refused for a while.");
pyo3::create_exception!(liveshade, ImageError, PyValueError, "An image file could not be read or decoded.");
pyo3::create_exception!(
    liveshade,
    SignatureError,
    PyValueError,
    "A signed result that does not verify (changed, another key, another nonce, cut), or a key or nonce that is not one."
);

/// The library's errors as Python exceptions: bad input is a ValueError, the GPU's troubles
/// a liveshade.Error.
pub(crate) fn py_error(error: liveshade::Error) -> PyErr {
    use liveshade::Error as E;
    let message = error.to_string();
    match error {
        E::Frame { .. } | E::UnknownBackend { .. } | E::Shape { .. } | E::Options { .. } | E::SessionOptions { .. } => PyValueError::new_err(message),
        E::Image { .. } => ImageError::new_err(message),
        E::CoolingDown { .. } => CoolingDownError::new_err(message),
        E::Signature { .. } => SignatureError::new_err(message),
        _ => Error::new_err(message),
    }
}

/// The library's identity: its version, the result schema's, and the SHA-256 of each
/// weights file built in.
#[pyfunction]
fn version(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let weights = PyDict::new(py);
    for (file, hash) in liveshade::weights_sha256() {
        weights.set_item(file, hash)?;
    }
    let out = PyDict::new(py);
    out.set_item("library", env!("CARGO_PKG_VERSION"))?;
    out.set_item("result_schema", liveshade::RESULT_SCHEMA_VERSION)?;
    out.set_item("weights", weights)?;
    Ok(out)
}

/// Decodes a JPEG or PNG (a path or the file's bytes), its EXIF orientation applied:
/// (height, width, RGB bytes). `liveshade.load_image` makes it a numpy array.
#[pyfunction]
fn decode_image<'py>(py: Python<'py>, image: &Bound<'py, PyAny>) -> PyResult<(u32, u32, Bound<'py, PyBytes>)> {
    let image = images::image(image, None)?;
    let decoded = py
        .detach(|| image.decoded())
        .ok_or_else(|| PyTypeError::new_err("decode_image takes a path or the bytes of a JPEG or PNG file, not an array"))?
        .map_err(py_error)?;
    // The copy is the caller's; the decoded pixels are zeroed when `decoded` drops.
    Ok((decoded.height(), decoded.width(), PyBytes::new(py, decoded.rgb())))
}

/// A new Ed25519 key pair for signed results: (secret, public), 64 hex digits each. Keep the
/// secret on the terminal; give the public key to the server.
#[pyfunction]
fn keygen(py: Python<'_>) -> PyResult<(Bound<'_, PyString>, String)> {
    let key = liveshade::signing::SecretKey::generate().map_err(py_error)?;
    // Python's string is the caller's; the Rust copy is zeroed when `secret` drops.
    let secret = key.to_hex();
    Ok((PyString::new(py, &secret), key.public_key().to_hex()))
}

/// Verifies a signed result (Session.signed, `liveshade session --sign`) against the
/// terminal's public key and the nonce the server sent; returns the signed payload as a
/// dict, or raises SignatureError saying what failed.
#[pyfunction]
fn verify<'py>(py: Python<'py>, document: &str, public_key: &str, nonce: &str) -> PyResult<Bound<'py, PyDict>> {
    use liveshade::signing::{Nonce, PublicKey};
    let key = PublicKey::from_text(public_key).map_err(py_error)?;
    let nonce = Nonce::from_hex(nonce).map_err(py_error)?;
    let verified = liveshade::signing::verify(document, &key, &nonce).map_err(py_error)?;
    results::json_dict(py, &verified.payload)
}

/// The GPU adapters wgpu finds on every backend built in, as dicts (name, backend, device_type, driver).
#[pyfunction]
fn adapters(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let found = py.detach(liveshade::list_adapters);
    found
        .into_iter()
        .map(|a| {
            let d = PyDict::new(py);
            d.set_item("name", &a.name)?;
            d.set_item("backend", a.backend.to_string())?;
            d.set_item("device_type", format!("{:?}", a.device_type).to_lowercase())?;
            d.set_item("driver", &a.driver)?;
            Ok(d)
        })
        .collect()
}

#[pymodule]
fn _liveshade(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("CoolingDownError", py.get_type::<CoolingDownError>())?;
    m.add("ImageError", py.get_type::<ImageError>())?;
    m.add("SignatureError", py.get_type::<SignatureError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(adapters, m)?)?;
    m.add_function(wrap_pyfunction!(decode_image, m)?)?;
    m.add_function(wrap_pyfunction!(keygen, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<results::Report>()?;
    m.add_class::<results::Face>()?;
    m.add_class::<results::Liveness>()?;
    m.add_class::<results::Verdict>()?;
    Ok(())
}
