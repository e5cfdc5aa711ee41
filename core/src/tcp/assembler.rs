//! Out-of-order bookkeeping for a TCP receive buffer.
//!
//! RFC 9293 §3.10.7.4 ("Seventh, process the segment text") delivers text
//! that begins at RCV.NXT; segments that arrive ahead of it may be queued
//! for later processing (RFC 9293 §3.10.7.4 and §3.4: out-of-order data "may
//! be held" or discarded). The bytes themselves go straight into the free
//! space of the receive ring (`RingBuffer::write_unallocated`); the
//! [`Assembler`] only remembers *which* bytes past RCV.NXT have arrived, as
//! up to `N` disjoint ranges. Offsets are relative to the in-order point:
//! offset 0 is RCV.NXT, the next byte expected, which is also the end of the
//! in-order data in the ring.
//!
//! When the fixed bookkeeping is full, [`Assembler::add`] refuses the
//! segment ([`TooManyHoles`]) and leaves the state unchanged; the caller
//! drops the segment, which RFC 9293 permits (the peer retransmits).
//!
//! The same ranges are what a receiver reports as SACK blocks (RFC 2018
//! §4): the first block must be the one containing the most recently
//! received segment, which [`Assembler::last_added`] returns.

use core::fmt;

/// [`Assembler::add`] would need more than `N` separate ranges; nothing was
/// recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyHoles;

impl fmt::Display for TooManyHoles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("too many out-of-order ranges")
    }
}

/// Up to `N` disjoint ranges of bytes received beyond the in-order point.
///
/// Ranges are kept sorted, non-empty, and neither overlapping nor touching
/// (touching ranges are merged). Offsets are byte offsets past the in-order
/// point (RFC 9293 §3.10.7.4); offset 0 is the next byte expected.
///
/// Typical receive path, with `ring` the receive buffer:
///
/// ```text
/// off = seg.seq - rcv_nxt                 // after trimming to the window
/// ring.write_unallocated(off, payload)    // store the bytes
/// asm.add(off, payload.len())?            // or drop the segment on Err
/// n = asm.remove_front()                  // bytes that became in-order
/// ring.enqueue_unallocated(n); rcv_nxt += n
/// ```
///
/// SACK (RFC 2018 §4): report [`last_added`](Self::last_added) first, then
/// other [`ranges`](Self::ranges), most recently reported first.
#[derive(Debug, Clone)]
pub struct Assembler<const N: usize> {
    /// `(start, end)` half-open; `ranges[..count]` are in use, ascending.
    /// Offsets are `u32` (receive buffers stay below 2^30 bytes) to keep a
    /// connection's state small.
    ranges: [(u32, u32); N],
    /// Ranges in use; a `u8` since `N <= 255` (checked when built; the
    /// configuration allows at most 64).
    count: u8,
    /// The most recently added segment, clipped as the in-order point moves.
    /// Empty (`start == end`, as `NO_LAST`) when there is none: an added
    /// segment is never empty, which saves the 4 bytes of an `Option`.
    last: (u32, u32),
}

/// `Assembler::last` when no segment is recorded.
const NO_LAST: (u32, u32) = (0, 0);

impl<const N: usize> Default for Assembler<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Assembler<N> {
    /// Fails the build of an assembler whose range count would not fit
    /// `count`.
    const FITS_U8: () = assert!(
        N <= u8::MAX as usize,
        "an Assembler holds at most 255 ranges"
    );

    /// No byte received beyond the in-order point.
    pub const fn new() -> Self {
        let () = Self::FITS_U8;
        Assembler {
            ranges: [(0, 0); N],
            count: 0,
            last: NO_LAST,
        }
    }

    /// Forgets every range (e.g. when the receive buffer is cleared).
    pub fn clear(&mut self) {
        self.count = 0;
        self.last = NO_LAST;
    }

    /// Whether no out-of-order byte is recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The number of disjoint ranges recorded (at most `N`).
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// The most recently added segment, if still recorded.
    fn last(&self) -> Option<(u32, u32)> {
        let (s, e) = self.last;
        (s < e).then_some((s, e))
    }

    fn active(&self) -> &[(u32, u32)] {
        self.ranges.get(..self.len()).unwrap_or(&[])
    }

