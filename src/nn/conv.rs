//! 2D convolution: the general kernel (shaders/conv.wgsl) and the layer that routes each
//! convolution to the fastest kernel that computes it (pointwise, depthwise or general).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Kernel, Tensor};
use crate::nn::layer::{Activation, channel_params, check_io, check_len, residual_binding};
use crate::nn::{Depthwise, Pointwise, Tuning, kernels};
use crate::tensor::Shape;

/// Zero padding on each side of the input, in pixels. Explicit and possibly asymmetric:
/// TFLite's SAME pads bottom/right only on stride 2, PyTorch pads symmetrically.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Padding {
    pub top: u32,
    pub bottom: u32,
    pub left: u32,
    pub right: u32,
}

impl Padding {
    /// No padding (TFLite and PyTorch VALID).
    pub const VALID: Padding = Padding { top: 0, bottom: 0, left: 0, right: 0 };

    /// `p` on every side (PyTorch `padding=p`).
    pub const fn symmetric(p: u32) -> Padding {
        Padding { top: p, bottom: p, left: p, right: p }
    }

    /// TensorFlow's SAME rule (shared/golden/ARCHITECTURES.md, section 0):
    /// out = ceil(in / s), total = max((out - 1) * s + k - in, 0), before = total / 2.
    pub fn same(in_h: u32, in_w: u32, kernel_h: u32, kernel_w: u32, stride: u32) -> Padding {
        let axis = |size: u32, kernel: u32| {
            let out = size.div_ceil(stride.max(1));
            let total = ((out.saturating_sub(1)) * stride + kernel).saturating_sub(size);
            (total / 2, total - total / 2)
        };
        let (top, bottom) = axis(in_h, kernel_h);
        let (left, right) = axis(in_w, kernel_w);
        Padding { top, bottom, left, right }
    }
}

/// The geometry of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dDesc {
    pub in_channels: u32,
    pub out_channels: u32,
    pub kernel_h: u32,
    pub kernel_w: u32,
    pub stride: u32,
    pub padding: Padding,
    /// 1 = dense, in_channels = depthwise (with out_channels = in_channels), anything
    /// dividing both channel counts = grouped.
    pub groups: u32,
}

impl Conv2dDesc {
    /// A square dense convolution.
    pub fn new(in_channels: u32, out_channels: u32, kernel: u32, stride: u32, padding: Padding) -> Self {
        Conv2dDesc { in_channels, out_channels, kernel_h: kernel, kernel_w: kernel, stride, padding, groups: 1 }
    }

    pub fn with_groups(self, groups: u32) -> Self {
        Conv2dDesc { groups, ..self }
    }

    pub fn is_depthwise(&self) -> bool {
        self.groups == self.in_channels && self.out_channels == self.in_channels && self.groups > 1
    }

    pub fn is_pointwise(&self) -> bool {
        self.kernel_h == 1 && self.kernel_w == 1 && self.stride == 1 && self.groups == 1 && self.padding == Padding::VALID
    }

    /// Weights per output channel: (in_channels / groups) * kernel_h * kernel_w.
    pub fn weights_per_output(&self) -> usize {
        (self.in_channels / self.groups.max(1)) as usize * self.kernel_h as usize * self.kernel_w as usize
    }

    pub fn validate(&self) -> Result<()> {
        let fail = |reason: String| Err(Error::shape("conv2d", reason));
        if self.in_channels == 0 || self.out_channels == 0 || self.groups == 0 {
            return fail(format!("zero channels or groups in {self:?}"));
        }
        if !self.in_channels.is_multiple_of(self.groups) || !self.out_channels.is_multiple_of(self.groups) {
            return fail(format!("{} groups do not divide {} -> {} channels", self.groups, self.in_channels, self.out_channels));
        }
        if !(1..=7).contains(&self.kernel_h) || !(1..=7).contains(&self.kernel_w) {
            return fail(format!("kernel {}x{} outside 1..=7", self.kernel_h, self.kernel_w));
        }
        if !(1..=3).contains(&self.stride) {
            return fail(format!("stride {} outside 1..=3", self.stride));
        }
        let p = self.padding;
        if p.top.max(p.bottom) >= self.kernel_h || p.left.max(p.right) >= self.kernel_w {
            return fail(format!("padding {p:?} not smaller than the kernel {}x{}", self.kernel_h, self.kernel_w));
        }
        Ok(())
    }

