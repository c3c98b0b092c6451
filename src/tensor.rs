//! Tensor shapes and CPU-side tensors.
//!
//! Every activation in liveshade is NHWC (batch, height, width, channels). On the GPU the
//! channel axis is padded to a multiple of 4 and read as `vec4<f32>`: one load fetches 4
//! channels, which is what the pointwise and depthwise kernels (most of the arithmetic of
//! all three networks) want, and the two MediaPipe networks are NHWC already. The padding
//! lanes are kept at zero by every kernel. [`HostTensor`] is the unpadded CPU image.

use crate::error::{Error, Result};

/// NHWC shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub batch: u32,
    pub height: u32,
    pub width: u32,
    pub channels: u32,
}

impl Shape {
    /// A shape of batch 1.
    pub const fn new(height: u32, width: u32, channels: u32) -> Self {
        Shape { batch: 1, height, width, channels }
    }

    pub const fn with_batch(self, batch: u32) -> Self {
        Shape { batch, ..self }
    }

    /// batch * height * width.
    pub fn pixels(&self) -> u64 {
        self.batch as u64 * self.height as u64 * self.width as u64
    }

    /// Number of real values.
    pub fn len(&self) -> u64 {
        self.pixels() * self.channels as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Channel groups of 4 (the padded channel stride, in vec4).
    pub fn channel_groups(&self) -> u32 {
        self.channels.div_ceil(4)
    }

    /// Bytes of the padded GPU layout.
    pub fn padded_bytes(&self) -> u64 {
        self.pixels() * self.channel_groups() as u64 * 16
    }

    /// Fails on a zero-sized dimension, naming the op.
    pub fn check_not_empty(&self, op: &'static str) -> Result<()> {
        if self.batch == 0 || self.height == 0 || self.width == 0 || self.channels == 0 {
            return Err(Error::shape(op, format!("zero-sized tensor {self}")));
        }
        Ok(())
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {}, {}, {}] (NHWC)", self.batch, self.height, self.width, self.channels)
    }
}

/// A CPU tensor in plain NHWC order (no channel padding).
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub shape: Shape,
    pub data: Vec<f32>,
}

impl HostTensor {
    pub fn new(shape: Shape, data: Vec<f32>) -> Result<Self> {
        if data.len() as u64 != shape.len() {
            return Err(Error::shape(
                "HostTensor::new",
                format!("{} values given for shape {shape} ({} expected)", data.len(), shape.len()),
            ));
        }
        Ok(HostTensor { shape, data })
    }

    pub fn zeros(shape: Shape) -> Self {
        HostTensor { shape, data: vec![0.0; shape.len() as usize] }
    }

    /// Index of (n, y, x, c).
    pub fn index(&self, n: u32, y: u32, x: u32, c: u32) -> usize {
        let s = &self.shape;
        (((n as usize * s.height as usize + y as usize) * s.width as usize + x as usize)
            * s.channels as usize)
            + c as usize
    }

    pub fn at(&self, n: u32, y: u32, x: u32, c: u32) -> f32 {
        self.data[self.index(n, y, x, c)]
    }

    /// The values laid out with the channel axis padded to a multiple of 4 (zeros).
    pub fn to_padded(&self) -> Vec<f32> {
        let channels = self.shape.channels as usize;
        let stride = self.shape.channel_groups() as usize * 4;
        let mut out = vec![0.0; self.shape.pixels() as usize * stride];
        if channels == 0 {
            return out;
        }
        for (dst, src) in out.chunks_exact_mut(stride).zip(self.data.chunks_exact(channels)) {
            dst[..channels].copy_from_slice(src);
        }
        out
    }

    /// The inverse of [`HostTensor::to_padded`].
    pub fn from_padded(shape: Shape, padded: &[f32]) -> Result<Self> {
        let channels = shape.channels as usize;
        let stride = shape.channel_groups() as usize * 4;
        if padded.len() as u64 != shape.pixels() * stride as u64 {
            return Err(Error::shape(
                "HostTensor::from_padded",
                format!("{} values for padded shape {shape}", padded.len()),
            ));
        }
        let mut data = Vec::with_capacity(shape.len() as usize);
        if channels > 0 {
            for row in padded.chunks_exact(stride) {
                data.extend_from_slice(&row[..channels]);
            }
        }
        Ok(HostTensor { shape, data })
    }
}
