//! Findings of the review of the SYN-cookie, rate-limit, ARP-table, PMTU
//! and martian changes: each test shows one bug (and passes with its fix).

mod common;
mod tcp_common;
use tcp_common::*;

use wolfip_core::wire::{SeqNumber, TcpControl};
use wolfip_core::TcpState;

const ISS: u32 = 9000;

/// A SYN from the peer's `port`; returns the SYN-ACK.
fn syn(h: &mut Harness, port: u16, peer_iss: u32, opts: SynOpts) -> Seg {
    syn_from_port(h, port, peer_iss, opts)
}

/// The ACK completing the handshake `sa` began (window 65535).
fn ack_of(sa: &Seg, peer_iss: u32) -> Seg {
    handshake_ack(sa, peer_iss, 65535)
}

/// The listen backlog bounds the accept queue (listen.rs: "a listener
/// holds at most `backlog` requests and unaccepted connections together,
/// as Linux counts its backlog"; Linux's tcp_v4_syn_recv_sock refuses any
/// completing handshake, queued or cookie, once sk_acceptq_is_full). With
/// the backlog filled by requests, SYN cookies let `backlog` more
/// handshakes complete; the queued requests' ACKs then completed too, with
/// no check, and the accept queue grew to twice the backlog.
#[test]
fn queued_request_completion_overflows_accept_queue_after_cookies() {
    let mut h = Harness::new(11);
    let l = h.listen(2);
    let a = syn(&mut h, 41001, ISS, SynOpts::PLAIN);
    let b = syn(&mut h, 41002, ISS, SynOpts::PLAIN);
    // The backlog is full of requests: cookies.
    let c = syn(&mut h, 41003, ISS, SynOpts::PLAIN);
    let d = syn(&mut h, 41004, ISS, SynOpts::PLAIN);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 2);
    h.send(&ack_of(&c, ISS));
    h.send(&ack_of(&d, ISS));
    assert_eq!(h.stack.stats().tcp.syn_cookies_accepted, 2);
    // The accept queue is full (2 == backlog): the requests' ACKs must
    // wait (the peers retry), not add to it.
    h.send(&ack_of(&a, ISS));
    h.send(&ack_of(&b, ISS));
    assert_eq!(
        h.stack.occupancy().tcp_accept_queue,
        2,
        "accept queue beyond the backlog of 2"
    );
    // Once the application accepts, a retried ACK gets in.
    let _ = h.stack.tcp_accept(l).unwrap();
    h.send(&ack_of(&a, ISS));
    assert_eq!(h.stack.occupancy().tcp_accept_queue, 2);
}

/// RFC 4987 §3.6 / listen.rs: "data and FIN in `seg` are processed as
/// usual" for the ACK completing a cookie handshake.
#[test]
fn cookie_ack_with_data_and_fin() {
    let mut h = Harness::new(12);
    let l = h.listen(1);
    syn(&mut h, 41001, ISS, SynOpts::PLAIN);
    let c = syn(&mut h, 41003, ISS, SynOpts::PLAIN);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 1);
    let mut fin = ack_of(&c, ISS).with_payload(b"hi");
    fin.control = TcpControl::Fin;
    h.send(&fin);
    let (s, _) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_state(s), Some(TcpState::CloseWait));
    let out = h.take();
    assert!(
        out.iter()
            .any(|x| x.ack == Some(SeqNumber(add(ISS, 4))) && x.dst_port == 41003),
        "{out:?}"
    );
}

/// On a link whose MTU (300) is below `PMTU_MIN` (552), a genuine report
/// of a smaller path MTU (200) further on was ignored altogether: the
/// floor (552) is not below the link's MTU, so no entry was made and the
/// segments kept Don't Fragment, black-holed by that router for ever. A
/// report below the floor must clear DF however small the link (Linux's
/// __ip_rt_update_pmtu: `mtu = min(old_mtu, min_pmtu)` and the route is
/// locked, so DF is off; RFC 1191 §3: a host must not ignore it).
#[test]
fn frag_needed_below_floor_on_small_link_keeps_dont_fragment() {
    use wolfip_core::wire::DstUnreachable;
    use wolfip_core::Duration;
    let mut h = Harness::with_mtu(13, 300);
    let (c, _iss) = h.accept_linux(7000);
    h.stack.tcp_send(c, &[1u8; 2000]).unwrap();
    h.run();
    let first = h.take();
    assert!(!first.is_empty());
    for s in &first {
        assert!(build_frame(s, US, PEER).len() - 14 <= 300, "link MTU");
    }
    h.stack.receive(
        h.now,
        h.iface,
        &icmp_unreachable(&first[0], DstUnreachable::FragRequired, 200),
    );
    h.run();
    let mut frames = Vec::new();
    for _ in 0..4 {
        h.advance(Duration::from_millis(500));
        frames.extend(h.take());
    }
    assert!(!frames.is_empty());
    for s in &frames {
        assert!(build_frame(s, US, PEER).len() - 14 <= 300, "link MTU");
        assert!(
            !s.dont_frag,
            "Don't Fragment still set towards a 200-byte path"
        );
    }
}

