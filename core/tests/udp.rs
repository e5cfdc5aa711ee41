//! UDP sockets (RFC 768, RFC 1122 §4.1, RFC 6056, RFC 6335) driven through
//! `Stack` with hand-built frames.

mod common;

use common::*;
use wolfip_core::config::{IP_TTL, UDP_RX_DATAGRAMS, UDP_SOCKETS, UDP_TX_BUFFER, UDP_TX_DATAGRAMS};
use wolfip_core::rand::FixedSeed;
use wolfip_core::udp::EPHEMERAL_FIRST;
use wolfip_core::wire::IpProtocol;
use wolfip_core::{Ipv4Addr, Stack, UdpBindError, UdpOpenError, UdpRecvError, UdpSendError};

const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

/// RFC 768 ports with the bind rules of the sockets API: one socket per
/// address and port (the wildcard conflicts with every address), local
/// addresses only, one bind per socket, stale handles refused.
#[test]
fn bind_rules() {
    let (mut s, _) = stack(1);
    let a = s.udp_open().unwrap();
    assert_eq!(s.udp_bind(a, sock(OUR_IP, 5000)), Ok(sock(OUR_IP, 5000)));
    assert_eq!(
        s.udp_bind(a, sock(OUR_IP, 5001)),
        Err(UdpBindError::AlreadyBound)
    );
    let b = s.udp_open().unwrap();
    assert_eq!(
        s.udp_bind(b, sock(OUR_IP, 5000)),
        Err(UdpBindError::AddrInUse)
    );
    assert_eq!(s.udp_bind(b, sock(ANY, 5000)), Err(UdpBindError::AddrInUse));
    assert_eq!(
        s.udp_bind(b, sock(Ipv4Addr::new(203, 0, 113, 1), 5002)),
        Err(UdpBindError::AddrNotAvailable)
    );
    assert_eq!(
        s.udp_bind(b, sock(Ipv4Addr::LOCALHOST, 5000)),
        Ok(sock(Ipv4Addr::LOCALHOST, 5000)),
        "another address, same port"
    );
    // Closing frees the port; the old handle is stale.
    s.udp_close(a);
    assert_eq!(
        s.udp_bind(a, sock(OUR_IP, 5003)),
        Err(UdpBindError::BadHandle)
    );
    let c = s.udp_open().unwrap();
    assert_eq!(s.udp_bind(c, sock(OUR_IP, 5000)), Ok(sock(OUR_IP, 5000)));
    assert_ne!(a, c, "a reused slot gets a new generation");
    // The socket table is bounded.
    let mut open = 2;
    while open < UDP_SOCKETS {
        s.udp_open().unwrap();
        open += 1;
    }
    assert_eq!(s.udp_open(), Err(UdpOpenError::NoSocketsLeft));
}

/// RFC 6335 §6 (dynamic ports 49152-65535) and RFC 6056 §3.3.1 (a random
/// starting point): ephemeral ports stay in range, never collide, and two
/// stacks keyed differently start at different ports.
#[test]
fn ephemeral_ports_are_in_range_distinct_and_randomised() {
    let (mut s, _) = stack(2);
    let mut ports = Vec::new();
    for _ in 0..UDP_SOCKETS {
        let h = s.udp_open().unwrap();
        let p = s.udp_bind(h, sock(ANY, 0)).unwrap().port();
        assert!(p >= EPHEMERAL_FIRST, "{p} below the dynamic range");
        ports.push(p);
    }
    let mut dedup = ports.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(dedup.len(), ports.len(), "distinct: {ports:?}");

    let first_port = |seed| {
        let mut s = Box::new(Stack::new(&mut FixedSeed(seed)));
        let h = s.udp_open().unwrap();
        s.udp_bind(h, sock(ANY, 0)).unwrap().port()
    };
    let firsts: Vec<u16> = (1..=4).map(first_port).collect();
    assert_eq!(first_port(1), firsts[0], "deterministic for a seed");
    assert!(
        firsts.windows(2).all(|w| w[0] != w[1]),
        "different seeds, different first ports: {firsts:?}"
    );
    // An unbound socket gets one implicitly on its first send.
    let (mut s, _) = stack_with_peer(3);
    let h = s.udp_open().unwrap();
    s.udp_send_to(h, b"x", Some(sock(PEER_IP, 9)), T0).unwrap();
    assert!(s.udp_local_addr(h).unwrap().port() >= EPHEMERAL_FIRST);
}

