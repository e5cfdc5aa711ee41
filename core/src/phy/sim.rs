//! A deterministic simulated Ethernet link for running two stacks in one
//! process.
//!
//! A [`SimLink`] has two ports, [`Side::A`] and [`Side::B`]. A frame
//! transmitted on one port is delivered to the other after the configured
//! serialisation time (see [`LinkConfig::bandwidth_bps`]) and propagation
//! delay, possibly lost, duplicated, corrupted or reordered on the way. All
//! randomness comes from a [`SimRng`] seeded at construction, so a run is a
//! pure function of the seed, the configuration and the sequence of calls:
//! the same seed reproduces the same trace bit for bit.
//!
//! ```
//! use wolfip_core::phy::sim::{LinkConfig, Side, SimLink};
//! use wolfip_core::phy::Device;
//! use wolfip_core::time::{Duration, Instant};
//!
//! let cfg = LinkConfig { delay: Duration::from_millis(1), ..LinkConfig::default() };
//! let mut link = SimLink::new(cfg, 42);
//! link.port(Side::A).transmit(Instant::ZERO, &[0u8; 60]).unwrap();
//! let mut buf = [0u8; 1514];
//! assert_eq!(link.port(Side::B).receive(Instant::ZERO, &mut buf), None);
//! let at = link.next_delivery().unwrap();
//! assert_eq!(at, Instant::from_millis(1));
//! assert_eq!(link.port(Side::B).receive(at, &mut buf), Some(60));
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::vec::Vec;

use super::{Device, TxBusy};
use crate::time::{Duration, Instant};

/// A small, fast, seeded pseudo-random generator for simulations and fault
/// injection: xoshiro256** (Blackman and Vigna, 2018), with its 256-bit
/// state filled from the 64-bit seed by splitmix64 as its authors recommend.
///
/// It is not cryptographic; its only job is to make test runs reproducible.
/// The output sequence for a given seed is fixed and will not change between
/// versions of this crate, so recorded seeds stay meaningful.
#[derive(Clone, Debug)]
pub struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    /// A generator whose whole output sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(&mut sm);
        }
        // splitmix64 never yields four zero words in a row, but be explicit:
        // the all-zero state is the one fixed point of xoshiro.
        if s == [0; 4] {
            s[0] = 1;
        }
        SimRng { s }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A value in `0..n` (`0` when `n` is `0`). Uses the multiply-high
    /// reduction; its bias is below 2^-40 for the small ranges used here.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `ppm` parts per million. `0` is always false
    /// and `1_000_000` (or more) always true; neither draws from the
    /// generator, so a fault that is switched off consumes no randomness.
    pub fn chance_ppm(&mut self, ppm: u32) -> bool {
        if ppm == 0 {
            false
        } else if ppm >= 1_000_000 {
            true
        } else {
            self.below(1_000_000) < u64::from(ppm)
        }
    }

    /// Flips one random bit of one random byte of `buf` and returns the
    /// byte index and the bit mask flipped, or `None` for an empty buffer.
    pub fn flip_random_bit(&mut self, buf: &mut [u8]) -> Option<(usize, u8)> {
        if buf.is_empty() {
            return None;
        }
        let index = self.below(buf.len() as u64) as usize;
        let mask = 1u8 << self.below(8);
        buf[index] ^= mask;
        Some((index, mask))
    }
}

/// One step of splitmix64 (Steele, Lea and Flood), used to seed [`SimRng`].
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One end of a [`SimLink`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first port.
    A,
    /// The second port.
    B,
}

