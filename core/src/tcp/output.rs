//! Deciding what to send (RFC 9293 §3.8.6, RFC 5681, RFC 6675):
//! SYN/SYN-ACK, retransmissions during recovery, new data within the send
//! and congestion windows (Nagle's algorithm, RFC 9293 §3.7.4, and sender
//! SWS avoidance, §3.8.6.2.1), FIN, and pure ACKs and window updates.

use crate::ip::output::SendError;
use crate::net::Net;
use crate::tcp::ack::{data_end, fin_sent};
use crate::tcp::emit::{effective_mss, send, Segment};
use crate::tcp::{TcpSocket, TcpState};
use crate::time::{Deadline, Instant};
use crate::wire::{SeqNumber, TcpControl};

/// Segments one socket may emit per dispatch, so one bulk sender cannot
/// take every frame slot from the others.
const BURST: usize = 64;

/// Sends whatever socket `s` has to send now.
pub(crate) fn dispatch(net: &mut Net, s: &mut TcpSocket, now: Instant) {
    let Some(state) = s.tcb.as_ref().map(|t| t.state) else {
        return;
    };
    match state {
        TcpState::SynSent | TcpState::SynReceived => {
            send_syn(net, s, now);
            send_ack_if_due(net, s, now);
        }
        TcpState::Established
        | TcpState::CloseWait
        | TcpState::FinWait1
        | TcpState::FinWait2
        | TcpState::Closing
        | TcpState::LastAck => {
            let mut sent = 0;
            while sent < BURST {
                match send_one(net, s, now) {
                    Ok(true) => sent += 1,
                    Ok(false) | Err(_) => break,
                }
            }
            send_ack_if_due(net, s, now);
        }
        TcpState::TimeWait => send_ack_if_due(net, s, now),
        TcpState::Closed | TcpState::Listen => {}
    }
}

fn rx_window(s: &TcpSocket) -> (usize, usize) {
    (s.rx.window(), s.rx.capacity())
}

/// Our SYN (SYN-SENT) or SYN-ACK (simultaneous open), when due.
fn send_syn(net: &mut Net, s: &mut TcpSocket, now: Instant) {
    let (free, cap) = rx_window(s);
    let Some(t) = s.tcb.as_mut() else { return };
    if t.snd_nxt != t.iss {
        return;
    }
    let ack = t.state == TcpState::SynReceived;
    let seg = Segment {
        control: TcpControl::Syn,
        seq: t.iss,
        ack,
        payload: &[],
    };
    if send(net, t, now, seg, free, cap).is_ok() {
        t.snd_nxt = t.iss + 1;
        if t.snd_max.lt(t.snd_nxt) {
            t.snd_max = t.snd_nxt;
        }
        if t.retries == 0 {
            t.sampler.start(t.snd_nxt, now);
        }
        if t.retransmit_at.is_none() {
            t.retransmit_at = Deadline::at(now + t.rtt.rto());
        }
    }
}

/// The next segment the windows and the rules allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Retransmit `len` bytes at `seq` (fast retransmit, partial ACK, a
    /// SACK hole).
    Retransmit { seq: SeqNumber, len: usize },
    /// Send `len` bytes at SND.NXT, with FIN if `fin`.
    Data { len: usize, fin: bool },
    /// Send a FIN alone.
    Fin,
    /// Nothing may go now.
    Nothing,
}

