//! The sender's SACK scoreboard (RFC 6675 §3, §4; SACK blocks per
//! RFC 2018), in fixed storage.
//!
//! The scoreboard remembers which bytes above SND.UNA the receiver reported
//! in SACK blocks, as at most `N` disjoint ranges, and answers the RFC 6675
//! questions of loss recovery: [`IsLost`](Scoreboard::is_lost),
//! [`SetPipe`](Scoreboard::pipe) and [`NextSeg`](Scoreboard::next_seg).
//!
//! Conventions: ranges and holes are half-open, `left..right`, like
//! [`SackBlock`]. RFC 6675's HighACK is SND.UNA - 1 and HighData is
//! SND.NXT - 1; this module takes `snd_una` and `snd_nxt` instead. Its
//! HighRxt (the highest octet retransmitted in this recovery) is passed as
//! `high_rxt`, **one past** that octet: `snd_una` (or anything below it)
//! when nothing has been retransmitted yet.
//!
//! `snd_nxt` is the highest sequence number sent so far (SND.MAX when the
//! engine pulls SND.NXT back after a timeout).

use crate::wire::{SackBlock, SeqNumber};

const EMPTY: SackBlock = SackBlock {
    left: SeqNumber(0),
    right: SeqNumber(0),
};

/// RFC 6675's DupThresh (§2, after RFC 5681): the number of duplicate
/// ACKs, or of SACKed segments above a hole, that marks the hole lost.
pub const DUP_THRESH: u32 = 3;

/// Windows at least this large are nonsense (sequence comparisons break).
const HALF_SPACE: u32 = 1 << 31;

/// The distance from `base` up to `seq`, modulo 2^32.
fn off(base: SeqNumber, seq: SeqNumber) -> u32 {
    seq.0.wrapping_sub(base.0)
}

/// `base + offset`.
fn at(base: SeqNumber, offset: u32) -> SeqNumber {
    SeqNumber(base.0.wrapping_add(offset))
}

/// IsLost's test given the SACKed information above an octet: `count`
/// separately SACKed ranges holding `bytes` bytes.
fn lost_by(count: u32, bytes: u64, mss: u32, dup_thresh: u32) -> bool {
    count >= dup_thresh || bytes > u64::from(dup_thresh.saturating_sub(1)) * u64::from(mss)
}

/// The SACKed ranges above SND.UNA, at most `N`, sorted, merged (no two
/// ranges overlap or touch).
///
/// When a new range does not fit, the range farthest from SND.UNA is
/// forgotten (which may be the new one). Forgetting a SACK only makes the
/// sender retransmit data the receiver already has, never skip data it
/// lacks, and the ranges nearest SND.UNA are the ones loss recovery
/// works on first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scoreboard<const N: usize> {
    /// The first `len` entries are valid, in ascending sequence order.
    ranges: [SackBlock; N],
    /// A `u8` since `N <= 255` (checked when built; the configuration
    /// allows at most 64).
    len: u8,
}

impl<const N: usize> Default for Scoreboard<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Scoreboard<N> {
    /// Fails the build of a scoreboard whose range count would not fit
    /// `len`.
    const FITS_U8: () = assert!(
        N <= u8::MAX as usize,
        "a Scoreboard holds at most 255 ranges"
    );

    /// An empty scoreboard.
    pub const fn new() -> Self {
        let () = Self::FITS_U8;
        Scoreboard {
            ranges: [EMPTY; N],
            len: 0,
        }
    }

    /// Forgets every SACK: when a connection starts, and after a
    /// retransmission timeout (RFC 2018 §8: the sender SHOULD turn off the
    /// SACKed bits, since the timeout may mean the receiver reneged).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The SACKed ranges, in ascending sequence order.
    pub fn ranges(&self) -> &[SackBlock] {
        self.ranges.get(..self.len()).unwrap_or(&[])
    }

    /// The number of ranges held.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether nothing is SACKed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total SACKed bytes.
    pub fn sacked_bytes(&self) -> u32 {
        self.ranges()
            .iter()
            .map(|r| off(r.left, r.right))
            .fold(0, u32::saturating_add)
    }

    /// Whether the octet `seq` was SACKed.
    pub fn is_sacked(&self, seq: SeqNumber) -> bool {
        self.ranges()
            .iter()
            .any(|r| r.left.le(seq) && seq.lt(r.right))
    }

