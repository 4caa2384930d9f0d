//! `IterHandle`: a scan that JS pulls in batches, so one call crosses the boundary per
//! batch rather than per entry.

use crate::DbIter;
use wasm_bindgen::prelude::*;

/// An open scan. Holds the data it reads alive until closed or exhausted.
#[wasm_bindgen]
pub struct IterHandle {
    iter: Option<DbIter>,
}

impl IterHandle {
    pub(super) fn new(iter: DbIter) -> IterHandle {
        IterHandle { iter: Some(iter) }
    }
}

#[wasm_bindgen]
impl IterHandle {
    /// Up to `max` entries as `[key0, value0, key1, value1, ...]` (`Uint8Array`s); an empty
    /// array at the end. Throws (`CORRUPTION`) if a damaged table ended the scan.
    #[wasm_bindgen(js_name = nextBatch)]
    pub fn next_batch(&mut self, max: u32) -> Result<js_sys::Array, JsValue> {
        let out = js_sys::Array::new();
        if let Some(iter) = &mut self.iter {
            for (key, value) in iter.by_ref().take(max.max(1) as usize) {
                out.push(&js_sys::Uint8Array::from(key.as_slice()));
                out.push(&js_sys::Uint8Array::from(value.as_slice()));
            }
            if let Err(err) = iter.status() {
                self.iter = None;
                return Err(super::error::to_js(err));
            }
            if out.length() == 0 {
                self.iter = None;
            }
        }
        Ok(out)
    }

    /// Releases the scan early.
    pub fn close(&mut self) {
        self.iter = None;
    }
}
