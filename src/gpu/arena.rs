//! GPU tensors, the buffer arena that owns them, and recorded dispatches.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::gpu::pipelines::{CompiledKernel, Kernel};
use crate::tensor::{HostTensor, Shape};

/// An NHWC activation in a GPU buffer, channels padded to a multiple of 4
/// (see [`crate::tensor`]).
#[derive(Clone, Debug)]
pub struct Tensor {
    pub(crate) buffer: wgpu::Buffer,
    shape: Shape,
    /// Held by every clone: while one lives, a pooled buffer is not handed out again
    /// ([`BufferArena::pooled_tensor`]).
    in_use: Arc<()>,
}

impl Tensor {
    pub fn shape(&self) -> Shape {
        self.shape
    }

    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// The same bytes seen as [batch, 1, 1, height * width * padded channels]: the input
    /// of a dense layer. Padding lanes are zero, so they act as zero features.
    pub fn flattened(&self) -> Tensor {
        let s = self.shape;
        let features = s.height * s.width * s.channel_groups() * 4;
        Tensor { buffer: self.buffer.clone(), shape: Shape::new(1, 1, features).with_batch(s.batch), in_use: Arc::clone(&self.in_use) }
    }
}

/// Owns every buffer that holds frame-derived data. Buffers are created once (when a
/// graph is built) and reused for every frame; [`BufferArena::record_clear`] zeroes all
/// of them in the caller's encoder, which is how the engine erases a frame.
///
/// A network's intermediate activations come from a pool ([`BufferArena::open_pool`]):
/// a buffer whose tensor was dropped while the graph was built is handed to the next
/// tensor of that pool that fits, so a network holds a few buffers in turn instead of
/// one per layer. Graphs are built in the order they run, so a buffer is rewritten only
/// by a dispatch recorded after the last one that reads it (wgpu orders the two).
/// Pools never share buffers, unless [`BufferArena::share_one_pool`] says that the
/// caller records everything in build order.
#[derive(Default)]
pub struct BufferArena {
    buffers: Vec<wgpu::Buffer>,
    pooled: Vec<PooledBuffer>,
    pools: u32,
    one_pool: bool,
}

struct PooledBuffer {
    pool: u32,
    buffer: wgpu::Buffer,
    in_use: Arc<()>,
}

impl BufferArena {
    pub fn new() -> Self {
        BufferArena::default()
    }

    /// A zeroed tensor of `shape` (storage, copy source and destination).
    pub fn tensor(&mut self, gpu: &Gpu, label: &str, shape: Shape) -> Result<Tensor> {
        shape.check_not_empty("BufferArena::tensor")?;
        let buffer = self.buffer(
            gpu,
            label,
            shape.padded_bytes(),
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        )?;
        Ok(Tensor { buffer, shape, in_use: Arc::new(()) })
    }

    /// A new pool of recyclable buffers (one per network graph).
    pub fn open_pool(&mut self) -> u32 {
        if !(self.one_pool && self.pools > 0) {
            self.pools += 1;
        }
        self.pools
    }

    /// From now on every graph shares one pool. Only for a caller that records every
    /// dispatch in the order it was built, including the writes of each network's input
    /// (which may reuse a buffer an earlier network freed): the engine.
    pub fn share_one_pool(&mut self) {
        self.one_pool = true;
    }

    /// A tensor of `shape` in a buffer of `pool`: the smallest free one that fits (its
    /// bytes past `shape` are never read), or a new one. Not zeroed when reused: every
    /// kernel writes the whole of its output, padding lanes included.
    pub fn pooled_tensor(&mut self, gpu: &Gpu, pool: u32, label: &str, shape: Shape) -> Result<Tensor> {
        shape.check_not_empty("BufferArena::pooled_tensor")?;
        let bytes = shape.padded_bytes().div_ceil(16) * 16;
        let free = self
            .pooled
            .iter()
            .filter(|b| b.pool == pool && Arc::strong_count(&b.in_use) == 1 && b.buffer.size() >= bytes)
            .min_by_key(|b| b.buffer.size());
        if let Some(found) = free {
            return Ok(Tensor { buffer: found.buffer.clone(), shape, in_use: Arc::clone(&found.in_use) });
        }
        let tensor = self.tensor(gpu, label, shape)?;
        self.pooled.push(PooledBuffer { pool, buffer: tensor.buffer.clone(), in_use: Arc::clone(&tensor.in_use) });
        Ok(tensor)
    }

    /// A zeroed buffer of `bytes` (rounded up to 16) with `usage` plus COPY_DST, which
    /// the clear needs.
    pub fn buffer(&mut self, gpu: &Gpu, label: &str, bytes: u64, usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
        if bytes == 0 {
            return Err(Error::shape("BufferArena::buffer", format!("zero-sized buffer {label:?}")));
        }
        let bytes = bytes.div_ceil(16) * 16;
        if usage.contains(wgpu::BufferUsages::STORAGE) {
            gpu.check_binding_size(format!("buffer {label:?}"), bytes)?;
        }
        gpu.check("creating a buffer")?;
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.buffers.push(buffer.clone());
        Ok(buffer)
    }