    /// Marks bytes `[offset, offset + len)` as received, merging them with
    /// any range they overlap or touch. An empty segment changes nothing.
    ///
    /// Fails with [`TooManyHoles`], leaving the state unchanged, if the
    /// result would need more than `N` ranges; the caller then drops the
    /// segment (RFC 9293 §3.10.7.4 lets a receiver discard out-of-order
    /// text).
    pub fn add(&mut self, offset: usize, len: usize) -> Result<(), TooManyHoles> {
        if len == 0 {
            return Ok(());
        }
        let start = u32::try_from(offset).unwrap_or(u32::MAX);
        let end = start.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        if end == start {
            // Entirely beyond the 32-bit offset range: nothing to record.
            return Ok(());
        }
        let active = self.active();
        // `first..past` are the ranges overlapping or touching [start, end).
        let first = active
            .iter()
            .position(|&(_, e)| e >= start)
            .unwrap_or(active.len());
        let past = first
            + active[first..]
                .iter()
                .take_while(|&&(s, _)| s <= end)
                .count();
        if first == past {
            let count = self.len();
            if count >= N {
                return Err(TooManyHoles);
            }
            self.ranges.copy_within(first..count, first + 1);
            self.ranges[first] = (start, end);
            self.count += 1; // count < N <= 255
        } else {
            let merged = (
                start.min(self.ranges[first].0),
                end.max(self.ranges[past - 1].1),
            );
            self.ranges[first] = merged;
            self.ranges
                .copy_within(past..usize::from(self.count), first + 1);
            // `past - first - 1 < count`, so it fits the `u8`.
            self.count -= (past - first - 1) as u8;
        }
        self.last = (start, end);
        Ok(())
    }

    /// If a range starts at offset 0, removes it and returns its length: the
    /// bytes that just became in-order (RCV.NXT advances by that much). All
    /// other offsets shift down by the same amount. Otherwise returns 0.
    pub fn remove_front(&mut self) -> usize {
        match self.active().first() {
            Some(&(0, end)) => {
                self.advance(end as usize);
                end as usize
            }
            _ => 0,
        }
    }

    /// The in-order point moved forward by `n` bytes (e.g. in-order data
    /// was accepted without going through the assembler): every offset
    /// shifts down by `n`; the parts of ranges below the new point are
    /// trimmed, ranges entirely below it removed.
    pub fn advance(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let mut kept = 0;
        for i in 0..self.len() {
            let (s, e) = self.ranges[i];
            if e > n {
                self.ranges[kept] = (s.saturating_sub(n), e - n);
                kept += 1;
            }
        }
        self.count = kept as u8; // kept <= count
        self.last = match self.last() {
            Some((s, e)) if e > n => (s.saturating_sub(n), e - n),
            _ => NO_LAST,
        };
    }

