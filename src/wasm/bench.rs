//! Benchmark entry points for `npm run bench` (hidden from the package's types): the same
//! workloads as the native benchmark, run inside wasm, on memtables shared between threads.

use crate::bench;
use crate::memtable::Memtable;
use crate::sync::SpinLock;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

static MEMTABLES: SpinLock<Vec<Option<Arc<Memtable>>>> = SpinLock::new(Vec::new());

fn memtable(id: u32) -> Result<Arc<Memtable>, JsValue> {
    MEMTABLES
        .lock()
        .get(id as usize)
        .cloned()
        .flatten()
        .ok_or_else(|| JsValue::from_str("no such bench memtable"))
}

/// Creates a memtable for benchmarking; returns its id.
#[wasm_bindgen(js_name = benchMemtableNew)]
pub fn bench_memtable_new() -> u32 {
    let mut all = MEMTABLES.lock();
    all.push(Some(Arc::new(Memtable::new(1 << 20))));
    (all.len() - 1) as u32
}

/// Inserts entries `start..end`.
#[wasm_bindgen(js_name = benchMemtableFill)]
pub fn bench_memtable_fill(id: u32, start: f64, end: f64) -> Result<(), JsValue> {
    bench::fill(&*memtable(id)?, start as u64, end as u64);
    Ok(())
}

/// Looks up `n` keys; returns how many were found.
#[wasm_bindgen(js_name = benchMemtableGet)]
pub fn bench_memtable_get(id: u32, n: f64) -> Result<f64, JsValue> {
    Ok(bench::get(&*memtable(id)?, n as u64) as f64)
}

/// Scans every entry; returns the count.
#[wasm_bindgen(js_name = benchMemtableScan)]
pub fn bench_memtable_scan(id: u32) -> Result<f64, JsValue> {
    Ok(bench::scan(&memtable(id)?) as f64)
}

/// `[memory bytes, key+value bytes, entries]` of a memtable.
#[wasm_bindgen(js_name = benchMemtableSize)]
pub fn bench_memtable_size(id: u32) -> Result<Vec<f64>, JsValue> {
    let m = memtable(id)?;
    Ok(vec![
        m.memory_usage() as f64,
        m.data_bytes() as f64,
        m.len() as f64,
    ])
}

/// Frees a memtable.
#[wasm_bindgen(js_name = benchMemtableFree)]
pub fn bench_memtable_free(id: u32) {
    if let Some(slot) = MEMTABLES.lock().get_mut(id as usize) {
        *slot = None;
    }
}