/// RFC 768: the datagram on the wire has our ports, the length field and a
/// checksum over the pseudo-header; RFC 1122 §3.2.1.7 TTL, and the
/// per-socket TTL.
#[test]
fn send_to_emits_a_valid_datagram() {
    let (mut s, id) = stack_with_peer(4);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(ANY, 5353)).unwrap();
    let data = pattern(4, 333); // odd length: checksum padding
    assert_eq!(
        s.udp_send_to(h, &data, Some(sock(PEER_IP, 53)), T0),
        Ok(333)
    );
    assert!(s.poll_at(T0).is_some_and(|t| t <= T0), "has work now");
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 1);
    let f = parse_ip(&out[0]);
    assert_eq!((f.eth.src_addr, f.eth.dst_addr), (OUR_MAC, PEER_MAC));
    assert_eq!((f.ip.src_addr, f.ip.dst_addr), (OUR_IP, PEER_IP));
    assert_eq!(f.ip.protocol, IpProtocol::Udp);
    assert_eq!(usize::from(f.ip.ttl), IP_TTL);
    assert!(!f.ip.more_frags && f.ip.frag_offset == 0);
    let (udp, got) = parse_udp(&f);
    assert_eq!((udp.src_port, udp.dst_port), (5353, 53));
    assert_eq!(got, data);
    assert_eq!(s.stats().udp.tx, 1);

    s.udp_set_ttl(h, 3).unwrap();
    s.udp_send_to(h, b"t", Some(sock(PEER_IP, 53)), T0).unwrap();
    let out = run(&mut s, T0, id);
    assert_eq!(parse_ip(&out[0]).ip.ttl, 3);
    assert!(s.poll_at(T0).is_none_or(|t| t > T0), "idle");
}

/// RFC 768 (and RFC 1122 §4.1.3.4: the checksum is verified; an all-zero
/// field means none was sent): data and source come back from recv_from;
/// a bad checksum is dropped.
#[test]
fn recv_from_returns_data_and_source() {
    let (mut s, id) = stack_with_peer(5);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(ANY, 7)).unwrap();
    assert!(input(&mut s, T0, id, &udp_frame(1111, 7, b"hello")).is_empty());
    let mut buf = [0u8; 64];
    let (n, meta) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(meta.from, sock(PEER_IP, 1111));
    assert_eq!(meta.to, OUR_IP);
    assert_eq!(meta.len, 5);
    assert_eq!(s.udp_recv_from(h, &mut buf), Err(UdpRecvError::WouldBlock));

    let mut bad = udp_frame(1111, 7, b"hello");
    let last = bad.len() - 1;
    bad[last] ^= 0x20;
    input(&mut s, T0, id, &bad);
    assert_eq!(s.stats().udp.drop_checksum, 1);
    assert_eq!(s.udp_recv_from(h, &mut buf), Err(UdpRecvError::WouldBlock));

    let mut nosum = udp_frame(1111, 7, b"no checksum");
    nosum[14 + 20 + 6] = 0;
    nosum[14 + 20 + 7] = 0;
    input(&mut s, T0, id, &nosum);
    let (n, _) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"no checksum");
}

