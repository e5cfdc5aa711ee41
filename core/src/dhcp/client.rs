//! The client state machine of one interface (RFC 2131 §4.4, figure 5),
//! with the address check of RFC 5227 §2.1 between the ACK and the use of
//! the address.

use super::lease::{self, usable_host_address, DhcpLease};
use super::send::{self, Identity, Message};
use super::{DhcpState, CLIENT_ID_LEN};
use crate::addr::Ipv4Addr;
use crate::config::{DHCP_ARP_PROBES, DHCP_HOSTNAME_LEN, DHCP_PROBE_INTERVAL_MS};
use crate::dns::DnsClient;
use crate::event::{Event, Events, LeaseLost};
use crate::iface::IfaceId;
use crate::net::Net;
use crate::time::{Duration, Instant};
use crate::wire::dhcp::{DhcpRepr, MessageType, OpCode};
use crate::wire::{ArpOperation, ArpRepr, EthernetAddress};
use crate::Stack;

/// REQUESTs sent for an offer before starting over (RFC 2131 §3.1 step 5:
/// "the client times out and retransmits the DHCPREQUEST ... then
/// restarts").
const REQUEST_TRIES: u8 = 4;
/// INIT-REBOOT REQUESTs before falling back to DISCOVER.
const REBOOT_TRIES: u8 = 2;
/// RFC 2131 §3.1 step 5: wait at least ten seconds after a DECLINE.
const DECLINE_WAIT: Duration = Duration::from_secs(10);
/// RFC 2131 §4.4.5: no less than 60 s between renewal retransmissions.
const MIN_RENEW_RETRY: Duration = Duration::from_secs(60);
/// Retry delay when a message found no frame slot.
const TX_RETRY: Duration = Duration::from_millis(10);

/// The DHCP client of one interface.
pub(crate) struct Client {
    pub state: DhcpState,
    xid: u32,
    /// Messages sent in this state (retransmission count).
    tries: u8,
    /// When the state next needs the client (send, retransmit, time out).
    next: Option<Instant>,
    /// Start of the current acquisition, for the `secs` field.
    started: Instant,
    /// The offer being requested: (address, server).
    offer: Option<(Ipv4Addr, Ipv4Addr)>,
    /// An ACKed lease whose address is being probed.
    pending: Option<DhcpLease>,
    /// The lease applied to the interface.
    pub lease: Option<DhcpLease>,
    /// The ARP probes found the pending address in use.
    conflict: bool,
    /// The address to ask for again (INIT-REBOOT, RFC 2131 §3.2).
    pub previous: Option<Ipv4Addr>,
    hostname: [u8; DHCP_HOSTNAME_LEN],
    hostname_len: usize,
    client_id: [u8; CLIENT_ID_LEN],
    client_id_len: usize,
}

/// What the surrounding stack lends the client for one call.
pub(crate) struct Ctx<'a> {
    pub net: &'a mut Net,
    pub dns: &'a mut DnsClient,
    pub events: &'a mut Events,
    pub iface: IfaceId,
    pub now: Instant,
}

impl Ctx<'_> {
    fn event(&mut self, e: Event) {
        Stack::emit_event(self.events, &mut self.net.stats, e);
    }
}

impl Client {
    pub const STOPPED: Client = Client {
        state: DhcpState::Stopped,
        xid: 0,
        tries: 0,
        next: None,
        started: Instant::ZERO,
        offer: None,
        pending: None,
        lease: None,
        conflict: false,
        previous: None,
        hostname: [0; DHCP_HOSTNAME_LEN],
        hostname_len: 0,
        client_id: [0; CLIENT_ID_LEN],
        client_id_len: 0,
    };

    /// Starts the client: INIT-REBOOT with a previous address, else INIT.
    pub fn start(&mut self, net: &mut Net, now: Instant, hostname: &[u8], client_id: &[u8]) {
        let previous = self.previous;
        *self = Client::STOPPED;
        self.previous = previous;
        let h = hostname.len().min(DHCP_HOSTNAME_LEN);
        self.hostname[..h].copy_from_slice(&hostname[..h]);
        self.hostname_len = h;
        let c = client_id.len().min(CLIENT_ID_LEN);
        self.client_id[..c].copy_from_slice(&client_id[..c]);
        self.client_id_len = c;
        match self.previous {
            Some(_) => self.enter(net, now, DhcpState::Rebooting),
            None => self.enter(net, now, DhcpState::Selecting),
        }
    }

