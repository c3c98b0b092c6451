//! From the frame to the networks' inputs: the letterbox of BlazeFace, the rotated Face
//! Mesh crop and the two MiniFASNet crops (Silent-Face's axis-aligned ones, or the same
//! rectangles turned upright by the eyes' roll), each one dispatch of shaders/warp.wgsl (or
//! warp_f64.wgsl) reading the raw frame bytes. Their positions come from GPU buffers that
//! detection and the regions wrote in the same submission (src/engine/detect.rs); only the
//! letterbox's comes from the CPU.

use bytemuck::{Pod, Zeroable};

use crate::engine::kernels;
#[cfg(feature = "internals")]
use crate::error::Error;
use crate::error::Result;
use crate::frame::Frame;
use crate::gpu::{BufferArena, Dispatch, Gpu, Kernel, Tensor};
use crate::models::blazeface;
#[cfg(feature = "internals")]
use crate::models::{facemesh, minifasnet};
#[cfg(feature = "internals")]
use crate::tensor::{HostTensor, Shape};

/// Parameters of warp.wgsl and warp_f64.wgsl (`WarpParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct WarpParams {
    frame_w: u32,
    frame_h: u32,
    frame_stride: u32,
    frame_format: u32,
    out_w: u32,
    out_h: u32,
    replicate: u32,
    bgr: u32,
    transform: u32,
    batch: u32,
    record_stride: u32,
    _padding: u32,
}

/// Warp records (8 floats each, warp.wgsl `transforms`): 0 letterbox, 1 Face Mesh, 2 and 3
/// the upright MiniFASNetV2 and V1SE crops.
pub(super) const TRANSFORMS_BYTES: u64 = 4 * WARP_RECORD_BYTES;
/// One warp record: 8 floats.
pub(super) const WARP_RECORD_BYTES: u64 = 8 * 4;
/// The first upright crop's warp record.
const UPRIGHT_CROP_RECORD: u32 = 2;
/// The Face Mesh warp's inverse map in double (warp_f64.wgsl `transform64`).
pub(super) const TRANSFORM64_BYTES: u64 = 10 * 8;

/// (scale, offset) of each network's input values: BlazeFace RGB in [-1, 1], Face Mesh RGB
/// in [0, 1] (ImageToTensor value ranges, shared/golden/README.md sections 3-4), MiniFASNet
/// raw 0..255 (its ToTensor without the /255, section 5).
const BLAZEFACE_VALUES: (f64, f64) = (2.0 / 255.0, -1.0);
const FACEMESH_VALUES: (f64, f64) = (1.0 / 255.0, 0.0);
const MINIFASNET_VALUES: (f64, f64) = (1.0, 0.0);

/// u8 -> f32 tables with the reference pipelines' exact float arithmetic
/// (mp_pipeline.image_to_tensor: `u8 * f32(scale) + f32(offset)`, two roundings).
fn conversion_table(gpu: &Gpu, label: &str, (scale, offset): (f64, f64)) -> Result<wgpu::Buffer> {
    let (scale, offset) = (scale as f32, offset as f32);
    let table: Vec<f32> = (0..256).map(|v| v as f32 * scale + offset).collect();
    gpu.constant_buffer(label, &table)
}

/// The letterbox (shared/golden/README.md section 3) as a warp record: tensor pixel (u, v)
/// samples the image at (W/2 + (u/128 - 0.5) S, H/2 + (v/128 - 0.5) S), S = max(W, H).
pub(super) fn letterbox_transform(width: u32, height: u32) -> [f32; 8] {
    let (w, h) = (width as f32, height as f32);
    let side = w.max(h);
    let step = side / blazeface::INPUT_SIZE as f32;
    [step, 0.0, w / 2.0 - side / 2.0, 0.0, step, h / 2.0 - side / 2.0, 1.0, 0.0]
}

/// The buffers the resamplers read their positions from.
pub(super) struct Positions<'a> {
    /// Warp records (letterbox, Face Mesh).
    pub transforms: &'a wgpu::Buffer,
    /// The Face Mesh map in double precision.
    pub transform64: &'a wgpu::Buffer,
    /// Crop records (roi.wgsl `crops`).
    pub crops: &'a wgpu::Buffer,
    /// The other faces' warp records (roi.wgsl `other_transforms`).
    pub other_transforms: &'a wgpu::Buffer,
    /// The other faces' crop records (roi.wgsl `other_crops`).
    pub other_crops: &'a wgpu::Buffer,
}