    /// Records the zeroing of every buffer of the arena into `encoder`.
    pub fn record_clear(&self, encoder: &mut wgpu::CommandEncoder) {
        for buffer in &self.buffers {
            encoder.clear_buffer(buffer, 0, None);
        }
    }

    /// Every buffer the arena owns (for the privacy audit).
    pub fn buffers(&self) -> &[wgpu::Buffer] {
        &self.buffers
    }

    /// Bytes of GPU memory the arena holds.
    pub fn bytes(&self) -> u64 {
        self.buffers.iter().map(|b| b.size()).sum()
    }
}

/// One dispatch with its pipeline, bind group and grid fixed: recording it allocates
/// nothing.
pub struct Dispatch {
    /// The kernel's layout and pipeline (compiled by the time the engine records: see
    /// [`CompiledKernel`]).
    compiled: Arc<CompiledKernel>,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
    kernel: Kernel,
}

impl Dispatch {
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(self.compiled.pipeline());
        self.record_after(pass);
    }

    /// Records the dispatch after one of the same kernel: the pipeline is already set.
    /// (Skipping the repeated set_pipeline measured 0.44 -> 0.36 ms in wgpu's finish() of
    /// a whole check on lavapipe.)
    pub fn record_after(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }

    /// Records the dispatch after one of kernel `previous` (None: the first of a pass), setting
    /// the pipeline only when the kernel changes, and makes it the previous one.
    pub fn record_in_sequence(&self, pass: &mut wgpu::ComputePass<'_>, previous: &mut Option<Kernel>) {
        // Kernels are statics: the same kernel is the same address (no name comparison
        // on the frame path).
        if previous.is_some_and(|p| std::ptr::eq(p, self.kernel)) {
            self.record_after(pass);
        } else {
            self.record(pass);
        }
        *previous = Some(self.kernel);
    }

    /// Records the dispatch with its workgroup counts read from `counts` at `offset` (three
    /// u32, written on the GPU earlier in the submission), setting the pipeline only when the
    /// kernel changes.
    pub fn record_indirect(&self, pass: &mut wgpu::ComputePass<'_>, previous: &mut Option<Kernel>, counts: &wgpu::Buffer, offset: u64) {
        if !previous.is_some_and(|p| std::ptr::eq(p, self.kernel)) {
            pass.set_pipeline(self.compiled.pipeline());
        }
        *previous = Some(self.kernel);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups_indirect(counts, offset);
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    pub fn workgroups(&self) -> [u32; 3] {
        self.workgroups
    }
}

/// Records `dispatches` in order into one compute pass of `encoder` (wgpu orders
/// dependent dispatches within a pass).
pub fn record_all<'a>(encoder: &mut wgpu::CommandEncoder, dispatches: impl IntoIterator<Item = &'a Dispatch>) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some("liveshade"),
        timestamp_writes: None,
    });
    record_sequence(&mut pass, dispatches);
}

/// Records `dispatches` in order into `pass`, setting each pipeline only when the kernel
/// changes.
pub fn record_sequence<'a>(pass: &mut wgpu::ComputePass<'_>, dispatches: impl IntoIterator<Item = &'a Dispatch>) {
    let mut previous = None;
    for dispatch in dispatches {
        dispatch.record_in_sequence(pass, &mut previous);
    }
}

impl Gpu {
    /// Binds `buffers` (in the kernel's slot order after the parameters) and fixes a grid
    /// of `workgroups` workgroups, folded into two dimensions when one is not enough.
    pub(crate) fn dispatch(
        &self,
        kernel: Kernel,
        params: &[u8],
        buffers: &[&wgpu::Buffer],
        workgroups: u64,
    ) -> Result<Dispatch> {
        if params.len() as u64 != kernel.params_bytes {
            return Err(Error::shape("dispatch", format!("{} takes {} parameter bytes, {} given", kernel.name, kernel.params_bytes, params.len())));
        }
        let params = self.initialised_buffer(kernel.name, params, wgpu::BufferUsages::UNIFORM)?;
        self.dispatch_with_uniform(kernel, &params, buffers, workgroups)
    }

