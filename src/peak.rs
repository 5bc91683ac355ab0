//! Peak heap measurement. The `pdmp` binary installs [`Counting`] as its
//! global allocator so that tests can hold every subcommand, on any input,
//! to a memory budget: with `PDMP_PEAK_HEAP=1` in the environment it prints
//! `pdmp: peak heap: N bytes` on stderr at exit. Memory-mapped input files
//! are not heap and are not counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Whether the counters run: off until [`enable`], so that a run nobody
/// measures pays no atomic updates on its thousands of small allocations.
static ENABLED: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes and their high-water mark.
pub struct Counting;

/// Starts counting. Call it before anything is allocated that is freed
/// later (the `pdmp` binary does, first thing in `main`, when
/// `PDMP_PEAK_HEAP` is set).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

fn grew(bytes: usize) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is passed unchanged to `System`; the counters only
// observe sizes of successful calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if new.is_null() {
            return new;
        }
        let old_size = layout.size();
        if new == ptr {
            // Grown or shrunk in place: only the difference changes hands.
            if new_size > old_size {
                grew(new_size - old_size);
            } else {
                shrank(old_size - new_size);
            }
        } else {
            // A moving realloc holds both blocks for a moment.
            grew(new_size);
            shrank(old_size);
        }
        new
    }
}

/// The most heap bytes live at once so far (0 unless [`Counting`] is the
/// global allocator and [`enable`] was called).
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}
