//! Connection teardown: active close (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT),
//! passive close (CLOSE-WAIT, LAST-ACK), simultaneous close (CLOSING),
//! half-close both ways, FIN retransmission, TIME-WAIT, reset on close
//! with unread data, abort, slot reuse (and reclaiming slots from closed
//! connections when the table is full), SO_REUSEADDR over TIME-WAIT, and
//! disconnect.

mod tcp_common;
use tcp_common::*;

use wolfip_core::config::{TCP_DELAYED_ACK_MS, TCP_SOCKETS, TCP_TIME_WAIT_MS};
use wolfip_core::wire::{SeqNumber, TcpControl};
use wolfip_core::{
    Duration, Ipv4Addr, Shutdown, SocketAddrV4, TcpBindError, TcpError, TcpHandle, TcpRecvError,
    TcpSendError, TcpState,
};

/// The peer's ISS.
const P: u32 = 9000;
const TIME_WAIT: Duration = Duration::from_millis(TCP_TIME_WAIT_MS as u64);
const TIME_WAIT_LESS_1MS: Duration = Duration::from_millis(TCP_TIME_WAIT_MS as u64 - 1);

/// A segment from the peer at offset `off` of its stream (0 is the first
/// byte after the SYN) acknowledging offset `ack` of ours.
fn peer(ctl: TcpControl, iss: u32, off: u32, ack: u32) -> Seg {
    Seg::to_us(ctl, add(P, 1 + off), Some(add(iss, 1 + ack)))
}

fn state(h: &mut Harness, c: TcpHandle) -> Option<TcpState> {
    h.stack.tcp_state(c)
}

/// Our FIN after `shutdown(Write)`: one segment, returned.
/// The ACK of a FIN that moved the connection to CLOSE-WAIT: delayed
/// (RFC 1122 §4.2.3.2), so that an application closing at once sends it
/// on its FIN; nothing goes out before the delayed-ACK time.
fn delayed_ack_of_fin(h: &mut Harness) -> Seg {
    h.expect_silence();
    h.advance(Duration::from_millis(TCP_DELAYED_ACK_MS as u64 - 1));
    h.expect_silence();
    h.advance(Duration::from_millis(1));
    h.take_one()
}

fn shut_write(h: &mut Harness, c: TcpHandle) -> Seg {
    h.stack.tcp_shutdown(c, Shutdown::Write).unwrap();
    h.run();
    let fin = h.take_one();
    assert!(fin.is_fin(), "{fin:?}");
    fin
}

/// Active open from port 80 completed by a plain SYN-ACK; (handle, ISS).
fn connect_plain(h: &mut Harness) -> (TcpHandle, u32) {
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    h.send(&Seg::to_us(TcpControl::Syn, P, Some(add(iss, 1))));
    h.take_one();
    assert_eq!(state(h, c), Some(TcpState::Established));
    (c, iss)
}

/// RFC 9293 §3.6 (case 1) and §3.10.4: our close sends FIN after the data
/// (on the same segment here): FIN-WAIT-1; its ACK: FIN-WAIT-2; the peer's
/// FIN is acknowledged: TIME-WAIT; after TCP_TIME_WAIT_MS: CLOSED.
#[test]
fn active_close_trace() {
    let mut h = Harness::new(1);
    let (c, iss) = h.accept_plain(P);
    h.stack.tcp_send(c, b"hello").unwrap();
    h.stack.tcp_shutdown(c, Shutdown::Write).unwrap();
    h.run();
    assert_eq!(state(&mut h, c), Some(TcpState::FinWait1));
    h.send(&peer(TcpControl::None, iss, 0, 6));
    assert_eq!(state(&mut h, c), Some(TcpState::FinWait2));
    h.send(&peer(TcpControl::Fin, iss, 0, 6));
    assert_eq!(state(&mut h, c), Some(TcpState::TimeWait));
    h.advance(TIME_WAIT);
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
    let mut buf = [0u8; 4];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(0));
    insta::assert_snapshot!(trace(&h.sent, iss, P));
}

/// RFC 9293 §3.10.4 and §3.9.1 (FIN-WAIT-2 sends nothing until the peer
/// closes): once our FIN is acknowledged, no further FIN or retransmission
/// is sent, however long the peer waits.
#[test]
fn fin_wait_2_is_quiet() {
    let mut h = Harness::new(2);
    let (c, iss) = h.accept_plain(P);
    shut_write(&mut h, c);
    h.send(&peer(TcpControl::None, iss, 0, 1));
    for _ in 0..10 {
        h.advance_to_deadline(Duration::from_secs(5));
    }
    h.expect_silence();
    assert_eq!(state(&mut h, c), Some(TcpState::FinWait2));
    h.send(&peer(TcpControl::Fin, iss, 0, 1));
    let ack = h.take_one();
    assert_eq!(
        (ack.seq, ack.ack),
        (SeqNumber(add(iss, 2)), Some(SeqNumber(add(P, 2))))
    );
}