    /// As [`Gpu::dispatch`], with a parameter buffer the caller rewrites between frames.
    pub(crate) fn dispatch_with_uniform(
        &self,
        kernel: Kernel,
        params: &wgpu::Buffer,
        buffers: &[&wgpu::Buffer],
        workgroups: u64,
    ) -> Result<Dispatch> {
        let slots = kernel.bindings;
        if buffers.len() + 1 != slots.len() {
            return Err(Error::shape(
                "dispatch",
                format!("{} takes {} buffers, {} given", kernel.name, slots.len() - 1, buffers.len()),
            ));
        }
        let grid = self.grid(kernel, workgroups)?;
        let compiled = self.pipelines.get(&self.device, kernel)?;
        let entries: Vec<wgpu::BindGroupEntry> = slots
            .iter()
            .enumerate()
            .map(|(i, (binding, _))| wgpu::BindGroupEntry {
                binding: *binding,
                resource: if i == 0 { params.as_entire_binding() } else { buffers[i - 1].as_entire_binding() },
            })
            .collect();
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.name),
            layout: &compiled.layout,
            entries: &entries,
        });
        self.check("binding a dispatch")?;
        Ok(Dispatch { compiled, bind_group, workgroups: grid, kernel })
    }

    fn grid(&self, kernel: Kernel, workgroups: u64) -> Result<[u32; 3]> {
        let max = self.limits().max_compute_workgroups_per_dimension as u64;
        let x = workgroups.clamp(1, max);
        let y = workgroups.div_ceil(x).max(1);
        if y > max {
            return Err(Error::TooLarge {
                what: format!("{} over {workgroups} workgroups", kernel.name),
                needed: workgroups,
                unit: "workgroups",
                limit: max * max,
                limit_name: "max_compute_workgroups_per_dimension squared",
            });
        }
        Ok([x as u32, y as u32, 1])
    }

    /// A read-only storage buffer initialised with `values` (weights, parameters).
    pub(crate) fn constant_buffer(&self, label: &str, values: &[f32]) -> Result<wgpu::Buffer> {
        let bytes = (values.len() as u64 * 4).max(16);
        self.check_binding_size(format!("constants {label:?}"), bytes)?;
        let mut contents: Vec<u8> = bytemuck::cast_slice(values).to_vec();
        contents.resize(bytes as usize, 0);
        self.initialised_buffer(label, &contents, wgpu::BufferUsages::STORAGE)
    }

    /// A buffer holding `contents` (a multiple of 4 bytes). wgpu's own `create_buffer_init`
    /// panics on a lost device; this checks first and uploads through the queue.
    pub(crate) fn initialised_buffer(&self, label: &str, contents: &[u8], usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
        self.check("creating a buffer")?;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (contents.len() as u64).max(16).div_ceil(16) * 16,
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.constant_bytes.fetch_add(buffer.size(), std::sync::atomic::Ordering::Relaxed);
        self.queue.write_buffer(&buffer, 0, contents);
        Ok(buffer)
    }

    /// Writes `bytes` at the start of `buffer` through the queue, whatever their length:
    /// the 4-byte-aligned part as it is, the last 1-3 bytes zero-padded (the queue writes
    /// whole words; a frame of odd size is not). The padded word is zeroized.
    pub(crate) fn write_bytes(&self, buffer: &wgpu::Buffer, bytes: &[u8]) {
        let aligned = bytes.len() / 4 * 4;
        if aligned > 0 {
            self.queue.write_buffer(buffer, 0, &bytes[..aligned]);
        }
        if aligned < bytes.len() {
            let mut tail = zeroize::Zeroizing::new([0u8; 4]);
            tail[..bytes.len() - aligned].copy_from_slice(&bytes[aligned..]);
            self.queue.write_buffer(buffer, aligned as u64, &tail[..]);
        }
    }

    /// Uploads `host` into `tensor` (same shape), padding the channels.
    pub fn write_tensor(&self, tensor: &Tensor, host: &HostTensor) -> Result<()> {
        if host.shape != tensor.shape {
            return Err(Error::shape(
                "write_tensor",
                format!("host tensor {} does not match GPU tensor {}", host.shape, tensor.shape),
            ));
        }
        self.check("uploading")?;
        self.queue.write_buffer(&tensor.buffer, 0, bytemuck::cast_slice(&host.to_padded()));
        Ok(())
    }

    /// Copies `tensor` back to the CPU (a test and tool path: it allocates a staging
    /// buffer and waits for the GPU).
    pub fn read_tensor(&self, tensor: &Tensor) -> Result<HostTensor> {
        let bytes = self.read_buffer(&tensor.buffer)?;
        let padded: &[f32] = bytemuck::try_cast_slice(&bytes[..tensor.shape.padded_bytes() as usize])
            .map_err(|e| Error::Gpu { during: "reading back", message: e.to_string() })?;
        HostTensor::from_padded(tensor.shape, padded)
    }

    /// Copies a whole buffer (it needs COPY_SRC) back to the CPU.
    pub fn read_buffer(&self, buffer: &wgpu::Buffer) -> Result<Vec<u8>> {
        self.check("reading back")?;
        let size = buffer.size();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.encoder("readback");
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.submit_and_wait(encoder)?;
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        self.wait(None, "mapping a readback")?;
        receiver
            .recv()
            .map_err(|e| Error::Gpu { during: "mapping a readback", message: e.to_string() })?
            .map_err(|e| Error::Gpu { during: "mapping a readback", message: e.to_string() })?;
        let data = staging
            .get_mapped_range(..)
            .map_err(|e| Error::Gpu { during: "mapping a readback", message: e.to_string() })?
            .to_vec();
        staging.unmap();
        Ok(data)
    }
}
