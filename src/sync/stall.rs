//! Bounded waiting for another thread.
//!
//! Every wait of one thread for another (a writer for an earlier writer's publication, a
//! conditional writer for the writers inside the gate, a writer for the thread syncing the
//! log, any thread for a spin lock) spins with backoff; a thread that may block (natively, a
//! worker, Node: `allow_sleep`) then sleeps in short naps, a browser's main thread never
//! does (`Atomics.wait` traps there). A thread can
//! stop in the middle of any of these (a Worker `terminate()`d mid-write) and never finish
//! what it started, so no wait is unbounded: past a time limit, the waiter gives up. Where
//! the engine can carry on (the write path) that is an error for the caller and the store
//! refuses writes until it is reopened; where it cannot (a spin lock's data, the memory
//! allocator's heap may be half-updated) it stops the engine with a message (a panic, which
//! in wasm traps).

use crate::error::Error;
use crossbeam_utils::Backoff;
use std::cell::Cell;

/// How long a thread waits for another before it concludes that one stopped (ms), unless
/// a store sets its own (`Options::stall_timeout_ms`).
pub const DEFAULT_LIMIT_MS: u64 = 2_000;

/// Snoozes between clock reads once the backoff spins at its slowest.
const CHECK_EVERY: u32 = 64;

/// How long a thread that may sleep sleeps between looks, once spinning did not help.
const NAP: std::time::Duration = std::time::Duration::from_micros(50);
/// How long a wait spins before a thread that may sleep starts sleeping (microseconds):
/// most waits (a publication, a short critical section) end well within it.
const SPIN_US: f64 = 30.0;

/// The single-threaded wasm build: it never sleeps, and serves no other thread.
const SINGLE_WASM: bool = cfg!(all(target_arch = "wasm32", not(target_feature = "atomics")));

thread_local! {
    /// Whether this thread may sleep while it waits: native threads, Node and workers; never
    /// a browser's main thread, where `memory.atomic.wait32` traps.
    static MAY_SLEEP: Cell<bool> = const { Cell::new(!cfg!(target_arch = "wasm32")) };
}

/// This thread may sleep while it waits (a worker, or Node): its long waits then sleep
/// between looks instead of spinning, leaving the cores to the threads they wait for.
pub fn allow_sleep() {
    MAY_SLEEP.with(|may| may.set(true));
}

/// This thread must never wait, as a browser's main thread (for tests of that path).
#[cfg(all(test, not(loom)))]
pub(crate) fn deny_sleep() {
    MAY_SLEEP.with(|may| may.set(false));
}

/// True where this thread may wait for another thread's I/O: false on a browser's main
/// thread, which must never wait (its reads that need the I/O owner fail with
/// [`Error::WouldBlock`] instead, see `storage::remote`).
pub fn may_block() -> bool {
    MAY_SLEEP.with(Cell::get)
}

/// A wait for another thread, bounded in time.
pub struct Stall {
    backoff: Backoff,
    limit_ms: u64,
    started_ms: Option<f64>,
    snoozes: u32,
    /// When the backoff first reached its slowest (µs), for sleeping threads.
    slow_since_us: Option<f64>,
    /// False in the memory allocator, which must do nothing that allocates.
    helps: bool,
}

impl Stall {
    /// A wait that gives up after `limit_ms` milliseconds.
    pub fn new(limit_ms: u64) -> Stall {
        Stall {
            backoff: Backoff::new(),
            limit_ms,
            started_ms: None,
            snoozes: 0,
            slow_since_us: None,
            helps: true,
        }
    }

    /// A wait inside the memory allocator: it only spins (no sleeping, no serving of other
    /// threads' file calls, which would allocate).
    pub fn in_allocator(limit_ms: u64) -> Stall {
        Stall {
            helps: false,
            ..Stall::new(limit_ms)
        }
    }

    /// Waits a little; false once the wait has lasted longer than its limit. The clock is
    /// read only now and then, so a short wait costs no more than the backoff.
    /// A thread that owns files other threads use serves their calls first: the thread
    /// it waits for may be waiting for its I/O (`storage::remote`).
    pub fn snooze(&mut self) -> bool {
        #[cfg(not(loom))]
        if self.helps && !SINGLE_WASM {
            crate::storage::remote::serve_waiting();
        }
        if !self.backoff.is_completed() {
            self.backoff.snooze();
            return true;
        }
        if SINGLE_WASM {
            self.backoff.snooze();
        } else if self.helps && MAY_SLEEP.with(Cell::get) && self.spun_enough() {
            std::thread::park_timeout(NAP);
        } else {
            self.backoff.snooze();
        }
        self.snoozes += 1;
        if !self.snoozes.is_multiple_of(CHECK_EVERY) {
            return true;
        }
        let now = crate::clock::now_ms();
        let started = *self.started_ms.get_or_insert(now);
        now - started <= self.limit_ms as f64
    }

    /// True once this wait has spun at its slowest for SPIN_US.
    fn spun_enough(&mut self) -> bool {
        let now = crate::clock::now_micros();
        now - *self.slow_since_us.get_or_insert(now) > SPIN_US
    }

    /// Waits a little; past the limit, the error to report: `what` waited for another
    /// thread that must have stopped half way.
    ///
    /// # Errors
    /// [`Error::Io`] once the wait has lasted longer than its limit.
    pub fn wait(&mut self, what: &str) -> crate::Result<()> {
        if self.snooze() {
            return Ok(());
        }
        Err(Error::Io(format!(
            "{what} waited {} ms for another thread, which must have stopped half way \
             (a worker terminated mid-write?); writes are refused until the store is reopened",
            self.limit_ms
        )))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_wait_gives_up_after_its_limit_and_not_before() {
        let started = crate::clock::now_ms();
        let mut stall = Stall::new(50);
        while stall.wait("a test").is_ok() {}
        let waited = crate::clock::now_ms() - started;
        assert!(waited >= 50.0, "gave up after {waited} ms");
        assert!(waited < 2_000.0, "gave up only after {waited} ms");
        let err = Stall::new(0).wait("x");
        assert!(err.is_ok(), "the first snoozes never read the clock");
    }
}