    /// The recorded ranges as half-open `(start, end)` offsets, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.active().iter().map(|&(s, e)| (s as usize, e as usize))
    }

    /// Whether the byte at `offset` is recorded as received.
    pub fn contains(&self, offset: usize) -> bool {
        self.ranges().any(|(s, e)| s <= offset && offset < e)
    }

    /// The range containing the most recently added bytes, if they are
    /// still beyond the in-order point: the first SACK block to report
    /// (RFC 2018 §4, "the first SACK block ... MUST specify the contiguous
    /// block of data containing the segment which triggered this ACK").
    pub fn last_added(&self) -> Option<(usize, usize)> {
        let (s, _) = self.last()?;
        let s = s as usize;
        self.ranges().find(|&(rs, re)| rs <= s && s < re)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn ranges<const N: usize>(a: &Assembler<N>) -> Vec<(usize, usize)> {
        a.ranges().collect()
    }

    /// Every permutation of `0..n` (Heap's algorithm).
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        fn heap(k: usize, p: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            if k <= 1 {
                out.push(p.clone());
                return;
            }
            for i in 0..k {
                heap(k - 1, p, out);
                let j = if k % 2 == 0 { i } else { 0 };
                p.swap(j, k - 1);
            }
        }
        let mut p: Vec<usize> = (0..n).collect();
        let mut out = Vec::new();
        heap(n, &mut p, &mut out);
        out
    }

    #[test]
    fn starts_empty() {
        let a = Assembler::<4>::new();
        assert!(a.is_empty());
        assert_eq!(a.len(), 0);
        assert_eq!(a.last_added(), None);
        assert!(!a.contains(0));
        assert_eq!(Assembler::<4>::default().len(), 0);
    }

    #[test]
    fn in_order_add_and_remove_front() {
        let mut a = Assembler::<2>::new();
        a.add(0, 10).unwrap();
        assert_eq!(ranges(&a), [(0, 10)]);
        assert_eq!(a.last_added(), Some((0, 10)));
        assert_eq!(a.remove_front(), 10);
        assert!(a.is_empty());
        assert_eq!(a.last_added(), None);
        assert_eq!(a.remove_front(), 0);
        a.add(0, 0).unwrap();
        assert!(a.is_empty());
    }

    #[test]
    fn remove_front_shifts_the_rest() {
        let mut a = Assembler::<3>::new();
        a.add(10, 5).unwrap();
        a.add(20, 5).unwrap();
        assert_eq!(a.remove_front(), 0);
        a.add(0, 4).unwrap();
        assert_eq!(a.remove_front(), 4);
        assert_eq!(ranges(&a), [(6, 11), (16, 21)]);
        assert_eq!(a.last_added(), None, "the last add became in-order");
        a.add(18, 1).unwrap();
        assert_eq!(a.last_added(), Some((16, 21)));
        assert!(a.contains(6) && a.contains(10) && !a.contains(11));
    }

    #[test]
    fn holes_filled_in_every_order() {
        // Adjacent, then overlapping/duplicated segments covering 0..12.
        let sets: [[(usize, usize); 5]; 2] = [
            [(0, 2), (2, 3), (5, 1), (6, 3), (9, 3)],
            [(0, 3), (2, 4), (6, 1), (5, 5), (4, 8)],
        ];
        for segs in sets {
            for perm in permutations(5) {
                // Without delivery: everything ends up as one range.
                let mut a = Assembler::<3>::new();
                for &i in &perm {
                    let (o, l) = segs[i];
                    a.add(o, l).unwrap();
                    assert!(a.last_added().is_some_and(|(s, e)| s <= o && o + l <= e));
                }
                assert_eq!(ranges(&a), [(0, 12)], "{perm:?}");
                // With delivery after every segment, as a receiver does.
                let mut a = Assembler::<3>::new();
                let mut nxt = 0;
                for &i in &perm {
                    let (o, l) = segs[i];
                    let end = o + l;
                    if end <= nxt {
                        continue; // wholly old: a duplicate
                    }
                    let o = o.max(nxt);
                    a.add(o - nxt, end - o).unwrap();
                    nxt += a.remove_front();
                }
                assert_eq!(nxt, 12, "{perm:?}");
                assert!(a.is_empty());
            }
        }
    }

    #[test]
    fn overlap_and_duplicates() {
        let mut a = Assembler::<4>::new();
        a.add(10, 10).unwrap();
        a.add(10, 10).unwrap();
        assert_eq!(ranges(&a), [(10, 20)]);
        a.add(12, 3).unwrap();
        assert_eq!(ranges(&a), [(10, 20)]);
        assert_eq!(a.last_added(), Some((10, 20)));
        a.add(5, 6).unwrap();
        assert_eq!(ranges(&a), [(5, 20)]);
        a.add(18, 7).unwrap();
        assert_eq!(ranges(&a), [(5, 25)]);
        a.add(30, 2).unwrap();
        a.add(40, 2).unwrap();
        a.add(50, 2).unwrap();
        assert_eq!(a.len(), 4);
        // One segment spanning three ranges merges them.
        a.add(20, 25).unwrap();
        assert_eq!(ranges(&a), [(5, 45), (50, 52)]);
        assert_eq!(a.last_added(), Some((5, 45)));
        // Touching on both sides.
        a.add(45, 5).unwrap();
        assert_eq!(ranges(&a), [(5, 52)]);
        // Huge offsets saturate instead of overflowing.
        let top = u32::MAX as usize;
        a.add(top - 1, 10).unwrap();
        assert_eq!(ranges(&a), [(5, 52), (top - 1, top)]);
        a.add(usize::MAX - 1, 10).unwrap();
        assert_eq!(
            ranges(&a),
            [(5, 52), (top - 1, top)],
            "beyond 32 bits: ignored"
        );
    }

    #[test]
    fn limit_returns_err_without_change() {
        let mut a = Assembler::<2>::new();
        a.add(10, 2).unwrap();
        a.add(20, 2).unwrap();
        let before = ranges(&a);
        for off in [0, 5, 15, 25, 100] {
            assert_eq!(a.add(off, 2), Err(TooManyHoles));
            assert_eq!(ranges(&a), before);
            assert_eq!(a.last_added(), Some((20, 22)));
        }
        // Merging needs no new slot.
        a.add(12, 8).unwrap();
        assert_eq!(ranges(&a), [(10, 22)]);
        a.add(0, 1).unwrap();
        assert_eq!(a.add(30, 1), Err(TooManyHoles));

        let mut z = Assembler::<0>::new();
        assert_eq!(z.add(0, 1), Err(TooManyHoles));
        z.add(0, 0).unwrap();
        assert_eq!(z.remove_front(), 0);
        z.advance(3);
        assert!(z.is_empty());
    }

    #[test]
    fn advance_trims_and_removes() {
        let mut a = Assembler::<4>::new();
        a.add(2, 3).unwrap(); // 2..5
        a.add(8, 4).unwrap(); // 8..12
        a.add(20, 1).unwrap(); // 20..21
        a.advance(0);
        assert_eq!(ranges(&a), [(2, 5), (8, 12), (20, 21)]);
        a.advance(1);
        assert_eq!(ranges(&a), [(1, 4), (7, 11), (19, 20)]);
        a.advance(9);
        assert_eq!(ranges(&a), [(0, 2), (10, 11)]);
        assert_eq!(a.last_added(), Some((10, 11)));
        a.advance(10);
        assert_eq!(ranges(&a), [(0, 1)]);
        assert_eq!(a.last_added(), Some((0, 1)));
        assert_eq!(a.remove_front(), 1);
        assert_eq!(a.last_added(), None);
        a.add(5, 5).unwrap();
        a.add(1, 1).unwrap();
        a.advance(usize::MAX);
        assert!(a.is_empty());
        assert_eq!(a.last_added(), None);
        a.add(3, 1).unwrap();
        a.clear();
        assert!(a.is_empty());
        assert_eq!(a.last_added(), None);
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> usize {
            (self.next() % n) as usize
        }
    }

    /// The runs of set bits of `bits`, as `(start, end)` ascending.
    fn model_ranges(bits: u128) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < 128 {
            if bits >> i & 1 == 1 {
                let s = i;
                while i < 128 && bits >> i & 1 == 1 {
                    i += 1;
                }
                out.push((s, i));
            } else {
                i += 1;
            }
        }
        out
    }

    fn mask(off: usize, len: usize) -> u128 {
        let ones = if len >= 128 { !0 } else { (1u128 << len) - 1 };
        ones << off
    }

    fn random_against_bitmap<const N: usize>(seed: u64) {
        let mut rng = XorShift(seed);
        let mut a = Assembler::<N>::new();
        let mut bits: u128 = 0;
        let mut last: Option<(usize, usize)> = None; // the last added segment
        for _ in 0..4000 {
            match rng.below(10) {
                0..=6 => {
                    let off = rng.below(90);
                    let len = rng.below(20);
                    let new = bits | mask(off, len);
                    let want = model_ranges(new);
                    let res = a.add(off, len);
                    if want.len() > N {
                        assert_eq!(res, Err(TooManyHoles));
                    } else {
                        assert_eq!(res, Ok(()));
                        bits = new;
                        if len > 0 {
                            last = Some((off, off + len));
                        }
                    }
                }
                7 | 8 => {
                    let n = bits.trailing_ones() as usize;
                    assert_eq!(a.remove_front(), n);
                    bits >>= n;
                    last = last.filter(|&(_, e)| e > n).map(|(s, e)| (s - n, e - n));
                }
                _ => {
                    let n = rng.below(12);
                    a.advance(n);
                    bits >>= n;
                    last = last
                        .filter(|&(_, e)| e > n)
                        .map(|(s, e)| (s.saturating_sub(n), e - n));
                }
            }
            let want = model_ranges(bits);
            assert_eq!(ranges(&a), want);
            assert_eq!(a.len(), want.len());
            assert_eq!(a.is_empty(), bits == 0);
            for i in 0..110 {
                assert_eq!(a.contains(i), bits >> i & 1 == 1, "offset {i}");
            }
            // The model range holding the whole last segment.
            let want_last =
                last.and_then(|(s, e)| want.iter().copied().find(|&(rs, re)| rs <= s && e <= re));
            assert_eq!(a.last_added(), want_last);
            assert_eq!(want_last.is_some(), last.is_some());
        }
    }

    #[test]
    fn randomized_against_bitmap() {
        for seed in 1..40u64 {
            random_against_bitmap::<1>(seed * 0x9E37_79B9);
            random_against_bitmap::<3>(seed * 0x9E37_79B9);
            random_against_bitmap::<8>(seed * 0x9E37_79B9);
        }
    }
}
