//! Segment arrival (RFC 9293 §3.10.7): demultiplexing, the SYN-SENT
//! handshake, and for synchronized connections the sequence of checks —
//! PAWS (RFC 7323 §5.3), acceptability, RST (RFC 5961 §3), SYN (RFC 5961
//! §4), ACK (`ack.rs`), text and FIN (`recv.rs`).

use crate::addr::SocketAddrV4;
use crate::icmp::Received;
use crate::net::Net;
use crate::tcp::demux::{Key, Owner};
use crate::tcp::emit::send_reset;
use crate::tcp::{ack, listen, recv, TcpError, TcpSockets, TcpState};
use crate::time::{Deadline, Duration, Instant};
use crate::wire::{SeqNumber, TcpControl, TcpPacket, TcpRepr};

/// RFC 7323 §5.5: a TS.Recent older than 24 days is no longer used for PAWS.
const PAWS_IDLE: Duration = Duration::from_secs(24 * 24 * 3600);

/// RFC 5961 §7: challenge ACKs per socket per second.
const CHALLENGE_ACKS_PER_SEC: u8 = 10;

impl Net {
    /// Handles a TCP segment addressed to us.
    pub(crate) fn tcp_input(
        &mut self,
        now: Instant,
        rx: &Received,
        payload: &[u8],
        tcp: &mut TcpSockets,
    ) {
        self.stats.tcp.rx += 1;
        let (src, dst) = (rx.ip.src_addr, rx.ip.dst_addr);
        let Ok(packet) = TcpPacket::new_checked(payload) else {
            self.stats.tcp.drop_malformed += 1;
            return;
        };
        let seg = match TcpRepr::parse(&packet, src, dst) {
            Ok(s) => s,
            Err(crate::wire::Error::Checksum) => {
                self.stats.tcp.drop_checksum += 1;
                return;
            }
            Err(_) => {
                self.stats.tcp.drop_malformed += 1;
                return;
            }
        };
        // RFC 1122 §4.2.3.10: a SYN to a broadcast address is ignored; no
        // TCP segment is for a broadcast.
        if rx.broadcast {
            self.stats.tcp.drop_malformed += 1;
            return;
        }
        let local = SocketAddrV4::new(dst, seg.dst_port);
        let remote = SocketAddrV4::new(src, seg.src_port);
        // Port 0 is reserved (RFC 6335 §6). A segment to it finds no socket
        // and is reset below, as Linux does; one from it is only for a
        // connection we opened to port 0 (its RST refuses us), never for
        // a listener, and is never answered.
        if seg.src_port == 0 && tcp.demux.get(&Key { local, remote }).is_none() {
            self.stats.tcp.drop_malformed += 1;
            return;
        }
        match tcp.demux.lookup(local, remote) {
            Some(Owner::Socket(i)) => {
                let i = usize::from(i);
                if tcp.sockets[i].tcb.is_none() && tcp.sockets[i].backlog.is_some() {
                    listen::on_listener_segment(self, tcp, i, now, local, remote, &seg);
                } else {
                    segment_arrives(self, tcp, i, now, &seg);
                }
            }
            Some(Owner::Request(r)) => {
                listen::on_request_segment(self, tcp, usize::from(r), now, &seg)
            }
            None => {
                self.stats.tcp.drop_no_socket += 1;
                reset_for(self, now, local, remote, &seg);
            }
        }
    }
}

/// RFC 9293 §3.10.7.1: answers a segment for no connection with RST,
/// within the RST limit (`TCP_RST_BURST`, `TCP_RST_PER_SEC`).
pub(crate) fn reset_for(
    net: &mut Net,
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seg: &TcpRepr<'_>,
) {
    if seg.control == TcpControl::Rst {
        return;
    }
    match seg.ack_number {
        Some(ack) => limited_reset(net, now, local, remote, ack, None),
        None => {
            let ack = seg.seq_number + seg.segment_len();
            limited_reset(net, now, local, remote, SeqNumber(0), Some(ack));
        }
    }
}

