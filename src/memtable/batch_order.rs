//! A batch's operations go into the memtable in key order: sorted (a part at a time),
//! then inserted through one [`Splice`](super::skiplist::Splice), each insert starting where the one before it went
//! instead of descending the skiplist from its head (in random order, about one cache miss
//! per level). Readers see a batch only when its sequence numbers are published, so the
//! order of its inserts is invisible to them.

use super::WriteGuard;
use crate::batch::{BatchOp, WriteBatch};
use crate::key::{self, SequenceNumber};

impl WriteGuard<'_> {
    /// Inserts the operations of `batch`, the first with sequence `first_seq` and each next
    /// one with the next number. A large batch goes in in key order, each insert starting
    /// where the one before it went (a [`Splice`](super::skiplist::Splice)), instead of
    /// descending the skiplist from its head for each: in random order a descent is about
    /// one cache miss per level. The order of inserts within a batch is invisible to
    /// readers, who see the batch when its sequence numbers are published.
    pub fn add_batch(&self, first_seq: SequenceNumber, batch: &WriteBatch) {
        let mut splice = self.memtable.list.splice();
        // A WriteBatch is well-formed (checked when it was built or decoded): `flatten`
        // drops nothing.
        let ops = (first_seq..).zip(batch.iter().flatten());
        if batch.len() < SORTED_BATCH {
            for (seq, op) in ops {
                self.insert(&mut splice, seq, op.kind(), op.key(), op.value());
            }
            return;
        }
        // Sorted a part at a time, so that sorting takes a bounded amount of memory
        // however many operations the batch holds.
        let mut ops = ops.map(|(seq, op)| Ordered::new(seq, op));
        let mut part = Vec::with_capacity(batch.len().min(SORTED_PART));
        loop {
            part.clear();
            part.extend(ops.by_ref().take(SORTED_PART));
            if part.is_empty() {
                return;
            }
            crate::sort::merge_sort(&mut part, Ordered::before);
            for &Ordered { seq, op, .. } in &part {
                self.insert(&mut splice, seq, op.kind(), op.key(), op.value());
            }
        }
    }
}

/// Batches of this many operations or more go into the memtable in key order (see
/// [`WriteGuard::add_batch`]); below it, sorting costs more than it saves.
const SORTED_BATCH: usize = 16;

/// A batch is sorted this many operations at a time: its sort then takes at most 6 MiB in
/// wasm (two buffers of 48-byte entries; 8 MiB natively), where a whole batch of millions
/// of small operations would take more than the operations' nodes.
const SORTED_PART: usize = 1 << 16;

/// An operation of a batch with its sequence number, as the batch's sort moves it: its
/// key's first 16 bytes are here, so that most comparisons read no key bytes elsewhere
/// (which, in a batch in random order, would be a cache miss each).
#[derive(Clone, Copy)]
struct Ordered<'a> {
    /// The key's first 16 bytes, big-endian, zero-padded.
    prefix: u128,
    seq: SequenceNumber,
    op: BatchOp<'a>,
}

