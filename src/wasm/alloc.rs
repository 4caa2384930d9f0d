//! The threaded build's memory allocator: a dlmalloc heap per thread, so that a thread
//! terminated inside the allocator damages only its own heap.
//!
//! std's allocator is one heap behind one spin lock that waits forever. A worker terminated
//! inside `malloc` or `free` would leave that heap half-updated and locked, and every thread
//! of the context, the page included, would stop at its next allocation. Here:
//! - Each thread allocates its blocks from a heap of its own, with no lock. A heap's memory
//!   comes from `memory.grow` in 64 KiB pages, and `OWNERS` records which heap each page
//!   belongs to.
//! - A thread frees a block of its own heap at once. A block of another thread's heap goes
//!   onto that heap's list of returned blocks (a lock-free push, which a thread cannot leave
//!   half-done), and the heap's thread frees them at its next allocation.
//! - A thread terminated inside its heap leaves that heap half-updated, but no other thread
//!   ever enters it: what they free of it goes onto its list, which no one takes back. That
//!   memory, and the heap's free memory, stay allocated until the context ends.
//! - A thread marks the time it spends in its heap (`inside`). Once it has ended outside it
//!   (the package learns of a thread's end from the browser: `pkg/engine/threads.js`), its
//!   heap is released ([`release`]) and the next thread to start takes it over as it is,
//!   its blocks still held by others and its list included.
//!
//! One shared heap, behind a lock whose wait is bounded, holds the rest: large blocks
//! (`LARGE` and up: few, and shared so that threads do not each keep their own peak), a
//! thread's first allocations (its stack and thread-local block, which wasm-bindgen's start
//! makes before this thread's thread-locals work), and every allocation of a thread past the
//! `OWNED` heaps. A thread that died holding that lock may have left the shared heap
//! half-updated, so past the stall limit the waiter reports why on the console and stops
//! its engine (a trap, which the package reports as `INTERNAL`), instead of hanging.

use crate::sync::stall::{Stall, DEFAULT_LIMIT_MS};
use core::arch::wasm32;
use dlmalloc::{Allocator, Dlmalloc};
use std::alloc::{GlobalAlloc, Layout};
use std::cell::{Cell, UnsafeCell};
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering};

/// The global allocator of the threaded build.
pub struct ThreadHeaps;

/// Bytes in a wasm page, the unit in which memory grows.
const PAGE: usize = 64 * 1024;
/// How many threads get a heap of their own.
const OWNED: usize = 64;
/// The number of the shared heap (`HEAPS[0]`); `HEAPS[i]` is heap `i + 1`, and 0 is
/// memory that no heap owns.
const SHARED: u8 = 1;
/// Blocks of this size and up come from the shared heap: they are few (memtable chunks,
/// table buffers, large values), and memory freed in a thread's heap serves only that
/// thread, so large blocks there would let each thread hold its own peak.
const LARGE: usize = 256 * 1024;

/// For each page of the 4 GiB address space, the heap its memory belongs to.
static OWNERS: [AtomicU8; 1 << 16] = [const { AtomicU8::new(0) }; 1 << 16];

/// The shared heap, then the heaps threads own.
static HEAPS: [Heap; OWNED + 1] = [const { Heap::new() }; OWNED + 1];

/// The shared heap's lock.
static SHARED_LOCKED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The heap this thread allocates from; 0 until its first allocation.
    static MINE: Cell<u8> = const { Cell::new(0) };
}

/// A heap's states (`Heap::state`): never used; a thread's (the shared heap: set up);
/// set up, its thread gone.
const UNUSED: u8 = 0;
const CLAIMED: u8 = 1;
const RELEASED: u8 = 2;

struct Heap {
    /// UNUSED, CLAIMED or RELEASED.
    state: AtomicU8,
    /// True while its thread is in it (allocating, freeing, taking blocks back).
    inside: AtomicBool,
    /// Blocks other threads freed, for this heap's thread to take back.
    returned: AtomicPtr<Returned>,
    /// Set up when claimed (zeros until then, which cost the wasm file nothing); used by
    /// the thread that claimed the heap only (the shared heap: under its lock).
    dlmalloc: UnsafeCell<MaybeUninit<Dlmalloc<Pages>>>,
}

// SAFETY: `dlmalloc` is only used by one thread at a time (see its field).
unsafe impl Sync for Heap {}

impl Heap {
    const fn new() -> Heap {
        Heap {
            state: AtomicU8::new(UNUSED),
            inside: AtomicBool::new(false),
            returned: AtomicPtr::new(ptr::null_mut()),
            dlmalloc: UnsafeCell::new(MaybeUninit::zeroed()),
        }
    }