    /// The sequence number just past the highest SACKed octet (the right
    /// edge of the highest range); `None` if nothing is SACKed.
    pub fn highest_sacked(&self) -> Option<SeqNumber> {
        self.ranges().last().map(|r| r.right)
    }

    /// The cumulative ACK reached `ack`: ranges below it are dropped, a
    /// range it falls into is cut at `ack`.
    pub fn on_cumulative_ack(&mut self, ack: SeqNumber) {
        let gone = self.ranges().iter().take_while(|r| r.right.le(ack)).count();
        self.ranges.copy_within(gone..usize::from(self.len), 0);
        self.len -= gone as u8; // gone <= len
        if let Some(first) = self
            .ranges
            .get_mut(..usize::from(self.len))
            .and_then(<[_]>::first_mut)
        {
            if first.left.lt(ack) {
                first.left = ack;
            }
        }
    }

    /// Records the SACK blocks of an arriving ACK and returns the number of
    /// bytes they SACK that were not SACKed before (as recorded: a range
    /// forgotten for lack of room counts nothing; one evicted later in the
    /// same call is not subtracted).
    ///
    /// First drops what `snd_una` acknowledges, as
    /// [`on_cumulative_ack`](Self::on_cumulative_ack). A block counts only
    /// if `snd_una < left < right <= snd_nxt`: blocks at or below
    /// `snd_una` are D-SACKs (RFC 2883) or stale and say nothing about what
    /// is missing; a block starting at or straddling `snd_una` contradicts
    /// the cumulative ACK; blocks above `snd_nxt`, empty or reversed ones
    /// are bogus. A D-SACK inside the second block (RFC 2883 §4) repeats
    /// data that block covers and changes nothing.
    pub fn update(&mut self, snd_una: SeqNumber, snd_nxt: SeqNumber, blocks: &[SackBlock]) -> u32 {
        self.on_cumulative_ack(snd_una);
        let window = off(snd_una, snd_nxt);
        if window >= HALF_SPACE {
            return 0;
        }
        let mut newly = 0u32;
        for block in blocks {
            let (l, r) = (off(snd_una, block.left), off(snd_una, block.right));
            if 0 < l && l < r && r <= window {
                newly = newly.saturating_add(self.insert(snd_una, l, r, *block));
            }
        }
        newly
    }

    /// Merges `block` (offsets `l..r` from `base`) in; returns the bytes
    /// added.
    fn insert(&mut self, base: SeqNumber, l: u32, r: u32, block: SackBlock) -> u32 {
        let len = self.len();
        let ranges = self.ranges();
        // Ranges a..e overlap or touch l..r.
        let a = ranges
            .iter()
            .position(|x| off(base, x.right) >= l)
            .unwrap_or(len);
        let e = a + ranges[a..]
            .iter()
            .take_while(|x| off(base, x.left) <= r)
            .count();
        if a == e {
            if len == N {
                if a == N {
                    return 0; // the new range is the farthest: forget it
                }
                self.len -= 1; // forget the farthest
            }
            self.ranges.copy_within(a..usize::from(self.len), a + 1);
            self.ranges[a] = block;
            self.len += 1; // len < N <= 255
            return r - l;
        }
        let covered: u32 = ranges[a..e]
            .iter()
            .map(|x| {
                let (xl, xr) = (off(base, x.left), off(base, x.right));
                xr.min(r).saturating_sub(xl.max(l))
            })
            .sum();
        let (first, last) = (ranges[a], ranges[e - 1]);
        let merged = SackBlock {
            left: if off(base, first.left) < l {
                first.left
            } else {
                block.left
            },
            right: if off(base, last.right) > r {
                last.right
            } else {
                block.right
            },
        };
        self.ranges[a] = merged;
        self.ranges.copy_within(e..len, a + 1);
        self.len = (len - (e - a - 1)) as u8; // at most len
        (r - l) - covered
    }