/// RFC 9293 §3.10.4: FIN goes after all queued data, even data not yet
/// sendable when close was called.
#[test]
fn fin_follows_queued_data() {
    let mut h = Harness::new(3);
    let (c, iss) = h.accept_plain(P);
    h.stack.tcp_send(c, &[5u8; 2000]).unwrap();
    h.close(c);
    let segs = h.take();
    let total: usize = segs.iter().map(|s| s.payload.len()).sum();
    assert_eq!(total, 2000);
    let last = segs.last().unwrap();
    assert!(last.is_fin());
    assert!(segs[..segs.len() - 1].iter().all(|s| !s.is_fin()));
    assert_eq!(add(last.seq.0, last.payload.len() as u32), add(iss, 2001));
}

/// RFC 9293 §3.10.8 (time-wait timeout) and §3.6: TIME-WAIT lasts exactly
/// TCP_TIME_WAIT_MS; until then the local port stays taken.
#[test]
fn time_wait_lasts_its_time_and_holds_the_port() {
    let mut h = Harness::new(4);
    let (c, iss) = connect_plain(&mut h);
    h.close(c);
    assert!(h.take_one().is_fin());
    h.send(&peer(TcpControl::Fin, iss, 0, 1));
    assert_eq!(h.take_one().ack, Some(SeqNumber(add(P, 2))));
    assert_eq!(h.stack.poll_at(h.now), Some(h.now + TIME_WAIT));
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT);
    let s = h.stack.tcp_open().unwrap();
    h.advance(TIME_WAIT_LESS_1MS);
    assert_eq!(h.stack.tcp_bind(s, any), Err(TcpBindError::AddrInUse));
    h.advance(Duration::from_millis(1));
    h.expect_silence();
    assert_eq!(h.stack.tcp_bind(s, any), Ok(any));
    let now = h.now;
    h.stack.tcp_close(s, now);
    // The same local port makes a new connection to the same peer.
    connect_plain(&mut h);
}

/// RFC 9293 §3.6 (case 2) and §3.10.7.4 (eighth check): the peer's FIN is
/// acknowledged at once: CLOSE-WAIT; recv reports end of stream (0) every
/// time; our close sends FIN: LAST-ACK; its ACK: CLOSED.
#[test]
fn passive_close_trace() {
    let mut h = Harness::new(5);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    assert_eq!(state(&mut h, c), Some(TcpState::CloseWait));
    assert_eq!(delayed_ack_of_fin(&mut h).ack, Some(SeqNumber(add(P, 2))));
    let mut buf = [0u8; 8];
    for _ in 0..3 {
        assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(0));
    }
    assert!(h.stack.tcp_can_recv(c));
    shut_write(&mut h, c);
    assert_eq!(state(&mut h, c), Some(TcpState::LastAck));
    h.send(&peer(TcpControl::None, iss, 1, 1));
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
    h.advance_to_deadline(Duration::from_secs(10));
    h.expect_silence();
    insta::assert_snapshot!(trace(&h.sent, iss, P));
}

/// RFC 9293 §3.10.4 (CLOSE in CLOSE-WAIT): closing the handle sends FIN;
/// the ACK ends the connection and frees its slot at once (no TIME-WAIT
/// for the side that closed second).
#[test]
fn close_in_close_wait_frees_the_slot() {
    let mut h = Harness::new(6);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    // Closing at once: one segment, our FIN carrying the ACK of theirs.
    h.close(c);
    let fin = h.take_one();
    assert!(fin.is_fin() && fin.seq == SeqNumber(add(iss, 1)));
    assert_eq!(fin.ack, Some(SeqNumber(add(P, 2))));
    assert_eq!(h.free_slots(), TCP_SOCKETS - 2);
    h.send(&peer(TcpControl::None, iss, 1, 1));
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
}

/// RFC 9293 §3.6 (case 3, simultaneous close): FINs cross; the peer's FIN
/// in FIN-WAIT-1 moves us to CLOSING; the ACK of ours to TIME-WAIT.
#[test]
fn simultaneous_close_trace() {
    let mut h = Harness::new(7);
    let (c, iss) = h.accept_plain(P);
    shut_write(&mut h, c);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    assert_eq!(state(&mut h, c), Some(TcpState::Closing));
    h.send(&peer(TcpControl::None, iss, 1, 1));
    assert_eq!(state(&mut h, c), Some(TcpState::TimeWait));
    h.advance(TIME_WAIT);
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
    insta::assert_snapshot!(trace(&h.sent, iss, P));
}

