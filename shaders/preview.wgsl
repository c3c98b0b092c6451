// The watch preview window: the frame (read raw through frame.wgsl, prepended), the face
// box, the current challenge as a glyph and the state as the window's border colour.
// Launcher: src/preview.rs; `PreviewParams` there has the same field order.

struct PreviewParams {
    frame_w: u32, frame_h: u32, frame_stride: u32, frame_format: u32,
    window_w: u32, window_h: u32,
    state: u32,          // 0 checking, 1 live, 2 spoof, 3 inconclusive, 4 no frame yet
    challenge: u32,      // 0 none, 1 blink, 2 turn left, 3 turn right, 4 open mouth
    face_box: vec4<f32>, // x0, y0, x1, y1 in frame pixels; x1 < x0: no face
}

@group(0) @binding(0) var<uniform> params: PreviewParams;
@group(0) @binding(1) var<storage, read> frame: array<u32>;

const BORDER: f32 = 12.0;
const LINE: f32 = 3.0;

@vertex
fn fullscreen(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
}

fn state_colour() -> vec3<f32> {
    switch params.state {
        case 1u: { return vec3<f32>(0.0, 1.0, 0.0); }       // live: green
        case 2u: { return vec3<f32>(1.0, 0.0, 0.0); }       // spoof: red
        case 3u: { return vec3<f32>(0.5, 0.5, 0.5); }       // inconclusive: grey
        default: { return vec3<f32>(1.0, 1.0, 0.0); }       // checking: yellow
    }
}

// The challenge glyph, centred at `c` with size `s`: arrows for turns, a bar for a blink,
// a ring for an open mouth.
fn in_glyph(p: vec2<f32>, c: vec2<f32>, s: f32) -> bool {
    let d = (p - c) / s;
    switch params.challenge {
        case 1u: { return abs(d.y) < 0.12 && abs(d.x) < 1.0; }
        case 2u: { return d.x > -1.0 && d.x < 1.0 && abs(d.y) < (1.0 + d.x) * 0.5; }   // points left
        case 3u: { return d.x > -1.0 && d.x < 1.0 && abs(d.y) < (1.0 - d.x) * 0.5; }   // points right
        case 4u: { let r = length(d); return r > 0.6 && r < 0.9; }
        default: { return false; }
    }
}

@fragment
fn preview(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    let p = position.xy;
    let window = vec2<f32>(f32(params.window_w), f32(params.window_h));
    if (p.x < BORDER || p.y < BORDER || p.x > window.x - BORDER || p.y > window.y - BORDER) {
        return vec4<f32>(state_colour(), 1.0);
    }
    if (params.state == 4u) { return vec4<f32>(0.0, 0.0, 0.0, 1.0); }
    let size = vec2<f32>(f32(params.frame_w), f32(params.frame_h));
    let inner = window - 2.0 * BORDER;
    let scale = min(inner.x / size.x, inner.y / size.y);
    let offset = vec2<f32>(BORDER) + (inner - size * scale) / 2.0;
    if (in_glyph(p, vec2<f32>(window.x / 2.0, offset.y + 40.0), 28.0)) {
        return vec4<f32>(1.0, 1.0, 1.0, 1.0);
    }
    let b = params.face_box;
    if (b.z > b.x) {
        let lo = offset + b.xy * scale;
        let hi = offset + b.zw * scale;
        let inside = all(p >= lo - LINE) && all(p <= hi + LINE);
        let interior = all(p > lo) && all(p < hi);
        if (inside && !interior) { return vec4<f32>(state_colour(), 1.0); }
    }
    let f = (p - offset) / scale;
    if (any(f < vec2<f32>(0.0)) || any(f >= size)) { return vec4<f32>(0.0, 0.0, 0.0, 1.0); }
    let rgb = frame_rgb(u32(f.x), u32(f.y));
    return vec4<f32>(vec3<f32>(rgb) / 255.0, 1.0);
}
