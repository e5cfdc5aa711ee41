//! The routing table: static routes and a default gateway, plus the
//! connected routes implied by interface addresses, resolved by longest
//! prefix match (RFC 1812 §5.2.4.3).

use crate::addr::{Ipv4Addr, Ipv4Cidr};
use crate::config::ROUTES;
use crate::iface::IfaceId;

/// One static route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destinations this route covers; `0.0.0.0/0` is the default route.
    pub dest: Ipv4Cidr,
    /// The router to send through, or `None` for an on-link destination.
    pub gateway: Option<Ipv4Addr>,
    /// The interface to send on.
    pub iface: IfaceId,
    /// Tie-breaker among routes of the same prefix length: lower wins.
    pub metric: u16,
}

/// Why a route could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// All `ROUTES` slots are taken.
    TableFull,
    /// The interface does not exist.
    NoSuchInterface,
    /// The same destination and gateway are already in the table.
    Exists,
    /// The gateway is not on a connected subnet of the interface.
    GatewayUnreachable,
}

/// Where a datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    /// Egress interface.
    pub iface: IfaceId,
    /// The address whose hardware address the frame is sent to.
    pub via: Ipv4Addr,
}

/// Fixed-size table of static routes.
#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: [Option<Route>; ROUTES],
}

impl Default for RouteTable {
    fn default() -> Self {
        Self::new()
    }
}

impl RouteTable {
    /// An empty table.
    pub const fn new() -> Self {
        RouteTable {
            routes: [None; ROUTES],
        }
    }

    /// Adds a route; `TableFull` past `ROUTES`.
    pub fn add(&mut self, route: Route) -> Result<(), RouteError> {
        let normalized = Route {
            dest: normalize(route.dest),
            ..route
        };
        if self.routes.iter().flatten().any(|r| {
            r.dest == normalized.dest
                && r.gateway == normalized.gateway
                && r.iface == normalized.iface
        }) {
            return Err(RouteError::Exists);
        }
        let slot = self
            .routes
            .iter_mut()
            .find(|r| r.is_none())
            .ok_or(RouteError::TableFull)?;
        *slot = Some(normalized);
        Ok(())
    }

    /// Removes every route to `dest`; returns how many were removed.
    pub fn remove(&mut self, dest: Ipv4Cidr) -> usize {
        let dest = normalize(dest);
        let mut n = 0;
        for slot in self.routes.iter_mut() {
            if slot.is_some_and(|r| r.dest == dest) {
                *slot = None;
                n += 1;
            }
        }
        n
    }

    /// Removes the routes `f` selects; returns how many were removed.
    pub fn remove_where(&mut self, f: impl Fn(&Route) -> bool) -> usize {
        let mut n = 0;
        for slot in self.routes.iter_mut() {
            if slot.as_ref().is_some_and(&f) {
                *slot = None;
                n += 1;
            }
        }
        n
    }

    /// Removes all routes through `iface` (when it goes away).
    pub fn remove_iface(&mut self, iface: IfaceId) {
        for slot in self.routes.iter_mut() {
            if slot.is_some_and(|r| r.iface == iface) {
                *slot = None;
            }
        }
    }

    /// The static routes.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().flatten()
    }

    /// Longest-prefix match over the static routes and the connected
    /// `subnets` (interface, prefix). A connected route wins a tie with a
    /// static one of the same length; among static routes the lower metric,
    /// then the earlier entry, wins.
    pub fn lookup(
        &self,
        dst: Ipv4Addr,
        subnets: impl Iterator<Item = (IfaceId, Ipv4Cidr)>,
    ) -> Option<NextHop> {
        let mut best: Option<(u8, u32, NextHop)> = None; // (prefix, rank, hop)
        let mut consider = |len: u8, rank: u32, hop: NextHop| match best {
            Some((blen, brank, _)) if (blen, u32::MAX - brank) >= (len, u32::MAX - rank) => {}
            _ => best = Some((len, rank, hop)),
        };
        for (iface, cidr) in subnets {
            if cidr.contains(dst) {
                consider(cidr.prefix_len(), 0, NextHop { iface, via: dst });
            }
        }
        for r in self.iter() {
            if r.dest.contains(dst) {
                let via = r.gateway.unwrap_or(dst);
                consider(
                    r.dest.prefix_len(),
                    1 + u32::from(r.metric),
                    NextHop {
                        iface: r.iface,
                        via,
                    },
                );
            }
        }
        best.map(|(_, _, hop)| hop)
    }
}

