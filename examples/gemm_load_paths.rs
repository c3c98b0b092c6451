//! The pointwise GEMM (8 pixels x 8 channels per invocation, written out like
//! shaders/pointwise.wgsl's `pointwise_blocked`) reading its activations from a storage
//! buffer or from an rgba32float texture, in the same run: PERF_NOTES.md reported texture
//! reads as the fastest path on lavapipe; with the accumulators in named registers they
//! measured 0.85x the buffer reads here (BENCHMARKS.md), so the kernels read buffers.
//! `cargo run --release --example gemm_load_paths`.
use liveshade::gpu::{Backend, Gpu, GpuOptions};
use std::time::Instant;
use wgpu::util::DeviceExt;

const HEAD: &str = r#"
struct P { pixels: u32, in_c4: u32, out_c4: u32, weight_c4: u32 }
@group(0) @binding(0) var<uniform> params: P;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(4) var input_t: texture_2d<f32>;
@group(0) @binding(6) var<storage, read_write> output: array<vec4<f32>>;
fn li(id: vec3<u32>, n: vec3<u32>) -> u32 { return id.x + id.y * n.x * 64u; }
fn mac(s: vec4<f32>, a: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>) -> vec4<f32> {
    return fma(vec4(a.x), w0, fma(vec4(a.y), w1, fma(vec4(a.z), w2, fma(vec4(a.w), w3, s))));
}
"#;

fn kernel(name: &str, load: &str) -> String {
    let mut s = format!("@compute @workgroup_size(64)\nfn {name}(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {{\n");
    s += "    let index = li(id, n);\n    let cb = params.weight_c4 / 2u;\n    let pb = (params.pixels + 7u) / 8u;\n    if (index >= cb * pb) { return; }\n    let c4 = (index % cb) * 2u;\n    let first = (index / cb) * 8u;\n    let last = params.pixels - 1u;\n    let st = params.weight_c4;\n";
    for p in 0..8 {
        s += &format!("    let r{p} = min(first + {p}u, last);\n    var s{p}a = vec4<f32>(0.0); var s{p}b = vec4<f32>(0.0);\n");
    }
    s += "    for (var k4 = 0u; k4 < params.in_c4; k4++) {\n        let wb = k4 * 4u * st + c4;\n";
    for j in 0..4 {
        s += &format!("        let w{j}a = weights[wb + {j}u * st]; let w{j}b = weights[wb + {j}u * st + 1u];\n");
    }
    for p in 0..8 {
        s += &format!("        let a{p} = {};\n", load.replace("ROW", &format!("r{p}")));
        s += &format!("        s{p}a = mac(s{p}a, a{p}, w0a, w1a, w2a, w3a); s{p}b = mac(s{p}b, a{p}, w0b, w1b, w2b, w3b);\n");
    }
    s += "    }\n";
    for p in 0..8 {
        s += &format!(
            "    if (first + {p}u <= last) {{ output[(first + {p}u) * params.out_c4 + c4] = s{p}a; if (c4 + 1u < params.out_c4) {{ output[(first + {p}u) * params.out_c4 + c4 + 1u] = s{p}b; }} }}\n"
        );
    }
    s += "}\n";
    s
}

fn main() {
    let gpu = Gpu::new(&GpuOptions { backend: Backend::from_env().unwrap(), ..Default::default() }).unwrap();
    let device = gpu.device();
    let queue = gpu.queue();
    let src = format!("{HEAD}{}{}", kernel("buffer_in", "input[ROW * params.in_c4 + k4]"), kernel("texture_in", "textureLoad(input_t, vec2<u32>(k4, ROW), 0)"));
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: None, source: wgpu::ShaderSource::Wgsl(src.into()) });
    let shapes: [(u32, u32, u32); 5] = [(256, 128, 128), (1600, 32, 104), (4096, 24, 24), (400, 64, 104), (2304, 32, 32)];
    for (pixels, cin, cout) in shapes {
        let in_c4 = cin.div_ceil(4);
        let out_c4 = cout.div_ceil(4);
        let weight_c4 = out_c4.div_ceil(2) * 2;
        let params: [u32; 4] = [pixels, in_c4, out_c4, weight_c4];
        let pbuf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let input: Vec<f32> = (0..pixels * in_c4 * 4).map(|i| (i % 13) as f32 * 0.1).collect();
        let wv: Vec<f32> = (0..in_c4 * 4 * weight_c4 * 4).map(|i| (i % 7) as f32 * 0.1).collect();
        let ibuf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(&input),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let wbuf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(&wv),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let obuf = device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: (pixels * out_c4 * 16) as u64,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let tex = device.create_texture_with_data(
            queue,
            &wgpu::TextureDescriptor {
                label: None,
                size: wgpu::Extent3d { width: in_c4, height: pixels, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba32Float,
                usage: wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            bytemuck::cast_slice(&input),
        );
        let view = tex.create_view(&Default::default());
        let flops = 2.0 * pixels as f64 * cin as f64 * cout as f64;
        let mut runs = Vec::new();
        for entry in ["buffer_in", "texture_in"] {
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: None,
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
            let layout = pipeline.get_bind_group_layout(0);
            let inres = if entry == "buffer_in" { (1, ibuf.as_entire_binding()) } else { (4, wgpu::BindingResource::TextureView(&view)) };
            let entries: Vec<wgpu::BindGroupEntry> = vec![(0, pbuf.as_entire_binding()), inres, (2, wbuf.as_entire_binding()), (6, obuf.as_entire_binding())]
                .into_iter()
                .map(|(binding, resource)| wgpu::BindGroupEntry { binding, resource })
                .collect();
            let bg = device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &layout, entries: &entries });
            let groups = (pixels.div_ceil(8) * weight_c4 / 2).div_ceil(64);
            runs.push((entry, pipeline, bg, groups, Vec::new()));
        }
        let run = |pipeline: &wgpu::ComputePipeline, bg: &wgpu::BindGroup, groups: u32| {
            let mut e = device.create_command_encoder(&Default::default());
            {
                let mut pass = e.begin_compute_pass(&Default::default());
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, bg, &[]);
                for _ in 0..16 {
                    pass.dispatch_workgroups(groups, 1, 1);
                }
            }
            queue.submit([e.finish()]);
            device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
        };
        for r in &runs {
            run(&r.1, &r.2, r.3);
        }
        for _ in 0..21 {
            for r in runs.iter_mut() {
                let s = Instant::now();
                run(&r.1, &r.2, r.3);
                r.4.push(s.elapsed().as_secs_f64() / 16.0);
            }
        }
        print!("{pixels}x{cin}->{cout}:");
        for r in runs.iter_mut() {
            r.4.sort_by(f64::total_cmp);
            let t = r.4[0];
            print!("  {} {:.3} ms {:5.1} GF/s", r.0, t * 1e3, flops / t / 1e9);
        }
        println!();
    }
}