/// The RST limit exists so that we cannot be made an amplifier or
/// reflector towards forged sources (rate_limit.rs); a RST over loopback
/// goes to ourselves and reflects nothing. Yet one shared bucket served
/// both: a flood of stray ACKs from the wire (which any off-path host can
/// send) emptied it, and a local connect to a closed loopback port then
/// got no RST: no ECONNREFUSED (RFC 9293 §3.10.7.1, §3.10.7.3), the
/// connect hung through its SYN retransmissions instead.
#[test]
fn wire_ack_flood_suppresses_loopback_connection_refused() {
    use wolfip_core::{Ipv4Addr, SocketAddrV4, TcpError};
    let mut h = Harness::new(14);
    for i in 0..200u32 {
        let stray = Seg::to_us(TcpControl::None, 1000 + i, Some(5000 + i)).with_ports(50000, 81);
        h.send(&stray);
    }
    assert!(h.stack.stats().tcp.rst_rate_limited > 0);
    h.take();
    let c = h.stack.tcp_open().unwrap();
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9), now)
        .unwrap();
    h.run();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Refused));
}

/// RFC 9293 §3.7.1: a sender's segments never exceed the MSS the peer
/// announced (Eff.snd.MSS is bounded by SendMSS). A SYN cookie carries the
/// peer's MSS rounded *down* to the table (536, 1300, 1440, 1460), so a
/// peer announcing less than 536 (uIP and other small embedded stacks
/// announce a few hundred bytes) is sent 536-byte segments it said it
/// cannot take, whenever it connects while cookies are in use. Linux's
/// msstab has the same floor. Fixed: the cookie now spends three bits on
/// the MSS (one on the period, enough for the two accepted), with entries
/// down to 64.
#[test]
fn cookie_rounds_small_peer_mss_up_to_536() {
    let mut h = Harness::new(15);
    let l = h.listen(1);
    syn(&mut h, 41001, ISS, SynOpts::PLAIN);
    let opts = SynOpts {
        mss: Some(200),
        ..SynOpts::PLAIN
    };
    let c = syn(&mut h, 41003, ISS, opts);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 1);
    h.send(&ack_of(&c, ISS));
    let (s, _) = h.stack.tcp_accept(l).unwrap();
    h.stack.tcp_set_nodelay(s, true).unwrap();
    h.stack.tcp_send(s, &[3u8; 1000]).unwrap();
    h.run();
    for seg in h.take() {
        assert!(
            seg.payload.len() <= 200,
            "{} > the peer's MSS 200",
            seg.payload.len()
        );
    }
}

