//! Files one thread owns, used from every thread: the other threads' calls are queued in
//! shared memory and answered by the owner.
//!
//! A browser's OPFS sync access handles belong to the worker that opened them and cannot
//! move, yet every worker sharing the store (`share()`/`attach()` in the threaded build)
//! writes the one log and reads the one set of tables. So the opener is the store's *I/O
//! owner*: a thread without the files posts each call ([`Op`]) into the store's
//! [`Requests`] and waits for the answer; the owner runs it on its files ([`Requests::serve`])
//! when its event loop is woken (the package waits on [`Requests::doorbell`] with
//! `Atomics.waitAsync`), and whenever it itself waits for another thread inside the engine
//! (every [`Stall`](crate::sync::stall::Stall) serves this thread's queues first, see
//! [`serve_waiting`]): a thread that holds the log's flush or the manifest while it waits
//! for the owner's I/O can then never wait for the owner in turn.
//!
//! Threads die anywhere (a Worker `terminate()`d), so nothing here can be left half done:
//! a request is posted by one compare-and-swap of a slot from empty to the request, taken
//! by one swap back, and answered through the request itself, which both sides hold. A
//! requester whose answer does not come within the store's stall limit withdraws it if the
//! owner has not taken it yet, and otherwise waits one limit more; either way it fails
//! with `IO` rather than wait for an owner that stopped.

use super::{OwnerWork, Storage};
use crate::error::{Error, Result};
use crate::sync::SpinLock;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::Thread;

/// Requests that can wait at once; a requester finding all taken waits for a free one.
const SLOTS: usize = 64;
/// The longest a requester sleeps between two looks at its answer (ms).
const NAP_MS: f64 = 50.0;
/// How long a log sync may wait for the owner's own next flush when the owner enters an
/// engine call (ms): see [`Requests::serve`].
pub(crate) const HOLD_SYNC_MS: f64 = 1.0;

/// True if `then` was less than [`HOLD_SYNC_MS`] before `now` (`clock::now_ms`, the wall
/// clock every thread shares; a clock set back holds nothing).
pub(crate) fn within_hold(then: f64, now: f64) -> bool {
    (0.0..HOLD_SYNC_MS).contains(&(now - then))
}

/// One file operation, as a thread without the files asks for it.
pub enum Op {
    /// Work to run on the owner's thread (a log flush): `Answer::Flag` of its result.
    Run(OwnerWork),
    Create(String),
    Append(String, Vec<u8>),
    Read(String, u64, usize),
    Len(String),
    Sync(String),
    Truncate(String, u64),
    Delete(String),
    List,
    Rename(String, String),
}

/// What the owner answers.
#[derive(Debug)]
enum Answer {
    Done,
    Bytes(Vec<u8>),
    Len(u64),
    Names(Vec<String>),
    Flag(bool),
}

/// A posted operation and, once the owner ran it, its answer.
struct Request {
    /// Taken by the owner when it runs it.
    op: SpinLock<Option<Op>>,
    waiter: Thread,
    /// When it was posted (`clock::now_ms`).
    posted_ms: f64,
    done: AtomicBool,
    answer: SpinLock<Option<Result<Answer>>>,
}

/// The calls waiting for a store's I/O owner (lives in shared memory).
pub struct Requests {
    slots: [AtomicPtr<Request>; SLOTS],
    /// Bumped at every post; the owner's event loop waits on it (`Atomics.waitAsync`).
    doorbell: AtomicI32,
    /// Set when the owner closed the files: calls fail at once.
    closed: AtomicBool,
    /// Requests posted and neither taken nor withdrawn yet (so a look finds none cheaply).
    waiting: AtomicUsize,
}

impl Default for Requests {
    fn default() -> Requests {
        Requests {
            slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            doorbell: AtomicI32::new(0),
            closed: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
        }
    }
}

impl Drop for Requests {
    fn drop(&mut self) {
        for slot in &self.slots {
            let raw = slot.swap(ptr::null_mut(), Ordering::Acquire);
            if !raw.is_null() {
                // SAFETY: a non-null slot holds one strong count, given by `post`.
                drop(unsafe { Arc::from_raw(raw) });
            }
        }
    }
}

fn no_owner(what: &str) -> Error {
    Error::Io(format!(
        "{what}: the thread that owns the store's files closed them; open the store again"
    ))
}

impl Requests {
    /// The word the owner's event loop waits on (its address in wasm memory).
    pub fn doorbell(&self) -> &AtomicI32 {
        &self.doorbell
    }