    /// Makes the heap heap number `number`, before its first use (by the thread that
    /// claimed it, or under the shared heap's lock).
    fn set_up(&self, number: u8) {
        // SAFETY: no other thread uses the heap (see above), and nothing used it yet.
        unsafe {
            (*self.dlmalloc.get()).write(Dlmalloc::new_with_allocator(Pages { heap: number }))
        };
    }

    /// A freed block, written over its first bytes (every block has at least 8).
    fn give_back(&self, block: *mut u8, size: usize) {
        let node = block.cast::<Returned>();
        let mut head = self.returned.load(Ordering::Relaxed);
        loop {
            // SAFETY: the caller owned the block, which now holds only this node.
            unsafe { node.write(Returned { next: head, size }) };
            match self.returned.compare_exchange_weak(
                head,
                node,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }
}

/// A block another thread freed, waiting on its heap's list.
struct Returned {
    next: *mut Returned,
    size: usize,
}

/// The system side of a heap: whole pages from `memory.grow`, marked as the heap's.
struct Pages {
    heap: u8,
}

// SAFETY: regions are fresh pages from `memory.grow`, never handed out twice.
unsafe impl Allocator for Pages {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let pages = size.div_ceil(PAGE);
        let first = wasm32::memory_grow(0, pages);
        if first == usize::MAX {
            return (ptr::null_mut(), 0, 0);
        }
        for owner in &OWNERS[first..first + pages] {
            owner.store(self.heap, Ordering::Relaxed);
        }
        ((first * PAGE) as *mut u8, pages * PAGE, 0)
    }

    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        ptr::null_mut()
    }

    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }

    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }

    fn can_release_part(&self, _: u32) -> bool {
        false
    }

    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        PAGE
    }
}

/// The heap whose memory holds `at` (0: none).
fn owner(at: *const u8) -> u8 {
    OWNERS[at as usize / PAGE].load(Ordering::Relaxed)
}

/// The heap this thread allocates from, claiming one at its first allocation.
pub(crate) fn mine() -> u8 {
    // Before wasm-bindgen's start gives this thread its thread-local block (and after
    // `__wbindgen_thread_destroy` takes it), thread-locals are at an address no heap owns.
    let slot: *const Cell<u8> = MINE.with(ptr::from_ref);
    if owner(slot.cast()) == 0 {
        return SHARED;
    }
    match MINE.with(Cell::get) {
        0 => {
            let claimed = claim();
            MINE.with(|slot| slot.set(claimed));
            claimed
        }
        heap => heap,
    }
}

/// The heap a block of `size` bytes comes from: this thread's, or for a large one the
/// shared heap.
fn heap_for(size: usize) -> u8 {
    if size >= LARGE {
        SHARED
    } else {
        mine()
    }
}

/// A heap whose thread is gone (taken over as it is), else one never used, or the shared
/// one when all are taken.
fn claim() -> u8 {
    let number = |index: usize| index as u8 + 1;
    for (index, heap) in HEAPS.iter().enumerate().skip(1) {
        if heap
            .state
            .compare_exchange(RELEASED, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return number(index);
        }
    }
    for (index, heap) in HEAPS.iter().enumerate().skip(1) {
        if heap
            .state
            .compare_exchange(UNUSED, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            // (a thread that ends while setting it up keeps it, as one that ends inside it)
            heap.inside.store(true, Ordering::Relaxed);
            heap.set_up(number(index));
            heap.inside.store(false, Ordering::Release);
            return number(index);
        }
    }
    SHARED
}

/// Gives heap `heap`, whose thread has ended, to the next thread that starts, unless that
/// thread ended inside it. True if released.
///
/// The caller knows the thread ended: it runs no more, so its last `inside` is final (the
/// browser's lock, granted once the thread's context is gone, orders the two).
pub(crate) fn release(heap: u8) -> bool {
    let Some(own) = usize::from(heap)
        .checked_sub(1)
        .filter(|&i| i >= 1)
        .and_then(|i| HEAPS.get(i))
    else {
        return false;
    };
    if own.inside.load(Ordering::Acquire) {
        return false;
    }
    own.state
        .compare_exchange(CLAIMED, RELEASED, Ordering::Release, Ordering::Relaxed)
        .is_ok()
}

/// The dlmalloc of heap `heap` (this thread's), with the shared heap's lock when it is
/// the shared one, after taking back what other threads freed of it.
fn enter(heap: u8) -> (&'static mut Dlmalloc<Pages>, Entered) {
    if heap == SHARED {
        let held = lock_shared();
        let shared = &HEAPS[0];
        if shared.state.load(Ordering::Relaxed) == UNUSED {
            shared.state.store(CLAIMED, Ordering::Relaxed);
            shared.set_up(SHARED);
        }
        // SAFETY: set up; the shared heap is used under its lock only.
        let dlmalloc = unsafe { (*shared.dlmalloc.get()).assume_init_mut() };
        return (dlmalloc, held);
    }
    let own = &HEAPS[usize::from(heap) - 1];
    own.inside.store(true, Ordering::Relaxed);
    // SAFETY: set up when claimed; only this thread, which claimed the heap, uses it.
    let dlmalloc = unsafe { (*own.dlmalloc.get()).assume_init_mut() };
    if !own.returned.load(Ordering::Relaxed).is_null() {
        take_back(own, dlmalloc);
    }
    (dlmalloc, Entered::Own(own))
}

