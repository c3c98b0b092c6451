//! Camera frames and decoded images: validated size, pixel format and row stride.
//!
//! A [`Frame`] borrows the caller's bytes; the engine uploads them as they are (any of the
//! [`PixelFormat`]s, any row stride) and converts on the GPU, so no CPU pass touches the
//! pixels, but for a frame larger than the device can bind, which is shrunk on the CPU first
//! (src/engine/downscale.rs, into zeroized memory). Decoded images ([`DecodedImage`]) own their RGB bytes and zeroize them on drop.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Byte order of one pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// 4 bytes a pixel: R, G, B, A (A ignored).
    Rgba8,
    /// 3 bytes a pixel: R, G, B.
    Rgb8,
    /// 4 bytes a pixel: B, G, R, A (Windows and many cameras).
    Bgra8,
    /// YUV 4:2:2 packed Y0 U Y1 V (cameras' raw YUYV / YUY2); even width.
    Yuyv,
    /// YUV 4:2:0: a Y plane, then interleaved U V at half resolution, both `stride` bytes
    /// a row; even width and height.
    Nv12,
    /// 3 bytes a pixel: B, G, R (OpenCV's `cv::Mat` and numpy arrays from cv2).
    Bgr8,
    /// As NV12 with V before U (Android's camera default).
    Nv21,
    /// YUV 4:2:0 planar: the Y plane (`stride` bytes a row), then the U plane and the V
    /// plane at half resolution, `stride / 2` bytes a row each; even width, height and
    /// stride.
    I420,
}

impl PixelFormat {
    /// Bytes of one row of `width` pixels (the Y plane's row for NV12).
    pub fn row_bytes(self, width: u32) -> u64 {
        let w = width as u64;
        match self {
            PixelFormat::Rgb8 | PixelFormat::Bgr8 => 3 * w,
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => 4 * w,
            PixelFormat::Yuyv => 2 * w,
            PixelFormat::Nv12 | PixelFormat::Nv21 | PixelFormat::I420 => w,
        }
    }

    /// Bytes a frame of `width` x `height` pixels with rows `stride` apart takes, after the
    /// checks [`Frame::new`] makes (sizes, stride, even sides where the chroma is halved):
    /// what a caller holding only a pointer must provide (the C ABI).
    pub fn frame_len(self, width: u32, height: u32, stride: u32) -> Result<usize> {
        let fail = |reason: String| Err(Error::Frame { reason });
        if width == 0 || height == 0 {
            return fail(format!("a frame of {width}x{height} pixels has nothing to check"));
        }
        if width > MAX_SIDE || height > MAX_SIDE {
            return fail(format!("{width}x{height} pixels exceeds the largest side accepted, {MAX_SIDE}"));
        }
        let row = self.row_bytes(width);
        if (stride as u64) < row {
            return fail(format!("row stride {stride} is shorter than a row of {width} {self:?} pixels ({row} bytes)"));
        }
        if self.halves_width() && !width.is_multiple_of(2) {
            return fail(format!("{self:?} needs an even width, not {width}"));
        }
        if self.halves_height() && !height.is_multiple_of(2) {
            return fail(format!("{self:?} needs an even height, not {height}"));
        }
        if self == PixelFormat::I420 && !stride.is_multiple_of(2) {
            return fail(format!("I420 needs an even stride (its chroma rows are stride / 2 bytes), not {stride}"));
        }
        // At most isize::MAX: the most a slice may span (32-bit machines).
        isize::try_from(self.frame_bytes(width, height, stride))
            .map(|bytes| bytes as usize)
            .or_else(|_| fail(format!("{width}x{height} pixels, {stride} bytes a row, do not fit this machine's memory")))
    }

