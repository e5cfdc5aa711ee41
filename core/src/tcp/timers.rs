//! Connection timers: retransmission (RFC 6298 §5, with the go-back-N
//! restart and the congestion response of RFC 5681 §3.1), zero-window
//! probes (RFC 9293 §3.8.6.1), keepalive (RFC 9293 §3.8.4), the user
//! timeout (RFC 5482 / RFC 9293 §3.8.3), and TIME-WAIT.

use crate::config::{TCP_RETRIES, TCP_SYN_RETRIES, TCP_TIME_WAIT_MS};
use crate::net::Net;
use crate::tcp::tcb::Tcb;
use crate::tcp::{TcpError, TcpSocket, TcpState};
use crate::time::{earliest, Deadline, Duration, Instant};

const TIME_WAIT: Duration = Duration::from_millis(TCP_TIME_WAIT_MS as u64);

/// How long a connection the user has closed may sit in FIN-WAIT-2 waiting
/// for the peer's FIN (Linux's `tcp_fin_timeout`, 60 s); the TIME-WAIT
/// timer field serves for it, as nothing else runs in that state.
pub(crate) const FIN_WAIT_2_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts the FIN-WAIT-2 timeout of an orphaned connection.
pub(crate) fn arm_fin_wait_2(t: &mut Tcb, now: Instant) {
    if t.state == TcpState::FinWait2 && t.time_wait_until.is_none() {
        t.time_wait_until = Deadline::at(now + FIN_WAIT_2_TIMEOUT);
    }
}
const MAX_PERSIST: Duration = Duration::from_secs(60);

/// Enters TIME-WAIT (or closes at once when it is configured to 0).
pub(crate) fn enter_time_wait(t: &mut Tcb, now: Instant) {
    t.state = TcpState::TimeWait;
    t.retransmit_at = Deadline::NONE;
    t.persist_at = Deadline::NONE;
    t.time_wait_until = Deadline::at(now + TIME_WAIT);
}

/// A retransmitted FIN arrived in TIME-WAIT: wait the full time again.
pub(crate) fn restart_time_wait(t: &mut Tcb, now: Instant) {
    if t.state == TcpState::TimeWait {
        t.time_wait_until = Deadline::at(now + TIME_WAIT);
    }
}

/// Runs the due timers of socket `s`. Returns true if the connection is
/// now closed (timed out, or TIME-WAIT over).
pub(crate) fn poll(net: &mut Net, s: &mut TcpSocket, now: Instant) -> bool {
    let unsent = {
        let Some(t) = s.tcb.as_ref() else {
            return false;
        };
        s.tx.len().saturating_sub(t.tx_offset(t.snd_nxt))
    };
    // TIME-WAIT over; user timeout (data unacknowledged for too long);
    // retransmissions run out.
    {
        let Some(t) = s.tcb.as_ref() else {
            return false;
        };
        if t.time_wait_until.is_due(now) {
            return true;
        }
        if s.user_timeout()
            .is_some_and(|limit| t.in_flight() > 0 && now - t.last_ack_progress >= limit)
        {
            return time_out(net, s);
        }
        if t.retransmit_at.is_due(now) {
            let limit = match t.state {
                TcpState::SynSent | TcpState::SynReceived => TCP_SYN_RETRIES,
                _ => TCP_RETRIES,
            };
            if usize::from(t.retries) >= limit {
                return time_out(net, s);
            }
        }
    }
    let Some(t) = s.tcb.as_mut() else {
        return false;
    };
    if t.retransmit_at.is_due(now) {
        on_retransmit_timeout(net, t, now);
    }
    if t.persist_at.is_due(now) {
        if t.snd_wnd == 0 && unsent > 0 {
            // A peer that answers probes keeps the connection however long
            // its window stays shut (RFC 9293 §3.8.6.1); one that stopped
            // answering (silent for two probe intervals at the 60 s cap)
            // is dead after as many probes as retransmissions.
            if usize::from(t.persist_count) >= TCP_RETRIES
                && now - t.last_rx > MAX_PERSIST + MAX_PERSIST
            {
                return time_out(net, s);
            }
            t.persist_count = t.persist_count.saturating_add(1);
            let backoff = t
                .rtt
                .rto()
                .total_micros()
                .saturating_mul(1 << t.persist_count.min(10));
            t.persist_at = Deadline::at(now + Duration::from_micros(backoff).min(MAX_PERSIST));
            crate::tcp::output::send_probe(net, s, now);
        } else if unsent > 0 && t.in_flight() == 0 {
            // A window too small for sender SWS avoidance: the override
            // timeout (RFC 9293 §3.8.6.2.1) sends into it.
            t.persist_at = Deadline::NONE;
            t.persist_count = 0;
            crate::tcp::output::send_override(net, s, now);
        } else {
            t.persist_at = Deadline::NONE;
            t.persist_count = 0;
        }
    }
    let Some(t) = s.tcb.as_mut() else {
        return false;
    };
    if let Some(due) = keepalive_due(s.keepalive.get(), t) {
        if now >= due {
            let count = s.keepalive.get().map_or(0, |k| k.count);
            if t.keepalive_probes >= count {
                return time_out(net, s);
            }
            t.keepalive_probes += 1;
            crate::tcp::output::send_probe(net, s, now);
        }
    }
    false
}

