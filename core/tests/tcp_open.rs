//! Connection establishment: active open (options offered and negotiated),
//! passive open (SYN-ACK, handshake completion, retransmission), SYN-SENT
//! processing, simultaneous open, ISNs, ephemeral ports, connect errors.

mod tcp_common;
use tcp_common::*;

use wolfip_core::config::{TCP_RTO_INITIAL_MS, TCP_SYN_RETRIES};
use wolfip_core::wire::{SeqNumber, TcpControl};
use wolfip_core::{
    Duration, Ipv4Addr, SocketAddrV4, TcpConnectError, TcpError, TcpRecvError, TcpSendError,
    TcpState,
};

const PEER_ISS: u32 = 7000;

/// The peer's SYN-ACK to `syn` with Linux's options, echoing our TSval.
fn linux_synack(syn: &Seg, peer_iss: u32) -> Seg {
    let mut s =
        Seg::to_us(TcpControl::Syn, peer_iss, Some(add(syn.seq.0, 1))).with_linux_syn_options(5000);
    s.timestamp = Some((5000, syn.timestamp.map_or(0, |t| t.0)));
    s
}

/// The peer's SYN-ACK to `syn` without any option.
fn plain_synack(syn: &Seg, peer_iss: u32) -> Seg {
    Seg::to_us(TcpControl::Syn, peer_iss, Some(add(syn.seq.0, 1)))
}

/// Whether `a` repeats SYN `b`: everything but the TSval (a clock) equal.
fn same_syn(a: &Seg, b: &Seg) -> bool {
    let strip = |s: &Seg| {
        let mut s = s.clone();
        s.timestamp = s.timestamp.map(|(_, e)| (0, e));
        s
    };
    strip(a) == strip(b)
}

/// RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2: our SYN offers
/// MSS 1460 (MTU 1500 minus 40), window scale, SACK-permitted and a
/// timestamp with TSecr 0; it carries no ACK.
#[test]
fn syn_offers_all_options() {
    let mut h = Harness::new(1);
    let (c, syn) = h.connect();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
    assert_eq!(syn.mss, Some(1460));
    assert!(syn.window_scale.is_some());
    assert!(syn.sack_permitted);
    let (_, tsecr) = syn.timestamp.expect("timestamp offered");
    assert_eq!(tsecr, 0);
    assert_eq!(syn.ack, None);
    assert!(syn.payload.is_empty());
    assert_eq!((syn.src_port, syn.dst_port), (PORT, PEER_PORT));
}

/// RFC 9293 §3.5 (three-way handshake) and §3.10.7.3: the SYN-ACK moves
/// SYN-SENT to ESTABLISHED and is acknowledged with SEQ=ISS+1,
/// ACK=IRS+1; the timestamp echoes the peer's TSval (RFC 7323 §4.3).
#[test]
fn active_open_handshake_trace() {
    let mut h = Harness::new(1);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    h.send(&linux_synack(&syn, PEER_ISS));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    let ack = h.sent.last().unwrap().clone();
    assert_eq!(ack.seq, SeqNumber(add(iss, 1)));
    assert_eq!(ack.ack, Some(SeqNumber(add(PEER_ISS, 1))));
    assert_eq!(ack.timestamp.unwrap().1, 5000);
    assert_eq!(h.stack.stats().tcp.active_opens, 1);
    insta::assert_snapshot!(trace(&h.sent, iss, PEER_ISS));
}

/// RFC 7323 §2.2 and §3.2, RFC 2018 §2: with all options in the SYN-ACK,
/// window scaling, timestamps and SACK are in use; the send MSS is the
/// peer's 1460 less 12 bytes of timestamp option (RFC 7323 §3.2).
#[test]
fn options_negotiated_when_peer_sends_them() {
    let mut h = Harness::new(1);
    let (c, syn) = h.connect();
    h.send(&linux_synack(&syn, PEER_ISS));
    let info = h.stack.tcp_info(c).unwrap();
    assert!(info.window_scaling && info.timestamps && info.sack);
    assert_eq!(info.mss, 1448);
}

