//! Error rates over the labelled faces of `../shared/faces` and variants made of them: the
//! published pipeline's rule (Silent-Face's crops, MiniFASNet's label,
//! `Report::model_verdict`; sessions without the live confirmation) against liveshade's
//! default (upright crops, the quality gates, the confirmation), and for the stills each
//! change alone, on the same frames. ACCURACY.md keeps its output.
//!
//! - Stills: every labelled still (SOURCES.md of each folder), as it is and rolled by
//!   -30/-20/-10/+10/+20/+30 degrees, halved, blurred, darkened, brightened, gamma 0.5 and 2,
//!   JPEG-compressed at quality 20, and cropped tight around the face. APCER per attack
//!   type (print, screen) is the share of attacks called live; BPCER the share of live
//!   faces called spoof; "not accepted" adds inconclusive and no_face.
//! - Sessions, passive and active (one challenge, a blink: the only one the shared
//!   sequences perform): the 7 shared sequences (the GIF demo cut into its live, replay
//!   and print parts), and attack sequences rendered by tests/common/pinhole.rs: a live
//!   photo printed and held still, tilted and waved in front of a pinhole camera, with
//!   sensor noise.
//!
//! `cargo run --release --example error_rates -- ../shared [stills|sessions|rendered]`
//! (the stills alone, the sessions alone, the rendered attacks' sessions alone). With `LIVESHADE_PROBE=1` it also
//! prints what the flatness cue sees: every 5th frame's eye distance, yaw, landmark shape
//! change and nose parallax against the first frame, and every frame's texture measures
//! (src/liveness/texture.rs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use liveshade::{CheckVerdict, DecodedImage, Engine, EngineOptions, SessionOptions, Sessions, VerdictKind};

#[path = "../tests/common/pinhole.rs"]
mod pinhole;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Truth {
    Live,
    Print,
    Screen,
}

/// The labelled stills (their folders' SOURCES.md). `light-weight-face-anti-spoofing`'s
/// frame holds a live face and a phone replay at once: it has no single label.
const STILLS: [(&str, Truth); 15] = [
    ("face_recognition-whitehouse/biden.jpg", Truth::Live),
    ("face_recognition-whitehouse/obama.jpg", Truth::Live),
    ("face_recognition-whitehouse/obama2.jpg", Truth::Live),
    ("face_recognition-whitehouse/obama3.jpg", Truth::Live),
    ("face_recognition-whitehouse/obama_partial_face.jpg", Truth::Live),
    ("face_recognition-whitehouse/obama_small.jpg", Truth::Live),
    ("face_recognition-whitehouse/two_people.jpg", Truth::Live),
    ("silent-face-anti-spoofing-apk/live_id_portrait_7.jpeg", Truth::Live),
    ("silent-face-anti-spoofing/live_T1.jpg", Truth::Live),
    ("silent-face-anti-spoofing/live_T1_hires_c3e2048.jpg", Truth::Live),
    ("silent-face-anti-spoofing/live_T2_c3e2048.jpg", Truth::Live),
    ("silent-face-anti-spoofing/spoof_print_F1.jpg", Truth::Print),
    ("silent-face-anti-spoofing/spoof_print_F1_glasses_c3e2048.jpg", Truth::Print),
    ("silent-face-anti-spoofing/spoof_replay_tablet_F2.jpg", Truth::Screen),
    ("hyperfas/spoof_replay_tablet_fake_screen.png", Truth::Screen),
];

/// An RGB8 image the variants are made of.
#[derive(Clone)]
struct Rgb {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Rgb {
    fn of(image: &DecodedImage) -> Rgb {
        Rgb { width: image.width(), height: image.height(), pixels: image.rgb().to_vec() }
    }

    /// Bilinear, None outside (pinhole.rs's sampler, the card renderer's).
    fn at(&self, x: f32, y: f32) -> Option<[f32; 3]> {
        pinhole::Photo { width: self.width, height: self.height, rgb: &self.pixels }.at(x, y)
    }

