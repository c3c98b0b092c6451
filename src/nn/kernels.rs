//! The layers' kernels, one table: for each, the entry point, its WGSL file, the override
//! constants that specialise it, its bindings and workgroup size, and the parameter struct
//! its launcher fills. `tests/shaders.rs` holds every entry against naga's reflection of
//! the WGSL (entry point, bindings, workgroup size, parameter struct size).

use std::mem::size_of;

use crate::gpu::{Kernel, KernelSpec, LINEAR_WORKGROUP, Shader, Slot};
use crate::nn::conv::ConvParams;
use crate::nn::dense::DenseParams;
use crate::nn::depthwise::DepthwiseParams;
use crate::nn::elementwise::ElementwiseParams;
use crate::nn::pointwise::PointwiseParams;
use crate::nn::pool::PoolParams;
use crate::nn::separable::SeparableParams;
use Slot::{Read, ReadWrite, Uniform};

/// Prepends shaders/common.wgsl (activations, index helpers) to a family's file.
macro_rules! shader {
    ($file:literal) => {
        Shader {
            file: $file,
            source: concat!(include_str!("../../shaders/common.wgsl"), "\n", include_str!(concat!("../../shaders/", $file))),
            features: wgpu::Features::empty(),
        }
    };
}

static CONV: Shader = shader!("conv.wgsl");
static DEPTHWISE: Shader = shader!("depthwise.wgsl");
static POINTWISE: Shader = shader!("pointwise.wgsl");
static POOL: Shader = shader!("pool.wgsl");
static ELEMENTWISE: Shader = shader!("elementwise.wgsl");
static DENSE: Shader = shader!("dense.wgsl");
static SEPARABLE: Shader = shader!("separable.wgsl");

/// The shader modules of the layers.
pub static SHADERS: &[&Shader] = &[&CONV, &DEPTHWISE, &POINTWISE, &POOL, &ELEMENTWISE, &DENSE, &SEPARABLE];

// Bindings: 0 is the parameter uniform; the rest follow each launcher's buffer order.
const CONV_GROUPED_BINDINGS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (5, ReadWrite)];
const CONV_DENSE_BINDINGS: &[(u32, Slot)] = &[(0, Uniform), (6, Read), (7, Read), (3, Read), (4, Read), (5, ReadWrite)];
const LAYER_BINDINGS: &[(u32, Slot)] = CONV_GROUPED_BINDINGS;
const POINTWISE_NAIVE_BINDINGS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (6, ReadWrite)];
const POOL_BINDINGS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (2, ReadWrite)];
const DENSE_BINDINGS: &[(u32, Slot)] = &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, ReadWrite)];
const SEPARABLE_BINDINGS: &[(u32, Slot)] =
    &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (5, Read), (6, Read), (7, ReadWrite)];

const LINEAR: [u32; 3] = LINEAR_WORKGROUP;

/// A kernel of `shader` with no specialisation.
const fn plain(name: &'static str, shader: &'static Shader, bindings: &'static [(u32, Slot)], workgroup_size: [u32; 3], params_bytes: usize) -> KernelSpec {
    KernelSpec { name, entry_point: name, shader, constants: &[], bindings, workgroup_size, params_bytes: params_bytes as u64 }
}

/// One output pixel group per invocation, every kernel size, stride, padding and group count.
pub static CONV2D_GROUPED: KernelSpec = plain("conv2d_grouped", &CONV, CONV_GROUPED_BINDINGS, LINEAR, size_of::<ConvParams>());
/// Dense convolution, 4 pixels x 1 channel group per invocation (GPUs).
pub static CONV2D_DENSE: KernelSpec = plain("conv2d_dense", &CONV, CONV_DENSE_BINDINGS, LINEAR, size_of::<ConvParams>());
/// Dense convolution, 4 pixels x 16 output channels per invocation (CPU adapters).
pub static CONV2D_DENSE_WIDE: KernelSpec = plain("conv2d_dense_wide", &CONV, CONV_DENSE_BINDINGS, LINEAR, size_of::<ConvParams>());

