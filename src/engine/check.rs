//! One check as the GPU runs it: every buffer and dispatch of the frame path, built once
//! ([`Check::new`]), then per frame the upload, the one recorded submission (resamplers,
//! networks, detection and regions, the copies into the readback, the clears) and the
//! readback. check/order.rs holds the stages: the one ordered list of dispatches that
//! recording, counting and per-dispatch timing all walk.

use std::time::Instant;

use zeroize::Zeroizing;

use crate::engine::EngineOptions;
use crate::engine::detect::FaceStages;
use crate::engine::other_faces::{Gate, OtherFaces};
use crate::engine::readback::{READBACK_BYTES, Readback};
use crate::engine::report::{Report, Timings};
use crate::engine::resample::{Resample, frame_buffer, letterbox_transform};
use crate::engine::track::{FaceSource, Tracking};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::gpu::{BufferArena, Dispatch, Gpu};
use crate::models::{BlazeFace, BuildOptions, FaceMesh, MiniFasNet, Network, Variant, Weights};
use crate::nn::Tuning;

mod order;

pub use order::Stage;

/// The frame buffer is first sized for 1920x1080 RGBA and grows (once) for larger frames.
const INITIAL_FRAME_BYTES: u64 = 1920 * 1080 * 4;

/// The letterbox, the Face Mesh warp and the two MiniFASNet crops, in that order.
const RESAMPLES: usize = 4;

/// Everything a check holds on the GPU.
pub(super) struct Check {
    /// Every buffer that holds frame-derived data, zeroed at the end of each check.
    pub arena: BufferArena,
    /// The caller's frame bytes as uploaded.
    pub frame: wgpu::Buffer,
    resamples: [Resample; RESAMPLES],
    /// The dispatches that read the frame buffer, rebound when it grows.
    frame_readers: FrameReaders,
    face_warp_f64: Option<Dispatch>,
    faces: FaceStages,
    blazeface: BlazeFace,
    facemesh: FaceMesh,
    v2: MiniFasNet,
    v1se: MiniFasNet,
    /// MiniFASNet over the faces after the best, when more than one face is judged.
    others: Option<OtherFaces>,
    /// Whether the check being recorded judges the other faces too ([`Engine::check`]
    /// does; a session's frames, which judge one face, do not).
    pub all_faces: bool,
    /// How the check being recorded finds its face (BlazeFace, or a session's kept region).
    pub source: FaceSource,
    /// The region a session's face is followed by between its frames.
    pub tracking: Tracking,
    /// Two readback buffers, so that a pipelined check can copy its results while the one
    /// before it is still mapped; a plain check uses the first.
    pub readbacks: [wgpu::Buffer; 2],
}

/// The dispatches bound to the frame buffer: the four resamplers (in `Resample` order), the
/// other faces' two and face_quality.
struct FrameReaders {
    resamples: Vec<Dispatch>,
    other_faces: Vec<Dispatch>,
    face_quality: Dispatch,
}

impl FrameReaders {
    fn bind(gpu: &Gpu, frame: &wgpu::Buffer, resamples: &[Resample; RESAMPLES], others: Option<&OtherFaces>, faces: &FaceStages) -> Result<FrameReaders> {
        let positions = faces.positions();
        let other_crops = others.map(|o| o.crops.iter()).into_iter().flatten();
        Ok(FrameReaders {
            resamples: resamples.iter().map(|r| r.bind(gpu, frame, &positions)).collect::<Result<Vec<_>>>()?,
            other_faces: other_crops.map(|r| r.bind(gpu, frame, &positions)).collect::<Result<Vec<_>>>()?,
            face_quality: faces.bind_quality(gpu, &resamples[0].params, frame)?,
        })
    }
}

/// A check submitted to the GPU whose results are not read yet.
pub(super) struct Submitted {
    readback: usize,
    index: wgpu::SubmissionIndex,
    width: u32,
    height: u32,
    landmarks: bool,
    /// Faces after the best that were judged.
    other_faces: usize,
    started: Instant,
    uploaded: Instant,
    submitted: Instant,
}