/// RFC 1122 §4.1.4 / the sockets API's connect(): a connected socket sends
/// to its peer by default and receives only from it; datagrams from any
/// other address or port are not delivered to it.
#[test]
fn connected_socket_filters_other_peers() {
    let (mut s, id) = stack_with_peer(6);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(ANY, 4444)).unwrap();
    s.udp_connect(h, Some(sock(PEER_IP, 53)), T0).unwrap();
    assert_eq!(s.udp_peer_addr(h), Some(sock(PEER_IP, 53)));
    input(&mut s, T0, id, &udp_frame(54, 4444, b"wrong port"));
    let udp = udp_packet(OTHER_IP, OUR_IP, 53, 4444, b"wrong host");
    let f = eth_frame(
        OUR_MAC,
        OTHER_MAC,
        wolfip_core::wire::EtherType::Ipv4,
        &ip_packet(&ip_repr(OTHER_IP, OUR_IP, IpProtocol::Udp, udp.len()), &udp),
    );
    s.receive(T0, id, &f);
    input(&mut s, T0, id, &udp_frame(53, 4444, b"right"));
    let mut buf = [0u8; 16];
    let (n, meta) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!((&buf[..n], meta.from), (&b"right"[..], sock(PEER_IP, 53)));
    assert_eq!(s.udp_recv_from(h, &mut buf), Err(UdpRecvError::WouldBlock));
    assert_eq!(s.stats().udp.drop_no_socket, 2);

    // send without an address goes to the peer; connect(None) dissolves.
    s.udp_send_to(h, b"q", None, T0).unwrap();
    let out = run(&mut s, T0, id);
    let f = parse_ip(out.last().unwrap());
    assert_eq!(parse_udp(&f).0.dst_port, 53);
    s.udp_connect(h, None, T0).unwrap();
    assert_eq!(
        s.udp_send_to(h, b"q", None, T0),
        Err(UdpSendError::DestinationRequired)
    );
}

/// RFC 791 §3.2 / RFC 1122 §3.3.5 (the IP layer fragments what exceeds
/// the MTU): a 3000-byte datagram leaves as fragments of at most 1500
/// bytes that reassemble to a valid UDP datagram.
#[test]
fn datagram_larger_than_mtu_is_fragmented() {
    let (mut s, id) = stack_with_peer(7);
    let h = s.udp_open().unwrap();
    let data = pattern(7, 3000);
    s.udp_send_to(h, &data, Some(sock(PEER_IP, 9000)), T0)
        .unwrap();
    let out = run(&mut s, T0, id);
    let frags: Vec<IpFrame> = out.iter().map(|f| parse_ip(f)).collect();
    assert_eq!(frags.len(), 3);
    for f in &frags {
        assert!(f.header.len() + f.payload.len() <= 1500);
        assert_eq!(f.eth.dst_addr, PEER_MAC);
    }
    let (ip, whole) = reassemble(&frags);
    let (udp, got) = parse_udp_payload(ip.src_addr, ip.dst_addr, &whole);
    assert_eq!(udp.dst_port, 9000);
    assert_eq!(got, data);
    let st = s.stats();
    assert_eq!((st.ip.fragmented, st.ip.frags_tx, st.udp.tx), (1, 3, 1));
}

/// The send queue is bounded (`UDP_TX_DATAGRAMS`, `UDP_TX_BUFFER`): a full
/// queue answers WouldBlock until the stack has run; a datagram larger than
/// the buffer is TooBig; bad destinations are refused.
#[test]
fn send_queue_limits() {
    let (mut s, id) = stack_with_peer(8);
    let h = s.udp_open().unwrap();
    let to = Some(sock(PEER_IP, 9));
    for i in 0..UDP_TX_DATAGRAMS {
        s.udp_send_to(h, &[i as u8], to, T0).unwrap();
    }
    assert!(!s.udp_can_send(h, 1));
    assert_eq!(
        s.udp_send_to(h, b"x", to, T0),
        Err(UdpSendError::WouldBlock)
    );
    assert_eq!(run(&mut s, T0, id).len(), UDP_TX_DATAGRAMS);
    assert!(s.udp_can_send(h, 1));
    s.udp_send_to(h, b"x", to, T0).unwrap();
    run(&mut s, T0, id);

    assert_eq!(
        s.udp_send_to(h, &vec![0; UDP_TX_BUFFER + 1], to, T0),
        Err(UdpSendError::TooBig)
    );
    assert_eq!(
        s.udp_send_to(h, &vec![0; UDP_TX_BUFFER], to, T0),
        Ok(UDP_TX_BUFFER)
    );
    assert_eq!(
        s.udp_send_to(h, b"x", Some(sock(PEER_IP, 0)), T0),
        Err(UdpSendError::BadAddress)
    );
    assert_eq!(
        s.udp_send_to(h, b"x", Some(sock(Ipv4Addr::new(224, 0, 0, 9), 9)), T0),
        Err(UdpSendError::BadAddress)
    );
}

