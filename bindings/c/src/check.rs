//! Engines and single checks: `liveshade_engine_new` / `_free`, `liveshade_check` (a plain
//! struct) and `liveshade_check_json`, and image files decoded for callers without an
//! image library.

use std::ffi::{c_char, c_int};
use std::sync::Arc;

use liveshade::{Backend, DecodedImage, Engine, EngineOptions, FailureGuard, FailureLimit, Frame, GpuOptions, Label, PixelFormat, Rejection, Report};

use crate::{Failure, ffi, give_string, handles, non_null, optional_str};

/// How the bytes of a frame encode its pixels (`uint32_t`).
pub type LiveshadePixelFormat = u32;
/// 3 bytes a pixel: R, G, B.
pub const LIVESHADE_PIXEL_FORMAT_RGB8: LiveshadePixelFormat = 0;
/// 4 bytes a pixel: R, G, B, A (A ignored).
pub const LIVESHADE_PIXEL_FORMAT_RGBA8: LiveshadePixelFormat = 1;
/// 3 bytes a pixel: B, G, R (OpenCV's `cv::Mat`).
pub const LIVESHADE_PIXEL_FORMAT_BGR8: LiveshadePixelFormat = 2;
/// 4 bytes a pixel: B, G, R, A.
pub const LIVESHADE_PIXEL_FORMAT_BGRA8: LiveshadePixelFormat = 3;
/// YUV 4:2:2 packed Y0 U Y1 V; even width.
pub const LIVESHADE_PIXEL_FORMAT_YUYV: LiveshadePixelFormat = 4;
/// YUV 4:2:0, the Y plane then interleaved U V, both `stride` bytes a row; even sides.
pub const LIVESHADE_PIXEL_FORMAT_NV12: LiveshadePixelFormat = 5;
/// As NV12 with V before U.
pub const LIVESHADE_PIXEL_FORMAT_NV21: LiveshadePixelFormat = 6;
/// YUV 4:2:0 planar: Y (`stride` a row), then U and V (`stride / 2` a row); even sides
/// and stride.
pub const LIVESHADE_PIXEL_FORMAT_I420: LiveshadePixelFormat = 7;

/// A verdict (`int`).
pub type LiveshadeVerdict = c_int;
/// Not decided yet (a session still collecting frames).
pub const LIVESHADE_VERDICT_NONE: LiveshadeVerdict = 0;
/// A live face.
pub const LIVESHADE_VERDICT_LIVE: LiveshadeVerdict = 1;
/// A spoof.
pub const LIVESHADE_VERDICT_SPOOF: LiveshadeVerdict = 2;
/// No face in the frame.
pub const LIVESHADE_VERDICT_NO_FACE: LiveshadeVerdict = 3;
/// A session that could not decide in its limits, or a check whose best face fails a
/// quality gate (`LiveshadeReport::reasons` says which).
pub const LIVESHADE_VERDICT_INCONCLUSIVE: LiveshadeVerdict = 4;

/// Why a check is inconclusive: a set of `LIVESHADE_REASON_*` bits (`uint32_t`), the reason
/// codes of the JSON.
pub type LiveshadeReasons = u32;
/// `no_face`: Face Mesh does not take the best detection for a face.
pub const LIVESHADE_REASON_NO_FACE: LiveshadeReasons = 1 << 0;
/// `several_faces`: a second confident face.
pub const LIVESHADE_REASON_SEVERAL_FACES: LiveshadeReasons = 1 << 1;
/// `face_too_small`: under the smallest eye distance.
pub const LIVESHADE_REASON_FACE_TOO_SMALL: LiveshadeReasons = 1 << 2;
/// `face_cut_by_border`: the face box reaches past the frame.
pub const LIVESHADE_REASON_FACE_CUT_BY_BORDER: LiveshadeReasons = 1 << 3;
/// `pose_not_frontal`: turned, tilted or rolled too far.
pub const LIVESHADE_REASON_POSE_NOT_FRONTAL: LiveshadeReasons = 1 << 4;
/// `too_dark`.
pub const LIVESHADE_REASON_TOO_DARK: LiveshadeReasons = 1 << 5;
/// `too_bright`.
pub const LIVESHADE_REASON_TOO_BRIGHT: LiveshadeReasons = 1 << 6;
/// `backlit`: the surround much brighter than the face.
pub const LIVESHADE_REASON_BACKLIT: LiveshadeReasons = 1 << 7;
/// `too_blurry`.
pub const LIVESHADE_REASON_TOO_BLURRY: LiveshadeReasons = 1 << 8;

