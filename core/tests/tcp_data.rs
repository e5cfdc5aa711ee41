//! Data transfer through a scripted peer: in-order and out-of-order
//! receive, the ACK policy, the receive window and its updates, the send
//! window, Nagle and SWS avoidance, the initial window and slow start, and
//! bulk transfers checked byte for byte.

mod tcp_common;
use tcp_common::*;
use wolfip_core::config::{TCP_DELAYED_ACK_MS, TCP_OOO_RANGES, TCP_RX_BUFFER, TCP_TX_BUFFER};
use wolfip_core::wire::SeqNumber;
use wolfip_core::{Shutdown, TcpRecvError, TcpSendError, TcpState};

const IRS: u32 = 5000;
/// A full-sized segment with timestamps: our MSS of 1460 less 12 bytes.
const FULL: usize = 1448;

fn linux() -> (Harness, Peer) {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    (h, p)
}

/// A connection whose peer has the options `o` and sends the window field
/// `window` (scaled by `o.ws`).
fn with_window(o: SynOpts, window: u16) -> (Harness, Peer) {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts { window, ..o });
    (h, p)
}

/// The window scale we announced in the SYN-ACK.
fn our_shift(h: &Harness) -> u8 {
    h.sent[0].window_scale.unwrap_or(0)
}

/// The ACK owed now, or after the delayed-ACK timer.
fn next_ack(h: &mut Harness) -> Seg {
    let now = h.take();
    if !now.is_empty() {
        assert_eq!(now.len(), 1, "{now:#?}");
        return now.into_iter().next().unwrap();
    }
    h.advance(ms(TCP_DELAYED_ACK_MS as u64));
    h.take_one()
}

/// The last ACK sent once the delayed-ACK timer has run.
fn last_ack(h: &mut Harness) -> Seg {
    h.advance(ms(TCP_DELAYED_ACK_MS as u64));
    h.take().pop().expect("an ACK")
}

/// RFC 9293 §3.10.7.4 (seventh, process the segment text): in-order text
/// is delivered in order, RCV.NXT advances over it, and the ACK covers it.
#[test]
fn in_order_data_is_delivered_and_acknowledged() {
    let (mut h, mut p) = linux();
    h.peer_data(&mut p, b"hello ");
    h.peer_data(&mut p, b"world");
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(11))));
    assert!(ack.payload.is_empty());
    assert_eq!(h.read_all(p.h), b"hello world");
}

/// RFC 9293 §3.8.6.3 and RFC 1122 §4.2.3.2: a lone segment's ACK is
/// delayed, by TCP_DELAYED_ACK_MS (well under the 0.5 s limit).
#[test]
fn single_segment_ack_is_delayed() {
    let (mut h, mut p) = linux();
    h.peer_data(&mut p, &pattern(1, 100));
    h.expect_silence();
    h.advance(ms(TCP_DELAYED_ACK_MS as u64 - 1));
    h.expect_silence();
    let waited = h.advance_to_deadline(ms(1000));
    assert_eq!(waited, ms(1));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(100))));
    const { assert!(TCP_DELAYED_ACK_MS < 500) };
}

/// RFC 5681 §4.2 and RFC 1122 §4.2.3.2: in a stream of full-sized segments
/// an ACK goes at once for every second segment.
#[test]
fn every_second_full_segment_is_acked_at_once() {
    let (mut h, mut p) = linux();
    for i in 1..=6 {
        h.peer_data(&mut p, &pattern(i as u8, FULL));
        if i % 2 == 1 {
            h.expect_silence();
        } else {
            let ack = h.take_one();
            assert_eq!(ack.ack, Some(SeqNumber(p.their(i * FULL))));
        }
    }
}

/// RFC 9293 §3.8.6.3 and RFC 1122 §4.2.3.2: data the application sends
/// before the delayed-ACK timer runs out carries the ACK; no separate ACK
/// follows.
#[test]
fn delayed_ack_rides_on_the_reply() {
    let (mut h, mut p) = linux();
    h.peer_data(&mut p, b"ping");
    h.expect_silence();
    assert_eq!(h.read_all(p.h), b"ping");
    h.stack.tcp_send(p.h, b"pong").unwrap();
    h.run();
    let reply = h.take_one();
    assert_eq!(reply.payload, b"pong");
    assert_eq!(reply.ack, Some(SeqNumber(p.their(4))));
    h.advance(ms(TCP_DELAYED_ACK_MS as u64));
    h.expect_silence();
}

