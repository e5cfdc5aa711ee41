//! UDP (RFC 768): sockets with bind, connect, send_to and recv_from over
//! per-socket queues of whole datagrams in fixed storage.
//!
//! Sending queues the datagram in the socket; the stack's next `poll`
//! routes it, computes the checksum and fragments it if needed. Receiving
//! verifies the checksum and queues the datagram in the best-matching
//! socket: connected sockets before bound ones before wildcard ones. A
//! datagram for a port nobody holds is answered with an ICMP port
//! unreachable (rate limited).

use crate::addr::{Ipv4Addr, SocketAddrV4};
use crate::config::{
    UDP_RX_BUFFER, UDP_RX_DATAGRAMS, UDP_SOCKETS, UDP_TX_BUFFER, UDP_TX_DATAGRAMS,
};
use crate::icmp::Received;
use crate::ip::output::{IpMeta, SendError};
use crate::net::Net;
use crate::storage::PacketRing;
use crate::time::Instant;
use crate::wire::{DstUnreachable, IpProtocol, UdpPacket, UdpRepr};
use crate::Stack;

/// First port of the dynamic range handed out to unbound sockets
/// (RFC 6335 §6: 49152-65535).
pub const EPHEMERAL_FIRST: u16 = 49152;

/// Largest UDP payload in one IPv4 datagram.
pub const MAX_PAYLOAD: usize = 65535 - 20 - 8;

/// Names a UDP socket. Stale handles (of a closed socket whose slot was
/// reused) are detected through a generation counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpHandle {
    index: u8,
    generation: u16,
}

impl UdpHandle {
    /// The slot number, for tables indexed by socket.
    pub fn index(self) -> usize {
        usize::from(self.index)
    }
}

/// Errors of [`Stack::udp_open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpOpenError {
    /// All `UDP_SOCKETS` are open.
    NoSocketsLeft,
}

/// Errors of [`Stack::udp_bind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpBindError {
    /// The handle names no open socket.
    BadHandle,
    /// The socket is already bound.
    AlreadyBound,
    /// Another socket holds this address and port.
    AddrInUse,
    /// The address is not one of ours.
    AddrNotAvailable,
    /// Every ephemeral port is taken.
    NoPortsLeft,
}

/// Errors of [`Stack::udp_connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpConnectError {
    /// The handle names no open socket.
    BadHandle,
    /// No route to the peer.
    NoRoute,
    /// A multicast peer (not supported). Port 0 is accepted, as on Linux.
    BadAddress,
    /// Every ephemeral port is taken.
    NoPortsLeft,
}

/// Errors of [`Stack::udp_send_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpSendError {
    /// The handle names no open socket.
    BadHandle,
    /// No destination given and the socket is not connected.
    DestinationRequired,
    /// No route to the destination.
    NoRoute,
    /// Larger than the socket's send buffer or than IPv4 allows.
    TooBig,
    /// The send queue is full; retry after the stack has run.
    WouldBlock,
    /// Every ephemeral port is taken (for an unbound socket).
    NoPortsLeft,
    /// Port 0 or an unusable destination address.
    BadAddress,
}

/// Errors of [`Stack::udp_recv_from`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpRecvError {
    /// The handle names no open socket.
    BadHandle,
    /// No datagram is waiting.
    WouldBlock,
    /// An ICMP error arrived for a datagram this connected socket sent
    /// (reported once, as Linux does).
    Unreachable(DstUnreachable),
}

/// A received datagram's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpMeta {
    /// Who sent it.
    pub from: SocketAddrV4,
    /// The address it was sent to (one of ours, or a broadcast).
    pub to: Ipv4Addr,
    /// The datagram's full length; more than the bytes returned when the
    /// caller's buffer was shorter (the rest is discarded, as with
    /// `recvfrom` on Linux).
    pub len: usize,
}

#[derive(Debug, Clone, Copy)]
struct RxMeta {
    from: SocketAddrV4,
    to: Ipv4Addr,
}

