//! The listen backlog. A SYN for a listener makes a small *request* in the
//! SYN queue (`TCP_SYN_BACKLOG` entries shared by all listeners) and is
//! answered with SYN-ACK; no socket or buffer is taken yet. The ACK that
//! completes the handshake turns the request into a full connection that
//! waits in the listener's accept queue until `accept` takes it. A
//! listener holds at most `backlog` requests and unaccepted connections
//! together, as Linux counts its backlog. Past that, or when the SYN queue
//! is full, a SYN is answered with a SYN cookie (`cookie.rs`, RFC 4987
//! §3.6) if they are on, and dropped otherwise (the peer retries); with
//! the accept queue itself full a SYN is always dropped, as on Linux.

use crate::addr::SocketAddrV4;
use crate::config::{TCP_RTO_INITIAL_MS, TCP_SYN_RETRIES};
use crate::ip::output::IpMeta;
use crate::net::Net;
use crate::tcp::demux::{Key, Owner};
use crate::tcp::emit::{our_window_shift, send_reset};
use crate::tcp::tcb::Tcb;
use crate::tcp::{cookie, input, TcpSockets, TcpState};
use crate::time::{Duration, Instant};
use crate::wire::tcp::MAX_SACK_BLOCKS;
use crate::wire::{IpProtocol, SeqNumber, TcpControl, TcpRepr};

/// A half-open connection: what the SYN told us, and our SYN-ACK's state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SynRequest {
    pub listener: u16,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub iss: SeqNumber,
    pub irs: SeqNumber,
    pub peer_mss: Option<u16>,
    pub peer_shift: Option<u8>,
    pub sack: bool,
    pub peer_tsval: Option<u32>,
    pub ts_offset: u32,
    pub peer_window: u16,
    pub retries: u8,
    pub next_at: Instant,
    /// When a SYN-ACK of this request last went out (for the limit on
    /// answers to duplicate SYNs).
    pub last_sent: Instant,
    pub rmss: u16,
    /// The SYN-ACK could not be queued (no frame slot): send it at the next
    /// run, without counting a retransmission.
    pub unsent: bool,
}

/// The shortest interval between two SYN-ACKs sent in answer to duplicate
/// SYNs of one request (Linux: `net.ipv4.tcp_invalid_ratelimit`, 500 ms).
const DUP_SYN_INTERVAL: Duration = Duration::from_millis(500);

/// Established connections waiting in the accept queue of listener `li`.
pub(crate) fn unaccepted(tcp: &TcpSockets, li: usize) -> usize {
    let l = li as u16;
    tcp.sockets
        .iter()
        .filter(|s| s.in_use && s.accept_of == Some(l))
        .count()
}

/// Requests of listener `li` in the SYN queue.
fn requests(tcp: &TcpSockets, li: usize) -> usize {
    let l = li as u16;
    tcp.syn_queue
        .iter()
        .flatten()
        .filter(|r| r.listener == l)
        .count()
}

/// The MSS we announce on a path with this MTU (IPv4 and TCP headers off).
pub(crate) fn rmss_for(mtu: usize) -> u16 {
    mtu.saturating_sub(40).min(65495) as u16
}

