//! The engine's own kernels, one table, registered with the runtime by [`super::Engine::new`]:
//! the resamplers (shaders/warp.wgsl, warp_f64.wgsl), detection (detect.wgsl) and the face
//! regions (roi.wgsl) and the face followed between a session's frames (track.wgsl).
//! `tests/shaders.rs` holds every entry against naga's reflection of
//! the WGSL, as it does the layers' table (src/nn/kernels.rs).

use std::mem::size_of;

use crate::engine::detect::{DetectParams, RegionParams};
use crate::engine::resample::WarpParams;
use crate::gpu::{Kernel, KernelSpec, LINEAR_WORKGROUP, Shader, Slot};
use Slot::{Read, ReadWrite, Uniform};

/// Frame access (pixel formats, YUV conversion), shared by warp.wgsl and the preview
/// window's shader.
#[cfg(feature = "window")]
pub(crate) const FRAME_WGSL: &str = include_str!("../../shaders/frame.wgsl");

macro_rules! common {
    () => {
        include_str!("../../shaders/common.wgsl")
    };
}
macro_rules! frame_and_warp {
    () => {
        concat!(common!(), "\n", include_str!("../../shaders/frame.wgsl"), "\n", include_str!("../../shaders/warp.wgsl"))
    };
}

static WARP: Shader = Shader { file: "warp.wgsl", source: frame_and_warp!(), features: wgpu::Features::empty() };
/// warp.wgsl extended with double-precision positions (bit-exact Face Mesh warp).
static WARP_F64: Shader = Shader {
    file: "warp_f64.wgsl",
    source: concat!(frame_and_warp!(), "\n", include_str!("../../shaders/warp_f64.wgsl")),
    features: wgpu::Features::SHADER_F64,
};
static DETECT: Shader =
    Shader { file: "detect.wgsl", source: concat!(common!(), "\n", include_str!("../../shaders/detect.wgsl")), features: wgpu::Features::empty() };
static ROI: Shader = Shader { file: "roi.wgsl", source: concat!(common!(), "\n", include_str!("../../shaders/roi.wgsl")), features: wgpu::Features::empty() };
/// roi.wgsl extended with the tracking kernels (a session's face followed between frames).
static TRACK: Shader = Shader {
    file: "track.wgsl",
    source: concat!(common!(), "\n", include_str!("../../shaders/roi.wgsl"), "\n", include_str!("../../shaders/track.wgsl")),
    features: wgpu::Features::empty(),
};

/// The engine's shader modules.
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub static SHADERS: &[&Shader] = &[&WARP, &WARP_F64, &DETECT, &ROI, &TRACK];

const LINEAR: [u32; 3] = LINEAR_WORKGROUP;

/// An engine kernel: its entry point (also its name, none is specialised), module,
/// bindings, workgroup size and parameter struct.
const fn kernel(name: &'static str, shader: &'static Shader, bindings: &'static [(u32, Slot)], workgroup_size: [u32; 3], params_bytes: usize) -> KernelSpec {
    KernelSpec { name, entry_point: name, shader, constants: &[], bindings, workgroup_size, params_bytes: params_bytes as u64 }
}

/// Letterbox and affine warps of the frame (BlazeFace's input; Face Mesh's without f64).
pub static WARP_AFFINE_U8: KernelSpec =
    kernel("warp_affine_u8", &WARP, &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, ReadWrite)], LINEAR, size_of::<WarpParams>());
/// OpenCV's INTER_LINEAR resize of a crop rectangle (the MiniFASNet inputs).
pub static RESIZE_LINEAR_U8: KernelSpec =
    kernel("resize_linear_u8", &WARP, &[(0, Uniform), (1, Read), (3, Read), (5, Read), (4, ReadWrite)], LINEAR, size_of::<WarpParams>());
/// Light and focus of the best face (one workgroup).
pub static FACE_QUALITY: KernelSpec =
    kernel("face_quality", &WARP, &[(0, Uniform), (1, Read), (8, Read), (9, ReadWrite)], [256, 1, 1], size_of::<WarpParams>());
/// The Face Mesh warp's inverse map in double precision (one invocation).
pub static FACE_WARP_F64: KernelSpec = kernel("face_warp_f64", &WARP_F64, &[(0, Uniform), (7, Read), (6, ReadWrite)], [1, 1, 1], size_of::<WarpParams>());
/// cv2.warpPerspective with double-precision positions (Face Mesh's input).
pub static WARP_PERSPECTIVE_U8_F64: KernelSpec =
    kernel("warp_perspective_u8_f64", &WARP_F64, &[(0, Uniform), (1, Read), (3, Read), (6, ReadWrite), (4, ReadWrite)], LINEAR, size_of::<WarpParams>());
/// BlazeFace's anchors decoded, thresholded and suppressed (one workgroup).
pub static DETECT_FACES: KernelSpec = kernel(
    "detect_faces",
    &DETECT,
    &[(0, Uniform), (1, Read), (2, Read), (3, Read), (4, Read), (5, ReadWrite), (6, ReadWrite)],
    [256, 1, 1],
    size_of::<DetectParams>(),
);
/// The Face Mesh ROI, the MiniFASNet boxes and crops of every face judged (one invocation).
pub static FACE_REGIONS: KernelSpec = kernel(
    "face_regions",
    &ROI,
    &[(0, Uniform), (1, Read), (3, ReadWrite), (4, ReadWrite), (5, ReadWrite), (6, ReadWrite), (7, ReadWrite)],
    [1, 1, 1],
    size_of::<RegionParams>(),
);
/// The other faces' workgroup counts, or zeros without a second face.
pub static GATE_OTHER_FACES: KernelSpec =
    kernel("gate_other_faces", &ROI, &[(0, Uniform), (1, Read), (8, Read), (9, ReadWrite)], LINEAR, size_of::<RegionParams>());
/// Face Mesh's landmarks from crop to image pixels.
pub static PROJECT_LANDMARKS: KernelSpec = kernel("project_landmarks", &ROI, &[(0, Uniform), (2, Read), (5, ReadWrite)], LINEAR, size_of::<RegionParams>());

/// A tracked frame's detection record and Face Mesh ROI, kept from the frame before (one invocation).
pub static TRACK_REGION: KernelSpec =
    kernel("track_region", &TRACK, &[(0, Uniform), (3, ReadWrite), (5, ReadWrite), (10, ReadWrite), (12, ReadWrite)], [1, 1, 1], size_of::<RegionParams>());
/// The detection record the next frame follows, rebuilt from this frame's landmarks (in a
/// tracked frame also this frame's); in a detection frame BlazeFace's offsets from them.
pub static KEEP_TRACK: KernelSpec =
    kernel("keep_track", &TRACK, &[(0, Uniform), (5, ReadWrite), (11, Read), (10, ReadWrite), (12, ReadWrite)], [1, 1, 1], size_of::<RegionParams>());

/// Every kernel of the engine.
pub static KERNELS: &[Kernel] = &[
    &WARP_AFFINE_U8,
    &RESIZE_LINEAR_U8,
    &FACE_QUALITY,
    &FACE_WARP_F64,
    &WARP_PERSPECTIVE_U8_F64,
    &DETECT_FACES,
    &FACE_REGIONS,
    &PROJECT_LANDMARKS,
    &GATE_OTHER_FACES,
    &TRACK_REGION,
    &KEEP_TRACK,
];
