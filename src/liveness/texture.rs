//! Flatness from the face's own pixels: where patches of its texture moved between the
//! session's reference frame and the current one.
//!
//! Face Mesh's landmarks are a learned 3-D face. On a photo turned in front of the camera
//! they keep the photo's own pose and move like a head (ACCURACY.md: a waved print's yaw
//! stays within 5 degrees, its landmark parallax reaches a head's), so the landmarks alone
//! cannot tell a plane from a head. The pixels can: every point of a photo moves by one
//! homography, while a head's nose tip, 3-4 cm in front of its eyes and cheeks
//! (canonical_face_model.obj), moves off their plane as soon as the head turns.
//!
//! At the reference frame a patch of brightness is kept around each of the [`FIT`] and
//! [`NOSE_TIP`] landmarks that has texture in every direction. In each later frame every
//! patch is looked for around that landmark's new position: the patch's grid bent by the
//! homography the landmarks give (so a tilt does not spoil the match), the best whole pixel
//! by normalised cross-correlation, then Lucas-Kanade steps to a small fraction of a pixel.
//! A homography is fitted to where the [`FIT`] patches went (the worst matches left out);
//! [`TextureMotion::parallax`] is how far it misses the [`NOSE_TIP`] patches and
//! [`TextureMotion::shape_change`] how far the [`FIT`] patches moved beyond a similarity
//! (the motion the flatness rule needs before it judges). Both are in eye distances, as
//! geometry.rs's landmark measures are.
//!
//! The patches are pixels: zeroized when the tracker is cleared (at each verdict) or dropped.

mod patch;

use zeroize::Zeroizing;

use crate::engine::landmarks::{LEFT_EYE, Point, RIGHT_EYE, interocular};
use crate::frame::Frame;
use crate::liveness::geometry::{self, Homography};
use patch::{Luma, PixelGrid, correlation, gradients, norm, normal_matrix, sample, sparse, weakest_gradient};

/// Landmarks on the rigid upper face, away from the nose, where a photo's texture and a
/// head's skin stay put: brows, forehead, temples, upper cheeks. No lids or eye corners
/// (a blink moves them: in bbal7p_crop it read as a plane's motion), no mouth or jaw
/// (speech moves them), no outline (a head's outline is its silhouette, not its skin).
pub const FIT: [usize; 46] = [
    70, 105, 107, 336, 334, 300, 46, 53, 52, 65, 55, 276, 283, 282, 295, 285, // brows
    10, 109, 338, 151, 67, 297, 103, 332, 104, 333, 108, 337, 69, 299, // forehead
    21, 251, 54, 284, // temples
    116, 345, 117, 118, 119, 100, 346, 347, 348, 329, 50, 280, // upper cheeks
];

/// The nose from its tip to its wings: 2.5-4.4 cm in front of the [`FIT`] points' mean
/// depth in MediaPipe's canonical face model.
pub const NOSE_TIP: [usize; 14] = [1, 4, 5, 19, 94, 2, 45, 275, 44, 274, 48, 278, 64, 294];

/// Patch radius in eye distances, and its bounds in pixels.
const PATCH_RADIUS: f32 = 1.0 / 5.0;
const PATCH_PIXELS: (f32, f32) = (6.0, 18.0);
/// Samples from a patch's centre to its edge, at most (13 x 13 samples).
const PATCH_HALF: i32 = 6;
/// How far from the landmark a patch is looked for, in eye distances, and its bounds in
/// pixels: Face Mesh's landmarks on a 30-px face are within 2-3 px of the texture.
const SEARCH_RADIUS: f32 = 0.12;
const SEARCH_PIXELS: (f32, f32) = (3.0, 12.0);
/// A patch is followed only if its brightness changes by at least this much (levels per
/// pixel, RMS) in its flattest direction: a smooth gradient matches itself anywhere along
/// its iso-lines (the aperture problem), and sensor noise of 2 levels alone gives 1.4.
const MIN_GRADIENT: f32 = 2.5;
/// A match with a lower correlation is not the patch.
const MIN_CORRELATION: f32 = 0.8;
/// Lucas-Kanade steps at most, and the step (pixels) under which it has converged.
const REFINE_STEPS: usize = 8;
const CONVERGED: f64 = 0.01;
/// Matches that must remain for a measurement: of [`FIT`] (8 unknowns of the homography,
/// and some to spare) and of [`NOSE_TIP`].
const MIN_FIT: usize = 12;
const MIN_NOSE: usize = 3;
/// Fit matches further from the homography than this many times the median distance (and
/// half a pixel) are left out and the homography fitted again.
const OUTLIER: f64 = 3.0;

