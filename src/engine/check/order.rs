//! The order of a check's dispatches: its three stages, each the one list that recording,
//! counting and per-dispatch timing walk (check.rs builds the dispatches and runs the frame).

use crate::engine::check::Check;
use crate::engine::other_faces::INDIRECT_ARGS_BYTES;
use crate::engine::readback::Part;
use crate::engine::track::FaceSource;
use crate::gpu::Dispatch;

/// The three stages of a check, as `liveshade bench` times them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Letterbox, BlazeFace, decoding and NMS, face quality, the regions; in a tracked
    /// frame, only the Face Mesh ROI from the region kept from the frame before.
    Detection,
    /// The Face Mesh warp, Face Mesh, the landmark projection, and in a session the region
    /// kept for the next frame; in a tracked frame then the face's box from its landmarks,
    /// face quality and the crops' regions.
    Landmarks,
    /// The two crops, MiniFASNetV2 and V1SE, of the best face, then of the other faces
    /// judged (one batch for each network).
    Liveness,
}

impl Stage {
    /// Every stage, in the order a check runs them.
    pub const ALL: [Stage; 3] = [Stage::Detection, Stage::Landmarks, Stage::Liveness];

    /// The name `bench` prints.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Detection => "detection",
            Stage::Landmarks => "landmarks",
            Stage::Liveness => "liveness",
        }
    }
}

impl Check {
    /// Dispatches recorded per check.
    pub fn dispatch_count(&self) -> usize {
        let mut count = 0;
        for stage in Stage::ALL {
            self.visit_stage(stage, &mut |_| count += 1);
        }
        count
    }

    /// Calls `visit` with each dispatch of one stage, in the order they run.
    pub fn visit_stage<'s>(&'s self, stage: Stage, visit: &mut dyn FnMut(&'s Dispatch)) {
        self.visit_best_face(stage, visit);
        if stage == Stage::Liveness && self.all_faces {
            if let Some(gate) = self.others.as_ref().and_then(|o| o.gate.as_ref()) {
                visit(&gate.dispatch);
            }
            self.visit_other_faces(visit);
        }
    }

    /// The stage's dispatches for the best face (every dispatch of detection and landmarks).
    fn visit_best_face<'s>(&'s self, stage: Stage, visit: &mut dyn FnMut(&'s Dispatch)) {
        let [letterbox, face_mesh, crop_v2, crop_v1se] = [0, 1, 2, 3].map(|i| &self.frame_readers.resamples[i]);
        let tracked = self.source.tracks();
        let regions = [&self.frame_readers.face_quality, &self.faces.face_regions];
        match stage {
            Stage::Detection if tracked => visit(&self.tracking.track_region),
            Stage::Detection => {
                visit(letterbox);
                self.blazeface.graph().dispatches_iter().for_each(&mut *visit);
                visit(&self.faces.detect);
                regions.into_iter().for_each(visit);
            }
            Stage::Landmarks => {
                self.face_warp_f64.iter().for_each(&mut *visit);
                visit(face_mesh);
                self.facemesh.graph().dispatches_iter().for_each(&mut *visit);
                visit(&self.faces.project_landmarks);
                if self.source != FaceSource::Detect {
                    visit(&self.tracking.keep_track);
                }
                if tracked {
                    // The box from this frame's landmarks, then its quality and crops.
                    regions.into_iter().for_each(visit);
                }
            }
            // Each crop right before its network: with one shared pool, V1SE's input may be a
            // buffer MiniFASNetV2 used (BufferArena::share_one_pool).
            Stage::Liveness => {
                visit(crop_v2);
                self.v2.graph().dispatches_iter().for_each(&mut *visit);
                visit(crop_v1se);
                self.v1se.graph().dispatches_iter().for_each(visit);
            }
        }
    }

    /// The other faces' dispatches (their two crops and MiniFASNet batches), in order.
    pub(super) fn visit_other_faces<'s>(&'s self, visit: &mut dyn FnMut(&'s Dispatch)) {
        if let Some(others) = &self.others {
            let [crop_v2, crop_v1se] = [0, 1].map(|i| &self.frame_readers.other_faces[i]);
            visit(crop_v2);
            others.v2.graph().dispatches_iter().for_each(&mut *visit);
            visit(crop_v1se);
            others.v1se.graph().dispatches_iter().for_each(visit);
        }
    }

    /// Records one stage into `pass` (no allocation: the frame path). The other faces'
    /// dispatches take their workgroup counts from the gate, which zeroes them when the
    /// frame has one face.
    pub fn record_stage(&self, stage: Stage, pass: &mut wgpu::ComputePass<'_>) {
        let mut previous = None;
        let gate = self.others.as_ref().and_then(|o| o.gate.as_ref());
        match gate.filter(|_| stage == Stage::Liveness && self.all_faces) {
            Some(gate) => {
                self.visit_best_face(stage, &mut |dispatch| dispatch.record_in_sequence(pass, &mut previous));
                gate.dispatch.record_in_sequence(pass, &mut previous);
                let mut index = 0u64;
                self.visit_other_faces(&mut |dispatch| {
                    dispatch.record_indirect(pass, &mut previous, &gate.workgroups, index * INDIRECT_ARGS_BYTES);
                    index += 1;
                });
            }
            None => self.visit_stage(stage, &mut |dispatch| dispatch.record_in_sequence(pass, &mut previous)),
        }
    }

    /// Records every stage, then the copies of the results into readback `readback`.
    pub(super) fn record(&self, encoder: &mut wgpu::CommandEncoder, readback: usize) {
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("check"), timestamp_writes: None });
            for stage in Stage::ALL {
                self.record_stage(stage, &mut pass);
            }
        }
        let parts = [
            (&self.faces.detections, Part::Detections),
            (&self.faces.regions, Part::Region),
            (&self.faces.crops, Part::Crops),
            (self.facemesh.face_flag().buffer(), Part::FaceFlag),
            (self.v2.softmax().buffer(), Part::MiniFasNetV2),
            (self.v1se.softmax().buffer(), Part::MiniFasNetV1Se),
            (&self.faces.quality, Part::Quality),
        ];
        for (source, part) in parts {
            let (offset, size) = part.range();
            encoder.copy_buffer_to_buffer(source, 0, &self.readbacks[readback], offset, size);
        }
        if let Some(others) = self.others.as_ref().filter(|_| self.all_faces) {
            // As many faces as were judged: the buffers are the batch's size, the parts the
            // largest batch's.
            let parts = [
                (&self.faces.other_crops, Part::OtherCrops),
                (others.v2.softmax().buffer(), Part::OtherMiniFasNetV2),
                (others.v1se.softmax().buffer(), Part::OtherMiniFasNetV1Se),
            ];
            for (source, part) in parts {
                let (offset, size) = part.range();
                encoder.copy_buffer_to_buffer(source, 0, &self.readbacks[readback], offset, size.min(source.size()));
            }
        }
    }
}
