//! The client's messages: which fields and options each carries (RFC 2131
//! §4.4.1 table 5) and how it leaves (broadcast from 0.0.0.0 until an
//! address is held, RFC 2131 §4.1; unicast to the server when renewing and
//! releasing).

use crate::addr::Ipv4Addr;
use crate::config::IP_TTL;
use crate::iface::IfaceId;
use crate::ip::output::{Egress, IpMeta};
use crate::net::Net;
use crate::time::Instant;
use crate::wire::dhcp::{DhcpPacket, DhcpRepr, MessageType, OpCode, CLIENT_PORT, SERVER_PORT};
use crate::wire::{IpProtocol, UdpRepr};

/// Largest message the client builds: the fixed part, and options well
/// under 300 bytes (hostname and client identifier are bounded).
const BUF_LEN: usize = 576;

/// The options we ask for (RFC 2132 §9.8): mask, router, DNS servers,
/// lease time, T1, T2.
const PARAMETERS: [u8; 6] = [1, 3, 6, 51, 58, 59];

/// What the client says about itself in every message.
pub(crate) struct Identity<'a> {
    /// Option 61, RFC 2132 §9.14.
    pub client_id: &'a [u8],
    /// Option 12, RFC 2132 §3.14 (empty: not sent).
    pub hostname: &'a [u8],
}

/// One message to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    /// DISCOVER, hinting at the address we last had.
    Discover { hint: Option<Ipv4Addr> },
    /// REQUEST in SELECTING: the chosen offer.
    Select { addr: Ipv4Addr, server: Ipv4Addr },
    /// REQUEST in INIT-REBOOT: the address we had.
    Reboot { addr: Ipv4Addr },
    /// REQUEST in RENEWING, unicast to the server.
    Renew { addr: Ipv4Addr, server: Ipv4Addr },
    /// REQUEST in REBINDING, broadcast.
    Rebind { addr: Ipv4Addr },
    /// DECLINE of an address found in use.
    Decline { addr: Ipv4Addr, server: Ipv4Addr },
    /// RELEASE of our lease, unicast to the server.
    Release { addr: Ipv4Addr, server: Ipv4Addr },
}

/// Builds and queues `msg` on `iface`. Returns false when it could not be
/// queued (no frame slot, no route to the server); the caller tries again.
pub(crate) fn send(
    net: &mut Net,
    now: Instant,
    iface: IfaceId,
    xid: u32,
    secs: u16,
    who: &Identity<'_>,
    msg: Message,
) -> bool {
    let Some(f) = net.iface(iface) else {
        return false;
    };
    let (mac, mtu) = (f.mac, f.mtu);
    let (kind, ciaddr, unicast_to) = match msg {
        Message::Discover { .. } => (MessageType::Discover, None, None),
        Message::Select { .. } | Message::Reboot { .. } => (MessageType::Request, None, None),
        Message::Renew { addr, server } => (MessageType::Request, Some(addr), Some(server)),
        Message::Rebind { addr } => (MessageType::Request, Some(addr), None),
        Message::Decline { .. } => (MessageType::Decline, None, None),
        Message::Release { addr, server } => (MessageType::Release, Some(addr), Some(server)),
    };
    let mut repr = DhcpRepr {
        secs,
        client_ip: ciaddr.unwrap_or(Ipv4Addr::UNSPECIFIED),
        client_id: Some(who.client_id).filter(|c| !c.is_empty()),
        ..DhcpRepr::new(OpCode::Request, kind, xid, mac)
    };
    // RFC 2131 table 5: hostname and parameter list go with DISCOVER and
    // REQUEST, never with DECLINE and RELEASE; 'secs' is 0 in those.
    if matches!(kind, MessageType::Discover | MessageType::Request) {
        repr.hostname = Some(who.hostname).filter(|h| !h.is_empty());
        repr.parameter_request_list = Some(&PARAMETERS);
        repr.max_size = u16::try_from(mtu.saturating_sub(28))
            .ok()
            .filter(|m| *m >= 576);
    } else {
        repr.secs = 0;
    }
    match msg {
        Message::Discover { hint } => repr.requested_ip = hint,
        Message::Select { addr, server } | Message::Decline { addr, server } => {
            repr.requested_ip = Some(addr);
            repr.server_id = Some(server);
        }
        Message::Reboot { addr } => repr.requested_ip = Some(addr),
        Message::Release { server, .. } => repr.server_id = Some(server),
        Message::Renew { .. } | Message::Rebind { .. } => {}
    }
    let mut buf = [0u8; BUF_LEN];
    let len = repr.buffer_len().min(BUF_LEN);
    let Some(out) = buf.get_mut(..len) else {
        return false;
    };
    repr.emit(&mut DhcpPacket::new_unchecked(&mut *out));
    let payload = &buf[..len];

    let (eg, dst) = match unicast_to {
        Some(server) => match net.route(server, ciaddr, Some(iface), now) {
            Ok(mut eg) => {
                // A RELEASE is the last thing sent from the address: when
                // the server's hardware address is not cached, an ARP
                // exchange could not finish once the address is gone, so
                // the frame goes to the link broadcast (the IP
                // destination stays the server, RFC 2131 §4.4.6).
                if matches!(msg, Message::Release { .. }) {
                    let cached = net
                        .iface(iface)
                        .is_some_and(|f| f.arp.entries().any(|(ip, _)| ip == eg.via));
                    eg.broadcast |= !cached;
                }
                (eg, server)
            }
            Err(_) => return false,
        },
        None => (
            Egress {
                iface,
                via: Ipv4Addr::BROADCAST,
                src: ciaddr.unwrap_or(Ipv4Addr::UNSPECIFIED),
                mtu,
                broadcast: true,
                fragment: false,
            },
            Ipv4Addr::BROADCAST,
        ),
    };
    let udp = UdpRepr {
        src_port: CLIENT_PORT,
        dst_port: SERVER_PORT,
    };
    let header = udp.header_bytes(eg.src, dst, payload);
    let meta = IpMeta {
        protocol: IpProtocol::Udp,
        ttl: IP_TTL as u8,
        tos: 0,
        dont_frag: false,
    };
    let sent = net.send_ip(now, &eg, dst, meta, &header, payload).is_ok();
    if sent {
        net.stats.dhcp.tx += 1;
    }
    sent
}

/// Sends an ARP probe for `addr` (RFC 5227 §2.1.1: sender address 0.0.0.0,
/// target hardware address zero, broadcast).
pub(crate) fn probe(net: &mut Net, iface: IfaceId, addr: Ipv4Addr) -> bool {
    use crate::wire::{ArpOperation, ArpRepr, EthernetAddress};
    let Some(mac) = net.iface(iface).map(|f| f.mac) else {
        return false;
    };
    let repr = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: Ipv4Addr::UNSPECIFIED,
        target_hardware_addr: EthernetAddress::default(),
        target_protocol_addr: addr,
    };
    let sent = net.send_arp(iface, &repr, EthernetAddress::BROADCAST);
    if sent {
        net.stats.arp.tx_requests += 1;
    }
    sent
}
