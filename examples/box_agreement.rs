//! How the MiniFASNet face box is derived from BlazeFace, measured: the engine's verdicts,
//! with BlazeFace's own box and with BOX_CALIBRATION.md's map A, against the verdicts of
//! the published pipeline (its RetinaFace box) over every still and sequence frame of
//! shared/faces (shared/golden/faces_reference.json, sequences/*.json).
//!
//! `cargo run --release --example box_agreement -- ../shared`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use liveshade::{DecodedImage, Engine, EngineOptions};

struct Sample {
    group: String,
    path: PathBuf,
    /// The RetinaFace-path verdict ("real" / "spoof").
    reference: String,
    /// The golden BlazeFace-box verdict, when it has a detection.
    reference_blazeface: Option<String>,
}

fn samples(shared: &Path) -> Vec<Sample> {
    let golden = shared.join("golden");
    let mut out = Vec::new();
    let read = |p: PathBuf| -> serde_json::Value { serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap() };
    let verdicts = |entry: &serde_json::Value| {
        let minifas = &entry["minifasnet"];
        (minifas["retinaface"]["verdict"].as_str().map(str::to_string), minifas["blazeface"]["verdict"].as_str().map(str::to_string))
    };
    let stills = read(golden.join("faces_reference.json"));
    for (name, entry) in stills["images"].as_object().unwrap() {
        if let (Some(reference), reference_blazeface) = verdicts(entry) {
            out.push(Sample { group: name.clone(), path: shared.join("faces").join(name), reference, reference_blazeface });
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(golden.join("sequences")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let sequence = read(file);
        let folder = sequence["sequence"].as_str().unwrap().to_string();
        for frame in sequence["frames"].as_array().unwrap() {
            if let (Some(reference), reference_blazeface) = verdicts(frame) {
                let path = shared.join("faces").join(&folder).join(frame["frame"].as_str().unwrap());
                out.push(Sample { group: folder.clone(), path, reference, reference_blazeface });
            }
        }
    }
    out
}

fn main() -> liveshade::Result<()> {
    let shared = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared".into()));
    let samples = samples(&shared);
    let raw = Engine::new(EngineOptions { calibrate_box: false, upright_crops: false, ..Default::default() })?;
    let mapped = Engine::new(EngineOptions { calibrate_box: true, upright_crops: false, ..Default::default() })?;
    // group -> [frames, raw differs, mapped differs, raw vs golden-blazeface differs, no face]
    let mut groups: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for sample in &samples {
        let image = DecodedImage::open(&sample.path)?;
        let frame = image.frame()?;
        let verdict = |engine: &Engine| -> liveshade::Result<Option<String>> {
            let report = engine.check(&frame)?;
            Ok(report
                .faces
                .first()
                .and_then(|f| f.liveness.as_ref())
                .map(|l| if l.label.as_str() == "live" { "real".to_string() } else { "spoof".to_string() }))
        };
        let (r, m) = (verdict(&raw)?, verdict(&mapped)?);
        let counts = groups.entry(sample.group.clone()).or_default();
        counts[0] += 1;
        match (r, m) {
            (Some(r), Some(m)) => {
                counts[1] += (r != sample.reference) as usize;
                counts[2] += (m != sample.reference) as usize;
                counts[3] += sample.reference_blazeface.as_ref().is_some_and(|b| *b != r) as usize;
            }
            _ => counts[4] += 1,
        }
    }
    println!("{:<60} {:>6} {:>10} {:>10} {:>12} {:>8}", "group", "frames", "raw box", "map A", "raw vs gold", "no face");
    let mut totals = [0usize; 5];
    let (mut raw_rate, mut mapped_rate) = (0.0, 0.0);
    for (group, c) in &groups {
        println!("{group:<60} {:>6} {:>10} {:>10} {:>12} {:>8}", c[0], c[1], c[2], c[3], c[4]);
        for i in 0..5 {
            totals[i] += c[i];
        }
        let judged = (c[0] - c[4]).max(1) as f64;
        raw_rate += c[1] as f64 / judged;
        mapped_rate += c[2] as f64 / judged;
    }
    let n = groups.len() as f64;
    let judged = (totals[0] - totals[4]) as f64;
    println!(
        "total: {} frames ({} with a face); verdict differs from the RetinaFace path: raw box {} ({:.1} %, group-balanced {:.1} %), map A {} ({:.1} %, group-balanced {:.1} %); raw box vs the golden BlazeFace-box verdict: {}",
        totals[0],
        totals[0] - totals[4],
        totals[1],
        100.0 * totals[1] as f64 / judged,
        100.0 * raw_rate / n,
        totals[2],
        100.0 * totals[2] as f64 / judged,
        100.0 * mapped_rate / n,
        totals[3]
    );
    Ok(())
}