/// Sends a RST in answer to a segment nobody asked for (one for no
/// connection, or an unacceptable ACK in SYN-SENT or SYN-RECEIVED) unless
/// the system-wide RST bucket is empty: anyone can send such segments from
/// a forged source, and each would otherwise make us send a RST to that
/// source. RFC 9293 §3.10.7.1 and §3.10.7.3 say to send it; like BSD's
/// `icmplim`, we cap how many.
pub(crate) fn limited_reset(
    net: &mut Net,
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seq: SeqNumber,
    ack: Option<SeqNumber>,
) {
    // A RST to ourselves (over loopback) reflects nothing: it is never
    // limited, so a flood from the wire cannot keep a local connect to a
    // closed port from being refused.
    let to_us = net.is_local(*remote.ip());
    if !to_us && !net.rst_limit.take(now) {
        net.stats.tcp.rst_rate_limited += 1;
        return;
    }
    send_reset(net, now, local, remote, seq, ack);
}

/// Processes a segment for connection slot `i`.
pub(crate) fn segment_arrives(
    net: &mut Net,
    tcp: &mut TcpSockets,
    i: usize,
    now: Instant,
    seg: &TcpRepr<'_>,
) {
    let state = match tcp.sockets[i].tcb.as_ref() {
        Some(t) => t.state,
        None => return,
    };
    let closed = match state {
        TcpState::SynSent => syn_sent(net, tcp, i, now, seg),
        TcpState::Closed | TcpState::Listen => false,
        _ => synchronized(net, tcp, i, now, seg),
    };
    if closed {
        enter_closed(tcp, i);
    }
}

/// Moves connection `i` to CLOSED: it leaves the demultiplexing table; the
/// slot is freed if the user already let go of it, otherwise the user still
/// reads what is buffered and the error, if any.
pub(crate) fn enter_closed(tcp: &mut TcpSockets, i: usize) {
    let s = &mut tcp.sockets[i];
    let Some(t) = s.tcb.as_mut() else { return };
    t.state = TcpState::Closed;
    t.retransmit_at = Deadline::NONE;
    t.persist_at = Deadline::NONE;
    t.ack_delayed_until = Deadline::NONE;
    t.time_wait_until = Deadline::NONE;
    let key = Key {
        local: t.local,
        remote: t.remote,
    };
    tcp.demux.remove(&key, Owner::Socket(i as u16));
    // A connection reset while it waited in an accept queue is dropped
    // from it, as Linux does.
    if s.orphaned || s.accept_of.is_some() {
        tcp.free(i);
    }
}

/// RFC 9293 §3.10.7.3. Returns true if the connection is now closed.
fn syn_sent(
    net: &mut Net,
    tcp: &mut TcpSockets,
    i: usize,
    now: Instant,
    seg: &TcpRepr<'_>,
) -> bool {
    let s = &mut tcp.sockets[i];
    let Some(t) = s.tcb.as_mut() else {
        return false;
    };
    // First: the ACK, if any, must acknowledge our SYN exactly.
    let ack_ok = match seg.ack_number {
        Some(ack) => {
            if ack.le(t.iss) || ack.gt(t.snd_max) {
                if seg.control != TcpControl::Rst {
                    limited_reset(net, now, t.local, t.remote, ack, None);
                }
                return false;
            }
            true
        }
        None => false,
    };
    // Second: RST. Only with an acceptable ACK (RFC 9293; RFC 5961 §3.2
    // does not apply in SYN-SENT).
    if seg.control == TcpControl::Rst {
        if ack_ok {
            net.stats.tcp.resets_rx += 1;
            s.error = Some(TcpError::Refused);
            return true;
        }
        return false;
    }
    if seg.control != TcpControl::Syn {
        return false;
    }
    // Fourth: SYN.
    t.irs = seg.seq_number;
    t.rcv_nxt = seg.seq_number + 1;
    t.rcv_adv = t.rcv_nxt;
    negotiate(t, seg);
    if let Some((tsval, _)) = seg.timestamp {
        t.ts_recent = tsval;
        t.ts_recent_at = now;
    }
    t.snd_wnd = u32::from(seg.window_len); // never scaled in a SYN
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seg.seq_number;
    if ack_ok {
        let ack = seg.ack_number.unwrap_or(t.snd_una);
        t.snd_wl2 = ack;
        if let Some(rtt) = t.sampler.on_ack(ack, now) {
            t.rtt.sample(rtt);
        }
        t.snd_una = ack;
        // A timeout may have pulled SND.NXT back to ISS with the SYN not
        // sent again yet (no route, no frame slot): keep it in step.
        if t.snd_nxt.lt(ack) {
            t.snd_nxt = ack;
        }
        t.retransmit_at = Deadline::NONE;
        t.retries = 0;
        t.rtt.reset_backoff();
        t.state = TcpState::Established;
        t.ack_now = true;
        net.stats.tcp.active_opens += 1;
    } else {
        // Simultaneous open (RFC 9293 §3.5, figure 8): answer SYN-ACK.
        t.state = TcpState::SynReceived;
        t.snd_nxt = t.iss; // the SYN goes again, now with an ACK
    }
    false
}