    fn map(&self, f: impl Fn([u8; 3]) -> [u8; 3]) -> Rgb {
        let pixels = self.pixels.chunks_exact(3).flat_map(|p| f([p[0], p[1], p[2]])).collect();
        Rgb { pixels, ..self.clone() }
    }

    /// Rolled in the image plane about the centre, the corners filled with grey.
    fn rolled(&self, degrees: f32) -> Rgb {
        let (s, c) = degrees.to_radians().sin_cos();
        let (cx, cy) = (self.width as f32 / 2.0, self.height as f32 / 2.0);
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for y in 0..self.height {
            for x in 0..self.width {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let p = self.at(cx + c * dx + s * dy, cy - s * dx + c * dy).unwrap_or([128.0; 3]);
                pixels.extend(p.map(|v| v.round() as u8));
            }
        }
        Rgb { pixels, ..self.clone() }
    }

    fn scaled(&self, factor: f32) -> Rgb {
        let (width, height) = (((self.width as f32 * factor) as u32).max(1), ((self.height as f32 * factor) as u32).max(1));
        let mut pixels = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                let p = self.at(x as f32 / factor, y as f32 / factor).unwrap_or([128.0; 3]);
                pixels.extend(p.map(|v| v.round() as u8));
            }
        }
        Rgb { width, height, pixels }
    }

    fn blurred(&self, radius: i64) -> Rgb {
        let (w, h) = (self.width as i64, self.height as i64);
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for y in 0..h {
            for x in 0..w {
                let mut sum = [0u32; 3];
                let mut n = 0;
                for dy in -radius..=radius {
                    for dx in -radius..=radius {
                        let i = (((y + dy).clamp(0, h - 1) * w + (x + dx).clamp(0, w - 1)) * 3) as usize;
                        for (c, s) in sum.iter_mut().enumerate() {
                            *s += self.pixels[i + c] as u32;
                        }
                        n += 1;
                    }
                }
                pixels.extend(sum.map(|s| (s / n) as u8));
            }
        }
        Rgb { pixels, ..self.clone() }
    }

    fn cropped(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> Rgb {
        let (x1, y1) = (x1.min(self.width), y1.min(self.height));
        let mut pixels = Vec::new();
        for y in y0..y1 {
            pixels.extend_from_slice(&self.pixels[((y * self.width + x0) * 3) as usize..((y * self.width + x1) * 3) as usize]);
        }
        Rgb { width: x1 - x0, height: y1 - y0, pixels }
    }

    fn jpeg(&self, quality: u8) -> Rgb {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode(&self.pixels, self.width, self.height, image::ExtendedColorType::Rgb8)
            .expect("JPEG encoding");
        Rgb::of(&DecodedImage::from_encoded(&bytes).expect("our own JPEG decodes"))
    }
}

fn gamma(v: u8, g: f32) -> u8 {
    (255.0 * (v as f32 / 255.0).powf(g)).round() as u8
}

/// The variants of a still: name and image. `face` is the best face's box in `image`.
fn variants(image: &Rgb, face: Option<[f32; 4]>) -> Vec<(String, Rgb)> {
    let mut out = vec![("original".to_string(), image.clone())];
    for degrees in [-30.0, -20.0, -10.0, 10.0, 20.0, 30.0] {
        out.push((format!("rolled {degrees:+}"), image.rolled(degrees)));
    }
    out.push(("halved".into(), image.scaled(0.5)));
    out.push(("blurred (5x5 box)".into(), image.blurred(2)));
    out.push(("darker (x0.5)".into(), image.map(|p| p.map(|v| v / 2))));
    out.push(("brighter (x1.5)".into(), image.map(|p| p.map(|v| (v as f32 * 1.5).min(255.0) as u8))));
    out.push(("gamma 0.5".into(), image.map(|p| p.map(|v| gamma(v, 0.5)))));
    out.push(("gamma 2".into(), image.map(|p| p.map(|v| gamma(v, 2.0)))));
    out.push(("JPEG quality 20".into(), image.jpeg(20)));
    if let Some([x0, y0, x1, y1]) = face {
        // A tight crop: the face box grown by 20 % a side (the reference crops 2.7x).
        let (mx, my) = ((x1 - x0) * 0.2, (y1 - y0) * 0.2);
        let (cx0, cy0) = ((x0 - mx).max(0.0) as u32, (y0 - my).max(0.0) as u32);
        out.push(("tight crop".into(), image.cropped(cx0, cy0, (x1 + mx) as u32, (y1 + my) as u32)));
    }
    out
}

