//! `DbHandle`: one JS object per open handle to a store.

use super::error::{js, to_js, JsResult};
use super::iter::IterHandle;
use crate::sync::SpinLock;
use crate::{Db, Error, ScanOptions, WeakDb};
use wasm_bindgen::prelude::*;

/// A JS array of numbers.
fn numbers(values: impl Iterator<Item = f64>) -> js_sys::Array {
    values.map(JsValue::from).collect()
}

/// A plain JS object with these fields.
pub(super) fn object(fields: &[(&str, JsValue)]) -> js_sys::Object {
    let out = js_sys::Object::new();
    for (name, value) in fields {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&out, &(*name).into(), value);
    }
    out
}

/// Registers this thread's JS files object for a new storage; returns its id.
#[wasm_bindgen(js_name = registerFiles)]
pub fn register_files(files: crate::storage::js::JsFiles) -> u32 {
    crate::storage::js::register_new(files)
}

/// Registers this thread's JS files object for the storage `id` of a shared store.
#[wasm_bindgen(js_name = registerFilesAs)]
pub fn register_files_as(id: u32, files: crate::storage::js::JsFiles) {
    crate::storage::js::register(id, files);
}

/// Forgets this thread's files object for storage `id`.
#[wasm_bindgen(js_name = unregisterFiles)]
pub fn unregister_files(id: u32) {
    crate::storage::js::unregister(id);
}

/// Makes this thread the I/O owner of storage `id`: other threads' calls to its files
/// (workers attached to a browser store) are answered here. Returns the byte address, in
/// wasm memory, of the 32-bit word that changes whenever calls wait (for
/// `Atomics.waitAsync`); `serveFiles` then runs them. Threaded build only: the
/// single-threaded one has no other thread.
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = ownFiles)]
pub fn own_files(id: u32) -> JsResult<u32> {
    js(crate::storage::js::serve_here(id))
}

/// Runs the calls other threads sent to storage `id`, owned by this thread; returns how
/// many still wait (log syncs held for this thread's own next flush: serve again within
/// a millisecond). (Threaded build only, like `ownFiles`.)
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = serveFiles)]
pub fn serve_files(id: u32) -> u32 {
    crate::storage::js::serve(id)
}

/// Tells the engine that the owner of storage `id` is gone (the package learns it from the
/// owner's Web Lock): calls waiting for it fail with `IO` at once. (Threaded build only.)
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = ownerGone)]
pub fn owner_gone(id: u32) {
    crate::storage::js::owner_gone(id);
}

/// Stores shared with other threads, by id. Only the threaded build has other threads; a
/// spin lock because the browser main thread must not park.
static SHARED: SpinLock<Vec<(u32, WeakDb)>> = SpinLock::new(Vec::new());
static NEXT_SHARE_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// A handle to a store, as JS holds it.
#[wasm_bindgen]
pub struct DbHandle {
    db: Option<Db>,
    /// Alert rules and their state (see `setAlerts`).
    pub(super) monitor: crate::metrics::monitor::Monitor,
}

impl From<Db> for DbHandle {
    fn from(db: Db) -> DbHandle {
        DbHandle {
            db: Some(db),
            monitor: crate::metrics::monitor::Monitor::default(),
        }
    }
}

#[wasm_bindgen]
impl DbHandle {
    /// Opens an in-memory store. `options`: the open options (see `options::open_options`).
    #[wasm_bindgen(js_name = openMemory)]
    pub fn open_memory(options: JsValue) -> JsResult<DbHandle> {
        let options = js(super::options::open_options(&options))?;
        Ok(DbHandle::from(Db::open_in_memory(options)))
    }

    /// Opens the store whose files the JS object registered as `storage_id` handles
    /// (see `registerFiles`), replaying its log.
    #[wasm_bindgen(js_name = openStorage)]
    pub fn open_storage(storage_id: u32, options: JsValue) -> JsResult<DbHandle> {
        let options = js(super::options::open_options(&options))?;
        let storage = std::sync::Arc::new(crate::storage::js::JsStorage::new(
            storage_id,
            options.stall_timeout_ms,
        ));
        Ok(DbHandle::from(js(Db::open(storage, options))?))
    }

    /// Syncs every logged write to storage.
    pub fn flush(&self) -> JsResult<()> {
        js(self.db()?.flush())
    }

    /// A bounded step of background work (flushing a frozen memtable to a table, or
    /// compacting): about `budget` bytes of entries; true if there was some. The package
    /// calls it in short slices between other tasks.
    pub fn maintain(&self, budget: u32) -> JsResult<bool> {
        js(self.db()?.maintain_step(budget as usize))
    }

