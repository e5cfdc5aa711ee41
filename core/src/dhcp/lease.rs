//! A DHCP lease: what an ACK grants (RFC 2131 §3.1 step 5, the options of
//! RFC 2132), its timers (RFC 2131 §4.4.5), and how it is applied to an
//! interface and taken back.

use crate::addr::{Ipv4Addr, Ipv4Cidr};
use crate::dns::DnsClient;
use crate::iface::route::Route;
use crate::iface::IfaceId;
use crate::net::Net;
use crate::time::{Duration, Instant};
use crate::wire::dhcp::{DhcpRepr, MAX_DNS_SERVERS};

/// A lease granted by a DHCP server, as applied to an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpLease {
    /// Our address with the subnet's prefix (option 1; the class's prefix
    /// when the server sent no mask, RFC 2132 §3.3 leaves it to the client).
    pub address: Ipv4Cidr,
    /// The default router (option 3), when the server gave one inside the
    /// subnet.
    pub router: Option<Ipv4Addr>,
    /// DNS servers (option 6).
    pub dns_servers: [Option<Ipv4Addr>; MAX_DNS_SERVERS],
    /// The server that granted it (option 54).
    pub server: Ipv4Addr,
    /// When the lease was granted (when the ACK arrived).
    pub acquired: Instant,
    /// Its length (option 51); `None` for an infinite lease.
    pub lease_time: Option<Duration>,
    /// T1: renewal starts this long after `acquired` (option 58).
    pub renew_after: Duration,
    /// T2: rebinding starts this long after `acquired` (option 59).
    pub rebind_after: Duration,
}

/// Why an OFFER or ACK cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bogus;

/// Whether `ip` may be given to a host: not 0.0.0.0, broadcast, multicast,
/// loopback, class E, nor in 0/8.
pub(crate) fn usable_host_address(ip: Ipv4Addr) -> bool {
    let first = ip.octets()[0];
    !(ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_loopback()
        || first == 0
        || first >= 240)
}