#[derive(Default)]
struct Counts {
    outcomes: BTreeMap<&'static str, usize>,
}

impl Counts {
    fn add(&mut self, outcome: &'static str) {
        *self.outcomes.entry(outcome).or_default() += 1;
    }
    fn total(&self) -> usize {
        self.outcomes.values().sum()
    }
    fn get(&self, outcome: &str) -> usize {
        self.outcomes.get(outcome).copied().unwrap_or(0)
    }
    fn summary(&self) -> String {
        let parts: Vec<String> = self.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        parts.join(", ")
    }
}

fn rate(n: usize, of: usize) -> String {
    if of == 0 { "-".into() } else { format!("{:.1} % ({n}/{of})", 100.0 * n as f64 / of as f64) }
}

fn check_verdict(v: CheckVerdict) -> &'static str {
    v.as_str()
}

/// The rules the stills are judged by: the published pipeline, each of liveshade's two
/// changes alone, and both (the default).
const MODES: [&str; 4] = ["reference", "upright crops alone", "quality gates alone", "liveshade"];

/// `reference` cuts Silent-Face's crops (parity), `upright` turns them upright.
fn stills(reference: &Engine, upright: &Engine, shared: &Path) -> liveshade::Result<()> {
    // (mode, truth) -> counts; (mode, variant) -> counts over live faces.
    let mut by_truth: BTreeMap<(&str, Truth), Counts> = BTreeMap::new();
    let mut by_variant: BTreeMap<(String, &str), Counts> = BTreeMap::new();
    let mut variant_count = 0;
    for (file, truth) in STILLS {
        let image = Rgb::of(&DecodedImage::open(&shared.join("faces").join(file))?);
        let first = reference.check(&liveshade::Frame::rgb8(image.width, image.height, &image.pixels)?)?;
        let face = first.faces.first().map(|f| [f.face_box.x0, f.face_box.y0, f.face_box.x1, f.face_box.y1]);
        let variants = variants(&image, face);
        variant_count = variant_count.max(variants.len());
        for (variant, v) in variants {
            let frame = liveshade::Frame::rgb8(v.width, v.height, &v.pixels)?;
            let (published, turned) = (reference.check(&frame)?, upright.check(&frame)?);
            let verdicts = [published.model_verdict(), turned.model_verdict(), published.verdict(), turned.verdict()];
            for (mode, verdict) in MODES.into_iter().zip(verdicts) {
                by_truth.entry((mode, truth)).or_default().add(check_verdict(verdict));
                if truth == Truth::Live {
                    by_variant.entry((variant.clone(), mode)).or_default().add(check_verdict(verdict));
                }
            }
            if truth != Truth::Live && turned.verdict() == CheckVerdict::Live {
                println!("  attack called live by liveshade: {file}, {variant}");
            }
        }
    }
    println!("\n### Single checks: {} stills x {variant_count} variants\n", STILLS.len());
    println!("| rule | attack | APCER (called live) | outcomes |");
    println!("|---|---|---|---|");
    for mode in MODES {
        for truth in [Truth::Print, Truth::Screen] {
            let c = &by_truth[&(mode, truth)];
            println!("| {mode} | {truth:?} | {} | {} |", rate(c.get("live"), c.total()), c.summary());
        }
    }
    println!("\n| rule | live faces | BPCER (called spoof) | not accepted (spoof, inconclusive, no face) | outcomes |");
    println!("|---|---|---|---|---|");
    for mode in MODES {
        let c = &by_truth[&(mode, Truth::Live)];
        let not = c.total() - c.get("live");
        println!("| {mode} | {} | {} | {} | {} |", c.total(), rate(c.get("spoof"), c.total()), rate(not, c.total()), c.summary());
    }
    println!("\n| live variant | reference: called spoof | upright crops alone: called spoof | liveshade: called spoof | liveshade: inconclusive |");
    println!("|---|---|---|---|---|");
    let names: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        for (name, _) in by_variant.keys() {
            if !seen.contains(name) {
                seen.push(name.clone());
            }
        }
        seen
    };
    for name in names {
        let count = |mode: &'static str| &by_variant[&(name.clone(), mode)];
        let (r, u, l) = (count("reference"), count("upright crops alone"), count("liveshade"));
        println!(
            "| {name} | {} | {} | {} | {} |",
            rate(r.get("spoof"), r.total()),
            rate(u.get("spoof"), u.total()),
            rate(l.get("spoof"), l.total()),
            rate(l.get("inconclusive"), l.total())
        );
    }
    Ok(())
}

