//! Connection timers through a scripted peer: the retransmission timer
//! (RFC 6298: initial value, RTT measurement, Karn's rule, backoff, bounds,
//! giving up), zero-window probes (RFC 9293 §3.8.6.1), keepalive (RFC 9293
//! §3.8.4, RFC 1122 §4.2.3.6) and the user timeout (RFC 9293 §3.8.3,
//! RFC 5482).

mod tcp_common;
use tcp_common::*;
use wolfip_core::config::{TCP_RETRIES, TCP_RTO_INITIAL_MS, TCP_RTO_MAX_MS, TCP_RTO_MIN_MS};
use wolfip_core::{Duration, Keepalive, TcpError, TcpRecvError, TcpState};

const IRS: u32 = 5000;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Reads once, expecting the connection's error.
fn recv_err(h: &mut Harness, p: &Peer) -> Result<usize, TcpRecvError> {
    let mut buf = [0u8; 16];
    h.stack.tcp_recv(p.h, &mut buf)
}

/// Sends `n` bytes of data from us and takes the segment(s).
fn send_data(h: &mut Harness, p: &Peer, n: usize) -> Vec<Seg> {
    h.stack.tcp_send(p.h, &pattern(3, n)).unwrap();
    h.run();
    h.take()
}

/// RFC 6298 §2.1: before any RTT measurement the RTO is 1 s: the first
/// retransmission comes exactly then, with the same data.
#[test]
fn initial_rto_is_one_second() {
    let mut h = Harness::new(1);
    let p = h.open_with(IRS, SynOpts::K, Handshake::SynAckLost);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!(info.srtt, None);
    assert_eq!(info.rto, ms(TCP_RTO_INITIAL_MS as u64));
    let first = send_data(&mut h, &p, 100);
    h.advance(ms(TCP_RTO_INITIAL_MS as u64 - 1));
    h.expect_silence();
    assert_eq!(h.advance_tcp(secs(10)), ms(1));
    let again = h.take_one();
    assert_eq!(
        (again.seq, &again.payload),
        (first[0].seq, &first[0].payload)
    );
}

/// RFC 6298 §5.5 (double the RTO on each expiry), §2.5 (an upper bound of
/// at least 60 s) and RFC 1122 §4.2.3.5 / RFC 9293 §3.8.3 (give up after
/// TCP_RETRIES retransmissions), as a timed trace.
#[test]
fn rto_backoff_trace_until_timeout() {
    let mut h = Harness::new(1);
    let p = h.open_with(IRS, SynOpts::K, Handshake::SynAckLost);
    let mut log = Log::new(&h);
    let start = h.now;
    h.stack.tcp_send(p.h, b"data").unwrap();
    h.run();
    let first = h.take();
    log.ours(&h, &p, &first);
    let mut gaps = Vec::new();
    let mut last = h.now;
    while h.stack.tcp_state(p.h) == Some(TcpState::Established) {
        let out = h.wait_logged(&mut log, &p, secs(120));
        gaps.push((h.now - last).total_millis());
        last = h.now;
        let closed = h.stack.tcp_state(p.h) == Some(TcpState::Closed);
        assert_eq!(out.len(), usize::from(!closed));
    }
    log.note(&format!(
        "{}ms closed: timed out",
        (h.now - start).total_millis()
    ));
    let cap = TCP_RTO_MAX_MS as u64;
    let want: Vec<u64> = (0..=TCP_RETRIES as u32)
        .map(|i| ((TCP_RTO_INITIAL_MS as u64) << i).min(cap))
        .collect();
    assert_eq!(gaps, want);
    assert_eq!(
        recv_err(&mut h, &p),
        Err(TcpRecvError::Failed(TcpError::TimedOut))
    );
    insta::assert_snapshot!(log.text);
}