/// RFC 9293 §3.7.1 and RFC 1122 §4.2.2.6: without an MSS option the peer
/// is assumed to take 536 bytes; options the SYN-ACK lacks stay off
/// (RFC 7323 §2.2, §3.2; RFC 2018 §2); the data goes in 536-byte segments.
#[test]
fn plain_synack_turns_options_off_and_mss_536() {
    let mut h = Harness::new(2);
    let (c, syn) = h.connect();
    h.send(&plain_synack(&syn, PEER_ISS));
    let ack = h.take_one();
    assert_eq!(ack.timestamp, None);
    assert!(ack.sack.is_empty());
    let info = h.stack.tcp_info(c).unwrap();
    assert!(!info.window_scaling && !info.timestamps && !info.sack);
    assert_eq!(info.mss, 536);
    h.stack.tcp_send(c, &[7u8; 1000]).unwrap();
    h.run();
    let segs = h.take();
    assert_eq!(segs[0].payload.len(), 536);
}

/// RFC 7323 §3.2: a SYN-ACK without a timestamp turns timestamps off (no
/// TS option afterwards) while window scaling and SACK still apply.
#[test]
fn timestamps_off_when_synack_lacks_them() {
    let mut h = Harness::new(3);
    let (c, syn) = h.connect();
    let mut sa = linux_synack(&syn, PEER_ISS);
    sa.timestamp = None;
    h.send(&sa);
    let ack = h.take_one();
    assert_eq!(ack.timestamp, None);
    let info = h.stack.tcp_info(c).unwrap();
    assert!(!info.timestamps && info.sack && info.window_scaling);
    assert_eq!(info.mss, 1460);
}

/// RFC 9293 §3.7.1: the send MSS is the peer's MSS option when smaller
/// than ours, less the timestamp option (RFC 7323 §3.2); a larger one is
/// capped at our interface's 1460.
#[test]
fn send_mss_follows_peer_option() {
    for (peer_mss, ts, want) in [(1000, false, 1000), (1000, true, 988), (9000, false, 1460)] {
        let mut h = Harness::new(4);
        let (c, syn) = h.connect();
        let mut sa = plain_synack(&syn, PEER_ISS);
        sa.mss = Some(peer_mss);
        if ts {
            sa.timestamp = Some((1, syn.timestamp.unwrap().0));
        }
        h.send(&sa);
        assert_eq!(
            h.stack.tcp_info(c).unwrap().mss,
            want,
            "peer MSS {peer_mss} ts {ts}"
        );
    }
}

/// RFC 7323 §2.2: the window of a SYN-ACK is never scaled; later windows
/// are shifted by the peer's announced scale.
#[test]
fn window_scale_applies_after_the_synack() {
    let mut h = Harness::new(5);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    h.send(&linux_synack(&syn, PEER_ISS).with_window(1000));
    assert_eq!(h.stack.tcp_info(c).unwrap().snd_wnd, 1000);
    h.send(
        &Seg::to_us(TcpControl::None, add(PEER_ISS, 1), Some(add(iss, 1)))
            .with_ts(5001, 0)
            .with_window(1000),
    );
    assert_eq!(h.stack.tcp_info(c).unwrap().snd_wnd, 1000 << 7);
}

/// RFC 7323 §2.2: when the SYN-ACK has no window scale option, neither
/// side scales: the peer's windows are taken as they are.
#[test]
fn no_window_scale_when_peer_omits_it() {
    let mut h = Harness::new(6);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    h.send(&plain_synack(&syn, PEER_ISS).with_window(1000));
    h.send(&Seg::to_us(TcpControl::None, add(PEER_ISS, 1), Some(add(iss, 1))).with_window(1000));
    assert_eq!(h.stack.tcp_info(c).unwrap().snd_wnd, 1000);
}

