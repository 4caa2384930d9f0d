//! Recovery on open: replay every log segment, oldest first, into memtables.
//!
//! Records must continue the sequence numbers without a gap. What does not:
//! - Damage at the end of a segment (a torn last write) and anything after it that does not
//!   continue the sequence (writes that were never synced) end the log: the segment is cut
//!   at the damage, later segments are deleted, and both are reported as dropped.
//! - Damage followed, in the same segment, by records that skip sequence numbers means lost
//!   records in the middle: [`RecoveryMode::Strict`] refuses to open
//!   ([`Error::Corruption`]); [`RecoveryMode::SkipCorrupted`] reports and goes on.
//! - Damage that loses no sequence number (for example garbage in block padding) is
//!   reported and replay goes on.

use crate::batch::WriteBatch;
use crate::error::{Error, Result};
use crate::key::SequenceNumber;
use crate::memtable::Memtable;
use crate::options::{Options, RecoveryMode};
use crate::storage::Storage;
use crate::wal::reader::{LogEvent, LogReader};
use crate::wal::{parse_segment_name, segment_name};
use std::sync::Arc;

/// Bytes recovery did not replay, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The segment file.
    pub segment: String,
    /// Where the dropped bytes start.
    pub offset: u64,
    /// How many bytes.
    pub bytes: u64,
    /// Why they were dropped.
    pub reason: String,
    /// True for an unsynced tail cut off after a crash (expected); false for damage in the
    /// middle of the log (skipped by [`RecoveryMode::SkipCorrupted`]).
    pub torn_tail: bool,
}

/// What `open` found and replayed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecoveryReport {
    /// Log segments read.
    pub segments: usize,
    /// Write batches replayed.
    pub records: u64,
    /// Operations (puts and deletes) replayed.
    pub entries: u64,
    /// Log bytes read.
    pub bytes: u64,
    /// Time spent, in milliseconds.
    pub millis: f64,
    /// The last sequence number recovered.
    pub last_sequence: SequenceNumber,
    /// What was not replayed.
    pub dropped: Vec<Dropped>,
}

/// The outcome of recovery: memtables holding the log, newest first (the first is the one
/// to keep writing into), and where the log goes on.
pub struct Recovered {
    pub memtables: Vec<Arc<Memtable>>,
    pub last_sequence: SequenceNumber,
    pub next_segment: u64,
    pub report: RecoveryReport,
}

struct Replay<'a> {
    options: &'a Options,
    /// Writes up to here are in tables already.
    base: SequenceNumber,
    /// The segment being replayed.
    segment: u64,
    active: Arc<Memtable>,
    frozen: Vec<Arc<Memtable>>,
    last: Option<SequenceNumber>,
    report: RecoveryReport,
}

impl Replay<'_> {
    fn continues(&self, batch: &WriteBatch) -> bool {
        self.last.is_none_or(|last| batch.sequence() == last + 1)
    }

    fn apply(&mut self, batch: &WriteBatch) -> Result<()> {
        let writer = self
            .active
            .begin_write()
            .ok_or_else(|| Error::Io("recovery memtable frozen".into()))?;
        let mut seq = batch.sequence();
        for op in batch.iter() {
            let op = op?;
            writer.add(seq, op.kind(), op.key(), op.value());
            seq += 1;
        }
        drop(writer);
        self.report.records += 1;
        self.report.entries += batch.len() as u64;
        self.last = Some(seq - 1);
        if self.active.approximate_size() >= self.options.memtable_size {
            self.active.freeze();
            let full = std::mem::replace(
                &mut self.active,
                Arc::new(Memtable::new(self.options.arena_chunk_size)),
            );
            self.frozen.insert(0, full);
        }
        Ok(())
    }

    fn drop_range(
        &mut self,
        segment: &str,
        offset: u64,
        bytes: u64,
        reason: &str,
        torn_tail: bool,
    ) {
        self.report.dropped.push(Dropped {
            segment: segment.to_string(),
            offset,
            bytes,
            reason: reason.to_string(),
            torn_tail,
        });
    }
}

/// How replay of one segment ended.
enum SegmentEnd {
    /// Read to the end without losing anything.
    Clean,
    /// The log ends inside this segment, at this offset.
    Cut(u64),
}