/// RFC 9293 §3.10.7.4 (first check, CLOSING): the peer's FIN again, or
/// an ACK short of our FIN, is acknowledged and the state stays CLOSING;
/// our FIN goes again on RTO (§3.8.1).
#[test]
fn closing_re_acks_and_retransmits_fin() {
    let mut h = Harness::new(23);
    let (c, iss) = h.accept_plain(P);
    let fin = shut_write(&mut h, c);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    let ack = h.take_one();
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    assert_eq!(h.take_one(), ack);
    assert_eq!(state(&mut h, c), Some(TcpState::Closing));
    h.advance_to_deadline(Duration::from_secs(100));
    let again = h.take_one();
    assert!(again.is_fin() && again.seq == fin.seq);
    assert_eq!(again.ack, Some(SeqNumber(add(P, 2))));
    h.send(&peer(TcpControl::None, iss, 1, 1));
    assert_eq!(state(&mut h, c), Some(TcpState::TimeWait));
}

/// RFC 9293 §3.10.7.4 (eighth check, FIN-WAIT-1): a FIN that also
/// acknowledges our FIN moves FIN-WAIT-1 straight to TIME-WAIT.
#[test]
fn fin_acking_our_fin_goes_to_time_wait() {
    let mut h = Harness::new(8);
    let (c, iss) = h.accept_plain(P);
    shut_write(&mut h, c);
    h.send(&peer(TcpControl::Fin, iss, 0, 1));
    assert_eq!(state(&mut h, c), Some(TcpState::TimeWait));
    let ack = h.take_one();
    assert_eq!(
        (ack.seq, ack.ack),
        (SeqNumber(add(iss, 2)), Some(SeqNumber(add(P, 2))))
    );
}

/// RFC 9293 §3.6 and RFC 1122 §4.2.2.13 (half-close): after our FIN we
/// keep receiving in FIN-WAIT-2; sending is refused.
#[test]
fn half_close_we_keep_receiving() {
    let mut h = Harness::new(9);
    let (c, iss) = h.accept_plain(P);
    shut_write(&mut h, c);
    assert_eq!(h.stack.tcp_send(c, b"x"), Err(TcpSendError::Shutdown));
    h.send(&peer(TcpControl::None, iss, 0, 1));
    h.send(&peer(TcpControl::Psh, iss, 0, 1).with_payload(b"more data"));
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(9));
    h.advance_to_deadline(Duration::from_secs(1));
    assert_eq!(h.take_one().ack, Some(SeqNumber(add(P, 10))));
    h.send(&peer(TcpControl::Fin, iss, 9, 1));
    assert_eq!(state(&mut h, c), Some(TcpState::TimeWait));
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(0));
}

/// RFC 9293 §3.6 and §3.10.2 (SEND in CLOSE-WAIT is allowed): after the
/// peer's FIN we keep sending; our FIN follows later.
#[test]
fn half_close_we_keep_sending() {
    let mut h = Harness::new(10);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    delayed_ack_of_fin(&mut h);
    h.stack.tcp_send(c, b"reply").unwrap();
    h.run();
    let d = h.take_one();
    assert_eq!(
        (d.seq, d.ack),
        (SeqNumber(add(iss, 1)), Some(SeqNumber(add(P, 2))))
    );
    assert_eq!(d.payload, b"reply");
    h.send(&peer(TcpControl::None, iss, 1, 5));
    assert_eq!(state(&mut h, c), Some(TcpState::CloseWait));
    let fin = shut_write(&mut h, c);
    assert_eq!(fin.seq, SeqNumber(add(iss, 6)));
    h.send(&peer(TcpControl::None, iss, 1, 6));
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
}

/// RFC 9293 §3.8.1 and RFC 6298 §5.5: an unacknowledged FIN is
/// retransmitted on RTO with the same sequence number, the interval
/// doubling.
#[test]
fn fin_retransmitted_on_rto() {
    let mut h = Harness::new(11);
    let (c, _) = h.accept_plain(P);
    let fin = shut_write(&mut h, c);
    let d1 = h.advance_to_deadline(Duration::from_secs(100));
    let r1 = h.take_one();
    let d2 = h.advance_to_deadline(Duration::from_secs(100));
    let r2 = h.take_one();
    for r in [&r1, &r2] {
        assert!(r.is_fin());
        assert_eq!((r.seq, r.ack), (fin.seq, fin.ack));
    }
    assert_eq!(d2.total_micros(), 2 * d1.total_micros());
    assert_eq!(state(&mut h, c), Some(TcpState::FinWait1));
    assert_eq!(h.stack.tcp_info(c).unwrap().timeouts, 2);
}

