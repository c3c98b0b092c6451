//! Max pool 2x2 stride 2 and global average pool (shaders/pool.wgsl).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, Tensor};
use crate::nn::kernels;
use crate::nn::layer::check_io;
use crate::tensor::Shape;

/// Parameters of pool.wgsl (`PoolParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct PoolParams {
    batch: u32,
    in_h: u32,
    in_w: u32,
    channels: u32,
    out_h: u32,
    out_w: u32,
    _padding: [u32; 2],
}

impl PoolParams {
    fn new(input: Shape, output: Shape) -> Self {
        PoolParams {
            batch: input.batch,
            in_h: input.height,
            in_w: input.width,
            channels: input.channels,
            out_h: output.height,
            out_w: output.width,
            _padding: [0; 2],
        }
    }
}

/// Output shape of a 2x2 stride-2 max pool: `ceil` = TFLite SAME, otherwise VALID.
pub fn max_pool_2x2_shape(input: Shape, ceil: bool) -> Shape {
    let half = |size: u32| if ceil { size.div_ceil(2) } else { size / 2 };
    Shape { height: half(input.height), width: half(input.width), ..input }
}

/// 2x2 max pool with stride 2. The output's size says which rule applies: floor(in / 2)
/// (VALID) or ceil(in / 2) (SAME; padded positions never win).
pub fn max_pool_2x2(gpu: &Gpu, input: &Tensor, output: &Tensor) -> Result<Dispatch> {
    let in_shape = input.shape();
    in_shape.check_not_empty("max_pool_2x2")?;
    let out = output.shape();
    if out != max_pool_2x2_shape(in_shape, false) && out != max_pool_2x2_shape(in_shape, true) {
        return Err(Error::shape("max_pool_2x2", format!("output {out} is not half of the input {in_shape}")));
    }
    out.check_not_empty("max_pool_2x2")?;
    check_io("max_pool_2x2", input, in_shape, output, out, None)?;
    let invocations = out.pixels() * out.channel_groups() as u64;
    gpu.dispatch(
        &kernels::MAX_POOL_2X2,
        bytemuck::bytes_of(&PoolParams::new(in_shape, out)),
        &[input.buffer(), output.buffer()],
        invocations.div_ceil(kernels::MAX_POOL_2X2.invocations() as u64),
    )
}

/// Mean over height and width: [n, h, w, c] -> [n, 1, 1, c].
pub fn global_average_pool(gpu: &Gpu, input: &Tensor, output: &Tensor) -> Result<Dispatch> {
    let in_shape = input.shape();
    in_shape.check_not_empty("global_average_pool")?;
    let out = Shape { height: 1, width: 1, ..in_shape };
    check_io("global_average_pool", input, in_shape, output, out, None)?;
    let invocations = out.batch as u64 * out.channel_groups() as u64;
    gpu.dispatch(
        &kernels::GLOBAL_AVERAGE_POOL,
        bytemuck::bytes_of(&PoolParams::new(in_shape, out)),
        &[input.buffer(), output.buffer()],
        invocations.div_ceil(kernels::GLOBAL_AVERAGE_POOL.invocations() as u64),
    )
}
