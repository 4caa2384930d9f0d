//! Blocks: sorted key-value entries with prefix compression and restart points
//! (LevelDB's `table/block_builder.cc`).
//!
//! Entry: `shared: varint32` (bytes shared with the previous key), `unshared: varint32`,
//! `value_len: varint32`, the unshared key bytes, the value. Every `restart_interval`
//! entries a key is stored whole (shared = 0) and its offset recorded. The block ends with
//! the restart offsets (`u32 LE` each) and their count (`u32 LE`).

use crate::error::{Error, Result};
use crate::iter::InternalIterator;
use crate::memtable::skiplist::Comparator;
use integer_encoding::{VarInt, VarIntWriter};
use std::cmp::Ordering;
use std::sync::Arc;

/// Builds one block.
pub struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    interval: usize,
    counter: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    /// An empty block whose keys restart every `interval` entries.
    pub fn new(interval: usize) -> BlockBuilder {
        BlockBuilder {
            buf: Vec::new(),
            restarts: vec![0],
            interval: interval.max(1),
            counter: 0,
            last_key: Vec::new(),
        }
    }

    /// Adds an entry; keys must come in increasing order.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.counter < self.interval {
            key.iter()
                .zip(&self.last_key)
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            self.restarts.push(self.buf.len() as u32);
            self.counter = 0;
            0
        };
        // Writing to a Vec cannot fail.
        let _ = self.buf.write_varint(shared as u32);
        let _ = self.buf.write_varint((key.len() - shared) as u32);
        let _ = self.buf.write_varint(value.len() as u32);
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.counter += 1;
    }

    /// Bytes the finished block would take.
    pub fn estimated_size(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished block's bytes; the builder is empty again afterwards.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        for restart in &self.restarts {
            out.extend_from_slice(&restart.to_le_bytes());
        }
        out.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.restarts = vec![0];
        self.counter = 0;
        self.last_key.clear();
        out
    }
}

/// A block read back: its bytes, checked to hold a sane restart array.
pub struct Block {
    data: Vec<u8>,
    /// Where the restart array starts (the end of the entries).
    restarts: usize,
    count: usize,
}

impl Block {
    /// Wraps block bytes.
    ///
    /// # Errors
    /// [`Error::Corruption`] if the restart array does not fit.
    pub fn new(data: Vec<u8>) -> Result<Block> {
        let bad = || Error::Corruption("block restart array is malformed".into());
        let count_at = data.len().checked_sub(4).ok_or_else(bad)?;
        let count = u32::from_le_bytes(data[count_at..].try_into().map_err(|_| bad())?) as usize;
        let restarts = count
            .checked_mul(4)
            .and_then(|len| count_at.checked_sub(len))
            .ok_or_else(bad)?;
        if count == 0 {
            return Err(bad());
        }
        Ok(Block {
            data,
            restarts,
            count,
        })
    }

    /// Bytes held (for cache accounting).
    pub fn size(&self) -> usize {
        self.data.len()
    }

    fn restart(&self, i: usize) -> usize {
        let at = self.restarts + 4 * i;
        u32::from_le_bytes([
            self.data[at],
            self.data[at + 1],
            self.data[at + 2],
            self.data[at + 3],
        ]) as usize
    }

    /// An iterator over the block, ordering keys by `cmp`.
    pub fn iter(self: &Arc<Self>, cmp: Comparator) -> BlockIter {
        BlockIter {
            block: Arc::clone(self),
            cmp,
            current: self.restarts,
            next: self.restarts,
            // Room for common keys at once, so seeking does not grow it step by step.
            key: Vec::with_capacity(64),
            value: 0..0,
            run: Vec::new(),
            run_keys: Vec::new(),
            error: None,
        }
    }
}