/// Decides, without side effects, what [`send_one`] would send.
pub(crate) fn plan(s: &TcpSocket) -> Plan {
    let Some(t) = s.tcb.as_ref() else {
        return Plan::Nothing;
    };
    if !t.synchronized() {
        return Plan::Nothing;
    }
    // Less than SMSS while SACK blocks ride along (RFC 6691).
    let smss = effective_mss(t);
    let end = data_end(s);

    // 1. Retransmissions first.
    let rexmit = if t.rexmit_pending {
        Some((t.snd_una, smss))
    } else if t.cc.in_recovery() && t.opts.sack {
        let pipe = t.scoreboard.pipe(t.snd_una, t.snd_max, t.high_rxt, smss);
        if pipe + smss <= t.cc.window() {
            t.scoreboard.next_seg(
                t.snd_una,
                t.snd_max,
                t.high_rxt,
                smss,
                u32::from(crate::tcp::ack::DUP_THRESH),
            )
        } else {
            None
        }
    } else {
        None
    };
    if let Some((seq, len)) = rexmit {
        // Only data is retransmitted this way; a lost FIN returns through
        // the retransmission timer.
        let off = t.tx_offset(seq);
        let len = (len as usize)
            .min(s.tx.len().saturating_sub(off))
            .min(smss as usize);
        if len > 0 {
            return Plan::Retransmit { seq, len };
        }
    }

    // 2. New data (or data again after a timeout moved SND.NXT back).
    let off = t.tx_offset(t.snd_nxt);
    let unsent = s.tx.len().saturating_sub(off);
    let in_flight = t.in_flight();
    let cwnd = if t.cc.in_recovery() {
        if t.opts.sack {
            // RFC 6675: pipe against cwnd.
            let pipe = t.scoreboard.pipe(t.snd_una, t.snd_max, t.high_rxt, smss);
            t.cc.window().saturating_sub(pipe).saturating_add(in_flight)
        } else {
            // NewReno: each duplicate ACK lets one more segment out.
            t.cc.window() + u32::from(t.dupacks) * smss
        }
    } else if t.dupacks > 0 && t.dupacks < crate::tcp::ack::DUP_THRESH {
        // Limited transmit (RFC 3042): one new segment per early dupack.
        t.cc.window() + u32::from(t.dupacks) * smss
    } else {
        t.cc.window()
    };
    let usable = t.snd_wnd.min(cwnd).saturating_sub(in_flight) as usize;
    let want_fin = t.fin_queued && !fin_sent(s);
    // Data sent before (a timeout moved SND.NXT back) goes again at once:
    // Nagle and SWS avoidance are about forming new segments. Holding it
    // would leave the timer with nothing to retransmit whenever the window
    // is below half its maximum, until the override timer sends it one
    // RTO later.
    let resend = t.snd_nxt.lt(t.snd_max);
    if unsent > 0 {
        let mut len = unsent.min(smss as usize).min(usable);
        if len == 0 && resend && in_flight == 0 {
            // The timer expired with the window closed: the first segment
            // goes anyway, as Linux's timer does. It went out when the
            // window allowed it (RFC 1122 §4.2.2.16 lets a sender resend
            // data beyond a shrunk window), and its ACK brings the peer's
            // current window. A zero window from a reordered old ACK, or a
            // reopening lost with its ACK, then costs one timeout rather
            // than zero-window probes spaced by the backed-off RTO.
            len = unsent
                .min(smss as usize)
                .min(t.snd_max.diff(t.snd_nxt).max(0) as usize);
        }
        if len == 0 {
            return Plan::Nothing;
        }
        let all_queued = len == unsent;
        // Nagle (RFC 9293 §3.7.4): hold a small segment while data is
        // unacknowledged, unless it is the last piece before a FIN.
        if len < smss as usize
            && in_flight > 0
            && !s.nodelay
            && !(all_queued && t.fin_queued)
            && !resend
        {
            return Plan::Nothing;
        }
        // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a partial segment
        // cut by the window goes only if it is at least half the largest
        // window the peer offered.
        if len < smss as usize && !all_queued && (len as u32) < t.max_snd_wnd / 2 && !resend {
            return Plan::Nothing;
        }
        let len = s.tx.get_contiguous(off, len).len();
        return Plan::Data {
            len,
            fin: want_fin && off + len == s.tx.len(),
        };
    }

    // 3. A FIN alone, once all data is out.
    if want_fin && t.snd_nxt == end {
        return Plan::Fin;
    }
    Plan::Nothing
}

/// Sends the segment [`plan`] chose. Returns whether one left.
fn send_one(net: &mut Net, s: &mut TcpSocket, now: Instant) -> Result<bool, SendError> {
    let decision = plan(s);
    send_planned(net, s, now, decision)
}

