//! The answer cache: [`DNS_CACHE_ENTRIES`] names with their addresses,
//! each kept for the smallest TTL of the records the answer was built from
//! (RFC 1035 §3.2.1, RFC 2181 §5.2), at most a day. A TTL of 0 means "use
//! once" (RFC 1035 §3.2.1) and is not cached; neither are negative answers
//! (RFC 2308 caching is left out).

use heapless::Vec;

use crate::addr::Ipv4Addr;
use crate::config::{DNS_CACHE_ENTRIES, DNS_MAX_ADDRESSES};
use crate::time::{Duration, Instant};
use crate::wire::dns::Name;

/// Longest time an answer is cached, whatever its TTL says (glibc's nscd
/// and systemd-resolved cap the same way).
pub(crate) const MAX_TTL_SECS: u32 = 86_400;

/// Addresses of an answer.
pub(crate) type Addresses = Vec<Ipv4Addr, DNS_MAX_ADDRESSES>;

struct Entry {
    name: Name,
    addrs: Addresses,
    expires: Instant,
}

/// The cache.
pub(crate) struct Cache {
    entries: [Option<Entry>; DNS_CACHE_ENTRIES],
}

impl Cache {
    pub const fn new() -> Self {
        Cache {
            entries: [const { None }; DNS_CACHE_ENTRIES],
        }
    }

    /// Entries in use, fresh or not.
    pub fn occupancy(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    /// The addresses cached for `name` and the whole seconds they stay
    /// valid (rounded down: never past the TTL), unless absent or expired
    /// at `now`.
    pub fn lookup(&self, name: &Name, now: Instant) -> Option<(Addresses, u32)> {
        let e = self
            .entries
            .iter()
            .flatten()
            .find(|e| e.name == *name && now < e.expires)?;
        let left = (e.expires - now).total_micros() / 1_000_000;
        Some((e.addrs.clone(), u32::try_from(left).unwrap_or(u32::MAX)))
    }

    /// Caches `addrs` for `name` for `ttl` seconds (capped at a day; 0:
    /// not cached). A live entry of the same name is replaced; else a free
    /// or expired slot is taken; else the entry closest to expiry goes.
    pub fn insert(&mut self, name: &Name, addrs: &Addresses, ttl: u32, now: Instant) {
        if ttl == 0 || addrs.is_empty() {
            return;
        }
        let expires = now + Duration::from_secs(u64::from(ttl.min(MAX_TTL_SECS)));
        let slot = match self
            .entries
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.name == *name))
        {
            Some(i) => Some(i),
            // An empty slot sorts first, then the soonest expiry (expired
            // entries included).
            None => self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.as_ref().map(|e| e.expires))
                .map(|(i, _)| i),
        };
        if let Some(e) = slot.and_then(|i| self.entries.get_mut(i)) {
            *e = Some(Entry {
                name: name.clone(),
                addrs: addrs.clone(),
                expires,
            });
        }
    }

    /// Forgets every entry.
    pub fn flush(&mut self) {
        self.entries = [const { None }; DNS_CACHE_ENTRIES];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: usize) -> Name {
        Name::from_text(&std::format!("host{n}.example")).unwrap()
    }

    fn addrs(n: u8) -> Addresses {
        let mut v = Addresses::new();
        v.push(Ipv4Addr::new(192, 0, 2, n)).unwrap();
        v
    }

    const T: Instant = Instant::from_secs(1000);

    #[test]
    fn ttl_is_honoured_and_capped() {
        let mut c = Cache::new();
        c.insert(&name(1), &addrs(1), 60, T);
        let hit = c.lookup(&name(1), T + Duration::from_millis(500));
        assert_eq!(hit, Some((addrs(1), 59)), "rounded down");
        assert!(c
            .lookup(&name(1), T + Duration::from_millis(59_999))
            .is_some());
        assert!(c.lookup(&name(1), T + Duration::from_secs(60)).is_none());
        assert!(c.lookup(&name(2), T).is_none());
        c.insert(&name(2), &addrs(2), 0, T);
        assert!(c.lookup(&name(2), T).is_none(), "TTL 0 is not cached");
        c.insert(&name(3), &addrs(3), u32::MAX, T);
        assert_eq!(c.lookup(&name(3), T).unwrap().1, MAX_TTL_SECS);
        // The same name again replaces the entry.
        c.insert(&name(3), &addrs(4), 5, T);
        assert_eq!(c.lookup(&name(3), T), Some((addrs(4), 5)));
        c.flush();
        assert!(c.lookup(&name(3), T).is_none());
    }

    #[test]
    fn full_cache_evicts_the_entry_closest_to_expiry() {
        if DNS_CACHE_ENTRIES < 2 {
            return;
        }
        let mut c = Cache::new();
        for i in 0..DNS_CACHE_ENTRIES {
            // Entry 1 expires first.
            let ttl = if i == 1 { 10 } else { 100 + i as u32 };
            c.insert(&name(i), &addrs(i as u8), ttl, T);
        }
        c.insert(&name(99), &addrs(99), 50, T);
        assert!(c.lookup(&name(1), T).is_none(), "evicted");
        assert!(c.lookup(&name(99), T).is_some());
        for i in (0..DNS_CACHE_ENTRIES).filter(|&i| i != 1) {
            assert!(c.lookup(&name(i), T).is_some(), "entry {i} kept");
        }
    }
}
