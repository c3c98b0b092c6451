//! The patches' pixel arithmetic for texture.rs: the frame's brightness around the face,
//! a patch sampled on a bent grid, its gradients, structure tensor and correlation. No
//! landmarks and no homographies here; texture.rs says where patches go and what their
//! motion means.

use zeroize::Zeroizing;

use crate::frame::Frame;

/// The frame's brightness around the face, as floats: the patches sample it thousands of
/// times a frame, and reading the frame's own bytes would decode its pixel format each time.
/// Pixels: zeroized when dropped.
pub(super) struct Luma {
    x0: u32,
    y0: u32,
    width: u32,
    height: u32,
    values: Zeroizing<Vec<f32>>,
}

impl Luma {
    /// The part of `frame` within `margin` pixels of the landmarks `around`; None if that
    /// misses the frame or a landmark is not a number.
    pub(super) fn around(frame: &Frame<'_>, around: impl Iterator<Item = [f64; 2]>, margin: f64) -> Option<Luma> {
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for p in around {
            if !(p[0].is_finite() && p[1].is_finite()) {
                return None;
            }
            lo = [lo[0].min(p[0]), lo[1].min(p[1])];
            hi = [hi[0].max(p[0]), hi[1].max(p[1])];
        }
        let clamp = |v: f64, size: u32| v.clamp(0.0, (size - 1) as f64) as u32;
        let (x0, y0) = (clamp((lo[0] - margin).floor(), frame.width()), clamp((lo[1] - margin).floor(), frame.height()));
        let (x1, y1) = (clamp((hi[0] + margin).ceil(), frame.width()), clamp((hi[1] + margin).ceil(), frame.height()));
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        let (width, height) = (x1 - x0 + 1, y1 - y0 + 1);
        let mut values = Zeroizing::new(Vec::with_capacity((width * height) as usize));
        for y in y0..=y1 {
            values.extend((x0..=x1).map(|x| frame.brightness_byte(x, y) as f32));
        }
        Some(Luma { x0, y0, width, height, values })
    }

    /// Bilinear brightness at frame point (x, y), None outside the window.
    pub(super) fn at(&self, x: f64, y: f64) -> Option<f32> {
        let (x, y) = (x - self.x0 as f64, y - self.y0 as f64);
        if !(x >= 0.0 && y >= 0.0 && x <= (self.width - 1) as f64 && y <= (self.height - 1) as f64) {
            return None;
        }
        let (ix, iy) = (x.floor() as usize, y.floor() as usize);
        let (fx, fy) = ((x - ix as f64) as f32, (y - iy as f64) as f32);
        let w = self.width as usize;
        let i = iy * w + ix;
        let right = if ix + 1 < w { 1 } else { 0 };
        let down = if iy + 1 < self.height as usize { w } else { 0 };
        let v = &self.values;
        let top = v[i] * (1.0 - fx) + v[i + right] * fx;
        let bottom = v[i + down] * (1.0 - fx) + v[i + down + right] * fx;
        Some(top * (1.0 - fy) + bottom * fy)
    }
}

/// The patch grid: sample offsets in sample steps, every `stride`-th in each direction.
fn grid(half: i32, stride: usize) -> impl Iterator<Item = (i32, i32)> {
    (-half..=half).step_by(stride).flat_map(move |dy| (-half..=half).step_by(stride).map(move |dx| (dx, dy)))
}

/// Samples at `centre + J (dx, dy) spacing` over the patch grid (every `stride`-th),
/// made zero-mean; None if any falls outside the frame.
pub(super) fn sample(luma: &Luma, centre: [f64; 2], jacobian: [f64; 4], spacing: f32, half: i32, stride: usize) -> Option<Vec<f32>> {
    let mut values = Vec::with_capacity(((2 * half + 1) * (2 * half + 1)) as usize);
    for (dx, dy) in grid(half, stride) {
        let (u, v) = (dx as f64 * spacing as f64, dy as f64 * spacing as f64);
        let x = centre[0] + jacobian[0] * u + jacobian[1] * v;
        let y = centre[1] + jacobian[2] * u + jacobian[3] * v;
        values.push(luma.at(x, y)?);
    }
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    values.iter_mut().for_each(|v| *v -= mean);
    Some(values)
}

/// Every other sample of a patch in each direction (the grid `grid(half, 2)` walks), made
/// zero-mean.
pub(super) fn sparse(values: &[f32], half: i32) -> Vec<f32> {
    let side = (2 * half + 1) as usize;
    let mut kept: Vec<f32> = grid(half, 2).map(|(dx, dy)| values[(dy + half) as usize * side + (dx + half) as usize]).collect();
    let mean = kept.iter().sum::<f32>() / kept.len() as f32;
    kept.iter_mut().for_each(|v| *v -= mean);
    kept
}

/// Central-difference gradients of a patch's samples (0 on the border).
pub(super) fn gradients(values: &[f32], half: i32) -> Vec<[f32; 2]> {
    let side = (2 * half + 1) as usize;
    (0..side * side)
        .map(|i| {
            let (x, y) = (i % side, i / side);
            if x == 0 || y == 0 || x == side - 1 || y == side - 1 {
                return [0.0, 0.0];
            }
            [(values[i + 1] - values[i - 1]) / 2.0, (values[i + side] - values[i - side]) / 2.0]
        })
        .collect()
}

/// The patch's normal matrix (structure tensor) [xx, xy, yy].
pub(super) fn normal_matrix(gradients: &[[f32; 2]]) -> [f64; 3] {
    gradients.iter().fold([0.0; 3], |[xx, xy, yy], g| {
        let (gx, gy) = (g[0] as f64, g[1] as f64);
        [xx + gx * gx, xy + gx * gy, yy + gy * gy]
    })
}

/// RMS brightness change per sample step in the patch's flattest direction: the square
/// root of the structure tensor's smaller eigenvalue (Shi and Tomasi 1994), per sample.
pub(super) fn weakest_gradient(normal: [f64; 3], samples: usize) -> f64 {
    let [xx, xy, yy] = normal;
    let (mean, spread) = ((xx + yy) / 2.0, (((xx - yy) / 2.0).powi(2) + xy * xy).sqrt());
    ((mean - spread).max(0.0) / samples as f64).sqrt()
}

pub(super) fn norm(values: &[f32]) -> f32 {
    values.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// Zero-mean normalised cross-correlation of two zero-mean sample sets.
pub(super) fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let (na, nb) = (norm(a), norm(b));
    if na <= f32::EPSILON || nb <= f32::EPSILON {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (na * nb)
}