/// Records the options of the peer's SYN (RFC 9293 §3.7.1, RFC 7323 §2.2
/// and §3.2, RFC 2018 §2). Options we did not offer stay off.
pub(crate) fn negotiate(t: &mut crate::tcp::tcb::Tcb, seg: &TcpRepr<'_>) {
    match seg.window_scale {
        Some(shift) => {
            t.opts.window_scaling = true;
            t.opts.snd_shift = shift.min(14);
        }
        None => {
            t.opts.window_scaling = false;
            t.opts.snd_shift = 0;
            t.opts.rcv_shift = 0;
        }
    }
    t.opts.sack = seg.sack_permitted;
    t.opts.timestamps = seg.timestamp.is_some();
    // RFC 9293 §3.7.1: without the option, assume 536.
    let peer_mss = seg.max_seg_size.unwrap_or(536).max(64);
    let ts_overhead = if t.opts.timestamps { 12 } else { 0 };
    t.smss = peer_mss
        .min(t.smss.max(t.rmss))
        .saturating_sub(ts_overhead)
        .max(32);
    // RFC 6928 §2: the initial window is counted in segments of the
    // negotiated SMSS (10 of them up to 14600 bytes), not of the 536-byte
    // placeholder the block started with; nothing has been sent yet.
    t.cc = crate::tcp::congestion::Congestion::new(t.cc.algorithm(), u32::from(t.smss));
}

/// Whether a segment passes the PAWS test (RFC 7323 §5.3 R1).
fn paws_ok(t: &crate::tcp::tcb::Tcb, seg: &TcpRepr<'_>, now: Instant) -> bool {
    if !t.opts.timestamps || seg.control == TcpControl::Rst {
        return true;
    }
    match seg.timestamp {
        Some((tsval, _)) => {
            let older = (tsval.wrapping_sub(t.ts_recent) as i32) < 0;
            !older || now - t.ts_recent_at >= PAWS_IDLE
        }
        // RFC 7323 §3.2 allows dropping such segments; Linux accepts them.
        None => true,
    }
}

/// RFC 7323 §4.3: remember the timestamp to echo, from a segment that
/// starts at or below the last ACK we sent and is not older than the one
/// we have.
fn update_ts_recent(t: &mut crate::tcp::tcb::Tcb, seg: &TcpRepr<'_>, now: Instant) {
    if let Some((tsval, _)) = seg.timestamp {
        if seg.seq_number.le(t.last_ack_sent) && (tsval.wrapping_sub(t.ts_recent) as i32) >= 0 {
            t.ts_recent = tsval;
            t.ts_recent_at = now;
        }
    }
}

