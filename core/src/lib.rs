//! # wolfip-core
//!
//! A static-memory, sans-IO IPv4 TCP/IP stack: `#![no_std]`, no `alloc`, no
//! `unsafe`. The caller hands in received Ethernet frames and the current
//! time; the stack hands out frames to send and the instant at which it next
//! needs to run. Every capacity is fixed at build time (see [`config`]).
//!
//! A frame's path: [`phy::Device`] -> `iface` (Ethernet demux, ARP, loopback)
//! -> `ip` (checksum, reassembly, routing) -> ICMP | UDP -> sockets.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod phy;
pub mod time;
pub mod wire;
