//! IPv4: input (validation, reassembly, demultiplexing to ICMP and UDP),
//! output (routing, fragmentation) and the path-MTU cache.

pub mod output;
pub mod pmtu;
pub mod reassembly;

use crate::dhcp::DhcpClients;
use crate::dns::DnsClient;
use crate::event::Events;
use crate::icmp::Received;
use crate::iface::IfaceId;
use crate::net::Net;
use crate::tcp::TcpSockets;
use crate::time::Instant;
use crate::udp::UdpSockets;
use crate::wire::{DstUnreachable, IpProtocol, Ipv4Packet, Ipv4Repr};
use reassembly::{FragKey, Fragment, Outcome, Reassembler};

/// The parts of the stack a received datagram may touch.
pub(crate) struct Layers<'a> {
    pub net: &'a mut Net,
    pub reasm: &'a mut Reassembler,
    pub udp: &'a mut UdpSockets,
    pub tcp: &'a mut TcpSockets,
    /// The stack's own clients, which take some UDP datagrams before the
    /// sockets see them.
    pub clients: Clients<'a>,
}

/// The DHCP client, the DNS resolver and the event queue they report to.
pub(crate) struct Clients<'a> {
    pub dhcp: &'a mut DhcpClients,
    pub dns: &'a mut DnsClient,
    pub events: &'a mut Events,
}

impl Clients<'_> {
    /// Reborrows for a shorter call.
    pub fn reborrow(&mut self) -> Clients<'_> {
        Clients {
            dhcp: self.dhcp,
            dns: self.dns,
            events: self.events,
        }
    }
}

impl Layers<'_> {
    /// Handles an IPv4 datagram (an Ethernet payload) received on `iface`.
    /// `link_broadcast` says the frame was sent to the broadcast address.
    pub fn ipv4_input(
        &mut self,
        now: Instant,
        iface: IfaceId,
        payload: &[u8],
        link_broadcast: bool,
    ) {
        self.net.stats.ip.rx += 1;
        let packet = match Ipv4Packet::new_checked(payload) {
            Ok(p) => p,
            Err(_) => {
                self.net.stats.ip.drop_malformed += 1;
                return;
            }
        };
        let repr = match Ipv4Repr::parse(&packet) {
            Ok(r) => r,
            Err(crate::wire::Error::Checksum) => {
                self.net.stats.ip.drop_checksum += 1;
                return;
            }
            Err(_) => {
                self.net.stats.ip.drop_malformed += 1;
                return;
            }
        };
        // RFC 1122 §3.2.1.3: drop datagrams from a broadcast (limited or
        // directed), multicast or reserved source, and loopback sources from
        // a wire.
        let bad_src = self.net.is_invalid_source(iface, repr.src_addr);
        if bad_src || !self.net.accepts(iface, repr.dst_addr) {
            // A DHCP server may unicast its OFFER and ACK to the address it
            // offers, before we hold it (RFC 2131 §4.1): only the DHCP
            // client of this interface sees such a datagram.
            let whole = !repr.more_frags && repr.frag_offset == 0;
            if !bad_src && whole && repr.protocol == IpProtocol::Udp {
                let dhcp = &mut *self.clients.dhcp;
                if dhcp.accepts_unicast(iface) {
                    let (net, clients) = (&mut *self.net, self.clients.reborrow());
                    net.dhcp_unicast_input(now, iface, &repr, packet.payload(), clients);
                    return;
                }
            }
            self.net.stats.ip.drop_not_for_us += 1;
            return;
        }
        let broadcast = link_broadcast
            || repr.dst_addr.is_broadcast()
            || self
                .net
                .iface(iface)
                .and_then(|f| f.addr)
                .and_then(|a| a.broadcast())
                == Some(repr.dst_addr);
        let rx = Received {
            ip: repr,
            broadcast,
            iface,
        };
        if !repr.more_frags && repr.frag_offset == 0 {
            let layers = (&mut *self.net, &mut *self.udp, &mut *self.tcp);
            deliver(layers, self.clients.reborrow(), now, &rx, packet.payload());
            return;
        }
        self.net.stats.ip.frags_rx += 1;
        let frag = Fragment {
            key: FragKey {
                src: repr.src_addr,
                dst: repr.dst_addr,
                protocol: u8::from(repr.protocol),
                ident: repr.ident,
            },
            offset: usize::from(repr.frag_offset),
            more: repr.more_frags,
            data: packet.payload(),
            ttl: repr.ttl,
        };
        let (outcome, evicted) = self.reasm.add(now, frag);
        if evicted {
            self.net.stats.ip.reasm_evictions += 1;
        }
        match outcome {
            Outcome::Complete { slot } => {
                self.net.stats.ip.reassembled += 1;
                let data = self.reasm.payload(slot);
                let whole = Ipv4Repr {
                    payload_len: data.len(),
                    more_frags: false,
                    frag_offset: 0,
                    ..repr
                };
                let rx = Received { ip: whole, ..rx };
                let layers = (&mut *self.net, &mut *self.udp, &mut *self.tcp);
                deliver(layers, self.clients.reborrow(), now, &rx, data);
                self.reasm.release(slot);
            }
            Outcome::Stored => {}
            Outcome::Duplicate => self.net.stats.ip.reasm_duplicates += 1,
            Outcome::Overlap => self.net.stats.ip.reasm_overlaps += 1,
            Outcome::Oversize => self.net.stats.ip.reasm_oversize += 1,
            Outcome::Malformed => self.net.stats.ip.drop_malformed += 1,
            // Counted once, when the datagram was discarded.
            Outcome::Discarded => {}
        }
    }
}

/// Hands a whole datagram to its transport protocol.
fn deliver(
    layers: (&mut Net, &mut UdpSockets, &mut TcpSockets),
    clients: Clients<'_>,
    now: Instant,
    rx: &Received,
    payload: &[u8],
) {
    let (net, udp, tcp) = layers;
    match rx.ip.protocol {
        IpProtocol::Icmp => net.icmp_input(now, rx, payload, udp, tcp),
        IpProtocol::Udp => net.udp_input(rx, payload, udp, clients, now),
        IpProtocol::Tcp => net.tcp_input(now, rx, payload, tcp),
        _ => {
            net.stats.ip.drop_protocol += 1;
            // RFC 1122 §3.2.2.1: protocol unreachable.
            net.send_unreachable(now, rx, DstUnreachable::ProtoUnreachable, payload);
        }
    }
}