/// RFC 1122 §4.2.3.5 (R2: close the connection) and RFC 9293 §3.8.3: after
/// TCP_RETRIES retransmissions the connection fails with "timed out",
/// reported once by recv, silently (no RST to a peer that is gone).
#[test]
fn retries_exhausted_report_timed_out() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    send_data(&mut h, &p, 100);
    for _ in 0..1000 {
        if h.stack.tcp_state(p.h) == Some(TcpState::Closed) {
            break;
        }
        h.advance_tcp(secs(120));
    }
    let segs = h.take();
    assert_eq!(segs.len(), TCP_RETRIES);
    assert!(segs.iter().all(|s| !s.is_rst()));
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Closed));
    assert_eq!(
        h.stack.tcp_info(p.h).unwrap().timeouts as usize,
        TCP_RETRIES
    );
    assert_eq!(
        recv_err(&mut h, &p),
        Err(TcpRecvError::Failed(TcpError::TimedOut))
    );
    assert_eq!(recv_err(&mut h, &p), Ok(0), "reported once");
    assert_eq!(h.stack.stats().tcp.timed_out, 1);
    assert_eq!(h.advance_tcp(secs(600)), secs(600));
    h.expect_silence();
}

/// RFC 6298 §2.2: the first measurement R gives SRTT = R, RTTVAR = R/2,
/// RTO = SRTT + max(G, 4*RTTVAR); data is retransmitted after that RTO.
#[test]
fn rto_comes_from_the_measured_rtt() {
    let mut h = Harness::new(1);
    let p = h.open_with(IRS, SynOpts::K, Handshake::Rtt(ms(100)));
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!(info.srtt, Some(ms(100)));
    assert_eq!(info.rto, ms(300));
    send_data(&mut h, &p, 100);
    assert_eq!(h.advance_tcp(secs(10)), ms(300));
    assert_eq!(h.take_one().payload.len(), 100);
}

/// RFC 6298 §2.4: the RTO never goes below its minimum (TCP_RTO_MIN_MS,
/// Linux's 200 ms rather than the RFC's 1 s), even for a zero RTT.
#[test]
fn rto_has_a_floor() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::K);
    assert_eq!(
        h.stack.tcp_info(p.h).unwrap().rto,
        ms(TCP_RTO_MIN_MS as u64)
    );
    send_data(&mut h, &p, 100);
    assert_eq!(h.advance_tcp(secs(10)), ms(TCP_RTO_MIN_MS as u64));
}

/// RFC 6298 §5.3 (an ACK of new data restarts the timer) and §5.2 (all
/// data acknowledged: the timer stops).
#[test]
fn timer_restarts_on_new_ack_and_stops_when_all_is_acked() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::K);
    h.stack.tcp_set_nodelay(p.h, true).unwrap();
    send_data(&mut h, &p, 100);
    h.advance(ms(100));
    send_data(&mut h, &p, 100);
    h.advance(ms(50));
    h.peer_ack(&mut p, 100);
    assert_eq!(h.advance_tcp(secs(10)), ms(200));
    let again = h.take_one();
    assert_eq!(p.our_off(again.seq), 100);
    h.peer_ack(&mut p, 200);
    assert_eq!(h.advance_tcp(secs(600)), secs(600));
    h.expect_silence();
}

/// RFC 6298 §5.5 and §5 (note on collapsing the RTO): the backoff ends
/// when new data is acknowledged; the next segment is timed with the
/// computed RTO again.
#[test]
fn backoff_ends_with_an_ack_of_new_data() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::K);
    send_data(&mut h, &p, 100);
    h.advance_tcp(secs(10));
    h.advance_tcp(secs(10));
    assert_eq!(h.take().len(), 2);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().rto, ms(800));
    h.peer_ack(&mut p, 100);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().rto, ms(200));
    send_data(&mut h, &p, 100);
    assert_eq!(h.advance_tcp(secs(10)), ms(200));
}

/// RFC 6298 §3 (Karn's algorithm): without timestamps, the ACK of a
/// retransmitted segment gives no RTT sample; a segment sent once does.
#[test]
fn karn_no_sample_from_a_retransmitted_segment() {
    let mut h = Harness::new(1);
    let mut p = h.open_with(IRS, SynOpts::K, Handshake::SynAckLost);
    send_data(&mut h, &p, 100);
    h.advance_tcp(secs(10));
    assert_eq!(h.take().len(), 1);
    h.advance(ms(100));
    h.peer_ack(&mut p, 100);
    let info = h.stack.tcp_info(p.h).unwrap();
    assert_eq!(info.srtt, None, "ambiguous: no sample");
    assert_eq!(info.rto, ms(TCP_RTO_INITIAL_MS as u64), "backoff undone");
    send_data(&mut h, &p, 100);
    h.advance(ms(50));
    h.peer_ack(&mut p, 200);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().srtt, Some(ms(50)));
}

