//! IPv4 output: route selection, link-layer addressing and fragmentation
//! (RFC 791 §3.2 "Fragmentation and Reassembly", RFC 1122 §3.3.5).

use crate::addr::Ipv4Addr;
use crate::config::FRAME_SIZE;
use crate::iface::arp_cache::{Evicted, Lookup};
use crate::iface::IfaceId;
use crate::net::Net;
use crate::time::Instant;
use crate::wire::{
    ethernet, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol, Ipv4Packet,
    Ipv4Repr,
};

/// Where a datagram leaves and with which source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egress {
    /// Egress interface.
    pub iface: IfaceId,
    /// Next hop (the destination itself when on-link).
    pub via: Ipv4Addr,
    /// Source address to use.
    pub src: Ipv4Addr,
    /// Largest datagram on the path.
    pub mtu: usize,
    /// Sent to the link's broadcast address.
    pub broadcast: bool,
    /// The path MTU was clamped at `PMTU_MIN`: datagrams go without Don't
    /// Fragment whatever the sender asked (see `ip::pmtu`).
    pub fragment: bool,
}

/// Why a datagram could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// No route to the destination (or no usable source address).
    NoRoute,
    /// Not enough free frame slots right now: try again later.
    NoBuffer,
    /// The datagram needs more frames than may ever wait for ARP
    /// (`ARP_PENDING`).
    Unresolved,
    /// Larger than IPv4 allows, or than the path MTU with DF set.
    TooBig,
}

/// The fields of an outgoing datagram besides its addresses.
#[derive(Debug, Clone, Copy)]
pub struct IpMeta {
    /// Transport protocol.
    pub protocol: IpProtocol,
    /// Time to live.
    pub ttl: u8,
    /// Type of service / DSCP+ECN.
    pub tos: u8,
    /// Set DF: fail instead of fragmenting.
    pub dont_frag: bool,
}

const IP_HDR: usize = crate::wire::ipv4::HEADER_LEN;
const ETH_HDR: usize = ethernet::HEADER_LEN;

impl Net {
    /// Chooses the interface, next hop and source address for `dst`.
    /// `src` is a source the caller is bound to; `iface` forces the egress
    /// interface (needed for the limited broadcast).
    pub fn route(
        &self,
        dst: Ipv4Addr,
        src: Option<Ipv4Addr>,
        iface: Option<IfaceId>,
        now: Instant,
    ) -> Result<Egress, SendError> {
        let src = src.filter(|s| !s.is_unspecified());
        let loop_mtu = FRAME_SIZE - ETH_HDR;
        if dst.is_loopback() || (self.is_local(dst) && iface.is_none_or(|i| i.is_loopback())) {
            let src = src.unwrap_or(if dst.is_loopback() {
                Ipv4Addr::LOCALHOST
            } else {
                dst
            });
            return Ok(Egress {
                iface: IfaceId::LOOPBACK,
                via: dst,
                src,
                mtu: loop_mtu,
                broadcast: false,
                fragment: false,
            });
        }
        // RFC 1122 §3.2.1.3(g): a loopback source never leaves the host.
        if src.is_some_and(|s| s.is_loopback()) {
            return Err(SendError::NoRoute);
        }
        if dst.is_broadcast() {
            // The limited broadcast goes out on the interface asked for, or
            // the one holding the bound source, or the first one.
            let id = iface
                .or_else(|| {
                    src.and_then(|s| {
                        self.subnets()
                            .find(|(_, c)| c.address() == s)
                            .map(|(i, _)| i)
                    })
                })
                .or_else(|| self.ifaces().next().map(|(i, _)| i))
                .ok_or(SendError::NoRoute)?;
            let f = self.iface(id).ok_or(SendError::NoRoute)?;
            let src = src
                .or(f.addr.map(|a| a.address()))
                .unwrap_or(Ipv4Addr::UNSPECIFIED);
            return Ok(Egress {
                iface: id,
                via: dst,
                src,
                mtu: f.mtu,
                broadcast: true,
                fragment: false,
            });
        }
        if dst.is_multicast() || dst.is_unspecified() {
            return Err(SendError::NoRoute);
        }
        let hop = match iface {
            Some(id) if !id.is_loopback() => {
                let f = self.iface(id).ok_or(SendError::NoRoute)?;
                match f.addr {
                    Some(a) if a.contains(dst) => crate::iface::route::NextHop {
                        iface: id,
                        via: dst,
                    },
                    _ => self
                        .routes
                        .iter()
                        .filter(|r| r.iface == id && r.dest.contains(dst))
                        .max_by_key(|r| r.dest.prefix_len())
                        .map(|r| crate::iface::route::NextHop {
                            iface: id,
                            via: r.gateway.unwrap_or(dst),
                        })
                        .ok_or(SendError::NoRoute)?,
                }
            }
            _ => self
                .routes
                .lookup(dst, self.subnets())
                .ok_or(SendError::NoRoute)?,
        };
        let f = self.iface(hop.iface).ok_or(SendError::NoRoute)?;
        let addr = f.addr;
        let src = match (src, addr) {
            (Some(s), _) => s,
            (None, Some(a)) => a.address(),
            (None, None) => return Err(SendError::NoRoute),
        };
        let broadcast = addr.and_then(|a| a.broadcast()) == Some(dst);
        let (mtu, fragment) = match self.pmtu.path(dst, now) {
            Some((p, fragment)) => (p.min(f.mtu), fragment),
            None => (f.mtu, false),
        };
        Ok(Egress {
            iface: hop.iface,
            via: hop.via,
            src,
            mtu,
            broadcast,
            fragment,
        })
    }

