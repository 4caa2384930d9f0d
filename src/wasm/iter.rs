//! `IterHandle`: a scan that JS pulls in pages, so one call crosses the boundary per page
//! rather than per entry, and JS reads the page where it lies in wasm memory.

use crate::DbIter;
use wasm_bindgen::prelude::*;

/// An open scan. Holds the data it reads alive until closed (JS frees it at its end).
#[wasm_bindgen]
pub struct IterHandle {
    iter: Option<DbIter>,
    /// The page last filled (its buffer reused from page to page).
    page: super::wire::Page,
}

impl IterHandle {
    pub(super) fn new(iter: DbIter) -> IterHandle {
        IterHandle {
            iter: Some(iter),
            page: super::wire::Page::new(),
        }
    }
}

#[wasm_bindgen]
impl IterHandle {
    /// Fills the next page of entries (see `wire::Page`): up to `max` entries or about
    /// `max_bytes`, whichever comes first; with `values` false only the keys. Returns its
    /// length in bytes (0 at the end); the bytes lie at `pagePointer()` until the next call
    /// or the handle is freed. Throws (`CORRUPTION`) if a damaged table ended the scan.
    #[wasm_bindgen(js_name = nextPage)]
    pub fn next_page(&mut self, max: u32, max_bytes: u32, values: bool) -> Result<u32, JsValue> {
        let page = &mut self.page;
        page.reset(values);
        if let Some(iter) = &mut self.iter {
            while page.len() < max.max(1) as usize && page.bytes().len() < max_bytes as usize {
                if iter.next_with(|key, value| page.push(key, value)).is_none() {
                    break;
                }
            }
            if let Err(err) = iter.status() {
                self.iter = None;
                return Err(super::error::to_js(err));
            }
        }
        Ok(page.bytes().len() as u32)
    }

    /// Where in wasm memory the page `nextPage` filled lies.
    #[wasm_bindgen(js_name = pagePointer)]
    pub fn page_pointer(&self) -> u32 {
        self.page.bytes().as_ptr() as u32
    }

    /// Moves the scan to `target` (see `DbIter::seek`), also once it has reached its end;
    /// `unread` entries of the pages read before were not used (they do not count toward
    /// the limit). Does nothing after an error or `close()`.
    pub fn seek(&mut self, target: &[u8], unread: u32) {
        if let Some(iter) = &mut self.iter {
            iter.unread(unread as usize);
            iter.seek(target);
        }
    }

    /// Releases the scan early.
    pub fn close(&mut self) {
        self.iter = None;
    }
}