impl Check {
    /// `upright_crops`: MiniFASNet's crops turned upright by the eyes' roll, or Silent-Face's;
    /// `max_faces`: how many faces MiniFASNet judges in a check (the best and the next).
    pub fn new(gpu: &Gpu, tuning: Tuning, upright_crops: bool, max_faces: u32) -> Result<Check> {
        let mut arena = BufferArena::new();
        // The networks share one pool of activation buffers: the check records every
        // dispatch in build order, each network's input written just before its graph.
        arena.share_one_pool();
        // The engine reads no taps: without them each network's activations share a few
        // pooled buffers, which is less memory to clear after every frame.
        let build = BuildOptions { tuning, keep_taps: false };
        let blazeface = BlazeFace::with_options(gpu, &Weights::bundled(Network::BlazeFace)?, &mut arena, build)?;
        let facemesh = FaceMesh::with_options(gpu, &Weights::bundled(Network::FaceMesh)?, &mut arena, build)?;
        let v2 = MiniFasNet::with_options(gpu, Variant::V2, &Weights::bundled(Network::MiniFasNetV2)?, &mut arena, build)?;
        let v1se = MiniFasNet::with_options(gpu, Variant::V1Se, &Weights::bundled(Network::MiniFasNetV1Se)?, &mut arena, build)?;
        let other_faces = max_faces.saturating_sub(1);
        let others = match other_faces {
            0 => None,
            n => Some(OtherFaces::new(gpu, &mut arena, build, n, upright_crops)?),
        };
        let faces = FaceStages::new(gpu, &mut arena, &blazeface, &facemesh, other_faces)?;
        let crop = if upright_crops { Resample::upright_crop } else { Resample::crop };
        let resamples = [
            Resample::letterbox(gpu, &mut arena, blazeface.input())?,
            Resample::face_mesh(gpu, &mut arena, facemesh.input())?,
            crop(gpu, &mut arena, v2.input(), 0)?,
            crop(gpu, &mut arena, v1se.input(), 1)?,
        ];
        let face_warp_f64 = match resamples[1].needs_f64_map() {
            true => Some(faces.bind_face_warp_f64(gpu, &resamples[1].params)?),
            false => None,
        };
        let readback = |label| {
            gpu.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: READBACK_BYTES,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let tracking = Tracking::new(gpu, &faces, &facemesh)?;
        let frame = frame_buffer(gpu, INITIAL_FRAME_BYTES)?;
        let frame_readers = FrameReaders::bind(gpu, &frame, &resamples, others.as_ref(), &faces)?;
        let mut check = Check {
            arena,
            frame,
            resamples,
            frame_readers,
            face_warp_f64,
            faces,
            blazeface,
            facemesh,
            v2,
            v1se,
            others,
            all_faces: true,
            source: FaceSource::Detect,
            tracking,
            readbacks: [readback("readback 0"), readback("readback 1")],
        };
        if check.others.is_some() && tuning.gate_other_faces && gpu.has_indirect_dispatch() {
            // The counts as built; the frame readers' never change when they are rebound.
            let mut built: Vec<u32> = Vec::new();
            check.visit_other_faces(&mut |dispatch| built.extend(dispatch.workgroups()));
            let gate = Gate::new(gpu, &mut check.arena, &check.faces, &built)?;
            if let Some(others) = check.others.as_mut() {
                others.gate = Some(gate);
            }
        }
        gpu.check("building the engine")?;
        Ok(check)
    }

    /// Uploads the frame and the per-frame parameters; the frame bytes used.
    pub fn upload(&mut self, gpu: &Gpu, options: &EngineOptions, frame: &Frame<'_>) -> Result<u64> {
        let bytes = frame.bytes();
        let padded = (bytes.len() as u64).div_ceil(4) * 4;
        if padded > self.frame.size() {
            gpu.check_binding_size("the frame", padded)?;
            self.frame.destroy();
            self.frame = frame_buffer(gpu, padded)?;
            self.frame_readers = FrameReaders::bind(gpu, &self.frame, &self.resamples, self.others.as_ref(), &self.faces)?;
        }
        gpu.write_bytes(&self.frame, bytes);
        for resample in self.resamples.iter().chain(self.others.iter().flat_map(|o| o.crops.iter())) {
            resample.write_params(gpu, frame);
        }
        let (w, h) = (frame.width(), frame.height());
        let tracked = self.source.tracks();
        self.faces.write_params(gpu, w, h, options.calibrate_box, options.upright_crops, tracked);
        gpu.queue.write_buffer(&self.faces.transforms, 0, bytemuck::cast_slice(&letterbox_transform(w, h)));
        Ok(padded)
    }

    /// Records the zeroing of everything a frame touched.
    pub fn record_erase(&self, encoder: &mut wgpu::CommandEncoder, frame_bytes: Option<u64>) {
        self.arena.record_clear(encoder);
        encoder.clear_buffer(&self.frame, 0, frame_bytes);
    }

    /// A check from upload to report.
    pub fn run(&mut self, gpu: &Gpu, options: &EngineOptions, landmarks: bool, frame: &Frame<'_>) -> Result<Report> {
        let submitted = self.submit(gpu, options, landmarks, frame, 0)?;
        self.collect(gpu, submitted, true)
    }

    /// Uploads `frame` and submits its check, results to readback buffer `readback`. The
    /// submission ends by zeroing the arena and the frame's bytes.
    pub fn submit(&mut self, gpu: &Gpu, options: &EngineOptions, landmarks: bool, frame: &Frame<'_>, readback: usize) -> Result<Submitted> {
        let started = Instant::now();
        let used = self.upload(gpu, options, frame)?;
        let uploaded = Instant::now();
        let mut encoder = gpu.encoder("check");
        self.record(&mut encoder, readback);
        // Erase, in the same submission, everything the frame touched, and a session's kept
        // region unless this is that session's next frame (which keeps its own).
        self.record_erase(&mut encoder, Some(used));
        let keeper = self.source.session();
        if keeper.is_none() && self.tracking.owner.is_some() {
            encoder.clear_buffer(&self.tracking.region, 0, None);
        }
        gpu.check("recording a check")?;
        let index = gpu.queue.submit([encoder.finish()]);
        self.tracking.owner = keeper;
        let submitted = Instant::now();
        let other_faces = match (&self.others, self.all_faces) {
            (Some(others), true) => others.v2.input().shape().batch as usize,
            _ => 0,
        };
        Ok(Submitted { readback, index, width: frame.width(), height: frame.height(), landmarks, other_faces, started, uploaded, submitted })
    }

    /// Waits for a submitted check, reads its results and zeroes its readback buffer
    /// (waiting for that too when `wait_for_clear`; otherwise the queue orders it before
    /// any later submission completes).
    pub fn collect(&self, gpu: &Gpu, submitted: Submitted, wait_for_clear: bool) -> Result<Report> {
        gpu.wait(Some(submitted.index.clone()), "a check")?;
        let finished = Instant::now();
        let readback = &self.readbacks[submitted.readback];
        let bytes = map_read(gpu, readback, Some(submitted.index))?;
        let results = Zeroizing::new(
            bytemuck::try_pod_read_unaligned::<Readback>(&bytes).map_err(|e| Error::Gpu { during: "reading the results", message: e.to_string() })?,
        );
        drop(bytes);
        let mut report = results.report(submitted.width, submitted.height, submitted.landmarks, submitted.other_faces);
        drop(results);
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
    pub fn erase(&mut self, gpu: &Gpu) {
        let mut encoder = gpu.encoder("erase");
        self.record_erase(&mut encoder, None);
        for readback in &self.readbacks {
            encoder.clear_buffer(readback, 0, None);
        }
        encoder.clear_buffer(&self.tracking.region, 0, None);
        let _ = gpu.submit_and_wait(encoder);
        self.tracking.owner = None;
    }

    /// Erases the region kept for `session` between its frames, if it is still there.
    pub fn forget_track(&mut self, gpu: &Gpu, session: u64) -> Result<()> {
        if self.tracking.owner != Some(session) {
            return Ok(());
        }
        let mut encoder = gpu.encoder("forget the tracked region");
        encoder.clear_buffer(&self.tracking.region, 0, None);
        self.tracking.owner = None;
        gpu.submit_and_wait(encoder)
    }

    /// Bytes of GPU memory held for frame data.
    pub fn frame_memory_bytes(&self) -> u64 {
        let readbacks: u64 = self.readbacks.iter().map(|r| r.size()).sum();
        self.arena.bytes() + self.frame.size() + readbacks + self.tracking.region.size()
    }
}

/// Maps `buffer` and copies it out. `written_by` is the last submission that wrote it: the
/// wait stops there, so a later submission (a pipelined frame) keeps running.
pub(super) fn map_read(gpu: &Gpu, buffer: &wgpu::Buffer, written_by: Option<wgpu::SubmissionIndex>) -> Result<Zeroizing<Vec<u8>>> {
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
