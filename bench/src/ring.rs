//! A link that never allocates after it is built, for the memory
//! scenario's allocation count: two rings (one per direction) of
//! preallocated full-size frame slots, no delay, no loss, no rate limit.
//! wolfip-core's `SimLink` copies every frame into a fresh `Vec`, which
//! would be counted against the stacks.

use wolfip_core::phy::sim::Side;
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::Instant;

use crate::drive::Link;

/// One direction: `slots` frames of up to `frame` bytes each.
struct Ring {
    data: Vec<u8>,
    lens: Vec<usize>,
    frame: usize,
    head: usize,
    len: usize,
    sent: u64,
    refused: u64,
}

impl Ring {
    fn new(slots: usize, frame: usize) -> Ring {
        Ring {
            data: vec![0; slots * frame],
            lens: vec![0; slots],
            frame,
            head: 0,
            len: 0,
            sent: 0,
            refused: 0,
        }
    }

    fn push(&mut self, frame: &[u8]) -> Result<(), TxBusy> {
        let slots = self.lens.len();
        if self.len == slots || frame.len() > self.frame {
            self.refused += 1;
            return Err(TxBusy);
        }
        let i = (self.head + self.len) % slots;
        self.data[i * self.frame..i * self.frame + frame.len()].copy_from_slice(frame);
        self.lens[i] = frame.len();
        self.len += 1;
        self.sent += 1;
        Ok(())
    }

    fn pop(&mut self, buf: &mut [u8]) -> Option<usize> {
        while self.len > 0 {
            let i = self.head;
            let n = self.lens[i];
            self.head = (self.head + 1) % self.lens.len();
            self.len -= 1;
            // A frame longer than the receiver's buffer is dropped, as a
            // driver would.
            if n <= buf.len() {
                buf[..n].copy_from_slice(&self.data[i * self.frame..i * self.frame + n]);
                return Some(n);
            }
        }
        None
    }
}

/// The two rings, indexed by the sending side.
pub struct RingLink {
    dirs: [Ring; 2],
}

impl RingLink {
    pub fn new(slots: usize, frame: usize) -> RingLink {
        RingLink {
            dirs: [Ring::new(slots, frame), Ring::new(slots, frame)],
        }
    }
}

fn index(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

/// One end of a [`RingLink`].
pub struct RingPort<'a> {
    link: &'a mut RingLink,
    side: Side,
}

impl Device for RingPort<'_> {
    fn receive(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.link.dirs[index(self.side.other())].pop(buf)
    }

    fn transmit(&mut self, _now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        self.link.dirs[index(self.side)].push(frame)
    }
}

impl Link for RingLink {
    type Port<'a> = RingPort<'a>;

    fn port(&mut self, side: Side) -> RingPort<'_> {
        RingPort { link: self, side }
    }

    fn next_delivery(&self) -> Option<Instant> {
        // Frames are deliverable as soon as they are queued.
        (self.dirs.iter().any(|d| d.len > 0)).then_some(Instant::ZERO)
    }

    fn describe(&self) -> String {
        format!(
            "ring A->B {} frames ({} refused), B->A {} frames ({} refused)",
            self.dirs[0].sent, self.dirs[0].refused, self.dirs[1].sent, self.dirs[1].refused
        )
    }
}
