//! A session's face followed from frame to frame, MediaPipe's scheme (shaders/track.wgsl):
//! while Face Mesh keeps the face, the next frame's region comes from this frame's
//! landmarks, on the GPU, and BlazeFace runs only on a session's first frame, after the
//! face is lost, and every `detect_every` frames (a second face may have come in). The
//! region (a detection record rebuilt from the landmarks with the offsets BlazeFace's own
//! had at the last detection) lives in one small buffer outside the per-frame clear; it is
//! erased when the session ends, and by any check that is not the next frame of the
//! session that kept it.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::detect::FaceStages;
use crate::engine::kernels;
use crate::engine::report::Report;
use crate::error::Result;
use crate::gpu::{Dispatch, Gpu};
use crate::models::FaceMesh;

/// track.wgsl's `track`: validity, frame size, BlazeFace's offsets from the landmarks (4 for
/// the box, 12 for the keypoints), then a detection record (20 floats; TRACK_RECORD there).
const TRACK_BYTES: u64 = (20 + 20) * 4;

/// How a check finds its face.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaceSource {
    /// BlazeFace, and nothing kept for the next frame (a check outside a session).
    Detect,
    /// BlazeFace, and the region kept for `session`'s next frame.
    DetectAndKeep { session: u64 },
    /// The region kept from `session`'s previous frame; BlazeFace does not run.
    Track { session: u64 },
}

impl FaceSource {
    /// Whether the face comes from the kept region (BlazeFace does not run).
    pub fn tracks(self) -> bool {
        matches!(self, FaceSource::Track { .. })
    }

    /// The session whose region the check keeps (None outside a session).
    pub fn session(self) -> Option<u64> {
        match self {
            FaceSource::Detect => None,
            FaceSource::DetectAndKeep { session } | FaceSource::Track { session } => Some(session),
        }
    }
}

/// The tracking state on the GPU: the kept region and the two kernels around it.
pub(super) struct Tracking {
    /// track.wgsl `track`. Not in the arena: it outlives the frame it was computed in.
    pub region: wgpu::Buffer,
    pub track_region: Dispatch,
    pub keep_track: Dispatch,
    /// The session whose frame wrote `region` (None: it holds nothing).
    pub owner: Option<u64>,
}

impl Tracking {
    pub fn new(gpu: &Gpu, faces: &FaceStages, facemesh: &FaceMesh) -> Result<Tracking> {
        gpu.check("creating the tracked region")?;
        let region = gpu.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("tracked region"),
            size: TRACK_BYTES,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let track_region =
            gpu.dispatch_with_uniform(&kernels::TRACK_REGION, &faces.region_params, &[&faces.transforms, &faces.regions, &region, &faces.detections], 1)?;
        let keep_track = gpu.dispatch_with_uniform(
            &kernels::KEEP_TRACK,
            &faces.region_params,
            &[&faces.regions, facemesh.face_flag().buffer(), &region, &faces.detections],
            1,
        )?;
        Ok(Tracking { region, track_region, keep_track, owner: None })
    }
}

/// What a session knows of its face between frames ([`Engine::check_followed`]): whether
/// the next frame runs BlazeFace or follows the region the engine kept.
///
/// [`Engine::check_followed`]: crate::Engine::check_followed
#[derive(Debug)]
pub struct FaceTrack {
    /// Tells this session's kept region from another's on a shared engine.
    id: u64,
    /// BlazeFace runs at least once in this many frames (1: every frame, no tracking).
    detect_every: u32,
    /// Frames since BlazeFace last ran.
    since_detection: u32,
    /// Whether the last frame's face was kept (its presence at least 0.5), and its size.
    following: Option<(u32, u32)>,
}

/// Face presence at or above which the face is followed (track.wgsl PRESENCE_LOGIT).
const MIN_PRESENCE: f32 = 0.5;

impl FaceTrack {
    /// A new session's track: its first frame runs BlazeFace, then at least one frame in
    /// `detect_every` (1: every frame; 0 counts as 1).
    pub fn new(detect_every: u32) -> FaceTrack {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        FaceTrack { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), detect_every: detect_every.max(1), since_detection: 0, following: None }
    }

    /// The session this track belongs to.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Frames checked since BlazeFace last ran (0: the last frame ran it).
    pub fn frames_since_detection(&self) -> u32 {
        self.since_detection
    }

    /// How the next frame, `width` x `height`, finds its face, given who holds the region.
    pub(super) fn source(&self, owner: Option<u64>, width: u32, height: u32) -> FaceSource {
        let kept = owner == Some(self.id) && self.following == Some((width, height));
        let session = self.id;
        if kept && self.since_detection + 1 < self.detect_every { FaceSource::Track { session } } else { FaceSource::DetectAndKeep { session } }
    }

    /// Records how a frame went.
    pub(super) fn observe(&mut self, source: FaceSource, report: &Report) {
        self.since_detection = if source.tracks() { self.since_detection + 1 } else { 0 };
        let kept = report.faces.first().is_some_and(|face| face.presence >= MIN_PRESENCE);
        self.following = kept.then_some((report.width, report.height));
    }

    /// Forgets the face (after an error, or once the engine erased the region).
    pub(super) fn lose(&mut self) {
        self.following = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::report::{Face, FaceBox};

    fn report(presence: Option<f32>) -> Report {
        let face = |presence| Face {
            face_box: FaceBox { x0: 0.0, y0: 0.0, x1: 10.0, y1: 10.0 },
            score: 0.9,
            keypoints: [[0.0; 2]; 6],
            landmarks: None,
            presence,
            quality: None,
            liveness: None,
            pose: None,
            eye_distance: None,
        };
        Report { width: 64, height: 48, faces: presence.map(face).into_iter().collect(), timings: Default::default() }
    }

    #[test]
    fn blazeface_runs_first_then_every_n_frames_and_after_a_loss() {
        let mut track = FaceTrack::new(3);
        let id = Some(track.id());
        let mut sources = Vec::new();
        for presence in [Some(0.9), Some(0.9), Some(0.9), Some(0.9), Some(0.2), Some(0.9), None, Some(0.9), Some(0.9)] {
            let source = track.source(id, 64, 48);
            sources.push(source);
            track.observe(source, &report(presence));
        }
        let (d, t) = (FaceSource::DetectAndKeep { session: track.id() }, FaceSource::Track { session: track.id() });
        // 3 frames a detection; the low presence (frame 4) and the frame with no face (6)
        // each send the next frame back to BlazeFace.
        assert_eq!(sources, [d, t, t, d, t, d, t, d, t]);
    }

    #[test]
    fn another_owner_or_a_new_frame_size_means_detection() {
        let mut track = FaceTrack::new(10);
        let session = track.id();
        track.observe(FaceSource::DetectAndKeep { session }, &report(Some(0.9)));
        assert_eq!(track.source(Some(session), 64, 48), FaceSource::Track { session });
        let detect = FaceSource::DetectAndKeep { session };
        assert_eq!(track.source(Some(session + 1), 64, 48), detect);
        assert_eq!(track.source(None, 64, 48), detect);
        assert_eq!(track.source(Some(session), 640, 480), detect);
        let mut every_frame = FaceTrack::new(1);
        let session = every_frame.id();
        every_frame.observe(FaceSource::DetectAndKeep { session }, &report(Some(0.9)));
        assert_eq!(every_frame.source(Some(session), 64, 48), FaceSource::DetectAndKeep { session });
    }
}
