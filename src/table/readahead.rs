//! Readahead for a scan: a cursor stepping from one data block to the next (forward or
//! backward) reads a window of the file's bytes in one storage call, several blocks at
//! once, and takes the blocks that follow from it. On OPFS and IndexedDB every storage call is a call out to JS, so a
//! scan of blocks the cache does not hold made one per block (4 KiB) before.
//!
//! The window starts at [`FIRST_WINDOW`] and doubles with each read up to [`MAX_WINDOW`],
//! as RocksDB's auto-readahead does: a short range read pays little, a long scan soon reads
//! large spans. Table files never change once written, so bytes read ahead stay true.

use super::format::{block_end, decode_block, BlockHandle};
use crate::error::{Error, Result};
use crate::storage::Storage;

/// The first window a cursor reads ahead, in bytes.
pub(crate) const FIRST_WINDOW: usize = 16 << 10;
/// The largest window, in bytes (held by each cursor of a scan while it reads ahead).
pub(crate) const MAX_WINDOW: usize = 128 << 10;

/// A window of one table file's bytes, read ahead of a scan.
#[derive(Debug, Default)]
pub(crate) struct Readahead {
    /// The file offset of `bytes[0]`.
    start: u64,
    bytes: Vec<u8>,
    /// The size of the next window read.
    window: usize,
}

impl Readahead {
    /// An empty window: the first block read fills one of [`FIRST_WINDOW`] bytes.
    pub(crate) fn new() -> Readahead {
        Readahead {
            start: 0,
            bytes: Vec::new(),
            window: FIRST_WINDOW,
        }
    }

    /// Starts over at [`FIRST_WINDOW`] and lets the window's memory go (a seek: the scan's
    /// next read may be short, and an idle cursor holds nothing).
    pub(crate) fn reset(&mut self) {
        self.window = FIRST_WINDOW;
        self.bytes = Vec::new();
    }

    /// The block at `handle` of table `name`, checked and decompressed, from the window;
    /// when the window does not hold it, a new window is read from the block on, toward
    /// where the cursor goes (the file's end, or its start for a cursor stepping back).
    ///
    /// # Errors
    /// [`Error::Corruption`] for a damaged block or a handle outside the file; storage errors.
    pub(crate) fn block(
        &mut self,
        storage: &dyn Storage,
        name: &str,
        handle: BlockHandle,
        file_len: u64,
        backward: bool,
    ) -> Result<Vec<u8>> {
        let end = block_end(name, handle, file_len)?;
        let held = self.start + self.bytes.len() as u64;
        if handle.offset < self.start || end > held {
            let window = self.window as u64;
            let (from, to) = if backward {
                (end.saturating_sub(window).min(handle.offset), end)
            } else {
                (
                    handle.offset,
                    file_len.min(handle.offset.saturating_add(window)).max(end),
                )
            };
            self.fill(storage, name, from, to, end)?;
        }
        let from = (handle.offset - self.start) as usize;
        let to = (end - self.start) as usize;
        decode_block(name, handle, &self.bytes[from..to])
    }

    /// Reads the window `from..to` of the file, which must reach at least to `needed` (the
    /// end of the block wanted).
    fn fill(
        &mut self,
        storage: &dyn Storage,
        name: &str,
        from: u64,
        to: u64,
        needed: u64,
    ) -> Result<()> {
        self.bytes.clear();
        self.bytes.resize((to - from) as usize, 0);
        self.start = from;
        let n = storage.read_at(name, from, &mut self.bytes)?;
        self.bytes.truncate(n);
        self.window = (self.window * 2).min(MAX_WINDOW);
        if (n as u64) < needed - from {
            self.bytes.clear();
            return Err(Error::Corruption(format!("{name}: block cut short")));
        }
        Ok(())
    }
}
