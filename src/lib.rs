//! liveshade: face liveness on the GPU.
//!
//! The neural networks (BlazeFace, Face Mesh, MiniFASNet) run as hand-written WGSL compute
//! shaders on wgpu. This crate currently holds the runtime they stand on:
//!
//! * [`gpu`]: adapter and device choice by backend and name, a buffer arena that zeroes
//!   itself in one recorded call, pipelines compiled and warmed up once;
//! * [`nn`]: the operator kernels as layers that record dispatches into a caller's
//!   encoder, each with a CPU twin in [`nn::reference`].
//!
//! ```no_run
//! use liveshade::gpu::{BufferArena, Gpu, GpuOptions, record_all};
//! use liveshade::nn::{Activation, Pointwise};
//! use liveshade::tensor::{HostTensor, Shape};
//!
//! let gpu = Gpu::new(&GpuOptions::default())?;
//! let mut arena = BufferArena::new();
//! let input = arena.tensor(&gpu, "input", Shape::new(16, 16, 8))?;
//! let output = arena.tensor(&gpu, "output", Shape::new(16, 16, 4))?;
//! let layer = Pointwise::new(&gpu, 8, 4, &[0.5; 32], None, Activation::Relu)?;
//! let dispatch = layer.bind(&gpu, &input, &output, None)?;
//! gpu.write_tensor(&input, &HostTensor::new(Shape::new(16, 16, 8), vec![1.0; 2048])?)?;
//! let mut encoder = gpu.encoder("example");
//! record_all(&mut encoder, [&dispatch]);
//! gpu.submit_and_wait(encoder)?;
//! let result = gpu.read_tensor(&output)?; // every value: relu(8 * 0.5) = 4
//! # assert!(result.data.iter().all(|v| *v == 4.0));
//! # Ok::<(), liveshade::Error>(())
//! ```

#[cfg(feature = "camera")]
pub mod camera;
pub mod engine;
pub mod error;
pub mod frame;
pub mod gpu;
pub mod liveness;
#[cfg(feature = "window")]
pub mod preview;
pub mod source;
pub mod models;
pub mod nn;
pub mod tensor;
pub mod watch;

pub use error::{Error, Result};
pub use engine::{Engine, EngineOptions, Report};
pub use frame::{DecodedImage, Frame, PixelFormat};
pub use gpu::{Backend, Gpu, GpuOptions};
pub use liveness::{Session, SessionOptions, Verdict, VerdictKind};
