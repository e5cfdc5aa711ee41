//! Loss recovery through a scripted peer: fast retransmit and recovery
//! (RFC 5681, NewReno RFC 6582, CUBIC RFC 9438), limited transmit
//! (RFC 3042), SACK-based recovery (RFC 6675), and the congestion response
//! to a retransmission timeout. Our segments carry exactly 1000 bytes (the
//! peer's MSS, no timestamps), so offsets read as segment numbers.

mod tcp_common;
use std::collections::{BTreeSet, VecDeque};

use tcp_common::*;
use wolfip_core::CongestionAlgorithm::{self, Cubic, NewReno};

const IRS: u32 = 5000;
const MSS: usize = 1000;

/// A connection with 1000-byte segments, `algo`, SACK if `sack`, and
/// `queued` bytes waiting to be sent (nothing sent yet).
fn setup(algo: CongestionAlgorithm, sack: bool, queued: usize) -> (Harness, Peer) {
    let mut h = Harness::new(1);
    let p = h.open(IRS, if sack { SynOpts::K } else { SynOpts::K_NOSACK });
    h.stack.tcp_set_congestion(p.h, algo).unwrap();
    h.stack.tcp_send(p.h, &pattern(1, queued)).unwrap();
    (h, p)
}

/// The offsets of segments, in our data.
fn offs(p: &Peer, segs: &[Seg]) -> Vec<usize> {
    segs.iter().map(|s| p.our_off(s.seq)).collect()
}

/// A duplicate ACK of `una` from the peer; the offsets of what we send.
fn dupack(h: &mut Harness, p: &mut Peer, una: usize) -> Vec<usize> {
    h.peer_ack(p, una);
    let segs = h.take();
    offs(p, &segs)
}

/// The peer's receive side: which of our bytes it holds, and the SACK
/// blocks it reports (RFC 2018 §4: the range of the latest segment first,
/// then the most recently touched others; four fit without timestamps).
#[derive(Default)]
struct Receiver {
    cum: usize,
    /// Ranges above `cum`, each with the arrival count that last touched it.
    ranges: Vec<(usize, usize, usize)>,
    arrivals: usize,
    data: Vec<u8>,
}

impl Receiver {
    fn receive(&mut self, off: usize, payload: &[u8]) -> (usize, Vec<(usize, usize)>) {
        self.arrivals += 1;
        let (mut l, mut r) = (off, off + payload.len());
        if self.data.len() < r {
            self.data.resize(r, 0);
        }
        self.data[l..r].copy_from_slice(payload);
        if r > self.cum {
            self.ranges.retain(|&(a, b, _)| {
                let touch = a <= r && l <= b;
                if touch {
                    l = l.min(a);
                    r = r.max(b);
                }
                !touch
            });
            self.ranges.push((l, r, self.arrivals));
            self.ranges.sort();
            while let Some(&(a, b, _)) = self.ranges.first() {
                if a > self.cum {
                    break;
                }
                self.cum = self.cum.max(b);
                self.ranges.remove(0);
            }
        }
        let mut recent = self.ranges.clone();
        recent.sort_by_key(|&(_, _, t)| std::cmp::Reverse(t));
        (
            self.cum,
            recent.iter().take(4).map(|&(a, b, _)| (a, b)).collect(),
        )
    }
}

/// Plays the network and the peer until all `total` bytes are
/// acknowledged: our segments arrive in order, except that the first
/// transmission of each offset in `lose` is dropped; the peer ACKs every
/// segment, with SACK blocks if negotiated. Timeouts are waited out.
/// Returns the offsets retransmitted, in order.
fn play(h: &mut Harness, p: &mut Peer, log: &mut Log, lose: &[usize], total: usize) -> Vec<usize> {
    let sack = h.stack.tcp_info(p.h).unwrap().sack;
    let mut rx = Receiver::default();
    let mut seen = BTreeSet::new();
    let mut rexmits = Vec::new();
    let mut wire: VecDeque<Seg> = h.take().into();
    log.ours(h, p, wire.make_contiguous());
    for _ in 0..10_000 {
        if rx.cum >= total && wire.is_empty() {
            break;
        }
        let Some(s) = wire.pop_front() else {
            wire.extend(h.wait_logged(log, p, ms(120_000)));
            continue;
        };
        let off = p.our_off(s.seq);
        if !seen.insert(off) {
            rexmits.push(off);
        } else if lose.contains(&off) {
            log.note(&format!("lost seq={}", off + 1));
            continue;
        }
        let (cum, blocks) = rx.receive(off, &s.payload);
        let blocks = if sack { blocks } else { Vec::new() };
        let ack = h.ack_seg(p, cum, &blocks);
        wire.extend(h.send_logged(log, p, &ack));
    }
    assert_eq!(rx.cum, total);
    assert_eq!(rx.data, pattern(1, total), "the peer got our data exactly");
    rexmits
}

