//! Passive open and the listen backlog: the SYN-ACK and the half-open
//! connection (SYN queue), handshake completion, the accept queue, backlog
//! limits, closing a listener, and many connections at once.

mod tcp_common;
use tcp_common::*;

use wolfip_core::config::{TCP_RTO_INITIAL_MS, TCP_SOCKETS, TCP_SYN_BACKLOG, TCP_SYN_RETRIES};
use wolfip_core::wire::{SeqNumber, TcpControl};
use wolfip_core::{
    Duration, Ipv4Addr, SocketAddrV4, TcpAcceptError, TcpBindError, TcpListenError, TcpState,
};

const PEER_ISS: u32 = 7000;

/// Times (since the start) at which segments come out while the stack runs
/// on its own for up to `limit`, with the segments.
fn run_until(h: &mut Harness, limit: Duration) -> Vec<(Duration, Seg)> {
    let start = h.now;
    let end = start + limit;
    let mut out = Vec::new();
    while h.now < end {
        let left = end - h.now;
        h.advance_to_deadline(left);
        for s in h.take() {
            out.push((h.now - start, s));
        }
    }
    out
}

/// A SYN from the peer's `port`; returns our ISS from the SYN-ACK.
fn syn_from(h: &mut Harness, port: u16) -> u32 {
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_ports(port, PORT));
    let sa = h.take_one();
    assert!(sa.is_syn() && sa.dst_port == port, "{sa:?}");
    sa.seq.0
}

/// The ACK completing the handshake from `port` whose SYN-ACK had `iss`.
fn ack_from(h: &mut Harness, port: u16, iss: u32) {
    h.send(
        &Seg::to_us(TcpControl::None, add(PEER_ISS, 1), Some(add(iss, 1))).with_ports(port, PORT),
    );
}

/// RFC 9293 §3.5, RFC 7323 §2.2/§3.2, RFC 2018 §2: the SYN-ACK echoes
/// only the options the SYN offered (MSS is always sent).
#[test]
fn synack_echoes_only_offered_options() {
    let base = Seg::to_us(TcpControl::Syn, PEER_ISS, None);
    let (mut mss, mut ws, mut sack) = (base.clone(), base.clone(), base.clone());
    mss.mss = Some(1200);
    ws.window_scale = Some(3);
    sack.sack_permitted = true;
    let cases = [
        (base.clone(), false, false, false),
        (mss, false, false, false),
        (ws, true, false, false),
        (sack, false, true, false),
        (base.with_ts(4242, 0), false, false, true),
    ];
    for (i, (seg, ws, sack, ts)) in cases.into_iter().enumerate() {
        let mut h = Harness::new(20 + i as u64);
        h.listen(8);
        h.send(&seg);
        let sa = h.take_one();
        assert!(
            sa.is_syn() && sa.ack == Some(SeqNumber(add(PEER_ISS, 1))),
            "case {i}"
        );
        assert_eq!(sa.mss, Some(1460), "case {i}");
        assert_eq!(sa.window_scale.is_some(), ws, "case {i}");
        assert_eq!(sa.sack_permitted, sack, "case {i}");
        assert_eq!(sa.timestamp.is_some(), ts, "case {i}");
        if ts {
            assert_eq!(
                sa.timestamp.unwrap().1,
                4242,
                "TSecr echoes the SYN's TSval"
            );
        }
    }
}

/// RFC 9293 §3.7.1: on a passive open the send MSS comes from the SYN's
/// MSS option, or 536 without one (RFC 1122 §4.2.2.6).
#[test]
fn passive_open_send_mss() {
    let mut h = Harness::new(30);
    let (c, _) = h.accept_plain(PEER_ISS);
    assert_eq!(h.stack.tcp_info(c).unwrap().mss, 536);
    let mut h = Harness::new(31);
    let (c, _) = h.accept_linux(PEER_ISS);
    let info = h.stack.tcp_info(c).unwrap();
    assert_eq!(info.mss, 1448);
    assert!(info.timestamps && info.sack && info.window_scaling);
}

