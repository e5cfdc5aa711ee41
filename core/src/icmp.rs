//! ICMPv4 (RFC 792): echo replies, destination-unreachable messages we send
//! for closed ports and unknown protocols (rate limited, RFC 1812
//! §4.3.2.8), and the unreachable messages we receive (path MTU per
//! RFC 1191, errors for connected UDP sockets).

use crate::ip::output::IpMeta;
use crate::net::Net;
use crate::tcp::TcpSockets;
use crate::time::Instant;
use crate::udp::UdpSockets;
use crate::wire::checksum;
use crate::wire::icmp::{TYPE_DST_UNREACHABLE, TYPE_ECHO_REPLY};
use crate::wire::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr};

/// RFC 1812 §4.3.2.3: an ICMP error should not exceed 576 bytes.
const MAX_ERROR_LEN: usize = 576;

/// What the receive path knows about a datagram handed to a transport.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received {
    /// Its header (fragment fields cleared once reassembled).
    pub ip: Ipv4Repr,
    /// Sent to a broadcast address, link or IP: never answered with an
    /// ICMP error (RFC 1122 §3.2.2).
    pub broadcast: bool,
    /// The interface it arrived on.
    pub iface: crate::iface::IfaceId,
}

impl Net {
    /// Handles an ICMP message addressed to us.
    pub fn icmp_input(
        &mut self,
        now: Instant,
        rx: &Received,
        payload: &[u8],
        udp: &mut UdpSockets,
        tcp: &mut TcpSockets,
    ) {
        self.stats.icmp.rx += 1;
        let repr = match Icmpv4Packet::new_checked(payload).and_then(|p| Icmpv4Repr::parse(&p)) {
            Ok(r) => r,
            Err(crate::wire::Error::Unsupported) => {
                self.stats.icmp.drop_unsupported += 1;
                return;
            }
            Err(_) => {
                self.stats.icmp.drop_malformed += 1;
                return;
            }
        };
        match repr {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => {
                // Linux's default icmp_echo_ignore_broadcasts: no smurf amplifier.
                if rx.broadcast {
                    self.stats.icmp.drop_unsupported += 1;
                    return;
                }
                self.send_echo_reply(now, rx, ident, seq_no, data);
            }
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                data,
            } => {
                self.stats.icmp.unreachables_rx += 1;
                self.unreachable_input(now, reason, next_hop_mtu, data, udp, tcp);
            }
            Icmpv4Repr::EchoReply { .. } | Icmpv4Repr::TimeExceeded { .. } => {
                self.stats.icmp.drop_unsupported += 1;
            }
        }
    }

    /// RFC 792 "Echo or Echo Reply Message": the data of the request comes
    /// back unchanged, from the address it was sent to.
    fn send_echo_reply(
        &mut self,
        now: Instant,
        rx: &Received,
        ident: u16,
        seq_no: u16,
        data: &[u8],
    ) {
        let dst = rx.ip.src_addr;
        let Ok(eg) = self.route(dst, Some(rx.ip.dst_addr), None, now) else {
            self.stats.ip.drop_no_route += 1;
            return;
        };
        let mut header = [TYPE_ECHO_REPLY, 0, 0, 0, 0, 0, 0, 0];
        header[4..6].copy_from_slice(&ident.to_be_bytes());
        header[6..8].copy_from_slice(&seq_no.to_be_bytes());
        let sum = checksum::combine(&[checksum::sum(&header), checksum::sum(data)]);
        header[2..4].copy_from_slice(&checksum::finish(sum).to_be_bytes());
        let meta = IpMeta {
            protocol: IpProtocol::Icmp,
            ttl: crate::config::IP_TTL as u8,
            tos: rx.ip.tos,
            dont_frag: false,
        };
        if self.send_ip(now, &eg, dst, meta, &header, data).is_ok() {
            self.stats.icmp.tx += 1;
            self.stats.icmp.echo_replies_sent += 1;
        }
    }

    /// Sends a destination-unreachable error about a datagram we received,
    /// unless RFC 1122 §3.2.2 forbids it or the rate limit is spent.
    /// `payload` is the offending datagram's whole IP payload.
    pub fn send_unreachable(
        &mut self,
        now: Instant,
        rx: &Received,
        code: DstUnreachable,
        payload: &[u8],
    ) {
        let src = rx.ip.src_addr;
        // Never about a broadcast, a non-initial fragment (reassembled
        // datagrams are whole here), or a source that is not one host.
        if rx.broadcast || src.is_unspecified() || crate::addr::is_martian_source(src) {
            return;
        }
        if rx.ip.protocol == IpProtocol::Icmp {
            // Never about an ICMP error message.
            let t = payload.first().copied().unwrap_or(TYPE_DST_UNREACHABLE);
            if !matches!(t, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18) {
                return;
            }
        }
        if !self.icmp_limit.take(now) {
            self.stats.icmp.rate_limited += 1;
            return;
        }
        let Ok(eg) = self.route(src, Some(rx.ip.dst_addr), None, now) else {
            self.stats.ip.drop_no_route += 1;
            return;
        };
        // Quote the original header and as much data as fits in 576 bytes.
        let mut quote = [0u8; MAX_ERROR_LEN - 20 - 8];
        let orig = Ipv4Repr {
            payload_len: payload.len(),
            more_frags: false,
            frag_offset: 0,
            ..rx.ip
        };
        orig.emit(&mut Ipv4Packet::new_unchecked(&mut quote[..20]));
        let n = payload.len().min(quote.len() - 20);
        quote[20..20 + n].copy_from_slice(&payload[..n]);
        let quote = &quote[..20 + n];
        let mut header = [TYPE_DST_UNREACHABLE, u8::from(code), 0, 0, 0, 0, 0, 0];
        let sum = checksum::combine(&[checksum::sum(&header), checksum::sum(quote)]);
        header[2..4].copy_from_slice(&checksum::finish(sum).to_be_bytes());
        let meta = IpMeta {
            protocol: IpProtocol::Icmp,
            ttl: crate::config::IP_TTL as u8,
            tos: 0,
            dont_frag: false,
        };
        if self.send_ip(now, &eg, src, meta, &header, quote).is_ok() {
            self.stats.icmp.tx += 1;
            self.stats.icmp.unreachables_tx += 1;
        }
    }

    /// A destination-unreachable message about a datagram we sent.
    fn unreachable_input(
        &mut self,
        now: Instant,
        reason: DstUnreachable,
        next_hop_mtu: u16,
        quoted: &[u8],
        udp: &mut UdpSockets,
        tcp: &mut TcpSockets,
    ) {
        // The quote is truncated by design, so it is read field by field
        // rather than through Ipv4Packet::new_checked.
        let ip = Ipv4Packet::new_unchecked(quoted);
        let hl = ip.header_len();
        if ip.version() != 4 || hl < 20 || quoted.len() < hl + 8 {
            self.stats.icmp.drop_malformed += 1;
            return;
        }
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if !self.is_local(src) {
            // Not about anything we sent: ignore (RFC 5927 §4.1 check).
            self.stats.icmp.drop_unsupported += 1;
            return;
        }
        let l4 = &quoted[hl..];
        let sport = u16::from_be_bytes([l4[0], l4[1]]);
        let dport = u16::from_be_bytes([l4[2], l4[3]]);
        let local = crate::addr::SocketAddrV4::new(src, sport);
        let remote = crate::addr::SocketAddrV4::new(dst, dport);
        let seq = crate::wire::SeqNumber(u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]));
        if reason == DstUnreachable::FragRequired {
            // About TCP, the quote must be of a segment a connection has
            // in flight (RFC 5927 §4.1, as Linux checks in tcp_v4_err):
            // otherwise anybody who guesses a four-tuple could shrink the
            // path's MTU to 68 bytes for ten minutes.
            if ip.protocol() == IpProtocol::Tcp
                && !crate::tcp::input::icmp_quote_is_ours(tcp, local, remote, seq)
            {
                self.stats.icmp.drop_unsupported += 1;
                return;
            }
            let link = self
                .route(dst, Some(src), None, now)
                .map(|e| self.iface(e.iface).map_or(e.mtu, |f| f.mtu))
                .unwrap_or(crate::config::FRAME_SIZE - 14);
            if self
                .pmtu
                .update(dst, next_hop_mtu, ip.total_len(), link, now)
                .is_some()
            {
                self.stats.icmp.pmtu_updates += 1;
            }
            return;
        }
        match ip.protocol() {
            IpProtocol::Udp => udp.icmp_error(src, sport, dst, dport, reason),
            IpProtocol::Tcp => crate::tcp::input::icmp_error(tcp, local, remote, seq, reason),
            _ => {}
        }
    }
}