    /// Stops the client: releases a held lease (RFC 2131 §4.4.6) and takes
    /// its configuration back.
    pub fn stop(&mut self, cx: &mut Ctx<'_>) {
        if let Some(l) = self.lease.take() {
            if matches!(
                self.state,
                DhcpState::Bound | DhcpState::Renewing | DhcpState::Rebinding
            ) {
                let msg = Message::Release {
                    addr: l.address.address(),
                    server: l.server,
                };
                self.transmit(cx, msg);
            }
            lease::unapply(cx.net, cx.dns, cx.iface, &l);
            self.previous = Some(l.address.address());
            cx.event(Event::DhcpLost {
                iface: cx.iface,
                reason: LeaseLost::Stopped,
            });
        }
        let previous = self.previous;
        *self = Client::STOPPED;
        self.previous = previous;
    }

    /// Enters `state` with a fresh retransmission count; INIT and
    /// INIT-REBOOT start a new exchange (new xid, RFC 2131 §4.1).
    fn enter(&mut self, net: &mut Net, now: Instant, state: DhcpState) {
        if matches!(state, DhcpState::Selecting | DhcpState::Rebooting) {
            self.xid = net.rng.next_u32();
            self.started = now;
            self.offer = None;
            self.pending = None;
        }
        self.state = state;
        self.tries = 0;
        self.next = Some(now);
    }

    pub fn poll_at(&self) -> Option<Instant> {
        self.next
    }

    /// Whether a datagram to port 68 sent to an address we do not hold yet
    /// is for this client.
    pub fn accepts_unicast(&self) -> bool {
        matches!(
            self.state,
            DhcpState::Selecting | DhcpState::Requesting | DhcpState::Rebooting
        )
    }

    /// RFC 2131 §4.1: 4 s before the first retransmission, doubling up to
    /// 64 s, each randomised by -1..=+1 s.
    fn backoff(&self, net: &mut Net) -> Duration {
        let base_ms = 4000u64 << u32::from(self.tries.saturating_sub(1).min(4));
        let jitter = u64::from(net.rng.below(2001));
        Duration::from_millis(base_ms + jitter - 1000)
    }

    fn secs(&self, now: Instant) -> u16 {
        let s = now.saturating_since(self.started).total_millis() / 1000;
        u16::try_from(s).unwrap_or(u16::MAX)
    }

    /// Sends `msg`; false when it must be tried again shortly.
    fn transmit(&mut self, cx: &mut Ctx<'_>, msg: Message) -> bool {
        let who = Identity {
            client_id: self.client_id.get(..self.client_id_len).unwrap_or(&[]),
            hostname: self.hostname.get(..self.hostname_len).unwrap_or(&[]),
        };
        let secs = self.secs(cx.now);
        send::send(cx.net, cx.now, cx.iface, self.xid, secs, &who, msg)
    }

    /// Sends the state's message and schedules its retransmission.
    fn retransmit(&mut self, cx: &mut Ctx<'_>, msg: Message) {
        if !self.transmit(cx, msg) {
            self.next = Some(cx.now + TX_RETRY);
            return;
        }
        if self.tries > 0 {
            cx.net.stats.dhcp.retransmits += 1;
        }
        self.tries = self.tries.saturating_add(1);
        let delay = self.backoff(cx.net);
        self.next = Some(cx.now + delay);
    }

    /// Runs the timers; a state entered for an immediate send (INIT after
    /// a DECLINE or an expiry) sends in the same run.
    pub fn dispatch(&mut self, cx: &mut Ctx<'_>) {
        for _ in 0..3 {
            if self.next.is_none_or(|t| t > cx.now) {
                return;
            }
            let before = self.state;
            self.step(cx);
            if self.state == before {
                return;
            }
        }
    }

    fn step(&mut self, cx: &mut Ctx<'_>) {
        let now = cx.now;
        match self.state {
            DhcpState::Stopped => self.next = None,
            DhcpState::Selecting => {
                let hint = self.previous;
                self.retransmit(cx, Message::Discover { hint });
            }
            DhcpState::Requesting => match self.offer {
                Some((addr, server)) if self.tries < REQUEST_TRIES => {
                    self.retransmit(cx, Message::Select { addr, server });
                }
                _ => self.enter(cx.net, now, DhcpState::Selecting),
            },
            DhcpState::Rebooting => match self.previous {
                Some(addr) if self.tries < REBOOT_TRIES => {
                    self.retransmit(cx, Message::Reboot { addr });
                }
                _ => {
                    self.previous = None;
                    self.enter(cx.net, now, DhcpState::Selecting);
                }
            },
            DhcpState::Probing => self.probe(cx),
            DhcpState::Declined => self.enter(cx.net, now, DhcpState::Selecting),
            DhcpState::Bound => {
                self.state = DhcpState::Renewing;
                self.tries = 0;
                self.renew(cx);
            }
            DhcpState::Renewing => self.renew(cx),
            DhcpState::Rebinding => self.rebind(cx),
        }
    }

