//! The single-frame engine: a frame goes in, a [`Report`] comes out, everything in between
//! stays in video memory and is erased before [`Engine::check`] returns.
//!
//! One check is one command buffer:
//! ```text
//! frame bytes (write_buffer) -> warp_affine_u8 letterbox 128x128 -> BlazeFace
//!   -> detect_faces (decode, threshold, weighted NMS) -> face_regions (Face Mesh ROI,
//!   MiniFASNet box and crops) -> warp_affine_u8 192x192 -> Face Mesh -> project_landmarks
//!   -> resize_linear_u8 80x80 -> MiniFASNetV2 -> resize_linear_u8 80x80 -> MiniFASNetV1SE
//!   (softmax each)
//!   -> copy the results to one small readback buffer -> zero every buffer above
//! ```
//! The frame is uploaded as raw bytes into a storage buffer rather than a texture: the
//! resamplers are OpenCV's integer arithmetic (no filtering hardware is used), and a byte
//! buffer takes RGB8 and any row stride without a CPU conversion pass.

mod report;

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use bytemuck::{Pod, Zeroable};
use zeroize::Zeroizing;

pub use report::{Face, FaceBox, FaceQuality, Label, Liveness, Report, Timings};

use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::gpu::{BufferArena, Dispatch, Gpu, GpuOptions, Kernel, Tensor};
use crate::models::{BlazeFace, BuildOptions, FaceMesh, MiniFasNet, Network, Variant, Weights, blazeface, facemesh, minifasnet};

/// Faces kept after NMS (`MAX_DETECTIONS` in detect.wgsl) and floats per record.
const MAX_DETECTIONS: usize = 16;
const DETECTION_STRIDE: usize = 20;
const DETECTION_FLOATS: usize = 4 + MAX_DETECTIONS * DETECTION_STRIDE;
/// roi.wgsl `regions`: 8 ROI floats then 468 x 3 landmark floats.
const REGION_FLOATS: usize = 8 + facemesh::LANDMARKS * 3;
/// roi.wgsl `crops`: two 8-int crop records, then the face box at 16..19.
const CROP_INTS: usize = 20;
/// Warp transform records (8 floats): 0 letterbox, 1 Face Mesh.
const TRANSFORM_FLOATS: usize = 16;
/// The frame buffer is first sized for 1920x1080 RGBA and grows (once) for larger frames.
const INITIAL_FRAME_BYTES: u64 = 1920 * 1080 * 4;

/// Byte offsets of each result in the readback buffer.
const READ_DETECTIONS: u64 = 0;
const READ_REGIONS: u64 = READ_DETECTIONS + DETECTION_FLOATS as u64 * 4;
const READ_CROPS: u64 = READ_REGIONS + REGION_FLOATS as u64 * 4;
const READ_FACE_FLAG: u64 = READ_CROPS + CROP_INTS as u64 * 4;
const READ_V2: u64 = READ_FACE_FLAG + 16;
const READ_V1SE: u64 = READ_V2 + 16;
const READ_QUALITY: u64 = READ_V1SE + 16;
const READBACK_BYTES: u64 = READ_QUALITY + 32;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub gpu: GpuOptions,
    /// Map BlazeFace's box to the RetinaFace box MiniFASNet was trained with before cutting
    /// its crops (shared/golden/BOX_CALIBRATION.md, map A). On by default: it brings the
    /// verdicts' disagreement with the published pipeline from 6.4 % to 1.4 % (group-balanced,
    /// 545 images) and makes every shared still agree.
    pub calibrate_box: bool,
    /// Return the 468 landmarks of the best face in the report.
    pub landmarks: bool,
    /// Fused or unfused residual blocks; None = the adapter's default.
    pub build: Option<BuildOptions>,
    /// Refuse new sessions for a while after repeated failures.
    pub failure_limit: crate::liveness::FailureLimit,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { gpu: GpuOptions::default(), calibrate_box: true, landmarks: false, build: None, failure_limit: Default::default() }
    }
}

/// Parameters of warp.wgsl (`WarpParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct WarpParams {
    frame_w: u32,
    frame_h: u32,
    frame_stride: u32,
    frame_format: u32,
    out_w: u32,
    out_h: u32,
    replicate: u32,
    bgr: u32,
    transform: u32,
    _padding: [u32; 3],
}

/// Parameters of detect.wgsl and roi.wgsl (`DetectParams`, `RegionParams`: same fields).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GeometryParams {
    frame_w: u32,
    frame_h: u32,
    calibrate_box: u32,
    _padding: u32,
}

/// The three stages of a check, as `liveshade bench` times them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Letterbox, BlazeFace, decoding and NMS, face quality, the regions.
    Detection,
    /// The Face Mesh warp, Face Mesh, the landmark projection.
    Landmarks,
    /// The two crops, MiniFASNetV2 and V1SE.
    Liveness,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Detection, Stage::Landmarks, Stage::Liveness];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Detection => "detection",
            Stage::Landmarks => "landmarks",
            Stage::Liveness => "liveness",
        }
    }
}

/// One of the four resampling dispatches that read the frame.
struct Resample {
    kernel: Kernel,
    params: wgpu::Buffer,
    output: Tensor,
    out: (u32, u32),
    replicate: bool,
    bgr: bool,
    record: u32,
    table: wgpu::Buffer,
}

