//! Flatness: is the face a plane (a photo or a screen) or a head?
//!
//! Between two views of a plane, every point moves by one homography. Between two views of
//! a head that turned, the nose (which stands 2-3 cm out of the plane of the eyes and mouth)
//! moves differently from the rest. So: fit the homography on landmarks away from the nose
//! ([`PLANE`]), and measure how far it misses the held-out nose points ([`NOSE`]), in units
//! of the eye distance. A photo moved, tilted or bent a little in perspective stays near the
//! landmark noise; a head that turned by 10 degrees misses by several times that. This is a
//! fit residual, not a correlation: a photo tilted in perspective moves its landmarks in a
//! way that correlates perfectly with a yaw, but still by one homography.

use crate::engine::landmarks::{NOSE, PLANE, Point, interocular};

/// 3x3 homography, row-major, `h[8] = 1`.
pub type Homography = [f64; 9];

/// Least-squares homography mapping `from` to `to` (DLT with Hartley normalisation),
/// None if the points are degenerate.
pub fn fit_homography(from: &[[f64; 2]], to: &[[f64; 2]]) -> Option<Homography> {
    if from.len() != to.len() || from.len() < 4 {
        return None;
    }
    let (tf, nf) = normalise(from)?;
    let (tt, nt) = normalise(to)?;
    // Normal equations of the 8-unknown linear system (h33 = 1).
    let mut a = [[0.0f64; 9]; 8];
    for (p, q) in nf.iter().zip(&nt) {
        let rows = [
            [p[0], p[1], 1.0, 0.0, 0.0, 0.0, -p[0] * q[0], -p[1] * q[0], q[0]],
            [0.0, 0.0, 0.0, p[0], p[1], 1.0, -p[0] * q[1], -p[1] * q[1], q[1]],
        ];
        for row in rows {
            for i in 0..8 {
                for j in 0..9 {
                    a[i][j] += row[i] * row[j];
                }
            }
        }
    }
    let h = solve8(a)?;
    let hn = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
    // Undo the normalisations: H = Tt^-1 Hn Tf.
    let tt_inv = [1.0 / tt[0], 0.0, -tt[1] / tt[0], 0.0, 1.0 / tt[0], -tt[2] / tt[0], 0.0, 0.0, 1.0];
    let tf_m = [tf[0], 0.0, tf[1], 0.0, tf[0], tf[2], 0.0, 0.0, 1.0];
    let m = multiply(&multiply(&tt_inv, &hn), &tf_m);
    if m[8].abs() < 1e-12 {
        return None;
    }
    Some(m.map(|v| v / m[8]))
}

/// (scale, -scale*mean_x, -scale*mean_y) and the normalised points: centroid at 0, mean
/// distance sqrt(2).
fn normalise(points: &[[f64; 2]]) -> Option<([f64; 3], Vec<[f64; 2]>)> {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p[0]).sum::<f64>() / n;
    let my = points.iter().map(|p| p[1]).sum::<f64>() / n;
    let spread = points.iter().map(|p| ((p[0] - mx).powi(2) + (p[1] - my).powi(2)).sqrt()).sum::<f64>() / n;
    if spread < 1e-9 {
        return None;
    }
    let s = std::f64::consts::SQRT_2 / spread;
    Some(([s, -s * mx, -s * my], points.iter().map(|p| [s * (p[0] - mx), s * (p[1] - my)]).collect()))
}

fn multiply(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut c = [0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            c[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * b[k * 3 + j]).sum();
        }
    }
    c
}

/// Gaussian elimination with partial pivoting of an 8x8 system (augmented column 8).
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let f = a[row][col] / a[col][col];
                let pivot_row = a[col];
                for (value, pivot) in a[row].iter_mut().zip(pivot_row).skip(col) {
                    *value -= f * pivot;
                }
            }
        }
    }
    let mut x = [0.0; 8];
    for i in 0..8 {
        x[i] = a[i][8] / a[i][i];
    }
    Some(x)
}

pub fn apply(h: &Homography, p: [f64; 2]) -> [f64; 2] {
    let w = h[6] * p[0] + h[7] * p[1] + h[8];
    [(h[0] * p[0] + h[1] * p[1] + h[2]) / w, (h[3] * p[0] + h[4] * p[1] + h[5]) / w]
}

/// How far the nose departs from the plane the rest of the face moves with, between two
/// views: RMS distance of the held-out nose points from where the homography fitted on
/// [`PLANE`] puts them, over the eye distance. None when the fit is degenerate.
pub fn nose_parallax(reference: &[Point], current: &[Point]) -> Option<f32> {
    let xy = |p: &Point| [p[0] as f64, p[1] as f64];
    let from: Vec<_> = PLANE.iter().map(|&i| xy(&reference[i])).collect();
    let to: Vec<_> = PLANE.iter().map(|&i| xy(&current[i])).collect();
    let h = fit_homography(&from, &to)?;
    let squared: f64 = NOSE
        .iter()
        .map(|&i| {
            let predicted = apply(&h, xy(&reference[i]));
            let actual = xy(&current[i]);
            (predicted[0] - actual[0]).powi(2) + (predicted[1] - actual[1]).powi(2)
        })
        .sum();
    let scale = interocular(current).max(interocular(reference)) as f64;
    if scale <= 0.0 {
        return None;
    }
    Some(((squared / NOSE.len() as f64).sqrt() / scale) as f32)
}

