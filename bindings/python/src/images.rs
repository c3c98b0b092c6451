//! What `Engine.check` and `Session.push` take as an image: a path, the bytes of a JPEG or
//! PNG file, or a numpy array (anything with numpy's `__array_interface__`). An array's
//! pixels are copied once, while the GIL is held, into memory zeroed when the call ends:
//! the GPU work then runs with the GIL released on a copy no other Python thread can
//! change or free (an array is mutable: OpenCV's `VideoCapture.read` writes into it from
//! another thread). No reference to the array is kept.

use std::path::PathBuf;

use liveshade::{DecodedImage, Frame, PixelFormat};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use zeroize::Zeroizing;

use crate::py_error;

/// An image argument, ready to be checked with the GIL released.
pub(crate) enum Image<'a> {
    /// A file, decoded into memory that is zeroed when the check is done.
    File(PathBuf),
    /// An encoded file in memory, likewise.
    Encoded(&'a [u8]),
    /// A copy of the caller's pixels, rows `stride` bytes apart.
    Pixels { bytes: Zeroizing<Vec<u8>>, width: u32, height: u32, stride: u32, format: PixelFormat },
}

impl Image<'_> {
    /// A file's pixels, decoded; None for an array's, which need no decoding.
    pub(crate) fn decoded(&self) -> Option<liveshade::Result<DecodedImage>> {
        match self {
            Image::File(path) => Some(DecodedImage::open(path)),
            Image::Encoded(bytes) => Some(DecodedImage::from_encoded(bytes)),
            Image::Pixels { .. } => None,
        }
    }

    /// Runs `check` on the image's pixels, decoding them first where needed. Called with the
    /// GIL released: nothing here touches a Python object.
    pub(crate) fn with_frame<R>(&self, check: impl FnOnce(&Frame<'_>) -> liveshade::Result<R>) -> liveshade::Result<R> {
        match self {
            Image::Pixels { bytes, width, height, stride, format } => check(&Frame::new(*width, *height, *stride, *format, bytes)?),
            Image::File(path) => check(&DecodedImage::open(path)?.frame()?),
            Image::Encoded(bytes) => check(&DecodedImage::from_encoded(bytes)?.frame()?),
        }
    }
}

const WHAT_IMAGES_ARE: &str = "a path, the bytes of a JPEG or PNG file, or a numpy.uint8 array HxWx3 (RGB, or BGR with format=\"BGR\") or HxWx4 (RGBA, BGRA)";

/// Reads an image argument. A wrong type or dtype is a TypeError; a wrong shape, layout or
/// format a ValueError.
pub(crate) fn image<'a>(object: &'a Bound<'_, PyAny>, format: Option<&str>) -> PyResult<Image<'a>> {
    let file_format = || match format {
        None => Ok(()),
        Some(_) => Err(PyValueError::new_err("format= is for arrays: an image file says its own format")),
    };
    if let Ok(bytes) = object.cast::<PyBytes>() {
        file_format()?;
        return Ok(Image::Encoded(bytes.as_bytes()));
    }
    if object.is_instance_of::<PyString>() || object.hasattr("__fspath__")? {
        file_format()?;
        let path: PathBuf = object.extract()?;
        return Ok(Image::File(path));
    }
    array(object, format)
}

