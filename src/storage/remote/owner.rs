//! The owner's side: the queues a thread serves, and serving them while it waits.

use super::{within_hold, Requests};
use crate::storage::Storage;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

thread_local! {
    /// The queues this thread serves, by storage id, with its files for each.
    static SERVED: RefCell<Vec<Served>> = const { RefCell::new(Vec::new()) };
    /// True while this thread serves (a served call that waits does not serve again).
    static SERVING: Cell<bool> = const { Cell::new(false) };
    /// When this thread last entered an engine call of its own (`clock::now_ms`).
    static CALLED_MS: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
}

/// True while this thread is busy with engine calls of its own (it entered one within the
/// last [`HOLD_SYNC_MS`]): a flush of its own is likely soon, so its event loop too may
/// hold the log syncs just posted (see `Requests::serve`).
pub fn busy_here() -> bool {
    within_hold(CALLED_MS.with(Cell::get), crate::clock::now_ms())
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
/// wait for another thread, which may be waiting for this one's I/O, and after each of
/// its log flushes.
pub fn serve_waiting() -> usize {
    serve(false)
}

/// Serves the requests waiting for this thread as it enters an engine call of its own
/// (code that awaits call after call may never give its event loop a task): all but the
/// log syncs just posted that no flush covered yet, which its own next flush likely will
/// (see `Requests::serve`).
pub fn serve_while_busy() -> usize {
    serve(true)
}

fn serve(hold_syncs: bool) -> usize {
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
        if hold_syncs {
            CALLED_MS.with(|called| called.set(crate::clock::now_ms()));
        }
        SERVING.with(|s| s.set(true));
        let count = served
            .iter()
            .map(|queue| queue.requests.serve(&*queue.files, hold_syncs))
            .sum();
        SERVING.with(|s| s.set(false));
        count
    })
}