struct State {
    /// Every buffer that holds frame-derived data, zeroed at the end of each check.
    arena: BufferArena,
    frame: wgpu::Buffer,
    resamples: [Resample; 4],
    /// The resampling dispatches, rebound when the frame buffer grows.
    resample_dispatches: Vec<Dispatch>,
    geometry: wgpu::Buffer,
    transforms: wgpu::Buffer,
    crops: wgpu::Buffer,
    detections: wgpu::Buffer,
    regions: wgpu::Buffer,
    /// The Face Mesh warp's inverse map in double (warp_f64.wgsl), where the device has f64.
    transform64: wgpu::Buffer,
    face_warp: Option<Dispatch>,
    blazeface: BlazeFace,
    facemesh: FaceMesh,
    v2: MiniFasNet,
    v1se: MiniFasNet,
    detect: Dispatch,
    quality: wgpu::Buffer,
    face_quality: Dispatch,
    face_regions: Dispatch,
    project_landmarks: Dispatch,
    /// Two readback buffers, so that a pipelined check can copy its results while the one
    /// before it is still mapped ([`Pipelined`]); a plain check uses the first.
    readbacks: [wgpu::Buffer; 2],
}

/// A check submitted to the GPU whose results are not read yet.
struct Submitted {
    readback: usize,
    index: wgpu::SubmissionIndex,
    width: u32,
    height: u32,
    landmarks: bool,
    started: Instant,
    uploaded: Instant,
    submitted: Instant,
}

/// The engine: compiled pipelines, the four networks and every buffer, made once.
/// `Engine` is `Send + Sync`; concurrent checks run one after another.
pub struct Engine {
    gpu: Gpu,
    options: EngineOptions,
    state: Mutex<State>,
    failures: crate::liveness::SharedFailureLog,
}

/// u8 -> f32 tables with the reference pipelines' exact float arithmetic
/// (mp_pipeline.image_to_tensor: `u8 * f32(scale) + f32(offset)`, two roundings).
fn conversion_table(scale: f64, offset: f64) -> Vec<f32> {
    let (scale, offset) = (scale as f32, offset as f32);
    (0..256).map(|v| v as f32 * scale + offset).collect()
}

/// (scale, offset) of each network's input values: BlazeFace RGB in [-1, 1], Face Mesh RGB
/// in [0, 1] (ImageToTensor value ranges, shared/golden/README.md sections 3-4), MiniFASNet
/// raw 0..255 (its ToTensor without the /255, section 5).
const BLAZEFACE_VALUES: (f64, f64) = (2.0 / 255.0, -1.0);
const FACEMESH_VALUES: (f64, f64) = (1.0 / 255.0, 0.0);
const MINIFASNET_VALUES: (f64, f64) = (1.0, 0.0);

/// The letterbox (shared/golden/README.md section 3) as a warp record: tensor pixel (u, v)
/// samples the image at (W/2 + (u/128 - 0.5) S, H/2 + (v/128 - 0.5) S), S = max(W, H).
fn letterbox_transform(width: u32, height: u32) -> [f32; 8] {
    let (w, h) = (width as f32, height as f32);
    let side = w.max(h);
    let step = side / blazeface::INPUT_SIZE as f32;
    [step, 0.0, w / 2.0 - side / 2.0, 0.0, step, h / 2.0 - side / 2.0, 1.0, 0.0]
}

/// The buffers a resampling kernel binds after its parameters, in its slot order
/// (warp.wgsl, warp_f64.wgsl).
fn resample_buffers<'a>(
    kernel: Kernel,
    frame: &'a wgpu::Buffer,
    table: &'a wgpu::Buffer,
    transforms: &'a wgpu::Buffer,
    transform64: &'a wgpu::Buffer,
    crops: &'a wgpu::Buffer,
    output: &'a wgpu::Buffer,
) -> [&'a wgpu::Buffer; 4] {
    match kernel {
        Kernel::ResizeLinearU8 => [frame, table, crops, output],
        Kernel::WarpPerspectiveU8F64 => [frame, table, transform64, output],
        _ => [frame, transforms, table, output],
    }
}

impl Engine {
    pub fn new(options: EngineOptions) -> Result<Engine> {
        let gpu = Gpu::new(&options.gpu)?;
        let state = State::new(&gpu, &options)?;
        let engine = Engine { gpu, options, state: Mutex::new(state), failures: Default::default() };
        Ok(engine)
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Runs one frame through the whole pipeline in one submission and returns what was
    /// found. Every buffer that held frame-derived data is zero when this returns, whether
    /// it succeeds or fails after the upload.
    pub fn check(&self, frame: &Frame<'_>) -> Result<Report> {
        self.check_frame(frame, self.options.landmarks)
    }

    /// As [`Engine::check`], with the best face's landmarks in the report whatever the
    /// options say (sessions need them).
    pub fn check_with_landmarks(&self, frame: &Frame<'_>) -> Result<Report> {
        self.check_frame(frame, true)
    }

    /// Checks a stream of frames with two in flight: each [`Pipelined::push`] uploads and
    /// submits a frame, then reads back the one before it, so the CPU prepares frame k+1
    /// while the GPU computes frame k. Reports come one push late; [`Pipelined::finish`]
    /// returns the last. Each frame's buffers are zeroed in its own submission and its
    /// readback after it is read, as with [`Engine::check`]; when the `Pipelined` is
    /// finished or dropped, nothing of any frame remains. Other checks wait until then.
    pub fn pipelined(&self, landmarks: bool) -> Result<Pipelined<'_>> {
        let state = self.state.lock().map_err(|_| Error::Gpu { during: "check", message: "engine lock poisoned".into() })?;
        Ok(Pipelined { engine: self, state, landmarks, in_flight: None, next_readback: 0 })
    }