/// RFC 9293 §3.5: the passive handshake, checked segment by segment.
#[test]
fn passive_open_handshake_trace() {
    let mut h = Harness::new(32);
    let (c, iss) = h.accept_plain(PEER_ISS);
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    assert_eq!(h.stack.stats().tcp.passive_opens, 1);
    h.expect_silence();
    insta::assert_snapshot!(trace(&h.sent, iss, PEER_ISS));
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED) and §3.5: the ACK completing the
/// handshake may carry data; it is delivered and acknowledged.
#[test]
fn handshake_ack_with_data() {
    let mut h = Harness::new(37);
    let l = h.listen(8);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let iss = h.take_one().seq.0;
    h.send(
        &Seg::to_us(TcpControl::Psh, add(PEER_ISS, 1), Some(add(iss, 1))).with_payload(b"hello"),
    );
    let (c, from) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(from, SocketAddrV4::new(PEER, PEER_PORT));
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(5));
    assert_eq!(&buf[..5], b"hello");
    h.advance_to_deadline(Duration::from_secs(1));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(add(PEER_ISS, 6))));
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED, eighth check): data and FIN on the
/// handshake-completing ACK leave the connection in CLOSE-WAIT.
#[test]
fn handshake_ack_with_data_and_fin() {
    let mut h = Harness::new(38);
    let l = h.listen(8);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let iss = h.take_one().seq.0;
    h.send(&Seg::to_us(TcpControl::Fin, add(PEER_ISS, 1), Some(add(iss, 1))).with_payload(b"bye"));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(add(PEER_ISS, 5))));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::CloseWait));
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(3));
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(0));
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED, fifth check): an ACK that does not
/// acknowledge our SYN-ACK gets <SEQ=SEG.ACK><CTL=RST>; the half-open
/// connection stays and the right ACK still completes it.
#[test]
fn handshake_wrong_ack_gets_rst() {
    let mut h = Harness::new(39);
    let l = h.listen(8);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let iss = h.take_one().seq.0;
    for bad in [iss, add(iss, 2), add(iss, 100_000)] {
        h.send(&Seg::to_us(TcpControl::None, add(PEER_ISS, 1), Some(bad)));
        let rst = h.take_one();
        assert!(rst.is_rst());
        assert_eq!((rst.seq, rst.ack), (SeqNumber(bad), None));
    }
    assert!(h.stack.tcp_accept(l).is_err());
    h.send(&Seg::to_us(
        TcpControl::None,
        add(PEER_ISS, 1),
        Some(add(iss, 1)),
    ));
    assert!(h.stack.tcp_accept(l).is_ok());
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED) and §3.5: a retransmitted SYN (the
/// peer missed our SYN-ACK) is answered with the same SYN-ACK again.
#[test]
fn duplicate_syn_gets_the_same_synack() {
    let mut h = Harness::new(40);
    h.listen(8);
    let syn = Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_linux_syn_options(1000);
    h.send(&syn);
    let first = h.take_one();
    // Within 500 ms of the SYN-ACK a duplicate draws nothing (the limit on
    // answers to duplicate SYNs, Linux's tcp_invalid_ratelimit); after
    // that, the same SYN-ACK (before the 1 s retransmission).
    h.advance(Duration::from_millis(100));
    h.send(&syn);
    h.expect_silence();
    h.advance(Duration::from_millis(500));
    h.send(&syn);
    let again = h.take_one();
    assert!(again.is_syn());
    assert_eq!((again.seq, again.ack), (first.seq, first.ack));
    assert_eq!(again.mss, first.mss);
}

/// RFC 6298 §5.5 and RFC 9293 §3.8.1: an unanswered SYN-ACK is resent with
/// the timeout doubling, TCP_SYN_RETRIES times; then the half-open
/// connection is dropped and a late ACK gets a RST (§3.10.7.2).
#[test]
fn synack_retransmitted_with_backoff_then_dropped() {
    let mut h = Harness::new(41);
    let l = h.listen(8);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let synack = h.take_one();
    let want = backoff_times(TCP_RTO_INITIAL_MS as u64, TCP_SYN_RETRIES + 1);
    // Up to the moment the request is dropped (within the ARP lifetime).
    let times = run_until(&mut h, want[TCP_SYN_RETRIES]);
    assert_eq!(times.len(), TCP_SYN_RETRIES, "{times:#?}");
    for (k, (at, s)) in times.iter().enumerate() {
        assert_eq!(*at, want[k], "retransmission {k}");
        assert_eq!(
            (s.seq, s.ack, s.control),
            (synack.seq, synack.ack, TcpControl::Syn)
        );
    }
    let iss = synack.seq.0;
    h.arp_refresh();
    h.send(&Seg::to_us(
        TcpControl::None,
        add(PEER_ISS, 1),
        Some(add(iss, 1)),
    ));
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.seq == SeqNumber(add(iss, 1)));
    assert!(h.stack.tcp_accept(l).is_err());
}

