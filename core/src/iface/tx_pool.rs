//! The pool of outgoing frame slots (Zephyr's `NET_PKT_TX_COUNT`).
//!
//! Every frame the stack sends is built in place in one of `TX_FRAMES` slots
//! and waits there until a driver takes it. A slot is `Ready`, or waits for
//! ARP to resolve its next hop (at most `ARP_PENDING` such slots, so an
//! unreachable neighbour cannot starve the pool). Frames of one interface
//! leave in the order they were queued.

use crate::addr::Ipv4Addr;
use crate::config::{ARP_PENDING, FRAME_SIZE, TX_FRAMES};
use crate::iface::IfaceId;
use crate::phy::Device;
use crate::time::Instant;
use crate::wire::EthernetAddress;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    /// Being filled by the stack.
    Reserved,
    Ready,
    AwaitArp(Ipv4Addr),
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    state: State,
    iface: IfaceId,
    len: u16,
    seq: u32,
}

/// What became of a flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flushed {
    /// Frames the driver took.
    pub sent: usize,
    /// Whether the driver said busy with frames still waiting.
    pub blocked: bool,
}

/// `TX_FRAMES` frame slots.
pub struct TxPool {
    meta: [Meta; TX_FRAMES],
    frames: [[u8; FRAME_SIZE]; TX_FRAMES],
    next_seq: u32,
}

impl Default for TxPool {
    fn default() -> Self {
        Self::new()
    }
}

impl TxPool {
    /// An empty pool.
    pub const fn new() -> Self {
        TxPool {
            meta: [Meta {
                state: State::Free,
                iface: IfaceId::LOOPBACK,
                len: 0,
                seq: 0,
            }; TX_FRAMES],
            frames: [[0; FRAME_SIZE]; TX_FRAMES],
            next_seq: 0,
        }
    }

    /// Slots in use, and how many of them wait for ARP.
    pub fn occupancy(&self) -> (usize, usize) {
        (TX_FRAMES - self.free(), self.pending())
    }

    /// Free slots.
    pub fn free(&self) -> usize {
        self.meta.iter().filter(|m| m.state == State::Free).count()
    }

    /// Slots waiting for ARP.
    pub fn pending(&self) -> usize {
        self.meta
            .iter()
            .filter(|m| matches!(m.state, State::AwaitArp(_)))
            .count()
    }

    /// Whether `n` more frames may wait for ARP.
    pub fn pending_room(&self, n: usize) -> bool {
        self.pending() + n <= ARP_PENDING
    }

    /// Whether any frame is ready to go.
    pub fn has_ready(&self) -> bool {
        self.meta.iter().any(|m| m.state == State::Ready)
    }

    /// Whether a frame of `iface` is ready to go.
    pub fn has_ready_on(&self, iface: IfaceId) -> bool {
        self.meta
            .iter()
            .any(|m| m.state == State::Ready && m.iface == iface)
    }

    /// Takes a free slot and returns its index and buffer.
    pub fn reserve(&mut self) -> Option<(usize, &mut [u8; FRAME_SIZE])> {
        let i = self.meta.iter().position(|m| m.state == State::Free)?;
        self.meta[i].state = State::Reserved;
        Some((i, &mut self.frames[i]))
    }

    /// The buffer of a reserved slot.
    pub fn buffer(&mut self, slot: usize) -> &mut [u8; FRAME_SIZE] {
        &mut self.frames[slot % TX_FRAMES]
    }

