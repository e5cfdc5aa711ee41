//! DHCPv4 client (RFC 2131, options RFC 2132), one per Ethernet interface,
//! with its own fixed state: it never takes a UDP socket slot.
//!
//! * `client.rs`: the state machine (INIT, SELECTING, REQUESTING,
//!   INIT-REBOOT, the ARP check, BOUND, RENEWING, REBINDING) and its timers;
//! * `lease.rs`: what an ACK grants and how it is applied to the interface
//!   (address, default route, DNS servers) and taken back;
//! * `send.rs`: the messages the client sends.
//!
//! A running client owns UDP port 68 of its interface: datagrams from port
//! 67 to port 68 reach it before any socket, also those a server unicasts to
//! the address it offers before we hold it. Lease changes are reported as
//! [`Event`](crate::Event)s.
//!
//! ```
//! use wolfip_core::{Stack, IfaceConfig, dhcp::DhcpConfig};
//! use wolfip_core::rand::FixedSeed;
//! use wolfip_core::wire::EthernetAddress;
//! # std::thread::Builder::new().stack_size(256 << 20).spawn(|| {
//! let mut stack = Box::new(Stack::new(&mut FixedSeed(1)));
//! let eth0 = stack.add_interface(IfaceConfig::ethernet(EthernetAddress([2, 0, 0, 0, 0, 1]))).unwrap();
//! let cfg = DhcpConfig { hostname: Some("sensor-7"), ..DhcpConfig::default() };
//! stack.dhcp_start(eth0, &cfg).unwrap();
//! // ... drive the stack; Event::DhcpBound says when the lease is applied.
//! # }).unwrap().join().unwrap();
//! ```

mod client;
mod lease;
mod send;

pub use lease::DhcpLease;

use crate::config::{DHCP_HOSTNAME_LEN, INTERFACES};
use crate::dns::DnsClient;
use crate::event::Events;
use crate::iface::IfaceId;
use crate::ip::Clients;
use crate::net::Net;
use crate::time::Instant;
use crate::wire::dhcp::{DhcpPacket, DhcpRepr};
use crate::wire::{ArpRepr, Ipv4Repr, UdpPacket, UdpRepr};
use crate::Stack;
use client::{Client, Ctx};

/// Longest client identifier (option 61) the client sends.
pub const CLIENT_ID_LEN: usize = 32;

/// Where the client of an interface is (RFC 2131 figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpState {
    /// Not running.
    Stopped,
    /// INIT/SELECTING: DISCOVERs sent, waiting for an offer.
    Selecting,
    /// REQUESTING: an offer chosen, its REQUEST sent.
    Requesting,
    /// INIT-REBOOT/REBOOTING: asking for the address we had.
    Rebooting,
    /// ACKed; ARP probes check nobody uses the address (RFC 5227 §2.1).
    Probing,
    /// The address was in use: DECLINE sent, waiting before INIT.
    Declined,
    /// The lease is applied.
    Bound,
    /// Past T1: asking our server to extend the lease.
    Renewing,
    /// Past T2: asking any server to extend the lease.
    Rebinding,
}

/// How to start a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DhcpConfig<'a> {
    /// Hostname sent in option 12 (at most [`DHCP_HOSTNAME_LEN`] bytes).
    pub hostname: Option<&'a str>,
    /// Client identifier, option 61 (at most [`CLIENT_ID_LEN`] bytes);
    /// default: type 1 (Ethernet) and the interface's MAC (RFC 2132 §9.14).
    pub client_id: Option<&'a [u8]>,
    /// An address held before (kept in flash, say): the client asks for it
    /// again first (INIT-REBOOT, RFC 2131 §3.2). Without it the client
    /// still asks for the address it last held on this interface since the
    /// stack was made.
    pub previous: Option<crate::addr::Ipv4Addr>,
}

