//! Reads records back from a log file's bytes, reporting damage instead of returning it.
//!
//! A record is returned only if every fragment's checksum matches. Damage is reported as a
//! [`LogEvent::Damaged`] with its offset and size; the reader then looks for the next place
//! where an intact record starts (a FULL or FIRST fragment whose checksum matches, anywhere
//! after the damage, not only at the next block as in LevelDB) and goes on from there. So
//! a damaged record in the middle of the log is always followed by the records after it,
//! and the caller can tell a torn tail (nothing valid after the damage) from corruption
//! (valid records follow), even when the damage is in the last block.

use super::format::{fragment_checksum, FragmentType, BLOCK_SIZE, HEADER_SIZE};

/// What the reader found next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEvent {
    /// A whole record that starts at `offset` and ends before `end`.
    Record {
        /// File offset of the record's first fragment header.
        offset: u64,
        /// File offset just past its last fragment.
        end: u64,
        /// The payload.
        data: Vec<u8>,
    },
    /// Bytes that could not be read as records.
    Damaged {
        /// File offset where the damage starts.
        offset: u64,
        /// How many bytes were skipped.
        bytes: u64,
        /// Why.
        reason: &'static str,
    },
}

/// Iterates over the records of a log held in memory.
pub struct LogReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Fragments of a record being assembled, with the offset of its first fragment.
    pending: Option<(usize, Vec<u8>)>,
}