/// RFC 9293 §3.10.7.3: in SYN-SENT a RST with an acceptable ACK closes the
/// connection ("connection reset"), reported once as Refused by recv.
#[test]
fn rst_in_syn_sent_refuses_recv() {
    let mut h = Harness::new(7);
    let (c, syn) = h.connect();
    h.send(&Seg::to_us(TcpControl::Rst, 0, Some(add(syn.seq.0, 1))));
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
    let mut buf = [0u8; 8];
    assert_eq!(
        h.stack.tcp_recv(c, &mut buf),
        Err(TcpRecvError::Failed(TcpError::Refused))
    );
    assert_eq!(h.stack.tcp_take_error(c), None);
    assert_eq!(h.stack.stats().tcp.resets_rx, 1);
}

/// RFC 9293 §3.10.7.3: the refusal is reported by send as well.
#[test]
fn rst_in_syn_sent_refuses_send() {
    let mut h = Harness::new(8);
    let (c, syn) = h.connect();
    h.send(&Seg::to_us(TcpControl::Rst, 0, Some(add(syn.seq.0, 1))));
    assert_eq!(
        h.stack.tcp_send(c, b"x"),
        Err(TcpSendError::Failed(TcpError::Refused))
    );
}

/// RFC 9293 §3.10.7.3 ("if the ACK bit is off ... drop the segment"), RFC
/// 5961 §3: a RST without ACK in SYN-SENT is ignored; the handshake goes on.
#[test]
fn rst_without_ack_in_syn_sent_ignored() {
    let mut h = Harness::new(9);
    let (c, syn) = h.connect();
    h.send(&Seg::to_us(TcpControl::Rst, PEER_ISS, None));
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
    h.send(&linux_synack(&syn, PEER_ISS));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
}

/// RFC 9293 §3.10.7.3: a RST whose ACK does not acknowledge our SYN is
/// dropped, and no RST answers it.
#[test]
fn rst_with_bad_ack_in_syn_sent_ignored() {
    let mut h = Harness::new(10);
    let (c, syn) = h.connect();
    h.send(&Seg::to_us(TcpControl::Rst, 0, Some(add(syn.seq.0, 5))));
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
}

/// RFC 9293 §3.10.7.3: in SYN-SENT an ACK with SEG.ACK =< ISS or
/// SEG.ACK > SND.NXT gets <SEQ=SEG.ACK><CTL=RST>; the connection stays.
#[test]
fn unacceptable_ack_in_syn_sent_gets_rst() {
    let mut h = Harness::new(11);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    for bad in [iss, add(iss, 2), iss.wrapping_sub(1000)] {
        h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, Some(bad)));
        let rst = h.take_one();
        assert!(rst.is_rst());
        assert_eq!(rst.seq, SeqNumber(bad));
        assert_eq!(rst.ack, None);
        assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
    }
    h.send(&linux_synack(&syn, PEER_ISS));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
}

/// RFC 9293 §3.10.7.3 ("fifth, if neither of the SYN or RST bits is set
/// then drop the segment"): an acceptable ACK without SYN does nothing.
#[test]
fn ack_without_syn_in_syn_sent_dropped() {
    let mut h = Harness::new(12);
    let (c, syn) = h.connect();
    h.send(&Seg::to_us(
        TcpControl::None,
        PEER_ISS,
        Some(add(syn.seq.0, 1)),
    ));
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
}

/// RFC 6298 §5.5 and §5.7: the SYN is retransmitted with the initial RTO
/// doubling each time, unchanged (same ISS and options); after
/// TCP_SYN_RETRIES retransmissions the attempt fails with TimedOut.
#[test]
fn syn_retransmitted_with_backoff_then_times_out() {
    let mut h = Harness::new(13);
    let (c, syn) = h.connect();
    let start = h.now;
    let want = backoff_times(TCP_RTO_INITIAL_MS as u64, TCP_SYN_RETRIES + 1);
    let mut times = Vec::new();
    while h.stack.tcp_state(c) == Some(TcpState::SynSent)
        && h.now - start < Duration::from_secs(600)
    {
        h.advance_to_deadline(Duration::from_secs(600));
        for s in h.take() {
            assert!(same_syn(&s, &syn), "{s:?}");
            times.push(h.now - start);
        }
    }
    assert_eq!(times[..], want[..TCP_SYN_RETRIES]);
    // The attempt fails when the last backed-off timeout expires.
    assert_eq!(h.now - start, want[TCP_SYN_RETRIES]);
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
    let mut buf = [0u8; 4];
    assert_eq!(
        h.stack.tcp_recv(c, &mut buf),
        Err(TcpRecvError::Failed(TcpError::TimedOut))
    );
    assert_eq!(h.stack.stats().tcp.timed_out, 1);
    h.expect_silence();
}