    /// Sends one datagram whose payload is `header` followed by `payload`
    /// (a transport header with its checksum already computed, and the
    /// data), fragmenting it when it exceeds the path MTU. All fragments are
    /// queued or none is.
    pub fn send_ip(
        &mut self,
        now: Instant,
        eg: &Egress,
        dst: Ipv4Addr,
        meta: IpMeta,
        header: &[u8],
        payload: &[u8],
    ) -> Result<(), SendError> {
        let total = header.len() + payload.len();
        if total + IP_HDR > 65535 {
            return Err(SendError::TooBig);
        }
        let mtu = eg.mtu.min(FRAME_SIZE - ETH_HDR);
        let per_frag = (mtu - IP_HDR) & !7;
        let dont_frag = meta.dont_frag && !eg.fragment;
        let nfrags = if total + IP_HDR <= mtu {
            1
        } else if dont_frag {
            return Err(SendError::TooBig);
        } else {
            total.div_ceil(per_frag)
        };
        // More fragments than the pool could ever hold at once can never be
        // sent: fail now rather than wait for room that will not come.
        if !fits_in_pool(eg, total) {
            return Err(SendError::TooBig);
        }

        // Link-layer destination.
        let (dst_mac, await_arp) = if eg.iface.is_loopback() {
            (EthernetAddress::default(), None)
        } else if eg.broadcast {
            (EthernetAddress::BROADCAST, None)
        } else {
            let f = self.iface_mut(eg.iface).ok_or(SendError::NoRoute)?;
            match f.arp.lookup(eg.via, now) {
                Lookup::Found(mac) => (mac, None),
                Lookup::Pending => (EthernetAddress::default(), Some(eg.via)),
                Lookup::Missing => {
                    match f.arp.start(eg.via, now) {
                        Evicted::Nothing => {}
                        Evicted::Resolved => self.stats.arp.evictions += 1,
                        Evicted::Unresolved(ip) => {
                            self.stats.arp.evictions += 1;
                            let n = self.tx.drop_pending(eg.iface, ip);
                            self.stats.arp.drop_unresolved += n as u64;
                        }
                    }
                    (EthernetAddress::default(), Some(eg.via))
                }
            }
        };
        if eg.iface.is_loopback() {
            if self.loopback.len() + nfrags > crate::config::LOOPBACK_FRAMES {
                self.stats.ip.drop_no_buffer += 1;
                return Err(SendError::NoBuffer);
            }
        } else {
            if await_arp.is_some() {
                // RFC 1122 §2.3.2.2: keep "at least one (the latest)" packet
                // per unresolved address. With every waiting slot taken a
                // waiting frame goes (this address's oldest, else one of an
                // address with several, else the oldest: see
                // `TxPool::drop_oldest_pending`), so frames for addresses
                // nobody answers (a flood from spoofed sources) cannot keep
                // a new resolution from queueing its frame.
                while nfrags <= crate::config::ARP_PENDING
                    && !self.tx.pending_room(nfrags)
                    && self.tx.drop_oldest_pending(eg.iface, eg.via)
                {
                    self.stats.arp.drop_pending_full += 1;
                }
                if !self.tx.pending_room(nfrags) {
                    self.stats.arp.drop_pending_full += 1;
                    return Err(SendError::Unresolved);
                }
            }
            if self.tx.free() < nfrags {
                self.stats.ip.drop_no_buffer += 1;
                self.tx_wanted = match self.tx_wanted {
                    0 => nfrags,
                    w => w.min(nfrags),
                };
                return Err(SendError::NoBuffer);
            }
        }
        let src_mac = self.iface(eg.iface).map(|f| f.mac).unwrap_or_default();
        let ident = self.next_ident();
        let mut offset = 0;
        while offset < total || (total == 0 && offset == 0) {
            let len = if nfrags == 1 {
                total
            } else {
                per_frag.min(total - offset)
            };
            let more = offset + len < total;
            let repr = Ipv4Repr {
                src_addr: eg.src,
                dst_addr: dst,
                protocol: meta.protocol,
                payload_len: len,
                ttl: meta.ttl,
                tos: meta.tos,
                ident,
                dont_frag,
                more_frags: more,
                frag_offset: offset as u16,
            };
            let frame_len = ETH_HDR + IP_HDR + len;
            let build = |buf: &mut [u8]| {
                let eth = EthernetRepr {
                    src_addr: src_mac,
                    dst_addr: dst_mac,
                    ethertype: EtherType::Ipv4,
                };
                let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
                eth.emit(&mut frame);
                let mut ip = Ipv4Packet::new_unchecked(frame.payload_mut());
                repr.emit(&mut ip);
                copy_range(ip.payload_mut(), header, payload, offset);
            };
            if eg.iface.is_loopback() {
                match self.loopback.push_with((), frame_len) {
                    Ok(buf) => build(buf),
                    Err(_) => {
                        self.stats.ip.drop_no_buffer += 1;
                        return Err(SendError::NoBuffer);
                    }
                }
            } else {
                let Some((slot, buf)) = self.tx.reserve() else {
                    self.stats.ip.drop_no_buffer += 1;
                    return Err(SendError::NoBuffer);
                };
                build(&mut buf[..frame_len]);
                self.tx.commit(slot, eg.iface, frame_len, await_arp);
            }
            self.stats.ip.tx += 1;
            offset += len;
            if total == 0 {
                break;
            }
        }
        if nfrags > 1 {
            self.stats.ip.fragmented += 1;
            self.stats.ip.frags_tx += nfrags as u64;
        }
        Ok(())
    }
}