/// RFC 5961 §3.2 in SYN-RECEIVED: an exact RST removes the half-open
/// connection; a RST with another sequence number does not.
#[test]
fn rst_removes_half_open_only_when_exact() {
    let mut h = Harness::new(42);
    let l = h.listen(8);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let iss = h.take_one().seq.0;
    h.send(&Seg::to_us(TcpControl::Rst, add(PEER_ISS, 100), None));
    h.send(&Seg::to_us(
        TcpControl::None,
        add(PEER_ISS, 1),
        Some(add(iss, 1)),
    ));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));

    let mut h = Harness::new(42);
    let l = h.listen(8);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let iss = h.take_one().seq.0;
    h.send(&Seg::to_us(TcpControl::Rst, add(PEER_ISS, 1), None));
    h.expect_silence();
    h.send(&Seg::to_us(
        TcpControl::None,
        add(PEER_ISS, 1),
        Some(add(iss, 1)),
    ));
    assert!(h.take_one().is_rst());
    assert!(h.stack.tcp_accept(l).is_err());
}

/// RFC 9293 §3.10.7.2 ("second, check for an ACK"): an ACK arriving for a
/// listener is answered with <SEQ=SEG.ACK><CTL=RST>; the listener stays.
#[test]
fn ack_to_listener_gets_rst() {
    let mut h = Harness::new(60);
    let l = h.listen(4);
    h.send(&Seg::to_us(TcpControl::None, 123, Some(456)).with_payload(b"x"));
    let rst = h.take_one();
    assert!(rst.is_rst());
    assert_eq!((rst.seq, rst.ack), (SeqNumber(456), None));
    assert_eq!(h.stack.tcp_state(l), Some(TcpState::Listen));
}

/// RFC 9293 §3.10.7.2 ("first, check for a RST"): a RST to a listener is
/// ignored.
#[test]
fn rst_to_listener_ignored() {
    let mut h = Harness::new(61);
    let l = h.listen(4);
    h.send(&Seg::to_us(TcpControl::Rst, 123, None));
    h.send(&Seg::to_us(TcpControl::Rst, 123, Some(456)));
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(l), Some(TcpState::Listen));
}

/// RFC 9293 §3.10.7.2 ("fourth, other data or control"): a segment with
/// neither SYN, RST nor ACK is dropped silently.
#[test]
fn listener_drops_segments_without_syn_or_ack() {
    let mut h = Harness::new(62);
    h.listen(4);
    h.send(&Seg::to_us(TcpControl::Fin, 123, None));
    h.send(&Seg::to_us(TcpControl::Psh, 123, None).with_payload(b"data"));
    h.expect_silence();
}

/// RFC 9293 §3.10.7.2 ("third, check for a SYN"): data on a SYN is not
/// acknowledged (no TCP Fast Open); the SYN-ACK acknowledges the SYN only.
#[test]
fn syn_with_data_acknowledges_only_the_syn() {
    let mut h = Harness::new(63);
    h.listen(4);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_payload(b"early"));
    let sa = h.take_one();
    assert_eq!(sa.ack, Some(SeqNumber(add(PEER_ISS, 1))));
}