    /// Output shape for `input`, or an error if the kernel does not fit.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        input.check_not_empty("conv2d")?;
        if input.channels != self.in_channels {
            return Err(Error::shape("conv2d", format!("input {input} has not {} channels", self.in_channels)));
        }
        let axis = |size: u32, before: u32, after: u32, kernel: u32| {
            let padded = size + before + after;
            if padded < kernel { None } else { Some((padded - kernel) / self.stride + 1) }
        };
        let p = self.padding;
        match (axis(input.height, p.top, p.bottom, self.kernel_h), axis(input.width, p.left, p.right, self.kernel_w)) {
            (Some(h), Some(w)) => Ok(Shape { batch: input.batch, height: h, width: w, channels: self.out_channels }),
            _ => Err(Error::shape("conv2d", format!("kernel {}x{} larger than the padded input {input}", self.kernel_h, self.kernel_w))),
        }
    }
}

/// Parameters of conv.wgsl (`ConvParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct ConvParams {
    batch: u32,
    in_h: u32,
    in_w: u32,
    in_c: u32,
    out_h: u32,
    out_w: u32,
    out_c: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    groups: u32,
    activation: u32,
    residual_c: u32,
}

/// A convolution computed by conv.wgsl: `conv2d_dense` when groups = 1, else
/// `conv2d_grouped` (any kernel size, stride, padding).
pub struct GeneralConv {
    desc: Conv2dDesc,
    kernel: Kernel,
    weights: wgpu::Buffer,
    channel_params: wgpu::Buffer,
    activation: u32,
}

/// Output pixels per invocation of `conv2d_dense` (`DENSE_PIXELS` in conv.wgsl).
const DENSE_PIXELS: u64 = 4;
/// Output channel groups per invocation of `conv2d_dense_wide` (conv.wgsl).
const WIDE_C4: u64 = 4;

