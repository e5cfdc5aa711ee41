//! Initial sequence numbers (RFC 6528) and ephemeral ports (RFC 6056).
//!
//! Both hash the connection's addresses with the stack's secret SipHash
//! key ([`Random::keyed_hash`]): an off-path attacker can neither predict
//! our ISN for a 4-tuple nor the source port we pick for a destination,
//! while the numbers for one 4-tuple (one destination) still advance in
//! order, as the RFCs want for TIME-WAIT reuse. Each use hashes a distinct
//! one-byte label first, so the two functions never share an output.

use crate::addr::{Ipv4Addr, SocketAddrV4};
use crate::rand::Random;
use crate::time::Instant;
use crate::wire::SeqNumber;

/// The first port of the dynamic range (RFC 6335 §6: 49152-65535), the
/// range RFC 6056 §3.2 recommends for ephemeral ports.
pub const EPHEMERAL_MIN: u16 = 49152;
/// The last port of the dynamic range.
pub const EPHEMERAL_MAX: u16 = 65535;
/// Ports in the range: 2^14, which divides 2^16, so the `u16` counter
/// wrapping around keeps its position in the range.
const EPHEMERAL_COUNT: u32 = (EPHEMERAL_MAX - EPHEMERAL_MIN) as u32 + 1;
/// After each allocation the counter moves past the ports probed and then
/// by a random 0..8 more.
const RANDOM_INCREMENT: u32 = 8;

const ISN_LABEL: u8 = b'I';
const PORT_LABEL: u8 = b'P';

/// `ip` then `port` in network byte order.
pub(crate) fn put_endpoint(out: &mut [u8], ip: Ipv4Addr, port: u16) {
    for (d, s) in out
        .iter_mut()
        .zip(ip.octets().into_iter().chain(port.to_be_bytes()))
    {
        *d = s;
    }
}

/// The initial sequence number of a connection from `local` to `remote`
/// (RFC 6528 §3): ISN = M + F(localip, localport, remoteip, remoteport,
/// secretkey), where M is a timer ticking every 4 µs (RFC 9293 §3.4.1's
/// clock; it wraps after about 4.8 hours) and F is SipHash-2-4 under the
/// stack's secret key, truncated to 32 bits.
///
/// The same key, 4-tuple and time always give the same ISN; a new
/// connection for a 4-tuple gets a higher ISN than an old one had, so old
/// segments are not taken for new ones. The key lives as long as the
/// [`Random`]; changing it would break that order.
pub fn initial_sequence(
    rng: &Random,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    now: Instant,
) -> SeqNumber {
    let mut buf = [0u8; 13];
    buf[0] = ISN_LABEL;
    put_endpoint(&mut buf[1..7], *local.ip(), local.port());
    put_endpoint(&mut buf[7..13], *remote.ip(), remote.port());
    let f = rng.keyed_hash(&buf) as u32;
    let m = (now.total_micros() / 4) as u32;
    SeqNumber(m.wrapping_add(f))
}

/// Ephemeral port selection, RFC 6056 §3.3.3 (Algorithm 3, "Simple
/// Hash-Based Port Selection"), with random increments of the counter.
///
/// The search for a destination starts at `offset + next_ephemeral` in the
/// dynamic range, where offset = F(local IP, remote IP, remote port,
/// secret key); consecutive connections to one destination walk through
/// the range in order (so a port is not reused for it soon), while other
/// destinations see unrelated positions. `next_ephemeral` is shared by
/// all destinations; after each allocation it moves past the ports
/// probed and by a random 0..8 more, so an observer of its own
/// connections cannot count ours exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortAllocator {
    next_ephemeral: u16,
}

impl PortAllocator {
    /// A counter at 0 (RFC 6056: "Could be random"; the secret offset
    /// already hides it).
    pub const fn new() -> Self {
        PortAllocator { next_ephemeral: 0 }
    }