/// RFC 5681 §4.2 and RFC 2018 §4: an out-of-order segment is acknowledged
/// at once with a duplicate ACK whose first SACK block holds it; the data
/// stays unreadable until the hole is filled.
#[test]
fn out_of_order_segment_gets_immediate_dup_ack_with_sack() {
    let (mut h, p) = linux();
    h.peer_data_at(&p, FULL, &pattern(2, FULL));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(0))));
    let block = (SeqNumber(p.their(FULL)), SeqNumber(p.their(2 * FULL)));
    assert_eq!(ack.sack, vec![block]);
    let mut buf = [0u8; 64];
    assert_eq!(
        h.stack.tcp_recv(p.h, &mut buf),
        Err(TcpRecvError::WouldBlock)
    );
    // The next segment of the same range: the block grows.
    h.peer_data_at(&p, 2 * FULL, &pattern(3, 100));
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(0))));
    let grown = (SeqNumber(p.their(FULL)), SeqNumber(p.their(2 * FULL + 100)));
    assert_eq!(ack.sack, vec![grown]);
}

/// RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block
/// of data containing the segment which triggered this ACK"; the other
/// ranges follow, as many as fit (three beside timestamps).
#[test]
fn first_sack_block_is_the_most_recent() {
    let (mut h, p) = linux();
    let data = pattern(4, 6000);
    let range = |l: usize, r: usize| (SeqNumber(p.their(l)), SeqNumber(p.their(r)));
    for (i, &off) in [3000usize, 5000, 1000].iter().enumerate() {
        h.peer_data_at(&p, off, &data[off..off + 100]);
        let ack = h.take_one();
        assert_eq!(ack.ack, Some(SeqNumber(p.their(0))));
        assert_eq!(ack.sack[0], range(off, off + 100), "segment {i}");
        assert_eq!(ack.sack.len(), i + 1);
    }
    // Extending the middle range makes it the first block.
    h.peer_data_at(&p, 3100, &data[3100..3200]);
    let ack = h.take_one();
    assert_eq!(ack.sack[0], range(3000, 3200));
    let mut rest = ack.sack[1..].to_vec();
    rest.sort_by_key(|b| b.0 .0.wrapping_sub(p.irs));
    assert_eq!(rest, vec![range(1000, 1100), range(5000, 5100)]);
}

/// RFC 9293 §3.10.7.4 (out-of-order segments may be held) and RFC 5681
/// §4.2 (an ACK at once for out-of-order data and for data filling a
/// hole): pieces arriving in any order are delivered exactly once, in
/// order, and the cumulative ACK jumps over everything already held.
#[test]
fn holes_filled_in_any_order_deliver_the_exact_stream() {
    let orders: [[usize; 8]; 4] = [
        [7, 5, 3, 1, 6, 4, 2, 0],
        [1, 2, 3, 4, 5, 6, 7, 0],
        [2, 0, 4, 1, 7, 3, 6, 5],
        [6, 1, 0, 7, 3, 2, 5, 4],
    ];
    for order in orders {
        let (mut h, p) = linux();
        let data = pattern(5, 8000);
        let mut have = [false; 8];
        for &k in &order {
            let held = have[k + 1..].iter().any(|&x| x);
            let front = have.iter().position(|&x| !x).unwrap();
            have[k] = true;
            h.peer_data_at(&p, k * 1000, &data[k * 1000..(k + 1) * 1000]);
            let prefix = have.iter().position(|&x| !x).unwrap_or(8);
            // Out of order, or filling a hole with data held beyond it:
            // acknowledged at once.
            let ack = if k != front || held {
                h.take_one()
            } else {
                next_ack(&mut h)
            };
            assert_eq!(
                ack.ack,
                Some(SeqNumber(p.their(prefix * 1000))),
                "{order:?}"
            );
            assert_eq!(ack.sack.is_empty(), prefix == 8 || k == 0 && !held);
        }
        assert_eq!(h.read_all(p.h), data, "{order:?}");
    }
}