/// The prefix of a class A, B or C network, for a server that sent no
/// mask.
fn class_prefix(ip: Ipv4Addr) -> u8 {
    match ip.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

/// The RFC 2131 §4.4.5 defaults: T1 = 0.5 and T2 = 0.875 of the lease.
fn default_timers(lease: Duration) -> (Duration, Duration) {
    let ms = lease.total_millis();
    (
        Duration::from_millis(ms / 2),
        Duration::from_millis(ms / 8 * 7),
    )
}

impl DhcpLease {
    /// The lease an ACK grants, or [`Bogus`] when it cannot be used: no
    /// usable address, no server identifier, no lease time (RFC 2131 §4.3.1
    /// says the server MUST send both), an address that is the subnet's
    /// network or broadcast address.
    pub(crate) fn from_ack(ack: &DhcpRepr<'_>, now: Instant) -> Result<DhcpLease, Bogus> {
        let address = ack.your_ip;
        if !usable_host_address(address) {
            return Err(Bogus);
        }
        let server = ack.server_id.ok_or(Bogus)?;
        let secs = ack.lease_time.ok_or(Bogus)?;
        let prefix = match ack.subnet_mask {
            Some(m) => u32::from(m).leading_ones() as u8,
            None => class_prefix(address),
        };
        let cidr = Ipv4Cidr::new(address, prefix).map_err(|_| Bogus)?;
        if prefix <= 30 && (address == cidr.network() || Some(address) == cidr.broadcast()) {
            return Err(Bogus);
        }
        let lease_time = match secs {
            0 => return Err(Bogus),
            u32::MAX => None,
            s => Some(Duration::from_secs(u64::from(s))),
        };
        let (renew_after, rebind_after) = match lease_time {
            // Never used: an infinite lease has no timers.
            None => {
                let forever = Duration::from_secs(u64::from(u32::MAX));
                (forever, forever)
            }
            Some(l) => {
                let (t1, t2) = default_timers(l);
                let given = |o: Option<u32>| o.map(|s| Duration::from_secs(u64::from(s)));
                match (given(ack.renew_time), given(ack.rebind_time)) {
                    // RFC 2131 §4.4.5: only timers that keep
                    // 0 < T1 < T2 < lease are taken.
                    (Some(a), Some(b)) if a.total_micros() > 0 && a < b && b < l => (a, b),
                    (Some(a), None) if a.total_micros() > 0 && a < t2 => (a, t2),
                    (None, Some(b)) if t1 < b && b < l => (t1, b),
                    _ => (t1, t2),
                }
            }
        };
        let router = ack
            .router
            .filter(|r| cidr.contains(*r) && *r != address && usable_host_address(*r));
        let mut dns_servers = [None; MAX_DNS_SERVERS];
        let usable = ack
            .dns_servers
            .iter()
            .flatten()
            .filter(|d| usable_host_address(**d));
        for (slot, d) in dns_servers.iter_mut().zip(usable) {
            *slot = Some(*d);
        }
        Ok(DhcpLease {
            address: cidr,
            router,
            dns_servers,
            server,
            acquired: now,
            lease_time,
            renew_after,
            rebind_after,
        })
    }

    /// When renewal starts (T1); `None` for an infinite lease.
    pub fn renew_at(&self) -> Option<Instant> {
        self.lease_time.map(|_| self.acquired + self.renew_after)
    }

    /// When rebinding starts (T2); `None` for an infinite lease.
    pub fn rebind_at(&self) -> Option<Instant> {
        self.lease_time.map(|_| self.acquired + self.rebind_after)
    }

    /// When the lease ends; `None` for an infinite lease.
    pub fn expires_at(&self) -> Option<Instant> {
        self.lease_time.map(|l| self.acquired + l)
    }

    /// The DNS servers as a slice-friendly array and count.
    fn dns_list(&self) -> ([Ipv4Addr; MAX_DNS_SERVERS], usize) {
        let mut out = [Ipv4Addr::UNSPECIFIED; MAX_DNS_SERVERS];
        let mut n = 0;
        for d in self.dns_servers.iter().flatten() {
            if let Some(slot) = out.get_mut(n) {
                *slot = *d;
                n += 1;
            }
        }
        (out, n)
    }
}

/// Configures `iface` from `new`, replacing what `old` had configured:
/// the address (announced with a gratuitous ARP, RFC 5227 §2.3), the
/// default route through the router, the DNS servers.
pub(crate) fn apply(
    net: &mut Net,
    dns: &mut DnsClient,
    iface: IfaceId,
    old: Option<&DhcpLease>,
    new: &DhcpLease,
) {
    if let Some(o) = old {
        remove_default_route(net, iface, o);
    }
    let Some(f) = net.iface_mut(iface) else {
        return;
    };
    let changed = f.addr != Some(new.address);
    f.addr = Some(new.address);
    if changed {
        net.announce(iface);
    }
    if let Some(gw) = new.router {
        let default = Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, 0).unwrap_or(new.address);
        // A full table keeps the lease without a default route: the subnet
        // itself still works.
        let _ = net.routes.add(Route {
            dest: default,
            gateway: Some(gw),
            iface,
            metric: 0,
        });
    }
    let (servers, n) = new.dns_list();
    dns.set_dhcp_servers(iface, servers.get(..n).unwrap_or(&[]));
}

/// Takes back what [`apply`] configured for `lease` (an address the
/// application replaced in the meantime is left alone).
pub(crate) fn unapply(net: &mut Net, dns: &mut DnsClient, iface: IfaceId, lease: &DhcpLease) {
    remove_default_route(net, iface, lease);
    if let Some(f) = net.iface_mut(iface) {
        if f.addr == Some(lease.address) {
            f.addr = None;
        }
    }
    dns.set_dhcp_servers(iface, &[]);
}