/// RFC 9293 §3.10.7.4 "first check": is any of the segment in the window?
fn acceptable(t: &crate::tcp::tcb::Tcb, seg: &TcpRepr<'_>, rcv_wnd: u32) -> bool {
    let seq = seg.seq_number;
    let len = seg.segment_len();
    let nxt = t.rcv_nxt;
    let end = nxt + rcv_wnd as usize;
    match (len, rcv_wnd) {
        (0, 0) => seq == nxt,
        (0, _) => seq.ge(nxt) && seq.lt(end),
        (_, 0) => false,
        (_, _) => {
            let last = seq + (len - 1);
            (seq.ge(nxt) && seq.lt(end)) || (last.ge(nxt) && last.lt(end))
        }
    }
}

/// Sends a challenge ACK unless this second's quota is spent (RFC 5961
/// §7): `CHALLENGE_ACKS_PER_SEC` for this connection, and a share of the
/// system-wide quota (`TCP_CHALLENGE_ACKS_PER_SEC`, randomized each second
/// against the CVE-2016-5696 side channel; see [`crate::rate_limit`]). The
/// per-connection limit is checked first, so one connection under attack
/// takes at most its own 10 a second out of the shared quota.
pub(crate) fn challenge_ack(net: &mut Net, t: &mut crate::tcp::tcb::Tcb, now: Instant) {
    if now - t.challenge_window >= Duration::from_secs(1) {
        t.challenge_window = now;
        t.challenge_count = 0;
    }
    if t.challenge_count >= CHALLENGE_ACKS_PER_SEC {
        net.stats.tcp.challenge_rate_limited += 1;
        return;
    }
    t.challenge_count += 1;
    if !net.challenge_limit.take(now, &mut net.rng) {
        net.stats.tcp.challenge_rate_limited += 1;
        return;
    }
    t.ack_now = true;
    net.stats.tcp.challenge_acks += 1;
}

/// RFC 9293 §3.10.7.4 for every synchronized state and SYN-RECEIVED.
/// Returns true if the connection is now closed.
fn synchronized(
    net: &mut Net,
    tcp: &mut TcpSockets,
    i: usize,
    now: Instant,
    seg: &TcpRepr<'_>,
) -> bool {
    let s = &mut tcp.sockets[i];
    let rx_free = s.rx.window();
    let Some(t) = s.tcb.as_mut() else {
        return false;
    };
    t.last_rx = now;
    t.keepalive_probes = 0;

    if !paws_ok(t, seg, now) {
        net.stats.tcp.drop_paws += 1;
        t.ack_now = true;
        return false;
    }
    // RFC 9293 §3.5 figure 8, line 6 (simultaneous open): the peer's
    // SYN-ACK repeats the SYN we have (one below RCV.NXT) and acknowledges
    // ours; it completes the handshake, as on Linux, rather than being
    // dropped as an old duplicate.
    if t.state == TcpState::SynReceived
        && seg.control == TcpControl::Syn
        && seg.payload.is_empty()
        && seg.seq_number + 1 == t.rcv_nxt
        && seg.ack_number == Some(t.snd_max)
    {
        let closed = ack::process(net, s, now, seg) == ack::Outcome::Closed;
        if let Some(t) = s.tcb.as_mut() {
            // RFC 7323 §2.2: the window of a SYN is never scaled.
            t.snd_wnd = u32::from(seg.window_len);
            t.max_snd_wnd = t.snd_wnd;
        }
        return closed;
    }
    let advertised = t.rcv_adv.diff(t.rcv_nxt).max(0) as u32;
    let rcv_wnd = advertised.max(rx_free as u32);
    if !acceptable(t, seg, rcv_wnd) {
        net.stats.tcp.drop_out_of_window += 1;
        if seg.control != TcpControl::Rst {
            t.ack_now = true;
            // A retransmission of data we hold (our ACK of it was lost):
            // the duplicate ACK must echo its timestamp, not that of the
            // original, or the sender measures an RTT stretched by all its
            // timeouts (and its RTO goes to the maximum). RFC 7323 §4.3's
            // rule, applied before the window test as Linux does (it
            // accepts segments up to its last advertised RCV.NXT).
            update_ts_recent(t, seg, now);
        }
        if t.state == TcpState::TimeWait && seg.control == TcpControl::Fin {
            // A retransmitted FIN: re-ACK it and restart the 2MSL wait.
            crate::tcp::timers::restart_time_wait(t, now);
        }
        return false;
    }

    // Second check: RST (RFC 5961 §3.2: only an exact match resets).
    if seg.control == TcpControl::Rst {
        if seg.seq_number != t.rcv_nxt {
            challenge_ack(net, t, now);
            return false;
        }
        net.stats.tcp.resets_rx += 1;
        let err = match t.state {
            // A reset of our SYN-ACK after a simultaneous open: refused.
            TcpState::SynReceived => Some(TcpError::Refused),
            TcpState::Established
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::CloseWait => {
                // The peer reset after we sent into a half-closed
                // connection: EPIPE, as Linux reports it.
                if t.fin_received && !s.tx.is_empty() {
                    Some(TcpError::BrokenPipe)
                } else {
                    Some(TcpError::Reset)
                }
            }
            _ => None,
        };
        s.error = err;
        return true;
    }

    // Fourth check: a SYN in a synchronized state (RFC 5961 §4).
    if seg.control == TcpControl::Syn {
        if t.state == TcpState::TimeWait {
            // RFC 6191 would allow reuse; keep it simple and strict.
            t.ack_now = true;
        } else {
            challenge_ack(net, t, now);
        }
        return false;
    }

    // Fifth check: the ACK field.
    if seg.ack_number.is_none() {
        return false;
    }
    update_ts_recent(t, seg, now);
    match ack::process(net, s, now, seg) {
        ack::Outcome::Continue => {}
        ack::Outcome::Drop => return false,
        ack::Outcome::Closed => return true,
    }
    recv::process(net, s, now, seg)
}