/// One resampling dispatch: which kernel, into which network input, how.
pub(super) struct Resample {
    kernel: Kernel,
    /// The WarpParams uniform, rewritten for each frame.
    pub params: wgpu::Buffer,
    output: Tensor,
    replicate: bool,
    bgr: bool,
    /// The warp or crop record it reads (its first output's).
    record: u32,
    /// Records between one output of the batch and the next (0 for a single output).
    record_stride: u32,
    /// Whether the records are the other faces' (roi.wgsl `other_*`) or the best face's.
    other_faces: bool,
    table: wgpu::Buffer,
}

impl Resample {
    /// BlazeFace's letterboxed 128x128 input, RGB in [-1, 1], zero border.
    pub fn letterbox(gpu: &Gpu, arena: &mut BufferArena, output: &Tensor) -> Result<Resample> {
        Resample::new(gpu, arena, &kernels::WARP_AFFINE_U8, output, false, false, 0, BLAZEFACE_VALUES)
    }

    /// Face Mesh's 192x192 input, RGB in [0, 1], replicated border: double-precision
    /// positions where the device has f64 (bit-exact with OpenCV), single precision
    /// elsewhere (about 1 value in 10^4 one level off).
    pub fn face_mesh(gpu: &Gpu, arena: &mut BufferArena, output: &Tensor) -> Result<Resample> {
        let kernel = if gpu.has_shader_f64() { &kernels::WARP_PERSPECTIVE_U8_F64 } else { &kernels::WARP_AFFINE_U8 };
        Resample::new(gpu, arena, kernel, output, true, false, 1, FACEMESH_VALUES)
    }

    /// MiniFASNet crop `record` (0: V2's 2.7 box, 1: V1SE's 4.0 box), 80x80 BGR 0..255, as
    /// Silent-Face cuts it: the axis-aligned rectangle, cv2.resize's arithmetic.
    pub fn crop(gpu: &Gpu, arena: &mut BufferArena, output: &Tensor, record: u32) -> Result<Resample> {
        Resample::new(gpu, arena, &kernels::RESIZE_LINEAR_U8, output, false, true, record, MINIFASNET_VALUES)
    }

    /// The same crop turned upright about its centre by the eyes' roll (roi.wgsl
    /// `upright_crop`; the rectangle is fitted inside the frame, the replicated border only
    /// guards rounding).
    pub fn upright_crop(gpu: &Gpu, arena: &mut BufferArena, output: &Tensor, crop: u32) -> Result<Resample> {
        Resample::new(gpu, arena, &kernels::WARP_AFFINE_U8, output, true, true, UPRIGHT_CROP_RECORD + crop, MINIFASNET_VALUES)
    }

    /// Crop `crop` (0 V2, 1 V1SE) of every face after the best, one output of the batched
    /// `output` each, upright or as Silent-Face cuts it.
    pub fn other_faces_crop(gpu: &Gpu, arena: &mut BufferArena, output: &Tensor, crop: u32, upright: bool) -> Result<Resample> {
        // Upright: two warp records a face (roi.wgsl `other_transforms`); otherwise
        // OtherFaceCrops, three 8-int records a face.
        let (kernel, replicate, record_stride) = if upright { (&kernels::WARP_AFFINE_U8, true, 2) } else { (&kernels::RESIZE_LINEAR_U8, false, 3) };
        let resample = Resample::new(gpu, arena, kernel, output, replicate, true, crop, MINIFASNET_VALUES)?;
        Ok(Resample { record_stride, other_faces: true, ..resample })
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        gpu: &Gpu,
        arena: &mut BufferArena,
        kernel: Kernel,
        output: &Tensor,
        replicate: bool,
        bgr: bool,
        record: u32,
        values: (f64, f64),
    ) -> Result<Resample> {
        let usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_SRC;
        Ok(Resample {
            kernel,
            params: arena.buffer(gpu, "resample parameters", size_of::<WarpParams>() as u64, usage)?,
            output: output.clone(),
            replicate,
            bgr,
            record,
            record_stride: 0,
            other_faces: false,
            table: conversion_table(gpu, "u8 to network values", values)?,
        })
    }

    /// Whether this is the double-precision Face Mesh warp (it needs face_warp_f64 first).
    pub fn needs_f64_map(&self) -> bool {
        self.kernel == &kernels::WARP_PERSPECTIVE_U8_F64
    }