/// RFC 5681 §3.2 and RFC 6582 §3.2 (NewReno): the third duplicate ACK
/// retransmits the missing segment and sets ssthresh = cwnd =
/// max(FlightSize / 2, 2*SMSS), FlightSize not counting the limited
/// transmit segments (RFC 5681 §3.2 step 2).
#[test]
fn three_dupacks_fast_retransmit_newreno_halves() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    assert_eq!(h.take().len(), 10);
    assert_eq!(dupack(&mut h, &mut p, 0), [10_000]);
    assert_eq!(dupack(&mut h, &mut p, 0), [11_000]);
    assert_eq!(
        dupack(&mut h, &mut p, 0),
        [0],
        "fast retransmit of the hole"
    );
    assert_eq!(h.sent.last().unwrap().payload, pattern(1, MSS));
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.ssthresh, info.cwnd), (5000, 5000));
    assert_eq!(
        (info.fast_retransmits, info.retransmits, info.timeouts),
        (1, 1, 0)
    );
}

/// RFC 9438 §4.6 (CUBIC): on fast retransmit ssthresh = cwnd = 0.7 * cwnd.
#[test]
fn three_dupacks_fast_retransmit_cubic_cuts_to_0_7() {
    let (mut h, mut p) = setup(Cubic, false, 16_000);
    h.run();
    h.take();
    for _ in 0..3 {
        dupack(&mut h, &mut p, 0);
    }
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.ssthresh, info.cwnd), (7000, 7000));
    assert_eq!(info.fast_retransmits, 1);
}

/// RFC 5681 §3.2: the congestion control can be switched per socket
/// (TCP_CONGESTION); the same loss is answered by the chosen algorithm.
#[test]
fn congestion_control_is_chosen_per_socket() {
    for (algo, want) in [(NewReno, 5000), (Cubic, 7000), (NewReno, 5000)] {
        let (mut h, mut p) = setup(Cubic, false, 16_000);
        h.stack.tcp_set_congestion(p.h, algo).unwrap();
        h.run();
        h.take();
        for _ in 0..3 {
            dupack(&mut h, &mut p, 0);
        }
        assert_eq!(h.stack.tcp_info(p.h).unwrap().ssthresh, want, "{algo:?}");
    }
}

/// RFC 3042 §2 (limited transmit): the first two duplicate ACKs each
/// release one new segment beyond cwnd; cwnd itself is unchanged.
#[test]
fn limited_transmit_sends_new_data_on_the_first_two_dupacks() {
    let (mut h, mut p) = setup(NewReno, true, 16_000);
    h.run();
    h.take();
    for (i, want) in [(1, 10_000), (2, 11_000)] {
        h.peer_sack(&mut p, 0, &[(MSS, (i + 1) * MSS)]);
        let segs = h.take();
        assert_eq!(offs(&p, &segs), [want]);
        assert_eq!(h.stack.tcp_info(p.h).unwrap().cwnd, 10_000);
    }
}

/// RFC 5681 §2 (definition of a duplicate ACK): an ACK that changes the
/// window, or carries data, is not a duplicate and starts no recovery.
#[test]
fn acks_with_window_change_or_data_are_not_duplicates() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    h.take();
    for w in [60_000, 50_000, 40_000] {
        p.window = w;
        dupack(&mut h, &mut p, 0);
    }
    for i in 0..3 {
        h.peer_data(&mut p, &[i; 10]);
    }
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.fast_retransmits, info.retransmits), (0, 0));
}

/// RFC 5681 §3.2 and RFC 6582 §3.2 (steps 2 to 4), as a trace: fast
/// retransmit on the third duplicate ACK, the window inflated by one
/// segment per further duplicate (new data once it exceeds the flight),
/// exactly one retransmission, and the exit deflating cwnd to ssthresh
/// when the ACK covers `recover`.
#[test]
fn newreno_fast_recovery_trace() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    let mut log = Log::new(&h);
    let rexmits = play(&mut h, &mut p, &mut log, &[0], 16_000);
    assert_eq!(rexmits, [0]);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.fast_retransmits, info.timeouts), (1, 0));
    assert_eq!(info.cwnd, info.ssthresh);
    insta::assert_snapshot!(log.text);
}

