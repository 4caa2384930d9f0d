//! Storage backed by a JS object with synchronous file methods (the package implements it
//! on Node's `fs`, which Deno and Bun provide too).
//!
//! JS objects belong to the thread that made them, so the Rust side holds only an id and
//! looks the object up in a per-thread table: every thread that uses the store (the opener,
//! and each worker that attaches) registers its own object for the same id. The JS object
//! throws errors carrying `ppdbCode` (`NOT_FOUND`, `QUOTA_EXCEEDED`, `IO`, ...).
//!
//! A thread with no object for the id (a worker attached to a browser store, whose OPFS
//! handles cannot leave the thread that opened them) sends its calls to the thread that
//! owns the files instead (`super::remote`), once the owner serves them (`serve_here`).
//!
//! The object's methods: `create(name)`, `append(name, bytes)`, `read(name, offset, into)`
//! filling the `Uint8Array` `into` (a view of wasm memory, where the bytes are wanted) from
//! `offset` and returning how many bytes it read, `size(name)`, `sync(name)`,
//! `truncate(name, len)`, `remove(name)`, `list()` returning an array of names,
//! `rename(from, to)`.

#[cfg(target_feature = "atomics")]
use super::remote::{RemoteStorage, Requests};
use super::Storage;
use crate::error::{Error, Result};
#[cfg(target_feature = "atomics")]
use crate::sync::SpinLock;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(target_feature = "atomics")]
use std::sync::Arc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The JS object that does the file operations.
    pub type JsFiles;
    #[wasm_bindgen(method, catch)]
    fn create(this: &JsFiles, name: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn append(this: &JsFiles, name: &str, data: &[u8]) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn read(
        this: &JsFiles,
        name: &str,
        offset: f64,
        into: &mut [u8],
    ) -> std::result::Result<f64, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn size(this: &JsFiles, name: &str) -> std::result::Result<f64, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn sync(this: &JsFiles, name: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn truncate(this: &JsFiles, name: &str, len: f64) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn remove(this: &JsFiles, name: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn list(this: &JsFiles) -> std::result::Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn rename(this: &JsFiles, from: &str, to: &str) -> std::result::Result<(), JsValue>;
}

thread_local! {
    static FILES: RefCell<HashMap<u32, JsFiles>> = RefCell::new(HashMap::new());
}
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Registers this thread's object for a new storage; returns the storage id.
pub fn register_new(files: JsFiles) -> u32 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    register(id, files);
    id
}

/// Registers this thread's object for storage `id` (a worker joining a shared store).
pub fn register(id: u32, files: JsFiles) {
    FILES.with(|map| map.borrow_mut().insert(id, files));
}

/// Forgets this thread's object for storage `id` (and stops answering other threads'
/// calls to it: they fail with `IO` from now on).
pub fn unregister(id: u32) {
    #[cfg(target_feature = "atomics")]
    super::remote::stop_serving(id);
    FILES.with(|map| map.borrow_mut().remove(&id));
}

/// The request queues of the storages alive, by id (see `serve_here`). Only the threaded
/// build has other threads to queue calls: the single-threaded one leaves this code out.
#[cfg(target_feature = "atomics")]
static QUEUES: SpinLock<Vec<(u32, Arc<Requests>)>> = SpinLock::new(Vec::new());

/// The request queue of storage `id`, if it is open.
#[cfg(target_feature = "atomics")]
fn queue(id: u32) -> Option<Arc<Requests>> {
    QUEUES
        .lock()
        .iter()
        .find(|(queue_id, _)| *queue_id == id)
        .map(|(_, requests)| Arc::clone(requests))
}

/// Makes this thread the owner of storage `id`'s files for every other thread: their calls
/// are answered here. Returns the address of the word to wait on for them (the
/// doorbell), or an error if no storage `id` is open.
#[cfg(target_feature = "atomics")]
pub fn serve_here(id: u32) -> Result<u32> {
    let requests = queue(id).ok_or_else(|| Error::NotFound(format!("no open storage {id}")))?;
    let doorbell = requests.doorbell().as_ptr() as u32;
    super::remote::serve_from_here(id, requests, Arc::new(Local(id)));
    Ok(doorbell)
}

/// The owner of storage `id` is gone (it died: nothing closed its queue): every call
/// waiting for it, and every later one, fails with `IO` at once instead of waiting out
/// the stall limit.
#[cfg(target_feature = "atomics")]
pub fn owner_gone(id: u32) {
    if let Some(requests) = queue(id) {
        requests.close();
    }
}

/// Runs the calls other threads sent to storage `id`, owned here; returns how many still
/// wait: log syncs held for this thread's own next flush while it is busy with calls of
/// its own (`remote::busy_here`), to be served within `remote::HOLD_SYNC_MS`.
#[cfg(target_feature = "atomics")]
pub fn serve(id: u32) -> u32 {
    queue(id).map_or(0, |requests| {
        requests.serve(&Local(id), super::remote::busy_here());
        requests.waiting()
    })
}

/// A storage whose files a JS object handles: this thread's, or else the owner's.
pub struct JsStorage {
    local: Local,
    #[cfg(target_feature = "atomics")]
    remote: Remote,
}

impl JsStorage {
    /// The storage registered (on this and possibly other threads) under `id`; a thread
    /// without an object for it waits up to `limit_ms` for the owner to take each call.
    pub fn new(id: u32, limit_ms: u64) -> JsStorage {
        #[cfg(not(target_feature = "atomics"))]
        let _ = limit_ms;
        JsStorage {
            local: Local(id),
            #[cfg(target_feature = "atomics")]
            remote: Remote::new(id, limit_ms),
        }
    }

    /// This thread's files, or else the owner's.
    fn files(&self) -> &dyn Storage {
        #[cfg(target_feature = "atomics")]
        if !FILES.with(|map| map.borrow().contains_key(&self.local.0)) {
            return &self.remote.storage;
        }
        &self.local
    }
}

/// The way to the owner's files, for a thread without its own (threaded build).
#[cfg(target_feature = "atomics")]
struct Remote {
    storage: RemoteStorage,
    requests: Arc<Requests>,
}

#[cfg(target_feature = "atomics")]
impl Remote {
    fn new(id: u32, limit_ms: u64) -> Remote {
        let requests = Arc::new(Requests::default());
        QUEUES.lock().push((id, Arc::clone(&requests)));
        Remote {
            storage: RemoteStorage::new(Arc::clone(&requests), limit_ms),
            requests,
        }
    }
}

#[cfg(target_feature = "atomics")]
impl Drop for Remote {
    fn drop(&mut self) {
        self.requests.close();
        QUEUES
            .lock()
            .retain(|(_, requests)| !Arc::ptr_eq(requests, &self.requests));
    }
}

/// Storage `id` through this thread's own JS object.
struct Local(u32);

impl Local {
    fn call<T>(
        &self,
        what: &str,
        f: impl FnOnce(&JsFiles) -> std::result::Result<T, JsValue>,
    ) -> Result<T> {
        FILES.with(|map| {
            let map = map.borrow();
            let files = map.get(&self.0).ok_or_else(|| {
                Error::Unsupported("this thread has no access to the store's files".into())
            })?;
            f(files).map_err(|err| to_error(what, &err))
        })
    }
}

fn to_error(what: &str, err: &JsValue) -> Error {
    let field = |name: &str| {
        js_sys::Reflect::get(err, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let message = format!(
        "{what}: {}",
        field("message").unwrap_or_else(|| format!("{err:?}"))
    );
    match field("ppdbCode").as_deref() {
        Some("NOT_FOUND") => Error::NotFound(message),
        Some("QUOTA_EXCEEDED") => Error::QuotaExceeded(message),
        Some("LOCKED") => Error::Locked(message),
        _ => Error::Io(message),
    }
}

impl Storage for Local {
    fn create(&self, name: &str) -> Result<()> {
        self.call(name, |f| f.create(name))
    }
    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        self.call(name, |f| f.append(name, data))
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        // Straight into `buf`: no buffer made in JS, no copy.
        let read = self.call(name, |f| f.read(name, offset as f64, buf))?;
        Ok((read as usize).min(buf.len()))
    }
    fn len(&self, name: &str) -> Result<u64> {
        self.call(name, |f| f.size(name)).map(|n| n as u64)
    }
    fn sync(&self, name: &str) -> Result<()> {
        self.call(name, |f| f.sync(name))
    }
    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        self.call(name, |f| f.truncate(name, len as f64))
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.call(name, |f| f.remove(name))
    }
    fn list(&self) -> Result<Vec<String>> {
        let names = self.call("list", |f| f.list())?;
        Ok(names.iter().filter_map(|v| v.as_string()).collect())
    }
    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.call(from, |f| f.rename(from, to))
    }
}

impl Storage for JsStorage {
    fn create(&self, name: &str) -> Result<()> {
        self.files().create(name)
    }
    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        self.files().append(name, data)
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.files().read_at(name, offset, buf)
    }
    fn len(&self, name: &str) -> Result<u64> {
        self.files().len(name)
    }
    fn sync(&self, name: &str) -> Result<()> {
        self.files().sync(name)
    }
    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        self.files().truncate(name, len)
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.files().delete(name)
    }
    fn list(&self) -> Result<Vec<String>> {
        self.files().list()
    }
    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.files().rename(from, to)
    }
    fn owned_here(&self) -> bool {
        self.files().owned_here()
    }
    fn at_owner(&self, work: super::OwnerWork) -> Result<bool> {
        self.files().at_owner(work)
    }
}