/// RFC 1122 §2.3.2.2: the link layer "SHOULD save (rather than discard) at
/// least one (the latest) packet of each set of packets destined to the
/// same unresolved IP address". The waiting-frame slots (ARP_PENDING,
/// shared) made room by dropping the oldest waiting frame whatever its
/// address, so datagrams to one unresolved address (here: answers to a
/// spoofed on-link source, which never resolves) pushed out the only
/// frame of a legitimate resolution in progress, while that one address
/// kept all the slots. (Linux's arp_queue is per neighbour.)
#[test]
fn one_unresolved_address_evicts_another_addresses_only_waiting_frame() {
    use common::{
        input, ip_frame, is_arp, parse_ip, run, sock, stack_with_peer, udp_packet, OTHER_IP,
        OTHER_MAC, OUR_IP, T0,
    };
    use wolfip_core::config::ARP_PENDING;
    use wolfip_core::wire::{ArpOperation, IpProtocol};
    let (mut s, id) = stack_with_peer(16);
    let echo = s.udp_open().unwrap();
    s.udp_bind(echo, sock(wolfip_core::Ipv4Addr::UNSPECIFIED, 7))
        .unwrap();
    // A resolution in progress for OTHER_IP, one datagram waiting for it.
    let u = s.udp_open().unwrap();
    s.udp_send_to(u, b"legit", Some(sock(OTHER_IP, 9)), T0)
        .unwrap();
    run(&mut s, T0, id);
    // A spoofed on-link source: every answer to it waits for ARP.
    let spoofed = wolfip_core::Ipv4Addr::new(192, 0, 2, 100);
    let mut now = T0;
    for _ in 0..ARP_PENDING + 2 {
        now += common::ms(1);
        let f = ip_frame(
            spoofed,
            OUR_IP,
            IpProtocol::Udp,
            &udp_packet(spoofed, OUR_IP, 1000, 7, b"flood"),
        );
        input(&mut s, now, id, &f);
        let mut buf = [0u8; 16];
        let (n, meta) = s.udp_recv_from(echo, &mut buf).expect("delivered");
        s.udp_send_to(echo, &buf[..n], Some(meta.from), now)
            .unwrap();
        run(&mut s, now, id);
    }
    // OTHER_IP answers: its datagram must still be there to go.
    let reply = common::arp_frame(
        common::OUR_MAC,
        ArpOperation::Reply,
        OTHER_MAC,
        OTHER_IP,
        common::OUR_MAC,
        OUR_IP,
    );
    let out = input(&mut s, now, id, &reply);
    let sent: Vec<_> = out
        .iter()
        .filter(|f| !is_arp(f))
        .map(|f| parse_ip(f))
        .filter(|f| f.ip.dst_addr == OTHER_IP)
        .collect();
    assert_eq!(
        sent.len(),
        1,
        "OTHER_IP's only waiting datagram was dropped"
    );
}

/// `Stack::poll_at` says when the stack next needs to run. A connection
/// whose last send found no route is `route_blocked`, and then its delayed
/// ACK's deadline is not counted (timers.rs), on the grounds that the
/// retransmission timer will try again. But once the route is back and
/// the peer acknowledges everything, the retransmission timer stops while
/// the flag stays set (only a send clears it): the peer's next data owes
/// a delayed ACK and poll_at no longer says when. A caller that sleeps
/// until poll_at sends it only when something else wakes it (here the
/// keepalive-free connection sleeps for a minute; the peer's RTO comes
/// first and costs it a retransmission).
#[test]
fn delayed_ack_after_route_returns_has_no_deadline() {
    use wolfip_core::Duration;
    let mut h = Harness::new(17);
    let (c, iss) = h.accept_linux(7000);
    h.stack.tcp_send(c, &[1u8; 100]).unwrap();
    h.run();
    let data = h.take_one();
    let tsval = data.timestamp.map(|t| t.0).unwrap_or(0);
    // The route goes away: the retransmission finds none.
    h.stack.set_ipv4(h.iface, None).unwrap();
    h.advance(Duration::from_millis(1500));
    assert!(h.stack.tcp_info(c).unwrap().timeouts >= 1);
    // It comes back; the peer acknowledges our data, then sends one byte.
    h.stack
        .set_ipv4(h.iface, Some("192.0.2.2/24".parse().unwrap()))
        .unwrap();
    h.send(&Seg::to_us(TcpControl::None, add(7000, 1), Some(add(iss, 101))).with_ts(1002, tsval));
    h.send(
        &Seg::to_us(TcpControl::None, add(7000, 1), Some(add(iss, 101)))
            .with_payload(b"x")
            .with_ts(1003, tsval),
    );
    let acked = |segs: &[Seg]| segs.iter().any(|s| s.ack == Some(SeqNumber(add(7000, 2))));
    if acked(&h.take()) {
        return; // the ACK went at once
    }
    let at = h.stack.poll_at(h.now);
    assert!(
        at.is_some_and(|t| t <= h.now + Duration::from_secs(1)),
        "a delayed ACK is owed but poll_at says {at:?} (now {:?})",
        h.now
    );
    // Run when poll_at says: the ACK goes.
    h.advance_to_deadline(Duration::from_secs(1));
    assert!(acked(&h.take()));
}