/// RFC 6582 §3.2 step 5 (partial acknowledgment, SACK off): the next hole
/// is retransmitted at once, and the window is deflated by the data
/// acknowledged less one segment, so no burst of new data follows.
#[test]
fn newreno_partial_ack_retransmits_the_next_hole() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    h.take();
    // Segments 0 and 5 are lost; 1..4 and 6..11 arrive.
    let mut sent = Vec::new();
    for _ in 1..=10 {
        sent.extend(dupack(&mut h, &mut p, 0));
    }
    assert_eq!(sent, [10_000, 11_000, 0, 12_000, 13_000, 14_000]);
    // The retransmitted 0 arrives: ACK of 5000 < recover (12000).
    h.peer_ack(&mut p, 5000);
    let segs = h.take();
    assert_eq!(offs(&p, &segs), [5000, 15_000]);
    // cwnd = 5000 + 10 * 1000 - 5000 + 1000 = 11000, all in flight.
    h.stack.tcp_send(p.h, &pattern(2, 5000)).unwrap();
    h.run();
    h.expect_silence();
    // The retransmitted 5 arrives: everything up to 16000 is acknowledged.
    h.peer_ack(&mut p, 16_000);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!(
        (info.cwnd, info.ssthresh, info.retransmits),
        (5000, 5000, 2)
    );
    assert_eq!(h.take().len(), 5, "slow start again up to cwnd");
}

/// RFC 6582 §3.2 step 1 (and §4): after a retransmission timeout,
/// duplicate ACKs that do not cover more than `recover` start no fast
/// retransmit.
#[test]
fn no_fast_retransmit_for_dupacks_below_recover() {
    let (mut h, mut p) = setup(NewReno, false, 12_000);
    h.run();
    h.take();
    h.advance_to_deadline(ms(1000));
    assert_eq!(offs(&p, &h.take()), [0], "timeout: segment 0 again");
    // 0 arrives; the peer had 1..9: everything up to 10000 (= recover).
    h.peer_ack(&mut p, 10_000);
    assert_eq!(offs(&p, &h.take()), [10_000, 11_000]);
    for _ in 0..3 {
        dupack(&mut h, &mut p, 10_000);
    }
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.fast_retransmits, info.timeouts), (0, 1));
}

/// RFC 6675 §5 (SACK-based loss recovery), as a trace: only the segments
/// the peer's SACK blocks show missing are retransmitted, each once, as
/// they are deemed lost and the pipe allows; recovery ends when the ACK
/// covers the recovery point.
#[test]
fn sack_recovery_trace() {
    let (mut h, mut p) = setup(Cubic, true, 16_000);
    h.run();
    let mut log = Log::new(&h);
    let rexmits = play(&mut h, &mut p, &mut log, &[0, 3000, 5000], 16_000);
    assert_eq!(rexmits, [0, 3000, 5000]);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.fast_retransmits, info.timeouts), (1, 0));
    insta::assert_snapshot!(log.text);
}

/// RFC 6675 §5 with several holes in one window, some two segments wide:
/// every missing segment is retransmitted exactly once, nothing SACKed is
/// sent again, and no timeout is needed.
#[test]
fn sack_recovery_fills_several_holes_in_one_window() {
    for algo in [NewReno, Cubic] {
        let (mut h, mut p) = setup(algo, true, 16_000);
        h.run();
        let mut log = Log::new(&h);
        let lose = [1000, 2000, 4000, 7000, 8000];
        let mut rexmits = play(&mut h, &mut p, &mut log, &lose, 16_000);
        rexmits.sort();
        assert_eq!(rexmits, lose, "{algo:?}\n{}", log.text);
        let info = h.stack.tcp_info(p.h).unwrap();
        assert_eq!((info.fast_retransmits, info.timeouts), (1, 0), "{algo:?}");
    }
}

/// RFC 6582 §3.2 with SACK off, several holes: one retransmission per
/// partial ACK, none of data that arrived, no timeout.
#[test]
fn newreno_recovers_several_holes_by_partial_acks() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    let mut log = Log::new(&h);
    let lose = [1000, 4000, 6000];
    let rexmits = play(&mut h, &mut p, &mut log, &lose, 16_000);
    assert_eq!(rexmits, lose, "{}", log.text);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.fast_retransmits, info.timeouts), (1, 0));
}

/// RFC 2018 §4 and RFC 6675 §5: SACK blocks from a peer that did not
/// negotiate SACK are ignored: recovery runs on duplicate ACKs alone.
#[test]
fn sack_blocks_are_ignored_unless_negotiated() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    h.take();
    // One dupack claiming everything above the hole: no effect.
    h.peer_sack(&mut p, 0, &[(1000, 10_000)]);
    assert_eq!(offs(&p, &h.take()), [10_000], "limited transmit only");
    assert_eq!(h.stack.tcp_info(p.h).unwrap().fast_retransmits, 0);
}

