//! Path MTUs learned from ICMP "fragmentation needed" (RFC 1191), kept in
//! `PMTU_ENTRIES` slots for ten minutes each (RFC 1191 §6.3). A full table
//! gives the new report the slot of the entry closest to expiry (the
//! oldest); expired entries are freed at the next dispatch.

use crate::addr::Ipv4Addr;
use crate::config::{MIN_MTU, PMTU_ENTRIES};
use crate::time::{Duration, Instant};

const LIFETIME: Duration = Duration::from_secs(600);

/// RFC 1191 §7 plateau table, used when a router reports an MTU of 0.
const PLATEAUS: [u16; 10] = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

#[derive(Debug, Clone, Copy)]
struct Entry {
    dst: Ipv4Addr,
    mtu: u16,
    expires: Instant,
}

/// The path-MTU cache.
#[derive(Debug, Clone)]
pub struct PmtuCache {
    entries: [Option<Entry>; PMTU_ENTRIES],
}

impl Default for PmtuCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PmtuCache {
    /// An empty cache.
    pub const fn new() -> Self {
        PmtuCache {
            entries: [None; PMTU_ENTRIES],
        }
    }

    /// Entries in use, fresh or not.
    pub fn occupancy(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    /// Frees the entries past their lifetime (the stack's dispatch calls
    /// it), so that the table shows idle once every report has expired.
    pub fn expire(&mut self, now: Instant) {
        for e in self.entries.iter_mut() {
            if e.is_some_and(|e| now >= e.expires) {
                *e = None;
            }
        }
    }

    /// The learned MTU towards `dst`, if any and still fresh.
    pub fn get(&self, dst: Ipv4Addr, now: Instant) -> Option<usize> {
        self.entries
            .iter()
            .flatten()
            .find(|e| e.dst == dst && now < e.expires)
            .map(|e| usize::from(e.mtu))
    }

    /// Records a "fragmentation needed" report for `dst`. `reported` is the
    /// next-hop MTU field (0 from old routers: then the plateau below
    /// `sent_len`, the length of the datagram that was too big). Only ever
    /// lowers the MTU, never below 68. Returns the new MTU if it changed.
    pub fn update(
        &mut self,
        dst: Ipv4Addr,
        reported: u16,
        sent_len: u16,
        link_mtu: usize,
        now: Instant,
    ) -> Option<usize> {
        let mut mtu = if reported == 0 {
            PLATEAUS
                .iter()
                .copied()
                .find(|&p| p < sent_len)
                .unwrap_or(68)
        } else {
            reported
        };
        mtu = mtu.max(MIN_MTU as u16);
        let current = self.get(dst, now).unwrap_or(link_mtu);
        if usize::from(mtu) >= current {
            return None;
        }
        let entry = Entry {
            dst,
            mtu,
            expires: now + LIFETIME,
        };
        let slot = self
            .entries
            .iter()
            .position(|e| e.is_some_and(|e| e.dst == dst))
            .or_else(|| {
                self.entries
                    .iter()
                    .position(|e| e.is_none_or(|e| now >= e.expires))
            })
            .or_else(|| {
                self.entries
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| e.map(|e| e.expires))
                    .map(|(i, _)| i)
            })?;
        self.entries[slot] = Some(entry);
        Some(usize::from(mtu))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_and_expires() {
        let mut c = PmtuCache::new();
        let d = Ipv4Addr::new(203, 0, 113, 5);
        let t = Instant::from_secs(1);
        assert_eq!(c.update(d, 1400, 1500, 1500, t), Some(1400));
        assert_eq!(c.update(d, 1450, 1500, 1500, t), None, "never raised");
        assert_eq!(c.update(d, 20, 1500, 1500, t), Some(68), "floor of 68");
        assert_eq!(c.get(d, t + LIFETIME), None);
        assert_eq!(c.occupancy(), 1);
        c.expire(t + LIFETIME);
        assert_eq!(c.occupancy(), 0);
    }

    #[test]
    fn zero_report_uses_plateaus() {
        let mut c = PmtuCache::new();
        let d = Ipv4Addr::new(203, 0, 113, 6);
        assert_eq!(c.update(d, 0, 1500, 1500, Instant::ZERO), Some(1492));
        assert_eq!(c.update(d, 0, 1492, 1500, Instant::ZERO), Some(1006));
    }
}