/// The override timeout of sender SWS avoidance ran out with nothing in
/// flight (RFC 9293 §3.8.6.2.1, RFC 1122 §4.2.3.4): send what the window
/// allows now, even less than a segment.
pub(crate) fn send_override(net: &mut Net, s: &mut TcpSocket, now: Instant) {
    let fin_out = fin_sent(s);
    let Some(t) = s.tcb.as_ref() else { return };
    let off = t.tx_offset(t.snd_nxt);
    let usable = t.snd_wnd.min(t.cc.window()).saturating_sub(t.in_flight()) as usize;
    let max =
        s.tx.len()
            .saturating_sub(off)
            .min(usable)
            .min(effective_mss(t) as usize);
    let len = s.tx.get_contiguous(off, max).len();
    if len > 0 {
        let fin = t.fin_queued && !fin_out && off + len == s.tx.len();
        let _ = send_planned(net, s, now, Plan::Data { len, fin });
    }
}

/// Sends the segment `decision` describes. Returns whether one left.
fn send_planned(
    net: &mut Net,
    s: &mut TcpSocket,
    now: Instant,
    decision: Plan,
) -> Result<bool, SendError> {
    let end = data_end(s);
    let (free, cap) = rx_window(s);
    let unsent_waiting = {
        let Some(t) = s.tcb.as_ref() else {
            return Ok(false);
        };
        s.tx.len() > t.tx_offset(t.snd_nxt)
    };
    let Some(t) = s.tcb.as_mut() else {
        return Ok(false);
    };
    match decision {
        Plan::Retransmit { seq, len } => {
            let off = t.tx_offset(seq);
            let payload = s.tx.get_contiguous(off, len);
            send(
                net,
                t,
                now,
                Segment {
                    control: TcpControl::Psh,
                    seq,
                    ack: true,
                    payload,
                },
                free,
                cap,
            )?;
            t.rexmit_pending = false;
            let seg_end = seq + payload.len();
            if seg_end.gt(t.high_rxt) {
                t.high_rxt = seg_end;
            }
            t.retransmits += 1;
            net.stats.tcp.retransmits += 1;
            if t.retransmit_at.is_none() {
                t.retransmit_at = Deadline::at(now + t.rtt.rto());
            }
            Ok(true)
        }
        Plan::Data { len, fin } => {
            let off = t.tx_offset(t.snd_nxt);
            let payload = s.tx.get_contiguous(off, len);
            let control = if fin {
                TcpControl::Fin
            } else {
                TcpControl::Psh
            };
            let seq = t.snd_nxt;
            // Nothing outstanding: the user timeout starts now. Not after
            // a timeout pulled SND.NXT back to SND.UNA: the data resent
            // then has been waiting all along (RFC 5482 §2).
            if t.snd_max == t.snd_una {
                // RFC 5681 §4.1: after an idle period longer than the RTO
                // the window restarts from min(IW, cwnd).
                let idle = now - t.last_ack_progress;
                t.cc.on_idle_restart(now, t.rtt.rto(), idle);
                t.last_ack_progress = now;
            }
            send(
                net,
                t,
                now,
                Segment {
                    control,
                    seq,
                    ack: true,
                    payload,
                },
                free,
                cap,
            )?;
            let retransmission = seq.lt(t.snd_max);
            t.snd_nxt = seq + len + usize::from(fin);
            if t.snd_max.lt(t.snd_nxt) {
                t.snd_max = t.snd_nxt;
            }
            if retransmission {
                t.retransmits += 1;
                net.stats.tcp.retransmits += 1;
            } else {
                t.sampler.start(t.snd_nxt, now);
            }
            t.rexmit_pending = false;
            if t.retransmit_at.is_none() {
                t.retransmit_at = Deadline::at(now + t.rtt.rto());
            }
            if fin {
                fin_transition(t);
            }
            Ok(true)
        }
        Plan::Fin => {
            let seg = Segment {
                control: TcpControl::Fin,
                seq: end,
                ack: true,
                payload: &[],
            };
            send(net, t, now, seg, free, cap)?;
            t.snd_nxt = end + 1;
            if t.snd_max.lt(t.snd_nxt) {
                t.snd_max = t.snd_nxt;
            }
            if t.retransmit_at.is_none() {
                t.retransmit_at = Deadline::at(now + t.rtt.rto());
            }
            fin_transition(t);
            Ok(true)
        }
        Plan::Nothing => {
            t.rexmit_pending = false;
            if unsent_waiting && t.in_flight() == 0 && t.persist_at.is_none() {
                // Data waits for a window that is zero (RFC 9293 §3.8.6.1:
                // probe it) or too small to use (§3.8.6.2.1: the override
                // timeout).
                t.persist_at = Deadline::at(now + t.rtt.rto());
            }
            Ok(false)
        }
    }
}