/// RFC 6675 §5 (IsLost with DupThresh): enough SACKed data above a hole
/// marks it lost even before three duplicate ACKs.
#[test]
fn sack_marks_a_hole_lost_before_three_dupacks() {
    let (mut h, mut p) = setup(Cubic, true, 16_000);
    h.run();
    h.take();
    h.peer_sack(&mut p, 0, &[(1000, 4000)]);
    let segs = h.take();
    assert!(offs(&p, &segs).contains(&0), "{segs:#?}");
    assert_eq!(h.stack.tcp_info(p.h).unwrap().fast_retransmits, 1);
}

/// RFC 5681 §3.1 and RFC 6298 §5.4-5.6: on a retransmission timeout the
/// oldest segment goes again, cwnd drops to one segment, ssthresh to
/// max(FlightSize / 2, 2*SMSS); slow start then restarts from SND.UNA.
#[test]
fn rto_retransmits_oldest_and_collapses_cwnd() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    assert_eq!(h.take().len(), 10);
    let waited = h.advance_to_deadline(ms(5000));
    let rto = h.stack.tcp_info(p.h).unwrap().rto;
    assert_eq!(waited.total_micros() * 2, rto.total_micros(), "backed off");
    let segs = h.take();
    assert_eq!(offs(&p, &segs), [0]);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.cwnd, info.ssthresh, info.timeouts), (1000, 5000, 1));
    // Only segment 0 was lost: the peer acknowledges all ten.
    h.peer_ack(&mut p, 10_000);
    assert_eq!(offs(&p, &h.take()), [10_000, 11_000]);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().cwnd, 2000);
}

/// RFC 6675 §5.1 and RFC 5681 §3.1: a timeout during SACK recovery ends
/// it; the sender falls back to one segment and slow start, and the
/// transfer completes.
#[test]
fn rto_during_sack_recovery_falls_back_to_slow_start() {
    let (mut h, mut p) = setup(Cubic, true, 16_000);
    h.run();
    h.take();
    for k in 2..=4 {
        h.peer_sack(&mut p, 0, &[(MSS, k * MSS)]);
    }
    assert_eq!(h.stack.tcp_info(p.h).unwrap().fast_retransmits, 1);
    h.take();
    // The retransmission is lost too: the timer fires.
    h.advance_to_deadline(ms(5000));
    assert_eq!(p.our_off(h.sent.last().unwrap().seq), 0);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.cwnd, info.timeouts), (1000, 1));
    let mut log = Log::new(&h);
    play(&mut h, &mut p, &mut log, &[], 16_000);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().timeouts, 1);
}

/// RFC 5681 §3.2: three more duplicate ACKs during recovery do not start
/// a second fast retransmit or a second reduction.
#[test]
fn one_fast_retransmit_per_window() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    h.take();
    for _ in 0..9 {
        dupack(&mut h, &mut p, 0);
    }
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.fast_retransmits, info.retransmits), (1, 1));
    assert_eq!(info.ssthresh, 5000);
}

/// RFC 6582 §3.2 steps 1, 3 and 5: duplicate ACKs during recovery start no
/// new one; recovery ends when the ACK reaches `recover`; a later loss
/// starts a new recovery only once the cumulative ACK is beyond `recover`.
#[test]
fn recovery_ends_at_recover_and_a_new_one_needs_an_ack_beyond() {
    let (mut h, mut p) = setup(NewReno, false, 16_000);
    h.run();
    h.take();
    for _ in 0..3 {
        dupack(&mut h, &mut p, 0);
    }
    // recover = 12000 (ten segments and two of limited transmit). A
    // partial ACK: the next hole goes at once; the window deflated to
    // ssthresh + 1 SMSS lets new data fill it.
    assert_eq!(
        dupack(&mut h, &mut p, 11_000),
        [11_000, 12_000, 13_000, 14_000, 15_000]
    );
    for _ in 0..3 {
        dupack(&mut h, &mut p, 11_000);
    }
    assert_eq!(h.stack.tcp_info(p.h).unwrap().fast_retransmits, 1);
    h.peer_ack(&mut p, 12_000);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!((info.cwnd, info.ssthresh), (5000, 5000), "deflated on exit");
    h.expect_silence();
    for _ in 0..3 {
        dupack(&mut h, &mut p, 12_000);
    }
    assert_eq!(
        h.stack.tcp_info(p.h).unwrap().fast_retransmits,
        1,
        "not beyond recover"
    );
    h.peer_ack(&mut p, 13_000);
    for _ in 0..2 {
        dupack(&mut h, &mut p, 13_000);
    }
    assert_eq!(dupack(&mut h, &mut p, 13_000), [13_000]);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().fast_retransmits, 2);
}
