//! [`Stack`]: the object that owns everything, and the sans-IO loop.
//!
//! The caller drives it with three calls, or with [`Stack::poll`] that does
//! all three for one device:
//!
//! 1. [`Stack::receive`] one frame from a driver;
//! 2. [`Stack::dispatch`]: run timers, move queued socket data into frames,
//!    process the loopback queue;
//! 3. [`Stack::transmit`] the frames of one interface to its driver.
//!
//! [`Stack::poll_at`] then says when the stack next needs to run; nothing
//! needs a fixed tick.

use crate::addr::{Ipv4Addr, Ipv4Cidr};
use crate::config::{ConfigReport, FRAME_SIZE, LOOPBACK_FRAMES, RX_BUDGET};
use crate::dhcp::DhcpClients;
use crate::dns::DnsClient;
use crate::event::Events;
use crate::iface::route::{NextHop, Route, RouteError};
use crate::iface::tx_pool::Flushed;
use crate::iface::{Iface, IfaceConfig, IfaceError, IfaceId};
use crate::ip::reassembly::Reassembler;
use crate::ip::{Clients, Layers};
use crate::net::{Net, TX_RETRY};
use crate::phy::Device;
use crate::rand::{EntropySource, Random};
use crate::stats::Stats;
use crate::tcp::TcpSockets;
use crate::time::{earliest, Instant};
use crate::udp::UdpSockets;
use crate::wire::{ethernet, EtherType, EthernetAddress, EthernetFrame};

/// A complete IPv4 stack with all its buffers. It is large (see
/// [`crate::config::report`]): keep it in a `static` or on the heap of a
/// host program, not in a small task stack.
pub struct Stack {
    pub(crate) net: Net,
    pub(crate) reasm: Reassembler,
    pub(crate) udp: UdpSockets,
    pub(crate) tcp: TcpSockets,
    pub(crate) dhcp: DhcpClients,
    pub(crate) dns: DnsClient,
    pub(crate) events: Events,
    scratch: [u8; FRAME_SIZE],
}

impl Stack {
    /// A stack with only the loopback interface, keyed from the platform's
    /// entropy.
    pub fn new(entropy: &mut dyn EntropySource) -> Self {
        let mut rng = Random::new(entropy);
        let demux_seed = rng.next_u64();
        Stack {
            net: Net::new(rng),
            reasm: Reassembler::new(),
            udp: UdpSockets::new(),
            tcp: TcpSockets::new(demux_seed),
            dhcp: DhcpClients::new(),
            dns: DnsClient::new(),
            events: Events::new(),
            scratch: [0; FRAME_SIZE],
        }
    }

    fn layers(&mut self) -> (Layers<'_>, &mut [u8; FRAME_SIZE]) {
        (
            Layers {
                net: &mut self.net,
                reasm: &mut self.reasm,
                udp: &mut self.udp,
                tcp: &mut self.tcp,
                clients: Clients {
                    dhcp: &mut self.dhcp,
                    dns: &mut self.dns,
                    events: &mut self.events,
                },
            },
            &mut self.scratch,
        )
    }

    // ----- interfaces and routes -------------------------------------

    /// Adds an Ethernet interface; `TableFull` past `INTERFACES`.
    pub fn add_interface(&mut self, cfg: IfaceConfig) -> Result<IfaceId, IfaceError> {
        if cfg.mtu < crate::config::MIN_MTU || cfg.mtu > FRAME_SIZE - ethernet::HEADER_LEN {
            return Err(IfaceError::BadMtu);
        }
        if !cfg.mac.is_unicast() {
            return Err(IfaceError::BadMac);
        }
        let i = self
            .net
            .ifaces
            .iter()
            .position(|f| f.is_none())
            .ok_or(IfaceError::TableFull)?;
        self.net.ifaces[i] = Some(Iface::new(cfg));
        Ok(IfaceId(i as u8 + 1))
    }

