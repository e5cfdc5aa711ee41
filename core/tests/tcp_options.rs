//! TCP options at work after the handshake: window scaling (RFC 7323 §2),
//! timestamps with RTTM and PAWS (RFC 7323 §3-§5), SACK blocks (RFC 2018),
//! the MSS (RFC 9293 §3.7.1, RFC 6691) and path MTU discovery (RFC 1191),
//! the receive buffer option, and DF on every segment.

mod tcp_common;
use tcp_common::*;
use wolfip_core::config::TCP_RX_BUFFER;
use wolfip_core::wire::{DstUnreachable, SeqNumber, TcpControl};
use wolfip_core::{Keepalive, Shutdown, TcpError, TcpRecvError, TcpState};

const IRS: u32 = 5000;

/// The window scale RFC 7323 §2.3 calls for: the smallest shift that lets
/// the 16-bit field cover the receive buffer.
fn expected_shift() -> u8 {
    (0..=14u8)
        .find(|&s| TCP_RX_BUFFER >> s <= 65535)
        .unwrap_or(14)
}

/// A peer segment with an explicit TSval (the tests use values above the
/// peer clock of the handshake, 100 000 ms).
fn with_tsval(h: &Harness, p: &Peer, off: usize, data: &[u8], tsval: u32) -> Seg {
    let mut s = h.peer_seg(p, TcpControl::Psh, p.their(off), data);
    s.timestamp = Some((tsval, h.tsecr()));
    s
}

/// RFC 7323 §2.2-§2.3: the peer's windows are shifted by the scale it
/// announced (a shift above 14 is taken as 14); without the option they
/// are not scaled at all.
#[test]
fn peer_windows_are_scaled_by_its_shift() {
    for (ws, shift) in [
        (None, 0),
        (Some(0), 0),
        (Some(3), 3),
        (Some(7), 7),
        (Some(14), 14),
        (Some(15), 14),
    ] {
        let mut h = Harness::new(1);
        let p = h.open(
            IRS,
            SynOpts {
                ws,
                window: 100,
                ..SynOpts::K
            },
        );
        let info = h.stack.tcp_info(p.h).unwrap();
        assert_eq!(info.snd_wnd, 100 << shift, "{ws:?}");
        assert_eq!(info.window_scaling, ws.is_some());
    }
}

/// RFC 7323 §2.2: "The window field in a segment where the SYN bit is set
/// ... MUST NOT be scaled": after an active open the SYN-ACK's window is
/// taken as it is, and we send no more than that.
#[test]
fn window_of_a_syn_is_never_scaled() {
    let mut h = Harness::new(1);
    let (c, syn) = h.connect();
    assert_eq!(
        syn.window_scale,
        Some(expected_shift()),
        "offered in our SYN"
    );
    let mut synack = Seg::to_us(TcpControl::Syn, 9000, Some(syn.seq.0 + 1)).with_window(2048);
    synack.mss = Some(1000);
    synack.window_scale = Some(7);
    h.send(&synack);
    assert_eq!(h.take_one().ack, Some(SeqNumber(9001)));
    assert_eq!(h.stack.tcp_info(c).unwrap().snd_wnd, 2048);
    h.stack.tcp_send(c, &pattern(1, 10_000)).unwrap();
    h.run();
    let segs = h.take();
    assert_eq!(segs.iter().map(|s| s.payload.len()).sum::<usize>(), 2000);
}

/// RFC 7323 §2.3: we announce the smallest shift that covers our buffer,
/// advertise at most 65535 unscaled in the SYN-ACK, and later window
/// fields are the free buffer shifted right by it.
#[test]
fn our_window_is_shifted_by_our_scale() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::LINUX);
    let synack = h.sent[0].clone();
    let shift = expected_shift();
    assert_eq!(synack.window_scale, Some(shift));
    assert_eq!(usize::from(synack.window), TCP_RX_BUFFER.min(65535));
    h.peer_data(&mut p, &pattern(2, 1000));
    h.peer_data(&mut p, &pattern(3, 1000));
    let ack = h.take_one();
    assert_eq!(usize::from(ack.window), (TCP_RX_BUFFER - 2000) >> shift);
}