/// RFC 9293 §3.10.7.4 (a receiver may drop out-of-order text) and RFC 2018
/// §8 (data is SACKed only if held): past TCP_OOO_RANGES separate ranges
/// further segments are dropped and never SACKed; the stream still arrives
/// intact when the peer sends it again.
#[test]
fn more_holes_than_ooo_ranges_drop_the_extra_without_corruption() {
    let (mut h, p) = linux();
    let n = TCP_OOO_RANGES;
    let data = pattern(6, (n + 3) * 200);
    for k in 1..=n + 2 {
        h.peer_data_at(&p, k * 200, &data[k * 200..k * 200 + 100]);
        let ack = h.take_one();
        assert_eq!(ack.ack, Some(SeqNumber(p.their(0))));
        for (l, _) in &ack.sack {
            let off = l.0.wrapping_sub(p.their(0)) as usize;
            assert!(off <= n * 200, "a dropped range was SACKed: {ack:?}");
        }
    }
    let st = h.stack.stats().tcp;
    assert_eq!((st.ooo_queued, st.ooo_dropped), (n as u64, 2));
    for k in 0..n + 3 {
        h.peer_data_at(&p, k * 200, &data[k * 200..(k + 1) * 200]);
    }
    assert_eq!(h.read_all(p.h), data);
}

/// RFC 9293 §3.10.7.4: in-order text is accepted even when the
/// out-of-order bookkeeping is full and the text does not reach the first
/// held range (otherwise a hole wider than one segment could never close).
#[test]
fn in_order_text_is_taken_when_the_ooo_ranges_are_full() {
    let (mut h, mut p) = linux();
    let n = TCP_OOO_RANGES;
    let data = pattern(7, 2000 + n * 200);
    for k in 0..n {
        let off = 2000 + k * 200;
        h.peer_data_at(&p, off, &data[off..off + 100]);
        h.take_one();
    }
    h.peer_data(&mut p, &data[..1000]);
    let ack = next_ack(&mut h);
    assert_eq!(ack.ack, Some(SeqNumber(p.their(1000))));
    h.peer_data_at(&p, 1000, &data[1000..2000]);
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(2100))));
    for k in 0..n {
        let off = 2000 + k * 200 + 100;
        h.peer_data_at(&p, off, &data[off..off + 100]);
    }
    assert_eq!(h.read_all(p.h), data);
}

/// RFC 9293 §3.10.7.4 (first check): an old duplicate segment is not
/// acceptable; it is answered with an ACK and not delivered again.
#[test]
fn old_duplicate_is_acked_and_not_delivered_again() {
    let (mut h, mut p) = linux();
    h.peer_data(&mut p, b"abc");
    next_ack(&mut h);
    assert_eq!(h.read_all(p.h), b"abc");
    h.peer_data_at(&p, 0, b"abc");
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(3))));
    let mut buf = [0u8; 8];
    assert_eq!(
        h.stack.tcp_recv(p.h, &mut buf),
        Err(TcpRecvError::WouldBlock)
    );
}

/// RFC 9293 §3.10.7.4: a segment overlapping data already received is
/// trimmed to its new part; the copy received first is what the user
/// reads, with and without out-of-order data beyond.
#[test]
fn overlapping_segments_are_trimmed() {
    let (mut h, p) = linux();
    let data = pattern(8, 300);
    h.peer_data_at(&p, 0, &data[..100]);
    // 50..150 whose old half is garbage: only 100..150 is taken.
    let mut overlap = vec![b'X'; 50];
    overlap.extend_from_slice(&data[100..150]);
    h.peer_data_at(&p, 50, &overlap);
    assert_eq!(next_ack(&mut h).ack, Some(SeqNumber(p.their(150))));
    h.peer_data_at(&p, 200, &data[200..300]);
    h.peer_data_at(&p, 100, &data[100..250]);
    let acks = h.take();
    assert_eq!(acks.last().unwrap().ack, Some(SeqNumber(p.their(300))));
    assert_eq!(h.read_all(p.h), data);
}

/// RFC 9293 §3.8.6.2.2 and §3.3.1: the window advertised is the free
/// receive buffer; it shrinks as unread data fills it, its right edge
/// staying put (the window field is shifted by our scale, RFC 7323 §2.3).
#[test]
fn advertised_window_shrinks_as_the_buffer_fills() {
    let (mut h, mut p) = linux();
    let shift = our_shift(&h);
    for i in 1..=5 {
        h.peer_data(&mut p, &pattern(i as u8, FULL));
        let ack = next_ack(&mut h);
        let free = TCP_RX_BUFFER - i * FULL;
        assert_eq!(usize::from(ack.window), free >> shift, "after {i}");
        let right = ack.ack.unwrap().0 as usize + (usize::from(ack.window) << shift);
        assert_eq!(right, p.their(TCP_RX_BUFFER) as usize);
    }
}

