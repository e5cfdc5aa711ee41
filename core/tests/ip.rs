//! IPv4 input validation (RFC 791 §3.1, RFC 1122 §3.2.1, RFC 894), driven
//! through `Stack` with hand-built frames.

mod common;

use common::*;
use wolfip_core::wire::{EtherType, IpProtocol, Ipv4Packet};
use wolfip_core::{Ipv4Addr, Stack};

/// An echo request from the peer as a bare IPv4 packet (no Ethernet).
fn ping_packet(src: Ipv4Addr, dst: Ipv4Addr, data: &[u8]) -> Vec<u8> {
    let icmp = icmp_echo_request(1, 1, data);
    ip_packet(&ip_repr(src, dst, IpProtocol::Icmp, icmp.len()), &icmp)
}

fn wrap(ip: &[u8]) -> Vec<u8> {
    eth_frame(OUR_MAC, PEER_MAC, EtherType::Ipv4, ip)
}

fn refill_checksum(ip: &mut [u8]) {
    let mut p = Ipv4Packet::new_unchecked(ip);
    p.fill_checksum();
}

/// Asserts the stack answers a well-formed ping (the control case of each
/// test below), so a drop is not an accident of the setup.
fn assert_answers(s: &mut Stack, id: wolfip_core::IfaceId, frame: &[u8]) -> IpFrame {
    let out = input(s, T0, id, frame);
    assert_eq!(out.len(), 1, "control ping unanswered");
    parse_ip(&out[0])
}

/// RFC 791 §3.1 "Header Checksum" and RFC 1122 §3.2.1.2 ("A host MUST
/// verify the IP header checksum on every received datagram and silently
/// discard every datagram that has a bad checksum").
#[test]
fn bad_header_checksum_is_dropped() {
    let (mut s, id) = stack_with_peer(1);
    let mut ip = ping_packet(PEER_IP, OUR_IP, b"abc");
    assert_answers(&mut s, id, &wrap(&ip));
    ip[10] ^= 0x01;
    assert!(input(&mut s, T0, id, &wrap(&ip)).is_empty());
    assert_eq!(s.stats().ip.drop_checksum, 1);
    assert_eq!(s.stats().icmp.rx, 1, "only the control reached ICMP");
}

/// RFC 791 §3.1: a header shorter than 20 bytes (or than its IHL) cannot
/// be processed; it is dropped as malformed.
#[test]
fn truncated_header_is_dropped() {
    let (mut s, id) = stack_with_peer(2);
    let ip = ping_packet(PEER_IP, OUR_IP, b"abc");
    for len in [0, 1, 19] {
        assert!(input(&mut s, T0, id, &wrap(&ip[..len])).is_empty());
    }
    assert_eq!(s.stats().ip.drop_malformed, 3);
    assert_eq!(s.stats().ip.rx, 3);
}

/// RFC 1122 §3.2.1.1: "A datagram whose version number is not 4 MUST be
/// silently discarded."
#[test]
fn bad_version_is_dropped() {
    let (mut s, id) = stack_with_peer(3);
    for version in [0u8, 5, 6, 15] {
        let mut ip = ping_packet(PEER_IP, OUR_IP, b"abc");
        ip[0] = (version << 4) | 5;
        refill_checksum(&mut ip);
        assert!(input(&mut s, T0, id, &wrap(&ip)).is_empty());
    }
    assert_eq!(s.stats().ip.drop_malformed, 4);
}

/// RFC 791 §3.1 "IHL": the minimum value for a correct header is 5.
#[test]
fn ihl_below_five_is_dropped() {
    let (mut s, id) = stack_with_peer(4);
    let mut ip = ping_packet(PEER_IP, OUR_IP, b"abc");
    ip[0] = 0x44;
    assert!(input(&mut s, T0, id, &wrap(&ip)).is_empty());
    assert_eq!(s.stats().ip.drop_malformed, 1);
}

