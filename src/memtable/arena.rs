//! A lock-free bump allocator for memtable nodes.
//!
//! Memory comes in chunks. The current chunk hands out space with one `fetch_add` on its
//! cursor; a writer whose reservation runs past the end allocates a fresh chunk and installs
//! it with a compare-and-swap (a writer that loses the race frees its chunk and retries in
//! the winner's). Requests larger than a quarter of a chunk get a chunk of their own, pushed
//! on a separate list, so big values waste no space in the shared chunks.
//!
//! Small requests (up to 256 bytes: a node of a short key and value) come from a block of
//! the shared chunks that the calling thread holds (a thread-local bump pointer): writers on
//! several threads then neither bump one cursor nor write their nodes into the same cache
//! lines (RocksDB's `ConcurrentArena` keeps core-local shards for the same reasons).
//!
//! Nothing is freed one by one: every chunk lives until the arena is dropped, which is what
//! lets skiplist readers follow pointers without locks or epochs. Every chunk is linked into
//! a push-only list (no pops, so no ABA), which `Drop` walks.
//!
//! All returned addresses are aligned to [`ALIGN`] bytes.

use crate::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

/// Alignment of every allocation: enough for the node header and its tower of pointers.
pub const ALIGN: usize = {
    let p = std::mem::align_of::<usize>();
    if p > 4 {
        p
    } else {
        4
    }
};

/// Default size of the largest shared chunks.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;
/// Size of the first chunk; each new chunk doubles the arena, up to the chunk size, so a
/// small memtable holds little memory.
pub const FIRST_CHUNK_SIZE: usize = 16 * 1024;

/// The largest block a thread takes for its small requests.
const MAX_BLOCK: usize = 8 * 1024;

/// Gives each arena a number of its own, never reused, which a thread's block names.
#[cfg(not(loom))]
static ARENAS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[cfg(not(loom))]
thread_local! {
    /// This thread's block: (the number of the arena it belongs to, its next free address,
    /// its end). A block of an arena dropped since is never used again: no arena gets its
    /// number.
    static BLOCK: std::cell::Cell<(u64, usize, usize)> = const { std::cell::Cell::new((0, 0, 0)) };
}

/// Header of a chunk; its data follows in the same allocation.
#[repr(C)]
struct Chunk {
    /// Next older chunk in the arena's list of all chunks.
    next: *mut Chunk,
    /// Bytes of data after the header.
    capacity: usize,
    /// Bytes handed out (may run past `capacity` when writers race at the end).
    cursor: AtomicUsize,
}

const HEADER: usize = round_up(std::mem::size_of::<Chunk>(), ALIGN);

const fn round_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// The lock-free bump allocator. `Send + Sync`: any thread may allocate.
pub struct Arena {
    /// This arena's number (see `BLOCK`).
    #[cfg(not(loom))]
    number: u64,
    chunk_size: usize,
    /// The chunk small allocations come from (null before the first allocation).
    current: AtomicPtr<Chunk>,
    /// Every chunk ever allocated, newest first (push-only).
    all: AtomicPtr<Chunk>,
    /// Bytes obtained from the system allocator, headers included.
    allocated: AtomicUsize,
    /// Bytes handed out to callers (after alignment).
    used: AtomicUsize,
}

// SAFETY: the raw chunk pointers are only reached through atomics, chunk memory is never
// freed before the arena is dropped, and callers own the disjoint ranges they were given.
unsafe impl Send for Arena {}
// SAFETY: as above; every shared mutation goes through an atomic.
unsafe impl Sync for Arena {}