/// Whether a datagram with `payload_len` bytes of IP payload leaving
/// through `eg` needs no more fragments than there are frame slots.
pub fn fits_in_pool(eg: &Egress, payload_len: usize) -> bool {
    let mtu = eg.mtu.min(FRAME_SIZE - ETH_HDR);
    let frags = if payload_len + IP_HDR <= mtu {
        1
    } else {
        payload_len.div_ceil((mtu - IP_HDR) & !7)
    };
    let capacity = if eg.iface.is_loopback() {
        crate::config::LOOPBACK_FRAMES
    } else {
        crate::config::TX_FRAMES
    };
    frags <= capacity
}

/// Copies bytes `offset..offset + out.len()` of `a ++ b` into `out`.
fn copy_range(out: &mut [u8], a: &[u8], b: &[u8], offset: usize) {
    let mut written = 0;
    if offset < a.len() {
        let n = (a.len() - offset).min(out.len());
        out[..n].copy_from_slice(&a[offset..offset + n]);
        written = n;
    }
    let rest = out.len() - written;
    if rest > 0 {
        let start = (offset + written).saturating_sub(a.len());
        if let Some(src) = b.get(start..start + rest) {
            out[written..].copy_from_slice(src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::copy_range;

    #[test]
    fn copy_range_spans_both_parts() {
        let a = [1, 2, 3];
        let b = [4, 5, 6, 7];
        let mut out = [0; 4];
        copy_range(&mut out, &a, &b, 1);
        assert_eq!(out, [2, 3, 4, 5]);
        let mut out = [0; 2];
        copy_range(&mut out, &a, &b, 5);
        assert_eq!(out, [6, 7]);
        let mut out = [0; 3];
        copy_range(&mut out, &a, &b, 0);
        assert_eq!(out, [1, 2, 3]);
    }
}