/// RFC 9293 §3.8.1: in LAST-ACK the FIN is retransmitted too, and its
/// ACK closes the connection.
#[test]
fn last_ack_fin_retransmitted() {
    let mut h = Harness::new(12);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    h.take();
    let fin = shut_write(&mut h, c);
    h.advance_to_deadline(Duration::from_secs(100));
    let r = h.take_one();
    assert!(r.is_fin() && r.seq == fin.seq);
    // An ACK that does not cover the FIN leaves LAST-ACK as it is.
    h.send(&peer(TcpControl::None, iss, 1, 0));
    assert_eq!(state(&mut h, c), Some(TcpState::LastAck));
    h.send(&peer(TcpControl::None, iss, 1, 1));
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
}

/// RFC 9293 §3.10.7.4 (eighth check, TIME-WAIT: "acknowledge it, and
/// restart the 2 MSL timeout"): a retransmitted FIN is ACKed again and the
/// wait starts over.
#[test]
fn time_wait_re_acks_fin_and_restarts() {
    let mut h = Harness::new(13);
    let (c, iss) = h.accept_plain(P);
    shut_write(&mut h, c);
    h.send(&peer(TcpControl::Fin, iss, 0, 1));
    let ack = h.take_one();
    let half = Duration::from_micros(TIME_WAIT.total_micros() / 2);
    h.advance(half);
    h.send(&peer(TcpControl::Fin, iss, 0, 1));
    assert_eq!(h.take_one(), ack);
    h.advance(TIME_WAIT_LESS_1MS);
    assert_eq!(state(&mut h, c), Some(TcpState::TimeWait));
    h.advance(Duration::from_millis(1));
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
}

/// RFC 5961 §4.2 and RFC 9293 §3.10.7.4: a SYN for the 4-tuple in
/// TIME-WAIT is answered with an ACK; no new connection is made.
#[test]
fn time_wait_answers_syn_with_ack() {
    let mut h = Harness::new(14);
    let (c, iss) = h.accept_plain(P);
    shut_write(&mut h, c);
    h.send(&peer(TcpControl::Fin, iss, 0, 1));
    let ack = h.take_one();
    h.send(&Seg::to_us(TcpControl::Syn, add(P, 100_000), None));
    assert_eq!(h.take_one(), ack);
    assert_eq!(state(&mut h, c), Some(TcpState::TimeWait));
}

/// RFC 9293 §3.10.7.4 (eighth check: a FIN is processed only at RCV.NXT):
/// a FIN beyond a hole is not taken; the hole filled, it is.
#[test]
fn fin_beyond_a_hole_waits() {
    let mut h = Harness::new(15);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Fin, iss, 3, 0).with_payload(b"def"));
    assert_eq!(h.take_one().ack, Some(SeqNumber(add(P, 1))));
    assert_eq!(state(&mut h, c), Some(TcpState::Established));
    h.send(&peer(TcpControl::Psh, iss, 0, 0).with_payload(b"abc"));
    h.send(&peer(TcpControl::Fin, iss, 3, 0).with_payload(b"def"));
    assert_eq!(state(&mut h, c), Some(TcpState::CloseWait));
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(6));
    assert_eq!(&buf[..6], b"abcdef");
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(0));
}

/// RFC 1122 §4.2.2.13 ("if CLOSE is called while received data is still
/// pending ... SHOULD send a RST"), as Linux: close with unread data sends
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> and frees the slot.
#[test]
fn close_with_unread_data_resets() {
    let mut h = Harness::new(16);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Psh, iss, 0, 0).with_payload(b"unread"));
    h.take();
    h.close(c);
    let rst = h.take_one();
    assert!(rst.is_rst());
    assert_eq!(
        (rst.seq, rst.ack),
        (SeqNumber(add(iss, 1)), Some(SeqNumber(add(P, 7))))
    );
    h.advance_to_deadline(Duration::from_secs(10));
    h.expect_silence();
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
}

/// RFC 1122 §4.2.2.13: the same in CLOSE-WAIT, when data before the FIN
/// was never read.
#[test]
fn close_in_close_wait_with_unread_data_resets() {
    let mut h = Harness::new(17);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Fin, iss, 0, 0).with_payload(b"abc"));
    h.take();
    h.close(c);
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.ack == Some(SeqNumber(add(P, 5))));
}

/// RFC 1122 §4.2.2.13 ("or if new data is received after CLOSE is called,
/// its TCP SHOULD send a RST"), as Linux and BSD: data arriving after the
/// application closed is answered with RST and the connection ends.
#[test]
fn data_after_close_resets() {
    let mut h = Harness::new(18);
    let (c, iss) = h.accept_plain(P);
    h.close(c);
    assert!(h.take_one().is_fin());
    h.send(&peer(TcpControl::None, iss, 0, 1));
    h.send(&peer(TcpControl::Psh, iss, 0, 1).with_payload(b"too late"));
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.seq == SeqNumber(add(iss, 2)), "{rst:?}");
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
}

