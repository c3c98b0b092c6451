//! Kernels as data, and the pipelines compiled from them.
//!
//! A kernel is declared once, as a [`KernelSpec`] in its family's table beside its
//! launcher (`src/nn/kernels.rs` for the layers, `src/engine/kernels.rs` for the engine's
//! own): entry point, shader, override constants, bindings, workgroup size and parameter
//! struct size. The runtime knows no kernel by name; whoever uses a set of kernels hands
//! it to [`Gpu::prepare`], which compiles each once and runs it once (the driver's first-
//! dispatch JIT then happens there, not on a user's first frame). A kernel bound before it
//! was prepared gets its layout at once and its pipeline from a compiler thread
//! ([`CompiledKernel`]), so building a graph and compiling its kernels overlap.
//! `tests/shaders.rs` holds every table against naga's reflection of the WGSL.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result, lock};
use crate::gpu::Gpu;
use crate::gpu::pipeline_file::{PipelineCacheReport, PipelineFile};

/// Invocations per workgroup of the one-dimensional kernels (`LINEAR_WORKGROUP` in
/// shaders/common.wgsl), as the kernel tables write their `workgroup_size`.
pub const LINEAR_WORKGROUP: [u32; 3] = [64, 1, 1];

/// One WGSL module: the file it is named for and its complete source (shaders/common.wgsl
/// and any other snippets already prepended).
#[derive(Debug)]
pub struct Shader {
    /// The file under shaders/ that holds the module's own code.
    pub file: &'static str,
    /// The complete source handed to the compiler.
    pub source: &'static str,
    /// Device features the module needs (SHADER_F64 for warp_f64.wgsl).
    pub features: wgpu::Features,
}

/// How a kernel binds one resource of bind group 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The parameter struct (always binding 0).
    Uniform,
    /// A read-only storage buffer.
    Read,
    /// A read-write storage buffer.
    ReadWrite,
}

/// One compute pipeline: an entry point of a shader with its specialisation constants.
#[derive(Debug)]
pub struct KernelSpec {
    /// Unique name: the entry point, plus the specialisation where one entry point has
    /// several (`depthwise_3x3`, `conv2d_stem_5x5_24`).
    pub name: &'static str,
    /// The WGSL entry point.
    pub entry_point: &'static str,
    /// The module it lives in.
    pub shader: &'static Shader,
    /// Pipeline-overridable constants (WGSL `override`): the specialisation.
    pub constants: &'static [(&'static str, f64)],
    /// (binding, slot) of group 0: the parameters first, then the buffers in the order the
    /// launcher passes them.
    pub bindings: &'static [(u32, Slot)],
    /// `@workgroup_size` of the entry point.
    pub workgroup_size: [u32; 3],
    /// Bytes of the parameter struct at binding 0 (`size_of` of the launcher's struct).
    pub params_bytes: u64,
}

/// A kernel: a reference into a family's table.
pub type Kernel = &'static KernelSpec;

impl KernelSpec {
    /// Invocations per workgroup.
    pub fn invocations(&self) -> u32 {
        self.workgroup_size.iter().product()
    }
}

/// Names are unique across the tables (tests/shaders.rs checks it).
impl PartialEq for KernelSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for KernelSpec {}

/// A kernel's bind group layout, made at once, and its pipeline, compiled by a
/// [`Compiler`] thread or by the first caller of [`CompiledKernel::pipeline`], whichever
/// comes first. A graph binds its dispatches with the layout alone, so building one does
/// not wait for the driver's compiler: on lavapipe compiling was 0.5 s of the engine's
/// 0.78 s start, one pipeline after another on the thread that built the graphs. A driver's
/// error compiling one reaches the device's error record from whichever thread compiled it,
/// so it is reported by the next check of that record ([`Gpu::prepare`] waits for every
/// pipeline before its own), not necessarily by the bind that queued it.
pub(crate) struct CompiledKernel {
    pub kernel: Kernel,
    pub layout: wgpu::BindGroupLayout,
    pipeline: OnceLock<wgpu::ComputePipeline>,
    recipe: Recipe,
}

/// What compiling a kernel's pipeline needs.
struct Recipe {
    device: wgpu::Device,
    module: wgpu::ShaderModule,
    pipeline_layout: wgpu::PipelineLayout,
    cache: Option<wgpu::PipelineCache>,
}