/// RFC 7323 §2.2: window scaling is used only if both sides send the
/// option: without the peer's, our SYN-ACK has none and our window fields
/// are not shifted.
#[test]
fn no_window_scaling_unless_both_offer() {
    let mut h = Harness::new(1);
    let mut p = h.open(
        IRS,
        SynOpts {
            ws: None,
            ..SynOpts::LINUX
        },
    );
    assert_eq!(h.sent[0].window_scale, None);
    h.peer_data(&mut p, &pattern(2, 1000));
    h.peer_data(&mut p, &pattern(3, 1000));
    let ack = h.take_one();
    assert_eq!(usize::from(ack.window), (TCP_RX_BUFFER - 2000).min(65535));
    assert!(!h.stack.tcp_info(p.h).unwrap().window_scaling);
}

/// RFC 7323 §3.2 and §4.3: every segment carries our TSval, a clock in
/// milliseconds (§5.4), and echoes the TSval of the segment it
/// acknowledges in TSecr.
#[test]
fn timestamps_are_sent_and_echoed() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::LINUX);
    let mut last = h.tsecr();
    for i in 0..4u32 {
        h.advance(ms(30));
        let s = with_tsval(&h, &p, (2 * i) as usize, b"ab", 200_000 + i);
        p.nxt += 2;
        h.send(&s);
        h.advance(ms(20));
        let ack = h.take_one();
        let (tsval, tsecr) = ack.timestamp.unwrap();
        assert_eq!(tsecr, 200_000 + i);
        assert_eq!(tsval.wrapping_sub(last), 50);
        last = tsval;
    }
}

/// RFC 7323 §4.3 case (A), delayed ACKs: TS.Recent is only updated by a
/// segment at or below Last.ACK.sent, so one ACK for two segments echoes
/// the TSval of the earlier one.
#[test]
fn delayed_ack_echoes_the_earliest_unacknowledged_tsval() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    h.send(&with_tsval(&h, &p, 0, &pattern(1, 1448), 208_001));
    h.send(&with_tsval(&h, &p, 1448, &pattern(2, 1448), 208_002));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(2896))));
    assert_eq!(ack.timestamp.unwrap().1, 208_001);
}

/// RFC 7323 §4.3 cases (B) and (C): an out-of-order segment does not
/// update TS.Recent (its dup ACK echoes the last in-order TSval); the
/// segment that fills the hole does.
#[test]
fn out_of_order_tsval_is_not_echoed_until_the_hole_fills() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    h.send(&with_tsval(&h, &p, 0, b"first", 208_001));
    h.advance(ms(20));
    assert_eq!(h.take_one().timestamp.unwrap().1, 208_001);
    h.send(&with_tsval(&h, &p, 105, b"later", 208_005));
    assert_eq!(h.take_one().timestamp.unwrap().1, 208_001);
    h.send(&with_tsval(&h, &p, 5, &pattern(3, 100), 208_006));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(110))));
    assert_eq!(ack.timestamp.unwrap().1, 208_006);
}

/// RFC 7323 §5.3 R1 (PAWS): a segment whose TSval is older than
/// TS.Recent is dropped and acknowledged; its data is not delivered.
#[test]
fn paws_drops_an_old_timestamp_and_acks() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    h.send(&with_tsval(&h, &p, 0, b"new", 209_000));
    h.advance(ms(20));
    h.take_one();
    h.send(&with_tsval(&h, &p, 3, b"old", 208_999));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(3))));
    assert_eq!(ack.timestamp.unwrap().1, 209_000);
    assert_eq!(h.stack.stats().tcp.drop_paws, 1);
    assert_eq!(h.read_all(p.h), b"new");
    // The same bytes with a fresh TSval are taken.
    h.send(&with_tsval(&h, &p, 3, b"old", 209_001));
    assert_eq!(h.read_all(p.h), b"old");
}

/// RFC 7323 §5.3 R1 (RST segments are acceptable "regardless of their
/// timestamp"): a RST with an old TSval still resets the connection.
#[test]
fn rst_is_not_subject_to_paws() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    h.send(&with_tsval(&h, &p, 0, b"x", 209_000));
    let mut rst = Seg::to_us(TcpControl::Rst, p.their(1), None);
    rst.timestamp = Some((1, 0));
    h.send(&rst);
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Closed));
    let mut buf = [0u8; 8];
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf), Ok(1));
    assert_eq!(
        h.stack.tcp_recv(p.h, &mut buf),
        Err(TcpRecvError::Failed(TcpError::Reset))
    );
}

