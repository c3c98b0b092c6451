//! The JSON of the DESIGN.md contract, one definition for the CLI and the C and Python
//! bindings: a check's [`Report`] and a session's [`Verdict`]. Neither holds pixels.

use serde_json::{Value, json};

use crate::engine::{QualityLimits, Report};
use crate::liveness::Verdict;

/// Version of the JSON results' layout; raised when a field changes meaning or goes away.
pub const RESULT_SCHEMA_VERSION: u32 = 2;

impl Report {
    /// The report as the JSON object of the CLI contract (`check --json`, without the
    /// `image` key), with the best face's 468 landmarks when `landmarks` and present.
    pub fn to_json(&self, landmarks: bool) -> String {
        report_value(self, landmarks).to_string()
    }

    /// As [`Report::to_json`] with the `image` key `liveshade check --json` adds: the
    /// file the report is of.
    pub fn to_json_with_image(&self, image: &str, landmarks: bool) -> String {
        let mut value = report_value(self, landmarks);
        value["image"] = Value::String(image.to_string());
        value.to_string()
    }
}

impl Verdict {
    /// The verdict as the JSON object of `session --json`.
    pub fn to_json(&self) -> String {
        verdict_value(self).to_string()
    }
}

fn report_value(report: &Report, landmarks: bool) -> Value {
    let faces: Vec<Value> = report
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
            if let Some(p) = face.pose {
                // The best face's (Face Mesh runs on it alone).
                value["pose"] = json!({"yaw": p.yaw, "pitch": p.pitch, "roll": p.roll});
                value["presence"] = json!(face.presence);
            }
            if let Some(l) = &face.liveness {
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
    let (verdict, reasons) = report.judge(&QualityLimits::default());
    let reasons: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
    json!({
        "width": report.width,
        "height": report.height,
        "faces": faces,
        "verdict": verdict.as_str(),
        "reasons": reasons,
        "timing_ms": {"upload": t.upload_ms, "record": t.record_ms, "gpu": t.gpu_ms, "readback": t.readback_ms, "total": t.total_ms},
    })
}

pub(crate) fn verdict_value(v: &Verdict) -> Value {
    let challenges: Vec<Value> = v.cues.challenges.iter().map(|(c, met)| json!({"challenge": c.as_str(), "met": met})).collect();
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
