//! Face Mesh (MediaPipe 0.10.14 face_landmark.tflite): a 192x192 RGB crop in [0, 1] ->
//! 468 landmarks (x, y, z in crop pixels) and a face-presence logit.
//! Layer by layer: shared/golden/ARCHITECTURES.md, section 2.

use crate::error::Result;
use crate::gpu::{BufferArena, Gpu, Tensor};
use crate::models::graph::{BuildOptions, Builder, Graph, same};
use crate::models::weights::Weights;
use crate::nn::{Conv2dDesc, Padding};
use crate::tensor::Shape;

/// Input side (face_landmark.tflite, input tensor 0).
pub const INPUT_SIZE: u32 = 192;
pub const LANDMARKS: usize = 468;

/// (output channels, stride) of backbone blocks 1..=14 (ARCHITECTURES.md 2.1).
const BACKBONE: [(u32, u32); 14] = [
    (16, 1), (16, 1), (32, 2), (32, 1), (32, 1), (64, 2), (64, 1),
    (64, 1), (128, 2), (128, 1), (128, 1), (128, 2), (128, 1), (128, 1),
];

pub struct FaceMesh {
    input: Tensor,
    /// [1, 1, 1, 1404]: landmark i is values 3i..3i+2.
    landmarks: Tensor,
    /// [1, 1, 1, 1]: the presence logit.
    face_flag: Tensor,
    graph: Graph,
}

impl FaceMesh {
    /// Built with the adapter's default [`BuildOptions`].
    pub fn new(gpu: &Gpu, weights: &Weights, arena: &mut BufferArena) -> Result<Self> {
        Self::with_options(gpu, weights, arena, BuildOptions::for_adapter(gpu.adapter()))
    }

    pub fn with_options(gpu: &Gpu, weights: &Weights, arena: &mut BufferArena, options: BuildOptions) -> Result<Self> {
        let mut b = Builder::new(gpu, arena, weights, "facemesh", options);
        let input = b.tensor(Shape::new(INPUT_SIZE, INPUT_SIZE, 3))?;
        let stem = Conv2dDesc::new(3, 16, 3, 2, same(input.shape(), 3, 2));
        let prelu = b.prelu("backbone.stem.prelu.alpha", 16)?;
        let mut x = b.conv("backbone.stem.conv.weight", Some("backbone.stem.conv.bias"), stem, prelu, &input, None)?;
        b.tap("stem", &x);
        for (index, (out_channels, stride)) in BACKBONE.into_iter().enumerate() {
            let name = format!("block{:02}", index + 1);
            x = block(&mut b, &format!("backbone.{name}"), out_channels, stride, &x)?;
            b.tap(&name, &x);
        }
        // Landmarks branch: 3 blocks, reduce 128 -> 32, a block, the 3x3 VALID output conv.
        let mut l = x.clone();
        for (index, stride) in [2, 1, 1].into_iter().enumerate() {
            l = block(&mut b, &format!("landmarks.block{}", index + 1), 128, stride, &l)?;
        }
        l = reduce(&mut b, "landmarks.reduce", &l)?;
        l = block(&mut b, "landmarks.block4", 32, 1, &l)?;
        b.tap("landmarks.block4", &l);
        let landmarks = b.conv_as_dense("landmarks.out.weight", Some("landmarks.out.bias"), 3 * LANDMARKS as u32, crate::nn::Activation::None, &l)?;
        // Face-flag branch: a block, reduce, a block, the output conv.
        let mut f = block(&mut b, "face_flag.block1", 128, 2, &x)?;
        f = reduce(&mut b, "face_flag.reduce", &f)?;
        f = block(&mut b, "face_flag.block2", 32, 1, &f)?;
        b.tap("face_flag.block2", &f);
        let face_flag = b.conv_as_dense("face_flag.out.weight", Some("face_flag.out.bias"), 1, crate::nn::Activation::None, &f)?;
        Ok(FaceMesh { input, landmarks, face_flag, graph: b.finish() })
    }

    /// The [1, 192, 192, 3] input tensor.
    pub fn input(&self) -> &Tensor {
        &self.input
    }

    pub fn landmarks(&self) -> &Tensor {
        &self.landmarks
    }

    pub fn face_flag(&self) -> &Tensor {
        &self.face_flag
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

fn block(b: &mut Builder<'_>, prefix: &str, out_channels: u32, stride: u32, input: &Tensor) -> Result<Tensor> {
    let prelu = b.prelu(&format!("{prefix}.prelu.alpha"), out_channels)?;
    b.mediapipe_block(prefix, out_channels, stride, prelu, input)
}

fn reduce(b: &mut Builder<'_>, prefix: &str, input: &Tensor) -> Result<Tensor> {
    let desc = Conv2dDesc::new(input.shape().channels, 32, 1, 1, Padding::VALID);
    let prelu = b.prelu(&format!("{prefix}.prelu.alpha"), 32)?;
    b.conv(&format!("{prefix}.conv.weight"), Some(&format!("{prefix}.conv.bias")), desc, prelu, input, None)
}
