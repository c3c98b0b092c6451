//! From BlazeFace's heads to the regions the other networks see, on the GPU: anchors
//! decoded and suppressed (shaders/detect.wgsl `detect_faces`), light and focus of the best
//! face (warp.wgsl `face_quality`), the Face Mesh ROI, the MiniFASNet box and its crops
//! (roi.wgsl `face_regions`), and Face Mesh's landmarks back in image pixels (roi.wgsl
//! `project_landmarks`). The buffers they write are laid out as the readback's structs
//! (src/engine/readback.rs), which size them.

use bytemuck::{Pod, Zeroable};

use crate::engine::kernels;
use crate::engine::readback::{Crops, Detections, FaceRegion, OtherFaceCrops, Quality};
use crate::engine::resample::{Positions, TRANSFORM64_BYTES, TRANSFORMS_BYTES, WARP_RECORD_BYTES};
use crate::error::Result;
use crate::gpu::{BufferArena, Dispatch, Gpu};
use crate::models::{BlazeFace, FaceMesh, blazeface, facemesh};

/// Parameters of detect.wgsl (`DetectParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct DetectParams {
    frame_w: u32,
    frame_h: u32,
    _padding: [u32; 2],
}

/// Parameters of roi.wgsl (`RegionParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct RegionParams {
    frame_w: u32,
    frame_h: u32,
    calibrate_box: u32,
    upright_crops: u32,
    other_faces: u32,
    /// 1 in a tracked frame (track.wgsl): the Face Mesh ROI came from the frame before.
    tracked: u32,
    _padding: [u32; 2],
}

/// The buffers detection and the regions write, and their dispatches.
pub(super) struct FaceStages {
    detect_params: wgpu::Buffer,
    /// RegionParams: roi.wgsl's and track.wgsl's.
    pub region_params: wgpu::Buffer,
    /// Warp records: 0 the letterbox (written by the CPU), 1 the Face Mesh ROI, 2 and 3 the
    /// upright MiniFASNet crops.
    pub transforms: wgpu::Buffer,
    /// The Face Mesh map in double precision (warp_f64.wgsl).
    pub transform64: wgpu::Buffer,
    /// [`Crops`]: the MiniFASNet crop rectangles and face box.
    pub crops: wgpu::Buffer,
    /// [`OtherFaceCrops`] of each face after the best that MiniFASNet judges.
    pub other_crops: wgpu::Buffer,
    /// Their upright warp records, two a face.
    pub other_transforms: wgpu::Buffer,
    /// How many faces after the best are judged.
    other_faces: u32,
    /// [`Detections`] after NMS.
    pub detections: wgpu::Buffer,
    /// [`FaceRegion`]: the Face Mesh ROI and the landmarks in image pixels.
    pub regions: wgpu::Buffer,
    /// [`Quality`] of the best face.
    pub quality: wgpu::Buffer,
    pub detect: Dispatch,
    pub face_regions: Dispatch,
    pub project_landmarks: Dispatch,
}

