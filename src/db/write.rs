//! The write path: validate, reserve sequence numbers and log space (one atomic step),
//! frame the record into the log buffer, insert into the memtable, publish in order, then
//! wait for durability (sync) or leave it to the next flush (relaxed).

use super::state::MemState;
use super::Db;
use crate::batch::{BatchOp, WriteBatch};
use crate::error::{Error, Result};
use crate::key::{SequenceNumber, ValueKind};
use crate::memtable::Memtable;
use crate::metrics::{Metrics, Op, Stopwatch, Timed};
use crate::options::{Durability, Options, BATCH_SIZE_LIMIT};
use crate::sync::stall::Stall;
use crate::wal::format::frame;
use crate::wal::segment::{Segment, MAX_OPERATIONS};
use arc_swap::Guard;
use std::sync::Arc;

/// An empty key is a key like any other (it sorts first), as in LevelDB.
pub(super) fn check_key(options: &Options, key: &[u8]) -> Result<()> {
    if key.len() > options.max_key_size {
        return Err(Error::invalid(format!(
            "key is {} bytes, the limit is {}",
            key.len(),
            options.max_key_size
        )));
    }
    Ok(())
}

fn check_op(options: &Options, op: &BatchOp<'_>) -> Result<()> {
    check_key(options, op.key())?;
    if op.value().len() > options.max_value_size {
        return Err(Error::invalid(format!(
            "value is {} bytes, the limit is {}",
            op.value().len(),
            options.max_value_size
        )));
    }
    Ok(())
}

/// What a valid batch writes.
struct BatchSize {
    /// Key and value bytes.
    user_bytes: u64,
    puts: u64,
    deletes: u64,
}

/// Checks every operation; measures what the batch writes.
fn check_batch(options: &Options, batch: &WriteBatch) -> Result<BatchSize> {
    if batch.encoded_len() > BATCH_SIZE_LIMIT || batch.len() as u64 > MAX_OPERATIONS / 2 {
        return Err(Error::invalid("the batch is too large; split it"));
    }
    let mut size = BatchSize {
        user_bytes: 0,
        puts: 0,
        deletes: 0,
    };
    for op in batch.iter() {
        let op = op?;
        check_op(options, &op)?;
        size.user_bytes += (op.key().len() + op.value().len()) as u64;
        match op.kind() {
            ValueKind::Put => size.puts += 1,
            ValueKind::Delete => size.deletes += 1,
        }
    }
    Ok(size)
}

impl BatchSize {
    /// Counts the batch's operations and, if it was timed, its latency since `timer` started.
    fn record(&self, metrics: &Metrics, timer: Option<Stopwatch>) {
        metrics.count(Op::Put, self.puts);
        metrics.count(Op::Delete, self.deletes);
        metrics.count(Op::Batch, 1);
        let timed = if self.puts + self.deletes > 1 {
            Timed::Batch
        } else {
            Timed::Put
        };
        if let Some(timer) = timer {
            metrics.record(timed, timer.micros());
        }
    }
}

/// Where a published batch went.
struct Applied {
    /// The memtable state it went into (a guard: loading the state takes no shared count,
    /// which writers on several threads would otherwise all bump).
    state: Guard<Arc<MemState>>,
    /// The end of its log record.
    end: u64,
    /// The sequence number of its first operation.
    first_seq: SequenceNumber,
}

impl Db {
    /// Sets `key` to `value`; returns the write's sequence number.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an oversized key or value; see [`Db::write`].
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<SequenceNumber> {
        self.write_single(ValueKind::Put, key, Some(value))
    }

    /// Removes `key` (a no-op if it is absent); returns the write's sequence number.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an oversized key; see [`Db::write`].
    pub fn delete(&self, key: &[u8]) -> Result<SequenceNumber> {
        self.write_single(ValueKind::Delete, key, None)
    }

