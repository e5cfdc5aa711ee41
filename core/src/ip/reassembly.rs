//! Reassembly of fragmented IPv4 datagrams (RFC 791 §3.2, RFC 815) in
//! `REASM_BUFFERS` fixed buffers of `REASM_BUFFER_SIZE` bytes.
//!
//! Which bytes arrived is kept as a bitmap of 8-octet blocks, the unit of
//! the fragment offset field, so holes cost no descriptors and any arrival
//! order works. Hostile cases:
//!
//! * an exact duplicate (same bytes at the same place) is ignored;
//! * any other overlap discards the whole datagram, and later fragments of
//!   it are dropped until its timer runs out: RFC 5722's rule for IPv6,
//!   applied to IPv4 because overlapping fragments only serve to evade
//!   filters;
//! * a datagram longer than a buffer or than 65535 bytes (RFC 791's limit,
//!   the "ping of death") is discarded the same way;
//! * with every buffer busy, the oldest partial datagram is evicted;
//! * a partial datagram is dropped `REASM_TIMEOUT_MS` after its first
//!   fragment (RFC 791's timer, not restarted by later fragments).

use crate::addr::Ipv4Addr;
use crate::config::{REASM_BUFFERS, REASM_BUFFER_SIZE, REASM_TIMEOUT_MS};
use crate::time::{Duration, Instant};

const BLOCKS: usize = REASM_BUFFER_SIZE / 8;
const WORDS: usize = BLOCKS.div_ceil(64);
const TIMEOUT: Duration = Duration::from_millis(REASM_TIMEOUT_MS as u64);

/// What identifies the fragments of one datagram (RFC 791 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragKey {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol number.
    pub protocol: u8,
    /// Identification field.
    pub ident: u16,
}

/// One fragment as received.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Which datagram.
    pub key: FragKey,
    /// Offset of `data` in the datagram's payload, in bytes.
    pub offset: usize,
    /// Whether more fragments follow (MF flag).
    pub more: bool,
    /// The fragment's payload.
    pub data: &'a [u8],
    /// Header fields kept from the first fragment: TTL.
    pub ttl: u8,
}

/// What became of a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored; the datagram is still incomplete.
    Stored,
    /// The datagram is complete in buffer `slot`; its payload is
    /// [`Reassembler::payload`]`(slot)`. Call [`Reassembler::release`] after.
    Complete {
        /// The buffer holding it.
        slot: usize,
    },
    /// An exact duplicate, ignored.
    Duplicate,
    /// Overlap: the datagram is discarded.
    Overlap,
    /// Too long for a buffer or for IPv4: the datagram is discarded.
    Oversize,
    /// A middle fragment whose length is not a multiple of 8, or an empty
    /// one: dropped.
    Malformed,
    /// A fragment of a datagram already discarded: dropped.
    Discarded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Active,
    /// Discarded; absorbs its remaining fragments until the deadline.
    Poisoned,
    /// Complete and handed out.
    Done,
}

struct Slot {
    state: State,
    key: FragKey,
    deadline: Instant,
    /// Total payload length, known once the last fragment arrived.
    total: Option<usize>,
    blocks: [u64; WORDS],
    ttl: u8,
    buf: [u8; REASM_BUFFER_SIZE],
}

impl Slot {
    const EMPTY: Slot = Slot {
        state: State::Free,
        key: FragKey {
            src: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
            protocol: 0,
            ident: 0,
        },
        deadline: Instant::ZERO,
        total: None,
        blocks: [0; WORDS],
        ttl: 0,
        buf: [0; REASM_BUFFER_SIZE],
    };

    fn has(&self, block: usize) -> bool {
        self.blocks[block / 64] & (1 << (block % 64)) != 0
    }
    fn set(&mut self, block: usize) {
        self.blocks[block / 64] |= 1 << (block % 64);
    }
    fn complete(&self) -> bool {
        match self.total {
            Some(total) => (0..total.div_ceil(8)).all(|b| self.has(b)),
            None => false,
        }
    }
}

/// Events counted by the reassembler for the statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    /// Partial datagrams dropped on timeout.
    pub timeouts: u64,
}

/// The reassembly buffers.
pub struct Reassembler {
    slots: [Slot; REASM_BUFFERS],
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new()
    }
}

impl Reassembler {
    /// All buffers free.
    pub const fn new() -> Self {
        Reassembler {
            slots: [Slot::EMPTY; REASM_BUFFERS],
        }
    }

    /// Buffers in use (collecting, absorbing a discarded datagram's
    /// fragments, or holding a datagram being delivered).
    pub fn occupancy(&self) -> usize {
        self.slots.iter().filter(|s| s.state != State::Free).count()
    }

