//! The ARP cache of one interface (RFC 826, RFC 1122 §2.3.2).
//!
//! Entries are `Incomplete` while a request is outstanding, `Reachable` for
//! `ARP_REACHABLE_SECS` after a confirmation, then `Stale`: a stale entry is
//! still used while unicast requests re-confirm it (RFC 1122 §2.3.2.1), and is
//! removed when `ARP_MAX_REQUESTS` go unanswered. Requests for one address are
//! spaced by `ARP_RETRY_MS` (the rate limit of RFC 1122 §2.3.2.1).

use crate::addr::Ipv4Addr;
use crate::config::{ARP_ENTRIES, ARP_MAX_REQUESTS, ARP_REACHABLE_SECS, ARP_RETRY_MS};
use crate::time::{Duration, Instant};
use crate::wire::EthernetAddress;

const REACHABLE: Duration = Duration::from_secs(ARP_REACHABLE_SECS as u64);
const RETRY: Duration = Duration::from_millis(ARP_RETRY_MS as u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A request is out; `sent` requests so far, the next one at `next`.
    Incomplete { sent: u8, next: Instant },
    /// Confirmed; trusted until `until`.
    Reachable { until: Instant },
    /// Past its lifetime: used, and re-confirmed with unicast requests.
    Stale { sent: u8, next: Instant },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    ip: Ipv4Addr,
    mac: EthernetAddress,
    state: State,
    confirmed: Instant,
    /// We sent to this neighbour, or asked for it ourselves: it is one we
    /// talk to, not just a host that asked for us. A request from a host
    /// we do not know never evicts such an entry, and a request from it
    /// is answered outside the ARP reply limit.
    used: bool,
}

/// What the cache knows about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Known: send to this hardware address.
    Found(EthernetAddress),
    /// Being resolved: queue the frame.
    Pending,
    /// Unknown: start a resolution, then queue the frame.
    Missing,
}

/// A request the cache wants sent, or an address that could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpEvent {
    /// Send a request for `ip`; unicast to `to` when re-confirming a stale
    /// entry, broadcast otherwise.
    Request {
        /// The address asked for.
        ip: Ipv4Addr,
        /// Unicast destination, if any.
        to: Option<EthernetAddress>,
    },
    /// Nobody answered for `ip`: frames waiting for it must be dropped.
    Failed(Ipv4Addr),
}

/// How an incoming ARP packet changed the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// A new entry was made.
    Created,
    /// A new entry was made in place of the least recently confirmed one
    /// (the cache was full).
    Replaced,
    /// A resolution completed: frames waiting for this address can go.
    Resolved,
    /// An existing entry was refreshed.
    Refreshed,
    /// Nothing was known about this address and nothing was created.
    Ignored,
}

/// The cache is full of addresses still being resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheFull;

/// Fixed-size ARP cache.
#[derive(Debug, Clone)]
pub struct ArpCache {
    entries: [Option<Entry>; ARP_ENTRIES],
}

impl Default for ArpCache {
    fn default() -> Self {
        Self::new()
    }
}

impl ArpCache {
    /// An empty cache.
    pub const fn new() -> Self {
        ArpCache {
            entries: [None; ARP_ENTRIES],
        }
    }

    /// Entries in use, and how many of them are still being resolved.
    pub fn occupancy(&self) -> (usize, usize) {
        let used = self.entries.iter().flatten();
        let incomplete = used
            .clone()
            .filter(|e| matches!(e.state, State::Incomplete { .. }))
            .count();
        (used.count(), incomplete)
    }

