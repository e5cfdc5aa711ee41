//! A bounded, deterministic fuzz of `Stack::receive`: hundreds of thousands
//! of frames, random or mutated from valid ARP/IPv4/ICMP/UDP/fragment
//! frames (bit flips, truncations, extensions, length-field and address
//! edits, checksums sometimes fixed up), fed to a stack with an address and
//! UDP sockets while time advances and sockets send. Asserted: no panic;
//! every counter only grows; every frame the stack transmits is a valid
//! Ethernet + ARP or IPv4 frame from us (IP header checksum correct, ICMP and
//! UDP checksums correct on whole datagrams, sane addresses).

mod common;

use std::collections::VecDeque;

use common::*;
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::wire::checksum;
use wolfip_core::wire::{
    ArpOperation, ArpPacket, ArpRepr, DstUnreachable, EtherType, EthernetAddress, EthernetFrame,
    Icmpv4Packet, IpProtocol, Ipv4Packet, Ipv4Repr, UdpPacket,
};
use wolfip_core::{Duration, IfaceId, Instant, Ipv4Addr, Stack, UdpHandle};

/// Frames per seed; four seeds.
const FRAMES_PER_SEED: usize = 125_000;

/// splitmix64: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// A device that checks every frame the stack hands it, sometimes says
/// busy, and serves queued frames to `poll`.
struct Checker {
    rx: VecDeque<Vec<u8>>,
    busy_one_in: usize,
    rng: Rng,
    sent: u64,
}

impl Device for Checker {
    fn receive(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let f = self.rx.pop_front()?;
        let n = f.len().min(buf.len());
        buf[..n].copy_from_slice(&f[..n]);
        Some(n)
    }
    fn transmit(&mut self, _now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        if self.busy_one_in > 0 && self.rng.chance(self.busy_one_in) {
            return Err(TxBusy);
        }
        check_transmitted(frame);
        self.sent += 1;
        Ok(())
    }
}

/// The invariants of an outgoing frame.
fn check_transmitted(frame: &[u8]) {
    let eth = EthernetFrame::new_checked(frame).expect("runt sent");
    assert!(frame.len() <= 1514, "oversize frame sent");
    assert_eq!(eth.src_addr(), OUR_MAC);
    match eth.ethertype() {
        EtherType::Arp => {
            assert_eq!(frame.len(), 42);
            let arp =
                ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).expect("valid ARP");
            assert_eq!(arp.source_hardware_addr, OUR_MAC);
            assert_eq!(arp.source_protocol_addr, OUR_IP);
            match arp.operation {
                ArpOperation::Request => {}
                ArpOperation::Reply => {
                    assert_eq!(eth.dst_addr(), arp.target_hardware_addr);
                    assert!(arp.target_hardware_addr.is_unicast());
                }
                ArpOperation::Unknown(op) => panic!("ARP op {op} sent"),
            }
        }
        EtherType::Ipv4 => {
            assert!(eth.dst_addr().is_unicast(), "IPv4 to {}", eth.dst_addr());
            let ip = Ipv4Packet::new_checked(eth.payload()).expect("IPv4 structure");
            assert!(ip.verify_checksum(), "bad IP checksum sent");
            assert_eq!(usize::from(ip.total_len()), frame.len() - 14, "padding");
            let repr = Ipv4Repr::parse(&ip).unwrap();
            assert_eq!(repr.src_addr, OUR_IP);
            let d = repr.dst_addr;
            assert!(
                !(d.is_loopback()
                    || d.is_multicast()
                    || d.is_unspecified()
                    || d.is_broadcast()
                    || d == OUR_IP
                    || d == SUBNET_BCAST
                    || d.octets()[0] >= 240),
                "datagram sent to {d}"
            );
            if repr.more_frags || repr.frag_offset != 0 {
                assert_eq!(repr.frag_offset % 8, 0);
                return;
            }
            match repr.protocol {
                IpProtocol::Icmp => {
                    let p = Icmpv4Packet::new_checked(ip.payload()).expect("ICMP");
                    assert!(p.verify_checksum(), "bad ICMP checksum sent");
                    assert!(matches!(p.msg_type(), 0 | 3), "ICMP type {}", p.msg_type());
                }
                IpProtocol::Udp => {
                    let p = UdpPacket::new_checked(ip.payload()).expect("UDP");
                    assert_eq!(usize::from(p.len()), ip.payload().len());
                    assert!(p.checksum() != 0 && p.verify_checksum(OUR_IP, d));
                }
                other => panic!("{other:?} sent"),
            }
        }
        other => panic!("{other} frame sent"),
    }
}

