//! The faces after the best, judged in the same check (EngineOptions::max_faces): both
//! MiniFASNets batched over their crops (cut by roi.wgsl `cut_other_faces`), and on CPU
//! adapters the gate that zeroes those dispatches' workgroup counts when the frame has one
//! face (roi.wgsl `gate_other_faces`; `Tuning::gate_other_faces` says why). Recorded by
//! check.rs after the best face's liveness.

use crate::engine::detect::FaceStages;
use crate::engine::resample::Resample;
use crate::error::Result;
use crate::gpu::{BufferArena, Dispatch, Gpu};
use crate::models::{BuildOptions, MiniFasNet, Network, Variant, Weights};

/// Both MiniFASNets over a batch of the faces after the best, and their crops.
pub(super) struct OtherFaces {
    pub v2: MiniFasNet,
    pub v1se: MiniFasNet,
    /// V2's and V1SE's crops of every one of those faces.
    pub crops: [Resample; 2],
    /// Their workgroup counts as the frame needs them; None where the adapter cannot
    /// dispatch indirectly (they then always run).
    pub gate: Option<Gate>,
}

/// One indirect dispatch's arguments: x, y, z workgroups.
pub(super) const INDIRECT_ARGS_BYTES: u64 = 12;

/// roi.wgsl `gate_other_faces` and the counts it writes.
pub(super) struct Gate {
    pub dispatch: Dispatch,
    /// [x, y, z] per other-face dispatch, or zeros (no second face): frame-derived, in the arena.
    pub workgroups: wgpu::Buffer,
}

impl OtherFaces {
    /// Both networks batched over `faces` crops, and the two crops' resamplers.
    pub fn new(gpu: &Gpu, arena: &mut BufferArena, build: BuildOptions, faces: u32, upright: bool) -> Result<OtherFaces> {
        let v2 = MiniFasNet::batched(gpu, Variant::V2, &Weights::bundled(Network::MiniFasNetV2)?, arena, build, faces)?;
        let v1se = MiniFasNet::batched(gpu, Variant::V1Se, &Weights::bundled(Network::MiniFasNetV1Se)?, arena, build, faces)?;
        let crops = [Resample::other_faces_crop(gpu, arena, v2.input(), 0, upright)?, Resample::other_faces_crop(gpu, arena, v1se.input(), 1, upright)?];
        Ok(OtherFaces { v2, v1se, crops, gate: None })
    }
}

impl Gate {
    /// The gate over `built`, the other faces' workgroup counts as recorded ([x, y, z] per
    /// dispatch, in recording order); the counts it writes are frame-derived, in the arena.
    pub fn new(gpu: &Gpu, arena: &mut BufferArena, faces: &FaceStages, built: &[u32]) -> Result<Gate> {
        let bytes: Vec<u8> = bytemuck::cast_slice(built).to_vec();
        let built_buffer = gpu.initialised_buffer("other faces' workgroups as built", &bytes, wgpu::BufferUsages::STORAGE)?;
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::INDIRECT | wgpu::BufferUsages::COPY_SRC;
        let workgroups = arena.buffer(gpu, "other faces' workgroups", bytes.len() as u64, usage)?;
        let dispatch = faces.bind_gate(gpu, &built_buffer, &workgroups, built.len() as u64)?;
        Ok(Gate { dispatch, workgroups })
    }
}
