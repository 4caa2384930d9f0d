//! Storage backed by a JS object with synchronous file methods (the package implements it
//! on Node's `fs`, which Deno and Bun provide too).
//!
//! JS objects belong to the thread that made them, so the Rust side holds only an id and
//! looks the object up in a per-thread table: every thread that uses the store (the opener,
//! and each worker that attaches) registers its own object for the same id. The JS object
//! throws errors carrying `ppdbCode` (`NOT_FOUND`, `QUOTA_EXCEEDED`, `IO`, ...).
//!
//! The object's methods: `create(name)`, `append(name, bytes)`, `read(name, offset, len)`
//! returning a `Uint8Array`, `size(name)`, `sync(name)`, `truncate(name, len)`,
//! `remove(name)`, `list()` returning an array of names, `rename(from, to)`.

use super::Storage;
use crate::error::{Error, Result};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
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
        len: u32,
    ) -> std::result::Result<Vec<u8>, JsValue>;
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

/// Forgets this thread's object for storage `id`.
pub fn unregister(id: u32) {
    FILES.with(|map| map.borrow_mut().remove(&id));
}

/// A storage whose files a JS object handles, on whichever thread calls it.
pub struct JsStorage {
    id: u32,
}

impl JsStorage {
    /// The storage registered (on this and possibly other threads) under `id`.
    pub fn new(id: u32) -> JsStorage {
        JsStorage { id }
    }

    fn call<T>(
        &self,
        what: &str,
        f: impl FnOnce(&JsFiles) -> std::result::Result<T, JsValue>,
    ) -> Result<T> {
        FILES.with(|map| {
            let map = map.borrow();
            let files = map.get(&self.id).ok_or_else(|| {
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

impl Storage for JsStorage {
    fn create(&self, name: &str) -> Result<()> {
        self.call(name, |f| f.create(name))
    }
    fn append(&self, name: &str, data: &[u8]) -> Result<()> {
        self.call(name, |f| f.append(name, data))
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let data = self.call(name, |f| f.read(name, offset as f64, len))?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
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
