//! Tools beside the product path: per-stage and per-dispatch timing for `liveshade bench`
//! and `examples/profile_layers.rs`, the dispatch and memory figures, and the privacy
//! audit that reads every buffer back. Each leaves nothing of the frame behind.

use std::time::Instant;

use crate::engine::Engine;
use crate::engine::check::{Check, Stage, map_read};
use crate::error::{Error, Result, lock};
use crate::frame::Frame;
use crate::gpu::Gpu;

impl Engine {
    /// Reads back every buffer that can hold frame-derived data and returns the labels of
    /// those that are not all zeros (empty = nothing of any frame remains). For audits and
    /// the privacy tests; it blocks until the GPU is idle.
    pub fn audit(&self) -> Result<Vec<String>> {
        let check = lock(&self.check, "the engine")?;
        let mut dirty = Vec::new();
        let named = [(&check.frame, "frame"), (&check.tracking.region, "tracked region")];
        let pooled = check.arena.buffers().iter().enumerate().map(|(i, buffer)| (buffer, format!("arena buffer {i} ({} bytes)", buffer.size())));
        for (buffer, name) in pooled.chain(named.map(|(buffer, name)| (buffer, name.to_string()))) {
            if self.gpu.read_buffer(buffer)?.iter().any(|b| *b != 0) {
                dirty.push(name);
            }
        }
        for (i, readback) in check.readbacks.iter().enumerate() {
            if map_read(&self.gpu, readback, None)?.iter().any(|b| *b != 0) {
                dirty.push(format!("readback {i}"));
            }
        }
        Ok(dirty)
    }

    /// Times each stage of a check on `frame` alone: the frame is uploaded once, each stage
    /// is recorded in its own compute pass, then everything is erased. With TIMESTAMP_QUERY
    /// the times are the GPU's own timestamps at each pass's start and end (`gpu` true);
    /// otherwise each stage is submitted alone and timed by the wall clock. Milliseconds in
    /// `Stage::ALL` order. For `liveshade bench`.
    pub fn time_stages(&self, frame: &Frame<'_>) -> Result<([f64; 3], bool)> {
        let gpu_timer = self.gpu.device().features().contains(wgpu::Features::TIMESTAMP_QUERY);
        self.with_uploaded(frame, |gpu, check| if gpu_timer { time_stages_gpu(gpu, check) } else { time_stages_wall(gpu, check) })
            .map(|times| (times, gpu_timer))
    }

    /// Times every dispatch of a check on `frame` on its own, in order (each submitted and
    /// waited for alone, so each time includes one submit's fixed cost), then erases
    /// everything. (stage, kernel name, milliseconds) per dispatch. For profiling.
    pub fn time_dispatches(&self, frame: &Frame<'_>) -> Result<Vec<(Stage, &'static str, f64)>> {
        self.with_uploaded(frame, |gpu, check| {
            let mut times = Vec::with_capacity(check.dispatch_count());
            for stage in Stage::ALL {
                let mut dispatches = Vec::new();
                check.visit_stage(stage, &mut |dispatch| dispatches.push(dispatch));
                for dispatch in dispatches {
                    let mut encoder = gpu.encoder("timed dispatch");
                    crate::gpu::record_all(&mut encoder, [dispatch]);
                    let start = Instant::now();
                    gpu.submit_and_wait(encoder)?;
                    times.push((stage, dispatch.kernel().name, start.elapsed().as_secs_f64() * 1e3));
                }
            }
            Ok(times)
        })
    }

    /// Dispatches recorded per check.
    pub fn dispatches_per_check(&self) -> Result<usize> {
        Ok(lock(&self.check, "the engine")?.dispatch_count())
    }

    /// Bytes of GPU memory the engine holds for frame data.
    pub fn frame_memory_bytes(&self) -> Result<u64> {
        Ok(lock(&self.check, "the engine")?.frame_memory_bytes())
    }

    /// Bytes of GPU memory held by buffers of fixed contents: the networks' weights and
    /// every layer's parameters.
    pub fn constant_bytes(&self) -> u64 {
        self.gpu.constant_bytes()
    }

    /// Uploads `frame`, runs `measure`, then erases everything whatever it returned.
    fn with_uploaded<T>(&self, frame: &Frame<'_>, measure: impl FnOnce(&Gpu, &Check) -> Result<T>) -> Result<T> {
        let mut check = lock(&self.check, "the engine")?;
        // The tools measure Engine::check: every face it judges.
        check.all_faces = true;
        let used = check.upload(&self.gpu, &self.options, frame)?;
        let result = measure(&self.gpu, &check);
        let mut encoder = self.gpu.encoder("erase");
        check.record_erase(&mut encoder, Some(used));
        self.gpu.submit_and_wait(encoder)?;
        result
    }
}

fn time_stages_wall(gpu: &Gpu, check: &Check) -> Result<[f64; 3]> {
    let mut times = [0.0; 3];
    for (i, stage) in Stage::ALL.into_iter().enumerate() {
        let mut encoder = gpu.encoder(stage.name());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(stage.name()), timestamp_writes: None });
            check.record_stage(stage, &mut pass);
        }
        let start = Instant::now();
        gpu.submit_and_wait(encoder)?;
        times[i] = start.elapsed().as_secs_f64() * 1e3;
    }
    Ok(times)
}

fn time_stages_gpu(gpu: &Gpu, check: &Check) -> Result<[f64; 3]> {
    let device = gpu.device();
    let count = 2 * Stage::ALL.len() as u32;
    let queries = device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("stage timestamps"), ty: wgpu::QueryType::Timestamp, count });
    let resolved = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("stage timestamps"),
        size: count as u64 * 8,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.encoder("timed stages");
    for (i, stage) in Stage::ALL.into_iter().enumerate() {
        let writes = wgpu::ComputePassTimestampWrites {
            query_set: &queries,
            beginning_of_pass_write_index: Some(2 * i as u32),
            end_of_pass_write_index: Some(2 * i as u32 + 1),
        };
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(stage.name()), timestamp_writes: Some(writes) });
        check.record_stage(stage, &mut pass);
    }
    encoder.resolve_query_set(&queries, 0..count, &resolved, 0);
    gpu.submit_and_wait(encoder)?;
    let bytes = gpu.read_buffer(&resolved)?;
    let ticks: &[u64] = bytemuck::try_cast_slice(&bytes).map_err(|e| Error::Gpu { during: "reading timestamps", message: e.to_string() })?;
    let period_ns = gpu.queue().get_timestamp_period() as f64;
    Ok([0, 1, 2].map(|i| ticks[2 * i + 1].saturating_sub(ticks[2 * i]) as f64 * period_ns / 1e6))
}
