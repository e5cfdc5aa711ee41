//! Seeded fault injection around any [`Device`].
//!
//! [`FaultInjector`] wraps a real driver (a TAP device, say) and drops,
//! duplicates or corrupts frames in either direction with configured
//! probabilities, drawing from a [`SimRng`] so a run is reproducible from its
//! seed given the same sequence of frames. Its typical use is to make a real
//! link lossy (1 %, 5 %) in interoperability tests.
//!
//! ```
//! use wolfip_core::phy::fault::{FaultConfig, FaultInjector};
//! # use wolfip_core::phy::{Device, TxBusy};
//! # use wolfip_core::time::Instant;
//! # struct Null;
//! # impl Device for Null {
//! #     fn receive(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> { None }
//! #     fn transmit(&mut self, _: Instant, _: &[u8]) -> Result<(), TxBusy> { Ok(()) }
//! # }
//! let mut dev = FaultInjector::new(Null, FaultConfig::drop_both(FaultConfig::percent(5)), 7);
//! dev.transmit(Instant::ZERO, &[0u8; 60]).unwrap();
//! assert_eq!(dev.stats().tx_frames + dev.stats().tx_dropped, 1);
//! ```

use std::vec::Vec;

use super::sim::SimRng;
use super::{Device, TxBusy};
use crate::time::Instant;

/// How often a [`FaultInjector`] misbehaves, in parts per million
/// (`10_000` = 1 %). `Default` injects nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultConfig {
    /// Probability that a received frame is discarded.
    pub rx_drop_ppm: u32,
    /// Probability that a frame to transmit is discarded (the caller is told
    /// it was sent).
    pub tx_drop_ppm: u32,
    /// Probability that a received frame is handed up twice.
    pub rx_duplicate_ppm: u32,
    /// Probability that a transmitted frame is sent twice.
    pub tx_duplicate_ppm: u32,
    /// Probability that one random bit of a received frame is flipped.
    pub rx_corrupt_ppm: u32,
    /// Probability that one random bit of a transmitted frame is flipped.
    pub tx_corrupt_ppm: u32,
}

impl FaultConfig {
    /// `percent` per cent expressed in parts per million.
    pub const fn percent(percent: u32) -> u32 {
        percent.saturating_mul(10_000)
    }

    /// Drops frames in both directions with probability `ppm` each.
    pub const fn drop_both(ppm: u32) -> Self {
        FaultConfig {
            rx_drop_ppm: ppm,
            tx_drop_ppm: ppm,
            rx_duplicate_ppm: 0,
            tx_duplicate_ppm: 0,
            rx_corrupt_ppm: 0,
            tx_corrupt_ppm: 0,
        }
    }
}

/// Counters of a [`FaultInjector`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Frames handed to the caller by `receive` (duplicates included).
    pub rx_frames: u64,
    /// Received frames discarded.
    pub rx_dropped: u64,
    /// Received frames handed up a second time.
    pub rx_duplicated: u64,
    /// Received frames with a bit flipped.
    pub rx_corrupted: u64,
    /// Frames the inner device accepted (duplicates included).
    pub tx_frames: u64,
    /// Frames to transmit that were discarded.
    pub tx_dropped: u64,
    /// Frames sent a second time.
    pub tx_duplicated: u64,
    /// Transmitted frames with a bit flipped.
    pub tx_corrupted: u64,
}

/// At most this many frames are pulled from the inner device in one
/// `receive` call while dropping, so a flood cannot stall the caller.
const MAX_PULLS: usize = 256;

/// A [`Device`] that wraps another and injects seeded faults; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct FaultInjector<D> {
    inner: D,
    config: FaultConfig,
    rng: SimRng,
    stats: FaultStats,
    /// A received frame waiting to be handed up a second time.
    rx_dup: Option<Vec<u8>>,
    /// Scratch space for corrupting a frame to transmit.
    tx_scratch: Vec<u8>,
}

