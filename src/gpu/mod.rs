//! The GPU runtime: adapter and device choice ([`Gpu`]), the buffer arena that can zero
//! itself ([`BufferArena`]), the pipeline cache, and readback.

mod arena;
mod context;
pub mod pipelines;

pub use arena::{BufferArena, Dispatch, Tensor, record_all, record_sequence};
pub use context::{AdapterSummary, Backend, Gpu, GpuOptions, list_adapters};
pub use pipelines::{Family, Kernel};