    /// Freezes the active memtable (if it holds anything) so the next maintenance steps
    /// write it to a table; `compact()` calls it first.
    #[wasm_bindgen(js_name = freezeMemtable)]
    pub fn freeze_memtable(&self) -> JsResult<()> {
        js(self.db()?.freeze_memtable())
    }

    /// True while a flush or compaction is pending.
    #[wasm_bindgen(js_name = needsMaintenance)]
    pub fn needs_maintenance(&self) -> JsResult<bool> {
        Ok(self.db()?.needs_maintenance())
    }

    /// How many tables level 0 holds now.
    #[wasm_bindgen(js_name = level0Tables)]
    pub fn level0_tables(&self) -> JsResult<u32> {
        Ok(self.db()?.level0_tables() as u32)
    }

    /// What recovery found on open: `{ segments, records, entries, bytes, millis,
    /// lastSequence, dropped: [{ file, offset, bytes, reason, tornTail }] }`.
    pub fn recovery(&self) -> JsResult<js_sys::Object> {
        let report = self.db()?.recovery().clone();
        let dropped = js_sys::Array::new();
        for d in &report.dropped {
            dropped.push(&object(&[
                ("file", d.file.as_str().into()),
                ("offset", (d.offset as f64).into()),
                ("bytes", (d.bytes as f64).into()),
                ("reason", d.reason.as_str().into()),
                ("tornTail", d.torn_tail.into()),
            ]));
        }
        Ok(object(&[
            ("segments", (report.segments as f64).into()),
            ("records", (report.records as f64).into()),
            ("entries", (report.entries as f64).into()),
            ("bytes", (report.bytes as f64).into()),
            ("millis", report.millis.into()),
            ("lastSequence", (report.last_sequence as f64).into()),
            ("dropped", dropped.into()),
        ]))
    }

    /// The store, for a call into it. A thread that owns files other threads use answers
    /// their waiting calls first (`storage::remote`): code that awaits call after call
    /// may not give its event loop a task, which is where it otherwise answers them.
    pub(super) fn db(&self) -> JsResult<&Db> {
        crate::storage::remote::serve_while_busy();
        self.db.as_ref().ok_or_else(|| to_js(Error::Closed))
    }

    /// Sets `key` to `value`; returns the write's sequence number.
    pub fn put(&self, key: &[u8], value: &[u8]) -> JsResult<f64> {
        js(self.db()?.put(key, value)).map(|seq| seq as f64)
    }

    /// The value of `key`, or `undefined`.
    pub fn get(&self, key: &[u8]) -> JsResult<Option<Vec<u8>>> {
        js(self.db()?.get(key))
    }

    /// Removes `key`; returns the write's sequence number.
    pub fn del(&self, key: &[u8]) -> JsResult<f64> {
        js(self.db()?.delete(key)).map(|seq| seq as f64)
    }

    /// Applies a batch atomically: `encoded` in the write batch format of
    /// `docs/format.md` (any sequence number; the engine assigns its own), built by the
    /// package in one buffer, so a batch of any size crosses the boundary in one call.
    /// Returns the sequence number of its first operation.
    pub fn write(&self, encoded: Vec<u8>) -> JsResult<f64> {
        js(self.db()?.write(&super::wire::batch(encoded)?)).map(|seq| seq as f64)
    }

    /// The sequence number of the last write readers see.
    #[wasm_bindgen(js_name = lastSequence)]
    pub fn last_sequence(&self) -> JsResult<f64> {
        Ok(self.db()?.last_sequence() as f64)
    }

    /// Every change committed after sequence `after`, in commit order, as one batch (the
    /// write batch format, its sequence `after + 1`); `undefined` when the memtables no
    /// longer hold them all.
    #[wasm_bindgen(js_name = changesSince)]
    pub fn changes_since(&self, after: f64) -> JsResult<Option<Vec<u8>>> {
        let after = after as u64;
        Ok(self
            .db()?
            .changes_since(after)
            .map(|batch| batch.encoded().to_vec()))
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
        let options = scan_options(gt, gte, lt, lte, prefix, reverse, limit);
        Ok(IterHandle::new(js(self.db()?.scan(options))?))
    }

    /// The values of `keys` (packed: see `wire::get_many`), read at one point in time, as
    /// one packed buffer.
    #[wasm_bindgen(js_name = getMany)]
    pub fn get_many(&self, keys: Vec<u8>) -> JsResult<Vec<u8>> {
        let snapshot = self.db()?.snapshot();
        super::wire::get_many(keys, |key| snapshot.get(key))
    }

