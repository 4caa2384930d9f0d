//! Recovery on open: replay the log segments the manifest does not cover, oldest first,
//! into memtables, changing nothing on storage until the whole open has checked out.
//!
//! The segments are read as one log. Records must continue the manifest's last sequence
//! number without a gap, and records are flushed to storage in order (a later segment
//! gets bytes only once every earlier one is synced), so:
//! - Damage with no intact record anywhere after it is a torn tail: writes that were never
//!   synced. The segment is cut there (reported with `torn_tail`), unless the store was
//!   closed cleanly, when the log must end exactly where the close recorded.
//! - Damage followed by intact records lost nothing if the next record continues the
//!   sequence (garbage in padding, say: reported, replay goes on); otherwise synced records
//!   are lost: [`RecoveryMode::Strict`] refuses to open ([`Error::Corruption`]),
//!   [`RecoveryMode::SkipCorrupted`] reports them and goes on.
//! - A gap in the sequence without damage (a segment missing, or records cut out) is
//!   treated the same way.

use crate::batch::WriteBatch;
use crate::error::{Error, Result};
use crate::key::SequenceNumber;
use crate::memtable::Memtable;
use crate::options::{Options, RecoveryMode};
use crate::storage::Storage;
use crate::version::LogEnd;
use crate::wal::reader::{LogEvent, LogReader};
use crate::wal::{parse_segment_name, segment_name};
use std::sync::Arc;

/// Bytes recovery did not replay, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The file (a log segment, or the manifest for a torn last edit).
    pub file: String,
    /// Where the dropped bytes start.
    pub offset: u64,
    /// How many bytes.
    pub bytes: u64,
    /// Why they were dropped.
    pub reason: String,
    /// True for an unsynced tail cut off after a crash (expected: those writes were never
    /// acknowledged as durable); false for damage that cost synced data, or data that was
    /// not needed (skipped by [`RecoveryMode::SkipCorrupted`]).
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
/// to keep writing into), where the log goes on, and the changes to storage that
/// [`Recovered::commit`] makes once the open has checked out.
pub struct Recovered {
    pub memtables: Vec<Arc<Memtable>>,
    pub last_sequence: SequenceNumber,
    /// The segment new writes go to, and its length: the newest segment, reused (so an
    /// open adds no file), or a new one of length 0.
    pub segment: (u64, u64),
    /// True when `segment` is a new file to create.
    pub new_segment: bool,
    pub report: RecoveryReport,
    /// Segments to delete (covered by tables, or empty after the end of the log).
    delete: Vec<String>,
    /// A segment to cut at a torn tail.
    truncate: Option<(String, u64)>,
    /// Segments whose records were replayed (synced by `commit`).
    replayed: Vec<String>,
}

impl Recovered {
    /// Makes the storage changes recovery decided on: cuts the torn tail, syncs what was
    /// replayed (what an open has shown, a crash must not take back: bytes a failed sync
    /// left behind become durable or were never read), deletes covered and empty segments.
    ///
    /// # Errors
    /// Storage errors.
    pub fn commit(&self, storage: &dyn Storage) -> Result<()> {
        if let Some((name, len)) = &self.truncate {
            storage.truncate(name, *len)?;
        }
        for name in &self.replayed {
            storage.sync(name)?;
        }
        for name in &self.delete {
            storage.delete(name)?;
        }
        Ok(())
    }
}

struct Replay<'a> {
    options: &'a Options,
    /// Writes up to here are in tables already.
    base: SequenceNumber,
    active: Arc<Memtable>,
    frozen: Vec<Arc<Memtable>>,
    last: SequenceNumber,
    report: RecoveryReport,
}

impl Replay<'_> {
    fn apply(&mut self, batch: &WriteBatch, segment: u64) -> Result<()> {
        let writer = self
            .active
            .begin_write()
            .ok_or_else(|| Error::Io("recovery memtable frozen".into()))?;
        writer.add_batch(batch.sequence(), batch);
        drop(writer);
        self.report.records += 1;
        self.report.entries += batch.len() as u64;
        self.last = batch.sequence() + batch.len() as u64 - 1;
        if self.active.approximate_size() >= self.options.memtable_size {
            self.active.freeze();
            let full = std::mem::replace(
                &mut self.active,
                Arc::new(Memtable::for_store(self.options, segment)),
            );
            self.frozen.insert(0, full);
        }
        Ok(())
    }

    fn drop_range(&mut self, file: &str, offset: u64, bytes: u64, reason: &str, torn: bool) {
        self.report.dropped.push(Dropped {
            file: file.to_string(),
            offset,
            bytes,
            reason: reason.to_string(),
            torn_tail: torn,
        });
    }

    /// Lost records: an error under [`RecoveryMode::Strict`], a report otherwise.
    fn lose(&mut self, file: &str, offset: u64, bytes: u64, reason: &str) -> Result<()> {
        if self.options.recovery_mode == RecoveryMode::Strict {
            return Err(Error::Corruption(format!(
                "{file}: {reason} at offset {offset}"
            )));
        }
        self.drop_range(file, offset, bytes, reason, false);
        Ok(())
    }
}

