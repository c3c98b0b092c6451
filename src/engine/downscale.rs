//! Frames larger than the device can hold (a 48-megapixel phone photo is 144 MB as RGB8;
//! lavapipe binds 128 MiB): downscaled on the CPU before the upload by the smallest whole
//! factor that fits, checked, and the report scaled back to the original's pixels. The
//! one CPU pass over pixels in the engine: each k x k block averaged (a box filter, which
//! is what an area downscale is), written into memory zeroed when the check ends; the
//! frame's RGB8 copy it reads from is zeroed too, and no other buffer holds pixels. The
//! one CPU pass over pixels in the engine: each k x k block averaged (a box filter, which
//! is what an area downscale is), written into memory zeroed when the check ends; the
//! frame's RGB8 copy it reads from is zeroed too, and no other buffer holds pixels.
//!
//! The crop rule (Silent-Face's CropImage: a box scaled by 2.7 or 4.0, shifted inside the
//! image) then runs on the smaller image exactly as on any other, so its arithmetic holds;
//! MiniFASNet sees an 80x80 resample of the crop either way, and a face large enough to
//! matter in such a photo is far more than 80 pixels across after the downscale.

use zeroize::Zeroizing;

use crate::engine::Report;
use crate::error::{Error, Result};
use crate::frame::Frame;

/// The smallest whole factor that brings `width` x `height` RGB8 (padded to 4 bytes) under
/// `limit` bytes.
pub(crate) fn factor(width: u32, height: u32, limit: u64) -> u32 {
    let bytes = |k: u32| (width.div_ceil(k) as u64 * height.div_ceil(k) as u64 * 3).div_ceil(4) * 4;
    (2..).find(|&k| bytes(k) <= limit).unwrap_or(u32::MAX)
}

/// The frame as RGB8 shrunk by `k` (each k x k block averaged; the blocks of the last row
/// and column are cut by the frame's edge), zeroized when dropped, with its width and height.
pub(crate) fn shrink(frame: &Frame<'_>, k: u32) -> Result<(Zeroizing<Vec<u8>>, u32, u32)> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let rgb = frame.to_rgb8();
    if k == 0 || rgb.len() != w * h * 3 {
        return Err(Error::Frame { reason: format!("{w}x{h} RGB8 did not fit its own size") });
    }
    let k = k as usize;
    let (sw, sh) = (w.div_ceil(k), h.div_ceil(k));
    let mut small = Zeroizing::new(vec![0u8; sw * sh * 3]);
    // One row of block sums at a time: (r, g, b, pixels) per output pixel.
    let mut sums = Zeroizing::new(vec![[0u32; 4]; sw]);
    for (band, out) in small.chunks_exact_mut(sw * 3).enumerate() {
        sums.iter_mut().for_each(|s| *s = [0; 4]);
        for row in rgb.chunks_exact(w * 3).skip(band * k).take(k) {
            for (x, pixel) in row.chunks_exact(3).enumerate() {
                let s = &mut sums[x / k];
                *s = [s[0] + pixel[0] as u32, s[1] + pixel[1] as u32, s[2] + pixel[2] as u32, s[3] + 1];
            }
        }
        for (o, s) in out.chunks_exact_mut(3).zip(sums.iter()) {
            let n = s[3].max(1);
            // Rounded to nearest.
            o.copy_from_slice(&[((s[0] + n / 2) / n) as u8, ((s[1] + n / 2) / n) as u8, ((s[2] + n / 2) / n) as u8]);
        }
    }
    Ok((small, sw as u32, sh as u32))
}

/// Puts a report of the shrunk frame into the original's pixels.
pub(crate) fn scale_back(report: &mut Report, width: u32, height: u32) {
    let (sx, sy) = (width as f32 / report.width as f32, height as f32 / report.height as f32);
    report.width = width;
    report.height = height;
    for face in &mut report.faces {
        let b = &mut face.face_box;
        (b.x0, b.y0, b.x1, b.y1) = (b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy);
        for p in &mut face.keypoints {
            *p = [p[0] * sx, p[1] * sy];
        }
        for p in face.landmarks.iter_mut().flatten() {
            // z is in the scale of x (Face Mesh's convention).
            *p = [p[0] * sx, p[1] * sy, p[2] * sx];
        }
        if let Some(l) = &mut face.liveness {
            let round = |v: i32, s: f32| (v as f32 * s).round() as i32;
            let [x, y, bw, bh] = l.face_box;
            l.face_box = [round(x, sx), round(y, sy), round(bw, sx), round(bh, sy)];
            for c in &mut l.crops {
                *c = [round(c[0], sx), round(c[1], sy), round(c[2], sx), round(c[3], sy)];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_averaged_and_the_edges_cut() {
        // 3x2 pixels by 2: one full 2x2 block and a 1x2 block at the right edge.
        let rgb = [10, 20, 30, 20, 30, 40, 200, 0, 0, 30, 40, 50, 40, 50, 60, 100, 0, 1];
        let (small, w, h) = shrink(&Frame::rgb8(3, 2, &rgb).unwrap(), 2).unwrap();
        assert_eq!((w, h), (2, 1));
        assert_eq!(&small[..], &[25, 35, 45, 150, 0, 1]);
    }

    #[test]
    fn the_factor_is_the_smallest_that_fits() {
        // 6000x8000 RGB8 is 144 MB: half each way (36 MB) fits lavapipe's 128 MiB.
        assert_eq!(factor(6000, 8000, 134_217_728), 2);
        assert_eq!(factor(6000, 8000, 36_000_000), 2);
        assert_eq!(factor(6000, 8000, 35_999_999), 3);
        // 7x5 by 3 is 3x2 pixels, 18 bytes padded to 20; by 4, 2x2 pixels, 12 bytes.
        assert_eq!(factor(7, 5, 12), 4);
    }
}