    /// `{ value: Uint8Array, version: string }` for `key`, or `undefined`. The version
    /// (the sequence number of the write that set the value, in decimal) is what
    /// `writeIf` checks.
    #[wasm_bindgen(js_name = getWithVersion)]
    pub fn get_with_version(&self, key: &[u8]) -> JsResult<JsValue> {
        Ok(match js(self.db()?.get_with_version(key))? {
            Some((value, version)) => object(&[
                ("value", js_sys::Uint8Array::from(value.as_slice()).into()),
                ("version", version.to_string().into()),
            ])
            .into(),
            None => JsValue::UNDEFINED,
        })
    }

    /// Applies `batch` only if each key of `keys` is at the version at the same index of
    /// `versions` (a string from `getWithVersion`, or `null` for absent); otherwise
    /// throws `CONFLICT` and writes nothing. Returns what `write` does.
    #[wasm_bindgen(js_name = writeIf)]
    pub fn write_if(
        &self,
        encoded: Vec<u8>,
        keys: js_sys::Array,
        versions: js_sys::Array,
    ) -> JsResult<f64> {
        let batch = super::wire::batch(encoded)?;
        if keys.length() != versions.length() {
            return Err(to_js(Error::invalid(
                "each check needs a key and a version",
            )));
        }
        let mut checks = Vec::with_capacity(keys.length() as usize);
        for (key, version) in keys.iter().zip(versions.iter()) {
            let key = bytes_of(&key, "a check's key")?;
            let version = if version.is_null() || version.is_undefined() {
                None
            } else {
                let parsed = version.as_string().and_then(|v| v.parse::<u64>().ok());
                Some(parsed.ok_or_else(|| {
                    to_js(Error::invalid(
                        "a check's version must be a string from a read with versions, or null",
                    ))
                })?)
            };
            checks.push((key, version));
        }
        let checks: Vec<(&[u8], Option<u64>)> =
            checks.iter().map(|(k, v)| (k.as_slice(), *v)).collect();
        js(self.db()?.write_if(&checks, &batch)).map(|seq| seq as f64)
    }

    /// A snapshot: reads at this point in time until it is closed.
    pub fn snapshot(&self) -> JsResult<super::snapshot::SnapshotHandle> {
        Ok(super::snapshot::SnapshotHandle::new(self.db()?.snapshot()))
    }

    /// Sizes and counts: `{ memtableEntries, memtableBytes, dataBytes, frozenMemtables,
    /// sequence, unsyncedLogBytes }`.
    pub fn stats(&self) -> JsResult<js_sys::Object> {
        let stats = self.db()?.stats();
        Ok(object(&[
            ("memtableEntries", (stats.memtable_entries as f64).into()),
            ("memtableBytes", (stats.memtable_bytes as f64).into()),
            ("dataBytes", (stats.data_bytes as f64).into()),
            ("frozenMemtables", (stats.frozen_memtables as f64).into()),
            ("sequence", (stats.sequence as f64).into()),
            ("unsyncedLogBytes", (stats.unsynced_log_bytes as f64).into()),
            (
                "tablesPerLevel",
                numbers(stats.tables_per_level.iter().map(|&n| n as f64)).into(),
            ),
            (
                "tableBytesPerLevel",
                numbers(stats.table_bytes_per_level.iter().map(|&n| n as f64)).into(),
            ),
            ("cacheHits", (stats.cache.hits as f64).into()),
            ("cacheMisses", (stats.cache.misses as f64).into()),
            ("cacheBytes", (stats.cache.bytes as f64).into()),
            ("userBytes", (stats.user_bytes as f64).into()),
            ("flushedBytes", (stats.flushed_bytes as f64).into()),
            ("compactedBytes", (stats.compacted_bytes as f64).into()),
        ]))
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
            Some(db) => Ok(DbHandle::from(db)),
            None => Err(to_js(Error::Closed)),
        }
    }
}

/// Scan options from the bounds JS passes (`undefined` bounds are open).
pub(super) fn scan_options(
    gt: Option<Vec<u8>>,
    gte: Option<Vec<u8>>,
    lt: Option<Vec<u8>>,
    lte: Option<Vec<u8>>,
    prefix: Option<Vec<u8>>,
    reverse: bool,
    limit: Option<u32>,
) -> ScanOptions {
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
    options
}

/// The bytes of a JS `Uint8Array`, or an `INVALID_ARGUMENT` error naming `what`.
pub(super) fn bytes_of(value: &JsValue, what: &str) -> JsResult<Vec<u8>> {
    value
        .dyn_ref::<js_sys::Uint8Array>()
        .map(js_sys::Uint8Array::to_vec)
        .ok_or_else(|| to_js(Error::invalid(format!("{what} must be a Uint8Array"))))
}