/// Whether `seq`, quoted by an ICMP error about a segment from `local` to
/// `remote`, is one a connection of ours has sent and not yet seen
/// acknowledged (RFC 5927 §4.1: SND.UNA <= seq < SND.NXT). Without this
/// an off-path attacker who knows only the four-tuple could forge the
/// error.
pub(crate) fn icmp_quote_is_ours(
    tcp: &TcpSockets,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seq: SeqNumber,
) -> bool {
    let Some(Owner::Socket(i)) = tcp.demux.get(&Key { local, remote }) else {
        return false;
    };
    tcp.sockets[usize::from(i)]
        .tcb
        .as_ref()
        .is_some_and(|t| !seq.lt(t.snd_una) && seq.lt(t.snd_max))
}

/// An ICMP destination-unreachable about a segment we sent from `local` to
/// `remote` (RFC 1122 §4.2.3.9). Port and protocol unreachable while our
/// SYN is out are hard errors: the connection is refused, as Linux reports
/// it. Everything else is a soft error the retransmissions ride out. The
/// quoted sequence number must be one we sent (RFC 5927 §4.1).
pub(crate) fn icmp_error(
    tcp: &mut TcpSockets,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seq: SeqNumber,
    reason: crate::wire::DstUnreachable,
) {
    use crate::wire::DstUnreachable as U;
    if !icmp_quote_is_ours(tcp, local, remote, seq) {
        return;
    }
    let Some(Owner::Socket(i)) = tcp.demux.get(&Key { local, remote }) else {
        return;
    };
    let i = usize::from(i);
    let Some(t) = tcp.sockets[i].tcb.as_ref() else {
        return;
    };
    if t.state == TcpState::SynSent && matches!(reason, U::PortUnreachable | U::ProtoUnreachable) {
        tcp.sockets[i].error = Some(TcpError::Refused);
        enter_closed(tcp, i);
    }
}