    fn find(&self, ip: Ipv4Addr) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.is_some_and(|e| e.ip == ip))
    }

    /// Looks `ip` up. An entry past its lifetime turns stale here and is
    /// still returned; [`ArpCache::poll`] then re-confirms it.
    pub fn lookup(&mut self, ip: Ipv4Addr, now: Instant) -> Lookup {
        let Some(i) = self.find(ip) else {
            return Lookup::Missing;
        };
        let Some(e) = self.entries[i].as_mut() else {
            return Lookup::Missing;
        };
        match e.state {
            State::Incomplete { .. } => Lookup::Pending,
            State::Reachable { until } => {
                if now >= until {
                    e.state = State::Stale { sent: 0, next: now };
                }
                e.used = true;
                Lookup::Found(e.mac)
            }
            State::Stale { .. } => {
                e.used = true;
                Lookup::Found(e.mac)
            }
        }
    }

    /// Starts resolving `ip`: makes an `Incomplete` entry whose first request
    /// is due now. Evicts the least recently confirmed resolved entry when
    /// full; returns `Ok(true)` if one was evicted.
    pub fn start(&mut self, ip: Ipv4Addr, now: Instant) -> Result<bool, CacheFull> {
        self.claim(ip, now, false)
    }

    /// Makes an `Incomplete` entry for `ip` (see [`ArpCache::start`]);
    /// with `spare_used`, never in place of a neighbour we talk to.
    fn claim(&mut self, ip: Ipv4Addr, now: Instant, spare_used: bool) -> Result<bool, CacheFull> {
        if self.find(ip).is_some() {
            return Ok(false);
        }
        let (slot, evicted) = match self.entries.iter().position(|e| e.is_none()) {
            Some(i) => (i, false),
            None => {
                let victim = self
                    .entries
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| e.map(|e| (i, e)))
                    .filter(|(_, e)| !matches!(e.state, State::Incomplete { .. }))
                    .filter(|(_, e)| !(spare_used && e.used))
                    .min_by_key(|(_, e)| e.confirmed)
                    .map(|(i, _)| i)
                    .ok_or(CacheFull)?;
                (victim, true)
            }
        };
        self.entries[slot] = Some(Entry {
            ip,
            mac: EthernetAddress::default(),
            state: State::Incomplete { sent: 0, next: now },
            confirmed: now,
            used: false,
        });
        Ok(evicted)
    }

    /// Records that `ip` is at `mac`. Existing entries are always updated
    /// (RFC 826's merge); a new entry is made only when `create` is set
    /// (a request addressed to us), so unsolicited replies create nothing.
    /// Returns `Err(CacheFull)` only if `create` was asked and nothing could
    /// be evicted.
    pub fn update(
        &mut self,
        ip: Ipv4Addr,
        mac: EthernetAddress,
        now: Instant,
        create: bool,
    ) -> Result<Update, CacheFull> {
        let reachable = State::Reachable {
            until: now + REACHABLE,
        };
        if let Some(i) = self.find(ip) {
            if let Some(e) = self.entries[i].as_mut() {
                let was_incomplete = matches!(e.state, State::Incomplete { .. });
                // We asked for it: a neighbour we talk to.
                e.used |= was_incomplete;
                e.mac = mac;
                e.state = reachable;
                e.confirmed = now;
                return Ok(if was_incomplete {
                    Update::Resolved
                } else {
                    Update::Refreshed
                });
            }
        }
        if !create {
            return Ok(Update::Ignored);
        }
        // A host that asked for us may take a free slot or that of a host
        // that only asked too, never that of a neighbour we talk to: a
        // flood of requests from forged senders cannot push those out.
        let evicted = self.claim(ip, now, true)?;
        if let Some(i) = self.find(ip) {
            self.entries[i] = Some(Entry {
                ip,
                mac,
                state: reachable,
                confirmed: now,
                used: false,
            });
        }
        Ok(if evicted {
            Update::Replaced
        } else {
            Update::Created
        })
    }

    /// Forgets `ip`.
    pub fn remove(&mut self, ip: Ipv4Addr) {
        if let Some(i) = self.find(ip) {
            self.entries[i] = None;
        }
    }

    /// Runs the timers: emits due requests and failures through `event`.
    pub fn poll(&mut self, now: Instant, mut event: impl FnMut(ArpEvent)) {
        for slot in self.entries.iter_mut() {
            let Some(e) = slot.as_mut() else { continue };
            match e.state {
                State::Incomplete { sent, next } if now >= next => {
                    if usize::from(sent) >= ARP_MAX_REQUESTS {
                        event(ArpEvent::Failed(e.ip));
                        *slot = None;
                    } else {
                        e.state = State::Incomplete {
                            sent: sent + 1,
                            next: now + RETRY,
                        };
                        event(ArpEvent::Request { ip: e.ip, to: None });
                    }
                }
                State::Reachable { until } if now >= until => {
                    // Aged out without being used: forget it quietly.
                    *slot = None;
                }
                State::Stale { sent, next } if now >= next => {
                    if usize::from(sent) >= ARP_MAX_REQUESTS {
                        *slot = None;
                    } else {
                        e.state = State::Stale {
                            sent: sent + 1,
                            next: now + RETRY,
                        };
                        event(ArpEvent::Request {
                            ip: e.ip,
                            to: Some(e.mac),
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// The next instant [`ArpCache::poll`] has work to do.
    pub fn poll_at(&self) -> Option<Instant> {
        self.entries
            .iter()
            .flatten()
            .map(|e| match e.state {
                State::Incomplete { next, .. } | State::Stale { next, .. } => next,
                State::Reachable { until } => until,
            })
            .min()
    }

    /// Whether `ip` is a neighbour we talk to (we sent to it or asked for
    /// it) with a resolved entry, reachable or stale, at hardware address
    /// `mac`. An entry made only because `ip` asked for us does not count:
    /// a forger could otherwise make one and then repeat its request
    /// without limit.
    pub fn knows(&self, ip: Ipv4Addr, mac: EthernetAddress) -> bool {
        self.find(ip)
            .and_then(|i| self.entries[i])
            .is_some_and(|e| e.used && e.mac == mac && !matches!(e.state, State::Incomplete { .. }))
    }

    /// The resolved entries: `(address, hardware address)`.
    pub fn entries(&self) -> impl Iterator<Item = (Ipv4Addr, EthernetAddress)> + '_ {
        self.entries
            .iter()
            .flatten()
            .filter(|e| !matches!(e.state, State::Incomplete { .. }))
            .map(|e| (e.ip, e.mac))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, n)
    }
    fn mac(n: u8) -> EthernetAddress {
        EthernetAddress([2, 0, 0, 0, 0, n])
    }
    fn events(c: &mut ArpCache, now: Instant) -> Vec<ArpEvent> {
        let mut v = Vec::new();
        c.poll(now, |e| v.push(e));
        v
    }

    #[test]
    fn resolution_retries_at_the_rate_limit_then_fails() {
        let mut c = ArpCache::new();
        let t0 = Instant::from_secs(10);
        assert_eq!(c.lookup(ip(1), t0), Lookup::Missing);
        c.start(ip(1), t0).unwrap();
        assert_eq!(c.lookup(ip(1), t0), Lookup::Pending);
        let mut sent = 0;
        let mut failed_at = None;
        let mut t = t0;
        for _ in 0..100 {
            for e in events(&mut c, t) {
                match e {
                    ArpEvent::Request { ip: a, to: None } if a == ip(1) => sent += 1,
                    ArpEvent::Failed(a) if a == ip(1) => failed_at = Some(t),
                    other => panic!("unexpected {other:?}"),
                }
            }
            if failed_at.is_some() {
                break;
            }
            t = c.poll_at().unwrap();
        }
        assert_eq!(sent, ARP_MAX_REQUESTS);
        assert_eq!(
            failed_at,
            Some(t0 + Duration::from_millis((ARP_RETRY_MS * ARP_MAX_REQUESTS) as u64))
        );
        assert_eq!(c.lookup(ip(1), t), Lookup::Missing);
    }

    #[test]
    fn reply_resolves_then_ages_to_stale_and_reconfirms_by_unicast() {
        let mut c = ArpCache::new();
        let t0 = Instant::from_secs(1);
        c.start(ip(1), t0).unwrap();
        assert_eq!(c.update(ip(1), mac(1), t0, false), Ok(Update::Resolved));
        assert_eq!(c.lookup(ip(1), t0), Lookup::Found(mac(1)));
        let later = t0 + REACHABLE;
        assert_eq!(
            c.lookup(ip(1), later),
            Lookup::Found(mac(1)),
            "stale entries are still used"
        );
        assert_eq!(
            events(&mut c, later),
            [ArpEvent::Request {
                ip: ip(1),
                to: Some(mac(1))
            }]
        );
        assert_eq!(c.update(ip(1), mac(1), later, false), Ok(Update::Refreshed));
        assert_eq!(events(&mut c, later + RETRY).len(), 0, "reachable again");
    }

    #[test]
    fn unused_entry_ages_out_and_stale_unanswered_entry_is_removed() {
        let mut c = ArpCache::new();
        let t0 = Instant::from_secs(1);
        c.update(ip(2), mac(2), t0, true).unwrap();
        assert_eq!(events(&mut c, t0 + REACHABLE).len(), 0);
        assert_eq!(c.lookup(ip(2), t0 + REACHABLE), Lookup::Missing);

        c.update(ip(3), mac(3), t0, true).unwrap();
        let mut t = t0 + REACHABLE;
        assert_eq!(c.lookup(ip(3), t), Lookup::Found(mac(3)));
        for _ in 0..ARP_MAX_REQUESTS + 1 {
            events(&mut c, t);
            t += RETRY;
        }
        assert_eq!(c.lookup(ip(3), t), Lookup::Missing);
    }

    #[test]
    fn unsolicited_reply_creates_nothing() {
        let mut c = ArpCache::new();
        assert_eq!(
            c.update(ip(7), mac(7), Instant::ZERO, false),
            Ok(Update::Ignored)
        );
        assert_eq!(c.lookup(ip(7), Instant::ZERO), Lookup::Missing);
        assert_eq!(
            c.update(ip(7), mac(7), Instant::ZERO, true),
            Ok(Update::Created)
        );
        assert_eq!(
            c.update(ip(7), mac(8), Instant::ZERO, false),
            Ok(Update::Refreshed)
        );
        assert_eq!(c.lookup(ip(7), Instant::ZERO), Lookup::Found(mac(8)));
    }

    #[test]
    fn full_cache_evicts_oldest_resolved_never_incomplete() {
        let mut c = ArpCache::new();
        for n in 0..ARP_ENTRIES {
            c.update(
                ip(n as u8 + 1),
                mac(n as u8),
                Instant::from_secs(n as u64),
                true,
            )
            .unwrap();
        }
        assert_eq!(c.start(ip(200), Instant::from_secs(100)), Ok(true));
        assert_eq!(
            c.lookup(ip(1), Instant::from_secs(100)),
            Lookup::Missing,
            "oldest evicted"
        );
        let mut c = ArpCache::new();
        for n in 0..ARP_ENTRIES {
            c.start(ip(n as u8 + 1), Instant::ZERO).unwrap();
        }
        assert_eq!(c.start(ip(250), Instant::ZERO), Err(CacheFull));
    }

    #[test]
    fn requesters_never_evict_neighbours_we_talk_to() {
        let mut c = ArpCache::new();
        let t = Instant::from_secs(1);
        // Neighbour 1 we resolved ourselves, neighbour 2 we sent to.
        c.start(ip(1), t).unwrap();
        c.update(ip(1), mac(1), t, false).unwrap();
        c.update(ip(2), mac(2), t, true).unwrap();
        assert!(!c.knows(ip(2), mac(2)), "only asked for us");
        assert_eq!(c.lookup(ip(2), t), Lookup::Found(mac(2)));
        assert!(c.knows(ip(1), mac(1)) && c.knows(ip(2), mac(2)));
        assert!(!c.knows(ip(1), mac(9)), "another hardware address");
        for n in 0..3 * ARP_ENTRIES {
            let _ = c.update(
                ip(10 + n as u8),
                mac(10 + n as u8),
                t + Duration::from_secs(1),
                true,
            );
        }
        assert!(c.knows(ip(1), mac(1)) && c.knows(ip(2), mac(2)), "kept");
        // Our own resolutions still evict the oldest entry of any kind.
        for n in 0..ARP_ENTRIES {
            c.start(ip(100 + n as u8), t + Duration::from_secs(2))
                .unwrap();
        }
        assert!(!c.knows(ip(1), mac(1)));
    }
}