fn remove_default_route(net: &mut Net, iface: IfaceId, lease: &DhcpLease) {
    if let Some(gw) = lease.router {
        net.routes.remove_where(|r| {
            r.dest.prefix_len() == 0 && r.iface == iface && r.gateway == Some(gw)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dhcp::{MessageType, OpCode};
    use crate::wire::EthernetAddress;

    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 9]);
    const T0: Instant = Instant::from_secs(1000);

    fn ack() -> DhcpRepr<'static> {
        DhcpRepr {
            your_ip: Ipv4Addr::new(198, 51, 100, 50),
            server_id: Some(Ipv4Addr::new(198, 51, 100, 1)),
            subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            router: Some(Ipv4Addr::new(198, 51, 100, 1)),
            lease_time: Some(3600),
            ..DhcpRepr::new(OpCode::Reply, MessageType::Ack, 7, MAC)
        }
    }

    #[test]
    fn timers_default_to_half_and_seven_eighths() {
        let l = DhcpLease::from_ack(&ack(), T0).unwrap();
        assert_eq!(l.address, "198.51.100.50/24".parse().unwrap());
        assert_eq!(l.renew_at(), Some(T0 + Duration::from_secs(1800)));
        assert_eq!(l.rebind_at(), Some(T0 + Duration::from_secs(3150)));
        assert_eq!(l.expires_at(), Some(T0 + Duration::from_secs(3600)));
    }

    #[test]
    fn given_timers_are_taken_only_when_ordered() {
        let a = DhcpRepr {
            renew_time: Some(100),
            rebind_time: Some(200),
            ..ack()
        };
        let l = DhcpLease::from_ack(&a, T0).unwrap();
        assert_eq!(l.renew_after, Duration::from_secs(100));
        assert_eq!(l.rebind_after, Duration::from_secs(200));
        for (t1, t2) in [(300, 200), (0, 200), (100, 3600), (100, 9000)] {
            let a = DhcpRepr {
                renew_time: Some(t1),
                rebind_time: Some(t2),
                ..ack()
            };
            let l = DhcpLease::from_ack(&a, T0).unwrap();
            assert_eq!(
                (l.renew_after, l.rebind_after),
                (Duration::from_secs(1800), Duration::from_secs(3150)),
                "T1 {t1} T2 {t2} falls back to the defaults"
            );
        }
    }

    #[test]
    fn infinite_lease_has_no_timers() {
        let a = DhcpRepr {
            lease_time: Some(u32::MAX),
            ..ack()
        };
        let l = DhcpLease::from_ack(&a, T0).unwrap();
        assert_eq!(l.expires_at(), None);
        assert_eq!(l.renew_at(), None);
    }

    #[test]
    fn unusable_acks_are_bogus() {
        let cases = [
            DhcpRepr {
                your_ip: Ipv4Addr::UNSPECIFIED,
                ..ack()
            },
            DhcpRepr {
                your_ip: Ipv4Addr::BROADCAST,
                ..ack()
            },
            DhcpRepr {
                your_ip: Ipv4Addr::new(224, 0, 0, 1),
                ..ack()
            },
            DhcpRepr {
                your_ip: Ipv4Addr::new(127, 0, 0, 2),
                ..ack()
            },
            DhcpRepr {
                your_ip: Ipv4Addr::new(198, 51, 100, 0),
                ..ack()
            },
            DhcpRepr {
                your_ip: Ipv4Addr::new(198, 51, 100, 255),
                ..ack()
            },
            DhcpRepr {
                server_id: None,
                ..ack()
            },
            DhcpRepr {
                lease_time: None,
                ..ack()
            },
            DhcpRepr {
                lease_time: Some(0),
                ..ack()
            },
        ];
        for c in cases {
            assert_eq!(DhcpLease::from_ack(&c, T0), Err(Bogus), "{c:?}");
        }
    }

    #[test]
    fn router_outside_the_subnet_is_ignored_and_no_mask_means_the_class() {
        let a = DhcpRepr {
            router: Some(Ipv4Addr::new(203, 0, 113, 1)),
            ..ack()
        };
        assert_eq!(DhcpLease::from_ack(&a, T0).unwrap().router, None);
        let a = DhcpRepr {
            subnet_mask: None,
            your_ip: Ipv4Addr::new(10, 1, 2, 3),
            router: Some(Ipv4Addr::new(10, 0, 0, 1)),
            ..ack()
        };
        let l = DhcpLease::from_ack(&a, T0).unwrap();
        assert_eq!(l.address.prefix_len(), 8);
        assert_eq!(l.router, Some(Ipv4Addr::new(10, 0, 0, 1)));
    }
}
