//! Shared helpers of the packet-in/packet-out tests: a capturing [`Device`],
//! frame builders (through the wire module's `Repr::emit`) and parsers that
//! check every checksum of what the stack sends.
#![allow(dead_code)]

use std::collections::VecDeque;

use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::rand::FixedSeed;
use wolfip_core::stats::{
    ArpStats, DhcpStats, DnsStats, EthStats, IcmpStats, IpStats, TcpStats, UdpStats,
};
use wolfip_core::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr, UdpPacket, UdpRepr,
};
use wolfip_core::{
    Duration, IfaceConfig, IfaceId, Instant, Ipv4Addr, Ipv4Cidr, SocketAddrV4, Stack, Stats,
};

pub const OUR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
pub const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
pub const OTHER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x03]);
pub const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const OTHER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
pub const SUBNET_BCAST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 255);

/// The instant every test starts at (not zero, so that "since zero"
/// arithmetic cannot hide a bug).
pub const T0: Instant = Instant::from_secs(100);

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn sock(ip: Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

pub fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().unwrap()
}

/// A data pattern that differs between `tag`s and positions.
pub fn pattern(tag: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(31)
                .wrapping_add(tag.wrapping_mul(101)) as u8
        })
        .collect()
}

// ----- devices -------------------------------------------------------------

/// A device that hands out frames from `rx` and records what is sent; with
/// `room = Some(n)` it takes `n` more frames and then answers busy.
#[derive(Default)]
pub struct Capture {
    pub rx: VecDeque<Vec<u8>>,
    pub tx: Vec<Vec<u8>>,
    pub room: Option<usize>,
}

impl Capture {
    pub fn new() -> Self {
        Capture::default()
    }
    pub fn take(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.tx)
    }
}

impl Device for Capture {
    fn receive(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let f = self.rx.pop_front()?;
        if f.len() > buf.len() {
            return None;
        }
        buf[..f.len()].copy_from_slice(&f);
        Some(f.len())
    }
    fn transmit(&mut self, _now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        match &mut self.room {
            Some(0) => return Err(TxBusy),
            Some(n) => *n -= 1,
            None => {}
        }
        self.tx.push(frame.to_vec());
        Ok(())
    }
}

// ----- stacks --------------------------------------------------------------

/// A stack with one Ethernet interface (`OUR_MAC`) and no address.
pub fn bare_stack(seed: u64) -> (Box<Stack>, IfaceId) {
    let mut s = Box::new(Stack::new(&mut FixedSeed(seed)));
    let id = s
        .add_interface(IfaceConfig::ethernet(OUR_MAC))
        .expect("interface");
    (s, id)
}

/// A stack with `OUR_IP/24` on one Ethernet interface; the gratuitous ARP
/// announcement is already drained.
pub fn stack(seed: u64) -> (Box<Stack>, IfaceId) {
    let (mut s, id) = bare_stack(seed);
    s.set_ipv4(id, Some(Ipv4Cidr::new(OUR_IP, 24).unwrap()))
        .unwrap();
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 1, "one gratuitous ARP");
    (s, id)
}

/// A stack that already knows `PEER_IP` is at `PEER_MAC` (the peer asked
/// for our address first; our reply is drained).
pub fn stack_with_peer(seed: u64) -> (Box<Stack>, IfaceId) {
    let (mut s, id) = stack(seed);
    let req = peer_arp_request();
    let out = input(&mut s, T0, id, &req);
    assert_eq!(out.len(), 1, "ARP reply");
    (s, id)
}

/// `dispatch` then `transmit` into a fresh capture; the frames sent.
pub fn run(stack: &mut Stack, now: Instant, iface: IfaceId) -> Vec<Vec<u8>> {
    stack.dispatch(now);
    let mut dev = Capture::new();
    stack.transmit(now, iface, &mut dev);
    dev.tx
}

/// Receives `frame`, then [`run`]s.
pub fn input(stack: &mut Stack, now: Instant, iface: IfaceId, frame: &[u8]) -> Vec<Vec<u8>> {
    stack.receive(now, iface, frame);
    run(stack, now, iface)
}

// ----- builders ------------------------------------------------------------

pub fn eth_frame(
    dst: EthernetAddress,
    src: EthernetAddress,
    ethertype: EtherType,
    payload: &[u8],
) -> Vec<u8> {
    let mut buf = vec![0u8; 14 + payload.len()];
    let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype,
    }
    .emit(&mut f);
    f.payload_mut().copy_from_slice(payload);
    buf
}

