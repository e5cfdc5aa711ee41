//! Resets and blind-attack defences: RST in every synchronized state (RFC
//! 9293 §3.10.7.4, RFC 5961 §3), SYN in a synchronized state (RFC 5961 §4),
//! ACK acceptability (RFC 5961 §5), the challenge ACK limit (RFC 5961 §7),
//! and segments for no connection (RFC 9293 §3.10.7.1).

mod tcp_common;
use tcp_common::*;

use wolfip_core::config::TCP_SOCKETS;
use wolfip_core::wire::{SeqNumber, TcpControl};
use wolfip_core::{
    Duration, Ipv4Addr, Shutdown, TcpError, TcpHandle, TcpRecvError, TcpSendError, TcpState,
};

/// The peer's ISS.
const P: u32 = 9000;

/// A connection as the peer sees it.
struct Conn {
    c: TcpHandle,
    iss: u32,
    /// The stack's RCV.NXT (the peer's next sequence number).
    rcv: u32,
    /// The stack's SND.NXT.
    snd: u32,
}

/// A passive open without options, driven into state `st`.
fn into_state(h: &mut Harness, st: TcpState) -> Conn {
    use TcpState::*;
    let (c, iss) = h.accept_plain(P);
    let mut k = Conn {
        c,
        iss,
        rcv: add(P, 1),
        snd: add(iss, 1),
    };
    let fin_first = matches!(st, CloseWait | LastAck);
    if fin_first {
        h.send(&Seg::to_us(TcpControl::Fin, k.rcv, Some(k.snd)));
        k.rcv = add(k.rcv, 1);
    }
    if matches!(st, FinWait1 | FinWait2 | Closing | TimeWait | LastAck) {
        h.stack.tcp_shutdown(c, Shutdown::Write).unwrap();
        h.run();
        k.snd = add(k.snd, 1);
    }
    if matches!(st, FinWait2 | TimeWait) {
        h.send(&Seg::to_us(TcpControl::None, k.rcv, Some(k.snd)));
    }
    if matches!(st, Closing | TimeWait) {
        let ack = if st == Closing { add(iss, 1) } else { k.snd };
        h.send(&Seg::to_us(TcpControl::Fin, k.rcv, Some(ack)));
        k.rcv = add(k.rcv, 1);
    }
    h.take();
    assert_eq!(h.stack.tcp_state(c), Some(st));
    k
}

const SYNCHRONIZED: [TcpState; 7] = [
    TcpState::Established,
    TcpState::FinWait1,
    TcpState::FinWait2,
    TcpState::CloseWait,
    TcpState::Closing,
    TcpState::LastAck,
    TcpState::TimeWait,
];

/// Sends an exact RST in state `st`; returns the handle.
fn exact_rst(seed: u64, st: TcpState) -> (Harness, TcpHandle) {
    let mut h = Harness::new(seed);
    let k = into_state(&mut h, st);
    h.send(&Seg::to_us(TcpControl::Rst, k.rcv, None));
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(k.c), Some(TcpState::Closed), "{st:?}");
    assert_eq!(h.stack.stats().tcp.resets_rx, 1);
    (h, k.c)
}

/// Asserts `s` is an ACK <SEQ=SND.NXT><ACK=RCV.NXT> of connection `k`.
fn assert_ack_of(s: &Seg, k: &Conn) {
    assert!(!s.is_rst() && !s.is_syn() && s.payload.is_empty(), "{s:?}");
    assert_eq!((s.seq, s.ack), (SeqNumber(k.snd), Some(SeqNumber(k.rcv))));
}

/// RFC 9293 §3.10.7.4 (second check, ESTABLISHED) and RFC 5961 §3.2: a RST
/// with exactly RCV.NXT closes the connection; recv reports "connection
/// reset" once, then end of stream.
#[test]
fn exact_rst_in_established() {
    let (mut h, c) = exact_rst(1, TcpState::Established);
    let mut buf = [0u8; 4];
    assert_eq!(
        h.stack.tcp_recv(c, &mut buf),
        Err(TcpRecvError::Failed(TcpError::Reset))
    );
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(0));
}