/// RFC 9293 §3.8.6 and §3.10.7.4, RFC 1122 §4.2.2.17: a full buffer
/// advertises a zero window; a probe beyond it is answered with an ACK
/// that still shows zero and its byte is not taken.
#[test]
fn full_buffer_advertises_zero_window_and_refuses_more() {
    let (mut h, mut p) = linux();
    let data = pattern(9, TCP_RX_BUFFER);
    for chunk in data.chunks(FULL) {
        h.peer_data(&mut p, chunk);
    }
    let last = last_ack(&mut h);
    assert_eq!(last.ack, Some(SeqNumber(p.their(TCP_RX_BUFFER))));
    assert_eq!(last.window, 0);
    h.take();
    h.peer_data(&mut p, b"!");
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(TCP_RX_BUFFER))));
    assert_eq!(ack.window, 0);
    assert_eq!(h.read_all(p.h), data);
}

/// RFC 9293 §3.8.6.2.2 and RFC 1122 §4.2.3.3 (receiver SWS avoidance): a
/// window update goes when reading frees min(buffer/2, MSS) bytes, not for
/// tiny reads.
#[test]
fn window_update_after_reading_but_not_for_tiny_reads() {
    let (mut h, mut p) = linux();
    let shift = our_shift(&h);
    let rmss = usize::from(h.sent[0].mss.unwrap());
    let threshold = (TCP_RX_BUFFER / 2).min(rmss);
    for chunk in pattern(10, TCP_RX_BUFFER).chunks(FULL) {
        h.peer_data(&mut p, chunk);
    }
    assert_eq!(last_ack(&mut h).window, 0);
    let mut buf = vec![0u8; TCP_RX_BUFFER];
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf[..100]), Ok(100));
    h.run();
    h.expect_silence();
    let more = threshold - 101;
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf[..more]), Ok(more));
    h.run();
    h.expect_silence();
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf[..1]), Ok(1));
    h.run();
    let update = h.take_one();
    assert_eq!(update.ack, Some(SeqNumber(p.their(TCP_RX_BUFFER))));
    assert_eq!(usize::from(update.window), threshold >> shift);
    // Reading the rest opens the whole window.
    h.read_all(p.h);
    h.run();
    assert_eq!(usize::from(h.take_one().window), TCP_RX_BUFFER >> shift);
}

/// RFC 9293 §3.8.6 (the sender stays within SND.UNA + SND.WND) and
/// §3.10.7.4 (the window is updated from acceptable ACKs): sending stops at
/// the peer's window and resumes as ACKs move it.
#[test]
fn sender_respects_the_peer_window_and_resumes() {
    // Window field 16, scaled by 7: 2048 bytes.
    let (mut h, mut p) = with_window(SynOpts::K, 16);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().snd_wnd, 2048);
    let data = pattern(11, 12_000);
    h.stack.tcp_send(p.h, &data).unwrap();
    h.run();
    let mut got = Vec::new();
    while got.len() < data.len() {
        let segs = h.take();
        // Two full segments fit; the 48 bytes left of the window wait
        // (sender SWS avoidance).
        assert_eq!(segs.len(), 2, "at {}", got.len());
        for s in &segs {
            assert_eq!(p.our_off(s.seq), got.len());
            assert_eq!(s.payload.len(), 1000);
            got.extend_from_slice(&s.payload);
        }
        h.peer_ack(&mut p, got.len());
    }
    assert_eq!(got, data);
}

/// RFC 9293 §3.7.4 (Nagle, RFC 896) and RFC 1122 §4.2.3.4: while data is
/// unacknowledged, small writes wait and go together once it is ACKed.
#[test]
fn nagle_coalesces_small_writes() {
    let (mut h, mut p) = linux();
    h.stack.tcp_send(p.h, &[1; 10]).unwrap();
    h.run();
    assert_eq!(h.take_one().payload.len(), 10, "nothing in flight: at once");
    for _ in 0..3 {
        h.stack.tcp_send(p.h, &[2; 10]).unwrap();
        h.run();
        h.expect_silence();
    }
    h.peer_ack(&mut p, 10);
    let seg = h.take_one();
    assert_eq!((p.our_off(seg.seq), seg.payload.len()), (10, 30));
}

