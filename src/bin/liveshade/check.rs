//! `liveshade check IMAGE...`: one report per image.

use std::path::PathBuf;

use clap::Args;
use liveshade::signing::{Provenance, sign_report};
use liveshade::{DecodedImage, Engine, EngineOptions, Report};

use crate::AdapterArgs;
use crate::sign::SignArgs;

/// The arguments of `check`.
#[derive(Args)]
pub struct CheckArgs {
    /// JPEG or PNG files.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// One JSON object per line (the contract of DESIGN.md).
    #[arg(long)]
    json: bool,
    /// Include the 468 Face Mesh landmarks of the best face.
    #[arg(long)]
    landmarks: bool,
    #[command(flatten)]
    adapter: AdapterArgs,
    /// Cut MiniFASNet's crops around BlazeFace's own box instead of the RetinaFace-like
    /// box the models were trained with (shared/golden/BOX_CALIBRATION.md).
    #[arg(long)]
    raw_box: bool,
    /// Cut MiniFASNet's crops axis-aligned, as Silent-Face does (parity with the published
    /// pipeline), instead of turned upright by the roll of the eyes.
    #[arg(long)]
    published_crops: bool,
    #[command(flatten)]
    sign: SignArgs,
}

fn print_report(path: &str, report: &Report) {
    let reasons: Vec<&str> = report.reasons().iter().map(|r| r.as_str()).collect();
    let reasons = if reasons.is_empty() { String::new() } else { format!("; cannot judge: {}", reasons.join(", ")) };
    match report.faces.first().and_then(|f| f.liveness.as_ref().map(|l| (f, l))) {
        Some((face, l)) => println!(
            "{path}: {} (live {:.4}; face {:.0},{:.0}-{:.0},{:.0} score {:.3}; {} face(s); {:.1} ms{reasons})",
            report.verdict(),
            l.live,
            face.face_box.x0,
            face.face_box.y0,
            face.face_box.x1,
            face.face_box.y1,
            face.score,
            report.faces.len(),
            report.timings.total_ms
        ),
        None => println!("{path}: no_face ({:.1} ms)", report.timings.total_ms),
    }
}

/// Checks each image; false if any could not be checked.
pub fn run(args: &CheckArgs) -> Result<bool, liveshade::Error> {
    let (json, landmarks) = (args.json, args.landmarks);
    // No warm-up frame: the files are checked at once, so it would only add a check (the
    // first file meets the driver's first-use costs instead; its timing_ms shows them).
    let options =
        EngineOptions { calibrate_box: !args.raw_box, upright_crops: !args.published_crops, landmarks, warm_up: None, ..args.adapter.engine_options()? };
    let signer = args.sign.signer()?;
    let engine = Engine::new(options)?;
    let provenance = Provenance::of_adapter(engine.adapter());
    let mut all_ok = true;
    for path in &args.images {
        let name = path.display().to_string();
        let result = DecodedImage::open(path).and_then(|image| engine.check(&image.frame()?));
        match (result, &signer) {
            (Ok(report), Some((key, nonce))) => println!("{}", sign_report(&report, &provenance, nonce, key)),
            (Ok(report), None) if json => println!("{}", report.to_json_with_image(&name, landmarks)),
            (Ok(report), None) => print_report(&name, &report),
            (Err(error), _) => {
                eprintln!("liveshade: {error}");
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}