/// RFC 9293 §3.10.2 (passive OPEN), §3.5: several handshakes may be under
/// way at once; accept returns connections in the order they completed.
#[test]
fn accept_returns_oldest_first() {
    let mut h = Harness::new(64);
    let l = h.listen(8);
    let isn: Vec<u32> = [40001, 40002, 40003].map(|p| syn_from(&mut h, p)).to_vec();
    assert_eq!(h.stack.tcp_accept(l), Err(TcpAcceptError::WouldBlock));
    ack_from(&mut h, 40002, isn[1]);
    ack_from(&mut h, 40001, isn[0]);
    ack_from(&mut h, 40003, isn[2]);
    assert!(h.stack.tcp_can_accept(l));
    for port in [40002, 40001, 40003] {
        let (c, from) = h.stack.tcp_accept(l).unwrap();
        assert_eq!(from, SocketAddrV4::new(PEER, port));
        assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
        assert_eq!(h.stack.tcp_peer_addr(c), Some(from));
    }
    assert_eq!(h.stack.tcp_accept(l), Err(TcpAcceptError::WouldBlock));
    assert!(!h.stack.tcp_can_accept(l));
}

/// RFC 9293 §3.10.2: accept is for listeners only.
#[test]
fn accept_on_non_listener() {
    let mut h = Harness::new(65);
    let s = h.stack.tcp_open().unwrap();
    assert_eq!(h.stack.tcp_accept(s), Err(TcpAcceptError::NotListening));
    let (c, _) = h.accept_plain(PEER_ISS);
    assert_eq!(h.stack.tcp_accept(c), Err(TcpAcceptError::NotListening));
    let now = h.now;
    h.stack.tcp_close(s, now);
    assert_eq!(h.stack.tcp_accept(s), Err(TcpAcceptError::BadHandle));
}

/// RFC 9293 §3.10.2 and §3.10.7.2 (a SYN the TCB cannot take is not
/// answered): with the backlog full and SYN cookies off, a SYN is dropped
/// without reply and counted; the peer's retransmission gets in once
/// there is room. (With cookies on it gets a cookie: tcp_syn_cookies.rs.)
#[test]
fn backlog_full_drops_syn() {
    let mut h = Harness::new(66);
    h.stack.set_tcp_syn_cookies(false);
    let l = h.listen(2);
    let a = syn_from(&mut h, 40001);
    syn_from(&mut h, 40002);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_ports(40003, PORT));
    h.expect_silence();
    assert_eq!(h.stack.stats().tcp.drop_syn_backlog, 1);
    // Completing and accepting one makes room.
    ack_from(&mut h, 40001, a);
    h.stack.tcp_accept(l).unwrap();
    syn_from(&mut h, 40003);
}

/// RFC 9293 §3.10.2: the backlog counts established connections not yet
/// accepted as well as half-open ones.
#[test]
fn backlog_counts_unaccepted_connections() {
    let mut h = Harness::new(67);
    let l = h.listen(1);
    let a = syn_from(&mut h, 40001);
    ack_from(&mut h, 40001, a);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_ports(40002, PORT));
    h.expect_silence();
    assert_eq!(h.stack.stats().tcp.drop_syn_backlog, 1);
    h.stack.tcp_accept(l).unwrap();
    syn_from(&mut h, 40002);
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED): a retransmitted SYN is answered
/// again and takes no second backlog entry.
#[test]
fn duplicate_syn_takes_no_backlog_entry() {
    let mut h = Harness::new(68);
    h.listen(1);
    let a = syn_from(&mut h, 40001);
    h.advance(Duration::from_millis(600));
    assert_eq!(syn_from(&mut h, 40001), a);
    assert_eq!(h.stack.stats().tcp.drop_syn_backlog, 0);
}