/// RFC 9293 §3.7.4 (Nagle may be turned off, TCP_NODELAY) and RFC 1122
/// §4.2.3.4: with nodelay each small write goes at once.
#[test]
fn nodelay_sends_small_writes_at_once() {
    let (mut h, p) = linux();
    h.stack.tcp_set_nodelay(p.h, true).unwrap();
    for i in 0..3 {
        h.stack.tcp_send(p.h, &[i; 10]).unwrap();
        h.run();
        let seg = h.take_one();
        assert_eq!(
            (p.our_off(seg.seq), seg.payload.len()),
            (10 * i as usize, 10)
        );
    }
}

/// RFC 9293 §3.7.4: Nagle does not hold the last piece of data when the
/// FIN follows it (the application has nothing more to add).
#[test]
fn small_last_piece_goes_with_fin_despite_nagle() {
    let (mut h, p) = linux();
    h.stack.tcp_send(p.h, &pattern(12, FULL + 10)).unwrap();
    h.run();
    assert_eq!(h.take_one().payload.len(), FULL);
    h.stack.tcp_shutdown(p.h, Shutdown::Write).unwrap();
    h.run();
    let seg = h.take_one();
    assert!(seg.is_fin());
    assert_eq!((p.our_off(seg.seq), seg.payload.len()), (FULL, 10));
}

/// RFC 9293 §3.8.6.2.1 and RFC 1122 §4.2.3.4 (sender SWS avoidance): with
/// data in flight, a window opening of less than a segment and less than
/// half the largest window is not used, even with nodelay; a full segment
/// goes as soon as the window allows one.
#[test]
fn sender_sws_avoidance_waits_for_a_useful_window() {
    // Window field 32, scaled by 7: 4096 bytes, the largest ever offered.
    let (mut h, mut p) = with_window(SynOpts::K_NOSACK, 32);
    h.stack.tcp_set_nodelay(p.h, true).unwrap();
    h.stack.tcp_send(p.h, &pattern(13, 10_000)).unwrap();
    h.run();
    // Four segments; the 96 bytes left of the window wait.
    let segs = h.take();
    assert_eq!(segs.len(), 4);
    assert!(segs.iter().all(|s| s.payload.len() == 1000));
    // 1000 acknowledged, the right edge moves by 256 only: 328 usable.
    p.window = 26;
    h.peer_ack(&mut p, 1000);
    h.expect_silence();
    p.window = 32;
    h.peer_ack(&mut p, 2000);
    let segs = h.take();
    assert_eq!(segs.len(), 2);
    assert!(segs.iter().all(|s| s.payload.len() == 1000));
}

/// RFC 9293 §3.8.6.2.1 and RFC 1122 §4.2.3.4: with nothing in flight and
/// a window below a segment and below half the largest one, the sender
/// waits at most an override timeout (0.1 to 1 s), then fills the window.
#[test]
fn sender_sws_override_timeout_fills_a_small_window() {
    let (mut h, mut p) = with_window(SynOpts::K_NOSACK, 32);
    h.stack.tcp_send(p.h, &pattern(19, 10_000)).unwrap();
    h.run();
    assert_eq!(h.take().len(), 4);
    p.window = 1; // 128 bytes
    h.peer_ack(&mut p, 4000);
    h.expect_silence();
    let waited = h.advance_to_deadline(ms(5000));
    assert!(waited >= ms(100) && waited <= ms(1000), "{waited:?}");
    let seg = h.take_one();
    assert_eq!((p.our_off(seg.seq), seg.payload.len()), (4000, 128));
}

/// RFC 6928 §2: the initial window is min(10*MSS, max(2*MSS, 14600))
/// bytes: exactly ten full segments go before the first ACK.
#[test]
fn initial_window_is_ten_segments() {
    let (mut h, p) = linux();
    h.stack.tcp_send(p.h, &pattern(14, TCP_TX_BUFFER)).unwrap();
    h.run();
    let segs = h.take();
    assert_eq!(segs.len(), 10);
    assert!(segs.iter().all(|s| s.payload.len() == FULL));
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!(info.cwnd, 10 * FULL as u32);
    assert_eq!(info.ssthresh, u32::MAX, "RFC 5681 §3.1: arbitrarily high");
    h.advance(ms(100));
    h.expect_silence();
}