fn replay_segment(replay: &mut Replay<'_>, name: &str, data: &[u8]) -> Result<SegmentEnd> {
    let events: Vec<LogEvent> = LogReader::new(data).collect();
    let mut damage: Option<(u64, u64, &'static str)> = None;
    for event in &events {
        match event {
            LogEvent::Damaged {
                offset,
                bytes,
                reason,
            } => {
                if damage.is_none() {
                    damage = Some((*offset, *bytes, reason));
                } else if let Some(d) = &mut damage {
                    d.1 = offset + bytes - d.0;
                }
            }
            LogEvent::Record {
                offset,
                data: payload,
                ..
            } => {
                let decoded = WriteBatch::from_encoded(payload);
                if let Ok(batch) = &decoded {
                    let last = batch.sequence() + (batch.len() as u64).saturating_sub(1);
                    if !batch.is_empty() && last <= replay.base {
                        continue; // in a table already
                    }
                }
                let batch = match decoded {
                    Ok(batch) if replay.last.is_none_or(|last| batch.sequence() > last) => batch,
                    _ => {
                        // A record with a valid checksum but a bad or stale payload.
                        if replay.options.recovery_mode == RecoveryMode::Strict {
                            return Err(Error::Corruption(format!(
                                "{name}: malformed write batch at offset {offset}"
                            )));
                        }
                        replay.drop_range(
                            name,
                            *offset,
                            payload.len() as u64,
                            "malformed write batch",
                            false,
                        );
                        continue;
                    }
                };
                if let Some((from, bytes, reason)) = damage.take() {
                    if replay.continues(&batch) {
                        replay.drop_range(name, from, bytes, reason, false);
                    } else if replay.options.recovery_mode == RecoveryMode::Strict {
                        return Err(Error::Corruption(format!(
                            "{name}: {reason} at offset {from} loses records in the middle of the log"
                        )));
                    } else {
                        replay.drop_range(name, from, bytes, reason, false);
                    }
                } else if !replay.continues(&batch) {
                    // A gap with no damage in this segment: the previous segment lost its
                    // unsynced tail, so this record was never acknowledged either.
                    let rest = data.len() as u64 - offset;
                    replay.drop_range(name, *offset, rest, "after a gap in the sequence", true);
                    return Ok(SegmentEnd::Cut(*offset));
                }
                replay.apply(&batch)?;
            }
        }
    }
    match damage {
        Some((from, bytes, reason)) => {
            replay.drop_range(name, from, bytes, reason, true);
            Ok(SegmentEnd::Cut(from))
        }
        None => Ok(SegmentEnd::Clean),
    }
}

/// Replays the segments in `storage` from `log_number` on (older ones are deleted: their
/// data is in tables, up to sequence `base`).
///
/// # Errors
/// Storage errors; [`Error::Corruption`] for damage in the middle under
/// [`RecoveryMode::Strict`].
pub fn recover(
    storage: &dyn Storage,
    options: &Options,
    log_number: u64,
    base: SequenceNumber,
) -> Result<Recovered> {
    let started = crate::clock::now_ms();
    let mut numbers: Vec<u64> = storage
        .list()?
        .iter()
        .filter_map(|name| parse_segment_name(name))
        .collect();
    numbers.sort_unstable();
    for &old in numbers.iter().filter(|&&n| n < log_number) {
        storage.delete(&segment_name(old))?;
    }
    numbers.retain(|&n| n >= log_number);
    let first = numbers.first().copied().unwrap_or(log_number);
    let mut replay = Replay {
        options,
        base,
        segment: first,
        active: Arc::new(Memtable::with_first_segment(
            options.arena_chunk_size,
            first,
        )),
        frozen: Vec::new(),
        last: (base > 0).then_some(base),
        report: RecoveryReport::default(),
    };
    let mut cut = false;
    for &number in &numbers {
        let name = segment_name(number);
        if cut {
            // The log ended in an earlier segment: whatever follows was never synced.
            let len = storage.len(&name)?;
            if len > 0 {
                replay.drop_range(&name, 0, len, "after the end of the log", true);
            }
            storage.delete(&name)?;
            continue;
        }
        let data = storage.read_all(&name)?;
        replay.segment = number;
        replay.report.segments += 1;
        replay.report.bytes += data.len() as u64;
        if let SegmentEnd::Cut(at) = replay_segment(&mut replay, &name, &data)? {
            storage.truncate(&name, at)?;
            storage.sync(&name)?;
            cut = true;
        }
    }
    let last_sequence = replay.last.unwrap_or(base);
    replay.report.last_sequence = last_sequence;
    replay.report.millis = crate::clock::now_ms() - started;
    let mut memtables = vec![replay.active];
    memtables.extend(replay.frozen);
    Ok(Recovered {
        memtables,
        last_sequence,
        next_segment: numbers.last().map_or(log_number.max(1), |n| n + 1),
        report: replay.report,
    })
}
