//! Limits on the replies the stack sends to traffic nobody asked for, so
//! that it cannot be used as an amplifier or a reflector: ICMP errors
//! (RFC 1812 §4.3.2.8), RSTs for segments that belong to no connection,
//! ARP replies, and challenge ACKs system-wide (RFC 5961 §7). The state
//! lives in [`crate::net::Net`], shared by every socket and interface; no
//! socket carries any of it.

use crate::rand::Random;
use crate::time::{Duration, Instant};

/// One token, in millionths: a refill of `per_sec` tokens a second is then
/// exact for any elapsed number of microseconds.
const TOKEN: u64 = 1_000_000;

/// A token bucket: at most `burst` replies at once, then `per_sec` a
/// second. An empty bucket refills in `burst / per_sec` seconds, so once a
/// flood stops replies resume at once and the full burst is back soon
/// after.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateLimit {
    micro_tokens: u64,
    last: Instant,
    per_sec: u32,
    burst: u32,
}

impl RateLimit {
    /// A full bucket of `burst` tokens refilled at `per_sec` a second.
    pub const fn new(per_sec: usize, burst: usize) -> Self {
        RateLimit {
            micro_tokens: burst as u64 * TOKEN,
            last: Instant::ZERO,
            per_sec: per_sec as u32,
            burst: burst as u32,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed_us = (now - self.last).total_micros();
        let refill = elapsed_us.saturating_mul(u64::from(self.per_sec));
        self.micro_tokens = self
            .micro_tokens
            .saturating_add(refill)
            .min(u64::from(self.burst) * TOKEN);
        self.last = self.last.max(now);
        if self.micro_tokens >= TOKEN {
            self.micro_tokens -= TOKEN;
            true
        } else {
            false
        }
    }
}

/// A system-wide quota per one-second window whose size is drawn at random
/// in `[limit / 2, limit / 2 + limit)` at the start of each window: the
/// global challenge ACK limit of RFC 5961 §7, hardened as Linux did after
/// CVE-2016-5696. With a fixed quota, an off-path attacker who exhausts it
/// through connections of its own learns, from whether one more challenge
/// ACK comes back to it, whether a spoofed segment hit somebody else's
/// connection in the window (and so that connection's ports and sequence
/// numbers). A random quota hides that one-ACK difference.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RandomQuota {
    window: Instant,
    left: u32,
    limit: u32,
    /// No window started yet (`window` means nothing).
    fresh: bool,
}

impl RandomQuota {
    /// A quota of about `limit` a second.
    pub const fn new(limit: usize) -> Self {
        RandomQuota {
            window: Instant::ZERO,
            left: 0,
            limit: limit as u32,
            fresh: true,
        }
    }

    /// Takes one from this window's quota if any is left.
    pub fn take(&mut self, now: Instant, rng: &mut Random) -> bool {
        if self.fresh || now - self.window >= Duration::from_secs(1) {
            self.fresh = false;
            self.window = now;
            let half = self.limit.div_ceil(2);
            self.left = half + rng.below(self.limit);
        }
        if self.left > 0 {
            self.left -= 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_gives_the_burst_then_the_rate() {
        let mut b = RateLimit::new(4, 3);
        let t0 = Instant::from_secs(10);
        assert_eq!((0..10).filter(|_| b.take(t0)).count(), 3);
        // A quarter second refills one token.
        let t1 = t0 + Duration::from_millis(250);
        assert_eq!((0..10).filter(|_| b.take(t1)).count(), 1);
        // Ten seconds refill no more than the burst.
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!((0..10).filter(|_| b.take(t2)).count(), 3);
    }

    #[test]
    fn quota_is_random_within_bounds_and_renews_each_second() {
        let mut rng = Random::new(&mut crate::rand::FixedSeed(7));
        let mut q = RandomQuota::new(10);
        let mut seen = [false; 16];
        let mut t = Instant::from_secs(10);
        for _ in 0..200 {
            let n = (0..100).filter(|_| q.take(t, &mut rng)).count();
            assert!((5..15).contains(&n), "{n}");
            seen[n] = true;
            t += Duration::from_secs(1);
        }
        assert!(seen.iter().filter(|s| **s).count() > 5, "quota varies");
    }
}
