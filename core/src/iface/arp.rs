//! ARP input and output (RFC 826, RFC 1122 §2.3.2, RFC 5227 §2.3 for the
//! announcement sent when an address is set).

use crate::addr::Ipv4Addr;
use crate::iface::arp_cache::{ArpEvent, Update};
use crate::iface::tx_pool::TxPool;
use crate::iface::IfaceId;
use crate::net::Net;
use crate::stats::Stats;
use crate::time::Instant;
use crate::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
};

const ARP_FRAME_LEN: usize = crate::wire::ethernet::HEADER_LEN + ArpRepr::BUFFER_LEN;

impl Net {
    /// Handles an ARP packet (the Ethernet payload) received on `iface`;
    /// returns it when it was well formed and from another host, for the
    /// DHCP client's address conflict check (RFC 5227 §2.1.1).
    pub fn arp_input(&mut self, now: Instant, iface: IfaceId, payload: &[u8]) -> Option<ArpRepr> {
        self.stats.arp.rx += 1;
        let repr = match ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => {
                self.stats.arp.drop_malformed += 1;
                return None;
            }
        };
        let f = self.iface(iface)?;
        let (our_mac, our_addr) = (f.mac, f.addr.map(|a| a.address()));
        if !repr.source_hardware_addr.is_unicast()
            || crate::addr::is_martian_source(repr.source_protocol_addr)
        {
            self.stats.arp.drop_malformed += 1;
            return None;
        }
        if repr.source_hardware_addr == our_mac {
            return None; // our own packet, reflected
        }
        if our_addr.is_some() && our_addr == Some(repr.source_protocol_addr) {
            // Somebody claims our address (RFC 5227 §2.4): never learn it.
            self.stats.arp.drop_conflict += 1;
            return Some(repr);
        }
        let for_us = our_addr.is_some() && our_addr == Some(repr.target_protocol_addr);
        let sender_known = !repr.source_protocol_addr.is_unspecified();
        // A request for our address is answered at once if it comes from a
        // neighbour we already know (a resolved cache entry with the same
        // hardware address), and otherwise only within the reply limit
        // (`ARP_REPLY_BURST`, `ARP_REPLIES_PER_SEC`): a flood of requests
        // from forged senders cannot make us send more than that, nor
        // starve the replies to neighbours we talk to.
        let mut answer = for_us && repr.operation == ArpOperation::Request;
        if answer {
            let known = sender_known
                && self
                    .iface(iface)?
                    .arp
                    .knows(repr.source_protocol_addr, repr.source_hardware_addr);
            if !known && !self.arp_limit.take(now) {
                self.stats.arp.replies_rate_limited += 1;
                answer = false;
            }
        }
        // RFC 826 "Packet Reception": merge into an existing entry; create one
        // only when we are the target of a request and answer it (a request
        // over the limit creates no entry, and none ever takes the place of
        // a neighbour we talk to: see `ArpCache::update`). A reply we did not
        // ask for finds no entry and creates none.
        let create = answer && sender_known;
        if sender_known {
            let f = self.iface_mut(iface)?;
            match f.arp.update(
                repr.source_protocol_addr,
                repr.source_hardware_addr,
                now,
                create,
            ) {
                Ok(Update::Resolved) => {
                    self.tx
                        .resolve(iface, repr.source_protocol_addr, repr.source_hardware_addr);
                }
                Ok(Update::Ignored) if repr.operation == ArpOperation::Reply => {
                    self.stats.arp.unsolicited_replies += 1;
                }
                Ok(Update::Replaced) => self.stats.arp.evictions += 1,
                // A full cache (of entries being resolved or of neighbours
                // we talk to): the request is still
                // answered below, the sender just is not remembered.
                Ok(_) | Err(_) => {}
            }
        }
        if answer {
            if let Some(addr) = our_addr {
                let reply = ArpRepr {
                    operation: ArpOperation::Reply,
                    source_hardware_addr: our_mac,
                    source_protocol_addr: addr,
                    target_hardware_addr: repr.source_hardware_addr,
                    target_protocol_addr: repr.source_protocol_addr,
                };
                if self.send_arp(iface, &reply, repr.source_hardware_addr) {
                    self.stats.arp.tx_replies += 1;
                }
            }
        }
        Some(repr)
    }

    /// Queues an ARP packet to `to`. Returns false if no slot was free.
    pub fn send_arp(&mut self, iface: IfaceId, repr: &ArpRepr, to: EthernetAddress) -> bool {
        let Some(src_mac) = self.iface(iface).map(|f| f.mac) else {
            return false;
        };
        queue_arp(&mut self.tx, &mut self.stats, iface, src_mac, repr, to)
    }

    /// Sends a request for `ip` from `iface` (broadcast unless `to`).
    pub fn send_arp_request(
        &mut self,
        iface: IfaceId,
        ip: Ipv4Addr,
        to: Option<EthernetAddress>,
    ) -> bool {
        let Some(f) = self.iface(iface) else {
            return false;
        };
        let repr = request(
            f.mac,
            f.addr.map(|a| a.address()).unwrap_or(Ipv4Addr::UNSPECIFIED),
            ip,
        );
        let sent = self.send_arp(iface, &repr, to.unwrap_or(EthernetAddress::BROADCAST));
        if sent {
            self.stats.arp.tx_requests += 1;
        }
        sent
    }

    /// Announces our address on `iface`: a gratuitous ARP request whose
    /// sender and target are both our address (RFC 5227 §2.3), so that
    /// neighbours update stale entries.
    pub fn announce(&mut self, iface: IfaceId) -> bool {
        let Some(addr) = self.iface(iface).and_then(|f| f.addr) else {
            return false;
        };
        self.send_arp_request(iface, addr.address(), None)
    }

    /// Runs the ARP timers of every interface: sends due requests, drops
    /// frames whose next hop never answered.
    pub fn arp_poll(&mut self, now: Instant) {
        let Net {
            ifaces, tx, stats, ..
        } = self;
        for (idx, slot) in ifaces.iter_mut().enumerate() {
            let Some(f) = slot.as_mut() else { continue };
            let id = IfaceId(idx as u8 + 1);
            let mac = f.mac;
            let src_ip = f.addr.map(|a| a.address()).unwrap_or(Ipv4Addr::UNSPECIFIED);
            f.arp.poll(now, |e| match e {
                ArpEvent::Request { ip, to } => {
                    let repr = request(mac, src_ip, ip);
                    if queue_arp(
                        tx,
                        stats,
                        id,
                        mac,
                        &repr,
                        to.unwrap_or(EthernetAddress::BROADCAST),
                    ) {
                        stats.arp.tx_requests += 1;
                    }
                }
                ArpEvent::Failed(ip) => {
                    let dropped = tx.drop_pending(id, ip);
                    stats.arp.drop_unresolved += dropped as u64;
                }
            });
        }
    }
}

fn request(mac: EthernetAddress, src: Ipv4Addr, target: Ipv4Addr) -> ArpRepr {
    ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: src,
        target_hardware_addr: EthernetAddress::default(),
        target_protocol_addr: target,
    }
}

/// Builds an ARP frame in a free slot of `tx`.
fn queue_arp(
    tx: &mut TxPool,
    stats: &mut Stats,
    iface: IfaceId,
    src_mac: EthernetAddress,
    repr: &ArpRepr,
    to: EthernetAddress,
) -> bool {
    let Some((slot, buf)) = tx.reserve() else {
        stats.ip.drop_no_buffer += 1;
        return false;
    };
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..ARP_FRAME_LEN]);
    EthernetRepr {
        src_addr: src_mac,
        dst_addr: to,
        ethertype: EtherType::Arp,
    }
    .emit(&mut frame);
    repr.emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
    tx.commit(slot, iface, ARP_FRAME_LEN, None);
    true
}
