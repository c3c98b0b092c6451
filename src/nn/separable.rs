//! A depthwise-separable block as one dispatch (shaders/separable.wgsl):
//! `act(pw(dw_act(dw3x3(x))) + skip)`, the skip none, the block's input (max-pooled at
//! stride 2, zero channels appended: BlazeFace and Face Mesh) or a residual tensor
//! (MiniFASNet's Depth_Wise).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Tensor};
use crate::nn::kernels;
use crate::nn::conv::{Conv2dDesc, Padding};
use crate::nn::layer::{Activation, channel_params, check_io, check_len, gemm_weights, residual_binding};
use crate::tensor::Shape;

/// vec4 values of the workgroup tile (`TILE_VALUES` in separable.wgsl): tile pixels x
/// input channel groups.
const TILE_VALUES: u32 = 1024;
/// The widest input: a tile of 8 pixels x 128 channel groups.
pub const MAX_INPUT_CHANNELS: u32 = 512;

/// Parameters of separable.wgsl (`SeparableParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct SeparableParams {
    batch: u32,
    in_h: u32,
    in_w: u32,
    in_c: u32,
    out_h: u32,
    out_w: u32,
    out_c: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    activation: u32,
    weight_c4: u32,
    dw_activation: u32,
    skip: u32,
    residual_c: u32,
    tile_pixels: u32,
}

/// Where a block's skip connection comes from (`SKIP_*` in separable.wgsl).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    None = 0,
    /// The block's input, max-pooled 2x2 at stride 2, zero channels appended up to the
    /// output's (the MediaPipe block; needs out >= in channels and SAME padding).
    Input = 1,
    /// A tensor of the output's pixels bound with the block (missing channels add zero).
    Residual = 2,
}

/// The geometry of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeparableDesc {
    pub in_channels: u32,
    pub out_channels: u32,
    pub stride: u32,
    /// The depthwise padding; None for TFLite SAME on the input's size.
    pub padding: Option<Padding>,
    pub skip: Skip,
}

/// The weights of one block, as in weights/: depthwise `[C,1,3,3]` + `[C]`, pointwise
/// `[out, C]` (1x1 OIHW) + `[out]`.
pub struct SeparableWeights<'a> {
    pub depthwise: &'a [f32],
    pub depthwise_bias: &'a [f32],
    pub pointwise: &'a [f32],
    pub pointwise_bias: &'a [f32],
}

pub struct SeparableBlock {
    desc: SeparableDesc,
    depthwise: wgpu::Buffer,
    depthwise_params: wgpu::Buffer,
    pointwise: wgpu::Buffer,
    channel_params: wgpu::Buffer,
    depthwise_activation: u32,
    activation: u32,
}

impl SeparableBlock {
    /// Whether a block fits the kernel.
    pub fn supports(in_channels: u32, out_channels: u32, skip: Skip) -> bool {
        (1..=MAX_INPUT_CHANNELS).contains(&in_channels) && out_channels >= 1 && (skip != Skip::Input || out_channels >= in_channels)
    }

    /// The MediaPipe block: SAME padding, the input as skip, no depthwise activation.
    pub fn new(gpu: &Gpu, in_channels: u32, out_channels: u32, stride: u32, weights: &SeparableWeights<'_>, activation: Activation) -> Result<Self> {
        let desc = SeparableDesc { in_channels, out_channels, stride, padding: None, skip: Skip::Input };
        Self::with_desc(gpu, desc, weights, Activation::None, activation)
    }

