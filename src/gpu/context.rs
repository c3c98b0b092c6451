//! Adapter and device selection: the one place that talks to wgpu's instance.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result, lock};
use crate::gpu::pipeline_file::{self, PipelineFile};
use crate::gpu::pipelines::PipelineCache;

/// Which graphics API to run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The first adapter wgpu prefers among every backend built for this platform.
    #[default]
    Auto,
    /// Vulkan (Linux, Windows, Android; lavapipe without a GPU).
    Vulkan,
    /// Metal (macOS, iOS).
    Metal,
    /// Direct3D 12 (Windows).
    Dx12,
    /// OpenGL / OpenGL ES (llvmpipe without a GPU).
    Gl,
}

impl Backend {
    /// The concrete backends, in the order `devices` lists them.
    pub const ALL: [Backend; 4] = [Backend::Vulkan, Backend::Metal, Backend::Dx12, Backend::Gl];

    /// The wgpu backend set this stands for.
    pub fn wgpu_backends(self) -> wgpu::Backends {
        match self {
            Backend::Auto => wgpu::Backends::all(),
            Backend::Vulkan => wgpu::Backends::VULKAN,
            Backend::Metal => wgpu::Backends::METAL,
            Backend::Dx12 => wgpu::Backends::DX12,
            Backend::Gl => wgpu::Backends::GL,
        }
    }

    /// Whether this build of wgpu can use the backend on this platform at all.
    pub fn is_built(self) -> bool {
        wgpu::Instance::enabled_backend_features().intersects(self.wgpu_backends())
    }

    /// `LIVESHADE_BACKEND`, else `WGPU_BACKEND`, else `Auto`. An empty variable counts as
    /// unset (wgpu itself would read `WGPU_BACKEND=` as "no backend at all").
    pub fn from_env() -> Result<Backend> {
        for name in ["LIVESHADE_BACKEND", "WGPU_BACKEND"] {
            if let Ok(value) = std::env::var(name) {
                if !value.trim().is_empty() {
                    return value.parse();
                }
            }
        }
        Ok(Backend::Auto)
    }

    fn from_wgpu(backend: wgpu::Backend) -> Backend {
        match backend {
            wgpu::Backend::Vulkan => Backend::Vulkan,
            wgpu::Backend::Metal => Backend::Metal,
            wgpu::Backend::Dx12 => Backend::Dx12,
            wgpu::Backend::Gl => Backend::Gl,
            _ => Backend::Auto,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Vulkan => "vulkan",
            Backend::Metal => "metal",
            Backend::Dx12 => "dx12",
            Backend::Gl => "gl",
        })
    }
}

impl FromStr for Backend {
    type Err = Error;
    fn from_str(text: &str) -> Result<Backend> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" | "all" | "primary" => Ok(Backend::Auto),
            "vulkan" | "vk" => Ok(Backend::Vulkan),
            "metal" | "mtl" => Ok(Backend::Metal),
            "dx12" | "d3d12" => Ok(Backend::Dx12),
            "gl" | "gles" | "opengl" => Ok(Backend::Gl),
            other => Err(Error::UnknownBackend { name: other.to_string() }),
        }
    }
}

/// How to pick the adapter.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// The graphics API ([`Backend::Auto`]: the best adapter of any).
    pub backend: Backend,
    /// Take the first adapter whose name contains this text (case-insensitive).
    pub adapter_name: Option<String>,
    /// Keep the driver's compiled pipelines in a file in this existing directory, named
    /// for the adapter, so that the next start compiles less (wgpu's pipeline cache, where
    /// the adapter has one: Vulkan). None (the default): no file is read or written. The
    /// file holds compiled shaders only, written once at the end of `Engine::new`, before
    /// any frame; keep the directory writable by the terminal's own account alone, since a
    /// compiled pipeline is code the GPU runs (src/gpu/pipeline_file.rs).
    pub pipeline_cache_dir: Option<std::path::PathBuf>,
}

/// What `devices` prints about one adapter.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    /// The adapter's name as the driver gives it ("llvmpipe (LLVM 15.0.6, 256 bits)").
    pub name: String,
    /// The graphics API it was found through.
    pub backend: Backend,
    /// Discrete, integrated, virtual, CPU or other.
    pub device_type: wgpu::DeviceType,
    /// Driver name and version.
    pub driver: String,
    /// Whether shaders can use f16 arithmetic.
    pub shader_f16: bool,
    /// Whether the GPU can write timestamps (per-stage timing).
    pub timestamp_query: bool,
    /// The largest storage buffer one binding can see, bytes.
    pub max_storage_buffer_binding_size: u64,
}

impl AdapterSummary {
    /// Whether this is a CPU adapter (lavapipe, llvmpipe, SwiftShader, WARP).
    pub fn is_cpu(&self) -> bool {
        self.device_type == wgpu::DeviceType::Cpu
    }