    pub(crate) fn failures(&self) -> &crate::liveness::SharedFailureLog {
        &self.failures
    }

    pub(crate) fn failure_limit(&self) -> crate::liveness::FailureLimit {
        self.options.failure_limit
    }

    fn check_frame(&self, frame: &Frame<'_>, landmarks: bool) -> Result<Report> {
        let mut state = self.state.lock().map_err(|_| Error::Gpu { during: "check", message: "engine lock poisoned".into() })?;
        let result = state.check(&self.gpu, &self.options, landmarks, frame);
        if result.is_err() {
            state.erase(&self.gpu);
        }
        result
    }

    /// Reads back every buffer and texture that can hold frame-derived data and returns the
    /// labels of those that are not all zeros (empty = nothing of any frame remains). For
    /// audits and the privacy tests; it blocks until the GPU is idle.
    pub fn audit(&self) -> Result<Vec<String>> {
        let state = self.state.lock().map_err(|_| Error::Gpu { during: "audit", message: "engine lock poisoned".into() })?;
        let mut dirty = Vec::new();
        let mut buffers: Vec<&wgpu::Buffer> = state.arena.buffers().iter().collect();
        buffers.push(&state.frame);
        for buffer in buffers {
            if self.gpu.read_buffer(buffer)?.iter().any(|b| *b != 0) {
                dirty.push(format!("{buffer:?}"));
            }
        }
        for (i, readback) in state.readbacks.iter().enumerate() {
            let staging = map_read(&self.gpu, readback, None)?;
            if staging.iter().any(|b| *b != 0) {
                dirty.push(format!("readback {i}"));
            }
        }
        Ok(dirty)
    }

    /// Times each stage of a check on `frame` alone: the frame is uploaded once, each stage
    /// is recorded in its own compute pass, then everything is erased. With TIMESTAMP_QUERY
    /// the times are the GPU's own timestamps at each pass's start and end (`gpu` true);
    /// otherwise each stage is submitted alone and timed by the wall clock. Milliseconds in
    /// `Stage::ALL` order. For `liveshade bench`.
    pub fn time_stages(&self, frame: &Frame<'_>) -> Result<([f64; 3], bool)> {
        let mut state = self.state.lock().map_err(|_| Error::Gpu { during: "timing", message: "engine lock poisoned".into() })?;
        let used = state.upload(&self.gpu, &self.options, frame)?;
        let gpu_timer = self.gpu.device().features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let timed = if gpu_timer { self.time_stages_gpu(&state) } else { self.time_stages_wall(&state) };
        let mut encoder = self.gpu.encoder("erase");
        state.arena.record_clear(&mut encoder);
        encoder.clear_buffer(&state.frame, 0, Some(used));
        self.gpu.submit_and_wait(encoder)?;
        timed.map(|times| (times, gpu_timer))
    }

    fn time_stages_wall(&self, state: &State) -> Result<[f64; 3]> {
        let mut times = [0.0; 3];
        for (i, stage) in Stage::ALL.into_iter().enumerate() {
            let mut encoder = self.gpu.encoder(stage.name());
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(stage.name()), timestamp_writes: None });
                state.record_stage(stage, &mut pass);
            }
            let start = Instant::now();
            self.gpu.submit_and_wait(encoder)?;
            times[i] = start.elapsed().as_secs_f64() * 1e3;
        }
        Ok(times)
    }

    fn time_stages_gpu(&self, state: &State) -> Result<[f64; 3]> {
        let device = self.gpu.device();
        let count = 2 * Stage::ALL.len() as u32;
        let queries = device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("stage timestamps"), ty: wgpu::QueryType::Timestamp, count });
        let resolved = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("stage timestamps"),
            size: count as u64 * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let mut encoder = self.gpu.encoder("timed stages");
        for (i, stage) in Stage::ALL.into_iter().enumerate() {
            let writes = wgpu::ComputePassTimestampWrites {
                query_set: &queries,
                beginning_of_pass_write_index: Some(2 * i as u32),
                end_of_pass_write_index: Some(2 * i as u32 + 1),
            };
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(stage.name()), timestamp_writes: Some(writes) });
            state.record_stage(stage, &mut pass);
        }
        encoder.resolve_query_set(&queries, 0..count, &resolved, 0);
        self.gpu.submit_and_wait(encoder)?;
        let bytes = self.gpu.read_buffer(&resolved)?;
        let ticks: Vec<u64> = bytes.chunks_exact(8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).collect();
        let period_ns = self.gpu.queue().get_timestamp_period() as f64;
        let mut times = [0.0; 3];
        for (i, time) in times.iter_mut().enumerate() {
            *time = ticks[2 * i + 1].saturating_sub(ticks[2 * i]) as f64 * period_ns / 1e6;
        }
        Ok(times)
    }

    /// Times every dispatch of a check on `frame` on its own, in order (each submitted and
    /// waited for alone, so each time includes one submit's fixed cost), then erases
    /// everything. (stage, kernel entry point, milliseconds) per dispatch. For profiling.
    pub fn time_dispatches(&self, frame: &Frame<'_>) -> Result<Vec<(Stage, &'static str, f64)>> {
        let mut state = self.state.lock().map_err(|_| Error::Gpu { during: "timing", message: "engine lock poisoned".into() })?;
        let used = state.upload(&self.gpu, &self.options, frame)?;
        let mut times = Vec::with_capacity(state.dispatch_count());
        let mut timed = || -> Result<()> {
            for stage in Stage::ALL {
                let mut dispatches = Vec::new();
                state.visit_stage(stage, &mut |dispatch| dispatches.push(dispatch));
                for dispatch in dispatches {
                    let mut encoder = self.gpu.encoder("timed dispatch");
                    crate::gpu::record_all(&mut encoder, [dispatch]);
                    let start = Instant::now();
                    self.gpu.submit_and_wait(encoder)?;
                    times.push((stage, dispatch.kernel().entry_point(), start.elapsed().as_secs_f64() * 1e3));
                }
            }
            Ok(())
        };
        let result = timed();
        let mut encoder = self.gpu.encoder("erase");
        state.arena.record_clear(&mut encoder);
        encoder.clear_buffer(&state.frame, 0, Some(used));
        self.gpu.submit_and_wait(encoder)?;
        result.map(|()| times)
    }

    /// Dispatches recorded per check.
    pub fn dispatches_per_check(&self) -> usize {
        self.state.lock().map(|s| s.dispatch_count()).unwrap_or(0)
    }

    /// Bytes of GPU memory the engine holds for frame data.
    pub fn frame_memory_bytes(&self) -> u64 {
        self.state.lock().map(|s| s.arena.bytes() + s.frame.size() + s.readbacks.iter().map(|r| r.size()).sum::<u64>()).unwrap_or(0)
    }
}

