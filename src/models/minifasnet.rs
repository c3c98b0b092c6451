//! MiniFASNetV2 and MiniFASNetV1SE (Silent-Face-Anti-Spoofing b6d5f04): an 80x80 BGR crop,
//! raw 0..255 values -> 3 logits and their softmax (class 1 = real face).
//! Layer by layer: shared/golden/ARCHITECTURES.md, section 3. Batch norms are folded into
//! weights/ by tools/convert_weights.py; PyTorch's NCHW network runs here in NHWC.

use crate::error::Result;
use crate::gpu::{BufferArena, Gpu, Tensor};
use crate::models::graph::{BuildOptions, Builder, Graph};
use crate::models::weights::Weights;
use crate::nn::{self, Activation, Conv2dDesc, Padding, SeparableBlock, SeparableDesc, SeparableWeights, Skip};
use crate::tensor::Shape;

/// Input side (`get_kernel(80, 80)`, the `80x80` of the model file names).
pub const INPUT_SIZE: u32 = 80;
pub const CLASSES: u32 = 3;
/// The class MiniFASNet calls a real face (test.py: label 1).
pub const LIVE_CLASS: usize = 1;

/// Which of the two published models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// 2.7_80x80_MiniFASNetV2.pth: crop scale 2.7, no squeeze-excitation.
    V2,
    /// 4_0_0_80x80_MiniFASNetV1SE.pth: crop scale 4.0, SE in the last block of each stage.
    V1Se,
}

struct Widths {
    /// Expansions of the residual blocks of conv_3, conv_4, conv_5.
    stages: [&'static [u32]; 3],
    /// Whether the last block of each stage has squeeze-excitation.
    se: bool,
}

impl Variant {
    /// ARCHITECTURES.md 3.2 (keep_dict '1.8M_' for V2, '1.8M' for V1SE).
    fn widths(self) -> Widths {
        match self {
            Variant::V2 => Widths { stages: [&[13, 13, 13, 13], &[231, 52, 26, 77, 26, 26], &[26, 26]], se: false },
            Variant::V1Se => Widths { stages: [&[13, 26, 13, 52], &[154, 52, 26, 52, 26, 26], &[26, 26]], se: true },
        }
    }

    /// The crop scale the model was trained for (its file name).
    pub fn crop_scale(self) -> f32 {
        match self {
            Variant::V2 => 2.7,
            Variant::V1Se => 4.0,
        }
    }
}

pub struct MiniFasNet {
    input: Tensor,
    logits: Tensor,
    softmax: Tensor,
    graph: Graph,
}

impl MiniFasNet {
    /// Built with the adapter's default [`BuildOptions`].
    pub fn new(gpu: &Gpu, variant: Variant, weights: &Weights, arena: &mut BufferArena) -> Result<Self> {
        Self::with_options(gpu, variant, weights, arena, BuildOptions::for_adapter(gpu.adapter()))
    }

    pub fn with_options(gpu: &Gpu, variant: Variant, weights: &Weights, arena: &mut BufferArena, options: BuildOptions) -> Result<Self> {
        Self::batched(gpu, variant, weights, arena, options, 1)
    }

