//! Building one segment from the connection's state and handing it to IP.

use crate::ip::output::{IpMeta, SendError};
use crate::net::Net;
use crate::tcp::tcb::Tcb;
use crate::time::Instant;
use crate::wire::tcp::{MAX_OPTIONS_LEN, MAX_SACK_BLOCKS};
use crate::wire::{IpProtocol, SackBlock, SeqNumber, TcpControl, TcpRepr};

/// Largest TCP header: 20 bytes plus 40 of options.
const MAX_HEADER: usize = 60;

/// Window scale shift we offer: enough for the receive buffer (RFC 7323
/// §2.3: the smallest shift that lets the window field cover it).
pub(crate) const fn our_window_shift(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (buffer >> shift) > 65535 {
        shift += 1;
    }
    shift
}

/// Bytes of the timestamps option on a segment other than a SYN (with
/// two NOPs for alignment).
fn timestamps_len(tcb: &Tcb) -> usize {
    if tcb.opts.timestamps {
        12
    } else {
        0
    }
}

/// Bytes of the SACK option the next segment other than a SYN carries: two
/// NOPs, kind and length, 8 bytes per block; as many blocks as [`send`]
/// reports (one per out-of-order range) and the option space holds.
fn sack_option_len(tcb: &Tcb) -> usize {
    if !tcb.opts.sack {
        return 0;
    }
    let room = (MAX_OPTIONS_LEN - timestamps_len(tcb) - 4) / 8;
    let blocks = tcb.assembler.ranges().count();
    match blocks.min(MAX_SACK_BLOCKS).min(room) {
        0 => 0,
        n => 4 + 8 * n,
    }
}

/// The most payload the next segment may carry: the send MSS (which
/// already allows for the timestamps option) less the SACK option it will
/// carry. RFC 6691 §2: the MSS leaves out TCP options, so the sender MUST
/// shorten the data by the options it includes; otherwise a full segment
/// with SACK blocks exceeds the MTU.
pub(crate) fn effective_mss(tcb: &Tcb) -> u32 {
    (usize::from(tcb.smss).saturating_sub(sack_option_len(tcb))).max(1) as u32
}

/// What to put in a segment besides the connection's standing fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub control: TcpControl,
    pub seq: SeqNumber,
    /// Carry an acknowledgment (every segment but the first SYN).
    pub ack: bool,
    pub payload: &'a [u8],
}

/// The receive window to advertise, in bytes, given `free` bytes of
/// receive buffer beyond the in-order data. Implements receiver-side SWS
/// avoidance (RFC 9293 §3.8.6.2.2): the right edge only moves when it can
/// move by min(buffer/2, MSS); and never moves left (no shrinking).
pub(crate) fn receive_window(tcb: &Tcb, free: usize, capacity: usize) -> u32 {
    let current = tcb.rcv_adv.diff(tcb.rcv_nxt).max(0) as u32;
    let free = free.min(capacity) as u32;
    let threshold = (capacity as u32 / 2).min(u32::from(tcb.rmss)).max(1);
    let win = if free >= current + threshold || free == capacity as u32 {
        free
    } else {
        current
    };
    let max = 65535u32 << tcb.opts.rcv_shift;
    win.max(current).min(max)
}

