//! The threaded build's memory allocator: std's (dlmalloc) behind a lock of its own whose
//! wait is bounded.
//!
//! std serializes the shared heap with one spin lock that waits forever. A worker
//! terminated inside `malloc` or `free` (a writer killed mid-write spends a fair share of
//! its time there) would leave it held, and every thread of the store, the page included,
//! would spin forever at its next allocation. The heap it was changing may be half-updated,
//! so no one may take over: past the stall limit the waiter reports why on the console and
//! stops its engine (a trap, which the package reports as `INTERNAL`), instead of hanging.
//! Uncontended, the lock costs one compare-and-swap per allocation.

use crate::sync::stall::{Stall, DEFAULT_LIMIT_MS};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// The global allocator of the threaded build.
pub struct BoundedAlloc;

static LOCKED: AtomicBool = AtomicBool::new(false);

struct Held;

impl Drop for Held {
    fn drop(&mut self) {
        LOCKED.store(false, Ordering::Release);
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

fn lock() -> Held {
    let take = || {
        LOCKED
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    };
    if take() {
        return Held;
    }
    let mut stall = Stall::in_allocator(DEFAULT_LIMIT_MS);
    loop {
        if take() {
            return Held;
        }
        if !stall.snooze() {
            // Formatting or panicking would allocate: a fixed message, then a trap.
            console_error(
                "ppdb: a thread stopped inside the memory allocator (a worker terminated?); \
                 the engine cannot go on in this context",
            );
            core::arch::wasm32::unreachable();
        }
    }
}

// SAFETY: every call is forwarded to `System`, serialized by `lock` (which `System` does
// too, so this only adds a bounded wait in front of it).
unsafe impl GlobalAlloc for BoundedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _held = lock();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _held = lock();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _held = lock();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _held = lock();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