    /// The owner closed the files: waiting and later calls fail with `IO`.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ring();
    }

    /// True while requests wait to be served.
    pub fn pending(&self) -> bool {
        self.waiting() > 0
    }

    /// How many requests wait to be served.
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::Acquire) as u32
    }

    /// Runs the waiting requests on `files` (the owner's own); returns how many ran.
    ///
    /// With `hold_syncs` (the owner is entering an engine call of its own), log syncs
    /// posted less than [`HOLD_SYNC_MS`] ago stay queued: a `sync` write of the owner's
    /// flushes soon after, and that one flush covers them too (it answers them as it
    /// ends), where running them now would flush them alone. The owner's event loop, its
    /// own flushes and its waits answer them all, so none waits longer than that or the
    /// owner's next task.
    pub fn serve(&self, files: &dyn Storage, hold_syncs: bool) -> usize {
        if !self.pending() {
            return 0;
        }
        if !hold_syncs {
            return self.serve_holding(files, &|_| false);
        }
        let now = crate::clock::now_ms();
        self.serve_holding(files, &|posted| within_hold(posted, now))
    }

    /// `serve`, holding the log syncs not covered yet for which `hold(posted_ms)` is true.
    fn serve_holding(&self, files: &dyn Storage, hold: &dyn Fn(f64) -> bool) -> usize {
        if !self.pending() {
            return 0;
        }
        let mut served = 0;
        for slot in &self.slots {
            if slot.load(Ordering::Relaxed).is_null() {
                continue;
            }
            let raw = slot.swap(ptr::null_mut(), Ordering::Acquire);
            if raw.is_null() {
                continue;
            }
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            // SAFETY: the swap took the strong count `post` left in the slot.
            let request = unsafe { Arc::from_raw(raw) };
            let op = request.op.lock().take();
            let answer = match op {
                // Covered by a flush since it was posted: answered without running.
                Some(Op::Run(work)) if !work.needed() => Ok(Answer::Flag(true)),
                Some(Op::Run(work)) if hold(request.posted_ms) => {
                    match self.hold(slot, &request, work) {
                        Ok(()) => continue,
                        Err(work) => run(files, Op::Run(work)),
                    }
                }
                op => op.map_or(Ok(Answer::Done), |op| run(files, op)),
            };
            *request.answer.lock() = Some(answer);
            request.done.store(true, Ordering::Release);
            request.waiter.unpark();
            served += 1;
        }
        served
    }

    /// Puts `request`, just taken from `slot`, back with its `work` (only this thread,
    /// the owner, takes requests: it is whole before this thread looks again); or hands
    /// the work back if its slot was taken meanwhile, to run now.
    fn hold(
        &self,
        slot: &AtomicPtr<Request>,
        request: &Arc<Request>,
        work: OwnerWork,
    ) -> std::result::Result<(), OwnerWork> {
        // Counted first, as `call` counts a post.
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let raw = Arc::into_raw(Arc::clone(request)).cast_mut();
        if slot
            .compare_exchange(ptr::null_mut(), raw, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            // SAFETY: the count just made, never posted.
            drop(unsafe { Arc::from_raw(raw) });
            return Err(work);
        }
        *request.op.lock() = Some(Op::Run(work));
        Ok(())
    }

    /// Runs `op` at the owner and returns its answer, waiting at most `limit_ms` for the
    /// owner to take it (and as long again for it to finish).
    /// A thread that must never wait (a browser page) gets [`Error::WouldBlock`] at once
    /// instead, and nothing is posted.
    fn call(&self, op: Op, limit_ms: u64) -> Result<Answer> {
        let what = describe(&op);
        if !crate::sync::stall::may_block() {
            return Err(Error::WouldBlock(format!(
                "{what}: needs the I/O of the thread that owns the store's files, and this \
                 thread must not wait"
            )));
        }
        let request = Arc::new(Request {
            op: SpinLock::new(Some(op)),
            waiter: std::thread::current(),
            posted_ms: crate::clock::now_ms(),
            done: AtomicBool::new(false),
            answer: SpinLock::new(None),
        });
        let raw = Arc::into_raw(Arc::clone(&request)).cast_mut();
        let started = crate::clock::now_ms();
        let slot = loop {
            if self.closed.load(Ordering::Acquire) {
                // SAFETY: `raw` was never posted: take its count back.
                drop(unsafe { Arc::from_raw(raw) });
                return Err(no_owner(&what));
            }
            // Counted first, so an owner never takes more than were counted.
            self.waiting.fetch_add(1, Ordering::AcqRel);
            if let Some(slot) = self.slots.iter().find(|slot| {
                slot.compare_exchange(ptr::null_mut(), raw, Ordering::Release, Ordering::Relaxed)
                    .is_ok()
            }) {
                break slot;
            }
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            if crate::clock::now_ms() - started > limit_ms as f64 {
                // SAFETY: as above.
                drop(unsafe { Arc::from_raw(raw) });
                return Err(unanswered(&what, limit_ms));
            }
            nap(1.0);
        };
        self.ring();
        let mut deadline = started + limit_ms as f64;
        let mut withdrawn = false;
        loop {
            if request.done.load(Ordering::Acquire) {
                return request
                    .answer
                    .lock()
                    .take()
                    .unwrap_or_else(|| Err(unanswered(&what, limit_ms)));
            }
            let now = crate::clock::now_ms();
            if now > deadline {
                // Not taken yet: withdraw it, so it never runs after this call failed.
                if slot
                    .compare_exchange(raw, ptr::null_mut(), Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    // SAFETY: the slot's count, taken back.
                    drop(unsafe { Arc::from_raw(raw) });
                    return Err(unanswered(&what, limit_ms));
                }
                if withdrawn {
                    return Err(unanswered(&what, limit_ms));
                }
                // The owner is running it: give it one limit more to finish.
                withdrawn = true;
                deadline = now + limit_ms as f64;
            }
            if self.closed.load(Ordering::Acquire)
                && slot
                    .compare_exchange(raw, ptr::null_mut(), Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                // SAFETY: as above.
                drop(unsafe { Arc::from_raw(raw) });
                return Err(no_owner(&what));
            }
            nap((deadline - now).clamp(0.0, NAP_MS));
        }
    }

    /// Tells the owner's event loop that requests wait.
    fn ring(&self) {
        self.doorbell.fetch_add(1, Ordering::Release);
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
        // SAFETY: the doorbell is a live, aligned i32 in (shared) wasm memory.
        unsafe {
            core::arch::wasm32::memory_atomic_notify(self.doorbell.as_ptr(), u32::MAX);
        }
    }
}