/// RFC 6298 §5.5-5.7: back off, and send again from SND.UNA.
fn on_retransmit_timeout(net: &mut Net, t: &mut Tcb, now: Instant) {
    t.retries += 1;
    t.rto_count += 1;
    net.stats.tcp.timeouts += 1;
    t.rtt.on_timeout();
    t.sampler.on_retransmit();
    if t.synchronized() {
        // Also ends fast recovery, if any (recovery needs a synchronized
        // connection).
        t.cc.on_rto(now, t.in_flight());
    }
    // RFC 6582 §4: no fast retransmit for losses from before the timeout;
    // RFC 6675 §5.1: SACK information may be stale.
    t.recover = t.snd_max;
    t.dupacks = 0;
    t.rexmit_pending = false;
    t.scoreboard.clear();
    t.snd_nxt = t.snd_una;
    t.retransmit_at = Deadline::at(now + t.rtt.rto());
}

/// When the next keepalive probe is due, if keepalive applies now
/// (RFC 9293 §3.8.4: only on an idle, open connection).
fn keepalive_due(ka: Option<crate::tcp::Keepalive>, t: &Tcb) -> Option<Instant> {
    let ka = ka?;
    if !matches!(t.state, TcpState::Established | TcpState::CloseWait) || t.in_flight() > 0 {
        return None;
    }
    let waited = ka
        .interval
        .total_micros()
        .saturating_mul(u64::from(t.keepalive_probes));
    Some(t.last_rx + ka.idle + Duration::from_micros(waited))
}

fn time_out(net: &mut Net, s: &mut TcpSocket) -> bool {
    net.stats.tcp.timed_out += 1;
    s.error = Some(TcpError::TimedOut);
    true
}

/// The next instant socket `s` needs attention, `now` if it has an ACK or
/// data ready.
pub(crate) fn poll_at(s: &TcpSocket, now: Instant) -> Option<Instant> {
    let t = s.tcb.as_ref()?;
    if t.state == TcpState::Closed {
        return None;
    }
    // Without a route, nothing can go before the retransmission timer
    // tries again (see `emit::send`): a delayed ACK's deadline, once
    // passed, would otherwise stay in the past turn after turn. Only while
    // that timer runs, though: once everything is acknowledged it stops,
    // the flag stays until a send clears it, and an ACK owed then (the
    // route may well be back) would have no deadline at all; a send that
    // fails again arms the timer and so blocks again.
    let can_send = !t.route_blocked || t.retransmit_at.is_none();
    let mut at = earliest(t.retransmit_at.get(), t.persist_at.get());
    if can_send {
        at = earliest(at, t.ack_delayed_until.get());
    }
    at = earliest(at, t.time_wait_until.get());
    if can_send && (t.ack_now || t.rexmit_pending) {
        at = Some(now);
    }
    if let Some(limit) = s.user_timeout() {
        if t.in_flight() > 0 {
            at = earliest(at, Some(t.last_ack_progress + limit));
        }
    }
    at = earliest(at, keepalive_due(s.keepalive.get(), t));
    // Data, a retransmission or a FIN that may go now; a window update
    // still owed (it may have found no frame slot).
    if can_send
        && (crate::tcp::output::plan(s) != crate::tcp::output::Plan::Nothing
            || crate::tcp::output::window_update_due(s))
    {
        at = Some(now);
    }
    // Our SYN, or the SYN-ACK of a simultaneous open (SYN-RECEIVED pulls
    // SND.NXT back to ISS), not yet sent.
    if can_send
        && matches!(t.state, TcpState::SynSent | TcpState::SynReceived)
        && t.snd_nxt == t.iss
    {
        at = Some(now);
    }
    at
}