/// RFC 6298 §5.7 and §3 (Karn): a SYN-ACK after SYN retransmissions still
/// completes the handshake.
#[test]
fn synack_after_syn_retransmission_completes() {
    let mut h = Harness::new(14);
    let (c, syn) = h.connect();
    h.advance(Duration::from_millis(TCP_RTO_INITIAL_MS as u64));
    let again = h.take_one();
    assert!(same_syn(&again, &syn));
    let syn = again;
    h.send(&linux_synack(&syn, PEER_ISS));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    assert_eq!(h.take_one().ack, Some(SeqNumber(add(PEER_ISS, 1))));
}

/// RFC 9293 §3.5 figure 8 (simultaneous open): the peer's SYN crossing ours
/// moves SYN-SENT to SYN-RECEIVED and is answered with SYN-ACK (same ISS);
/// the peer's SYN-ACK then completes the handshake.
#[test]
fn simultaneous_open_trace() {
    let mut h = Harness::new(15);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_linux_syn_options(5000));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynReceived));
    let synack = h.sent.last().unwrap().clone();
    assert!(synack.is_syn() && synack.seq == SeqNumber(iss));
    assert_eq!(synack.ack, Some(SeqNumber(add(PEER_ISS, 1))));
    h.send(&linux_synack(&syn, PEER_ISS).with_window(3000));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    // RFC 7323 §2.2: the SYN-ACK's window is not scaled.
    assert_eq!(h.stack.tcp_info(c).unwrap().snd_wnd, 3000);
    h.stack.tcp_send(c, b"hi").unwrap();
    h.run();
    insta::assert_snapshot!(trace(&h.sent, iss, PEER_ISS));
}

/// RFC 9293 §3.5 and §3.10.7.4: after crossing SYNs, a plain ACK of our
/// SYN-ACK also completes the handshake; an ACK we must answer in
/// SYN-RECEIVED carries SEQ=SND.NXT.
#[test]
fn simultaneous_open_completed_by_ack() {
    let mut h = Harness::new(16);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let synack = h.take_one();
    assert!(synack.is_syn() && synack.mss.is_some() && synack.timestamp.is_none());
    // An old duplicate (out of window) is answered with <SEQ=SND.NXT>.
    h.send(&Seg::to_us(
        TcpControl::None,
        add(PEER_ISS, 50_000),
        Some(add(iss, 1)),
    ));
    let ack = h.take_one();
    assert_eq!(ack.seq, SeqNumber(add(iss, 1)));
    assert_eq!(ack.ack, Some(SeqNumber(add(PEER_ISS, 1))));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynReceived));
    h.send(&Seg::to_us(
        TcpControl::None,
        add(PEER_ISS, 1),
        Some(add(iss, 1)),
    ));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    h.expect_silence();
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED, RST): after a simultaneous open the
/// peer's exact RST means the connection was refused.
#[test]
fn simultaneous_open_reset_is_refused() {
    let mut h = Harness::new(17);
    let (c, _) = h.connect();
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    h.take();
    h.send(&Seg::to_us(TcpControl::Rst, add(PEER_ISS, 1), None));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Refused));
}

/// RFC 9293 §3.10.7.4 (SYN-RECEIVED): an ACK that does not acknowledge our
/// SYN-ACK gets <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn simultaneous_open_bad_ack_gets_rst() {
    let mut h = Harness::new(18);
    let (c, syn) = h.connect();
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    h.take();
    let bad = add(syn.seq.0, 9);
    h.send(&Seg::to_us(TcpControl::None, add(PEER_ISS, 1), Some(bad)));
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.seq == SeqNumber(bad) && rst.ack.is_none());
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynReceived));
}