impl Arena {
    /// An empty arena whose shared chunks hold `chunk_size` bytes each.
    pub fn new(chunk_size: usize) -> Arena {
        Arena {
            #[cfg(not(loom))]
            number: ARENAS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            chunk_size: round_up(chunk_size.max(4 * ALIGN), ALIGN),
            current: AtomicPtr::new(ptr::null_mut()),
            all: AtomicPtr::new(ptr::null_mut()),
            allocated: AtomicUsize::new(0),
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes obtained from the system for this arena: the memory it really holds.
    pub fn memory_usage(&self) -> usize {
        self.allocated.load(Ordering::Relaxed)
    }

    /// Bytes handed out to callers.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Reserves `size` bytes aligned to [`ALIGN`]. The memory is zeroed and stays valid, at
    /// a fixed address, until the arena is dropped. Aborts the process if the system
    /// allocator fails (as `Vec` does).
    pub fn allocate(&self, size: usize) -> NonNull<u8> {
        let size = round_up(size.max(1), ALIGN);
        self.used.fetch_add(size, Ordering::Relaxed);
        #[cfg(not(loom))]
        if let Some(got) = self.allocate_in_block(size) {
            return got;
        }
        self.allocate_in_chunks(size)
    }

    /// `size` bytes from this thread's block, taking a new block when it has none of this
    /// arena's or too little is left in it; `None` for a request too large for blocks (over a
    /// 32nd of one) or a thread past its thread-locals.
    #[cfg(not(loom))]
    fn allocate_in_block(&self, size: usize) -> Option<NonNull<u8>> {
        BLOCK
            .try_with(|block| {
                let (number, next, end) = block.get();
                if number == self.number && end - next >= size {
                    block.set((number, next + size, end));
                    // SAFETY: [next, next + size) lies in this thread's block of this live
                    // arena, handed out to no one else.
                    return Some(unsafe { NonNull::new_unchecked(next as *mut u8) });
                }
                let block_size = round_up((self.next_chunk_size() / 8).min(MAX_BLOCK), ALIGN);
                // Only small requests: what is left at a block's end goes unused (a 32nd of
                // it at most), and larger entries go to the chunks as before.
                if size > block_size / 32 {
                    return None;
                }
                let (start, len) = self.reserve(block_size, size);
                let start = start.as_ptr() as usize;
                block.set((self.number, start + size, start + len));
                // SAFETY: the first `size` bytes of the block just taken.
                Some(unsafe { NonNull::new_unchecked(start as *mut u8) })
            })
            .ok()
            .flatten()
    }

    /// `size` bytes (a multiple of [`ALIGN`]) from the shared chunks.
    fn allocate_in_chunks(&self, size: usize) -> NonNull<u8> {
        self.reserve(size, size).0
    }

    /// `size` bytes from the shared chunks, or, at the end of a chunk, what is left of it
    /// if that is `min` bytes or more (a block then takes the chunk's tail, which would
    /// otherwise go unused): the address and the length.
    fn reserve(&self, size: usize, min: usize) -> (NonNull<u8>, usize) {
        if size > self.next_chunk_size() / 4 {
            let chunk = alloc_chunk(size);
            // SAFETY: `chunk` is live, private to this call, and holds `size` bytes.
            unsafe {
                (*chunk).cursor.store(size, Ordering::Relaxed);
                self.link(chunk);
                return (data_of(chunk), size);
            }
        }
        loop {
            let chunk = self.current.load(Ordering::Acquire);
            if !chunk.is_null() {
                // SAFETY: a published chunk stays alive until the arena is dropped.
                let (start, capacity) = unsafe {
                    (
                        (*chunk).cursor.fetch_add(size, Ordering::Relaxed),
                        (*chunk).capacity,
                    )
                };
                if start + size <= capacity {
                    // SAFETY: [start, start + size) lies inside the chunk's data and was
                    // reserved by this call alone.
                    return (unsafe { data_of(chunk).add(start) }, size);
                }
                if start + min <= capacity {
                    // The reservation that ran past the end first (every later one starts
                    // past it) takes the tail.
                    // SAFETY: as above, for [start, capacity).
                    return (unsafe { data_of(chunk).add(start) }, capacity - start);
                }
            }
            // The chunk is full (or there is none yet): install a fresh one whose first
            // `size` bytes are ours.
            let fresh = alloc_chunk(self.next_chunk_size());
            // SAFETY: `fresh` is live and not yet visible to any other thread.
            unsafe { (*fresh).cursor.store(size, Ordering::Relaxed) };
            match self
                .current
                .compare_exchange(chunk, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // SAFETY: `fresh` is live; linking it hands it to `Drop`.
                    unsafe {
                        self.link(fresh);
                        return (data_of(fresh), size);
                    }
                }
                // Another writer installed a chunk first: free ours (no one saw it) and
                // allocate from theirs.
                // SAFETY: `fresh` came from `alloc_chunk` and was never published.
                Err(_) => unsafe { free_chunk(fresh) },
            }
        }
    }

    /// The size of the next shared chunk: as large as the arena so far, between
    /// [`FIRST_CHUNK_SIZE`] and the configured chunk size.
    fn next_chunk_size(&self) -> usize {
        round_up(
            self.memory_usage()
                .clamp(FIRST_CHUNK_SIZE.min(self.chunk_size), self.chunk_size),
            ALIGN,
        )
    }

    /// Pushes a chunk on the list of all chunks, which `Drop` frees.
    ///
    /// # Safety
    /// `chunk` must come from `alloc_chunk` and be linked at most once.
    unsafe fn link(&self, chunk: *mut Chunk) {
        // SAFETY: the caller guarantees `chunk` is live.
        let size = unsafe { chunk_layout((*chunk).capacity).size() };
        self.allocated.fetch_add(size, Ordering::Relaxed);
        let mut head = self.all.load(Ordering::Relaxed);
        loop {
            // SAFETY: `chunk` is not on the list yet, so this thread alone writes `next`.
            unsafe { (*chunk).next = head };
            match self
                .all
                .compare_exchange_weak(head, chunk, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }
}

/// Allocates a zeroed chunk with room for `capacity` bytes of data.
fn alloc_chunk(capacity: usize) -> *mut Chunk {
    let layout = chunk_layout(capacity);
    // SAFETY: the layout has a non-zero size (the header alone is non-empty).
    let raw = unsafe { alloc::alloc_zeroed(layout) } as *mut Chunk;
    if raw.is_null() {
        alloc::handle_alloc_error(layout);
    }
    // SAFETY: `raw` is a fresh, suitably aligned allocation large enough for a `Chunk`.
    unsafe {
        ptr::write(
            raw,
            Chunk {
                next: ptr::null_mut(),
                capacity,
                cursor: AtomicUsize::new(0),
            },
        );
    }
    raw
}

/// Frees a chunk made by `alloc_chunk`.
///
/// # Safety
/// `chunk` must come from `alloc_chunk`, be freed once, and not be used afterwards.
unsafe fn free_chunk(chunk: *mut Chunk) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let layout = chunk_layout((*chunk).capacity);
        ptr::drop_in_place(chunk);
        alloc::dealloc(chunk as *mut u8, layout);
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let mut chunk = self.all.load(Ordering::Acquire);
        while !chunk.is_null() {
            // SAFETY: `&mut self` means no other thread uses the arena; every linked chunk
            // came from `alloc_chunk` and appears on the list once.
            unsafe {
                let next = (*chunk).next;
                free_chunk(chunk);
                chunk = next;
            }
        }
    }
}

fn chunk_layout(capacity: usize) -> Layout {
    let align = ALIGN.max(std::mem::align_of::<Chunk>());
    match Layout::from_size_align(HEADER + capacity, align) {
        Ok(layout) => layout,
        // Only reachable with a capacity near usize::MAX, which the size limits rule out.
        Err(_) => alloc::handle_alloc_error(Layout::new::<Chunk>()),
    }
}

/// The first data byte of a chunk.
///
/// # Safety
/// `chunk` must point to a live chunk.
unsafe fn data_of(chunk: *mut Chunk) -> NonNull<u8> {
    // SAFETY: the data starts HEADER bytes into the chunk's own allocation, so it is
    // in bounds and non-null.
    unsafe { NonNull::new_unchecked((chunk as *mut u8).add(HEADER)) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn allocations_are_aligned_zeroed_and_disjoint() {
        let arena = Arena::new(4096);
        let mut ranges = Vec::new();
        for size in [1, 7, 8, 13, 100, 900, 2000, 5000] {
            let p = arena.allocate(size);
            assert_eq!(p.as_ptr() as usize % ALIGN, 0);
            // SAFETY: the arena handed out `size` bytes at `p`.
            let bytes = unsafe { std::slice::from_raw_parts(p.as_ptr(), size) };
            assert!(bytes.iter().all(|&b| b == 0));
            ranges.push((p.as_ptr() as usize, size));
        }
        ranges.sort();
        for pair in ranges.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0, "overlap: {pair:?}");
        }
    }