pub fn arp_packet(
    op: ArpOperation,
    sha: EthernetAddress,
    spa: Ipv4Addr,
    tha: EthernetAddress,
    tpa: Ipv4Addr,
) -> Vec<u8> {
    let mut buf = vec![0u8; ArpRepr::BUFFER_LEN];
    ArpRepr {
        operation: op,
        source_hardware_addr: sha,
        source_protocol_addr: spa,
        target_hardware_addr: tha,
        target_protocol_addr: tpa,
    }
    .emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
    buf
}

/// An ARP frame sent by `sha` to `eth_dst`.
pub fn arp_frame(
    eth_dst: EthernetAddress,
    op: ArpOperation,
    sha: EthernetAddress,
    spa: Ipv4Addr,
    tha: EthernetAddress,
    tpa: Ipv4Addr,
) -> Vec<u8> {
    eth_frame(
        eth_dst,
        sha,
        EtherType::Arp,
        &arp_packet(op, sha, spa, tha, tpa),
    )
}

/// A broadcast ARP request from `sha` at `spa` for `tpa`.
pub fn arp_request(sha: EthernetAddress, spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
    arp_frame(
        EthernetAddress::BROADCAST,
        ArpOperation::Request,
        sha,
        spa,
        EthernetAddress::default(),
        tpa,
    )
}

/// The peer asks for `OUR_IP`.
pub fn peer_arp_request() -> Vec<u8> {
    arp_request(PEER_MAC, PEER_IP, OUR_IP)
}

/// The peer's answer to a request of ours for `PEER_IP`.
pub fn peer_arp_reply() -> Vec<u8> {
    arp_frame(
        OUR_MAC,
        ArpOperation::Reply,
        PEER_MAC,
        PEER_IP,
        OUR_MAC,
        OUR_IP,
    )
}

pub fn ip_repr(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len: len,
        ttl: 64,
        tos: 0,
        ident: 0x4242,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
    }
}

/// An IPv4 packet: `repr`'s header (its `payload_len` is used as given)
/// followed by `payload`.
pub fn ip_packet(repr: &Ipv4Repr, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 20 + payload.len()];
    let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
    repr.emit(&mut p);
    buf[20..].copy_from_slice(payload);
    buf
}

pub fn icmp_echo_request(ident: u16, seq_no: u16, data: &[u8]) -> Vec<u8> {
    let repr = Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    buf
}

pub fn icmp_unreachable(
    code: wolfip_core::wire::DstUnreachable,
    mtu: u16,
    quote: &[u8],
) -> Vec<u8> {
    let repr = Icmpv4Repr::DstUnreachable {
        reason: code,
        next_hop_mtu: mtu,
        data: quote,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    buf
}

pub fn udp_packet(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; UdpRepr::buffer_len(data.len())];
    UdpRepr {
        src_port: sport,
        dst_port: dport,
    }
    .emit(&mut UdpPacket::new_unchecked(&mut buf[..]), src, dst, data);
    buf
}

/// A whole IPv4 frame from `PEER_MAC` to `OUR_MAC`.
pub fn ip_frame(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let repr = ip_repr(src, dst, protocol, payload.len());
    eth_frame(
        OUR_MAC,
        PEER_MAC,
        EtherType::Ipv4,
        &ip_packet(&repr, payload),
    )
}

/// An echo request frame from the peer to us.
pub fn ping_frame(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    ip_frame(
        PEER_IP,
        OUR_IP,
        IpProtocol::Icmp,
        &icmp_echo_request(ident, seq, data),
    )
}

/// A UDP frame from the peer to us.
pub fn udp_frame(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    ip_frame(
        PEER_IP,
        OUR_IP,
        IpProtocol::Udp,
        &udp_packet(PEER_IP, OUR_IP, sport, dport, data),
    )
}

/// Splits `payload` into IPv4 fragments of at most `chunk` bytes (a
/// multiple of 8) each; returns whole Ethernet frames from the peer.
pub fn fragment_frames(repr: &Ipv4Repr, payload: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    assert_eq!(chunk % 8, 0);
    payload
        .chunks(chunk)
        .enumerate()
        .map(|(i, piece)| {
            let offset = i * chunk;
            let r = Ipv4Repr {
                payload_len: piece.len(),
                more_frags: offset + piece.len() < payload.len(),
                frag_offset: offset as u16,
                ..*repr
            };
            eth_frame(OUR_MAC, PEER_MAC, EtherType::Ipv4, &ip_packet(&r, piece))
        })
        .collect()
}

