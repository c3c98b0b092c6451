//! BlazeFace short range (MediaPipe 0.10.14 face_detection_short_range.tflite):
//! 128x128 RGB in [-1, 1] -> 896 anchors x (16 box/keypoint regressors, 1 score logit).
//! Layer by layer: shared/golden/ARCHITECTURES.md, section 1.

use crate::error::Result;
use crate::gpu::{BufferArena, Gpu, Tensor};
use crate::models::graph::{BuildOptions, Builder, Graph, same};
use crate::models::weights::Weights;
use crate::nn::{Activation, Conv2dDesc, Padding};
use crate::tensor::{HostTensor, Shape};

/// Input side (face_detection_short_range.tflite, input tensor 0).
pub const INPUT_SIZE: u32 = 128;
/// Anchors: 16x16 x 2 (stride 8) + 8x8 x 6 (stride 16).
pub const ANCHORS: usize = 896;
/// Regressor values per anchor: x, y, w, h, then 6 keypoints (x, y).
pub const REGRESSORS: usize = 16;

/// (output channels, stride) of blocks 1..=16 (ARCHITECTURES.md 1.1).
const BLOCKS: [(u32, u32); 16] = [
    (24, 1), (28, 1), (32, 2), (36, 1), (42, 1), (48, 2), (56, 1), (64, 1),
    (72, 1), (80, 1), (88, 1), (96, 2), (96, 1), (96, 1), (96, 1), (96, 1),
];

pub struct BlazeFace {
    input: Tensor,
    /// classifier_s8 [16,16,2], regressor_s8 [16,16,32], classifier_s16 [8,8,6],
    /// regressor_s16 [8,8,96]
    heads: [Tensor; 4],
    graph: Graph,
}

impl BlazeFace {
    /// Built with the adapter's default [`BuildOptions`].
    pub fn new(gpu: &Gpu, weights: &Weights, arena: &mut BufferArena) -> Result<Self> {
        Self::with_options(gpu, weights, arena, BuildOptions::for_adapter(gpu.adapter()))
    }

    pub fn with_options(gpu: &Gpu, weights: &Weights, arena: &mut BufferArena, options: BuildOptions) -> Result<Self> {
        let mut b = Builder::new(gpu, arena, weights, "blazeface", options);
        let input = b.tensor(Shape::new(INPUT_SIZE, INPUT_SIZE, 3))?;
        let stem = Conv2dDesc::new(3, 24, 5, 2, same(input.shape(), 5, 2));
        let mut x = b.conv("backbone.stem.weight", Some("backbone.stem.bias"), stem, Activation::Relu, &input, None)?;
        b.tap("stem", &x);
        let mut stride8 = None;
        for (index, (out_channels, stride)) in BLOCKS.into_iter().enumerate() {
            let name = format!("block{:02}", index + 1);
            x = b.mediapipe_block(&format!("backbone.{name}"), out_channels, stride, Activation::Relu, &x)?;
            b.tap(&name, &x);
            if index + 1 == 11 {
                stride8 = Some(x.clone());
            }
        }
        let stride8 = stride8.unwrap_or_else(|| x.clone());
        let mut head = |name: &str, out: u32, input: &Tensor| {
            let desc = Conv2dDesc::new(input.shape().channels, out, 1, 1, Padding::VALID);
            b.conv(&format!("head.{name}.weight"), Some(&format!("head.{name}.bias")), desc, Activation::None, input, None)
        };
        let heads = [
            head("classifier_s8", 2, &stride8)?,
            head("regressor_s8", 32, &stride8)?,
            head("classifier_s16", 6, &x)?,
            head("regressor_s16", 96, &x)?,
        ];
        Ok(BlazeFace { input, heads, graph: b.finish() })
    }

    /// The [1, 128, 128, 3] input tensor.
    pub fn input(&self) -> &Tensor {
        &self.input
    }

    /// The four head outputs: classifier_s8, regressor_s8, classifier_s16, regressor_s16.
    pub fn heads(&self) -> &[Tensor; 4] {
        &self.heads
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

/// The model's two outputs assembled from the head tensors as TFLite's RESHAPE +
/// CONCATENATION do (ARCHITECTURES.md 1.2): (regressors `[896 x 16]`, classificators `[896]`).
pub fn assemble_outputs(heads: &[HostTensor; 4]) -> (Vec<f32>, Vec<f32>) {
    let [classifier8, regressor8, classifier16, regressor16] = heads;
    let mut scores = classifier8.data.clone();
    scores.extend_from_slice(&classifier16.data);
    let mut boxes = regressor8.data.clone();
    boxes.extend_from_slice(&regressor16.data);
    (boxes, scores)
}