/// A sequence of frames: a label and RGB images at 25 frames a second.
struct Sequence {
    name: String,
    truth: Truth,
    frames: Vec<Rgb>,
}

fn shared_sequences(shared: &Path) -> liveshade::Result<Vec<Sequence>> {
    let root = shared.join("faces/sequences");
    let mut out = Vec::new();
    for name in ["bbaf2n", "bbal7p_crop", "brbk7n", "example_2blinks", "id2_vcd_swwp2s", "lbax4n", "silentface_demo_live_replay_print"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(name))
            .map_err(|e| liveshade::Error::Image { path: name.into(), reason: e.to_string() })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
            .collect();
        files.sort();
        let frames = files.iter().map(|f| DecodedImage::open(f).map(|i| Rgb::of(&i))).collect::<liveshade::Result<Vec<_>>>()?;
        if name == "silentface_demo_live_replay_print" {
            // The demo's parts (tests/sequences/README.md): live 0-34, a phone replay 36-62,
            // a printed photo 64-87.
            out.push(Sequence { name: "demo: live part".into(), truth: Truth::Live, frames: frames[0..35].to_vec() });
            out.push(Sequence { name: "demo: phone replay".into(), truth: Truth::Screen, frames: frames[36..63].to_vec() });
            out.push(Sequence { name: "demo: printed photo".into(), truth: Truth::Print, frames: frames[64..88].to_vec() });
        } else {
            out.push(Sequence { name: name.into(), truth: Truth::Live, frames });
        }
    }
    Ok(out)
}

fn rendered_attacks(shared: &Path) -> liveshade::Result<Vec<Sequence>> {
    let photo = Rgb::of(&DecodedImage::open(&shared.join("faces/silent-face-anti-spoofing/live_T1.jpg"))?);
    let card = pinhole::Photo { width: photo.width, height: photo.height, rgb: &photo.pixels };
    // 3 s at 25 frames a second each.
    Ok(pinhole::MOVES
        .iter()
        .enumerate()
        .map(|(i, (name, pose))| Sequence {
            name: format!("rendered print: {name}"),
            truth: Truth::Print,
            frames: pinhole::card_sequence(&card, *pose, 75, 0x9e37_79b9_7f4a_7c15 + i as u64)
                .into_iter()
                .map(|pixels| Rgb { width: pinhole::WIDTH, height: pinhole::HEIGHT, pixels })
                .collect(),
        })
        .collect())
}

