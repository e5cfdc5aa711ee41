//! IPv4 address helpers: [`Ipv4Cidr`] (an address with its prefix length).

use core::fmt;
pub use core::net::{Ipv4Addr, SocketAddrV4};

/// An interface address with its prefix length, such as `192.0.2.2/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix_len: u8,
}

/// A prefix length above 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPrefix;

impl Ipv4Cidr {
    /// An address with a prefix length of at most 32.
    pub const fn new(addr: Ipv4Addr, prefix_len: u8) -> Result<Self, BadPrefix> {
        if prefix_len > 32 {
            return Err(BadPrefix);
        }
        Ok(Ipv4Cidr { addr, prefix_len })
    }
    /// The address.
    pub const fn address(&self) -> Ipv4Addr {
        self.addr
    }
    /// The prefix length.
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }
    /// The netmask as a number.
    pub const fn mask_bits(&self) -> u32 {
        if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix_len as u32)
        }
    }
    /// The netmask, e.g. 255.255.255.0 for /24.
    pub const fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.mask_bits())
    }
    /// The network address (host bits cleared).
    pub const fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.addr.to_bits() & self.mask_bits())
    }
    /// The directed broadcast address of the subnet; `None` for /31 and /32,
    /// which have none (RFC 3021).
    pub const fn broadcast(&self) -> Option<Ipv4Addr> {
        if self.prefix_len >= 31 {
            None
        } else {
            Some(Ipv4Addr::from_bits(self.addr.to_bits() | !self.mask_bits()))
        }
    }
    /// Whether `ip` lies inside this prefix.
    pub const fn contains(&self, ip: Ipv4Addr) -> bool {
        (ip.to_bits() & self.mask_bits()) == (self.addr.to_bits() & self.mask_bits())
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl core::str::FromStr for Ipv4Cidr {
    type Err = BadPrefix;
    /// Parses `a.b.c.d/len`; a bare address means /32.
    fn from_str(s: &str) -> Result<Self, BadPrefix> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, p.parse::<u8>().map_err(|_| BadPrefix)?),
            None => (s, 32),
        };
        let addr = a.parse::<Ipv4Addr>().map_err(|_| BadPrefix)?;
        Ipv4Cidr::new(addr, p)
    }
}

/// Whether an address may never be the source of a datagram we accept
/// (RFC 1122 §3.2.1.3): broadcast, multicast, or class E.
pub const fn is_martian_source(ip: Ipv4Addr) -> bool {
    ip.is_broadcast() || ip.is_multicast() || ip.octets()[0] >= 240
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_math() {
        let c: Ipv4Cidr = "192.0.2.77/24".parse().unwrap();
        assert_eq!(c.network(), Ipv4Addr::new(192, 0, 2, 0));
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(c.broadcast(), Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert!(c.contains(Ipv4Addr::new(192, 0, 2, 1)));
        assert!(!c.contains(Ipv4Addr::new(192, 0, 3, 1)));
        let all: Ipv4Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(Ipv4Addr::new(203, 0, 113, 9)));
        assert_eq!("1.2.3.4/33".parse::<Ipv4Cidr>(), Err(BadPrefix));
        assert_eq!("1.2.3.4/31".parse::<Ipv4Cidr>().unwrap().broadcast(), None);
    }
}
