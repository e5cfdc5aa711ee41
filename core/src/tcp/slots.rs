//! The socket table, and what keeps a turn of the stack from visiting every
//! slot.
//!
//! A stack built with a thousand sockets must not pay a thousand socket
//! visits for each segment: every turn runs TCP's timers and output
//! ([`super::TcpSockets::dispatch`]) and asks when TCP next needs to run
//! ([`super::TcpSockets::poll_at`]). So the table keeps, beside the
//! sockets, two small arrays:
//!
//! * a bit per socket, set whenever the socket is reached mutably (through
//!   [`Slots::index_mut`](core::ops::IndexMut) or [`Slots::get_mut`]): the
//!   socket changed, so its next deadline may have;
//! * each clean socket's next deadline, as [`super::timers::poll_at`]
//!   computed it when it was last run, and the earliest of each block of
//!   64 sockets.
//!
//! A turn runs the marked sockets and those whose deadline has come, and
//! stores their new deadline; the others are not touched, and a block
//! with nothing due or marked is passed over in one comparison. A turn
//! therefore costs a few operations per 64 slots, whatever the number of
//! open connections (a 1,100-socket table: 18 blocks), instead of a visit
//! to every socket (10 MB of memory in that build).
//!
//! Reading a socket (`table[i]`, `iter()`) does not mark it. The rule that
//! makes the scheme sound: a clean socket's deadline is a pure function of
//! its own state, and its state changes only through a mutable access,
//! which marks it.

use core::ops::{Deref, Index, IndexMut};

use super::TcpSocket;
use crate::config::TCP_SOCKETS;
use crate::time::Instant;

/// Words of the "changed" bit set.
const WORDS: usize = TCP_SOCKETS.div_ceil(64);

/// A clean socket with no deadline.
const NEVER: u64 = u64::MAX;

/// The sockets, with a "changed" mark and the cached next deadline of each.
pub(crate) struct Slots {
    sockets: [TcpSocket; TCP_SOCKETS],
    /// Bit `i`: socket `i` was reached mutably since it was last run.
    changed: [u64; WORDS],
    /// Socket `i`'s next deadline (microseconds), `NEVER` for none; valid
    /// only while its bit in `changed` is clear.
    due: [u64; TCP_SOCKETS],
    /// The earliest `due` of each block of 64 sockets (the block of word
    /// `w` of `changed`), so a turn looks into a block only when something
    /// in it is due or changed.
    block_due: [u64; WORDS],
}

impl Slots {
    /// Every slot empty and clean.
    pub const fn new() -> Self {
        Slots {
            sockets: [const { TcpSocket::EMPTY }; TCP_SOCKETS],
            changed: [0; WORDS],
            due: [NEVER; TCP_SOCKETS],
            block_due: [NEVER; WORDS],
        }
    }

    fn mark(&mut self, i: usize) {
        if i >= TCP_SOCKETS {
            return;
        }
        if let Some(w) = self.changed.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    /// Socket `i` for writing (marks it), `None` past the end.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut TcpSocket> {
        self.mark(i);
        self.sockets.get_mut(i)
    }

    /// The sockets a turn must run at `now`: those changed since they were
    /// last run, and those whose deadline has come; `None` once none is
    /// left at or after slot `from`. The caller runs the socket and then
    /// calls [`Slots::settle`].
    pub fn next_to_run(&self, from: usize, now: Instant) -> Option<usize> {
        let now = now.total_micros();
        let mut w = from / 64;
        let mut skip = from % 64;
        while let (Some(&changed), Some(&block_due)) = (self.changed.get(w), self.block_due.get(w))
        {
            let base = w * 64;
            let mut bits = changed >> skip << skip;
            if block_due <= now {
                let end = (base + 64).min(TCP_SOCKETS);
                if let Some(due) = self.due.get(base + skip..end) {
                    for (k, &d) in due.iter().enumerate() {
                        if d <= now {
                            bits |= 1 << (skip + k);
                        }
                    }
                }
            }
            if bits != 0 {
                return Some(base + bits.trailing_zeros() as usize);
            }
            w += 1;
            skip = 0;
        }
        None
    }

