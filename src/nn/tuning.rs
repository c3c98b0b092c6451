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
    /// BlazeFace's and Face Mesh's depthwise-separable blocks as one dispatch
    /// (shaders/separable.wgsl) instead of two or three. On lavapipe (Mesa 22.3, 2 cores)
    /// fused measured 0.40-0.82x the speed of the unfused networks (the depthwise output
    /// staged in workgroup memory behind a barrier), on Mesa 25.0.7 0.96x (BlazeFace) and
    /// 0.75x (Face Mesh) (`examples/profile_layers.rs`, BENCHMARKS.md "Per adapter"); on GPUs
    /// workgroup memory is fast and every dispatch and round trip through global memory
    /// costs, so they get the fused blocks (unmeasured on a real GPU so far).
    pub fused_blocks: bool,
    /// The same for MiniFASNet's blocks (expansion, depthwise, projection and residual). On
    /// Mesa 22.3's lavapipe fused ran 0.8x unfused; on Mesa 25.0.7's 1.20x (V2) and 1.16x
    /// (V1SE) in the same run, so lavapipe from Mesa 25 fuses them.
    pub fused_minifasnet_blocks: bool,
    /// The other faces' crops and MiniFASNet batch dispatched indirectly, with workgroup
    /// counts a GPU kernel zeroes when the frame has one face (engine/check.rs `Gate`). On
    /// lavapipe (2 cores) a check of one face took 282 ms with it against 431 without (the
    /// batch of one more face is as costly as the best face's pair), for 2.5 ms more CPU
    /// recording (wgpu validates each indirect dispatch). GPUs run the batch directly: its
    /// compute is small there and the recording is what costs.
    pub gate_other_faces: bool,
}

impl Tuning {
    /// What CPU adapters run (lavapipe before Mesa 25, llvmpipe).
    pub const CPU: Tuning = Tuning {
        pointwise: PointwiseVariant::Blocked,
        wide_dense_conv: true,
        specialised_stems: true,
        fused_blocks: false,
        fused_minifasnet_blocks: false,
        gate_other_faces: true,
    };

    /// What lavapipe runs from Mesa 25 on: the CPU policy with MiniFASNet's blocks fused,
    /// the 8 x 8 pointwise blocks on every layer and the stems on the general dense kernel.
    /// On a cold shader cache Mesa 25.0.7 compiles `pointwise_wide` in 136 s (most of it in
    /// LLVM's coroutine passes, for its 256 accumulators; Mesa 22.3: 0.2 s) and the three
    /// specialised stems in 6-20 s each, for end-to-end checks 1.04x and 1.00x faster than
    /// without them (medians of 5 alternating rounds of 15 checks, 0.89-1.25x between
    /// rounds): a terminal's first start after a driver update should not wait minutes for
    /// a few percent (BENCHMARKS.md, "Cold start").
    pub const LAVAPIPE_MESA_25: Tuning = Tuning {
        fused_minifasnet_blocks: true,
        pointwise: PointwiseVariant::BlockedNarrow,
        specialised_stems: false,
        ..Tuning::CPU
    };

    /// What GPUs run.
    pub const GPU: Tuning = Tuning {
        pointwise: PointwiseVariant::Tiled,
        wide_dense_conv: false,
        specialised_stems: false,
        fused_blocks: true,
        fused_minifasnet_blocks: true,
        gate_other_faces: false,
    };

    /// The policy for `adapter`: GPUs, lavapipe (Vulkan on a CPU) by its Mesa version, and
    /// the other CPU adapters (llvmpipe through GL: unmeasured on Mesa 25, so as 22.3).
    pub fn for_adapter(adapter: &AdapterSummary) -> Tuning {
        let lavapipe = adapter.backend == crate::gpu::Backend::Vulkan && adapter.name.contains("llvmpipe");
        match adapter.is_cpu() {
            false => Tuning::GPU,
            true if lavapipe && adapter.mesa_major().is_some_and(|major| major >= 25) => Tuning::LAVAPIPE_MESA_25,
            true => Tuning::CPU,
        }
    }

    /// The same policy with every network's blocks fused or not.
    pub fn with_fused_blocks(self, fused: bool) -> Tuning {
        Tuning { fused_blocks: fused, fused_minifasnet_blocks: fused, ..self }
    }

    /// The same policy with another pointwise variant.
    pub fn with_pointwise(self, pointwise: PointwiseVariant) -> Tuning {
        Tuning { pointwise, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::Backend;

    fn adapter(name: &str, backend: Backend, device_type: wgpu::DeviceType, driver: &str) -> AdapterSummary {
        AdapterSummary {
            name: name.into(),
            backend,
            device_type,
            driver: driver.into(),
            shader_f16: false,
            timestamp_query: true,
            max_storage_buffer_binding_size: 1 << 27,
        }
    }

    #[test]
    fn the_policy_follows_the_adapter_and_mesas_version() {
        use wgpu::DeviceType::{Cpu, DiscreteGpu};
        let lavapipe = |driver| adapter("llvmpipe (LLVM 15.0.6, 256 bits)", Backend::Vulkan, Cpu, driver);
        assert_eq!(Tuning::for_adapter(&lavapipe("llvmpipe Mesa 22.3.6 (LLVM 15.0.6)")), Tuning::CPU);
        assert_eq!(Tuning::for_adapter(&lavapipe("llvmpipe Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)")), Tuning::LAVAPIPE_MESA_25);
        assert_eq!(Tuning::for_adapter(&lavapipe("llvmpipe Mesa 26.1.0")), Tuning::LAVAPIPE_MESA_25);
        assert_eq!(Tuning::for_adapter(&lavapipe("llvmpipe")), Tuning::CPU, "no version: as before");
        let gl = adapter("llvmpipe (LLVM 15.0.6, 256 bits)", Backend::Gl, Cpu, "4.5 (Core Profile) Mesa 25.0.7");
        assert_eq!(Tuning::for_adapter(&gl), Tuning::CPU);
        let nvidia = adapter("NVIDIA H200", Backend::Vulkan, DiscreteGpu, "NVIDIA 580.159.03");
        assert_eq!(Tuning::for_adapter(&nvidia), Tuning::GPU);
        assert_eq!(lavapipe("llvmpipe Mesa 25.0.7").mesa_major(), Some(25));
        let unfused = Tuning::GPU.with_fused_blocks(false);
        assert!(!unfused.fused_blocks && !unfused.fused_minifasnet_blocks);
    }
}
