//! Acknowledgement processing (RFC 9293 §3.10.7.4 "fifth check"): ACK
//! acceptability (RFC 5961 §5), the send window, RTT samples (RFC 6298,
//! RFC 7323 §4), congestion control (RFC 5681), fast retransmit and
//! recovery (RFC 6582 NewReno, RFC 6675 SACK), limited transmit (RFC 3042),
//! and the state changes an acknowledged FIN causes.

use crate::net::Net;
use crate::tcp::{TcpSocket, TcpState};
use crate::time::{Deadline, Duration, Instant};
use crate::wire::{SeqNumber, TcpControl, TcpRepr};

/// RFC 5681 §3.2: three duplicate ACKs signal a loss.
pub(crate) const DUP_THRESH: u8 = 3;

/// What the caller does after ACK processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Go on with text and FIN.
    Continue,
    /// Drop the rest of the segment.
    Drop,
    /// The connection closed (LAST-ACK done).
    Closed,
}

/// The sequence number just past the last data byte queued, i.e. where the
/// FIN goes.
pub(crate) fn data_end(s: &TcpSocket) -> SeqNumber {
    let Some(t) = &s.tcb else { return SeqNumber(0) };
    let base = if t.syn_unacked() {
        t.iss + 1
    } else if matches!(t.state, TcpState::FinWait2 | TcpState::TimeWait) {
        // Our FIN is acknowledged: SND.UNA is one past it (RFC 9293
        // §3.10.7.4), not past the data.
        t.snd_una - 1
    } else {
        t.snd_una
    };
    base + s.tx.len()
}

/// Whether our FIN is out as far as the sender goes now: SND.NXT is past
/// it (after a timeout SND.NXT moves back and the FIN goes again).
pub(crate) fn fin_sent(s: &TcpSocket) -> bool {
    match &s.tcb {
        Some(t) => t.fin_queued && t.snd_nxt.gt(data_end(s)),
        None => false,
    }
}

/// Whether our FIN was ever sent (SND.MAX is past it).
pub(crate) fn fin_ever_sent(s: &TcpSocket) -> bool {
    match &s.tcb {
        Some(t) => t.fin_queued && t.snd_max.gt(data_end(s)),
        None => false,
    }
}