    /// RENEWING: unicast REQUESTs to our server until T2 (RFC 2131
    /// §4.4.5).
    fn renew(&mut self, cx: &mut Ctx<'_>) {
        let Some(l) = self.lease else {
            return self.enter(cx.net, cx.now, DhcpState::Selecting);
        };
        match l.rebind_at() {
            Some(t2) if cx.now >= t2 => {
                self.state = DhcpState::Rebinding;
                self.tries = 0;
                self.rebind(cx)
            }
            Some(t2) => {
                let msg = Message::Renew {
                    addr: l.address.address(),
                    server: l.server,
                };
                self.extend(cx, msg, t2);
            }
            None => self.next = None,
        }
    }

    /// REBINDING: broadcast REQUESTs to any server until the lease ends.
    fn rebind(&mut self, cx: &mut Ctx<'_>) {
        let Some(l) = self.lease else {
            return self.enter(cx.net, cx.now, DhcpState::Selecting);
        };
        match l.expires_at() {
            Some(end) if cx.now >= end => self.expire(cx, l),
            Some(end) => {
                let msg = Message::Rebind {
                    addr: l.address.address(),
                };
                self.extend(cx, msg, end);
            }
            None => self.next = None,
        }
    }

    /// Sends a REQUEST extending the lease (a new xid for each phase) and
    /// schedules the next one half way to `until`.
    fn extend(&mut self, cx: &mut Ctx<'_>, msg: Message, until: Instant) {
        if self.tries == 0 {
            self.xid = cx.net.rng.next_u32();
            self.started = cx.now;
        }
        if !self.transmit(cx, msg) {
            // No route or frame slot: try again later, not past `until`.
            self.next = Some((cx.now + Duration::from_secs(1)).min(until));
            return;
        }
        if self.tries > 0 {
            cx.net.stats.dhcp.retransmits += 1;
        }
        self.tries = self.tries.saturating_add(1);
        self.next = Some(half_way(cx.now, until));
    }

    /// The lease ran out (RFC 2131 §4.4.5): stop using the address, start
    /// over.
    fn expire(&mut self, cx: &mut Ctx<'_>, l: DhcpLease) {
        lease::unapply(cx.net, cx.dns, cx.iface, &l);
        self.lease = None;
        cx.net.stats.dhcp.expiries += 1;
        cx.event(Event::DhcpLost {
            iface: cx.iface,
            reason: LeaseLost::Expired,
        });
        self.enter(cx.net, cx.now, DhcpState::Selecting);
    }

    /// PROBING: RFC 5227 §2.1.1 probes, then the address is ours.
    fn probe(&mut self, cx: &mut Ctx<'_>) {
        let Some(p) = self.pending else {
            return self.enter(cx.net, cx.now, DhcpState::Selecting);
        };
        let addr = p.address.address();
        if self.conflict {
            // RFC 2131 §3.1 step 5: DECLINE, wait, start over.
            cx.net.stats.dhcp.declines += 1;
            self.transmit(
                cx,
                Message::Decline {
                    addr,
                    server: p.server,
                },
            );
            self.pending = None;
            self.previous = None;
            self.state = DhcpState::Declined;
            self.next = Some(cx.now + DECLINE_WAIT);
            return;
        }
        if usize::from(self.tries) < DHCP_ARP_PROBES {
            if send::probe(cx.net, cx.iface, addr) {
                self.tries += 1;
                self.next = Some(cx.now + Duration::from_millis(DHCP_PROBE_INTERVAL_MS as u64));
            } else {
                self.next = Some(cx.now + TX_RETRY);
            }
            return;
        }
        self.bind(cx, p);
    }

