//! The JSON of the DESIGN.md contract, as the library writes it (`Report::to_json`,
//! `Verdict::to_json`), with the CLI's `image` key.

use liveshade::{Report, Verdict};
use serde_json::Value;

/// One session verdict.
pub fn verdict_json(v: &Verdict) -> String {
    v.to_json()
}

/// One check's report of the image `path`.
pub fn report_json(path: &str, report: &Report, landmarks: bool) -> String {
    let mut value: Value = serde_json::from_str(&report.to_json(landmarks)).unwrap_or(Value::Null);
    value["image"] = Value::String(path.to_string());
    value.to_string()
}
