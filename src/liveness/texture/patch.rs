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
        // Both are >= 0 here, where truncation is the floor (without SSE4.1's round, f64::floor
        // is a libm call: it showed in profiles of `watch`).
        let (ix, iy) = (x as usize, y as usize);
        let (fx, fy) = ((x - ix as f64) as f32, (y - iy as f64) as f32);
        let w = self.width as usize;
        let right = if ix + 1 < w { 1 } else { 0 };
        let down = if iy + 1 < self.height as usize { w } else { 0 };
        Some(self.blend(iy * w + ix, right, down, fx, fy))
    }

    /// The bilinear blend of the value at index `i`, the one `right` after it and the two
    /// `down` after those (0 on the window's last column or row), by weights fx and fy.
    fn blend(&self, i: usize, right: usize, down: usize, fx: f32, fy: f32) -> f32 {
        let v = &self.values;
        let top = v[i] * (1.0 - fx) + v[i + right] * fx;
        let bottom = v[i + down] * (1.0 - fx) + v[i + down + right] * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// The patch grid: sample offsets in sample steps, every `stride`-th in each direction.
fn grid(half: i32, stride: usize) -> impl Iterator<Item = (i32, i32)> {
    (-half..=half).step_by(stride).flat_map(move |dy| (-half..=half).step_by(stride).map(move |dx| (dx, dy)))
}

/// Where the grid's sample (dx, dy) lands in the frame: `centre + J (dx, dy) spacing`.
fn grid_point(centre: [f64; 2], jacobian: [f64; 4], spacing: f32, (dx, dy): (i32, i32)) -> [f64; 2] {
    let (u, v) = (dx as f64 * spacing as f64, dy as f64 * spacing as f64);
    [centre[0] + jacobian[0] * u + jacobian[1] * v, centre[1] + jacobian[2] * u + jacobian[3] * v]
}

/// Subtracts the values' mean from each.
fn remove_mean(values: &mut [f32]) {
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    values.iter_mut().for_each(|v| *v -= mean);
}

/// Samples at `centre + J (dx, dy) spacing` over the patch grid (every `stride`-th),
/// made zero-mean; None if any falls outside the frame. Pixels: zeroized when dropped.
pub(super) fn sample(luma: &Luma, centre: [f64; 2], jacobian: [f64; 4], spacing: f32, half: i32, stride: usize) -> Option<Zeroizing<Vec<f32>>> {
    let mut values = Zeroizing::new(Vec::with_capacity(((2 * half + 1) * (2 * half + 1)) as usize));
    for step in grid(half, stride) {
        let [x, y] = grid_point(centre, jacobian, spacing, step);
        values.push(luma.at(x, y)?);
    }
    remove_mean(&mut values);
    Some(values)
}

/// A patch grid bent by a jacobian, laid on the window's pixels once for a whole-pixel
/// search. Moving the grid by whole pixels leaves every sample's bilinear weights as they
/// were, so each position of the search costs an index addition per sample instead of a
/// floor, a bounds test and an allocation: the search is most of the texture tracker's time.
pub(super) struct PixelGrid {
    /// Per sample: the column and row of its top-left pixel in the window, and its bilinear
    /// weights to the right and down.
    taps: Vec<(i32, i32, f32, f32)>,
    /// The taps' columns and rows from the smallest to the largest.
    columns: (i32, i32),
    rows: (i32, i32),
}

impl PixelGrid {
    /// The grid of [`sample`] at `centre` (every `stride`-th sample); None if a sample's
    /// position is not a number.
    pub(super) fn new(luma: &Luma, centre: [f64; 2], jacobian: [f64; 4], spacing: f32, half: i32, stride: usize) -> Option<PixelGrid> {
        let mut taps = Vec::with_capacity(((2 * half + 1) * (2 * half + 1)) as usize);
        let (mut columns, mut rows) = ((i32::MAX, i32::MIN), (i32::MAX, i32::MIN));
        for step in grid(half, stride) {
            let [x, y] = grid_point(centre, jacobian, spacing, step);
            let (x, y) = (x - luma.x0 as f64, y - luma.y0 as f64);
            // A window is at most a frame's side (checked frames are at most 16384 pixels a side).
            if !(x.abs() < 1e6 && y.abs() < 1e6) {
                return None;
            }
            let (column, row) = (x.floor(), y.floor());
            let (column_i, row_i) = (column as i32, row as i32);
            columns = (columns.0.min(column_i), columns.1.max(column_i));
            rows = (rows.0.min(row_i), rows.1.max(row_i));
            taps.push((column_i, row_i, (x - column) as f32, (y - row) as f32));
        }
        Some(PixelGrid { taps, columns, rows })
    }

    /// The grid's samples moved by `shift` whole pixels, made zero-mean, into `values`;
    /// false if one falls outside the window (a sample's right and lower neighbours
    /// included).
    pub(super) fn sample_shifted(&self, luma: &Luma, shift: (i32, i32), values: &mut Vec<f32>) -> bool {
        let (width, height) = (luma.width as i32, luma.height as i32);
        let (sx, sy) = shift;
        if self.columns.0 + sx < 0 || self.rows.0 + sy < 0 || self.columns.1 + sx + 1 >= width || self.rows.1 + sy + 1 >= height {
            return false;
        }
        values.clear();
        let w = luma.width as usize;
        values.extend(self.taps.iter().map(|&(column, row, fx, fy)| luma.blend((row + sy) as usize * w + (column + sx) as usize, 1, w, fx, fy)));
        remove_mean(values);
        true
    }
}

/// Every other sample of a patch in each direction (the grid `grid(half, 2)` walks), made
/// zero-mean.
pub(super) fn sparse(values: &[f32], half: i32) -> Vec<f32> {
    let side = (2 * half + 1) as usize;
    let mut kept: Vec<f32> = grid(half, 2).map(|(dx, dy)| values[(dy + half) as usize * side + (dx + half) as usize]).collect();
    remove_mean(&mut kept);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A window of pseudo-random brightness (not smooth: each pixel's weight shows).
    fn window(width: u32, height: u32, seed: u32) -> Vec<u8> {
        (0..width * height * 3).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed.wrapping_mul(40_503)) >> 24) as u8).collect()
    }

    /// The shifted grid gives `sample`'s values at the shifted centre, and refuses a shift
    /// wherever `sample` does (and, one pixel in, where a sample's neighbour would be
    /// outside), on odd window sizes, strides, spacings and bent grids.
    #[test]
    fn a_shifted_grid_samples_as_the_grid_sampled_there() {
        let cases = [
            // width, height, centre, jacobian, spacing, half, stride
            (37, 29, [18.3, 14.7], [1.0, 0.0, 0.0, 1.0], 1.0, 6, 2),
            (41, 23, [20.01, 11.99], [0.93, -0.21, 0.17, 1.08], 1.37, 5, 2),
            (19, 31, [9.5, 15.25], [1.2, 0.3, -0.4, 0.8], 0.71, 3, 1),
            (64, 17, [30.0, 8.0], [0.6, 0.0, 0.0, 0.6], 2.5, 4, 3),
        ];
        for (case, &(width, height, centre, jacobian, spacing, half, stride)) in cases.iter().enumerate() {
            let bytes = window(width, height, case as u32);
            let frame = Frame::rgb8(width, height, &bytes).unwrap();
            // The whole frame: the window's origin is (0, 0) only if the landmarks reach it.
            let luma = Luma::around(&frame, [[0.0, 0.0], [(width - 1) as f64, (height - 1) as f64]].into_iter(), 0.0).unwrap();
            let grid = PixelGrid::new(&luma, centre, jacobian, spacing, half, stride).unwrap();
            let mut shifted = Vec::new();
            let (mut compared, mut refused) = (0, 0);
            for sy in -20..=20 {
                for sx in -20..=20 {
                    let at = [centre[0] + sx as f64, centre[1] + sy as f64];
                    let expected = sample(&luma, at, jacobian, spacing, half, stride);
                    if grid.sample_shifted(&luma, (sx, sy), &mut shifted) {
                        let expected = expected.unwrap_or_else(|| panic!("case {case}: shift ({sx}, {sy}) sampled outside the window"));
                        assert_eq!(expected.len(), shifted.len());
                        for (e, s) in expected.iter().zip(&shifted) {
                            assert!((e - s).abs() < 1e-3, "case {case}, shift ({sx}, {sy}): {s} against {e}");
                        }
                        compared += 1;
                    } else {
                        refused += 1;
                        // Refused where `sample` accepts: only for a sample exactly on the last
                        // column or row (its neighbour past the edge has weight 0 there).
                        if expected.is_some() {
                            let on_last = grid.taps.iter().any(|&(column, row, _, _)| column + sx == width as i32 - 1 || row + sy == height as i32 - 1);
                            assert!(on_last, "case {case}: shift ({sx}, {sy}) refused with every sample inside");
                        }
                    }
                }
            }
            assert!(compared > 0 && refused > 0, "case {case}: {compared} shifts compared, {refused} refused");
        }
    }

    #[test]
    fn a_grid_at_no_number_is_refused() {
        let bytes = window(16, 16, 1);
        let frame = Frame::rgb8(16, 16, &bytes).unwrap();
        let luma = Luma::around(&frame, [[0.0, 0.0], [15.0, 15.0]].into_iter(), 0.0).unwrap();
        assert!(PixelGrid::new(&luma, [8.0, 8.0], [f64::NAN, 0.0, 0.0, 1.0], 1.0, 3, 1).is_none());
        assert!(PixelGrid::new(&luma, [f64::INFINITY, 8.0], [1.0, 0.0, 0.0, 1.0], 1.0, 3, 1).is_none());
        assert!(sample(&luma, [8.0, 8.0], [f64::NAN, 0.0, 0.0, 1.0], 1.0, 3, 1).is_none());
    }
}