/// A segment for a listener (RFC 9293 §3.10.7.2).
pub(crate) fn on_listener_segment(
    net: &mut Net,
    tcp: &mut TcpSockets,
    li: usize,
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seg: &TcpRepr<'_>,
) {
    match seg.control {
        TcpControl::Rst => return,
        _ if seg.ack_number.is_some() => {
            // The ACK of a SYN cookie makes the connection; any other ACK
            // for no connection gets RST (RFC 9293 §3.10.7.2).
            if !cookie::on_ack(net, tcp, li, now, local, remote, seg) {
                input::reset_for(net, now, local, remote, seg);
            }
            return;
        }
        TcpControl::Syn => {}
        _ => return,
    }
    let backlog = usize::from(tcp.sockets[li].backlog.unwrap_or(0));
    let waiting = unaccepted(tcp, li);
    // The accept queue alone is full: no cookie either (Linux drops too).
    if waiting >= backlog {
        net.stats.tcp.drop_syn_backlog += 1;
        return;
    }
    if crate::addr::is_martian_source(*remote.ip()) || remote.ip().is_unspecified() {
        return;
    }
    let Ok(eg) = net.route(*remote.ip(), Some(*local.ip()), None, now) else {
        net.stats.ip.drop_no_route += 1;
        return;
    };
    let free = tcp.syn_queue.iter().position(|r| r.is_none());
    let r = match free {
        Some(r) if waiting + requests(tcp, li) < backlog => r,
        // No request can be queued: a SYN cookie (RFC 4987 §3.6), or the
        // SYN is dropped and the peer retries.
        _ => {
            if tcp.syn_cookies {
                cookie::send_cookie(net, tcp, li, now, local, remote, seg);
            } else {
                net.stats.tcp.drop_syn_backlog += 1;
            }
            return;
        }
    };
    let iss = crate::tcp::isn::initial_sequence(&net.rng, local, remote, now);
    let req = SynRequest {
        listener: li as u16,
        local,
        remote,
        iss,
        irs: seg.seq_number,
        peer_mss: seg.max_seg_size,
        peer_shift: seg.window_scale,
        sack: seg.sack_permitted,
        peer_tsval: seg.timestamp.map(|(v, _)| v),
        ts_offset: net.rng.next_u32(),
        peer_window: seg.window_len,
        retries: 0,
        next_at: now + Duration::from_millis(TCP_RTO_INITIAL_MS as u64),
        last_sent: now,
        rmss: rmss_for(eg.mtu),
        unsent: false,
    };
    if tcp
        .demux
        .insert(Key { local, remote }, Owner::Request(r as u16))
        .is_err()
    {
        net.stats.tcp.drop_syn_backlog += 1;
        return;
    }
    tcp.syn_queue[r] = Some(req);
    tcp.syn_len += 1;
    if !send_synack(net, &req, now, offered_window(tcp, li)) {
        tcp.syn_queue[r] = Some(SynRequest {
            unsent: true,
            next_at: now,
            ..req
        });
    }
}

/// The window a SYN-ACK of listener `li` offers: its receive buffer, which
/// the accepted connection inherits (SO_RCVBUF), never scaled (RFC 7323
/// §2.2).
pub(crate) fn offered_window(tcp: &TcpSockets, li: usize) -> u16 {
    tcp.sockets[li].rx.capacity().min(65535) as u16
}

/// Sends (or resends) the SYN-ACK of a request, echoing only the options
/// the SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
/// Returns false if no frame slot was free (the caller retries soon).
fn send_synack(net: &mut Net, req: &SynRequest, now: Instant, window: u16) -> bool {
    let shift = our_window_shift(crate::config::TCP_RX_BUFFER);
    let repr = TcpRepr {
        src_port: req.local.port(),
        dst_port: req.remote.port(),
        control: TcpControl::Syn,
        seq_number: req.iss,
        ack_number: Some(req.irs + 1),
        window_len: window,
        window_scale: req.peer_shift.map(|_| shift),
        max_seg_size: Some(req.rmss),
        sack_permitted: req.sack,
        sack_ranges: [None; MAX_SACK_BLOCKS],
        timestamp: req
            .peer_tsval
            .map(|v| ((now.total_millis() as u32).wrapping_add(req.ts_offset), v)),
        payload: &[],
    };
    let dst = *req.remote.ip();
    let Ok(eg) = net.route(dst, Some(*req.local.ip()), None, now) else {
        // No route: the retransmission timer tries again.
        return true;
    };
    let mut header = [0u8; 60];
    let n = repr.emit_header(&mut header, eg.src, dst);
    let meta = IpMeta {
        protocol: IpProtocol::Tcp,
        ttl: crate::config::IP_TTL as u8,
        tos: 0,
        dont_frag: true,
    };
    match net.send_ip(now, &eg, dst, meta, &header[..n], &[]) {
        Ok(()) => {
            net.stats.tcp.tx += 1;
            true
        }
        Err(crate::ip::output::SendError::NoBuffer) => false,
        // Waiting for ARP, or refused for good: the timer tries again.
        Err(_) => true,
    }
}

fn drop_request(tcp: &mut TcpSockets, r: usize) {
    if let Some(req) = tcp.syn_queue[r].take() {
        tcp.syn_len = tcp.syn_len.saturating_sub(1);
        tcp.demux.remove(
            &Key {
                local: req.local,
                remote: req.remote,
            },
            Owner::Request(r as u16),
        );
    }
}