/// The bit of a single check's reason (the session-only reasons never reach a report).
fn reason_bit(reason: Rejection) -> LiveshadeReasons {
    match reason {
        Rejection::NoFace => LIVESHADE_REASON_NO_FACE,
        Rejection::SeveralFaces => LIVESHADE_REASON_SEVERAL_FACES,
        Rejection::FaceTooSmall => LIVESHADE_REASON_FACE_TOO_SMALL,
        Rejection::FaceCutByBorder => LIVESHADE_REASON_FACE_CUT_BY_BORDER,
        Rejection::PoseNotFrontal => LIVESHADE_REASON_POSE_NOT_FRONTAL,
        Rejection::TooDark => LIVESHADE_REASON_TOO_DARK,
        Rejection::TooBright => LIVESHADE_REASON_TOO_BRIGHT,
        Rejection::Backlit => LIVESHADE_REASON_BACKLIT,
        Rejection::TooBlurry => LIVESHADE_REASON_TOO_BLURRY,
        _ => 0,
    }
}

/// Faces a report holds at most (the engine keeps 16 after NMS).
pub const LIVESHADE_MAX_FACES: usize = 16;
/// Face Mesh's landmarks.
pub const LIVESHADE_LANDMARKS: usize = 468;

/// One face of a report. Coordinates are pixels of the frame checked.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct LiveshadeFace {
    /// x0, y0, x1, y1.
    pub bounds: [f32; 4],
    /// BlazeFace's score.
    pub score: f32,
    /// Right eye, left eye, nose tip, mouth, right ear, left ear: (x, y) each.
    pub keypoints: [[f32; 2]; 6],
    /// 1 when MiniFASNet judged this face (the best face), 0 otherwise.
    pub has_liveness: c_int,
    /// The ensemble's live probability.
    pub live: f32,
    /// `LIVESHADE_VERDICT_LIVE` or `LIVESHADE_VERDICT_SPOOF` (the ensemble's argmax).
    pub label: LiveshadeVerdict,
    /// MiniFASNetV2's and MiniFASNetV1SE's softmaxes (class 1 is live).
    pub minifasnet_v2: [f32; 3],
    /// See `minifasnet_v2`.
    pub minifasnet_v1se: [f32; 3],
}

/// A check's result: faces best first, the verdict, the best face's landmarks when the
/// engine was made with `"landmarks": true`. Holds no pixels.
#[repr(C)]
pub struct LiveshadeReport {
    /// The frame's width.
    pub width: u32,
    /// The frame's height.
    pub height: u32,
    /// `LIVESHADE_VERDICT_LIVE`, `_SPOOF`, `_NO_FACE` or `_INCONCLUSIVE` (the best face
    /// fails a quality gate; MiniFASNet's own answer stays in `faces[0].label`).
    pub verdict: LiveshadeVerdict,
    /// With `_INCONCLUSIVE`, the gates failed (`LIVESHADE_REASON_*` bits); 0 otherwise.
    pub reasons: LiveshadeReasons,
    /// Faces filled in `faces`.
    pub face_count: u32,
    /// The faces, best first.
    pub faces: [LiveshadeFace; LIVESHADE_MAX_FACES],
    /// 1 when `landmarks` holds the best face's 468 (x, y, z).
    pub has_landmarks: c_int,
    /// Face Mesh's landmarks in pixels (z in the same scale).
    pub landmarks: [[f32; 3]; LIVESHADE_LANDMARKS],
}

/// An engine: the GPU, the four networks and every buffer, made once.
pub struct LiveshadeEngine {
    pub(crate) engine: Arc<Engine>,
    /// The failure record its sessions share.
    pub(crate) failures: FailureGuard,
}

/// A decoded image file (RGB8, EXIF orientation applied).
pub struct LiveshadeImage {
    image: DecodedImage,
}

pub(crate) fn engine(handle: *const LiveshadeEngine) -> Result<Arc<LiveshadeEngine>, Failure> {
    non_null(handle, "engine")?;
    handles::get(handle).ok_or_else(|| Failure::invalid("engine is not a live engine handle (freed already, or not made by liveshade_engine_new)"))
}