/// recvfrom() semantics: a datagram longer than the caller's buffer is
/// truncated, the rest discarded, and `UdpMeta::len` reports its full
/// length; the receive queue is bounded and overflow is counted.
#[test]
fn short_buffer_truncates_and_queue_overflow_is_counted() {
    let (mut s, id) = stack_with_peer(9);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(OUR_IP, 7)).unwrap();
    let data = pattern(9, 200);
    input(&mut s, T0, id, &udp_frame(1, 7, &data));
    input(&mut s, T0, id, &udp_frame(1, 7, b"next"));
    let mut small = [0u8; 10];
    let (n, meta) = s.udp_recv_from(h, &mut small).unwrap();
    assert_eq!((n, meta.len), (10, 200));
    assert_eq!(&small[..], &data[..10]);
    let (n, meta) = s.udp_recv_from(h, &mut small).unwrap();
    assert_eq!((&small[..n], meta.len), (&b"next"[..], 4), "rest discarded");

    for i in 0..=UDP_RX_DATAGRAMS {
        input(&mut s, T0, id, &udp_frame(1, 7, &[i as u8]));
    }
    assert_eq!(s.stats().udp.drop_queue_full, 1);
    for i in 0..UDP_RX_DATAGRAMS {
        let (_, _) = s.udp_recv_from(h, &mut small).unwrap();
        assert_eq!(small[0], i as u8, "oldest first, newest dropped");
    }
}

/// RFC 1122 §3.2.1.3(g) (127/8 never leaves the host) and §3.3.4.2 (a
/// datagram to one of our own addresses is delivered locally): datagrams to
/// 127.0.0.1 and to our interface address reach another socket of the stack
/// and no frame leaves the Ethernet device, even a 3000-byte one that is
/// fragmented and reassembled on the loopback interface.
#[test]
fn loopback_delivery_never_touches_the_wire() {
    let (mut s, id) = stack(10);
    let a = s.udp_open().unwrap();
    s.udp_bind(a, sock(ANY, 7000)).unwrap();
    let b = s.udp_open().unwrap();
    s.udp_bind(b, sock(ANY, 7001)).unwrap();
    let eth_tx = s.stats().eth.tx;
    let big = pattern(10, 3000);
    let cases: [(Ipv4Addr, &[u8]); 3] = [
        (Ipv4Addr::LOCALHOST, b"to localhost"),
        (OUR_IP, b"to our address"),
        (OUR_IP, &big),
    ];
    let mut dev = Capture::new();
    for (dst, data) in cases {
        s.udp_send_to(a, data, Some(sock(dst, 7001)), T0).unwrap();
        let mut now = T0;
        for _ in 0..4 {
            s.poll(now, id, &mut dev);
            now += ms(1);
        }
        let mut buf = vec![0u8; 4000];
        let (n, meta) = s.udp_recv_from(b, &mut buf).unwrap();
        assert_eq!(&buf[..n], data);
        assert_eq!(meta.from, sock(dst, 7000), "source is the address used");
        assert_eq!(meta.to, dst);
    }
    assert!(dev.tx.is_empty(), "{} frames left the device", dev.tx.len());
    assert_eq!(s.stats().eth.tx, eth_tx);
    assert_eq!(s.stats().udp.rx, 3);
}