/// Why a DHCP call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpError {
    /// No such Ethernet interface (the loopback has no DHCP).
    NoSuchInterface,
    /// The client of this interface already runs.
    AlreadyRunning,
    /// The client of this interface does not run.
    NotRunning,
    /// The hostname is empty or longer than [`DHCP_HOSTNAME_LEN`].
    BadHostname,
    /// The client identifier is shorter than 2 or longer than
    /// [`CLIENT_ID_LEN`] bytes (RFC 2132 §9.14).
    BadClientId,
}

impl core::fmt::Display for DhcpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DhcpError::NoSuchInterface => "no such interface",
            DhcpError::AlreadyRunning => "DHCP client already running",
            DhcpError::NotRunning => "DHCP client not running",
            DhcpError::BadHostname => "bad hostname",
            DhcpError::BadClientId => "bad client identifier",
        })
    }
}

/// The clients of every Ethernet interface.
pub(crate) struct DhcpClients {
    clients: [Client; INTERFACES],
}

impl DhcpClients {
    pub const fn new() -> Self {
        DhcpClients {
            clients: [Client::STOPPED; INTERFACES],
        }
    }

    fn get(&self, iface: IfaceId) -> Option<&Client> {
        usize::from(iface.0)
            .checked_sub(1)
            .and_then(|i| self.clients.get(i))
    }

    fn get_mut(&mut self, iface: IfaceId) -> Option<&mut Client> {
        usize::from(iface.0)
            .checked_sub(1)
            .and_then(|i| self.clients.get_mut(i))
    }

    /// Whether the client of `iface` runs (and so owns its port 68).
    pub fn is_running(&self, iface: IfaceId) -> bool {
        self.get(iface)
            .is_some_and(|c| c.state != DhcpState::Stopped)
    }

    /// Whether the client of `iface` waits for an answer that a server may
    /// unicast to an address we do not hold yet.
    pub fn accepts_unicast(&self, iface: IfaceId) -> bool {
        self.get(iface).is_some_and(Client::accepts_unicast)
    }

    /// Forgets the client of a removed interface (nothing is sent).
    pub fn forget(&mut self, iface: IfaceId) {
        if let Some(c) = self.get_mut(iface) {
            *c = Client::STOPPED;
        }
    }

    /// A DHCP message (a UDP payload from port 67 to port 68) received on
    /// `iface`.
    pub fn input(
        &mut self,
        net: &mut Net,
        dns: &mut DnsClient,
        events: &mut Events,
        now: Instant,
        iface: IfaceId,
        payload: &[u8],
    ) {
        let Some(mac) = net.iface(iface).map(|f| f.mac) else {
            return;
        };
        let Some(c) = self.get_mut(iface) else {
            return;
        };
        net.stats.dhcp.rx += 1;
        let repr = match DhcpPacket::new_checked(payload).and_then(|p| DhcpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => {
                net.stats.dhcp.drop_malformed += 1;
                return;
            }
        };
        let mut cx = Ctx {
            net,
            dns,
            events,
            iface,
            now,
        };
        c.input(&mut cx, mac, &repr);
    }

    /// An ARP packet from another host on `iface` (address conflict check;
    /// our own packets never get here).
    pub fn arp_seen(&mut self, now: Instant, iface: IfaceId, arp: &ArpRepr) {
        if let Some(c) = self.get_mut(iface) {
            c.arp_seen(now, arp);
        }
    }

    /// Runs the timers of every client.
    pub fn dispatch(
        &mut self,
        net: &mut Net,
        dns: &mut DnsClient,
        events: &mut Events,
        now: Instant,
    ) {
        for (i, c) in self.clients.iter_mut().enumerate() {
            if c.poll_at().is_none_or(|t| t > now) {
                continue;
            }
            let mut cx = Ctx {
                net: &mut *net,
                dns: &mut *dns,
                events: &mut *events,
                iface: IfaceId(i as u8 + 1),
                now,
            };
            c.dispatch(&mut cx);
        }
    }

    /// When a client next needs to run.
    pub fn poll_at(&self) -> Option<Instant> {
        self.clients.iter().filter_map(Client::poll_at).min()
    }
}