fn pixel_format(format: LiveshadePixelFormat) -> Result<PixelFormat, Failure> {
    Ok(match format {
        LIVESHADE_PIXEL_FORMAT_RGB8 => PixelFormat::Rgb8,
        LIVESHADE_PIXEL_FORMAT_RGBA8 => PixelFormat::Rgba8,
        LIVESHADE_PIXEL_FORMAT_BGR8 => PixelFormat::Bgr8,
        LIVESHADE_PIXEL_FORMAT_BGRA8 => PixelFormat::Bgra8,
        LIVESHADE_PIXEL_FORMAT_YUYV => PixelFormat::Yuyv,
        LIVESHADE_PIXEL_FORMAT_NV12 => PixelFormat::Nv12,
        LIVESHADE_PIXEL_FORMAT_NV21 => PixelFormat::Nv21,
        LIVESHADE_PIXEL_FORMAT_I420 => PixelFormat::I420,
        other => return Err(Failure::invalid(format!("unknown pixel format {other} (LIVESHADE_PIXEL_FORMAT_RGB8 .. _I420 are 0 .. 7)"))),
    })
}

/// The caller's pixels as a frame, after every check that can be made without their length.
///
/// # Safety
/// `pixels` points at the bytes the format, sizes and stride need.
pub(crate) unsafe fn frame<'a>(pixels: *const u8, width: u32, height: u32, stride: u32, format: LiveshadePixelFormat) -> Result<Frame<'a>, Failure> {
    non_null(pixels, "pixels")?;
    let format = pixel_format(format)?;
    let len = format.frame_len(width, height, stride)?;
    // SAFETY: the caller provides `len` readable bytes (the header says how many).
    let bytes = unsafe { std::slice::from_raw_parts(pixels, len) };
    Ok(Frame::new(width, height, stride, format, bytes)?)
}

fn engine_options(json: Option<&str>) -> Result<(EngineOptions, FailureLimit), Failure> {
    let mut options = EngineOptions::default();
    let mut limit = FailureLimit::default();
    let Some(json) = json else { return Ok((options, limit)) };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Failure::invalid(format!("options are not JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| Failure::invalid("options must be a JSON object"))?;
    let bad = |key: &str, wanted: &str| Failure::invalid(format!("option {key:?} must be {wanted}"));
    for (key, value) in object {
        match key.as_str() {
            "backend" => options.gpu.backend = value.as_str().ok_or_else(|| bad(key, "a string"))?.parse::<Backend>()?,
            "adapter" => options.gpu = GpuOptions { adapter_name: Some(value.as_str().ok_or_else(|| bad(key, "a string"))?.to_string()), ..options.gpu },
            "landmarks" => options.landmarks = value.as_bool().ok_or_else(|| bad(key, "true or false"))?,
            "calibrate_box" => options.calibrate_box = value.as_bool().ok_or_else(|| bad(key, "true or false"))?,
            "upright_crops" => options.upright_crops = value.as_bool().ok_or_else(|| bad(key, "true or false"))?,
            "max_faces" => {
                let faces = value.as_u64().ok_or_else(|| bad(key, "a whole number"))?;
                options.max_faces = u32::try_from(faces).map_err(|_| bad(key, "1 to 8"))?;
            }
            "warm_up" => {
                options.warm_up = match value {
                    serde_json::Value::Null => None,
                    _ => {
                        let size = value.as_array().filter(|a| a.len() == 2).ok_or_else(|| bad(key, "null or [width, height]"))?;
                        let side = |v: &serde_json::Value| v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| bad(key, "null or [width, height]"));
                        Some((side(&size[0])?, side(&size[1])?))
                    }
                }
            }
            "pipeline_cache_dir" => options.gpu.pipeline_cache_dir = Some(value.as_str().ok_or_else(|| bad(key, "a string (a directory)"))?.into()),
            "max_failed_sessions" => limit.max_failures = value.as_u64().ok_or_else(|| bad(key, "a whole number"))? as usize,
            other => {
                return Err(Failure::invalid(format!(
                    "unknown option {other:?} (backend, adapter, landmarks, calibrate_box, upright_crops, max_faces, warm_up, pipeline_cache_dir, max_failed_sessions)"
                )));
            }
        }
    }
    Ok((options, limit))
}

/// Creates an engine: picks the adapter, loads the networks, compiles the kernels they and
/// the engine use, and warms up. `options_json` is NULL for the defaults or a JSON object with any of
/// `"backend"` ("auto", "vulkan", "metal", "dx12", "gl"), `"adapter"` (a name fragment),
/// `"landmarks"` (report the 468 landmarks), `"calibrate_box"` (default true),
/// `"upright_crops"` (default true; false cuts MiniFASNet's crops as the published pipeline
/// does), `"max_faces"` (faces a check judges, each with its own liveness in `faces`, 1 to 8,
/// default 2), `"warm_up"` (the frame size `[width, height]` checked once before this returns,
/// so that the first real check runs at the steady state; default `[640, 480]`, `null` skips
/// it), `"pipeline_cache_dir"` (an existing directory where the driver's compiled pipelines
/// are kept between starts, on adapters that have wgpu's pipeline cache; written once, before
/// any frame; the directory and the file must belong to this user or root and be writable by
/// nobody else, or the file is neither trusted nor written, and a file problem is a cold
/// start, never a failure: `liveshade_engine_info` says why; default none: no file is read or
/// written) and `"max_failed_sessions"` (sessions
/// refused for 5 minutes after this many failures in 5 minutes; default 5). On success `*out`
/// is the engine, to be freed with `liveshade_engine_free`.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `out` points at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_engine_new(options_json: *const c_char, out: *mut *mut LiveshadeEngine) -> c_int {
    ffi("liveshade_engine_new", || {
        non_null(out, "out")?;
        // SAFETY: as documented above.
        let (options, limit) = engine_options(unsafe { optional_str(options_json, "options_json") }?)?;
        let engine = Engine::new(options)?;
        let handle = handles::register(LiveshadeEngine { engine: Arc::new(engine), failures: FailureGuard::new(limit) });
        // SAFETY: `out` is not NULL.
        unsafe { *out = handle };
        Ok(())
    })
}

