//! What comes back from the GPU after a check: one `#[repr(C)]` struct, [`Readback`], that
//! the check's last commands copy the result buffers into (each at its field's offset) and
//! the CPU reads as it is. Each part mirrors the layout the WGSL writes (detect.wgsl
//! `detections`, roi.wgsl `regions` and `crops`, warp.wgsl `quality`, the networks'
//! outputs); the buffers are sized from these structs.

use std::mem::{offset_of, size_of};

use bytemuck::{Pod, Zeroable};
use zeroize::Zeroize;

use crate::engine::landmarks;
use crate::engine::report::{Face, FaceBox, FaceQuality, Liveness, Report, Timings};
use crate::models::facemesh::LANDMARKS;

/// Faces kept after NMS (`MAX_DETECTIONS` in detect.wgsl).
pub(super) const MAX_DETECTIONS: usize = 16;

/// One face after NMS, relative to the image (MediaPipe's RELATIVE_BOUNDING_BOX); a
/// `DETECTION_STRIDE` (20-float) record of detect.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct Detection {
    pub score: f32,
    pub x_min: f32,
    pub y_min: f32,
    pub width: f32,
    pub height: f32,
    /// Right eye, left eye, nose tip, mouth, right ear, left ear.
    pub keypoints: [[f32; 2]; 6],
    /// How many anchors the weighted NMS blended.
    pub anchors_blended: f32,
    pub _padding: [f32; 2],
}

/// detect.wgsl `detections`: [count, 0, 0, 0] then the records, best first.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct Detections {
    pub count: f32,
    pub _padding: [f32; 3],
    pub faces: [Detection; MAX_DETECTIONS],
}

/// roi.wgsl `regions`: the Face Mesh ROI in pixels, then the 468 landmarks in pixels.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct FaceRegion {
    pub centre: [f32; 2],
    pub size: [f32; 2],
    /// Radians.
    pub rotation: f32,
    /// 1 when a face was found.
    pub valid: f32,
    pub _padding: [f32; 2],
    pub landmarks: [[f32; 3]; LANDMARKS],
}

/// A crop record of roi.wgsl `crops`, read by warp.wgsl's resize.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct CropRecord {
    /// Inclusive [left, top, right, bottom].
    pub rect: [i32; 4],
    /// 1 when a face was found.
    pub valid: i32,
    /// Radians the upright crop was turned by (roi.wgsl `upright_crop`); 0 for Silent-Face's.
    pub rotation: f32,
    pub _padding: [i32; 2],
}

/// roi.wgsl `crops`: MiniFASNetV2's (2.7) and V1SE's (4.0) crops, then the face box
/// [x, y, w, h] they were cut around.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct Crops {
    pub minifasnet: [CropRecord; 2],
    pub face_box: [i32; 4],
}

/// Most faces after the best that MiniFASNet judges in one check (EngineOptions::max_faces
/// is at most this plus one).
pub const MAX_OTHER_FACES: usize = 7;

/// roi.wgsl `other_crops`: one face after the best, its two crops and its face box.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct OtherFaceCrops {
    pub minifasnet: [CropRecord; 2],
    pub face_box: [i32; 4],
    pub _padding: [i32; 4],
}

/// warp.wgsl `quality` of the best face.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct Quality {
    pub brightness: f32,
    pub contrast: f32,
    pub sharpness: f32,
    pub background: f32,
    /// 1 when measured.
    pub valid: f32,
    pub _padding: [f32; 3],
}

/// Everything a check reads back (7,104 bytes for the best face, 128 more a face after it).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct Readback {
    pub detections: Detections,
    pub region: FaceRegion,
    pub crops: Crops,
    /// Face Mesh's face-presence logit (first lane of a 4-channel group).
    pub face_flag: [f32; 4],
    /// MiniFASNetV2's softmax (3 classes, padded to 4).
    pub minifasnet_v2: [f32; 4],
    /// MiniFASNetV1SE's softmax.
    pub minifasnet_v1se: [f32; 4],
    pub quality: Quality,
    /// The faces after the best: their crops, then the two softmaxes of each (the batch).
    pub other_crops: [OtherFaceCrops; MAX_OTHER_FACES],
    pub other_v2: [[f32; 4]; MAX_OTHER_FACES],
    pub other_v1se: [[f32; 4]; MAX_OTHER_FACES],
}

/// Readback holds frame-derived values: erased by overwriting its bytes.
impl Zeroize for Readback {
    fn zeroize(&mut self) {
        bytemuck::bytes_of_mut(self).zeroize();
    }
}

/// Which part of [`Readback`] a source buffer fills: (offset, bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    Detections,
    Region,
    Crops,
    FaceFlag,
    MiniFasNetV2,
    MiniFasNetV1Se,
    Quality,
    OtherCrops,
    OtherMiniFasNetV2,
    OtherMiniFasNetV1Se,
}