    /// Removes an Ethernet interface with its routes and queued frames.
    pub fn remove_interface(&mut self, id: IfaceId) -> Result<(), IfaceError> {
        self.net.iface(id).ok_or(IfaceError::NoSuchInterface)?;
        self.dhcp.forget(id);
        self.dns.set_dhcp_servers(id, &[]);
        self.net.ifaces[usize::from(id.0) - 1] = None;
        self.net.routes.remove_iface(id);
        self.net.tx.drop_iface(id);
        self.net.tx_blocked &= !(1u64 << (id.0 % 64));
        Ok(())
    }

    /// Sets (or with `None` removes) the IPv4 address of an interface and
    /// announces it with a gratuitous ARP (RFC 5227 §2.3).
    pub fn set_ipv4(&mut self, id: IfaceId, addr: Option<Ipv4Cidr>) -> Result<(), IfaceError> {
        if let Some(a) = addr {
            let ip = a.address();
            if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || ip.is_loopback() {
                return Err(IfaceError::BadAddress);
            }
        }
        let f = self.net.iface_mut(id).ok_or(IfaceError::NoSuchInterface)?;
        f.addr = addr;
        if addr.is_some() {
            self.net.announce(id);
        }
        Ok(())
    }

    /// The IPv4 address of an interface (`127.0.0.1/8` for loopback).
    pub fn ipv4(&self, id: IfaceId) -> Option<Ipv4Cidr> {
        if id.is_loopback() {
            return Ipv4Cidr::new(Ipv4Addr::LOCALHOST, 8).ok();
        }
        self.net.iface(id)?.addr
    }

    /// The hardware address of an interface.
    pub fn mac(&self, id: IfaceId) -> Option<EthernetAddress> {
        self.net.iface(id).map(|f| f.mac)
    }

    /// The MTU of an interface.
    pub fn mtu(&self, id: IfaceId) -> Option<usize> {
        if id.is_loopback() {
            return Some(FRAME_SIZE - ethernet::HEADER_LEN);
        }
        self.net.iface(id).map(|f| f.mtu)
    }

    /// Adds a static route; `TableFull` past `ROUTES`.
    pub fn add_route(&mut self, route: Route) -> Result<(), RouteError> {
        let f = self
            .net
            .iface(route.iface)
            .ok_or(RouteError::NoSuchInterface)?;
        if let (Some(gw), Some(a)) = (route.gateway, f.addr) {
            if !a.contains(gw) {
                return Err(RouteError::GatewayUnreachable);
            }
        }
        self.net.routes.add(route)
    }

    /// Removes every static route to `dest`; returns how many.
    pub fn remove_route(&mut self, dest: Ipv4Cidr) -> usize {
        self.net.routes.remove(dest)
    }

