//! Camera frames and decoded images: validated size, pixel format and row stride.
//!
//! A [`Frame`] borrows the caller's bytes; the engine uploads them as they are (any of the
//! three formats, any row stride) and converts on the GPU, so no CPU pass touches the
//! pixels. Decoded images ([`DecodedImage`]) own their RGB bytes and zeroize them on drop.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Byte order of one pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    Rgba8,
    Rgb8,
    Bgra8,
}

impl PixelFormat {
    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => 4,
        }
    }

    /// The code shaders/warp.wgsl reads (`FORMAT_*`).
    pub(crate) fn code(self) -> u32 {
        match self {
            PixelFormat::Rgba8 => 0,
            PixelFormat::Rgb8 => 1,
            PixelFormat::Bgra8 => 2,
        }
    }
}

/// The largest side accepted (larger frames are refused with a clear error). Chosen above
/// every camera and photo in shared/faces (2333 px) with room for 8K sensors.
pub const MAX_SIDE: u32 = 8192;

/// One image or camera frame: `height` rows of `width` pixels, `stride` bytes apart.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    width: u32,
    height: u32,
    stride: u32,
    format: PixelFormat,
    bytes: &'a [u8],
}

impl<'a> Frame<'a> {
    /// A frame with rows `stride` bytes apart (at least width x bytes per pixel).
    pub fn new(width: u32, height: u32, stride: u32, format: PixelFormat, bytes: &'a [u8]) -> Result<Self> {
        let fail = |reason: String| Err(Error::Frame { reason });
        if width == 0 || height == 0 {
            return fail(format!("a frame of {width}x{height} pixels has nothing to check"));
        }
        if width > MAX_SIDE || height > MAX_SIDE {
            return fail(format!("{width}x{height} pixels exceeds the largest side accepted, {MAX_SIDE}"));
        }
        let row = width as u64 * format.bytes_per_pixel() as u64;
        if (stride as u64) < row {
            return fail(format!("row stride {stride} is shorter than a row of {width} {format:?} pixels ({row} bytes)"));
        }
        let needed = stride as u64 * (height as u64 - 1) + row;
        if (bytes.len() as u64) < needed {
            return fail(format!("{} bytes given, {width}x{height} {format:?} with stride {stride} needs {needed}", bytes.len()));
        }
        Ok(Frame { width, height, stride, format, bytes: &bytes[..needed as usize] })
    }

    /// Tightly packed RGBA8.
    pub fn rgba8(width: u32, height: u32, bytes: &'a [u8]) -> Result<Self> {
        Frame::new(width, height, width.saturating_mul(4), PixelFormat::Rgba8, bytes)
    }

    /// Tightly packed RGB8.
    pub fn rgb8(width: u32, height: u32, bytes: &'a [u8]) -> Result<Self> {
        Frame::new(width, height, width.saturating_mul(3), PixelFormat::Rgb8, bytes)
    }

    /// Tightly packed BGRA8 (the usual layout of camera and window-system buffers).
    pub fn bgra8(width: u32, height: u32, bytes: &'a [u8]) -> Result<Self> {
        Frame::new(width, height, width.saturating_mul(4), PixelFormat::Bgra8, bytes)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn stride(&self) -> u32 {
        self.stride
    }

    pub fn format(&self) -> PixelFormat {
        self.format
    }

    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// An image file decoded to RGB8 with its EXIF orientation applied (the Silent-Face
/// samples are stored rotated: shared/golden/README.md, section 2). The pixels are
/// zeroized when it is dropped.
pub struct DecodedImage {
    width: u32,
    height: u32,
    rgb: Zeroizing<Vec<u8>>,
}

impl DecodedImage {
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::Image { path: path.display().to_string(), reason: e.to_string() })?);
        Self::decode(&bytes).map_err(|reason| Error::Image { path: path.display().to_string(), reason })
    }

    /// Decodes an encoded image (JPEG or PNG) held in memory.
    pub fn from_encoded(bytes: &[u8]) -> Result<Self> {
        Self::decode(bytes).map_err(|reason| Error::Image { path: "<memory>".to_string(), reason })
    }

    fn decode(bytes: &[u8]) -> std::result::Result<Self, String> {
        use image::ImageDecoder;
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
        let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
        let orientation = decoder.orientation().map_err(|e| e.to_string())?;
        let (width, height) = decoder.dimensions();
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(format!("{width}x{height} pixels: outside 1..={MAX_SIDE} a side"));
        }
        let mut image = image::DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
        image.apply_orientation(orientation);
        let rgb = image.into_rgb8();
        let (width, height) = rgb.dimensions();
        Ok(DecodedImage { width, height, rgb: Zeroizing::new(rgb.into_raw()) })
    }

    /// An already decoded RGB8 image (copied).
    pub fn from_rgb8(width: u32, height: u32, rgb: &[u8]) -> Result<Self> {
        Frame::rgb8(width, height, rgb)?;
        Ok(DecodedImage { width, height, rgb: Zeroizing::new(rgb[..(width * height * 3) as usize].to_vec()) })
    }

    /// The RGB8 pixels, row after row.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    pub fn frame(&self) -> Result<Frame<'_>> {
        Frame::rgb8(self.width, self.height, &self.rgb)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }
}
