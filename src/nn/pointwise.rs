//! Pointwise (1x1) convolution as a matrix multiply (shaders/pointwise.wgsl).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Kernel, Tensor};
use crate::nn::{Tuning, kernels};
use crate::nn::layer::{Activation, channel_params, check_io, check_len, gemm_weights, residual_binding};
use crate::tensor::Shape;

/// The kernels of pointwise.wgsl as the layers choose them, selectable per adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointwiseVariant {
    /// One output value per invocation: the baseline the others are measured against.
    Naive,
    /// 8 pixels x 8 output channels per invocation in registers, vec4 loads; layers where
    /// a 16-channel block wastes little run [`PointwiseVariant::Wide`]'s kernel instead.
    Blocked,
    /// 8 x 8 blocks on every layer, never the wide kernel.
    BlockedNarrow,
    /// 16 pixels x 16 output channels per invocation on every layer.
    Wide,
    /// 64 x 64 output tiles staged through workgroup memory.
    Tiled,
}

impl PointwiseVariant {
    pub const ALL: [PointwiseVariant; 5] =
        [PointwiseVariant::Naive, PointwiseVariant::Blocked, PointwiseVariant::BlockedNarrow, PointwiseVariant::Wide, PointwiseVariant::Tiled];

    /// The kernel for a layer of `out_channels` outputs over `pixels` pixels.
    pub fn kernel(self, out_channels: u32, pixels: u64) -> Kernel {
        match self {
            PointwiseVariant::Naive => &kernels::POINTWISE_NAIVE,
            PointwiseVariant::Blocked if wide_block_fits(out_channels, pixels) => &kernels::POINTWISE_WIDE,
            PointwiseVariant::Blocked | PointwiseVariant::BlockedNarrow => &kernels::POINTWISE_BLOCKED,
            PointwiseVariant::Wide => &kernels::POINTWISE_WIDE,
            PointwiseVariant::Tiled => &kernels::POINTWISE_TILED,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PointwiseVariant::Naive => "naive",
            PointwiseVariant::Blocked => "blocked",
            PointwiseVariant::BlockedNarrow => "blocked_narrow",
            PointwiseVariant::Wide => "wide",
            PointwiseVariant::Tiled => "tiled",
        }
    }

}

/// Whether `pointwise_wide`'s 16 x 16 blocks suit a layer: a multiple of 16 channels, or
/// wide enough (80 and more) that the last block's padding is under a tenth (on 24
/// channels, a third padding, it measured slower than the 8 x 8 block); and enough blocks
/// for four workgroups, so that small layers (MiniFASNet's 5x5 and 10x10) still spread
/// over every thread.
fn wide_block_fits(out_channels: u32, pixels: u64) -> bool {
    let out_c4 = out_channels.div_ceil(4);
    let blocks = pixels.div_ceil(16) * out_c4.div_ceil(4) as u64;
    (out_c4.is_multiple_of(4) || out_c4 >= 20) && blocks >= 4 * 64
}

/// Workgroups of `kernel` covering `pixels` x `weight_c4` channel groups.
fn workgroups(kernel: Kernel, pixels: u64, out_c4: u64, weight_c4: u64) -> u64 {
    if kernel == &kernels::POINTWISE_NAIVE {
        (pixels * out_c4 * 4).div_ceil(64)
    } else if kernel == &kernels::POINTWISE_WIDE {
        (pixels.div_ceil(16) * out_c4.div_ceil(4)).div_ceil(64)
    } else if kernel == &kernels::POINTWISE_TILED {
        pixels.div_ceil(64) * weight_c4.div_ceil(16)
    } else {
        (pixels.div_ceil(8) * (weight_c4 / 2)).div_ceil(64)
    }
}

impl std::str::FromStr for PointwiseVariant {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        PointwiseVariant::ALL
            .into_iter()
            .find(|v| v.name() == text)
            .ok_or_else(|| Error::shape("pointwise", format!("unknown variant {text:?} (naive, blocked, blocked_narrow, wide, tiled)")))
    }
}

/// Parameters of pointwise.wgsl (`PointwiseParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct PointwiseParams {
    pixels: u32,
    in_c4: u32,
    out_c: u32,
    out_c4: u32,
    weight_c4: u32,
    activation: u32,
    residual_c4: u32,
    pool_residual: u32,
    out_w: u32,
    out_h: u32,
    residual_w: u32,
    residual_h: u32,
}

pub struct Pointwise {
    in_channels: u32,
    out_channels: u32,
    variant: PointwiseVariant,
    weights: wgpu::Buffer,
    channel_params: wgpu::Buffer,
    activation: u32,
}

