//! The JSON of the DESIGN.md contract: a check's report and a session's verdict.

use liveshade::{Report, Verdict};
use serde_json::json;

/// One session verdict.
pub fn verdict_json(v: &Verdict) -> serde_json::Value {
    let challenges: Vec<serde_json::Value> = v.cues.challenges.iter().map(|(c, met)| json!({"challenge": c.as_str(), "met": met})).collect();
    json!({
        "verdict": v.kind.as_str(),
        "score": v.score,
        "frames": {"accepted": v.frames_accepted, "rejected": v.frames_rejected},
        "rejections": v.rejections,
        "cues": {
            "blinks": v.cues.blinks,
            "flatness": v.cues.flatness,
            "motion_pairs": v.cues.motion_pairs,
            "yaw_range": [v.cues.min_yaw, v.cues.max_yaw],
            "max_mouth_openness": v.cues.max_mouth_openness,
            "challenges": challenges,
        },
        "reasons": v.reasons,
    })
}

/// One check's report of the image `path`.
pub fn report_json(path: &str, report: &Report, landmarks: bool) -> serde_json::Value {
    let faces: Vec<serde_json::Value> = report
        .faces
        .iter()
        .map(|face| {
            let b = face.face_box;
            let mut value = json!({
                "box": [b.x0, b.y0, b.x1, b.y1],
                "score": face.score,
                "keypoints": face.keypoints,
            });
            if let (true, Some(points)) = (landmarks, &face.landmarks) {
                value["landmarks"] = json!(points);
            }
            if let Some(l) = &face.liveness {
                value["presence"] = json!(face.presence);
                value["liveness"] = json!({
                    "live": l.live,
                    "label": l.label.as_str(),
                    "score": l.score,
                    "models": {"minifasnet_v2": l.minifasnet_v2, "minifasnet_v1se": l.minifasnet_v1se},
                    "face_box_xywh": l.face_box,
                });
            }
            value
        })
        .collect();
    let t = report.timings;
    json!({
        "image": path,
        "width": report.width,
        "height": report.height,
        "faces": faces,
        "verdict": report.verdict().as_str(),
        "timing_ms": {"upload": t.upload_ms, "record": t.record_ms, "gpu": t.gpu_ms, "readback": t.readback_ms, "total": t.total_ms},
    })
}