impl Part {
    /// Where the part lies in the readback buffer and how long it is.
    pub fn range(self) -> (u64, u64) {
        let (offset, size) = match self {
            Part::Detections => (offset_of!(Readback, detections), size_of::<Detections>()),
            Part::Region => (offset_of!(Readback, region), size_of::<FaceRegion>()),
            Part::Crops => (offset_of!(Readback, crops), size_of::<Crops>()),
            Part::FaceFlag => (offset_of!(Readback, face_flag), size_of::<[f32; 4]>()),
            Part::MiniFasNetV2 => (offset_of!(Readback, minifasnet_v2), size_of::<[f32; 4]>()),
            Part::MiniFasNetV1Se => (offset_of!(Readback, minifasnet_v1se), size_of::<[f32; 4]>()),
            Part::Quality => (offset_of!(Readback, quality), size_of::<Quality>()),
            Part::OtherCrops => (offset_of!(Readback, other_crops), size_of::<[OtherFaceCrops; MAX_OTHER_FACES]>()),
            Part::OtherMiniFasNetV2 => (offset_of!(Readback, other_v2), size_of::<[[f32; 4]; MAX_OTHER_FACES]>()),
            Part::OtherMiniFasNetV1Se => (offset_of!(Readback, other_v1se), size_of::<[[f32; 4]; MAX_OTHER_FACES]>()),
        };
        (offset as u64, size as u64)
    }
}

/// Bytes of the readback buffer.
pub(super) const READBACK_BYTES: u64 = size_of::<Readback>() as u64;

/// One face's MiniFASNet result from its softmaxes (padded to 4) and crop records.
fn liveness(v2: [f32; 4], v1se: [f32; 4], crops: &[CropRecord; 2], face_box: [i32; 4]) -> Liveness {
    let [v2, v1se] = [v2, v1se].map(|p| [p[0], p[1], p[2]]);
    let rects = crops.map(|c| c.rect);
    Liveness { crop_rotation: crops[0].rotation, ..Liveness::from_softmaxes(v2, v1se, face_box, rects) }
}

