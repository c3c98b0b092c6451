//! Heap allocations per frame after warm-up, counted by a counting global allocator (this
//! test binary's own, so no other test disturbs the count).
//!
//! Zero per frame is not reachable on wgpu 30: its recording and submission allocate
//! (measured below: a fixed cost per submit plus about one per dispatch), and a check is a
//! fresh command buffer each frame (wgpu cannot resubmit one). What the tests hold: the
//! count is flat from frame to frame (nothing accumulates), and the engine's own share on
//! top of wgpu's for its command stream stays small.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use liveshade::DecodedImage;
use liveshade::gpu::{BufferArena, Gpu, GpuOptions, record_all};
use liveshade::models::{BlazeFace, Network, Weights};
use liveshade::{Engine, EngineOptions};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Mean allocations of `run` over `times` calls.
fn allocations(times: usize, mut run: impl FnMut()) -> f64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..times {
        run();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / times as f64
}

fn backend() -> liveshade::Backend {
    liveshade::Backend::from_env().expect("LIVESHADE_BACKEND / WGPU_BACKEND")
}

/// (per submit, per dispatch) allocations of bare wgpu: BlazeFace's dispatches recorded
/// into one compute pass, submitted and waited for, at 1 and 40 dispatches.
fn wgpu_costs() -> (f64, f64) {
    let gpu = Gpu::new(&GpuOptions { backend: backend(), ..Default::default() })
        .unwrap_or_else(|e| panic!("the allocation tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()));
    let mut arena = BufferArena::new();
    let net = BlazeFace::new(&gpu, &Weights::bundled(Network::BlazeFace).unwrap(), &mut arena).unwrap();
    let dispatches: Vec<_> = net.graph().dispatches_iter().collect();
    let cost = |n: usize| {
        let mut run = || {
            let mut encoder = gpu.encoder("count");
            record_all(&mut encoder, dispatches.iter().take(n).copied());
            gpu.submit_and_wait(encoder).unwrap();
        };
        allocations(3, &mut run);
        allocations(10, &mut run)
    };
    let (one, forty) = (cost(1), cost(40));
    let per_dispatch = (forty - one) / 39.0;
    (one - per_dispatch, per_dispatch)
}

#[test]
fn allocations_per_check_are_flat_and_mostly_wgpus() {
    let (per_submit, per_dispatch) = wgpu_costs();
    let options = EngineOptions { gpu: GpuOptions { backend: backend(), ..Default::default() }, ..Default::default() };
    let engine = Engine::new(options).unwrap_or_else(|e| panic!("the allocation tests need a GPU adapter (CI={:?}): {e}", std::env::var("CI").ok()));
    let image = DecodedImage::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/live_T1.jpg")).unwrap();
    let frame = image.frame().unwrap();
    let mut check = || {
        engine.check(&frame).unwrap();
    };
    allocations(3, &mut check);
    let first = allocations(10, &mut check);
    let second = allocations(10, &mut check);
    // A check is two submits (the check, then the readback's zeroing) and its dispatches.
    let wgpu_share = 2.0 * per_submit + per_dispatch * engine.dispatches_per_check().unwrap() as f64;
    eprintln!(
        "allocations per check: {first:.1} then {second:.1}; bare wgpu: {per_submit:.1} per submit + {per_dispatch:.2} per dispatch \
         = {wgpu_share:.0} for this command stream; the rest ({:.0}) is clears, copies, the readback mapping and the report",
        first - wgpu_share
    );
    assert!((first - second).abs() <= 2.0, "allocations per check grow: {first} then {second}");
    assert!(first - wgpu_share < 150.0, "the engine allocates {first} per check, {wgpu_share:.0} of them wgpu's");
}
