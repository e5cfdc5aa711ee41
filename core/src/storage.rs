//! Fixed storage for queues of whole packets.
//!
//! [`PacketRing`] keeps up to `N` packets, each with a small header `H`, in
//! one `B`-byte ring. Every packet is stored contiguously: when one does not
//! fit at the end of the ring, the tail is skipped (counted as used until that
//! packet leaves). Nothing is ever allocated; a full ring is an error.

/// The ring has no room for the packet (too many packets or too few bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

#[derive(Clone, Copy)]
struct Meta<H> {
    header: H,
    offset: usize,
    len: usize,
    pad: usize,
}

/// A FIFO of up to `N` packets stored in `B` bytes.
pub struct PacketRing<H: Copy, const N: usize, const B: usize> {
    meta: [Option<Meta<H>>; N],
    head: usize,
    count: usize,
    bytes: [u8; B],
    read: usize,
    write: usize,
    used: usize,
}

impl<H: Copy, const N: usize, const B: usize> Default for PacketRing<H, N, B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Copy, const N: usize, const B: usize> PacketRing<H, N, B> {
    /// An empty ring.
    pub const fn new() -> Self {
        PacketRing {
            meta: [None; N],
            head: 0,
            count: 0,
            bytes: [0; B],
            read: 0,
            write: 0,
            used: 0,
        }
    }

    /// Packets in the ring.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the ring holds no packet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The largest packet an empty ring can take.
    pub const fn capacity_bytes() -> usize {
        B
    }

    /// Drops every packet.
    pub fn clear(&mut self) {
        self.meta = [None; N];
        self.head = 0;
        self.count = 0;
        self.read = 0;
        self.write = 0;
        self.used = 0;
    }

    /// Where a packet of `len` bytes would go: `(offset, pad)`.
    ///
    /// Invariant: the bytes in use are `read..write` (going round the end
    /// when `write < read`), where `read` is where the oldest packet's
    /// region (its padding included) starts.
    fn place(&self, len: usize) -> Option<(usize, usize)> {
        if self.count == N || len > B {
            return None;
        }
        if self.count == 0 {
            return Some((0, 0));
        }
        if self.write > self.read || (self.write == self.read && self.used == 0) {
            if len <= B - self.write {
                Some((self.write, 0))
            } else if len <= self.read {
                Some((0, B - self.write))
            } else {
                None
            }
        } else if self.write < self.read && len <= self.read - self.write {
            Some((self.write, 0))
        } else {
            None
        }
    }

    /// Whether a packet of `len` bytes fits now.
    pub fn can_push(&self, len: usize) -> bool {
        self.place(len).is_some()
    }

    /// Reserves room for a packet of `len` bytes and returns it to be filled.
    pub fn push_with(&mut self, header: H, len: usize) -> Result<&mut [u8], Full> {
        if self.count == 0 {
            self.read = 0;
            self.write = 0;
        }
        let (offset, pad) = self.place(len).ok_or(Full)?;
        let tail = (self.head + self.count) % N;
        self.meta[tail] = Some(Meta {
            header,
            offset,
            len,
            pad,
        });
        self.count += 1;
        self.used += pad + len;
        self.write = offset + len;
        self.bytes.get_mut(offset..offset + len).ok_or(Full)
    }

    /// Appends a copy of `data`.
    pub fn push(&mut self, header: H, data: &[u8]) -> Result<(), Full> {
        self.push_with(header, data.len())?.copy_from_slice(data);
        Ok(())
    }

    /// The oldest packet, left in place.
    pub fn peek(&self) -> Option<(&H, &[u8])> {
        if self.count == 0 {
            return None;
        }
        let m = self.meta[self.head].as_ref()?;
        Some((&m.header, self.bytes.get(m.offset..m.offset + m.len)?))
    }

    /// The oldest packet's header, to be changed in place.
    pub fn peek_header_mut(&mut self) -> Option<&mut H> {
        if self.count == 0 {
            return None;
        }
        self.meta[self.head].as_mut().map(|m| &mut m.header)
    }

    /// Removes the oldest packet; its bytes stay readable through the
    /// returned slice until the ring is changed again.
    pub fn pop(&mut self) -> Option<(H, &[u8])> {
        if self.count == 0 {
            return None;
        }
        let m = self.meta[self.head].take()?;
        self.head = (self.head + 1) % N;
        self.count -= 1;
        self.used -= m.pad + m.len;
        self.read = match self.meta[self.head] {
            Some(next) if self.count > 0 && next.pad > 0 => B - next.pad,
            Some(next) if self.count > 0 => next.offset,
            // Empty: the next push starts at 0 again (the popped bytes stay
            // readable until then).
            _ => self.write,
        };
        Some((m.header, self.bytes.get(m.offset..m.offset + m.len)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_capacity() {
        let mut r: PacketRing<u8, 3, 16> = PacketRing::new();
        r.push(1, b"aaaa").unwrap();
        r.push(2, b"bbbb").unwrap();
        r.push(3, b"cc").unwrap();
        assert_eq!(r.push(4, b"d"), Err(Full), "meta full");
        assert_eq!(
            r.pop().map(|(h, d)| (h, d.to_vec())),
            Some((1, b"aaaa".to_vec()))
        );
        assert_eq!(
            r.peek().map(|(h, d)| (*h, d.to_vec())),
            Some((2, b"bbbb".to_vec()))
        );
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn wraps_with_padding_and_never_overlaps() {
        let mut r: PacketRing<u32, 4, 10> = PacketRing::new();
        r.push(0, &[0; 6]).unwrap(); // 0..6
        r.push(1, &[1; 3]).unwrap(); // 6..9
        assert!(r.pop().is_some()); // frees 0..6
                                    // 4 bytes do not fit at the end (1 left): wrap to 0 with 1 byte pad.
        r.push(2, &[2; 4]).unwrap();
        assert!(!r.can_push(3), "only 2 bytes between write(4) and read(6)");
        r.push(3, &[3; 2]).unwrap();
        assert_eq!(r.pop().unwrap().1, &[1; 3]);
        assert_eq!(r.pop().unwrap().1, &[2; 4]);
        assert_eq!(r.pop().unwrap().1, &[3; 2]);
        assert!(r.is_empty());
        r.push(4, &[4; 10]).unwrap();
        assert_eq!(r.pop().unwrap().1, &[4; 10]);
    }

    #[test]
    fn randomized_against_model() {
        use crate::rand::{FixedSeed, Random};
        for seed in 0..6 {
            let mut rng = Random::new(&mut FixedSeed(seed));
            let mut r: PacketRing<u32, 8, 64> = PacketRing::new();
            let mut model: [(u32, usize); 64] = [(0, 0); 64];
            let (mut mh, mut mt) = (0usize, 0usize);
            for i in 0..20_000u32 {
                if rng.below(2) == 0 {
                    let len = rng.below(40) as usize;
                    let data = [i as u8; 40];
                    if r.push(i, &data[..len]).is_ok() {
                        model[mt % 64] = (i, len);
                        mt += 1;
                    }
                } else if let Some((h, d)) = r.pop() {
                    let (eh, el) = model[mh % 64];
                    mh += 1;
                    assert_eq!((h, d.len()), (eh, el));
                    assert!(d.iter().all(|&b| b == eh as u8));
                }
                assert_eq!(r.len(), mt - mh);
            }
        }
    }
}