/// Replays the segments in `storage` from `log_number` on (older ones are covered by
/// tables, up to sequence `base`). `log_end` is where a clean close said the log ends.
///
/// # Errors
/// Storage errors; [`Error::Corruption`] for lost records under [`RecoveryMode::Strict`],
/// and, after a clean close, for a log that does not end where the close recorded.
pub fn recover(
    storage: &dyn Storage,
    options: &Options,
    log_number: u64,
    base: SequenceNumber,
    log_end: Option<LogEnd>,
) -> Result<Recovered> {
    let started = crate::clock::now_ms();
    let mut numbers: Vec<u64> = storage
        .list()?
        .iter()
        .filter_map(|name| parse_segment_name(name))
        .collect();
    crate::sort::insertion_sort(&mut numbers, |a, b| a < b);
    let mut delete: Vec<String> = numbers
        .iter()
        .filter(|&&n| n < log_number)
        .map(|&n| segment_name(n))
        .collect();
    numbers.retain(|&n| n >= log_number);
    let first = numbers.first().copied().unwrap_or(log_number.max(1));
    let mut replay = Replay {
        options,
        base,
        active: Arc::new(Memtable::for_store(options, first)),
        frozen: Vec::new(),
        last: base,
        report: RecoveryReport::default(),
    };
    let names: Vec<String> = numbers.iter().map(|&n| segment_name(n)).collect();
    let mut lengths = Vec::with_capacity(names.len());
    // Damage since the last intact record: (segment index, offset, bytes, reason). An
    // intact record after it makes it damage in the middle; at the end it is the torn tail.
    let mut pending: Vec<(usize, u64, u64, &'static str)> = Vec::new();
    for (segment, name) in names.iter().enumerate() {
        let data = storage.read_all(name)?;
        replay.report.segments += 1;
        replay.report.bytes += data.len() as u64;
        lengths.push(data.len() as u64);
        for event in LogReader::new(&data) {
            match event {
                LogEvent::Damaged {
                    offset,
                    bytes,
                    reason,
                } => pending.push((segment, offset, bytes, reason)),
                LogEvent::Record {
                    offset,
                    data: payload,
                    ..
                } => replay_record(
                    &mut replay,
                    &names,
                    &mut pending,
                    segment,
                    numbers[segment],
                    offset,
                    &payload,
                )?,
            }
        }
    }
    // Damage with nothing intact after it: the torn tail, cut at its first byte.
    let cut = pending
        .first()
        .map(|&(segment, offset, _, _)| (segment, offset));
    for (segment, offset, bytes, reason) in pending {
        replay.drop_range(&names[segment], offset, bytes, reason, true);
    }
    // The log goes on in the segment of the last record (cut at the torn tail), or in the
    // newest segment; later segments hold nothing intact.
    let keep = match cut {
        Some((segment, _)) => Some(segment),
        None => numbers.len().checked_sub(1),
    };
    let mut truncate = None;
    if let Some((segment, offset)) = cut {
        truncate = Some((names[segment].clone(), offset));
        delete.extend(names[segment + 1..].iter().cloned());
    }
    // Empty segments before the one kept hold nothing.
    for (i, name) in names.iter().enumerate() {
        if keep.is_some_and(|k| i < k) && lengths[i] == 0 {
            delete.push(name.clone());
        }
    }
    // The segment the manifest's log number names was created before the manifest named
    // it, and is deleted only once a later edit covers it.
    if log_number > 0 && numbers.is_empty() {
        let name = segment_name(log_number);
        replay.lose(&name, 0, 0, "the log segments from here on are missing")?;
    }
    if let Some(end) = log_end {
        check_log_end(&mut replay, end, &numbers, &lengths)?;
    }
    replay.report.last_sequence = replay.last;
    replay.report.millis = crate::clock::now_ms() - started;
    let segment = match keep {
        Some(i) => (numbers[i], cut.map_or(lengths[i], |(_, offset)| offset)),
        None => (log_number.max(1), 0),
    };
    let mut memtables = vec![replay.active];
    memtables.extend(replay.frozen);
    Ok(Recovered {
        memtables,
        last_sequence: replay.last,
        segment,
        new_segment: keep.is_none(),
        report: replay.report,
        replayed: names
            .iter()
            .zip(&lengths)
            .filter(|(name, &len)| len > 0 && !delete.contains(name))
            .map(|(name, _)| name.clone())
            .collect(),
        delete,
        truncate,
    })
}

/// Replays one intact record, first classifying the damage seen since the previous one:
/// harmless if this record continues the sequence, lost writes if it does not.
#[allow(clippy::too_many_arguments)]
fn replay_record(
    replay: &mut Replay<'_>,
    names: &[String],
    pending: &mut Vec<(usize, u64, u64, &'static str)>,
    segment: usize,
    number: u64,
    offset: u64,
    payload: &[u8],
) -> Result<()> {
    let name = &names[segment];
    let damage = std::mem::take(pending);
    let damaged = !damage.is_empty();
    let Ok(batch) = WriteBatch::from_encoded(payload) else {
        // A record with a valid checksum but a payload that is no batch.
        return replay.lose(name, offset, payload.len() as u64, "malformed write batch");
    };
    let last = batch.sequence() + (batch.len() as u64).saturating_sub(1);
    let covered = !batch.is_empty() && last <= replay.base;
    let continues = covered || batch.sequence() == replay.last + 1;
    for (i, (at, from, bytes, reason)) in damage.into_iter().enumerate() {
        if i == 0 && !continues {
            let reason = format!("{reason}, losing the writes after sequence {}", replay.last);
            replay.lose(&names[at], from, bytes, &reason)?;
        } else {
            replay.drop_range(&names[at], from, bytes, reason, false);
        }
    }
    if covered {
        return Ok(()); // in a table already
    }
    if batch.sequence() <= replay.last {
        return replay.lose(
            name,
            offset,
            payload.len() as u64,
            "a write batch out of sequence",
        );
    }
    if !continues && !damaged {
        let reason = format!(
            "a gap in the sequence (sequence {} follows {})",
            batch.sequence(),
            replay.last
        );
        replay.lose(name, offset, 0, &reason)?;
    }
    replay.apply(&batch, number)
}

/// After a clean close, the log up to where the close recorded it must be intact: the close
/// had synced all of it, so nothing there is a torn write. (Writes of a later session,
/// after that point, may end in a torn tail as after any crash.)
fn check_log_end(
    replay: &mut Replay<'_>,
    end: LogEnd,
    numbers: &[u64],
    lengths: &[u64],
) -> Result<()> {
    let name = segment_name(end.segment);
    let closed_at = (end.segment, end.length);
    let before_close = |d: &Dropped| {
        parse_segment_name(&d.file).is_some_and(|number| (number, d.offset) < closed_at)
    };
    let found = numbers.iter().position(|&n| n == end.segment);
    let problem = match found {
        // A segment that was empty at the close held nothing: a later open that found it
        // still empty may have deleted it (writes since went to later segments, whose
        // records must still reach the close's last sequence, checked below).
        None if end.length > 0 => Some(format!(
            "{name}, where the log ended at the last close, is missing"
        )),
        Some(i) if lengths[i] < end.length => Some(format!(
            "{name} is {} bytes, but it was {} at the last close",
            lengths[i], end.length
        )),
        _ if replay.report.dropped.iter().any(before_close) => Some(format!(
            "the log is damaged before where it ended at the last close ({name}, offset {})",
            end.length
        )),
        _ if replay.last < end.last_sequence => Some(format!(
            "the log holds writes up to sequence {}, but it held {} at the last close",
            replay.last, end.last_sequence
        )),
        _ => None,
    };
    if let Some(problem) = problem {
        if replay.options.recovery_mode == RecoveryMode::Strict {
            return Err(Error::Corruption(problem));
        }
        // Nothing dropped before that point was a torn write: the close had synced it.
        let mut reported = false;
        for dropped in replay.report.dropped.iter_mut().filter(|d| before_close(d)) {
            dropped.torn_tail = false;
            reported = true;
        }
        if !reported {
            replay.drop_range(&name, end.length, 0, &problem, false);
        }
    }
    Ok(())
}