    /// Replaces the default route with one through `gateway`, on the
    /// interface whose subnet holds it.
    pub fn set_default_gateway(&mut self, gateway: Ipv4Addr) -> Result<(), RouteError> {
        let iface = self
            .net
            .subnets()
            .find(|(_, c)| c.contains(gateway))
            .map(|(i, _)| i)
            .ok_or(RouteError::GatewayUnreachable)?;
        let default = Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, 0).map_err(|_| RouteError::Exists)?;
        self.net.routes.remove(default);
        self.net.routes.add(Route {
            dest: default,
            gateway: Some(gateway),
            iface,
            metric: 0,
        })
    }

    /// The static routes.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.net.routes.iter()
    }

    /// Where a datagram to `dst` would go (longest-prefix match over the
    /// connected and static routes).
    pub fn route_lookup(&self, dst: Ipv4Addr) -> Option<NextHop> {
        if self.net.is_local(dst) {
            return Some(NextHop {
                iface: IfaceId::LOOPBACK,
                via: dst,
            });
        }
        self.net.routes.lookup(dst, self.net.subnets())
    }

    /// The resolved ARP entries of an interface.
    pub fn arp_entries(
        &self,
        id: IfaceId,
    ) -> impl Iterator<Item = (Ipv4Addr, EthernetAddress)> + '_ {
        self.net.iface(id).into_iter().flat_map(|f| f.arp.entries())
    }

    /// The learned path MTU towards `dst`, if an ICMP message lowered it.
    pub fn path_mtu(&self, dst: Ipv4Addr, now: Instant) -> Option<usize> {
        self.net.pmtu.get(dst, now)
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.net.stats
    }

    // ----- the sans-IO loop -------------------------------------------

    /// Processes one received Ethernet frame.
    pub fn receive(&mut self, now: Instant, iface: IfaceId, frame: &[u8]) {
        self.net.clock = self.net.clock.max(now);
        let (mut layers, _) = self.layers();
        frame_input(&mut layers, now, iface, frame);
    }

    /// Tells the stack the current time without running anything. Calls
    /// that take no time of their own (the DNS cache check of
    /// [`Stack::dns_query`], [`Stack::dhcp_start`], the slot reclaim of
    /// `tcp_open`) use the latest time the stack was given; a caller that
    /// may have left the stack idle for a while (no `receive`, no
    /// `dispatch`) calls this first, so that such a call does not judge by
    /// an old clock (a cache entry long past its TTL would still be used).
    /// Time never goes back: an earlier `now` is ignored.
    pub fn advance_clock(&mut self, now: Instant) {
        self.net.clock = self.net.clock.max(now);
    }

    /// Runs the timers, turns queued socket data into frames and processes
    /// the loopback queue.
    pub fn dispatch(&mut self, now: Instant) {
        self.net.clock = self.net.clock.max(now);
        let e = self.reasm.expire(now);
        self.net.stats.ip.reasm_timeouts += e.timeouts;
        self.net.pmtu.expire(now);
        self.dhcp
            .dispatch(&mut self.net, &mut self.dns, &mut self.events, now);
        self.dns
            .dispatch(&mut self.net, &mut self.events, &self.udp, now);
        self.udp.dispatch(&mut self.net, now);
        self.tcp.dispatch(&mut self.net, now);
        self.net.arp_poll(now);
        // Loopback: bounded so that two local sockets bouncing datagrams
        // cannot keep the stack here forever.
        for _ in 0..2 * LOOPBACK_FRAMES {
            let Some(((), frame)) = self.net.loopback.pop() else {
                break;
            };
            let n = frame.len().min(FRAME_SIZE);
            self.scratch[..n].copy_from_slice(&frame[..n]);
            let (mut layers, scratch) = self.layers();
            frame_input(&mut layers, now, IfaceId::LOOPBACK, &scratch[..n]);
            // Replies to local traffic may have been queued by sockets.
            self.udp.dispatch(&mut self.net, now);
            self.tcp.dispatch(&mut self.net, now);
        }
    }

    /// Hands the queued frames of `iface` to its driver, oldest first, until
    /// the driver says busy.
    pub fn transmit(&mut self, now: Instant, iface: IfaceId, dev: &mut dyn Device) -> Flushed {
        let f = self.net.tx.flush(iface, now, dev);
        self.net.stats.eth.tx += f.sent as u64;
        if f.blocked {
            self.net.stats.eth.tx_busy += 1;
        }
        let bit = 1u64 << (iface.0 % 64);
        if f.blocked {
            self.net.tx_blocked |= bit;
        } else {
            self.net.tx_blocked &= !bit;
        }
        f
    }

    /// One full turn for one interface: receives up to `RX_BUDGET` frames
    /// from `dev`, dispatches, transmits; returns when the stack next
    /// needs to run (`None`: only when a frame arrives).
    pub fn poll(&mut self, now: Instant, iface: IfaceId, dev: &mut dyn Device) -> Option<Instant> {
        let mut drained = false;
        for _ in 0..RX_BUDGET {
            let Some(n) = dev.receive(now, &mut self.scratch[..]) else {
                drained = true;
                break;
            };
            if n > FRAME_SIZE {
                self.net.stats.eth.drop_oversize += 1;
                continue;
            }
            let (mut layers, scratch) = self.layers();
            frame_input(&mut layers, now, iface, &scratch[..n]);
            // Answers pile up in the frame slots while a burst is read
            // (64 SYNs want 64 SYN-ACKs): hand them to the driver before
            // the slots run out.
            if self.net.tx.free() < 2 {
                self.transmit(now, iface, dev);
            }
        }
        // Sending can free frame slots that queued socket data is waiting
        // for, so alternate a few times.
        for _ in 0..4 {
            self.dispatch(now);
            let f = self.transmit(now, iface, dev);
            if f.blocked || f.sent == 0 || !(self.udp.has_tx() || self.tcp_wants_now(now)) {
                break;
            }
        }
        if drained {
            self.poll_at(now)
        } else {
            // The budget ran out with frames possibly still waiting.
            Some(now)
        }
    }

    fn tcp_wants_now(&self, now: Instant) -> bool {
        self.tcp.may_want_now(now)
    }

    /// When the stack next needs to run, given nothing arrives before.
    pub fn poll_at(&self, now: Instant) -> Option<Instant> {
        let mut at = earliest(self.reasm.poll_at(), self.dhcp.poll_at());
        at = earliest(at, self.dns.poll_at());
        for (_, f) in self.net.ifaces() {
            at = earliest(at, f.arp.poll_at());
        }
        // Sockets waiting for frame slots can only progress once enough
        // are free (else a busy driver would make the caller spin).
        let slots = self.net.tx.free() >= self.net.tx_wanted.max(1);
        if !self.net.loopback.is_empty() || (self.udp.has_tx() && slots) {
            at = earliest(at, Some(now));
        }
        // TCP timers; its "now" (data or ACKs to send), or a deadline
        // already passed, counts only while a frame slot is free, for the
        // same reason (a delayed ACK due but without a slot would give a
        // time in the past turn after turn).
        let tcp_at = self.tcp.poll_at(now);
        if tcp_at.is_none_or(|t| t > now) || self.net.tx.free() > 0 {
            at = earliest(at, tcp_at);
        }
        for (id, _) in self.net.ifaces() {
            if self.net.tx.has_ready_on(id) {
                let retry = if self.net.tx_blocked & (1u64 << (id.0 % 64)) != 0 {
                    now + TX_RETRY
                } else {
                    now
                };
                at = earliest(at, Some(retry));
            }
        }
        at
    }
}

