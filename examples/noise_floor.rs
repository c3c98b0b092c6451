//! The repeated-frame screen's measure over folders of frames: for each folder, the least,
//! 5th-percentile and median change of a frame from the 8 before it (src/liveness/repeats.rs),
//! in brightness levels, against the noise floor. How the floor was chosen:
//!
//!     cargo run --release --example noise_floor -- ../shared/faces/sequences/*/
use liveshade::DecodedImage;
use liveshade::internals::repeats::{NOISE_FLOOR, RepeatScreen};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut all = Vec::new();
    for dir in std::env::args().skip(1) {
        let mut files: Vec<_> =
            std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x != "md")).collect();
        files.sort();
        let mut screen = RepeatScreen::default();
        let mut changes = Vec::new();
        for file in &files {
            let image = DecodedImage::open(file)?;
            let frame = image.frame()?;
            changes.extend(screen.least_change_of(&frame));
            if screen.screen(&frame).is_some() {
                println!("{}: rejected as a repeat", file.display());
            }
        }
        changes.sort_by(f32::total_cmp);
        let at = |q: f32| changes.get(((changes.len() - 1) as f32 * q) as usize).copied().unwrap_or(f32::NAN);
        println!("{dir}: {} frames, least change {:.3}, 5th percentile {:.3}, median {:.3}", files.len(), at(0.0), at(0.05), at(0.5));
        all.extend(changes);
    }
    all.sort_by(f32::total_cmp);
    println!("all: {} frames compared, least change {:.3} (noise floor {NOISE_FLOOR})", all.len(), all.first().copied().unwrap_or(f32::NAN));
    Ok(())
}
