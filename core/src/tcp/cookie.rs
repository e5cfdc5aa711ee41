//! SYN cookies (RFC 4987 §3.6): when a listener cannot queue another
//! half-open connection, its SYN-ACK carries everything the connection
//! needs in its ISS (and, with timestamps, in the low bits of its TSval),
//! and nothing is stored. The ACK completing the handshake gives the ISS
//! back (ACK - 1); if it verifies, the connection is made as if a queued
//! request had completed.
//!
//! The ISS (32 bits), high bit first:
//!
//! | bits | holds |
//! |---|---|
//! | 31..4 | 28 bits of SipHash-2-4 under the stack's secret key over the 4-tuple, the peer's ISN, the period counter and the MSS index |
//! | 3 | the period counter modulo 2 (which of the two accepted periods to check) |
//! | 2..0 | the MSS index into [`MSS_TABLE`] |
//!
//! The period counter is the time in [`PERIOD_SECS`] (64 s) periods; a
//! cookie is accepted in the period it was made and the next one, so it
//! lives 64 to 128 s (Linux: about 2 minutes). The handshake's ACK comes
//! one round trip after the SYN-ACK, so a shorter life would do; longer
//! would give a blind attacker a larger window for replaying a cookie it
//! saw.
//!
//! Timestamps (RFC 7323): the low [`TS_OPT_BITS`] bits of the SYN-ACK's
//! TSval hold the peer's window scale (0..=14, 15 for none) and whether it
//! offered SACK, as Linux encodes them; the ACK echoes the TSval in TSecr.
//! The TSval is our clock rounded down (never ahead of it), and the clock
//! offset of a cookie connection is a keyed hash of its 4-tuple, which the
//! ACK's handler computes again: later TSvals of the connection never go
//! below the SYN-ACK's (the peer's PAWS test, RFC 7323 §5.3, stays happy).
//! Without timestamps, window scaling and SACK are lost for the
//! connection: RFC 4987 §3.6 notes this loss of options.

use crate::addr::SocketAddrV4;
use crate::ip::output::IpMeta;
use crate::net::Net;
use crate::rand::Random;
use crate::tcp::emit::our_window_shift;
use crate::tcp::isn::put_endpoint;
use crate::tcp::listen::{self, SynRequest};
use crate::tcp::TcpSockets;
use crate::time::{Duration, Instant};
use crate::wire::tcp::MAX_SACK_BLOCKS;
use crate::wire::{IpProtocol, SeqNumber, TcpControl, TcpRepr};

/// The MSS values a cookie can carry: the peer's MSS is rounded down to
/// the nearest (never up: RFC 9293 §3.7.1 forbids segments beyond what the
/// peer announced); a SYN without the option gets 536. Linux's `msstab`
/// (536, 1300, 1440, 1460) plus smaller entries for small embedded peers
/// (uIP, lwIP configurations announce a few hundred bytes), which Linux
/// would send 536-byte segments.
pub const MSS_TABLE: [u16; 8] = [64, 128, 256, 536, 1024, 1300, 1440, 1460];
/// Length of one period of the cookie's time counter, in seconds.
pub const PERIOD_SECS: u64 = 64;
/// Periods a cookie is accepted in: the one it was made in and the next.
pub const PERIODS_ACCEPTED: u32 = 2;
// One bit of the cookie tells the accepted periods apart.
const _: () = assert!(PERIODS_ACCEPTED <= 2);
/// Low bits of the SYN-ACK's TSval that carry the peer's options.
pub const TS_OPT_BITS: u32 = 5;
const TS_OPT_MASK: u32 = (1 << TS_OPT_BITS) - 1;
/// The window-scale field's value for "no window scale option".
const TS_NO_WSCALE: u32 = 0xF;
const COOKIE_LABEL: u8 = b'C';
const TS_LABEL: u8 = b'T';
/// The cookie's bits that are MAC.
const MAC_MASK: u32 = !0xF;

/// The period counter at `now`.
fn period(now: Instant) -> u32 {
    (now.total_millis() / 1000 / PERIOD_SECS) as u32
}

/// The MAC of a cookie: SipHash-2-4 under the stack's key.
fn mac(
    rng: &Random,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    peer_isn: SeqNumber,
    period: u32,
    mss_index: u32,
) -> u32 {
    let mut buf = [0u8; 22];
    buf[0] = COOKIE_LABEL;
    put_endpoint(&mut buf[1..7], *local.ip(), local.port());
    put_endpoint(&mut buf[7..13], *remote.ip(), remote.port());
    for (d, s) in buf[13..].iter_mut().zip(
        peer_isn
            .0
            .to_be_bytes()
            .into_iter()
            .chain(period.to_be_bytes())
            .chain([mss_index as u8]),
    ) {
        *d = s;
    }
    rng.keyed_hash(&buf) as u32
}

/// The index of the largest [`MSS_TABLE`] entry not above `mss`.
pub fn mss_index(mss: Option<u16>) -> u32 {
    let mss = mss.unwrap_or(536);
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32
}