// ----- parsers -------------------------------------------------------------

pub fn parse_eth(frame: &[u8]) -> (EthernetRepr, &[u8]) {
    let f = EthernetFrame::new_checked(frame).expect("ethernet frame");
    let repr = EthernetRepr::parse(&f).expect("ethernet header");
    (repr, &frame[14..])
}

/// An ARP frame the stack sent (panics on anything else).
pub fn parse_arp(frame: &[u8]) -> (EthernetRepr, ArpRepr) {
    let (eth, payload) = parse_eth(frame);
    assert_eq!(eth.ethertype, EtherType::Arp, "not ARP: {frame:02x?}");
    assert_eq!(payload.len(), ArpRepr::BUFFER_LEN);
    let arp = ArpRepr::parse(&ArpPacket::new_checked(payload).unwrap()).expect("ARP");
    (eth, arp)
}

pub fn is_arp(frame: &[u8]) -> bool {
    parse_eth(frame).0.ethertype == EtherType::Arp
}

/// An IPv4 frame the stack sent, its header checksum verified.
#[derive(Debug, Clone)]
pub struct IpFrame {
    pub eth: EthernetRepr,
    pub ip: Ipv4Repr,
    /// The raw header bytes.
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
}

pub fn parse_ip(frame: &[u8]) -> IpFrame {
    let (eth, payload) = parse_eth(frame);
    assert_eq!(eth.ethertype, EtherType::Ipv4, "not IPv4: {frame:02x?}");
    let p = Ipv4Packet::new_checked(payload).expect("IPv4 structure");
    assert!(p.verify_checksum(), "bad IPv4 header checksum");
    let ip = Ipv4Repr::parse(&p).expect("IPv4 header");
    assert_eq!(
        payload.len(),
        usize::from(p.total_len()),
        "the stack sends no padding"
    );
    IpFrame {
        eth,
        ip,
        header: payload[..p.header_len()].to_vec(),
        payload: p.payload().to_vec(),
    }
}

/// A whole UDP datagram in `f`, its checksum verified: (ports, data).
pub fn parse_udp(f: &IpFrame) -> (UdpRepr, Vec<u8>) {
    parse_udp_payload(f.ip.src_addr, f.ip.dst_addr, &f.payload)
}

