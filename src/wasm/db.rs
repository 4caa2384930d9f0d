//! `DbHandle`: one JS object per open handle to a store.

use super::error::{js, to_js, JsResult};
use super::iter::IterHandle;
use crate::sync::SpinLock;
use crate::{Db, Error, Options, ScanOptions, WeakDb, WriteBatch};
use wasm_bindgen::prelude::*;

/// Stores shared with other threads, by id. Only the threaded build has other threads; a
/// spin lock because the browser main thread must not park.
static SHARED: SpinLock<Vec<(u32, WeakDb)>> = SpinLock::new(Vec::new());
static NEXT_SHARE_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// A handle to a store, as JS holds it.
#[wasm_bindgen]
pub struct DbHandle {
    db: Option<Db>,
}

/// Puts and deletes collected on the JS side, applied atomically by `DbHandle.write`.
#[wasm_bindgen]
#[derive(Default)]
pub struct BatchHandle {
    batch: WriteBatch,
}

#[wasm_bindgen]
impl BatchHandle {
    /// An empty batch.
    #[wasm_bindgen(constructor)]
    pub fn new() -> BatchHandle {
        BatchHandle::default()
    }

    /// Adds a put.
    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.batch.put(key, value);
    }

    /// Adds a delete.
    pub fn del(&mut self, key: &[u8]) {
        self.batch.delete(key);
    }

    /// Number of operations.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.batch.len()
    }
}

#[wasm_bindgen]
impl DbHandle {
    /// Opens an in-memory store. `max_key_size` / `max_value_size` of 0 keep the defaults.
    #[wasm_bindgen(js_name = openMemory)]
    pub fn open_memory(max_key_size: usize, max_value_size: usize) -> DbHandle {
        let mut options = Options::default();
        if max_key_size > 0 {
            options = options.max_key_size(max_key_size);
        }
        if max_value_size > 0 {
            options = options.max_value_size(max_value_size);
        }
        DbHandle {
            db: Some(Db::open_in_memory(options)),
        }
    }

    fn db(&self) -> JsResult<&Db> {
        self.db.as_ref().ok_or_else(|| to_js(Error::Closed))
    }

    /// Sets `key` to `value`.
    pub fn put(&self, key: &[u8], value: &[u8]) -> JsResult<()> {
        js(self.db()?.put(key, value))
    }

    /// The value of `key`, or `undefined`.
    pub fn get(&self, key: &[u8]) -> JsResult<Option<Vec<u8>>> {
        js(self.db()?.get(key))
    }

    /// Removes `key`.
    pub fn del(&self, key: &[u8]) -> JsResult<()> {
        js(self.db()?.delete(key))
    }

    /// Applies a batch atomically.
    pub fn write(&self, batch: &BatchHandle) -> JsResult<()> {
        js(self.db()?.write(&batch.batch))
    }

    /// An iterator over a range. `undefined` bounds are open; a prefix narrows the range.
    #[allow(clippy::too_many_arguments)]
    pub fn iterator(
        &self,
        gt: Option<Vec<u8>>,
        gte: Option<Vec<u8>>,
        lt: Option<Vec<u8>>,
        lte: Option<Vec<u8>>,
        prefix: Option<Vec<u8>>,
        reverse: bool,
        limit: Option<u32>,
    ) -> JsResult<IterHandle> {
        let mut options = ScanOptions::all().reverse(reverse);
        if let Some(k) = gt {
            options = options.gt(&k);
        }
        if let Some(k) = gte {
            options = options.gte(&k);
        }
        if let Some(k) = lt {
            options = options.lt(&k);
        }
        if let Some(k) = lte {
            options = options.lte(&k);
        }
        if let Some(p) = prefix {
            options = options.with_prefix(&p);
        }
        if let Some(limit) = limit {
            options = options.limit(limit as usize);
        }
        Ok(IterHandle::new(js(self.db()?.scan(options))?))
    }

    /// Sizes and counts: `{ memtableEntries, memtableBytes, dataBytes, sequence }`.
    pub fn stats(&self) -> JsResult<js_sys::Object> {
        let stats = self.db()?.stats();
        let out = js_sys::Object::new();
        let fields = [
            ("memtableEntries", stats.memtable_entries as f64),
            ("memtableBytes", stats.memtable_bytes as f64),
            ("dataBytes", stats.data_bytes as f64),
            ("sequence", stats.sequence as f64),
        ];
        for (name, value) in fields {
            // Setting a property on a fresh plain object cannot fail.
            let _ = js_sys::Reflect::set(&out, &name.into(), &value.into());
        }
        Ok(out)
    }

    /// Closes this handle. The store itself lives on while other handles (other threads)
    /// hold it.
    pub fn close(&mut self) {
        self.db = None;
    }

    /// The longest key this store accepts, in bytes (0 once closed).
    #[wasm_bindgen(getter, js_name = maxKeySize)]
    pub fn max_key_size(&self) -> usize {
        self.db.as_ref().map_or(0, |db| db.options().max_key_size)
    }

    /// The longest value this store accepts, in bytes (0 once closed).
    #[wasm_bindgen(getter, js_name = maxValueSize)]
    pub fn max_value_size(&self) -> usize {
        self.db.as_ref().map_or(0, |db| db.options().max_value_size)
    }

    /// True once `close` was called.
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.db.is_none()
    }

    /// Registers the store for `attach` from other threads of this module; returns the id.
    /// Only the threaded build has other threads.
    pub fn share(&self) -> JsResult<u32> {
        if !cfg!(target_feature = "atomics") {
            return Err(to_js(Error::Unsupported(
                "share() needs the threaded build (shared memory)".into(),
            )));
        }
        let db = self.db()?;
        let mut shared = SHARED.lock();
        shared.retain(|(_, weak)| weak.upgrade().is_some());
        if let Some((id, _)) = shared.iter().find(|(_, weak)| {
            weak.upgrade()
                .is_some_and(|d| d.identity() == db.identity())
        }) {
            return Ok(*id);
        }
        let id = NEXT_SHARE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        shared.push((id, db.downgrade()));
        Ok(id)
    }

    /// A new handle to a store shared by `share` (on any thread of this module).
    pub fn attach(id: u32) -> JsResult<DbHandle> {
        let shared = SHARED.lock();
        let db = shared
            .iter()
            .find(|(shared_id, _)| *shared_id == id)
            .and_then(|(_, weak)| weak.upgrade());
        match db {
            Some(db) => Ok(DbHandle { db: Some(db) }),
            None => Err(to_js(Error::Closed)),
        }
    }
}