impl Side {
    /// The port at the other end of the link.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// How a [`SimLink`] behaves; the same for both directions.
///
/// `Default` is a perfect link: no loss, no delay, unlimited bandwidth, a
/// 1024-frame queue per direction and a 1514-byte maximum frame.
/// Probabilities are in parts per million (`10_000` = 1 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Probability that a frame is lost on the wire.
    pub loss_ppm: u32,
    /// Probability that a delivered frame arrives twice.
    pub duplicate_ppm: u32,
    /// Probability that one random bit of one random byte is flipped.
    pub corrupt_ppm: u32,
    /// Probability that a frame is held back by an extra random delay of
    /// 1 µs up to [`reorder_extra`](Self::reorder_extra), so that frames sent
    /// after it can overtake it.
    pub reorder_ppm: u32,
    /// The largest extra delay of a reordered frame.
    pub reorder_extra: Duration,
    /// One-way propagation delay, added after serialisation.
    pub delay: Duration,
    /// Line rate in bits per second, `0` for unlimited. Frames of one
    /// direction serialise one after another: a frame starts when the
    /// previous one has finished (or now, if later) and takes
    /// `len * 8 / bandwidth_bps` seconds, rounded up to a microsecond.
    pub bandwidth_bps: u64,
    /// Per-direction limit on frames accepted but not yet received by the
    /// far side. A transmit beyond it is a tail drop: it returns `Ok` and is
    /// counted in [`LinkStats::queue_drops`].
    pub queue_frames: usize,
    /// Longest frame the link carries; longer ones are dropped and counted
    /// in [`LinkStats::oversize`].
    pub mtu_frame: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            loss_ppm: 0,
            duplicate_ppm: 0,
            corrupt_ppm: 0,
            reorder_ppm: 0,
            reorder_extra: Duration::from_millis(5),
            delay: Duration::ZERO,
            bandwidth_bps: 0,
            queue_frames: 1024,
            mtu_frame: 1514,
        }
    }
}

/// Counters of one direction of a [`SimLink`] (frames transmitted by one
/// side towards the other).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames offered to `transmit`.
    pub sent: u64,
    /// Frames handed to the far side's `receive` (duplicates included).
    pub delivered: u64,
    /// Frames lost on the wire.
    pub lost: u64,
    /// Extra copies scheduled by duplication.
    pub duplicated: u64,
    /// Frames with a bit flipped.
    pub corrupted: u64,
    /// Frames given an extra reordering delay.
    pub reordered: u64,
    /// Frames tail-dropped because the direction's queue was full.
    pub queue_drops: u64,
    /// Frames longer than [`LinkConfig::mtu_frame`], dropped.
    pub oversize: u64,
    /// Frames dropped at delivery because the receiver's buffer was too
    /// short for them.
    pub rx_buffer_drops: u64,
}

/// A frame on its way: ordered by delivery time, then by scheduling order,
/// so frames due at the same instant keep FIFO order.
type Pending = Reverse<(Instant, u64, Vec<u8>)>;

/// One direction of the link.
#[derive(Debug, Default)]
struct Direction {
    queue: BinaryHeap<Pending>,
    /// When the transmitter finishes serialising the last accepted frame.
    busy_until: Instant,
    stats: LinkStats,
}

/// A simulated point-to-point link between two ports; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct SimLink {
    config: LinkConfig,
    rng: SimRng,
    /// Indexed by the sending side.
    dirs: [Direction; 2],
    seq: u64,
}

impl SimLink {
    /// A link with behaviour `config` whose randomness is drawn from a
    /// [`SimRng`] seeded with `seed`.
    pub fn new(config: LinkConfig, seed: u64) -> Self {
        SimLink {
            config,
            rng: SimRng::new(seed),
            dirs: [Direction::default(), Direction::default()],
            seq: 0,
        }
    }