    /// A batch of one operation, written through this thread's reused batch.
    fn write_single(
        &self,
        kind: ValueKind,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<SequenceNumber> {
        WriteBatch::with_single(kind, key, value, |batch| self.write(batch))
    }

    /// Applies every operation of `batch` atomically: readers see all of it or none of it,
    /// recovery replays all of it or none of it, and later operations on the same key win.
    /// Nothing is written if any operation is invalid. With [`Durability::Sync`] it returns
    /// once the batch is synced to storage. Returns the sequence number of its first
    /// operation (operation `i` has that plus `i`); an empty batch writes nothing and
    /// returns the last sequence number.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid operations; [`Error::StoreFull`] past the
    /// memory limit; storage errors ([`Error::Io`], [`Error::QuotaExceeded`]), after which
    /// writes fail until the store is reopened.
    pub fn write(&self, batch: &WriteBatch) -> Result<SequenceNumber> {
        let timer = (self.inner.metrics)
            .times_next_write(batch.len())
            .then(Stopwatch::start);
        let size = check_batch(&self.inner.options, batch)?;
        if batch.is_empty() {
            return Ok(self.inner.publisher.visible());
        }
        let passage = self.inner.gate.enter(self.inner.options.stall_timeout_ms)?;
        let applied = self.apply(batch, size.user_bytes)?;
        drop(passage);
        self.settle(&applied)?;
        size.record(&self.inner.metrics, timer);
        Ok(applied.first_seq)
    }

    /// Applies `batch` only if every key of `checks` is at the version given there (the
    /// one [`Db::get_with_version`] reports; `None`: absent or deleted). The check and the
    /// write are atomic: no other write lands between them. An empty batch only checks.
    /// Returns what [`Db::write`] does.
    ///
    /// # Errors
    /// [`Error::Conflict`] (nothing written) if a key is at another version; as
    /// [`Db::write`] otherwise.
    pub fn write_if(
        &self,
        checks: &[(&[u8], Option<SequenceNumber>)],
        batch: &WriteBatch,
    ) -> Result<SequenceNumber> {
        let timer = (self.inner.metrics)
            .times_next_write(batch.len())
            .then(Stopwatch::start);
        let size = check_batch(&self.inner.options, batch)?;
        self.inner.metrics.count(Op::ConditionalWrite, 1);
        for (key, _) in checks {
            check_key(&self.inner.options, key)?;
        }
        // With the gate closed every write that started is published and no other starts.
        let closed = self.inner.gate.close(self.inner.options.stall_timeout_ms)?;
        let seq = self.inner.publisher.visible();
        for (key, expected) in checks {
            let found = self
                .get_with_version_at(key, seq)?
                .map(|(_, version)| version);
            if found != *expected {
                self.inner.metrics.count(Op::Conflict, 1);
                let show = |v: Option<SequenceNumber>| v.map_or("absent".into(), |v| v.to_string());
                return Err(Error::Conflict(format!(
                    "key {:?} is at version {}, the batch expected {}",
                    String::from_utf8_lossy(key),
                    show(found),
                    show(*expected)
                )));
            }
        }
        if batch.is_empty() {
            return Ok(seq);
        }
        let applied = self.apply(batch, size.user_bytes)?;
        drop(closed);
        self.settle(&applied)?;
        size.record(&self.inner.metrics, timer);
        Ok(applied.first_seq)
    }

    /// Logs, inserts and publishes `batch`.
    fn apply(&self, batch: &WriteBatch, user_bytes: u64) -> Result<Applied> {
        let inner = &*self.inner;
        let limit = inner.options.stall_timeout_ms;
        // Waiting for another thread's flush when short of memory, and for a switch in
        // progress: both bounded, in case that thread stopped half way.
        let mut memory_wait = Stall::new(limit);
        let mut switch_wait = Stall::new(limit);
        loop {
            inner.publisher.check()?;
            if let Some(log) = &inner.log {
                log.check()?;
            }
            let state = inner.state.load();
            if state.memory_usage() >= inner.options.memory_limit {
                // Short of memory: flush a frozen memtable here (or wait for the thread
                // that is flushing one) rather than fail.
                if !state.frozen.is_empty() {
                    let worked = self.try_maintain(usize::MAX)?;
                    if worked == Some(true) {
                        memory_wait = Stall::new(limit);
                        continue;
                    }
                    // Found nothing to flush: another thread may have flushed this state's
                    // frozen memtable between the load above and the lock (its state is
                    // newer): look again rather than report a full store.
                    if !Arc::ptr_eq(&inner.state.load(), &state) {
                        continue;
                    }
                    // Another thread holds the work (a flush, or a compaction between two
                    // flushes), or writers are still inside the oldest memtable: wait for
                    // them, up to a limit. Without either, storage cannot take a table now.
                    let busy =
                        worked.is_none() || state.frozen.last().is_some_and(|m| !m.is_quiescent());
                    if busy && memory_wait.snooze() {
                        continue;
                    }
                }
                return Err(Error::StoreFull(format!(
                    "memtables hold {} bytes, the limit is {}",
                    state.memory_usage(),
                    inner.options.memory_limit
                )));
            }
            let Some(writer) = state.active.begin_write() else {
                switch_wait.wait("a write")?; // a switch is installing the next memtable
                continue;
            };
            let logged = state.segment.is_logged();
            let payload_len = if logged { batch.encoded_len() } else { 0 };
            let Some(slot) = state.segment.reserve(batch.len() as u64, payload_len) else {
                drop(writer);
                self.switch_memtable(&state)?;
                switch_wait.wait("a write")?;
                continue;
            };
            if logged {
                let mut payload = batch.clone();
                payload.set_sequence(slot.first_seq);
                let mut framed = Vec::with_capacity((slot.end - slot.offset) as usize);
                frame(slot.offset, payload.encoded(), &mut framed);
                state.segment.write(&slot, &framed);
            }
            writer.add_batch(slot.first_seq, batch);
            let range = crate::db::sequence::Range {
                first: slot.first_seq,
                last: slot.last_seq,
                segment: state.segment.number(),
                end: slot.end,
            };
            let published = inner
                .publisher
                .publish(range, inner.options.stall_timeout_ms, |end| {
                    state.segment.publish(end)
                });
            if let Err(err) = published {
                // Never visible, never logged (the log stops at the hole): not written.
                if let Some(log) = &inner.log {
                    log.poison(err.clone());
                }
                return Err(err);
            }
            inner
                .user_bytes
                .fetch_add(user_bytes, crate::sync::atomic::Ordering::Relaxed);
            drop(writer);
            return Ok(Applied {
                state,
                end: slot.end,
                first_seq: slot.first_seq,
            });
        }
    }

    /// After a batch is published: waits for durability (sync) or starts a flush of the
    /// log when enough is pending (relaxed), and switches a full memtable.
    fn settle(&self, applied: &Applied) -> Result<()> {
        let Applied { state, end, .. } = applied;
        let end = *end;
        let inner = &*self.inner;
        if let Some(log) = &inner.log {
            match inner.options.durability {
                Durability::Sync => {
                    log.sync_to(&state.segment, end, inner.options.stall_timeout_ms)?
                }
                Durability::Relaxed => {
                    if state.segment.unflushed() >= inner.options.relaxed_flush_bytes as u64 {
                        log.try_flush()?;
                    }
                }
            }
        }
        // In-memory stores have no log to bound: their memtable just grows. A switch that
        // cannot start its segment yet is retried by a later write; this one is done.
        let size = state.active.approximate_size();
        let slow = inner.options.latency_switch.is_some_and(|rule| {
            size >= rule.min_memtable_bytes
                && inner.metrics.write_latency_average() > rule.average_micros as f64
        });
        if state.segment.is_logged() && (size >= inner.options.memtable_size || slow) {
            let _ = self.switch_memtable(state);
        }
        Ok(())
    }

    /// Freezes the active memtable, if it holds anything, and starts the next one with a
    /// new log segment, so a flush can write it to a table (what [`Db::compact`] does
    /// first). A no-op for in-memory stores.
    ///
    /// # Errors
    /// A storage error creating the next segment's file.
    pub fn freeze_memtable(&self) -> Result<()> {
        let state = self.inner.state.load_full();
        if !state.segment.is_logged() || state.active.is_empty() {
            return Ok(());
        }
        self.switch_memtable(&state)
    }

    /// Freezes the memtable of `seen` and starts the next one with a new log segment,
    /// unless another writer is doing it or did it already.
    ///
    /// # Errors
    /// A storage error creating the next segment's file. Nothing is switched then, and
    /// the current segment stays writable.
    fn switch_memtable(&self, seen: &Arc<MemState>) -> Result<()> {
        match self.inner.switching.try_lock() {
            Some(_held) => self.switch_locked(seen),
            None => Ok(()),
        }
    }

    fn switch_locked(&self, seen: &Arc<MemState>) -> Result<()> {
        let inner = &*self.inner;
        if !Arc::ptr_eq(&inner.state.load(), seen) {
            return Ok(()); // switched already
        }
        let logged = seen.segment.is_logged();
        // The file first: if it cannot be created, the current segment stays open.
        let mut next = Segment::new(seen.segment.number() + 1, 0, logged);
        let first_segment = next.number();
        if let Some(log) = &inner.log {
            log.create_file(&next)?;
        }
        let Some(last_seq) = seen.segment.seal() else {
            return Ok(());
        };
        next.set_base(last_seq);
        let next = Arc::new(next);
        if let Some(log) = &inner.log {
            log.add_segment(Arc::clone(&next));
        }
        seen.active.freeze();
        log::debug!(
            segment = first_segment,
            bytes = seen.active.approximate_size(),
            write_latency_micros = inner.metrics.write_latency_average();
            "switched memtables"
        );
        inner.metrics.count(Op::Switch, 1);
        inner.metrics.reset_write_latency_average();
        let active = Arc::new(Memtable::for_store(&inner.options, first_segment));
        // A concurrent flush may drop a frozen memtable meanwhile: build on the latest.
        inner.state.rcu(|current| {
            let mut frozen = Vec::with_capacity(current.frozen.len() + 1);
            frozen.push(Arc::clone(&current.active));
            frozen.extend(current.frozen.iter().cloned());
            MemState {
                active: Arc::clone(&active),
                segment: Arc::clone(&next),
                frozen,
            }
        });
        self.wake_worker();
        Ok(())
    }
}