impl Readback {
    /// The report of a `width` x `height` frame, with the best face's landmarks when asked.
    /// Boxes and keypoints come back relative to the image and are scaled to its pixels;
    /// only the best face has landmarks, quality and pose (MediaPipe's num_faces 1); the
    /// best face has its liveness, and the next `other_faces` faces theirs (the batch).
    pub fn report(&self, width: u32, height: u32, with_landmarks: bool, other_faces: usize) -> Report {
        let (w, h) = (width as f32, height as f32);
        let count = (self.detections.count.max(0.0) as usize).min(MAX_DETECTIONS);
        let faces = self.detections.faces[..count].iter().enumerate().map(|(i, d)| {
            let best = i == 0;
            Face {
                face_box: FaceBox { x0: d.x_min * w, y0: d.y_min * h, x1: (d.x_min + d.width) * w, y1: (d.y_min + d.height) * h },
                score: d.score,
                keypoints: d.keypoints.map(|[x, y]| [x * w, y * h]),
                landmarks: (best && with_landmarks).then(|| self.region.landmarks.to_vec()),
                presence: if best { 1.0 / (1.0 + (-self.face_flag[0]).exp()) } else { 0.0 },
                quality: (best && self.quality.valid > 0.0).then_some(FaceQuality {
                    brightness: self.quality.brightness,
                    contrast: self.quality.contrast,
                    sharpness: self.quality.sharpness,
                    background: self.quality.background,
                }),
                liveness: if best {
                    Some(liveness(self.minifasnet_v2, self.minifasnet_v1se, &self.crops.minifasnet, self.crops.face_box))
                } else {
                    let other = i - 1;
                    (other < other_faces.min(MAX_OTHER_FACES)).then(|| {
                        let crops = &self.other_crops[other];
                        liveness(self.other_v2[other], self.other_v1se[other], &crops.minifasnet, crops.face_box)
                    })
                },
                pose: best.then(|| landmarks::pose(&self.region.landmarks)),
                eye_distance: best.then(|| landmarks::interocular(&self.region.landmarks)),
            }
        });
        Report { width, height, faces: faces.collect(), timings: Timings::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::report::Label;

    fn detection(score: f32, x: f32, y: f32) -> Detection {
        let mut d = Detection::zeroed();
        (d.score, d.x_min, d.y_min, d.width, d.height) = (score, x, y, 0.25, 0.5);
        d.keypoints[2] = [x + 0.125, y + 0.25];
        d
    }

    fn two_faces() -> Readback {
        let mut r = Readback::zeroed();
        r.detections.count = 2.0;
        r.detections.faces[0] = detection(0.9, 0.5, 0.25);
        r.detections.faces[1] = detection(0.6, 0.0, 0.0);
        r.region.landmarks[467] = [10.0, 20.0, -3.0];
        r.face_flag[0] = 0.0;
        r.minifasnet_v2 = [0.1, 0.8, 0.1, 0.0];
        r.minifasnet_v1se = [0.3, 0.6, 0.1, 0.0];
        r.crops.face_box = [1, 2, 3, 4];
        r.crops.minifasnet[1].rect = [5, 6, 7, 8];
        (r.quality.brightness, r.quality.valid) = (120.0, 1.0);
        r.other_v2[0] = [0.7, 0.2, 0.1, 0.0];
        r.other_v1se[0] = [0.5, 0.3, 0.2, 0.0];
        r.other_crops[0].face_box = [9, 10, 11, 12];
        r.other_crops[0].minifasnet[0].rect = [13, 14, 15, 16];
        r
    }

    #[test]
    fn the_readback_is_laid_out_as_the_wgsl_writes_it() {
        // detect.wgsl: 4 + 16 x 20 floats; roi.wgsl: 8 + 468 x 3 floats, 2 x 8 + 4 ints.
        assert_eq!(size_of::<Detections>(), (4 + MAX_DETECTIONS * 20) * 4);
        assert_eq!(size_of::<FaceRegion>(), (8 + LANDMARKS * 3) * 4);
        assert_eq!(size_of::<Crops>(), 20 * 4);
        // roi.wgsl OTHER_FACE_INTS: 24 ints a face after the best.
        assert_eq!(size_of::<OtherFaceCrops>(), 24 * 4);
        assert_eq!(READBACK_BYTES, 7104 + MAX_OTHER_FACES as u64 * (24 + 4 + 4) * 4);
        assert_eq!(Part::Region.range(), (1296, 5648));
        assert_eq!(Part::Quality.range(), (7072, 32));
        assert_eq!(Part::OtherCrops.range(), (7104, 7 * 96));
    }

    #[test]
    fn boxes_and_keypoints_come_back_in_image_pixels() {
        let report = two_faces().report(640, 480, false, 0);
        assert_eq!(report.faces.len(), 2);
        let best = &report.faces[0];
        assert_eq!(best.face_box, FaceBox { x0: 320.0, y0: 120.0, x1: 480.0, y1: 360.0 });
        assert_eq!(best.keypoints[2], [400.0, 240.0]);
        assert_eq!(best.presence, 0.5);
        assert!(best.landmarks.is_none(), "landmarks only when asked");
    }

    #[test]
    fn only_the_best_face_gets_landmarks_quality_and_liveness() {
        let report = two_faces().report(640, 480, true, 0);
        let (best, second) = (&report.faces[0], &report.faces[1]);
        assert_eq!(best.landmarks.as_ref().map(|l| l[467]), Some([10.0, 20.0, -3.0]));
        assert_eq!(best.quality.map(|q| q.brightness), Some(120.0));
        let liveness = best.liveness.as_ref().expect("the best face's liveness");
        assert_eq!(liveness.label, Label::Live);
        assert!((liveness.live - 0.7).abs() < 1e-6);
        assert_eq!(liveness.face_box, [1, 2, 3, 4]);
        assert_eq!(liveness.crops[1], [5, 6, 7, 8]);
        assert!(second.landmarks.is_none() && second.quality.is_none() && second.liveness.is_none());
        assert_eq!(second.presence, 0.0);
    }

    #[test]
    fn the_faces_after_the_best_get_their_own_liveness_from_the_batch() {
        let report = two_faces().report(640, 480, false, 3);
        let second = report.faces[1].liveness.as_ref().expect("the second face's liveness");
        assert_eq!(second.label, Label::Spoof);
        assert!((second.live - 0.25).abs() < 1e-6);
        assert_eq!((second.face_box, second.crops[0]), ([9, 10, 11, 12], [13, 14, 15, 16]));
        assert!(report.faces[1].landmarks.is_none() && report.faces[1].quality.is_none() && report.faces[1].pose.is_none());
        // Only as many as were judged; the best face's own is unchanged.
        assert!(two_faces().report(640, 480, false, 0).faces[1].liveness.is_none());
        assert_eq!(report.faces[0].liveness.as_ref().map(|l| l.face_box), Some([1, 2, 3, 4]));
    }

    #[test]
    fn a_count_out_of_range_is_clamped_not_trusted() {
        let mut r = two_faces();
        r.detections.count = 1e9;
        assert_eq!(r.report(10, 10, false, 0).faces.len(), MAX_DETECTIONS);
        r.detections.count = -3.0;
        assert!(r.report(10, 10, false, 0).faces.is_empty());
        r.detections.count = f32::NAN;
        assert!(r.report(10, 10, false, 0).faces.is_empty());
    }

    #[test]
    fn zeroize_clears_every_byte() {
        let mut r = two_faces();
        r.zeroize();
        assert!(bytemuck::bytes_of(&r).iter().all(|b| *b == 0));
    }
}
