//! Which kernel runs which layer on which adapter: the one tuning policy, chosen once from
//! the adapter ([`Tuning::for_adapter`]) and passed down to every layer and network built
//! on it. Each choice carries the measurement that made it.

use crate::gpu::AdapterSummary;
use crate::nn::PointwiseVariant;

/// The per-adapter kernel choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// The 1x1-convolution GEMM. CPU adapters (lavapipe, llvmpipe, SwiftShader): `Blocked`,
    /// 8 pixels x 8 channels in named registers, and `pointwise_wide`'s 16 x 16 on layers of
    /// 16k or >= 80 channels with enough blocks for four workgroups. Measured on lavapipe,
    /// 2 cores, criterion medians: 16x16x128 -> 128 at 22.5 GFLOP/s against 7.9 tiled and
    /// 1.85 naive; Face Mesh's 96x96x16 -> 16 at 15.1 wide against 9.4 blocked (README,
    /// BENCHMARKS.md). GPUs: `Tiled` (64 x 64 tiles in workgroup memory, which is ordinary
    /// memory behind barriers on a CPU adapter and fast on-chip memory on a GPU).
    pub pointwise: PointwiseVariant,
    /// Dense convolutions on `conv2d_dense_wide` (4 pixels x 16 output channels per
    /// invocation) instead of `conv2d_dense` (4 pixels x 4): the stems ran 1.1-1.4x faster
    /// on lavapipe in the same run. GPUs keep the narrow kernel (more invocations to spread).
    pub wide_dense_conv: bool,
    /// The three networks' stems on `conv2d_stem` specialised by override constants to
    /// their geometry (constant weight offsets take lavapipe's broadcast loads): BlazeFace's
    /// stem 1.86 -> 1.21 ms on lavapipe. Only measured on CPU adapters.
    pub specialised_stems: bool,
    /// Depthwise-separable blocks as one dispatch (shaders/separable.wgsl) instead of two or
    /// three. On lavapipe (Mesa 22.3, 2 cores) fused measured 0.40-0.82x the speed of the
    /// unfused networks (the depthwise output staged in workgroup memory behind a barrier);
    /// on GPUs workgroup memory is fast and every dispatch and round trip through global
    /// memory costs, so they get the fused blocks (unmeasured on a real GPU so far).
    pub fused_blocks: bool,
    /// The other faces' crops and MiniFASNet batch dispatched indirectly, with workgroup
    /// counts a GPU kernel zeroes when the frame has one face (engine/check.rs `Gate`). On
    /// lavapipe (2 cores) a check of one face took 282 ms with it against 431 without (the
    /// batch of one more face is as costly as the best face's pair), for 2.5 ms more CPU
    /// recording (wgpu validates each indirect dispatch). GPUs run the batch directly: its
    /// compute is small there and the recording is what costs.
    pub gate_other_faces: bool,
}

impl Tuning {
    /// What CPU adapters run (lavapipe, llvmpipe).
    pub const CPU: Tuning =
        Tuning { pointwise: PointwiseVariant::Blocked, wide_dense_conv: true, specialised_stems: true, fused_blocks: false, gate_other_faces: true };

    /// What GPUs run.
    pub const GPU: Tuning =
        Tuning { pointwise: PointwiseVariant::Tiled, wide_dense_conv: false, specialised_stems: false, fused_blocks: true, gate_other_faces: false };

    /// The policy for `adapter`.
    pub fn for_adapter(adapter: &AdapterSummary) -> Tuning {
        if adapter.is_cpu() { Tuning::CPU } else { Tuning::GPU }
    }

    /// The same policy with fused blocks on or off.
    pub fn with_fused_blocks(self, fused_blocks: bool) -> Tuning {
        Tuning { fused_blocks, ..self }
    }

    /// The same policy with another pointwise variant.
    pub fn with_pointwise(self, pointwise: PointwiseVariant) -> Tuning {
        Tuning { pointwise, ..self }
    }
}
