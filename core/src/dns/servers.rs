//! The servers the resolver asks: those set by hand first, then those the
//! DHCP client learned on each interface (option 6, RFC 2132 §3.8), without
//! duplicates, at most [`DNS_SERVERS`].

use heapless::Vec;

use super::DnsServersError;
use crate::addr::Ipv4Addr;
use crate::config::{DNS_SERVERS, INTERFACES};
use crate::iface::IfaceId;

/// A list of server addresses.
pub(crate) type ServerList = Vec<Ipv4Addr, DNS_SERVERS>;

/// Whether `a` can be a server's address: not 0.0.0.0, not a broadcast or
/// multicast address (a unicast query must get a unicast answer from the
/// address it was sent to, RFC 5452 §4.3).
pub(crate) fn usable(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast())
}

/// The configured servers.
pub(crate) struct Servers {
    manual: ServerList,
    /// Indexed by Ethernet interface (`IfaceId(n)` at `n - 1`).
    dhcp: [ServerList; INTERFACES],
}

impl Servers {
    pub const fn new() -> Self {
        Servers {
            manual: Vec::new(),
            dhcp: [const { Vec::new() }; INTERFACES],
        }
    }

    /// Replaces the servers set by hand.
    pub fn set_manual(&mut self, servers: &[Ipv4Addr]) -> Result<(), DnsServersError> {
        if servers.len() > DNS_SERVERS {
            return Err(DnsServersError::TooMany);
        }
        if !servers.iter().all(|&a| usable(a)) {
            return Err(DnsServersError::Invalid);
        }
        self.manual.clear();
        for &a in servers {
            // Cannot fail: the length was checked.
            let _ = self.manual.push(a);
        }
        Ok(())
    }

    /// Replaces the servers learned on `iface`; unusable addresses and
    /// those past [`DNS_SERVERS`] are left out.
    pub fn set_dhcp(&mut self, iface: IfaceId, servers: &[Ipv4Addr]) {
        let Some(i) = usize::from(iface.0).checked_sub(1) else {
            return;
        };
        let Some(list) = self.dhcp.get_mut(i) else {
            return;
        };
        list.clear();
        for &a in servers.iter().filter(|&&a| usable(a)) {
            if list.push(a).is_err() {
                break;
            }
        }
    }

    /// The servers in the order they are tried.
    pub fn list(&self) -> ServerList {
        let mut out = ServerList::new();
        let all = self.manual.iter().chain(self.dhcp.iter().flatten());
        for &a in all {
            if !out.contains(&a) && out.push(a).is_err() {
                break;
            }
        }
        out
    }

    /// Whether no server is known.
    pub fn is_empty(&self) -> bool {
        self.manual.is_empty() && self.dhcp.iter().all(|l| l.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, n)
    }

    #[test]
    fn manual_first_then_dhcp_deduplicated() {
        let mut s = Servers::new();
        assert!(s.is_empty());
        s.set_dhcp(IfaceId(1), &[ip(3), ip(1), Ipv4Addr::BROADCAST]);
        assert_eq!(s.list(), [ip(3), ip(1)]);
        s.set_manual(&[ip(1)]).unwrap();
        assert_eq!(s.list(), [ip(1), ip(3)]);
        s.set_dhcp(IfaceId::LOOPBACK, &[ip(9)]);
        s.set_dhcp(IfaceId(200), &[ip(9)]);
        assert_eq!(s.list(), [ip(1), ip(3)], "no such interface: ignored");
        s.set_dhcp(IfaceId(1), &[]);
        assert_eq!(s.list(), [ip(1)]);
        s.set_manual(&[]).unwrap();
        assert!(s.is_empty() && s.list().is_empty());
    }

    #[test]
    fn limits_and_invalid_addresses() {
        let mut s = Servers::new();
        let many: std::vec::Vec<_> = (1..=DNS_SERVERS as u8 + 1).map(ip).collect();
        assert_eq!(s.set_manual(&many), Err(DnsServersError::TooMany));
        assert!(s.set_manual(&many[..DNS_SERVERS]).is_ok());
        for bad in [
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(224, 0, 0, 251),
        ] {
            assert_eq!(s.set_manual(&[bad]), Err(DnsServersError::Invalid));
        }
        assert_eq!(
            s.list().len(),
            DNS_SERVERS,
            "a refused call changes nothing"
        );
        if INTERFACES > 0 {
            s.set_dhcp(IfaceId(1), &[Ipv4Addr::new(198, 51, 100, 1)]);
            assert_eq!(s.list().len(), DNS_SERVERS, "at most DNS_SERVERS in all");
        }
    }
}