/// Checks with two frames in flight ([`Engine::pipelined`]).
pub struct Pipelined<'e> {
    engine: &'e Engine,
    state: MutexGuard<'e, State>,
    landmarks: bool,
    in_flight: Option<Submitted>,
    next_readback: usize,
}

impl Pipelined<'_> {
    /// Submits `frame` and returns the report of the frame pushed before it (None for the
    /// first). On an error every buffer is erased and nothing stays in flight.
    pub fn push(&mut self, frame: &Frame<'_>) -> Result<Option<Report>> {
        let engine = self.engine;
        let readback = self.next_readback;
        let submitted = match self.state.submit(&engine.gpu, &engine.options, self.landmarks, frame, readback) {
            Ok(submitted) => submitted,
            Err(error) => {
                self.in_flight = None;
                self.state.erase(&engine.gpu);
                return Err(error);
            }
        };
        self.next_readback ^= 1;
        match self.in_flight.replace(submitted) {
            None => Ok(None),
            Some(previous) => match self.state.collect(&engine.gpu, previous, false) {
                Ok(report) => Ok(Some(report)),
                Err(error) => {
                    self.in_flight = None;
                    self.state.erase(&engine.gpu);
                    Err(error)
                }
            },
        }
    }

    /// The report of the last frame pushed, once everything is erased.
    pub fn finish(mut self) -> Result<Option<Report>> {
        self.drain()
    }

    fn drain(&mut self) -> Result<Option<Report>> {
        let engine = self.engine;
        let Some(last) = self.in_flight.take() else { return Ok(None) };
        let result = self.state.collect(&engine.gpu, last, true);
        if result.is_err() {
            self.state.erase(&engine.gpu);
        }
        result.map(Some)
    }
}

impl Drop for Pipelined<'_> {
    fn drop(&mut self) {
        if self.in_flight.is_some() {
            let _ = self.drain();
        }
    }
}

/// Maps `buffer` and copies it out. `written_by` is the last submission that wrote it: the
/// wait stops there, so a later submission (a pipelined frame) keeps running.
fn map_read(gpu: &Gpu, buffer: &wgpu::Buffer, written_by: Option<wgpu::SubmissionIndex>) -> Result<Zeroizing<Vec<u8>>> {
    let (sender, receiver) = std::sync::mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, .., move |result| {
        let _ = sender.send(result);
    });
    let waited_for_all = written_by.is_none();
    gpu.wait(written_by, "mapping the readback")?;
    let mapping_error = |message: String| Error::Gpu { during: "mapping the readback", message };
    let mapped = match receiver.try_recv() {
        Ok(mapped) => mapped,
        Err(_) if !waited_for_all => {
            gpu.wait(None, "mapping the readback")?;
            receiver.recv().map_err(|e| mapping_error(e.to_string()))?
        }
        Err(e) => return Err(mapping_error(e.to_string())),
    };
    mapped.map_err(|e| mapping_error(e.to_string()))?;
    let bytes = Zeroizing::new(buffer.get_mapped_range(..).map_err(|e| mapping_error(e.to_string()))?.to_vec());
    buffer.unmap();
    Ok(bytes)
}