/// Sends one segment. `free`/`capacity` describe the receive buffer, for
/// the window field.
pub(crate) fn send(
    net: &mut Net,
    tcb: &mut Tcb,
    now: Instant,
    seg: Segment<'_>,
    free: usize,
    capacity: usize,
) -> Result<(), SendError> {
    let syn = seg.control == TcpControl::Syn;
    let mut window = receive_window(tcb, free, capacity);
    // RFC 7323 §2.2: the window in a SYN is never scaled.
    let window_len = if syn {
        window = window.min(65535);
        window as u16
    } else {
        (window >> tcb.opts.rcv_shift).min(65535) as u16
    };
    let mut sack_ranges = [None; MAX_SACK_BLOCKS];
    if tcb.opts.sack && !syn {
        // RFC 2018 §4: the block holding the most recent segment first,
        // then the others.
        let base = tcb.rcv_nxt;
        let first = tcb.assembler.last_added();
        let mut n = 0;
        if let Some((s, e)) = first {
            sack_ranges[0] = Some(SackBlock {
                left: base + s,
                right: base + e,
            });
            n = 1;
        }
        for (s, e) in tcb.assembler.ranges() {
            if n == MAX_SACK_BLOCKS {
                break;
            }
            if Some((s, e)) != first {
                sack_ranges[n] = Some(SackBlock {
                    left: base + s,
                    right: base + e,
                });
                n += 1;
            }
        }
    }
    let offer_options = syn;
    let timestamps = if syn { true } else { tcb.opts.timestamps };
    let mut repr = TcpRepr {
        src_port: tcb.local.port(),
        dst_port: tcb.remote.port(),
        control: seg.control,
        seq_number: seg.seq,
        ack_number: if seg.ack { Some(tcb.rcv_nxt) } else { None },
        window_len,
        window_scale: if offer_options && (tcb.opts.window_scaling || !seg.ack) {
            Some(tcb.opts.rcv_shift)
        } else {
            None
        },
        max_seg_size: if offer_options { Some(tcb.rmss) } else { None },
        sack_permitted: offer_options && (tcb.opts.sack || !seg.ack),
        sack_ranges,
        timestamp: if timestamps && (tcb.opts.timestamps || !seg.ack) {
            Some((tcb.tsval(now), if seg.ack { tcb.ts_recent } else { 0 }))
        } else {
            None
        },
        payload: seg.payload,
    };
    let dst = tcb.peer_ip();
    let eg = match net.route(dst, Some(*tcb.local.ip()), None, now) {
        Ok(eg) => eg,
        Err(e) => {
            // No route (the address or the route went away): try again
            // when the retransmission timer fires, with its backoff and
            // its limit (TCP_RETRIES ends the connection, as on Linux).
            tcb.route_blocked = true;
            if tcb.retransmit_at.is_none() {
                tcb.retransmit_at = crate::time::Deadline::at(now + tcb.rtt.rto());
            }
            return Err(e);
        }
    };
    tcb.route_blocked = false;
    // A path MTU near the IPv4 minimum (68) leaves no room for every SACK
    // block next to the timestamps: report fewer (RFC 2018 §3: as many as
    // fit) rather than a segment that can never be sent — an ACK refused
    // with TooBig stays owed, and the stack would ask to run at once
    // turn after turn.
    let mtu = eg.mtu.min(crate::config::FRAME_SIZE - 14);
    let mut blocks = repr.sack_ranges.iter().filter(|b| b.is_some()).count();
    while blocks > 0 && 20 + repr.header_len() + seg.payload.len() > mtu {
        blocks -= 1;
        repr.sack_ranges[blocks] = None;
    }
    let mut header = [0u8; MAX_HEADER];
    let n = repr.emit_header(&mut header, eg.src, dst);
    let meta = IpMeta {
        protocol: IpProtocol::Tcp,
        ttl: crate::config::IP_TTL as u8,
        tos: 0,
        // Path MTU discovery (RFC 1191): TCP segments never fragment.
        dont_frag: true,
    };
    // TCP sizes its segments to the path MTU and never leans on
    // fragmentation, even towards a path clamped at PMTU_MIN (whose
    // datagrams go without DF, for routers further on).
    let sent = if 20 + n + seg.payload.len() > mtu {
        Err(SendError::TooBig)
    } else {
        net.send_ip(now, &eg, dst, meta, &header[..n], seg.payload)
    };
    match sent {
        Ok(()) => {}
        Err(SendError::TooBig) => {
            // The path MTU dropped below our segment size: shrink the MSS
            // (RFC 1191 §6.4); the data goes again in smaller segments.
            // The MSS excludes the timestamps option (as when it was
            // negotiated); `effective_mss` takes off the SACK option.
            let mtu = eg.mtu.max(crate::config::MIN_MTU);
            let mss = mtu.saturating_sub(40 + timestamps_len(tcb)).max(8);
            tcb.smss = tcb.smss.min(mss as u16);
            tcb.cc.set_mss(u32::from(tcb.smss));
            return Err(SendError::TooBig);
        }
        Err(SendError::Unresolved) => {
            // The next hop is being resolved and the ARP queue is full:
            // the segment is dropped (as Linux's neighbour queue drops
            // it) and, as without a route, the retransmission timer
            // tries again; asking to run at once would spin the caller
            // until the ARP request gives up.
            tcb.route_blocked = true;
            if tcb.retransmit_at.is_none() {
                tcb.retransmit_at = crate::time::Deadline::at(now + tcb.rtt.rto());
            }
            return Err(SendError::Unresolved);
        }
        Err(e) => return Err(e),
    }
    net.stats.tcp.tx += 1;
    if seg.ack {
        tcb.last_ack_sent = tcb.rcv_nxt;
        let right = tcb.rcv_nxt
            + (u32::from(window_len) << if syn { 0 } else { tcb.opts.rcv_shift }) as usize;
        if right.gt(tcb.rcv_adv) {
            tcb.rcv_adv = right;
        }
        tcb.ack_now = false;
        tcb.ack_delayed_until = crate::time::Deadline::NONE;
        tcb.segs_since_ack = 0;
    }
    Ok(())
}

/// Sends a RST in answer to a segment that belongs to no connection
/// (RFC 9293 §3.10.7.1): `seq = SEG.ACK` if it had an ACK, otherwise
/// `seq = 0, ack = SEG.SEQ + SEG.LEN`.
pub(crate) fn send_reset(
    net: &mut Net,
    now: Instant,
    local: crate::addr::SocketAddrV4,
    remote: crate::addr::SocketAddrV4,
    seq: SeqNumber,
    ack: Option<SeqNumber>,
) {
    let repr = TcpRepr {
        src_port: local.port(),
        dst_port: remote.port(),
        control: TcpControl::Rst,
        seq_number: seq,
        ack_number: ack,
        window_len: 0,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None; MAX_SACK_BLOCKS],
        timestamp: None,
        payload: &[],
    };
    let dst = *remote.ip();
    let Ok(eg) = net.route(dst, Some(*local.ip()), None, now) else {
        return;
    };
    let mut header = [0u8; MAX_HEADER];
    let n = repr.emit_header(&mut header, eg.src, dst);
    let meta = IpMeta {
        protocol: IpProtocol::Tcp,
        ttl: crate::config::IP_TTL as u8,
        tos: 0,
        dont_frag: true,
    };
    if net.send_ip(now, &eg, dst, meta, &header[..n], &[]).is_ok() {
        net.stats.tcp.tx += 1;
        net.stats.tcp.resets_tx += 1;
    }
}