impl CompiledKernel {
    /// The pipeline: compiled here if no thread has started it, waited for if one has.
    /// (OnceLock runs one initialiser at a time; if one panicked, the next caller compiles.)
    pub(crate) fn pipeline(&self) -> &wgpu::ComputePipeline {
        self.pipeline.get_or_init(|| {
            let r = &self.recipe;
            r.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(self.kernel.name),
                layout: Some(&r.pipeline_layout),
                module: &r.module,
                entry_point: Some(self.kernel.entry_point),
                compilation_options: wgpu::PipelineCompilationOptions { constants: self.kernel.constants, zero_initialize_workgroup_memory: false },
                cache: r.cache.as_ref(),
            })
        })
    }
}

/// Threads that compile the pipelines of kernels as they are first bound, while the graph
/// that binds them goes on being built. They hold no frame data (kernels only), and are
/// joined when the device's pipeline cache is dropped; what they had not started by then
/// is not compiled.
struct Compiler {
    queue: Option<std::sync::mpsc::Sender<Arc<CompiledKernel>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Compiler {
    /// One thread per core, at most [`Compiler::MOST_THREADS`]; none where threads cannot be
    /// made (every pipeline is then compiled when first used).
    const MOST_THREADS: usize = 4;

    fn start() -> Compiler {
        let (sender, receiver) = std::sync::mpsc::channel::<Arc<CompiledKernel>>();
        let receiver = Arc::new(Mutex::new(receiver));
        let stop = Arc::new(AtomicBool::new(false));
        let count = std::thread::available_parallelism().map_or(1, |n| n.get()).min(Self::MOST_THREADS);
        let threads: Vec<_> = (0..count)
            .filter_map(|i| {
                let (receiver, stop) = (Arc::clone(&receiver), Arc::clone(&stop));
                std::thread::Builder::new()
                    .name(format!("liveshade-compile-{i}"))
                    .spawn(move || {
                        loop {
                            // A poisoned lock: another compiler thread panicked; this one stops.
                            let next = match receiver.lock() {
                                Ok(queue) => queue.recv(),
                                Err(_) => return,
                            };
                            let Ok(kernel) = next else { return };
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            // A panic in the driver stays on this thread: the kernel is then
                            // compiled by whoever next asks for its pipeline.
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                kernel.pipeline();
                            }));
                        }
                    })
                    .ok()
            })
            .collect();
        Compiler { queue: (!threads.is_empty()).then_some(sender), stop, threads }
    }

    /// Hands `kernel` to a thread (nothing where there is none).
    fn compile(&self, kernel: &Arc<CompiledKernel>) {
        if let Some(queue) = &self.queue {
            let _ = queue.send(Arc::clone(kernel));
        }
    }
}

impl Drop for Compiler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.queue = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The compiled pipelines and shader modules of one device, by name, and the driver's
/// cache file where the integrator named a directory for it.
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    kernels: Mutex<HashMap<&'static str, Arc<CompiledKernel>>>,
    compiler: Compiler,
    stored: Option<PipelineFile>,
}

impl PipelineCache {
    pub(crate) fn new(stored: Option<PipelineFile>) -> PipelineCache {
        PipelineCache { modules: Mutex::default(), kernels: Mutex::default(), compiler: Compiler::start(), stored }
    }

    /// The kernel with its layout; its pipeline is handed to a compiler thread the first
    /// time (see [`CompiledKernel`]).
    pub(crate) fn get(&self, device: &wgpu::Device, kernel: Kernel) -> Result<Arc<CompiledKernel>> {
        if !device.features().contains(kernel.shader.features) {
            return Err(Error::MissingFeature { kernel: kernel.name, features: format!("{:?}", kernel.shader.features) });
        }
        if let Some(compiled) = lock(&self.kernels, "the pipeline cache")?.get(kernel.name) {
            return Ok(Arc::clone(compiled));
        }
        let module = {
            let mut modules = lock(&self.modules, "the pipeline cache")?;
            modules
                .entry(kernel.shader.file)
                .or_insert_with(|| {
                    device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(kernel.shader.file),
                        source: wgpu::ShaderSource::Wgsl(kernel.shader.source.into()),
                    })
                })
                .clone()
        };
        let compiled = Arc::new(layouts(device, module, self.stored.as_ref().map(PipelineFile::cache), kernel));
        // Two threads may both have missed it: the first one in is kept and queued once.
        match lock(&self.kernels, "the pipeline cache")?.entry(kernel.name) {
            Entry::Occupied(kept) => Ok(Arc::clone(kept.get())),
            Entry::Vacant(slot) => {
                self.compiler.compile(&compiled);
                Ok(Arc::clone(slot.insert(compiled)))
            }
        }
    }

    /// Every kernel bound or prepared so far (its pipeline compiled or on its way), in no
    /// particular order.
    pub(crate) fn compiled(&self) -> Result<Vec<Kernel>> {
        Ok(lock(&self.kernels, "the pipeline cache")?.values().map(|c| c.kernel).collect())
    }
}

