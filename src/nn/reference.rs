//! The CPU twin of every kernel: plain loops, f64 accumulation, unpadded NHWC. The oracle
//! of the kernel tests; never used on the frame path.

use crate::error::{Error, Result};
use crate::nn::conv::Conv2dDesc;
use crate::nn::layer::Activation;
use crate::tensor::{HostTensor, Shape};

fn add_residual(value: f64, residual: Option<&HostTensor>, n: u32, y: u32, x: u32, c: u32) -> f64 {
    match residual {
        Some(r) if c < r.shape.channels => value + r.at(n, y, x, c) as f64,
        _ => value,
    }
}

/// Convolution with OIHW weights; `residual` (at most the output's channels) is added
/// before the activation.
pub fn conv2d(
    input: &HostTensor,
    desc: &Conv2dDesc,
    weights: &[f32],
    bias: Option<&[f32]>,
    activation: &Activation,
    residual: Option<&HostTensor>,
) -> Result<HostTensor> {
    desc.validate()?;
    let out_shape = desc.output_shape(input.shape)?;
    let in_per_group = desc.in_channels / desc.groups;
    let out_per_group = desc.out_channels / desc.groups;
    let (kh, kw) = (desc.kernel_h, desc.kernel_w);
    let mut out = HostTensor::zeros(out_shape);
    for n in 0..out_shape.batch {
        for oy in 0..out_shape.height {
            for ox in 0..out_shape.width {
                for co in 0..desc.out_channels {
                    let first_in = (co / out_per_group) * in_per_group;
                    let mut sum = bias.map_or(0.0, |b| b[co as usize] as f64);
                    for ky in 0..kh {
                        let iy = (oy * desc.stride + ky) as i64 - desc.padding.top as i64;
                        if iy < 0 || iy >= input.shape.height as i64 {
                            continue;
                        }
                        for kx in 0..kw {
                            let ix = (ox * desc.stride + kx) as i64 - desc.padding.left as i64;
                            if ix < 0 || ix >= input.shape.width as i64 {
                                continue;
                            }
                            for i in 0..in_per_group {
                                let w = weights[(((co * in_per_group + i) * kh + ky) * kw + kx) as usize];
                                sum += w as f64 * input.at(n, iy as u32, ix as u32, first_in + i) as f64;
                            }
                        }
                    }
                    let sum = add_residual(sum, residual, n, oy, ox, co);
                    let index = out.index(n, oy, ox, co);
                    out.data[index] = activation.apply(sum, co as usize) as f32;
                }
            }
        }
    }
    Ok(out)
}

/// 1x1 convolution with weights `[out][in]`.
pub fn pointwise(
    input: &HostTensor,
    out_channels: u32,
    weights: &[f32],
    bias: Option<&[f32]>,
    activation: &Activation,
    residual: Option<&HostTensor>,
) -> Result<HostTensor> {
    let desc = Conv2dDesc::new(input.shape.channels, out_channels, 1, 1, crate::nn::Padding::VALID);
    conv2d(input, &desc, weights, bias, activation, residual)
}

fn pool_window_max(input: &HostTensor, n: u32, oy: u32, ox: u32, c: u32) -> f32 {
    let mut best = f32::NEG_INFINITY;
    for y in 2 * oy..(2 * oy + 2).min(input.shape.height) {
        for x in 2 * ox..(2 * ox + 2).min(input.shape.width) {
            best = best.max(input.at(n, y, x, c));
        }
    }
    best
}

/// 2x2 stride-2 max pool to `out_h` x `out_w` (floor or ceil of half the input).
pub fn max_pool_2x2(input: &HostTensor, out_h: u32, out_w: u32) -> HostTensor {
    let out_shape = Shape { height: out_h, width: out_w, ..input.shape };
    let mut out = HostTensor::zeros(out_shape);
    for n in 0..out_shape.batch {
        for y in 0..out_h {
            for x in 0..out_w {
                for c in 0..out_shape.channels {
                    let index = out.index(n, y, x, c);
                    out.data[index] = pool_window_max(input, n, y, x, c);
                }
            }
        }
    }
    out
}