/// Loopback works without any Ethernet interface (RFC 1122 §3.2.1.3(g)).
#[test]
fn loopback_without_ethernet() {
    let mut s = Box::new(Stack::new(&mut FixedSeed(11)));
    let a = s.udp_open().unwrap();
    let b = s.udp_open().unwrap();
    let to = s.udp_bind(b, sock(Ipv4Addr::LOCALHOST, 0)).unwrap();
    s.udp_send_to(a, b"ping", Some(to), T0).unwrap();
    s.dispatch(T0);
    let mut buf = [0u8; 8];
    let (n, meta) = s.udp_recv_from(b, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(*meta.from.ip(), Ipv4Addr::LOCALHOST);
    // The reply goes back the same way.
    s.udp_send_to(b, b"pong", Some(meta.from), T0).unwrap();
    s.dispatch(T0);
    let (n, _) = s.udp_recv_from(a, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"pong");
}

/// RFC 1122 §4.1.3.3 over loopback: a connected socket sending to a closed
/// local port learns it through the ICMP port unreachable that the stack
/// sends to itself; nothing leaves the Ethernet device.
#[test]
fn loopback_port_unreachable_reaches_connected_socket() {
    let (mut s, id) = stack(12);
    let h = s.udp_open().unwrap();
    s.udp_connect(h, Some(sock(Ipv4Addr::LOCALHOST, 9)), T0)
        .unwrap();
    s.udp_send_to(h, b"anyone?", None, T0).unwrap();
    assert!(run(&mut s, T0, id).is_empty());
    let mut buf = [0u8; 8];
    assert_eq!(
        s.udp_recv_from(h, &mut buf),
        Err(UdpRecvError::Unreachable(
            wolfip_core::wire::DstUnreachable::PortUnreachable
        ))
    );
    assert_eq!(s.udp_recv_from(h, &mut buf), Err(UdpRecvError::WouldBlock));
    assert_eq!(s.stats().icmp.unreachables_tx, 1);
}

/// RFC 1122 §3.3.6 and RFC 919/922: datagrams to the limited broadcast or
/// to the subnet's directed broadcast go to the link broadcast address
/// without any ARP.
#[test]
fn broadcasts_are_sent_to_the_link_broadcast_address() {
    let (mut s, id) = stack(13);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(ANY, 68)).unwrap();
    for dst in [Ipv4Addr::BROADCAST, SUBNET_BCAST] {
        s.udp_send_to(h, b"hello all", Some(sock(dst, 67)), T0)
            .unwrap();
        let out = run(&mut s, T0, id);
        assert_eq!(out.len(), 1, "no ARP for {dst}");
        let f = parse_ip(&out[0]);
        assert_eq!(
            f.eth.dst_addr,
            wolfip_core::wire::EthernetAddress::BROADCAST
        );
        assert_eq!((f.ip.src_addr, f.ip.dst_addr), (OUR_IP, dst));
        assert_eq!(parse_udp(&f).1, b"hello all");
    }
}

/// RFC 1122 §3.2.1.3(g): 127/8 "MUST NOT appear outside a host". A socket
/// bound to 127.0.0.1 cannot send to another host: the send is refused and
/// no frame with a loopback source reaches the wire.
#[test]
fn loopback_bound_socket_cannot_reach_the_wire() {
    let (mut s, id) = stack_with_peer(14);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(Ipv4Addr::LOCALHOST, 5000)).unwrap();
    assert_eq!(
        s.udp_send_to(h, b"leak", Some(sock(PEER_IP, 9)), T0),
        Err(UdpSendError::NoRoute)
    );
    assert_eq!(
        s.udp_connect(h, Some(sock(PEER_IP, 9)), T0),
        Err(wolfip_core::UdpConnectError::NoRoute)
    );
    assert!(run(&mut s, T0, id).is_empty());
    // Local destinations still work from it.
    let b = s.udp_open().unwrap();
    let to = s.udp_bind(b, sock(OUR_IP, 0)).unwrap();
    s.udp_send_to(h, b"local", Some(to), T0).unwrap();
    assert!(run(&mut s, T0, id).is_empty());
    let mut buf = [0u8; 8];
    let (n, meta) = s.udp_recv_from(b, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"local");
    assert_eq!(meta.from, sock(Ipv4Addr::LOCALHOST, 5000));
}