/// RFC 9293 §3.10.5 (ABORT: "send a reset segment <SEQ=SND.NXT><CTL=RST>"):
/// abort sends RST and frees the slot at once; queued data is dropped.
#[test]
fn abort_sends_rst() {
    let mut h = Harness::new(19);
    let (c, iss) = h.accept_plain(P);
    h.send(&peer(TcpControl::Psh, iss, 0, 0).with_payload(b"hi"));
    h.take();
    h.abort(c);
    let rst = h.take_one();
    assert!(rst.is_rst());
    assert_eq!(
        (rst.seq, rst.ack),
        (SeqNumber(add(iss, 1)), Some(SeqNumber(add(P, 3))))
    );
    let mut buf = [0u8; 4];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Err(TcpRecvError::BadHandle));
    h.advance_to_deadline(Duration::from_secs(10));
    h.expect_silence();
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
    h.send(&peer(TcpControl::Psh, iss, 2, 0).with_payload(b"?"));
    assert!(h.take_one().is_rst());
}

/// RFC 9293 §3.10.5 (ABORT in SYN-SENT: no reset is sent).
#[test]
fn abort_in_syn_sent_sends_nothing() {
    let mut h = Harness::new(20);
    let (c, _) = h.connect();
    h.abort(c);
    h.advance_to_deadline(Duration::from_secs(10));
    h.expect_silence();
    assert_eq!(h.free_slots(), TCP_SOCKETS);
}

/// RFC 9293 §3.8.3 and §3.10.4: a closed connection whose FIN is never
/// acknowledged gives up after its retransmissions; the slot is freed.
#[test]
fn unacknowledged_fin_eventually_frees_the_slot() {
    let mut h = Harness::new(21);
    let (c, _) = h.accept_plain(P);
    let now = h.now;
    h.stack.tcp_close(c, now);
    let mut fins = 0;
    for _ in 0..100 {
        h.arp_refresh();
        h.advance_to_deadline(Duration::from_secs(30));
        fins += h.take().iter().filter(|s| s.is_fin()).count();
        if h.free_slots() == TCP_SOCKETS - 1 {
            break;
        }
    }
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
    assert!(fins > 2);
    assert_eq!(h.stack.stats().tcp.timed_out, 1);
}

/// RFC 9293 §3.6 and §3.10.8: 1000 connections opened and closed one after
/// another (alternately we and the peer close first; TIME-WAIT expires)
/// leave every slot free.
#[test]
fn thousand_open_close_cycles_leak_nothing() {
    let mut h = Harness::new(22);
    let l = h.listen(8);
    for k in 0..1000u32 {
        let port = 40000 + (k % 50) as u16;
        let to = |s: Seg| s.with_ports(port, PORT);
        h.send(&to(Seg::to_us(TcpControl::Syn, P, None)));
        let iss = h.take_one().seq.0;
        h.send(&to(peer(TcpControl::None, iss, 0, 0)));
        let (c, _) = h.stack.tcp_accept(l).unwrap();
        let now = h.now;
        if k % 2 == 0 {
            h.stack.tcp_close(c, now);
            h.run();
            h.send(&to(peer(TcpControl::Fin, iss, 0, 1)));
            h.advance(TIME_WAIT);
        } else {
            h.send(&to(peer(TcpControl::Fin, iss, 0, 0)));
            h.stack.tcp_close(c, now);
            h.run();
            h.send(&to(peer(TcpControl::None, iss, 1, 1)));
        }
        let segs = h.take();
        assert!(segs.iter().all(|s| !s.is_rst()), "cycle {k}: {segs:?}");
        if k % 20 == 0 {
            h.arp_refresh();
        }
    }
    assert_eq!(h.stack.stats().tcp.passive_opens, 1000);
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
}

// ---------------------------------------------------------------------
// Slot reuse when the table is full, SO_REUSEADDR over TIME-WAIT, and
// tcp_disconnect.

/// An active open from local `port` to the peer, completed by a plain
/// SYN-ACK; (handle, our ISS).
fn established_from(h: &mut Harness, port: u16) -> (TcpHandle, u32) {
    let c = h.stack.tcp_open().unwrap();
    h.stack
        .tcp_bind(c, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
        .unwrap();
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(PEER, PEER_PORT), now)
        .unwrap();
    h.run();
    let iss = h.take_one().seq.0;
    h.send(&Seg::to_us(TcpControl::Syn, P, Some(add(iss, 1))).with_ports(PEER_PORT, port));
    h.take_one();
    (c, iss)
}

