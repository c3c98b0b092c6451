// Reading a frame as the caller or the camera gave it: raw bytes in a storage buffer (RGBA8,
// RGB8, BGRA8, BGR8, YUYV, NV12, NV21 or I420, any row stride), converted to RGB as they are read. Prepended
// to warp.wgsl and preview.wgsl, which each declare `frame: array<u32>` and a `params`
// uniform with frame_w, frame_h, frame_stride and frame_format.
// Format codes: src/frame.rs, `PixelFormat::code`.

const FORMAT_RGBA8: u32 = 0u;
const FORMAT_RGB8: u32 = 1u;
const FORMAT_BGRA8: u32 = 2u;
const FORMAT_YUYV: u32 = 3u;
const FORMAT_NV12: u32 = 4u;
const FORMAT_BGR8: u32 = 5u;
const FORMAT_NV21: u32 = 6u;
const FORMAT_I420: u32 = 7u;

fn frame_byte(index: u32) -> i32 {
    return i32((frame[index / 4u] >> (8u * (index % 4u))) & 255u);
}

// BT.601 limited range, integer: the same formula as yuv_to_rgb in src/frame.rs.
fn yuv_to_rgb(y: i32, u: i32, v: i32) -> vec3<i32> {
    let c = y - 16;
    let d = u - 128;
    let e = v - 128;
    let rgb = vec3<i32>(298 * c + 409 * e + 128, 298 * c - 100 * d - 208 * e + 128, 298 * c + 516 * d + 128) >> vec3<u32>(8u);
    return clamp(rgb, vec3<i32>(0), vec3<i32>(255));
}

// R, G, B of frame pixel (x, y), both in range; camera YUV is converted here, as it is read.
fn frame_rgb(x: u32, y: u32) -> vec3<i32> {
    if (params.frame_format == FORMAT_YUYV) {
        let base = y * params.frame_stride + (x / 2u) * 4u;
        return yuv_to_rgb(frame_byte(base + (x % 2u) * 2u), frame_byte(base + 1u), frame_byte(base + 3u));
    }
    let luma_bytes = params.frame_stride * params.frame_h;
    if (params.frame_format == FORMAT_NV12 || params.frame_format == FORMAT_NV21) {
        let chroma = luma_bytes + (y / 2u) * params.frame_stride + (x / 2u) * 2u;
        let v_first = u32(params.frame_format == FORMAT_NV21);
        return yuv_to_rgb(frame_byte(y * params.frame_stride + x), frame_byte(chroma + v_first), frame_byte(chroma + 1u - v_first));
    }
    if (params.frame_format == FORMAT_I420) {
        // U then V planes, stride / 2 bytes a row, height / 2 rows each.
        let half_stride = params.frame_stride / 2u;
        let at = (y / 2u) * half_stride + x / 2u;
        let u_plane = luma_bytes;
        let v_plane = luma_bytes + half_stride * (params.frame_h / 2u);
        return yuv_to_rgb(frame_byte(y * params.frame_stride + x), frame_byte(u_plane + at), frame_byte(v_plane + at));
    }
    let three_bytes = params.frame_format == FORMAT_RGB8 || params.frame_format == FORMAT_BGR8;
    let bytes_per_pixel = select(4u, 3u, three_bytes);
    let base = y * params.frame_stride + x * bytes_per_pixel;
    let first = frame_byte(base);
    let third = frame_byte(base + 2u);
    let g = frame_byte(base + 1u);
    if (params.frame_format == FORMAT_BGRA8 || params.frame_format == FORMAT_BGR8) { return vec3<i32>(third, g, first); }
    return vec3<i32>(first, g, third);
}

