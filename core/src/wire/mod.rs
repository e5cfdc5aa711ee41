//! Wire formats.
//!
//! Every format has two levels, as in smoltcp:
//!
//! * a *checked view* over bytes (`XxxPacket<T: AsRef<[u8]>>`), whose
//!   `new_checked` constructor validates lengths once so that the accessors
//!   can never index out of bounds, and whose setters (for `T: AsMut<[u8]>`)
//!   write fields in place;
//! * a *parsed representation* (`XxxRepr`) with `parse` (view -> repr, all
//!   semantic checks) and `emit` (repr -> bytes).
//!
//! A short, malformed or unsupported packet is an [`Error`], never a panic.

pub mod arp;
pub mod checksum;
pub mod dhcp;
pub mod dns;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod tcp;
pub mod tcp_options;
pub mod udp;

use core::fmt;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
pub use icmp::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, TimeExceeded};
pub use ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
pub use tcp::{SackBlock, SeqNumber, TcpControl, TcpOption, TcpPacket, TcpRepr};
pub use udp::{UdpPacket, UdpRepr};

/// Why a packet could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the format (or a length field) requires.
    Truncated,
    /// A field holds a value the format forbids (bad version, length field
    /// smaller than the header, ...).
    Malformed,
    /// The checksum does not match.
    Checksum,
    /// A well-formed packet of a kind this stack does not handle.
    Unsupported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::Checksum => "bad checksum",
            Error::Unsupported => "unsupported packet",
        };
        f.write_str(s)
    }
}

/// Result of parsing a wire format.
pub type Result<T> = core::result::Result<T, Error>;

/// Reads a big-endian `u16` at `at`. Callers guarantee the bounds through
/// `new_checked`; an out-of-range read yields 0 instead of panicking.
#[inline]
pub(crate) fn be16(buf: &[u8], at: usize) -> u16 {
    match buf.get(at..at + 2) {
        Some(b) => u16::from_be_bytes([b[0], b[1]]),
        None => 0,
    }
}

/// Writes a big-endian `u16` at `at`; an out-of-range write is ignored.
#[inline]
pub(crate) fn put_be16(buf: &mut [u8], at: usize, value: u16) {
    if let Some(b) = buf.get_mut(at..at + 2) {
        b.copy_from_slice(&value.to_be_bytes());
    }
}

/// Reads a big-endian `u32` at `at`; out of range yields 0.
#[inline]
pub(crate) fn be32(buf: &[u8], at: usize) -> u32 {
    match buf.get(at..at + 4) {
        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Writes a big-endian `u32` at `at`; out of range is ignored.
#[inline]
pub(crate) fn put_be32(buf: &mut [u8], at: usize, value: u32) {
    if let Some(b) = buf.get_mut(at..at + 4) {
        b.copy_from_slice(&value.to_be_bytes());
    }
}

/// Helpers shared by the wire formats' tests.
#[cfg(test)]
pub(crate) mod test_util {
    /// Marsaglia's xorshift64: a tiny deterministic generator for the
    /// mutation loops.
    pub(crate) struct XorShift(pub u64);

    impl XorShift {
        /// The next 64 bits.
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }
}