/// A segment for a half-open connection.
pub(crate) fn on_request_segment(
    net: &mut Net,
    tcp: &mut TcpSockets,
    r: usize,
    now: Instant,
    seg: &TcpRepr<'_>,
) {
    let Some(req) = tcp.syn_queue[r] else { return };
    match seg.control {
        TcpControl::Rst => {
            // RFC 5961 §3.2: only an exact RST removes it.
            if seg.seq_number == req.irs + 1 {
                drop_request(tcp, r);
            }
            return;
        }
        TcpControl::Syn => {
            if seg.seq_number == req.irs {
                // The peer did not hear our SYN-ACK: say it again, at most
                // once per DUP_SYN_INTERVAL (Linux's tcp_invalid_ratelimit),
                // so that a replayed SYN draws no stream of SYN-ACKs. An
                // unsent SYN-ACK goes out with the next run anyway.
                if req.unsent || now - req.last_sent < DUP_SYN_INTERVAL {
                    net.stats.tcp.synack_rate_limited += 1;
                    return;
                }
                let window = offered_window(tcp, usize::from(req.listener));
                if send_synack(net, &req, now, window) {
                    tcp.syn_queue[r] = Some(SynRequest {
                        last_sent: now,
                        ..req
                    });
                }
            }
            return;
        }
        _ => {}
    }
    let Some(ack) = seg.ack_number else { return };
    if ack != req.iss + 1 {
        input::reset_for(net, now, req.local, req.remote, seg);
        return;
    }
    if seg.seq_number != req.irs + 1 && seg.segment_len() == 0 {
        return;
    }
    // A full accept queue takes no more (SYN cookies may have filled it
    // past the requests the backlog was counted with): the ACK is dropped
    // and the request kept, so the peer's retransmission, or the one our
    // SYN-ACK draws, gets in once there is room (Linux's listen overflow).
    let li = usize::from(req.listener);
    if unaccepted(tcp, li) >= usize::from(tcp.sockets[li].backlog.unwrap_or(0)) {
        net.stats.tcp.drop_syn_backlog += 1;
        return;
    }
    // The handshake is complete: make the connection. One SYN-ACK, one
    // ACK: a clean RTT sample (Karn).
    let sent =
        (req.retries == 0).then(|| req.next_at - Duration::from_millis(TCP_RTO_INITIAL_MS as u64));
    establish(net, tcp, &req, Some(r), now, seg, sent);
}

/// Makes the connection of a completed handshake: request `req` (held in
/// SYN-queue entry `queued`, or rebuilt from a SYN cookie) answered by
/// `seg`, whose SYN-ACK was sent once at `sent`, if known. The connection
/// is ESTABLISHED and waits in the listener's accept queue; data and FIN
/// in `seg` are processed as usual. Returns false if it could not be made
/// (no socket free: counted, and the request kept for the peer's retry).
pub(crate) fn establish(
    net: &mut Net,
    tcp: &mut TcpSockets,
    req: &SynRequest,
    queued: Option<usize>,
    now: Instant,
    seg: &TcpRepr<'_>,
    sent: Option<Instant>,
) -> bool {
    let ack = req.iss + 1;
    let Some(i) = tcp.alloc(net, now) else {
        // No socket free: keep the request; the peer's data or our SYN-ACK
        // retransmission tries again (Linux drops the ACK the same way).
        net.stats.tcp.drop_syn_backlog += 1;
        return false;
    };
    let li = usize::from(req.listener);
    let (algo, nodelay, keepalive, user_timeout_ms, rx_limit, tx_limit) = {
        let l = &tcp.sockets[li];
        (
            l.algo,
            l.nodelay,
            l.keepalive,
            l.user_timeout_ms,
            l.rx.capacity(),
            l.tx.capacity(),
        )
    };
    // Like every option, SO_REUSEADDR and the binding's locks are
    // inherited from the listener (Linux copies the socket).
    let (reuse_addr, addr_locked, port_locked) = {
        let l = &tcp.sockets[li];
        (l.reuse_addr, l.addr_locked, l.port_locked)
    };
    let mut t = Tcb::new(req.local, req.remote, req.iss, now, algo);
    t.state = TcpState::Established;
    t.snd_una = req.iss + 1;
    t.snd_nxt = req.iss + 1;
    t.snd_max = req.iss + 1;
    // RFC 6582 §3.2: "recover" starts at the ISS, so that a loss of the
    // very first data segment (SND.UNA = ISS + 1) may be fast retransmitted.
    t.recover = req.iss;
    t.high_rxt = t.snd_una;
    t.irs = req.irs;
    t.rcv_nxt = req.irs + 1;
    t.rmss = req.rmss;
    t.smss = req.rmss;
    t.opts.rcv_shift = our_window_shift(crate::config::TCP_RX_BUFFER);
    t.ts_offset = req.ts_offset;
    let syn = TcpRepr {
        src_port: req.remote.port(),
        dst_port: req.local.port(),
        control: TcpControl::Syn,
        seq_number: req.irs,
        ack_number: None,
        window_len: req.peer_window,
        window_scale: req.peer_shift,
        max_seg_size: req.peer_mss,
        sack_permitted: req.sack,
        sack_ranges: [None; MAX_SACK_BLOCKS],
        timestamp: req.peer_tsval.map(|v| (v, 0)),
        payload: &[],
    };
    input::negotiate(&mut t, &syn);
    t.ts_recent = req.peer_tsval.unwrap_or(0);
    t.ts_recent_at = now;
    t.last_ack_sent = t.rcv_nxt;
    t.rcv_adv = t.rcv_nxt + rx_limit.min(65535);
    t.snd_wnd = u32::from(seg.window_len) << t.opts.snd_shift;
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seg.seq_number;
    t.snd_wl2 = ack;
    if let Some(sent) = sent {
        t.rtt.sample(now - sent);
    }
    let s = &mut tcp.sockets[i];
    s.rx.set_limit(rx_limit);
    s.tx.set_limit(tx_limit);
    s.algo = algo;
    s.nodelay = nodelay;
    s.keepalive = keepalive;
    s.user_timeout_ms = user_timeout_ms;
    s.reuse_addr = reuse_addr;
    s.addr_locked = addr_locked;
    s.port_locked = port_locked;
    s.accept_of = Some(req.listener);
    s.accept_seq = tcp.accept_counter;
    s.bound = Some(req.local);
    s.tcb = Some(t);
    tcp.accept_counter = tcp.accept_counter.wrapping_add(1);
    if let Some(r) = queued {
        drop_request(tcp, r);
    }
    if tcp
        .demux
        .insert(
            Key {
                local: req.local,
                remote: req.remote,
            },
            Owner::Socket(i as u16),
        )
        .is_err()
    {
        tcp.free(i);
        return false;
    }
    net.stats.tcp.passive_opens += 1;
    // The ACK may carry data (and even FIN): process it as usual.
    if seg.segment_len() > 0 {
        input::segment_arrives(net, tcp, i, now, seg);
    }
    true
}