/// RFC 9293 §3.10.7.4 (second check): send reports the reset too.
#[test]
fn exact_rst_reported_by_send() {
    let (mut h, c) = exact_rst(2, TcpState::Established);
    assert_eq!(
        h.stack.tcp_send(c, b"x"),
        Err(TcpSendError::Failed(TcpError::Reset))
    );
}

/// RFC 9293 §3.10.7.4 (second check, FIN-WAIT-1): connection reset.
#[test]
fn exact_rst_in_fin_wait_1() {
    let (mut h, c) = exact_rst(3, TcpState::FinWait1);
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Reset));
}

/// RFC 9293 §3.10.7.4 (second check, FIN-WAIT-2): connection reset.
#[test]
fn exact_rst_in_fin_wait_2() {
    let (mut h, c) = exact_rst(4, TcpState::FinWait2);
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Reset));
}

/// RFC 9293 §3.10.7.4 (second check, CLOSE-WAIT): connection reset.
#[test]
fn exact_rst_in_close_wait() {
    let (mut h, c) = exact_rst(5, TcpState::CloseWait);
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Reset));
}

/// RFC 9293 §3.10.7.4 (second check, CLOSING): "enter the CLOSED state,
/// delete the TCB, and return" — no error for the user.
#[test]
fn exact_rst_in_closing() {
    let (mut h, c) = exact_rst(6, TcpState::Closing);
    assert_eq!(h.stack.tcp_take_error(c), None);
}

/// RFC 9293 §3.10.7.4 (second check, LAST-ACK): closed without error.
#[test]
fn exact_rst_in_last_ack() {
    let (mut h, c) = exact_rst(7, TcpState::LastAck);
    assert_eq!(h.stack.tcp_take_error(c), None);
}

/// RFC 9293 §3.10.7.4 (second check, TIME-WAIT): closed without error.
#[test]
fn exact_rst_in_time_wait() {
    let (mut h, c) = exact_rst(8, TcpState::TimeWait);
    assert_eq!(h.stack.tcp_take_error(c), None);
}

/// RFC 9293 §3.10.7.4 and RFC 5961 §3.2: a RST carrying an ACK is judged
/// by its sequence number alone.
#[test]
fn exact_rst_with_ack_flag() {
    let mut h = Harness::new(9);
    let k = into_state(&mut h, TcpState::Established);
    h.send(&Seg::to_us(TcpControl::Rst, k.rcv, Some(k.snd)));
    assert_eq!(h.stack.tcp_state(k.c), Some(TcpState::Closed));
}

/// RFC 5961 §3.2: a RST in the window but not at RCV.NXT gets a challenge
/// ACK <SEQ=SND.NXT><ACK=RCV.NXT>, and the connection stays.
#[test]
fn in_window_rst_gets_challenge_ack_trace() {
    let mut h = Harness::new(10);
    let k = into_state(&mut h, TcpState::Established);
    h.send(&Seg::to_us(TcpControl::Rst, add(k.rcv, 1), None));
    h.send(&Seg::to_us(TcpControl::Rst, add(k.rcv, 5000), Some(k.snd)));
    assert_eq!(h.stack.tcp_state(k.c), Some(TcpState::Established));
    assert_eq!(h.stack.stats().tcp.challenge_acks, 2);
    assert_eq!(h.stack.stats().tcp.resets_rx, 0);
    insta::assert_snapshot!(trace(&h.sent, k.iss, P));
}

/// RFC 5961 §3.2: in every synchronized state an in-window inexact RST is
/// answered with a challenge ACK and changes nothing.
#[test]
fn in_window_rst_challenged_in_every_state() {
    for (i, st) in SYNCHRONIZED.into_iter().enumerate() {
        let mut h = Harness::new(20 + i as u64);
        let k = into_state(&mut h, st);
        h.send(&Seg::to_us(TcpControl::Rst, add(k.rcv, 100), None));
        assert_ack_of(&h.take_one(), &k);
        assert_eq!(h.stack.tcp_state(k.c), Some(st));
        assert_eq!(h.stack.tcp_take_error(k.c), None);
    }
}