/// RFC 9293 §3.10.7.2: the SYN queue holds TCP_SYN_BACKLOG half-open
/// connections; past that (SYN cookies off) SYNs are dropped and counted,
/// and a completed handshake frees an entry.
#[test]
fn syn_queue_capacity() {
    let mut h = Harness::new(69);
    h.stack.set_tcp_syn_cookies(false);
    let l = h.listen(10_000);
    let isn: Vec<u32> = (0..TCP_SYN_BACKLOG as u16)
        .map(|i| syn_from(&mut h, 41000 + i))
        .collect();
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_ports(40000, PORT));
    h.expect_silence();
    assert_eq!(h.stack.stats().tcp.drop_syn_backlog, 1);
    ack_from(&mut h, 41000, isn[0]);
    h.stack.tcp_accept(l).unwrap();
    syn_from(&mut h, 40000);
}

/// RFC 9293 §3.10.4 (CLOSE of a listener) and §3.10.7.1: closing a
/// listener resets its unaccepted connections and forgets its half-open
/// ones; their later segments meet a closed port.
#[test]
fn listener_close_resets_unaccepted() {
    let mut h = Harness::new(70);
    let l = h.listen(8);
    let a = syn_from(&mut h, 40001);
    ack_from(&mut h, 40001, a);
    let b = syn_from(&mut h, 40002);
    h.close(l);
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.dst_port == 40001);
    assert_eq!(rst.seq, SeqNumber(add(a, 1)));
    ack_from(&mut h, 40002, b);
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.dst_port == 40002 && rst.seq == SeqNumber(add(b, 1)));
    assert_eq!(h.free_slots(), TCP_SOCKETS);
}

/// RFC 9293 §3.10.4: closing a listener leaves accepted connections alone.
#[test]
fn listener_close_keeps_accepted() {
    let mut h = Harness::new(71);
    let l = h.listen(8);
    let iss = syn_from(&mut h, PEER_PORT);
    ack_from(&mut h, PEER_PORT, iss);
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    h.close(l);
    h.expect_silence();
    h.send(&Seg::to_us(TcpControl::Psh, add(PEER_ISS, 1), Some(add(iss, 1))).with_payload(b"x"));
    let mut buf = [0u8; 4];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(1));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    // The accepted connection still holds port 80 (no SO_REUSEADDR).
    let l2 = h.stack.tcp_open().unwrap();
    assert_eq!(
        h.stack
            .tcp_bind(l2, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)),
        Err(TcpBindError::AddrInUse)
    );
}

/// RFC 9293 §3.10.7.4 and §3.10.2: data that arrives before accept is
/// acknowledged and kept for the application.
#[test]
fn data_before_accept_is_kept() {
    let mut h = Harness::new(72);
    let l = h.listen(8);
    let iss = syn_from(&mut h, PEER_PORT);
    ack_from(&mut h, PEER_PORT, iss);
    h.send(
        &Seg::to_us(TcpControl::Psh, add(PEER_ISS, 1), Some(add(iss, 1))).with_payload(b"early"),
    );
    h.advance_to_deadline(Duration::from_secs(1));
    assert_eq!(h.take_one().ack, Some(SeqNumber(add(PEER_ISS, 6))));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(5));
    assert_eq!(&buf[..5], b"early");
}

/// RFC 9293 §3.10.7.4 (eighth check): a FIN before accept moves the
/// waiting connection to CLOSE-WAIT; accept still returns it.
#[test]
fn fin_before_accept() {
    let mut h = Harness::new(73);
    let l = h.listen(8);
    let iss = syn_from(&mut h, PEER_PORT);
    ack_from(&mut h, PEER_PORT, iss);
    h.send(&Seg::to_us(
        TcpControl::Fin,
        add(PEER_ISS, 1),
        Some(add(iss, 1)),
    ));
    // The ACK of a FIN that leads to CLOSE-WAIT is delayed.
    h.expect_silence();
    h.advance(wolfip_core::Duration::from_millis(
        wolfip_core::config::TCP_DELAYED_ACK_MS as u64,
    ));
    assert_eq!(h.take_one().ack, Some(SeqNumber(add(PEER_ISS, 2))));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::CloseWait));
    let mut buf = [0u8; 4];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(0));
}

