//! ICMP (RFC 792, RFC 1122 §3.2.2, RFC 1191, RFC 1812 §4.3.2) driven
//! through `Stack` with hand-built frames.

mod common;

use common::*;
use wolfip_core::config::{ICMP_ERRORS_PER_SEC, ICMP_ERROR_BURST, IP_TTL};
use wolfip_core::wire::{DstUnreachable, EtherType, EthernetAddress, IpProtocol};
use wolfip_core::{IfaceId, Instant, Ipv4Addr, Stack, UdpRecvError};

/// Sends a UDP datagram from the peer to our closed port 9999 at `now`;
/// returns what the stack sent back.
fn to_closed_port(s: &mut Stack, id: IfaceId, now: Instant, data: &[u8]) -> Vec<Vec<u8>> {
    input(s, now, id, &udp_frame(40000, 9999, data))
}

/// Parses a destination-unreachable message we sent to the peer:
/// (code, quoted bytes).
fn parse_unreachable(frame: &[u8]) -> (u8, Vec<u8>) {
    let f = parse_ip(frame);
    assert_eq!(f.eth.dst_addr, PEER_MAC);
    assert_eq!((f.ip.src_addr, f.ip.dst_addr), (OUR_IP, PEER_IP));
    assert_eq!(f.ip.protocol, IpProtocol::Icmp);
    let (ty, code, rest, quote) = parse_icmp(&f.payload);
    assert_eq!(ty, 3, "destination unreachable");
    assert_eq!(rest, [0; 4], "unused field is zero");
    (code, quote)
}

/// RFC 792 "Echo or Echo Reply Message" and RFC 1122 §3.2.2.6 ("The IP
/// source address in an ICMP Echo Reply MUST be the same as the
/// specific-destination address ... of the corresponding ICMP Echo Request
/// message"; the data "MUST be returned entirely and unchanged").
#[test]
fn echo_reply_fields_are_exact() {
    let (mut s, id) = stack_with_peer(1);
    let data = pattern(1, 56);
    let out = input(&mut s, T0, id, &ping_frame(0x1234, 0x0007, &data));
    assert_eq!(out.len(), 1);
    let f = parse_ip(&out[0]);
    assert_eq!((f.eth.src_addr, f.eth.dst_addr), (OUR_MAC, PEER_MAC));
    assert_eq!(f.ip.src_addr, OUR_IP, "from the address pinged");
    assert_eq!(f.ip.dst_addr, PEER_IP);
    assert_eq!(f.ip.protocol, IpProtocol::Icmp);
    assert_eq!(usize::from(f.ip.ttl), IP_TTL);
    assert!(!f.ip.more_frags && f.ip.frag_offset == 0);
    let (ty, code, rest, echoed) = parse_icmp(&f.payload);
    assert_eq!((ty, code), (0, 0));
    assert_eq!(rest, [0x12, 0x34, 0x00, 0x07], "ident and sequence");
    assert_eq!(echoed, data);
    let st = s.stats();
    assert_eq!(
        (st.icmp.rx, st.icmp.tx, st.icmp.echo_replies_sent),
        (1, 1, 1)
    );
}

/// RFC 1122 §3.2.2.6: "An ICMP Echo Request destined to an IP broadcast or
/// IP multicast address MAY be silently discarded" (we do, as Linux's
/// icmp_echo_ignore_broadcasts): limited, directed and link broadcasts.
#[test]
fn echo_to_broadcast_is_ignored() {
    let (mut s, id) = stack_with_peer(2);
    let icmp = icmp_echo_request(1, 1, b"smurf");
    for dst in [Ipv4Addr::BROADCAST, SUBNET_BCAST, OUR_IP] {
        let ip = ip_packet(&ip_repr(PEER_IP, dst, IpProtocol::Icmp, icmp.len()), &icmp);
        let f = eth_frame(EthernetAddress::BROADCAST, PEER_MAC, EtherType::Ipv4, &ip);
        assert!(input(&mut s, T0, id, &f).is_empty(), "answered {dst}");
    }
    assert_eq!(s.stats().icmp.echo_replies_sent, 0);
    assert_eq!(s.stats().icmp.rx, 3);
}

