//! Layers as recorded dispatches. Each layer uploads its weights once (`new`), binds to
//! its input and output tensors once (`bind`, giving a [`crate::gpu::Dispatch`]), and is
//! then recorded into a caller's encoder for every frame without allocating or submitting.
//!
//! Kernel families and their WGSL files: [`conv`] (shaders/conv.wgsl), [`depthwise`]
//! (depthwise.wgsl), [`pointwise`] (pointwise.wgsl), [`pool`] (pool.wgsl), [`elementwise`]
//! (elementwise.wgsl), [`dense`] (dense.wgsl), [`separable`] (separable.wgsl: a whole
//! depthwise-separable residual block); [`reference`](mod@reference) is the CPU twin of each.
//! [`kernels`] is the table of their kernels; [`Tuning`] says which runs where.

pub mod batch_norm;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod elementwise;
pub mod kernels;
mod layer;
pub mod pointwise;
pub mod pool;
pub mod reference;
pub mod separable;
mod tuning;

pub use batch_norm::{BatchNorm, fold_batch_norm};
pub use conv::{Conv2d, Conv2dDesc, GeneralConv, Padding};
pub use dense::{Dense, softmax};
pub use depthwise::Depthwise;
pub use elementwise::{add, channel_pad, channel_scale};
pub use layer::Activation;
pub use pointwise::{Pointwise, PointwiseVariant};
pub use separable::{SeparableBlock, SeparableDesc, SeparableWeights, Skip};
pub use pool::{global_average_pool, max_pool_2x2, max_pool_2x2_shape};
pub use tuning::Tuning;