/// RFC 7323 §5.5: after 24 days without a valid segment TS.Recent is no
/// longer trusted: an "older" TSval is accepted.
#[test]
fn paws_forgets_ts_recent_after_24_days() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    h.send(&with_tsval(&h, &p, 0, b"a", 209_000));
    h.advance(ms(25 * 24 * 3600 * 1000));
    h.arp_refresh();
    h.send(&with_tsval(&h, &p, 1, b"b", 100));
    assert_eq!(h.read_all(p.h), b"ab");
    assert_eq!(h.stack.stats().tcp.drop_paws, 0);
}

/// RFC 7323 §3.2: timestamps are used only if both SYNs carry them; a
/// peer that did not offer them gets none, even if it sends some later.
#[test]
fn no_timestamps_unless_both_offer() {
    let mut h = Harness::new(1);
    let mut p = h.open(
        IRS,
        SynOpts {
            ts: false,
            ..SynOpts::LINUX
        },
    );
    assert_eq!(h.sent[0].timestamp, None);
    let s = h.peer_seg(&p, TcpControl::Psh, p.nxt, b"hi").with_ts(5, 0);
    p.nxt += 2;
    h.send(&s);
    h.stack.tcp_send(p.h, b"yo").unwrap();
    h.run();
    assert!(h.sent.iter().all(|s| s.timestamp.is_none()));
    assert!(!h.stack.tcp_info(p.h).unwrap().timestamps);
}

/// RFC 2018 §2-§3: SACK blocks are sent only to a peer that sent
/// SACK-permitted.
#[test]
fn sack_blocks_only_when_permitted() {
    let mut h = Harness::new(1);
    let p = h.open(
        IRS,
        SynOpts {
            sack: false,
            ..SynOpts::LINUX
        },
    );
    assert!(!h.sent[0].sack_permitted);
    h.peer_data_at(&p, 1000, b"ahead");
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(0))));
    assert!(ack.sack.is_empty());
}

/// RFC 2018 §3: the option space limits the blocks: three beside
/// timestamps, four without.
#[test]
fn sack_blocks_fill_the_option_space() {
    for (opts, most) in [(SynOpts::LINUX, 3), (SynOpts::K, 4)] {
        let mut h = Harness::new(1);
        let p = h.open(IRS, opts);
        for k in 1..=6 {
            h.peer_data_at(&p, k * 200, b"x");
        }
        let acks = h.take();
        let counts: Vec<usize> = acks.iter().map(|a| a.sack.len()).collect();
        let want: Vec<usize> = (1..=6).map(|k: usize| k.min(most)).collect();
        assert_eq!(counts, want);
    }
}

/// RFC 9293 §3.7.1 and RFC 6691 §2: our segments hold at most the peer's
/// MSS less the TCP options they carry; without the option, 536 is
/// assumed (RFC 1122 §4.2.2.6); never more than our own MTU allows.
#[test]
fn segments_respect_the_peer_mss() {
    let cases = [
        (
            SynOpts {
                mss: Some(536),
                ..SynOpts::LINUX
            },
            524,
        ),
        (
            SynOpts {
                mss: Some(536),
                ..SynOpts::K
            },
            536,
        ),
        (SynOpts::PLAIN, 536),
        (
            SynOpts {
                mss: Some(9000),
                ..SynOpts::K
            },
            1460,
        ),
        (
            SynOpts {
                mss: Some(9000),
                ..SynOpts::LINUX
            },
            1448,
        ),
    ];
    for (opts, want) in cases {
        let mut h = Harness::new(1);
        let p = h.open(IRS, opts);
        assert_eq!(h.sent[0].mss, Some(1460), "MTU 1500 - 40");
        h.stack.tcp_send(p.h, &pattern(4, 5000)).unwrap();
        h.run();
        let segs = h.take();
        assert_eq!(segs[0].payload.len(), want, "{opts:?}");
        assert!(segs.iter().all(|s| s.payload.len() <= want));
        assert_eq!(h.stack.tcp_info(p.h).unwrap().mss as usize, want);
    }
}

/// An ICMP "fragmentation needed" from a router, quoting `seg` as we sent
/// it (its IP header and first 8 bytes of TCP).
fn frag_needed(seg: &Seg, mtu: u16) -> Vec<u8> {
    icmp_unreachable(seg, DstUnreachable::FragRequired, mtu)
}

/// The IP length of a segment we sent.
fn ip_len(seg: &Seg) -> usize {
    build_frame(seg, US, PEER).len() - 14
}

