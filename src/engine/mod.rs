//! The single-frame engine: a frame goes in, a [`Report`] comes out, everything in between
//! stays in video memory and is erased before [`Engine::check`] returns.
//!
//! One check is one command buffer, and these files follow it:
//! ```text
//! frame bytes (write_buffer)                                      check.rs (upload)
//!   -> warp_affine_u8: letterbox 128x128                          resample.rs
//!   -> BlazeFace                                                  models/blazeface.rs
//!   -> detect_faces (decode, threshold, weighted NMS), face_quality,
//!      face_regions (Face Mesh ROI, MiniFASNet box and crops)     detect.rs
//!   -> face_warp_f64 + warp 192x192                               resample.rs
//!   -> Face Mesh -> project_landmarks                             models/facemesh.rs, detect.rs
//!   -> resize_linear_u8 (or warp_affine_u8, upright) 80x80
//!      -> MiniFASNetV2, again -> V1SE                             resample.rs, models/minifasnet.rs
//!   -> the other faces' crops, MiniFASNet batched over them       other_faces.rs
//!   -> copies into one readback struct                            readback.rs
//!   -> zero every buffer above (same submission)                  check.rs
//! ```
//! A session's frame can follow its face instead (`track.rs`, shaders/track.wgsl): the
//! letterbox, BlazeFace and detection give way to `track_region` (the Face Mesh ROI from
//! the last frame's landmarks); after the landmarks, `keep_track` keeps the next frame's
//! region and writes the face's box from the landmarks, then face_quality and face_regions
//! cut the crops from it.
//! `kernels.rs` is the table of the engine's own kernels, `report.rs` what a check returns,
//! `judge.rs` whether its verdict can stand (the quality gates; `landmarks.rs` measures the
//! pose and eye distance they use),
//! `pipelined.rs` checks with two frames in flight, `profile.rs` the timing and audit tools.
//! The frame is uploaded as raw bytes into a storage buffer rather than a texture: the
//! resamplers are OpenCV's integer arithmetic (no filtering hardware is used), and a byte
//! buffer takes RGB8 and any row stride without a CPU conversion pass.

mod check;
mod detect;
mod downscale;
pub(crate) mod judge;
pub(crate) mod kernels;
pub mod landmarks;
mod other_faces;
mod pipelined;
mod profile;
mod readback;
mod report;
mod resample;
mod track;

use std::sync::Mutex;

pub use check::Stage;
pub use judge::{QualityLimits, Rejection};
pub use landmarks::Pose;
pub use pipelined::Pipelined;
pub use report::{CheckVerdict, Face, FaceBox, FaceQuality, Label, Liveness, Report, Timings};
#[cfg(feature = "internals")]
pub use resample::{Resampling, resample, upright_crop_transform};

use crate::error::{Error, Result, lock};
use crate::frame::Frame;
use crate::gpu::{AdapterSummary, Gpu, GpuOptions, Kernel};
use crate::nn::Tuning;
use check::Check;
use track::FaceSource;
pub use track::FaceTrack;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Which adapter to run on.
    pub gpu: GpuOptions,
    /// Map BlazeFace's box to the RetinaFace box MiniFASNet was trained with before cutting
    /// its crops (shared/golden/BOX_CALIBRATION.md, map A). On by default: over the 545
    /// shared images with a face it brings the verdicts' disagreement with the published
    /// pipeline from 6.6 % to 1.6 % (group-balanced) and makes every shared still agree.
    pub calibrate_box: bool,
    /// Cut MiniFASNet's crops turned upright: the rectangles Silent-Face cuts, rotated about
    /// their centres by the roll of the eyes (BlazeFace's eye keypoints, as the Face Mesh ROI
    /// is), so that a tilted head is seen as the models were trained, eyes level. Off, the
    /// crops are the published pipeline's, bit-exact with its goldens (parity). Which is the
    /// default, and why: ACCURACY.md.
    pub upright_crops: bool,
    /// How many faces [`Engine::check`] judges, best first: each gets its own MiniFASNet
    /// result, in one batch and the same submission (1 to 8; default 2, the best face and
    /// the next, enough to say which of two faces is a screen or a print). A session's
    /// frames judge only the best face: a second one rejects the frame anyway.
    pub max_faces: u32,
    /// Return the 468 landmarks of the best face in the report.
    pub landmarks: bool,
    /// The frame size [`Engine::new`] warms the engine up with ([`Engine::warm_up`]) before
    /// it returns, so that the first verdict after boot does not wait for the driver: 640 x
    /// 480 by default; the camera's size is best. None skips it.
    pub warm_up: Option<(u32, u32)>,
    /// Which kernels run which layer; None = the adapter's policy ([`Tuning::for_adapter`]).
    #[cfg(feature = "internals")]
    pub tuning: Option<Tuning>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            gpu: GpuOptions::default(),
            calibrate_box: true,
            upright_crops: true,
            max_faces: 2,
            landmarks: false,
            warm_up: Some((640, 480)),
            #[cfg(feature = "internals")]
            tuning: None,
        }
    }
}