/// RFC 791 §3.1 "Total Length": a datagram claiming more bytes than the
/// frame carries is truncated and dropped (checksum fixed up, so the length
/// check itself is what drops it); so is a total length below the header.
#[test]
fn total_length_beyond_frame_is_dropped() {
    let (mut s, id) = stack_with_peer(5);
    for total in [40u16 + 1, 1500, 65535, 19] {
        let mut ip = ping_packet(PEER_IP, OUR_IP, &[7; 12]);
        assert_eq!(ip.len(), 40);
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        refill_checksum(&mut ip);
        assert!(input(&mut s, T0, id, &wrap(&ip)).is_empty());
    }
    assert_eq!(s.stats().ip.drop_malformed, 4);
    assert_eq!(s.stats().icmp.rx, 0);
}

/// RFC 791 §3.1 "Options" and RFC 1122 §3.2.1.8 ("The IP layer MUST
/// ... silently ignore any option it does not implement"): a header with
/// IHL 6 is parsed, its options skipped and the datagram still answered
/// (with an option-less reply).
#[test]
fn options_are_skipped_and_datagram_answered() {
    let (mut s, id) = stack_with_peer(6);
    let icmp = icmp_echo_request(0x0102, 9, b"with options");
    let mut ip = vec![0u8; 24 + icmp.len()];
    let repr = ip_repr(PEER_IP, OUR_IP, IpProtocol::Icmp, icmp.len() + 4);
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut ip[..]));
    {
        let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
        p.set_header_len(24);
        // NOP, NOP, an unknown option of length 2 (type 0x5e).
        p.options_mut().copy_from_slice(&[0x01, 0x01, 0x5e, 0x02]);
        p.fill_checksum();
    }
    ip[24..].copy_from_slice(&icmp);
    let reply = assert_answers(&mut s, id, &wrap(&ip));
    assert_eq!(reply.header.len(), 20);
    let (ty, _, rest, data) = parse_icmp(&reply.payload);
    assert_eq!(ty, 0);
    assert_eq!(rest, [1, 2, 0, 9]);
    assert_eq!(data, b"with options");
}

/// RFC 894: short frames are padded to the 60-byte minimum; the padding
/// beyond the IP total length is not part of the datagram (else the ICMP
/// and UDP checksums would fail, or the data would grow).
#[test]
fn ethernet_padding_beyond_total_length_is_ignored() {
    let (mut s, id) = stack_with_peer(7);
    let mut f = ping_frame(5, 6, b"hi");
    assert!(f.len() < 60);
    f.resize(60, 0xa5);
    let reply = assert_answers(&mut s, id, &f);
    let (_, _, _, data) = parse_icmp(&reply.payload);
    assert_eq!(data, b"hi");
    assert_eq!(reply.ip.payload_len, 8 + 2);

    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(OUR_IP, 5353)).unwrap();
    let mut f = udp_frame(1000, 5353, b"x");
    f.resize(60, 0x5a);
    assert!(input(&mut s, T0, id, &f).is_empty());
    let mut buf = [0u8; 64];
    let (n, meta) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"x");
    assert_eq!(meta.len, 1);
    assert_eq!(s.stats().udp.drop_checksum, 0);
}

/// RFC 1122 §3.2.1.3(g)/§3.3.4.2: a host silently discards a datagram not
/// destined for one of its addresses or a broadcast address.
#[test]
fn datagrams_to_other_hosts_are_dropped() {
    let (mut s, id) = stack_with_peer(8);
    for dst in [
        OTHER_IP,
        Ipv4Addr::new(203, 0, 113, 2),
        Ipv4Addr::new(224, 0, 0, 1),
    ] {
        let ip = ping_packet(PEER_IP, dst, b"x");
        assert!(input(&mut s, T0, id, &wrap(&ip)).is_empty());
    }
    assert_eq!(s.stats().ip.drop_not_for_us, 3);
    assert_eq!(s.stats().icmp.rx, 0);
}