impl State {
    fn new(gpu: &Gpu, options: &EngineOptions) -> Result<State> {
        let mut arena = BufferArena::new();
        // The networks share one pool of activation buffers: the check records every
        // dispatch in build order, each network's input written just before its graph.
        arena.share_one_pool();
        // The engine reads no taps: without them each network's activations share a few
        // pooled buffers, which is less memory to clear after every frame.
        let build = BuildOptions { keep_taps: false, ..options.build.unwrap_or_else(|| BuildOptions::for_adapter(gpu.adapter())) };
        let blazeface = BlazeFace::with_options(gpu, &Weights::bundled(Network::BlazeFace)?, &mut arena, build)?;
        let facemesh = FaceMesh::with_options(gpu, &Weights::bundled(Network::FaceMesh)?, &mut arena, build)?;
        let v2 = MiniFasNet::with_options(gpu, Variant::V2, &Weights::bundled(Network::MiniFasNetV2)?, &mut arena, build)?;
        let v1se = MiniFasNet::with_options(gpu, Variant::V1Se, &Weights::bundled(Network::MiniFasNetV1Se)?, &mut arena, build)?;

        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
        let uniform = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_SRC;
        let geometry = arena.buffer(gpu, "geometry", 16, uniform)?;
        let transforms = arena.buffer(gpu, "transforms", TRANSFORM_FLOATS as u64 * 4, storage)?;
        let crops = arena.buffer(gpu, "crops", CROP_INTS as u64 * 4, storage)?;
        let detections = arena.buffer(gpu, "detections", DETECTION_FLOATS as u64 * 4, storage)?;
        let regions = arena.buffer(gpu, "regions", REGION_FLOATS as u64 * 4, storage)?;
        let decoded = arena.buffer(gpu, "decoded anchors", blazeface::ANCHORS as u64 * 17 * 4, storage)?;
        let transform64 = arena.buffer(gpu, "face warp (f64)", 10 * 8, storage)?;
        // The Face Mesh warp: double-precision positions where the device has f64 (bit-exact
        // with OpenCV), single precision elsewhere (about 1 value in 10^4 one level off).
        let mesh_warp = if gpu.has_shader_f64() { Kernel::WarpPerspectiveU8F64 } else { Kernel::WarpAffineU8 };

        let table = |label, (scale, offset)| gpu.constant_buffer(label, &conversion_table(scale, offset));
        let blazeface_table = table("u8 to [-1, 1]", BLAZEFACE_VALUES)?;
        let facemesh_table = table("u8 to [0, 1]", FACEMESH_VALUES)?;
        let identity_table = table("u8 to 0..255", MINIFASNET_VALUES)?;
        let mut resample = |kernel, output: &Tensor, replicate, bgr, record, table: &wgpu::Buffer| -> Result<Resample> {
            let s = output.shape();
            Ok(Resample {
                kernel,
                params: arena.buffer(gpu, "resample parameters", std::mem::size_of::<WarpParams>() as u64, uniform)?,
                output: output.clone(),
                out: (s.width, s.height),
                replicate,
                bgr,
                record,
                table: table.clone(),
            })
        };
        let resamples = [
            resample(Kernel::WarpAffineU8, blazeface.input(), false, false, 0, &blazeface_table)?,
            resample(mesh_warp, facemesh.input(), true, false, 1, &facemesh_table)?,
            resample(Kernel::ResizeLinearU8, v2.input(), false, true, 0, &identity_table)?,
            resample(Kernel::ResizeLinearU8, v1se.input(), false, true, 1, &identity_table)?,
        ];

        let heads = blazeface.heads();
        let detect = gpu.dispatch_with_uniform(
            Kernel::DetectFaces,
            &geometry,
            &[heads[0].buffer(), heads[1].buffer(), heads[2].buffer(), heads[3].buffer(), &decoded, &detections],
            1,
        )?;
        let quality = arena.buffer(gpu, "face quality", 32, storage)?;
        let face_quality = gpu.dispatch_with_uniform(Kernel::FaceQuality, &resamples[0].params, &[&frame_placeholder(gpu)?, &detections, &quality], 1)?;
        let face_regions = gpu.dispatch_with_uniform(Kernel::FaceRegions, &geometry, &[&detections, &transforms, &crops, &regions], 1)?;
        let project_landmarks = gpu.dispatch_with_uniform(
            Kernel::ProjectLandmarks,
            &geometry,
            &[facemesh.landmarks().buffer(), &regions],
            (facemesh::LANDMARKS as u64).div_ceil(64),
        )?;
        let face_warp = match mesh_warp {
            Kernel::WarpPerspectiveU8F64 => Some(gpu.dispatch_with_uniform(Kernel::FaceWarpF64, &resamples[1].params, &[&regions, &transform64], 1)?),
            _ => None,
        };
        let readback = |label| {
            gpu.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: READBACK_BYTES,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let readbacks = [readback("readback 0"), readback("readback 1")];
        let frame = frame_buffer(gpu, INITIAL_FRAME_BYTES)?;
        let mut state = State {
            arena,
            frame,
            resamples,
            resample_dispatches: Vec::new(),
            geometry,
            transforms,
            crops,
            detections,
            regions,
            transform64,
            face_warp,
            blazeface,
            facemesh,
            v2,
            v1se,
            detect,
            quality,
            face_quality,
            face_regions,
            project_landmarks,
            readbacks,
        };
        state.bind_resamples(gpu)?;
        gpu.check("building the engine")?;
        Ok(state)
    }

    fn bind_resamples(&mut self, gpu: &Gpu) -> Result<()> {
        self.resample_dispatches = self
            .resamples
            .iter()
            .map(|r| {
                let (w, h) = r.out;
                let workgroups = (w as u64 * h as u64).div_ceil(64);
                let buffers = resample_buffers(r.kernel, &self.frame, &r.table, &self.transforms, &self.transform64, &self.crops, r.output.buffer());
                gpu.dispatch_with_uniform(r.kernel, &r.params, &buffers, workgroups)
            })
            .collect::<Result<Vec<_>>>()?;
        self.face_quality = gpu.dispatch_with_uniform(Kernel::FaceQuality, &self.resamples[0].params, &[&self.frame, &self.detections, &self.quality], 1)?;
        Ok(())
    }

    fn dispatch_count(&self) -> usize {
        let mut count = 0;
        for stage in Stage::ALL {
            self.visit_stage(stage, &mut |_| count += 1);
        }
        count
    }

    /// Uploads the frame and the per-frame parameters.
    fn upload(&mut self, gpu: &Gpu, options: &EngineOptions, frame: &Frame<'_>) -> Result<u64> {
        let bytes = frame.bytes();
        let padded = (bytes.len() as u64).div_ceil(4) * 4;
        if padded > self.frame.size() {
            gpu.check_binding_size("the frame", padded)?;
            self.frame.destroy();
            self.frame = frame_buffer(gpu, padded)?;
            self.bind_resamples(gpu)?;
        }
        gpu.write_bytes(&self.frame, bytes);
        let (w, h) = (frame.width(), frame.height());
        for r in &self.resamples {
            let params = WarpParams {
                frame_w: w,
                frame_h: h,
                frame_stride: frame.stride(),
                frame_format: frame.format().code(),
                out_w: r.out.0,
                out_h: r.out.1,
                replicate: r.replicate as u32,
                bgr: r.bgr as u32,
                transform: r.record,
                _padding: [0; 3],
            };
            gpu.queue.write_buffer(&r.params, 0, bytemuck::bytes_of(&params));
        }
        let geometry = GeometryParams { frame_w: w, frame_h: h, calibrate_box: options.calibrate_box as u32, _padding: 0 };
        gpu.queue.write_buffer(&self.geometry, 0, bytemuck::bytes_of(&geometry));
        gpu.queue.write_buffer(&self.transforms, 0, bytemuck::cast_slice(&letterbox_transform(w, h)));
        Ok(padded)
    }

    /// Calls `visit` with each dispatch of one stage of a check, in the order they run: the
    /// one list that recording, counting and per-dispatch timing all follow.
    fn visit_stage<'s>(&'s self, stage: Stage, visit: &mut dyn FnMut(&'s Dispatch)) {
        match stage {
            Stage::Detection => {
                visit(&self.resample_dispatches[0]);
                self.blazeface.graph().dispatches_iter().for_each(&mut *visit);
                [&self.detect, &self.face_quality, &self.face_regions].into_iter().for_each(visit);
            }
            Stage::Landmarks => {
                self.face_warp.iter().for_each(&mut *visit);
                visit(&self.resample_dispatches[1]);
                self.facemesh.graph().dispatches_iter().for_each(&mut *visit);
                visit(&self.project_landmarks);
            }
            // Each crop right before its network: with one shared pool, V1SE's input may be a
            // buffer MiniFASNetV2 used (BufferArena::share_one_pool).
            Stage::Liveness => {
                visit(&self.resample_dispatches[2]);
                self.v2.graph().dispatches_iter().for_each(&mut *visit);
                visit(&self.resample_dispatches[3]);
                self.v1se.graph().dispatches_iter().for_each(visit);
            }
        }
    }

    /// Records one stage of a check into `pass` (no allocation: the frame path).
    fn record_stage(&self, stage: Stage, pass: &mut wgpu::ComputePass<'_>) {
        let mut previous = None;
        self.visit_stage(stage, &mut |dispatch| dispatch.record_in_sequence(pass, &mut previous));
    }

    fn record(&self, encoder: &mut wgpu::CommandEncoder, readback: usize) {
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("check"), timestamp_writes: None });
            for stage in Stage::ALL {
                self.record_stage(stage, &mut pass);
            }
        }
        let copies: [(&wgpu::Buffer, u64, u64); 7] = [
            (&self.detections, READ_DETECTIONS, DETECTION_FLOATS as u64 * 4),
            (&self.regions, READ_REGIONS, REGION_FLOATS as u64 * 4),
            (&self.crops, READ_CROPS, CROP_INTS as u64 * 4),
            (self.facemesh.face_flag().buffer(), READ_FACE_FLAG, 16),
            (self.v2.softmax().buffer(), READ_V2, 16),
            (self.v1se.softmax().buffer(), READ_V1SE, 16),
            (&self.quality, READ_QUALITY, 32),
        ];
        for (source, offset, size) in copies {
            encoder.copy_buffer_to_buffer(source, 0, &self.readbacks[readback], offset, size);
        }
    }

    fn check(&mut self, gpu: &Gpu, options: &EngineOptions, landmarks: bool, frame: &Frame<'_>) -> Result<Report> {
        let submitted = self.submit(gpu, options, landmarks, frame, 0)?;
        self.collect(gpu, submitted, true)
    }

    /// Uploads `frame` and submits its check, results to readback buffer `readback`. The
    /// submission ends by zeroing the arena and the frame's bytes.
    fn submit(&mut self, gpu: &Gpu, options: &EngineOptions, landmarks: bool, frame: &Frame<'_>, readback: usize) -> Result<Submitted> {
        let started = Instant::now();
        let used = self.upload(gpu, options, frame)?;
        let uploaded = Instant::now();
        let mut encoder = gpu.encoder("check");
        self.record(&mut encoder, readback);
        // Erase, in the same submission, everything the frame touched.
        self.arena.record_clear(&mut encoder);
        encoder.clear_buffer(&self.frame, 0, Some(used));
        gpu.check("recording a check")?;
        let index = gpu.queue.submit([encoder.finish()]);
        let submitted = Instant::now();
        Ok(Submitted { readback, index, width: frame.width(), height: frame.height(), landmarks, started, uploaded, submitted })
    }

    /// Waits for a submitted check, reads its results and zeroes its readback buffer
    /// (waiting for that too when `wait_for_clear`; otherwise the queue orders it before
    /// any later submission completes).
    fn collect(&self, gpu: &Gpu, submitted: Submitted, wait_for_clear: bool) -> Result<Report> {
        gpu.wait(Some(submitted.index.clone()), "a check")?;
        let finished = Instant::now();
        let readback = &self.readbacks[submitted.readback];
        let bytes = map_read(gpu, readback, Some(submitted.index))?;
        let mut report = parse(&bytes, submitted.width, submitted.height, submitted.landmarks)?;
        drop(bytes);
        self.clear_readback(gpu, readback, wait_for_clear)?;
        let done = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        report.timings = Timings {
            upload_ms: ms(submitted.started, submitted.uploaded),
            record_ms: ms(submitted.uploaded, submitted.submitted),
            gpu_ms: ms(submitted.submitted, finished),
            readback_ms: ms(finished, done),
            total_ms: ms(submitted.started, done),
        };
        Ok(report)
    }

    /// A readback buffer can only be zeroed once its contents have been read: a second,
    /// tiny submission.
    fn clear_readback(&self, gpu: &Gpu, readback: &wgpu::Buffer, wait: bool) -> Result<()> {
        let mut encoder = gpu.encoder("clear readback");
        encoder.clear_buffer(readback, 0, None);
        if wait {
            gpu.submit_and_wait(encoder)
        } else {
            gpu.check("clearing the readback")?;
            gpu.queue.submit([encoder.finish()]);
            Ok(())
        }
    }

    /// Zeroes everything after a failed check (best effort: the device may be gone).
    fn erase(&self, gpu: &Gpu) {
        let mut encoder = gpu.encoder("erase");
        self.arena.record_clear(&mut encoder);
        encoder.clear_buffer(&self.frame, 0, None);
        for readback in &self.readbacks {
            encoder.clear_buffer(readback, 0, None);
        }
        let _ = gpu.submit_and_wait(encoder);
    }
}