/// RFC 6528 §3: ISNs differ between 4-tuples at the same instant.
#[test]
fn isn_differs_per_four_tuple() {
    let mut h = Harness::new(33);
    h.listen(16);
    let mut isns = Vec::new();
    for port in 40000..40010 {
        h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None).with_ports(port, PORT));
        isns.push(h.take_one().seq.0);
    }
    let mut sorted = isns.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), isns.len(), "{isns:?}");
}

/// RFC 6528 §3 (ISN = M + F(4-tuple, secret), M a 4 µs clock): one
/// 4-tuple's ISN advances with time by exactly the clock.
#[test]
fn isn_advances_with_the_clock() {
    let mut h = Harness::new(34);
    h.listen(8);
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let first = h.take_one().seq.0;
    // An exact RST removes the request (RFC 5961 §3.2).
    h.send(&Seg::to_us(TcpControl::Rst, add(PEER_ISS, 1), None));
    h.advance(Duration::from_millis(300));
    h.expect_silence();
    h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
    let second = h.take_one().seq.0;
    assert_eq!(second.wrapping_sub(first), 300_000 / 4);
}

/// RFC 6528 §3: the ISN depends on the secret key; two stacks seeded
/// differently choose unrelated ISNs for the same 4-tuple and time.
#[test]
fn isn_depends_on_the_secret() {
    let isn = |seed| {
        let mut h = Harness::new(seed);
        h.listen(8);
        h.send(&Seg::to_us(TcpControl::Syn, PEER_ISS, None));
        h.take_one().seq.0
    };
    assert_eq!(isn(35), isn(35));
    assert_ne!(isn(35), isn(36));
}

/// RFC 6056 §3.2: a connect without bind takes a port from the dynamic
/// range 49152-65535, different for each connection.
#[test]
fn ephemeral_ports_from_the_dynamic_range() {
    let mut h = Harness::new(43);
    let mut ports = Vec::new();
    for _ in 0..40 {
        let c = h.stack.tcp_open().unwrap();
        h.stack
            .tcp_connect(c, SocketAddrV4::new(PEER, PEER_PORT), h.now)
            .unwrap();
        ports.push(h.stack.tcp_local_addr(c).unwrap().port());
    }
    h.run();
    let syns = h.take();
    assert_eq!(syns.len(), 40);
    for (s, p) in syns.iter().zip(&ports) {
        assert_eq!(s.src_port, *p);
    }
    assert!(
        ports.iter().all(|p| (49152..=65535).contains(p)),
        "{ports:?}"
    );
    let mut d = ports.clone();
    d.sort();
    d.dedup();
    assert_eq!(d.len(), ports.len());
}

/// RFC 6056 §3.2: binding port 0 picks an ephemeral port too.
#[test]
fn bind_port_zero_is_ephemeral() {
    let mut h = Harness::new(44);
    let c = h.stack.tcp_open().unwrap();
    let a = h
        .stack
        .tcp_bind(c, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
        .unwrap();
    assert!((49152..=65535).contains(&a.port()));
}

/// RFC 9293 §3.10.1 (OPEN) and RFC 1122 §4.2.3.7 (the local address comes
/// from IP routing): a destination with no route fails at once; nothing is
/// sent.
#[test]
fn connect_without_route_fails() {
    let mut h = Harness::new(45);
    let c = h.stack.tcp_open().unwrap();
    let far = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 1), 80);
    assert_eq!(
        h.stack.tcp_connect(c, far, h.now),
        Err(TcpConnectError::NoRoute)
    );
    h.run();
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
}

/// Linux's `tcp_v4_connect`: a route to a broadcast or multicast
/// destination is ENETUNREACH (RFC 1122 §4.2.3.10: TCP is unicast), so
/// the limited broadcast, our subnet's directed broadcast and a multicast
/// group all give `NoRoute`; nothing is sent.
#[test]
fn connect_to_broadcast_or_multicast_is_no_route() {
    let mut h = Harness::new(46);
    let c = h.stack.tcp_open().unwrap();
    let now = h.now;
    for bad in [
        SocketAddrV4::new(Ipv4Addr::new(255, 255, 255, 255), 80),
        SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 255), 80),
        SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 1), 80),
    ] {
        assert_eq!(
            h.stack.tcp_connect(c, bad, now),
            Err(TcpConnectError::NoRoute),
            "{bad}"
        );
    }
    h.run();
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
}