/// RFC 9293 §3.10.4: sending FIN moves ESTABLISHED to FIN-WAIT-1 and
/// CLOSE-WAIT to LAST-ACK.
fn fin_transition(t: &mut crate::tcp::tcb::Tcb) {
    t.state = match t.state {
        TcpState::Established => TcpState::FinWait1,
        TcpState::CloseWait => TcpState::LastAck,
        other => other,
    };
}

/// Whether reading made room worth announcing in a window update of its
/// own (RFC 9293 §3.8.6.2.2). Only a window that may hold the peer up is
/// worth a segment: under half the buffer, and under 64 KiB (a peer with
/// that much room is not held up: the ACKs of what it sends carry the
/// larger window). So the unscaled 64 KiB of a SYN-ACK (RFC 7323 §2.2)
/// does not cost every passive connection with a larger buffer an extra
/// pure ACK as soon as it is established. [`crate::tcp::timers::poll_at`]
/// asks this too: an update that found no frame slot is still owed.
pub(crate) fn window_update_due(s: &TcpSocket) -> bool {
    let (free, cap) = rx_window(s);
    let Some(t) = s.tcb.as_ref() else {
        return false;
    };
    if !t.synchronized() || t.fin_received {
        return false;
    }
    let advertised = t.rcv_adv.diff(t.rcv_nxt).max(0) as usize;
    let threshold = (cap / 2).min(usize::from(t.rmss));
    free >= advertised + threshold.max(1) && advertised < (cap / 2).min(65_535)
}

/// A pure ACK when one is owed now, or a window update when reading made
/// room worth announcing (RFC 9293 §3.8.6.2.2).
fn send_ack_if_due(net: &mut Net, s: &mut TcpSocket, now: Instant) {
    let window_update = window_update_due(s);
    let (free, cap) = rx_window(s);
    let Some(t) = s.tcb.as_mut() else { return };
    if !t.synchronized() && t.state != TcpState::SynReceived {
        return;
    }
    let delayed_due = t.ack_delayed_until.is_due(now);
    if t.ack_now || delayed_due || window_update {
        // RFC 9293 §3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, also in
        // SYN-RECEIVED (our SYN-ACK is out, so SND.NXT is ISS+1). After a
        // timeout pulled SND.NXT back to SND.UNA, SND.NXT is below what
        // the peer already holds: it would find the ACK unacceptable and
        // drop it unread, and if its own ACKs are in the same case both
        // ends wait forever. So SND.MAX, the next new octet, as BSD's
        // tcp_output does for pure ACKs (Linux's are at its SND.NXT, which
        // never moves back). Equal to SND.NXT otherwise.
        let seg = Segment {
            control: TcpControl::None,
            seq: t.snd_max,
            ack: true,
            payload: &[],
        };
        let _ = send(net, t, now, seg, free, cap);
    }
}

/// A probe that makes the peer answer with its current window and ACK:
/// a segment one below SND.UNA (zero-window probes and keepalives, as
/// Linux sends them).
pub(crate) fn send_probe(net: &mut Net, s: &mut TcpSocket, now: Instant) {
    let (free, cap) = rx_window(s);
    let Some(t) = s.tcb.as_mut() else { return };
    let seg = Segment {
        control: TcpControl::None,
        seq: t.snd_una - 1,
        ack: true,
        payload: &[],
    };
    let _ = send(net, t, now, seg, free, cap);
}
