//! The queue and both its sides, with threads standing in for workers.

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
            served += requests.serve(&*files, false);
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
                let work = move || {
                    *record.lock() = Some(std::thread::current().id());
                    Ok(true)
                };
                let ran = remote.at_owner(OwnerWork::new(work, || true));
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
    assert_eq!(requests.serve(&files, false), 0);
    assert!(files.list().expect("list").is_empty());
}

/// Posts `work` from a new thread; returns its result once answered.
fn post_work(
    remote: &Arc<RemoteStorage>,
    work: OwnerWork,
) -> std::thread::JoinHandle<Result<bool>> {
    let remote = Arc::clone(remote);
    std::thread::spawn(move || remote.at_owner(work))
}

/// Waits until `requests` has `n` requests waiting, each in its slot (a post counts
/// itself before it takes a slot).
fn until_waiting(requests: &Requests, n: u32) {
    let started = crate::clock::now_ms();
    let posted = || {
        let slots = requests.slots.iter();
        slots
            .filter(|slot| !slot.load(Ordering::Acquire).is_null())
            .count()
    };
    while requests.waiting() != n || posted() != n as usize {
        assert!(
            crate::clock::now_ms() - started < 5_000.0,
            "{n} requests never waited"
        );
        std::thread::yield_now();
    }
}

#[test]
fn a_sync_a_flush_covered_is_answered_without_running_and_a_busy_owner_holds_a_young_one() {
    let requests = Arc::new(Requests::default());
    let remote = Arc::new(RemoteStorage::new(Arc::clone(&requests), 10_000));
    let files = MemStorage::default();
    let runs = Arc::new(AtomicUsize::new(0));
    let work = |needed: Arc<AtomicBool>| {
        let runs = Arc::clone(&runs);
        let run = move || {
            runs.fetch_add(1, Ordering::AcqRel);
            Ok(true)
        };
        OwnerWork::new(run, move || needed.load(Ordering::Acquire))
    };
    // A sync needed for as long as `needed` holds, posted: its answer, once it waits.
    let post = |needed: &Arc<AtomicBool>| {
        let answer = post_work(&remote, work(Arc::clone(needed)));
        until_waiting(&requests, 1);
        answer
    };

    // Covered before the owner took it: answered, never run.
    let covered = Arc::new(AtomicBool::new(true));
    let answer = post(&covered);
    covered.store(false, Ordering::Release);
    assert_eq!(requests.serve(&files, true), 1);
    assert!(answer.join().expect("joined").expect("answered"));
    assert_eq!(runs.load(Ordering::Acquire), 0);

    // Not covered and just posted: a busy owner holds it (it stays queued), then a flush
    // covers it, and the next look answers it without running it.
    let needed = Arc::new(AtomicBool::new(true));
    let answer = post(&needed);
    // (As if no time had passed since it was posted.)
    assert_eq!(requests.serve_holding(&files, &|_| true), 0);
    assert_eq!(requests.waiting(), 1, "held");
    needed.store(false, Ordering::Release);
    assert_eq!(requests.serve_holding(&files, &|_| true), 1);
    assert!(answer.join().expect("joined").expect("answered"));
    assert_eq!(runs.load(Ordering::Acquire), 0);

    // Held, then older than the hold: run, even by a busy owner.
    let answer = post(&Arc::new(AtomicBool::new(true)));
    assert_eq!(requests.serve_holding(&files, &|_| true), 0);
    let later = crate::clock::now_ms() + HOLD_SYNC_MS;
    assert_eq!(
        requests.serve_holding(&files, &|posted| within_hold(posted, later)),
        1
    );
    assert!(answer.join().expect("joined").expect("answered"));
    assert_eq!(runs.load(Ordering::Acquire), 1);

    // The hold: under HOLD_SYNC_MS since it was posted, and nothing from a clock set back.
    assert!(within_hold(later, later + HOLD_SYNC_MS / 2.0));
    assert!(!within_hold(later, later + HOLD_SYNC_MS));
    assert!(!within_hold(later + 1_000.0, later), "a clock set back");

    // An owner that is not busy (or waits) runs it at once; other calls are never held.
    let answer = post(&Arc::new(AtomicBool::new(true)));
    assert_eq!(requests.serve(&files, false), 1);
    assert!(answer.join().expect("joined").expect("answered"));
    assert_eq!(runs.load(Ordering::Acquire), 2);
    let creating = {
        let remote = Arc::clone(&remote);
        std::thread::spawn(move || remote.create("000001.wal"))
    };
    until_waiting(&requests, 1);
    assert_eq!(requests.serve_holding(&files, &|_| true), 1);
    creating.join().expect("joined").expect("created");
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
                requests.serve(&*files, false);
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

/// A store whose files this thread owns, with the queue other threads reach them by.
fn owned_here(durability: crate::options::Durability) -> (Arc<Requests>, crate::Db) {
    let requests = Arc::new(Requests::default());
    let files: Arc<dyn Storage> = Arc::new(MemStorage::default());
    let storage = Arc::new(PerThread {
        owner: std::thread::current().id(),
        files,
        remote: RemoteStorage::new(Arc::clone(&requests), 2_000),
        remote_writes: AtomicUsize::new(0),
    });
    let options = crate::Options {
        background_work: false,
        durability,
        ..crate::Options::default()
    };
    (requests, crate::Db::open(storage, options).expect("open"))
}

/// `call(db)` on a thread that must not wait (as a browser page), answered here.
fn on_page<T: Send + 'static>(
    db: &crate::Db,
    call: impl FnOnce(crate::Db) -> T + Send + 'static,
) -> T {
    let db = db.clone();
    let page = std::thread::spawn(move || {
        crate::sync::stall::deny_sleep();
        call(db)
    });
    page.join().expect("page")
}

