//! What both implementations share: the simulated link (wolfip-core's
//! `phy::sim::SimLink`, the same code and the same seeds for both), the
//! data pattern and its check, and the loop that runs two stacks and their
//! applications against each other.

use wolfip_core::phy::sim::{Side, SimLink};
use wolfip_core::phy::Device;
use wolfip_core::{Duration, Instant};

use crate::alloc_count;

/// A point-to-point link the two stacks of a run share: the simulated link
/// of wolfip-core, or the memory scenario's preallocated ring.
pub trait Link {
    /// One end of the link as a device.
    type Port<'a>: Device
    where
        Self: 'a;
    /// The port of `side`.
    fn port(&mut self, side: Side) -> Self::Port<'_>;
    /// The earliest instant at which some frame becomes deliverable.
    fn next_delivery(&self) -> Option<Instant>;
    /// Counters for the progress lines.
    fn describe(&self) -> String;
}

impl Link for SimLink {
    type Port<'a> = wolfip_core::phy::sim::SimPort<'a>;

    fn port(&mut self, side: Side) -> Self::Port<'_> {
        SimLink::port(self, side)
    }

    fn next_delivery(&self) -> Option<Instant> {
        SimLink::next_delivery(self)
    }

    fn describe(&self) -> String {
        format!(
            "link A->B {:?}\n  link B->A {:?}",
            self.stats(Side::A),
            self.stats(Side::B)
        )
    }
}

/// Stack A, the sender and TCP client.
pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
/// Stack B, the receiver and TCP server.
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
pub const IP_A: [u8; 4] = [192, 0, 2, 1];
pub const IP_B: [u8; 4] = [192, 0, 2, 2];
pub const PORT: u16 = 80;

/// Two stacks on the two ports of a link, a connection from A to B, and
/// their applications' side of it. The stacks keep their own clocks in
/// step with the `now` they are given.
pub trait Bulk {
    /// Runs both stacks once at `now`: A on port A of `link`, B on port B.
    fn poll<L: Link>(&mut self, now: Instant, link: &mut L);
    /// The earliest time either stack wants to run again.
    fn poll_at(&mut self, now: Instant) -> Option<Instant>;
    /// Whether the connection is established at both ends (the server
    /// accepting it if needed).
    fn established(&mut self) -> bool;
    /// Offers `data` to A's socket; returns how much it took.
    fn send(&mut self, data: &[u8]) -> usize;
    /// Takes received data from B's socket into `buf`; returns how much.
    fn recv(&mut self, buf: &mut [u8]) -> usize;
    /// The sender's connection figures, for the progress lines on stderr.
    fn describe(&mut self) -> String;
}

/// Length of the data pattern: a prime, so that the pattern's period never
/// lines up with segment or buffer sizes and a misplaced chunk shows.
const PATTERN: usize = 1_048_573;

/// The data every transfer sends: a seeded pseudo-random pattern of
/// [`PATTERN`] bytes repeated; byte `i` of the stream is
/// `pattern[i % PATTERN]`. Kept twice over so that any offset has a
/// contiguous slice of up to `PATTERN` bytes after it.
pub struct Pattern {
    bytes: Vec<u8>,
}

impl Pattern {
    pub fn new(seed: u64) -> Pattern {
        let mut x = seed | 1;
        let mut bytes = Vec::with_capacity(2 * PATTERN);
        while bytes.len() < PATTERN {
            // xorshift64*
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let w = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        bytes.truncate(PATTERN);
        bytes.extend_from_within(..PATTERN);
        Pattern { bytes }
    }

    /// Up to `len` bytes of the stream from `offset` on.
    pub fn at(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % PATTERN as u64) as usize;
        &self.bytes[start..start + len.min(PATTERN)]
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Bytes the receiving application took, all checked.
    pub bytes: u64,
    /// Simulated time from the established connection to the end.
    pub sim: Duration,
    /// Wall time of the same stretch.
    pub wall: std::time::Duration,
    /// Loop iterations (a measure of the simulation's cost).
    pub steps: u64,
    /// [`Bulk::describe`] at the end, and the link's counters.
    pub info: String,
    /// Heap allocations made on this thread between the established
    /// connection (after all setup) and the end of the transfer, and their
    /// bytes (see [`alloc_count`]).
    pub allocs: alloc_count::Counts,
}

impl Outcome {
    pub fn sim_mbps(&self) -> f64 {
        self.bytes as f64 * 8.0 / (self.sim.total_micros() as f64 / 1e6) / 1e6
    }

    pub fn wall_mbps(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.wall.as_secs_f64() / 1e6
    }
}

/// When a run stops.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    /// When the receiver has taken this many bytes.
    Bytes(u64),
    /// After this much simulated time (from the established connection).
    Time(Duration),
}