/// RFC 1191 §6.4-§6.5 and RFC 1122 §4.2.3.9: an ICMP "fragmentation
/// needed" for our segments lowers the MSS to the new path MTU; the lost
/// data goes again in segments that fit (options included), still with
/// DF, and arrives intact.
#[test]
fn frag_needed_lowers_the_mss() {
    for opts in [SynOpts::LINUX, SynOpts::K] {
        let mut h = Harness::new(1);
        let mut p = h.open(IRS, opts);
        let data = pattern(5, 6000);
        h.stack.tcp_send(p.h, &data).unwrap();
        h.run();
        let first = h.take();
        assert!(first.iter().all(|s| ip_len(s) <= 1500));
        // A router on the path drops them all: its MTU is 1000.
        for s in &first {
            let icmp = frag_needed(s, 1000);
            h.stack.receive(h.now, h.iface, &icmp);
        }
        h.run();
        assert_eq!(h.stack.path_mtu(PEER, h.now), Some(1000));
        let mut got = vec![None; data.len()];
        for _ in 0..50 {
            if got.iter().all(|b| b.is_some()) {
                break;
            }
            h.advance_tcp(ms(10_000));
            for s in h.take() {
                assert!(ip_len(&s) <= 1000, "{} bytes: {s:?}", ip_len(&s));
                assert!(s.dont_frag);
                let off = p.our_off(s.seq);
                for (i, &b) in s.payload.iter().enumerate() {
                    got[off + i] = Some(b);
                }
                let end = got.iter().position(|b| b.is_none()).unwrap_or(data.len());
                h.peer_ack(&mut p, end);
            }
        }
        let got: Vec<u8> = got
            .into_iter()
            .map(|b| b.expect("all data arrived"))
            .collect();
        assert_eq!(got, data);
        assert!(usize::from(h.stack.tcp_info(p.h).unwrap().mss) <= 1000 - 40);
    }
}

/// RFC 9293 §3.8.6.2.2 and RFC 7323 §2.3 with SO_RCVBUF: a receive buffer
/// set on the listener is what the SYN-ACK offers and what later windows
/// are computed from.
#[test]
fn receive_buffer_option_sets_the_offered_window() {
    let mut h = Harness::new(1);
    let l = h.listen(8);
    assert_eq!(h.stack.tcp_set_recv_buffer(l, 4000), Ok(4000));
    let mut syn = Seg::to_us(TcpControl::Syn, IRS, None);
    syn.mss = Some(1000);
    h.send(&syn);
    let synack = h.take_one();
    assert_eq!(synack.window, 4000);
    let iss = synack.seq.0;
    h.send(&Seg::to_us(TcpControl::None, IRS + 1, Some(iss + 1)));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    h.send(&Seg::to_us(TcpControl::Psh, IRS + 1, Some(iss + 1)).with_payload(&pattern(6, 1000)));
    h.advance(ms(100));
    assert_eq!(h.take_one().window, 3000);
    assert_eq!(h.stack.tcp_recv_queue(c), 1000);
}

/// RFC 1191 §3 (path MTU discovery): every TCP segment we send, of any
/// kind, has DF set.
#[test]
fn every_segment_has_dont_fragment() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::LINUX);
    h.stack.tcp_send(p.h, &pattern(7, 2 * 1448)).unwrap();
    h.run();
    h.peer_data_at(&p, 500, b"ooo");
    h.peer_data(&mut p, &pattern(8, 500));
    p.nxt += 3;
    h.read_all(p.h);
    h.run();
    h.peer_ack(&mut p, 2 * 1448);
    let ka = Keepalive {
        idle: wolfip_core::Duration::from_secs(1),
        interval: wolfip_core::Duration::from_secs(1),
        count: 1,
    };
    h.stack.tcp_set_keepalive(p.h, Some(ka)).unwrap();
    h.advance_tcp(ms(5000));
    h.stack.tcp_shutdown(p.h, Shutdown::Write).unwrap();
    h.run();
    h.send(&Seg::to_us(TcpControl::None, 1, Some(1)).with_ports(40001, 81));
    let kinds = [
        h.sent.iter().any(|s| s.is_syn()),
        h.sent.iter().any(|s| !s.payload.is_empty()),
        h.sent.iter().any(|s| !s.sack.is_empty()),
        h.sent
            .iter()
            .any(|s| !s.is_syn() && s.seq.0 == p.iss.wrapping_add(2896)),
        h.sent.iter().any(|s| s.is_fin()),
        h.sent.iter().any(|s| s.is_rst()),
    ];
    assert_eq!(kinds, [true; 6], "every kind of segment was seen");
    assert!(h.sent.iter().all(|s| s.dont_frag));
}
