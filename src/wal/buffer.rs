//! The in-memory tail of a log segment, addressed by file offset.
//!
//! Writers copy their framed records into disjoint, reserved ranges without locks; chunks
//! (1 MiB) are allocated on first touch and installed by compare-and-swap. The flusher reads
//! the published prefix, appends it to storage, and frees chunks that lie wholly below what
//! it flushed: no writer can touch those again, because every reservation starts at or
//! after the published end.

use crate::sync::atomic::{AtomicPtr, Ordering};
use std::alloc::{self, Layout};
use std::ptr;

/// Size of a buffer chunk.
pub const CHUNK_SIZE: usize = 1 << 20;
/// The longest segment a buffer can hold.
pub const MAX_SEGMENT_LEN: u64 = 1 << 30;
const CHUNKS: usize = (MAX_SEGMENT_LEN / CHUNK_SIZE as u64) as usize;

/// An offset-addressed byte buffer that many threads write at once.
pub struct LogBuffer {
    chunks: Box<[AtomicPtr<u8>]>,
}

fn layout() -> Layout {
    // A constant, valid layout (non-zero size, power-of-two alignment).
    Layout::from_size_align(CHUNK_SIZE, 8).unwrap_or_else(|_| Layout::new::<u64>())
}

impl Default for LogBuffer {
    fn default() -> LogBuffer {
        LogBuffer::new()
    }
}

impl LogBuffer {
    /// An empty buffer; no memory is allocated until written.
    pub fn new() -> LogBuffer {
        LogBuffer {
            chunks: (0..CHUNKS)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect(),
        }
    }

    fn chunk(&self, index: usize) -> *mut u8 {
        let slot = &self.chunks[index];
        let current = slot.load(Ordering::Acquire);
        if !current.is_null() {
            return current;
        }
        // SAFETY: the layout has a non-zero size.
        let fresh = unsafe { alloc::alloc(layout()) };
        if fresh.is_null() {
            alloc::handle_alloc_error(layout());
        }
        match slot.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => fresh,
            Err(installed) => {
                // SAFETY: `fresh` was allocated above with `layout()` and never shared.
                unsafe { alloc::dealloc(fresh, layout()) };
                installed
            }
        }
    }

    /// Calls `f(chunk pointer, offset in chunk, range in data)` for each chunk `len` bytes at
    /// `offset` span.
    fn spans(
        &self,
        offset: u64,
        len: usize,
        mut f: impl FnMut(*mut u8, usize, std::ops::Range<usize>),
    ) {
        assert!(
            offset + len as u64 <= MAX_SEGMENT_LEN,
            "log buffer overflow"
        );
        let mut done = 0;
        while done < len {
            let at = offset as usize + done;
            let (index, within) = (at / CHUNK_SIZE, at % CHUNK_SIZE);
            let take = (CHUNK_SIZE - within).min(len - done);
            f(self.chunk(index), within, done..done + take);
            done += take;
        }
    }

    /// Copies `data` to `offset`. The caller must own the range (a reservation).
    pub fn write(&self, offset: u64, data: &[u8]) {
        self.spans(offset, data.len(), |chunk, within, range| {
            // SAFETY: the chunk holds CHUNK_SIZE bytes and `within + range.len()` fits;
            // the range is reserved by the caller alone.
            unsafe {
                ptr::copy_nonoverlapping(
                    data[range.clone()].as_ptr(),
                    chunk.add(within),
                    range.len(),
                )
            };
        });
    }

    /// Appends `len` bytes at `offset` to `out`. The range must be fully written
    /// (published) and not yet released.
    pub fn read(&self, offset: u64, len: usize, out: &mut Vec<u8>) {
        out.reserve(len);
        self.spans(offset, len, |chunk, within, range| {
            // SAFETY: the range was published, so its bytes were written and are visible
            // (the publish store is release, the caller's load acquire).
            out.extend_from_slice(unsafe {
                std::slice::from_raw_parts(chunk.add(within), range.len())
            });
        });
    }

    /// Frees every chunk that lies wholly below `offset`. Only the flusher calls this,
    /// with an offset it has flushed.
    pub fn release_below(&self, offset: u64) {
        let whole = (offset / CHUNK_SIZE as u64) as usize;
        for slot in &self.chunks[..whole.min(CHUNKS)] {
            let chunk = slot.swap(ptr::null_mut(), Ordering::AcqRel);
            if !chunk.is_null() {
                // SAFETY: the chunk came from `chunk()` with `layout()`; it was unlinked
                // above, and no writer uses ranges below the flushed offset.
                unsafe { alloc::dealloc(chunk, layout()) };
            }
        }
    }
}

impl Drop for LogBuffer {
    fn drop(&mut self) {
        self.release_below(MAX_SEGMENT_LEN);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn writes_across_chunk_boundaries_read_back() {
        let buffer = LogBuffer::new();
        let data: Vec<u8> = (0..3 * CHUNK_SIZE / 2).map(|i| i as u8).collect();
        let at = CHUNK_SIZE as u64 - 100;
        buffer.write(at, &data);
        let mut out = Vec::new();
        buffer.read(at, data.len(), &mut out);
        assert_eq!(out, data);
        buffer.release_below(CHUNK_SIZE as u64 * 2);
        let mut tail = Vec::new();
        buffer.read(CHUNK_SIZE as u64 * 2, 10, &mut tail);
        assert_eq!(tail, data[(CHUNK_SIZE + 100)..(CHUNK_SIZE + 110)]);
    }
}
