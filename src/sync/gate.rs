//! The write gate: ordinary writers pass it together; a conditional writer closes it and
//! waits for the writers inside to leave, so that between its check and its write no other
//! write can start. Nobody parks: waiting is a spin with backoff, safe on the browser main
//! thread, and short, because writers leave the gate as soon as their batch is published
//! (before any wait for durability). A writer that never leaves (its thread was terminated
//! inside) or a closer that never reopens is waited for a bounded time (`sync::stall`).

use crate::error::Result;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::stall::Stall;

/// Set while a conditional writer holds the gate closed.
const CLOSED: u64 = 1 << 63;

/// Counts the writers inside; one bit says it is closed.
#[derive(Default)]
pub struct WriteGate {
    state: AtomicU64,
}

/// An ordinary writer inside the gate; leaves on drop.
pub struct Passage<'a> {
    gate: &'a WriteGate,
}

/// The gate held closed with nobody inside; reopens on drop.
pub struct Closed<'a> {
    gate: &'a WriteGate,
}

impl WriteGate {
    /// An open, empty gate.
    pub fn new() -> WriteGate {
        WriteGate {
            state: AtomicU64::new(0),
        }
    }

    /// Enters, waiting while a conditional writer holds the gate closed.
    ///
    /// # Errors
    /// [`crate::Error::Io`] if the gate stays closed for `limit_ms`.
    pub fn enter(&self, limit_ms: u64) -> Result<Passage<'_>> {
        let mut stall = Stall::new(limit_ms);
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            if current & CLOSED != 0 {
                stall.wait("a write")?;
                current = self.state.load(Ordering::Relaxed);
                continue;
            }
            match self.state.compare_exchange_weak(
                current,
                current + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Passage { gate: self }),
                Err(seen) => current = seen,
            }
        }
    }

    /// Closes the gate (after any other closer is done) and waits until every writer
    /// inside has left.
    ///
    /// # Errors
    /// [`crate::Error::Io`] if either wait lasts `limit_ms` (the gate is then open again).
    pub fn close(&self, limit_ms: u64) -> Result<Closed<'_>> {
        let mut stall = Stall::new(limit_ms);
        while self
            .state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |s| {
                (s & CLOSED == 0).then_some(s | CLOSED)
            })
            .is_err()
        {
            stall.wait("a conditional write")?;
        }
        let closed = Closed { gate: self };
        let mut stall = Stall::new(limit_ms);
        while self.state.load(Ordering::Acquire) != CLOSED {
            stall.wait("a conditional write")?; // dropping `closed` reopens the gate
        }
        Ok(closed)
    }
}

impl Drop for Passage<'_> {
    fn drop(&mut self) {
        self.gate.state.fetch_sub(1, Ordering::Release);
    }
}

impl Drop for Closed<'_> {
    fn drop(&mut self) {
        self.gate.state.fetch_and(!CLOSED, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn a_closed_gate_has_nobody_inside_and_lets_nobody_in() {
        let gate = Arc::new(WriteGate::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let violations = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..3)
            .map(|t| {
                let (gate, inside, violations) = (
                    Arc::clone(&gate),
                    Arc::clone(&inside),
                    Arc::clone(&violations),
                );
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        if (i + t) % 50 == 0 {
                            let _closed = gate.close(10_000).expect("close");
                            if inside.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                                violations.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                        } else {
                            let _passage = gate.enter(10_000).expect("enter");
                            inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(violations.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(
            gate.state.load(Ordering::SeqCst),
            0,
            "open and empty at the end"
        );
    }

    #[test]
    fn a_writer_that_never_leaves_makes_the_closer_give_up_and_reopen() {
        let gate = WriteGate::new();
        let stuck = gate.enter(10).expect("enter");
        std::mem::forget(stuck); // its thread stopped inside
        assert_eq!(gate.close(50).err().map(|e| e.code()), Some("IO"));
        assert!(
            gate.enter(50).is_ok(),
            "the gate is open again for ordinary writers"
        );
    }
}
