//! The layouts data crosses the JS/wasm boundary in, one buffer per call and direction
//! (`docs/format.md`, "The JS boundary"): a write batch in the log's own batch format (also
//! `getMany`'s keys), `getMany`'s values, and pages of scanned entries. Integers are `u32`
//! little-endian.

use super::error::{to_js, JsResult};
use crate::{Error, WriteBatch};

/// Marks an absent value in a packed `getMany` answer.
const ABSENT: u32 = u32::MAX;

/// A batch the package encoded; malformed bytes are the caller's mistake, not damage.
pub(super) fn batch(encoded: Vec<u8>) -> JsResult<WriteBatch> {
    WriteBatch::from_vec(encoded).map_err(|err| {
        to_js(Error::invalid(format!(
            "the encoded batch is malformed: {err}"
        )))
    })
}

/// `getMany` over keys packed as a batch of deletes (the write batch format, one delete per
/// key, in order: the package encodes them as it encodes a batch): the values packed as
/// `len: u32, bytes` each, `len` `0xffffffff` (and no bytes) for an absent key.
pub(super) fn get_many(
    keys: Vec<u8>,
    get: impl Fn(&[u8]) -> crate::Result<Option<Vec<u8>>>,
) -> JsResult<Vec<u8>> {
    let keys = batch(keys)?;
    let mut out = Vec::new();
    for op in keys.iter() {
        // (Checked whole when parsed above.)
        match get(op.map_err(to_js)?.key()).map_err(to_js)? {
            Some(value) => {
                out.extend_from_slice(&(value.len() as u32).to_le_bytes());
                out.extend_from_slice(&value);
            }
            None => out.extend_from_slice(&ABSENT.to_le_bytes()),
        }
    }
    Ok(out)
}

/// Set in a page's length field when the bytes it measures are not all ASCII, so the
/// package can take ASCII keys and values out of one decoded string (lengths stay far
/// below 2^31: keys are at most 64 KiB, values 256 MiB).
const NOT_ASCII: u32 = 1 << 31;

/// A page length field: the length of `bytes`, with [`NOT_ASCII`] if they are not ASCII.
fn length_field(bytes: &[u8]) -> [u8; 4] {
    let flag = if bytes.is_ascii() { 0 } else { NOT_ASCII };
    (bytes.len() as u32 | flag).to_le_bytes()
}

/// A page of scanned entries: `key_len: u32, value_len: u32, key, value` each (with only
/// the keys: `key_len: u32, key`); the top bit of a length is set when its bytes are not
/// all ASCII.
pub(super) struct Page {
    bytes: Vec<u8>,
    entries: usize,
    values: bool,
}

impl Page {
    pub(super) fn new() -> Page {
        Page {
            bytes: Vec::new(),
            entries: 0,
            values: true,
        }
    }

    /// Empties the page for the next one (keeping its buffer); `values` false: keys only.
    pub(super) fn reset(&mut self, values: bool) {
        self.bytes.clear();
        self.entries = 0;
        self.values = values;
    }

    pub(super) fn push(&mut self, key: &[u8], value: &[u8]) {
        self.bytes.extend_from_slice(&length_field(key));
        if self.values {
            self.bytes.extend_from_slice(&length_field(value));
        }
        self.bytes.extend_from_slice(key);
        if self.values {
            self.bytes.extend_from_slice(value);
        }
        self.entries += 1;
    }

    pub(super) fn len(&self) -> usize {
        self.entries
    }

    /// The page's bytes.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}