const fn stem(name: &'static str, constants: &'static [(&'static str, f64)]) -> KernelSpec {
    KernelSpec { name, entry_point: "conv2d_stem", shader: &CONV, constants, bindings: CONV_DENSE_BINDINGS, workgroup_size: LINEAR, params_bytes: size_of::<ConvParams>() as u64 }
}
/// `conv2d_stem` specialised to BlazeFace's stem (5x5, 24 outputs).
pub static CONV2D_STEM_5X5_24: KernelSpec = stem("conv2d_stem_5x5_24", &[("stem_kernel", 5.0), ("stem_out_c4", 6.0)]);
/// `conv2d_stem` specialised to Face Mesh's stem (3x3, 16 outputs).
pub static CONV2D_STEM_3X3_16: KernelSpec = stem("conv2d_stem_3x3_16", &[("stem_kernel", 3.0), ("stem_out_c4", 4.0)]);
/// `conv2d_stem` specialised to MiniFASNet's conv1 (3x3, 32 outputs).
pub static CONV2D_STEM_3X3_32: KernelSpec = stem("conv2d_stem_3x3_32", &[("stem_kernel", 3.0), ("stem_out_c4", 8.0)]);

const fn depthwise(name: &'static str, constants: &'static [(&'static str, f64)]) -> KernelSpec {
    KernelSpec { name, entry_point: "depthwise", shader: &DEPTHWISE, constants, bindings: LAYER_BINDINGS, workgroup_size: LINEAR, params_bytes: size_of::<DepthwiseParams>() as u64 }
}
/// Depthwise 3x3, 4 output pixels per invocation.
pub static DEPTHWISE_3X3: KernelSpec = depthwise("depthwise_3x3", &[("kernel_size", 3.0)]);
/// Depthwise 5x5, 4 output pixels per invocation.
pub static DEPTHWISE_5X5: KernelSpec = depthwise("depthwise_5x5", &[("kernel_size", 5.0)]);

/// One output value per invocation: the baseline.
pub static POINTWISE_NAIVE: KernelSpec = plain("pointwise_naive", &POINTWISE, POINTWISE_NAIVE_BINDINGS, LINEAR, size_of::<PointwiseParams>());
/// 8 pixels x 8 output channels per invocation in registers.
pub static POINTWISE_BLOCKED: KernelSpec = plain("pointwise_blocked", &POINTWISE, LAYER_BINDINGS, LINEAR, size_of::<PointwiseParams>());
/// 16 pixels x 16 output channels per invocation in registers.
pub static POINTWISE_WIDE: KernelSpec = plain("pointwise_wide", &POINTWISE, LAYER_BINDINGS, LINEAR, size_of::<PointwiseParams>());
/// 64 x 64 output tiles staged through workgroup memory.
pub static POINTWISE_TILED: KernelSpec = plain("pointwise_tiled", &POINTWISE, LAYER_BINDINGS, [256, 1, 1], size_of::<PointwiseParams>());

/// 2x2 max pool, stride 2 (TFLite SAME or VALID).
pub static MAX_POOL_2X2: KernelSpec = plain("max_pool_2x2", &POOL, POOL_BINDINGS, LINEAR, size_of::<PoolParams>());
/// Mean over the pixels of each channel.
pub static GLOBAL_AVERAGE_POOL: KernelSpec = plain("global_average_pool", &POOL, POOL_BINDINGS, LINEAR, size_of::<PoolParams>());

/// a + b, then the activation.
pub static ADD: KernelSpec = plain("add", &ELEMENTWISE, LAYER_BINDINGS, LINEAR, size_of::<ElementwiseParams>());
/// Zero-padded channels.
pub static CHANNEL_PAD: KernelSpec = plain("channel_pad", &ELEMENTWISE, LAYER_BINDINGS, LINEAR, size_of::<ElementwiseParams>());
/// Per-channel scale (squeeze-excitation) with the residual fused.
pub static CHANNEL_SCALE: KernelSpec = plain("channel_scale", &ELEMENTWISE, LAYER_BINDINGS, LINEAR, size_of::<ElementwiseParams>());

/// Fully connected layer.
pub static DENSE_LAYER: KernelSpec = plain("dense", &DENSE, DENSE_BINDINGS, LINEAR, size_of::<DenseParams>());
/// Softmax over each row.
pub static SOFTMAX: KernelSpec = plain("softmax", &DENSE, DENSE_BINDINGS, LINEAR, size_of::<DenseParams>());

/// A whole depthwise-separable residual block in one dispatch.
pub static SEPARABLE_BLOCK: KernelSpec = plain("separable_block", &SEPARABLE, SEPARABLE_BINDINGS, LINEAR, size_of::<SeparableParams>());

/// Every kernel of the layers, for [`crate::gpu::Gpu::prepare`].
pub static KERNELS: &[Kernel] = &[
    &CONV2D_GROUPED,
    &CONV2D_DENSE,
    &CONV2D_DENSE_WIDE,
    &CONV2D_STEM_5X5_24,
    &CONV2D_STEM_3X3_16,
    &CONV2D_STEM_3X3_32,
    &DEPTHWISE_3X3,
    &DEPTHWISE_5X5,
    &POINTWISE_NAIVE,
    &POINTWISE_BLOCKED,
    &POINTWISE_WIDE,
    &POINTWISE_TILED,
    &MAX_POOL_2X2,
    &GLOBAL_AVERAGE_POOL,
    &ADD,
    &CHANNEL_PAD,
    &CHANNEL_SCALE,
    &DENSE_LAYER,
    &SOFTMAX,
    &SEPARABLE_BLOCK,
];
