//! Path MTUs learned from ICMP "fragmentation needed" (RFC 1191), kept in
//! `PMTU_ENTRIES` slots for ten minutes each (RFC 1191 §6.3). A full table
//! gives the new report the slot of the entry closest to expiry (the
//! oldest); expired entries are freed at the next dispatch.
//!
//! No report takes the MTU below `PMTU_MIN` (552, Linux's `min_pmtu`): a
//! lower one sets `PMTU_MIN` and marks the path as fragmenting, so that
//! datagrams to it go without Don't Fragment and routers cut them down.
//! Otherwise one forged report would make TCP send segments of a few bytes
//! each for ten minutes (CVE-2019-11479's resource exhaustion).

use crate::addr::Ipv4Addr;
use crate::config::{PMTU_ENTRIES, PMTU_MIN};
use crate::time::{Duration, Instant};

const LIFETIME: Duration = Duration::from_secs(600);

/// RFC 1191 §7 plateau table, used when a router reports an MTU of 0.
const PLATEAUS: [u16; 10] = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

#[derive(Debug, Clone, Copy)]
struct Entry {
    dst: Ipv4Addr,
    mtu: u16,
    /// A report below `PMTU_MIN` was clamped: send without Don't Fragment.
    fragment: bool,
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
        self.path(dst, now).map(|(mtu, _)| mtu)
    }

    /// The learned MTU towards `dst` and whether datagrams to it must go
    /// without Don't Fragment (a report below `PMTU_MIN` was clamped).
    pub fn path(&self, dst: Ipv4Addr, now: Instant) -> Option<(usize, bool)> {
        self.entries
            .iter()
            .flatten()
            .find(|e| e.dst == dst && now < e.expires)
            .map(|e| (usize::from(e.mtu), e.fragment))
    }

    /// Records a "fragmentation needed" report for `dst`. `reported` is the
    /// next-hop MTU field (0 from old routers: then the plateau below
    /// `sent_len`, the length of the datagram that was too big). Only ever
    /// lowers the MTU, never below `PMTU_MIN` (a lower report sets
    /// `PMTU_MIN` and lets the path fragment). Returns the new MTU if it
    /// changed.
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
        let floor = PMTU_MIN.min(usize::from(u16::MAX)) as u16;
        let fragment = mtu < floor;
        mtu = mtu.max(floor);
        let (current, fragmenting) = self.path(dst, now).unwrap_or((link_mtu, false));
        if fragment {
            // On a link smaller than the floor, the path keeps the link's
            // MTU but fragments (Linux: min(old_mtu, min_pmtu), locked):
            // ignoring the report would keep DF set towards a router that
            // drops every datagram larger than its next hop.
            mtu = mtu.min(u16::try_from(current).unwrap_or(u16::MAX));
        }
        // Lower only; at the floor, a report below it turns fragmenting on.
        let lower = usize::from(mtu) < current;
        let starts_fragmenting = usize::from(mtu) == current && fragment && !fragmenting;
        if !(lower || starts_fragmenting) {
            return None;
        }
        let entry = Entry {
            dst,
            mtu,
            fragment,
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
        assert_eq!(c.path(d, t), Some((1400, false)));
        assert_eq!(c.update(d, 20, 1500, 1500, t), Some(PMTU_MIN), "floor");
        assert_eq!(c.path(d, t), Some((PMTU_MIN, true)), "fragmenting");
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