struct UdpSocket {
    generation: u16,
    open: bool,
    /// The local address: as bound, with the route's source address in
    /// place of 0.0.0.0 while connected (Linux sets `inet_saddr`).
    local: Option<SocketAddrV4>,
    /// The peer; port 0 matches datagrams from any port of its address.
    remote: Option<SocketAddrV4>,
    /// `SO_REUSEADDR`.
    reuse_addr: bool,
    /// The application bound a specific address (Linux's
    /// `SOCK_BINDADDR_LOCK`): dissolving the association keeps it.
    addr_locked: bool,
    /// The application bound a port other than 0 (`SOCK_BINDPORT_LOCK`):
    /// dissolving the association keeps it.
    port_locked: bool,
    ttl: u8,
    error: Option<DstUnreachable>,
    rx: PacketRing<RxMeta, UDP_RX_DATAGRAMS, UDP_RX_BUFFER>,
    tx: PacketRing<SocketAddrV4, UDP_TX_DATAGRAMS, UDP_TX_BUFFER>,
}

impl UdpSocket {
    /// Back to [`UdpSocket::CLOSED`], open, with `generation`, without
    /// writing the queues' storage (assigning `CLOSED` would rewrite
    /// both); their bookkeeping is emptied. Every field is named, so a new
    /// one cannot be forgotten here.
    fn reopen(&mut self, generation: u16) {
        let UdpSocket {
            generation: g,
            open,
            local,
            remote,
            reuse_addr,
            addr_locked,
            port_locked,
            ttl,
            error,
            rx,
            tx,
        } = self;
        *g = generation;
        *open = true;
        *local = None;
        *remote = None;
        *reuse_addr = false;
        *addr_locked = false;
        *port_locked = false;
        *ttl = crate::config::IP_TTL as u8;
        *error = None;
        rx.clear();
        tx.clear();
    }

    const CLOSED: UdpSocket = UdpSocket {
        generation: 0,
        open: false,
        local: None,
        remote: None,
        reuse_addr: false,
        addr_locked: false,
        port_locked: false,
        ttl: crate::config::IP_TTL as u8,
        error: None,
        rx: PacketRing::new(),
        tx: PacketRing::new(),
    };
}

/// The UDP sockets of a stack.
pub(crate) struct UdpSockets {
    sockets: [UdpSocket; UDP_SOCKETS],
    /// Bit `i`: socket `i` may have datagrams to send. Set by every send,
    /// cleared by [`UdpSockets::dispatch`] once the socket's queue is found
    /// empty, so an idle turn looks at no socket at all.
    may_send: [u64; SEND_WORDS],
}

/// Words of [`UdpSockets::may_send`].
const SEND_WORDS: usize = UDP_SOCKETS.div_ceil(64);

impl Default for UdpSockets {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes one socket takes without its queues (for the configuration report).
pub(crate) const SOCKET_OVERHEAD: usize = core::mem::size_of::<UdpSocket>()
    - core::mem::size_of::<PacketRing<RxMeta, UDP_RX_DATAGRAMS, UDP_RX_BUFFER>>()
    - core::mem::size_of::<PacketRing<SocketAddrV4, UDP_TX_DATAGRAMS, UDP_TX_BUFFER>>();

/// How well socket `s` matches a datagram from `from` to `to` (higher is
/// better: a connected peer, then a specific address), `None` if not.
fn match_score(s: &UdpSocket, from: SocketAddrV4, to: SocketAddrV4) -> Option<u8> {
    let l = s.local?;
    if l.port() != to.port() {
        return None;
    }
    let addr_score = if l.ip().is_unspecified() {
        1
    } else if *l.ip() == *to.ip() {
        2
    } else {
        return None;
    };
    match s.remote {
        Some(r) if r.ip() == from.ip() && (r.port() == 0 || r.port() == from.port()) => {
            Some(addr_score + 4)
        }
        Some(_) => None,
        None => Some(addr_score),
    }
}

/// Queues a received datagram in socket `s`, counting it.
fn queue(net: &mut Net, s: &mut UdpSocket, from: SocketAddrV4, to: SocketAddrV4, data: &[u8]) {
    if s.rx.push(RxMeta { from, to: *to.ip() }, data).is_err() {
        net.stats.udp.drop_queue_full += 1;
    } else {
        net.stats.udp.rx += 1;
    }
}

impl UdpSockets {
    /// No socket open.
    pub const fn new() -> Self {
        UdpSockets {
            sockets: [UdpSocket::CLOSED; UDP_SOCKETS],
            may_send: [0; SEND_WORDS],
        }
    }