/// RFC 9293 §3.10.7.4 (first check) and RFC 5961 §3.2: a RST outside the
/// window, ahead or behind, is dropped silently in every state.
#[test]
fn out_of_window_rst_ignored_in_every_state() {
    for (i, st) in SYNCHRONIZED.into_iter().enumerate() {
        let mut h = Harness::new(30 + i as u64);
        let k = into_state(&mut h, st);
        for seq in [
            add(k.rcv, 1_000_000),
            k.rcv.wrapping_sub(1),
            k.rcv.wrapping_sub(70_000),
        ] {
            h.send(&Seg::to_us(TcpControl::Rst, seq, Some(k.snd)));
            h.expect_silence();
        }
        assert_eq!(h.stack.tcp_state(k.c), Some(st));
    }
}

/// RFC 5961 §7: challenge ACKs are limited (10 per second here); the
/// budget returns in the next second.
#[test]
fn challenge_ack_rate_limit() {
    let mut h = Harness::new(40);
    let k = into_state(&mut h, TcpState::Established);
    for i in 0..15 {
        h.send(&Seg::to_us(TcpControl::Rst, add(k.rcv, 10 + i), None));
    }
    let acks = h.take();
    assert_eq!(acks.len(), 10);
    assert_eq!(h.stack.stats().tcp.challenge_acks, 10);
    h.advance(Duration::from_millis(999));
    h.send(&Seg::to_us(TcpControl::Rst, add(k.rcv, 10), None));
    h.expect_silence();
    h.advance(Duration::from_millis(1));
    h.send(&Seg::to_us(TcpControl::Rst, add(k.rcv, 10), None));
    assert_ack_of(&h.take_one(), &k);
    assert_eq!(h.stack.tcp_state(k.c), Some(TcpState::Established));
}

/// RFC 5961 §4.2 and §7: SYNs in a synchronized state draw challenge ACKs
/// from the same budget as RSTs.
#[test]
fn syn_and_rst_share_the_challenge_budget() {
    let mut h = Harness::new(41);
    let k = into_state(&mut h, TcpState::Established);
    for i in 0..6 {
        h.send(&Seg::to_us(TcpControl::Rst, add(k.rcv, 10 + i), None));
        h.send(&Seg::to_us(TcpControl::Syn, add(k.rcv, 10 + i), None));
    }
    assert_eq!(h.take().len(), 10);
}

/// RFC 5961 §4.2: a SYN in ESTABLISHED, whatever its sequence number, is
/// answered with a challenge ACK; the connection is not reset.
#[test]
fn syn_in_established_gets_challenge_ack_trace() {
    let mut h = Harness::new(42);
    let k = into_state(&mut h, TcpState::Established);
    h.send(&Seg::to_us(TcpControl::Syn, add(k.rcv, 10), None));
    h.send(&Seg::to_us(TcpControl::Syn, P, None).with_linux_syn_options(1));
    assert_eq!(h.stack.tcp_state(k.c), Some(TcpState::Established));
    assert_eq!(h.stack.stats().tcp.resets_rx, 0);
    insta::assert_snapshot!(trace(&h.sent, k.iss, P));
}

/// RFC 5961 §4.2: in every synchronized state a SYN gets an ACK and the
/// connection stays as it was.
#[test]
fn syn_in_every_synchronized_state_gets_ack() {
    for (i, st) in SYNCHRONIZED.into_iter().enumerate() {
        let mut h = Harness::new(50 + i as u64);
        let k = into_state(&mut h, st);
        h.send(&Seg::to_us(TcpControl::Syn, add(k.rcv, 3), None));
        assert_ack_of(&h.take_one(), &k);
        assert_eq!(h.stack.tcp_state(k.c), Some(st));
    }
}

/// RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is discarded
/// with a challenge ACK; its data is not taken.
#[test]
fn too_old_ack_dropped_with_challenge() {
    let mut h = Harness::new(60);
    let k = into_state(&mut h, TcpState::Established);
    let old = k.snd.wrapping_sub(70_000); // the peer's window was 65535
    h.send(&Seg::to_us(TcpControl::Psh, k.rcv, Some(old)).with_payload(b"evil"));
    assert_ack_of(&h.take_one(), &k);
    assert_eq!(h.stack.stats().tcp.challenge_acks, 1);
    let mut buf = [0u8; 8];
    assert_eq!(
        h.stack.tcp_recv(k.c, &mut buf),
        Err(TcpRecvError::WouldBlock)
    );
}

/// RFC 5961 §5.2: an ACK within [SND.UNA - MAX.SND.WND, SND.UNA] is
/// acceptable (a duplicate); the segment's data is taken.
#[test]
fn old_ack_within_window_accepted() {
    let mut h = Harness::new(61);
    let k = into_state(&mut h, TcpState::Established);
    h.send(&Seg::to_us(TcpControl::Psh, k.rcv, Some(k.snd.wrapping_sub(1000))).with_payload(b"ok"));
    let mut buf = [0u8; 8];
    assert_eq!(h.stack.tcp_recv(k.c, &mut buf), Ok(2));
    assert_eq!(h.stack.stats().tcp.challenge_acks, 0);
}

/// RFC 9293 §3.10.7.4 (fifth check) and RFC 5961 §5.2: an ACK for data not
/// yet sent (SEG.ACK > SND.NXT) is answered with an ACK and dropped.
#[test]
fn ack_above_snd_nxt_acked_and_dropped() {
    let mut h = Harness::new(62);
    let k = into_state(&mut h, TcpState::Established);
    h.send(&Seg::to_us(TcpControl::Psh, k.rcv, Some(add(k.snd, 10))).with_payload(b"evil"));
    assert_ack_of(&h.take_one(), &k);
    let mut buf = [0u8; 8];
    assert_eq!(
        h.stack.tcp_recv(k.c, &mut buf),
        Err(TcpRecvError::WouldBlock)
    );
    assert_eq!(h.stack.tcp_state(k.c), Some(TcpState::Established));
}

/// RFC 9293 §3.10.7.1: a SYN to a closed port is answered with
/// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting the SYN.
#[test]
fn syn_to_closed_port_gets_rst_ack() {
    let mut h = Harness::new(70);
    h.send(&Seg::to_us(TcpControl::Syn, 5000, None).with_linux_syn_options(7));
    let rst = h.take_one();
    assert!(rst.is_rst());
    assert_eq!((rst.seq, rst.ack), (SeqNumber(0), Some(SeqNumber(5001))));
    assert_eq!((rst.src_port, rst.dst_port), (PORT, PEER_PORT));
    assert_eq!(rst.mss, None);
    assert_eq!(rst.timestamp, None);
    assert!(rst.payload.is_empty());
    assert_eq!(h.stack.stats().tcp.drop_no_socket, 1);
    assert_eq!(h.stack.stats().tcp.resets_tx, 1);
}

/// RFC 9293 §3.10.7.1: a segment with ACK to a closed port gets
/// <SEQ=SEG.ACK><CTL=RST> (no ACK).
#[test]
fn ack_to_closed_port_gets_rst() {
    let mut h = Harness::new(71);
    h.send(&Seg::to_us(TcpControl::Psh, 5000, Some(77_777)).with_payload(b"abc"));
    let rst = h.take_one();
    assert!(rst.is_rst());
    assert_eq!((rst.seq, rst.ack), (SeqNumber(77_777), None));
}

/// RFC 9293 §3.10.7.1: without ACK, SEG.LEN counts data and FIN.
#[test]
fn data_and_fin_to_closed_port_without_ack() {
    let mut h = Harness::new(72);
    h.send(&Seg::to_us(TcpControl::Psh, 5000, None).with_payload(b"0123456789"));
    assert_eq!(h.take_one().ack, Some(SeqNumber(5010)));
    h.send(&Seg::to_us(TcpControl::Fin, 5000, None).with_payload(b"abc"));
    assert_eq!(h.take_one().ack, Some(SeqNumber(5004)));
    h.send(&Seg::to_us(TcpControl::None, u32::MAX, None).with_payload(b"ab"));
    assert_eq!(h.take_one().ack, Some(SeqNumber(1)));
}