/// The largest step of the clock when nothing is due sooner.
const MAX_STEP: Duration = Duration::from_millis(200);

/// Moves the clock to the next event: the stacks' next timer or the link's
/// next delivery, at least 1 µs and at most [`MAX_STEP`] ahead.
fn advance<B: Bulk, L: Link>(b: &mut B, link: &L, now: Instant) -> Instant {
    let mut next = now + MAX_STEP;
    for t in [b.poll_at(now), link.next_delivery()].into_iter().flatten() {
        next = next.min(t.max(now + Duration::from_micros(1)));
    }
    next
}

/// Opens the connection (A connects to B when `b` was built) and runs until
/// it is established. Returns the time then.
pub fn establish<B: Bulk, L: Link>(b: &mut B, link: &mut L, mut now: Instant) -> Instant {
    let deadline = now + Duration::from_secs(120);
    while !b.established() {
        assert!(now < deadline, "no connection within 120 s simulated");
        b.poll(now, link);
        now = advance(b, link, now);
    }
    now
}

/// The application side of a run: the sender writes the pattern as fast as
/// A takes it, the receiver reads and checks every byte.
struct Apps<'a> {
    pattern: &'a Pattern,
    sent: u64,
    received: u64,
    buf: Vec<u8>,
    /// Stop sending past this (for a byte-limited run).
    limit: u64,
}

impl Apps<'_> {
    /// Moves data at both ends; true when something moved.
    fn pump<B: Bulk>(&mut self, b: &mut B) -> bool {
        let mut moved = false;
        while self.sent < self.limit {
            let left = (self.limit - self.sent).min(64 * 1024) as usize;
            let n = b.send(self.pattern.at(self.sent, left));
            if n == 0 {
                break;
            }
            self.sent += n as u64;
            moved = true;
        }
        loop {
            let n = b.recv(&mut self.buf);
            if n == 0 {
                break;
            }
            let want = self.pattern.at(self.received, n);
            // One memcmp; the byte is looked for only on a mismatch.
            if self.buf[..n] != *want {
                let i = self.buf[..n].iter().zip(want).position(|(g, w)| g != w);
                panic!(
                    "data differs at byte {}",
                    self.received + i.unwrap_or(0) as u64
                );
            }
            self.received += n as u64;
            assert!(self.received <= self.sent, "more data than was sent");
            moved = true;
        }
        moved
    }
}

/// Runs an established connection until `stop`, from `now`.
///
/// The applications run after every poll, and when they moved data the
/// stacks run again at the same instant (to send what was written, or a
/// window update for what was read), as a real program would: only then
/// does time move on (the loop of wolfip-core's `tcp_bulk` test).
pub fn run<B: Bulk, L: Link>(
    b: &mut B,
    link: &mut L,
    mut now: Instant,
    pattern: &Pattern,
    stop: Stop,
) -> Outcome {
    let start = now;
    let wall = std::time::Instant::now();
    let mut apps = Apps {
        pattern,
        sent: 0,
        received: 0,
        buf: vec![0; 64 * 1024],
        limit: match stop {
            Stop::Bytes(n) => n,
            Stop::Time(_) => u64::MAX,
        },
    };
    let mut steps = 0u64;
    // Stall detection: a byte-limited run must make progress.
    let mut last_progress = now;
    // Everything above allocated what the run needs; from here to the end
    // of the transfer nothing of the loop itself allocates, so what is
    // counted comes from the stacks and the link.
    let counting = alloc_count::start();
    loop {
        let before = apps.received;
        apps.pump(b);
        match stop {
            Stop::Bytes(n) if apps.received >= n => break,
            Stop::Time(d) if now - start >= d => break,
            _ => {}
        }
        b.poll(now, link);
        while apps.pump(b) {
            b.poll(now, link);
        }
        steps += 1;
        if apps.received != before {
            last_progress = now;
        }
        assert!(
            now - last_progress < Duration::from_secs(120),
            "stalled: nothing received for 120 s simulated after {} bytes",
            apps.received
        );
        now = advance(b, link, now);
        if let Stop::Time(d) = stop {
            now = now.min(start + d);
        }
    }
    let allocs = counting.stop();
    Outcome {
        allocs,
        bytes: apps.received,
        sim: now - start,
        wall: wall.elapsed(),
        steps,
        info: format!("{}\n  {}", b.describe(), link.describe()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_wraps_contiguously() {
        let p = Pattern::new(7);
        let a = p.at(PATTERN as u64 - 3, 6).to_vec();
        assert_eq!(&a[3..], p.at(0, 3));
        assert_eq!(p.at(5, 10), p.at(PATTERN as u64 + 5, 10));
    }
}