    /// Adds a fragment. Returns what happened and, as second value, whether
    /// a partial datagram had to be evicted to make room.
    pub fn add(&mut self, now: Instant, frag: Fragment<'_>) -> (Outcome, bool) {
        let end = frag.offset + frag.data.len();
        // A middle fragment must carry a multiple of 8 octets (RFC 791 §3.1
        // "Fragment Offset"); an empty fragment carries nothing.
        if frag.data.is_empty() || (frag.more && frag.data.len() % 8 != 0) {
            return (Outcome::Malformed, false);
        }
        let mut evicted = false;
        let idx = match self.find(frag.key) {
            Some(i) => i,
            None => {
                let i = match self.slots.iter().position(|s| s.state == State::Free) {
                    Some(i) => i,
                    None => {
                        // Evict the partial datagram closest to its deadline
                        // (the oldest); never a completed one being read.
                        let Some(i) = self
                            .slots
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.state != State::Done)
                            .min_by_key(|(_, s)| s.deadline)
                            .map(|(i, _)| i)
                        else {
                            return (Outcome::Discarded, false);
                        };
                        evicted = self.slots[i].state == State::Active;
                        i
                    }
                };
                let s = &mut self.slots[i];
                s.state = State::Active;
                s.key = frag.key;
                s.deadline = now + TIMEOUT;
                s.total = None;
                s.blocks = [0; WORDS];
                s.ttl = frag.ttl;
                i
            }
        };
        let s = &mut self.slots[idx];
        if s.state == State::Poisoned {
            return (Outcome::Discarded, evicted);
        }
        if end > 65535 - 20 || end > REASM_BUFFER_SIZE {
            s.state = State::Poisoned;
            return (Outcome::Oversize, evicted);
        }
        // The last fragment fixes the length; a second, different "last"
        // fragment or data beyond it is an overlap.
        if !frag.more {
            match s.total {
                Some(t) if t != end => {
                    s.state = State::Poisoned;
                    return (Outcome::Overlap, evicted);
                }
                _ => {}
            }
            if (end.div_ceil(8)..BLOCKS).any(|b| s.has(b)) {
                s.state = State::Poisoned;
                return (Outcome::Overlap, evicted);
            }
        }
        if s.total.is_some_and(|t| end > t) {
            s.state = State::Poisoned;
            return (Outcome::Overlap, evicted);
        }
        let first = frag.offset / 8;
        let last = end.div_ceil(8);
        let present = (first..last).filter(|&b| s.has(b)).count();
        if present == last - first {
            let same = s.buf.get(frag.offset..end) == Some(frag.data);
            if same && (frag.more || s.total == Some(end)) {
                return (Outcome::Duplicate, evicted);
            }
            s.state = State::Poisoned;
            return (Outcome::Overlap, evicted);
        } else if present != 0 {
            s.state = State::Poisoned;
            return (Outcome::Overlap, evicted);
        }
        if let Some(dst) = s.buf.get_mut(frag.offset..end) {
            dst.copy_from_slice(frag.data);
        }
        for b in first..last {
            s.set(b);
        }
        if !frag.more {
            s.total = Some(end);
        }
        if s.complete() {
            s.state = State::Done;
            (Outcome::Complete { slot: idx }, evicted)
        } else {
            (Outcome::Stored, evicted)
        }
    }

    fn find(&self, key: FragKey) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| matches!(s.state, State::Active | State::Poisoned) && s.key == key)
    }

    /// The payload of a complete datagram.
    pub fn payload(&self, slot: usize) -> &[u8] {
        match self.slots.get(slot) {
            Some(s) if s.state == State::Done => s.buf.get(..s.total.unwrap_or(0)).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The key and first-fragment TTL of a complete datagram.
    pub fn header(&self, slot: usize) -> Option<(FragKey, u8)> {
        self.slots.get(slot).map(|s| (s.key, s.ttl))
    }

    /// Frees a completed datagram's buffer.
    pub fn release(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            s.state = State::Free;
        }
    }

    /// Drops partial datagrams whose timer ran out.
    pub fn expire(&mut self, now: Instant) -> Expired {
        let mut e = Expired::default();
        for s in self.slots.iter_mut() {
            if matches!(s.state, State::Active | State::Poisoned) && now >= s.deadline {
                if s.state == State::Active {
                    e.timeouts += 1;
                }
                s.state = State::Free;
            }
        }
        e
    }

    /// When the next partial datagram times out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, State::Active | State::Poisoned))
            .map(|s| s.deadline)
            .min()
    }

    /// Buffers in use.
    pub fn in_use(&self) -> usize {
        self.slots.iter().filter(|s| s.state != State::Free).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ident: u16) -> FragKey {
        FragKey {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 2),
            protocol: 1,
            ident,
        }
    }
    fn frag(ident: u16, offset: usize, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            key: key(ident),
            offset,
            more,
            data,
            ttl: 64,
        }
    }
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }
    const T0: Instant = Instant::from_secs(1);

    #[test]
    fn any_order_reassembles() {
        let data = pattern(3000);
        let pieces = [(0, 1480), (1480, 2960), (2960, 3000)];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let mut r = Reassembler::new();
            let mut done = None;
            for &i in &order {
                let (a, b) = pieces[i];
                let (o, _) = r.add(T0, frag(7, a, b != 3000, &data[a..b]));
                if let Outcome::Complete { slot } = o {
                    done = Some(slot);
                } else {
                    assert_eq!(o, Outcome::Stored);
                }
            }
            let slot = done.expect("complete");
            assert_eq!(r.payload(slot), &data[..]);
            r.release(slot);
            assert_eq!(r.in_use(), 0);
        }
    }

    #[test]
    fn exact_duplicates_are_ignored() {
        let data = pattern(24);
        let mut r = Reassembler::new();
        assert_eq!(r.add(T0, frag(1, 0, true, &data[..16])).0, Outcome::Stored);
        assert_eq!(
            r.add(T0, frag(1, 0, true, &data[..16])).0,
            Outcome::Duplicate
        );
        assert!(matches!(
            r.add(T0, frag(1, 16, false, &data[16..])).0,
            Outcome::Complete { .. }
        ));
    }

    #[test]
    fn overlap_with_other_data_discards_the_datagram() {
        let data = pattern(32);
        let mut r = Reassembler::new();
        r.add(T0, frag(2, 0, true, &data[..16]));
        let mut evil = data[8..24].to_vec();
        evil[0] ^= 0xff;
        assert_eq!(r.add(T0, frag(2, 8, true, &evil)).0, Outcome::Overlap);
        // Even the genuine remainder cannot complete it now.
        assert_eq!(
            r.add(T0, frag(2, 16, false, &data[16..])).0,
            Outcome::Discarded
        );
        // The slot is reclaimed at the deadline.
        r.expire(T0 + TIMEOUT);
        assert_eq!(r.in_use(), 0);
    }

    #[test]
    fn partial_overlap_with_same_bytes_is_still_an_overlap() {
        let data = pattern(32);
        let mut r = Reassembler::new();
        r.add(T0, frag(3, 0, true, &data[..16]));
        assert_eq!(
            r.add(T0, frag(3, 8, true, &data[8..24])).0,
            Outcome::Overlap
        );
    }

    #[test]
    fn conflicting_last_fragments_and_data_past_the_end() {
        let data = pattern(64);
        let mut r = Reassembler::new();
        r.add(T0, frag(4, 32, false, &data[32..40]));
        assert_eq!(
            r.add(T0, frag(4, 32, false, &data[32..48])).0,
            Outcome::Overlap
        );
        let mut r = Reassembler::new();
        r.add(T0, frag(5, 8, false, &data[8..16]));
        assert_eq!(
            r.add(T0, frag(5, 16, true, &data[16..24])).0,
            Outcome::Overlap
        );
    }

    #[test]
    fn oversize_and_ping_of_death() {
        let mut r = Reassembler::new();
        let data = pattern(64);
        assert_eq!(
            r.add(T0, frag(6, REASM_BUFFER_SIZE - 8, true, &data[..16]))
                .0,
            Outcome::Oversize
        );
        assert_eq!(
            r.add(T0, frag(6, 0, true, &data[..16])).0,
            Outcome::Discarded
        );
        let mut r = Reassembler::new();
        assert_eq!(
            r.add(T0, frag(8, 65528, false, &data[..16])).0,
            Outcome::Oversize
        );
    }

    #[test]
    fn malformed_middle_fragment() {
        let mut r = Reassembler::new();
        assert_eq!(
            r.add(T0, frag(9, 0, true, &[1, 2, 3])).0,
            Outcome::Malformed
        );
        assert_eq!(r.add(T0, frag(9, 0, true, &[])).0, Outcome::Malformed);
        assert_eq!(r.in_use(), 0);
    }

    #[test]
    fn timeout_frees_and_is_counted() {
        let mut r = Reassembler::new();
        r.add(T0, frag(10, 0, true, &pattern(8)));
        assert_eq!(r.poll_at(), Some(T0 + TIMEOUT));
        assert_eq!(
            r.expire(T0 + TIMEOUT - Duration::from_micros(1)).timeouts,
            0
        );
        assert_eq!(r.expire(T0 + TIMEOUT).timeouts, 1);
        assert_eq!(r.poll_at(), None);
    }

    #[test]
    fn exhaustion_evicts_the_oldest() {
        let mut r = Reassembler::new();
        for i in 0..REASM_BUFFERS as u16 {
            r.add(
                T0 + Duration::from_millis(u64::from(i)),
                frag(100 + i, 0, true, &pattern(8)),
            );
        }
        let (o, evicted) = r.add(T0 + Duration::from_secs(1), frag(999, 0, true, &pattern(8)));
        assert_eq!((o, evicted), (Outcome::Stored, true));
        // The first datagram is gone: its next fragment starts afresh.
        assert_eq!(
            r.add(
                T0 + Duration::from_secs(1),
                frag(100, 8, false, &pattern(8))
            )
            .0,
            Outcome::Stored
        );
    }
}