    /// RFC 6675 §4 IsLost(SeqNum): whether the octet `seq` is deemed lost,
    /// because DupThresh discontiguous SACKed sequences lie above it, or
    /// more than (DupThresh - 1) * SMSS SACKed bytes do. RFC 6675 uses
    /// DupThresh = 3.
    ///
    /// Approximation: the scoreboard keeps byte ranges, not segments, so a
    /// range counts as one SACKed sequence however many segments filled it.
    /// The byte rule makes up for it when segments are full-sized; several
    /// small segments SACKed contiguously count less than RFC 6675 would.
    pub fn is_lost(&self, seq: SeqNumber, mss: u32, dup_thresh: u32) -> bool {
        let above = seq + 1;
        let (mut count, mut bytes) = (0u32, 0u64);
        for r in self.ranges().iter().filter(|r| r.right.gt(above)) {
            count += 1;
            bytes += u64::from(off(r.left.max(above), r.right));
        }
        lost_by(count, bytes, mss, dup_thresh)
    }

    /// The ranges above `snd_una` as offsets from it, clipped to
    /// `0..=window`, empty ones skipped.
    fn offsets(
        &self,
        snd_una: SeqNumber,
        window: u32,
    ) -> impl DoubleEndedIterator<Item = (u32, u32)> + '_ {
        self.ranges().iter().filter_map(move |r| {
            if !r.right.gt(snd_una) {
                return None;
            }
            let lo = if r.left.gt(snd_una) {
                off(snd_una, r.left)
            } else {
                0
            };
            let (lo, hi) = (lo.min(window), off(snd_una, r.right).min(window));
            (lo < hi).then_some((lo, hi))
        })
    }

    /// RFC 6675 §4 SetPipe with DupThresh = [`DUP_THRESH`]: the sender's
    /// estimate of the bytes in flight. See
    /// [`pipe_with_thresh`](Self::pipe_with_thresh).
    pub fn pipe(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
    ) -> u32 {
        self.pipe_with_thresh(snd_una, snd_nxt, high_rxt, mss, DUP_THRESH)
    }

    /// RFC 6675 §4 SetPipe: the sender's estimate of the bytes in flight.
    /// Every octet from `snd_una` to `snd_nxt` that is not SACKed counts
    /// once if it is not [lost](Self::is_lost), and once more if it was
    /// retransmitted (below `high_rxt`).
    ///
    /// This is exact per octet, not per `mss`-sized segment: within a hole
    /// (an unSACKed stretch) every octet has the same SACKed ranges above
    /// it, so IsLost has one answer per hole, computed once. The only
    /// approximation is IsLost's own (one range = one SACKed sequence).
    pub fn pipe_with_thresh(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
        dup_thresh: u32,
    ) -> u32 {
        let window = off(snd_una, snd_nxt);
        if window >= HALF_SPACE {
            return 0;
        }
        let rxt = if high_rxt.gt(snd_una) {
            off(snd_una, high_rxt).min(window)
        } else {
            0
        };
        let hole = |start: u32, end: u32, lost: bool| {
            let in_flight = if lost { 0 } else { end.saturating_sub(start) };
            let retransmitted = end.min(rxt).saturating_sub(start);
            u64::from(in_flight) + u64::from(retransmitted)
        };
        // From the top down, accumulating what lies above each hole.
        let (mut pipe, mut count, mut bytes, mut end) = (0u64, 0u32, 0u64, window);
        for (lo, hi) in self.offsets(snd_una, window).rev() {
            pipe += hole(hi, end, lost_by(count, bytes, mss, dup_thresh));
            count += 1;
            bytes += u64::from(hi - lo);
            end = lo;
        }
        pipe += hole(0, end, lost_by(count, bytes, mss, dup_thresh));
        u32::try_from(pipe).unwrap_or(u32::MAX)
    }

    /// The smallest unSACKed octet at or above `high_rxt` and below the
    /// highest SACKed octet (RFC 6675 NextSeg (1.a), (1.b)), with the
    /// length of the segment to send from it: up to `mss`, not into
    /// SACKed data.
    fn candidate(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
    ) -> Option<(SeqNumber, u32)> {
        let window = off(snd_una, snd_nxt);
        if window >= HALF_SPACE || mss == 0 {
            return None;
        }
        let from = if high_rxt.gt(snd_una) {
            off(snd_una, high_rxt)
        } else {
            0
        };
        let mut hole_start = 0;
        for (lo, hi) in self.offsets(snd_una, window) {
            let s = hole_start.max(from);
            if s < lo {
                return Some((at(snd_una, s), (lo - s).min(mss)));
            }
            hole_start = hi;
        }
        None
    }

    /// RFC 6675 §4 NextSeg rule (1): the segment to retransmit next, as
    /// (first sequence number, length): the first unSACKed octet above
    /// HighRxt (at or above `high_rxt`), below the highest SACKed octet,
    /// that [IsLost](Self::is_lost), and up to `mss` bytes from it, stopping
    /// at the next SACKed range. `None` if there is none (IsLost only
    /// weakens going up, so only the first candidate needs the test).
    ///
    /// Rule (2), new data, is the engine's: it knows the send buffer and
    /// the window. Rule (3) is [`next_seg_rule3`](Self::next_seg_rule3),
    /// rule (4) [`rescue_seg`](Self::rescue_seg).
    pub fn next_seg(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
        dup_thresh: u32,
    ) -> Option<(SeqNumber, u32)> {
        self.candidate(snd_una, snd_nxt, high_rxt, mss)
            .filter(|&(seq, _)| self.is_lost(seq, mss, dup_thresh))
    }

    /// RFC 6675 §4 NextSeg rule (3) (SHOULD), for when rules (1) and (2)
    /// give nothing: the first unSACKed octet meeting (1.a) and (1.b) but
    /// not deemed lost, and up to `mss` bytes from it.
    pub fn next_seg_rule3(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
    ) -> Option<(SeqNumber, u32)> {
        self.candidate(snd_una, snd_nxt, high_rxt, mss)
    }

    /// RFC 6675 §4 NextSeg rule (4), the rescue retransmission (MAY): up to
    /// `mss` bytes ending with the highest outstanding unSACKed octet.
    /// The engine checks the rule's condition (HighACK > RescueRxt, so at
    /// most one rescue per recovery) and records RescueRxt.
    pub fn rescue_seg(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        mss: u32,
    ) -> Option<(SeqNumber, u32)> {
        let window = off(snd_una, snd_nxt);
        if window >= HALF_SPACE || mss == 0 {
            return None;
        }
        let (mut last_hole, mut hole_start) = (None, 0);
        for (lo, hi) in self.offsets(snd_una, window) {
            if hole_start < lo {
                last_hole = Some((hole_start, lo));
            }
            hole_start = hi;
        }
        if hole_start < window {
            last_hole = Some((hole_start, window));
        }
        let (start, end) = last_hole?;
        let s = start.max(end.saturating_sub(mss));
        Some((at(snd_una, s), end - s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn block(left: u32, right: u32) -> SackBlock {
        let (left, right) = (SeqNumber(left), SeqNumber(right));
        SackBlock { left, right }
    }

    /// Segments `from..=to` (numbered from 1) of `MSS` bytes from `base`.
    fn segs(base: u32, from: u32, to: u32) -> SackBlock {
        let (l, r) = ((from - 1) * MSS, to * MSS);
        block(base.wrapping_add(l), base.wrapping_add(r))
    }

    fn seq(base: u32, offset: u32) -> SeqNumber {
        SeqNumber(base.wrapping_add(offset))
    }

    /// RFC 6675-style: ten segments sent, segment 1 arrives and is
    /// ACKed, 2, 4 and 6 are lost, the rest are SACKed one by one.
    #[test]
    fn ten_segments_two_four_six_lost() {
        for base in [1000, 0xffff_f000, 0xffff_ffff - 3500, 0x7fff_fc00] {
            let una = seq(base, MSS);
            let nxt = seq(base, 10 * MSS);
            let mut sb = Scoreboard::<8>::new();
            // Receiver reports: the newest block first (RFC 2018 §4).
            let reports: [&[SackBlock]; 6] = [
                &[segs(base, 3, 3)],
                &[segs(base, 5, 5), segs(base, 3, 3)],
                &[segs(base, 7, 7), segs(base, 5, 5), segs(base, 3, 3)],
                &[segs(base, 7, 8), segs(base, 5, 5), segs(base, 3, 3)],
                &[segs(base, 7, 9), segs(base, 5, 5), segs(base, 3, 3)],
                &[segs(base, 7, 10), segs(base, 5, 5), segs(base, 3, 3)],
            ];
            for report in reports {
                assert_eq!(sb.update(una, nxt, report), MSS, "base {base:#x}");
            }
            assert_eq!(sb.update(una, nxt, reports[5]), 0);
            assert_eq!(
                sb.ranges(),
                &[segs(base, 3, 3), segs(base, 5, 5), segs(base, 7, 10)]
            );
            assert_eq!(sb.sacked_bytes(), 6 * MSS);
            assert_eq!(sb.highest_sacked(), Some(nxt));
            assert!(sb.is_sacked(seq(base, 2 * MSS)) && sb.is_sacked(seq(base, 10 * MSS - 1)));
            assert!(!sb.is_sacked(una) && !sb.is_sacked(seq(base, 3 * MSS)) && !sb.is_sacked(nxt));
            // 2: three ranges above; 4: two ranges, 5 segments; 6: one range
            // of 4 segments, more than (3 - 1) * SMSS.
            for k in [2, 4, 6] {
                let s = seq(base, (k - 1) * MSS);
                assert!(sb.is_lost(s, MSS, 3), "segment {k}");
                assert!(sb.is_lost(s + (MSS as usize - 1), MSS, 3), "end of {k}");
            }
            // Nothing retransmitted yet: the holes are lost, pipe is empty.
            assert_eq!(sb.pipe(una, nxt, una, MSS), 0);
            let mut high_rxt = una;
            for (k, pipe) in [(2, MSS), (4, 2 * MSS), (6, 3 * MSS)] {
                let next = sb.next_seg(una, nxt, high_rxt, MSS, 3);
                assert_eq!(next, Some((seq(base, (k - 1) * MSS), MSS)));
                high_rxt = seq(base, k * MSS);
                // Each retransmission is in flight once (the original is lost).
                assert_eq!(sb.pipe(una, nxt, high_rxt, MSS), pipe);
            }
            assert_eq!(sb.next_seg(una, nxt, high_rxt, MSS, 3), None);
            assert_eq!(sb.next_seg_rule3(una, nxt, high_rxt, MSS), None);
            // Segment 2's retransmission is ACKed: a cumulative ACK to 4.
            let una2 = seq(base, 3 * MSS);
            assert_eq!(
                sb.update(una2, nxt, &[segs(base, 7, 10), segs(base, 5, 5)]),
                0
            );
            assert_eq!(sb.ranges(), &[segs(base, 5, 5), segs(base, 7, 10)]);
            assert_eq!(sb.pipe(una2, nxt, high_rxt, MSS), 2 * MSS);
        }
    }

    #[test]
    fn not_lost_below_threshold() {
        let (una, nxt) = (SeqNumber(0), SeqNumber(10 * MSS));
        let mut sb = Scoreboard::<4>::new();
        // Segments 1..=10 from 0; 1 missing, 2 and 3 SACKed, 4..10 in flight.
        sb.update(una, nxt, &[segs(0, 2, 3)]);
        assert!(!sb.is_lost(una, MSS, 3)); // exactly 2 * SMSS above
        assert_eq!(sb.pipe(una, nxt, una, MSS), 8 * MSS);
        // With DupThresh 2, two segments above are enough.
        assert_eq!(sb.pipe_with_thresh(una, nxt, una, MSS, 2), 7 * MSS);
        assert!(sb.is_lost(una, MSS, 2));
        assert_eq!(sb.next_seg(una, nxt, una, MSS, 3), None);
        assert_eq!(sb.next_seg_rule3(una, nxt, una, MSS), Some((una, MSS)));
        // Retransmitted under rule 3: counted twice.
        assert_eq!(sb.pipe(una, nxt, SeqNumber(MSS), MSS), 9 * MSS);
        // One more byte SACKed tips it.
        sb.update(una, nxt, &[block(3 * MSS, 3 * MSS + 1)]);
        assert!(sb.is_lost(una, MSS, 3));
        assert_eq!(sb.next_seg(una, nxt, una, MSS, 3), Some((una, MSS)));
        assert_eq!(sb.pipe(una, nxt, una, MSS), 7 * MSS - 1);
        // Three discontiguous small ranges mark the octet below lost.
        let mut sb = Scoreboard::<4>::new();
        sb.update(una, nxt, &[block(100, 200), block(300, 400)]);
        assert!(!sb.is_lost(una, MSS, 3));
        sb.update(una, nxt, &[block(500, 600)]);
        assert!(sb.is_lost(una, MSS, 3));
        assert!(!sb.is_lost(SeqNumber(250), MSS, 3));
        // A hole shorter than MSS gives a short segment; high_rxt inside a
        // hole starts from there.
        assert_eq!(sb.next_seg(una, nxt, una, MSS, 3), Some((una, 100)));
        assert_eq!(
            sb.next_seg_rule3(una, nxt, SeqNumber(40), MSS),
            Some((SeqNumber(40), 60))
        );
        assert_eq!(
            sb.next_seg_rule3(una, nxt, SeqNumber(100), MSS),
            Some((SeqNumber(200), 100))
        );
        assert_eq!(
            sb.next_seg_rule3(una, nxt, SeqNumber(400), MSS),
            Some((SeqNumber(400), 100))
        );
        assert_eq!(sb.next_seg_rule3(una, nxt, SeqNumber(600), MSS), None);
    }

    #[test]
    fn merges_and_counts_new_bytes() {
        let (una, nxt) = (SeqNumber(0xffff_ff00), SeqNumber(0x1000));
        let mut sb = Scoreboard::<4>::new();
        assert_eq!(sb.update(una, nxt, &[block(0xffff_ff80, 0x10)]), 0x90);
        assert_eq!(
            sb.update(una, nxt, &[block(0x100, 0x200), block(0x300, 0x400)]),
            0x200
        );
        // Touching ranges merge.
        assert_eq!(sb.update(una, nxt, &[block(0x200, 0x280)]), 0x80);
        assert_eq!(
            sb.ranges(),
            &[
                block(0xffff_ff80, 0x10),
                block(0x100, 0x280),
                block(0x300, 0x400)
            ]
        );
        // One block bridging three ranges counts only the gaps.
        assert_eq!(
            sb.update(una, nxt, &[block(0xffff_ffc0, 0x380)]),
            0xf0 + 0x80
        );
        assert_eq!(sb.ranges(), &[block(0xffff_ff80, 0x400)]);
        assert_eq!(sb.sacked_bytes(), 0x480);
        // Contained and duplicate blocks add nothing.
        let dup = block(0x10, 0x20);
        assert_eq!(sb.update(una, nxt, &[dup, dup]), 0);
        assert_eq!(sb.highest_sacked(), Some(SeqNumber(0x400)));
    }

    #[test]
    fn ignores_dsack_and_bogus_blocks() {
        let (una, nxt) = (SeqNumber(5000), SeqNumber(9000));
        let mut sb = Scoreboard::<4>::new();
        let bogus = [
            block(4000, 4500), // D-SACK below SND.UNA (RFC 2883)
            block(4000, 5000), // ends at SND.UNA
            block(4900, 5100), // straddles SND.UNA
            block(5000, 5100), // starts at SND.UNA
            block(8000, 9001), // beyond SND.NXT
            block(9000, 9500),
            block(6000, 6000),        // empty
            block(7000, 6000),        // reversed
            block(6000, 0x8000_1000), // half the space away
        ];
        assert_eq!(sb.update(una, nxt, &bogus), 0);
        assert!(sb.is_empty() && sb.highest_sacked().is_none());
        // A D-SACK first, then real blocks: only the real ones count.
        let (dsack, real) = (block(4000, 4500), block(8000, 9000));
        assert_eq!(sb.update(una, nxt, &[dsack, real]), 1000);
        // A D-SACK inside the second block (RFC 2883 §4) changes nothing.
        assert_eq!(sb.update(una, nxt, &[block(8200, 8300), real]), 0);
        assert_eq!(sb.ranges(), &[block(8000, 9000)]);
        // Nonsense windows answer nothing.
        assert_eq!(sb.update(nxt, una, &[block(6000, 7000)]), 0);
        assert_eq!(sb.pipe(nxt, una, nxt, MSS), 0);
        assert_eq!(sb.next_seg(una, nxt, una, 0, 3), None);
    }

    #[test]
    fn cumulative_ack_drops_and_trims() {
        let (una, nxt) = (SeqNumber(0xffff_fc00), SeqNumber(0x2000));
        let mut sb = Scoreboard::<4>::new();
        sb.update(
            una,
            nxt,
            &[
                block(0xffff_fe00, 0x100),
                block(0x200, 0x300),
                block(0x400, 0x500),
            ],
        );
        sb.on_cumulative_ack(SeqNumber(0xffff_fe00));
        assert_eq!(sb.len(), 3);
        sb.on_cumulative_ack(SeqNumber(0x80)); // inside the first range
        assert_eq!(
            sb.ranges(),
            &[block(0x80, 0x100), block(0x200, 0x300), block(0x400, 0x500)]
        );
        assert_eq!(
            sb.pipe(SeqNumber(0x80), nxt, SeqNumber(0x80), MSS),
            0x2000 - 0x80 - 0x280
        );
        sb.on_cumulative_ack(SeqNumber(0x300));
        assert_eq!(sb.ranges(), &[block(0x400, 0x500)]);
        sb.on_cumulative_ack(SeqNumber(0x1000));
        assert!(sb.is_empty());
        sb.update(SeqNumber(0x1000), nxt, &[block(0x1800, 0x1900)]);
        sb.clear();
        assert_eq!((sb.len(), sb.sacked_bytes()), (0, 0));
    }

    #[test]
    fn capacity_forgets_the_farthest() {
        let (una, nxt) = (SeqNumber(0xffff_ff00), SeqNumber(0x10_0000));
        let mut sb = Scoreboard::<2>::new();
        assert_eq!(
            sb.update(una, nxt, &[block(0x100, 0x200), block(0x300, 0x400)]),
            0x200
        );
        // Farther than everything held: forgotten at once.
        assert_eq!(sb.update(una, nxt, &[block(0x500, 0x600)]), 0);
        assert_eq!(sb.ranges(), &[block(0x100, 0x200), block(0x300, 0x400)]);
        // Nearer: the farthest held range goes.
        assert_eq!(sb.update(una, nxt, &[block(0xffff_ff10, 0x20)]), 0x110);
        assert_eq!(
            sb.ranges(),
            &[block(0xffff_ff10, 0x20), block(0x100, 0x200)]
        );
        // Merging needs no room.
        assert_eq!(sb.update(una, nxt, &[block(0x20, 0x100)]), 0xe0);
        assert_eq!(sb.ranges(), &[block(0xffff_ff10, 0x200)]);
        assert_eq!(sb.update(una, nxt, &[block(0x300, 0x400)]), 0x100);
        assert_eq!(sb.len(), 2);
        // A board of 0 ranges holds nothing.
        let mut none = Scoreboard::<0>::default();
        assert_eq!(none.update(una, nxt, &[block(0x100, 0x200)]), 0);
        assert_eq!(none.pipe(una, nxt, una, MSS), 0x10_0100);
        // Many ranges through a small board stay sorted and disjoint.
        let mut sb = Scoreboard::<3>::new();
        for i in (0u32..20).rev() {
            sb.update(una, nxt, &[block(0x1000 * i + 0x800, 0x1000 * i + 0x900)]);
        }
        assert_eq!(
            sb.ranges(),
            &[
                block(0x800, 0x900),
                block(0x1800, 0x1900),
                block(0x2800, 0x2900)
            ]
        );
    }

    #[test]
    fn rescue_takes_the_highest_hole() {
        let (una, nxt) = (SeqNumber(0), SeqNumber(10 * MSS));
        let mut sb = Scoreboard::<4>::new();
        // Nothing SACKed: the last MSS before SND.NXT.
        assert_eq!(
            sb.rescue_seg(una, nxt, MSS),
            Some((SeqNumber(9 * MSS), MSS))
        );
        // Tail SACKed: the end of the hole below it, up to MSS.
        sb.update(una, nxt, &[segs(0, 3, 3), block(6500, 10 * MSS)]);
        assert_eq!(sb.rescue_seg(una, nxt, MSS), Some((SeqNumber(5500), MSS)));
        sb.update(una, nxt, &[block(6000, 6500)]);
        assert_eq!(
            sb.rescue_seg(una, nxt, 4 * MSS),
            Some((SeqNumber(3000), 3000))
        );
        assert_eq!(sb.rescue_seg(una, una, MSS), None);
        assert_eq!(sb.rescue_seg(una, nxt, 0), None);
    }
}
