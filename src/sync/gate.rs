//! The write gate: ordinary writers pass it together; a conditional writer closes it and
//! waits for the writers inside to leave, so that between its check and its write no other
//! write can start. Nobody parks: waiting is a spin with backoff, safe on the browser main
//! thread, and short, because writers leave the gate as soon as their batch is published
//! (before any wait for durability).

use crate::sync::atomic::{AtomicU64, Ordering};
use crossbeam_utils::Backoff;

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
    pub fn enter(&self) -> Passage<'_> {
        let backoff = Backoff::new();
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            if current & CLOSED != 0 {
                backoff.snooze();
                current = self.state.load(Ordering::Relaxed);
                continue;
            }
            match self.state.compare_exchange_weak(
                current,
                current + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Passage { gate: self },
                Err(seen) => current = seen,
            }
        }
    }

    /// Closes the gate (after any other closer is done) and waits until every writer
    /// inside has left.
    pub fn close(&self) -> Closed<'_> {
        let backoff = Backoff::new();
        while self
            .state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |s| {
                (s & CLOSED == 0).then_some(s | CLOSED)
            })
            .is_err()
        {
            backoff.snooze();
        }
        let backoff = Backoff::new();
        while self.state.load(Ordering::Acquire) != CLOSED {
            backoff.snooze();
        }
        Closed { gate: self }
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
                            let _closed = gate.close();
                            if inside.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                                violations.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                        } else {
                            let _passage = gate.enter();
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
}