impl Pointwise {
    /// `weights` are `[out][in]` (a 1x1 OIHW kernel). The variant is `tuning`'s.
    pub fn new(gpu: &Gpu, tuning: &Tuning, in_channels: u32, out_channels: u32, weights: &[f32], bias: Option<&[f32]>, activation: Activation) -> Result<Self> {
        if in_channels == 0 || out_channels == 0 {
            return Err(Error::shape("pointwise", format!("zero channels ({in_channels} -> {out_channels})")));
        }
        let (inputs, outputs) = (in_channels as usize, out_channels as usize);
        check_len("pointwise", "weights", weights.len(), inputs * outputs)?;
        let rows = inputs.div_ceil(4) * 4;
        let packed = gemm_weights(weights, inputs, outputs, |i| i, rows);
        Ok(Pointwise {
            in_channels,
            out_channels,
            variant: tuning.pointwise,
            weights: gpu.constant_buffer("pointwise weights", &packed)?,
            channel_params: channel_params(gpu, "pointwise", out_channels, bias, &activation)?,
            activation: activation.code(),
        })
    }

    /// The same layer on another kernel variant.
    pub fn with_variant(mut self, variant: PointwiseVariant) -> Self {
        self.variant = variant;
        self
    }

    pub fn variant(&self) -> PointwiseVariant {
        self.variant
    }

    /// The kernel this layer runs on a large input (small ones may take another variant).
    pub fn kernel(&self) -> Kernel {
        self.variant.kernel(self.out_channels, u64::MAX / 2)
    }

    pub fn output_shape(&self, input: Shape) -> Shape {
        Shape { channels: self.out_channels, ..input }
    }

    /// Binds the layer to `input` -> `output`, adding `residual` (same pixels, at most the
    /// output's channels; missing channels add zero) before the activation.
    pub fn bind(&self, gpu: &Gpu, input: &Tensor, output: &Tensor, residual: Option<&Tensor>) -> Result<Dispatch> {
        self.bind_with(gpu, input, output, residual, false)
    }

    /// As [`Pointwise::bind`], adding the 2x2 max pool (TFLite SAME) of `pooled`, a tensor
    /// of twice the output's size (rounded up) and at most its channels: the skip path of
    /// a stride-2 BlazeFace or Face Mesh block, without a pooling dispatch of its own.
    pub fn bind_with_pooled_residual(&self, gpu: &Gpu, input: &Tensor, output: &Tensor, pooled: &Tensor) -> Result<Dispatch> {
        let (source, out) = (pooled.shape(), output.shape());
        let pooled_shape = crate::nn::max_pool_2x2_shape(source, true);
        if pooled_shape != (Shape { channels: source.channels, ..out }) || source.channels > out.channels {
            return Err(Error::shape("pointwise", format!("residual {source} does not pool 2x2 onto the output {out}")));
        }
        self.bind_with(gpu, input, output, Some(pooled), true)
    }

    fn bind_with(&self, gpu: &Gpu, input: &Tensor, output: &Tensor, residual: Option<&Tensor>, pool_residual: bool) -> Result<Dispatch> {
        let in_shape = input.shape();
        in_shape.check_not_empty("pointwise")?;
        let expected_input = Shape { channels: self.in_channels, ..in_shape };
        let out = self.output_shape(in_shape);
        // A pooled residual has other pixels than the output; its size was checked above.
        check_io("pointwise", input, expected_input, output, out, if pool_residual { None } else { residual })?;
        let (residual_c, residual_buffer) = residual_binding(gpu, residual);
        let residual_shape = residual.map(|r| r.shape()).unwrap_or(out);
        let out_c4 = out.channel_groups();
        let weight_c4 = self.out_channels.div_ceil(8) * 2;
        let pixels = u32::try_from(out.pixels()).map_err(|_| Error::shape("pointwise", format!("{out} has too many pixels")))?;
        let params = PointwiseParams {
            pixels,
            in_c4: in_shape.channel_groups(),
            out_c: self.out_channels,
            out_c4,
            weight_c4,
            activation: self.activation,
            residual_c4: residual_c.div_ceil(4),
            pool_residual: pool_residual as u32,
            out_w: out.width,
            out_h: out.height,
            residual_w: residual_shape.width,
            residual_h: residual_shape.height,
        };
        let kernel = self.variant.kernel(self.out_channels, out.pixels());
        gpu.dispatch(
            kernel,
            bytemuck::bytes_of(&params),
            &[input.buffer(), &self.weights, &self.channel_params, residual_buffer, output.buffer()],
            workgroups(kernel, out.pixels(), out_c4 as u64, weight_c4 as u64),
        )
    }

    /// Multiply-adds x 2 for one input of `pixels` pixels.
    pub fn flops(&self, pixels: u64) -> u64 {
        2 * pixels * self.in_channels as u64 * self.out_channels as u64
    }
}