impl FaceStages {
    /// `other_faces`: how many faces after the best get their own MiniFASNet crops.
    pub fn new(gpu: &Gpu, arena: &mut BufferArena, blazeface: &BlazeFace, facemesh: &FaceMesh, other_faces: u32) -> Result<FaceStages> {
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
        let uniform = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_SRC;
        let size = |bytes: usize| bytes as u64;
        let detect_params = arena.buffer(gpu, "detect parameters", size(size_of::<DetectParams>()), uniform)?;
        let region_params = arena.buffer(gpu, "region parameters", size(size_of::<RegionParams>()), uniform)?;
        let transforms = arena.buffer(gpu, "transforms", TRANSFORMS_BYTES, storage)?;
        let transform64 = arena.buffer(gpu, "face warp (f64)", TRANSFORM64_BYTES, storage)?;
        let crops = arena.buffer(gpu, "crops", size(size_of::<Crops>()), storage)?;
        // A binding is never empty: one record's room when no other face is judged.
        let others = other_faces.max(1) as u64;
        let other_crops = arena.buffer(gpu, "other faces' crops", others * size_of::<OtherFaceCrops>() as u64, storage)?;
        let other_transforms = arena.buffer(gpu, "other faces' warps", others * 2 * WARP_RECORD_BYTES, storage)?;
        let detections = arena.buffer(gpu, "detections", size(size_of::<Detections>()), storage)?;
        let regions = arena.buffer(gpu, "regions", size(size_of::<FaceRegion>()), storage)?;
        let quality = arena.buffer(gpu, "face quality", size(size_of::<Quality>()), storage)?;
        // detect.wgsl `decoded`: per anchor score, box and 6 keypoints.
        let decoded = arena.buffer(gpu, "decoded anchors", blazeface::ANCHORS as u64 * 17 * 4, storage)?;
        let heads = blazeface.heads();
        let detect = gpu.dispatch_with_uniform(
            &kernels::DETECT_FACES,
            &detect_params,
            &[heads[0].buffer(), heads[1].buffer(), heads[2].buffer(), heads[3].buffer(), &decoded, &detections],
            1,
        )?;
        let face_regions = gpu.dispatch_with_uniform(
            &kernels::FACE_REGIONS,
            &region_params,
            &[&detections, &transforms, &crops, &regions, &other_crops, &other_transforms],
            1,
        )?;
        let project_landmarks = gpu.dispatch_with_uniform(
            &kernels::PROJECT_LANDMARKS,
            &region_params,
            &[facemesh.landmarks().buffer(), &regions],
            (facemesh::LANDMARKS as u64).div_ceil(kernels::PROJECT_LANDMARKS.invocations() as u64),
        )?;
        Ok(FaceStages {
            detect_params,
            region_params,
            transforms,
            transform64,
            crops,
            other_crops,
            other_transforms,
            other_faces,
            detections,
            regions,
            quality,
            detect,
            face_regions,
            project_landmarks,
        })
    }

    /// face_quality over `frame`: it shares the letterbox's WarpParams (frame size, stride
    /// and format), so it is rebound with the resamplers when the frame buffer grows.
    pub fn bind_quality(&self, gpu: &Gpu, letterbox_params: &wgpu::Buffer, frame: &wgpu::Buffer) -> Result<Dispatch> {
        gpu.dispatch_with_uniform(&kernels::FACE_QUALITY, letterbox_params, &[frame, &self.detections, &self.quality], 1)
    }

    /// gate_other_faces over `entries` workgroup counts: `built` copied into `gated`, or
    /// zeros when the frame has one face.
    pub fn bind_gate(&self, gpu: &Gpu, built: &wgpu::Buffer, gated: &wgpu::Buffer, entries: u64) -> Result<Dispatch> {
        let workgroups = entries.div_ceil(kernels::GATE_OTHER_FACES.invocations() as u64);
        gpu.dispatch_with_uniform(&kernels::GATE_OTHER_FACES, &self.region_params, &[&self.detections, built, gated], workgroups)
    }

    /// face_warp_f64: the double-precision Face Mesh map from the ROI, before the warp.
    pub fn bind_face_warp_f64(&self, gpu: &Gpu, face_mesh_params: &wgpu::Buffer) -> Result<Dispatch> {
        gpu.dispatch_with_uniform(&kernels::FACE_WARP_F64, face_mesh_params, &[&self.regions, &self.transform64], 1)
    }

    /// Where the resamplers read their positions.
    pub fn positions(&self) -> Positions<'_> {
        Positions {
            transforms: &self.transforms,
            transform64: &self.transform64,
            crops: &self.crops,
            other_transforms: &self.other_transforms,
            other_crops: &self.other_crops,
        }
    }

    /// This frame's parameters.
    pub fn write_params(&self, gpu: &Gpu, width: u32, height: u32, calibrate_box: bool, upright_crops: bool, tracked: bool) {
        let detect = DetectParams { frame_w: width, frame_h: height, _padding: [0; 2] };
        let regions = RegionParams {
            frame_w: width,
            frame_h: height,
            calibrate_box: calibrate_box as u32,
            upright_crops: upright_crops as u32,
            other_faces: self.other_faces,
            tracked: tracked as u32,
            _padding: [0; 2],
        };
        gpu.queue.write_buffer(&self.detect_params, 0, bytemuck::bytes_of(&detect));
        gpu.queue.write_buffer(&self.region_params, 0, bytemuck::bytes_of(&regions));
    }
}