impl<'a> Ordered<'a> {
    fn new(seq: SequenceNumber, op: BatchOp<'a>) -> Ordered<'a> {
        let mut bytes = [0u8; 16];
        let head = &op.key()[..op.key().len().min(16)];
        bytes[..head.len()].copy_from_slice(head);
        Ordered {
            prefix: u128::from_be_bytes(bytes),
            seq,
            op,
        }
    }

    /// True when `a` goes before `b` in a memtable: internal key order, the user key
    /// ascending, then the newer version first. (Zero padding makes prefixes equal for
    /// keys like `a` and `a\0`: the whole keys tell them apart.)
    #[inline(never)]
    fn before(a: &Ordered, b: &Ordered) -> bool {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| key::compare_bytes(a.op.key(), b.op.key()))
            .then(b.seq.cmp(&a.seq))
            .is_lt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iter::InternalIterator;
    use crate::key::ValueKind;
    use crate::memtable::Memtable;
    use std::sync::Arc;

    /// Every internal entry in iteration order: (user key, seq, kind, value).
    fn entries(mem: &Arc<Memtable>) -> Vec<(Vec<u8>, u64, ValueKind, Vec<u8>)> {
        let mut it = mem.iter();
        it.seek_to_first();
        let mut out = Vec::new();
        while it.valid() {
            let parsed = key::parse(it.key()).expect("valid key");
            out.push((
                parsed.user_key.to_vec(),
                parsed.seq,
                parsed.kind,
                it.value().to_vec(),
            ));
            it.next();
        }
        out
    }

    #[test]
    fn the_batch_sort_orders_operations_as_the_memtable_orders_their_keys() {
        let keys: Vec<Vec<u8>> = [
            &b""[..],
            b"a",
            b"a\0",
            b"a\0\0",
            b"a\x01",
            b"b",
            b"0123456789abcdef",
            b"0123456789abcdef\0",
            b"0123456789abcdefg",
            b"0123456789abcdeg",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        ]
        .iter()
        .map(|k| k.to_vec())
        .collect();
        for a in &keys {
            for b in &keys {
                // A batch gives each operation its own sequence number.
                for (a_seq, b_seq) in [(5, 6), (6, 5)] {
                    let (x, y) = (
                        Ordered::new(a_seq, BatchOp::Put { key: a, value: b"" }),
                        Ordered::new(b_seq, BatchOp::Delete { key: b }),
                    );
                    let want = key::compare(
                        &key::internal_key(a, a_seq, ValueKind::Put),
                        &key::internal_key(b, b_seq, ValueKind::Delete),
                    )
                    .is_lt();
                    assert_eq!(Ordered::before(&x, &y), want, "{a:?}@{a_seq} {b:?}@{b_seq}");
                }
            }
        }
    }

    #[test]
    fn a_batch_goes_in_as_its_operations_one_by_one_would() {
        // Keys of three shapes: short ones that differ at the end; long ones that share
        // their first 16 bytes (what the sort compares first); and keys that differ only by
        // trailing zero bytes (`a`, `a\0`, ...: equal once zero-padded to 16 bytes).
        let shapes: [fn(usize) -> Vec<u8>; 3] = [
            |k| format!("key{k:06}").into_bytes(),
            |k| format!("a/long/shared/prefix/{k:06}").into_bytes(),
            |k| {
                let mut key = b"a".to_vec();
                key.resize(1 + k % 20, 0);
                if k >= 20 {
                    key.extend_from_slice(format!("{}", k / 20).as_bytes());
                }
                key
            },
        ];
        // Sizes on both sides of SORTED_BATCH and of SORTED_PART, in shuffled order, in key order, and with
        // keys written more than once (the last write of a key is its newest version).
        for key_of in shapes {
            for (len, keys) in [
                (5, 3),
                (SORTED_BATCH, 40),
                (500, 100),
                (500, 1000),
                (2000, 2000),
                // More than one part sorted at a time.
                (SORTED_PART + 1000, 30_000),
            ] {
                for sorted in [false, true] {
                    let mut batch = WriteBatch::new();
                    let mut x = 0x9e37_79b9u32 ^ len as u32;
                    for i in 0..len {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        let k = if sorted { i % keys } else { x as usize % keys };
                        if x.is_multiple_of(7) {
                            batch.delete(&key_of(k));
                        } else {
                            batch.put(&key_of(k), format!("v{i}").as_bytes());
                        }
                    }
                    let (one_by_one, whole) =
                        (Arc::new(Memtable::new(4096)), Arc::new(Memtable::new(4096)));
                    let w = one_by_one.begin_write().expect("not frozen");
                    for (seq, op) in (100..).zip(batch.iter()) {
                        let op = op.expect("well-formed");
                        w.add(seq, op.kind(), op.key(), op.value());
                    }
                    drop(w);
                    whole
                        .begin_write()
                        .expect("not frozen")
                        .add_batch(100, &batch);
                    let what = format!("{len} ops, sorted: {sorted}, first key {:?}", key_of(1));
                    assert_eq!(entries(&whole), entries(&one_by_one), "{what}");
                    for k in 0..keys {
                        for seq in [99, 100 + len as u64 / 2, u64::MAX >> 8] {
                            assert_eq!(
                                whole.get(&key_of(k), seq),
                                one_by_one.get(&key_of(k), seq),
                                "{what}"
                            );
                        }
                    }
                    assert_eq!(whole.data_bytes(), one_by_one.data_bytes());
                }
            }
        }
    }
}
