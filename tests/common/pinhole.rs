//! A printed photo in front of a pinhole camera: the attack sequences the flatness cue is
//! proven on (tests/session.rs) and measured on (examples/error_rates.rs, which includes
//! this file).
#![allow(dead_code)]

/// Frame size and focal length (pixels) of the camera; the card's height and distance (m).
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 480;
const FOCAL: f32 = 600.0;
const CARD_HEIGHT: f32 = 0.2;
const DISTANCE: f32 = 0.5;

/// A deterministic noise source (xorshift), roughly Gaussian by summing uniforms.
pub struct Noise(pub u64);

impl Noise {
    pub fn next(&mut self) -> f32 {
        let mut sum = 0.0;
        for _ in 0..4 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            sum += (self.0 >> 40) as f32 / (1u64 << 24) as f32;
        }
        (sum - 2.0) * 1.73 // unit variance
    }
}

/// An RGB8 photo.
pub struct Photo<'a> {
    pub width: u32,
    pub height: u32,
    pub rgb: &'a [u8],
}

impl Photo<'_> {
    /// Bilinear, None outside.
    pub fn at(&self, x: f32, y: f32) -> Option<[f32; 3]> {
        if x < 0.0 || y < 0.0 || x > (self.width - 1) as f32 || y > (self.height - 1) as f32 {
            return None;
        }
        let (x0, y0) = (x.floor() as u32, y.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |x: u32, y: u32, c: usize| self.rgb[((y * self.width + x) * 3) as usize + c] as f32;
        Some([0, 1, 2].map(|c| {
            let top = p(x0, y0, c) * (1.0 - fx) + p(x1, y0, c) * fx;
            let bottom = p(x0, y1, c) * (1.0 - fx) + p(x1, y1, c) * fx;
            top * (1.0 - fy) + bottom * fy
        }))
    }
}

/// How the card is held over a sequence: yaw and pitch (degrees) and shift (m: sideways,
/// down, away) at `s`, 0 at the first frame and 1 at the last.
pub type Move = fn(f32) -> (f32, f32, [f32; 3]);

/// Held still with hand tremor (half a degree, a millimetre).
pub fn held_still(s: f32) -> (f32, f32, [f32; 3]) {
    (0.5 * (s * 40.0).sin(), 0.4 * (s * 31.0).cos(), [0.001 * (s * 23.0).sin(), 0.0, 0.0])
}

/// Tilted back and forth, pitch +-20 degrees, once.
pub fn tilted(s: f32) -> (f32, f32, [f32; 3]) {
    (0.0, 20.0 * (s * 2.0 * std::f32::consts::PI).sin(), [0.0, 0.0, 0.0])
}

/// Waved: yaw +-30 degrees once, a little pitch, moving sideways and down.
pub fn waved(s: f32) -> (f32, f32, [f32; 3]) {
    (30.0 * (s * 2.0 * std::f32::consts::PI).sin(), 5.0 * (s * 9.0).sin(), [0.03 * (s * 6.0).sin(), 0.01 * s, 0.0])
}

/// Waved as [`waved`], 0.65 m from the camera: a smaller face (BlazeFace finds none at
/// 0.8 m in this frame).
pub fn waved_far(s: f32) -> (f32, f32, [f32; 3]) {
    let (yaw, pitch, [x, y, _]) = waved(s);
    (yaw, pitch, [x, y, 0.15])
}

/// The moves, named.
pub const MOVES: [(&str, Move); 4] = [
    ("held still (hand tremor)", held_still),
    ("tilted back and forth (pitch +-20)", tilted),
    ("waved (yaw +-30, moving)", waved),
    ("waved 0.65 m away", waved_far),
];

/// `photo` printed on a card 0.2 m high, 0.5 m in front of a 640x480 pinhole camera (focal
/// 600 px), turned by `yaw` and `pitch` degrees about its centre and shifted by `shift`
/// metres (eye distance 27-31 px unshifted); a grey wall behind; each pixel the mean of 3 x 3 rays over its area (a point
/// sample of the photo at half its resolution would alias, and the aliasing would change as
/// the card turns); sensor noise of 2 levels. RGB8.
pub fn card_frame(photo: &Photo<'_>, yaw: f32, pitch: f32, shift: [f32; 3], noise: &mut Noise) -> Vec<u8> {
    let metres_per_px = CARD_HEIGHT / photo.height as f32;
    let (sy, cy) = yaw.to_radians().sin_cos();
    let (sp, cp) = pitch.to_radians().sin_cos();
    // R = Ry(yaw) * Rx(pitch): columns are the card's u, v axes and normal.
    let u = [cy, 0.0, -sy];
    let v = [sy * sp, cp, cy * sp];
    let n = [sy * cp, -sp, cy * cp];
    let centre = [shift[0], shift[1], DISTANCE + shift[2]];
    let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let offsets = [-1.0 / 3.0, 0.0, 1.0 / 3.0];
    let mut pixels = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        let wall = 90.0 + 40.0 * (y as f32 / HEIGHT as f32);
        for x in 0..WIDTH {
            let mut sum = [0.0f32; 3];
            for oy in offsets {
                for ox in offsets {
                    let ray = [(x as f32 + ox - WIDTH as f32 / 2.0) / FOCAL, (y as f32 + oy - HEIGHT as f32 / 2.0) / FOCAL, 1.0];
                    let t = dot(n, centre) / dot(n, ray);
                    let hit = [t * ray[0] - centre[0], t * ray[1] - centre[1], t * ray[2] - centre[2]];
                    let (pu, pv) = (dot(hit, u) / metres_per_px + photo.width as f32 / 2.0, dot(hit, v) / metres_per_px + photo.height as f32 / 2.0);
                    let p = photo.at(pu, pv).unwrap_or([wall, wall, wall + 10.0]);
                    sum.iter_mut().zip(p).for_each(|(s, c)| *s += c / 9.0);
                }
            }
            pixels.extend(sum.map(|c| (c + 2.0 * noise.next()).round().clamp(0.0, 255.0) as u8));
        }
    }
    pixels
}

/// `frames` frames of `photo` held as `pose` says, with the noise seeded by `seed`.
pub fn card_sequence(photo: &Photo<'_>, pose: Move, frames: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut noise = Noise(seed);
    (0..frames)
        .map(|i| {
            let (yaw, pitch, shift) = pose(i as f32 / (frames - 1).max(1) as f32);
            card_frame(photo, yaw, pitch, shift, &mut noise)
        })
        .collect()
}