/// Ethernet demultiplexing.
fn frame_input(layers: &mut Layers<'_>, now: Instant, iface: IfaceId, frame: &[u8]) {
    let net = &mut *layers.net;
    net.stats.eth.rx += 1;
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        net.stats.eth.drop_truncated += 1;
        return;
    };
    let dst = eth.dst_addr();
    let link_broadcast = dst.is_broadcast();
    if !iface.is_loopback() {
        let Some(f) = net.iface(iface) else {
            net.stats.eth.drop_not_for_us += 1;
            return;
        };
        if dst != f.mac && !link_broadcast {
            net.stats.eth.drop_not_for_us += 1;
            return;
        }
    }
    match eth.ethertype() {
        EtherType::Arp if !iface.is_loopback() => {
            if let Some(arp) = net.arp_input(now, iface, eth.payload()) {
                layers.clients.dhcp.arp_seen(now, iface, &arp);
            }
        }
        EtherType::Ipv4 => layers.ipv4_input(now, iface, eth.payload(), link_broadcast),
        _ => net.stats.eth.drop_ethertype += 1,
    }
}

/// The memory report behind [`crate::config::report`].
pub(crate) fn memory_report() -> ConfigReport {
    use core::mem::size_of;
    ConfigReport {
        stack_bytes: size_of::<Stack>(),
        tx_frames_bytes: size_of::<crate::iface::tx_pool::TxPool>(),
        loopback_bytes: size_of::<crate::net::LoopbackRing>(),
        reassembly_bytes: size_of::<Reassembler>(),
        interfaces_bytes: size_of::<[Option<Iface>; crate::config::INTERFACES]>(),
        routes_bytes: size_of::<crate::iface::route::RouteTable>(),
        udp_bytes: size_of::<UdpSockets>(),
        tcp_bytes: size_of::<TcpSockets>(),
        tcp_socket_overhead: crate::tcp::SOCKET_OVERHEAD,
        udp_socket_overhead: crate::udp::SOCKET_OVERHEAD,
        dhcp_bytes: size_of::<DhcpClients>(),
        dns_bytes: size_of::<DnsClient>(),
    }
}
