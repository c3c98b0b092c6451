//! Where frames come from: a camera (`camera` feature) or a folder of image files. The watch
//! loop ([`crate::watch`]) runs on any [`FrameSource`], so it is tested on folders.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::frame::{DecodedImage, Frame, PixelFormat};

/// One captured frame, owning its bytes (zeroized on drop).
pub struct SourceFrame {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Bytes per row.
    pub stride: u32,
    /// How the bytes encode the pixels.
    pub format: PixelFormat,
    /// The pixels, erased when dropped.
    pub bytes: Zeroizing<Vec<u8>>,
    /// Capture time in seconds from the source's start.
    pub timestamp: f64,
}

impl SourceFrame {
    /// The frame as the engine takes it (size and stride checked).
    pub fn frame(&self) -> Result<Frame<'_>> {
        Frame::new(self.width, self.height, self.stride, self.format, &self.bytes)
    }
}

/// A stream of frames.
pub trait FrameSource {
    /// The next frame; `Ok(None)` at the end of the stream; an error when the device fails
    /// or disappears. [`Error::Image`] is a frame that could not be decoded (a corrupt file,
    /// a broken MJPEG frame): the stream goes on after it.
    fn next_frame(&mut self) -> Result<Option<SourceFrame>>;
}

/// The image files of a folder (.jpg, .jpeg, .png), sorted by name, at a fixed frame rate.
pub struct FolderSource {
    files: Vec<PathBuf>,
    next: usize,
    fps: f64,
}

impl FolderSource {
    /// The frames of `dir`, timestamped at `fps` frames per second.
    pub fn open(dir: &Path, fps: f64) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::Image { path: dir.display().to_string(), reason: e.to_string() })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(), Some("jpg" | "jpeg" | "png")))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::Image { path: dir.display().to_string(), reason: "no .jpg, .jpeg or .png frames".into() });
        }
        Ok(FolderSource { files, next: 0, fps: fps.max(1e-3) })
    }

    /// Frames in the folder.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the folder has no frames (never: `open` refuses that).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl FrameSource for FolderSource {
    fn next_frame(&mut self) -> Result<Option<SourceFrame>> {
        let Some(path) = self.files.get(self.next) else { return Ok(None) };
        let index = self.next;
        self.next += 1; // past a file that cannot be decoded too: the stream goes on
        let image = DecodedImage::open(path)?;
        let frame = SourceFrame {
            width: image.width(),
            height: image.height(),
            stride: image.width() * 3,
            format: PixelFormat::Rgb8,
            bytes: Zeroizing::new(image.rgb().to_vec()),
            timestamp: index as f64 / self.fps,
        };
        Ok(Some(frame))
    }
}
