//! Depthwise convolution specialised for 3x3 and 5x5 (shaders/depthwise.wgsl).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Kernel, Tensor};
use crate::nn::kernels;
use crate::nn::conv::{Conv2dDesc, Padding};
use crate::nn::layer::{Activation, channel_params, check_io, check_len, residual_binding};

/// Parameters of depthwise.wgsl (`DepthwiseParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct DepthwiseParams {
    batch: u32,
    in_h: u32,
    in_w: u32,
    channels: u32,
    out_h: u32,
    out_w: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    activation: u32,
    residual_c: u32,
    _padding: u32,
}

/// Output pixels per invocation (`PIXELS_PER_INVOCATION` in depthwise.wgsl).
const PIXELS_PER_INVOCATION: u64 = 4;

pub struct Depthwise {
    desc: Conv2dDesc,
    kernel: Kernel,
    weights: wgpu::Buffer,
    channel_params: wgpu::Buffer,
    activation: u32,
}

impl Depthwise {
    /// Kernel sizes with a specialised pipeline.
    pub fn supports(kernel_size: u32) -> bool {
        matches!(kernel_size, 3 | 5)
    }

    /// `weights` are `[channels][1][k][k]` (PyTorch's depthwise layout, that of weights/).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        gpu: &Gpu,
        channels: u32,
        kernel_size: u32,
        stride: u32,
        padding: Padding,
        weights: &[f32],
        bias: Option<&[f32]>,
        activation: Activation,
    ) -> Result<Self> {
        let kernel = match kernel_size {
            3 => &kernels::DEPTHWISE_3X3,
            5 => &kernels::DEPTHWISE_5X5,
            k => return Err(Error::shape("depthwise", format!("no specialised {k}x{k} kernel (3 and 5 exist; use Conv2d)"))),
        };
        let desc = Conv2dDesc::new(channels, channels, kernel_size, stride, padding).with_groups(channels);
        desc.validate()?;
        let taps = (kernel_size * kernel_size) as usize;
        check_len("depthwise", "weights", weights.len(), channels as usize * taps)?;
        // [c][tap] -> [tap][c padded to 4]
        let stride_c = channels.div_ceil(4) as usize * 4;
        let mut packed = vec![0.0f32; taps * stride_c];
        for c in 0..channels as usize {
            for t in 0..taps {
                packed[t * stride_c + c] = weights[c * taps + t];
            }
        }
        Ok(Depthwise {
            desc,
            kernel,
            weights: gpu.constant_buffer("depthwise weights", &packed)?,
            channel_params: channel_params(gpu, "depthwise", channels, bias, &activation)?,
            activation: activation.code(),
        })
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    pub fn bind(&self, gpu: &Gpu, input: &Tensor, output: &Tensor, residual: Option<&Tensor>) -> Result<Dispatch> {
        let out = self.desc.output_shape(input.shape())?;
        check_io("depthwise", input, input.shape(), output, out, residual)?;
        let (residual_c, residual_buffer) = residual_binding(gpu, residual);
        let params = DepthwiseParams {
            batch: out.batch,
            in_h: input.shape().height,
            in_w: input.shape().width,
            channels: self.desc.in_channels,
            out_h: out.height,
            out_w: out.width,
            stride: self.desc.stride,
            pad_top: self.desc.padding.top,
            pad_left: self.desc.padding.left,
            activation: self.activation,
            residual_c,
            _padding: 0,
        };
        let invocations = out.batch as u64
            * out.height as u64
            * (out.width as u64).div_ceil(PIXELS_PER_INVOCATION)
            * out.channel_groups() as u64;
        gpu.dispatch(
            self.kernel,
            bytemuck::bytes_of(&params),
            &[input.buffer(), &self.weights, &self.channel_params, residual_buffer, output.buffer()],
            invocations.div_ceil(self.kernel.invocations() as u64),
        )
    }
}
