//! The read path: point reads (memtables, then tables newest level first) and scans
//! (every source merged at one sequence number).

use super::Db;
use crate::error::Result;
use crate::iter::{DbIter, InternalIterator, MergingIterator, ScanOptions};
use crate::key::SequenceNumber;
use crate::memtable::Lookup;
use crate::metrics::{Op, Stopwatch, Timed};
use std::sync::Arc;

/// The newest entry of a key: its sequence number and its value (`None` for a delete),
/// borrowed where it lies.
type Newest<'a> = (SequenceNumber, Option<&'a [u8]>);

impl Db {
    /// The value of `key`, or `None` if it is absent.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for an oversized key.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_at(key, self.inner.publisher.visible())
    }

    /// Calls `read` with the value of `key` (`None` if absent), where it lies: a value in
    /// a memtable is not copied out first (the JS boundary copies it once, into the wasm
    /// memory JS reads).
    ///
    /// # Errors
    /// As [`Db::get`] (then `read` is not called).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        self.get_at_with(key, self.inner.publisher.visible(), read)
    }

    pub(super) fn get_at(&self, key: &[u8], seq: SequenceNumber) -> Result<Option<Vec<u8>>> {
        let mut value = None;
        self.get_at_with(key, seq, &mut |found| value = found.map(<[u8]>::to_vec))?;
        Ok(value)
    }

    fn get_at_with(
        &self,
        key: &[u8],
        seq: SequenceNumber,
        read: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<()> {
        let metrics = &self.inner.metrics;
        let timer = metrics.times_next_get().then(Stopwatch::start);
        self.newest_with(key, seq, &mut |found| {
            let value = found.and_then(|(_, value)| value);
            metrics.count(Op::Get, 1);
            metrics.read_bytes(value.map_or(0, |v| (key.len() + v.len()) as u64));
            read(value);
        })?;
        if let Some(timer) = timer {
            metrics.record(Timed::Get, timer.micros());
        }
        Ok(())
    }

    /// The value of `key` with its version: the sequence number of the write that set it.
    /// A conditional write ([`Db::write_if`]) can require that version to be unchanged.
    ///
    /// # Errors
    /// As [`Db::get`].
    pub fn get_with_version(&self, key: &[u8]) -> Result<Option<(Vec<u8>, SequenceNumber)>> {
        self.get_with_version_at(key, self.inner.publisher.visible())
    }

    pub(super) fn get_with_version_at(
        &self,
        key: &[u8],
        seq: SequenceNumber,
    ) -> Result<Option<(Vec<u8>, SequenceNumber)>> {
        Ok(self
            .newest_at(key, seq)?
            .and_then(|(version, value)| value.map(|v| (v, version))))
    }

    /// The newest entry of `key` visible at `seq`: its sequence number and its value
    /// (`None` for a delete); `None` if no entry is visible.
    fn newest_at(
        &self,
        key: &[u8],
        seq: SequenceNumber,
    ) -> Result<Option<(SequenceNumber, Option<Vec<u8>>)>> {
        let mut newest = None;
        self.newest_with(key, seq, &mut |found| {
            newest = found.map(|(version, value)| (version, value.map(<[u8]>::to_vec)));
        })?;
        Ok(newest)
    }

    /// Calls `read` with the newest entry of `key` visible at `seq`, as `newest_at`
    /// answers it, its value borrowed where it lies (once, unless this fails).
    fn newest_with(
        &self,
        key: &[u8],
        seq: SequenceNumber,
        read: &mut dyn FnMut(Option<Newest>),
    ) -> Result<()> {
        super::write::check_key(&self.inner.options, key)?;
        // Memtables first, then tables: a flush installs its table before it drops the
        // memtable, so loading the state before the version never misses an entry.
        let state = self.inner.state.load();
        if let Some((found, lookup)) = state
            .memtables()
            .find_map(|memtable| memtable.get_versioned(key, seq))
        {
            let value = match lookup {
                Lookup::Found(value) => Some(value),
                _ => None,
            };
            read(Some((found, value)));
            return Ok(());
        }
        let Some(versions) = &self.inner.versions else {
            read(None);
            return Ok(());
        };
        let seek = crate::key::internal_key(key, seq, crate::key::ValueKind::SEEK);
        // (A version calls it once, with the newest version it finds.)
        let found = versions
            .peek()
            .get(&seek, &mut |found_seq, kind, value| match kind {
                crate::key::ValueKind::Put => read(Some((found_seq, Some(value)))),
                crate::key::ValueKind::Delete => read(Some((found_seq, None))),
            })?;
        if !found {
            read(None);
        }
        Ok(())
    }

    /// The entries within `options`, read at the current sequence number.
    ///
    /// # Errors
    /// None yet; reading tables will be able to report corruption.
    pub fn scan(&self, options: ScanOptions) -> Result<DbIter> {
        self.scan_at(options, self.inner.publisher.visible())
    }

    pub(super) fn scan_at(&self, options: ScanOptions, seq: SequenceNumber) -> Result<DbIter> {
        let state = self.inner.state.load();
        let mut children: Vec<Box<dyn InternalIterator>> = state
            .memtables()
            .map(|m| Box::new(m.iter()) as Box<dyn InternalIterator>)
            .collect();
        if let Some(versions) = &self.inner.versions {
            children.extend(versions.current().iters());
        }
        self.inner.metrics.count(Op::Scan, 1);
        Ok(DbIter::new(MergingIterator::new(children), seq, options)
            .counting_into(Arc::clone(&self.inner.metrics)))
    }
}