/// The motion of the face's texture from the reference frame to the current one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextureMotion {
    /// Median distance of the nose patches from where the [`FIT`] patches' homography puts
    /// them, over the eye distance: near 0 for a plane, whatever its motion. The median,
    /// not the mean: the nose moves as one on a head, and a patch or two that matched the
    /// wrong texture must not make a plane a head.
    pub parallax: f32,
    /// RMS residual of the best similarity fit of the [`FIT`] patches, over the eye distance.
    pub shape_change: f32,
    /// Patches used, of [`FIT`] and [`NOSE_TIP`].
    pub matched: usize,
    /// How much the eyes' texture changed since the reference frame, where the plane puts
    /// them: 1 minus the patches' correlation, the mean of both eyes. A blink covers the
    /// iris with the lid; on a photo the eyes keep their texture whatever Face Mesh's lids
    /// read.
    pub eye_change: f32,
}

/// One patch of the reference frame: its landmark, centre, zero-mean samples, their
/// gradients (per sample step; 0 on the border) and the inverse of the Lucas-Kanade
/// normal matrix.
struct Patch {
    landmark: usize,
    centre: [f64; 2],
    values: Zeroizing<Vec<f32>>,
    /// Every other sample of `values`, made zero-mean again: the whole-pixel search's.
    sparse: Zeroizing<Vec<f32>>,
    gradients: Zeroizing<Vec<[f32; 2]>>,
    inverse_normal: [f64; 3],
}

struct Reference {
    patches: Vec<Patch>,
    /// Patches centred on each eye (its six landmarks' mean), when both have texture.
    eyes: Option<[Patch; 2]>,
    /// The reference frame's landmarks (x, y) that the bending homography is fitted from.
    landmarks: Zeroizing<Vec<[f64; 2]>>,
    /// Sample spacing in pixels and samples from centre to edge.
    spacing: f32,
    half: i32,
    interocular: f32,
}

/// Follows the face's texture from a session's first measured frame.
#[derive(Default)]
pub struct TextureTracker {
    reference: Option<Reference>,
}

impl TextureTracker {
    /// Feeds one frame and its best face's landmarks (image pixels): the motion from the
    /// reference frame, or None for the reference frame itself and for frames where too few
    /// patches matched.
    pub fn observe(&mut self, frame: &Frame<'_>, landmarks: &[Point]) -> Option<TextureMotion> {
        if landmarks.len() < 468 {
            return None;
        }
        // Every patch's landmark, and room for the patch bent and searched around it.
        let io = interocular(landmarks);
        let margin = 2.0 * (io * PATCH_RADIUS).clamp(PATCH_PIXELS.0, PATCH_PIXELS.1) + (io * SEARCH_RADIUS).clamp(SEARCH_PIXELS.0, SEARCH_PIXELS.1) + 4.0;
        let luma = Luma::around(frame, FIT.iter().chain(&NOSE_TIP).chain(&RIGHT_EYE).chain(&LEFT_EYE).map(|&i| xy(&landmarks[i])), margin as f64)?;
        match &self.reference {
            None => {
                self.reference = Reference::take(&luma, landmarks);
                None
            }
            Some(reference) => reference.motion_to(&luma, landmarks),
        }
    }

    /// Whether a reference frame is kept.
    pub fn has_reference(&self) -> bool {
        self.reference.is_some()
    }

    /// Forgets the reference frame's patches (zeroized).
    pub fn clear(&mut self) {
        self.reference = None;
    }
}

fn xy(p: &Point) -> [f64; 2] {
    [p[0] as f64, p[1] as f64]
}

/// The local linear part of `h` at `p` (row-major 2x2), by central differences.
fn jacobian(h: &Homography, p: [f64; 2]) -> [f64; 4] {
    let e = 0.5;
    let (xp, xm) = (geometry::apply(h, [p[0] + e, p[1]]), geometry::apply(h, [p[0] - e, p[1]]));
    let (yp, ym) = (geometry::apply(h, [p[0], p[1] + e]), geometry::apply(h, [p[0], p[1] - e]));
    [(xp[0] - xm[0]) / (2.0 * e), (yp[0] - ym[0]) / (2.0 * e), (xp[1] - xm[1]) / (2.0 * e), (yp[1] - ym[1]) / (2.0 * e)]
}

/// The landmarks the bending homography is fitted on: all the patches' (the bend only
/// shapes the search grid; what is measured is the texture's motion).
fn bend_points(landmarks: &[Point]) -> Vec<[f64; 2]> {
    FIT.iter().chain(&NOSE_TIP).map(|&i| xy(&landmarks[i])).collect()
}