/// Sleeps this thread up to `ms` milliseconds, or until the owner answers (unparks it).
fn nap(ms: f64) {
    std::thread::park_timeout(std::time::Duration::from_micros((ms * 1000.0) as u64));
}

fn unanswered(what: &str, limit_ms: u64) -> Error {
    Error::Io(format!(
        "{what}: the thread that owns the store's files did not answer within {limit_ms} ms \
         (it stopped, or its event loop is blocked); writes are refused until the store is \
         reopened"
    ))
}

fn describe(op: &Op) -> String {
    match op {
        Op::Create(name)
        | Op::Append(name, _)
        | Op::Read(name, ..)
        | Op::Len(name)
        | Op::Sync(name)
        | Op::Truncate(name, _)
        | Op::Delete(name)
        | Op::Rename(name, _) => name.clone(),
        Op::List => "list".into(),
        Op::Run(_) => "a log flush".into(),
    }
}

fn run(files: &dyn Storage, op: Op) -> Result<Answer> {
    Ok(match op {
        Op::Run(work) => Answer::Flag(work.run()?),
        Op::Create(name) => files.create(&name).map(|()| Answer::Done)?,
        Op::Append(name, data) => files.append(&name, &data).map(|()| Answer::Done)?,
        Op::Read(name, offset, len) => {
            let mut buf = vec![0; len];
            let n = files.read_at(&name, offset, &mut buf)?;
            buf.truncate(n);
            Answer::Bytes(buf)
        }
        Op::Len(name) => Answer::Len(files.len(&name)?),
        Op::Sync(name) => files.sync(&name).map(|()| Answer::Done)?,
        Op::Truncate(name, len) => files.truncate(&name, len).map(|()| Answer::Done)?,
        Op::Delete(name) => files.delete(&name).map(|()| Answer::Done)?,
        Op::List => Answer::Names(files.list()?),
        Op::Rename(from, to) => files.rename(&from, &to).map(|()| Answer::Done)?,
    })
}

mod owner;
mod requester;
#[cfg(all(test, not(loom)))]
mod tests;

pub use owner::{busy_here, serve_from_here, serve_waiting, serve_while_busy, stop_serving};
pub use requester::RemoteStorage;
