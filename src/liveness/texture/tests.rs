//! texture.rs's tests: planes and heads rendered in perspective, shut eyes, faces it cannot
//! follow.

use super::*;

/// A smooth random texture: a sum of sinusoids, 60-200 levels.
fn texture(x: f64, y: f64) -> f64 {
    let waves = [(0.31, 0.17, 0.0), (-0.23, 0.29, 1.0), (0.41, -0.37, 2.0), (0.13, 0.52, 3.0), (0.57, 0.08, 4.0), (-0.47, -0.21, 5.0)];
    130.0 + waves.iter().map(|(a, b, phase)| 12.0 * (a * x + b * y + phase).sin()).sum::<f64>()
}

const WIDTH: u32 = 320;
const HEIGHT: u32 = 240;
/// Where the nose's landmarks gather, and how far from it the rest stay.
const NOSE_AT: [f64; 2] = [200.0, 130.0];

/// A frame of `texture` seen through `h` (frame point = h(texture point)), the texture
/// around [`NOSE_AT`] pushed further by `nose_shift` (full within 20 px, none beyond
/// 32), `eyes` painted flat grey (lids shut) and sensor noise of `noise` levels.
fn render(h: &Homography, nose_shift: [f64; 2], eyes: Option<&[[f64; 2]]>, noise: f64, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut gaussian = move || {
        let mut sum = 0.0;
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            sum += (state >> 40) as f64 / (1u64 << 24) as f64;
        }
        (sum - 2.0) * 1.73
    };
    let inverse = invert(h);
    let nose = geometry::apply(h, NOSE_AT);
    let mut pixels = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (x, y) = (x as f64, y as f64);
            let weight = ((32.0 - distance([x, y], nose)) / 12.0).clamp(0.0, 1.0);
            let p = geometry::apply(&inverse, [x - weight * nose_shift[0], y - weight * nose_shift[1]]);
            let shut = eyes.is_some_and(|eyes| eyes.iter().any(|e| distance([x, y], *e) < 9.0));
            let v = if shut { 150.0 } else { texture(p[0], p[1]) } + noise * gaussian();
            let v = v.round().clamp(0.0, 255.0) as u8;
            pixels.extend([v, v, v]);
        }
    }
    pixels
}

fn invert(h: &Homography) -> Homography {
    let [a, b, c, d, e, f, g, i, j] = *h;
    let m = [e * j - f * i, c * i - b * j, b * f - c * e, f * g - d * j, a * j - c * g, c * d - a * f, d * i - e * g, b * g - a * i, a * e - b * d];
    m.map(|v| v / m[8])
}

/// 468 landmarks: the nose's within 8 px of [`NOSE_AT`], the rest spread over 100-300 x
/// 30-210 at least 50 px from it, eyes 60 px apart.
fn face() -> Vec<Point> {
    let mut points: Vec<Point> = (0..468)
        .map(|i| {
            let mut k = i;
            loop {
                let p = [100.0 + (k * 37 % 200) as f64, 30.0 + (k * 59 % 180) as f64];
                if distance(p, NOSE_AT) > 50.0 {
                    return [p[0] as f32, p[1] as f32, 0.0];
                }
                k += 468;
            }
        })
        .collect();
    for (n, &i) in NOSE_TIP.iter().enumerate() {
        let angle = n as f64 * 0.9;
        points[i] = [(NOSE_AT[0] + 8.0 * angle.cos()) as f32, (NOSE_AT[1] + 8.0 * angle.sin()) as f32, 0.0];
    }
    for (eye, centre) in [(RIGHT_EYE, [130.0f32, 70.0]), (LEFT_EYE, [190.0, 70.0])] {
        for (k, &i) in eye.iter().enumerate() {
            let dx = [-5.0, 5.0, -2.0, 2.0, -2.0, 2.0][k];
            let dy = [0.0, 0.0, -2.0, -2.0, 2.0, 2.0][k];
            points[i] = [centre[0] + dx, centre[1] + dy, 0.0];
        }
    }
    points
}