/// `established_from`, then closed by us first and by the peer: the
/// connection sits in TIME-WAIT and the application no longer holds it.
fn time_wait_from(h: &mut Harness, port: u16) -> u32 {
    let (c, iss) = established_from(h, port);
    h.close(c);
    assert!(h.take_one().is_fin());
    h.send(&peer(TcpControl::Fin, iss, 0, 1).with_ports(PEER_PORT, port));
    assert!(!h.take_one().is_rst());
    iss
}

/// lwIP's `tcp_alloc` (Linux has no socket-table limit, so a table full of
/// TIME-WAIT must not refuse a socket): with every slot in TIME-WAIT,
/// `tcp_open` frees the oldest one as its timer would; that connection is
/// gone (the peer's repeated FIN meets no socket: RST, RFC 9293
/// §3.10.7.1) while the next oldest still answers from TIME-WAIT
/// (§3.10.7.4: ACK and restart the timer).
#[test]
fn full_table_of_time_wait_gives_up_the_oldest() {
    let mut h = Harness::new(30);
    let mut isses = Vec::new();
    for k in 0..TCP_SOCKETS as u16 {
        isses.push(time_wait_from(&mut h, 1000 + k));
        h.advance(Duration::from_millis(1));
    }
    assert_eq!(h.free_slots(), 0);
    let s = h.stack.tcp_open().expect("a TIME-WAIT slot is reclaimed");
    h.run();
    h.expect_silence();
    assert_eq!(h.stack.stats().tcp.reclaimed, 1);
    assert_eq!(h.stack.tcp_state(s), Some(TcpState::Closed));
    h.send(&peer(TcpControl::Fin, isses[0], 0, 1).with_ports(PEER_PORT, 1000));
    assert!(h.take_one().is_rst(), "the oldest TIME-WAIT is gone");
    h.send(&peer(TcpControl::Fin, isses[1], 0, 1).with_ports(PEER_PORT, 1001));
    let ack = h.take_one();
    assert!(!ack.is_rst() && ack.ack == Some(SeqNumber(add(P, 2))));
    // Its port is free again; the next one's is still held.
    let any = |port| SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
    assert_eq!(h.stack.tcp_bind(s, any(1001)), Err(TcpBindError::AddrInUse));
    assert_eq!(h.stack.tcp_bind(s, any(1000)), Ok(any(1000)));
}

/// lwIP's `tcp_alloc`: without TIME-WAIT, the oldest connection the
/// application has closed (here in FIN-WAIT-1) is reset (RFC 9293 §3.10.4
/// ABORT: "send a reset segment") to free its slot; slots the application
/// holds are never taken: once only those are left, `NoSocketsLeft`.
#[test]
fn full_table_resets_the_oldest_closed_connection_only() {
    let mut h = Harness::new(31);
    let mut conns = Vec::new();
    for k in 0..TCP_SOCKETS as u16 {
        conns.push(established_from(&mut h, 1000 + k));
        h.advance(Duration::from_millis(1));
    }
    for &(c, _) in &conns[..2] {
        h.close(c);
        assert!(h.take_one().is_fin());
    }
    for (k, &(_, iss)) in conns[..2].iter().enumerate() {
        h.stack.tcp_open().expect("an orphan's slot is reclaimed");
        h.run();
        let rst = h.take_one();
        assert!(rst.is_rst(), "{rst:?}");
        assert_eq!(rst.src_port, 1000 + k as u16, "oldest first");
        assert_eq!(rst.seq, SeqNumber(add(iss, 2)), "after our FIN");
    }
    assert_eq!(h.stack.stats().tcp.reclaimed, 2);
    assert_eq!(
        h.stack.tcp_open(),
        Err(wolfip_core::TcpOpenError::NoSocketsLeft)
    );
    h.run();
    h.expect_silence();
    for &(c, _) in &conns[2..] {
        assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    }
}

/// Linux `inet_csk_bind_conflict`: a connection in TIME-WAIT keeps the
/// SO_REUSEADDR of its socket (here inherited from the listener); a new
/// socket with SO_REUSEADDR binds and listens on the port (what the
/// option is for: restarting a server), one without is EADDRINUSE.
#[test]
fn reuse_addr_binds_over_time_wait() {
    let mut h = Harness::new(32);
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT);
    let l = h.stack.tcp_open().unwrap();
    h.stack.tcp_set_reuse_addr(l, true).unwrap();
    h.stack.tcp_bind(l, any).unwrap();
    h.stack.tcp_listen(l, 4).unwrap();
    h.send(&Seg::to_us(TcpControl::Syn, P, None));
    let iss = h.take_one().seq.0;
    h.send(&peer(TcpControl::None, iss, 0, 0));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    h.close(c);
    assert!(h.take_one().is_fin());
    h.send(&peer(TcpControl::Fin, iss, 0, 1));
    h.take_one();
    h.close(l);
    let plain = h.stack.tcp_open().unwrap();
    assert_eq!(h.stack.tcp_bind(plain, any), Err(TcpBindError::AddrInUse));
    let s = h.stack.tcp_open().unwrap();
    h.stack.tcp_set_reuse_addr(s, true).unwrap();
    assert_eq!(h.stack.tcp_bind(s, any), Ok(any));
    h.stack.tcp_listen(s, 4).unwrap();
    h.send(&Seg::to_us(TcpControl::Syn, P, None).with_ports(PEER_PORT + 1, PORT));
    assert!(h.take_one().is_syn());
}

