//! A write batch: puts and deletes applied atomically, and its encoding (the WAL payload).
//!
//! Encoding (LevelDB's): a 12-byte header, `sequence: u64 LE` (of the first entry) and
//! `count: u32 LE`, then `count` records, each `kind: u8` (1 put, 0 delete),
//! `key_len: varint32`, `key`, and for puts `value_len: varint32`, `value`.

use crate::error::{Error, Result};
use crate::key::{SequenceNumber, ValueKind};
use integer_encoding::{VarInt, VarIntWriter};
use std::cell::RefCell;

const HEADER_LEN: usize = 12;

/// Puts and deletes that a store applies all together or not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteBatch {
    rep: Vec<u8>,
}

/// One operation of a batch, borrowed from its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOp<'a> {
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: &'a [u8],
        /// The value.
        value: &'a [u8],
    },
    /// Remove `key`.
    Delete {
        /// The key.
        key: &'a [u8],
    },
}

impl BatchOp<'_> {
    /// The key the operation writes.
    pub fn key(&self) -> &[u8] {
        match self {
            BatchOp::Put { key, .. } | BatchOp::Delete { key } => key,
        }
    }

    /// The kind of entry it makes.
    pub fn kind(&self) -> ValueKind {
        match self {
            BatchOp::Put { .. } => ValueKind::Put,
            BatchOp::Delete { .. } => ValueKind::Delete,
        }
    }

    /// The value written (empty for a delete).
    pub fn value(&self) -> &[u8] {
        match self {
            BatchOp::Put { value, .. } => value,
            BatchOp::Delete { .. } => &[],
        }
    }
}

impl Default for WriteBatch {
    fn default() -> WriteBatch {
        WriteBatch::new()
    }
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch {
            rep: vec![0; HEADER_LEN],
        }
    }

    /// Calls `write` with a batch of the one operation `kind` of `key` (and `value`, for a
    /// put), and returns what it returns. Where threads run (natively, the threaded wasm
    /// build) the batch is this thread's, reused: a single put or delete allocates nothing
    /// (natively, allocators share state between threads; the threaded wasm build's
    /// allocator has a heap per thread, but a block freed on another thread still goes
    /// back through its owner's list). A batch grown past 64 KiB is let go after use.
    pub(crate) fn with_single<R>(
        kind: ValueKind,
        key: &[u8],
        value: Option<&[u8]>,
        write: impl FnOnce(&WriteBatch) -> R,
    ) -> R {
        // (The single-threaded wasm build has no other thread to contend with: one
        // allocation of the right size, and less code to download.)
        if cfg!(all(target_arch = "wasm32", not(target_feature = "atomics"))) {
            return write(&WriteBatch::single(kind, key, value));
        }
        thread_local! {
            static SINGLE: RefCell<WriteBatch> = RefCell::new(WriteBatch::new());
        }
        SINGLE.with(|single| {
            // (A write that writes again on this thread gets a batch of its own.)
            let Ok(mut batch) = single.try_borrow_mut() else {
                return write(&WriteBatch::single(kind, key, value));
            };
            batch.clear();
            batch.push(kind, key, value);
            let result = write(&batch);
            if batch.rep.capacity() > 64 << 10 {
                *batch = WriteBatch::new();
            }
            result
        })
    }

    /// A batch of the one operation `kind` of `key` (and `value`, for a put), allocated
    /// once at its size.
    pub(crate) fn single(kind: ValueKind, key: &[u8], value: Option<&[u8]>) -> WriteBatch {
        // The header, the kind, and each slice with its length (a varint of up to 5 bytes).
        let size = HEADER_LEN + 1 + 5 + key.len() + value.map_or(0, |v| 5 + v.len());
        let mut rep = Vec::with_capacity(size);
        rep.resize(HEADER_LEN, 0);
        let mut batch = WriteBatch { rep };
        batch.push(kind, key, value);
        batch
    }

    /// Adds a put of `value` under `key`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> &mut WriteBatch {
        self.push(ValueKind::Put, key, Some(value));
        self
    }

    /// Adds a delete of `key`.
    pub fn delete(&mut self, key: &[u8]) -> &mut WriteBatch {
        self.push(ValueKind::Delete, key, None);
        self
    }

    fn push(&mut self, kind: ValueKind, key: &[u8], value: Option<&[u8]>) {
        self.set_count(self.count() + 1);
        self.rep.push(kind as u8);
        write_slice(&mut self.rep, key);
        if let Some(value) = value {
            write_slice(&mut self.rep, value);
        }
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.count() as usize
    }

    /// True when the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Removes every operation.
    pub fn clear(&mut self) {
        self.rep.clear();
        self.rep.resize(HEADER_LEN, 0);
    }

    /// Size of the encoding in bytes.
    pub fn encoded_len(&self) -> usize {
        self.rep.len()
    }

    /// The encoding (header and records).
    pub fn encoded(&self) -> &[u8] {
        &self.rep
    }

    /// The sequence number of the first operation, as stamped by the store.
    pub fn sequence(&self) -> SequenceNumber {
        u64::from_le_bytes(header_field(&self.rep, 0))
    }

    /// Stamps the sequence number of the first operation.
    pub fn set_sequence(&mut self, seq: SequenceNumber) {
        self.rep[..8].copy_from_slice(&seq.to_le_bytes());
    }

    fn count(&self) -> u32 {
        u32::from_le_bytes(header_field(&self.rep, 8))
    }

    fn set_count(&mut self, count: u32) {
        self.rep[8..HEADER_LEN].copy_from_slice(&count.to_le_bytes());
    }

    /// Parses an encoding, checking that it is complete and well-formed.
    ///
    /// # Errors
    /// [`Error::Corruption`] if the bytes are not a whole batch.
    pub fn from_encoded(bytes: &[u8]) -> Result<WriteBatch> {
        WriteBatch::from_vec(bytes.to_vec())
    }

    /// As [`WriteBatch::from_encoded`], taking the bytes (no copy): how a batch encoded by
    /// the JS package crosses into the engine in one call.
    ///
    /// # Errors
    /// As [`WriteBatch::from_encoded`].
    pub fn from_vec(bytes: Vec<u8>) -> Result<WriteBatch> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::Corruption(
                "write batch shorter than its header".into(),
            ));
        }
        let batch = WriteBatch { rep: bytes };
        let mut seen = 0usize;
        for op in batch.iter() {
            op?;
            seen += 1;
        }
        if seen != batch.len() {
            return Err(Error::Corruption(format!(
                "write batch says {} records but holds {seen}",
                batch.len()
            )));
        }
        Ok(batch)
    }

    /// The operations in the order they were added.
    pub fn iter(&self) -> BatchIter<'_> {
        BatchIter {
            rest: &self.rep[HEADER_LEN..],
        }
    }
}

