//! Two stacks on the two ports of one deterministic simulated link
//! (`phy::sim`), and the clock: the harness of `sim.rs`, `tcp_sim.rs` and
//! `tcp_bulk.rs` (all built with `--features std`). Stack A is 192.0.2.1,
//! stack B 192.0.2.2, on one /24. Time skips idle stretches: it moves
//! straight to the next event, the earliest of both stacks' poll times and
//! the link's next delivery, so a slow link costs no more wall time than a
//! fast one.
#![allow(dead_code)]

use wolfip_core::phy::sim::{LinkConfig, Side, SimLink, SimPort};
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::rand::FixedSeed;
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{Duration, IfaceConfig, IfaceId, Instant, Ipv4Addr, Stack};

pub const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
pub const MAC_B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0b]);
pub const IP_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const IP_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

/// A stuck loop (the same instant over and over) is a bug.
const MAX_SAME_INSTANT: usize = 64;

/// Two stacks on the two ports of one simulated link, and the clock.
pub struct Pair {
    pub a: Box<Stack>,
    pub b: Box<Stack>,
    pub ia: IfaceId,
    pub ib: IfaceId,
    pub link: SimLink,
    pub now: Instant,
    /// Calls of [`Pair::poll`]: a measure of the simulation's cost.
    pub steps: u64,
    /// When each stack asked to run next, at the last poll.
    pub next_a: Option<Instant>,
    pub next_b: Option<Instant>,
    /// Whether [`a_rx`](Self::a_rx) records (see [`Pair::with_a_rx_log`]).
    pub record_a_rx: bool,
    /// Frames stack A received.
    pub a_rx: Vec<Vec<u8>>,
    /// A pcap of everything A sends and receives, when asked for (see
    /// [`Pair::with_pcap`]).
    pub pcap: Option<Vec<u8>>,
    /// Whether damaged ARP frames are dropped (see
    /// [`Pair::dropping_damaged_arp`]).
    pub drop_damaged_arp: bool,
    /// The ARP frames both sides sent, as sent, while they are dropped.
    pub arp_sent: Vec<Vec<u8>>,
    /// Damaged ARP frames dropped so far.
    pub arp_damaged: u64,
    same_instant: usize,
}

/// A port of the link as a stack sees it. It records frames (the ones
/// received in a log, or all in pcap format) when asked, and it drops ARP
/// frames that arrive damaged when asked: the simulated link corrupts
/// frames after the point where real Ethernet checks its FCS, to exercise
/// the IP and TCP checksums, but ARP has no checksum of its own, and a
/// flipped bit in a sender address would poison the cache for its whole
/// lifetime (60 s), which tests nothing about TCP.
struct Tap<'a> {
    port: SimPort<'a>,
    rx_log: Option<&'a mut Vec<Vec<u8>>>,
    pcap: Option<&'a mut Vec<u8>>,
    /// The ARP frames both sides sent and the count of damaged ones
    /// dropped, when damaged ARP frames are dropped.
    arp: Option<(&'a mut Vec<Vec<u8>>, &'a mut u64)>,
}

fn is_arp(frame: &[u8]) -> bool {
    frame.get(12..14) == Some(&[0x08, 0x06])
}

impl Tap<'_> {
    fn record(&mut self, now: Instant, frame: &[u8]) {
        if let Some(out) = self.pcap.as_mut() {
            let us = now.total_micros();
            for v in [
                us / 1_000_000,
                us % 1_000_000,
                frame.len() as u64,
                frame.len() as u64,
            ] {
                out.extend_from_slice(&(v as u32).to_le_bytes());
            }
            out.extend_from_slice(frame);
        }
    }
}

impl Device for Tap<'_> {
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        loop {
            let n = self.port.receive(now, buf)?;
            let frame = &buf[..n];
            if let Some((sent, damaged)) = self.arp.as_mut() {
                if is_arp(frame) && !sent.iter().any(|f| f.as_slice() == frame) {
                    **damaged += 1;
                    continue;
                }
            }
            self.record(now, frame);
            if let Some(log) = self.rx_log.as_mut() {
                log.push(frame.to_vec());
            }
            return Some(n);
        }
    }

    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        if let Some((sent, _)) = self.arp.as_mut() {
            if is_arp(frame) && sent.len() < 10_000 {
                sent.push(frame.to_vec());
            }
        }
        self.record(now, frame);
        self.port.transmit(now, frame)
    }
}

impl Pair {
    /// A seeded with `seed`, B with `seed ^ 0xabcdef`, the link with `seed`.
    pub fn new(seed: u64, cfg: LinkConfig) -> Pair {
        Pair::seeded(seed, seed ^ 0xabcdef, cfg)
    }

