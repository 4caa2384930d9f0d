//! A spin lock for short, rare critical sections (registries, not the write path).
//!
//! A std `Mutex` under wasm atomics parks with `memory.atomic.wait32`, which traps on the
//! browser main thread when the lock is contended. This lock spins with exponential backoff
//! (`crossbeam_utils::Backoff`) instead, so it is safe everywhere.
//!
//! A thread terminated while it holds the lock never releases it, and what it guards may be
//! half-updated, so no other thread may take it: after waiting
//! [`stall::DEFAULT_LIMIT_MS`](super::stall::DEFAULT_LIMIT_MS) the waiter stops the engine
//! with a message naming the lock (a panic; in wasm a trap, reported as `INTERNAL`), rather
//! than spin forever.

use super::stall::{Stall, DEFAULT_LIMIT_MS};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

/// A lock that spins, never parks.
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is serialized by `locked` (acquire on lock, release on unlock).
unsafe impl<T: Send> Sync for SpinLock<T> {}

/// Access to the value of a locked [`SpinLock`]; unlocks when dropped.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    /// A new, unlocked lock.
    pub const fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Spins until the lock is free, then takes it.
    ///
    /// # Panics
    /// If another thread holds it for longer than the stall limit (that thread stopped
    /// while holding it).
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let mut stall = Stall::new(DEFAULT_LIMIT_MS);
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            if !stall.snooze() {
                stopped_holding(std::any::type_name::<T>());
            }
        }
        SpinLockGuard { lock: self }
    }
}

/// A lock whose holder never let go: what it guards cannot be trusted any more.
#[cold]
fn stopped_holding(what: &str) -> ! {
    panic!(
        "a thread stopped while holding the lock of {what} (a worker terminated?); the engine \
         cannot go on in this context"
    )
}

impl<T: Default> Default for SpinLock<T> {
    fn default() -> SpinLock<T> {
        SpinLock::new(T::default())
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no one else touches the value.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock exclusively.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_lock_serializes_increments_across_threads() {
        let lock = Arc::new(SpinLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(*lock.lock(), 40_000);
    }
}
