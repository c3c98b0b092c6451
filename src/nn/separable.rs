//! The depthwise-separable residual block of BlazeFace and Face Mesh as one dispatch
//! (shaders/separable.wgsl): `act(pw(dw3x3(x)) + skip)` with skip = x or its 2x2 max pool,
//! zero channels appended.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Kernel, Tensor};
use crate::nn::conv::{Conv2dDesc, Padding};
use crate::nn::layer::{Activation, channel_params, check_io, check_len, gemm_weights};
use crate::tensor::Shape;

/// Output pixels per workgroup and the widest input (`TILE_PIXELS`, `MAX_IN_C4` in
/// separable.wgsl).
const TILE_PIXELS: u64 = 32;
pub const MAX_INPUT_CHANNELS: u32 = 128;

/// Parameters of separable.wgsl (`SeparableParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SeparableParams {
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
    in_channels: u32,
    out_channels: u32,
    stride: u32,
    depthwise: wgpu::Buffer,
    depthwise_bias: wgpu::Buffer,
    pointwise: wgpu::Buffer,
    channel_params: wgpu::Buffer,
    activation: u32,
}

impl SeparableBlock {
    /// Whether a block of these widths fits the kernel (the skip path needs out >= in).
    pub fn supports(in_channels: u32, out_channels: u32) -> bool {
        (1..=MAX_INPUT_CHANNELS).contains(&in_channels) && out_channels >= in_channels
    }

    pub fn new(gpu: &Gpu, in_channels: u32, out_channels: u32, stride: u32, weights: &SeparableWeights<'_>, activation: Activation) -> Result<Self> {
        if !Self::supports(in_channels, out_channels) || !(1..=2).contains(&stride) {
            return Err(Error::shape(
                "separable_block",
                format!("{in_channels} -> {out_channels} channels, stride {stride}: needs 1..={MAX_INPUT_CHANNELS} inputs, out >= in, stride 1 or 2"),
            ));
        }
        let (c, o) = (in_channels as usize, out_channels as usize);
        check_len("separable_block", "depthwise weights", weights.depthwise.len(), c * 9)?;
        check_len("separable_block", "depthwise bias", weights.depthwise_bias.len(), c)?;
        check_len("separable_block", "pointwise weights", weights.pointwise.len(), c * o)?;
        let c4 = c.div_ceil(4) * 4;
        let mut taps = vec![0.0f32; 9 * c4];
        for channel in 0..c {
            for t in 0..9 {
                taps[t * c4 + channel] = weights.depthwise[channel * 9 + t];
            }
        }
        let mut dw_bias = vec![0.0f32; c4];
        dw_bias[..c].copy_from_slice(weights.depthwise_bias);
        Ok(SeparableBlock {
            in_channels,
            out_channels,
            stride,
            depthwise: gpu.constant_buffer("separable depthwise", &taps)?,
            depthwise_bias: gpu.constant_buffer("separable depthwise bias", &dw_bias)?,
            pointwise: gpu.constant_buffer("separable pointwise", &gemm_weights(weights.pointwise, c, o, |i| i, c4))?,
            channel_params: channel_params(gpu, "separable_block", out_channels, Some(weights.pointwise_bias), &activation)?,
            activation: activation.code(),
        })
    }

    /// TFLite SAME geometry of the depthwise step for `input`.
    fn depthwise_desc(&self, input: Shape) -> Conv2dDesc {
        let padding = Padding::same(input.height, input.width, 3, 3, self.stride);
        Conv2dDesc::new(self.in_channels, self.in_channels, 3, self.stride, padding).with_groups(self.in_channels)
    }

    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        Ok(Shape { channels: self.out_channels, ..self.depthwise_desc(input).output_shape(input)? })
    }

    pub fn bind(&self, gpu: &Gpu, input: &Tensor, output: &Tensor) -> Result<Dispatch> {
        let in_shape = input.shape();
        let desc = self.depthwise_desc(in_shape);
        let out = self.output_shape(in_shape)?;
        check_io("separable_block", input, in_shape, output, out, None)?;
        let params = SeparableParams {
            batch: out.batch,
            in_h: in_shape.height,
            in_w: in_shape.width,
            in_c: self.in_channels,
            out_h: out.height,
            out_w: out.width,
            out_c: self.out_channels,
            stride: self.stride,
            pad_top: desc.padding.top,
            pad_left: desc.padding.left,
            activation: self.activation,
            weight_c4: self.out_channels.div_ceil(8) * 2,
        };
        gpu.dispatch(
            Kernel::SeparableBlock,
            bytemuck::bytes_of(&params),
            &[input.buffer(), &self.depthwise, &self.depthwise_bias, &self.pointwise, &self.channel_params, output.buffer()],
            out.pixels().div_ceil(TILE_PIXELS),
        )
    }
}
