//! Reads a table: the footer, index and filter at open; data blocks on demand, through the
//! shared block cache. Every block is checked (CRC32C) before use.

use super::block::{Block, BlockIter};
use super::bloom;
use super::cache::BlockCache;
use super::format::{read_block, BlockHandle, Footer, FOOTER_LEN};
use super::readahead::Readahead;
use crate::error::{Error, Result};
use crate::iter::InternalIterator;
use crate::key;
use crate::storage::Storage;
use std::sync::Arc;

/// An open table file.
pub struct Table {
    storage: Arc<dyn Storage>,
    name: String,
    /// Identifies the table in the block cache.
    id: u64,
    size: u64,
    index: Arc<Block>,
    filter: Vec<u8>,
    cache: Option<Arc<BlockCache>>,
}

impl Table {
    /// Opens table `name`, reading and checking its footer, index and filter.
    ///
    /// # Errors
    /// [`Error::Corruption`] for a damaged or foreign file; storage errors.
    pub fn open(
        storage: Arc<dyn Storage>,
        name: &str,
        id: u64,
        cache: Option<Arc<BlockCache>>,
    ) -> Result<Table> {
        let size = storage.len(name)?;
        if size < FOOTER_LEN as u64 {
            return Err(Error::Corruption(format!(
                "{name}: too short to be a table"
            )));
        }
        let mut footer = [0u8; FOOTER_LEN];
        if storage.read_at(name, size - FOOTER_LEN as u64, &mut footer)? != FOOTER_LEN {
            return Err(Error::Corruption(format!("{name}: footer cut short")));
        }
        let footer =
            Footer::decode(&footer).map_err(|e| Error::Corruption(format!("{name}: {e}")))?;
        let index = Block::new(read_block(&*storage, name, footer.index, size)?)?;
        let filter = read_block(&*storage, name, footer.filter, size)?;
        Ok(Table {
            storage,
            name: name.to_string(),
            id,
            size,
            index: Arc::new(index),
            filter,
            cache,
        })
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The data block at `handle_bytes` (an index entry's value): from the cache, else read
    /// (through `readahead` for a stepping cursor, with its direction) and cached if `keep`.
    fn block(
        &self,
        handle_bytes: &[u8],
        readahead: Option<(&mut Readahead, Step)>,
        keep: bool,
    ) -> Result<Arc<Block>> {
        let (handle, _) = BlockHandle::decode(handle_bytes)?;
        if let Some(block) = self
            .cache
            .as_ref()
            .and_then(|c| c.get(self.id, handle.offset))
        {
            return Ok(block);
        }
        let storage = &*self.storage;
        let bytes = match readahead {
            Some((window, step)) => {
                window.block(storage, &self.name, handle, self.size, step == Step::Back)?
            }
            None => read_block(storage, &self.name, handle, self.size)?,
        };
        let block = Arc::new(Block::new(bytes)?);
        if let Some(cache) = self.cache.as_ref().filter(|_| keep) {
            cache.insert(self.id, handle.offset, Arc::clone(&block));
        }
        Ok(block)
    }

    /// The newest version of `target`'s user key at or below its sequence number (an
    /// internal key to seek), unless the bloom filter rules the user key out.
    ///
    /// # Errors
    /// [`Error::Corruption`] for damaged blocks; storage errors.
    pub fn get(&self, target: &[u8]) -> Result<Option<Found>> {
        let mut found = None;
        self.get_with(target, &mut |seq, kind, value| {
            found = Some(Found {
                seq,
                kind,
                value: value.to_vec(),
            });
        })?;
        Ok(found)
    }

    /// As [`Table::get`], its value borrowed from the block where it lies (a read copies
    /// it once, where it goes): calls `read(seq, kind, value)` if the table holds a
    /// version, and answers whether it did.
    pub(crate) fn get_with(
        &self,
        target: &[u8],
        read: &mut dyn FnMut(key::SequenceNumber, key::ValueKind, &[u8]),
    ) -> Result<bool> {
        let user = key::user_key(target);
        if !bloom::may_contain(&self.filter, user) {
            return Ok(false);
        }
        let mut index = self.index.iter(key::compare);
        index.seek(target);
        index.status()?;
        if !index.valid() {
            return Ok(false);
        }
        let block = self.block(index.value(), None, true)?;
        let mut entries = block.iter(key::compare);
        entries.seek(target);
        entries.status()?;
        if !entries.valid() {
            return Ok(false);
        }
        let Some(parsed) = key::parse(entries.key()).filter(|parsed| parsed.user_key == user)
        else {
            return Ok(false);
        };
        read(parsed.seq, parsed.kind, entries.value());
        Ok(true)
    }

    /// A cursor over every entry, holding the table open.
    pub fn iter(self: &Arc<Self>) -> TableIter {
        self.cursor(true)
    }

    /// A cursor for one pass over the table that will not come back (a compaction's, whose
    /// inputs are deleted after it): blocks the cache lacks are read but not kept, so that
    /// the pass does not evict the blocks reads use (LevelDB's compactions read with
    /// `fill_cache` off for the same reason).
    pub fn passing_iter(self: &Arc<Self>) -> TableIter {
        self.cursor(false)
    }

    /// A cursor whose blocks read go into the cache if `keeps`.
    pub(crate) fn cursor(self: &Arc<Self>, keeps: bool) -> TableIter {
        TableIter {
            index: self.index.iter(key::compare),
            table: Arc::clone(self),
            data: None,
            error: None,
            readahead: Readahead::new(),
            keeps,
        }
    }
}

/// A version of a key a table holds: what [`Table::get`] finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The sequence number of the write.
    pub seq: key::SequenceNumber,
    /// Put or delete.
    pub kind: key::ValueKind,
    /// The value (empty for a delete).
    pub value: Vec<u8>,
}

/// How a table cursor came to the data block it loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// From the block before it.
    Forward,
    /// From the block after it.
    Back,
    /// From anywhere: a seek.
    Jump,
}

