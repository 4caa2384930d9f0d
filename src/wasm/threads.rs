//! What the package needs to give back the memory of threads that ended
//! (`pkg/engine/threads.js`): a key that names this shared memory among the origin's other
//! engines, the same in every thread that joins it, and each thread's heap, released once
//! its thread has ended.

use std::sync::atomic::{AtomicU64, Ordering};
use wasm_bindgen::prelude::*;

/// This memory's key; 0 until a thread proposes one.
static KEY: AtomicU64 = AtomicU64::new(0);

/// This shared memory's key: the first `proposed` any thread of it passed (a random
/// nonzero integer below 2^53), returned to every thread after it.
#[wasm_bindgen(js_name = engineKey)]
pub fn engine_key(proposed: f64) -> f64 {
    let proposed = proposed as u64;
    match KEY.compare_exchange(0, proposed, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => proposed as f64,
        Err(kept) => kept as f64,
    }
}

/// The number of this thread's own heap (`wasm/alloc.rs`), which the package names when it
/// tells of this thread.
#[wasm_bindgen(js_name = threadHeap)]
pub fn thread_heap() -> u32 {
    super::alloc::mine().into()
}

/// Gives the heap of a thread that has ended (its number from [`thread_heap`]) to the
/// next thread that starts, unless the thread ended inside it. Call it only once the
/// thread can run no more.
#[wasm_bindgen(js_name = releaseHeap)]
pub fn release_heap(heap: u32) -> bool {
    u8::try_from(heap).is_ok_and(super::alloc::release)
}