    /// Mesa's major version, where the driver is Mesa's ("llvmpipe Mesa 25.0.7 (LLVM 15.0.6)"
    /// gives 25).
    pub fn mesa_major(&self) -> Option<u32> {
        let (_, after) = self.driver.split_once("Mesa ")?;
        after.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    }
}

impl AdapterSummary {
    fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let features = adapter.features();
        AdapterSummary {
            name: info.name,
            backend: Backend::from_wgpu(info.backend),
            device_type: info.device_type,
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            timestamp_query: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            max_storage_buffer_binding_size: adapter.limits().max_storage_buffer_binding_size,
        }
    }
}

impl fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?}, {}", self.name, self.device_type, self.backend)?;
        if !self.driver.is_empty() {
            write!(f, ", {}", self.driver)?;
        }
        write!(f, ")")?;
        if self.shader_f16 {
            write!(f, " [shader-f16]")?;
        }
        if self.timestamp_query {
            write!(f, " [timestamps]")?;
        }
        Ok(())
    }
}

fn new_instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = backends;
    wgpu::Instance::new(descriptor)
}

/// Every adapter of every backend this build supports, in `Backend::ALL` order.
pub fn list_adapters() -> Vec<AdapterSummary> {
    let mut found = Vec::new();
    for backend in Backend::ALL.into_iter().filter(|b| b.is_built()) {
        let instance = new_instance(backend.wgpu_backends());
        let adapters = pollster::block_on(instance.enumerate_adapters(backend.wgpu_backends()));
        found.extend(adapters.iter().map(AdapterSummary::of));
    }
    found
}

/// Errors the device reported outside any call that returns them (wgpu's "uncaptured"
/// errors), kept until the next check instead of wgpu's default of panicking.
#[derive(Default)]
struct DeviceHealth {
    lost: Option<String>,
    errors: Vec<String>,
}

/// The GPU runtime: adapter, device, queue and every compiled pipeline.
///
/// `Gpu` is `Send + Sync`; a pipeline is compiled on one of the device's compiler threads
/// (one per core, at most four; joined when the `Gpu` is dropped) from the moment it is
/// first bound, or by the first recording that needs it, whichever comes first, and warmed
/// up by [`Gpu::prepare`] (`Engine::new` does both before it returns), so nothing is
/// compiled while frames run.
pub struct Gpu {
    instance: wgpu::Instance,
    wgpu_adapter: wgpu::Adapter,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    adapter: AdapterSummary,
    limits: wgpu::Limits,
    health: Arc<Mutex<DeviceHealth>>,
    pub(crate) pipelines: PipelineCache,
    /// 16 zero bytes bound where a kernel's optional input (residual, slopes) is unused.
    pub(crate) empty: wgpu::Buffer,
    /// Bytes of the buffers made with fixed contents (weights, per-layer parameters).
    pub(crate) constant_bytes: std::sync::atomic::AtomicU64,
}