    /// Bytes a frame of `height` (>= 1, even where halved) rows `stride` apart needs.
    fn frame_bytes(self, width: u32, height: u32, stride: u32) -> u64 {
        let (stride, height) = (stride as u64, height as u64);
        match self {
            PixelFormat::Nv12 | PixelFormat::Nv21 => stride * height + stride * (height / 2 - 1) + width as u64,
            PixelFormat::I420 => stride * height + stride / 2 * (height / 2) + stride / 2 * (height / 2 - 1) + width as u64 / 2,
            _ => stride * (height - 1) + self.row_bytes(width),
        }
    }

    /// The code shaders/warp.wgsl reads (`FORMAT_*`).
    pub(crate) fn code(self) -> u32 {
        match self {
            PixelFormat::Rgba8 => 0,
            PixelFormat::Rgb8 => 1,
            PixelFormat::Bgra8 => 2,
            PixelFormat::Yuyv => 3,
            PixelFormat::Nv12 => 4,
            PixelFormat::Bgr8 => 5,
            PixelFormat::Nv21 => 6,
            PixelFormat::I420 => 7,
        }
    }

    /// Every format.
    pub const ALL: [PixelFormat; 8] = [
        PixelFormat::Rgba8,
        PixelFormat::Rgb8,
        PixelFormat::Bgra8,
        PixelFormat::Yuyv,
        PixelFormat::Nv12,
        PixelFormat::Bgr8,
        PixelFormat::Nv21,
        PixelFormat::I420,
    ];

    /// Whether the chroma is subsampled 2:1 across (an even width is needed).
    fn halves_width(self) -> bool {
        matches!(self, PixelFormat::Yuyv | PixelFormat::Nv12 | PixelFormat::Nv21 | PixelFormat::I420)
    }

    /// Whether the chroma is subsampled 2:1 down (an even height is needed).
    fn halves_height(self) -> bool {
        matches!(self, PixelFormat::Nv12 | PixelFormat::Nv21 | PixelFormat::I420)
    }
}

/// The largest side accepted (larger frames are refused with a clear error): above the
/// largest photo a phone makes (200 MP, 12240 x 16320). Frames larger than the device can
/// bind are downscaled before the check (src/engine/downscale.rs).
pub const MAX_SIDE: u32 = 16384;

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
        let needed = format.frame_len(width, height, stride)?;
        if bytes.len() < needed {
            return Err(Error::Frame { reason: format!("{} bytes given, {width}x{height} {format:?} with stride {stride} needs {needed}", bytes.len()) });
        }
        Ok(Frame { width, height, stride, format, bytes: &bytes[..needed] })
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

    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from one row to the next.
    pub fn stride(&self) -> u32 {
        self.stride
    }

    /// How the bytes encode the pixels.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The frame as tightly packed RGB8, converted on the CPU: the reference the GPU's
    /// conversion (shaders/warp.wgsl, frame_rgb) is tested against, and the input of the
    /// downscale of frames too large for the device (the engine's one use of it).
    pub fn to_rgb8(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity((self.width * self.height * 3) as usize));
        for y in 0..self.height {
            for x in 0..self.width {
                out.extend_from_slice(&self.rgb_at(x, y));
            }
        }
        out
    }

    /// The byte that carries the brightness of pixel (x, y) as the camera sent it: G in
    /// the RGB orders, Y in the YUV formats. What the repeated-frame screen samples
    /// (src/liveness/repeats.rs): no conversion, so a sensor's noise is seen unsmoothed.
    pub(crate) fn brightness_byte(&self, x: u32, y: u32) -> u8 {
        let (x, y, stride) = (x as usize, y as usize, self.stride as usize);
        let i = match self.format {
            PixelFormat::Rgb8 | PixelFormat::Bgr8 => y * stride + 3 * x + 1,
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => y * stride + 4 * x + 1,
            PixelFormat::Yuyv => y * stride + 2 * x,
            PixelFormat::Nv12 | PixelFormat::Nv21 | PixelFormat::I420 => y * stride + x,
        };
        self.bytes[i]
    }

    fn rgb_at(&self, x: u32, y: u32) -> [u8; 3] {
        let b = |i: u64| self.bytes[i as usize];
        let (x64, y64, stride) = (x as u64, y as u64, self.stride as u64);
        match self.format {
            PixelFormat::Rgba8 | PixelFormat::Rgb8 => {
                let i = y64 * stride + x64 * self.format.row_bytes(1);
                [b(i), b(i + 1), b(i + 2)]
            }
            PixelFormat::Bgra8 | PixelFormat::Bgr8 => {
                let i = y64 * stride + x64 * self.format.row_bytes(1);
                [b(i + 2), b(i + 1), b(i)]
            }
            PixelFormat::Yuyv => {
                let i = y64 * stride + (x64 / 2) * 4;
                yuv_to_rgb(b(i + (x64 % 2) * 2), b(i + 1), b(i + 3))
            }
            PixelFormat::Nv12 | PixelFormat::Nv21 => {
                let chroma = stride * self.height as u64 + (y64 / 2) * stride + (x64 / 2) * 2;
                let (u, v) = if self.format == PixelFormat::Nv12 { (chroma, chroma + 1) } else { (chroma + 1, chroma) };
                yuv_to_rgb(b(y64 * stride + x64), b(u), b(v))
            }
            PixelFormat::I420 => {
                let luma = stride * self.height as u64;
                let chroma_plane = stride / 2 * (self.height as u64 / 2);
                let at = (y64 / 2) * (stride / 2) + x64 / 2;
                yuv_to_rgb(b(y64 * stride + x64), b(luma + at), b(luma + chroma_plane + at))
            }
        }
    }
}

