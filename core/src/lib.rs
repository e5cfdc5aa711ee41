//! # wolfip-core
//!
//! A static-memory, sans-IO IPv4 TCP/IP stack: `#![no_std]`, no `alloc`, no
//! `unsafe`. The caller hands in received Ethernet frames and the current
//! time; the stack hands out frames to send and the instant at which it next
//! needs to run. Every capacity is fixed at build time (see [`config`]).
//!
//! A frame's path: [`phy::Device`] -> [`Stack::receive`] (Ethernet demux,
//! ARP, loopback) -> `ip` (checksum, reassembly) -> ICMP | UDP | TCP -> sockets;
//! and back: sockets -> `ip::output` (routing, fragmentation, ARP) ->
//! `iface::tx_pool` -> [`Stack::transmit`] -> [`phy::Device`].
//!
//! ```
//! use wolfip_core::{Stack, IfaceConfig, Ipv4Cidr};
//! use wolfip_core::rand::FixedSeed;
//! use wolfip_core::wire::EthernetAddress;
//!
//! # // A debug build makes the Stack on the stack before boxing it: with
//! # // large buffers configured that needs more than a main thread's 8 MiB.
//! # std::thread::Builder::new().stack_size(256 << 20).spawn(|| {
//! let mut stack = Box::new(Stack::new(&mut FixedSeed(1)));
//! let eth0 = stack.add_interface(IfaceConfig::ethernet(EthernetAddress([2, 0, 0, 0, 0, 1]))).unwrap();
//! stack.set_ipv4(eth0, Some("192.0.2.2/24".parse::<Ipv4Cidr>().unwrap())).unwrap();
//! assert_eq!(stack.route_lookup("192.0.2.9".parse().unwrap()).unwrap().iface, eth0);
//! # }).unwrap().join().unwrap();
//! ```
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod addr;
pub mod config;
pub mod dhcp;
pub mod dns;
pub mod event;
pub mod icmp;
pub mod iface;
pub mod ip;
mod net;
pub mod occupancy;
pub mod phy;
pub mod rand;
mod rate_limit;
pub mod stack;
pub mod stats;
pub mod storage;
pub mod tcp;
pub mod time;
pub mod udp;
pub mod wire;

pub use addr::{Ipv4Addr, Ipv4Cidr, SocketAddrV4};
pub use dns::{DnsAnswer, DnsError, DnsQuery, DnsServersError, DnsStartError};
pub use event::{Event, LeaseLost};
pub use iface::route::{NextHop, Route, RouteError};
pub use iface::{IfaceConfig, IfaceError, IfaceId};
pub use occupancy::Occupancy;
pub use stack::Stack;
pub use stats::Stats;
pub use tcp::api::{
    Shutdown, TcpAcceptError, TcpBindError, TcpConnectError, TcpInfo, TcpListenError, TcpOpenError,
    TcpRecvError, TcpSendError,
};
pub use tcp::{CongestionAlgorithm, Keepalive, TcpError, TcpHandle, TcpState};
pub use time::{Duration, Instant};
pub use udp::{
    UdpBindError, UdpConnectError, UdpHandle, UdpMeta, UdpOpenError, UdpRecvError, UdpSendError,
};
