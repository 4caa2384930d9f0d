//! `IterHandle`: a scan that JS pulls in pages, so one call (and one buffer) crosses the
//! boundary per page rather than per entry.

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
    /// The next page of entries, one buffer (see `wire::Page`): up to `max` entries or
    /// about `max_bytes`, whichever comes first; with `values` false only the keys. An
    /// empty buffer at the end. Throws (`CORRUPTION`) if a damaged table ended the scan.
    #[wasm_bindgen(js_name = nextPage)]
    pub fn next_page(
        &mut self,
        max: u32,
        max_bytes: u32,
        values: bool,
    ) -> Result<Vec<u8>, JsValue> {
        let mut page = super::wire::Page::new(values);
        if let Some(iter) = &mut self.iter {
            while page.len() < max.max(1) as usize && page.bytes() < max_bytes as usize {
                let Some((key, value)) = iter.next() else {
                    break;
                };
                page.push(&key, &value);
            }
            if let Err(err) = iter.status() {
                self.iter = None;
                return Err(super::error::to_js(err));
            }
            if page.is_empty() {
                self.iter = None;
            }
        }
        Ok(page.into_bytes())
    }

    /// Releases the scan early.
    pub fn close(&mut self) {
        self.iter = None;
    }
}
