//! Fully connected layers and softmax (shaders/dense.wgsl).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Tensor};
use crate::nn::kernels;
use crate::nn::layer::{Activation, channel_params, check_io, check_len, gemm_weights};
use crate::tensor::Shape;

/// Parameters of dense.wgsl (`DenseParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct DenseParams {
    batch: u32,
    in_c4: u32,
    out_c: u32,
    out_c4: u32,
    weight_c4: u32,
    activation: u32,
    _padding: [u32; 2],
}

/// `out[n][o] = act(sum_i W[o][i] * in[n][i] + b[o])` over an input of shape
/// [n, h, w, c] flattened in (h, w, c) order, giving [n, 1, 1, out].
pub struct Dense {
    input: Shape,
    out_features: u32,
    weights: wgpu::Buffer,
    channel_params: wgpu::Buffer,
    activation: u32,
}

impl Dense {
    /// `input` is the shape of one item (its batch is ignored); `weights` are `[out][h*w*c]`.
    pub fn new(gpu: &Gpu, input: Shape, out_features: u32, weights: &[f32], bias: Option<&[f32]>, activation: Activation) -> Result<Self> {
        let input = input.with_batch(1);
        input.check_not_empty("dense")?;
        if out_features == 0 {
            return Err(Error::shape("dense", "zero output features"));
        }
        let features = input.len() as usize;
        check_len("dense", "weights", weights.len(), out_features as usize * features)?;
        // Feature (y, x, c) sits at row (y * w + x) * padded_c + c of the padded input.
        let channels = input.channels as usize;
        let padded_c = input.channel_groups() as usize * 4;
        let rows = input.pixels() as usize * padded_c;
        let packed = gemm_weights(weights, features, out_features as usize, |i| (i / channels) * padded_c + i % channels, rows);
        Ok(Dense {
            input,
            out_features,
            weights: gpu.constant_buffer("dense weights", &packed)?,
            channel_params: channel_params(gpu, "dense", out_features, bias, &activation)?,
            activation: activation.code(),
        })
    }

    pub fn output_shape(&self, batch: u32) -> Shape {
        Shape::new(1, 1, self.out_features).with_batch(batch)
    }

    pub fn bind(&self, gpu: &Gpu, input: &Tensor, output: &Tensor) -> Result<Dispatch> {
        let batch = input.shape().batch;
        let out = self.output_shape(batch);
        check_io("dense", input, self.input.with_batch(batch), output, out, None)?;
        let params = DenseParams {
            batch,
            in_c4: (self.input.pixels() * self.input.channel_groups() as u64) as u32,
            out_c: self.out_features,
            out_c4: out.channel_groups(),
            weight_c4: self.out_features.div_ceil(8) * 2,
            activation: self.activation,
            _padding: [0; 2],
        };
        let invocations = batch as u64 * out.channel_groups() as u64;
        gpu.dispatch(
            &kernels::DENSE_LAYER,
            bytemuck::bytes_of(&params),
            &[input.buffer(), &self.weights, &self.channel_params, output.buffer()],
            invocations.div_ceil(kernels::DENSE_LAYER.invocations() as u64),
        )
    }
}

/// Softmax over the channels of every pixel; input and output of one shape.
pub fn softmax(gpu: &Gpu, input: &Tensor, output: &Tensor) -> Result<Dispatch> {
    let shape = input.shape();
    shape.check_not_empty("softmax")?;
    check_io("softmax", input, shape, output, shape, None)?;
    let rows = u32::try_from(shape.pixels()).map_err(|_| Error::shape("softmax", format!("{shape} has too many pixels")))?;
    let params = DenseParams {
        batch: rows,
        in_c4: shape.channel_groups(),
        out_c: shape.channels,
        out_c4: shape.channel_groups(),
        weight_c4: 0,
        activation: 0,
        _padding: [0; 2],
    };
    gpu.dispatch(
        &kernels::SOFTMAX,
        bytemuck::bytes_of(&params),
        &[input.buffer(), &gpu.empty, &gpu.empty, output.buffer()],
        (rows as u64).div_ceil(kernels::SOFTMAX.invocations() as u64),
    )
}
