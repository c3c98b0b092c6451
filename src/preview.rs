//! The `watch --window` preview: a winit window drawn with the engine's own wgpu device,
//! showing the frame, the face box, the current challenge and the state (border colour:
//! yellow checking, green live, red spoof, grey inconclusive). Nothing shown is saved; the
//! window's copy of the frame is overwritten by the next one and zeroed when it closes.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

use crate::engine::Engine;
use crate::engine::kernels::FRAME_WGSL;
use crate::error::{Error, Result};
use crate::liveness::{Challenge, SessionOptions, Sessions, VerdictKind};
use crate::source::FrameSource;
use crate::watch::{Step, StepError, WatchEvent, Watcher};

/// The preview's WGSL: shaders/frame.wgsl (frame access, shared with the resamplers)
/// followed by shaders/preview.wgsl. `tests/shaders.rs` validates it.
pub fn shader_source() -> String {
    format!("{FRAME_WGSL}\n{}", include_str!("../shaders/preview.wgsl"))
}

/// Parameters of preview.wgsl (`PreviewParams` there, same field order).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PreviewParams {
    frame_w: u32,
    frame_h: u32,
    frame_stride: u32,
    frame_format: u32,
    window_w: u32,
    window_h: u32,
    state: u32,
    challenge: u32,
    face_box: [f32; 4],
}

struct Renderer {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    params: wgpu::Buffer,
    frame: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

fn window_error(message: impl ToString) -> Error {
    Error::Gpu { during: "the preview window", message: message.to_string() }
}

impl Renderer {
    fn new(engine: &Engine, window: Arc<Window>) -> Result<Renderer> {
        let gpu = &engine.gpu;
        let device = gpu.device();
        let surface = gpu.create_surface(window.clone())?;
        let caps = gpu.surface_capabilities(&surface);
        // A linear format shows the frame's bytes as they are.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or(caps.formats.first().copied())
            .ok_or_else(|| window_error("the adapter cannot present to this window"))?;
        let size = window.inner_size();
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: size.width.max(1),
            height: size.height.max(1),
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 2,
            alpha_mode: caps.alpha_modes.first().copied().unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
            color_space: Default::default(),
        };
        surface.configure(device, &config);
        let source = shader_source();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("preview.wgsl"), source: wgpu::ShaderSource::Wgsl(source.into()) });
        let entry = |binding, ty| wgpu::BindGroupLayoutEntry { binding, visibility: wgpu::ShaderStages::FRAGMENT, ty, count: None };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("preview"),
            entries: &[
                entry(0, wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Uniform, has_dynamic_offset: false, min_binding_size: None }),
                entry(
                    1,
                    wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Storage { read_only: true }, has_dynamic_offset: false, min_binding_size: None },
                ),
            ],
        });
        let pipeline_layout =
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some("preview"), bind_group_layouts: &[Some(&layout)], immediate_size: 0 });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("preview"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState { module: &module, entry_point: Some("fullscreen"), compilation_options: Default::default(), buffers: &[] },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("preview"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState { format, blend: None, write_mask: wgpu::ColorWrites::ALL })],
            }),
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            multiview_mask: None,
            cache: None,
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("preview parameters"),
            size: std::mem::size_of::<PreviewParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let frame = preview_frame_buffer(device, 16);
        let bind_group = bind(device, &layout, &params, &frame);
        gpu.check("creating the preview window")?;
        Ok(Renderer { window, surface, config, pipeline, layout, params, frame, bind_group })
    }

    fn show_frame(&mut self, engine: &Engine, bytes: &[u8]) {
        let device = engine.gpu.device();
        let padded = (bytes.len() as u64).div_ceil(4) * 4;
        if padded > self.frame.size() {
            self.frame = preview_frame_buffer(device, padded);
            self.bind_group = bind(device, &self.layout, &self.params, &self.frame);
        }
        engine.gpu.write_bytes(&self.frame, bytes);
    }

    fn render(&mut self, engine: &Engine, params: PreviewParams) -> Result<()> {
        let gpu = &engine.gpu;
        let params = PreviewParams { window_w: self.config.width, window_h: self.config.height, ..params };
        gpu.queue().write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        let texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(texture) | wgpu::CurrentSurfaceTexture::Suboptimal(texture) => texture,
            other => return Err(window_error(format!("no surface texture: {other:?}"))),
        };
        let view = texture.texture.create_view(&wgpu::TextureViewDescriptor::default());
        let mut encoder = gpu.encoder("preview");
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("preview"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations { load: wgpu::LoadOp::Clear(wgpu::Color::BLACK), store: wgpu::StoreOp::Store },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
        gpu.queue().submit([encoder.finish()]);
        self.window.pre_present_notify();
        gpu.queue().present(texture);
        gpu.check("drawing the preview")
    }

    fn resize(&mut self, engine: &Engine, width: u32, height: u32) {
        self.config.width = width.max(1);
        self.config.height = height.max(1);
        self.surface.configure(engine.gpu.device(), &self.config);
    }

    /// Zeroes the window's copy of the frame.
    fn erase(&self, engine: &Engine) {
        let mut encoder = engine.gpu.encoder("erase preview");
        encoder.clear_buffer(&self.frame, 0, None);
        let _ = engine.gpu.submit_and_wait(encoder);
    }
}

fn preview_frame_buffer(device: &wgpu::Device, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("preview frame"),
        size: bytes.max(16).div_ceil(16) * 16,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

fn bind(device: &wgpu::Device, layout: &wgpu::BindGroupLayout, params: &wgpu::Buffer, frame: &wgpu::Buffer) -> wgpu::BindGroup {
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("preview"),
        layout,
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: frame.as_entire_binding() },
        ],
    })
}