    /// The dispatch over `frame`, reading its positions from `positions`.
    pub fn bind(&self, gpu: &Gpu, frame: &wgpu::Buffer, positions: &Positions<'_>) -> Result<Dispatch> {
        let output = self.output.buffer();
        let (transforms, crops) = match self.other_faces {
            true => (positions.other_transforms, positions.other_crops),
            false => (positions.transforms, positions.crops),
        };
        let buffers = if self.kernel == &kernels::RESIZE_LINEAR_U8 {
            [frame, &self.table, crops, output]
        } else if self.needs_f64_map() {
            [frame, &self.table, positions.transform64, output]
        } else {
            [frame, transforms, &self.table, output]
        };
        let invocations = self.output.shape().pixels();
        gpu.dispatch_with_uniform(self.kernel, &self.params, &buffers, invocations.div_ceil(self.kernel.invocations() as u64))
    }

    /// This frame's parameters.
    pub fn write_params(&self, gpu: &Gpu, frame: &Frame<'_>) {
        let s = self.output.shape();
        let params = WarpParams {
            frame_w: frame.width(),
            frame_h: frame.height(),
            frame_stride: frame.stride(),
            frame_format: frame.format().code(),
            out_w: s.width,
            out_h: s.height,
            replicate: self.replicate as u32,
            bgr: self.bgr as u32,
            transform: self.record,
            batch: s.batch,
            record_stride: self.record_stride,
            _padding: 0,
        };
        gpu.queue.write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
    }
}

/// A storage buffer for frame bytes, `bytes` rounded up to 16.
pub(super) fn frame_buffer(gpu: &Gpu, bytes: u64) -> Result<wgpu::Buffer> {
    gpu.check("creating the frame buffer")?;
    Ok(gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("frame"),
        size: bytes.div_ceil(16) * 16,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    }))
}

/// What [`resample`] cuts out of a frame.
#[cfg(feature = "internals")]
#[derive(Clone, Copy, Debug)]
pub enum Resampling {
    /// BlazeFace's letterboxed 128x128 input, RGB in [-1, 1].
    Letterbox,
    /// Face Mesh's 192x192 input, RGB in [0, 1], for a rotated ROI in pixels:
    /// (centre x, centre y, width, height, rotation in radians).
    FaceMesh {
        /// The region of interest.
        roi: [f32; 5],
    },
    /// A MiniFASNet 80x80 input, BGR 0..255, of the inclusive rectangle
    /// [left, top, right, bottom].
    Crop {
        /// The rectangle.
        rect: [i32; 4],
    },
    /// The same rectangle turned by `rotation` radians about its centre (the upright crop).
    UprightCrop {
        /// The rectangle.
        rect: [i32; 4],
        /// The roll, as the Face Mesh ROI's.
        rotation: f32,
    },
}