    /// The network over `batch` crops at once (one per face): every layer takes the batch,
    /// the dispatches are the same, their sizes `batch` times.
    pub fn batched(gpu: &Gpu, variant: Variant, weights: &Weights, arena: &mut BufferArena, options: BuildOptions, batch: u32) -> Result<Self> {
        let mut b = Builder::new(gpu, arena, weights, "minifasnet", options);
        let input = b.tensor(Shape::new(INPUT_SIZE, INPUT_SIZE, 3).with_batch(batch))?;
        let x = conv_block(&mut b, "conv1", Conv2dDesc::new(3, 32, 3, 2, Padding::symmetric(1)), &input)?;
        b.tap("conv1", &x);
        let x = conv_block(&mut b, "conv2_dw", Conv2dDesc::new(32, 32, 3, 1, Padding::symmetric(1)).with_groups(32), &x)?;
        let widths = variant.widths();
        let mut x = depth_wise(&mut b, "conv_23", 103, 64, 2, None, &x)?;
        for (stage, (name, transition)) in [("conv_3", Some(("conv_34", 231, 128))), ("conv_4", Some(("conv_45", 308, 128))), ("conv_5", None)].into_iter().enumerate() {
            let expansions = widths.stages[stage];
            for (index, expansion) in expansions.iter().enumerate() {
                let se = widths.se && index + 1 == expansions.len();
                let channels = x.shape().channels;
                x = depth_wise(&mut b, &format!("{name}.model.{index}"), *expansion, channels, 1, Some(se), &x)?;
            }
            b.tap(name, &x);
            if let Some((transition, expansion, out)) = transition {
                x = depth_wise(&mut b, transition, expansion, out, 2, None, &x)?;
                b.tap(transition, &x);
            }
        }
        let x = conv_block(&mut b, "conv_6_sep", Conv2dDesc::new(128, 512, 1, 1, Padding::VALID), &x)?;
        let x = b.conv("conv_6_dw.conv.weight", Some("conv_6_dw.conv.bias"), Conv2dDesc::new(512, 512, 5, 1, Padding::VALID).with_groups(512), Activation::None, &x, None)?;
        b.tap("conv_6_dw", &x);
        let x = linear(&mut b, "linear", 128, true, &x)?;
        b.tap("bn", &x);
        let logits = linear(&mut b, "prob", CLASSES, false, &x)?;
        let softmax = b.tensor(logits.shape())?;
        b.graph.dispatches.push(nn::softmax(b.gpu, &logits, &softmax)?);
        Ok(MiniFasNet { input, logits, softmax, graph: b.finish() })
    }

    /// The [batch, 80, 80, 3] input tensor: BGR, 0..255.
    pub fn input(&self) -> &Tensor {
        &self.input
    }

    /// [batch, 1, 1, 3]
    pub fn logits(&self) -> &Tensor {
        &self.logits
    }