/// RFC 1122 §3.2.1.3(g): addresses of the form {127, <any>} "MUST NOT
/// appear outside a host"; from a wire, as destination or as source, they
/// are dropped.
#[test]
fn loopback_addresses_from_the_wire_are_dropped() {
    let (mut s, id) = stack_with_peer(9);
    let lo = Ipv4Addr::new(127, 0, 0, 1);
    let to_lo = ping_packet(PEER_IP, lo, b"x");
    let from_lo = ping_packet(Ipv4Addr::new(127, 1, 2, 3), OUR_IP, b"x");
    assert!(input(&mut s, T0, id, &wrap(&to_lo)).is_empty());
    assert!(input(&mut s, T0, id, &wrap(&from_lo)).is_empty());
    assert_eq!(s.stats().ip.drop_not_for_us, 2);
    assert_eq!(s.stats().icmp.rx, 0);
}

/// RFC 1122 §3.2.1.3: broadcast ({-1,-1} and {<net>,-1}), multicast and
/// class E addresses are never valid sources; "a host MUST silently discard
/// an incoming datagram containing an IP source address that is invalid".
/// (Answering one would reflect traffic to a whole subnet.)
#[test]
fn martian_sources_are_dropped() {
    let (mut s, id) = stack_with_peer(10);
    let martians = [
        Ipv4Addr::BROADCAST,
        SUBNET_BCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::new(239, 1, 2, 3),
        Ipv4Addr::new(240, 0, 0, 1),
    ];
    for src in martians {
        let ip = ping_packet(src, OUR_IP, b"x");
        assert!(
            input(&mut s, T0, id, &wrap(&ip)).is_empty(),
            "answered a datagram from {src}"
        );
        let udp = udp_packet(src, OUR_IP, 1, 9, b"closed port");
        let ip = ip_packet(&ip_repr(src, OUR_IP, IpProtocol::Udp, udp.len()), &udp);
        assert!(input(&mut s, T0, id, &wrap(&ip)).is_empty());
    }
    assert_eq!(s.stats().ip.drop_not_for_us, 2 * martians.len() as u64);
    assert_eq!(s.stats().icmp.tx, 0);
}

/// RFC 894 + RFC 826: frames of other EtherTypes (IPv6, VLAN) and runts
/// shorter than an Ethernet header are counted and dropped.
#[test]
fn other_ethertypes_and_runts_are_dropped() {
    let (mut s, id) = stack_with_peer(11);
    let ip = ping_packet(PEER_IP, OUR_IP, b"x");
    for ty in [0x86dd, 0x8100, 0x0042] {
        let f = eth_frame(OUR_MAC, PEER_MAC, EtherType::Unknown(ty), &ip);
        assert!(input(&mut s, T0, id, &f).is_empty());
    }
    assert!(input(&mut s, T0, id, &wrap(&ip)[..13]).is_empty());
    let st = s.stats();
    assert_eq!((st.eth.drop_ethertype, st.eth.drop_truncated), (3, 1));
    assert_eq!(st.ip.rx, 0);
}

/// RFC 1122 §3.2.1.3: the limited broadcast and the subnet's directed
/// broadcast are ours to receive (a UDP socket bound to the wildcard gets
/// them), while a unicast IP datagram inside a link broadcast frame is
/// still treated as a broadcast (no ICMP error for it, §3.2.2).
#[test]
fn broadcast_destinations_are_accepted() {
    let (mut s, id) = stack_with_peer(12);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(Ipv4Addr::UNSPECIFIED, 67)).unwrap();
    for dst in [Ipv4Addr::BROADCAST, SUBNET_BCAST] {
        let udp = udp_packet(PEER_IP, dst, 68, 67, b"bcast");
        let ip = ip_packet(&ip_repr(PEER_IP, dst, IpProtocol::Udp, udp.len()), &udp);
        let f = eth_frame(
            wolfip_core::wire::EthernetAddress::BROADCAST,
            PEER_MAC,
            EtherType::Ipv4,
            &ip,
        );
        assert!(input(&mut s, T0, id, &f).is_empty());
        let mut buf = [0u8; 16];
        let (n, meta) = s.udp_recv_from(h, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"bcast");
        assert_eq!(meta.to, dst);
    }
    assert_eq!(s.stats().udp.rx, 2);
}