fn array<'a>(object: &'a Bound<'_, PyAny>, format: Option<&str>) -> PyResult<Image<'a>> {
    let type_name = || object.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    let Ok(interface) = object.getattr("__array_interface__") else {
        return Err(PyTypeError::new_err(format!("image must be {WHAT_IMAGES_ARE}, not {}", type_name())));
    };
    let interface = interface.cast_into::<PyDict>().map_err(|_| PyTypeError::new_err("the array's __array_interface__ is not a dict"))?;
    let item = |key: &str| interface.get_item(key)?.ok_or_else(|| PyTypeError::new_err(format!("the array's __array_interface__ has no {key:?}")));

    let typestr: String = item("typestr")?.extract()?;
    if !matches!(typestr.as_str(), "|u1" | "<u1" | ">u1") {
        let dtype = object.getattr("dtype").map(|d| d.to_string()).unwrap_or(typestr);
        return Err(PyTypeError::new_err(format!("image must be an array of uint8 (dtype {dtype} given): convert with image.astype(numpy.uint8)")));
    }
    let shape: Vec<usize> = item("shape")?.extract()?;
    let &[height, width, channels] = shape.as_slice() else {
        return Err(PyValueError::new_err(format!("image must be HxWx3 or HxWx4, not an array of shape {}", tuple(&shape))));
    };
    let format = pixel_format(channels, format, &shape)?;
    let too_large = || PyValueError::new_err(format!("an image of shape {} is larger than any frame accepted", tuple(&shape)));
    let row = width.checked_mul(channels).ok_or_else(too_large)?;
    let strides: Option<Vec<isize>> = item("strides")?.extract()?;
    // Rows may be apart by more than a row (a crop of a larger array), but each row must be
    // whole pixels of `channels` bytes side by side, as the GPU reads them.
    let stride = match strides.as_deref() {
        None => row,
        Some(&[rows, pixels, bytes]) if bytes == 1 && pixels == channels as isize && rows >= row as isize => rows as usize,
        Some(strides) => {
            return Err(PyValueError::new_err(format!(
                "image must be C-contiguous within its rows (strides {} for shape {}): pass numpy.ascontiguousarray(image)",
                tuple(strides),
                tuple(&shape)
            )));
        }
    };
    let side = |n: usize| u32::try_from(n).map_err(|_| too_large());
    let (width, height, stride) = (side(width)?, side(height)?, side(stride)?);
    let len = format.frame_len(width, height, stride).map_err(py_error)?;
    let (address, _read_only): (usize, bool) = item("data")?
        .extract()
        .map_err(|_| PyTypeError::new_err("the array's __array_interface__ gives no data pointer (for a PIL image, pass numpy.asarray(image))"))?;
    if address == 0 {
        return Err(PyValueError::new_err("the array has no data"));
    }
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    // SAFETY: numpy's array interface promises `len` readable bytes at `address` for an
    // array of this shape and these strides (`frame_len` is the span its rows cover); the
    // array lives through this call (the caller's reference, `object`), and the GIL is held
    // while the bytes are copied.
    unsafe { std::ptr::copy_nonoverlapping(address as *const u8, bytes.as_mut_ptr(), len) };
    Frame::new(width, height, stride, format, &bytes).map_err(py_error)?;
    Ok(Image::Pixels { bytes, width, height, stride, format })
}

fn pixel_format(channels: usize, format: Option<&str>, shape: &[usize]) -> PyResult<PixelFormat> {
    let name = format.map(str::to_ascii_uppercase);
    let wanted = match name.as_deref() {
        None => return channel_default(channels, shape),
        Some("RGB") => (PixelFormat::Rgb8, 3),
        Some("BGR") => (PixelFormat::Bgr8, 3),
        Some("RGBA") => (PixelFormat::Rgba8, 4),
        Some("BGRA") => (PixelFormat::Bgra8, 4),
        Some(other) => return Err(PyValueError::new_err(format!("unknown format {other:?} (RGB, BGR, RGBA or BGRA)"))),
    };
    if wanted.1 != channels {
        return Err(PyValueError::new_err(format!("format {:?} needs HxWx{}, not an array of shape {}", name.unwrap_or_default(), wanted.1, tuple(shape))));
    }
    Ok(wanted.0)
}

fn channel_default(channels: usize, shape: &[usize]) -> PyResult<PixelFormat> {
    match channels {
        3 => Ok(PixelFormat::Rgb8),
        4 => Ok(PixelFormat::Rgba8),
        _ => Err(PyValueError::new_err(format!("image must be HxWx3 or HxWx4, not an array of shape {}", tuple(shape)))),
    }
}

/// A shape or strides as Python prints a tuple: (480, 640, 3).
fn tuple<T: std::fmt::Display>(items: &[T]) -> String {
    let items: Vec<String> = items.iter().map(T::to_string).collect();
    format!("({}{})", items.join(", "), if items.len() == 1 { "," } else { "" })
}