/// The cookie (our ISS) for a SYN from `remote` to `local` with ISN
/// `peer_isn`, made at `now`.
pub fn make(
    rng: &Random,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    peer_isn: SeqNumber,
    now: Instant,
    mss_index: u32,
) -> SeqNumber {
    let p = period(now);
    let m = mac(rng, local, remote, peer_isn, p, mss_index);
    SeqNumber((m & MAC_MASK) | ((p & 1) << 3) | (mss_index & 7))
}

/// Checks cookie `iss` of a connection from `remote` to `local` whose SYN
/// had ISN `peer_isn`: the MSS index it carries if it was made by
/// [`make`] in this period or the previous one.
pub fn check(
    rng: &Random,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    peer_isn: SeqNumber,
    now: Instant,
    iss: SeqNumber,
) -> Option<u32> {
    let (mss_index, tag) = (iss.0 & 7, (iss.0 >> 3) & 1);
    let cur = period(now);
    (0..PERIODS_ACCEPTED)
        .map(|age| cur.wrapping_sub(age))
        .filter(|p| p & 1 == tag)
        .any(|p| mac(rng, local, remote, peer_isn, p, mss_index) & MAC_MASK == iss.0 & MAC_MASK)
        .then_some(mss_index)
}

/// The TSval offset of a cookie connection (RFC 7323 §5.4): a keyed hash
/// of its 4-tuple, so that the ACK's handler finds the SYN-ACK's offset
/// again without storing it (Linux's `secure_tcp_ts_off`).
pub fn ts_offset(rng: &Random, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
    let mut buf = [0u8; 13];
    buf[0] = TS_LABEL;
    put_endpoint(&mut buf[1..7], *local.ip(), local.port());
    put_endpoint(&mut buf[7..13], *remote.ip(), remote.port());
    rng.keyed_hash(&buf) as u32
}

/// The SYN-ACK's TSval: `clock` (our TSval for now) with the peer's window
/// scale and SACK-permitted in its low bits, never ahead of `clock` (as
/// Linux's `cookie_init_timestamp`), so later TSvals do not go backwards.
pub fn encode_ts(clock: u32, peer_shift: Option<u8>, sack: bool) -> u32 {
    let ws = peer_shift.map_or(TS_NO_WSCALE, |s| u32::from(s.min(14)));
    let ts = (clock & !TS_OPT_MASK) | ws | (u32::from(sack) << 4);
    if (ts.wrapping_sub(clock) as i32) > 0 {
        ts.wrapping_sub(1 << TS_OPT_BITS)
    } else {
        ts
    }
}

/// The peer's window scale and SACK-permitted from the TSecr of the ACK.
pub fn decode_ts(tsecr: u32) -> (Option<u8>, bool) {
    let ws = tsecr & 0xF;
    let shift = (ws != TS_NO_WSCALE).then_some(ws.min(14) as u8);
    (shift, tsecr & 0x10 != 0)
}

/// Answers a SYN for listener `li` with a cookie SYN-ACK, storing nothing.
pub(crate) fn send_cookie(
    net: &mut Net,
    tcp: &mut TcpSockets,
    li: usize,
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seg: &TcpRepr<'_>,
) {
    let dst = *remote.ip();
    let Ok(eg) = net.route(dst, Some(*local.ip()), None, now) else {
        net.stats.ip.drop_no_route += 1;
        return;
    };
    let index = mss_index(seg.max_seg_size);
    let iss = make(&net.rng, local, remote, seg.seq_number, now, index);
    let timestamp = seg.timestamp.map(|(tsval, _)| {
        let clock = (now.total_millis() as u32).wrapping_add(ts_offset(&net.rng, local, remote));
        (
            encode_ts(clock, seg.window_scale, seg.sack_permitted),
            tsval,
        )
    });
    // Without timestamps the options cannot come back: none is offered.
    let ts = timestamp.is_some();
    let repr = TcpRepr {
        src_port: local.port(),
        dst_port: remote.port(),
        control: TcpControl::Syn,
        seq_number: iss,
        ack_number: Some(seg.seq_number + 1),
        window_len: listen::offered_window(tcp, li),
        window_scale: seg
            .window_scale
            .filter(|_| ts)
            .map(|_| our_window_shift(crate::config::TCP_RX_BUFFER)),
        max_seg_size: Some(listen::rmss_for(eg.mtu)),
        sack_permitted: seg.sack_permitted && ts,
        sack_ranges: [None; MAX_SACK_BLOCKS],
        timestamp,
        payload: &[],
    };
    let mut header = [0u8; 60];
    let n = repr.emit_header(&mut header, eg.src, dst);
    let meta = IpMeta {
        protocol: IpProtocol::Tcp,
        ttl: crate::config::IP_TTL as u8,
        tos: 0,
        dont_frag: true,
    };
    tcp.cookie_sent_at = Some(now);
    net.stats.tcp.syn_cookies_sent += 1;
    // Nothing is kept: if the frame cannot go, the peer's SYN
    // retransmission gets another cookie.
    if net.send_ip(now, &eg, dst, meta, &header[..n], &[]).is_ok() {
        net.stats.tcp.tx += 1;
    }
}

