//! The `watch --window` preview, on a virtual X server (Xvfb): a screenshot must show the
//! frame with the face box and the verdict's colour drawn.
#![cfg(feature = "window")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An RGB screenshot of the whole X screen (xwd's format: a big-endian header, a colour
/// map, then 32-bit pixels in the header's byte order).
fn screenshot(display: &str) -> (usize, usize, Vec<[u8; 3]>) {
    let out = Command::new("xwd").args(["-root", "-silent", "-display", display]).output().expect("xwd (x11-apps) is needed for the preview test");
    assert!(out.status.success(), "xwd failed: {}", String::from_utf8_lossy(&out.stderr));
    let d = out.stdout;
    let field = |i: usize| u32::from_be_bytes([d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]]) as usize;
    let (header, width, height, byte_order, bits, row, colours) = (field(0), field(4), field(5), field(7), field(11), field(12), field(19));
    assert_eq!(bits, 32, "a 24-bit screen stored as 32-bit pixels");
    let start = header + colours * 12;
    let pixels = (0..height)
        .flat_map(|y| (0..width).map(move |x| (y, x)))
        .map(|(y, x)| {
            let p = &d[start + y * row + 4 * x..start + y * row + 4 * x + 4];
            if byte_order == 0 { [p[2], p[1], p[0]] } else { [p[1], p[2], p[3]] }
        })
        .collect();
    (width, height, pixels)
}

#[test]
fn the_preview_window_shows_the_frame_with_the_face_box_and_the_verdict() {
    // A live speaker's frames up to the one its passive session ends on, live (the
    // speaker's blink confirms MiniFASNet), as `liveshade session` counts them.
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sequences/brbk7n");
    let session = Command::new(env!("CARGO_BIN_EXE_liveshade")).args(["session", "--backend", "vulkan", "--json"]).arg(&source).output().unwrap();
    let verdict: serde_json::Value = serde_json::from_slice(&session.stdout).expect("the session's verdict");
    assert_eq!(verdict["verdict"], "live", "{verdict}");
    let until = verdict["frames"]["accepted"].as_u64().unwrap() + verdict["frames"]["rejected"].as_u64().unwrap();
    let frames = std::env::temp_dir().join(format!("liveshade-preview-{}", std::process::id()));
    std::fs::create_dir_all(&frames).unwrap();
    for i in 0..until {
        std::fs::copy(source.join(format!("{i:03}.jpg")), frames.join(format!("{i:03}.jpg"))).unwrap();
    }
    let number = 90 + std::process::id() % 9;
    let display = format!(":{number}");
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "800x600x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (package xvfb) is needed for the preview test"),
    );
    let socket = format!("/tmp/.X11-unix/X{number}");
    let started = Instant::now();
    while !std::path::Path::new(&socket).exists() {
        assert!(started.elapsed() < Duration::from_secs(20), "Xvfb did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut preview = Killed(
        Command::new(env!("CARGO_BIN_EXE_liveshade"))
            .args(["watch", "--backend", "vulkan", "--window", "--frames"])
            .arg(&frames)
            .env("DISPLAY", &display)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = preview.0.stderr.take().unwrap();
    let mut shown = false;
    let mut log = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        log.push(line.clone());
        if line.contains("preview: showing the last frame") {
            shown = true;
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the preview did not draw in time");
    }
    assert!(shown, "the preview never drew its last frame: {log:?}");
    std::thread::sleep(Duration::from_millis(300));
    let (width, _height, pixels) = screenshot(&display);
    let at = |x: usize, y: usize| pixels[y * width + x];
    let green = |p: [u8; 3]| p[1] > 200 && p[0] < 60 && p[2] < 60;
    // The window (640x480 at the top left, no window manager) has a green border: live.
    assert!(green(at(4, 4)) && green(at(635, 240)), "border {:?} {:?}", at(4, 4), at(635, 240));
    // Inside, the frame: GRID's blue backdrop fills much of it.
    let inside: Vec<[u8; 3]> = (20..460).flat_map(|y| (20..620).map(move |x| (x, y))).map(|(x, y)| at(x, y)).collect();
    let blue = inside.iter().filter(|p| p[2] > 150 && p[2] as i32 > p[0] as i32 + 60).count();
    assert!(blue > inside.len() / 4, "the frame is not shown ({blue} blue of {} pixels)", inside.len());
    // And the face box: a green outline around the middle of the frame.
    let outline = inside.iter().filter(|p| green(**p)).count();
    assert!(outline > 400, "no face box drawn ({outline} green pixels inside the window)");
    let row: Vec<usize> = (20..620).filter(|&x| green(at(x, 300))).collect();
    assert!(row.len() >= 2 && row[0] > 120 && *row.last().unwrap() < 440, "the box's sides on row 300: {row:?}");
    let _ = std::fs::remove_dir_all(&frames);
}