/// RFC 5681 §3.1 (slow start, equation 2): each ACK of a full segment
/// grows the window by one SMSS while cwnd < ssthresh.
#[test]
fn slow_start_grows_cwnd_by_one_mss_per_ack() {
    let (mut h, mut p) = linux();
    let mut queued = h.stack.tcp_send(p.h, &pattern(15, TCP_TX_BUFFER)).unwrap();
    h.run();
    let mut acked = 0;
    for i in 1..=6u32 {
        acked += FULL;
        h.peer_ack(&mut p, acked);
        let cwnd = h.stack.tcp_info(p.h).unwrap().cwnd;
        assert_eq!(cwnd, (10 + i) * FULL as u32);
        queued += h.stack.tcp_send(p.h, &pattern(15, FULL)).unwrap();
        h.run();
        assert!(queued > acked);
    }
}

/// RFC 9293 §3.9 (SEND): the send buffer takes what fits, then says
/// "would block" until acknowledgments free room.
#[test]
fn send_buffer_takes_what_fits() {
    let (mut h, mut p) = linux();
    let data = pattern(16, TCP_TX_BUFFER + 5000);
    assert_eq!(h.stack.tcp_send(p.h, &data), Ok(TCP_TX_BUFFER));
    assert_eq!(h.stack.tcp_send(p.h, &data), Err(TcpSendError::WouldBlock));
    h.run();
    h.take();
    h.peer_ack(&mut p, 3 * FULL);
    assert_eq!(h.stack.tcp_send(p.h, &data), Ok(3 * FULL));
}

/// RFC 9293 §3.10.7.4 (eighth, FIN): data and FIN in one segment: the
/// data is delivered, the FIN acknowledged at once, and the user then
/// reads end of stream in CLOSE-WAIT.
#[test]
fn data_with_fin_is_delivered_then_end_of_stream() {
    let (mut h, mut p) = linux();
    let seg = h.peer_seg(&p, wolfip_core::wire::TcpControl::Fin, p.nxt, b"bye");
    p.nxt += 4;
    h.send(&seg);
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(4))));
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::CloseWait));
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"bye");
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf), Ok(0));
}

/// RFC 9293 §3.10.7.4 (eighth check: a FIN counts only once everything
/// before it has arrived): a FIN beyond a hole is not taken; its data is
/// held, and the FIN sent again after the hole is filled closes.
#[test]
fn fin_beyond_a_hole_waits_for_the_hole() {
    let (mut h, mut p) = linux();
    let fin = h.peer_seg(&p, wolfip_core::wire::TcpControl::Fin, p.their(3), b"def");
    h.send(&fin);
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(0))));
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Established));
    h.peer_data(&mut p, b"abc");
    assert_eq!(h.take_one().ack, Some(SeqNumber(p.their(6))));
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Established));
    h.send(&fin);
    // Entering CLOSE-WAIT, the ACK of the FIN is delayed (the application
    // may close at once and send it on its own FIN).
    h.expect_silence();
    h.advance(wolfip_core::Duration::from_millis(
        wolfip_core::config::TCP_DELAYED_ACK_MS as u64,
    ));
    assert_eq!(h.take_one().ack, Some(SeqNumber(p.their(7))));
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::CloseWait));
    assert_eq!(h.read_all(p.h), b"abcdef");
}

/// RFC 9293 §3.10.7.4 (fifth check): "If the ACK acks something not yet
/// sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment": its data
/// is not taken.
#[test]
fn ack_of_unsent_data_is_answered_and_dropped() {
    let (mut h, mut p) = linux();
    p.una = p.our(100);
    h.peer_data(&mut p, b"bogus");
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(0))));
    assert_eq!(ack.seq, SeqNumber(p.our(0)));
    assert_eq!(h.stack.tcp_recv_queue(p.h), 0);
}

/// RFC 9293 §3.10.4 (CLOSE: FIN after the queued data) and §3.6: the last
/// data segment carries the FIN.
#[test]
fn our_last_data_segment_carries_fin() {
    let (mut h, mut p) = linux();
    h.stack.tcp_send(p.h, b"last words").unwrap();
    h.stack.tcp_shutdown(p.h, Shutdown::Write).unwrap();
    h.run();
    let seg = h.take_one();
    assert!(seg.is_fin());
    assert_eq!(seg.payload, b"last words");
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::FinWait1));
    h.peer_ack(&mut p, 11);
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::FinWait2));
}

