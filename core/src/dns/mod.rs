//! DNS resolver (RFC 1035): A records over UDP, with its own fixed state.
//!
//! A stub resolver (RFC 1123 §6.1.3.1) that asks recursive servers for the
//! A records of a name:
//!
//! * up to [`DNS_QUERIES`] queries in flight, each in a slot of its own;
//!   the resolver never takes a UDP socket: the stack hands it every
//!   datagram from port 53 before socket demultiplexing, and it claims
//!   those addressed to the port of one of its attempts;
//! * servers set by hand ([`Stack::dns_set_servers`]) or learned by DHCP,
//!   tried in turn, with timeouts doubling each round (see `query`);
//! * a random ID and a random source port in the dynamic range for every
//!   attempt, and a response accepted only from the server asked, from
//!   port 53, to that port, with that ID and question (RFC 5452 §4, §9.2);
//! * CNAME chains followed, within a response and across re-queries;
//! * a small cache honouring TTLs ([`DNS_CACHE_ENTRIES`]);
//! * IPv4 literals answered without a query.
//!
//! Truncated responses (TC) are used for the addresses they hold; there is
//! no retry over TCP (RFC 7766), so a truncated response without an
//! address counts as a server failure.
//!
//! [`DNS_QUERIES`]: crate::config::DNS_QUERIES
//! [`DNS_CACHE_ENTRIES`]: crate::config::DNS_CACHE_ENTRIES
//! [`Stack::dns_set_servers`]: crate::Stack::dns_set_servers

mod api;
mod cache;
mod query;
mod servers;

use core::task::Poll;

pub use api::{DnsAnswer, DnsError, DnsServersError, DnsStartError};

use crate::addr::{Ipv4Addr, SocketAddrV4};
use crate::config::{DNS_ATTEMPTS, DNS_MAX_ADDRESSES, DNS_QUERIES, DNS_SERVERS, IP_TTL};
use crate::event::{Event, Events};
use crate::iface::IfaceId;
use crate::ip::output::{IpMeta, SendError};
use crate::net::Net;
use crate::time::Instant;
use crate::udp::{UdpSockets, EPHEMERAL_FIRST};
use crate::wire::dns::{Name, QueryRepr, MAX_QUERY_LEN, PORT};
use crate::wire::{IpProtocol, UdpRepr};
use cache::{Addresses, Cache};
use query::{Attempt, Query, Verdict};
use servers::Servers;

// Handles store the slot in a `u8`; the failed-server set is a `u64`; a
// literal's answer needs room for one address.
const _: () = assert!(DNS_QUERIES <= 256, "WOLFIP_DNS_QUERIES: at most 256");
const _: () = assert!(DNS_SERVERS <= 64, "WOLFIP_DNS_SERVERS: at most 64");
const _: () = assert!(DNS_ATTEMPTS <= 255, "WOLFIP_DNS_ATTEMPTS: at most 255");
const _: () = assert!(
    DNS_MAX_ADDRESSES >= 1,
    "WOLFIP_DNS_MAX_ADDRESSES: at least 1"
);

/// Names a DNS query of a [`crate::Stack`] (slot and generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DnsQuery {
    pub(crate) index: u8,
    pub(crate) generation: u8,
}

// Fixed storage: a slot is as large as a query in flight whatever it
// holds (no heap to box the query into).
#[allow(clippy::large_enum_variant)]
enum State {
    Free,
    Pending(Query),
    Done(Result<DnsAnswer, DnsError>),
}

struct Slot {
    generation: u8,
    state: State,
}

/// The resolver's state.
pub(crate) struct DnsClient {
    slots: [Slot; DNS_QUERIES],
    pub(crate) servers: Servers,
    pub(crate) cache: Cache,
}

impl DnsClient {
    /// No query, no server, empty cache.
    pub const fn new() -> Self {
        DnsClient {
            slots: [const {
                Slot {
                    generation: 0,
                    state: State::Free,
                }
            }; DNS_QUERIES],
            servers: Servers::new(),
            cache: Cache::new(),
        }
    }

    /// Query slots in use (in flight, or answered and not read), and cache
    /// entries.
    pub fn occupancy(&self) -> (usize, usize) {
        let queries = self
            .slots
            .iter()
            .filter(|s| !matches!(s.state, State::Free))
            .count();
        (queries, self.cache.occupancy())
    }