/// A stand-in bound until `bind_resamples` binds the real frame buffer.
fn frame_placeholder(gpu: &Gpu) -> Result<wgpu::Buffer> {
    frame_buffer(gpu, 16)
}

fn frame_buffer(gpu: &Gpu, bytes: u64) -> Result<wgpu::Buffer> {
    gpu.check("creating the frame buffer")?;
    Ok(gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("frame"),
        size: bytes.div_ceil(16) * 16,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    }))
}

fn floats(bytes: &[u8], offset: u64, count: usize) -> Vec<f32> {
    bytes[offset as usize..offset as usize + count * 4].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn parse(bytes: &[u8], width: u32, height: u32, with_landmarks: bool) -> Result<Report> {
    let (w, h) = (width as f32, height as f32);
    let detections = Zeroizing::new(floats(bytes, READ_DETECTIONS, DETECTION_FLOATS));
    let count = (detections[0].max(0.0) as usize).min(MAX_DETECTIONS);
    let regions = Zeroizing::new(floats(bytes, READ_REGIONS, REGION_FLOATS));
    let crops: Vec<i32> = bytes[READ_CROPS as usize..READ_CROPS as usize + CROP_INTS * 4]
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let flag = floats(bytes, READ_FACE_FLAG, 1)[0];
    let v2 = floats(bytes, READ_V2, 3);
    let v1se = floats(bytes, READ_V1SE, 3);
    let q = floats(bytes, READ_QUALITY, 5);
    let quality = (q[4] > 0.0).then_some(FaceQuality { brightness: q[0], contrast: q[1], sharpness: q[2], background: q[3] });
    let mut faces = Vec::with_capacity(count);
    for i in 0..count {
        let d = &detections[4 + i * DETECTION_STRIDE..4 + (i + 1) * DETECTION_STRIDE];
        let mut keypoints = [[0.0f32; 2]; 6];
        for (k, point) in keypoints.iter_mut().enumerate() {
            *point = [d[5 + 2 * k] * w, d[6 + 2 * k] * h];
        }
        let best = i == 0;
        let landmarks = (best && with_landmarks).then(|| regions[8..].chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect());
        let liveness = best.then(|| {
            let rect = |m: usize| [crops[m * 8], crops[m * 8 + 1], crops[m * 8 + 2], crops[m * 8 + 3]];
            Liveness::from_softmaxes([v2[0], v2[1], v2[2]], [v1se[0], v1se[1], v1se[2]], [crops[16], crops[17], crops[18], crops[19]], [rect(0), rect(1)])
        });
        faces.push(Face {
            face_box: FaceBox { x0: d[1] * w, y0: d[2] * h, x1: (d[1] + d[3]) * w, y1: (d[2] + d[4]) * h },
            score: d[0],
            keypoints,
            landmarks,
            presence: if best { 1.0 / (1.0 + (-flag).exp()) } else { 0.0 },
            quality: if best { quality } else { None },
            liveness,
        });
    }
    Ok(Report { width, height, faces, timings: Timings::default() })
}

/// What [`resample`] cuts out of a frame.
#[derive(Clone, Copy, Debug)]
pub enum Resampling {
    /// BlazeFace's letterboxed 128x128 input, RGB in [-1, 1].
    Letterbox,
    /// Face Mesh's 192x192 input, RGB in [0, 1], for a rotated ROI in pixels:
    /// (centre x, centre y, width, height, rotation in radians).
    FaceMesh { roi: [f32; 5] },
    /// A MiniFASNet 80x80 input, BGR 0..255, of the inclusive rectangle
    /// [left, top, right, bottom].
    Crop { rect: [i32; 4] },
}

/// Runs one of the engine's resampling kernels on `frame` outside a check and returns the
/// network input it builds (a verification and tooling path: it allocates, and the caller
/// owns the pixels it returns).
pub fn resample(gpu: &Gpu, frame: &Frame<'_>, what: Resampling) -> Result<crate::tensor::HostTensor> {
    use crate::tensor::Shape;
    let bytes = frame.bytes();
    let frame_buffer = frame_buffer(gpu, bytes.len() as u64)?;
    gpu.write_bytes(&frame_buffer, bytes);
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let (kernel, size, replicate, bgr, values, transform, rect) = match what {
        Resampling::Letterbox => {
            (Kernel::WarpAffineU8, blazeface::INPUT_SIZE, false, false, BLAZEFACE_VALUES, letterbox_transform(frame.width(), frame.height()), [0; 8])
        }
        Resampling::FaceMesh { roi } => {
            (Kernel::WarpAffineU8, facemesh::INPUT_SIZE, true, false, FACEMESH_VALUES, roi_transform(roi, facemesh::INPUT_SIZE as f32), [0; 8])
        }
        Resampling::Crop { rect } => {
            let [l, t, r, b] = rect;
            if l < 0 || t < 0 || r < l || b < t || r as f32 >= w || b as f32 >= h {
                return Err(Error::Frame { reason: format!("crop {rect:?} is not inside the {w}x{h} frame") });
            }
            (Kernel::ResizeLinearU8, minifasnet::INPUT_SIZE, false, true, MINIFASNET_VALUES, [0.0; 8], [l, t, r, b, 1, 0, 0, 0])
        }
    };
    let mut arena = BufferArena::new();
    let output = arena.tensor(gpu, "resampled", Shape::new(size, size, 3))?;
    let exact_mesh = matches!(what, Resampling::FaceMesh { .. }) && gpu.has_shader_f64();
    let kernel = if exact_mesh { Kernel::WarpPerspectiveU8F64 } else { kernel };
    let params = WarpParams {
        frame_w: frame.width(),
        frame_h: frame.height(),
        frame_stride: frame.stride(),
        frame_format: frame.format().code(),
        out_w: size,
        out_h: size,
        replicate: replicate as u32,
        bgr: bgr as u32,
        transform: 0,
        _padding: [0; 3],
    };
    let params = gpu.initialised_buffer("resample parameters", bytemuck::bytes_of(&params), wgpu::BufferUsages::UNIFORM)?;
    let table = gpu.constant_buffer("conversion", &conversion_table(values.0, values.1))?;
    let transforms = gpu.constant_buffer("transform", &transform)?;
    let crops = gpu.initialised_buffer("crop", bytemuck::cast_slice(&rect), wgpu::BufferUsages::STORAGE)?;
    let roi = match what {
        Resampling::FaceMesh { roi } => [roi[0], roi[1], roi[2], roi[3], roi[4], 1.0, 0.0, 0.0],
        _ => [0.0; 8],
    };
    let rois = gpu.constant_buffer("roi", &roi)?;
    let transform64 = arena.buffer(gpu, "face warp (f64)", 80, wgpu::BufferUsages::STORAGE)?;
    let mut dispatches = Vec::new();
    if exact_mesh {
        dispatches.push(gpu.dispatch_with_uniform(Kernel::FaceWarpF64, &params, &[&rois, &transform64], 1)?);
    }
    let buffers = resample_buffers(kernel, &frame_buffer, &table, &transforms, &transform64, &crops, output.buffer());
    dispatches.push(gpu.dispatch_with_uniform(kernel, &params, &buffers, (size as u64 * size as u64).div_ceil(64))?);
    let mut encoder = gpu.encoder("resample");
    crate::gpu::record_all(&mut encoder, &dispatches);
    gpu.submit_and_wait(encoder)?;
    let result = gpu.read_tensor(&output);
    let mut encoder = gpu.encoder("erase resample");
    arena.record_clear(&mut encoder);
    encoder.clear_buffer(&frame_buffer, 0, None);
    gpu.submit_and_wait(encoder)?;
    result
}

/// The inverse map of a rotated ROI onto a `size` x `size` tensor, as face_regions in
/// shaders/roi.wgsl computes it: tensor (u, v) -> p1 + u/size (p2 - p1) + v/size (p0 - p1),
/// p0..p2 the cv2.boxPoints corners of the ROI.
fn roi_transform(roi: [f32; 5], size: f32) -> [f32; 8] {
    let [cx, cy, w, h, rotation] = roi;
    let b = rotation.cos() * 0.5;
    let a = rotation.sin() * 0.5;
    let p0 = (cx - a * h - b * w, cy + b * h - a * w);
    let p1 = (cx + a * h - b * w, cy - b * h - a * w);
    let p2 = (2.0 * cx - p0.0, 2.0 * cy - p0.1);
    [(p2.0 - p1.0) / size, (p0.0 - p1.0) / size, p1.0, (p2.1 - p1.1) / size, (p0.1 - p1.1) / size, p1.1, 1.0, 0.0]
}
