//! The JSON of a check as the library writes it (`Report::to_json`), with the CLI's
//! `image` key. (A session's verdict is `Verdict::to_json` as it is.)

use liveshade::Report;
use serde_json::Value;

/// One check's report of the image `path`.
pub fn report_json(path: &str, report: &Report, landmarks: bool) -> String {
    let mut value: Value = serde_json::from_str(&report.to_json(landmarks)).unwrap_or(Value::Null);
    value["image"] = Value::String(path.to_string());
    value.to_string()
}