fn header_field<const N: usize>(rep: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&rep[at..at + N]);
    out
}

fn write_slice(out: &mut Vec<u8>, bytes: &[u8]) {
    // Writing to a Vec cannot fail.
    let _ = out.write_varint(bytes.len() as u32);
    out.extend_from_slice(bytes);
}

/// Iterator over the operations of a batch; yields an error on malformed bytes.
pub struct BatchIter<'a> {
    rest: &'a [u8],
}

impl<'a> BatchIter<'a> {
    fn read_slice(&mut self) -> Result<&'a [u8]> {
        let (len, used) = u32::decode_var(self.rest)
            .ok_or_else(|| Error::Corruption("bad length in write batch".into()))?;
        let end = used
            .checked_add(len as usize)
            .filter(|&end| end <= self.rest.len())
            .ok_or_else(|| Error::Corruption("write batch record runs past its end".into()))?;
        let slice = &self.rest[used..end];
        self.rest = &self.rest[end..];
        Ok(slice)
    }

    fn read_op(&mut self) -> Result<BatchOp<'a>> {
        let tag = self.rest[0];
        self.rest = &self.rest[1..];
        match ValueKind::from_tag(tag) {
            Some(ValueKind::Put) => Ok(BatchOp::Put {
                key: self.read_slice()?,
                value: self.read_slice()?,
            }),
            Some(ValueKind::Delete) => Ok(BatchOp::Delete {
                key: self.read_slice()?,
            }),
            None => Err(Error::Corruption(format!(
                "unknown record kind {tag} in write batch"
            ))),
        }
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<BatchOp<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let op = self.read_op();
        if op.is_err() {
            self.rest = &[];
        }
        Some(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_come_back_in_order_after_a_round_trip() {
        let mut batch = WriteBatch::new();
        batch.put(b"a", b"1").delete(b"b").put(b"c", b"");
        batch.set_sequence(42);
        let decoded = WriteBatch::from_encoded(batch.encoded()).expect("valid batch");
        assert_eq!(decoded.sequence(), 42);
        assert_eq!(decoded.len(), 3);
        let ops: Vec<_> = decoded.iter().map(|op| op.expect("valid op")).collect();
        assert_eq!(
            ops,
            vec![
                BatchOp::Put {
                    key: b"a",
                    value: b"1"
                },
                BatchOp::Delete { key: b"b" },
                BatchOp::Put {
                    key: b"c",
                    value: b""
                },
            ]
        );
    }

    #[test]
    fn a_single_operation_batch_is_encoded_as_one_built_op_by_op_in_one_allocation() {
        let long = vec![7u8; 300];
        for (key, value) in [(&b""[..], &b""[..]), (b"k", b"v"), (&long[..], &long[..])] {
            let single = WriteBatch::single(ValueKind::Put, key, Some(value));
            let mut built = WriteBatch::new();
            built.put(key, value);
            assert_eq!(single.encoded(), built.encoded());
            assert!(single.rep.capacity() >= single.rep.len());
            assert!(single.rep.capacity() <= single.rep.len() + 8, "sized once");
            let single = WriteBatch::single(ValueKind::Delete, key, None);
            let mut built = WriteBatch::new();
            built.delete(key);
            assert_eq!(single.encoded(), built.encoded());
            // This thread's reused batch, and a second one while it is in use.
            let reused = WriteBatch::with_single(ValueKind::Put, key, Some(value), |batch| {
                let inner = WriteBatch::with_single(ValueKind::Delete, key, None, |inner| {
                    inner.encoded().to_vec()
                });
                assert_eq!(inner, single.encoded());
                batch.encoded().to_vec()
            });
            let mut built = WriteBatch::new();
            built.put(key, value);
            assert_eq!(reused, built.encoded());
        }
    }

    #[test]
    fn truncated_or_miscounted_encodings_are_corruption() {
        let mut batch = WriteBatch::new();
        batch.put(b"key", b"value");
        let bytes = batch.encoded();
        for cut in 0..bytes.len() {
            let err = WriteBatch::from_encoded(&bytes[..cut]).expect_err("truncated");
            assert_eq!(err.code(), "CORRUPTION");
        }
        let mut wrong_count = bytes.to_vec();
        wrong_count[8] = 2;
        assert!(WriteBatch::from_encoded(&wrong_count).is_err());
        let mut bad_kind = bytes.to_vec();
        bad_kind[HEADER_LEN] = 9;
        assert!(WriteBatch::from_encoded(&bad_kind).is_err());
    }

    #[test]
    fn clear_empties_the_batch() {
        let mut batch = WriteBatch::new();
        batch.put(b"k", b"v");
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.iter().count(), 0);
    }
}
