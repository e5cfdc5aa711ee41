//! Interfaces: their addresses, ARP caches, the routing table and the pool
//! of outgoing frame slots.
//!
//! Interface 0 is always the loopback interface (127.0.0.1/8); Ethernet
//! interfaces are numbered from 1 in the order they were added.

pub mod arp;
pub mod arp_cache;
pub mod route;
pub mod tx_pool;

use crate::addr::Ipv4Cidr;
use crate::wire::EthernetAddress;
use arp_cache::ArpCache;
use core::fmt;

/// Names an interface of a [`crate::Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfaceId(pub u8);

impl IfaceId {
    /// The loopback interface.
    pub const LOOPBACK: IfaceId = IfaceId(0);

    /// Whether this is the loopback interface.
    pub const fn is_loopback(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for IfaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_loopback() {
            f.write_str("lo")
        } else {
            write!(f, "eth{}", self.0 - 1)
        }
    }
}

/// How to set up an Ethernet interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfaceConfig {
    /// Our hardware address (a unicast address).
    pub mac: EthernetAddress,
    /// Largest IP datagram the link carries, 68..=`FRAME_SIZE - 14`.
    pub mtu: usize,
}

impl IfaceConfig {
    /// An Ethernet interface with the standard 1500-byte MTU (or the largest
    /// the build's `FRAME_SIZE` allows, if smaller).
    pub const fn ethernet(mac: EthernetAddress) -> Self {
        let max = crate::config::FRAME_SIZE - crate::wire::ethernet::HEADER_LEN;
        IfaceConfig {
            mac,
            mtu: if max < 1500 { max } else { 1500 },
        }
    }
}

/// Why an interface could not be added or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfaceError {
    /// All `INTERFACES` slots are taken.
    TableFull,
    /// No interface has this id (or it is the loopback interface where an
    /// Ethernet interface is required).
    NoSuchInterface,
    /// The MTU is below 68 or above `FRAME_SIZE - 14`.
    BadMtu,
    /// The hardware address is not unicast.
    BadMac,
    /// The address is unusable (unspecified, broadcast, multicast or
    /// loopback).
    BadAddress,
}

/// One Ethernet interface as the stack keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Iface {
    pub mac: EthernetAddress,
    pub mtu: usize,
    pub addr: Option<Ipv4Cidr>,
    pub arp: ArpCache,
}

impl Iface {
    pub fn new(cfg: IfaceConfig) -> Self {
        Iface {
            mac: cfg.mac,
            mtu: cfg.mtu,
            addr: None,
            arp: ArpCache::new(),
        }
    }
}