/// A two-level cursor: the index picks a data block, the block's cursor walks it.
pub struct TableIter {
    table: Arc<Table>,
    index: BlockIter,
    data: Option<BlockIter>,
    error: Option<Error>,
    /// The file read ahead of a scan (see readahead.rs).
    readahead: Readahead,
    /// Blocks read go into the cache (see `Table::passing_iter`).
    keeps: bool,
}

impl TableIter {
    /// Loads the data block the index points at (or clears it). A cursor that stepped to it
    /// from the block beside it reads the file ahead; one that jumped (a seek) starts over.
    fn load_block(&mut self, moved: Step) -> bool {
        self.data = None;
        if !self.index.valid() {
            return false;
        }
        if moved == Step::Jump {
            self.readahead.reset();
        }
        let readahead = (moved != Step::Jump).then_some((&mut self.readahead, moved));
        match self.table.block(self.index.value(), readahead, self.keeps) {
            Ok(block) => {
                self.data = Some(block.iter(key::compare));
                true
            }
            Err(err) => {
                self.error = Some(err);
                false
            }
        }
    }

    fn data_valid(&self) -> bool {
        self.data.as_ref().is_some_and(|d| d.valid())
    }

    /// Moves forward over empty or exhausted blocks.
    fn skip_forward(&mut self) {
        while !self.data_valid() && self.error.is_none() && self.index.valid() {
            self.index.next();
            if self.load_block(Step::Forward) {
                if let Some(d) = &mut self.data {
                    d.seek_to_first();
                }
            }
        }
    }

    /// Moves backward over empty or exhausted blocks.
    fn skip_backward(&mut self) {
        while !self.data_valid() && self.error.is_none() && self.index.valid() {
            self.index.prev();
            if self.load_block(Step::Back) {
                if let Some(d) = &mut self.data {
                    d.seek_to_last();
                }
            }
        }
    }

    fn data(&self) -> &BlockIter {
        match &self.data {
            Some(d) => d,
            None => panic!("table iterator used while not valid"),
        }
    }
}

impl InternalIterator for TableIter {
    fn valid(&self) -> bool {
        self.error.is_none() && self.data_valid()
    }
    fn key(&self) -> &[u8] {
        self.data().key()
    }
    fn value(&self) -> &[u8] {
        self.data().value()
    }
    fn next(&mut self) {
        if let Some(d) = &mut self.data {
            d.next();
        }
        self.skip_forward();
    }
    fn prev(&mut self) {
        if let Some(d) = &mut self.data {
            d.prev();
        }
        self.skip_backward();
    }
    fn seek(&mut self, target: &[u8]) {
        self.index.seek(target);
        if self.load_block(Step::Jump) {
            if let Some(d) = &mut self.data {
                d.seek(target);
            }
        }
        self.skip_forward();
    }
    fn seek_for_prev(&mut self, target: &[u8]) {
        self.seek(target);
        if !self.valid() {
            if self.error.is_none() {
                self.seek_to_last();
            }
        } else if key::compare(self.key(), target).is_gt() {
            self.prev();
        }
    }
    fn seek_to_first(&mut self) {
        self.index.seek_to_first();
        if self.load_block(Step::Jump) {
            if let Some(d) = &mut self.data {
                d.seek_to_first();
            }
        }
        self.skip_forward();
    }
    fn seek_to_last(&mut self) {
        self.index.seek_to_last();
        if self.load_block(Step::Jump) {
            if let Some(d) = &mut self.data {
                d.seek_to_last();
            }
        }
        self.skip_backward();
    }
    fn status(&self) -> Result<()> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        self.index.status()?;
        self.data.as_ref().map_or(Ok(()), |d| d.status())
    }
}