    fn get(&mut self, h: UdpHandle) -> Option<&mut UdpSocket> {
        self.sockets
            .get_mut(usize::from(h.index))
            .filter(|s| s.open && s.generation == h.generation)
    }

    /// Whether another socket holds `port` on an address overlapping
    /// `addr` (equal, or either is 0.0.0.0), unless both it and the
    /// binding socket (`reuse`) have `SO_REUSEADDR` (Linux's
    /// `udp_lib_lport_inuse`).
    fn port_taken(&self, addr: Ipv4Addr, port: u16, reuse: bool) -> bool {
        self.sockets
            .iter()
            .filter(|s| s.open && !(reuse && s.reuse_addr))
            .filter_map(|s| s.local)
            .any(|l| {
                l.port() == port
                    && (l.ip().is_unspecified() || addr.is_unspecified() || *l.ip() == addr)
            })
    }

    /// Sockets open.
    pub(crate) fn open_count(&self) -> usize {
        self.sockets.iter().filter(|s| s.open).count()
    }

    /// Whether any open socket holds `port` on any address (the DNS
    /// resolver avoids such ports for its queries).
    pub(crate) fn port_in_use(&self, port: u16) -> bool {
        self.sockets
            .iter()
            .filter(|s| s.open)
            .filter_map(|s| s.local)
            .any(|l| l.port() == port)
    }

    /// RFC 6056 §3.3.1 (Algorithm 1): a random start in the dynamic range,
    /// then the next free port.
    fn ephemeral(&self, net: &mut Net, addr: Ipv4Addr) -> Option<u16> {
        let count = u32::from(u16::MAX - EPHEMERAL_FIRST) + 1;
        let start = net.rng.below(count);
        (0..count)
            .map(|i| EPHEMERAL_FIRST + ((start + i) % count) as u16)
            .find(|&p| !self.port_taken(addr, p, false))
    }

    /// Socket `i` queued a datagram: the next dispatch looks at it.
    fn mark_sending(&mut self, i: usize) {
        if let Some(m) = self.may_send.get_mut(i / 64) {
            *m |= 1 << (i % 64);
        }
    }

    /// Any datagrams waiting to be sent.
    pub fn has_tx(&self) -> bool {
        self.may_send.iter().any(|&w| w != 0)
            && self.sockets.iter().any(|s| s.open && !s.tx.is_empty())
    }

    /// Records an ICMP error about a datagram we sent from `src:sport` to
    /// `dst:dport`; only a socket connected to that peer is told, as on
    /// Linux (an unconnected socket cannot know which send it concerns).
    pub(crate) fn icmp_error(
        &mut self,
        src: Ipv4Addr,
        sport: u16,
        dst: Ipv4Addr,
        dport: u16,
        reason: DstUnreachable,
    ) {
        for s in self.sockets.iter_mut().filter(|s| s.open) {
            let local_ok = s
                .local
                .is_some_and(|l| l.port() == sport && (l.ip().is_unspecified() || *l.ip() == src));
            if local_ok && s.remote == Some(SocketAddrV4::new(dst, dport)) {
                s.error = Some(reason);
            }
        }
    }