/// RFC 1122 §4.1.3.1 (a datagram for a port with no listener SHOULD get a
/// port unreachable), RFC 792 (the error quotes "the internet header plus
/// the first 64 bits of the original datagram's data") and RFC 1812
/// §4.3.2.3 (as much as fits in 576 bytes).
#[test]
fn closed_port_gets_port_unreachable_quoting_the_datagram() {
    let (mut s, id) = stack_with_peer(3);
    let data = pattern(3, 100);
    let sent = udp_frame(40000, 9999, &data);
    let out = input(&mut s, T0, id, &sent);
    assert_eq!(out.len(), 1);
    let (code, quote) = parse_unreachable(&out[0]);
    assert_eq!(code, 3, "port unreachable");
    assert_eq!(
        quote,
        &sent[14..],
        "the whole original datagram, byte for byte"
    );
    assert_eq!(s.stats().udp.drop_no_socket, 1);
    assert_eq!(s.stats().icmp.unreachables_tx, 1);

    // A large datagram is quoted up to a 576-byte error.
    let data = pattern(4, 1400);
    let sent = udp_frame(40000, 9999, &data);
    let out = to_closed_port(&mut s, id, T0, &data);
    let f = parse_ip(&out[0]);
    assert_eq!(f.header.len() + f.payload.len(), 576);
    let (_, quote) = parse_unreachable(&out[0]);
    assert_eq!(quote, &sent[14..14 + 576 - 28]);
}

/// RFC 1812 §4.3.2.8 (and RFC 1122 §3.2.2, which allows limiting): ICMP
/// errors are rate limited by a token bucket: `ICMP_ERROR_BURST` at once,
/// then `ICMP_ERRORS_PER_SEC`.
#[test]
fn icmp_error_rate_limit_holds() {
    let (mut s, id) = stack_with_peer(4);
    let mut sent = 0;
    for _ in 0..ICMP_ERROR_BURST + 5 {
        sent += to_closed_port(&mut s, id, T0, b"x").len();
    }
    assert_eq!(sent, ICMP_ERROR_BURST);
    assert_eq!(s.stats().icmp.rate_limited, 5);

    // One second refills ICMP_ERRORS_PER_SEC tokens (at most the burst).
    let t1 = T0 + ms(1000);
    let mut sent = 0;
    for _ in 0..ICMP_ERRORS_PER_SEC + ICMP_ERROR_BURST + 5 {
        sent += to_closed_port(&mut s, id, t1, b"x").len();
    }
    assert_eq!(sent, ICMP_ERRORS_PER_SEC.min(ICMP_ERROR_BURST));

    // One token's worth of time gives exactly one more.
    let t2 = t1 + ms(1000 / ICMP_ERRORS_PER_SEC as u64);
    let mut sent = 0;
    for _ in 0..5 {
        sent += to_closed_port(&mut s, id, t2, b"x").len();
    }
    assert_eq!(sent, 1);
}

/// RFC 1812 §4.3.2.8: the sustained rate is `ICMP_ERRORS_PER_SEC` whatever
/// the spacing of the offending datagrams (here 1.9 ms, which a bucket
/// refilled in whole milliseconds would count as 1 ms, halving the rate).
#[test]
fn icmp_error_rate_is_sustained_exactly() {
    let (mut s, id) = stack_with_peer(5);
    let mut sent = 0;
    let mut now = T0;
    let end = T0 + ms(10_000);
    while now <= end {
        sent += to_closed_port(&mut s, id, now, b"x").len();
        now += wolfip_core::Duration::from_micros(1900);
    }
    let expected = ICMP_ERROR_BURST + 10 * ICMP_ERRORS_PER_SEC;
    assert!(
        sent + 1 >= expected && sent <= expected + 1,
        "{sent} errors in 10 s, expected about {expected}"
    );
}

/// RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result
/// of receiving ... a datagram destined to an IP broadcast ... address, a
/// datagram sent as a link-layer broadcast".
#[test]
fn no_icmp_error_for_a_broadcast_datagram() {
    let (mut s, id) = stack_with_peer(6);
    for (dst, link) in [
        (Ipv4Addr::BROADCAST, EthernetAddress::BROADCAST),
        (SUBNET_BCAST, EthernetAddress::BROADCAST),
        (SUBNET_BCAST, OUR_MAC),
        (OUR_IP, EthernetAddress::BROADCAST),
    ] {
        let udp = udp_packet(PEER_IP, dst, 40000, 9999, b"anyone?");
        let ip = ip_packet(&ip_repr(PEER_IP, dst, IpProtocol::Udp, udp.len()), &udp);
        let f = eth_frame(link, PEER_MAC, EtherType::Ipv4, &ip);
        assert!(input(&mut s, T0, id, &f).is_empty(), "error for {dst}");
    }
    assert_eq!(s.stats().udp.drop_no_socket, 4);
    assert_eq!(s.stats().icmp.tx, 0);
}

