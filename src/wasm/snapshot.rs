//! `SnapshotHandle`: reads at one point in time, until JS closes it.

use super::db::scan_options;
use super::error::{js, to_js, JsResult};
use super::iter::IterHandle;
use crate::{Error, Snapshot};
use wasm_bindgen::prelude::*;

/// A snapshot as JS holds it. While open, compaction keeps the versions it reads.
#[wasm_bindgen]
pub struct SnapshotHandle {
    snapshot: Option<Snapshot>,
}

impl SnapshotHandle {
    pub(super) fn new(snapshot: Snapshot) -> SnapshotHandle {
        SnapshotHandle {
            snapshot: Some(snapshot),
        }
    }

    fn snapshot(&self) -> JsResult<&Snapshot> {
        self.snapshot.as_ref().ok_or_else(|| to_js(Error::Closed))
    }
}

#[wasm_bindgen]
impl SnapshotHandle {
    /// The value of `key` at the snapshot, or `undefined`.
    pub fn get(&self, key: &[u8]) -> JsResult<Option<Vec<u8>>> {
        js(self.snapshot()?.get(key))
    }

    /// The values of `keys` at the snapshot (packed as `DbHandle.getMany`).
    #[wasm_bindgen(js_name = getMany)]
    pub fn get_many(&self, keys: Vec<u8>) -> JsResult<Vec<u8>> {
        let snapshot = self.snapshot()?;
        super::wire::get_many(keys, |key| snapshot.get(key))
    }

    /// An iterator over a range at the snapshot (as `DbHandle.iterator`).
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
        Ok(IterHandle::new(js(self.snapshot()?.scan(options))?))
    }

    /// The sequence number the snapshot reads at, in decimal.
    #[wasm_bindgen(getter)]
    pub fn sequence(&self) -> JsResult<String> {
        Ok(self.snapshot()?.sequence().to_string())
    }

    /// Releases the snapshot; later reads through it throw `CLOSED`.
    pub fn close(&mut self) {
        self.snapshot = None;
    }
}