impl Gpu {
    /// Picks an adapter and creates the device with the adapter's own limits (and
    /// SHADER_F16, SHADER_F64 and TIMESTAMP_QUERY where offered). Kernels are compiled by
    /// [`Gpu::prepare`], or when first bound.
    pub fn new(options: &GpuOptions) -> Result<Gpu> {
        let backend = options.backend;
        if !backend.is_built() {
            return Err(Error::BackendUnavailable { backend: backend.to_string() });
        }
        if let Some(dir) = &options.pipeline_cache_dir {
            pipeline_file::check_dir(dir)?;
        }
        let instance = new_instance(backend.wgpu_backends());
        let adapter = pollster::block_on(pick_adapter(&instance, backend, options.adapter_name.as_deref()))?;
        let summary = AdapterSummary::of(&adapter);
        let limits = adapter.limits();
        let mut features = wgpu::Features::empty();
        if summary.shader_f16 {
            features |= wgpu::Features::SHADER_F16;
        }
        if summary.timestamp_query {
            features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        let pipeline_file = options.pipeline_cache_dir.as_ref().and_then(|_| PipelineFile::name_for(&adapter));
        if pipeline_file.is_some() {
            features |= wgpu::Features::PIPELINE_CACHE;
        }
        // Double precision reproduces OpenCV's warp positions exactly (shaders/warp_f64.wgsl).
        if adapter.features().contains(wgpu::Features::SHADER_F64) {
            features |= wgpu::Features::SHADER_F64;
        }
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("liveshade"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&descriptor)).map_err(|e| {
            Error::RequestDevice { adapter: summary.name.clone(), reason: e.to_string() }
        })?;

        let health = Arc::new(Mutex::new(DeviceHealth::default()));
        let on_error = Arc::clone(&health);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            if let Ok(mut health) = on_error.lock() {
                health.errors.push(error.to_string());
            }
        }));
        let on_lost = Arc::clone(&health);
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut health) = on_lost.lock() {
                health.lost = Some(format!("{reason:?}: {message}"));
            }
        });

        let empty = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("empty"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let stored = match (&options.pipeline_cache_dir, pipeline_file) {
            (Some(dir), Some(name)) => Some(PipelineFile::open(&device, dir, &name)),
            _ => None,
        };
        let pipelines = PipelineCache::new(stored);
        let gpu = Gpu { instance, wgpu_adapter: adapter, device, queue, adapter: summary, limits, health, pipelines, empty, constant_bytes: Default::default() };
        gpu.check("creating the device")?;
        Ok(gpu)
    }

    /// A surface on `target` (a window) for this device's instance.
    pub fn create_surface(&self, target: impl Into<wgpu::SurfaceTarget<'static>>) -> Result<wgpu::Surface<'static>> {
        self.instance.create_surface(target).map_err(|e| Error::Gpu { during: "creating a window surface", message: e.to_string() })
    }

    /// The surface's formats and modes on this adapter.
    pub fn surface_capabilities(&self, surface: &wgpu::Surface<'_>) -> wgpu::SurfaceCapabilities {
        surface.get_capabilities(&self.wgpu_adapter)
    }

    /// The adapter in use.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// The device limits (the adapter's own, all requested).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The device's queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// GPU memory held by buffers of fixed contents: the networks' weights and every
    /// layer's parameters.
    pub fn constant_bytes(&self) -> u64 {
        self.constant_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether dispatches can take their workgroup counts from a GPU buffer
    /// (`dispatch_workgroups_indirect`).
    pub fn has_indirect_dispatch(&self) -> bool {
        self.wgpu_adapter.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::INDIRECT_EXECUTION)
    }

    /// Whether the device offers f64 arithmetic in shaders (the exact Face Mesh warp).
    pub fn has_shader_f64(&self) -> bool {
        self.device.features().contains(wgpu::Features::SHADER_F64)
    }

    /// Whether the device offers f16 arithmetic in shaders.
    pub fn has_shader_f16(&self) -> bool {
        self.device.features().contains(wgpu::Features::SHADER_F16)
    }

    /// Fails if the device was lost or reported an error since the last check.
    pub fn check(&self, during: &'static str) -> Result<()> {
        let mut health = lock(&self.health, "the device health record")?;
        if let Some(reason) = &health.lost {
            return Err(Error::DeviceLost { reason: reason.clone() });
        }
        if !health.errors.is_empty() {
            let message = health.errors.join("; ");
            health.errors.clear();
            return Err(Error::Gpu { during, message });
        }
        Ok(())
    }

    /// A new command encoder.
    pub fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// Submits and blocks until the GPU has finished, then reports any device error.
    pub fn submit_and_wait(&self, encoder: wgpu::CommandEncoder) -> Result<()> {
        self.check("recording")?;
        let index = self.queue.submit([encoder.finish()]);
        self.wait(Some(index), "a submission")
    }

    pub(crate) fn wait(&self, index: Option<wgpu::SubmissionIndex>, during: &'static str) -> Result<()> {
        let poll = self.device.poll(wgpu::PollType::Wait { submission_index: index, timeout: None });
        self.check(during)?;
        poll.map(|_| ()).map_err(|e| Error::Gpu { during, message: e.to_string() })
    }

    /// Destroys the device, as a driver reset would. Every later call fails with
    /// [`Error::DeviceLost`]; used to test that path.
    pub fn destroy_device(&self) {
        self.device.destroy();
        let _ = self.device.poll(wgpu::PollType::Poll);
    }

    pub(crate) fn check_binding_size(&self, what: impl Into<String>, bytes: u64) -> Result<()> {
        let limit = self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size);
        if bytes > limit {
            return Err(Error::TooLarge {
                what: what.into(),
                needed: bytes,
                unit: "bytes",
                limit,
                limit_name: "max_storage_buffer_binding_size",
            });
        }
        Ok(())
    }
}

async fn pick_adapter(
    instance: &wgpu::Instance,
    backend: Backend,
    name_filter: Option<&str>,
) -> Result<wgpu::Adapter> {
    let mut adapters = instance.enumerate_adapters(backend.wgpu_backends()).await;
    let available: Vec<String> = adapters.iter().map(|a| AdapterSummary::of(a).to_string()).collect();
    let no_adapter = || Error::NoAdapter {
        backend: backend.to_string(),
        name_filter: name_filter.map(str::to_string),
        available: available.clone(),
    };
    if let Some(filter) = name_filter {
        let filter = filter.to_ascii_lowercase();
        let position = adapters
            .iter()
            .position(|a| a.get_info().name.to_ascii_lowercase().contains(&filter))
            .ok_or_else(no_adapter)?;
        return Ok(adapters.swap_remove(position));
    }
    // Prefer real GPUs: discrete, integrated, virtual, then CPU adapters (lavapipe).
    let rank = |a: &wgpu::Adapter| match a.get_info().device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    let best = (0..adapters.len()).min_by_key(|i| rank(&adapters[*i])).ok_or_else(no_adapter)?;
    Ok(adapters.swap_remove(best))
}
