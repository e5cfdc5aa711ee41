//! ICMP errors about our TCP segments (RFC 1122 §4.2.3.9, RFC 5927).

mod tcp_common;
use tcp_common::*;
use wolfip_core::wire::{DstUnreachable, SeqNumber};
use wolfip_core::{Duration, TcpError, TcpRecvError, TcpState};

/// RFC 1122 §4.2.3.9: port unreachable while our SYN is out is a hard
/// error: the attempt fails at once with "refused" (ECONNREFUSED on
/// Linux), instead of after every SYN retransmission.
#[test]
fn port_unreachable_refuses_a_connect() {
    let mut h = Harness::new(1);
    let (c, syn) = h.connect();
    let icmp = icmp_unreachable(&syn, DstUnreachable::PortUnreachable, 0);
    h.stack.receive(h.now, h.iface, &icmp);
    h.run();
    let mut buf = [0u8; 4];
    assert_eq!(
        h.stack.tcp_recv(c, &mut buf),
        Err(TcpRecvError::Failed(TcpError::Refused))
    );
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
    h.advance(Duration::from_secs(5));
    h.expect_silence();
}

/// RFC 1122 §4.2.3.9: host unreachable is a soft error: the SYN is
/// retransmitted as usual.
#[test]
fn host_unreachable_is_soft() {
    let mut h = Harness::new(1);
    let (c, syn) = h.connect();
    let icmp = icmp_unreachable(&syn, DstUnreachable::HostUnreachable, 0);
    h.stack.receive(h.now, h.iface, &icmp);
    h.run();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
    h.advance(Duration::from_millis(1000));
    assert!(h.take_one().is_syn(), "the SYN is retransmitted");
}

/// RFC 5927 §4.1: an ICMP error quoting a sequence number we never sent is
/// ignored (a blind attacker cannot abort a connection attempt).
#[test]
fn error_with_a_foreign_sequence_number_is_ignored() {
    let mut h = Harness::new(1);
    let (c, mut syn) = h.connect();
    syn.seq = SeqNumber(syn.seq.0.wrapping_add(100_000));
    let icmp = icmp_unreachable(&syn, DstUnreachable::PortUnreachable, 0);
    h.stack.receive(h.now, h.iface, &icmp);
    h.run();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
}

/// RFC 1122 §4.2.3.9: on an established connection, port unreachable is
/// not fatal (it may come from a stale path).
#[test]
fn port_unreachable_on_an_open_connection_is_soft() {
    let mut h = Harness::new(1);
    let (c, iss) = h.accept_linux(7000);
    h.stack.tcp_send(c, b"hello").unwrap();
    h.run();
    let data = h.take_one();
    assert_eq!(data.seq.0, iss.wrapping_add(1));
    let icmp = icmp_unreachable(&data, DstUnreachable::PortUnreachable, 0);
    h.stack.receive(h.now, h.iface, &icmp);
    h.run();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
}

/// RFC 5927 §4.1 for "fragmentation needed" too: the quote must be of a
/// segment in flight (SND.UNA <= seq < SND.NXT), or anyone who guesses the
/// four-tuple could shrink the path MTU (to 68 bytes, for ten minutes).
/// A genuine one, quoting the segment we sent, lowers it.
#[test]
fn frag_needed_counts_only_for_a_segment_in_flight() {
    let mut h = Harness::new(1);
    let (c, syn) = h.connect();
    // Complete the handshake, then send data that stays unacknowledged.
    let mut syn_ack = Seg::to_us(
        wolfip_core::wire::TcpControl::Syn,
        9000,
        Some(syn.seq.0.wrapping_add(1)),
    )
    .with_ports(PEER_PORT, PORT);
    syn_ack.mss = Some(1460);
    h.send(&syn_ack);
    h.take();
    h.stack.tcp_send(c, &[7u8; 1000]).unwrap();
    h.run();
    let data = h.take_one();
    assert_eq!(data.payload.len(), 1000);
    let mut forged = data.clone();
    forged.seq = SeqNumber(data.seq.0.wrapping_add(500_000));
    h.stack.receive(
        h.now,
        h.iface,
        &icmp_unreachable(&forged, DstUnreachable::FragRequired, 576),
    );
    h.run();
    assert_eq!(h.stack.path_mtu(PEER, h.now), None, "forged quote ignored");
    h.stack.receive(
        h.now,
        h.iface,
        &icmp_unreachable(&data, DstUnreachable::FragRequired, 576),
    );
    h.run();
    assert_eq!(h.stack.path_mtu(PEER, h.now), Some(576), "genuine quote");
}

/// A genuine report of a 68-byte path MTU (or a forged one from someone on
/// the path) does not shrink segments to a few bytes (CVE-2019-11479): the
/// path MTU stops at `PMTU_MIN` (552, Linux's `min_pmtu`) and the segments
/// to that peer go without Don't Fragment, for routers to cut down.
#[test]
fn frag_needed_below_the_floor_clamps_and_clears_dont_fragment() {
    let mut h = Harness::new(2);
    let (c, _iss) = h.accept_linux(7000);
    h.stack.tcp_send(c, &[1u8; 4000]).unwrap();
    h.run();
    let first = h.take();
    assert!(!first.is_empty());
    h.stack.receive(
        h.now,
        h.iface,
        &icmp_unreachable(&first[0], DstUnreachable::FragRequired, 68),
    );
    h.run();
    let floor = wolfip_core::config::PMTU_MIN;
    assert_eq!(h.stack.path_mtu(PEER, h.now), Some(floor));
    // The retransmission and new data: no segment beyond the floor, none
    // tiny, none with Don't Fragment.
    h.stack.tcp_send(c, &[2u8; 4000]).unwrap();
    let mut frames = Vec::new();
    for _ in 0..4 {
        h.advance(Duration::from_millis(500));
        frames.extend(h.take());
    }
    assert!(!frames.is_empty());
    for s in &frames {
        let ip_len = build_frame(s, US, PEER).len() - 14;
        assert!(ip_len <= floor, "{ip_len} > {floor}");
        assert!(!s.dont_frag, "Don't Fragment still set");
        if !s.payload.is_empty() {
            assert!(s.payload.len() >= 400, "tiny segment: {}", s.payload.len());
        }
    }
}