#[test]
fn a_thread_that_must_not_wait_reads_memtables_and_cached_blocks_and_never_posts() {
    let (requests, db) = owned_here(crate::options::Durability::Sync);
    for i in 0..100u32 {
        db.put(format!("table{i:03}").as_bytes(), &i.to_le_bytes())
            .expect("put");
    }
    db.compact().expect("to tables");
    db.put(b"memtable", b"here").expect("put");
    let err = on_page(&db, |db| {
        assert_eq!(
            db.get(b"memtable").expect("a memtable hit"),
            Some(b"here".to_vec())
        );
        assert_eq!(db.get(b"absent").expect("the filters say no"), None);
        db.get(b"table007").expect_err("a block not in the cache")
    });
    assert_eq!(err.code(), "WOULD_BLOCK", "{err}");
    assert!(!requests.pending(), "nothing was posted for the owner");
    // The owner reads the key: its block is cached, and then the page reads it too.
    assert_eq!(
        db.get(b"table007").expect("owner"),
        Some(7u32.to_le_bytes().to_vec())
    );
    let found = on_page(&db, |db| db.get(b"table007")).expect("a cached block");
    assert_eq!(found, Some(7u32.to_le_bytes().to_vec()));
}

#[test]
fn a_log_sync_a_thread_may_not_wait_for_is_refused_and_leaves_the_log_writable() {
    let (requests, db) = owned_here(crate::options::Durability::Relaxed);
    db.put(b"unsynced", b"1").expect("put");
    let err = on_page(&db, |db| db.flush()).expect_err("a sync needs the owner");
    assert_eq!(err.code(), "WOULD_BLOCK", "{err}");
    assert!(!requests.pending(), "nothing was posted for the owner");
    // Nothing was tried, so nothing is in doubt: the log is not poisoned.
    db.put(b"after", b"2").expect("a later write");
    db.flush().expect("the owner's sync");
    assert_eq!(db.get(b"unsynced").expect("get"), Some(b"1".to_vec()));
}