    /// Queues a filled slot: ready, or waiting for `await_arp` to resolve.
    pub fn commit(&mut self, slot: usize, iface: IfaceId, len: usize, await_arp: Option<Ipv4Addr>) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if let Some(m) = self.meta.get_mut(slot) {
            m.state = match await_arp {
                Some(ip) => State::AwaitArp(ip),
                None => State::Ready,
            };
            m.iface = iface;
            m.len = len.min(FRAME_SIZE) as u16;
            m.seq = seq;
        }
    }

    /// Gives a reserved slot back unused.
    pub fn release(&mut self, slot: usize) {
        if let Some(m) = self.meta.get_mut(slot) {
            m.state = State::Free;
        }
    }

    /// `via` on `iface` resolved to `mac`: fills in the destination address
    /// of every frame waiting for it and makes them ready. Returns how many.
    pub fn resolve(&mut self, iface: IfaceId, via: Ipv4Addr, mac: EthernetAddress) -> usize {
        let mut n = 0;
        for (m, f) in self.meta.iter_mut().zip(self.frames.iter_mut()) {
            if m.iface == iface && m.state == State::AwaitArp(via) {
                f[..6].copy_from_slice(mac.as_bytes());
                m.state = State::Ready;
                n += 1;
            }
        }
        n
    }

    /// `via` on `iface` could not be resolved: drops its frames; returns how
    /// many.
    pub fn drop_pending(&mut self, iface: IfaceId, via: Ipv4Addr) -> usize {
        let mut n = 0;
        for m in self.meta.iter_mut() {
            if m.iface == iface && m.state == State::AwaitArp(via) {
                m.state = State::Free;
                n += 1;
            }
        }
        n
    }

    /// Drops a frame waiting for ARP to make room for one to `via` on
    /// `iface`; false if none waits. RFC 1122 §2.3.2.2 keeps "at least one
    /// (the latest)" packet of each unresolved address: the oldest frame of
    /// `via` itself goes first, then the oldest of an address with several
    /// waiting, and only when every address has one, the oldest of all. So
    /// the frames to one address (a spoofed source we answer) cannot push
    /// out another resolution's only frame.
    pub fn drop_oldest_pending(&mut self, iface: IfaceId, via: Ipv4Addr) -> bool {
        let base = self.next_seq;
        let meta = &self.meta;
        let key = |m: &Meta| match m.state {
            State::AwaitArp(ip) => Some((m.iface, ip)),
            _ => None,
        };
        let oldest = |pick: &dyn Fn(&Meta) -> bool| {
            meta.iter()
                .enumerate()
                .filter(|(_, m)| pick(m))
                .max_by_key(|(_, m)| base.wrapping_sub(m.seq))
                .map(|(i, _)| i)
        };
        let several =
            |k: (IfaceId, Ipv4Addr)| meta.iter().filter(|m| key(m) == Some(k)).count() > 1;
        let victim = oldest(&|m| key(m) == Some((iface, via)))
            .or_else(|| oldest(&|m| key(m).is_some_and(several)))
            .or_else(|| oldest(&|m| key(m).is_some()));
        match victim {
            Some(i) => {
                self.meta[i].state = State::Free;
                true
            }
            None => false,
        }
    }

    /// Drops every frame of `iface` (the interface went away).
    pub fn drop_iface(&mut self, iface: IfaceId) {
        for m in self.meta.iter_mut() {
            if m.iface == iface && m.state != State::Reserved {
                m.state = State::Free;
            }
        }
    }

    fn oldest_ready(&self, iface: IfaceId) -> Option<usize> {
        let base = self.next_seq;
        self.meta
            .iter()
            .enumerate()
            .filter(|(_, m)| m.iface == iface && m.state == State::Ready)
            // Age relative to the next sequence number survives wrap-around.
            .max_by_key(|(_, m)| base.wrapping_sub(m.seq))
            .map(|(i, _)| i)
    }

    /// Hands the ready frames of `iface` to `dev`, oldest first, until it is
    /// empty or the driver says busy.
    pub fn flush(&mut self, iface: IfaceId, now: Instant, dev: &mut dyn Device) -> Flushed {
        let mut out = Flushed::default();
        while let Some(i) = self.oldest_ready(iface) {
            let len = usize::from(self.meta[i].len);
            match dev.transmit(now, &self.frames[i][..len]) {
                Ok(()) => {
                    self.meta[i].state = State::Free;
                    out.sent += 1;
                }
                Err(_) => {
                    out.blocked = true;
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::TxBusy;

    struct Sink {
        frames: Vec<Vec<u8>>,
        room: usize,
    }
    impl Device for Sink {
        fn receive(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
            None
        }
        fn transmit(&mut self, _: Instant, frame: &[u8]) -> Result<(), TxBusy> {
            if self.room == 0 {
                return Err(TxBusy);
            }
            self.room -= 1;
            self.frames.push(frame.to_vec());
            Ok(())
        }
    }

    fn queue(p: &mut TxPool, iface: u8, tag: u8, arp: Option<Ipv4Addr>) {
        let (i, buf) = p.reserve().unwrap();
        buf[..7].copy_from_slice(&[0, 0, 0, 0, 0, 0, tag]);
        p.commit(i, IfaceId(iface), 7, arp);
    }

    #[test]
    fn fifo_per_interface_and_busy_keeps_frames() {
        let mut p = TxPool::new();
        for tag in 0..5 {
            queue(&mut p, 1 + tag % 2, tag, None);
        }
        let mut dev = Sink {
            frames: vec![],
            room: 2,
        };
        let f = p.flush(IfaceId(1), Instant::ZERO, &mut dev);
        assert_eq!(
            f,
            Flushed {
                sent: 2,
                blocked: true
            }
        );
        dev.room = 10;
        p.flush(IfaceId(1), Instant::ZERO, &mut dev);
        let tags: Vec<u8> = dev.frames.iter().map(|f| f[6]).collect();
        assert_eq!(tags, [0, 2, 4]);
        assert_eq!(p.free(), TX_FRAMES - 2);
    }

    #[test]
    fn arp_waiting_frames_get_their_address() {
        let mut p = TxPool::new();
        let gw = Ipv4Addr::new(192, 0, 2, 1);
        queue(&mut p, 1, 1, Some(gw));
        queue(&mut p, 1, 2, Some(Ipv4Addr::new(192, 0, 2, 9)));
        assert_eq!(p.pending(), 2);
        let mut dev = Sink {
            frames: vec![],
            room: 10,
        };
        assert_eq!(p.flush(IfaceId(1), Instant::ZERO, &mut dev).sent, 0);
        let mac = EthernetAddress([2, 1, 2, 3, 4, 5]);
        assert_eq!(p.resolve(IfaceId(1), gw, mac), 1);
        p.flush(IfaceId(1), Instant::ZERO, &mut dev);
        assert_eq!(dev.frames, vec![vec![2, 1, 2, 3, 4, 5, 1]]);
        assert_eq!(p.drop_pending(IfaceId(1), Ipv4Addr::new(192, 0, 2, 9)), 1);
        assert_eq!(p.free(), TX_FRAMES);
    }
}