/// RFC 9293 §3.10.7.4 (text is acknowledged) with the receive side shut
/// (SHUT_RD): arriving data is acknowledged and discarded; the user reads
/// end of stream.
#[test]
fn data_after_shutdown_read_is_acked_and_discarded() {
    let (mut h, mut p) = linux();
    h.stack.tcp_shutdown(p.h, Shutdown::Read).unwrap();
    h.peer_data(&mut p, b"ignored");
    let ack = h.take_one();
    assert_eq!(ack.ack, Some(SeqNumber(p.their(7))));
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf), Ok(0));
    assert_eq!(h.stack.tcp_recv_queue(p.h), 0);
}

/// SHUT_RD keeps what was already received (Linux: the receive queue
/// survives `shutdown(SHUT_RD)`): it is read first, then end of stream.
#[test]
fn data_queued_before_shutdown_read_stays_readable() {
    let (mut h, mut p) = linux();
    h.peer_data(&mut p, b"kept");
    h.run();
    h.stack.tcp_shutdown(p.h, Shutdown::Read).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"kept");
    assert_eq!(h.stack.tcp_recv(p.h, &mut buf), Ok(0));
}

/// RFC 9293 §3.8 end to end: 200 KB sent through the peer, which ACKs
/// every segment, arrive exactly once, in order, without retransmission.
#[test]
fn large_transfer_out_is_exact() {
    let (mut h, mut p) = linux();
    let data = pattern(17, 200_000);
    let (mut queued, mut got) = (0, Vec::new());
    while got.len() < data.len() {
        if queued < data.len() {
            queued += h.stack.tcp_send(p.h, &data[queued..]).unwrap_or(0);
        }
        h.run();
        let segs = h.take();
        assert!(!segs.is_empty(), "stalled at {}", got.len());
        for s in segs {
            assert_eq!(p.our_off(s.seq), got.len(), "in order, no gap");
            got.extend_from_slice(&s.payload);
            h.peer_ack(&mut p, got.len());
        }
    }
    assert_eq!(got, data);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().retransmits, 0);
}

/// RFC 9293 §3.8 and §3.8.6 end to end: 200 KB from the peer, sent within
/// the windows we advertise while the application reads, are delivered
/// exactly and fully acknowledged.
#[test]
fn large_transfer_in_is_exact() {
    let (mut h, mut p) = linux();
    let shift = our_shift(&h);
    let data = pattern(18, 200_000);
    let mut right = p.their(TCP_RX_BUFFER.min(65535));
    let (mut sent, mut got) = (0, Vec::new());
    for _round in 0.. {
        assert!(_round < 1000, "stalled at {}", got.len());
        if got.len() == data.len() {
            break;
        }
        while sent < data.len() && p.their(sent + FULL.min(data.len() - sent)) <= right {
            let n = FULL.min(data.len() - sent);
            h.peer_data(&mut p, &data[sent..sent + n]);
            sent += n;
        }
        got.extend(h.read_all(p.h));
        h.advance(ms(TCP_DELAYED_ACK_MS as u64));
        for a in h.take() {
            right = a.ack.unwrap().0 + (u32::from(a.window) << shift);
        }
    }
    assert_eq!(got, data);
    assert_eq!(
        h.sent.last().unwrap().ack,
        Some(SeqNumber(p.their(data.len())))
    );
}

/// Linux `recv`/`recv(MSG_PEEK)` with length 0: 0 when data is queued
/// (nothing is consumed), EAGAIN when nothing is queued on an open stream
/// (`tcp_recvmsg` copies nothing and only then waits); at end of stream 0.
#[test]
fn empty_buffer_reads_zero_when_data_is_queued() {
    let (mut h, mut p) = linux();
    assert_eq!(
        h.stack.tcp_recv(p.h, &mut []),
        Err(TcpRecvError::WouldBlock)
    );
    assert_eq!(
        h.stack.tcp_peek(p.h, &mut []),
        Err(TcpRecvError::WouldBlock)
    );
    h.peer_data(&mut p, b"abc");
    assert_eq!(h.stack.tcp_recv(p.h, &mut []), Ok(0));
    assert_eq!(h.stack.tcp_peek(p.h, &mut []), Ok(0));
    assert_eq!(h.stack.tcp_recv_queue(p.h), 3, "nothing consumed");
    assert_eq!(h.read_all(p.h), b"abc");
    let fin = h.peer_seg(&p, wolfip_core::wire::TcpControl::Fin, p.nxt, &[]);
    h.send(&fin);
    assert!(h.stack.tcp_peer_closed(p.h));
    assert_eq!(h.stack.tcp_recv(p.h, &mut []), Ok(0), "end of stream");
}
