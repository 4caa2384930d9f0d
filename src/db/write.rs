//! The write path: validate, reserve sequence numbers, insert into the memtable, publish.

use super::Db;
use crate::batch::{BatchOp, WriteBatch};
use crate::error::{Error, Result};
use crate::options::Options;

pub(super) fn check_key(options: &Options, key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("key is empty"));
    }
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

impl Db {
    /// Sets `key` to `value`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or oversized key or value.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put(key, value);
        self.write(&batch)
    }

    /// Removes `key` (a no-op if it is absent).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or oversized key.
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.delete(key);
        self.write(&batch)
    }

    /// Applies every operation of `batch` atomically: readers see all of it or none of it,
    /// and later operations on the same key win. Nothing is written if any operation is
    /// invalid.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or oversized key or value;
    /// [`Error::Corruption`] for a malformed batch.
    pub fn write(&self, batch: &WriteBatch) -> Result<()> {
        let options = &self.inner.options;
        for op in batch.iter() {
            check_op(options, &op?)?;
        }
        if batch.is_empty() {
            return Ok(());
        }
        let memtable = &self.inner.memtable;
        let Some(writer) = memtable.begin_write() else {
            return Err(Error::Unsupported("the memtable is frozen".into()));
        };
        let reservation = self.inner.sequencer.reserve(batch.len() as u64)?;
        for (seq, op) in (reservation.first()..).zip(batch.iter().flatten()) {
            writer.add(seq, op.kind(), op.key(), op.value());
        }
        // Dropping the reservation publishes the batch to readers (after earlier batches).
        drop(reservation);
        Ok(())
    }
}
