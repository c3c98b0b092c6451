//! Add, channel zero-padding and per-channel scale (shaders/elementwise.wgsl).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Kernel, Tensor};
use crate::nn::kernels;
use crate::nn::layer::{Activation, channel_params, check_io};
use crate::tensor::Shape;

/// Parameters of elementwise.wgsl (`ElementwiseParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct ElementwiseParams {
    pixels: u32,
    channels: u32,
    in_c: u32,
    activation: u32,
    pixels_per_batch: u32,
    has_residual: u32,
    _padding: [u32; 2],
}

fn launch(gpu: &Gpu, kernel: Kernel, params: ElementwiseParams, buffers: &[&wgpu::Buffer]) -> Result<Dispatch> {
    let invocations = params.pixels as u64 * params.channels.div_ceil(4) as u64;
    gpu.dispatch(kernel, bytemuck::bytes_of(&params), buffers, invocations.div_ceil(kernel.invocations() as u64))
}

fn pixels(shape: Shape, op: &'static str) -> Result<u32> {
    shape.check_not_empty(op)?;
    u32::try_from(shape.pixels()).map_err(|_| Error::shape(op, format!("{shape} has too many pixels")))
}

/// `output = activation(a + b)`, all three of one shape.
pub fn add(gpu: &Gpu, a: &Tensor, b: &Tensor, output: &Tensor, activation: &Activation) -> Result<Dispatch> {
    let shape = a.shape();
    check_io("add", a, shape, output, shape, None)?;
    check_io("add", b, shape, output, shape, None)?;
    let params = ElementwiseParams {
        pixels: pixels(shape, "add")?,
        channels: shape.channels,
        in_c: shape.channels,
        activation: activation.code(),
        pixels_per_batch: 1,
        has_residual: 0,
        _padding: [0; 2],
    };
    let slopes = channel_params(gpu, "add", shape.channels, None, activation)?;
    launch(gpu, &kernels::ADD, params, &[a.buffer(), b.buffer(), &slopes, &gpu.empty, output.buffer()])
}

/// Copies `input` into `output`, which has the same pixels and at least as many channels;
/// the extra channels (appended at the end) are zero.
pub fn channel_pad(gpu: &Gpu, input: &Tensor, output: &Tensor) -> Result<Dispatch> {
    let (i, o) = (input.shape(), output.shape());
    if o.channels < i.channels {
        return Err(Error::shape("channel_pad", format!("output {o} has fewer channels than the input {i}")));
    }
    check_io("channel_pad", input, i, output, Shape { channels: o.channels, ..i }, None)?;
    let params = ElementwiseParams {
        pixels: pixels(o, "channel_pad")?,
        channels: o.channels,
        in_c: i.channels,
        activation: 0,
        pixels_per_batch: 1,
        has_residual: 0,
        _padding: [0; 2],
    };
    launch(gpu, &kernels::CHANNEL_PAD, params, &[input.buffer(), &gpu.empty, &gpu.empty, &gpu.empty, output.buffer()])
}

/// `output = input * scale[n, c] (+ residual)`: scale is [n, 1, 1, c] (squeeze-excitation).
pub fn channel_scale(gpu: &Gpu, input: &Tensor, scale: &Tensor, residual: Option<&Tensor>, output: &Tensor) -> Result<Dispatch> {
    let shape = input.shape();
    let expected_scale = Shape { height: 1, width: 1, ..shape };
    if scale.shape() != expected_scale {
        return Err(Error::shape("channel_scale", format!("scale is {}, {expected_scale} expected", scale.shape())));
    }
    check_io("channel_scale", input, shape, output, shape, None)?;
    if let Some(r) = residual {
        check_io("channel_scale", r, shape, output, shape, None)?;
    }
    let params = ElementwiseParams {
        pixels: pixels(shape, "channel_scale")?,
        channels: shape.channels,
        in_c: shape.channels,
        activation: 0,
        pixels_per_batch: shape.height * shape.width,
        has_residual: residual.is_some() as u32,
        _padding: [0; 2],
    };
    let residual_buffer = residual.map(Tensor::buffer).unwrap_or(&gpu.empty);
    launch(gpu, &kernels::CHANNEL_SCALE, params, &[input.buffer(), scale.buffer(), &gpu.empty, residual_buffer, output.buffer()])
}