/// Frees the blocks other threads gave back to `own`, this thread's heap.
#[inline(never)]
fn take_back(own: &Heap, dlmalloc: &mut Dlmalloc<Pages>) {
    let mut node = own.returned.swap(ptr::null_mut(), Ordering::Acquire);
    while !node.is_null() {
        // SAFETY: a node `give_back` wrote, of a block of this heap.
        let Returned { next, size } = unsafe { node.read() };
        // SAFETY: as the thread that gave it back would have.
        unsafe { free(dlmalloc, node.cast(), size) };
        node = next;
    }
}

/// Frees `block` into the heap that owns it: directly when it is `heap` (this thread's),
/// under the lock when it is the shared one, onto its list otherwise.
///
/// # Safety
/// `block` is a live allocation of `size` bytes.
unsafe fn free_into_owner(heap: u8, block: *mut u8, size: usize) {
    match owner(block) {
        0 => {} // not from a heap: never happens; leaking beats corrupting
        owner if owner == heap || owner == SHARED => {
            let (dlmalloc, _entered) = enter(owner);
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { free(dlmalloc, block, size) }
        }
        owner => HEAPS[usize::from(owner) - 1].give_back(block, size),
    }
}

/// dlmalloc's `free`, in one place (it is large).
///
/// # Safety
/// `block` is a live allocation of `size` bytes of `dlmalloc`.
#[inline(never)]
unsafe fn free(dlmalloc: &mut Dlmalloc<Pages>, block: *mut u8, size: usize) {
    // SAFETY: forwarded with the caller's guarantees (dlmalloc ignores the alignment).
    unsafe { dlmalloc.free(block, size, 1) }
}

/// dlmalloc's `malloc`, in one place (it is large).
///
/// # Safety
/// As `GlobalAlloc::alloc`.
#[inline(never)]
unsafe fn malloc(dlmalloc: &mut Dlmalloc<Pages>, layout: Layout) -> *mut u8 {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { dlmalloc.malloc(layout.size(), layout.align()) }
}

/// A thread's time in a heap, which ends when this is dropped: the shared heap's lock
/// held, or its own heap's `inside` set.
enum Entered {
    Shared,
    Own(&'static Heap),
}

impl Drop for Entered {
    fn drop(&mut self) {
        match self {
            Entered::Shared => SHARED_LOCKED.store(false, Ordering::Release),
            Entered::Own(heap) => heap.inside.store(false, Ordering::Release),
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

fn lock_shared() -> Entered {
    let take = || {
        SHARED_LOCKED
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    };
    if take() {
        return Entered::Shared;
    }
    let mut stall = Stall::in_allocator(DEFAULT_LIMIT_MS);
    loop {
        if take() {
            return Entered::Shared;
        }
        if !stall.snooze() {
            // Formatting or panicking would allocate: a fixed message, then a trap.
            console_error(
                "ppdb: a thread stopped inside the memory allocator (a worker terminated?); \
                 the engine cannot go on in this context",
            );
            core::arch::wasm32::unreachable();
        }
    }
}

// SAFETY: every block comes from one of the heaps, and goes back to the heap it came from
// (`free_into_owner`); each heap is used by one thread at a time. Not inlined: every
// allocation site of the crate would carry a copy.
unsafe impl GlobalAlloc for ThreadHeaps {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (dlmalloc, _entered) = enter(heap_for(layout.size()));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { malloc(dlmalloc, layout) }
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let (dlmalloc, _entered) = enter(heap_for(layout.size()));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { dlmalloc.calloc(layout.size(), layout.align()) }
    }

    #[inline(never)]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { free_into_owner(mine(), block, layout.size()) }
    }

    #[inline(never)]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let heap = heap_for(new_size);
        if owner(block) == heap {
            let (dlmalloc, _entered) = enter(heap);
            // SAFETY: forwarded with the caller's guarantees.
            return unsafe { dlmalloc.realloc(block, layout.size(), layout.align(), new_size) };
        }
        // Another heap's block: a new one in the heap for its new size, and the old one
        // given back.
        // SAFETY: the caller guarantees `new_size` makes a valid layout with this align.
        let grown =
            unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !grown.is_null() {
            // SAFETY: both blocks are live and hold at least the smaller size.
            unsafe {
                ptr::copy_nonoverlapping(block, grown, layout.size().min(new_size));
                free_into_owner(mine(), block, layout.size());
            }
        }
        grown
    }
}
