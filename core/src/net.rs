//! The state every protocol layer shares: interfaces, routes, outgoing frame
//! slots, the loopback queue, the path-MTU cache, counters and randomness.
//! Sockets and reassembly buffers live beside it in [`crate::Stack`], so a
//! handler can borrow a reassembled datagram and still send through `Net`.

use crate::addr::{Ipv4Addr, Ipv4Cidr};
use crate::config::{
    ARP_REPLIES_PER_SEC, ARP_REPLY_BURST, FRAME_SIZE, ICMP_ERRORS_PER_SEC, ICMP_ERROR_BURST,
    INTERFACES, LOOPBACK_FRAMES, TCP_CHALLENGE_ACKS_PER_SEC, TCP_RST_BURST, TCP_RST_PER_SEC,
};
use crate::iface::route::RouteTable;
use crate::iface::tx_pool::TxPool;
use crate::iface::{Iface, IfaceId};
use crate::ip::pmtu::PmtuCache;
use crate::rand::Random;
use crate::rate_limit::{RandomQuota, RateLimit};
use crate::stats::Stats;
use crate::storage::PacketRing;
use crate::time::{Duration, Instant};

/// Loopback frames: Ethernet frames with zero addresses, stored whole.
pub(crate) type LoopbackRing =
    PacketRing<(), LOOPBACK_FRAMES, { (LOOPBACK_FRAMES + 1) * FRAME_SIZE }>;

/// Shared protocol state.
pub(crate) struct Net {
    pub ifaces: [Option<Iface>; INTERFACES],
    pub routes: RouteTable,
    pub tx: TxPool,
    pub loopback: LoopbackRing,
    pub pmtu: PmtuCache,
    pub stats: Stats,
    pub rng: Random,
    pub ip_ident: u16,
    /// ICMP errors we send (RFC 1812 §4.3.2.8).
    pub icmp_limit: RateLimit,
    /// RSTs in answer to segments for no connection.
    pub rst_limit: RateLimit,
    /// Challenge ACKs across all connections (RFC 5961 §7).
    pub challenge_limit: RandomQuota,
    /// ARP replies to requesters we do not know.
    pub arp_limit: RateLimit,
    /// Bit `n` is set when the driver of interface `n` refused a frame;
    /// the stack then asks to run again soon rather than at once.
    pub tx_blocked: u64,
    /// Frame slots the smallest datagram a socket could not queue needs
    /// (0: none waits). Until that many are free, waiting sockets are no
    /// reason to run again.
    pub tx_wanted: usize,
    /// The latest time the stack ran with (`receive`, `dispatch`): the
    /// time of work a call without a time of its own does (a `tcp_open`
    /// that resets a connection to reclaim its slot).
    pub clock: Instant,
}

/// How soon the stack retries a driver that said busy.
pub(crate) const TX_RETRY: Duration = Duration::from_millis(1);

impl Net {
    pub fn new(rng: Random) -> Self {
        let mut rng = rng;
        let ip_ident = rng.next_u32() as u16;
        Net {
            ifaces: [const { None }; INTERFACES],
            routes: RouteTable::new(),
            tx: TxPool::new(),
            loopback: LoopbackRing::new(),
            pmtu: PmtuCache::new(),
            stats: Stats::default(),
            rng,
            ip_ident,
            icmp_limit: RateLimit::new(ICMP_ERRORS_PER_SEC, ICMP_ERROR_BURST),
            rst_limit: RateLimit::new(TCP_RST_PER_SEC, TCP_RST_BURST),
            challenge_limit: RandomQuota::new(TCP_CHALLENGE_ACKS_PER_SEC),
            arp_limit: RateLimit::new(ARP_REPLIES_PER_SEC, ARP_REPLY_BURST),
            tx_blocked: 0,
            tx_wanted: 0,
            clock: Instant::ZERO,
        }
    }

    /// The Ethernet interface behind `id`.
    pub fn iface(&self, id: IfaceId) -> Option<&Iface> {
        if id.is_loopback() {
            return None;
        }
        self.ifaces.get(usize::from(id.0) - 1)?.as_ref()
    }

    /// The Ethernet interface behind `id`, mutably.
    pub fn iface_mut(&mut self, id: IfaceId) -> Option<&mut Iface> {
        if id.is_loopback() {
            return None;
        }
        self.ifaces.get_mut(usize::from(id.0) - 1)?.as_mut()
    }

    /// Every Ethernet interface with its id.
    pub fn ifaces(&self) -> impl Iterator<Item = (IfaceId, &Iface)> {
        self.ifaces
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (IfaceId(i as u8 + 1), f)))
    }

    /// The connected subnets, for route lookups.
    pub fn subnets(&self) -> impl Iterator<Item = (IfaceId, Ipv4Cidr)> + '_ {
        self.ifaces().filter_map(|(id, f)| f.addr.map(|a| (id, a)))
    }

    /// Whether `ip` is one of our unicast addresses (loopback range
    /// included).
    pub fn is_local(&self, ip: Ipv4Addr) -> bool {
        ip.is_loopback()
            || self
                .ifaces()
                .any(|(_, f)| f.addr.is_some_and(|a| a.address() == ip))
    }

    /// Whether a datagram to `dst` arriving on `iface` is for us: one of our
    /// addresses (the weak host model of RFC 1122 §3.3.4.2, as Linux), the
    /// limited broadcast, or the directed broadcast of the interface.
    pub fn accepts(&self, iface: IfaceId, dst: Ipv4Addr) -> bool {
        if iface.is_loopback() {
            return dst.is_loopback() || self.is_local(dst);
        }
        if dst.is_loopback() {
            // RFC 1122 §3.2.1.3: 127/8 must never appear on a wire.
            return false;
        }
        if dst.is_broadcast() {
            return true;
        }
        if let Some(a) = self.iface(iface).and_then(|f| f.addr) {
            if a.broadcast() == Some(dst) {
                return true;
            }
        }
        self.ifaces()
            .any(|(_, f)| f.addr.is_some_and(|a| a.address() == dst))
    }

    /// Whether no datagram arriving on `iface` may come from `src`
    /// (RFC 1122 §3.2.1.3: "a host MUST silently discard an incoming
    /// datagram containing an IP source address that is invalid"): a
    /// broadcast, multicast or class E address, a loopback address on a
    /// wire, or the directed broadcast `{<net>, -1}` of one of our subnets.
    /// One of our own addresses arriving on a wire is dropped too: nobody
    /// else may use it, and answering it would talk to ourselves (the LAND
    /// attack; RFC 1812 §5.3.7 has routers drop such "martians", and Linux
    /// does the same for hosts). Traffic to ourselves uses the loopback
    /// interface.
    pub fn is_invalid_source(&self, iface: IfaceId, src: Ipv4Addr) -> bool {
        crate::addr::is_martian_source(src)
            || (!iface.is_loopback() && src.is_loopback())
            || self.subnets().any(|(_, c)| {
                c.broadcast() == Some(src) || (!iface.is_loopback() && c.address() == src)
            })
    }

    /// A fresh IP identification value (RFC 791 §3.2; RFC 6864 §4.1 only
    /// needs uniqueness per source, destination and protocol within the
    /// datagram lifetime, which a counter from a random start gives).
    pub fn next_ident(&mut self) -> u16 {
        self.ip_ident = self.ip_ident.wrapping_add(1);
        self.ip_ident
    }
}
