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
use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::Thread;

/// Requests that can wait at once; a requester finding all taken waits for a free one.
const SLOTS: usize = 64;
/// The longest a requester sleeps between two looks at its answer (ms).
const NAP_MS: f64 = 50.0;

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
        self.waiting.load(Ordering::Acquire) > 0
    }

    /// Runs every waiting request on `files` (the owner's own); returns how many ran.
    pub fn serve(&self, files: &dyn Storage) -> usize {
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
            let answer = op.map_or(Ok(Answer::Done), |op| run(files, op));
            *request.answer.lock() = Some(answer);
            request.done.store(true, Ordering::Release);
            request.waiter.unpark();
            served += 1;
        }
        served
    }

    /// Runs `op` at the owner and returns its answer, waiting at most `limit_ms` for the
    /// owner to take it (and as long again for it to finish).
    fn call(&self, op: Op, limit_ms: u64) -> Result<Answer> {
        let what = describe(&op);
        let request = Arc::new(Request {
            op: SpinLock::new(Some(op)),
            waiter: std::thread::current(),
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
        Op::Run(work) => Answer::Flag(work()?),
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

thread_local! {
    /// The queues this thread serves, by storage id, with its files for each.
    static SERVED: RefCell<Vec<Served>> = const { RefCell::new(Vec::new()) };
    /// True while this thread serves (a served call that waits does not serve again).
    static SERVING: Cell<bool> = const { Cell::new(false) };
}

/// A queue this thread serves: storage `id`'s requests, answered with `files`.
struct Served {
    id: u32,
    requests: Arc<Requests>,
    files: Arc<dyn Storage>,
}

/// Makes this thread the owner of storage `id`: `requests` are answered with `files`.
pub fn serve_from_here(id: u32, requests: Arc<Requests>, files: Arc<dyn Storage>) {
    SERVED.with(|served| {
        served.borrow_mut().push(Served {
            id,
            requests,
            files,
        });
    });
}

/// This thread stops serving storage `id` (closing its queue: calls fail with `IO`).
pub fn stop_serving(id: u32) {
    SERVED.with(|served| {
        served.borrow_mut().retain(|queue| {
            if queue.id == id {
                queue.requests.close();
            }
            queue.id != id
        });
    });
}

/// Serves the requests waiting for this thread, if it owns any files; called by every
/// wait for another thread, which may be waiting for this one's I/O.
pub fn serve_waiting() -> usize {
    // The single-threaded wasm build has no thread to serve.
    if cfg!(all(target_arch = "wasm32", not(target_feature = "atomics"))) || SERVING.with(Cell::get)
    {
        return 0;
    }
    SERVED.with(|served| {
        let Ok(served) = served.try_borrow() else {
            return 0;
        };
        if served.is_empty() {
            return 0;
        }
        SERVING.with(|s| s.set(true));
        let count = served
            .iter()
            .map(|queue| queue.requests.serve(&*queue.files))
            .sum();
        SERVING.with(|s| s.set(false));
        count
    })
}

/// The storage of a thread without the files: every call goes to the owner.
pub struct RemoteStorage {
    requests: Arc<Requests>,
    limit_ms: u64,
}

impl RemoteStorage {
    /// Calls through `requests`, each waiting at most `limit_ms` for the owner to take it.
    pub fn new(requests: Arc<Requests>, limit_ms: u64) -> RemoteStorage {
        RemoteStorage { requests, limit_ms }
    }

    fn call(&self, op: Op) -> Result<Answer> {
        self.requests.call(op, self.limit_ms)
    }
}

fn unexpected(answer: &Answer) -> Error {
    Error::Io(format!("the files' owner answered {answer:?}"))
}

impl Storage for RemoteStorage {
    fn create(&self, name: &str) -> Result<()> {
        self.call(Op::Create(name.into())).map(drop)
    }
    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        self.call(Op::Append(name.into(), data.to_vec())).map(drop)
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        match self.call(Op::Read(name.into(), offset, buf.len()))? {
            Answer::Bytes(data) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                Ok(n)
            }
            other => Err(unexpected(&other)),
        }
    }
    fn len(&self, name: &str) -> Result<u64> {
        match self.call(Op::Len(name.into()))? {
            Answer::Len(n) => Ok(n),
            other => Err(unexpected(&other)),
        }
    }
    fn sync(&self, name: &str) -> Result<()> {
        self.call(Op::Sync(name.into())).map(drop)
    }
    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        self.call(Op::Truncate(name.into(), len)).map(drop)
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.call(Op::Delete(name.into())).map(drop)
    }
    fn list(&self) -> Result<Vec<String>> {
        match self.call(Op::List)? {
            Answer::Names(names) => Ok(names),
            other => Err(unexpected(&other)),
        }
    }
    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.call(Op::Rename(from.into(), to.into())).map(drop)
    }
    fn owned_here(&self) -> bool {
        false
    }
    fn at_owner(&self, work: OwnerWork) -> Result<bool> {
        match self.call(Op::Run(work))? {
            Answer::Flag(flag) => Ok(flag),
            other => Err(unexpected(&other)),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::storage::MemStorage;
    use std::sync::atomic::AtomicUsize;

    /// An owner thread serving `requests` from `files` until `stop`.
    fn owner(
        requests: Arc<Requests>,
        files: Arc<dyn Storage>,
        stop: Arc<AtomicBool>,
    ) -> std::thread::JoinHandle<usize> {
        std::thread::spawn(move || {
            let mut served = 0;
            while !stop.load(Ordering::Acquire) {
                served += requests.serve(&*files);
                std::thread::yield_now();
            }
            served
        })
    }

    #[test]
    fn threads_without_the_files_reach_them_through_the_owner() {
        let requests = Arc::new(Requests::default());
        let files: Arc<dyn Storage> = Arc::new(MemStorage::default());
        let stop = Arc::new(AtomicBool::new(false));
        let served = owner(Arc::clone(&requests), Arc::clone(&files), Arc::clone(&stop));
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let remote = RemoteStorage::new(Arc::clone(&requests), 2_000);
                std::thread::spawn(move || {
                    let name = format!("{t}.log");
                    remote.create(&name).expect("create");
                    for i in 0..200u32 {
                        remote.append(&name, &i.to_le_bytes()).expect("append");
                    }
                    remote.sync(&name).expect("sync");
                    remote.append(&name, b"end").expect("append");
                    assert_eq!(remote.len(&name).expect("len"), 803);
                    let mut buf = [0u8; 4];
                    assert_eq!(remote.read_at(&name, 4 * 199, &mut buf).expect("read"), 4);
                    assert_eq!(u32::from_le_bytes(buf), 199);
                    let here = std::thread::current().id();
                    let ran_at = Arc::new(SpinLock::new(None));
                    let record = Arc::clone(&ran_at);
                    let ran = remote.at_owner(Box::new(move || {
                        *record.lock() = Some(std::thread::current().id());
                        Ok(true)
                    }));
                    assert!(ran.expect("ran"));
                    assert!(
                        ran_at.lock().is_some_and(|at| at != here),
                        "ran at the owner"
                    );
                    let err = remote.len("absent").expect_err("absent");
                    assert_eq!(err.code(), "NOT_FOUND");
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer");
        }
        stop.store(true, Ordering::Release);
        assert_eq!(
            served.join().expect("owner"),
            4 * (1 + 200 + 1 + 1 + 1 + 1 + 1 + 1)
        );
        let mut names = files.list().expect("list");
        names.sort();
        assert_eq!(names, ["0.log", "1.log", "2.log", "3.log"]);
    }

    #[test]
    fn an_owner_that_never_answers_fails_the_call_and_never_runs_it_later() {
        let requests = Arc::new(Requests::default());
        let remote = RemoteStorage::new(Arc::clone(&requests), 100);
        let started = crate::clock::now_ms();
        let err = remote.create("000001.wal").expect_err("no owner answers");
        assert_eq!(err.code(), "IO");
        assert!(
            err.to_string().contains("did not answer within 100 ms"),
            "{err}"
        );
        assert!(crate::clock::now_ms() - started < 1_000.0);
        // Withdrawn: an owner that comes back later finds nothing to run.
        let files = MemStorage::default();
        assert!(!requests.pending());
        assert_eq!(requests.serve(&files), 0);
        assert!(files.list().expect("list").is_empty());
    }

    #[test]
    fn a_closed_owner_fails_waiting_and_later_calls_at_once() {
        let requests = Arc::new(Requests::default());
        let remote = Arc::new(RemoteStorage::new(Arc::clone(&requests), 10_000));
        let waiting = {
            let remote = Arc::clone(&remote);
            std::thread::spawn(move || remote.sync("000001.wal"))
        };
        while !requests.pending() {
            std::thread::yield_now();
        }
        let started = crate::clock::now_ms();
        requests.close();
        let err = waiting.join().expect("thread").expect_err("closed");
        assert!(err.to_string().contains("closed them"), "{err}");
        assert!(crate::clock::now_ms() - started < 1_000.0);
        assert!(remote.list().is_err());
    }

    #[test]
    fn a_thread_waiting_for_another_serves_its_own_queue_meanwhile() {
        // The owner waits (a Stall) for a thread that waits for the owner's I/O.
        let requests = Arc::new(Requests::default());
        let files: Arc<dyn Storage> = Arc::new(MemStorage::default());
        let flag = Arc::new(AtomicUsize::new(0));
        let other = {
            let remote = RemoteStorage::new(Arc::clone(&requests), 2_000);
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || {
                remote
                    .create("a")
                    .expect("create through the waiting owner");
                flag.store(1, Ordering::Release);
            })
        };
        serve_from_here(7, Arc::clone(&requests), files.clone());
        let mut stall = crate::sync::stall::Stall::new(2_000);
        while flag.load(Ordering::Acquire) == 0 {
            stall.wait("the test").expect("the other thread finished");
        }
        other.join().expect("thread");
        stop_serving(7);
        assert_eq!(files.list().expect("list"), ["a"]);
        assert!(RemoteStorage::new(requests, 2_000).list().is_err());
    }

    /// Files as a browser store's threads see them: the owner's own on the owner's
    /// thread, the queue to it on every other thread (as `JsStorage` picks).
    struct PerThread {
        owner: std::thread::ThreadId,
        files: Arc<dyn Storage>,
        remote: RemoteStorage,
        /// Appends and syncs asked for by other threads.
        remote_writes: AtomicUsize,
    }

    impl PerThread {
        fn here(&self) -> &dyn Storage {
            if std::thread::current().id() == self.owner {
                &*self.files
            } else {
                &self.remote
            }
        }

        fn count_remote(&self) {
            if std::thread::current().id() != self.owner {
                self.remote_writes.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    impl Storage for PerThread {
        fn create(&self, name: &str) -> Result<()> {
            self.here().create(name)
        }
        fn append(&self, name: &str, data: &[u8]) -> Result<()> {
            self.count_remote();
            self.here().append(name, data)
        }
        fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
            self.here().read_at(name, offset, buf)
        }
        fn len(&self, name: &str) -> Result<u64> {
            self.here().len(name)
        }
        fn sync(&self, name: &str) -> Result<()> {
            self.count_remote();
            self.here().sync(name)
        }
        fn truncate(&self, name: &str, len: u64) -> Result<()> {
            self.here().truncate(name, len)
        }
        fn delete(&self, name: &str) -> Result<()> {
            self.here().delete(name)
        }
        fn list(&self) -> Result<Vec<String>> {
            self.here().list()
        }
        fn rename(&self, from: &str, to: &str) -> Result<()> {
            self.here().rename(from, to)
        }
        fn owned_here(&self) -> bool {
            self.here().owned_here()
        }
        fn at_owner(&self, work: OwnerWork) -> Result<bool> {
            self.here().at_owner(work)
        }
    }

    #[test]
    fn threads_without_the_files_sync_the_log_through_the_owner() {
        use crate::wal::format::frame;
        use crate::wal::log::Log;
        use crate::wal::reader::{LogEvent, LogReader};
        use crate::wal::segment::Segment;

        let requests = Arc::new(Requests::default());
        let files: Arc<dyn Storage> = Arc::new(MemStorage::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (owner_id_tx, owner_id) = std::sync::mpsc::channel();
        let owner = {
            let (requests, files, stop) = (requests.clone(), files.clone(), stop.clone());
            std::thread::spawn(move || {
                owner_id_tx.send(std::thread::current().id()).expect("send");
                while !stop.load(Ordering::Acquire) {
                    requests.serve(&*files);
                    std::thread::yield_now();
                }
            })
        };
        let storage = Arc::new(PerThread {
            owner: owner_id.recv().expect("owner"),
            files: files.clone(),
            remote: RemoteStorage::new(requests.clone(), 2_000),
            remote_writes: AtomicUsize::new(0),
        });
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let log = Log::new(storage.clone(), metrics);
        let segment = Arc::new(Segment::new(1, 0, true));
        log.create_file(&segment).expect("create");
        log.add_segment(Arc::clone(&segment));
        // Records are published in order (the engine's publisher does that); syncs overlap.
        let publishing = Arc::new(std::sync::Mutex::new(()));
        let writers: Vec<_> = (0..4u8)
            .map(|t| {
                let (log, segment) = (Arc::clone(&log), Arc::clone(&segment));
                let publishing = Arc::clone(&publishing);
                std::thread::spawn(move || {
                    for i in 0..50u8 {
                        let payload = [t, i];
                        let slot = {
                            let _in_order = publishing.lock().expect("publishing");
                            let slot = segment.reserve(1, payload.len()).expect("room");
                            let mut framed = Vec::new();
                            frame(slot.offset, &payload, &mut framed);
                            segment.write(&slot, &framed);
                            segment.publish(slot.end);
                            slot
                        };
                        log.sync_to(&segment, slot.end, 2_000).expect("synced");
                        assert!(segment.synced() >= slot.end);
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer");
        }
        stop.store(true, Ordering::Release);
        owner.join().expect("owner");
        log.check().expect("not poisoned");
        let data = files.read_all("000001.wal").expect("read");
        let mut records: Vec<Vec<u8>> = LogReader::new(&data)
            .map(|e| match e {
                LogEvent::Record { data, .. } => data,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        records.sort();
        let mut expected: Vec<Vec<u8>> = (0..4u8)
            .flat_map(|t| (0..50u8).map(move |i| vec![t, i]))
            .collect();
        expected.sort();
        assert_eq!(
            records, expected,
            "every synced record, in the owner's file"
        );
        assert_eq!(
            storage.remote_writes.load(Ordering::Relaxed),
            0,
            "the owner flushed: no writer appended or synced through the queue"
        );
    }
}