/// RFC 1122 §3.2.2.1 / RFC 792 code 2: a datagram for a transport protocol
/// we do not implement gets a protocol unreachable quoting it.
#[test]
fn unknown_protocol_gets_protocol_unreachable() {
    let (mut s, id) = stack_with_peer(7);
    let payload = pattern(7, 30);
    let sent = ip_frame(PEER_IP, OUR_IP, IpProtocol::Unknown(253), &payload);
    let out = input(&mut s, T0, id, &sent);
    assert_eq!(out.len(), 1);
    let (code, quote) = parse_unreachable(&out[0]);
    assert_eq!(code, 2, "protocol unreachable");
    assert_eq!(quote, &sent[14..]);
    assert_eq!(s.stats().ip.drop_protocol, 1);
}

/// An ICMP message of any type with a valid checksum.
fn icmp_message(ty: u8, code: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(body);
    let sum = wolfip_core::wire::checksum::sum(&m);
    m[2..4].copy_from_slice(&(!sum).to_be_bytes());
    m
}

/// RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result
/// of receiving: an ICMP error message, ... a non-initial fragment". ICMP
/// errors and unsupported ICMP types are never answered; fragments of a
/// datagram to a closed port get no error until it is whole, and then
/// exactly one.
#[test]
fn no_icmp_error_about_icmp_errors_or_fragments() {
    let (mut s, id) = stack_with_peer(8);
    let quote = ip_packet(&ip_repr(OTHER_IP, PEER_IP, IpProtocol::Udp, 8), &[0; 8]);
    for (ty, code) in [(11, 0), (3, 3), (3, 13), (5, 1), (12, 0), (13, 0), (42, 7)] {
        let m = icmp_message(ty, code, &quote);
        let f = ip_frame(PEER_IP, OUR_IP, IpProtocol::Icmp, &m);
        assert!(input(&mut s, T0, id, &f).is_empty(), "answered type {ty}");
    }
    assert_eq!(s.stats().icmp.tx, 0);
    assert_eq!(s.stats().icmp.rx, 7);

    let udp = udp_packet(PEER_IP, OUR_IP, 40000, 9999, &pattern(8, 2000));
    let repr = ip_repr(PEER_IP, OUR_IP, IpProtocol::Udp, udp.len());
    let frags = fragment_frames(&repr, &udp, 1008);
    assert_eq!(frags.len(), 2);
    assert!(input(&mut s, T0, id, &frags[1]).is_empty(), "non-initial");
    let out = input(&mut s, T0, id, &frags[0]);
    assert_eq!(out.len(), 1, "one error for the whole datagram");
    let (code, quote) = parse_unreachable(&out[0]);
    assert_eq!(code, 3);
    let q = wolfip_core::wire::Ipv4Packet::new_unchecked(&quote[..20]);
    assert_eq!(
        usize::from(q.total_len()),
        20 + udp.len(),
        "the whole datagram"
    );
    assert!(!q.more_frags() && q.frag_offset() == 0);
    assert_eq!(&quote[20..], &udp[..576 - 28 - 20]);
}

/// RFC 792 / RFC 1071: an echo request with a bad ICMP checksum is dropped
/// unanswered.
#[test]
fn echo_with_bad_checksum_is_dropped() {
    let (mut s, id) = stack_with_peer(9);
    let mut icmp = icmp_echo_request(1, 1, b"data");
    icmp[9] ^= 0x40;
    assert!(input(
        &mut s,
        T0,
        id,
        &ip_frame(PEER_IP, OUR_IP, IpProtocol::Icmp, &icmp)
    )
    .is_empty());
    assert_eq!(s.stats().icmp.drop_malformed, 1);
}

