//! Writes a table: data blocks, then the bloom filter block, the index block, the footer.

use super::block::BlockBuilder;
use super::bloom::BloomBuilder;
use super::compression::Compression;
use super::format::{write_block, BlockHandle, Footer};
use crate::error::Result;
use crate::key;
use crate::storage::Storage;
use std::sync::Arc;

/// How tables are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableOptions {
    /// Uncompressed size at which a data block is closed. Default 4 KiB.
    pub block_size: usize,
    /// Entries between restart points in data blocks. Default 16.
    pub restart_interval: usize,
    /// Codec tried on every block. Default LZ4.
    pub compression: Compression,
    /// Bloom filter bits per key. Default 10 (about 1% false positives).
    pub bloom_bits_per_key: usize,
}

impl Default for TableOptions {
    fn default() -> TableOptions {
        TableOptions {
            block_size: 4096,
            restart_interval: 16,
            compression: Compression::Lz4,
            bloom_bits_per_key: 10,
        }
    }
}

/// What a finished table holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableMeta {
    /// File size in bytes.
    pub size: u64,
    /// Entries (internal keys).
    pub entries: u64,
    /// The smallest internal key.
    pub smallest: Vec<u8>,
    /// The largest internal key.
    pub largest: Vec<u8>,
    /// Bytes of all blocks before compression.
    pub raw_bytes: u64,
    /// Bytes of all blocks as stored.
    pub stored_bytes: u64,
}

/// Builds one table file from internal keys added in increasing order.
pub struct TableBuilder {
    storage: Arc<dyn Storage>,
    name: String,
    options: TableOptions,
    data: BlockBuilder,
    index: BlockBuilder,
    bloom: BloomBuilder,
    /// Bytes already appended to the file; `out` holds the bytes after them.
    flushed: u64,
    out: Vec<u8>,
    entries: u64,
    smallest: Vec<u8>,
    last_key: Vec<u8>,
    raw_bytes: u64,
    stored_bytes: u64,
}

impl TableBuilder {
    /// Starts table `name` in `storage` (replacing any file of that name).
    ///
    /// # Errors
    /// Storage errors.
    pub fn new(
        storage: Arc<dyn Storage>,
        name: &str,
        options: TableOptions,
    ) -> Result<TableBuilder> {
        storage.create(name)?;
        Ok(TableBuilder {
            storage,
            name: name.to_string(),
            options,
            data: BlockBuilder::new(options.restart_interval),
            index: BlockBuilder::new(1),
            bloom: BloomBuilder::new(options.bloom_bits_per_key),
            flushed: 0,
            out: Vec::new(),
            entries: 0,
            smallest: Vec::new(),
            last_key: Vec::new(),
            raw_bytes: 0,
            stored_bytes: 0,
        })
    }

    /// Adds an entry; internal keys must come in increasing order.
    ///
    /// # Errors
    /// Storage errors while writing a full block.
    pub fn add(&mut self, internal_key: &[u8], value: &[u8]) -> Result<()> {
        debug_assert!(
            self.entries == 0 || key::compare(&self.last_key, internal_key).is_lt(),
            "table keys out of order"
        );
        if self.entries == 0 {
            self.smallest = internal_key.to_vec();
        }
        self.bloom.add(key::user_key(internal_key));
        self.data.add(internal_key, value);
        self.last_key.clear();
        self.last_key.extend_from_slice(internal_key);
        self.entries += 1;
        if self.data.estimated_size() >= self.options.block_size {
            self.finish_data_block()?;
        }
        Ok(())
    }

    /// Entries added so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Bytes the table would take if finished now (about).
    pub fn estimated_size(&self) -> u64 {
        self.flushed + self.out.len() as u64 + self.data.estimated_size() as u64
    }

    fn finish_data_block(&mut self) -> Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let contents = self.data.finish();
        let handle = self.put_block(&contents, self.options.compression);
        // The index maps the block's last key to it: a seek target at or below that key
        // is in this block or an earlier one.
        let mut encoded = Vec::new();
        handle.encode_to(&mut encoded);
        self.index.add(&self.last_key, &encoded);
        if self.out.len() >= 64 * 1024 {
            self.storage.append(&self.name, &self.out)?;
            self.flushed += self.out.len() as u64;
            self.out.clear();
        }
        Ok(())
    }

    fn put_block(&mut self, contents: &[u8], compression: Compression) -> BlockHandle {
        let offset = self.flushed + self.out.len() as u64;
        let handle = write_block(&mut self.out, offset, contents, compression);
        self.raw_bytes += contents.len() as u64;
        self.stored_bytes += handle.size;
        handle
    }

    /// Writes the remaining blocks and the footer, syncs the file, and describes it.
    ///
    /// # Errors
    /// Storage errors.
    pub fn finish(mut self) -> Result<TableMeta> {
        self.finish_data_block()?;
        let filter = self.bloom.finish();
        let filter = self.put_block(&filter, Compression::None);
        let index = self.index.finish();
        let index = self.put_block(&index, self.options.compression);
        self.out
            .extend_from_slice(&Footer { filter, index }.encode());
        self.storage.append(&self.name, &self.out)?;
        self.storage.sync(&self.name)?;
        let size = self.flushed + self.out.len() as u64;
        Ok(TableMeta {
            size,
            entries: self.entries,
            smallest: self.smallest,
            largest: self.last_key,
            raw_bytes: self.raw_bytes,
            stored_bytes: self.stored_bytes,
        })
    }
}