/// Processes SEG.ACK and the window of an acceptable segment.
pub(crate) fn process(
    net: &mut Net,
    s: &mut TcpSocket,
    now: Instant,
    seg: &TcpRepr<'_>,
) -> Outcome {
    let Some(ack) = seg.ack_number else {
        return Outcome::Drop;
    };
    let fin_was_sent = fin_ever_sent(s);
    let end = data_end(s);
    let Some(t) = s.tcb.as_mut() else {
        return Outcome::Drop;
    };

    if t.state == TcpState::SynReceived {
        // RFC 9293: SND.UNA < SEG.ACK =< SND.NXT moves us to ESTABLISHED.
        if ack.gt(t.snd_una) && ack.le(t.snd_max) {
            t.state = TcpState::Established;
            t.snd_wnd = u32::from(seg.window_len) << t.opts.snd_shift;
            t.max_snd_wnd = t.snd_wnd;
            t.snd_wl1 = seg.seq_number;
            t.snd_wl2 = ack;
            net.stats.tcp.active_opens += 1;
        } else {
            // RFC 9293 §3.10.7.4: an unacceptable ACK in SYN-RECEIVED is
            // answered with a RST, within the RST limit.
            crate::tcp::input::limited_reset(net, now, t.local, t.remote, ack, None);
            return Outcome::Drop;
        }
    }

    // RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
    if ack.gt(t.snd_max) {
        t.ack_now = true;
        return Outcome::Drop;
    }
    let oldest_ok = t.snd_una - (t.max_snd_wnd.max(1) as usize);
    if ack.lt(oldest_ok) {
        crate::tcp::input::challenge_ack(net, t, now);
        return Outcome::Drop;
    }

    let window = u32::from(seg.window_len) << t.opts.snd_shift;
    let in_flight_before = t.in_flight();

    // SACK blocks update the scoreboard (RFC 2018 §4, RFC 6675 §5).
    let mut sack_news = 0;
    if t.opts.sack {
        let blocks = seg.sack_ranges;
        let mut list = [crate::wire::SackBlock {
            left: SeqNumber(0),
            right: SeqNumber(0),
        }; 4];
        let mut n = 0;
        for b in blocks.iter().flatten() {
            list[n] = *b;
            n += 1;
        }
        if n > 0 {
            sack_news = t
                .scoreboard
                .update(ack.max(t.snd_una), t.snd_max, &list[..n]);
        }
    }

    let is_dup = ack == t.snd_una
        && seg.payload.is_empty()
        && seg.control != TcpControl::Fin
        && seg.control != TcpControl::Syn
        && window == t.snd_wnd
        && t.snd_max.gt(t.snd_una);

    // Window update (RFC 9293 §3.10.7.4: SND.WL1/SND.WL2 rule).
    if t.snd_wl1.lt(seg.seq_number) || (t.snd_wl1 == seg.seq_number && t.snd_wl2.le(ack)) {
        t.snd_wnd = window;
        t.snd_wl1 = seg.seq_number;
        t.snd_wl2 = ack;
        t.max_snd_wnd = t.max_snd_wnd.max(window);
        if window > 0 {
            // The window opened: a later zero window is probed from the
            // start again (RFC 9293 §3.8.6.1).
            t.persist_at = Deadline::NONE;
            t.persist_count = 0;
        }
    }

    if ack.gt(t.snd_una) {
        let acked = ack.diff(t.snd_una) as u32;
        // Data bytes acknowledged: the SYN and FIN occupy sequence numbers
        // but no buffer byte.
        let mut data = acked as usize;
        if t.syn_unacked() {
            data -= 1;
        }
        let fin_acked = fin_was_sent && ack.gt(end);
        if fin_acked {
            data = data.saturating_sub(1);
        }
        t.snd_una = ack;
        if t.snd_nxt.lt(ack) {
            t.snd_nxt = ack;
        }
        t.scoreboard.on_cumulative_ack(ack);
        // RTT: a timestamp echo measures every ACK (RFC 7323 §4.1),
        // otherwise one timed segment at a time with Karn's rule.
        let mut sample = None;
        if t.opts.timestamps {
            if let Some((_, tsecr)) = seg.timestamp {
                if tsecr != 0 {
                    let ms = t.tsval(now).wrapping_sub(tsecr);
                    if ms < 60_000 {
                        sample = Some(Duration::from_millis(u64::from(ms)));
                    }
                }
            }
            if let Some(rtt) = sample {
                let expected = (t.cc.window() / u32::from(t.smss).max(1)).max(1) / 2;
                t.rtt
                    .sample_scaled(rtt.max(Duration::from_micros(100)), expected.max(1));
            }
        } else if let Some(rtt) = t.sampler.on_ack(ack, now) {
            t.rtt.sample(rtt);
            sample = Some(rtt);
        }
        t.rtt.reset_backoff();
        t.retries = 0;
        t.last_ack_progress = now;

        if t.cc.in_recovery() {
            if ack.ge(t.recover) {
                // Full acknowledgment: leave recovery (RFC 6582 §3.2 step 3).
                t.cc.on_recovery_exit(now);
                t.dupacks = 0;
            } else if !t.opts.sack {
                // Partial ACK (RFC 6582 §3.2 step 5): retransmit the first
                // unacknowledged segment at once, and deflate the window
                // (inflated by one SMSS per duplicate ACK) by the data
                // acknowledged, adding one SMSS back if a whole one was.
                t.rexmit_pending = true;
                let smss = u32::from(t.smss).max(1);
                let whole = u8::try_from(acked / smss).unwrap_or(u8::MAX);
                t.dupacks = t
                    .dupacks
                    .saturating_sub(whole)
                    .saturating_add(u8::from(whole > 0));
            }
        } else {
            t.dupacks = 0;
            t.cc.on_ack(now, acked, sample, in_flight_before);
        }
        s.tx.dequeue_allocated(data);
        let t = match s.tcb.as_mut() {
            Some(t) => t,
            None => return Outcome::Drop,
        };
        // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged,
        // otherwise restart it.
        if t.snd_una == t.snd_max {
            t.retransmit_at = Deadline::NONE;
        } else {
            t.retransmit_at = Deadline::at(now + t.rtt.rto());
        }
        if fin_acked {
            match t.state {
                TcpState::FinWait1 => {
                    t.state = TcpState::FinWait2;
                    if s.orphaned {
                        crate::tcp::timers::arm_fin_wait_2(t, now);
                    }
                }
                TcpState::Closing => crate::tcp::timers::enter_time_wait(t, now),
                TcpState::LastAck => return Outcome::Closed,
                _ => {}
            }
        }
    } else if is_dup || (sack_news > 0 && ack == t.snd_una) {
        t.dupacks = t.dupacks.saturating_add(1);
        let lost = t.opts.sack
            && t.scoreboard
                .is_lost(t.snd_una, u32::from(t.smss), u32::from(DUP_THRESH));
        if !t.cc.in_recovery() && (t.dupacks >= DUP_THRESH || lost) {
            // RFC 6582 §3.2 step 2 / RFC 6675 §5: enter fast recovery,
            // unless this loss belongs to a recovery already handled.
            // RFC 6582 §3.2 step 1: only if the cumulative ACK is past
            // `recover` (set at the last recovery or timeout).
            if t.snd_una.gt(t.recover) {
                // `on_loss_detected` below enters recovery.
                t.recover = t.snd_max;
                t.high_rxt = t.snd_una;
                // RFC 5681 §3.2 step 2: FlightSize leaves out what limited
                // transmit (RFC 3042) sent beyond cwnd, at most 2*SMSS.
                let (flight, cwnd) = (t.in_flight(), t.cc.window());
                let lt = flight.saturating_sub(cwnd).min(2 * u32::from(t.smss));
                t.cc.on_loss_detected(now, flight - lt);
                t.rexmit_pending = true;
                t.fast_retransmits += 1;
                net.stats.tcp.fast_retransmits += 1;
                // The sampler's segment may be the lost one (Karn).
                t.sampler.on_retransmit();
            }
        }
    }
    Outcome::Continue
}