    /// [batch, 1, 1, 3]
    pub fn softmax(&self) -> &Tensor {
        &self.softmax
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

/// Conv_block: PReLU(BN(conv)), the BN folded into `{prefix}.conv`.
fn conv_block(b: &mut Builder<'_>, prefix: &str, desc: Conv2dDesc, input: &Tensor) -> Result<Tensor> {
    let prelu = b.prelu(&format!("{prefix}.prelu.weight"), desc.out_channels)?;
    b.conv(&format!("{prefix}.conv.weight"), Some(&format!("{prefix}.conv.bias")), desc, prelu, input, None)
}

/// Depth_Wise (and Depth_Wise_SE): 1x1 expand + PReLU, 3x3 depthwise + PReLU, 1x1 project;
/// `residual` None = no residual, Some(se) = residual, with SE on the projection if se.
fn depth_wise(b: &mut Builder<'_>, prefix: &str, expansion: u32, out: u32, stride: u32, residual: Option<bool>, input: &Tensor) -> Result<Tensor> {
    let channels = input.shape().channels;
    let t = conv_block(b, &format!("{prefix}.conv"), Conv2dDesc::new(channels, expansion, 1, 1, Padding::VALID), input)?;
    if b.tuning.fused_minifasnet_blocks && SeparableBlock::supports(expansion, out, Skip::Residual) {
        // The 3x3 depthwise (+ PReLU) and the projection in one dispatch (separable.wgsl).
        let skip = if residual == Some(false) { Skip::Residual } else { Skip::None };
        let desc = SeparableDesc { in_channels: expansion, out_channels: out, stride, padding: Some(Padding::symmetric(1)), skip };
        let (e, o) = (expansion as usize, out as usize);
        let depthwise = b.weights.tensor(&format!("{prefix}.conv_dw.conv.weight"), &[e, 1, 3, 3])?;
        let depthwise_bias = b.weights.tensor(&format!("{prefix}.conv_dw.conv.bias"), &[e])?;
        let pointwise = b.weights.tensor(&format!("{prefix}.project.conv.weight"), &[o, e, 1, 1])?;
        let pointwise_bias = b.weights.tensor(&format!("{prefix}.project.conv.bias"), &[o])?;
        let weights = SeparableWeights { depthwise: &depthwise, depthwise_bias: &depthwise_bias, pointwise: &pointwise, pointwise_bias: &pointwise_bias };
        let prelu = b.prelu(&format!("{prefix}.conv_dw.prelu.weight"), expansion)?;
        let block = SeparableBlock::with_desc(b.gpu, desc, &weights, prelu, Activation::None)?;
        let output = b.tensor(block.output_shape(t.shape())?)?;
        let dispatch = block.bind(b.gpu, &t, &output, (skip == Skip::Residual).then_some(input))?;
        b.graph.dispatches.push(dispatch);
        return match residual {
            Some(true) => squeeze_excite(b, &format!("{prefix}.se_module"), &output, input),
            _ => Ok(output),
        };
    }
    let dw = Conv2dDesc::new(expansion, expansion, 3, stride, Padding::symmetric(1)).with_groups(expansion);
    let t = conv_block(b, &format!("{prefix}.conv_dw"), dw, &t)?;
    let project = Conv2dDesc::new(expansion, out, 1, 1, Padding::VALID);
    let (weight, bias) = (format!("{prefix}.project.conv.weight"), format!("{prefix}.project.conv.bias"));
    match residual {
        None => b.conv(&weight, Some(&bias), project, Activation::None, &t, None),
        Some(false) => b.conv(&weight, Some(&bias), project, Activation::None, &t, Some(input)),
        Some(true) => {
            let t = b.conv(&weight, Some(&bias), project, Activation::None, &t, None)?;
            squeeze_excite(b, &format!("{prefix}.se_module"), &t, input)
        }
    }
}

/// SE (reduction 4): t * sigmoid(fc2(relu(fc1(mean(t))))) + residual, BNs folded into fc1/fc2.
fn squeeze_excite(b: &mut Builder<'_>, prefix: &str, t: &Tensor, residual: &Tensor) -> Result<Tensor> {
    let channels = t.shape().channels;
    let pooled = b.tensor(Shape { height: 1, width: 1, ..t.shape() })?;
    b.graph.dispatches.push(nn::global_average_pool(b.gpu, t, &pooled)?);
    let fc1 = Conv2dDesc::new(channels, channels / 4, 1, 1, Padding::VALID);
    let s = b.conv(&format!("{prefix}.fc1.weight"), Some(&format!("{prefix}.fc1.bias")), fc1, Activation::Relu, &pooled, None)?;
    let fc2 = Conv2dDesc::new(channels / 4, channels, 1, 1, Padding::VALID);
    let s = b.conv(&format!("{prefix}.fc2.weight"), Some(&format!("{prefix}.fc2.bias")), fc2, Activation::Sigmoid, &s, None)?;
    let output = b.tensor(t.shape())?;
    b.graph.dispatches.push(nn::channel_scale(b.gpu, t, &s, Some(residual), &output)?);
    Ok(output)
}

/// A Linear layer [out, in] (BN folded into `linear`, giving it a bias; `prob` has none).
fn linear(b: &mut Builder<'_>, prefix: &str, out: u32, has_bias: bool, input: &Tensor) -> Result<Tensor> {
    let features = input.shape().with_batch(1).len() as usize;
    let weights = b.weights.tensor(&format!("{prefix}.weight"), &[out as usize, features])?;
    let bias = if has_bias { Some(b.weights.tensor(&format!("{prefix}.bias"), &[out as usize])?) } else { None };
    let layer = nn::Dense::new(b.gpu, input.shape(), out, &weights, bias.as_deref(), Activation::None)?;
    let output = b.tensor(layer.output_shape(input.shape().batch))?;
    b.graph.dispatches.push(layer.bind(b.gpu, input, &output)?);
    Ok(output)
}