/// Where the parts of the entry at some offset lie in a block's entries.
struct Entry {
    /// Key bytes shared with the previous entry's key.
    shared: usize,
    /// The rest of the key.
    unshared: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

impl Entry {
    /// The entry at `at` of `entries` (a block without its restart array); `None` if its
    /// header or its bytes run past the end.
    #[inline]
    fn decode(entries: &[u8], at: usize) -> Option<Entry> {
        let header = entries.get(at..)?;
        // Keys and values under 128 bytes, as most are: three one-byte varints.
        let (shared, unshared, value_len, used) = match header {
            [a, b, c, ..] if (a | b | c) < 0x80 => (*a as usize, *b as usize, *c as usize, 3),
            _ => {
                let mut used = 0;
                let mut field = || -> Option<usize> {
                    let (v, n) = u32::decode_var(&header[used..])?;
                    used += n;
                    Some(v as usize)
                };
                (field()?, field()?, field()?, used)
            }
        };
        let key_at = at + used;
        let value_at = key_at.checked_add(unshared)?;
        let end = value_at.checked_add(value_len)?;
        (end <= entries.len()).then_some(Entry {
            shared,
            unshared: key_at..value_at,
            value: value_at..end,
        })
    }
}

/// A cursor over a block. Malformed entries end the iteration and set `status`.
pub struct BlockIter {
    block: Arc<Block>,
    cmp: Comparator,
    /// Offset of the current entry (`restarts` when not valid).
    current: usize,
    /// Offset of the entry after it.
    next: usize,
    key: Vec<u8>,
    value: std::ops::Range<usize>,
    /// The entries before the current one in its restart run, as a step back decoded them
    /// (their keys in `run_keys`): the steps back through the run take them from here
    /// instead of decoding the run from its restart point again each time, which made a
    /// reverse scan decode about half a run per entry (RocksDB's block iterator keeps the
    /// same cache). An entry whose value ends at the current entry's offset is the one
    /// before it, whatever moved the cursor since.
    run: Vec<Decoded>,
    run_keys: Vec<u8>,
    error: Option<Error>,
}

/// An entry of a restart run as a step back decoded it (see `BlockIter::run`).
#[derive(Debug)]
struct Decoded {
    current: usize,
    /// Its value, which the next entry follows.
    value: std::ops::Range<usize>,
    /// The end of its key in `run_keys` (which starts where the entry before it ends).
    key_end: usize,
}

impl BlockIter {
    /// The first error met, if any.
    pub fn status(&self) -> Result<()> {
        match &self.error {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }

    fn corrupt(&mut self) {
        self.run.clear();
        self.error = Some(Error::Corruption("malformed block entry".into()));
        self.current = self.block.restarts;
        self.next = self.block.restarts;
    }

    /// Decodes the entry at `self.next` into the current one; false at the end or on error.
    fn parse_next(&mut self) -> bool {
        self.current = self.next;
        let limit = self.block.restarts;
        if self.current >= limit {
            self.current = limit;
            return false;
        }
        let Some(entry) = Entry::decode(&self.block.data[..limit], self.current) else {
            self.corrupt();
            return false;
        };
        if entry.shared > self.key.len() {
            self.corrupt();
            return false;
        }
        self.key.truncate(entry.shared);
        self.key
            .extend_from_slice(&self.block.data[entry.unshared.clone()]);
        self.next = entry.value.end;
        self.value = entry.value;
        true
    }

    fn seek_to_restart(&mut self, i: usize) {
        self.key.clear();
        self.next = self.block.restart(i);
        if self.next > self.block.restarts {
            self.corrupt();
        }
    }

    /// Decodes restart run `i` up to its entry that ends at or past `end`, which becomes the
    /// current one, keeping the entries before it in `run`.
    fn decode_run(&mut self, i: usize, end: usize) {
        self.run.clear();
        self.run_keys.clear();
        self.seek_to_restart(i);
        while self.parse_next() && self.next < end {
            self.run_keys.extend_from_slice(&self.key);
            self.run.push(Decoded {
                current: self.current,
                value: self.value.clone(),
                key_end: self.run_keys.len(),
            });
        }
    }

    /// Steps back to the entry before the current one if `run` holds it; false if not.
    fn prev_from_run(&mut self) -> bool {
        let current = self.current;
        let Some(entry) = self.run.pop_if(|entry| entry.value.end == current) else {
            return false;
        };
        let key_start = self.run.last().map_or(0, |before| before.key_end);
        self.key.clear();
        self.key
            .extend_from_slice(&self.run_keys[key_start..entry.key_end]);
        self.run_keys.truncate(key_start);
        self.current = entry.current;
        self.next = entry.value.end;
        self.value = entry.value;
        true
    }

    /// The index of the last restart point whose key is below `target` (0 if none). A
    /// restart entry holds its whole key, so it is compared where it lies, not copied; a
    /// malformed one (or one that claims a shared prefix) is corruption, and the search
    /// ends at 0.
    fn restart_before(&mut self, target: &[u8]) -> usize {
        let block = Arc::clone(&self.block);
        let entries = &block.data[..block.restarts];
        let (mut left, mut right) = (0, block.count - 1);
        while left < right {
            let mid = (left + right).div_ceil(2);
            let key = match Entry::decode(entries, block.restart(mid)) {
                Some(entry) if entry.shared == 0 => &entries[entry.unshared],
                _ => {
                    self.corrupt();
                    return 0;
                }
            };
            if (self.cmp)(key, target) == Ordering::Less {
                left = mid;
            } else {
                right = mid - 1;
            }
        }
        left
    }
}

impl InternalIterator for BlockIter {
    fn valid(&self) -> bool {
        self.current < self.block.restarts
    }
    fn key(&self) -> &[u8] {
        &self.key
    }
    fn value(&self) -> &[u8] {
        &self.block.data[self.value.clone()]
    }
    fn next(&mut self) {
        self.parse_next();
    }
    fn prev(&mut self) {
        if self.prev_from_run() {
            return;
        }
        // The last restart point before the current entry (restart points ascend), then the
        // run from it up to the entry before the current one.
        let original = self.current;
        let (mut low, mut high) = (0, self.block.count);
        while low < high {
            let mid = (low + high) / 2;
            if self.block.restart(mid) < original {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if low == 0 {
            self.current = self.block.restarts;
            self.next = self.block.restarts;
            return;
        }
        self.decode_run(low - 1, original);
    }
    fn seek(&mut self, target: &[u8]) {
        let restart = self.restart_before(target);
        self.seek_to_restart(restart);
        while self.parse_next() {
            if (self.cmp)(&self.key, target) != Ordering::Less {
                return;
            }
        }
    }
    fn seek_for_prev(&mut self, target: &[u8]) {
        self.seek(target);
        if !self.valid() {
            self.seek_to_last();
        } else if (self.cmp)(&self.key, target) == Ordering::Greater {
            self.prev();
        }
    }
    fn seek_to_first(&mut self) {
        self.seek_to_restart(0);
        self.parse_next();
    }
    fn seek_to_last(&mut self) {
        self.decode_run(self.block.count - 1, self.block.restarts);
    }
    fn status(&self) -> Result<()> {
        BlockIter::status(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(keys: &[Vec<u8>], interval: usize) -> Arc<Block> {
        let mut builder = BlockBuilder::new(interval);
        for k in keys {
            builder.add(k, &[k.as_slice(), b"!"].concat());
        }
        Arc::new(Block::new(builder.finish()).expect("valid block"))
    }

    fn keys(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("key{:05}", i * 3).into_bytes())
            .collect()
    }

    #[test]
    fn entries_read_back_in_order_both_ways() {
        for interval in [1, 2, 16] {
            let keys = keys(100);
            let block = build(&keys, interval);
            let mut it = block.iter(|a, b| a.cmp(b));
            it.seek_to_first();
            let mut forward = Vec::new();
            while it.valid() {
                assert_eq!(it.value(), [it.key(), b"!"].concat());
                forward.push(it.key().to_vec());
                it.next();
            }
            assert_eq!(forward, keys);
            it.seek_to_last();
            let mut backward = Vec::new();
            while it.valid() {
                backward.push(it.key().to_vec());
                it.prev();
            }
            backward.reverse();
            assert_eq!(backward, keys, "interval {interval}");
            assert!(it.status().is_ok());
        }
    }

    #[test]
    fn a_random_walk_both_ways_reads_what_was_written() {
        // Steps back take entries a step back decoded before, whatever moved the cursor
        // in between: every position is checked against the keys' list.
        for interval in [1, 3, 16] {
            let keys = keys(70);
            let block = build(&keys, interval);
            let mut it = block.iter(|a, b| a.cmp(b));
            let mut at: Option<usize> = None;
            let mut x = 0x9e37_79b9_u32 ^ interval as u32;
            for step in 0..3000 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                match (at, x % 7) {
                    (None, 0..=2) => {
                        it.seek_to_last();
                        at = Some(keys.len() - 1);
                    }
                    (None, _) => {
                        let i = (x >> 8) as usize % keys.len();
                        it.seek(&keys[i]);
                        at = Some(i);
                    }
                    (Some(i), 0..=3) => {
                        it.prev();
                        at = i.checked_sub(1);
                    }
                    (Some(i), 4..=5) => {
                        it.next();
                        at = (i + 1 < keys.len()).then_some(i + 1);
                    }
                    (Some(_), _) => {
                        it.seek_to_first();
                        at = Some(0);
                    }
                }
                let want = at.map(|i| (keys[i].clone(), [&keys[i], &b"!"[..]].concat()));
                let got = it.valid().then(|| (it.key().to_vec(), it.value().to_vec()));
                assert_eq!(got, want, "interval {interval}, step {step}");
            }
            assert!(it.status().is_ok());
        }
    }

    #[test]
    fn seeks_land_on_the_first_key_at_or_after_the_target() {
        let keys = keys(50);
        let block = build(&keys, 16);
        let mut it = block.iter(|a, b| a.cmp(b));
        for (i, k) in keys.iter().enumerate() {
            it.seek(k);
            assert_eq!(it.key(), k.as_slice());
            let mut between = k.clone();
            between.push(0);
            it.seek(&between);
            assert_eq!(it.valid(), i + 1 < keys.len());
            it.seek_for_prev(&between);
            assert_eq!(it.key(), k.as_slice());
        }
        it.seek(b"a");
        assert_eq!(it.key(), keys[0].as_slice());
        it.seek(b"z");
        assert!(!it.valid());
        it.seek_for_prev(b"a");
        assert!(!it.valid());
    }

    #[test]
    fn long_keys_and_values_take_multibyte_headers() {
        // Lengths around the one-byte varint limit (127/128) and past two bytes (16,384),
        // so entries mix the three-byte header fast path and the varint decoder.
        let lengths = [0, 1, 126, 127, 128, 129, 300, 16_383, 16_384, 20_000];
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = lengths
            .iter()
            .enumerate()
            .flat_map(|(i, &klen)| {
                lengths.iter().enumerate().map(move |(j, &vlen)| {
                    let mut key = format!("k{i:02}{j:02}").into_bytes();
                    key.resize(klen.max(5), b'a' + (j as u8));
                    (key, vec![(i * 16 + j) as u8; vlen])
                })
            })
            .collect();
        entries.sort();
        for interval in [1, 3, 16] {
            let mut builder = BlockBuilder::new(interval);
            for (k, v) in &entries {
                builder.add(k, v);
            }
            let block = Arc::new(Block::new(builder.finish()).expect("valid block"));
            let mut it = block.iter(|a, b| a.cmp(b));
            for (k, v) in &entries {
                it.seek(k);
                assert!(it.valid(), "interval {interval}: {} not found", k.len());
                assert_eq!((it.key(), it.value()), (k.as_slice(), v.as_slice()));
            }
            it.seek_to_first();
            let mut n = 0;
            while it.valid() {
                assert_eq!(it.value(), entries[n].1.as_slice());
                it.next();
                n += 1;
            }
            assert_eq!(n, entries.len());
            assert!(it.status().is_ok());
        }
    }

    #[test]
    fn a_restart_entry_that_claims_a_shared_prefix_is_corruption() {
        let keys = keys(40);
        let block = build(&keys, 4);
        let mut bytes = block.data.clone();
        // The third restart entry (a whole key) now says it shares 2 bytes with the one
        // before: a seek must not compare a partial key as a whole one. (A walk cannot tell:
        // the block's checksum guards against this; the cursor only must not mislead.)
        let at = block.restart(2);
        assert_eq!(bytes[at], 0);
        bytes[at] = 2;
        let block = Arc::new(Block::new(bytes).expect("restart array intact"));
        // A seek either finds its key or reports the damage; none reads a wrong key.
        for (i, k) in keys.iter().enumerate() {
            let mut it = block.iter(|a, b| a.cmp(b));
            it.seek(k);
            if it.status().is_ok() {
                assert_eq!(
                    it.key(),
                    k.as_slice(),
                    "seek {i} read a wrong key unnoticed"
                );
            }
            // (the keys after the bad restart are read through it)
            assert!(it.status().is_err() || !(8..12).contains(&i), "seek {i}");
        }
    }

    #[test]
    fn malformed_blocks_are_errors_not_panics() {
        assert!(Block::new(vec![]).is_err());
        assert!(Block::new(vec![0, 0, 0, 0]).is_err(), "no restart points");
        assert!(Block::new(vec![255, 255, 255, 255]).is_err());
        let good = build(&keys(20), 4);
        let mut bytes = good.data.clone();
        for i in 0..bytes.len().saturating_sub(8) {
            bytes[i] ^= 0x5a;
            if let Ok(block) = Block::new(bytes.clone()) {
                let block = Arc::new(block);
                let mut it = block.iter(|a, b| a.cmp(b));
                it.seek_to_first();
                let mut n = 0;
                while it.valid() && n < 1000 {
                    it.next();
                    n += 1;
                }
                it.seek(b"key00030");
                it.seek_to_last();
                it.prev();
            }
            bytes[i] ^= 0x5a;
        }
    }
}