/// Runs one of the engine's resamplers on `frame` outside a check and returns the network
/// input it builds: the same [`Resample`] dispatches the engine records, with the positions
/// written by the CPU instead of detection. A verification and tooling path: it allocates,
/// and the caller owns the pixels it returns.
#[cfg(feature = "internals")]
pub fn resample(gpu: &Gpu, frame: &Frame<'_>, what: Resampling) -> Result<HostTensor> {
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let mut arena = BufferArena::new();
    let frame_bytes = arena.buffer(gpu, "frame", frame.bytes().len() as u64, wgpu::BufferUsages::STORAGE)?;
    gpu.write_bytes(&frame_bytes, frame.bytes());
    let size = match what {
        Resampling::Letterbox => blazeface::INPUT_SIZE,
        Resampling::FaceMesh { .. } => facemesh::INPUT_SIZE,
        Resampling::Crop { .. } | Resampling::UprightCrop { .. } => minifasnet::INPUT_SIZE,
    };
    let output = arena.tensor(gpu, "resampled", Shape::new(size, size, 3))?;
    let (transform, rect, roi) = match what {
        Resampling::Letterbox => (letterbox_transform(frame.width(), frame.height()), [0; 8], [0.0; 8]),
        Resampling::FaceMesh { roi: [cx, cy, rw, rh, rotation] } => {
            let mut transforms = [0.0; 8];
            transforms[..6].copy_from_slice(&roi_transform([cx, cy, rw, rh, rotation], size as f32));
            transforms[6] = 1.0;
            (transforms, [0; 8], [cx, cy, rw, rh, rotation, 1.0, 0.0, 0.0])
        }
        Resampling::Crop { rect } => {
            let [l, t, r, b] = rect;
            if l < 0 || t < 0 || r < l || b < t || r as f32 >= w || b as f32 >= h {
                return Err(Error::Frame { reason: format!("crop {rect:?} is not inside the {w}x{h} frame") });
            }
            ([0.0; 8], [l, t, r, b, 1, 0, 0, 0], [0.0; 8])
        }
        Resampling::UprightCrop { rect, rotation } => {
            let mut transforms = [0.0; 8];
            transforms[..6].copy_from_slice(&upright_crop_transform(rect, rotation, size as f32));
            transforms[6] = 1.0;
            (transforms, [0; 8], [0.0; 8])
        }
    };
    let resample = match what {
        Resampling::Letterbox => Resample::letterbox(gpu, &mut arena, &output)?,
        Resampling::FaceMesh { .. } => Resample::face_mesh(gpu, &mut arena, &output)?,
        Resampling::Crop { .. } => Resample::crop(gpu, &mut arena, &output, 0)?,
        Resampling::UprightCrop { .. } => Resample::upright_crop(gpu, &mut arena, &output, 0)?,
    };
    // The tool fills every warp record with its one map (the Face Mesh's is the second, the
    // upright crop's the third).
    let transforms = gpu.constant_buffer("transforms", &[transform; 4].concat())?;
    let crops = gpu.initialised_buffer("crop", bytemuck::cast_slice(&rect), wgpu::BufferUsages::STORAGE)?;
    let transform64 = arena.buffer(gpu, "face warp (f64)", TRANSFORM64_BYTES, wgpu::BufferUsages::STORAGE)?;
    let positions = Positions { transforms: &transforms, transform64: &transform64, crops: &crops, other_transforms: &transforms, other_crops: &crops };
    resample.write_params(gpu, frame);
    let mut dispatches = Vec::new();
    if resample.needs_f64_map() {
        let rois = gpu.constant_buffer("roi", &roi)?;
        dispatches.push(gpu.dispatch_with_uniform(&kernels::FACE_WARP_F64, &resample.params, &[&rois, &transform64], 1)?);
    }
    dispatches.push(resample.bind(gpu, &frame_bytes, &positions)?);
    let mut encoder = gpu.encoder("resample");
    crate::gpu::record_all(&mut encoder, &dispatches);
    gpu.submit_and_wait(encoder)?;
    let result = gpu.read_tensor(&output);
    let mut encoder = gpu.encoder("erase resample");
    arena.record_clear(&mut encoder);
    gpu.submit_and_wait(encoder)?;
    result
}

/// The inverse map of a rotated ROI onto a `size` x `size` tensor, as face_regions in
/// shaders/roi.wgsl computes it: tensor (u, v) -> p1 + u/size (p2 - p1) + v/size (p0 - p1),
/// p0..p2 the cv2.boxPoints corners of the ROI.
#[cfg(feature = "internals")]
fn roi_transform(roi: [f32; 5], size: f32) -> [f32; 6] {
    let [cx, cy, w, h, rotation] = roi;
    let b = rotation.cos() * 0.5;
    let a = rotation.sin() * 0.5;
    let p0 = (cx - a * h - b * w, cy + b * h - a * w);
    let p1 = (cx + a * h - b * w, cy - b * h - a * w);
    let p2 = (2.0 * cx - p0.0, 2.0 * cy - p0.1);
    [(p2.0 - p1.0) / size, (p0.0 - p1.0) / size, p1.0, (p2.1 - p1.1) / size, (p0.1 - p1.1) / size, p1.1]
}

/// The inverse map of crop rectangle `rect` (inclusive ltrb) turned by `rotation` about its
/// centre onto a `size` x `size` tensor, as roi.wgsl `upright_crop` computes it: at rotation
/// 0 the source positions of cv2.resize INTER_LINEAR, left + (u + 0.5) W/size - 0.5.
#[cfg(feature = "internals")]
pub fn upright_crop_transform(rect: [i32; 4], rotation: f32, size: f32) -> [f32; 6] {
    let [l, t, r, b] = rect;
    let (w, h) = ((r - l + 1) as f32, (b - t + 1) as f32);
    let (cx, cy) = ((l + r) as f32 / 2.0, (t + b) as f32 / 2.0);
    let (step_x, step_y) = (w / size, h / size);
    let (c, s) = (rotation.cos(), rotation.sin());
    let (first_x, first_y) = (0.5 * step_x - w / 2.0, 0.5 * step_y - h / 2.0);
    [c * step_x, -s * step_y, cx + c * first_x - s * first_y, s * step_x, c * step_y, cy + s * first_x + c * first_y]
}
