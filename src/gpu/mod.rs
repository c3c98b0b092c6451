//! The GPU runtime: adapter and device choice ([`Gpu`]), the buffer arena that can zero
//! itself ([`BufferArena`]), kernels as data and their compiled pipelines, readback. It
//! knows no layer, network or engine: their kernels come to it as [`KernelSpec`] tables.

mod arena;
mod context;
mod pipeline_file;
mod pipelines;

pub use arena::{BufferArena, Dispatch, Tensor, record_all, record_sequence};
pub use context::{AdapterSummary, Backend, Gpu, GpuOptions, list_adapters};
pub use pipeline_file::PipelineCacheReport;
pub use pipelines::{Kernel, KernelSpec, LINEAR_WORKGROUP, Shader, Slot};