/// RFC 7323 §4.1 and RFC 6298 §2: with timestamps the echoed TSval
/// measures the RTT of the acknowledged segment.
#[test]
fn timestamps_measure_the_rtt() {
    let mut h = Harness::new(1);
    let mut p = h.open_with(IRS, SynOpts::LINUX, Handshake::SynAckLost);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().srtt, None);
    send_data(&mut h, &p, 100);
    h.advance(ms(80));
    h.peer_ack(&mut p, 100);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().srtt, Some(ms(80)));
}

/// RFC 7323 §4.1 (and RFC 6298 §3's exception for timestamps): the TSecr
/// names the copy acknowledged, so the ACK of a retransmission that echoes
/// its TSval is a valid sample, timed from the retransmission.
#[test]
fn timestamps_measure_even_retransmissions() {
    let mut h = Harness::new(1);
    let mut p = h.open_with(IRS, SynOpts::LINUX, Handshake::SynAckLost);
    send_data(&mut h, &p, 100);
    h.advance_tcp(secs(10));
    let again = h.take_one();
    h.advance(ms(60));
    // h.tsecr() is the TSval of the retransmission.
    assert_eq!(h.tsecr(), again.timestamp.unwrap().0);
    h.peer_ack(&mut p, 100);
    assert_eq!(h.stack.tcp_info(p.h).unwrap().srtt, Some(ms(60)));
}

/// Sets up a zero window with 3000 bytes waiting: 5000 bytes sent and
/// acknowledged with window 0.
fn zero_window(h: &mut Harness) -> Peer {
    let mut p = h.open(IRS, SynOpts::K);
    assert_eq!(send_data(h, &p, 5000).len(), 5);
    p.window = 0;
    h.peer_ack(&mut p, 5000);
    assert!(send_data(h, &p, 3000).is_empty());
    p
}

/// RFC 9293 §3.8.6.1 and RFC 1122 §4.2.2.17: a zero window is probed,
/// at intervals that double from the RTO; when the window opens, sending
/// resumes.
#[test]
fn zero_window_probes_back_off_and_sending_resumes() {
    let mut h = Harness::new(1);
    let mut p = zero_window(&mut h);
    let mut log = Log::new(&h);
    let mut gaps = Vec::new();
    for _ in 0..6 {
        gaps.push(h.advance_tcp(secs(120)).total_millis());
        let probe = h.take_one();
        log.ours(&h, &p, std::slice::from_ref(&probe));
        assert_eq!(probe.seq.0, p.our(5000).wrapping_sub(1), "SND.UNA - 1");
        assert!(probe.payload.is_empty());
        let ack = h.ack_seg(&mut p, 5000, &[]);
        assert!(h.send_logged(&mut log, &p, &ack).is_empty());
    }
    assert_eq!(gaps, [200, 400, 800, 1600, 3200, 6400]);
    p.window = 16; // 2048 bytes
    let ack = h.ack_seg(&mut p, 5000, &[]);
    let segs = h.send_logged(&mut log, &p, &ack);
    assert_eq!(segs.len(), 2);
    assert_eq!(p.our_off(segs[0].seq), 5000);
    insta::assert_snapshot!(log.text);
}

/// RFC 9293 §3.8.6.1: a later zero window is probed from the start again
/// (one RTO, then two), not with the backoff of an earlier one.
#[test]
fn probe_backoff_restarts_for_the_next_zero_window() {
    let mut h = Harness::new(1);
    let mut p = zero_window(&mut h);
    for _ in 0..5 {
        h.advance_tcp(secs(120));
        h.peer_ack(&mut p, 5000);
    }
    assert_eq!(h.take().len(), 5);
    p.window = 64;
    h.peer_ack(&mut p, 5000);
    assert_eq!(h.take().len(), 3);
    p.window = 0;
    h.peer_ack(&mut p, 8000);
    send_data(&mut h, &p, 1000);
    assert_eq!(h.advance_tcp(secs(120)), ms(200));
    h.peer_ack(&mut p, 8000);
    assert_eq!(h.advance_tcp(secs(120)), ms(400));
    assert_eq!(h.take().len(), 2);
}