struct App<'e, F: FnMut(WatchEvent<'_>)> {
    engine: &'e Engine,
    watcher: Watcher<'e>,
    source: Box<dyn FrameSource>,
    renderer: Option<Renderer>,
    params: PreviewParams,
    on_event: F,
    ended: bool,
    close_when_done: bool,
    error: Option<Error>,
    shown: usize,
}

impl<F: FnMut(WatchEvent<'_>)> App<'_, F> {
    fn fail(&mut self, event_loop: &ActiveEventLoop, error: Error) {
        self.error = Some(error);
        event_loop.exit();
    }

    fn step(&mut self, event_loop: &ActiveEventLoop) {
        match self.watcher.step(self.source.as_mut()) {
            Ok(Step::Frame { frame, status, verdict }) => {
                if let Some(renderer) = self.renderer.as_mut() {
                    renderer.show_frame(self.engine, &frame.bytes);
                }
                let b = status.face_box;
                self.params = PreviewParams {
                    frame_w: frame.width,
                    frame_h: frame.height,
                    frame_stride: frame.stride,
                    frame_format: frame.format.code(),
                    state: 0,
                    challenge: match status.challenge {
                        None => 0,
                        Some(Challenge::Blink) => 1,
                        Some(Challenge::TurnLeft) => 2,
                        Some(Challenge::TurnRight) => 3,
                        Some(Challenge::OpenMouth) => 4,
                    },
                    face_box: b.map(|b| [b.x0, b.y0, b.x1, b.y1]).unwrap_or([0.0, 0.0, -1.0, -1.0]),
                    ..self.params
                };
                (self.on_event)(WatchEvent::Status(status));
                if let Some(verdict) = verdict {
                    self.params.state = state_of(verdict.kind);
                    (self.on_event)(WatchEvent::Verdict(&verdict));
                }
            }
            Ok(Step::Unreadable { status, verdict, .. }) => {
                (self.on_event)(WatchEvent::Status(status));
                if let Some(verdict) = verdict {
                    self.params.state = state_of(verdict.kind);
                    (self.on_event)(WatchEvent::Verdict(&verdict));
                }
            }
            Ok(Step::End(verdict)) => {
                if let Some(verdict) = verdict {
                    self.params.state = state_of(verdict.kind);
                    (self.on_event)(WatchEvent::Verdict(&verdict));
                }
                self.ended = true;
                eprintln!("preview: the source ended");
            }
            Err(failed) => {
                let StepError { error, verdict } = *failed;
                if let Some(verdict) = verdict {
                    (self.on_event)(WatchEvent::Verdict(&verdict));
                }
                self.fail(event_loop, error);
            }
        }
    }
}

fn state_of(kind: VerdictKind) -> u32 {
    match kind {
        VerdictKind::Live => 1,
        VerdictKind::Spoof => 2,
        VerdictKind::Inconclusive => 3,
    }
}

impl<F: FnMut(WatchEvent<'_>)> ApplicationHandler for App<'_, F> {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.renderer.is_some() {
            return;
        }
        let attributes = Window::default_attributes().with_title("liveshade").with_inner_size(winit::dpi::PhysicalSize::new(640, 480));
        let window = match event_loop.create_window(attributes) {
            Ok(window) => Arc::new(window),
            Err(e) => return self.fail(event_loop, window_error(e)),
        };
        match Renderer::new(self.engine, window) {
            Ok(renderer) => self.renderer = Some(renderer),
            Err(e) => self.fail(event_loop, e),
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) => {
                if let Some(renderer) = self.renderer.as_mut() {
                    renderer.resize(self.engine, size.width, size.height);
                }
            }
            WindowEvent::RedrawRequested => {
                let params = self.params;
                if let Some(renderer) = self.renderer.as_mut() {
                    if let Err(e) = renderer.render(self.engine, params) {
                        return self.fail(event_loop, e);
                    }
                    self.shown += 1;
                    if self.ended {
                        eprintln!("preview: showing the last frame ({} frames drawn)", self.shown);
                        if self.close_when_done {
                            event_loop.exit();
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        if self.renderer.is_none() {
            return;
        }
        if !self.ended {
            self.step(event_loop);
            if let Some(renderer) = &self.renderer {
                renderer.window.request_redraw();
            }
        } else {
            event_loop.set_control_flow(ControlFlow::Wait);
        }
    }
}

/// Runs the watch loop in a preview window until the window is closed (or, with
/// `close_when_done`, until the source ends and its last frame is drawn).
pub fn run(
    sessions: &Sessions<'_>,
    source: Box<dyn FrameSource>,
    options: SessionOptions,
    close_when_done: bool,
    on_event: impl FnMut(WatchEvent<'_>),
) -> Result<()> {
    let event_loop = EventLoop::new().map_err(window_error)?;
    event_loop.set_control_flow(ControlFlow::Poll);
    let mut app = App {
        engine: sessions.engine(),
        watcher: Watcher::new(sessions, options),
        source,
        renderer: None,
        params: PreviewParams {
            frame_w: 1,
            frame_h: 1,
            frame_stride: 4,
            frame_format: 0,
            window_w: 1,
            window_h: 1,
            state: 4,
            challenge: 0,
            face_box: [0.0, 0.0, -1.0, -1.0],
        },
        on_event,
        ended: false,
        close_when_done,
        error: None,
        shown: 0,
    };
    event_loop.run_app(&mut app).map_err(window_error)?;
    if let Some(renderer) = &app.renderer {
        renderer.erase(sessions.engine());
    }
    app.error.map_or(Ok(()), Err)
}
