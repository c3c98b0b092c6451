//! Every compute pipeline of the library, compiled once per device.
//!
//! The kernel set is closed (one [`Kernel`] per entry point and specialisation), so the
//! cache is a table built eagerly when the device is created; looking a pipeline up is an
//! index, with no lock and no compilation on the frame path.

use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// Invocations per workgroup of the one-dimensional kernels (`LINEAR_WORKGROUP` in
/// shaders/common.wgsl).
pub const LINEAR_WORKGROUP_SIZE: u32 = 64;

const COMMON: &str = include_str!("../../shaders/common.wgsl");
/// Frame access, shared by warp.wgsl and the preview window's shader.
pub(crate) const FRAME_ACCESS: &str = include_str!("../../shaders/frame.wgsl");

/// A shader family: one WGSL file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Conv,
    Depthwise,
    Pointwise,
    Pool,
    Elementwise,
    Dense,
    Separable,
    Warp,
    Detect,
    Roi,
    /// warp.wgsl followed by warp_f64.wgsl (needs SHADER_F64).
    WarpF64,
}

impl Family {
    pub const ALL: [Family; 11] = [
        Family::Conv,
        Family::Depthwise,
        Family::Pointwise,
        Family::Pool,
        Family::Elementwise,
        Family::Dense,
        Family::Separable,
        Family::Warp,
        Family::Detect,
        Family::Roi,
        Family::WarpF64,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Family::Conv => "conv.wgsl",
            Family::Depthwise => "depthwise.wgsl",
            Family::Pointwise => "pointwise.wgsl",
            Family::Pool => "pool.wgsl",
            Family::Elementwise => "elementwise.wgsl",
            Family::Dense => "dense.wgsl",
            Family::Separable => "separable.wgsl",
            Family::Warp => "warp.wgsl",
            Family::Detect => "detect.wgsl",
            Family::Roi => "roi.wgsl",
            Family::WarpF64 => "warp_f64.wgsl",
        }
    }

    fn own_source(self) -> &'static str {
        match self {
            Family::Conv => include_str!("../../shaders/conv.wgsl"),
            Family::Depthwise => include_str!("../../shaders/depthwise.wgsl"),
            Family::Pointwise => include_str!("../../shaders/pointwise.wgsl"),
            Family::Pool => include_str!("../../shaders/pool.wgsl"),
            Family::Elementwise => include_str!("../../shaders/elementwise.wgsl"),
            Family::Dense => include_str!("../../shaders/dense.wgsl"),
            Family::Separable => include_str!("../../shaders/separable.wgsl"),
            Family::Warp => include_str!("../../shaders/warp.wgsl"),
            Family::Detect => include_str!("../../shaders/detect.wgsl"),
            Family::Roi => include_str!("../../shaders/roi.wgsl"),
            Family::WarpF64 => include_str!("../../shaders/warp_f64.wgsl"),
        }
    }

    /// Whether the family uses f64 and so needs the SHADER_F64 feature.
    pub fn needs_f64(self) -> bool {
        self == Family::WarpF64
    }

    /// The complete WGSL module: shaders/common.wgsl followed by the family's file
    /// (warp_f64.wgsl extends warp.wgsl).
    pub fn source(self) -> String {
        match self {
            Family::Warp => format!("{COMMON}\n{FRAME_ACCESS}\n{}", self.own_source()),
            Family::WarpF64 => format!("{COMMON}\n{FRAME_ACCESS}\n{}\n{}", Family::Warp.own_source(), self.own_source()),
            _ => format!("{COMMON}\n{}", self.own_source()),
        }
    }
}

/// How a kernel binds one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Uniform,
    Read,
    ReadWrite,
}

use Slot::{Read, ReadWrite, Uniform};