/// Linux, as recorded: TIME-WAIT of a socket without SO_REUSEADDR (here
/// an active close from an explicitly bound port) keeps the port even from
/// a new socket with the option (both need it).
#[test]
fn time_wait_without_reuse_addr_keeps_the_port() {
    let mut h = Harness::new(33);
    time_wait_from(&mut h, 1000);
    let s = h.stack.tcp_open().unwrap();
    h.stack.tcp_set_reuse_addr(s, true).unwrap();
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 1000);
    assert_eq!(h.stack.tcp_bind(s, any), Err(TcpBindError::AddrInUse));
    h.advance(TIME_WAIT);
    assert_eq!(h.stack.tcp_bind(s, any), Ok(any));
}

/// Linux `tcp_disconnect` in SYN-SENT (connect(AF_UNSPEC), or shutdown
/// while connecting): nothing is sent, SO_ERROR becomes ECONNRESET once,
/// the socket is CLOSED and keeps its bound port; the late SYN-ACK meets
/// no connection (RST, RFC 9293 §3.10.7.1); connect works again.
#[test]
fn disconnect_in_syn_sent() {
    let mut h = Harness::new(34);
    let (c, syn) = h.connect();
    let now = h.now;
    h.stack.tcp_disconnect(c, now).unwrap();
    h.run();
    h.expect_silence();
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Reset));
    assert_eq!(h.stack.tcp_take_error(c), None, "reported once");
    assert_eq!(h.stack.tcp_peer_addr(c), None);
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT);
    assert_eq!(h.stack.tcp_local_addr(c), Some(any));
    h.send(&Seg::to_us(TcpControl::Syn, P, Some(add(syn.seq.0, 1))));
    assert!(h.take_one().is_rst());
    h.advance(Duration::from_secs(1));
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(PEER, PEER_PORT), now)
        .unwrap();
    h.run();
    let syn2 = h.take_one();
    assert!(syn2.is_syn() && syn2.src_port == PORT && syn2.seq != syn.seq);
    h.send(&Seg::to_us(TcpControl::Syn, P, Some(add(syn2.seq.0, 1))));
    assert_eq!(state(&mut h, c), Some(TcpState::Established));
}

/// Linux `tcp_disconnect` on an open connection (`tcp_need_reset`):
/// a RST <SEQ=SND.NXT><ACK=RCV.NXT> goes to the peer (RFC 9293 §3.10.4
/// ABORT), queued data is dropped, SO_ERROR is ECONNRESET (the next recv
/// reports it once, then ENOTCONN); later segments of the old connection
/// meet no socket; the socket connects again from the same bound port.
#[test]
fn disconnect_in_established_resets() {
    let mut h = Harness::new(35);
    let (c, iss) = connect_plain(&mut h);
    h.send(&peer(TcpControl::Psh, iss, 0, 0).with_payload(b"unread"));
    h.take();
    h.stack.tcp_send(c, b"unsent").unwrap();
    let now = h.now;
    h.stack.tcp_disconnect(c, now).unwrap();
    h.run();
    let rst = h.take_one();
    assert!(rst.is_rst());
    assert_eq!(rst.seq, SeqNumber(add(iss, 1)));
    assert_eq!(rst.ack, Some(SeqNumber(add(P, 7))));
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));
    assert_eq!(h.stack.tcp_recv_queue(c), 0);
    let mut buf = [0u8; 8];
    assert_eq!(
        h.stack.tcp_recv(c, &mut buf),
        Err(TcpRecvError::Failed(TcpError::Reset))
    );
    assert_eq!(
        h.stack.tcp_recv(c, &mut buf),
        Err(TcpRecvError::NotConnected)
    );
    h.send(&peer(TcpControl::Psh, iss, 6, 0).with_payload(b"late"));
    assert!(h.take_one().is_rst());
    connect_again(&mut h, c);
}

