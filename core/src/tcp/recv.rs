//! Arriving text and FIN (RFC 9293 §3.10.7.4 "seventh" and "eighth"
//! checks): in-order data into the receive buffer, out-of-order data kept
//! with holes beside it (RFC 9293 §3.10.7.4, reported by SACK per
//! RFC 2018), and the ACK policy: delayed ACKs with an ACK for every second
//! full-sized segment (RFC 9293 §3.8.6.3, RFC 5681 §4.2), immediate ACKs for
//! out-of-order data and for data that fills a hole (RFC 5681 §4.2).

use crate::config::TCP_DELAYED_ACK_MS;
use crate::net::Net;
use crate::tcp::{TcpSocket, TcpState};
use crate::time::{Deadline, Duration, Instant};
use crate::wire::{TcpControl, TcpRepr};

const DELAYED_ACK: Duration = Duration::from_millis(TCP_DELAYED_ACK_MS as u64);

/// Processes the text and FIN of an acceptable segment.
pub(crate) fn process(net: &mut Net, s: &mut TcpSocket, now: Instant, seg: &TcpRepr<'_>) -> bool {
    let orphaned = s.orphaned;
    let Some(t) = s.tcb.as_mut() else {
        return false;
    };
    if orphaned && !seg.payload.is_empty() && seg.seq_number.ge(t.rcv_nxt) {
        // New data for a connection nobody will read (the user closed
        // it): reset, as Linux does (RFC 2525 §2.17).
        let ack = seg.seq_number + seg.segment_len();
        crate::tcp::emit::send_reset(net, now, t.local, t.remote, t.snd_nxt, Some(ack));
        return true;
    }
    let takes_text = matches!(
        t.state,
        TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
    );
    let mut seq = seg.seq_number;
    let mut data = seg.payload;
    if !data.is_empty() && takes_text {
        // Trim what we already have.
        let behind = t.rcv_nxt.diff(seq);
        if behind > 0 {
            let skip = (behind as usize).min(data.len());
            data = &data[skip..];
            seq += skip;
        }
    } else {
        data = &[];
    }

    if !data.is_empty() {
        let offset = seq.diff(t.rcv_nxt).max(0) as usize;
        if t.rx_shutdown {
            // SHUT_RD: data is acknowledged and thrown away.
            if offset == 0 {
                t.rcv_nxt += data.len();
                t.ack_now = true;
            }
        } else {
            let written = s.rx.write_unallocated(offset, data);
            if offset == 0 {
                let had_holes = !t.assembler.is_empty();
                // Join the in-order bytes with any out-of-order ranges
                // they now reach.
                // If every range is taken and these bytes reach none of
                // them, they are in order all the same: take them and
                // shift the ranges (dropping them would leave a hole wider
                // than one segment open for ever).
                let ready = if t.assembler.add(0, written).is_ok() {
                    t.assembler.remove_front()
                } else {
                    t.assembler.advance(written);
                    written
                };
                let added = s.rx.enqueue_unallocated(ready);
                t.rcv_nxt += added;
                if had_holes {
                    // RFC 5681 §4.2: ACK at once when a hole is filled.
                    t.ack_now = true;
                } else {
                    schedule_ack(t, written, now);
                }
            } else if written > 0 {
                match t.assembler.add(offset, written) {
                    Ok(()) => net.stats.tcp.ooo_queued += 1,
                    Err(_) => net.stats.tcp.ooo_dropped += 1,
                }
                // RFC 5681 §4.2: an out-of-order segment is ACKed at once
                // (a duplicate ACK carrying SACK blocks).
                t.ack_now = true;
            } else {
                t.ack_now = true;
            }
        }
    }

    // Eighth check: FIN, once everything before it has arrived.
    if seg.control == TcpControl::Fin && !t.fin_received {
        let fin_seq = seg.seq_number + seg.payload.len();
        if fin_seq == t.rcv_nxt {
            t.rcv_nxt += 1;
            t.fin_received = true;
            match t.state {
                TcpState::SynReceived | TcpState::Established => {
                    t.state = TcpState::CloseWait;
                    // The application learns of the end of the stream and
                    // often closes at once: a delayed ACK lets our FIN carry
                    // it (RFC 1122 §4.2.3.2; Linux does the same for an
                    // interactive connection). At least every second
                    // segment is still ACKed at once.
                    schedule_ack(t, 1, now);
                }
                TcpState::FinWait1 => {
                    // Our FIN not yet acknowledged: simultaneous close.
                    t.state = TcpState::Closing;
                    t.ack_now = true;
                }
                TcpState::FinWait2 => {
                    crate::tcp::timers::enter_time_wait(t, now);
                    t.ack_now = true;
                }
                _ => t.ack_now = true,
            }
        } else {
            // A FIN beyond a hole: ACK what we have; the peer resends it.
            t.ack_now = true;
        }
    } else if seg.control == TcpControl::Fin && t.state == TcpState::TimeWait {
        // RFC 9293: a retransmitted FIN in TIME-WAIT is ACKed again and the
        // 2 MSL timeout restarted.
        t.ack_now = true;
        crate::tcp::timers::restart_time_wait(t, now);
    }
    false
}

/// Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): ACK at least every
/// second segment at once, otherwise within `TCP_DELAYED_ACK_MS`, which
/// gives the application a chance to answer with data that carries the ACK.
fn schedule_ack(t: &mut crate::tcp::tcb::Tcb, _len: usize, now: Instant) {
    t.segs_since_ack = t.segs_since_ack.saturating_add(1);
    if t.segs_since_ack >= 2 {
        t.ack_now = true;
    } else if t.ack_delayed_until.is_none() {
        t.ack_delayed_until = Deadline::at(now + DELAYED_ACK);
    }
}