/// What the session's cues measured, in one cell.
fn cues(v: &liveshade::Verdict) -> String {
    let c = &v.cues;
    let flatness = c.flatness.map(|f| format!("{f:.4}")).unwrap_or_else(|| "-".into());
    let rejected: Vec<String> = v.rejections.iter().map(|(r, n)| format!("{r} {n}")).collect();
    let rejected = if rejected.is_empty() { String::new() } else { format!("; rejected: {}", rejected.join(", ")) };
    format!("{} blinks; parallax {flatness} over {} pairs; yaw {:+.0} to {:+.0}{rejected}", c.blinks, c.motion_pairs, c.min_yaw, c.max_yaw)
}

/// Every frame of `sequence` through the engine; every 5th frame's eye distance, yaw, shape
/// change and nose parallax against the first (geometry.rs), then over every pair 5 or more
/// frames apart the slope of parallax against shape change, on standard error.
fn probe(engine: &Engine, sequence: &Sequence) -> liveshade::Result<()> {
    use liveshade::internals::{geometry, landmarks};
    let mut faces: Vec<Vec<[f32; 3]>> = Vec::new();
    let mut tracker = liveshade::internals::texture::TextureTracker::default();
    let mut textures = Vec::new();
    for (i, frame) in sequence.frames.iter().enumerate() {
        let pixels = liveshade::Frame::rgb8(frame.width, frame.height, &frame.pixels)?;
        let report = engine.check_with_landmarks(&pixels)?;
        let Some(face) = report.faces.first() else { continue };
        let Some(points) = face.landmarks.clone() else { continue };
        let started = std::time::Instant::now();
        let motion = tracker.observe(&pixels, &points);
        let took = started.elapsed().as_secs_f64() * 1e3;
        if let Some(m) = motion {
            textures.push(m);
            eprintln!(
                "{} frame {i}: texture shape {:.4} parallax {:.4} eyes {:.3} matched {} ({took:.2} ms)",
                sequence.name, m.shape_change, m.parallax, m.eye_change, m.matched
            );
        }
        if i % 5 == 0 {
            let io = landmarks::interocular(&points);
            let (change, parallax) = match faces.first() {
                Some(r) => (geometry::shape_change(r, &points), geometry::nose_parallax(r, &points)),
                None => (0.0, None),
            };
            eprintln!(
                "{} frame {i}: eye distance {io:.1}, yaw {:+.1}, shape change {change:.3}, parallax {parallax:?}",
                sequence.name,
                face.pose.map(|p| p.yaw).unwrap_or(0.0)
            );
        }
        faces.push(points);
    }
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    let mut largest = 0.0f32;
    for i in 0..faces.len() {
        for j in (i + 5..faces.len()).step_by(3) {
            let s = geometry::shape_change(&faces[i], &faces[j]) as f64;
            if let Some(p) = geometry::nose_parallax(&faces[i], &faces[j]) {
                (n, sx, sy, sxx, sxy) = (n + 1.0, sx + s, sy + p as f64, sxx + s * s, sxy + s * p as f64);
                largest = largest.max(s as f32);
            }
        }
    }
    let moving: Vec<f32> = textures.iter().filter(|m| m.shape_change >= 0.015).map(|m| m.parallax).collect();
    let most = textures.iter().map(|m| m.shape_change).fold(0.0f32, f32::max);
    eprintln!(
        "{}: texture over {} frames, shape change up to {most:.4}, {} frames at >= 0.015, their parallax {:?}",
        sequence.name,
        textures.len(),
        moving.len(),
        moving
    );
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    eprintln!("{}: {n} pairs, shape change up to {largest:.3}, parallax mean {:.3}, slope {slope:.2}", sequence.name, sy / n);
    Ok(())
}