/// Resends SYN-ACKs that went unanswered, with exponential backoff, and
/// drops requests after `TCP_SYN_RETRIES`.
pub(crate) fn poll(net: &mut Net, tcp: &mut TcpSockets, now: Instant) {
    if tcp.syn_len == 0 {
        return;
    }
    for r in 0..tcp.syn_queue.len() {
        let Some(mut req) = tcp.syn_queue[r] else {
            continue;
        };
        if now < req.next_at {
            continue;
        }
        let window = offered_window(tcp, usize::from(req.listener));
        if req.unsent {
            // The first SYN-ACK (or a retransmission) found no frame slot.
            if send_synack(net, &req, now, window) {
                let backoff = (TCP_RTO_INITIAL_MS as u64) << req.retries.min(6);
                req.unsent = false;
                req.last_sent = now;
                req.next_at = now + Duration::from_millis(backoff);
                tcp.syn_queue[r] = Some(req);
            }
            continue;
        }
        if usize::from(req.retries) >= TCP_SYN_RETRIES {
            drop_request(tcp, r);
            continue;
        }
        req.retries += 1;
        let backoff = (TCP_RTO_INITIAL_MS as u64) << req.retries.min(6);
        req.next_at = now + Duration::from_millis(backoff);
        if send_synack(net, &req, now, window) {
            net.stats.tcp.retransmits += 1;
            req.last_sent = now;
        } else {
            req.unsent = true;
            req.next_at = now;
        }
        tcp.syn_queue[r] = Some(req);
    }
}

/// When the next SYN-ACK is due.
pub(crate) fn poll_at(tcp: &TcpSockets) -> Option<Instant> {
    if tcp.syn_len == 0 {
        return None;
    }
    tcp.syn_queue.iter().flatten().map(|r| r.next_at).min()
}

/// Closes listener `li`: its requests go, its unaccepted connections are
/// reset (RFC 9293 §3.10.4: "any outstanding RECEIVEs... reset").
pub(crate) fn close_listener(net: &mut Net, tcp: &mut TcpSockets, li: usize, now: Instant) {
    for r in 0..tcp.syn_queue.len() {
        if tcp.syn_queue[r].is_some_and(|q| usize::from(q.listener) == li) {
            drop_request(tcp, r);
        }
    }
    for i in 0..tcp.sockets.len() {
        if tcp.sockets[i].in_use && tcp.sockets[i].accept_of == Some(li as u16) {
            if let Some(t) = &tcp.sockets[i].tcb {
                send_reset(net, now, t.local, t.remote, t.snd_nxt, None);
            }
            tcp.free(i);
        }
    }
    let _ = SeqNumber(0);
}
