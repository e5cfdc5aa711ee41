//! Events: what the stack's own clients (DHCP, DNS) tell the application.
//!
//! They wait in a fixed queue of [`EVENTS`] until [`Stack::poll_event`]
//! reads them, so no callback runs inside the stack and no thread is needed
//! (Zephyr delivers the same news through `net_mgmt` events). When the
//! application does not read them, the oldest is dropped and counted in
//! [`Stats::events_dropped`](crate::Stats::events_dropped): an event only
//! says "look again"; the state itself ([`Stack::dhcp_lease`],
//! [`Stack::dns_result`]) is never lost.

use crate::config::EVENTS;
use crate::dns::DnsQuery;
use crate::iface::IfaceId;
use crate::Stack;

/// Why a DHCP lease was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseLost {
    /// The lease time ran out without a renewal (RFC 2131 §4.4.5).
    Expired,
    /// The server answered NAK (RFC 2131 §3.2, §4.4.5).
    Nak,
    /// [`Stack::dhcp_stop`] released it.
    Stopped,
    /// A renewal granted another address: the old one is given up and the
    /// new one is checked before use.
    Replaced,
}

/// Something an application may want to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The DHCP client of `iface` obtained a lease and configured the
    /// address, the default route and the DNS servers.
    DhcpBound {
        /// The interface.
        iface: IfaceId,
    },
    /// The lease of `iface` was renewed or rebound (its options may have
    /// changed; they are applied again).
    DhcpRenewed {
        /// The interface.
        iface: IfaceId,
    },
    /// The lease of `iface` ended: its address, default route and DNS
    /// servers are removed.
    DhcpLost {
        /// The interface.
        iface: IfaceId,
        /// Why.
        reason: LeaseLost,
    },
    /// A DNS query finished: [`Stack::dns_result`] has its outcome.
    DnsDone(DnsQuery),
}

/// The fixed event queue (a ring).
pub(crate) struct Events {
    ring: [Option<Event>; EVENTS],
    head: usize,
    len: usize,
}

impl Events {
    pub const fn new() -> Self {
        Events {
            ring: [None; EVENTS],
            head: 0,
            len: 0,
        }
    }

    /// Events queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends `e`; returns false when the oldest had to be dropped.
    pub fn push(&mut self, e: Event) -> bool {
        if EVENTS == 0 {
            return false;
        }
        let dropped = self.len == EVENTS;
        if dropped {
            self.head = (self.head + 1) % EVENTS;
            self.len -= 1;
        }
        let tail = (self.head + self.len) % EVENTS;
        if let Some(slot) = self.ring.get_mut(tail) {
            *slot = Some(e);
        }
        self.len += 1;
        !dropped
    }

    /// Takes the oldest event.
    pub fn pop(&mut self) -> Option<Event> {
        if self.len == 0 {
            return None;
        }
        let e = self.ring.get_mut(self.head).and_then(Option::take);
        self.head = (self.head + 1) % EVENTS;
        self.len -= 1;
        e
    }
}

impl Stack {
    /// The oldest event not read yet.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// Queues an event, counting it when the queue overflowed.
    pub(crate) fn emit_event(events: &mut Events, stats: &mut crate::Stats, e: Event) {
        if !events.push(e) {
            stats.events_dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_drops_the_oldest() {
        let mut q = Events::new();
        let ev = |n: u8| Event::DhcpBound { iface: IfaceId(n) };
        for n in 0..EVENTS as u8 {
            assert!(q.push(ev(n)));
        }
        assert!(!q.push(ev(200)), "full: the oldest goes");
        assert_eq!(q.pop(), Some(ev(1)));
        for n in 2..EVENTS as u8 {
            assert_eq!(q.pop(), Some(ev(n)));
        }
        assert_eq!(q.pop(), Some(ev(200)));
        assert_eq!(q.pop(), None);
    }
}
