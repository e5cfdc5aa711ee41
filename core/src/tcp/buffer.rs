//! Byte ring buffers with fixed storage, for TCP send and receive queues.
//!
//! A [`RingBuffer`] holds a FIFO of bytes in `N` bytes of inline storage.
//! Besides the usual enqueue/dequeue it offers what a TCP engine needs:
//!
//! - send side: [`peek`](RingBuffer::peek) and
//!   [`get_contiguous`](RingBuffer::get_contiguous) read bytes at an offset
//!   past the front (SND.UNA) for (re)transmission without removing them;
//!   [`dequeue_allocated`](RingBuffer::dequeue_allocated) drops them once
//!   acknowledged (RFC 9293 §3.10.7.4, "the send buffer is cleared of any
//!   data acknowledged").
//! - receive side: [`write_unallocated`](RingBuffer::write_unallocated)
//!   stores out-of-order text in the free space past the in-order data, and
//!   [`enqueue_unallocated`](RingBuffer::enqueue_unallocated) appends it once
//!   the hole before it is filled (see [`Assembler`](super::assembler)).
//!   [`window`](RingBuffer::window) is the free space, the basis of RCV.WND
//!   (RFC 9293 §3.8.6).
//!
//! Every method is panic-free for any argument: offsets and lengths beyond
//! what is there are clipped, and the returned counts say what was done.

use core::fmt;

/// A byte FIFO in `N` bytes of fixed storage, optionally limited to fewer.
///
/// Logical offsets count from the front (the oldest byte). Bytes
/// `0..len()` are the queued data; the free space `len()..capacity()` can
/// be written ahead of time with [`write_unallocated`](Self::write_unallocated).
///
/// The positions are kept as `u32` (the header takes 12 bytes instead of
/// 24 on 64-bit targets), so `N` must fit a `u32`: checked when the buffer
/// is built. TCP buffers stay below 2^30 bytes (see [`crate::config`]).
#[derive(Clone)]
pub struct RingBuffer<const N: usize> {
    storage: [u8; N],
    /// Storage index of the front byte; always `< N` (0 when `N == 0`).
    read: u32,
    /// Bytes queued; always `<= N`.
    len: u32,
    /// Upper bound on the capacity, set by [`set_limit`](Self::set_limit);
    /// always `<= N`.
    limit: u32,
}

impl<const N: usize> Default for RingBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for RingBuffer<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingBuffer")
            .field("capacity", &self.capacity())
            .field("len", &self.len)
            .field("read", &self.read)
            .finish()
    }
}

impl<const N: usize> RingBuffer<N> {
    /// `N` as a `u32`; fails the build of a buffer whose `N` does not fit.
    const N32: u32 = {
        assert!(
            N <= u32::MAX as usize,
            "a RingBuffer holds at most u32::MAX bytes"
        );
        N as u32
    };

    /// An empty buffer of capacity `N`.
    pub const fn new() -> Self {
        RingBuffer {
            storage: [0; N],
            read: 0,
            len: 0,
            limit: Self::N32,
        }
    }

    /// `n <= N` as a `u32` (lossless, since `N` fits a `u32`).
    fn narrow(n: usize) -> u32 {
        n.min(N) as u32
    }

    /// Bytes the buffer can hold: `min(N, limit)`.
    pub fn capacity(&self) -> usize {
        self.limit as usize
    }