    /// A port in [`EPHEMERAL_MIN`]`..=`[`EPHEMERAL_MAX`] for a connection
    /// from `local` to `remote` for which `in_use` is false, or `None` if
    /// every port in the range is in use. `in_use` is called at most once
    /// per port of the range.
    pub fn ephemeral_port(
        &mut self,
        rng: &mut Random,
        local: Ipv4Addr,
        remote: SocketAddrV4,
        mut in_use: impl FnMut(u16) -> bool,
    ) -> Option<u16> {
        let mut buf = [0u8; 11];
        buf[0] = PORT_LABEL;
        put_endpoint(&mut buf[1..5], local, 0);
        put_endpoint(&mut buf[5..11], *remote.ip(), remote.port());
        let offset = rng.keyed_hash(&buf) as u32;
        let start = offset.wrapping_add(u32::from(self.next_ephemeral));
        for i in 0..EPHEMERAL_COUNT {
            // 2^32 is a multiple of the range size: wrapping is harmless.
            let port = EPHEMERAL_MIN + (start.wrapping_add(i) % EPHEMERAL_COUNT) as u16;
            if !in_use(port) {
                let step = i + 1 + rng.below(RANDOM_INCREMENT);
                self.next_ephemeral = self.next_ephemeral.wrapping_add(step as u16);
                return Some(port);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::FixedSeed;

    fn sa(ip: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(ip), port)
    }

    const LOCAL: [u8; 4] = [192, 0, 2, 2];
    const REMOTE: [u8; 4] = [198, 51, 100, 7];

    #[test]
    fn isn_depends_on_every_part_of_the_tuple() {
        let rng = Random::new(&mut FixedSeed(7));
        let now = Instant::from_secs(12);
        let base = initial_sequence(&rng, sa(LOCAL, 40000), sa(REMOTE, 80), now);
        let variants = [
            (sa([192, 0, 2, 3], 40000), sa(REMOTE, 80)),
            (sa(LOCAL, 40001), sa(REMOTE, 80)),
            (sa(LOCAL, 40000), sa([198, 51, 100, 8], 80)),
            (sa(LOCAL, 40000), sa(REMOTE, 81)),
            // Swapped ends are a different connection.
            (sa(REMOTE, 80), sa(LOCAL, 40000)),
        ];
        for (local, remote) in variants {
            assert_ne!(
                initial_sequence(&rng, local, remote, now),
                base,
                "{local} {remote}"
            );
        }
    }

    #[test]
    fn isn_is_repeatable_under_one_key_only() {
        let (l, r, now) = (sa(LOCAL, 40000), sa(REMOTE, 80), Instant::from_millis(5));
        let a = Random::new(&mut FixedSeed(1));
        let b = Random::new(&mut FixedSeed(1));
        let c = Random::new(&mut FixedSeed(2));
        assert_eq!(
            initial_sequence(&a, l, r, now),
            initial_sequence(&b, l, r, now)
        );
        assert_ne!(
            initial_sequence(&a, l, r, now),
            initial_sequence(&c, l, r, now)
        );
    }

    #[test]
    fn isn_ticks_every_4_microseconds() {
        let rng = Random::new(&mut FixedSeed(3));
        let (l, r) = (sa(LOCAL, 40000), sa(REMOTE, 80));
        let t0 = Instant::from_micros(1_000_000);
        let isn0 = initial_sequence(&rng, l, r, t0);
        for (us, ticks) in [
            (1, 0),
            (3, 0),
            (4, 1),
            (7, 1),
            (400, 100),
            (4_000_000, 1_000_000),
        ] {
            let isn = initial_sequence(&rng, l, r, Instant::from_micros(1_000_000 + us));
            assert_eq!(isn.diff(isn0), ticks, "+{us} µs");
        }
        // The timer wraps modulo 2^32 (every 2^34 µs).
        let later = Instant::from_micros(1_000_000 + (1 << 34) + 8);
        assert_eq!(initial_sequence(&rng, l, r, later), isn0 + 2);
    }

    #[test]
    fn ports_stay_in_range_and_skip_used_ones() {
        let mut rng = Random::new(&mut FixedSeed(11));
        let mut ports = PortAllocator::new();
        let local = Ipv4Addr::from(LOCAL);
        // A bitmap of ports taken, one bit per port of the range.
        let mut taken = [0u64; EPHEMERAL_COUNT as usize / 64];
        let bit = |p: u16| usize::from(p - EPHEMERAL_MIN);
        for i in 0..2000u16 {
            let remote = sa(REMOTE, 1 + i % 3);
            let used = |p: u16| (taken[bit(p) / 64] >> (bit(p) % 64)) & 1 == 1;
            let p = ports.ephemeral_port(&mut rng, local, remote, used).unwrap();
            assert!(p >= EPHEMERAL_MIN);
            assert_eq!(
                taken[bit(p) / 64] >> (bit(p) % 64) & 1,
                0,
                "port {p} reused"
            );
            taken[bit(p) / 64] |= 1 << (bit(p) % 64);
        }
        // Only one port free: found, after probing each port at most once.
        let remote = sa(REMOTE, 443);
        let mut calls = 0u32;
        let p = ports.ephemeral_port(&mut rng, local, remote, |p| {
            calls += 1;
            p != 50_000
        });
        assert_eq!((p, calls <= EPHEMERAL_COUNT), (Some(50_000), true));
        // None free: every port probed exactly once.
        let mut calls = 0u32;
        let none = ports.ephemeral_port(&mut rng, local, remote, |_| {
            calls += 1;
            true
        });
        assert_eq!((none, calls), (None, EPHEMERAL_COUNT));
        // The ends of the range are reachable.
        for end in [EPHEMERAL_MIN, EPHEMERAL_MAX] {
            let p = ports.ephemeral_port(&mut rng, local, remote, |p| p != end);
            assert_eq!(p, Some(end));
        }
    }

    #[test]
    fn ports_spread() {
        let mut rng = Random::new(&mut FixedSeed(5));
        let local = Ipv4Addr::from(LOCAL);
        // One destination: consecutive allocations walk the range without
        // repeating for a long while.
        let mut ports = PortAllocator::default();
        let remote = sa(REMOTE, 80);
        let mut last = None;
        let mut seen = [false; EPHEMERAL_COUNT as usize];
        for _ in 0..1500 {
            let p = ports
                .ephemeral_port(&mut rng, local, remote, |_| false)
                .unwrap();
            let i = usize::from(p - EPHEMERAL_MIN);
            assert!(!seen[i], "port {p} repeated");
            seen[i] = true;
            if let Some(last) = last {
                let step = (u32::from(p) + EPHEMERAL_COUNT - u32::from(last)) % EPHEMERAL_COUNT;
                assert!((1..=RANDOM_INCREMENT).contains(&step), "step {step}");
            }
            last = Some(p);
        }
        // Many destinations, a fresh allocator each time (the first port
        // is the hash alone): spread over the whole range.
        let mut buckets = [0u32; 16];
        for i in 0..4000u32 {
            let remote = sa([10, 0, (i >> 8) as u8, i as u8], 443);
            let p = PortAllocator::new()
                .ephemeral_port(&mut rng, local, remote, |_| false)
                .unwrap();
            buckets[usize::from((p - EPHEMERAL_MIN) / 1024)] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (150..350).contains(&n)),
            "{buckets:?}"
        );
    }
}