/// An ACK for listener `li` that matches no request: if it returns a valid
/// cookie, the connection is made (RFC 4987 §3.6) and true returned; false
/// means "not a cookie" (the caller resets, RFC 9293 §3.10.7.2). An ACK
/// with a valid cookie that finds the accept queue full or no socket free
/// is dropped, and the peer retries.
pub(crate) fn on_ack(
    net: &mut Net,
    tcp: &mut TcpSockets,
    li: usize,
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seg: &TcpRepr<'_>,
) -> bool {
    let Some(ack) = seg.ack_number else {
        return false;
    };
    // Like Linux, cookies are checked only while they are in use: recently
    // sent (within their life) and not switched off.
    let life = Duration::from_secs(PERIOD_SECS * u64::from(PERIODS_ACCEPTED));
    let recent = tcp.cookie_sent_at.is_some_and(|t| now - t < life);
    if !tcp.syn_cookies || !recent || seg.control == TcpControl::Syn {
        return false;
    }
    let iss = ack - 1;
    let irs = seg.seq_number - 1;
    let Some(index) = check(&net.rng, local, remote, irs, now, iss) else {
        net.stats.tcp.syn_cookies_rejected += 1;
        return false;
    };
    let backlog = usize::from(tcp.sockets[li].backlog.unwrap_or(0));
    if listen::unaccepted(tcp, li) >= backlog {
        net.stats.tcp.drop_syn_backlog += 1;
        return true;
    }
    let Ok(eg) = net.route(*remote.ip(), Some(*local.ip()), None, now) else {
        net.stats.ip.drop_no_route += 1;
        return true;
    };
    let (peer_shift, sack) = match seg.timestamp {
        Some((_, tsecr)) => decode_ts(tsecr),
        None => (None, false),
    };
    let req = SynRequest {
        listener: li as u16,
        local,
        remote,
        iss,
        irs,
        peer_mss: MSS_TABLE.get(index as usize).copied(),
        peer_shift,
        sack,
        peer_tsval: seg.timestamp.map(|(v, _)| v),
        ts_offset: ts_offset(&net.rng, local, remote),
        peer_window: seg.window_len,
        retries: 0,
        next_at: now,
        last_sent: now,
        rmss: listen::rmss_for(eg.mtu),
        unsent: false,
    };
    if listen::establish(net, tcp, &req, None, now, seg, None) {
        net.stats.tcp.syn_cookies_accepted += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Ipv4Addr;
    use crate::rand::FixedSeed;

    fn sa(ip: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(ip), port)
    }

    #[test]
    fn cookie_round_trip_and_life() {
        let rng = Random::new(&mut FixedSeed(9));
        let (l, r, isn) = (sa([192, 0, 2, 2], 80), sa([198, 51, 100, 1], 4000), 77);
        let t0 = Instant::from_secs(64 * 1000 + 10);
        for index in 0..4 {
            let c = make(&rng, l, r, SeqNumber(isn), t0, index);
            let ok = |t: Instant| check(&rng, l, r, SeqNumber(isn), t, c);
            assert_eq!(ok(t0), Some(index));
            // Valid through the next period, not after.
            assert_eq!(ok(Instant::from_secs(64 * 1001 + 63)), Some(index));
            assert_eq!(ok(Instant::from_secs(64 * 1002)), None);
            // Not before it was made (a period earlier).
            assert_eq!(ok(Instant::from_secs(64 * 999 + 5)), None);
            // Any other tuple, ISN, or changed bit fails.
            assert_eq!(check(&rng, r, l, SeqNumber(isn), t0, c), None);
            assert_eq!(check(&rng, l, r, SeqNumber(isn + 1), t0, c), None);
            for bit in 0..32 {
                let bad = SeqNumber(c.0 ^ (1 << bit));
                assert_eq!(check(&rng, l, r, SeqNumber(isn), t0, bad), None, "{bit}");
            }
        }
    }

    #[test]
    fn mss_rounds_down() {
        let idx = |m| MSS_TABLE[mss_index(m) as usize];
        assert_eq!(
            [
                None,
                Some(20),
                Some(100),
                Some(200),
                Some(535),
                Some(1299),
                Some(1300),
                Some(1459),
                Some(9000)
            ]
            .map(idx),
            [536, 64, 64, 128, 256, 1024, 1300, 1440, 1460]
        );
    }

    #[test]
    fn timestamp_options_round_trip_and_never_run_ahead() {
        for clock in [0u32, 3, 31, 32, 1000, u32::MAX - 3, u32::MAX] {
            for shift in [None, Some(0), Some(7), Some(14), Some(15)] {
                for sack in [false, true] {
                    let ts = encode_ts(clock, shift, sack);
                    assert!((clock.wrapping_sub(ts) as i32) >= 0, "{clock} {ts}");
                    assert!(clock.wrapping_sub(ts) < 64);
                    assert_eq!(decode_ts(ts), (shift.map(|s| s.min(14)), sack));
                }
            }
        }
    }
}
