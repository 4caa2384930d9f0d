//! The `#[wasm_bindgen]` surface the JS package (`pkg/`) calls. Every entry point validates
//! its input and returns errors (as JS `Error`s with a `code`), never panics.

#[cfg(target_feature = "atomics")]
mod alloc;
#[cfg(feature = "bench-exports")]
mod bench;
mod db;
mod error;
mod iter;
mod logging;
mod metrics;
mod options;
mod scratch;
mod snapshot;
#[cfg(target_feature = "atomics")]
mod threads;
mod wire;

pub use db::DbHandle;
pub use iter::IterHandle;
pub use snapshot::SnapshotHandle;

use wasm_bindgen::prelude::*;

/// The threaded build allocates from a heap per thread (see `alloc`).
#[cfg(target_feature = "atomics")]
#[global_allocator]
static ALLOCATOR: alloc::ThreadHeaps = alloc::ThreadHeaps;

/// Installs the panic hook that reports Rust panics on the JS console. Idempotent.
/// `may_wait`: this context may block (a worker, Node; not a browser's main thread), so
/// its long waits for other threads sleep instead of spinning.
#[wasm_bindgen(js_name = initEngine)]
pub fn init_engine(may_wait: bool) {
    console_error_panic_hook::set_once();
    logging::install();
    if may_wait && cfg!(target_feature = "atomics") {
        crate::sync::stall::allow_sleep();
    }
}

/// `"threaded"` for the shared-memory build, `"single"` otherwise.
#[wasm_bindgen]
pub fn flavour() -> String {
    if cfg!(target_feature = "atomics") {
        "threaded".into()
    } else {
        "single".into()
    }
}