fn normalize(c: Ipv4Cidr) -> Ipv4Cidr {
    Ipv4Cidr::new(c.network(), c.prefix_len()).unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }
    const E1: IfaceId = IfaceId(1);
    const E2: IfaceId = IfaceId(2);

    fn subnets() -> impl Iterator<Item = (IfaceId, Ipv4Cidr)> {
        [(E1, cidr("192.0.2.2/24")), (E2, cidr("198.51.100.2/24"))].into_iter()
    }

    #[test]
    fn connected_routes_and_default() {
        let mut t = RouteTable::new();
        assert_eq!(
            t.lookup(ip("203.0.113.9"), subnets()),
            None,
            "no default yet"
        );
        t.add(Route {
            dest: cidr("0.0.0.0/0"),
            gateway: Some(ip("192.0.2.1")),
            iface: E1,
            metric: 0,
        })
        .unwrap();
        assert_eq!(
            t.lookup(ip("192.0.2.77"), subnets()),
            Some(NextHop {
                iface: E1,
                via: ip("192.0.2.77")
            })
        );
        assert_eq!(
            t.lookup(ip("198.51.100.9"), subnets()),
            Some(NextHop {
                iface: E2,
                via: ip("198.51.100.9")
            })
        );
        assert_eq!(
            t.lookup(ip("203.0.113.9"), subnets()),
            Some(NextHop {
                iface: E1,
                via: ip("192.0.2.1")
            })
        );
    }

    #[test]
    fn longest_prefix_wins_whatever_the_order() {
        let mut t = RouteTable::new();
        t.add(Route {
            dest: cidr("203.0.113.0/24"),
            gateway: Some(ip("192.0.2.1")),
            iface: E1,
            metric: 0,
        })
        .unwrap();
        t.add(Route {
            dest: cidr("203.0.113.128/25"),
            gateway: Some(ip("198.51.100.1")),
            iface: E2,
            metric: 0,
        })
        .unwrap();
        t.add(Route {
            dest: cidr("203.0.113.200/32"),
            gateway: Some(ip("192.0.2.9")),
            iface: E1,
            metric: 0,
        })
        .unwrap();
        t.add(Route {
            dest: cidr("0.0.0.0/0"),
            gateway: Some(ip("192.0.2.254")),
            iface: E1,
            metric: 0,
        })
        .unwrap();
        let via = |d| t.lookup(ip(d), subnets()).unwrap().via;
        assert_eq!(via("203.0.113.5"), ip("192.0.2.1"));
        assert_eq!(via("203.0.113.129"), ip("198.51.100.1"));
        assert_eq!(via("203.0.113.200"), ip("192.0.2.9"));
        assert_eq!(via("8.8.8.8"), ip("192.0.2.254"));
    }

    #[test]
    fn metric_breaks_ties_and_connected_beats_static() {
        let mut t = RouteTable::new();
        t.add(Route {
            dest: cidr("0.0.0.0/0"),
            gateway: Some(ip("192.0.2.1")),
            iface: E1,
            metric: 10,
        })
        .unwrap();
        t.add(Route {
            dest: cidr("0.0.0.0/0"),
            gateway: Some(ip("198.51.100.1")),
            iface: E2,
            metric: 5,
        })
        .unwrap();
        assert_eq!(t.lookup(ip("8.8.8.8"), subnets()).unwrap().iface, E2);
        t.add(Route {
            dest: cidr("192.0.2.0/24"),
            gateway: Some(ip("198.51.100.1")),
            iface: E2,
            metric: 0,
        })
        .unwrap();
        assert_eq!(
            t.lookup(ip("192.0.2.9"), subnets()).unwrap(),
            NextHop {
                iface: E1,
                via: ip("192.0.2.9")
            }
        );
    }

    #[test]
    fn capacity_is_an_error_and_remove_frees() {
        let mut t = RouteTable::new();
        for i in 0..ROUTES {
            let dest = Ipv4Cidr::new(Ipv4Addr::new(10, i as u8, 0, 0), 16).unwrap();
            t.add(Route {
                dest,
                gateway: None,
                iface: E1,
                metric: 0,
            })
            .unwrap();
        }
        let extra = Route {
            dest: cidr("203.0.113.0/24"),
            gateway: None,
            iface: E1,
            metric: 0,
        };
        assert_eq!(t.add(extra), Err(RouteError::TableFull));
        assert_eq!(t.remove(cidr("10.0.5.5/16")), 1, "host bits are ignored");
        t.add(extra).unwrap();
        assert_eq!(t.add(extra), Err(RouteError::Exists));
    }
}