/// One pipeline: an entry point of a family with its specialisation constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Conv2dDense,
    Conv2dDenseWide,
    /// `conv2d_stem` specialised to BlazeFace's stem (5x5, 24 outputs).
    Conv2dStem5x5To24,
    /// `conv2d_stem` specialised to Face Mesh's stem (3x3, 16 outputs).
    Conv2dStem3x3To16,
    /// `conv2d_stem` specialised to MiniFASNet's conv1 (3x3, 32 outputs).
    Conv2dStem3x3To32,
    Conv2dGrouped,
    Depthwise3x3,
    Depthwise5x5,
    PointwiseNaive,
    PointwiseBlocked,
    PointwiseWide,
    PointwiseTiled,
    MaxPool2x2,
    GlobalAveragePool,
    Add,
    ChannelPad,
    ChannelScale,
    Dense,
    Softmax,
    SeparableBlock,
    WarpAffineU8,
    ResizeLinearU8,
    DetectFaces,
    FaceRegions,
    ProjectLandmarks,
    FaceWarpF64,
    WarpPerspectiveU8F64,
    FaceQuality,
}

// Binding lists: binding 0 is always the parameter uniform; the rest follow the WGSL
// declarations of each file in order.
const CONV_SLOTS: &[(u32, Slot)] =
    &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (5, ReadWrite)];
const CONV_DENSE_SLOTS: &[(u32, Slot)] =
    &[(0, Uniform), (6, Read), (7, Read), (3, Read), (4, Read), (5, ReadWrite)];
const SEPARABLE_SLOTS: &[(u32, Slot)] =
    &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (5, Read), (6, Read), (7, ReadWrite)];
const WARP_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, ReadWrite)];
const RESIZE_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (3, Read), (5, Read), (4, ReadWrite)];
const DETECT_SLOTS: &[(u32, Slot)] =
    &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (5, ReadWrite), (6, ReadWrite)];
const REGION_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (3, ReadWrite), (4, ReadWrite), (5, ReadWrite)];
const LANDMARK_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (2, Read), (5, ReadWrite)];
const QUALITY_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (8, Read), (9, ReadWrite)];
const FACE_WARP_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (7, Read), (6, ReadWrite)];
const WARP_F64_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (3, Read), (6, ReadWrite), (4, ReadWrite)];
const NAIVE_SLOTS: &[(u32, Slot)] =
    &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (6, ReadWrite)];
const POOL_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (2, ReadWrite)];
const DENSE_SLOTS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, ReadWrite)];

impl Kernel {
    pub const ALL: [Kernel; 28] = [
        Kernel::Conv2dDense,
        Kernel::Conv2dDenseWide,
        Kernel::Conv2dStem5x5To24,
        Kernel::Conv2dStem3x3To16,
        Kernel::Conv2dStem3x3To32,
        Kernel::Conv2dGrouped,
        Kernel::Depthwise3x3,
        Kernel::Depthwise5x5,
        Kernel::PointwiseNaive,
        Kernel::PointwiseBlocked,
        Kernel::PointwiseWide,
        Kernel::PointwiseTiled,
        Kernel::MaxPool2x2,
        Kernel::GlobalAveragePool,
        Kernel::Add,
        Kernel::ChannelPad,
        Kernel::ChannelScale,
        Kernel::Dense,
        Kernel::Softmax,
        Kernel::SeparableBlock,
        Kernel::WarpAffineU8,
        Kernel::ResizeLinearU8,
        Kernel::DetectFaces,
        Kernel::FaceRegions,
        Kernel::ProjectLandmarks,
        Kernel::FaceWarpF64,
        Kernel::WarpPerspectiveU8F64,
        Kernel::FaceQuality,
    ];

    pub fn family(self) -> Family {
        match self {
            Kernel::Conv2dDense
            | Kernel::Conv2dDenseWide
            | Kernel::Conv2dStem5x5To24
            | Kernel::Conv2dStem3x3To16
            | Kernel::Conv2dStem3x3To32
            | Kernel::Conv2dGrouped => Family::Conv,
            Kernel::Depthwise3x3 | Kernel::Depthwise5x5 => Family::Depthwise,
            Kernel::PointwiseNaive | Kernel::PointwiseBlocked | Kernel::PointwiseWide | Kernel::PointwiseTiled => {
                Family::Pointwise
            }
            Kernel::MaxPool2x2 | Kernel::GlobalAveragePool => Family::Pool,
            Kernel::Add | Kernel::ChannelPad | Kernel::ChannelScale => Family::Elementwise,
            Kernel::Dense | Kernel::Softmax => Family::Dense,
            Kernel::SeparableBlock => Family::Separable,
            Kernel::WarpAffineU8 | Kernel::ResizeLinearU8 | Kernel::FaceQuality => Family::Warp,
            Kernel::DetectFaces => Family::Detect,
            Kernel::FaceRegions | Kernel::ProjectLandmarks => Family::Roi,
            Kernel::FaceWarpF64 | Kernel::WarpPerspectiveU8F64 => Family::WarpF64,
        }
    }

