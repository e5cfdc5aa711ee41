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
    /// Slots in each state (`Counts::of`), kept by [`TxPool::set`], so
    /// that the questions asked for every frame sent (room left, frames
    /// waiting for ARP, anything ready) need no scan of the slots.
    counts: Counts,
}

/// How many slots are in each state.
#[derive(Debug, Clone, Copy)]
struct Counts {
    free: u16,
    ready: u16,
    awaiting_arp: u16,
}

impl Counts {
    /// The counter of `state` (none for `Reserved`).
    fn of(&mut self, state: State) -> Option<&mut u16> {
        match state {
            State::Free => Some(&mut self.free),
            State::Ready => Some(&mut self.ready),
            State::AwaitArp(_) => Some(&mut self.awaiting_arp),
            State::Reserved => None,
        }
    }
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
            counts: Counts {
                free: TX_FRAMES as u16,
                ready: 0,
                awaiting_arp: 0,
            },
        }
    }

    /// Moves slot `i` to `state`, keeping the counts.
    fn set(&mut self, i: usize, state: State) {
        let Some(m) = self.meta.get_mut(i) else {
            return;
        };
        let old = core::mem::replace(&mut m.state, state);
        if let Some(c) = self.counts.of(old) {
            *c -= 1;
        }
        if let Some(c) = self.counts.of(state) {
            *c += 1;
        }
    }

    /// Slots in use, and how many of them wait for ARP.
    pub fn occupancy(&self) -> (usize, usize) {
        (TX_FRAMES - self.free(), self.pending())
    }

    /// Free slots.
    pub fn free(&self) -> usize {
        usize::from(self.counts.free)
    }

    /// Slots waiting for ARP.
    pub fn pending(&self) -> usize {
        usize::from(self.counts.awaiting_arp)
    }

    /// Whether `n` more frames may wait for ARP.
    pub fn pending_room(&self, n: usize) -> bool {
        self.pending() + n <= ARP_PENDING
    }

    /// Whether any frame is ready to go.
    pub fn has_ready(&self) -> bool {
        self.counts.ready > 0
    }

    /// Whether a frame of `iface` is ready to go.
    pub fn has_ready_on(&self, iface: IfaceId) -> bool {
        self.has_ready()
            && self
                .meta
                .iter()
                .any(|m| matches!(m.state, State::Ready) && m.iface == iface)
    }

    /// Takes a free slot and returns its index and buffer.
    pub fn reserve(&mut self) -> Option<(usize, &mut [u8; FRAME_SIZE])> {
        if self.counts.free == 0 {
            return None;
        }
        let i = self
            .meta
            .iter()
            .position(|m| matches!(m.state, State::Free))?;
        self.set(i, State::Reserved);
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
        self.set(
            slot,
            match await_arp {
                Some(ip) => State::AwaitArp(ip),
                None => State::Ready,
            },
        );
        if let Some(m) = self.meta.get_mut(slot) {
            m.iface = iface;
            m.len = len.min(FRAME_SIZE) as u16;
            m.seq = seq;
        }
    }

    /// Gives a reserved slot back unused.
    pub fn release(&mut self, slot: usize) {
        self.set(slot, State::Free);
    }

    /// `via` on `iface` resolved to `mac`: fills in the destination address
    /// of every frame waiting for it and makes them ready. Returns how many.
    pub fn resolve(&mut self, iface: IfaceId, via: Ipv4Addr, mac: EthernetAddress) -> usize {
        let mut n = 0;
        for i in 0..TX_FRAMES {
            if self.waits_for(i, iface, via) {
                self.frames[i][..6].copy_from_slice(mac.as_bytes());
                self.set(i, State::Ready);
                n += 1;
            }
        }
        n
    }

    /// `via` on `iface` could not be resolved: drops its frames; returns how
    /// many.
    pub fn drop_pending(&mut self, iface: IfaceId, via: Ipv4Addr) -> usize {
        let mut n = 0;
        for i in 0..TX_FRAMES {
            if self.waits_for(i, iface, via) {
                self.set(i, State::Free);
                n += 1;
            }
        }
        n
    }

    /// Whether slot `i` holds a frame of `iface` waiting for `via`.
    fn waits_for(&self, i: usize, iface: IfaceId, via: Ipv4Addr) -> bool {
        self.meta
            .get(i)
            .is_some_and(|m| m.iface == iface && m.state == State::AwaitArp(via))
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
                self.set(i, State::Free);
                true
            }
            None => false,
        }
    }

    /// Drops every frame of `iface` (the interface went away).
    pub fn drop_iface(&mut self, iface: IfaceId) {
        for i in 0..TX_FRAMES {
            if self.meta[i].iface == iface && !matches!(self.meta[i].state, State::Reserved) {
                self.set(i, State::Free);
            }
        }
    }

    fn oldest_ready(&self, iface: IfaceId) -> Option<usize> {
        if self.counts.ready == 0 {
            return None;
        }
        let base = self.next_seq;
        self.meta
            .iter()
            .enumerate()
            .filter(|(_, m)| m.iface == iface && matches!(m.state, State::Ready))
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
                    self.set(i, State::Free);
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

    /// The counts kept by `set` always equal a scan of the slots, whatever
    /// the order of operations.
    #[test]
    fn counts_follow_every_operation() {
        let mut p = TxPool::new();
        let mut x = 12345u32;
        let mut next = move || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            x >> 16
        };
        let ip = |n: u32| Ipv4Addr::new(192, 0, 2, (n % 3) as u8 + 1);
        let mut reserved = Vec::new();
        for _ in 0..5000 {
            match next() % 8 {
                0 | 1 => {
                    if let Some((i, _)) = p.reserve() {
                        reserved.push(i);
                    }
                }
                2 | 3 => {
                    if let Some(i) = reserved.pop() {
                        let arp = (next() % 2 == 0).then(|| ip(next()));
                        p.commit(i, IfaceId(1 + (next() % 2) as u8), 60, arp);
                    }
                }
                4 => {
                    if let Some(i) = reserved.pop() {
                        p.release(i);
                    }
                }
                5 => {
                    p.resolve(IfaceId(1), ip(next()), EthernetAddress([2, 0, 0, 0, 0, 9]));
                }
                6 => match next() % 3 {
                    0 => {
                        p.drop_pending(IfaceId(2), ip(next()));
                    }
                    1 => {
                        p.drop_oldest_pending(IfaceId(1), ip(next()));
                    }
                    _ => p.drop_iface(IfaceId(2)),
                },
                _ => {
                    let mut dev = Sink {
                        frames: vec![],
                        room: (next() % 4) as usize,
                    };
                    p.flush(IfaceId(1 + (next() % 2) as u8), Instant::ZERO, &mut dev);
                }
            }
            let scan = |f: fn(&State) -> bool| p.meta.iter().filter(|m| f(&m.state)).count();
            assert_eq!(p.free(), scan(|s| matches!(s, State::Free)));
            assert_eq!(p.pending(), scan(|s| matches!(s, State::AwaitArp(_))));
            assert_eq!(p.has_ready(), scan(|s| matches!(s, State::Ready)) > 0);
            assert_eq!(scan(|s| matches!(s, State::Reserved)), reserved.len());
        }
    }
}