    /// Any block: `depthwise_activation` after the depthwise step (None or PReLU),
    /// `activation` after the skip is added.
    pub fn with_desc(gpu: &Gpu, desc: SeparableDesc, weights: &SeparableWeights<'_>, depthwise_activation: Activation, activation: Activation) -> Result<Self> {
        let (in_channels, out_channels, stride) = (desc.in_channels, desc.out_channels, desc.stride);
        let same_with_input_skip = desc.skip != Skip::Input || desc.padding.is_none();
        if !Self::supports(in_channels, out_channels, desc.skip) || !(1..=2).contains(&stride) || !same_with_input_skip {
            return Err(Error::shape(
                "separable_block",
                format!(
                    "{in_channels} -> {out_channels} channels, stride {stride}, skip {:?}: needs 1..={MAX_INPUT_CHANNELS} inputs, stride 1 or 2, and with the input as skip out >= in and SAME padding",
                    desc.skip
                ),
            ));
        }
        let (c, o) = (in_channels as usize, out_channels as usize);
        check_len("separable_block", "depthwise weights", weights.depthwise.len(), c * 9)?;
        check_len("separable_block", "pointwise weights", weights.pointwise.len(), c * o)?;
        let c4 = c.div_ceil(4) * 4;
        let mut taps = vec![0.0f32; 9 * c4];
        for channel in 0..c {
            for t in 0..9 {
                taps[t * c4 + channel] = weights.depthwise[channel * 9 + t];
            }
        }
        Ok(SeparableBlock {
            desc,
            depthwise: gpu.constant_buffer("separable depthwise", &taps)?,
            depthwise_params: channel_params(gpu, "separable_block depthwise", in_channels, Some(weights.depthwise_bias), &depthwise_activation)?,
            pointwise: gpu.constant_buffer("separable pointwise", &gemm_weights(weights.pointwise, c, o, |i| i, c4))?,
            channel_params: channel_params(gpu, "separable_block", out_channels, Some(weights.pointwise_bias), &activation)?,
            depthwise_activation: depthwise_activation.code(),
            activation: activation.code(),
        })
    }

    /// The geometry of the depthwise step for `input`.
    fn depthwise_desc(&self, input: Shape) -> Conv2dDesc {
        let (c, stride) = (self.desc.in_channels, self.desc.stride);
        let padding = self.desc.padding.unwrap_or_else(|| Padding::same(input.height, input.width, 3, 3, stride));
        Conv2dDesc::new(c, c, 3, stride, padding).with_groups(c)
    }

    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        Ok(Shape { channels: self.desc.out_channels, ..self.depthwise_desc(input).output_shape(input)? })
    }

    /// Binds the block to `input` -> `output`; `residual` exactly when the skip is
    /// [`Skip::Residual`].
    pub fn bind(&self, gpu: &Gpu, input: &Tensor, output: &Tensor, residual: Option<&Tensor>) -> Result<Dispatch> {
        let in_shape = input.shape();
        let desc = self.depthwise_desc(in_shape);
        let out = self.output_shape(in_shape)?;
        check_io("separable_block", input, Shape { channels: self.desc.in_channels, ..in_shape }, output, out, residual)?;
        if residual.is_some() != (self.desc.skip == Skip::Residual) {
            return Err(Error::shape("separable_block", format!("skip {:?} with residual {}", self.desc.skip, residual.is_some())));
        }
        let (residual_c, residual_buffer) = residual_binding(gpu, residual);
        let in_c4 = self.desc.in_channels.div_ceil(4);
        // As many whole 8-pixel blocks as the tile holds at this width, at most 32 pixels.
        let tile_pixels = (TILE_VALUES / in_c4 / 8 * 8).clamp(8, 32);
        let params = SeparableParams {
            batch: out.batch,
            in_h: in_shape.height,
            in_w: in_shape.width,
            in_c: self.desc.in_channels,
            out_h: out.height,
            out_w: out.width,
            out_c: self.desc.out_channels,
            stride: self.desc.stride,
            pad_top: desc.padding.top,
            pad_left: desc.padding.left,
            activation: self.activation,
            weight_c4: self.desc.out_channels.div_ceil(8) * 2,
            dw_activation: self.depthwise_activation,
            skip: self.desc.skip as u32,
            residual_c,
            tile_pixels,
        };
        gpu.dispatch(
            &kernels::SEPARABLE_BLOCK,
            bytemuck::bytes_of(&params),
            &[input.buffer(), &self.depthwise, &self.depthwise_params, &self.pointwise, &self.channel_params, residual_buffer, output.buffer()],
            out.pixels().div_ceil(tile_pixels as u64),
        )
    }
}