    /// Queues a received datagram in the best-matching socket, or with
    /// `every` (a broadcast) in every matching socket, as Linux does for
    /// sockets sharing a port through `SO_REUSEADDR`. Returns false if no
    /// socket holds the port.
    fn deliver(
        &mut self,
        net: &mut Net,
        from: SocketAddrV4,
        to: SocketAddrV4,
        data: &[u8],
        every: bool,
    ) -> bool {
        if every {
            let mut any = false;
            for s in self.sockets.iter_mut().filter(|s| s.open) {
                if match_score(s, from, to).is_some() {
                    any = true;
                    queue(net, s, from, to, data);
                }
            }
            return any;
        }
        let mut best: Option<(u8, usize)> = None;
        for (i, s) in self.sockets.iter().enumerate().filter(|(_, s)| s.open) {
            let Some(score) = match_score(s, from, to) else {
                continue;
            };
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, i));
            }
        }
        let Some((_, i)) = best else { return false };
        queue(net, &mut self.sockets[i], from, to, data);
        true
    }

    /// Routes and sends queued datagrams. Stops early when the frame slots
    /// run out; the rest waits for the next run.
    pub(crate) fn dispatch(&mut self, net: &mut Net, now: Instant) {
        net.tx_wanted = 0;
        for w in 0..SEND_WORDS {
            let mut bits = self.may_send.get(w).copied().unwrap_or(0);
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.send_queued(w * 64 + k, net, now);
            }
        }
    }

    /// Sends what socket `i` has queued, until the frame slots run out;
    /// forgets the socket once its queue is empty.
    fn send_queued(&mut self, i: usize, net: &mut Net, now: Instant) {
        let Some(s) = self.sockets.get_mut(i) else {
            return;
        };
        if s.open {
            while let Some((&to, data)) = s.tx.peek() {
                let local = s
                    .local
                    .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
                let src_hint =
                    Some(*local.ip()).filter(|a| !a.is_unspecified() && !a.is_broadcast());
                let result = net.route(*to.ip(), src_hint, None, now).and_then(|eg| {
                    let repr = UdpRepr {
                        src_port: local.port(),
                        dst_port: to.port(),
                    };
                    let header = repr.header_bytes(eg.src, *to.ip(), data);
                    let meta = IpMeta {
                        protocol: IpProtocol::Udp,
                        ttl: s.ttl,
                        tos: 0,
                        dont_frag: false,
                    };
                    net.send_ip(now, &eg, *to.ip(), meta, &header, data)
                });
                match result {
                    Ok(()) => net.stats.udp.tx += 1,
                    // No frame slot now: this socket waits, the others
                    // still get their turn.
                    Err(SendError::NoBuffer) => break,
                    Err(SendError::NoRoute) => net.stats.ip.drop_no_route += 1,
                    Err(_) => {}
                }
                s.tx.pop();
            }
        }
        if !s.open || s.tx.is_empty() {
            if let Some(m) = self.may_send.get_mut(i / 64) {
                *m &= !(1 << (i % 64));
            }
        }
    }
}

impl Net {
    /// Handles a UDP datagram addressed to us.
    pub(crate) fn udp_input(
        &mut self,
        rx: &Received,
        payload: &[u8],
        udp: &mut UdpSockets,
        clients: crate::ip::Clients<'_>,
        now: Instant,
    ) {
        let (src, dst) = (rx.ip.src_addr, rx.ip.dst_addr);
        let packet = match UdpPacket::new_checked(payload) {
            Ok(p) => p,
            Err(_) => {
                self.stats.udp.drop_malformed += 1;
                return;
            }
        };
        let repr = match UdpRepr::parse(&packet, src, dst) {
            Ok(r) => r,
            Err(crate::wire::Error::Checksum) => {
                self.stats.udp.drop_checksum += 1;
                return;
            }
            Err(_) => {
                self.stats.udp.drop_malformed += 1;
                return;
            }
        };
        let from = SocketAddrV4::new(src, repr.src_port);
        let to = SocketAddrV4::new(dst, repr.dst_port);
        // The stack's own clients come before the sockets: a running DHCP
        // client owns port 68 of its interface, the resolver the ports of
        // its queries in flight.
        let crate::ip::Clients { dhcp, dns, events } = clients;
        if repr.src_port == crate::wire::dhcp::SERVER_PORT
            && repr.dst_port == crate::wire::dhcp::CLIENT_PORT
            && dhcp.is_running(rx.iface)
        {
            dhcp.input(self, dns, events, now, rx.iface, packet.payload());
            return;
        }
        if repr.src_port == 53 && dns.input(self, events, now, from, to, packet.payload()) {
            return;
        }
        let every = rx.broadcast && !self.is_local(dst);
        if !udp.deliver(self, from, to, packet.payload(), every) {
            self.stats.udp.drop_no_socket += 1;
            // RFC 1122 §4.1.3.1: port unreachable for a closed port.
            self.send_unreachable(now, rx, DstUnreachable::PortUnreachable, payload);
        }
    }
}

