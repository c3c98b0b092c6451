//! Frames larger than the device can hold (a 48-megapixel phone photo is 144 MB as RGB8;
//! lavapipe binds 128 MiB): downscaled on the CPU before the upload by the smallest whole
//! factor that fits, checked, and the report scaled back to the original's pixels.
//!
//! The crop rule (Silent-Face's CropImage: a box scaled by 2.7 or 4.0, shifted inside the
//! image) then runs on the smaller image exactly as on any other, so its arithmetic holds;
//! MiniFASNet sees an 80x80 resample of the crop either way, and a face large enough to
//! matter in such a photo is far more than 80 pixels across after the downscale.

use image::imageops::{FilterType, resize};
use zeroize::{Zeroize, Zeroizing};

use crate::engine::Report;
use crate::error::{Error, Result};
use crate::frame::Frame;

/// The smallest whole factor that brings `width` x `height` RGB8 (padded to 4 bytes) under
/// `limit` bytes.
pub(crate) fn factor(width: u32, height: u32, limit: u64) -> u32 {
    let bytes = |k: u32| (width.div_ceil(k) as u64 * height.div_ceil(k) as u64 * 3).div_ceil(4) * 4;
    (2..).find(|&k| bytes(k) <= limit).unwrap_or(u32::MAX)
}

/// The frame as RGB8 shrunk by `k` (a triangle filter over each k x k block), zeroized
/// when dropped, with its width and height.
pub(crate) fn shrink(frame: &Frame<'_>, k: u32) -> Result<(Zeroizing<Vec<u8>>, u32, u32)> {
    let (w, h) = (frame.width(), frame.height());
    let mut rgb = frame.to_rgb8();
    let full =
        image::RgbImage::from_raw(w, h, std::mem::take(&mut *rgb)).ok_or_else(|| Error::Frame { reason: format!("{w}x{h} RGB8 did not fit its own size") })?;
    let (sw, sh) = (w.div_ceil(k), h.div_ceil(k));
    let small = resize(&full, sw, sh, FilterType::Triangle);
    full.into_raw().zeroize();
    Ok((Zeroizing::new(small.into_raw()), sw, sh))
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
    fn the_factor_is_the_smallest_that_fits() {
        // 6000x8000 RGB8 is 144 MB: half each way (36 MB) fits lavapipe's 128 MiB.
        assert_eq!(factor(6000, 8000, 134_217_728), 2);
        assert_eq!(factor(6000, 8000, 36_000_000), 2);
        assert_eq!(factor(6000, 8000, 35_999_999), 3);
        // 7x5 by 3 is 3x2 pixels, 18 bytes padded to 20; by 4, 2x2 pixels, 12 bytes.
        assert_eq!(factor(7, 5, 12), 4);
    }
}