    /// The port of `side`, a [`Device`] borrowing the link.
    pub fn port(&mut self, side: Side) -> SimPort<'_> {
        SimPort { link: self, side }
    }

    /// The current configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Changes the behaviour from now on (frames already in flight keep
    /// their schedule).
    pub fn set_config(&mut self, config: LinkConfig) {
        self.config = config;
    }

    /// Counters for frames transmitted by `side`.
    pub fn stats(&self, side: Side) -> LinkStats {
        self.dirs[side.index()].stats
    }

    /// Frames transmitted by `side` and not yet received by the other side.
    pub fn in_flight(&self, side: Side) -> usize {
        self.dirs[side.index()].queue.len()
    }

    /// The earliest instant at which some frame becomes deliverable, in
    /// either direction, or `None` when the link is empty. A test loop can
    /// advance its clock straight to it.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.dirs
            .iter()
            .filter_map(|d| d.queue.peek().map(|Reverse((at, _, _))| *at))
            .min()
    }

    fn push(&mut self, from: Side, at: Instant, frame: Vec<u8>) {
        let seq = self.seq;
        self.seq += 1;
        self.dirs[from.index()]
            .queue
            .push(Reverse((at, seq, frame)));
    }

    fn transmit_from(&mut self, from: Side, now: Instant, frame: &[u8]) {
        let cfg = self.config;
        let dir = &mut self.dirs[from.index()];
        dir.stats.sent += 1;
        if frame.len() > cfg.mtu_frame {
            dir.stats.oversize += 1;
            return;
        }
        if dir.queue.len() >= cfg.queue_frames {
            dir.stats.queue_drops += 1;
            return;
        }
        let departed = if cfg.bandwidth_bps == 0 {
            now
        } else {
            let start = now.max(dir.busy_until);
            let bits = frame.len() as u128 * 8 * 1_000_000;
            let bw = u128::from(cfg.bandwidth_bps);
            let micros = u64::try_from(bits.div_ceil(bw)).unwrap_or(u64::MAX);
            let end = start + Duration::from_micros(micros);
            dir.busy_until = end;
            end
        };
        // Loss happens on the wire, after the frame used its line time.
        if self.rng.chance_ppm(cfg.loss_ppm) {
            self.dirs[from.index()].stats.lost += 1;
            return;
        }
        let mut data = frame.to_vec();
        if self.rng.chance_ppm(cfg.corrupt_ppm) && self.rng.flip_random_bit(&mut data).is_some() {
            self.dirs[from.index()].stats.corrupted += 1;
        }
        let mut at = departed + cfg.delay;
        if self.rng.chance_ppm(cfg.reorder_ppm) {
            let max = cfg.reorder_extra.total_micros();
            if max > 0 {
                at += Duration::from_micros(1 + self.rng.below(max));
                self.dirs[from.index()].stats.reordered += 1;
            }
        }
        if self.rng.chance_ppm(cfg.duplicate_ppm) {
            self.dirs[from.index()].stats.duplicated += 1;
            let copy = data.clone();
            self.push(from, at, data);
            self.push(from, at, copy);
        } else {
            self.push(from, at, data);
        }
    }

    fn receive_at(&mut self, to: Side, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let dir = &mut self.dirs[to.other().index()];
        loop {
            match dir.queue.peek() {
                Some(Reverse((at, _, _))) if *at <= now => {}
                _ => return None,
            }
            let Reverse((_, _, frame)) = dir.queue.pop()?;
            if frame.len() > buf.len() {
                dir.stats.rx_buffer_drops += 1;
                continue;
            }
            buf[..frame.len()].copy_from_slice(&frame);
            dir.stats.delivered += 1;
            return Some(frame.len());
        }
    }
}

/// One port of a [`SimLink`]: receiving takes frames sent by the other side
/// that are due by `now`; transmitting schedules a frame towards the other
/// side. Transmit never answers [`TxBusy`]; a full queue is a tail drop.
#[derive(Debug)]
pub struct SimPort<'a> {
    link: &'a mut SimLink,
    side: Side,
}

impl SimPort<'_> {
    /// Which end of the link this port is.
    pub fn side(&self) -> Side {
        self.side
    }
}