    /// Socket `i` was run at `now`: stores its next deadline
    /// ([`super::timers::poll_at`]) and clears its mark.
    pub fn settle(&mut self, i: usize, now: Instant) {
        let Some(s) = self.sockets.get(i) else {
            return;
        };
        let at = super::timers::poll_at(s, now).map_or(NEVER, Instant::total_micros);
        let w = i / 64;
        if let Some(d) = self.due.get_mut(i) {
            *d = at;
        }
        if let Some(c) = self.changed.get_mut(w) {
            *c &= !(1 << (i % 64));
        }
        let block = self.due.get(w * 64..((w + 1) * 64).min(TCP_SOCKETS));
        let min = block.map_or(NEVER, |b| b.iter().copied().min().unwrap_or(NEVER));
        if let Some(b) = self.block_due.get_mut(w) {
            *b = min;
        }
    }

    /// Whether a turn at `now` may have a socket to run: one changed, or a
    /// block's deadline has come. Looks at no socket (the changed ones may
    /// turn out to have nothing to do).
    pub fn maybe_due(&self, now: Instant) -> bool {
        let now = now.total_micros();
        self.changed.iter().any(|&w| w != 0) || self.block_due.iter().any(|&d| d <= now)
    }

    /// The earliest deadline of every socket: each block's cached
    /// earliest, and the changed sockets' deadlines computed afresh. A
    /// changed socket's old deadline may still be in its block's earliest,
    /// which can only make the answer early (a turn that finds nothing to
    /// do and stores the new deadline), never late.
    pub fn poll_at(&self, now: Instant) -> Option<Instant> {
        let mut at = NEVER;
        for (w, (&bits, &block_due)) in self.changed.iter().zip(&self.block_due).enumerate() {
            at = at.min(block_due);
            let mut rest = bits;
            while rest != 0 {
                let i = w * 64 + rest.trailing_zeros() as usize;
                rest &= rest - 1;
                if let Some(s) = self.sockets.get(i) {
                    let d = super::timers::poll_at(s, now).map_or(NEVER, Instant::total_micros);
                    at = at.min(d);
                }
            }
        }
        (at != NEVER).then(|| Instant::from_micros(at))
    }
}

impl Deref for Slots {
    type Target = [TcpSocket];

    /// Read-only access to every socket (iteration, `len`); writing goes
    /// through [`IndexMut`] or [`Slots::get_mut`], which mark the socket.
    fn deref(&self) -> &[TcpSocket] {
        &self.sockets
    }
}

impl Index<usize> for Slots {
    type Output = TcpSocket;

    fn index(&self, i: usize) -> &TcpSocket {
        &self.sockets[i]
    }
}

impl IndexMut<usize> for Slots {
    /// Socket `i` for writing: marks it changed.
    fn index_mut(&mut self, i: usize) -> &mut TcpSocket {
        self.mark(i);
        &mut self.sockets[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Instant = Instant::from_secs(5);

    #[test]
    fn only_changed_sockets_are_run() {
        let mut slots = Slots::new();
        assert_eq!(slots.next_to_run(0, T), None);
        assert_eq!(slots.poll_at(T), None);
        // Reading does not mark.
        assert!(!slots[3].in_use);
        assert!(slots.iter().all(|s| !s.in_use));
        assert_eq!(slots.next_to_run(0, T), None);
        // Writing does, whatever the block.
        let last = TCP_SOCKETS - 1;
        slots[last].in_use = true;
        slots[0].nodelay = true;
        assert_eq!(slots.next_to_run(0, T), Some(0));
        assert_eq!(slots.next_to_run(1, T), Some(last));
        assert_eq!(slots.next_to_run(last + 1, T), None);
        // Run: clean again, and a socket without a connection has no
        // deadline.
        slots.settle(0, T);
        assert_eq!(slots.next_to_run(0, T), Some(last));
        slots.settle(last, T);
        assert_eq!(slots.next_to_run(0, T), None);
        assert_eq!(slots.poll_at(T), None);
        // `get_mut` marks too; past the end it marks nothing.
        assert!(slots.get_mut(TCP_SOCKETS).is_none());
        assert_eq!(slots.next_to_run(0, T), None);
        assert!(slots.get_mut(last).is_some());
        assert_eq!(slots.next_to_run(0, T), Some(last));
    }
}