impl Gpu {
    /// Compiles `kernels` (those the device has the features for) and runs each once on
    /// dummy buffers with all-zero parameters, where every kernel returns at once:
    /// lavapipe compiles a pipeline's machine code at its first dispatch, 30-130 ms each
    /// (shared/PERF_NOTES.md), and this moves that cost here.
    pub fn prepare(&self, kernels: &[Kernel]) -> Result<()> {
        let runnable: Vec<Kernel> = kernels.iter().copied().filter(|k| self.supports(k)).collect();
        let compiled = runnable.iter().map(|k| self.pipelines.get(&self.device, k)).collect::<Result<Vec<_>>>()?;
        // Waits for the compiler threads (or compiles what they have not started), so that
        // a kernel that failed to compile is reported here.
        for kernel in &compiled {
            kernel.pipeline();
        }
        self.check("compiling the kernels")?;
        let dummy = |usage| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("warm-up"),
                // Large enough for every fixed-size binding (warp.wgsl's 256-entry table).
                size: 4096,
                usage,
                mapped_at_creation: false,
            })
        };
        let params = dummy(wgpu::BufferUsages::UNIFORM);
        let storage = [dummy(wgpu::BufferUsages::STORAGE), dummy(wgpu::BufferUsages::STORAGE)];
        let mut encoder = self.encoder("warm-up");
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("warm-up"), timestamp_writes: None });
            for (kernel, compiled) in runnable.iter().zip(&compiled) {
                let entries: Vec<wgpu::BindGroupEntry> = kernel
                    .bindings
                    .iter()
                    .map(|(binding, slot)| wgpu::BindGroupEntry {
                        binding: *binding,
                        resource: match slot {
                            Slot::Uniform => params.as_entire_binding(),
                            Slot::Read => storage[0].as_entire_binding(),
                            Slot::ReadWrite => storage[1].as_entire_binding(),
                        },
                    })
                    .collect();
                let bind_group =
                    self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some("warm-up"), layout: &compiled.layout, entries: &entries });
                pass.set_pipeline(compiled.pipeline());
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(1, 1, 1);
            }
        }
        self.submit_and_wait(encoder)
    }

    /// Writes the driver's compiled pipelines to the cache file, where the integrator named
    /// a directory ([`GpuOptions::pipeline_cache_dir`](crate::GpuOptions)) and the adapter
    /// keeps one; unchanged contents are not rewritten, and a failure goes to
    /// [`Gpu::pipeline_cache_file`]'s report. `Engine::new` calls it once, after its warm-up
    /// and before any frame.
    pub fn save_pipeline_cache(&self) {
        if let Some(file) = &self.pipelines.stored {
            file.save();
        }
    }

    /// What became of the pipeline cache file, or None where none is used.
    pub fn pipeline_cache_file(&self) -> Option<PipelineCacheReport> {
        self.pipelines.stored.as_ref().map(PipelineFile::report)
    }

    /// The kernels bound or prepared so far (their pipelines compiled or on their way): after
    /// a network is built, those its layers bind (a network binds every dispatch when it is
    /// built).
    pub fn compiled_kernels(&self) -> Result<Vec<Kernel>> {
        self.pipelines.compiled()
    }

    /// Whether the device can run `kernel` (it has the features its shader needs).
    pub fn supports(&self, kernel: Kernel) -> bool {
        self.device.features().contains(kernel.shader.features)
    }
}

/// The kernel's layouts, made now, and what compiling its pipeline later needs.
fn layouts(device: &wgpu::Device, module: wgpu::ShaderModule, cache: Option<&wgpu::PipelineCache>, kernel: Kernel) -> CompiledKernel {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = kernel
        .bindings
        .iter()
        .map(|(binding, slot)| wgpu::BindGroupLayoutEntry {
            binding: *binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: match slot {
                Slot::Uniform => wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Uniform, has_dynamic_offset: false, min_binding_size: None },
                Slot::Read | Slot::ReadWrite => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: *slot == Slot::Read },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
            },
            count: None,
        })
        .collect();
    let label = kernel.name;
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(label), entries: &entries });
    let pipeline_layout =
        device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some(label), bind_group_layouts: &[Some(&layout)], immediate_size: 0 });
    let recipe = Recipe { device: device.clone(), module, pipeline_layout, cache: cache.cloned() };
    CompiledKernel { kernel, layout, pipeline: OnceLock::new(), recipe }
}
