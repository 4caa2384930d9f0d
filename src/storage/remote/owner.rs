//! The owner's side: the queues a thread serves, and serving them while it waits.

use super::Requests;
use crate::storage::Storage;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

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