    /// Takes `l` into use.
    fn bind(&mut self, cx: &mut Ctx<'_>, l: DhcpLease) {
        let old = self.lease;
        lease::apply(cx.net, cx.dns, cx.iface, old.as_ref(), &l);
        let renewal = old.is_some();
        self.lease = Some(l);
        self.pending = None;
        self.previous = Some(l.address.address());
        self.state = DhcpState::Bound;
        self.tries = 0;
        self.next = l.renew_at();
        if renewal {
            cx.net.stats.dhcp.renewals += 1;
            cx.event(Event::DhcpRenewed { iface: cx.iface });
        } else {
            cx.net.stats.dhcp.leases += 1;
            cx.event(Event::DhcpBound { iface: cx.iface });
        }
    }

    /// An ARP packet from another host seen on the interface while
    /// probing: someone using the address, or probing for it too (RFC 5227
    /// §2.1.1).
    pub fn arp_seen(&mut self, now: Instant, arp: &ArpRepr) {
        let Some(p) = self.pending.filter(|_| self.state == DhcpState::Probing) else {
            return;
        };
        let addr = p.address.address();
        let uses = arp.source_protocol_addr == addr;
        let probes = arp.operation == ArpOperation::Request
            && arp.source_protocol_addr.is_unspecified()
            && arp.target_protocol_addr == addr;
        if uses || probes {
            self.conflict = true;
            self.next = Some(now);
        }
    }

    /// A DHCP message from a server, already parsed.
    pub fn input(&mut self, cx: &mut Ctx<'_>, mac: EthernetAddress, m: &DhcpRepr<'_>) {
        let stats = &mut cx.net.stats.dhcp;
        if m.op != OpCode::Reply || m.xid != self.xid || m.client_hw != mac {
            stats.drop_unexpected += 1;
            return;
        }
        // Once an offer is chosen, only its server may answer; while
        // renewing, only the server of the lease (RFC 2131 §4.4.5).
        let chosen = match self.state {
            DhcpState::Requesting => self.offer.map(|(_, s)| s),
            DhcpState::Renewing => self.lease.map(|l| l.server),
            _ => None,
        };
        if chosen.is_some() && m.server_id != chosen {
            stats.drop_unexpected += 1;
            return;
        }
        match (self.state, m.message_type) {
            (DhcpState::Selecting, MessageType::Offer) => {
                if !usable_host_address(m.your_ip) || m.server_id.is_none() {
                    stats.drop_bogus += 1;
                    return;
                }
                self.offer = m.server_id.map(|s| (m.your_ip, s));
                self.state = DhcpState::Requesting;
                self.tries = 0;
                self.next = Some(cx.now);
            }
            (
                DhcpState::Requesting
                | DhcpState::Rebooting
                | DhcpState::Renewing
                | DhcpState::Rebinding,
                MessageType::Ack,
            ) => {
                let Ok(l) = DhcpLease::from_ack(m, cx.now) else {
                    stats.drop_bogus += 1;
                    return;
                };
                let same = self
                    .lease
                    .is_some_and(|old| old.address.address() == l.address.address());
                if same || DHCP_ARP_PROBES == 0 {
                    // An extended lease keeps its address: no probe.
                    return self.bind(cx, l);
                }
                if let Some(old) = self.lease.take() {
                    // The server moved us: the old address goes now.
                    lease::unapply(cx.net, cx.dns, cx.iface, &old);
                    cx.event(Event::DhcpLost {
                        iface: cx.iface,
                        reason: LeaseLost::Replaced,
                    });
                }
                self.pending = Some(l);
                self.conflict = false;
                self.state = DhcpState::Probing;
                self.tries = 0;
                self.next = Some(cx.now);
            }
            (
                DhcpState::Requesting
                | DhcpState::Rebooting
                | DhcpState::Renewing
                | DhcpState::Rebinding,
                MessageType::Nak,
            ) => {
                stats.naks += 1;
                if let Some(old) = self.lease.take() {
                    lease::unapply(cx.net, cx.dns, cx.iface, &old);
                    cx.event(Event::DhcpLost {
                        iface: cx.iface,
                        reason: LeaseLost::Nak,
                    });
                }
                self.previous = None;
                self.enter(cx.net, cx.now, DhcpState::Selecting);
            }
            _ => stats.drop_unexpected += 1,
        }
    }
}

/// Half the time left until `end`, but at least [`MIN_RENEW_RETRY`] and
/// never past `end` (RFC 2131 §4.4.5).
fn half_way(now: Instant, end: Instant) -> Instant {
    let left = end.saturating_since(now).total_micros();
    let wait = Duration::from_micros(left / 2).max(MIN_RENEW_RETRY);
    (now + wait).min(end)
}
