//! Randomness. The platform supplies entropy through one small trait,
//! [`EntropySource`]; the stack keys a SipHash-2-4 pseudo-random function
//! with it and draws every number it needs (ephemeral ports per RFC 6056,
//! IP identifiers, later TCP initial sequence numbers per RFC 6528) from that
//! function in counter mode. Knowing earlier outputs does not reveal later
//! ones without the key.

use core::hash::Hasher;
use siphasher::sip::SipHasher24;

/// The platform's source of secret random bytes (a hardware RNG, `getrandom`,
/// a seeded generator in tests).
pub trait EntropySource {
    /// Fills `buf` with random bytes.
    fn fill_bytes(&mut self, buf: &mut [u8]);
}

/// A fixed seed, for tests and simulations that must repeat exactly.
/// Never use it on a real network.
#[derive(Debug, Clone, Copy)]
pub struct FixedSeed(pub u64);

impl EntropySource for FixedSeed {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        // splitmix64 stream from the seed.
        for chunk in buf.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// The stack's keyed generator.
#[derive(Clone)]
pub struct Random {
    key: [u8; 16],
    counter: u64,
}

impl Random {
    /// Keys the generator from the platform.
    pub fn new(entropy: &mut dyn EntropySource) -> Self {
        let mut key = [0u8; 16];
        entropy.fill_bytes(&mut key);
        let mut c = [0u8; 8];
        entropy.fill_bytes(&mut c);
        Random {
            key,
            counter: u64::from_le_bytes(c),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        let mut h = SipHasher24::new_with_key(&self.key);
        h.write_u64(self.counter);
        h.finish()
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    /// A uniformly distributed number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u32) -> u32 {
        // Lemire's multiply-shift; the bias is below 2^-32 and irrelevant here.
        ((u64::from(self.next_u32()) * u64::from(bound.max(1))) >> 32) as u32
    }

    /// A keyed hash of `data`, independent of the counter: the building
    /// block of RFC 6528's F() and RFC 6056's per-destination offsets.
    pub fn keyed_hash(&self, data: &[u8]) -> u64 {
        let mut h = SipHasher24::new_with_key(&self.key);
        h.write(data);
        h.finish()
    }
}

impl core::fmt::Debug for Random {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Random { key: <secret> }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_differs() {
        let mut a = Random::new(&mut FixedSeed(1));
        let mut b = Random::new(&mut FixedSeed(1));
        let mut c = Random::new(&mut FixedSeed(2));
        let xa: [u64; 4] = core::array::from_fn(|_| a.next_u64());
        let xb: [u64; 4] = core::array::from_fn(|_| b.next_u64());
        let xc: [u64; 4] = core::array::from_fn(|_| c.next_u64());
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        assert!(xa[0] != xa[1]);
    }

    #[test]
    fn below_stays_in_range_and_spreads() {
        let mut r = Random::new(&mut FixedSeed(9));
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let v = r.below(10);
            assert!(v < 10);
            seen[v as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800 && n < 1200), "{seen:?}");
    }
}