    /// A and the link seeded with `seed`, B with `seed_b`.
    pub fn seeded(seed: u64, seed_b: u64, cfg: LinkConfig) -> Pair {
        let mut a = Box::new(Stack::new(&mut FixedSeed(seed)));
        let mut b = Box::new(Stack::new(&mut FixedSeed(seed_b)));
        let ia = a.add_interface(IfaceConfig::ethernet(MAC_A)).unwrap();
        let ib = b.add_interface(IfaceConfig::ethernet(MAC_B)).unwrap();
        a.set_ipv4(ia, Some("192.0.2.1/24".parse().unwrap()))
            .unwrap();
        b.set_ipv4(ib, Some("192.0.2.2/24".parse().unwrap()))
            .unwrap();
        Pair {
            a,
            b,
            ia,
            ib,
            link: SimLink::new(cfg, seed),
            now: Instant::from_secs(1),
            steps: 0,
            next_a: None,
            next_b: None,
            record_a_rx: false,
            a_rx: Vec::new(),
            pcap: None,
            drop_damaged_arp: false,
            arp_sent: Vec::new(),
            arp_damaged: 0,
            same_instant: 0,
        }
    }

    /// Records every frame A receives in [`a_rx`](Self::a_rx).
    pub fn with_a_rx_log(mut self) -> Pair {
        self.record_a_rx = true;
        self
    }

    /// Records everything A sends and receives in [`pcap`](Self::pcap).
    pub fn with_pcap(mut self) -> Pair {
        let mut h = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        self.pcap = Some(h);
        self
    }

    /// Drops ARP frames that arrive damaged, on both sides (see [`Tap`]).
    pub fn dropping_damaged_arp(mut self) -> Pair {
        self.drop_damaged_arp = true;
        self
    }

    /// Runs both stacks once at the current time.
    pub fn poll(&mut self) {
        self.steps += 1;
        let drop_arp = self.drop_damaged_arp;
        let mut tap = Tap {
            port: self.link.port(Side::A),
            rx_log: self.record_a_rx.then_some(&mut self.a_rx),
            pcap: self.pcap.as_mut(),
            arp: drop_arp.then_some((&mut self.arp_sent, &mut self.arp_damaged)),
        };
        self.next_a = self.a.poll(self.now, self.ia, &mut tap);
        let mut tap = Tap {
            port: self.link.port(Side::B),
            rx_log: None,
            pcap: None,
            arp: drop_arp.then_some((&mut self.arp_sent, &mut self.arp_damaged)),
        };
        self.next_b = self.b.poll(self.now, self.ib, &mut tap);
    }

    /// Moves time to the next event the last [`poll`](Self::poll) or the
    /// link asks for, at least 1 µs and at most `max_step` ahead.
    pub fn advance(&mut self, max_step: Duration) {
        let mut next = self.now + max_step;
        for t in [self.next_a, self.next_b, self.link.next_delivery()]
            .into_iter()
            .flatten()
        {
            next = next.min(t.max(self.now + Duration::from_micros(1)));
        }
        self.now = next;
    }

    /// Runs both stacks once at the current time, then moves time to the
    /// next event (at most `max_step` ahead).
    pub fn step(&mut self, max_step: Duration) {
        self.poll();
        self.advance(max_step);
    }

    /// Jumps to the next event as the stacks' `poll_at` tell it now (after
    /// whatever the applications did since the last poll), or the link's
    /// next delivery, but not past `limit` (an app timer); staying at the
    /// same instant is allowed, but not [`MAX_SAME_INSTANT`] times in a row.
    pub fn advance_to_event(&mut self, limit: Option<Instant>) {
        let next = [
            self.a.poll_at(self.now),
            self.b.poll_at(self.now),
            self.link.next_delivery(),
            limit,
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("something must be pending")
        .max(self.now);
        if next == self.now {
            self.same_instant += 1;
            assert!(
                self.same_instant < MAX_SAME_INSTANT,
                "stuck at {:?}",
                self.now
            );
        } else {
            self.same_instant = 0;
        }
        self.now = next;
    }

    /// Runs until the link is empty and both stacks idle (the address
    /// announcements of `new` are delivered), for exact timing checks.
    pub fn settle(&mut self) {
        for _ in 0..100 {
            self.poll();
            let busy = self.link.next_delivery().is_some()
                || self.a.poll_at(self.now).is_some_and(|t| t <= self.now)
                || self.b.poll_at(self.now).is_some_and(|t| t <= self.now);
            if !busy {
                return;
            }
            self.advance_to_event(None);
        }
        panic!("the pair does not settle");
    }

    pub fn stack(&mut self, side: Side) -> &mut Stack {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }
}