/// The landmarks moved by `h` (and the nose's by `nose_shift`), each off by up to
/// `jitter` px as Face Mesh's are.
fn moved(points: &[Point], h: &Homography, nose_shift: [f64; 2], jitter: f32) -> Vec<Point> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let [x, y] = geometry::apply(h, [p[0] as f64, p[1] as f64]);
            let shift = if NOSE_TIP.contains(&i) { nose_shift } else { [0.0, 0.0] };
            let wobble = jitter * (((i * 7919) % 13) as f32 / 6.0 - 1.0);
            [(x + shift[0]) as f32 + wobble, (y + shift[1]) as f32 - wobble, 0.0]
        })
        .collect()
}

const IDENTITY: Homography = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
/// A card turned and tilted: 10 % narrower, sheared, in perspective.
const TILT: Homography = [0.9, 0.05, 22.0, -0.03, 0.97, 4.0, 3e-4, -1e-4, 1.0];

fn measure(current: &[u8], landmarks: &[Point]) -> Option<TextureMotion> {
    let mut tracker = TextureTracker::default();
    let points = face();
    assert!(tracker.observe(&Frame::rgb8(WIDTH, HEIGHT, &render(&IDENTITY, [0.0; 2], None, 2.0, 1)).unwrap(), &points).is_none());
    assert!(tracker.has_reference());
    tracker.observe(&Frame::rgb8(WIDTH, HEIGHT, current).unwrap(), landmarks)
}

#[test]
fn a_plane_turned_in_perspective_has_no_parallax() {
    let current = render(&TILT, [0.0; 2], None, 2.0, 2);
    let m = measure(&current, &moved(&face(), &TILT, [0.0; 2], 1.5)).expect("a measurement");
    assert!(m.parallax < 0.004, "{m:?}");
    assert!(m.shape_change > 0.03, "{m:?}");
    assert!(m.eye_change < 0.05, "{m:?}");
    assert!(m.matched > 40, "{m:?}");
}

#[test]
fn a_nose_off_the_plane_measures_its_parallax() {
    // 3 px off the plane at a 60-px eye distance: 0.05 eye distances.
    for shift in [[3.0, 0.0], [-2.0, 2.0]] {
        let current = render(&TILT, shift, None, 2.0, 3);
        let m = measure(&current, &moved(&face(), &TILT, shift, 1.5)).expect("a measurement");
        let expected = (shift[0] as f32).hypot(shift[1] as f32) / 60.0;
        assert!((m.parallax - expected).abs() < 0.2 * expected, "{shift:?}: {m:?}, expected {expected}");
    }
}

#[test]
fn shut_eyes_change_the_eye_texture() {
    let points = face();
    let eyes: Vec<[f64; 2]> = [[130.0, 70.0], [190.0, 70.0]].iter().map(|e| geometry::apply(&TILT, *e)).collect();
    let current = render(&TILT, [0.0; 2], Some(&eyes), 2.0, 4);
    let m = measure(&current, &moved(&points, &TILT, [0.0; 2], 1.0)).expect("a measurement");
    assert!(m.eye_change > 0.3, "{m:?}");
    assert!(m.parallax < 0.004, "{m:?}");
}

#[test]
fn faces_it_cannot_follow_give_no_measurement_and_no_panic() {
    let current = render(&TILT, [0.0; 2], None, 2.0, 5);
    // Landmarks elsewhere (another face), off the frame, not numbers, too few.
    let elsewhere: Vec<Point> = face().iter().map(|p| [p[0] + 400.0, p[1], 0.0]).collect();
    assert!(measure(&current, &elsewhere).is_none());
    let nan = vec![[f32::NAN; 3]; 468];
    assert!(measure(&current, &nan).is_none());
    assert!(measure(&current, &face()[..100]).is_none());
    let mut tracker = TextureTracker::default();
    let frame = Frame::rgb8(WIDTH, HEIGHT, &current).unwrap();
    assert!(tracker.observe(&frame, &nan).is_none());
    assert!(!tracker.has_reference(), "a reference of no face");
    tracker.observe(&frame, &face());
    assert!(tracker.has_reference());
    tracker.clear();
    assert!(!tracker.has_reference());
}
