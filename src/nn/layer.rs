//! What every layer shares: activations, the per-channel parameter buffer, weight
//! re-layout for the GEMM kernels, and argument checks.

use crate::error::{Error, Result};
use crate::gpu::{Gpu, Tensor};
use crate::tensor::Shape;

/// The activation fused at the end of a layer (after bias and residual).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Activation {
    #[default]
    None,
    Relu,
    Relu6,
    /// `x if x >= 0 else slope[c] * x`, one slope per output channel (negative slopes
    /// occur in Face Mesh and MiniFASNet; no clamping).
    PRelu(Vec<f32>),
    Sigmoid,
}

impl Activation {
    /// The code shaders/common.wgsl switches on (`ACTIVATION_*`).
    pub fn code(&self) -> u32 {
        match self {
            Activation::None => 0,
            Activation::Relu => 1,
            Activation::Relu6 => 2,
            Activation::PRelu(_) => 3,
            Activation::Sigmoid => 4,
        }
    }

    /// The activation of channel `channel`, in f64 (the CPU reference).
    pub fn apply(&self, x: f64, channel: usize) -> f64 {
        match self {
            Activation::None => x,
            Activation::Relu => x.max(0.0),
            Activation::Relu6 => x.clamp(0.0, 6.0),
            Activation::PRelu(slopes) => {
                if x >= 0.0 {
                    x
                } else {
                    x * slopes.get(channel).copied().unwrap_or(0.0) as f64
                }
            }
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    fn slopes(&self) -> Option<&[f32]> {
        match self {
            Activation::PRelu(slopes) => Some(slopes),
            _ => None,
        }
    }
}

/// Channel groups of the per-channel parameter buffer: channels rounded up to 8 (the
/// blocked pointwise kernel reads output channels 8 at a time). `slope_base` in
/// shaders/common.wgsl computes the same number.
pub(crate) fn channel_param_groups(channels: u32) -> u32 {
    channels.div_ceil(8) * 2
}

/// The per-channel parameter buffer: bias for every channel group, then PReLU slopes.
pub(crate) fn channel_params(
    gpu: &Gpu,
    op: &'static str,
    channels: u32,
    bias: Option<&[f32]>,
    activation: &Activation,
) -> Result<wgpu::Buffer> {
    let groups = channel_param_groups(channels) as usize;
    let mut values = vec![0.0f32; groups * 8];
    if let Some(bias) = bias {
        check_len(op, "bias", bias.len(), channels as usize)?;
        values[..bias.len()].copy_from_slice(bias);
    }
    if let Some(slopes) = activation.slopes() {
        check_len(op, "PReLU slopes", slopes.len(), channels as usize)?;
        values[groups * 4..groups * 4 + slopes.len()].copy_from_slice(slopes);
    }
    gpu.constant_buffer(op, &values)
}

pub(crate) fn check_len(op: &'static str, what: &str, found: usize, expected: usize) -> Result<()> {
    if found != expected {
        return Err(Error::shape(op, format!("{what} has {found} values, {expected} expected")));
    }
    Ok(())
}

/// Transposes `weights` [out][in] into the GEMM layout of pointwise.wgsl and dense.wgsl:
/// [in rows padded to 4][out columns padded to 8], zeros in the padding.
pub(crate) fn gemm_weights(weights: &[f32], inputs: usize, outputs: usize, row_of_input: impl Fn(usize) -> usize, rows: usize) -> Vec<f32> {
    let columns = outputs.div_ceil(8) * 8;
    let mut packed = vec![0.0f32; rows * columns];
    for o in 0..outputs {
        for i in 0..inputs {
            packed[row_of_input(i) * columns + o] = weights[o * inputs + i];
        }
    }
    packed
}

/// The checks every layer makes on its input, output and optional residual.
pub(crate) fn check_io(
    op: &'static str,
    input: &Tensor,
    expected_input: Shape,
    output: &Tensor,
    expected_output: Shape,
    residual: Option<&Tensor>,
) -> Result<()> {
    if input.shape() != expected_input {
        return Err(Error::shape(op, format!("input is {}, layer expects {expected_input}", input.shape())));
    }
    if output.shape() != expected_output {
        return Err(Error::shape(op, format!("output is {}, layer produces {expected_output}", output.shape())));
    }
    if output.buffer() == input.buffer() {
        return Err(Error::shape(op, "output must not be the input's buffer"));
    }
    if let Some(residual) = residual {
        let r = residual.shape();
        let o = expected_output;
        if (r.batch, r.height, r.width) != (o.batch, o.height, o.width) || r.channels > o.channels {
            return Err(Error::shape(
                op,
                format!("residual {r} must match the output {o} in size, with at most its channels"),
            ));
        }
        if residual.buffer() == output.buffer() {
            return Err(Error::shape(op, "output must not be the residual's buffer"));
        }
    }
    Ok(())
}

/// Padded channel groups of an optional residual (0 = none) and the buffer to bind.
pub(crate) fn residual_binding<'a>(gpu: &'a Gpu, residual: Option<&'a Tensor>) -> (u32, &'a wgpu::Buffer) {
    match residual {
        Some(r) => (r.shape().channels, r.buffer()),
        None => (0, &gpu.empty),
    }
}
