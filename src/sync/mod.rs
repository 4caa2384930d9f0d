//! Synchronization that never blocks the browser main thread: atomics (swapped for `loom`'s
//! under `--cfg loom`) and a spin lock that backs off instead of calling `Atomics.wait`.

pub mod atomic;
mod spin;

pub use spin::{SpinLock, SpinLockGuard};