/// RFC 1191 §3-§4 and RFC 1122 §3.2.2.1: a "fragmentation needed" about a
/// datagram we sent lowers the path MTU to the reported next-hop MTU, and
/// later datagrams to that destination are fragmented to fit it (RFC 791
/// §3.2, offsets in 8-octet units).
#[test]
fn frag_needed_lowers_path_mtu_and_later_sends_fragment() {
    let (mut s, id) = stack_with_peer(10);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(OUR_IP, 5000)).unwrap();
    let data = pattern(10, 1000);
    s.udp_send_to(h, &data, Some(sock(PEER_IP, 6000)), T0)
        .unwrap();
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 1, "1028 bytes fit the link MTU");
    assert_eq!(s.path_mtu(PEER_IP, T0), None);

    // A router on the path says: at most 576.
    let quote = &out[0][14..14 + 20 + 8];
    let icmp = icmp_unreachable(DstUnreachable::FragRequired, 576, quote);
    let t1 = T0 + ms(5);
    assert!(input(
        &mut s,
        t1,
        id,
        &ip_frame(PEER_IP, OUR_IP, IpProtocol::Icmp, &icmp)
    )
    .is_empty());
    assert_eq!(s.path_mtu(PEER_IP, t1), Some(576));
    assert_eq!(s.stats().icmp.pmtu_updates, 1);
    assert_eq!(s.path_mtu(OTHER_IP, t1), None, "per destination");

    s.udp_send_to(h, &data, Some(sock(PEER_IP, 6000)), t1)
        .unwrap();
    let out = run(&mut s, t1, id);
    let frags: Vec<IpFrame> = out.iter().map(|f| parse_ip(f)).collect();
    assert_eq!(frags.len(), 2);
    for f in &frags {
        assert!(f.header.len() + f.payload.len() <= 576);
    }
    assert_eq!(frags[0].payload.len(), (576 - 20) / 8 * 8);
    let (ip, whole) = reassemble(&frags);
    let (udp, got) = parse_udp_payload(ip.src_addr, ip.dst_addr, &whole);
    assert_eq!((udp.src_port, udp.dst_port), (5000, 6000));
    assert_eq!(got, data);
    assert_eq!(s.stats().ip.fragmented, 1);
}

/// RFC 1191 §4 (never raise the estimate; never below `PMTU_MIN`, 552,
/// Linux's `min_pmtu`, rather than RFC 791's 68) and RFC 5927
/// §4.1 (ignore errors that do not quote a datagram of ours).
#[test]
fn frag_needed_is_validated() {
    let (mut s, id) = stack_with_peer(11);
    let send = |s: &mut Stack, src: Ipv4Addr, mtu: u16| {
        let quote = ip_packet(&ip_repr(src, PEER_IP, IpProtocol::Udp, 1472), &[0; 8]);
        let icmp = icmp_unreachable(DstUnreachable::FragRequired, mtu, &quote);
        input(
            s,
            T0,
            id,
            &ip_frame(PEER_IP, OUR_IP, IpProtocol::Icmp, &icmp),
        )
    };
    send(&mut s, OTHER_IP, 600);
    assert_eq!(s.path_mtu(PEER_IP, T0), None, "not about our datagram");
    send(&mut s, OUR_IP, 1600);
    assert_eq!(s.path_mtu(PEER_IP, T0), None, "never above the link MTU");
    send(&mut s, OUR_IP, 20);
    let floor = Some(wolfip_core::config::PMTU_MIN);
    assert_eq!(s.path_mtu(PEER_IP, T0), floor, "floor of PMTU_MIN");
    send(&mut s, OUR_IP, 1000);
    assert_eq!(s.path_mtu(PEER_IP, T0), floor, "never raised");
}

/// RFC 1122 §4.1.3.3: "UDP MUST pass to the application layer all ICMP
/// error messages that it receives from the IP layer" — for a connected
/// socket, once (as Linux reports it through the next receive), then the
/// socket is usable again.
#[test]
fn port_unreachable_reaches_connected_socket_once() {
    let (mut s, id) = stack_with_peer(12);
    let h = s.udp_open().unwrap();
    s.udp_connect(h, Some(sock(PEER_IP, 53)), T0).unwrap();
    let other = s.udp_open().unwrap();
    s.udp_bind(other, sock(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    s.udp_send_to(h, b"query", None, T0).unwrap();
    s.udp_send_to(other, b"query", Some(sock(PEER_IP, 53)), T0)
        .unwrap();
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 2);
    for f in &out {
        let icmp = icmp_unreachable(DstUnreachable::PortUnreachable, 0, &f[14..]);
        input(
            &mut s,
            T0,
            id,
            &ip_frame(PEER_IP, OUR_IP, IpProtocol::Icmp, &icmp),
        );
    }
    assert_eq!(s.stats().icmp.unreachables_rx, 2);
    let mut buf = [0u8; 16];
    assert!(s.udp_can_recv(h));
    assert_eq!(
        s.udp_recv_from(h, &mut buf),
        Err(UdpRecvError::Unreachable(DstUnreachable::PortUnreachable))
    );
    assert_eq!(s.udp_recv_from(h, &mut buf), Err(UdpRecvError::WouldBlock));
    assert_eq!(
        s.udp_recv_from(other, &mut buf),
        Err(UdpRecvError::WouldBlock),
        "an unconnected socket is not told"
    );
    // Still usable: the peer's answer arrives.
    let local = s.udp_local_addr(h).unwrap();
    input(&mut s, T0, id, &udp_frame(53, local.port(), b"answer"));
    let (n, _) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"answer");
}
