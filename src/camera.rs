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

/// What a camera offers, and what it is.
#[derive(Clone, Debug)]
pub struct CameraDescription {
    /// The index `Camera::open` takes.
    pub index: u32,
    /// The name the platform gives it (V4L2's card name on Linux).
    pub name: String,
    /// The driver behind it (V4L2's driver name: "uvcvideo", "v4l2 loopback"); empty where
    /// the platform does not say.
    pub driver: String,
    /// Where it is attached (V4L2's bus: "usb-0000:00:14.0-1", "platform:v4l2loopback-000").
    pub bus: String,
    /// Why it is a virtual camera (software feeding frames, not a sensor), if it is one:
    /// the rule of [`virtual_camera`] it matched.
    pub virtual_camera: Option<&'static str>,
    /// (width, height, format, frames per second), as the driver lists them.
    pub modes: Vec<(u32, u32, String, u32)>,
}

impl CameraDescription {
    /// The camera as a signed result records it: name, driver and bus, and the rule that
    /// marked it virtual when it is one (used with `--allow-virtual-camera`), so a server can
    /// refuse results from a camera it does not trust.
    pub fn identity(&self) -> String {
        let identity = format!("{} (driver {:?}, bus {:?})", self.name, self.driver, self.bus);
        match self.virtual_camera {
            Some(rule) => format!("{identity}, a virtual camera: {rule}"),
            None => identity,
        }
    }
}

/// Drivers that feed software frames as a camera: Linux's loopback and virtual-camera
/// modules (their V4L2 driver names).
const VIRTUAL_DRIVERS: [&str; 4] = ["v4l2 loopback", "v4l2loopback", "akvcam", "vivid"];

/// Virtual-camera products, by the name they give their device (matched case-blind as a
/// part of it): OBS Studio, ManyCam, Snap Camera, XSplit, e2eSoft, CyberLink, Logi
/// Capture's and Camo's virtual outputs, NVIDIA Broadcast, Webcamoid (akvcam), Droidcam's
/// virtual device, and the generic names loopback setups use.
const VIRTUAL_NAMES: [&str; 13] = [
    "obs virtual camera",
    "manycam",
    "snap camera",
    "xsplit",
    "e2esoft",
    "cyberlink",
    "logi capture",
    "camo",
    "nvidia broadcast",
    "webcamoid",
    "virtual",
    "dummy video device",
    "loopback",
];

/// Whether a camera is virtual, from what the platform says of it: a loopback or
/// virtual-camera driver, a bus that is such a driver's platform device, or a name of a
/// known virtual-camera product. Returns the rule that matched. A virtual camera can feed
/// anything (a recording, a still, a synthetic face) as if a sensor saw it.
pub fn virtual_camera(name: &str, driver: &str, bus: &str) -> Option<&'static str> {
    let (name, driver, bus) = (name.to_lowercase(), driver.to_lowercase(), bus.to_lowercase());
    if VIRTUAL_DRIVERS.iter().any(|d| driver == *d) {
        return Some("a loopback or virtual-camera driver");
    }
    if bus.starts_with("platform:") && VIRTUAL_DRIVERS.iter().any(|d| bus.contains(&d.replace(' ', ""))) {
        return Some("the platform device of a loopback driver");
    }
    VIRTUAL_NAMES.iter().any(|n| name.contains(n)).then_some("the name of a virtual-camera product")
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
            let mut opened = nokhwa::Camera::new(info.index().clone(), RequestedFormat::new::<RgbFormat>(RequestedFormatType::None)).ok();
            let modes = opened
                .as_mut()
                .and_then(|camera| camera.compatible_camera_formats().ok())
                .map(|formats| formats.iter().map(|f| (f.resolution().width(), f.resolution().height(), f.format().to_string(), f.frame_rate())).collect())
                .unwrap_or_default();
            // Opened, V4L2 reports its capabilities: the driver, and the bus (then a version).
            let (driver, bus) = opened
                .as_ref()
                .map(|camera| (camera.info().description().to_string(), camera.info().misc().split(' ').next().unwrap_or_default().to_string()))
                .unwrap_or_default();
            let name = info.human_name();
            let virtual_camera = virtual_camera(&name, &driver, &bus);
            CameraDescription { index, name, driver, bus, virtual_camera, modes }
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

#[cfg(test)]
mod tests {
    use super::{CameraDescription, virtual_camera};

    #[test]
    fn the_identity_names_the_driver_the_bus_and_a_virtual_camera() {
        let name = "HD Pro Webcam C920";
        let mut camera = CameraDescription {
            index: 0,
            name: name.into(),
            driver: "uvcvideo".into(),
            bus: "usb-0000:00:14.0-2".into(),
            virtual_camera: None,
            modes: Vec::new(),
        };
        assert_eq!(camera.identity(), r#"HD Pro Webcam C920 (driver "uvcvideo", bus "usb-0000:00:14.0-2")"#);
        camera.virtual_camera = virtual_camera(name, "v4l2 loopback", "");
        assert!(camera.identity().contains(", a virtual camera: "), "{}", camera.identity());
    }

    #[test]
    fn loopback_drivers_their_buses_and_virtual_products_are_virtual() {
        for (name, driver, bus) in [
            ("Dummy video device (0x0000)", "v4l2 loopback", "platform:v4l2loopback-000"),
            ("OBS Virtual Camera", "v4l2 loopback", "platform:v4l2loopback-010"),
            ("Integrated", "v4l2loopback", ""),
            ("akvcam (out)", "akvcam", "akvcam"),
            ("OBS Virtual Camera", "", ""),
            ("ManyCam Virtual Webcam", "", ""),
            ("Snap Camera", "", ""),
            ("Camera", "", "platform:v4l2loopback-003"),
        ] {
            assert!(virtual_camera(name, driver, bus).is_some(), "{name} / {driver} / {bus}");
        }
        for (name, driver, bus) in [
            ("Integrated_Webcam_HD: Integrate", "uvcvideo", "usb-0000:00:14.0-6"),
            ("HD Pro Webcam C920", "uvcvideo", "usb-0000:00:14.0-2"),
            ("FaceTime HD Camera", "", ""),
            ("mmal service 16.1", "bm2835 mmal", "platform:bcm2835-v4l2-0"),
        ] {
            assert_eq!(virtual_camera(name, driver, bus), None, "{name} / {driver} / {bus}");
        }
    }
}