impl Stack {
    /// Opens a UDP socket.
    pub fn udp_open(&mut self) -> Result<UdpHandle, UdpOpenError> {
        let (i, s) = self
            .udp
            .sockets
            .iter_mut()
            .enumerate()
            .find(|(_, s)| !s.open)
            .ok_or(UdpOpenError::NoSocketsLeft)?;
        let generation = s.generation.wrapping_add(1);
        s.reopen(generation);
        Ok(UdpHandle {
            index: i as u8,
            generation,
        })
    }

    /// Closes a UDP socket, dropping its queued datagrams.
    pub fn udp_close(&mut self, h: UdpHandle) {
        if let Some(s) = self.udp.get(h) {
            s.open = false;
            s.rx.clear();
            s.tx.clear();
        }
    }

    /// Binds a socket to a local address and port. Port 0 picks a random
    /// free port from the dynamic range (RFC 6056); address 0.0.0.0 binds
    /// every local address. A port another socket holds on an overlapping
    /// address is `AddrInUse` unless both have `SO_REUSEADDR`
    /// ([`Stack::udp_set_reuse_addr`]), as on Linux.
    pub fn udp_bind(
        &mut self,
        h: UdpHandle,
        local: SocketAddrV4,
    ) -> Result<SocketAddrV4, UdpBindError> {
        let ip = *local.ip();
        if !(ip.is_unspecified() || ip.is_broadcast() || self.net.is_local(ip)) {
            return Err(UdpBindError::AddrNotAvailable);
        }
        let s = self.udp.get(h).ok_or(UdpBindError::BadHandle)?;
        if s.local.is_some() {
            return Err(UdpBindError::AlreadyBound);
        }
        let reuse = s.reuse_addr;
        let port = if local.port() == 0 {
            self.udp
                .ephemeral(&mut self.net, ip)
                .ok_or(UdpBindError::NoPortsLeft)?
        } else if self.udp.port_taken(ip, local.port(), reuse) {
            return Err(UdpBindError::AddrInUse);
        } else {
            local.port()
        };
        let bound = SocketAddrV4::new(ip, port);
        if let Some(s) = self.udp.get(h) {
            s.local = Some(bound);
            s.addr_locked = !ip.is_unspecified();
            s.port_locked = local.port() != 0;
        }
        Ok(bound)
    }

    fn udp_autobind(&mut self, h: UdpHandle) -> Result<(), UdpSendError> {
        let bound = self
            .udp
            .get(h)
            .ok_or(UdpSendError::BadHandle)?
            .local
            .is_some();
        if !bound {
            self.udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
                .map_err(|e| match e {
                    UdpBindError::NoPortsLeft => UdpSendError::NoPortsLeft,
                    _ => UdpSendError::BadHandle,
                })?;
        }
        Ok(())
    }