    /// A UDP datagram from port 53 reached us: returns true when `to`'s
    /// port is the source port of a query in flight (the datagram is then
    /// the resolver's, answered or dropped and counted).
    pub fn input(
        &mut self,
        net: &mut Net,
        events: &mut Events,
        now: Instant,
        from: SocketAddrV4,
        to: SocketAddrV4,
        payload: &[u8],
    ) -> bool {
        let found = self.slots.iter_mut().enumerate().find_map(|(i, s)| {
            let State::Pending(q) = &mut s.state else {
                return None;
            };
            let a = q.attempt.filter(|a| a.port == to.port())?;
            Some((i, q, a))
        });
        let Some((i, q, a)) = found else {
            return false;
        };
        // RFC 5452 §4.3: only the address and port the query went to.
        if *from.ip() != a.server || from.port() != PORT {
            net.stats.dns.drop_mismatch += 1;
            return true;
        }
        let servers = self.servers.list().len();
        let verdict = q.evaluate(&a, payload);
        let outcome = match verdict {
            Verdict::Malformed => {
                net.stats.dns.drop_malformed += 1;
                return true;
            }
            Verdict::Mismatch => {
                net.stats.dns.drop_mismatch += 1;
                return true;
            }
            Verdict::Answer { addrs, ttl } => {
                net.stats.dns.rx += 1;
                self.cache.insert(&q.name, &addrs, ttl, now);
                Ok(DnsAnswer {
                    addresses: addrs,
                    ttl,
                })
            }
            Verdict::Requery { target, ttl, links } => {
                net.stats.dns.rx += 1;
                q.requery(target, ttl, links, now);
                return true;
            }
            Verdict::Fail(e) => {
                net.stats.dns.rx += 1;
                Err(e)
            }
            Verdict::ServerError(e) => {
                net.stats.dns.rx += 1;
                if q.server_failed(e, servers, now) {
                    // The next server is asked by the next dispatch.
                    return true;
                }
                Err(q.error.unwrap_or(e))
            }
        };
        self.finish(net, events, i, outcome);
        true
    }