impl Device for SimPort<'_> {
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.link.receive_at(self.side, now, buf)
    }

    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        self.link.transmit_from(self.side, now, frame);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame whose first two bytes carry `id` and whose length is `len`.
    fn frame(id: u16, len: usize) -> Vec<u8> {
        let mut f = vec![0xabu8; len];
        f[..2].copy_from_slice(&id.to_be_bytes());
        f
    }

    /// Sends `n` frames of `len` bytes from A at `gap` intervals (starting
    /// at zero), then drains B by jumping to each delivery time. Returns
    /// (delivery time, frame) for everything B received.
    fn run(link: &mut SimLink, n: u16, len: usize, gap: Duration) -> Vec<(Instant, Vec<u8>)> {
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        let mut now = Instant::ZERO;
        for id in 0..n {
            link.port(Side::A).transmit(now, &frame(id, len)).unwrap();
            now += gap;
        }
        for _ in 0..10_000 {
            let Some(at) = link.next_delivery() else {
                break;
            };
            while let Some(len) = link.port(Side::B).receive(at, &mut buf) {
                out.push((at, buf[..len].to_vec()));
            }
        }
        assert_eq!(link.next_delivery(), None);
        out
    }

    /// A link with the default configuration changed by `f`.
    fn link_with(seed: u64, f: impl FnOnce(&mut LinkConfig)) -> SimLink {
        let mut cfg = LinkConfig::default();
        f(&mut cfg);
        SimLink::new(cfg, seed)
    }

    fn id(f: &[u8]) -> u16 {
        u16::from_be_bytes([f[0], f[1]])
    }

    #[test]
    fn rng_is_reproducible_and_seed_dependent() {
        let a: Vec<u64> = (0..8)
            .scan(SimRng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..8)
            .scan(SimRng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..8)
            .scan(SimRng::new(8), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut r = SimRng::new(1);
        assert!((0..1000).all(|_| r.below(10) < 10));
        assert!(!r.chance_ppm(0));
        assert!(r.chance_ppm(1_000_000));
        let hits = (0..100_000).filter(|_| r.chance_ppm(100_000)).count();
        assert!((9_000..11_000).contains(&hits), "{hits}");
    }

    #[test]
    fn perfect_link_delivers_in_order_after_delay() {
        let mut link = link_with(1, |c| c.delay = Duration::from_millis(3));
        let got = run(&mut link, 20, 100, Duration::from_micros(10));
        assert_eq!(got.len(), 20);
        for (i, (at, f)) in got.iter().enumerate() {
            assert_eq!(id(f), i as u16);
            assert_eq!(f, &frame(i as u16, 100));
            assert_eq!(*at, Instant::from_micros(3000 + 10 * i as u64));
        }
        let s = link.stats(Side::A);
        assert_eq!((s.sent, s.delivered, s.lost), (20, 20, 0));
        assert_eq!(link.stats(Side::B), LinkStats::default());
    }

    #[test]
    fn not_delivered_before_due_and_directions_are_separate() {
        let mut link = link_with(1, |c| c.delay = Duration::from_millis(1));
        let mut buf = [0u8; 64];
        link.port(Side::B)
            .transmit(Instant::ZERO, &frame(9, 60))
            .unwrap();
        let early = Instant::from_micros(999);
        assert_eq!(link.port(Side::A).receive(early, &mut buf), None);
        // B never sees its own frame.
        assert_eq!(
            link.port(Side::B).receive(Instant::from_secs(1), &mut buf),
            None
        );
        assert_eq!(
            link.port(Side::A)
                .receive(Instant::from_millis(1), &mut buf),
            Some(60)
        );
        assert_eq!(id(&buf), 9);
    }

    #[test]
    fn total_loss_drops_everything() {
        let mut link = link_with(5, |c| c.loss_ppm = 1_000_000);
        assert!(run(&mut link, 50, 80, Duration::ZERO).is_empty());
        assert_eq!(link.stats(Side::A).lost, 50);
        assert_eq!(link.stats(Side::A).delivered, 0);
    }

    fn lossy() -> LinkConfig {
        LinkConfig {
            loss_ppm: 100_000,
            duplicate_ppm: 50_000,
            corrupt_ppm: 50_000,
            reorder_ppm: 100_000,
            reorder_extra: Duration::from_micros(500),
            delay: Duration::from_micros(200),
            bandwidth_bps: 100_000_000,
            ..LinkConfig::default()
        }
    }

    #[test]
    fn same_seed_same_trace_different_seed_different_trace() {
        let gap = Duration::from_micros(20);
        let a = run(&mut SimLink::new(lossy(), 1234), 300, 200, gap);
        let b = run(&mut SimLink::new(lossy(), 1234), 300, 200, gap);
        let c = run(&mut SimLink::new(lossy(), 1235), 300, 200, gap);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bandwidth_spaces_deliveries() {
        let mut link = link_with(1, |c| {
            c.bandwidth_bps = 8_000_000;
            c.delay = Duration::from_millis(2)
        });
        // All five offered at once: they queue behind one another.
        let got = run(&mut link, 5, 1000, Duration::ZERO);
        let times: Vec<u64> = got.iter().map(|(t, _)| t.total_micros()).collect();
        assert_eq!(times, [3000, 4000, 5000, 6000, 7000]);
        // An idle line does not bank credit: a frame sent later starts then.
        let mut buf = [0u8; 2048];
        let t = Instant::from_millis(100);
        link.port(Side::A).transmit(t, &frame(7, 1000)).unwrap();
        assert_eq!(link.next_delivery(), Some(Instant::from_millis(103)));
        assert_eq!(
            link.port(Side::B)
                .receive(Instant::from_millis(103), &mut buf),
            Some(1000)
        );
    }

    #[test]
    fn reordering_lets_later_frames_overtake() {
        let mut link = link_with(99, |c| {
            c.reorder_ppm = 300_000;
            c.reorder_extra = Duration::from_millis(1);
            c.delay = Duration::from_micros(100)
        });
        let got = run(&mut link, 100, 64, Duration::from_micros(50));
        assert_eq!(got.len(), 100);
        let ids: Vec<u16> = got.iter().map(|(_, f)| id(f)).collect();
        assert!(
            ids.windows(2).any(|w| w[0] > w[1]),
            "no reordering: {ids:?}"
        );
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<u16>>());
        assert!(link.stats(Side::A).reordered > 0);
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn corruption_flips_exactly_one_bit() {
        let mut link = link_with(3, |c| c.corrupt_ppm = 1_000_000);
        let got = run(&mut link, 30, 300, Duration::ZERO);
        assert_eq!(got.len(), 30);
        for (i, (_, f)) in got.iter().enumerate() {
            let orig = frame(i as u16, 300);
            let flipped: u32 = f.iter().zip(&orig).map(|(a, b)| (a ^ b).count_ones()).sum();
            assert_eq!(flipped, 1);
        }
        assert_eq!(link.stats(Side::A).corrupted, 30);
    }

    #[test]
    fn duplication_delivers_twice() {
        let mut link = link_with(3, |c| c.duplicate_ppm = 1_000_000);
        let got = run(&mut link, 3, 60, Duration::from_micros(1));
        let ids: Vec<u16> = got.iter().map(|(_, f)| id(f)).collect();
        assert_eq!(ids, [0, 0, 1, 1, 2, 2]);
        assert_eq!(link.stats(Side::A).duplicated, 3);
        assert_eq!(link.stats(Side::A).delivered, 6);
    }

    #[test]
    fn queue_limit_mtu_and_short_buffer() {
        let mut link = link_with(3, |c| {
            c.queue_frames = 2;
            c.delay = Duration::from_millis(1)
        });
        let now = Instant::ZERO;
        for i in 0..5 {
            assert_eq!(link.port(Side::A).transmit(now, &frame(i, 60)), Ok(()));
        }
        assert_eq!(link.port(Side::A).transmit(now, &frame(9, 1515)), Ok(()));
        let s = link.stats(Side::A);
        assert_eq!((s.sent, s.queue_drops, s.oversize), (6, 3, 1));
        assert_eq!(link.in_flight(Side::A), 2);
        let mut small = [0u8; 59];
        let t = Instant::from_millis(1);
        assert_eq!(link.port(Side::B).receive(t, &mut small), None);
        assert_eq!(link.stats(Side::A).rx_buffer_drops, 2);
    }
}