    pub fn entry_point(self) -> &'static str {
        match self {
            Kernel::Conv2dDense => "conv2d_dense",
            Kernel::Conv2dDenseWide => "conv2d_dense_wide",
            Kernel::Conv2dStem5x5To24 | Kernel::Conv2dStem3x3To16 | Kernel::Conv2dStem3x3To32 => "conv2d_stem",
            Kernel::Conv2dGrouped => "conv2d_grouped",
            Kernel::Depthwise3x3 | Kernel::Depthwise5x5 => "depthwise",
            Kernel::PointwiseNaive => "pointwise_naive",
            Kernel::PointwiseBlocked => "pointwise_blocked",
            Kernel::PointwiseWide => "pointwise_wide",
            Kernel::PointwiseTiled => "pointwise_tiled",
            Kernel::MaxPool2x2 => "max_pool_2x2",
            Kernel::GlobalAveragePool => "global_average_pool",
            Kernel::Add => "add",
            Kernel::ChannelPad => "channel_pad",
            Kernel::ChannelScale => "channel_scale",
            Kernel::Dense => "dense",
            Kernel::Softmax => "softmax",
            Kernel::SeparableBlock => "separable_block",
            Kernel::WarpAffineU8 => "warp_affine_u8",
            Kernel::ResizeLinearU8 => "resize_linear_u8",
            Kernel::DetectFaces => "detect_faces",
            Kernel::FaceRegions => "face_regions",
            Kernel::ProjectLandmarks => "project_landmarks",
            Kernel::FaceWarpF64 => "face_warp_f64",
            Kernel::WarpPerspectiveU8F64 => "warp_perspective_u8_f64",
            Kernel::FaceQuality => "face_quality",
        }
    }

    /// Pipeline-overridable constants (WGSL `override`), i.e. the specialisation.
    pub fn constants(self) -> &'static [(&'static str, f64)] {
        match self {
            Kernel::Depthwise3x3 => &[("kernel_size", 3.0)],
            Kernel::Depthwise5x5 => &[("kernel_size", 5.0)],
            Kernel::Conv2dStem5x5To24 => &[("stem_kernel", 5.0), ("stem_out_c4", 6.0)],
            Kernel::Conv2dStem3x3To16 => &[("stem_kernel", 3.0), ("stem_out_c4", 4.0)],
            Kernel::Conv2dStem3x3To32 => &[("stem_kernel", 3.0), ("stem_out_c4", 8.0)],
            _ => &[],
        }
    }

    /// (binding, slot) of group 0, parameters first, then the buffers in the launcher's order.
    pub fn slots(self) -> &'static [(u32, Slot)] {
        match self.family() {
            Family::Conv if self != Kernel::Conv2dGrouped => CONV_DENSE_SLOTS,
            Family::Conv | Family::Depthwise | Family::Elementwise => CONV_SLOTS,
            Family::Pointwise if self == Kernel::PointwiseNaive => NAIVE_SLOTS,
            Family::Pointwise => CONV_SLOTS,
            Family::Pool => POOL_SLOTS,
            Family::Dense => DENSE_SLOTS,
            Family::Separable => SEPARABLE_SLOTS,
            Family::Warp if self == Kernel::ResizeLinearU8 => RESIZE_SLOTS,
            Family::Warp if self == Kernel::FaceQuality => QUALITY_SLOTS,
            Family::Warp => WARP_SLOTS,
            Family::Detect => DETECT_SLOTS,
            Family::Roi if self == Kernel::ProjectLandmarks => LANDMARK_SLOTS,
            Family::Roi => REGION_SLOTS,
            Family::WarpF64 if self == Kernel::FaceWarpF64 => FACE_WARP_SLOTS,
            Family::WarpF64 => WARP_F64_SLOTS,
        }
    }

    /// Invocations per workgroup.
    pub fn workgroup_size(self) -> u32 {
        match self {
            Kernel::PointwiseTiled | Kernel::DetectFaces | Kernel::FaceQuality => 256,
            Kernel::FaceRegions | Kernel::FaceWarpF64 => 1,
            _ => LINEAR_WORKGROUP_SIZE,
        }
    }

    fn index(self) -> usize {
        Kernel::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

pub(crate) struct CompiledKernel {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

/// The compiled pipelines, one per [`Kernel`].
pub struct PipelineCache {
    /// Indexed like `Kernel::ALL`; None where the device lacks a feature the kernel needs.
    kernels: Vec<Option<CompiledKernel>>,
}

impl PipelineCache {
    pub(crate) fn new(device: &wgpu::Device) -> Result<Self> {
        let has_f64 = device.features().contains(wgpu::Features::SHADER_F64);
        let modules: Vec<(Family, wgpu::ShaderModule)> = Family::ALL
            .iter()
            .filter(|family| has_f64 || !family.needs_f64())
            .map(|family| {
                let source = family.source();
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(family.file_name()),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                });
                (*family, module)
            })
            .collect();
        let mut kernels = Vec::with_capacity(Kernel::ALL.len());
        for kernel in Kernel::ALL {
            let module = modules.iter().find(|(family, _)| *family == kernel.family()).map(|(_, module)| module);
            kernels.push(module.map(|module| compile(device, module, kernel)));
        }
        Ok(PipelineCache { kernels })
    }

    pub(crate) fn get(&self, kernel: Kernel) -> Result<&CompiledKernel> {
        self.kernels[kernel.index()].as_ref().ok_or_else(|| Error::Gpu {
            during: "binding a dispatch",
            message: format!("{} needs a device feature this adapter lacks (SHADER_F64)", kernel.entry_point()),
        })
    }

    /// Whether the kernel was compiled on this device.
    pub fn has(&self, kernel: Kernel) -> bool {
        self.kernels[kernel.index()].is_some()
    }

    /// Runs every pipeline once on dummy buffers with all-zero parameters (each kernel
    /// returns at once): lavapipe compiles a pipeline's machine code at its first
    /// dispatch, 30-130 ms each (shared/PERF_NOTES.md), and this moves that cost here.
    pub(crate) fn warm_up(&self, gpu: &Gpu) -> Result<()> {
        let dummy = |usage| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("warm-up"),
                // Large enough for every fixed-size binding (warp.wgsl's 256-entry table).
                size: 4096,
                usage,
                mapped_at_creation: false,
            })
        };
        let params = dummy(wgpu::BufferUsages::UNIFORM);
        let storage = [dummy(wgpu::BufferUsages::STORAGE), dummy(wgpu::BufferUsages::STORAGE)];
        let mut encoder = gpu.encoder("warm-up");
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("warm-up"),
                timestamp_writes: None,
            });
            for kernel in Kernel::ALL {
                let Ok(compiled) = self.get(kernel) else { continue };
                let entries: Vec<wgpu::BindGroupEntry> = kernel
                    .slots()
                    .iter()
                    .map(|(binding, slot)| wgpu::BindGroupEntry {
                        binding: *binding,
                        resource: match slot {
                            Uniform => params.as_entire_binding(),
                            Read => storage[0].as_entire_binding(),
                            ReadWrite => storage[1].as_entire_binding(),
                        },
                    })
                    .collect();
                let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("warm-up"),
                    layout: &compiled.layout,
                    entries: &entries,
                });
                pass.set_pipeline(&compiled.pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(1, 1, 1);
            }
        }
        gpu.submit_and_wait(encoder)
    }
}

fn compile(device: &wgpu::Device, module: &wgpu::ShaderModule, kernel: Kernel) -> CompiledKernel {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = kernel
        .slots()
        .iter()
        .map(|(binding, slot)| wgpu::BindGroupLayoutEntry {
            binding: *binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: match slot {
                Uniform => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                Read | ReadWrite => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: *slot == Read },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
            },
            count: None,
        })
        .collect();
    let label = kernel.entry_point();
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: Some(&pipeline_layout),
        module,
        entry_point: Some(kernel.entry_point()),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: kernel.constants(),
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    });
    CompiledKernel { pipeline, layout }
}
