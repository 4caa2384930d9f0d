//! Synchronization that never blocks the browser main thread: atomics (swapped for `loom`'s
//! under `--cfg loom`) and a spin lock that backs off instead of calling `Atomics.wait`.

pub mod atomic;
mod gate;
mod spin;
pub mod stall;
mod try_lock;

pub use gate::{Closed, Passage, WriteGate};
pub use spin::{SpinLock, SpinLockGuard};
pub use try_lock::{TryLock, TryLockGuard};