/// Frees an engine (NULL and freed handles are ignored). Its GPU memory goes once the last
/// session made from it is freed too.
#[unsafe(no_mangle)]
pub extern "C" fn liveshade_engine_free(engine: *mut LiveshadeEngine) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handles::release(engine)));
}

/// Checks one frame and writes the result as the JSON of the CLI contract (DESIGN.md) to
/// `*json_out`, freed with `liveshade_string_free`. `pixels` holds `height` rows `stride`
/// bytes apart in `format` (for NV12, NV21 and I420 the chroma planes follow the Y plane).
///
/// # Safety
/// `pixels` points at the bytes the format, sizes and stride need; `json_out` points at
/// writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_check_json(
    engine: *mut LiveshadeEngine,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: u32,
    format: LiveshadePixelFormat,
    json_out: *mut *mut c_char,
) -> c_int {
    ffi("liveshade_check_json", || {
        non_null(json_out, "json_out")?;
        let handle = self::engine(engine)?;
        // SAFETY: as documented above.
        let frame = unsafe { frame(pixels, width, height, stride, format) }?;
        let report = handle.engine.check(&frame)?;
        give_string(report.to_json(true), json_out)
    })
}

/// Checks one frame and fills `*report`.
///
/// # Safety
/// As `liveshade_check_json`; `report` points at a writable `LiveshadeReport`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_check(
    engine: *mut LiveshadeEngine,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: u32,
    format: LiveshadePixelFormat,
    report: *mut LiveshadeReport,
) -> c_int {
    ffi("liveshade_check", || {
        non_null(report, "report")?;
        let handle = self::engine(engine)?;
        // SAFETY: as documented above.
        let frame = unsafe { frame(pixels, width, height, stride, format) }?;
        let result = handle.engine.check(&frame)?;
        // SAFETY: `report` is writable, and every field is plain data.
        unsafe { fill_report(&result, &mut *report) };
        Ok(())
    })
}

fn verdict_code(verdict: liveshade::CheckVerdict) -> LiveshadeVerdict {
    match verdict {
        liveshade::CheckVerdict::Live => LIVESHADE_VERDICT_LIVE,
        liveshade::CheckVerdict::Spoof => LIVESHADE_VERDICT_SPOOF,
        liveshade::CheckVerdict::NoFace => LIVESHADE_VERDICT_NO_FACE,
        liveshade::CheckVerdict::Inconclusive => LIVESHADE_VERDICT_INCONCLUSIVE,
    }
}