pub fn parse_udp_payload(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> (UdpRepr, Vec<u8>) {
    assert_eq!(u8::from(IpProtocol::Udp), 17);
    let p = UdpPacket::new_checked(payload).expect("UDP structure");
    assert_ne!(p.checksum(), 0, "the stack always computes UDP checksums");
    let repr = UdpRepr::parse(&p, src, dst).expect("UDP checksum");
    assert_eq!(usize::from(p.len()), payload.len());
    (repr, p.payload().to_vec())
}

/// An ICMP message the stack sent, checksum verified: (type, code, bytes
/// 4..8, data).
pub fn parse_icmp(payload: &[u8]) -> (u8, u8, [u8; 4], Vec<u8>) {
    let p = Icmpv4Packet::new_checked(payload).expect("ICMP");
    assert!(p.verify_checksum(), "bad ICMP checksum");
    (
        p.msg_type(),
        p.msg_code(),
        payload[4..8].try_into().unwrap(),
        p.data().to_vec(),
    )
}

/// Puts fragments (in any order) back together after checking RFC 791's
/// rules: same ident, offsets multiples of 8, MF on all but the last, no
/// hole, no overlap. Returns the first fragment's header and the payload.
pub fn reassemble(frags: &[IpFrame]) -> (Ipv4Repr, Vec<u8>) {
    let mut v: Vec<&IpFrame> = frags.iter().collect();
    v.sort_by_key(|f| f.ip.frag_offset);
    let ident = v[0].ip.ident;
    let mut out = Vec::new();
    for (i, f) in v.iter().enumerate() {
        assert_eq!(f.ip.ident, ident, "one ident for all fragments");
        assert_eq!(f.ip.frag_offset % 8, 0);
        assert_eq!(usize::from(f.ip.frag_offset), out.len(), "no hole/overlap");
        assert_eq!(f.ip.more_frags, i + 1 < v.len(), "MF on all but the last");
        assert_eq!(
            (f.ip.src_addr, f.ip.dst_addr, f.ip.protocol),
            (v[0].ip.src_addr, v[0].ip.dst_addr, v[0].ip.protocol)
        );
        out.extend_from_slice(&f.payload);
    }
    (v[0].ip, out)
}

// ----- counters ------------------------------------------------------------

/// Every counter of `s`, in a fixed order. Destructured exhaustively, so a
/// new counter must be added here (and so is covered by the invariants).
pub fn counters(s: &Stats) -> Vec<u64> {
    let Stats {
        eth:
            EthStats {
                rx: e1,
                tx: e2,
                drop_truncated: e3,
                drop_not_for_us: e4,
                drop_ethertype: e5,
                drop_oversize: e6,
                tx_busy: e7,
            },
        arp:
            ArpStats {
                rx: a1,
                tx_requests: a2,
                tx_replies: a3,
                drop_malformed: a4,
                drop_conflict: a5,
                unsolicited_replies: a6,
                drop_unresolved: a7,
                drop_pending_full: a8,
                evictions: a9,
                replies_rate_limited: a10,
            },
        ip:
            IpStats {
                rx: i1,
                tx: i2,
                drop_malformed: i3,
                drop_checksum: i4,
                drop_not_for_us: i5,
                drop_protocol: i6,
                drop_no_route: i7,
                drop_no_buffer: i8,
                frags_rx: i9,
                reassembled: i10,
                reasm_timeouts: i11,
                reasm_overlaps: i12,
                reasm_duplicates: i13,
                reasm_oversize: i14,
                reasm_evictions: i15,
                fragmented: i16,
                frags_tx: i17,
            },
        icmp:
            IcmpStats {
                rx: c1,
                tx: c2,
                echo_replies_sent: c3,
                unreachables_rx: c4,
                unreachables_tx: c5,
                pmtu_updates: c6,
                drop_malformed: c7,
                rate_limited: c8,
                drop_unsupported: c9,
            },
        udp:
            UdpStats {
                rx: u1,
                tx: u2,
                drop_malformed: u3,
                drop_checksum: u4,
                drop_no_socket: u5,
                drop_queue_full: u6,
            },
        tcp:
            TcpStats {
                rx: t1,
                tx: t2,
                drop_malformed: t3,
                drop_checksum: t4,
                drop_out_of_window: t5,
                drop_paws: t6,
                drop_no_socket: t7,
                active_opens: t8,
                passive_opens: t9,
                drop_syn_backlog: t10,
                resets_tx: t11,
                resets_rx: t12,
                challenge_acks: t13,
                challenge_rate_limited: t21,
                rst_rate_limited: t22,
                synack_rate_limited: t26,
                retransmits: t14,
                timeouts: t15,
                fast_retransmits: t16,
                ooo_queued: t17,
                ooo_dropped: t18,
                timed_out: t19,
                reclaimed: t20,
                syn_cookies_sent: t23,
                syn_cookies_accepted: t24,
                syn_cookies_rejected: t25,
            },
        dhcp:
            DhcpStats {
                tx: h1,
                rx: h2,
                leases: h3,
                renewals: h4,
                naks: h5,
                declines: h6,
                expiries: h7,
                retransmits: h8,
                drop_malformed: h9,
                drop_unexpected: h10,
                drop_bogus: h11,
            },
        dns,
        events_dropped,
    } = *s;
    let mut all = dns_counters(&dns);
    all.extend([h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11, events_dropped]);
    vec![
        e1, e2, e3, e4, e5, e6, e7, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, i1, i2, i3, i4, i5,
        i6, i7, i8, i9, i10, i11, i12, i13, i14, i15, i16, i17, c1, c2, c3, c4, c5, c6, c7, c8, c9,
        u1, u2, u3, u4, u5, u6, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15,
        t16, t17, t18, t19, t20, t21, t22, t23, t24, t25, t26,
    ]
    .into_iter()
    .chain(all)
    .collect()
}

/// Every DNS counter, destructured exhaustively.
pub fn dns_counters(d: &DnsStats) -> Vec<u64> {
    let DnsStats {
        tx,
        retransmits,
        rx,
        cache_hits,
        drop_malformed,
        drop_mismatch,
        nxdomain,
        servfail,
        timeouts,
    } = *d;
    vec![
        tx,
        retransmits,
        rx,
        cache_hits,
        drop_malformed,
        drop_mismatch,
        nxdomain,
        servfail,
        timeouts,
    ]
}