impl EngineOptions {
    fn tuning(&self, adapter: &AdapterSummary) -> Tuning {
        #[cfg(feature = "internals")]
        if let Some(tuning) = self.tuning {
            return tuning;
        }
        Tuning::for_adapter(adapter)
    }
}

/// The engine: compiled pipelines, the four networks and every buffer, made once.
/// `Engine` is `Send + Sync`; concurrent checks run one after another.
pub struct Engine {
    pub(crate) gpu: Gpu,
    options: EngineOptions,
    check: Mutex<Check>,
}

impl Engine {
    /// Picks the adapter, loads the four networks, compiles the kernels they bind and every
    /// engine kernel, allocates every buffer a check uses, and warms up at
    /// [`EngineOptions::warm_up`]'s size.
    pub fn new(options: EngineOptions) -> Result<Engine> {
        let most = readback::MAX_OTHER_FACES as u32 + 1;
        if !(1..=most).contains(&options.max_faces) {
            return Err(Error::Options { reason: format!("max_faces is {}; it may be 1 to {most}", options.max_faces) });
        }
        if let Some((width, height)) = options.warm_up {
            warm_up_size(width, height)?;
        }
        let gpu = Gpu::new(&options.gpu)?;
        // Building the check binds every dispatch its networks make, which compiles the layer
        // kernels the adapter's tuning picked and no other: on Mesa 25's lavapipe a kernel's
        // first dispatch compiles it in 0.1-136 s on a cold shader cache (pointwise_wide the
        // 136, separable_block 16 s unused there), so preparing the whole table cost minutes.
        // The engine's own kernels are all prepared: which of them a frame needs depends on
        // its size and format.
        let check = Check::new(&gpu, options.tuning(gpu.adapter()), options.upright_crops, options.max_faces)?;
        let mut used: Vec<Kernel> = gpu.compiled_kernels()?.into_iter().chain(kernels::KERNELS.iter().copied()).collect();
        used.sort_by_key(|k| k.name);
        used.dedup();
        gpu.prepare(&used)?;
        let engine = Engine { gpu, options, check: Mutex::new(check) };
        if let Some((width, height)) = engine.options.warm_up {
            engine.warm_up(width, height)?;
        }
        // Before any frame of the caller's: the file can hold nothing but compiled code.
        engine.gpu.save_pipeline_cache();
        Ok(engine)
    }

    /// Checks a mid-grey frame of `width` x `height` (1 to 8192 a side) and forgets it,
    /// so that the first real frame of that size runs at the steady state. Compiling the
    /// kernels is not enough: lavapipe specialises a pipeline on the values of its uniform
    /// parameters at its first dispatch with them (each layer's own sizes), about 140 ms
    /// a layer without a shader cache. On a cold cache (MESA_SHADER_CACHE_DISABLE=true) the
    /// first check of samples/live_T1.jpg took 33 s after a 1x1x1 warm-up of every kernel;
    /// after this, 299 ms against 282 ms for the next (dev build). A frame of another size
    /// or a second face (its dispatches are skipped on CPU adapters while there is none)
    /// still meets a few kernels' new values once.
    pub fn warm_up(&self, width: u32, height: u32) -> Result<()> {
        warm_up_size(width, height)?;
        let grey = vec![128u8; width as usize * height as usize * 3];
        self.check(&Frame::rgb8(width, height, &grey)?).map(|_| ())
    }