/// RFC 1122 §4.2.2.17: "A TCP MUST NOT close a connection just because the
/// receiver keeps advertising a zero window while ACKing" the probes; the
/// interval stops growing at 60 s.
#[test]
fn zero_window_probing_goes_on_while_acked() {
    let mut h = Harness::new(1);
    let mut p = zero_window(&mut h);
    let mut last = 0;
    for _ in 0..40 {
        last = h.advance_tcp(secs(600)).total_millis();
        assert_eq!(h.take().len(), 1);
        h.peer_ack(&mut p, 5000);
    }
    assert_eq!(last, 60_000);
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Established));
    assert_eq!(h.stack.tcp_info(p.h).unwrap().timeouts, 0);
}

/// Keepalive: idle 10 s, 2 s between probes, 3 probes.
const KA: Keepalive = Keepalive {
    idle: Duration::from_secs(10),
    interval: Duration::from_secs(2),
    count: 3,
};

/// RFC 9293 §3.8.4 and RFC 1122 §4.2.3.6: after the idle time a keepalive
/// (SEG.SEQ = SND.NXT - 1, no data) goes; unanswered probes repeat at the
/// interval, and after `count` of them the connection times out.
#[test]
fn keepalive_probes_then_times_out() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    h.stack.tcp_set_keepalive(p.h, Some(KA)).unwrap();
    let mut log = Log::new(&h);
    let start = h.now;
    while h.stack.tcp_state(p.h) == Some(TcpState::Established) {
        h.wait_logged(&mut log, &p, secs(3600));
        assert!(h.now - start <= secs(60));
    }
    assert_eq!(h.now - start, secs(16), "idle + count * interval");
    log.note(&format!(
        "{}ms closed: timed out",
        (h.now - start).total_millis()
    ));
    assert_eq!(
        recv_err(&mut h, &p),
        Err(TcpRecvError::Failed(TcpError::TimedOut))
    );
    insta::assert_snapshot!(log.text);
}

/// RFC 1122 §4.2.3.6: an answered keepalive keeps the connection; the
/// next probe comes after a full idle time again.
#[test]
fn answered_keepalives_keep_the_connection() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::LINUX);
    h.stack.tcp_set_keepalive(p.h, Some(KA)).unwrap();
    for _ in 0..5 {
        assert_eq!(h.advance_tcp(secs(3600)), secs(10));
        let probe = h.take_one();
        assert_eq!(
            (probe.seq.0, probe.payload.len()),
            (p.our(0).wrapping_sub(1), 0)
        );
        h.peer_ack(&mut p, 0);
        h.expect_silence();
    }
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Established));
}

/// RFC 1122 §4.2.3.6 (keepalives only when no data or ACK has been
/// received for the interval): any segment from the peer restarts the idle
/// time.
#[test]
fn keepalive_idle_time_restarts_with_traffic() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::LINUX);
    h.stack.tcp_set_keepalive(p.h, Some(KA)).unwrap();
    h.advance(secs(8));
    h.peer_data(&mut p, b"x");
    h.advance(ms(100));
    h.take();
    assert_eq!(h.advance_tcp(secs(3600)), ms(9900));
    assert_eq!(h.take_one().payload.len(), 0);
}

/// RFC 1122 §4.2.3.6: keepalives "MUST default to off".
#[test]
fn keepalive_is_off_by_default() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    assert_eq!(h.advance_tcp(secs(3 * 3600)), secs(3 * 3600));
    h.expect_silence();
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Established));
}