/// RFC 9293 §3.10.7.4 (RST) and RFC 5961 §3.2: a connection reset while it
/// waits in the accept queue leaves the queue and frees its slot.
#[test]
fn reset_in_accept_queue_removes_it() {
    let mut h = Harness::new(74);
    let l = h.listen(8);
    let iss = syn_from(&mut h, PEER_PORT);
    ack_from(&mut h, PEER_PORT, iss);
    h.send(&Seg::to_us(TcpControl::Rst, add(PEER_ISS, 1), None));
    h.expect_silence();
    assert_eq!(h.stack.tcp_accept(l), Err(TcpAcceptError::WouldBlock));
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
}

/// RFC 9293 §3.10.2: listen needs a socket with no connection; a second
/// listener cannot take the port; listening again only changes the backlog
/// (seen with SYN cookies off: a SYN past it is dropped).
#[test]
fn listen_errors_and_relisten() {
    let mut h = Harness::new(75);
    let (c, _) = h.connect();
    assert_eq!(h.stack.tcp_listen(c, 4), Err(TcpListenError::InvalidState));
    let mut h = Harness::new(75);
    h.stack.set_tcp_syn_cookies(false);
    let l = h.listen(1);
    let other = h.stack.tcp_open().unwrap();
    assert_eq!(
        h.stack
            .tcp_bind(other, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)),
        Err(TcpBindError::AddrInUse)
    );
    h.stack.tcp_listen(l, 3).unwrap();
    for port in 40001..40004 {
        syn_from(&mut h, port);
    }
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_ports(40004, PORT));
    h.expect_silence();
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED): when no socket is free for the
/// completed handshake, the ACK is dropped and the half-open connection
/// kept; the peer's next ACK completes it once a socket is free.
#[test]
fn handshake_waits_for_a_free_socket() {
    let mut h = Harness::new(76);
    let l = h.listen(8);
    let mut hog = Vec::new();
    while let Ok(s) = h.stack.tcp_open() {
        hog.push(s);
    }
    let iss = syn_from(&mut h, PEER_PORT);
    ack_from(&mut h, PEER_PORT, iss);
    h.expect_silence();
    assert_eq!(h.stack.tcp_accept(l), Err(TcpAcceptError::WouldBlock));
    let now = h.now;
    h.stack.tcp_close(hog.pop().unwrap(), now);
    ack_from(&mut h, PEER_PORT, iss);
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
}

/// RFC 9293 §3.5 and §3.10.2: 64 connections at once (the host profile's
/// 72 sockets): all complete, exchange data, close, and free their slots.
#[test]
fn sixty_four_connections_at_once() {
    const N: u16 = 64;
    let mut h = Harness::new(77);
    let l = h.listen(N as usize);
    let isn: Vec<u32> = (0..N).map(|i| syn_from(&mut h, 42000 + i)).collect();
    for i in 0..N {
        ack_from(&mut h, 42000 + i, isn[usize::from(i)]);
    }
    let mut conns = Vec::new();
    while let Ok((c, from)) = h.stack.tcp_accept(l) {
        conns.push((c, from.port()));
    }
    assert_eq!(conns.len(), usize::from(N));
    for &(c, port) in &conns {
        let iss = isn[usize::from(port - 42000)];
        let data = format!("ping {port}");
        h.send(
            &Seg::to_us(TcpControl::Psh, add(PEER_ISS, 1), Some(add(iss, 1)))
                .with_ports(port, PORT)
                .with_payload(data.as_bytes()),
        );
        let mut buf = [0u8; 32];
        let n = h.stack.tcp_recv(c, &mut buf).unwrap();
        assert_eq!(&buf[..n], data.as_bytes());
        h.stack.tcp_send(c, b"pong").unwrap();
        h.run();
        let reply = h.take_one();
        assert_eq!((reply.dst_port, &reply.payload[..]), (port, &b"pong"[..]));
        assert_eq!(
            reply.ack,
            Some(SeqNumber(add(PEER_ISS, 1 + data.len() as u32)))
        );
    }
    // The peers close first; we close; their ACKs of our FINs end it.
    for &(c, port) in &conns {
        let iss = isn[usize::from(port - 42000)];
        let len = format!("ping {port}").len() as u32;
        h.send(
            &Seg::to_us(TcpControl::Fin, add(PEER_ISS, 1 + len), Some(add(iss, 5)))
                .with_ports(port, PORT),
        );
        h.close(c);
        let fin = h.take().into_iter().find(|s| s.is_fin()).expect("our FIN");
        assert_eq!(fin.seq, SeqNumber(add(iss, 5)));
        h.send(
            &Seg::to_us(TcpControl::None, add(PEER_ISS, 2 + len), Some(add(iss, 6)))
                .with_ports(port, PORT),
        );
    }
    h.expect_silence();
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
}

