//! How full each of the stack's fixed tables is right now: the tables an
//! outsider can fill (ARP, reassembly, SYN and accept queues, TIME-WAIT,
//! DNS) and the ones the application fills (sockets, frame slots). Read it
//! with [`crate::Stack::occupancy`]; tests compare it before and after an
//! attack to show that every table went back to its idle size.

use core::fmt;

use crate::config::{
    ARP_ENTRIES, ARP_PENDING, DNS_CACHE_ENTRIES, DNS_QUERIES, EVENTS, INTERFACES, PMTU_ENTRIES,
    REASM_BUFFERS, TCP_SOCKETS, TCP_SYN_BACKLOG, TX_FRAMES, UDP_SOCKETS,
};
use crate::stack::Stack;
use crate::tcp::TcpState;

/// Entries in use in each table, and each table's capacity
/// ([`Occupancy::CAPACITY`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    /// ARP cache entries, all interfaces (resolved or not).
    pub arp_entries: usize,
    /// ARP cache entries still waiting for a reply.
    pub arp_incomplete: usize,
    /// Frame slots in use (being sent or waiting for ARP).
    pub tx_frames: usize,
    /// Frame slots waiting for ARP to resolve their next hop.
    pub tx_awaiting_arp: usize,
    /// Frames queued on the loopback interface.
    pub loopback_frames: usize,
    /// Reassembly buffers in use (collecting or absorbing fragments).
    pub reassembly: usize,
    /// Path-MTU cache entries.
    pub pmtu_entries: usize,
    /// Half-open connections in the SYN queue.
    pub tcp_syn_queue: usize,
    /// TCP socket slots in use, whatever their state.
    pub tcp_sockets: usize,
    /// Listening sockets.
    pub tcp_listening: usize,
    /// Connections established by a listener and not accepted yet.
    pub tcp_accept_queue: usize,
    /// Connections in TIME-WAIT.
    pub tcp_time_wait: usize,
    /// Sockets the application closed while the stack finishes the
    /// connection (FIN exchange, TIME-WAIT).
    pub tcp_orphaned: usize,
    /// UDP sockets open.
    pub udp_sockets: usize,
    /// DNS queries in flight or finished and not read.
    pub dns_queries: usize,
    /// DNS cache entries.
    pub dns_cache: usize,
    /// Events not read yet.
    pub events: usize,
}

impl Occupancy {
    /// The capacity of each table in this build (`tx_awaiting_arp` is
    /// bounded by `ARP_PENDING`, `arp_incomplete` by the cache,
    /// `tcp_accept_queue`, `tcp_time_wait` and `tcp_orphaned` by the
    /// sockets).
    pub const CAPACITY: Occupancy = Occupancy {
        arp_entries: ARP_ENTRIES * INTERFACES,
        arp_incomplete: ARP_ENTRIES * INTERFACES,
        tx_frames: TX_FRAMES,
        tx_awaiting_arp: ARP_PENDING,
        loopback_frames: crate::config::LOOPBACK_FRAMES,
        reassembly: REASM_BUFFERS,
        pmtu_entries: PMTU_ENTRIES,
        tcp_syn_queue: TCP_SYN_BACKLOG,
        tcp_sockets: TCP_SOCKETS,
        tcp_listening: TCP_SOCKETS,
        tcp_accept_queue: TCP_SOCKETS,
        tcp_time_wait: TCP_SOCKETS,
        tcp_orphaned: TCP_SOCKETS,
        udp_sockets: UDP_SOCKETS,
        dns_queries: DNS_QUERIES,
        dns_cache: DNS_CACHE_ENTRIES,
        events: EVENTS,
    };
}

impl fmt::Display for Occupancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = Occupancy::CAPACITY;
        write!(
            f,
            "arp {}/{} (incomplete {}) | tx frames {}/{} (awaiting arp {}/{}) | loopback {}/{} | reassembly {}/{} | pmtu {}/{} | tcp sockets {}/{} (listening {} accept queue {} time-wait {} orphaned {}) syn queue {}/{} | udp {}/{} | dns queries {}/{} cache {}/{} | events {}/{}",
            self.arp_entries, c.arp_entries, self.arp_incomplete,
            self.tx_frames, c.tx_frames, self.tx_awaiting_arp, c.tx_awaiting_arp,
            self.loopback_frames, c.loopback_frames,
            self.reassembly, c.reassembly,
            self.pmtu_entries, c.pmtu_entries,
            self.tcp_sockets, c.tcp_sockets, self.tcp_listening, self.tcp_accept_queue,
            self.tcp_time_wait, self.tcp_orphaned, self.tcp_syn_queue, c.tcp_syn_queue,
            self.udp_sockets, c.udp_sockets,
            self.dns_queries, c.dns_queries, self.dns_cache, c.dns_cache,
            self.events, c.events,
        )
    }
}

impl Stack {
    /// How full each fixed table is now. It walks every table (a few
    /// thousand entries with the defaults): meant for diagnostics and
    /// tests, not for every turn of a poll loop.
    pub fn occupancy(&self) -> Occupancy {
        let mut o = Occupancy::default();
        for iface in self.net.ifaces.iter().flatten() {
            let (entries, incomplete) = iface.arp.occupancy();
            o.arp_entries += entries;
            o.arp_incomplete += incomplete;
        }
        (o.tx_frames, o.tx_awaiting_arp) = self.net.tx.occupancy();
        o.loopback_frames = self.net.loopback.len();
        o.reassembly = self.reasm.occupancy();
        o.pmtu_entries = self.net.pmtu.occupancy();
        o.tcp_syn_queue = self.tcp.syn_queue.iter().flatten().count();
        for s in self.tcp.sockets.iter().filter(|s| s.in_use) {
            o.tcp_sockets += 1;
            o.tcp_listening += usize::from(s.backlog.is_some());
            o.tcp_accept_queue += usize::from(s.accept_of.is_some());
            o.tcp_orphaned += usize::from(s.orphaned);
            let time_wait = s.tcb.as_ref().map(|t| t.state) == Some(TcpState::TimeWait);
            o.tcp_time_wait += usize::from(time_wait);
        }
        o.udp_sockets = self.udp.open_count();
        (o.dns_queries, o.dns_cache) = self.dns.occupancy();
        o.events = self.events.len();
        o
    }
}