    #[test]
    fn memory_usage_counts_chunks_and_large_allocations() {
        let arena = Arena::new(4096);
        assert_eq!(arena.memory_usage(), 0);
        arena.allocate(16);
        let one_chunk = arena.memory_usage();
        assert!((4096..8192).contains(&one_chunk), "{one_chunk}");
        arena.allocate(10_000);
        assert!(arena.memory_usage() >= one_chunk + 10_000);
        assert_eq!(arena.used(), 16 + round_up(10_000, ALIGN));
    }

    #[test]
    fn a_threads_small_allocations_follow_each_other_in_its_block_of_that_arena_only() {
        // (small enough for the first blocks, a 32nd of an eighth of the first chunk)
        const SMALL: usize = 48;
        let first = Arena::new(1 << 20);
        let a = first.allocate(SMALL).as_ptr() as usize;
        let b = first.allocate(SMALL).as_ptr() as usize;
        assert_eq!(b, a + round_up(SMALL, ALIGN));
        drop(first);
        // A new arena (maybe at the same address) takes a block of its own: the old one
        // went with its arena.
        let second = Arena::new(1 << 20);
        let c = second.allocate(SMALL);
        assert!(
            second.memory_usage() > 0,
            "the second arena made a chunk for its block"
        );
        // SAFETY: the arena handed out SMALL bytes at `c`.
        assert!(unsafe { std::slice::from_raw_parts(c.as_ptr(), SMALL) }
            .iter()
            .all(|&x| x == 0));
        // Another thread's come from a block of its own, not after this thread's.
        let theirs =
            std::thread::scope(|s| s.spawn(|| second.allocate(SMALL).as_ptr() as usize).join());
        let ours = second.allocate(SMALL).as_ptr() as usize;
        assert_eq!(ours, c.as_ptr() as usize + round_up(SMALL, ALIGN));
        assert_ne!(theirs.expect("allocating thread"), ours);
    }