/// The reference rule on `reference`'s crops against liveshade's on `upright`'s.
fn sessions(reference: &Engine, upright: &Engine, shared: &Path) -> liveshade::Result<()> {
    // `-- ../shared rendered`: the rendered attacks alone.
    let mut all = if std::env::args().nth(2).as_deref() == Some("rendered") { Vec::new() } else { shared_sequences(shared)? };
    all.extend(rendered_attacks(shared)?);
    let limit = liveshade::FailureLimit { max_failures: 1_000_000, ..Default::default() };
    let (reference, upright) = (Sessions::with_limit(reference, limit), Sessions::with_limit(upright, limit));
    println!("\n### Sessions\n");
    println!("Passive, and active with one challenge, a blink (the only one the shared sequences perform). The reference rule runs");
    println!("BlazeFace on every frame, as the published pipeline does; liveshade follows the face between detections");
    println!("(SessionOptions::detect_every, 10), and its passive rule is run again with BlazeFace on every frame beside it.\n");
    println!(
        "| sequence | truth | frames | reference rule (MiniFASNet fused alone) | liveshade passive | liveshade passive, BlazeFace every frame | liveshade's first reason | liveshade's cues | liveshade active (blink) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut errors: BTreeMap<&str, [usize; 2]> = BTreeMap::new();
    for sequence in &all {
        if std::env::var("LIVESHADE_PROBE").is_ok() {
            probe(upright.engine(), sequence)?;
        }
        let mut results = Vec::new();
        let active = SessionOptions { challenges: Some(vec![liveshade::Challenge::Blink]), ..SessionOptions::active() };
        let every_frame = SessionOptions { detect_every: 1, ..SessionOptions::passive() };
        let published = SessionOptions { confirm_live: false, ..every_frame.clone() };
        for (sessions, options) in [(&reference, published), (&upright, SessionOptions::passive()), (&upright, every_frame), (&upright, active)] {
            let mut session = sessions.start(options)?;
            let mut verdict = None;
            for (i, frame) in sequence.frames.iter().enumerate() {
                verdict = session.push_at(&liveshade::Frame::rgb8(frame.width, frame.height, &frame.pixels)?, i as f64 / 25.0)?;
                if verdict.is_some() {
                    break;
                }
            }
            results.push(verdict.unwrap_or_else(|| session.finish()));
        }
        let show = |v: &liveshade::Verdict| format!("{} ({:.3}, {} frames)", v.kind.as_str(), v.score, v.frames_accepted + v.frames_rejected);
        println!(
            "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} |",
            sequence.name,
            sequence.truth,
            sequence.frames.len(),
            show(&results[0]),
            show(&results[1]),
            show(&results[2]),
            results[1].reasons.first().map(String::as_str).unwrap_or(""),
            cues(&results[1]),
            show(&results[3]),
        );
        let modes = ["reference", "liveshade passive", "liveshade passive, BlazeFace every frame", "liveshade active (blink)"];
        for (mode, v) in modes.iter().zip(&results) {
            let wrong = match sequence.truth {
                Truth::Live => v.kind == VerdictKind::Spoof,
                _ => v.kind == VerdictKind::Live,
            };
            errors.entry(mode).or_default()[wrong as usize] += 1;
        }
    }
    for (mode, [right, wrong]) in errors {
        println!("\n{mode}: {wrong} wrong verdicts (an attack called live or a live face called spoof) of {}", right + wrong);
    }
    Ok(())
}

fn main() -> liveshade::Result<()> {
    let shared = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared".into()));
    let reference = Engine::new(EngineOptions { upright_crops: false, ..EngineOptions::default() })?;
    let upright = Engine::new(EngineOptions::default())?;
    println!("adapter: {} ({})", upright.adapter().name, upright.adapter().backend);
    // `-- ../shared stills`: the stills alone; `sessions`: the sessions alone; `rendered`:
    // the rendered attacks' sessions alone.
    let only = std::env::args().nth(2);
    if only.is_none() || only.as_deref() == Some("stills") {
        stills(&reference, &upright, &shared)?;
    }
    if only.as_deref() != Some("stills") {
        sessions(&reference, &upright, &shared)?;
    }
    Ok(())
}