    /// Limits the capacity to `min(N, limit)`, e.g. a per-socket buffer
    /// size (SO_RCVBUF / SO_SNDBUF) smaller than the compile-time `N`.
    ///
    /// Queued data is never dropped: if `len()` exceeds the new capacity,
    /// [`window`](Self::window) is 0 until enough is dequeued. Bytes
    /// written with [`write_unallocated`](Self::write_unallocated) beyond
    /// the new capacity can no longer be enqueued.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = Self::narrow(limit);
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no byte is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether no more byte can be queued (`window() == 0`).
    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity()
    }

    /// Free space: bytes that can still be queued.
    pub fn window(&self) -> usize {
        self.capacity().saturating_sub(self.len())
    }

    /// Drops every byte, including any written with
    /// [`write_unallocated`](Self::write_unallocated) (clear the matching
    /// assembler too). The limit stays.
    pub fn clear(&mut self) {
        self.read = 0;
        self.len = 0;
    }

    /// The storage index of logical offset `off`, for `off <= N`.
    fn index(&self, off: usize) -> usize {
        let i = self.read as usize + off;
        if i >= N {
            i - N
        } else {
            i
        }
    }

    /// Copies `data` to logical offsets `at..at + data.len()`, which must
    /// lie within `0..=N`; going round the end of the storage as needed.
    fn copy_in(&mut self, at: usize, data: &[u8]) {
        if data.is_empty() || at.saturating_add(data.len()) > N {
            return;
        }
        let i = self.index(at);
        let first = data.len().min(N - i);
        let (head, tail) = data.split_at(first);
        self.storage[i..i + first].copy_from_slice(head);
        self.storage[..tail.len()].copy_from_slice(tail);
    }

    /// Copies logical offsets `at..at + out.len()` (within `0..=N`) into
    /// `out`.
    fn copy_out(&self, at: usize, out: &mut [u8]) {
        if out.is_empty() || at.saturating_add(out.len()) > N {
            return;
        }
        let i = self.index(at);
        let first = out.len().min(N - i);
        let (head, tail) = out.split_at_mut(first);
        head.copy_from_slice(&self.storage[i..i + first]);
        let n = tail.len();
        tail.copy_from_slice(&self.storage[..n]);
    }

    /// Appends as much of `data` as fits; returns how many bytes.
    pub fn enqueue_slice(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.window());
        self.copy_in(self.len(), &data[..n]);
        self.len = Self::narrow(self.len() + n);
        n
    }

    /// Moves up to `out.len()` bytes from the front into `out`; returns how
    /// many.
    pub fn dequeue_slice(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len());
        self.copy_out(0, &mut out[..n]);
        self.dequeue_allocated(n)
    }

    /// Drops up to `n` bytes from the front without copying them (e.g.
    /// once acknowledged); returns how many.
    pub fn dequeue_allocated(&mut self, n: usize) -> usize {
        let n = n.min(self.len());
        self.read = Self::narrow(self.index(n));
        self.len = Self::narrow(self.len() - n);
        n
    }

    /// Copies queued bytes starting `offset` past the front into `out`,
    /// leaving them queued; returns how many (0 if `offset >= len()`).
    pub fn peek(&self, offset: usize, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len().saturating_sub(offset));
        self.copy_out(offset, &mut out[..n]);
        n
    }

    /// The longest contiguous run of queued bytes starting `offset` past
    /// the front, at most `max` bytes: the run stops at the end of the
    /// data or of the storage, whichever comes first. Empty if
    /// `offset >= len()`.
    pub fn get_contiguous(&self, offset: usize, max: usize) -> &[u8] {
        let avail = max.min(self.len().saturating_sub(offset));
        if avail == 0 {
            return &[];
        }
        let i = self.index(offset);
        let n = avail.min(N - i);
        &self.storage[i..i + n]
    }

    /// Writes `data` into the free space, starting `offset` bytes past the
    /// end of the queued data, without queueing it (out-of-order text).
    /// Bytes that would land at or beyond [`capacity`](Self::capacity) are
    /// cut; returns how many were written.
    pub fn write_unallocated(&mut self, offset: usize, data: &[u8]) -> usize {
        let at = self.len().saturating_add(offset);
        let n = data.len().min(self.capacity().saturating_sub(at));
        self.copy_in(at, &data[..n]);
        n
    }

    /// Queues `n` bytes already written past the end with
    /// [`write_unallocated`](Self::write_unallocated) (the hole before
    /// them was filled); clipped to [`window`](Self::window). Returns how
    /// many bytes were queued.
    pub fn enqueue_unallocated(&mut self, n: usize) -> usize {
        let n = n.min(self.window());
        self.len = Self::narrow(self.len() + n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// A buffer of capacity 8 whose front sits at storage index `read`.
    fn at(read: usize) -> RingBuffer<8> {
        let mut b = RingBuffer::<8>::new();
        assert_eq!(b.enqueue_slice(&[0xEE; 8][..read]), read);
        assert_eq!(b.dequeue_allocated(read), read);
        assert!(b.is_empty());
        b
    }

    fn contents<const N: usize>(b: &RingBuffer<N>) -> Vec<u8> {
        let mut v = std::vec![0; b.len()];
        assert_eq!(b.peek(0, &mut v), b.len());
        v
    }

    #[test]
    fn basics() {
        let mut b = RingBuffer::<8>::default();
        assert_eq!((b.capacity(), b.len(), b.window()), (8, 0, 8));
        assert!(b.is_empty() && !b.is_full());
        assert_eq!(b.enqueue_slice(b"hello world"), 8);
        assert!(b.is_full());
        assert_eq!(b.window(), 0);
        assert_eq!(b.enqueue_slice(b"x"), 0);
        let mut out = [0; 3];
        assert_eq!(b.dequeue_slice(&mut out), 3);
        assert_eq!(&out, b"hel");
        assert_eq!(contents(&b), b"lo wo");
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.window(), 8);
        assert!(std::format!("{b:?}").contains("capacity: 8"));
    }

    #[test]
    fn wrap_around_every_operation() {
        for read in 0..8 {
            // enqueue_slice and dequeue_slice across the end.
            let mut b = at(read);
            assert_eq!(b.enqueue_slice(b"abcdefgh"), 8, "read {read}");
            assert_eq!(contents(&b), b"abcdefgh");
            let mut out = [0; 8];
            assert_eq!(b.dequeue_slice(&mut out[..5]), 5);
            assert_eq!(&out[..5], b"abcde");
            assert_eq!(b.enqueue_slice(b"ijklmn"), 5);
            assert_eq!(contents(&b), b"fghijklm");
            assert_eq!(b.dequeue_slice(&mut out), 8);
            assert_eq!(&out, b"fghijklm");
            assert_eq!(b.dequeue_slice(&mut out), 0);

            // dequeue_allocated across the end.
            let mut b = at(read);
            b.enqueue_slice(b"abcdefgh");
            assert_eq!(b.dequeue_allocated(6), 6);
            assert_eq!(contents(&b), b"gh");
            assert_eq!(b.dequeue_allocated(100), 2);
            assert_eq!(b.dequeue_allocated(1), 0);
            b.enqueue_slice(b"xyz");
            assert_eq!(contents(&b), b"xyz");
        }
    }

    #[test]
    fn peek_and_get_contiguous_across_the_wrap() {
        let data = b"abcdefgh";
        for read in 0..8 {
            let mut b = at(read);
            b.enqueue_slice(data);
            for off in 0..=9 {
                for n in 0..=9 {
                    let want = &data[off.min(8)..(off + n).min(8)];
                    let mut out = [0; 9];
                    assert_eq!(b.peek(off, &mut out[..n]), want.len());
                    assert_eq!(&out[..want.len()], want);
                    // Contiguous: up to the storage end, then the rest.
                    let c = b.get_contiguous(off, n);
                    assert_eq!(c, &want[..c.len()]);
                    let to_end = if off < 8 { 8 - (read + off) % 8 } else { 0 };
                    assert_eq!(c.len(), want.len().min(to_end), "read {read} off {off}");
                    let rest = b.get_contiguous(off + c.len(), n - c.len());
                    assert_eq!(rest, &want[c.len()..]);
                }
            }
            assert!(b.get_contiguous(usize::MAX, usize::MAX).is_empty());
            assert_eq!(b.peek(usize::MAX, &mut [0; 4]), 0);
        }
    }

    #[test]
    fn write_unallocated_then_enqueue() {
        for read in 0..8 {
            let mut b = at(read);
            b.enqueue_slice(b"ab");
            // Out-of-order "ef" two bytes past the end, then the hole "cd".
            assert_eq!(b.write_unallocated(2, b"ef"), 2);
            assert_eq!(b.len(), 2);
            assert_eq!(b.write_unallocated(0, b"cd"), 2);
            assert_eq!(b.enqueue_unallocated(4), 4);
            assert_eq!(contents(&b), b"abcdef");
            // Cut at capacity.
            assert_eq!(b.write_unallocated(1, b"XYZ"), 1);
            assert_eq!(b.write_unallocated(2, b"XYZ"), 0);
            assert_eq!(b.write_unallocated(usize::MAX, b"XYZ"), 0);
            assert_eq!(b.enqueue_unallocated(5), 2, "clipped to the window");
            assert_eq!(&contents(&b)[7..], b"X");
            // Unallocated data survives a dequeue (the end does not move).
            let mut b = at(read);
            b.enqueue_slice(b"abc");
            assert_eq!(b.write_unallocated(1, b"ef"), 2);
            assert_eq!(b.dequeue_allocated(3), 3);
            assert_eq!(b.write_unallocated(0, b"d"), 1);
            assert_eq!(b.enqueue_unallocated(3), 3);
            assert_eq!(contents(&b), b"def");
        }
    }

    #[test]
    fn limit() {
        let mut b = RingBuffer::<8>::new();
        b.set_limit(5);
        assert_eq!((b.capacity(), b.window()), (5, 5));
        assert_eq!(b.enqueue_slice(b"abcdefgh"), 5);
        assert!(b.is_full());
        assert_eq!(b.write_unallocated(0, b"x"), 0);
        assert_eq!(b.enqueue_unallocated(1), 0);
        b.dequeue_allocated(3);
        assert_eq!(b.window(), 3);
        assert_eq!(b.write_unallocated(1, b"xyz"), 2);
        // Wraps at N, not at the limit.
        assert_eq!(b.enqueue_slice(b"w"), 1);
        assert_eq!(b.enqueue_unallocated(9), 2);
        assert_eq!(contents(&b), b"dewxy");
        // Shrinking below len keeps the data; the window is 0.
        b.set_limit(2);
        assert_eq!((b.capacity(), b.len(), b.window()), (2, 5, 0));
        assert!(b.is_full());
        assert_eq!(b.enqueue_slice(b"q"), 0);
        assert_eq!(contents(&b), b"dewxy");
        b.set_limit(usize::MAX);
        assert_eq!((b.capacity(), b.window()), (8, 3));
        b.set_limit(0);
        b.clear();
        assert_eq!((b.capacity(), b.window()), (0, 0));
        assert!(b.is_full() && b.is_empty());
    }

    #[test]
    fn zero_sized_is_panic_free() {
        let mut b = RingBuffer::<0>::new();
        assert_eq!(b.enqueue_slice(b"abc"), 0);
        assert_eq!(b.dequeue_slice(&mut [0; 3]), 0);
        assert_eq!(b.dequeue_allocated(3), 0);
        assert_eq!(b.peek(0, &mut [0; 3]), 0);
        assert!(b.get_contiguous(0, 3).is_empty());
        assert_eq!(b.write_unallocated(0, b"abc"), 0);
        assert_eq!(b.enqueue_unallocated(3), 0);
        assert!(b.is_full() && b.is_empty());
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Model: the queue, plus the bytes written past its end, indexed from
    /// the end (`None`: never written, or stale).
    fn random_against_vecdeque<const N: usize>(seed: u64) {
        let mut rng = XorShift(seed);
        let mut b = RingBuffer::<N>::new();
        let mut q: VecDeque<u8> = VecDeque::new();
        let mut ahead: Vec<Option<u8>> = std::vec![None; N];
        let mut cap = N;
        let mut byte = 0u8;
        let mut fresh = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    byte = byte.wrapping_add(1);
                    byte
                })
                .collect()
        };
        for _ in 0..3000 {
            let window = cap.saturating_sub(q.len());
            match rng.below(9) {
                0 | 1 => {
                    let data = fresh(rng.below(N + 3));
                    let n = b.enqueue_slice(&data);
                    assert_eq!(n, data.len().min(window));
                    q.extend(&data[..n]);
                    ahead.drain(..n);
                    ahead.resize(N, None);
                }
                2 => {
                    let mut out = std::vec![0; rng.below(N + 3)];
                    let n = b.dequeue_slice(&mut out);
                    assert_eq!(n, out.len().min(q.len()));
                    let want: Vec<u8> = q.drain(..n).collect();
                    assert_eq!(out[..n], want[..]);
                }
                3 => {
                    let k = rng.below(N + 3);
                    let n = b.dequeue_allocated(k);
                    assert_eq!(n, k.min(q.len()));
                    q.drain(..n);
                }
                4 | 5 => {
                    let off = rng.below(N + 2);
                    let data = fresh(rng.below(N + 2));
                    let n = b.write_unallocated(off, &data);
                    assert_eq!(n, data.len().min(window.saturating_sub(off)));
                    for (i, &d) in data[..n].iter().enumerate() {
                        ahead[off + i] = Some(d);
                    }
                }
                6 => {
                    // Queue only bytes the model knows.
                    let known = ahead.iter().take_while(|x| x.is_some()).count();
                    let k = rng.below(known + 1);
                    let n = b.enqueue_unallocated(k);
                    assert_eq!(n, k.min(window));
                    q.extend(ahead.drain(..n).map(|x| x.unwrap()));
                    ahead.resize(N, None);
                }
                7 => {
                    let limit = if rng.below(3) == 0 {
                        N + 5
                    } else {
                        rng.below(N + 1)
                    };
                    b.set_limit(limit);
                    cap = limit.min(N);
                }
                _ => {
                    let off = rng.below(N + 2);
                    let max = rng.below(N + 2);
                    let c = b.get_contiguous(off, max);
                    let want: Vec<u8> = q.iter().skip(off).take(max).copied().collect();
                    assert!(want.starts_with(c));
                    assert_eq!(c.is_empty(), want.is_empty());
                    let mut out = std::vec![0; max];
                    let n = b.peek(off, &mut out);
                    assert_eq!(out[..n], want[..]);
                }
            }
            // Bytes past the (new) capacity can no longer be relied upon.
            let window = cap.saturating_sub(q.len());
            for x in ahead.iter_mut().skip(window) {
                *x = None;
            }
            assert_eq!(b.len(), q.len());
            assert_eq!(b.capacity(), cap);
            assert_eq!(b.window(), window);
            assert_eq!(b.is_full(), window == 0);
            assert_eq!(b.is_empty(), q.is_empty());
            assert_eq!(contents(&b), q.iter().copied().collect::<Vec<u8>>());
        }
    }

    #[test]
    fn randomized_against_vecdeque() {
        for seed in 1..30u64 {
            let seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            random_against_vecdeque::<1>(seed);
            random_against_vecdeque::<7>(seed);
            random_against_vecdeque::<16>(seed);
        }
    }
}