    #[test]
    fn chunks_grow_with_the_arena_up_to_the_chunk_size() {
        let arena = Arena::new(1 << 20);
        arena.allocate(8);
        assert!(
            arena.memory_usage() < 2 * FIRST_CHUNK_SIZE,
            "a small arena stays small"
        );
        for _ in 0..100_000 {
            arena.allocate(100);
        }
        let used = arena.used();
        assert!(
            arena.memory_usage() < used + used / 4 + (1 << 20),
            "waste stays bounded"
        );
    }

    #[test]
    fn concurrent_writers_get_disjoint_ranges() {
        let arena = Arc::new(Arena::new(1024));
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                let arena = Arc::clone(&arena);
                std::thread::spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..2000usize {
                        let size = 1 + (i * 7 + t as usize) % 200;
                        let p = arena.allocate(size);
                        // SAFETY: this thread owns the `size` bytes it was given.
                        unsafe { ptr::write_bytes(p.as_ptr(), t + 1, size) };
                        mine.push((p.as_ptr() as usize, size));
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<(usize, usize)> = Vec::new();
        for (t, handle) in threads.into_iter().enumerate() {
            let mine = handle.join().expect("writer thread");
            for &(addr, size) in &mine {
                // SAFETY: the range was handed out and the arena is alive.
                let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, size) };
                assert!(bytes.iter().all(|&b| b == t as u8 + 1), "range overwritten");
            }
            all.extend(mine);
        }
        all.sort();
        for pair in all.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0);
        }
    }
}