/// The second handshake of a disconnected socket `c` bound to `PORT`.
fn connect_again(h: &mut Harness, c: TcpHandle) {
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(PEER, PEER_PORT), now)
        .unwrap();
    h.run();
    let syn = h.take_one();
    assert!(syn.is_syn() && syn.src_port == PORT);
    h.send(&Seg::to_us(TcpControl::Syn, P, Some(add(syn.seq.0, 1))));
    assert_eq!(state(h, c), Some(TcpState::Established));
}

/// Linux `tcp_disconnect`: CLOSE-WAIT is reset like ESTABLISHED; once our
/// FIN is out (LAST-ACK here; CLOSING, TIME-WAIT) nothing is sent and no
/// error is set (`tcp_need_reset` is false for them).
#[test]
fn disconnect_after_our_fin_is_silent() {
    let mut h = Harness::new(36);
    let (c, iss) = connect_plain(&mut h);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    delayed_ack_of_fin(&mut h);
    let fin = shut_write(&mut h, c);
    assert_eq!(fin.seq, SeqNumber(add(iss, 1)));
    assert_eq!(state(&mut h, c), Some(TcpState::LastAck));
    let now = h.now;
    h.stack.tcp_disconnect(c, now).unwrap();
    h.run();
    h.expect_silence();
    assert_eq!(h.stack.tcp_take_error(c), None);
    assert_eq!(state(&mut h, c), Some(TcpState::Closed));

    let mut h = Harness::new(37);
    let (c, iss) = connect_plain(&mut h);
    h.send(&peer(TcpControl::Fin, iss, 0, 0));
    delayed_ack_of_fin(&mut h);
    let now = h.now;
    h.stack.tcp_disconnect(c, now).unwrap();
    h.run();
    assert!(h.take_one().is_rst(), "CLOSE-WAIT is reset");
    assert_eq!(h.stack.tcp_take_error(c), Some(TcpError::Reset));
}

/// Linux `tcp_disconnect` releases a port the stack chose (the socket is
/// unbound again; options such as SO_REUSEADDR stay) and keeps one the
/// application bound, without the address taken from the route.
#[test]
fn disconnect_releases_an_ephemeral_port() {
    let mut h = Harness::new(38);
    let c = h.stack.tcp_open().unwrap();
    h.stack.tcp_set_reuse_addr(c, true).unwrap();
    let now = h.now;
    h.stack
        .tcp_connect(c, SocketAddrV4::new(PEER, PEER_PORT), now)
        .unwrap();
    let local = h.stack.tcp_local_addr(c).unwrap();
    assert!(local.port() >= 49152);
    h.stack.tcp_disconnect(c, now).unwrap();
    assert_eq!(h.stack.tcp_local_addr(c), None);
    assert!(h.stack.tcp_reuse_addr(c));
    // Unbound again: bind works, and the freed port may be bound by anyone.
    let other = h.stack.tcp_open().unwrap();
    assert_eq!(h.stack.tcp_bind(other, local), Ok(local));
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7000);
    assert_eq!(h.stack.tcp_bind(c, any), Ok(any));
}

/// Linux `tcp_disconnect` on a listener (`inet_csk_listen_stop`): it stops
/// listening, resets connections waiting in its accept queue and forgets
/// half-open ones; new SYNs meet a closed port; the socket stays bound
/// and may listen again.
#[test]
fn disconnect_stops_a_listener() {
    let mut h = Harness::new(39);
    let l = h.listen(8);
    let at = |s: Seg, port| s.with_ports(port, PORT);
    h.send(&at(Seg::to_us(TcpControl::Syn, P, None), 40001));
    let a = h.take_one().seq.0;
    h.send(&at(peer(TcpControl::None, a, 0, 0), 40001));
    h.send(&at(Seg::to_us(TcpControl::Syn, P, None), 40002));
    h.take_one();
    let now = h.now;
    h.stack.tcp_disconnect(l, now).unwrap();
    h.run();
    let rst = h.take_one();
    assert!(rst.is_rst() && rst.dst_port == 40001);
    assert_eq!(state(&mut h, l), Some(TcpState::Closed));
    assert_eq!(h.stack.tcp_take_error(l), None);
    assert_eq!(
        h.stack.tcp_accept(l),
        Err(wolfip_core::TcpAcceptError::NotListening)
    );
    h.send(&at(Seg::to_us(TcpControl::Syn, P, None), 40003));
    assert!(h.take_one().is_rst());
    assert_eq!(h.free_slots(), TCP_SOCKETS - 1);
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT);
    assert_eq!(h.stack.tcp_local_addr(l), Some(any));
    h.stack.tcp_listen(l, 8).unwrap();
    h.send(&at(Seg::to_us(TcpControl::Syn, P, None), 40004));
    assert!(h.take_one().is_syn());
}
