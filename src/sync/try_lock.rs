//! A lock that is only ever tried, never waited on: one thread does a piece of work
//! (a flush, a memtable switch) while the others carry on or wait for its result.

use std::sync::atomic::{AtomicBool, Ordering};

/// A flag one thread at a time may hold.
#[derive(Default)]
pub struct TryLock {
    held: AtomicBool,
}

/// Proof of holding a [`TryLock`]; releases it when dropped (on unwind too).
pub struct TryLockGuard<'a> {
    lock: &'a TryLock,
}

impl TryLock {
    /// A free lock.
    pub const fn new() -> TryLock {
        TryLock {
            held: AtomicBool::new(false),
        }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<TryLockGuard<'_>> {
        self.held
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| TryLockGuard { lock: self })
    }

    /// True while some thread holds it.
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }
}

impl Drop for TryLockGuard<'_> {
    fn drop(&mut self) {
        self.lock.held.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_holder_at_a_time_and_dropping_releases() {
        let lock = TryLock::new();
        let guard = lock.try_lock().expect("free");
        assert!(lock.is_held());
        assert!(lock.try_lock().is_none());
        drop(guard);
        assert!(!lock.is_held());
        assert!(lock.try_lock().is_some());
    }
}