    /// Fixes the peer: `send` without an address goes there, and only its
    /// datagrams are received. Binds an ephemeral port first if needed; a
    /// socket bound to 0.0.0.0 takes the route's source address as its
    /// local address (what `udp_local_addr` reports, as Linux's
    /// `getsockname` after connect). Port 0 is accepted as on Linux: sends
    /// go to port 0, datagrams from any port of the peer's address are
    /// received.
    ///
    /// `None` dissolves the association (`connect(AF_UNSPEC)`): the local
    /// address returns to what was bound (0.0.0.0 unless a specific one
    /// was), and a port the stack chose is released.
    pub fn udp_connect(
        &mut self,
        h: UdpHandle,
        remote: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<(), UdpConnectError> {
        let Some(remote) = remote else {
            let s = self.udp.get(h).ok_or(UdpConnectError::BadHandle)?;
            s.remote = None;
            s.local = match s.local {
                Some(l) if s.port_locked => {
                    let ip = if s.addr_locked {
                        *l.ip()
                    } else {
                        Ipv4Addr::UNSPECIFIED
                    };
                    Some(SocketAddrV4::new(ip, l.port()))
                }
                // A bound address keeps the port it was bound with.
                Some(l) if s.addr_locked => Some(l),
                _ => None,
            };
            return Ok(());
        };
        if remote.ip().is_multicast() {
            return Err(UdpConnectError::BadAddress);
        }
        // Linux: 0.0.0.0 as destination means this host.
        let remote = if remote.ip().is_unspecified() {
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, remote.port())
        } else {
            remote
        };
        let local = self.udp.get(h).ok_or(UdpConnectError::BadHandle)?.local;
        let src = local.map(|l| *l.ip()).filter(|a| !a.is_unspecified());
        let eg = self
            .net
            .route(*remote.ip(), src, None, now)
            .map_err(|_| UdpConnectError::NoRoute)?;
        self.udp_autobind(h).map_err(|e| match e {
            UdpSendError::NoPortsLeft => UdpConnectError::NoPortsLeft,
            _ => UdpConnectError::BadHandle,
        })?;
        let s = self.udp.get(h).ok_or(UdpConnectError::BadHandle)?;
        if let Some(l) = s.local.filter(|l| l.ip().is_unspecified()) {
            s.local = Some(SocketAddrV4::new(eg.src, l.port()));
        }
        s.remote = Some(remote);
        s.error = None;
        Ok(())
    }

    /// Queues one datagram to `to`, or to the connected peer when `to` is
    /// `None`. Returns the number of bytes queued (all of `data`).
    pub fn udp_send_to(
        &mut self,
        h: UdpHandle,
        data: &[u8],
        to: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<usize, UdpSendError> {
        let s = self.udp.get(h).ok_or(UdpSendError::BadHandle)?;
        // Linux: port 0 is refused as a `sendto` address (EINVAL) but a
        // socket connected to port 0 sends there.
        if to.is_some_and(|t| t.port() == 0) {
            return Err(UdpSendError::BadAddress);
        }
        let to = to.or(s.remote).ok_or(UdpSendError::DestinationRequired)?;
        if data.len() > MAX_PAYLOAD || data.len() > UDP_TX_BUFFER {
            return Err(UdpSendError::TooBig);
        }
        if to.ip().is_multicast() {
            return Err(UdpSendError::BadAddress);
        }
        let to = if to.ip().is_unspecified() {
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, to.port())
        } else {
            to
        };
        if !s.tx.can_push(data.len()) {
            return Err(UdpSendError::WouldBlock);
        }
        let src = s.local.map(|l| *l.ip()).filter(|a| !a.is_unspecified());
        let eg = self
            .net
            .route(*to.ip(), src, None, now)
            .map_err(|_| UdpSendError::NoRoute)?;
        if !crate::ip::output::fits_in_pool(&eg, crate::wire::udp::HEADER_LEN + data.len()) {
            return Err(UdpSendError::TooBig);
        }
        self.udp_autobind(h)?;
        let s = self.udp.get(h).ok_or(UdpSendError::BadHandle)?;
        s.tx.push(to, data).map_err(|_| UdpSendError::WouldBlock)?;
        self.udp.mark_sending(h.index());
        // A new datagram may need fewer slots than the ones already waiting.
        self.net.tx_wanted = 0;
        Ok(data.len())
    }

    /// Takes the oldest received datagram, copying as much as fits in
    /// `buf`.
    pub fn udp_recv_from(
        &mut self,
        h: UdpHandle,
        buf: &mut [u8],
    ) -> Result<(usize, UdpMeta), UdpRecvError> {
        self.udp_read(h, buf, false)
    }