// ---------------------------------------------------------------------
// bind and listen conflicts with SO_REUSEADDR: Linux's
// inet_csk_bind_conflict, as recorded by running the kernel.

/// `addr:port`.
fn sa(ip: Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;
const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A fresh socket with `SO_REUSEADDR` set to `reuse`.
fn sock(h: &mut Harness, reuse: bool) -> wolfip_core::TcpHandle {
    let s = h.stack.tcp_open().unwrap();
    h.stack.tcp_set_reuse_addr(s, reuse).unwrap();
    assert_eq!(h.stack.tcp_reuse_addr(s), reuse);
    s
}

/// Linux: a port held by a LISTEN socket is EADDRINUSE even with
/// SO_REUSEADDR on both, for the same address, the wildcard or a
/// specific address under the listener's wildcard.
#[test]
fn listening_port_is_never_shared() {
    let mut h = Harness::new(80);
    let l = sock(&mut h, true);
    h.stack.tcp_bind(l, sa(ANY, PORT)).unwrap();
    h.stack.tcp_listen(l, 4).unwrap();
    for addr in [ANY, US, LO] {
        let s = sock(&mut h, true);
        assert_eq!(
            h.stack.tcp_bind(s, sa(addr, PORT)),
            Err(TcpBindError::AddrInUse),
            "{addr}"
        );
    }
}

/// Linux: a port held by a bound, non-listening socket is EADDRINUSE
/// unless SO_REUSEADDR is set on both sockets; with it on both, the bind
/// succeeds.
#[test]
fn bound_port_shared_only_with_reuse_on_both() {
    let mut h = Harness::new(81);
    for (old, new, ok) in [
        (false, false, false),
        (false, true, false),
        (true, false, false),
        (true, true, true),
    ] {
        let port = 5000 + u16::from(old) * 2 + u16::from(new);
        let a = sock(&mut h, old);
        h.stack.tcp_bind(a, sa(ANY, port)).unwrap();
        let b = sock(&mut h, new);
        let want = if ok {
            Ok(sa(ANY, port))
        } else {
            Err(TcpBindError::AddrInUse)
        };
        assert_eq!(h.stack.tcp_bind(b, sa(ANY, port)), want, "{old} {new}");
    }
}

/// Linux: a specific address on a port bound to 0.0.0.0 is EADDRINUSE, and
/// 0.0.0.0 on a port bound to a specific address too, unless both sockets
/// have SO_REUSEADDR; two different specific addresses share a port
/// (each may listen).
#[test]
fn wildcard_overlaps_every_address() {
    let mut h = Harness::new(82);
    let a = sock(&mut h, false);
    h.stack.tcp_bind(a, sa(ANY, 5001)).unwrap();
    let b = sock(&mut h, false);
    assert_eq!(
        h.stack.tcp_bind(b, sa(LO, 5001)),
        Err(TcpBindError::AddrInUse)
    );
    let c = sock(&mut h, false);
    h.stack.tcp_bind(c, sa(LO, 5002)).unwrap();
    assert_eq!(
        h.stack.tcp_bind(b, sa(ANY, 5002)),
        Err(TcpBindError::AddrInUse)
    );
    // Both with SO_REUSEADDR: either order works.
    let (d, e) = (sock(&mut h, true), sock(&mut h, true));
    h.stack.tcp_bind(d, sa(ANY, 5003)).unwrap();
    assert_eq!(h.stack.tcp_bind(e, sa(US, 5003)), Ok(sa(US, 5003)));
    let (f, g) = (sock(&mut h, true), sock(&mut h, true));
    h.stack.tcp_bind(f, sa(LO, 5004)).unwrap();
    assert_eq!(h.stack.tcp_bind(g, sa(ANY, 5004)), Ok(sa(ANY, 5004)));
    // Different specific addresses: both bind and both listen.
    let (x, y) = (sock(&mut h, false), sock(&mut h, false));
    assert_eq!(h.stack.tcp_bind(x, sa(LO, PORT)), Ok(sa(LO, PORT)));
    assert_eq!(h.stack.tcp_bind(y, sa(US, PORT)), Ok(sa(US, PORT)));
    h.stack.tcp_listen(x, 4).unwrap();
    h.stack.tcp_listen(y, 4).unwrap();
    syn_from(&mut h, PEER_PORT);
    assert_eq!(h.stack.tcp_state(y), Some(TcpState::Listen));
}

/// Linux: TCP and UDP ports are separate; a TCP bind on a port only a UDP
/// socket holds succeeds.
#[test]
fn tcp_bind_ignores_udp_ports() {
    let mut h = Harness::new(83);
    let u = h.stack.udp_open().unwrap();
    h.stack.udp_bind(u, sa(ANY, 5005)).unwrap();
    let t = sock(&mut h, false);
    assert_eq!(h.stack.tcp_bind(t, sa(ANY, 5005)), Ok(sa(ANY, 5005)));
}

/// Linux re-checks the conflict at listen (`inet_csk_get_port`): of two
/// sockets sharing a port through SO_REUSEADDR, the first to listen gets
/// it and the second's listen is EADDRINUSE, whichever addresses (the
/// wildcard and a specific one) they hold.
#[test]
fn second_listen_on_a_shared_port_fails() {
    let mut h = Harness::new(84);
    let (a, b) = (sock(&mut h, true), sock(&mut h, true));
    h.stack.tcp_bind(a, sa(ANY, PORT)).unwrap();
    h.stack.tcp_bind(b, sa(ANY, PORT)).unwrap();
    h.stack.tcp_listen(a, 4).unwrap();
    assert_eq!(h.stack.tcp_listen(b, 4), Err(TcpListenError::AddrInUse));
    assert_eq!(h.stack.tcp_state(b), Some(TcpState::Closed));
    // The first one serves.
    syn_from(&mut h, PEER_PORT);
    // A specific address and the wildcard: the wildcard listens first.
    let (c, d) = (sock(&mut h, true), sock(&mut h, true));
    h.stack.tcp_bind(c, sa(LO, 8080)).unwrap();
    h.stack.tcp_bind(d, sa(ANY, 8080)).unwrap();
    h.stack.tcp_listen(d, 4).unwrap();
    assert_eq!(h.stack.tcp_listen(c, 4), Err(TcpListenError::AddrInUse));
}

/// Linux: connections (here one accepted from a listener with
/// SO_REUSEADDR, which it inherits) hold their port, but not as a
/// listener does: once the listener is closed, a new socket with
/// SO_REUSEADDR binds and listens on the port while the connection lives.
#[test]
fn accepted_connection_inherits_reuse_addr() {
    let mut h = Harness::new(85);
    let l = sock(&mut h, true);
    h.stack.tcp_bind(l, sa(ANY, PORT)).unwrap();
    h.stack.tcp_listen(l, 4).unwrap();
    let iss = syn_from(&mut h, PEER_PORT);
    ack_from(&mut h, PEER_PORT, iss);
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    assert!(h.stack.tcp_reuse_addr(c));
    h.close(l);
    let n = sock(&mut h, false);
    assert_eq!(
        h.stack.tcp_bind(n, sa(ANY, PORT)),
        Err(TcpBindError::AddrInUse)
    );
    let n = sock(&mut h, true);
    h.stack.tcp_bind(n, sa(ANY, PORT)).unwrap();
    h.stack.tcp_listen(n, 4).unwrap();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    syn_from(&mut h, PEER_PORT + 1);
}