/// Addresses worth trying in mutated headers.
const ADDRS: [Ipv4Addr; 12] = [
    OUR_IP,
    PEER_IP,
    OTHER_IP,
    SUBNET_BCAST,
    Ipv4Addr::BROADCAST,
    Ipv4Addr::UNSPECIFIED,
    Ipv4Addr::LOCALHOST,
    Ipv4Addr::new(224, 0, 0, 1),
    Ipv4Addr::new(240, 0, 0, 1),
    Ipv4Addr::new(192, 0, 2, 0),
    Ipv4Addr::new(203, 0, 113, 7),
    Ipv4Addr::new(127, 9, 9, 9),
];

/// Valid frames of every kind the stack handles.
fn templates(connected_port: u16) -> Vec<Vec<u8>> {
    let mut t = Vec::new();
    let bcast = EthernetAddress::BROADCAST;
    t.push(peer_arp_request());
    t.push(arp_request(OTHER_MAC, OTHER_IP, OUR_IP));
    t.push(arp_request(PEER_MAC, PEER_IP, PEER_IP));
    t.push(peer_arp_reply());
    t.push(arp_frame(
        OUR_MAC,
        ArpOperation::Reply,
        OTHER_MAC,
        OTHER_IP,
        OUR_MAC,
        OUR_IP,
    ));
    t.push(ping_frame(1, 2, b"ping"));
    t.push(ping_frame(3, 4, &pattern(1, 1400)));
    t.push(udp_frame(1000, 7, b"to the bound socket"));
    t.push(udp_frame(53, connected_port, b"from the connected peer"));
    t.push(udp_frame(1000, 9999, b"closed port"));
    t.push(ip_frame(
        PEER_IP,
        OUR_IP,
        IpProtocol::Unknown(253),
        &[1; 20],
    ));
    let bc = udp_packet(PEER_IP, SUBNET_BCAST, 68, 7, b"broadcast");
    let ip = ip_packet(
        &ip_repr(PEER_IP, SUBNET_BCAST, IpProtocol::Udp, bc.len()),
        &bc,
    );
    t.push(eth_frame(bcast, PEER_MAC, EtherType::Ipv4, &ip));
    // ICMP errors about datagrams we sent.
    let ours = udp_packet(OUR_IP, PEER_IP, connected_port, 53, &[0; 32]);
    let quote = ip_packet(
        &ip_repr(OUR_IP, PEER_IP, IpProtocol::Udp, ours.len()),
        &ours,
    );
    for (code, mtu) in [
        (DstUnreachable::FragRequired, 576),
        (DstUnreachable::PortUnreachable, 0),
    ] {
        let icmp = icmp_unreachable(code, mtu, &quote[..28]);
        t.push(ip_frame(PEER_IP, OUR_IP, IpProtocol::Icmp, &icmp));
    }
    // Fragments of a 3000-byte UDP datagram and of a 4000-byte echo.
    let udp = udp_packet(PEER_IP, OUR_IP, 1000, 7, &pattern(2, 3000));
    t.extend(fragment_frames(
        &ip_repr(PEER_IP, OUR_IP, IpProtocol::Udp, udp.len()),
        &udp,
        1480,
    ));
    let icmp = icmp_echo_request(5, 6, &pattern(3, 4000));
    t.extend(fragment_frames(
        &ip_repr(PEER_IP, OUR_IP, IpProtocol::Icmp, icmp.len()),
        &icmp,
        1480,
    ));
    t
}