impl Reference {
    fn take(luma: &Luma, landmarks: &[Point]) -> Option<Reference> {
        let io = interocular(landmarks);
        if !io.is_finite() || io <= 0.0 {
            return None;
        }
        let radius = (io * PATCH_RADIUS).clamp(PATCH_PIXELS.0, PATCH_PIXELS.1);
        let half = (radius.round() as i32).min(PATCH_HALF);
        let spacing = radius / half as f32;
        let identity = [1.0, 0.0, 0.0, 1.0];
        let patches = FIT
            .iter()
            .chain(&NOSE_TIP)
            .filter_map(|&landmark| {
                let centre = xy(&landmarks[landmark]);
                let values = sample(luma, centre, identity, spacing, half, 1)?;
                let gradients = gradients(&values, half);
                let [xx, xy, yy] = normal_matrix(&gradients);
                if weakest_gradient([xx, xy, yy], values.len()) < (MIN_GRADIENT * spacing) as f64 {
                    return None;
                }
                let det = xx * yy - xy * xy;
                let inverse_normal = [yy / det, -xy / det, xx / det];
                let sparse = Zeroizing::new(sparse(&values, half));
                Some(Patch { landmark, centre, values, sparse, gradients: Zeroizing::new(gradients), inverse_normal })
            })
            .collect();
        let eye = |eye: [usize; 6]| {
            let centre = eye.iter().map(|&i| xy(&landmarks[i])).fold([0.0, 0.0], |a, p| [a[0] + p[0] / 6.0, a[1] + p[1] / 6.0]);
            let values = sample(luma, centre, identity, spacing, half, 1)?;
            Some(Patch {
                landmark: eye[0],
                centre,
                values,
                sparse: Zeroizing::new(Vec::new()),
                gradients: Zeroizing::new(Vec::new()),
                inverse_normal: [0.0; 3],
            })
        };
        let eyes = eye(RIGHT_EYE).zip(eye(LEFT_EYE)).map(|(r, l)| [r, l]);
        Some(Reference { patches, eyes, landmarks: Zeroizing::new(bend_points(landmarks)), spacing, half, interocular: io })
    }

    /// The whole pixel around `guess` (within `search` pixels) where the patch, its grid
    /// bent by `jacobian`, correlates best, on every other sample of the patch.
    fn search(&self, patch: &Patch, luma: &Luma, guess: [f64; 2], jacobian: [f64; 4], search: f32) -> Option<[f64; 2]> {
        let reach = search.round() as i32;
        let grid = PixelGrid::new(luma, guess, jacobian, self.spacing, self.half, 2)?;
        let mut values = Zeroizing::new(Vec::with_capacity(patch.sparse.len()));
        let mut best = (f32::MIN, None);
        for sy in -reach..=reach {
            for sx in -reach..=reach {
                if !grid.sample_shifted(luma, (sx, sy), &mut values) {
                    continue;
                }
                let at = [guess[0] + sx as f64, guess[1] + sy as f64];
                let score = correlation(&patch.sparse, &values);
                if score > best.0 {
                    best = (score, Some(at));
                }
            }
        }
        best.1
    }

    /// Lucas-Kanade from `start` on the whole patch, its gain matched each step: the step
    /// d (sample units) solves normal * d = -sum gradient * (current - reference). None if
    /// it wanders more than 2 pixels or ends where the patch does not correlate.
    fn refine(&self, patch: &Patch, luma: &Luma, start: [f64; 2], jacobian: [f64; 4]) -> Option<[f64; 2]> {
        let mut at = start;
        let scale = self.spacing as f64;
        for _ in 0..REFINE_STEPS {
            let values = sample(luma, at, jacobian, self.spacing, self.half, 1)?;
            let gain = norm(&patch.values) / norm(&values).max(f32::EPSILON);
            let (mut bx, mut by) = (0.0f64, 0.0f64);
            for ((c, r), g) in values.iter().zip(patch.values.iter()).zip(patch.gradients.iter()) {
                let error = (gain * c - r) as f64;
                bx += g[0] as f64 * error;
                by += g[1] as f64 * error;
            }
            let [ixx, ixy, iyy] = patch.inverse_normal;
            let (dx, dy) = (-(ixx * bx + ixy * by) * scale, -(ixy * bx + iyy * by) * scale);
            let step = [jacobian[0] * dx + jacobian[1] * dy, jacobian[2] * dx + jacobian[3] * dy];
            at = [at[0] + step[0], at[1] + step[1]];
            if (at[0] - start[0]).abs() > 2.0 || (at[1] - start[1]).abs() > 2.0 {
                return None;
            }
            if step[0].hypot(step[1]) < CONVERGED {
                break;
            }
        }
        let values = sample(luma, at, jacobian, self.spacing, self.half, 1)?;
        (correlation(&patch.values, &values) >= MIN_CORRELATION).then_some(at)
    }