pub fn global_average_pool(input: &HostTensor) -> HostTensor {
    let s = input.shape;
    let mut out = HostTensor::zeros(Shape { height: 1, width: 1, ..s });
    for n in 0..s.batch {
        for c in 0..s.channels {
            let mut sum = 0.0f64;
            for y in 0..s.height {
                for x in 0..s.width {
                    sum += input.at(n, y, x, c) as f64;
                }
            }
            let index = out.index(n, 0, 0, c);
            out.data[index] = (sum / (s.height as f64 * s.width as f64)) as f32;
        }
    }
    out
}

pub fn add(a: &HostTensor, b: &HostTensor, activation: &Activation) -> Result<HostTensor> {
    if a.shape != b.shape {
        return Err(Error::shape("reference::add", format!("{} vs {}", a.shape, b.shape)));
    }
    let channels = a.shape.channels as usize;
    let data = a
        .data
        .iter()
        .zip(&b.data)
        .enumerate()
        .map(|(i, (x, y))| activation.apply(*x as f64 + *y as f64, i % channels) as f32)
        .collect();
    HostTensor::new(a.shape, data)
}

pub fn channel_pad(input: &HostTensor, out_channels: u32) -> HostTensor {
    let s = input.shape;
    let mut out = HostTensor::zeros(Shape { channels: out_channels, ..s });
    for (dst, src) in out.data.chunks_exact_mut(out_channels as usize).zip(input.data.chunks_exact(s.channels as usize)) {
        dst[..src.len()].copy_from_slice(src);
    }
    out
}

pub fn channel_scale(input: &HostTensor, scale: &HostTensor, residual: Option<&HostTensor>) -> HostTensor {
    let s = input.shape;
    let mut out = HostTensor::zeros(s);
    for n in 0..s.batch {
        for y in 0..s.height {
            for x in 0..s.width {
                for c in 0..s.channels {
                    let value = input.at(n, y, x, c) as f64 * scale.at(n, 0, 0, c) as f64;
                    let index = out.index(n, y, x, c);
                    out.data[index] = add_residual(value, residual, n, y, x, c) as f32;
                }
            }
        }
    }
    out
}

/// Dense layer over the (h, w, c) flattening of each batch item; weights `[out][h*w*c]`.
pub fn dense(input: &HostTensor, out_features: u32, weights: &[f32], bias: Option<&[f32]>, activation: &Activation) -> HostTensor {
    let features = (input.shape.len() / input.shape.batch as u64) as usize;
    let mut out = HostTensor::zeros(Shape::new(1, 1, out_features).with_batch(input.shape.batch));
    for n in 0..input.shape.batch as usize {
        let item = &input.data[n * features..(n + 1) * features];
        for o in 0..out_features as usize {
            let row = &weights[o * features..(o + 1) * features];
            let sum: f64 = row.iter().zip(item).map(|(w, x)| *w as f64 * *x as f64).sum::<f64>() + bias.map_or(0.0, |b| b[o] as f64);
            out.data[n * out_features as usize + o] = activation.apply(sum, o) as f32;
        }
    }
    out
}

/// Softmax over the channels of every pixel.
pub fn softmax(input: &HostTensor) -> HostTensor {
    let channels = input.shape.channels as usize;
    let mut out = input.clone();
    for row in out.data.chunks_exact_mut(channels) {
        let largest = row.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v as f64));
        let exps: Vec<f64> = row.iter().map(|v| (*v as f64 - largest).exp()).collect();
        let total: f64 = exps.iter().sum();
        for (dst, e) in row.iter_mut().zip(exps) {
            *dst = (e / total) as f32;
        }
    }
    out
}