impl Net {
    /// A UDP datagram sent to an address we do not hold, on an interface
    /// whose DHCP client waits for a unicast OFFER or ACK (RFC 2131 §4.1):
    /// only a datagram from port 67 to port 68 with a valid checksum gets
    /// through.
    pub(crate) fn dhcp_unicast_input(
        &mut self,
        now: Instant,
        iface: IfaceId,
        ip: &Ipv4Repr,
        payload: &[u8],
        clients: Clients<'_>,
    ) {
        let udp = UdpPacket::new_checked(payload)
            .and_then(|p| UdpRepr::parse(&p, ip.src_addr, ip.dst_addr).map(|r| (r, p)));
        match udp {
            Ok((r, p))
                if r.src_port == crate::wire::dhcp::SERVER_PORT
                    && r.dst_port == crate::wire::dhcp::CLIENT_PORT =>
            {
                self.stats.udp.rx += 1;
                clients
                    .dhcp
                    .input(self, clients.dns, clients.events, now, iface, p.payload());
            }
            _ => self.stats.ip.drop_not_for_us += 1,
        }
    }
}

impl Stack {
    /// Starts the DHCP client of `iface`. It asks for the address it had
    /// before (INIT-REBOOT) or discovers a server (INIT); the lease's
    /// address, default route and DNS servers are applied once an ARP check
    /// found the address free, and [`Event::DhcpBound`](crate::Event) says so.
    pub fn dhcp_start(&mut self, iface: IfaceId, cfg: &DhcpConfig<'_>) -> Result<(), DhcpError> {
        let mac = self.net.iface(iface).ok_or(DhcpError::NoSuchInterface)?.mac;
        let hostname = cfg.hostname.map(str::as_bytes).unwrap_or(&[]);
        if cfg.hostname.is_some() && (hostname.is_empty() || hostname.len() > DHCP_HOSTNAME_LEN) {
            return Err(DhcpError::BadHostname);
        }
        let mut id_buf = [0u8; 7];
        id_buf[0] = 1;
        id_buf[1..].copy_from_slice(&mac.0);
        let client_id = cfg.client_id.unwrap_or(&id_buf);
        if client_id.len() < 2 || client_id.len() > CLIENT_ID_LEN {
            return Err(DhcpError::BadClientId);
        }
        let now = self.net.clock;
        let c = self.dhcp.get_mut(iface).ok_or(DhcpError::NoSuchInterface)?;
        if c.state != DhcpState::Stopped {
            return Err(DhcpError::AlreadyRunning);
        }
        if let Some(p) = cfg.previous {
            c.previous = Some(p);
        }
        c.start(&mut self.net, now, hostname, client_id);
        Ok(())
    }

    /// Stops the DHCP client of `iface`: a held lease is released (RFC 2131
    /// §4.4.6), its address, default route and DNS servers removed.
    pub fn dhcp_stop(&mut self, iface: IfaceId) -> Result<(), DhcpError> {
        let now = self.net.clock;
        let c = self.dhcp.get_mut(iface).ok_or(DhcpError::NoSuchInterface)?;
        if c.state == DhcpState::Stopped {
            return Err(DhcpError::NotRunning);
        }
        let mut cx = Ctx {
            net: &mut self.net,
            dns: &mut self.dns,
            events: &mut self.events,
            iface,
            now,
        };
        c.stop(&mut cx);
        Ok(())
    }

    /// Where the DHCP client of `iface` is ([`DhcpState::Stopped`] for an
    /// unknown interface).
    pub fn dhcp_state(&self, iface: IfaceId) -> DhcpState {
        self.dhcp.get(iface).map_or(DhcpState::Stopped, |c| c.state)
    }

    /// The lease applied to `iface`, if any.
    pub fn dhcp_lease(&self, iface: IfaceId) -> Option<DhcpLease> {
        self.dhcp.get(iface).and_then(|c| c.lease)
    }
}