fn fill_report(report: &Report, out: &mut LiveshadeReport) {
    let empty = LiveshadeFace {
        bounds: [0.0; 4],
        score: 0.0,
        keypoints: [[0.0; 2]; 6],
        has_liveness: 0,
        live: 0.0,
        label: LIVESHADE_VERDICT_NONE,
        minifasnet_v2: [0.0; 3],
        minifasnet_v1se: [0.0; 3],
    };
    out.width = report.width;
    out.height = report.height;
    let (verdict, reasons) = report.judge(&liveshade::QualityLimits::default());
    out.verdict = verdict_code(verdict);
    out.reasons = reasons.into_iter().map(reason_bit).fold(0, |bits, bit| bits | bit);
    out.face_count = report.faces.len().min(LIVESHADE_MAX_FACES) as u32;
    out.faces = [empty; LIVESHADE_MAX_FACES];
    out.has_landmarks = 0;
    out.landmarks = [[0.0; 3]; LIVESHADE_LANDMARKS];
    for (slot, face) in out.faces.iter_mut().zip(&report.faces) {
        let b = face.face_box;
        *slot = LiveshadeFace { bounds: [b.x0, b.y0, b.x1, b.y1], score: face.score, keypoints: face.keypoints, ..empty };
        if let Some(l) = &face.liveness {
            slot.has_liveness = 1;
            slot.live = l.live;
            slot.label = if l.label == Label::Live { LIVESHADE_VERDICT_LIVE } else { LIVESHADE_VERDICT_SPOOF };
            slot.minifasnet_v2 = l.minifasnet_v2;
            slot.minifasnet_v1se = l.minifasnet_v1se;
        }
    }
    if let Some(points) = report.faces.first().and_then(|f| f.landmarks.as_ref()) {
        out.has_landmarks = 1;
        for (slot, point) in out.landmarks.iter_mut().zip(points) {
            *slot = *point;
        }
    }
}

/// Decodes a JPEG or PNG file (EXIF orientation applied) for callers without an image
/// library; free with `liveshade_image_free`. The pixels are RGB8, tightly packed.
///
/// # Safety
/// `path` is a NUL-terminated string; `out` points at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_image_load(path: *const c_char, out: *mut *mut LiveshadeImage) -> c_int {
    ffi("liveshade_image_load", || {
        non_null(out, "out")?;
        // SAFETY: as documented above.
        let path = unsafe { optional_str(path, "path") }?.ok_or_else(|| Failure::invalid("path is NULL"))?;
        let image = DecodedImage::open(path.as_ref())?;
        // SAFETY: `out` is not NULL.
        unsafe { *out = handles::register(LiveshadeImage { image }) };
        Ok(())
    })
}

/// The decoded pixels (RGB8, `width * 3` bytes a row), valid until the image is freed;
/// NULL for a handle that is not a live image.
///
/// # Safety
/// `width` and `height` are NULL or point at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_image_pixels(image: *const LiveshadeImage, width: *mut u32, height: *mut u32) -> *const u8 {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Some(handle) = handles::get(image) else { return std::ptr::null() };
        if !width.is_null() {
            // SAFETY: the caller passes writable storage or NULL.
            unsafe { *width = handle.image.width() };
        }
        if !height.is_null() {
            // SAFETY: as above.
            unsafe { *height = handle.image.height() };
        }
        handle.image.rgb().as_ptr()
    }))
    .unwrap_or(std::ptr::null())
}

/// Frees a decoded image, zeroing its pixels (NULL and freed handles are ignored).
#[unsafe(no_mangle)]
pub extern "C" fn liveshade_image_free(image: *mut LiveshadeImage) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handles::release(image)));
}

/// Writes what the engine runs on, as JSON, to `*json_out` (freed with
/// `liveshade_string_free`): `{"adapter": name, "backend": "vulkan" | "metal" | "dx12" |
/// "gl", "driver": text, "cpu": true for a software adapter, "pipeline_cache": null | {"path",
/// "offered_bytes", "not_read", "not_written"}}`. `pipeline_cache` is null where no file is
/// used (no `"pipeline_cache_dir"`, or an adapter without wgpu's pipeline cache); otherwise
/// `offered_bytes` is what the file gave the driver at start (0: a cold start) and
/// `not_read` and `not_written` are null or why the file was not read or not written (it
/// never stops an engine).
///
/// # Safety
/// `json_out` points at writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn liveshade_engine_info(engine: *mut LiveshadeEngine, json_out: *mut *mut c_char) -> c_int {
    ffi("liveshade_engine_info", || {
        non_null(json_out, "json_out")?;
        let owner = self::engine(engine)?;
        let adapter = owner.engine.adapter();
        let cache = owner.engine.pipeline_cache_file().map(|c| {
            serde_json::json!({
                "path": c.path.display().to_string(),
                "offered_bytes": c.offered_bytes,
                "not_read": c.not_read,
                "not_written": c.not_written,
            })
        });
        let info = serde_json::json!({
            "adapter": adapter.name,
            "backend": adapter.backend.to_string(),
            "driver": adapter.driver,
            "cpu": adapter.is_cpu(),
            "pipeline_cache": cache,
        });
        give_string(info.to_string(), json_out)
    })
}