/// Linux `bind` with `SO_REUSEADDR` (`udp_lib_lport_inuse`): a port held
/// on an overlapping address is EADDRINUSE unless both sockets set the
/// option; then both hold it. A unicast datagram goes to one of them; a
/// broadcast to every one (`__udp4_lib_mcast_deliver`).
#[test]
fn reuse_addr_shares_a_port_only_when_both_set_it() {
    let (mut s, id) = stack_with_peer(15);
    let a = s.udp_open().unwrap();
    s.udp_bind(a, sock(ANY, 6000)).unwrap();
    let b = s.udp_open().unwrap();
    assert_eq!(s.udp_bind(b, sock(ANY, 6000)), Err(UdpBindError::AddrInUse));
    s.udp_set_reuse_addr(b, true).unwrap();
    assert!(s.udp_reuse_addr(b));
    assert_eq!(
        s.udp_bind(b, sock(OUR_IP, 6000)),
        Err(UdpBindError::AddrInUse),
        "only the new socket has it"
    );
    s.udp_set_reuse_addr(a, true).unwrap();
    assert_eq!(s.udp_bind(b, sock(ANY, 6000)), Ok(sock(ANY, 6000)));
    // A third socket without the option is still refused.
    let c = s.udp_open().unwrap();
    assert_eq!(s.udp_bind(c, sock(ANY, 6000)), Err(UdpBindError::AddrInUse));

    let mut buf = [0u8; 16];
    input(&mut s, T0, id, &udp_frame(53, 6000, b"unicast"));
    let got: Vec<_> = [a, b]
        .iter()
        .filter_map(|&h| s.udp_recv_from(h, &mut buf).ok())
        .collect();
    assert_eq!(got.len(), 1, "one copy of a unicast datagram");
    let udp = udp_packet(PEER_IP, SUBNET_BCAST, 53, 6000, b"to all");
    input(
        &mut s,
        T0,
        id,
        &ip_frame(PEER_IP, SUBNET_BCAST, IpProtocol::Udp, &udp),
    );
    for h in [a, b] {
        let (n, meta) = s.udp_recv_from(h, &mut buf).unwrap();
        assert_eq!((&buf[..n], meta.to), (&b"to all"[..], SUBNET_BCAST));
    }
}

/// Linux `connect` on a datagram socket accepts port 0 (it returns 0):
/// `send` then goes to port 0 (no socket can hold it, so over loopback
/// the ICMP port unreachable comes back: ECONNREFUSED once), datagrams
/// from the peer's address are received, and `sendto` with port 0 stays
/// EINVAL.
#[test]
fn connect_to_port_zero_is_allowed() {
    let (mut s, id) = stack(16);
    let h = s.udp_open().unwrap();
    s.udp_connect(h, Some(sock(Ipv4Addr::LOCALHOST, 0)), T0)
        .unwrap();
    assert_eq!(s.udp_peer_addr(h), Some(sock(Ipv4Addr::LOCALHOST, 0)));
    s.udp_send_to(h, b"port zero", None, T0).unwrap();
    assert!(run(&mut s, T0, id).is_empty());
    let mut buf = [0u8; 16];
    assert_eq!(
        s.udp_recv_from(h, &mut buf),
        Err(UdpRecvError::Unreachable(
            wolfip_core::wire::DstUnreachable::PortUnreachable
        ))
    );
    assert_eq!(
        s.udp_send_to(h, b"x", Some(sock(Ipv4Addr::LOCALHOST, 0)), T0),
        Err(UdpSendError::BadAddress)
    );
    // Port 0 as peer: any source port of its address is received.
    let other = s.udp_open().unwrap();
    let to = s.udp_local_addr(h);
    s.udp_send_to(other, b"hi", to, T0).unwrap();
    assert!(run(&mut s, T0, id).is_empty());
    let (n, _) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"hi");
}