    /// The adapter the engine runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        self.gpu.adapter()
    }

    /// What became of the pipeline cache file at this start
    /// ([`GpuOptions::pipeline_cache_dir`](crate::GpuOptions)): the bytes of compiled
    /// pipelines it offered the driver (0: a cold start) and why it was not read or not
    /// written, where it was not; None where no file is used (no directory named, or an
    /// adapter without the cache).
    pub fn pipeline_cache_file(&self) -> Option<crate::gpu::PipelineCacheReport> {
        self.gpu.pipeline_cache_file()
    }

    /// The GPU runtime underneath (for benches and tools).
    #[cfg(feature = "internals")]
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Runs one frame through the whole pipeline in one submission and returns what was
    /// found. Every buffer that held frame-derived data is zero when this returns, whether
    /// it succeeds or fails after the upload.
    pub fn check(&self, frame: &Frame<'_>) -> Result<Report> {
        self.check_frame(frame, self.options.landmarks, true, None)
    }

    /// As [`Engine::check`] for a session's frame: the best face's landmarks in the report
    /// whatever the options say, and only the best face judged.
    pub fn check_with_landmarks(&self, frame: &Frame<'_>) -> Result<Report> {
        self.check_frame(frame, true, false, None)
    }

    /// As [`Engine::check_with_landmarks`] for one frame of a session that follows its face
    /// (`track`): BlazeFace runs on its first frame, every `detect_every` frames and when
    /// Face Mesh lost the face; between, the face's region comes from the last frame's
    /// landmarks, on the GPU. The region is kept in video memory until the session's next
    /// frame, and erased by any other check or by [`Engine::forget_track`].
    pub fn check_followed(&self, frame: &Frame<'_>, track: &mut FaceTrack) -> Result<Report> {
        self.check_frame(frame, true, false, Some(track))
    }

    /// Erases the region kept for the session of `track` (a session calls this with its
    /// verdict; nothing happens when another check erased it already).
    pub fn forget_track(&self, track: &mut FaceTrack) -> Result<()> {
        track.lose();
        lock(&self.check, "the engine")?.forget_track(&self.gpu, track.id())
    }

    fn check_frame(&self, frame: &Frame<'_>, landmarks: bool, all_faces: bool, track: Option<&mut FaceTrack>) -> Result<Report> {
        // A frame larger than the device can bind is shrunk on the CPU first (downscale.rs).
        let limits = self.gpu.limits();
        let limit = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        if (frame.bytes().len() as u64).div_ceil(4) * 4 > limit {
            let (rgb, w, h) = downscale::shrink(frame, downscale::factor(frame.width(), frame.height(), limit))?;
            let mut report = self.check_frame(&Frame::rgb8(w, h, &rgb)?, landmarks, all_faces, track)?;
            downscale::scale_back(&mut report, frame.width(), frame.height());
            return Ok(report);
        }
        let mut check = lock(&self.check, "the engine")?;
        check.all_faces = all_faces;
        check.source = match &track {
            Some(track) => track.source(check.tracking.owner, frame.width(), frame.height()),
            None => FaceSource::Detect,
        };
        let result = check.run(&self.gpu, &self.options, landmarks, frame);
        let source = std::mem::replace(&mut check.source, FaceSource::Detect);
        match (&result, track) {
            (Ok(report), Some(track)) => track.observe(source, report),
            (Err(_), track) => {
                check.erase(&self.gpu);
                track.into_iter().for_each(FaceTrack::lose);
            }
            (Ok(_), None) => {}
        }
        result
    }

    /// Checks a stream of frames with two in flight: each [`Pipelined::push`] uploads and
    /// submits a frame, then reads back the one before it, so the CPU prepares frame k+1
    /// while the GPU computes frame k. Reports come one push late; [`Pipelined::finish`]
    /// returns the last. Each frame's buffers are zeroed in its own submission and its
    /// readback after it is read, as with [`Engine::check`]; when the `Pipelined` is
    /// finished or dropped, nothing of any frame remains. Other checks wait until then.
    pub fn pipelined(&self, landmarks: bool) -> Result<Pipelined<'_>> {
        let mut check = lock(&self.check, "the engine")?;
        check.all_faces = true;
        Ok(Pipelined::new(self, check, landmarks))
    }
}

/// A warm-up frame is 1 to 8192 pixels a side (told before the GPU is touched).
fn warm_up_size(width: u32, height: u32) -> Result<()> {
    const MOST: u32 = 8192;
    if !(1..=MOST).contains(&width) || !(1..=MOST).contains(&height) {
        return Err(Error::Options { reason: format!("warm_up is {width}x{height}; it may be 1 to {MOST} a side") });
    }
    Ok(())
}