impl<'a> LogReader<'a> {
    /// Reads `data` (a whole log file) from the start.
    pub fn new(data: &'a [u8]) -> LogReader<'a> {
        LogReader {
            data,
            pos: 0,
            pending: None,
        }
    }

    /// Reads from the first record that starts at or after `offset`, skipping fragments of
    /// a record that began earlier.
    pub fn starting_at(data: &'a [u8], offset: u64) -> LogReader<'a> {
        let block_start = (offset as usize / BLOCK_SIZE) * BLOCK_SIZE;
        let mut reader = LogReader {
            data,
            pos: block_start.min(data.len()),
            pending: None,
        };
        reader.skip_to(offset as usize);
        reader
    }

    /// Walks fragment headers (without reporting) until one starts at or after `offset`
    /// and begins a record.
    fn skip_to(&mut self, offset: usize) {
        while let Some((start, kind, len)) = self.peek_header() {
            let begins = matches!(kind, Some(FragmentType::Full | FragmentType::First));
            if start >= offset && begins {
                return;
            }
            self.pos = start + HEADER_SIZE + len;
        }
    }

    /// The next fragment header: (start, type, length); moves past block padding.
    fn peek_header(&mut self) -> Option<(usize, Option<FragmentType>, usize)> {
        let left_in_block = BLOCK_SIZE - self.pos % BLOCK_SIZE;
        if left_in_block < HEADER_SIZE {
            self.pos += left_in_block;
        }
        let header = self.data.get(self.pos..self.pos + HEADER_SIZE)?;
        let len = u16::from_le_bytes([header[4], header[5]]) as usize;
        Some((self.pos, FragmentType::from_tag(header[6]), len))
    }

    fn damaged(&mut self, from: usize, to: usize, reason: &'static str) -> LogEvent {
        self.pending = None;
        self.pos = to;
        LogEvent::Damaged {
            offset: from as u64,
            bytes: (to - from) as u64,
            reason,
        }
    }

    fn next_block(&self, at: usize) -> usize {
        ((at / BLOCK_SIZE + 1) * BLOCK_SIZE).min(self.data.len())
    }

    /// The first offset after `damage` where an intact record starts (a FULL or FIRST
    /// fragment that fits its block and whose checksum matches), or the end of the data.
    fn resync(&self, damage: usize) -> usize {
        let mut at = damage + 1;
        while at + HEADER_SIZE <= self.data.len() {
            let left_in_block = BLOCK_SIZE - at % BLOCK_SIZE;
            if left_in_block < HEADER_SIZE {
                at += left_in_block;
                continue;
            }
            if self.intact_start(at) {
                return at;
            }
            at += 1;
        }
        self.data.len()
    }

    /// True if an intact FULL or FIRST fragment starts at `at`.
    fn intact_start(&self, at: usize) -> bool {
        let header = &self.data[at..at + HEADER_SIZE];
        let tag = header[6];
        if tag != FragmentType::Full as u8 && tag != FragmentType::First as u8 {
            return false;
        }
        let len = u16::from_le_bytes([header[4], header[5]]) as usize;
        let end = at + HEADER_SIZE + len;
        if at % BLOCK_SIZE + HEADER_SIZE + len > BLOCK_SIZE || end > self.data.len() {
            return false;
        }
        let stored = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        fragment_checksum(tag, &self.data[at + HEADER_SIZE..end]) == stored
    }
}

impl Iterator for LogReader<'_> {
    type Item = LogEvent;

    fn next(&mut self) -> Option<LogEvent> {
        loop {
            let Some((start, kind, len)) = self.peek_header() else {
                // End of data. A header cut short, or a record missing its last fragment,
                // is damage at the tail.
                let pending_start = self.pending.as_ref().map(|(s, _)| *s);
                if let Some(from) = pending_start {
                    let end = self.data.len();
                    return Some(self.damaged(from, end, "record cut short at the end"));
                }
                if self.pos < self.data.len() {
                    let end = self.data.len();
                    return Some(self.damaged(self.pos, end, "header cut short at the end"));
                }
                return None;
            };
            let header = &self.data[start..start + HEADER_SIZE];
            let payload_end = start + HEADER_SIZE + len;
            let crosses_block = start % BLOCK_SIZE + HEADER_SIZE + len > BLOCK_SIZE;
            let in_last_block = self.next_block(start) >= self.data.len();
            if crosses_block && !in_last_block {
                let from = self.pending.as_ref().map_or(start, |(s, _)| *s);
                let to = self.resync(start);
                return Some(self.damaged(from, to, "fragment length crosses a block"));
            }
            if payload_end > self.data.len() {
                let from = self.pending.as_ref().map_or(start, |(s, _)| *s);
                let to = self.resync(start);
                return Some(self.damaged(from, to, "record cut short at the end"));
            }
            let tag = header[6];
            let stored = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let payload = &self.data[start + HEADER_SIZE..payload_end];
            let from = self.pending.as_ref().map_or(start, |(s, _)| *s);
            if tag == 0 && len == 0 && stored == 0 {
                // Zeros: padding or preallocated space, not a record.
                let to = self.resync(start);
                return Some(self.damaged(from, to, "zeroed bytes"));
            }
            let Some(kind) = kind else {
                let to = self.resync(start);
                return Some(self.damaged(from, to, "unknown fragment type"));
            };
            if fragment_checksum(tag, payload) != stored {
                let to = self.resync(start);
                return Some(self.damaged(from, to, "checksum mismatch"));
            }
            self.pos = payload_end;
            match kind {
                FragmentType::Full | FragmentType::First => {
                    if let Some((from, _)) = self.pending.take() {
                        self.pos = start;
                        return Some(self.damaged(from, start, "record missing its last fragment"));
                    }
                    if kind == FragmentType::Full {
                        return Some(LogEvent::Record {
                            offset: start as u64,
                            end: payload_end as u64,
                            data: payload.to_vec(),
                        });
                    }
                    self.pending = Some((start, payload.to_vec()));
                }
                FragmentType::Middle | FragmentType::Last => {
                    let Some((from, mut data)) = self.pending.take() else {
                        return Some(self.damaged(start, payload_end, "fragment without a first"));
                    };
                    data.extend_from_slice(payload);
                    if kind == FragmentType::Last {
                        return Some(LogEvent::Record {
                            offset: from as u64,
                            end: payload_end as u64,
                            data,
                        });
                    }
                    self.pending = Some((from, data));
                }
            }
        }
    }
}
