//! Builds a network as a list of bound dispatches over arena tensors: each helper loads a
//! layer's weights by name, creates its output tensor and binds the dispatch.

use crate::error::Result;
use crate::gpu::{AdapterSummary, BufferArena, Dispatch, Gpu, Tensor};
use crate::models::weights::Weights;
use crate::nn::{Activation, Conv2d, Conv2dDesc, Dense, Padding, Pointwise, SeparableBlock, SeparableWeights, Skip, Tuning};
use crate::tensor::Shape;

/// A network's recorded form: every dispatch in order, and the named block outputs.
pub struct Graph {
    pub(crate) dispatches: Vec<Dispatch>,
    pub(crate) taps: Vec<(String, Tensor)>,
}

impl Graph {
    /// Records the whole network into one compute pass.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        crate::gpu::record_sequence(pass, &self.dispatches);
    }

    pub fn dispatches_iter(&self) -> impl Iterator<Item = &Dispatch> {
        self.dispatches.iter()
    }

    pub fn dispatch_count(&self) -> usize {
        self.dispatches.len()
    }

    /// A named intermediate tensor (block outputs, shared/golden naming).
    pub fn tap(&self, name: &str) -> Option<&Tensor> {
        self.taps.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

/// How a network is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Which kernels run which layer ([`Tuning::fused_blocks`] decides whether each
    /// depthwise-separable block is one dispatch).
    pub tuning: Tuning,
    /// Keep the named intermediate activations ([`Graph::tap`]) for inspection. Each kept
    /// tap holds its buffer; without taps a network's activations share a few pooled
    /// buffers ([`BufferArena::open_pool`]). The engine builds without them.
    pub keep_taps: bool,
}

impl BuildOptions {
    /// The adapter's tuning policy, with taps.
    pub fn for_adapter(adapter: &AdapterSummary) -> Self {
        BuildOptions { tuning: Tuning::for_adapter(adapter), keep_taps: true }
    }
}

pub(crate) struct Builder<'a> {
    pub gpu: &'a Gpu,
    pub arena: &'a mut BufferArena,
    pub weights: &'a Weights,
    pub graph: Graph,
    label: &'static str,
    /// The arena pool the graph's tensors come from.
    pool: u32,
    /// The kernel choices of every layer.
    pub tuning: Tuning,
    keep_taps: bool,
}

impl<'a> Builder<'a> {
    pub fn new(gpu: &'a Gpu, arena: &'a mut BufferArena, weights: &'a Weights, label: &'static str, options: BuildOptions) -> Self {
        let pool = arena.open_pool();
        Builder {
            gpu,
            arena,
            weights,
            graph: Graph { dispatches: Vec::new(), taps: Vec::new() },
            label,
            pool,
            tuning: options.tuning,
            keep_taps: options.keep_taps,
        }
    }

    /// A tensor from the graph's pool: a buffer no live tensor holds any more, or a new one.
    pub fn tensor(&mut self, shape: Shape) -> Result<Tensor> {
        self.arena.pooled_tensor(self.gpu, self.pool, self.label, shape)
    }

    pub fn tap(&mut self, name: &str, tensor: &Tensor) {
        if self.keep_taps {
            self.graph.taps.push((name.to_string(), tensor.clone()));
        }
    }

    /// `act(conv(input) + bias + residual)` with OIHW weights `{weight}` and bias `{bias}`
    /// (None for a bias-free layer).
    pub fn conv(
        &mut self,
        weight: &str,
        bias: Option<&str>,
        desc: Conv2dDesc,
        activation: Activation,
        input: &Tensor,
        residual: Option<&Tensor>,
    ) -> Result<Tensor> {
        let shape = [desc.out_channels as usize, (desc.in_channels / desc.groups) as usize, desc.kernel_h as usize, desc.kernel_w as usize];
        let weights = self.weights.tensor(weight, &shape)?;
        let bias = bias.map(|name| self.weights.tensor(name, &[desc.out_channels as usize])).transpose()?;
        let layer = Conv2d::new(self.gpu, &self.tuning, desc, &weights, bias.as_deref(), activation)?;
        let output = self.tensor(desc.output_shape(input.shape())?)?;
        self.graph.dispatches.push(layer.bind(self.gpu, input, &output, residual)?);
        Ok(output)
    }

    /// A PReLU activation with slopes `name` of `channels` values.
    pub fn prelu(&self, name: &str, channels: u32) -> Result<Activation> {
        Ok(Activation::PRelu(self.weights.tensor(name, &[channels as usize])?))
    }