/// Linux `__ip4_datagram_connect` sets the source address of a socket
/// bound to 0.0.0.0 from the route (`getsockname` shows it, and datagrams
/// must be sent to it); `connect(AF_UNSPEC)` (`__udp_disconnect`) puts
/// back what was bound: 0.0.0.0, or the specific address, and releases a
/// port the stack chose.
#[test]
fn connected_socket_takes_the_route_source_address() {
    let (mut s, id) = stack_with_peer(17);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(ANY, 6001)).unwrap();
    s.udp_connect(h, Some(sock(PEER_IP, 53)), T0).unwrap();
    assert_eq!(s.udp_local_addr(h), Some(sock(OUR_IP, 6001)));
    input(&mut s, T0, id, &udp_frame(53, 6001, b"answer"));
    let mut buf = [0u8; 16];
    let (n, meta) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!((&buf[..n], meta.to), (&b"answer"[..], OUR_IP));
    s.udp_send_to(h, b"q", None, T0).unwrap();
    let f = parse_ip(&run(&mut s, T0, id)[0]);
    assert_eq!((f.ip.src_addr, parse_udp(&f).0.src_port), (OUR_IP, 6001));
    s.udp_connect(h, None, T0).unwrap();
    assert_eq!(s.udp_local_addr(h), Some(sock(ANY, 6001)));
    assert_eq!(s.udp_peer_addr(h), None);

    // Bound to a specific address: it stays through connect and after.
    let b = s.udp_open().unwrap();
    s.udp_bind(b, sock(Ipv4Addr::LOCALHOST, 6002)).unwrap();
    s.udp_connect(b, Some(sock(Ipv4Addr::LOCALHOST, 9)), T0)
        .unwrap();
    assert_eq!(s.udp_local_addr(b), Some(sock(Ipv4Addr::LOCALHOST, 6002)));
    s.udp_connect(b, None, T0).unwrap();
    assert_eq!(s.udp_local_addr(b), Some(sock(Ipv4Addr::LOCALHOST, 6002)));

    // Never bound: connect picks the port, dissolving releases it.
    let c = s.udp_open().unwrap();
    s.udp_connect(c, Some(sock(PEER_IP, 53)), T0).unwrap();
    let l = s.udp_local_addr(c).unwrap();
    assert_eq!(*l.ip(), OUR_IP);
    assert!(l.port() >= EPHEMERAL_FIRST);
    s.udp_connect(c, None, T0).unwrap();
    assert_eq!(s.udp_local_addr(c), None);
}

/// A closed socket's slot, opened again, starts as new: no address, no
/// peer, no option, nothing queued either way (the queues are emptied,
/// not rewritten).
#[test]
fn reopened_slot_starts_as_new() {
    let (mut s, _) = stack(9);
    let a = s.udp_open().unwrap();
    s.udp_set_reuse_addr(a, true).unwrap();
    s.udp_set_ttl(a, 3).unwrap();
    s.udp_bind(a, sock(OUR_IP, 5300)).unwrap();
    s.udp_connect(a, Some(sock(Ipv4Addr::new(192, 0, 2, 9), 53)), T0)
        .unwrap();
    s.udp_send_to(a, b"queued", None, T0).unwrap();
    s.udp_close(a);
    let b = s.udp_open().unwrap();
    assert_eq!(b.index(), a.index(), "the same slot");
    assert_eq!(s.udp_local_addr(b), None);
    assert_eq!(s.udp_peer_addr(b), None);
    assert!(!s.udp_reuse_addr(b));
    assert!(!s.udp_can_recv(b));
    assert_eq!(s.udp_pending_error(b), None);
    assert!(s.udp_can_send(b, UDP_TX_BUFFER));
    // The old handle is stale.
    assert_eq!(s.udp_local_addr(a), None);
}