/// RFC 9293 §3.8.3 and RFC 5482 (TCP_USER_TIMEOUT): data unacknowledged
/// for the user timeout fails the connection with "timed out", before the
/// retransmissions run out.
#[test]
fn user_timeout_fails_the_connection() {
    let mut h = Harness::new(1);
    let p = h.open(IRS, SynOpts::LINUX);
    h.stack.tcp_set_user_timeout(p.h, Some(secs(3))).unwrap();
    let start = h.now;
    send_data(&mut h, &p, 100);
    while h.stack.tcp_state(p.h) == Some(TcpState::Established) {
        h.advance_tcp(secs(120));
    }
    assert_eq!(h.now - start, secs(3));
    assert!(h.take().len() < TCP_RETRIES);
    assert_eq!(
        recv_err(&mut h, &p),
        Err(TcpRecvError::Failed(TcpError::TimedOut))
    );
}

/// RFC 5482 §2 and RFC 9293 §3.8.3: the user timeout counts from the last
/// acknowledgment of new data; an idle connection never times out.
#[test]
fn user_timeout_counts_from_the_last_progress() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::LINUX);
    h.stack.tcp_set_user_timeout(p.h, Some(secs(3))).unwrap();
    send_data(&mut h, &p, 100);
    h.advance(secs(2));
    h.peer_ack(&mut p, 100);
    assert_eq!(h.advance_tcp(secs(60)), secs(60), "idle: no timeout");
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Established));
    let start = h.now;
    send_data(&mut h, &p, 100);
    while h.stack.tcp_state(p.h) == Some(TcpState::Established) {
        h.advance_tcp(secs(120));
    }
    assert_eq!(h.now - start, secs(3));
}

/// RFC 9293 §3.8.6.1 says a receiver that keeps answering may hold its
/// window shut indefinitely; one that stops answering altogether is gone:
/// after `TCP_RETRIES` probes and two probe intervals of silence the
/// connection times out.
#[test]
fn zero_window_probes_unanswered_time_out() {
    let mut h = Harness::new(1);
    let p = zero_window(&mut h);
    let mut probes = 0;
    for _ in 0..(TCP_RETRIES + 10) {
        h.advance_tcp(secs(120));
        h.arp_refresh();
        probes += h.take().len();
        if h.stack.tcp_state(p.h) == Some(TcpState::Closed) {
            break;
        }
    }
    assert!(probes >= TCP_RETRIES, "{probes} probes");
    assert_eq!(
        recv_err(&mut h, &p),
        Err(TcpRecvError::Failed(TcpError::TimedOut))
    );
}

/// RFC 5681 §4.1: after an idle period longer than the RTO, the congestion
/// window restarts from min(IW, cwnd): a grown window is not blasted at
/// the network after a pause.
#[test]
fn window_restarts_after_idle() {
    let mut h = Harness::new(1);
    let mut p = h.open(IRS, SynOpts::K);
    // Grow the window with a few round trips of full-sized data.
    let mut acked = 0;
    for _ in 0..6 {
        let segs = send_data(&mut h, &p, 20_000);
        let bytes: usize = segs.iter().map(|s| s.payload.len()).sum();
        acked += bytes;
        h.peer_ack(&mut p, acked);
        h.advance(ms(10));
        for s in h.take() {
            acked += s.payload.len();
        }
        h.peer_ack(&mut p, acked);
        let rest = h.take();
        acked += rest.iter().map(|s| s.payload.len()).sum::<usize>();
        h.peer_ack(&mut p, acked);
        let _ = h.take();
    }
    let info = h.stack.tcp_info(p.h).unwrap();
    let iw = 10 * u32::from(info.mss);
    assert!(info.cwnd > iw, "the window grew: {}", info.cwnd);
    assert_eq!(info.send_queue, 0, "everything acknowledged");
    // Idle for well over the RTO, then send: only IW may leave.
    h.advance(secs(5));
    h.arp_refresh();
    let burst = send_data(&mut h, &p, 60_000);
    let bytes: u32 = burst.iter().map(|s| s.payload.len() as u32).sum();
    assert!(bytes <= iw, "{bytes} bytes after idle, IW is {iw}");
    assert!(h.stack.tcp_info(p.h).unwrap().cwnd <= iw);
}