    /// A VALID convolution covering its whole input, run as a dense layer: OIHW weights are
    /// re-ordered to the (h, w, c) feature order of the flattened input.
    pub fn conv_as_dense(&mut self, weight: &str, bias: Option<&str>, out: u32, activation: Activation, input: &Tensor) -> Result<Tensor> {
        let s = input.shape();
        let (h, w, c) = (s.height as usize, s.width as usize, s.channels as usize);
        let oihw = self.weights.tensor(weight, &[out as usize, c, h, w])?;
        let mut ohwc = vec![0.0f32; oihw.len()];
        for o in 0..out as usize {
            for i in 0..c {
                for t in 0..h * w {
                    ohwc[(o * h * w + t) * c + i] = oihw[(o * c + i) * h * w + t];
                }
            }
        }
        let bias = bias.map(|name| self.weights.tensor(name, &[out as usize])).transpose()?;
        let layer = Dense::new(self.gpu, s, out, &ohwc, bias.as_deref(), activation)?;
        let output = self.tensor(layer.output_shape(s.batch))?;
        self.graph.dispatches.push(layer.bind(self.gpu, input, &output)?);
        Ok(output)
    }

    pub fn finish(self) -> Graph {
        self.graph
    }
}

/// TFLite SAME padding for a k x k kernel on `input`.
pub(crate) fn same(input: Shape, kernel: u32, stride: u32) -> Padding {
    Padding::same(input.height, input.width, kernel, kernel, stride)
}

impl Builder<'_> {
    /// The residual block of both MediaPipe networks (ARCHITECTURES.md 1.1 and 2.1):
    /// `act(pw(dw(x)) + skip)` where skip is x, max-pooled when the stride is 2, with zero
    /// channels appended up to `out_channels`. One dispatch (separable.wgsl) where the
    /// widths fit it; otherwise depthwise, (max pool,) and a pointwise that reads the
    /// narrower residual as zero-padded.
    pub fn mediapipe_block(&mut self, prefix: &str, out_channels: u32, stride: u32, activation: Activation, input: &Tensor) -> Result<Tensor> {
        let s = input.shape();
        let (dw_weight, dw_bias) = (format!("{prefix}.dw.weight"), format!("{prefix}.dw.bias"));
        let (pw_weight, pw_bias) = (format!("{prefix}.pw.weight"), format!("{prefix}.pw.bias"));
        if self.tuning.fused_blocks && SeparableBlock::supports(s.channels, out_channels, Skip::Input) {
            let (c, o) = (s.channels as usize, out_channels as usize);
            let depthwise = self.weights.tensor(&dw_weight, &[c, 1, 3, 3])?;
            let depthwise_bias = self.weights.tensor(&dw_bias, &[c])?;
            let pointwise = self.weights.tensor(&pw_weight, &[o, c, 1, 1])?;
            let pointwise_bias = self.weights.tensor(&pw_bias, &[o])?;
            let weights = SeparableWeights { depthwise: &depthwise, depthwise_bias: &depthwise_bias, pointwise: &pointwise, pointwise_bias: &pointwise_bias };
            let block = SeparableBlock::new(self.gpu, s.channels, out_channels, stride, &weights, activation)?;
            let output = self.tensor(block.output_shape(s)?)?;
            self.graph.dispatches.push(block.bind(self.gpu, input, &output, None)?);
            return Ok(output);
        }
        let dw = Conv2dDesc::new(s.channels, s.channels, 3, stride, same(s, 3, stride)).with_groups(s.channels);
        let t = self.conv(&dw_weight, Some(&dw_bias), dw, Activation::None, input, None)?;
        if stride == 2 {
            // The skip path's 2x2 max pool is read by the pointwise kernel itself: one
            // dispatch fewer per stride-2 block.
            let (c, o) = (s.channels as usize, out_channels as usize);
            let weights = self.weights.tensor(&pw_weight, &[o, c, 1, 1])?;
            let bias = self.weights.tensor(&pw_bias, &[o])?;
            let layer = Pointwise::new(self.gpu, &self.tuning, s.channels, out_channels, &weights, Some(&bias), activation)?;
            let output = self.tensor(layer.output_shape(t.shape()))?;
            self.graph.dispatches.push(layer.bind_with_pooled_residual(self.gpu, &t, &output, input)?);
            return Ok(output);
        }
        let pw = Conv2dDesc::new(s.channels, out_channels, 1, 1, Padding::VALID);
        self.conv(&pw_weight, Some(&pw_bias), pw, activation, &t, Some(input))
    }
}