/// BT.601 limited-range YUV to RGB in 8-bit integer arithmetic (the conversion V4L2 cameras'
/// YUYV and NV12 assume; the integer form of Microsoft's "Converting 8-bit YUV to RGB888"):
/// C = Y - 16, D = U - 128, E = V - 128,
/// R = (298 C + 409 E + 128) >> 8, G = (298 C - 100 D - 208 E + 128) >> 8,
/// B = (298 C + 516 D + 128) >> 8, each clamped to 0..255. `yuv_to_rgb` in warp.wgsl is the same.
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let (c, d, e) = (y as i32 - 16, u as i32 - 128, v as i32 - 128);
    let clamp = |v: i32| v.clamp(0, 255) as u8;
    [clamp((298 * c + 409 * e + 128) >> 8), clamp((298 * c - 100 * d - 208 * e + 128) >> 8), clamp((298 * c + 516 * d + 128) >> 8)]
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
    /// Decodes a JPEG or PNG file, applying its EXIF orientation.
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
        if reader.format() == Some(image::ImageFormat::Jpeg) {
            jpeg_is_whole(bytes)?;
        }
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

    /// The image as an RGB8 frame.
    pub fn frame(&self) -> Result<Frame<'_>> {
        Frame::rgb8(self.width, self.height, &self.rgb)
    }

    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }
}