fn put16(f: &mut [u8], at: usize, v: u16) {
    if let Some(b) = f.get_mut(at..at + 2) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

fn get16(f: &[u8], at: usize) -> u16 {
    f.get(at..at + 2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
}

/// Recomputes the IPv4 header checksum, if there is a header to fix.
fn fix_ip_checksum(f: &mut [u8]) {
    let ihl = usize::from(f.get(14).copied().unwrap_or(0) & 0x0f) * 4;
    if ihl < 20 || f.len() < 14 + ihl {
        return;
    }
    put16(f, 24, 0);
    let sum = checksum::sum(&f[14..14 + ihl]);
    put16(f, 24, !sum);
}

/// Recomputes the ICMP or UDP checksum of an unfragmented datagram whose
/// lengths are within the frame.
fn fix_l4_checksum(f: &mut [u8]) {
    let ihl = usize::from(f.get(14).copied().unwrap_or(0) & 0x0f) * 4;
    let total = usize::from(get16(f, 16));
    if ihl < 20 || total < ihl || f.len() < 14 + total {
        return;
    }
    let src = Ipv4Addr::new(f[26], f[27], f[28], f[29]);
    let dst = Ipv4Addr::new(f[30], f[31], f[32], f[33]);
    let proto = f[23];
    let l4 = &mut f[14 + ihl..14 + total];
    if l4.len() < 8 {
        return;
    }
    match proto {
        1 => {
            put16(l4, 2, 0);
            let sum = checksum::sum(l4);
            put16(l4, 2, !sum);
        }
        17 => {
            let ulen = usize::from(get16(l4, 4));
            if !(8..=l4.len()).contains(&ulen) {
                return;
            }
            put16(l4, 6, 0);
            let sum = checksum::combine(&[
                checksum::pseudo_header(src, dst, 17, ulen as u32),
                checksum::sum(&l4[..ulen]),
            ]);
            put16(
                l4,
                6,
                match !sum {
                    0 => 0xffff,
                    c => c,
                },
            );
        }
        _ => {}
    }
}

/// One mutation of `f`.
fn mutate(rng: &mut Rng, f: &mut Vec<u8>) {
    match rng.below(12) {
        0 | 1 => {
            for _ in 0..1 + rng.below(8) {
                if !f.is_empty() {
                    let i = rng.below(f.len());
                    f[i] ^= 1 << rng.below(8);
                }
            }
        }
        2 => {
            let i = rng.below(f.len() + 1);
            f.truncate(i);
        }
        3 => {
            let n = 1 + rng.below(64);
            f.extend((0..n).map(|_| rng.byte()));
        }
        4 => put16(f, 16, rng.next() as u16), // IP total length
        5 => {
            let d = rng.below(41) as i32 - 20;
            let t = get16(f, 16) as i32 + d;
            put16(f, 16, t.clamp(0, 65535) as u16);
        }
        6 => {
            if let Some(b) = f.get_mut(14) {
                *b = (*b & 0xf0) | rng.below(16) as u8; // IHL
            }
        }
        7 => put16(f, 20, rng.next() as u16), // flags + fragment offset
        8 => put16(f, 38, rng.next() as u16), // UDP length (IHL 5)
        9 => {
            let a = ADDRS[rng.below(ADDRS.len())].octets();
            let at = if rng.chance(2) { 26 } else { 30 };
            if let Some(b) = f.get_mut(at..at + 4) {
                b.copy_from_slice(&a);
            }
        }
        10 => {
            // ARP fields: hlen/plen, op, addresses.
            let at = [18, 19, 20, 21, 28, 38][rng.below(6)];
            if let Some(b) = f.get_mut(at) {
                *b = rng.byte();
            }
        }
        _ => {
            let ty = [0x0800, 0x0806, 0x86dd, rng.next() as u16][rng.below(4)];
            put16(f, 12, ty);
        }
    }
}

/// A frame: random bytes, or a template mutated a few times, checksums
/// fixed up half of the time.
fn frame(rng: &mut Rng, templates: &[Vec<u8>]) -> Vec<u8> {
    if rng.chance(5) {
        let len = rng.below(1600);
        let mut f: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        if rng.chance(2) && f.len() >= 14 {
            f[..6].copy_from_slice(&OUR_MAC.0);
            put16(&mut f, 12, if rng.chance(2) { 0x0800 } else { 0x0806 });
            if rng.chance(2) && f.len() >= 34 {
                f[14] = 0x45;
                let total = (f.len() - 14) as u16;
                put16(&mut f, 16, total);
                fix_ip_checksum(&mut f);
            }
        }
        return f;
    }
    let mut f = templates[rng.below(templates.len())].clone();
    if rng.chance(8) {
        return f; // some valid traffic keeps the state interesting
    }
    for _ in 0..1 + rng.below(3) {
        mutate(rng, &mut f);
    }
    if rng.chance(2) {
        fix_ip_checksum(&mut f);
    }
    if rng.chance(2) {
        fix_l4_checksum(&mut f);
    }
    f
}

fn assert_grew(before: &[u64], after: &[u64], what: &str) {
    for (i, (b, a)) in before.iter().zip(after).enumerate() {
        assert!(a >= b, "counter #{i} went down ({b} -> {a}) after {what}");
    }
}

struct App {
    bound: UdpHandle,
    connected: UdpHandle,
    sender: UdpHandle,
    /// Bound to 127.0.0.1: must never put a datagram on the wire.
    local: UdpHandle,
}

fn setup(seed: u64) -> (Box<Stack>, IfaceId, App) {
    let (mut s, id) = stack(seed);
    let bound = s.udp_open().unwrap();
    s.udp_bind(bound, sock(Ipv4Addr::UNSPECIFIED, 7)).unwrap();
    let connected = s.udp_open().unwrap();
    s.udp_connect(connected, Some(sock(PEER_IP, 53)), T0)
        .unwrap();
    let sender = s.udp_open().unwrap();
    let local = s.udp_open().unwrap();
    s.udp_bind(local, sock(Ipv4Addr::LOCALHOST, 0)).unwrap();
    (
        s,
        id,
        App {
            bound,
            connected,
            sender,
            local,
        },
    )
}

fn fuzz_one_seed(seed: u64) -> (u64, u64) {
    let mut rng = Rng(seed);
    let (mut s, id, app) = setup(seed);
    let connected_port = s.udp_local_addr(app.connected).unwrap().port();
    let templates = templates(connected_port);
    let mut dev = Checker {
        rx: VecDeque::new(),
        busy_one_in: 0,
        rng: Rng(seed ^ 0xdead),
        sent: 0,
    };
    let mut now = T0;
    let mut last = counters(s.stats());
    let mut buf = vec![0u8; 4096];
    for n in 0..FRAMES_PER_SEED {
        let f = frame(&mut rng, &templates);
        if rng.chance(4) {
            // Through the driver path.
            dev.rx.push_back(f);
        } else {
            s.receive(now, id, &f);
            let c = counters(s.stats());
            assert_grew(&last, &c, "receive");
            last = c;
        }
        if n % 16 == 15 {
            now += match rng.below(100) {
                0 => Duration::from_secs(20),
                1..=4 => Duration::from_millis(1000 + rng.below(2000) as u64),
                _ => Duration::from_micros(rng.below(5000) as u64),
            };
            dev.busy_one_in = [0, 0, 3, 50][rng.below(4)];
            if rng.chance(3) {
                let len = [0, 1, 100, 1472, 1473, 3000][rng.below(6)];
                let to = [PEER_IP, OTHER_IP, OUR_IP, Ipv4Addr::LOCALHOST][rng.below(4)];
                let data = pattern(n as u32, len);
                let _ = s.udp_send_to(app.sender, &data, Some(sock(to, 7)), now);
                let _ = s.udp_send_to(app.connected, &data[..len.min(64)], None, now);
                let _ = s.udp_send_to(app.local, &data[..len.min(64)], Some(sock(to, 7)), now);
            }
            for h in [app.bound, app.connected, app.sender, app.local] {
                while s.udp_can_recv(h) {
                    let _ = s.udp_recv_from(h, &mut buf);
                }
            }
            s.poll(now, id, &mut dev);
            let c = counters(s.stats());
            assert_grew(&last, &c, "poll");
            last = c;
            // Once the timers ran, nothing is overdue.
            if let Some(at) = s.poll_at(now) {
                assert!(at >= now, "poll_at {at:?} before now {now:?}");
            }
        }
    }
    dev.busy_one_in = 0;
    let end = now + Duration::from_secs(60);
    s.poll(end, id, &mut dev);
    assert_grew(&last, &counters(s.stats()), "final poll");
    (s.stats().eth.rx, dev.sent)
}

/// No panic, counters only grow, every transmitted frame is valid, for
/// 4 x `FRAMES_PER_SEED` frames.
#[test]
fn stack_survives_random_and_mutated_frames() {
    let mut total_rx = 0;
    let mut total_tx = 0;
    for seed in 1..=4 {
        let (rx, tx) = fuzz_one_seed(seed);
        total_rx += rx;
        total_tx += tx;
    }
    assert!(
        total_rx >= 4 * FRAMES_PER_SEED as u64 * 9 / 10,
        "{total_rx} frames received"
    );
    assert!(
        total_tx > 1000,
        "the stack answered something ({total_tx} frames)"
    );
}

/// The templates themselves are valid and get the expected reactions, so
/// that the fuzz starts from frames that reach deep into the stack.
#[test]
fn templates_reach_every_layer() {
    let (mut s, id, app) = setup(99);
    let port = s.udp_local_addr(app.connected).unwrap().port();
    for f in templates(port) {
        s.receive(T0, id, &f);
    }
    let mut dev = Checker {
        rx: VecDeque::new(),
        busy_one_in: 0,
        rng: Rng(1),
        sent: 0,
    };
    s.poll(T0, id, &mut dev);
    let st = s.stats();
    assert!(st.arp.tx_replies >= 2);
    assert_eq!(
        st.icmp.echo_replies_sent, 3,
        "two pings and the 4000-byte echo"
    );
    assert_eq!(st.ip.reassembled, 2);
    assert!(st.udp.rx >= 3);
    assert_eq!(st.icmp.pmtu_updates, 1);
    assert!(st.icmp.unreachables_tx >= 2);
    assert!(dev.sent >= 8);
}