/// Linux sends a SYN to port 0 like to any port (connect does not check
/// it): the SYN goes out with destination port 0.
#[test]
fn connect_to_port_zero_sends_the_syn() {
    let mut h = Harness::new(51);
    let c = h.stack.tcp_open().unwrap();
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(PEER, 0), now)
        .unwrap();
    h.run();
    let syn = h.take_one();
    assert!(syn.is_syn() && syn.ack.is_none());
    assert_eq!(syn.dst_port, 0);
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
}

/// Linux: connect to 127.0.0.1 port 0 is ECONNREFUSED. No socket holds
/// port 0, so our own stack answers the SYN with RST (RFC 9293
/// §3.10.7.1) and the RST refuses the attempt (§3.10.7.3); nothing
/// reaches the wire.
#[test]
fn connect_to_port_zero_over_loopback_is_refused() {
    let mut h = Harness::new(52);
    let c = h.stack.tcp_open().unwrap();
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), now)
        .unwrap();
    h.run();
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Closed));
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Refused));
    assert_eq!(h.stack.stats().tcp.resets_rx, 1);
}

/// RFC 9293 §3.10.1 (OPEN on an existing connection: "error: connection
/// already exists"): a second connect is InProgress while SYN-SENT and
/// IsConnected once established.
#[test]
fn connect_twice() {
    let mut h = Harness::new(47);
    let (c, syn) = h.connect();
    let peer = SocketAddrV4::new(PEER, PEER_PORT);
    let now = h.now;
    assert_eq!(
        h.stack.tcp_connect(c, peer, now),
        Err(TcpConnectError::InProgress)
    );
    h.send(&linux_synack(&syn, PEER_ISS));
    assert_eq!(
        h.stack.tcp_connect(c, peer, now),
        Err(TcpConnectError::IsConnected)
    );
    h.take();
    h.run();
    h.expect_silence();
}

/// RFC 9293 §3.10.1: a listening socket cannot connect.
#[test]
fn connect_on_listener_fails() {
    let mut h = Harness::new(48);
    let l = h.listen(4);
    let now = h.now;
    assert_eq!(
        h.stack
            .tcp_connect(l, SocketAddrV4::new(PEER, PEER_PORT), now),
        Err(TcpConnectError::Listening)
    );
}

/// RFC 9293 §3.10.4 (CLOSE in SYN-SENT: delete the TCB): closing a
/// connecting socket sends nothing; the late SYN-ACK finds no connection
/// and is reset with <SEQ=SEG.ACK> (§3.10.7.1).
#[test]
fn close_in_syn_sent_forgets_the_attempt() {
    let mut h = Harness::new(49);
    let (c, syn) = h.connect();
    h.close(c);
    h.expect_silence();
    h.send(&linux_synack(&syn, PEER_ISS));
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.seq == SeqNumber(add(syn.seq.0, 1)) && rst.ack.is_none());
}

/// RFC 9293 §3.10.7.3: after a refused attempt, the socket may connect
/// again; the new SYN has a new ISN (RFC 6528 §3: the clock moved).
#[test]
fn connect_again_after_refusal() {
    let mut h = Harness::new(50);
    let (c, syn) = h.connect();
    h.send(&Seg::to_us(TcpControl::Rst, 0, Some(add(syn.seq.0, 1))));
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Refused));
    h.advance(Duration::from_secs(1));
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(PEER, PEER_PORT), now)
        .unwrap();
    h.run();
    let syn2 = h.take_one();
    assert!(syn2.is_syn() && syn2.ack.is_none());
    assert_eq!(syn2.seq.0.wrapping_sub(syn.seq.0), 1_000_000 / 4);
    h.send(&linux_synack(&syn2, PEER_ISS));
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
}