/// Refuses a JPEG cut short: the decoder fills a missing tail with grey and calls it an
/// image, which would then get a verdict. Walks the primary image's markers (ITU T.81,
/// B.1): length-prefixed segments up to each scan, its entropy-coded data (where an FF is
/// followed by a stuffed 00 or a restart marker only) up to the next marker, and so on to
/// the end-of-image marker FF D9, which a whole file has. Data after it (a phone's second
/// picture) is not read.
fn jpeg_is_whole(bytes: &[u8]) -> std::result::Result<(), String> {
    let cut = || Err(format!("a JPEG cut short after {} bytes (its image data ends without an end-of-image marker): the file is truncated", bytes.len()));
    let mut at = 2; // after the start-of-image marker the format was guessed from
    loop {
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return if at + 1 >= bytes.len() { cut() } else { Err(format!("a damaged JPEG: no marker where one belongs (byte {at})")) };
        };
        match marker {
            0xD9 => return Ok(()),
            0xFF => at += 1,               // a fill byte before a marker
            0x01 | 0xD0..=0xD7 => at += 2, // markers without a segment
            _ => {
                let (Some(&high), Some(&low)) = (bytes.get(at + 2), bytes.get(at + 3)) else { return cut() };
                at += 2 + u16::from_be_bytes([high, low]) as usize;
                if marker == 0xDA {
                    // The scan's entropy-coded data, up to the next real marker.
                    loop {
                        let Some(next) = bytes.get(at..).and_then(|rest| rest.iter().position(|&b| b == 0xFF)) else { return cut() };
                        at += next;
                        match bytes.get(at + 1) {
                            None => return cut(),
                            Some(0x00 | 0xD0..=0xD7) => at += 2,
                            Some(0xFF) => at += 1,
                            Some(_) => break,
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2x2 frame of one colour in each 4:2:0 layout: Y 81, U 90, V 240 is BT.601 red.
    #[test]
    fn the_420_layouts_place_u_and_v_where_their_formats_say() {
        let red = [255, 0, 0];
        let nv12 = [81, 81, 81, 81, 90, 240];
        let nv21 = [81, 81, 81, 81, 240, 90];
        let i420 = [81, 81, 81, 81, 90, 240];
        for (format, bytes) in [(PixelFormat::Nv12, &nv12), (PixelFormat::Nv21, &nv21), (PixelFormat::I420, &i420)] {
            let frame = Frame::new(2, 2, 2, format, bytes).unwrap();
            assert_eq!(frame.to_rgb8().chunks(3).collect::<Vec<_>>(), vec![red; 4], "{format:?}");
        }
        // The swapped order reads another colour.
        let swapped = Frame::new(2, 2, 2, PixelFormat::Nv21, &nv12).unwrap();
        assert_ne!(&swapped.to_rgb8()[..3], &red);
    }

    #[test]
    fn i420_planes_follow_the_stride() {
        // 4x2, stride 6: Y rows of 6 bytes, then U and V rows of 3 bytes.
        let mut bytes = vec![0u8; 6 * 2 + 3 + 2];
        bytes[..4].copy_from_slice(&[81; 4]);
        bytes[6..10].copy_from_slice(&[81; 4]);
        bytes[12..14].copy_from_slice(&[90, 90]);
        bytes[15..17].copy_from_slice(&[240, 240]);
        let frame = Frame::new(4, 2, 6, PixelFormat::I420, &bytes).unwrap();
        assert!(frame.to_rgb8().chunks(3).all(|p| p == [255, 0, 0]));
    }

    #[test]
    fn bgr8_swaps_red_and_blue() {
        let frame = Frame::new(1, 1, 3, PixelFormat::Bgr8, &[1, 2, 3]).unwrap();
        assert_eq!(&frame.to_rgb8()[..], &[3, 2, 1]);
    }

    #[test]
    fn a_cut_jpeg_is_an_error_and_a_whole_one_with_a_trailer_is_not() {
        for whole in [&include_bytes!("../samples/live_T1.jpg")[..], include_bytes!("../samples/spoof_print_F1.jpg")] {
            assert!(DecodedImage::from_encoded(whole).is_ok());
            for cut in [whole.len() - 1, whole.len() - 2, whole.len() * 99 / 100, whole.len() / 2, 700] {
                let error = DecodedImage::from_encoded(&whole[..cut]).err().map(|e| e.to_string()).unwrap_or_default();
                assert!(error.contains("truncated") || error.contains("damaged"), "cut at {cut} of {}: {error:?}", whole.len());
            }
            // A phone's second picture or metadata after the end-of-image marker is not read.
            let mut trailer = whole.to_vec();
            trailer.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x10, 1, 2, 3]);
            assert!(DecodedImage::from_encoded(&trailer).is_ok());
            // An end-of-image marker inside a metadata segment does not make a cut file whole.
            let mut inserted = whole[..2].to_vec();
            inserted.extend_from_slice(&[0xFF, 0xEF, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xDA]);
            inserted.extend_from_slice(&whole[2..whole.len() / 2]);
            assert!(jpeg_is_whole(&inserted).is_err());
        }
    }
}