/// RFC 9293 §3.10.7.1: "An incoming segment containing a RST is
/// discarded" — never a RST for a RST.
#[test]
fn rst_to_closed_port_gets_nothing() {
    let mut h = Harness::new(73);
    h.send(&Seg::to_us(TcpControl::Rst, 5000, None));
    h.send(&Seg::to_us(TcpControl::Rst, 5000, Some(1234)));
    h.expect_silence();
}

/// RFC 9293 §3.10.7.1: a port with a listener elsewhere is still closed
/// for other ports, and a connection's port for other peers' ports.
#[test]
fn other_ports_are_closed() {
    let mut h = Harness::new(74);
    let k = into_state(&mut h, TcpState::Established);
    h.send(&Seg::to_us(TcpControl::Syn, 1, None).with_ports(PEER_PORT, 81));
    assert_eq!(h.take_one().dst_port, PEER_PORT);
    h.send(&Seg::to_us(TcpControl::None, 1, Some(2)).with_ports(PEER_PORT + 1, 81));
    assert!(h.take_one().is_rst());
    assert_eq!(h.stack.tcp_state(k.c), Some(TcpState::Established));
}

/// RFC 9293 §3.10.7.4: a reset after the peer closed and we sent into
/// the half-closed connection is a broken pipe (EPIPE, as on Linux).
#[test]
fn rst_after_sending_into_close_wait_is_broken_pipe() {
    let mut h = Harness::new(75);
    let k = into_state(&mut h, TcpState::CloseWait);
    h.stack.tcp_send(k.c, b"late").unwrap();
    h.run();
    h.take_one();
    h.send(&Seg::to_us(TcpControl::Rst, k.rcv, None));
    assert_eq!(
        h.stack.tcp_send(k.c, b"x"),
        Err(TcpSendError::Failed(TcpError::BrokenPipe))
    );
}

/// RFC 9293 §3.10.7.4 (RST: "all segment queues should be flushed"): after
/// a reset nothing queued is sent or retransmitted.
#[test]
fn rst_flushes_the_send_queue() {
    let mut h = Harness::new(76);
    let k = into_state(&mut h, TcpState::Established);
    h.stack.tcp_send(k.c, &[1u8; 3000]).unwrap();
    h.run();
    assert!(!h.take().is_empty());
    h.send(&Seg::to_us(TcpControl::Rst, k.rcv, None));
    for _ in 0..5 {
        h.advance_to_deadline(Duration::from_secs(10));
    }
    h.expect_silence();
    assert_eq!(h.stack.stats().tcp.retransmits, 0);
}

/// RFC 9293 §3.10.7.4: a reset connection the user already closed is
/// forgotten entirely; its slot is free again.
#[test]
fn rst_frees_a_closed_handle() {
    let mut h = Harness::new(77);
    let k = into_state(&mut h, TcpState::FinWait2);
    let now = h.now;
    h.stack.tcp_close(k.c, now);
    h.send(&Seg::to_us(TcpControl::Rst, k.rcv, None));
    let mut n = 0;
    while h.stack.tcp_open().is_ok() {
        n += 1;
    }
    // Only the listener of the passive open remains.
    assert_eq!(n, TCP_SOCKETS - 1);
}

/// RFC 1122 §4.2.3.10 ("MUST silently discard an incoming SYN segment that
/// is addressed to a broadcast or multicast address") and RFC 9293
/// §3.10.7.1: no SYN-ACK and no RST, even with a listener on the port.
#[test]
fn syn_to_broadcast_ignored() {
    let mut h = Harness::new(78);
    h.listen(4);
    let syn = Seg::to_us(TcpControl::Syn, 5000, None);
    for dst in [Ipv4Addr::new(192, 0, 2, 255), Ipv4Addr::BROADCAST] {
        let frame = build_frame(&syn, PEER, dst);
        let (now, iface) = (h.now, h.iface);
        h.stack.receive(now, iface, &frame);
        h.run();
        h.expect_silence();
    }
    // The same SYN sent to our address is answered.
    h.send(&syn);
    assert!(h.take_one().is_syn());
}