    /// Copies the oldest received datagram without taking it (`MSG_PEEK`).
    pub fn udp_peek_from(
        &mut self,
        h: UdpHandle,
        buf: &mut [u8],
    ) -> Result<(usize, UdpMeta), UdpRecvError> {
        self.udp_read(h, buf, true)
    }

    fn udp_read(
        &mut self,
        h: UdpHandle,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<(usize, UdpMeta), UdpRecvError> {
        let s = self.udp.get(h).ok_or(UdpRecvError::BadHandle)?;
        if let Some(e) = s.error.take() {
            return Err(UdpRecvError::Unreachable(e));
        }
        let (meta, data) = if peek {
            let (m, d) = s.rx.peek().ok_or(UdpRecvError::WouldBlock)?;
            (*m, d)
        } else {
            s.rx.pop().ok_or(UdpRecvError::WouldBlock)?
        };
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok((
            n,
            UdpMeta {
                from: meta.from,
                to: meta.to,
                len: data.len(),
            },
        ))
    }

    /// Whether a datagram (or a pending error) is waiting.
    pub fn udp_can_recv(&mut self, h: UdpHandle) -> bool {
        self.udp
            .get(h)
            .is_some_and(|s| s.error.is_some() || !s.rx.is_empty())
    }

    /// The pending ICMP error of a connected socket, left in place (for
    /// `poll`'s POLLERR).
    pub fn udp_pending_error(&mut self, h: UdpHandle) -> Option<DstUnreachable> {
        self.udp.get(h).and_then(|s| s.error)
    }

    /// Whether a datagram is waiting (errors aside).
    pub fn udp_has_datagram(&mut self, h: UdpHandle) -> bool {
        self.udp.get(h).is_some_and(|s| !s.rx.is_empty())
    }

    /// Whether a datagram of `len` bytes can be queued now.
    pub fn udp_can_send(&mut self, h: UdpHandle, len: usize) -> bool {
        self.udp.get(h).is_some_and(|s| s.tx.can_push(len))
    }

    /// The local address, if bound: as bound, or with the route's source
    /// address in place of 0.0.0.0 while connected (`getsockname`).
    pub fn udp_local_addr(&mut self, h: UdpHandle) -> Option<SocketAddrV4> {
        self.udp.get(h).and_then(|s| s.local)
    }

    /// The connected peer, if any (its port may be 0: Linux's
    /// `getpeername` then says ENOTCONN although the socket is connected).
    pub fn udp_peer_addr(&mut self, h: UdpHandle) -> Option<SocketAddrV4> {
        self.udp.get(h).and_then(|s| s.remote)
    }

    /// Sets `SO_REUSEADDR`: with it on both sockets, two sockets may bind
    /// the same port on overlapping addresses (Linux). A unicast datagram
    /// goes to one of them (the best match, as always).
    pub fn udp_set_reuse_addr(&mut self, h: UdpHandle, on: bool) -> Result<(), UdpSendError> {
        let s = self.udp.get(h).ok_or(UdpSendError::BadHandle)?;
        s.reuse_addr = on;
        Ok(())
    }

    /// Whether `SO_REUSEADDR` is set (false for a stale handle).
    pub fn udp_reuse_addr(&mut self, h: UdpHandle) -> bool {
        self.udp.get(h).is_some_and(|s| s.reuse_addr)
    }

    /// Sets the TTL of the socket's outgoing datagrams.
    pub fn udp_set_ttl(&mut self, h: UdpHandle, ttl: u8) -> Result<(), UdpSendError> {
        let s = self.udp.get(h).ok_or(UdpSendError::BadHandle)?;
        s.ttl = ttl.max(1);
        Ok(())
    }

    /// Takes the pending ICMP error of a connected socket (`SO_ERROR`
    /// consumes it, as on Linux).
    pub fn udp_take_error(&mut self, h: UdpHandle) -> Option<DstUnreachable> {
        self.udp.get(h).and_then(|s| s.error.take())
    }
}