    /// Ends the query in slot `i` with `outcome`, counting it and telling
    /// the application.
    fn finish(
        &mut self,
        net: &mut Net,
        events: &mut Events,
        i: usize,
        outcome: Result<DnsAnswer, DnsError>,
    ) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        match outcome {
            Err(DnsError::NxDomain) => net.stats.dns.nxdomain += 1,
            Err(DnsError::ServFail | DnsError::Refused) => net.stats.dns.servfail += 1,
            Err(DnsError::Timeout) => net.stats.dns.timeouts += 1,
            _ => {}
        }
        slot.state = State::Done(outcome);
        let q = DnsQuery {
            index: i as u8,
            generation: slot.generation,
        };
        crate::Stack::emit_event(events, &mut net.stats, Event::DnsDone(q));
    }

    /// Sends due queries and retransmissions, ends timed-out queries.
    pub fn dispatch(&mut self, net: &mut Net, events: &mut Events, udp: &UdpSockets, now: Instant) {
        let servers = self.servers.list();
        for i in 0..DNS_QUERIES {
            // Each turn sends an attempt, or moves past one; there are at
            // most DNS_SERVERS x DNS_ATTEMPTS of them.
            for _ in 0..=DNS_SERVERS * DNS_ATTEMPTS + 1 {
                let Some(State::Pending(q)) = self.slots.get(i).map(|s| &s.state) else {
                    break;
                };
                let step = match q.attempt {
                    Some(a) if now >= a.deadline => Step::Next,
                    Some(_) => break,
                    None => match servers.get(usize::from(q.server)) {
                        Some(&server) => Step::Send(server),
                        // The list shrank under the query.
                        None => Step::Next,
                    },
                };
                let more = match step {
                    Step::Next => self.next_attempt(i, servers.len(), now),
                    Step::Send(server) => match self.send(net, udp, i, server, now) {
                        Ok(()) => break,
                        // No frame slot: again on the next dispatch.
                        Err(SendError::NoBuffer) => break,
                        // No route to this server: the next one at once.
                        Err(_) => {
                            net.stats.ip.drop_no_route += 1;
                            self.next_attempt(i, servers.len(), now)
                        }
                    },
                };
                if !more {
                    let e = match self.slots.get(i).map(|s| &s.state) {
                        Some(State::Pending(q)) => q.error.unwrap_or(DnsError::Timeout),
                        _ => DnsError::Timeout,
                    };
                    self.finish(net, events, i, Err(e));
                    break;
                }
            }
        }
    }

    /// Moves the query in slot `i` to its next attempt; false when none is
    /// left.
    fn next_attempt(&mut self, i: usize, servers: usize, now: Instant) -> bool {
        match self.slots.get_mut(i).map(|s| &mut s.state) {
            Some(State::Pending(q)) => q.next_attempt(servers, now),
            _ => false,
        }
    }

    /// Sends the due attempt of slot `i` to `server` from a fresh port
    /// with a fresh ID. `NoBuffer` leaves it due; `NoRoute` is for the
    /// caller to move on; other losses (ARP) are left to the timeout.
    fn send(
        &mut self,
        net: &mut Net,
        udp: &UdpSockets,
        i: usize,
        server: Ipv4Addr,
        now: Instant,
    ) -> Result<(), SendError> {
        let port = self.pick_port(net, udp);
        let id = net.rng.next_u32() as u16;
        let Some(State::Pending(q)) = self.slots.get_mut(i).map(|s| &mut s.state) else {
            return Ok(());
        };
        let mut buf = [0u8; MAX_QUERY_LEN];
        let len = QueryRepr { id, name: &q.qname }.emit(&mut buf).unwrap_or(0);
        let payload = buf.get(..len).unwrap_or(&[]);
        let result = net.route(server, None, None, now).and_then(|eg| {
            let repr = UdpRepr {
                src_port: port,
                dst_port: PORT,
            };
            let header = repr.header_bytes(eg.src, server, payload);
            let meta = IpMeta {
                protocol: IpProtocol::Udp,
                ttl: IP_TTL as u8,
                tos: 0,
                dont_frag: false,
            };
            net.send_ip(now, &eg, server, meta, &header, payload)
        });
        match result {
            Err(SendError::NoBuffer) => {
                q.due = now;
                return Err(SendError::NoBuffer);
            }
            Err(SendError::NoRoute) => return Err(SendError::NoRoute),
            Ok(()) => {
                net.stats.dns.tx += 1;
                net.stats.udp.tx += 1;
                if q.sent_any {
                    net.stats.dns.retransmits += 1;
                }
            }
            // Dropped on the way (ARP): the timeout retries.
            Err(_) => {}
        }
        q.sent_any = true;
        q.attempt = Some(Attempt {
            server,
            port,
            id,
            deadline: now + query::timeout(q.round),
        });
        Ok(())
    }

    /// A random port of the dynamic range (RFC 6335 §6) that no socket
    /// and no other query holds (RFC 5452 §9.2, RFC 6056 §3.3.1).
    fn pick_port(&self, net: &mut Net, udp: &UdpSockets) -> u16 {
        let count = u32::from(u16::MAX - EPHEMERAL_FIRST) + 1;
        let start = net.rng.below(count);
        let ours = |p: u16| {
            self.slots.iter().any(|s| match &s.state {
                State::Pending(q) => q.attempt.is_some_and(|a| a.port == p),
                _ => false,
            })
        };
        (0..count)
            .map(|k| EPHEMERAL_FIRST + ((start + k) % count) as u16)
            .find(|&p| !udp.port_in_use(p) && !ours(p))
            .unwrap_or(EPHEMERAL_FIRST + start as u16)
    }

    /// When [`dispatch`](Self::dispatch) next has work.
    pub fn poll_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match &s.state {
                State::Pending(q) => Some(q.deadline()),
                _ => None,
            })
            .min()
    }

    /// Replaces the servers learned by DHCP on `iface` (empty: forget them).
    pub fn set_dhcp_servers(&mut self, iface: IfaceId, servers: &[Ipv4Addr]) {
        self.servers.set_dhcp(iface, servers);
    }

    /// Starts a query (see [`crate::Stack::dns_query`]).
    pub(crate) fn start(
        &mut self,
        net: &mut Net,
        text: &str,
        now: Instant,
    ) -> Result<DnsQuery, DnsStartError> {
        let literal = text.parse::<Ipv4Addr>().ok();
        let name = match literal {
            Some(_) => None,
            None => Some(Name::from_text(text).map_err(|_| DnsStartError::InvalidName)?),
        };
        let i = self
            .slots
            .iter()
            .position(|s| matches!(s.state, State::Free))
            .ok_or(DnsStartError::TableFull)?;
        let state = if let Some(addr) = literal {
            let mut addresses = Addresses::new();
            let _ = addresses.push(addr);
            State::Done(Ok(DnsAnswer {
                addresses,
                ttl: u32::MAX,
            }))
        } else if let Some(name) = name {
            if let Some((addresses, ttl)) = self.cache.lookup(&name, now) {
                net.stats.dns.cache_hits += 1;
                State::Done(Ok(DnsAnswer { addresses, ttl }))
            } else if self.servers.is_empty() {
                return Err(DnsStartError::NoServers);
            } else {
                State::Pending(Query::new(name, now))
            }
        } else {
            return Err(DnsStartError::InvalidName);
        };
        let slot = self.slots.get_mut(i).ok_or(DnsStartError::TableFull)?;
        slot.generation = slot.generation.wrapping_add(1);
        slot.state = state;
        Ok(DnsQuery {
            index: i as u8,
            generation: slot.generation,
        })
    }

    /// The slot `q` names, if it is not stale.
    fn slot(&mut self, q: DnsQuery) -> Option<&mut Slot> {
        self.slots
            .get_mut(usize::from(q.index))
            .filter(|s| s.generation == q.generation && !matches!(s.state, State::Free))
    }

    /// Takes the outcome of `q` (see [`crate::Stack::dns_result`]).
    pub(crate) fn take(&mut self, q: DnsQuery) -> Poll<Result<DnsAnswer, DnsError>> {
        let Some(slot) = self.slot(q) else {
            return Poll::Ready(Err(DnsError::UnknownQuery));
        };
        match core::mem::replace(&mut slot.state, State::Free) {
            State::Done(r) => Poll::Ready(r),
            pending => {
                slot.state = pending;
                Poll::Pending
            }
        }
    }

    /// Drops `q` (see [`crate::Stack::dns_cancel`]).
    pub(crate) fn cancel(&mut self, q: DnsQuery) {
        if let Some(slot) = self.slot(q) {
            slot.state = State::Free;
        }
    }
}

/// What [`DnsClient::dispatch`] does next for a query.
enum Step {
    Send(Ipv4Addr),
    Next,
}