impl GeneralConv {
    /// `weights` are OIHW: `[out][in / groups][kernel_h][kernel_w]` (PyTorch's layout and
    /// that of weights/).
    pub fn new(gpu: &Gpu, tuning: &Tuning, desc: Conv2dDesc, weights: &[f32], bias: Option<&[f32]>, activation: Activation) -> Result<Self> {
        desc.validate()?;
        let per_output = desc.weights_per_output();
        check_len("conv2d", "weights", weights.len(), desc.out_channels as usize * per_output)?;
        let in_per_group = (desc.in_channels / desc.groups) as usize;
        let (kh, kw) = (desc.kernel_h as usize, desc.kernel_w as usize);
        // Re-lays the OIHW weights out: `place` gives each (o, i, y, x) its new index.
        let relayout = |len: usize, place: &dyn Fn(usize, usize, usize, usize) -> usize| {
            let mut out = vec![0.0f32; len];
            for o in 0..desc.out_channels as usize {
                for i in 0..in_per_group {
                    for y in 0..kh {
                        for x in 0..kw {
                            out[place(o, i, y, x)] = weights[((o * in_per_group + i) * kh + y) * kw + x];
                        }
                    }
                }
            }
            out
        };
        let (kernel, packed) = if desc.groups == 1 {
            // HWIO with input channels padded to 4 and output channels to 4 (vec4 columns).
            let (in_padded, out_padded) = (desc.in_channels.div_ceil(4) as usize * 4, desc.out_channels.div_ceil(4) as usize * 4);
            let hwio = relayout(kh * kw * in_padded * out_padded, &|o, i, y, x| ((y * kw + x) * in_padded + i) * out_padded + o);
            let stem = match (desc.kernel_h, desc.kernel_w, desc.in_channels <= 4, desc.out_channels) {
                (5, 5, true, 24) => Some(&kernels::CONV2D_STEM_5X5_24),
                (3, 3, true, 16) => Some(&kernels::CONV2D_STEM_3X3_16),
                (3, 3, true, 32) => Some(&kernels::CONV2D_STEM_3X3_32),
                _ => None,
            };
            let kernel: Kernel = match stem {
                Some(stem) if tuning.specialised_stems => stem,
                _ if tuning.wide_dense_conv => &kernels::CONV2D_DENSE_WIDE,
                _ => &kernels::CONV2D_DENSE,
            };
            (kernel, hwio)
        } else {
            // O,H,W,I: the grouped kernel's innermost loop runs over input channels.
            let ohwi = relayout(weights.len(), &|o, i, y, x| ((o * kh + y) * kw + x) * in_per_group + i);
            (&kernels::CONV2D_GROUPED as Kernel, ohwi)
        };
        Ok(GeneralConv {
            desc,
            kernel,
            weights: gpu.constant_buffer("conv2d weights", &packed)?,
            channel_params: channel_params(gpu, "conv2d", desc.out_channels, bias, &activation)?,
            activation: activation.code(),
        })
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    pub fn bind(&self, gpu: &Gpu, input: &Tensor, output: &Tensor, residual: Option<&Tensor>) -> Result<Dispatch> {
        let out = self.desc.output_shape(input.shape())?;
        check_io("conv2d", input, input.shape(), output, out, residual)?;
        let (residual_c, residual_buffer) = residual_binding(gpu, residual);
        let d = &self.desc;
        let params = ConvParams {
            batch: out.batch,
            in_h: input.shape().height,
            in_w: input.shape().width,
            in_c: d.in_channels,
            out_h: out.height,
            out_w: out.width,
            out_c: d.out_channels,
            kernel_h: d.kernel_h,
            kernel_w: d.kernel_w,
            stride_h: d.stride,
            stride_w: d.stride,
            pad_top: d.padding.top,
            pad_left: d.padding.left,
            groups: d.groups,
            activation: self.activation,
            residual_c,
        };
        let rows = out.batch as u64 * out.height as u64;
        let pixel_blocks = rows * (out.width as u64).div_ceil(DENSE_PIXELS);
        let invocations = if self.kernel == &kernels::CONV2D_DENSE {
            pixel_blocks * out.channel_groups() as u64
        } else if self.kernel == &kernels::CONV2D_DENSE_WIDE {
            pixel_blocks * (out.channel_groups() as u64).div_ceil(WIDE_C4)
        } else if self.kernel.entry_point == "conv2d_stem" {
            pixel_blocks
        } else {
            rows * out.width as u64 * out.channel_groups() as u64
        };
        gpu.dispatch(
            self.kernel,
            bytemuck::bytes_of(&params),
            &[input.buffer(), &self.weights, &self.channel_params, residual_buffer, output.buffer()],
            invocations.div_ceil(self.kernel.invocations() as u64),
        )
    }
}

/// A convolution layer that runs on the fastest kernel for its geometry: 1x1 stride 1
/// on the pointwise GEMM, depthwise 3x3 / 5x5 on the depthwise kernels, the rest on the
/// general kernel.
pub enum Conv2d {
    Pointwise(Pointwise),
    Depthwise(Depthwise),
    General(GeneralConv),
}

impl Conv2d {
    /// `weights` are OIHW (see [`GeneralConv::new`]).
    pub fn new(gpu: &Gpu, tuning: &Tuning, desc: Conv2dDesc, weights: &[f32], bias: Option<&[f32]>, activation: Activation) -> Result<Self> {
        desc.validate()?;
        if desc.is_pointwise() {
            return Ok(Conv2d::Pointwise(Pointwise::new(gpu, tuning, desc.in_channels, desc.out_channels, weights, bias, activation)?));
        }
        if desc.is_depthwise() && desc.kernel_h == desc.kernel_w && Depthwise::supports(desc.kernel_h) {
            return Ok(Conv2d::Depthwise(Depthwise::new(
                gpu,
                desc.in_channels,
                desc.kernel_h,
                desc.stride,
                desc.padding,
                weights,
                bias,
                activation,
            )?));
        }
        Ok(Conv2d::General(GeneralConv::new(gpu, tuning, desc, weights, bias, activation)?))
    }

    pub fn bind(&self, gpu: &Gpu, input: &Tensor, output: &Tensor, residual: Option<&Tensor>) -> Result<Dispatch> {
        match self {
            Conv2d::Pointwise(layer) => layer.bind(gpu, input, output, residual),
            Conv2d::Depthwise(layer) => layer.bind(gpu, input, output, residual),
            Conv2d::General(layer) => layer.bind(gpu, input, output, residual),
        }
    }

    /// The kernel this layer runs.
    pub fn kernel(&self) -> Kernel {
        match self {
            Conv2d::Pointwise(layer) => layer.kernel(),
            Conv2d::Depthwise(layer) => layer.kernel(),
            Conv2d::General(layer) => layer.kernel(),
        }
    }
}
