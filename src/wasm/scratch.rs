//! The scratch region: a buffer of each thread's in wasm memory that single-key calls pass
//! their key and value through, so a `get`, `put` or `del` crosses the boundary with two
//! numbers and no allocation on either side. JS asks for its address (`scratchPointer`),
//! writes the key (and value) there (strings with `TextEncoder.encodeInto`), and calls
//! `getScratch(keyLength)` and the like, which answer with a number: a length, `-1` for an
//! absent key, or `-2` for an error, which `takeError()` then hands over. A value read is
//! left at the start of the region.
//!
//! The region moves only when `scratchPointer` is asked for more than it holds (or gives
//! back a large one), and a value read moves it only when it is longer than the region:
//! JS keeps the address between calls and asks again only then.

use super::db::DbHandle;
use super::error::to_js;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// A region that grew past this for one large value is given back at the next call.
const KEEP_BYTES: usize = 1 << 20;

/// The answer for an absent key.
const ABSENT: i32 = -1;
/// Keys up to this long are copied out of the region on the stack (`getScratch`).
const SHORT_KEY: usize = 64;
/// The answer for an error (see `takeError`).
const FAILED: i32 = -2;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static ERROR: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// The address of this thread's scratch region, at least `len` bytes long (valid until
/// the next call that uses the region).
#[wasm_bindgen(js_name = scratchPointer)]
pub fn scratch_pointer(len: u32) -> u32 {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let len = len as usize;
        if scratch.len() > KEEP_BYTES && len <= KEEP_BYTES {
            *scratch = Vec::new();
        }
        if scratch.len() < len {
            scratch.resize(len.next_power_of_two().max(64), 0);
        }
        scratch.as_ptr() as u32
    })
}

/// The error of the last call that answered `-2`.
#[wasm_bindgen(js_name = takeError)]
pub fn take_error() -> JsValue {
    ERROR
        .with(|e| e.borrow_mut().take())
        .unwrap_or(JsValue::UNDEFINED)
}

fn failed<T: From<i32>>(err: JsValue) -> T {
    ERROR.with(|e| *e.borrow_mut() = Some(err));
    T::from(FAILED)
}

/// Runs `f` on the region, which holds at least the `len` bytes JS wrote (it wrote within
/// what `scratchPointer` gave it; a region too short would mean it did not, and reads zeros).
fn with_region<T>(len: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.len() < len {
            scratch.resize(len, 0);
        }
        f(&mut scratch)
    })
}

impl DbHandle {
    /// Runs `f` on the store and the region (at least `len` bytes): its answer, or `-2`
    /// when the handle is closed.
    fn with_store<T: From<i32>>(
        &self,
        len: usize,
        f: impl FnOnce(&crate::Db, &mut Vec<u8>) -> T,
    ) -> T {
        match self.db() {
            Ok(db) => with_region(len, |region| f(db, region)),
            Err(err) => failed(err),
        }
    }
}

#[wasm_bindgen]
impl DbHandle {
    /// `get` of the key in the region's first `key_len` bytes: the value's length, its
    /// bytes left at the start of the region; `-1` absent; `-2` error.
    #[wasm_bindgen(js_name = getScratch)]
    pub fn get_scratch(&self, key_len: u32) -> i32 {
        self.with_store(key_len as usize, |db, region| {
            // The value goes where the key is: the key is copied out first (on the stack,
            // unless it is long), and the value copied in straight from the memtable.
            let k = key_len as usize;
            let mut short = [0u8; SHORT_KEY];
            let long;
            let key: &[u8] = if k <= SHORT_KEY {
                short[..k].copy_from_slice(&region[..k]);
                &short[..k]
            } else {
                long = region[..k].to_vec();
                &long
            };
            let mut answer = ABSENT;
            let read = db.get_with(key, &mut |value| {
                let Some(value) = value else {
                    return;
                };
                if value.len() > i32::MAX as usize {
                    answer = failed(to_js(crate::Error::invalid("the value is too large")));
                    return;
                }
                // The region keeps its length (JS writes within it): only ever grown.
                if value.len() > region.len() {
                    region.resize(value.len(), 0);
                }
                region[..value.len()].copy_from_slice(value);
                answer = value.len() as i32;
            });
            read.map_or_else(|err| failed(to_js(err)), |()| answer)
        })
    }

    /// `put` of the key in the region's first `key_len` bytes and the value in the
    /// `value_len` bytes after it: the write's sequence number, or `-2` for an error.
    #[wasm_bindgen(js_name = putScratch)]
    pub fn put_scratch(&self, key_len: u32, value_len: u32) -> f64 {
        let (k, v) = (key_len as usize, value_len as usize);
        self.with_store(k + v, |db, region| {
            match db.put(&region[..k], &region[k..k + v]) {
                Ok(seq) => seq as f64,
                Err(err) => failed(to_js(err)),
            }
        })
    }

    /// `del` of the key in the region's first `key_len` bytes: the write's sequence
    /// number, or `-2`.
    #[wasm_bindgen(js_name = delScratch)]
    pub fn del_scratch(&self, key_len: u32) -> f64 {
        self.with_store(key_len as usize, |db, region| {
            match db.delete(&region[..key_len as usize]) {
                Ok(seq) => seq as f64,
                Err(err) => failed(to_js(err)),
            }
        })
    }
}