    /// Two passes: every patch found with its grid bent by the landmarks' homography, then
    /// refined again with it bent by the homography of the texture's own first fit (on a
    /// photo Face Mesh's landmarks keep the photo's pose, so their bend can be 10 % off).
    fn motion_to(&self, luma: &Luma, landmarks: &[Point]) -> Option<TextureMotion> {
        let io = interocular(landmarks).max(self.interocular);
        let bend = geometry::fit_homography(&self.landmarks, &bend_points(landmarks))?;
        let search = (io * SEARCH_RADIUS).clamp(SEARCH_PIXELS.0, SEARCH_PIXELS.1);
        let mut found = Vec::new();
        for patch in &self.patches {
            let guess = xy(&landmarks[patch.landmark]);
            let j = jacobian(&bend, patch.centre);
            if let Some(at) = self.search(patch, luma, guess, j, search).and_then(|start| self.refine(patch, luma, start, j)) {
                found.push((patch, at));
            }
        }
        let mut first: Vec<_> = found.iter().filter(|(p, _)| !NOSE_TIP.contains(&p.landmark)).map(|(p, at)| (p.centre, *at)).collect();
        let bend = fit_without_outliers(&mut first)?;
        let (mut fit, mut nose) = (Vec::new(), Vec::new());
        for (patch, at) in found {
            let Some(at) = self.refine(patch, luma, at, jacobian(&bend, patch.centre)) else { continue };
            if NOSE_TIP.contains(&patch.landmark) { &mut nose } else { &mut fit }.push((patch.centre, at));
        }
        if nose.len() < MIN_NOSE {
            return None;
        }
        let plane = fit_without_outliers(&mut fit)?;
        let (fit_from, fit_to): (Vec<_>, Vec<_>) = fit.iter().copied().unzip();
        let io = io as f64;
        let parallax = median(nose.iter().map(|(p, q)| distance(geometry::apply(&plane, *p), *q)).collect()) / io;
        let shape_change = geometry::similarity_residual(&fit_from, &fit_to)? / io;
        let eye_change = self.eye_change(luma, &plane).unwrap_or(0.0);
        Some(TextureMotion { parallax: parallax as f32, shape_change: shape_change as f32, matched: fit.len() + nose.len(), eye_change })
    }

    /// 1 minus the eye patches' best correlation within a pixel of where `plane` puts
    /// them (a head's eyes sit a little off its plane), the mean of both eyes.
    fn eye_change(&self, luma: &Luma, plane: &Homography) -> Option<f32> {
        let eyes = self.eyes.as_ref()?;
        let mut change = 0.0;
        for eye in eyes {
            let (at, j) = (geometry::apply(plane, eye.centre), jacobian(plane, eye.centre));
            let best = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| [at[0] + dx as f64, at[1] + dy as f64]))
                .filter_map(|p| sample(luma, p, j, self.spacing, self.half, 1))
                .map(|v| correlation(&eye.values, &v))
                .fold(f32::MIN, f32::max);
            if best == f32::MIN {
                return None;
            }
            change += (1.0 - best) / 2.0;
        }
        Some(change)
    }
}

/// The homography of the matches `(from, to)`, fitted again without those far from the
/// first fit (a patch that locked onto the wrong texture); `matches` keeps the inliers.
fn fit_without_outliers(matches: &mut Vec<([f64; 2], [f64; 2])>) -> Option<Homography> {
    let fit = |matches: &[([f64; 2], [f64; 2])]| {
        if matches.len() < MIN_FIT {
            return None;
        }
        let (from, to): (Vec<_>, Vec<_>) = matches.iter().copied().unzip();
        geometry::fit_homography(&from, &to)
    };
    let first = fit(matches)?;
    let misses: Vec<f64> = matches.iter().map(|(p, q)| distance(geometry::apply(&first, *p), *q)).collect();
    let mut sorted = misses.clone();
    sorted.sort_by(f64::total_cmp);
    let limit = (OUTLIER * sorted[sorted.len() / 2]).max(0.5);
    let mut misses = misses.into_iter();
    matches.retain(|_| misses.next().is_some_and(|m| m <= limit));
    fit(matches)
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests;