/// How much the face's shape changed between two views beyond a similarity (shift, scale,
/// in-plane rotation): RMS residual of the best similarity fit of [`PLANE`], over the eye
/// distance. A head turn or a photo tilted in perspective changes it; sliding or rolling a
/// photo does not. Flatness is only judged once this is large enough to tell.
pub fn shape_change(reference: &[Point], current: &[Point]) -> f32 {
    let xy = |p: &Point| [p[0] as f64, p[1] as f64];
    let from: Vec<_> = PLANE.iter().map(|&i| xy(&reference[i])).collect();
    let to: Vec<_> = PLANE.iter().map(|&i| xy(&current[i])).collect();
    let scale = interocular(current).max(interocular(reference)) as f64;
    match similarity_residual(&from, &to) {
        Some(residual) if scale > 0.0 => (residual / scale) as f32,
        _ => 0.0,
    }
}

/// RMS distance (pixels) of `to` from the best similarity image of `from` (least squares
/// in complex numbers: `to - mean = s (from - mean)`); None for fewer than 2 points or
/// points all in one place.
pub fn similarity_residual(from: &[[f64; 2]], to: &[[f64; 2]]) -> Option<f64> {
    if from.len() != to.len() || from.len() < 2 {
        return None;
    }
    let n = from.len() as f64;
    let mean = |points: &[[f64; 2]]| {
        let (x, y) = points.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        [x / n, y / n]
    };
    let (a, b) = (mean(from), mean(to));
    let (mut num_re, mut num_im, mut den) = (0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (x, y, u, v) = (p[0] - a[0], p[1] - a[1], q[0] - b[0], q[1] - b[1]);
        num_re += u * x + v * y;
        num_im += v * x - u * y;
        den += x * x + y * y;
    }
    if den <= 0.0 {
        return None;
    }
    let (re, im) = (num_re / den, num_im / den);
    let squared: f64 = from
        .iter()
        .zip(to)
        .map(|(p, q)| {
            let (x, y) = (p[0] - a[0], p[1] - a[1]);
            (re * x - im * y + b[0] - q[0]).powi(2) + (im * x + re * y + b[1] - q[1]).powi(2)
        })
        .sum();
    Some((squared / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::landmarks::{LEFT_EYE, RIGHT_EYE};

    /// 468 points spread over a 100 x 100 square, deterministic, eyes 60 px apart.
    fn face() -> Vec<Point> {
        let mut points: Vec<Point> = (0..468).map(|i| [(i * 37 % 101) as f32, (i * 59 % 103) as f32, 0.0]).collect();
        for i in RIGHT_EYE.iter().take(2) {
            points[*i] = [20.0, 40.0, 0.0];
        }
        for i in LEFT_EYE.iter().take(2) {
            points[*i] = [80.0, 40.0, 0.0];
        }
        points
    }

    const TILT: Homography = [1.05, 0.08, 3.0, -0.04, 0.97, -2.0, 4e-4, -2e-4, 1.0];

    fn moved(points: &[Point], h: &Homography) -> Vec<Point> {
        points.iter().map(|p| apply(h, [p[0] as f64, p[1] as f64])).map(|[x, y]| [x as f32, y as f32, 0.0]).collect()
    }

    #[test]
    fn the_fit_recovers_a_homography() {
        let from: Vec<[f64; 2]> = face().iter().take(30).map(|p| [p[0] as f64, p[1] as f64]).collect();
        let to: Vec<[f64; 2]> = from.iter().map(|p| apply(&TILT, *p)).collect();
        let fitted = fit_homography(&from, &to).expect("a fit");
        for (a, b) in fitted.iter().zip(TILT) {
            assert!((a - b).abs() < 1e-6, "{fitted:?} vs {TILT:?}");
        }
        assert!(fit_homography(&from[..3], &to[..3]).is_none(), "three points do not fix a homography");
    }

    #[test]
    fn a_plane_moved_in_perspective_has_no_nose_parallax_and_a_head_has_some() {
        let reference = face();
        let photo = moved(&reference, &TILT);
        let flat = nose_parallax(&reference, &photo).expect("a fit");
        assert!(flat < 1e-4, "a plane: {flat}");
        assert!(shape_change(&reference, &photo) > 0.01, "the perspective tilt changes the shape");
        // A head: the nose points move 6 px (0.1 eye distances) off the plane's motion.
        let mut head = photo.clone();
        for i in NOSE {
            head[i][0] += 6.0;
        }
        let parallax = nose_parallax(&reference, &head).expect("a fit");
        assert!((parallax - 0.1).abs() < 0.01, "a head: {parallax}");
    }

    #[test]
    fn sliding_or_rolling_a_photo_is_no_shape_change() {
        let reference = face();
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        let similarity: Homography = [1.2 * c, -1.2 * s, 15.0, 1.2 * s, 1.2 * c, -7.0, 0.0, 0.0, 1.0];
        assert!(shape_change(&reference, &moved(&reference, &similarity)) < 1e-4);
    }
}
