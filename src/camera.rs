//! Camera capture (nokhwa), behind the `camera` feature, with the user's consent as a
//! value the caller must pass: forgetting it does not compile.
//!
//! Raw YUYV and NV12 frames go to the GPU as they come and are converted there
//! (shaders/warp.wgsl); MJPEG is decoded on the CPU only when a camera offers nothing else.
//! nokhwa's own wgpu output is not used (it pins an older wgpu and converts on the CPU).

use std::time::Instant;

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::frame::{DecodedImage, PixelFormat};
use crate::source::{FrameSource, SourceFrame};

/// The user's permission to use the camera for a liveness check.
///
/// There is no `Default` and no other constructor: code that opens a camera has to call
/// [`Consent::given_by_user`], on the path where the person said yes. Opening a camera
/// without one is a compile error:
///
/// ```compile_fail
/// let camera = liveshade::camera::Camera::open(0, None);
/// ```
#[derive(Debug)]
pub struct Consent {
    _private: (),
}

impl Consent {
    /// Records that the person agreed, after being told what the camera is used for and
    /// that frames stay in memory and are erased after each verdict.
    pub fn given_by_user() -> Consent {
        Consent { _private: () }
    }
}

/// What a camera offers.
#[derive(Clone, Debug)]
pub struct CameraDescription {
    /// The index `Camera::open` takes.
    pub index: u32,
    /// The name the platform gives it.
    pub name: String,
    /// (width, height, format, frames per second), as the driver lists them.
    pub modes: Vec<(u32, u32, String, u32)>,
}

fn camera_error(reason: impl ToString) -> Error {
    Error::Camera { reason: reason.to_string() }
}

/// Every camera the system reports, with its modes (an empty list when there is none).
pub fn list_cameras() -> Result<Vec<CameraDescription>> {
    let cameras = nokhwa::query(ApiBackend::Auto).map_err(camera_error)?;
    Ok(cameras
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let index = info.index().as_index().unwrap_or(i as u32);
            let modes = nokhwa::Camera::new(info.index().clone(), RequestedFormat::new::<RgbFormat>(RequestedFormatType::None))
                .and_then(|mut camera| camera.compatible_camera_formats())
                .map(|formats| formats.iter().map(|f| (f.resolution().width(), f.resolution().height(), f.format().to_string(), f.frame_rate())).collect())
                .unwrap_or_default();
            CameraDescription { index, name: info.human_name(), modes }
        })
        .collect())
}

/// An open camera stream.
pub struct Camera {
    camera: nokhwa::Camera,
    started: Instant,
}

impl Camera {
    /// Opens camera `index` at `mode` (width, height, frames per second) or, with None,
    /// the driver's default; YUYV and NV12 preferred, MJPEG only if nothing else is offered.
    pub fn open(index: u32, mode: Option<(u32, u32, u32)>, consent: Consent) -> Result<Camera> {
        let _ = consent;
        let request = match mode {
            Some((w, h, fps)) => RequestedFormatType::Closest(CameraFormat::new(Resolution::new(w, h), FrameFormat::YUYV, fps)),
            None => RequestedFormatType::None,
        };
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(index), RequestedFormat::new::<RgbFormat>(request)).map_err(camera_error)?;
        let formats = camera.compatible_camera_formats().map_err(camera_error)?;
        let raw = formats
            .iter()
            .find(|f| matches!(f.format(), FrameFormat::YUYV | FrameFormat::NV12) && mode.is_none_or(|(w, h, _)| f.resolution() == Resolution::new(w, h)));
        if let Some(format) = raw.or_else(|| formats.first()) {
            camera.set_camera_requset(RequestedFormat::new::<RgbFormat>(RequestedFormatType::Exact(*format))).map_err(camera_error)?;
        }
        camera.open_stream().map_err(camera_error)?;
        Ok(Camera { camera, started: Instant::now() })
    }
}

impl FrameSource for Camera {
    fn next_frame(&mut self) -> Result<Option<SourceFrame>> {
        let buffer = self.camera.frame().map_err(|e| camera_error(format!("the camera stopped delivering frames: {e}")))?;
        let (width, height) = (buffer.resolution().width(), buffer.resolution().height());
        let timestamp = self.started.elapsed().as_secs_f64();
        let raw = |format: PixelFormat| SourceFrame {
            width,
            height,
            stride: format.row_bytes(width) as u32,
            format,
            bytes: Zeroizing::new(buffer.buffer().to_vec()),
            timestamp,
        };
        Ok(Some(match buffer.source_frame_format() {
            FrameFormat::YUYV => raw(PixelFormat::Yuyv),
            FrameFormat::NV12 => raw(PixelFormat::Nv12),
            FrameFormat::RAWRGB => raw(PixelFormat::Rgb8),
            FrameFormat::MJPEG => {
                let image = DecodedImage::from_encoded(buffer.buffer())?;
                SourceFrame {
                    width: image.width(),
                    height: image.height(),
                    stride: image.width() * 3,
                    format: PixelFormat::Rgb8,
                    bytes: Zeroizing::new(image.rgb().to_vec()),
                    timestamp,
                }
            }
            other => return Err(camera_error(format!("unsupported camera format {other}"))),
        }))
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        let _ = self.camera.stop_stream();
    }
}
