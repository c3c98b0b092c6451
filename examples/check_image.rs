//! Embedding the engine: check one image for a live face.
//! `cargo run --release --example check_image -- samples/live_T1.jpg`

use liveshade::{DecodedImage, Engine, EngineOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "samples/live_T1.jpg".into());
    let engine = Engine::new(EngineOptions::default())?; // compiles and warms up every kernel
    let image = DecodedImage::open(path.as_ref())?; // JPEG/PNG, EXIF orientation applied
    let report = engine.check(&image.frame()?)?; // one GPU submission; erased before it returns
    match report.faces.first() {
        Some(face) => {
            let liveness = face.liveness.as_ref().ok_or("no liveness for the best face")?;
            println!("{path}: {} (live probability {:.3})", liveness.label.as_str(), liveness.live);
            println!("face box {:?}, detector score {:.3}", face.face_box, face.score);
        }
        None => println!("{path}: no face"),
    }
    println!("{:.1} ms on {}", report.timings.total_ms, engine.adapter());
    Ok(())
}
