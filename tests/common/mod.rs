//! Helpers shared by the GPU test binaries.
#![allow(dead_code)]

pub mod pinhole;

use std::sync::OnceLock;

use liveshade::gpu::{Backend, BufferArena, Dispatch, Gpu, GpuOptions, Tensor, record_all};
use liveshade::nn::Tuning;
use liveshade::tensor::{HostTensor, Shape};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use safetensors::SafeTensors;

/// The GPU of this test binary, chosen by LIVESHADE_BACKEND / WGPU_BACKEND. A machine
/// without an adapter fails every GPU test: they never pass by skipping.
pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| {
        let backend = Backend::from_env().expect("LIVESHADE_BACKEND / WGPU_BACKEND");
        match Gpu::new(&GpuOptions { backend, ..Default::default() }) {
            Ok(gpu) => {
                eprintln!("testing on {}", gpu.adapter());
                gpu
            }
            Err(error) => panic!("the GPU tests need an adapter and found none usable (CI={:?}): {error}", std::env::var("CI").ok()),
        }
    })
}

/// The tuning policy of this test binary's adapter.
pub fn tuning() -> Tuning {
    Tuning::for_adapter(gpu().adapter())
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn random_values(rng: &mut StdRng, count: usize) -> Vec<f32> {
    (0..count).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

pub fn random_tensor(rng: &mut StdRng, shape: Shape) -> HostTensor {
    HostTensor::new(shape, random_values(rng, shape.len() as usize)).expect("shape")
}

/// A GPU tensor holding `host`.
pub fn upload(arena: &mut BufferArena, host: &HostTensor) -> Tensor {
    let gpu = gpu();
    let tensor = arena.tensor(gpu, "test input", host.shape).expect("tensor");
    gpu.write_tensor(&tensor, host).expect("upload");
    tensor
}

/// Records `dispatches` in one pass, submits, waits and reads `output` back.
pub fn run(dispatches: &[&Dispatch], output: &Tensor) -> HostTensor {
    let gpu = gpu();
    let mut encoder = gpu.encoder("test");
    record_all(&mut encoder, dispatches.iter().copied());
    gpu.submit_and_wait(encoder).expect("submit");
    gpu.read_tensor(output).expect("readback")
}

/// The one comparison of the tests: fails at the first value off by more than `tolerance`,
/// naming `what`, the index (as `locate` spells it), both values and the tolerance;
/// returns the largest absolute difference.
pub fn assert_within_at(what: &str, got: &[f32], want: &[f32], tolerance: f32, locate: impl Fn(usize) -> String) -> f32 {
    assert_eq!(got.len(), want.len(), "{what}: {} values against {} expected", got.len(), want.len());
    let mut largest = 0.0f32;
    for (index, (g, w)) in got.iter().zip(want).enumerate() {
        let difference = (g - w).abs();
        assert!(
            difference <= tolerance,
            "{what}: first mismatch at index {}: gpu {g} vs expected {w}, |diff| {difference} > tolerance {tolerance}",
            locate(index)
        );
        largest = largest.max(difference);
    }
    largest
}

/// [`assert_within_at`] with flat indices.
pub fn assert_within(what: &str, got: &[f32], want: &[f32], tolerance: f32) -> f32 {
    assert_within_at(what, got, want, tolerance, |index| index.to_string())
}

/// Compares GPU and reference tensors with a tolerance scaled to the output's magnitude
/// and to the number of terms summed into each output (f32 accumulation and FMA on the
/// GPU against f64 on the CPU); a mismatch is reported with its NHWC position. Returns the
/// largest absolute difference.
pub fn assert_close(what: &str, got: &HostTensor, want: &HostTensor, terms: usize) -> f32 {
    assert_eq!(got.shape, want.shape, "{what}: shapes differ");
    let magnitude = want.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let tolerance = 1e-5 * magnitude * (terms.max(1) as f32).sqrt();
    assert_within_at(what, &got.data, &want.data, tolerance, |index| format!("{index} (NHWC {:?})", unravel(want.shape, index)))
}

fn unravel(shape: Shape, index: usize) -> [usize; 4] {
    let c = shape.channels as usize;
    let w = shape.width as usize;
    let h = shape.height as usize;
    [index / (c * w * h), (index / (c * w)) % h, (index / c) % w, index % c]
}

/// Prints the largest difference of a test (collected for the closing notes with
/// `cargo test -- --nocapture`).
pub fn report(test: &str, cases: usize, largest: f32) {
    eprintln!("{test}: {cases} cases, largest |gpu - reference| = {largest:.3e}");
}

/// One case of tests/golden (copied from shared/golden/cases).
pub struct Golden {
    bytes: Vec<u8>,
}

impl Golden {
    /// A stored tensor's raw bytes and shape (u8 and i32 tensors).
    pub fn raw(&self, name: &str) -> (Vec<usize>, Vec<u8>) {
        let tensors = SafeTensors::deserialize(&self.bytes).unwrap();
        let view = tensors.tensor(name).unwrap_or_else(|_| panic!("golden tensor {name} missing"));
        (view.shape().to_vec(), view.data().to_vec())
    }

    pub fn ints(&self, name: &str) -> Vec<i32> {
        self.raw(name).1.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    }

    pub fn load(case: &str) -> Golden {
        let path = format!("{}/tests/golden/{case}.safetensors", env!("CARGO_MANIFEST_DIR"));
        Golden { bytes: std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")) }
    }

    pub fn get(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let tensors = SafeTensors::deserialize(&self.bytes).unwrap();
        let view = tensors.tensor(name).unwrap_or_else(|_| panic!("golden tensor {name} missing"));
        let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        (view.shape().to_vec(), values)
    }

    /// A stored NHWC tensor as a HostTensor.
    pub fn nhwc(&self, name: &str) -> HostTensor {
        let (shape, values) = self.get(name);
        HostTensor::new(Shape::new(shape[1] as u32, shape[2] as u32, shape[3] as u32), values).unwrap()
    }

    /// A stored NCHW tensor (or NC) transposed to NHWC.
    pub fn nchw(&self, name: &str) -> HostTensor {
        let (shape, values) = self.get(name);
        let (c, h, w) = (shape[1], *shape.get(2).unwrap_or(&1), *shape.get(3).unwrap_or(&1));
        let mut nhwc = vec![0.0; values.len()];
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    nhwc[(y * w + x) * c + ch] = values[(ch * h + y) * w + x];
                }
            }
        }
        HostTensor::new(Shape::new(h as u32, w as u32, c as u32), nhwc).unwrap()
    }
}
