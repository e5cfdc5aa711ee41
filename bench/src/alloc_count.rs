//! A global allocator that counts, on the thread that asks for it, the heap
//! allocations made between [`start`] and [`Counting::stop`]: the system
//! allocator with two counters in front.
//!
//! The flag and the counters are thread-local (`const`-initialised, so
//! reading them never allocates), so what another thread allocates is not
//! counted. `alloc`, `alloc_zeroed` and `realloc` each count as one
//! allocation of the size asked for; `dealloc` is not counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator.
pub struct Counter;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: during thread teardown the slots may be gone.
    if ON.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = BYTES.try_with(|c| c.set(c.get() + size as u64));
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are
// plain thread-local cells that never allocate.
unsafe impl GlobalAlloc for Counter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations counted over one stretch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub allocs: u64,
    pub bytes: u64,
}

/// A counting stretch on this thread; [`Counting::stop`] ends it.
pub struct Counting(());

/// Resets this thread's counters and starts counting.
pub fn start() -> Counting {
    ALLOCS.with(|c| c.set(0));
    BYTES.with(|c| c.set(0));
    ON.with(|c| c.set(true));
    Counting(())
}

impl Counting {
    /// Stops counting and returns what was counted.
    pub fn stop(self) -> Counts {
        ON.with(|c| c.set(false));
        Counts {
            allocs: ALLOCS.with(Cell::get),
            bytes: BYTES.with(Cell::get),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_inside_the_stretch() {
        let before = vec![1u8; 10];
        let c = start();
        let v = std::hint::black_box(vec![0u8; 100]);
        let counts = c.stop();
        drop((before, v));
        let _after = std::hint::black_box(vec![0u8; 5]);
        assert_eq!(counts.allocs, 1);
        assert_eq!(counts.bytes, 100);
    }
}