impl<D: Device> FaultInjector<D> {
    /// Wraps `inner`, injecting faults per `config` with randomness from a
    /// [`SimRng`] seeded with `seed`.
    pub fn new(inner: D, config: FaultConfig, seed: u64) -> Self {
        FaultInjector {
            inner,
            config,
            rng: SimRng::new(seed),
            stats: FaultStats::default(),
            rx_dup: None,
            tx_scratch: Vec::new(),
        }
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// Unwraps the device (a pending duplicate is discarded).
    pub fn into_inner(self) -> D {
        self.inner
    }

    /// The current configuration.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Changes the fault probabilities from now on.
    pub fn set_config(&mut self, config: FaultConfig) {
        self.config = config;
    }

    /// The counters so far.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }
}

impl<D: Device> Device for FaultInjector<D> {
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if let Some(dup) = self.rx_dup.take() {
            // It fitted the first time; a caller that shrank its buffer in
            // between loses the copy, as a driver would.
            if dup.len() <= buf.len() {
                buf[..dup.len()].copy_from_slice(&dup);
                self.stats.rx_frames += 1;
                return Some(dup.len());
            }
        }
        for _ in 0..MAX_PULLS {
            let len = self.inner.receive(now, buf)?;
            if self.rng.chance_ppm(self.config.rx_drop_ppm) {
                self.stats.rx_dropped += 1;
                continue;
            }
            if self.rng.chance_ppm(self.config.rx_corrupt_ppm)
                && self.rng.flip_random_bit(&mut buf[..len]).is_some()
            {
                self.stats.rx_corrupted += 1;
            }
            if self.rng.chance_ppm(self.config.rx_duplicate_ppm) {
                self.stats.rx_duplicated += 1;
                self.rx_dup = Some(buf[..len].to_vec());
            }
            self.stats.rx_frames += 1;
            return Some(len);
        }
        None
    }

    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        if self.rng.chance_ppm(self.config.tx_drop_ppm) {
            self.stats.tx_dropped += 1;
            return Ok(());
        }
        let corrupt = self.rng.chance_ppm(self.config.tx_corrupt_ppm) && !frame.is_empty();
        let duplicate = self.rng.chance_ppm(self.config.tx_duplicate_ppm);
        let out: &[u8] = if corrupt {
            self.tx_scratch.clear();
            self.tx_scratch.extend_from_slice(frame);
            self.rng.flip_random_bit(&mut self.tx_scratch);
            &self.tx_scratch
        } else {
            frame
        };
        self.inner.transmit(now, out)?;
        self.stats.tx_frames += 1;
        if corrupt {
            self.stats.tx_corrupted += 1;
        }
        // The copy is best effort: a busy driver simply loses it.
        if duplicate && self.inner.transmit(now, out).is_ok() {
            self.stats.tx_duplicated += 1;
            self.stats.tx_frames += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// An in-memory device: `rx` holds frames waiting to be received, `tx`
    /// collects transmitted frames; it is busy when `tx` holds `cap` frames.
    #[derive(Default)]
    struct Loopback {
        rx: VecDeque<Vec<u8>>,
        tx: Vec<Vec<u8>>,
        cap: usize,
    }

    impl Loopback {
        fn with_rx(n: u16) -> Self {
            Loopback {
                rx: (0..n).map(frame).collect(),
                cap: usize::MAX,
                ..Loopback::default()
            }
        }
    }

    impl Device for Loopback {
        fn receive(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
            let f = self.rx.pop_front()?;
            buf[..f.len()].copy_from_slice(&f);
            Some(f.len())
        }
        fn transmit(&mut self, _now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
            if self.tx.len() >= self.cap {
                return Err(TxBusy);
            }
            self.tx.push(frame.to_vec());
            Ok(())
        }
    }

    fn frame(id: u16) -> Vec<u8> {
        let mut f = vec![0x5au8; 64];
        f[..2].copy_from_slice(&id.to_be_bytes());
        f
    }

    fn drain<D: Device>(dev: &mut D) -> Vec<Vec<u8>> {
        let mut buf = [0u8; 128];
        let mut out = Vec::new();
        for _ in 0..100_000 {
            match dev.receive(Instant::ZERO, &mut buf) {
                Some(n) => out.push(buf[..n].to_vec()),
                None => break,
            }
        }
        out
    }

    #[test]
    fn default_config_is_transparent() {
        let mut dev = FaultInjector::new(Loopback::with_rx(10), FaultConfig::default(), 1);
        assert_eq!(drain(&mut dev), (0..10).map(frame).collect::<Vec<_>>());
        for i in 0..10 {
            dev.transmit(Instant::ZERO, &frame(i)).unwrap();
        }
        assert_eq!(dev.inner().tx, (0..10).map(frame).collect::<Vec<_>>());
        let s = dev.stats();
        assert_eq!(
            (s.rx_frames, s.tx_frames, s.rx_dropped, s.tx_dropped),
            (10, 10, 0, 0)
        );
    }

    #[test]
    fn drops_in_both_directions_at_about_the_rate() {
        let cfg = FaultConfig::drop_both(FaultConfig::percent(5));
        let mut dev = FaultInjector::new(Loopback::with_rx(10_000), cfg, 42);
        // Dropping never hides frames still waiting behind a dropped one.
        let got = drain(&mut dev);
        let s = dev.stats();
        assert_eq!(got.len() as u64 + s.rx_dropped, 10_000);
        assert!((350..650).contains(&s.rx_dropped), "{s:?}");
        for i in 0..10_000 {
            dev.transmit(Instant::ZERO, &frame(i)).unwrap();
        }
        let s = dev.stats();
        assert_eq!(dev.inner().tx.len() as u64 + s.tx_dropped, 10_000);
        assert!((350..650).contains(&s.tx_dropped), "{s:?}");
    }

    #[test]
    fn total_drop_and_reproducibility() {
        let all = FaultConfig::drop_both(1_000_000);
        let mut dev = FaultInjector::new(Loopback::with_rx(300), all, 1);
        let mut buf = [0u8; 128];
        // Each call gives up after MAX_PULLS dropped frames.
        assert_eq!(dev.receive(Instant::ZERO, &mut buf), None);
        assert_eq!(dev.stats().rx_dropped, MAX_PULLS as u64);
        assert_eq!(dev.receive(Instant::ZERO, &mut buf), None);
        assert_eq!(dev.stats().rx_dropped, 300);

        let cfg = FaultConfig {
            rx_drop_ppm: 200_000,
            rx_duplicate_ppm: 100_000,
            rx_corrupt_ppm: 100_000,
            ..FaultConfig::default()
        };
        let run = |seed| drain(&mut FaultInjector::new(Loopback::with_rx(500), cfg, seed));
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn duplication_and_corruption() {
        let cfg = FaultConfig {
            rx_duplicate_ppm: 1_000_000,
            tx_duplicate_ppm: 1_000_000,
            ..FaultConfig::default()
        };
        let mut dev = FaultInjector::new(Loopback::with_rx(2), cfg, 1);
        assert_eq!(drain(&mut dev), [frame(0), frame(0), frame(1), frame(1)]);
        dev.transmit(Instant::ZERO, &frame(5)).unwrap();
        assert_eq!(dev.inner().tx, [frame(5), frame(5)]);
        assert_eq!(dev.stats().tx_duplicated, 1);

        let cfg = FaultConfig {
            rx_corrupt_ppm: 1_000_000,
            tx_corrupt_ppm: 1_000_000,
            ..FaultConfig::default()
        };
        let mut dev = FaultInjector::new(Loopback::with_rx(20), cfg, 1);
        for (i, f) in drain(&mut dev).iter().enumerate() {
            let bits: u32 = f
                .iter()
                .zip(&frame(i as u16))
                .map(|(a, b)| (a ^ b).count_ones())
                .sum();
            assert_eq!(bits, 1);
        }
        dev.transmit(Instant::ZERO, &frame(3)).unwrap();
        let bits: u32 = dev.inner().tx[0]
            .iter()
            .zip(&frame(3))
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(bits, 1);
        let s = dev.stats();
        assert_eq!((s.rx_corrupted, s.tx_corrupted), (20, 1));
    }

    #[test]
    fn busy_is_passed_through() {
        let inner = Loopback {
            cap: 1,
            ..Loopback::default()
        };
        let mut dev = FaultInjector::new(inner, FaultConfig::default(), 1);
        assert_eq!(dev.transmit(Instant::ZERO, &frame(1)), Ok(()));
        assert_eq!(dev.transmit(Instant::ZERO, &frame(2)), Err(TxBusy));
        assert_eq!(dev.stats().tx_frames, 1);
        assert_eq!(dev.into_inner().tx, [frame(1)]);
    }
}
