//! Address Resolution Protocol packets (RFC 826), Ethernet/IPv4 only.
//!
//! RFC 826 "Packet format":
//!
//! ```text
//!  0        2        4    5    6        8
//! +--------+--------+----+----+--------+-----+-----+-----+-----+
//! | ar$hrd | ar$pro |$hln|$pln| ar$op  | sha | spa | tha | tpa |
//! +--------+--------+----+----+--------+-----+-----+-----+-----+
//! ```
//!
//! The four address fields have the lengths given by `ar$hln` (hardware)
//! and `ar$pln` (protocol); for Ethernet/IPv4 they are 6 and 4, for a total
//! of 28 bytes.

use core::net::Ipv4Addr;

use super::ethernet::EthernetAddress;
use super::{be16, put_be16, Error, Result};

/// The ARP opcode `ar$op` (RFC 826).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArpOperation {
    /// 1, `ares_op$REQUEST`.
    Request,
    /// 2, `ares_op$REPLY`.
    Reply,
    /// Any other opcode.
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(value: u16) -> Self {
        match value {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(value: ArpOperation) -> Self {
        match value {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(other) => other,
        }
    }
}

/// `ar$hrd` for Ethernet (RFC 826: `ares_hrd$Ethernet` = 1).
const HTYPE_ETHERNET: u16 = 1;
/// `ar$pro` for IPv4: the EtherType 0x0800 (RFC 826).
const PTYPE_IPV4: u16 = 0x0800;

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    /// Start of the variable-length address fields.
    pub const SHA: usize = 8;
}

/// Length of the fixed part of an ARP packet, before the addresses.
const FIXED_LEN: usize = 8;

/// A checked view of an ARP packet of any hardware/protocol address size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer` without checking it. The accessors still never panic:
    /// missing fields read as zero or empty.
    pub const fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// [`Error::Truncated`] unless the buffer holds the 8 fixed bytes and
    /// then the four addresses, `8 + 2 * (hlen + plen)` bytes in all.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < FIXED_LEN || len < self.total_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// `8 + 2 * (hlen + plen)`: the length the header fields announce.
    fn total_len(&self) -> usize {
        FIXED_LEN + 2 * (self.hardware_len() as usize + self.protocol_len() as usize)
    }

    fn field(&self, start: usize, len: usize) -> &[u8] {
        self.buffer.as_ref().get(start..start + len).unwrap_or(&[])
    }

    fn sha_start(&self) -> usize {
        field::SHA
    }
    fn spa_start(&self) -> usize {
        field::SHA + self.hardware_len() as usize
    }
    fn tha_start(&self) -> usize {
        self.spa_start() + self.protocol_len() as usize
    }
    fn tpa_start(&self) -> usize {
        self.tha_start() + self.hardware_len() as usize
    }

    /// `ar$hrd`, the hardware address space (1 for Ethernet).
    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HTYPE)
    }

    /// `ar$pro`, the protocol address space (0x0800 for IPv4).
    pub fn protocol_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PTYPE)
    }

    /// `ar$hln`, the byte length of each hardware address.
    pub fn hardware_len(&self) -> u8 {
        self.byte(field::HLEN)
    }

    /// `ar$pln`, the byte length of each protocol address.
    pub fn protocol_len(&self) -> u8 {
        self.byte(field::PLEN)
    }

    /// `ar$op`, the opcode.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(be16(self.buffer.as_ref(), field::OPER))
    }

    /// `ar$sha`, the sender hardware address (`hlen` bytes).
    pub fn source_hardware_addr(&self) -> &[u8] {
        self.field(self.sha_start(), self.hardware_len() as usize)
    }

    /// `ar$spa`, the sender protocol address (`plen` bytes).
    pub fn source_protocol_addr(&self) -> &[u8] {
        self.field(self.spa_start(), self.protocol_len() as usize)
    }

    /// `ar$tha`, the target hardware address (`hlen` bytes).
    pub fn target_hardware_addr(&self) -> &[u8] {
        self.field(self.tha_start(), self.hardware_len() as usize)
    }

    /// `ar$tpa`, the target protocol address (`plen` bytes).
    pub fn target_protocol_addr(&self) -> &[u8] {
        self.field(self.tpa_start(), self.protocol_len() as usize)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    fn set_byte(&mut self, at: usize, value: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = value;
        }
    }

    /// Copies `value` into the field at `start..start + len`, truncating or
    /// leaving the tail untouched if the lengths differ.
    fn set_field(&mut self, start: usize, len: usize, value: &[u8]) {
        if let Some(dst) = self.buffer.as_mut().get_mut(start..start + len) {
            for (d, s) in dst.iter_mut().zip(value) {
                *d = *s;
            }
        }
    }

    /// Sets `ar$hrd`.
    pub fn set_hardware_type(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::HTYPE, value);
    }

    /// Sets `ar$pro`.
    pub fn set_protocol_type(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::PTYPE, value);
    }

    /// Sets `ar$hln`. Set it before the address fields, which it places.
    pub fn set_hardware_len(&mut self, value: u8) {
        self.set_byte(field::HLEN, value);
    }

    /// Sets `ar$pln`. Set it before the address fields, which it places.
    pub fn set_protocol_len(&mut self, value: u8) {
        self.set_byte(field::PLEN, value);
    }

    /// Sets `ar$op`.
    pub fn set_operation(&mut self, value: ArpOperation) {
        put_be16(self.buffer.as_mut(), field::OPER, value.into());
    }

    /// Sets `ar$sha` (the first `hlen` bytes of `addr`).
    pub fn set_source_hardware_addr(&mut self, addr: &[u8]) {
        let (start, len) = (self.sha_start(), self.hardware_len() as usize);
        self.set_field(start, len, addr);
    }

    /// Sets `ar$spa` (the first `plen` bytes of `addr`).
    pub fn set_source_protocol_addr(&mut self, addr: &[u8]) {
        let (start, len) = (self.spa_start(), self.protocol_len() as usize);
        self.set_field(start, len, addr);
    }

    /// Sets `ar$tha` (the first `hlen` bytes of `addr`).
    pub fn set_target_hardware_addr(&mut self, addr: &[u8]) {
        let (start, len) = (self.tha_start(), self.hardware_len() as usize);
        self.set_field(start, len, addr);
    }

    /// Sets `ar$tpa` (the first `plen` bytes of `addr`).
    pub fn set_target_protocol_addr(&mut self, addr: &[u8]) {
        let (start, len) = (self.tpa_start(), self.protocol_len() as usize);
        self.set_field(start, len, addr);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for ArpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed Ethernet/IPv4 ARP packet (RFC 826).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// Request, reply, or an opcode this stack does not handle.
    pub operation: ArpOperation,
    /// `ar$sha`.
    pub source_hardware_addr: EthernetAddress,
    /// `ar$spa`.
    pub source_protocol_addr: Ipv4Addr,
    /// `ar$tha` (ignored by the receiver of a request, RFC 826).
    pub target_hardware_addr: EthernetAddress,
    /// `ar$tpa`.
    pub target_protocol_addr: Ipv4Addr,
}

fn ipv4_from(bytes: &[u8]) -> Ipv4Addr {
    match bytes {
        [a, b, c, d] => Ipv4Addr::new(*a, *b, *c, *d),
        _ => Ipv4Addr::UNSPECIFIED,
    }
}

impl ArpRepr {
    /// Length of an Ethernet/IPv4 ARP packet: 8 + 2 * (6 + 4).
    pub const BUFFER_LEN: usize = 28;

    /// Parses an Ethernet/IPv4 ARP packet.
    ///
    /// [`Error::Truncated`] if the buffer is shorter than its fields say;
    /// [`Error::Unsupported`] unless `ar$hrd` = 1 (Ethernet), `ar$pro` =
    /// 0x0800 (IPv4), `ar$hln` = 6 and `ar$pln` = 4 (RFC 826, "Packet
    /// Reception": a packet for an unknown hardware/protocol pair is
    /// discarded). An unknown opcode is kept as [`ArpOperation::Unknown`].
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<ArpRepr> {
        packet.check_len()?;
        if packet.hardware_type() != HTYPE_ETHERNET
            || packet.protocol_type() != PTYPE_IPV4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        Ok(ArpRepr {
            operation: packet.operation(),
            source_hardware_addr: EthernetAddress::from_bytes(packet.source_hardware_addr()),
            source_protocol_addr: ipv4_from(packet.source_protocol_addr()),
            target_hardware_addr: EthernetAddress::from_bytes(packet.target_hardware_addr()),
            target_protocol_addr: ipv4_from(packet.target_protocol_addr()),
        })
    }

    /// Length of the packet `emit` writes: always 28.
    pub const fn buffer_len(&self) -> usize {
        Self::BUFFER_LEN
    }

    /// Writes the 28-byte packet into `packet` (a shorter buffer is written
    /// as far as it goes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_protocol_type(PTYPE_IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(self.source_hardware_addr.as_bytes());
        packet.set_source_protocol_addr(&self.source_protocol_addr.octets());
        packet.set_target_hardware_addr(self.target_hardware_addr.as_bytes());
        packet.set_target_protocol_addr(&self.target_protocol_addr.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ARP payload of a real captured request (Wireshark `arp` sample):
    /// who-has 24.166.173.159 tell 24.166.172.1 (00:07:0d:af:f4:54).
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x18,
        0xa6, 0xac, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0xa6, 0xad, 0x9f,
    ];

    fn request_repr() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: EthernetAddress([0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54]),
            source_protocol_addr: Ipv4Addr::new(24, 166, 172, 1),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: Ipv4Addr::new(24, 166, 173, 159),
        }
    }

    #[test]
    fn parse_captured_request() {
        let packet = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(packet.hardware_type(), 1);
        assert_eq!(packet.protocol_type(), 0x0800);
        assert_eq!(packet.hardware_len(), 6);
        assert_eq!(packet.protocol_len(), 4);
        assert_eq!(packet.operation(), ArpOperation::Request);
        assert_eq!(packet.source_protocol_addr(), &[24, 166, 172, 1]);
        assert_eq!(packet.target_protocol_addr(), &[24, 166, 173, 159]);
        assert_eq!(ArpRepr::parse(&packet).unwrap(), request_repr());
    }

    #[test]
    fn parse_ignores_trailing_padding() {
        let mut buf = [0u8; 46];
        buf[..28].copy_from_slice(&REQUEST);
        let packet = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(ArpRepr::parse(&packet).unwrap(), request_repr());
    }

    #[test]
    fn round_trip() {
        let repr = ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            source_protocol_addr: Ipv4Addr::new(10, 0, 0, 1),
            target_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
            target_protocol_addr: Ipv4Addr::new(10, 0, 0, 2),
        };
        let mut buf = [0xaau8; ArpRepr::BUFFER_LEN];
        assert_eq!(repr.buffer_len(), 28);
        repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        let packet = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(ArpRepr::parse(&packet).unwrap(), repr);

        let mut again = [0u8; 28];
        request_repr().emit(&mut ArpPacket::new_unchecked(&mut again[..]));
        assert_eq!(again, REQUEST);
    }

    #[test]
    fn operation_conversions() {
        for v in [0u16, 1, 2, 3, 0xffff] {
            assert_eq!(u16::from(ArpOperation::from(v)), v);
        }
        let mut buf = REQUEST;
        buf[7] = 9;
        let repr = ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).unwrap()).unwrap();
        assert_eq!(repr.operation, ArpOperation::Unknown(9));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..REQUEST.len() {
            assert_eq!(
                ArpPacket::new_checked(&REQUEST[..len]).err(),
                Some(Error::Truncated)
            );
            let packet = ArpPacket::new_unchecked(&REQUEST[..len]);
            assert_eq!(ArpRepr::parse(&packet), Err(Error::Truncated));
            let _ = (packet.source_hardware_addr(), packet.target_protocol_addr());
        }
    }

    #[test]
    fn unsupported_address_spaces() {
        // plen = 16 (an IPv6-sized protocol address): the 28-byte buffer is
        // too short for the announced 52 bytes...
        let mut buf = [0u8; 52];
        buf[..28].copy_from_slice(&REQUEST);
        buf[5] = 16;
        assert_eq!(
            ArpPacket::new_checked(&buf[..28]).err(),
            Some(Error::Truncated)
        );
        // ...and with room for it, it is well formed but not Ethernet/IPv4.
        let packet = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.source_protocol_addr().len(), 16);
        assert_eq!(ArpRepr::parse(&packet), Err(Error::Unsupported));

        for (at, value) in [(1usize, 6u8), (2, 0x86), (4, 8), (5, 6)] {
            let mut buf = [0u8; 64];
            buf[..28].copy_from_slice(&REQUEST);
            buf[at] = value;
            let packet = ArpPacket::new_checked(&buf[..]).unwrap();
            assert_eq!(
                ArpRepr::parse(&packet),
                Err(Error::Unsupported),
                "byte {at}"
            );
        }
    }

    #[test]
    fn emit_into_short_buffer_does_not_panic() {
        for len in 0..28 {
            let mut buf = [0u8; 28];
            request_repr().emit(&mut ArpPacket::new_unchecked(&mut buf[..len]));
            // Fields that fit entirely are written, partial ones are not.
            if [0, 2, 4, 5, 6, 8, 14, 18, 24].contains(&len) {
                assert_eq!(buf[..len], REQUEST[..len]);
            }
        }
    }

    use crate::wire::test_util::XorShift;

    #[test]
    fn fuzz_never_panics() {
        for seed in 1..=8u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            for _ in 0..5000 {
                let mut buf = [0u8; 64];
                buf[..28].copy_from_slice(&REQUEST);
                for _ in 0..1 + rng.next() % 4 {
                    // Mostly the fixed header, where the lengths live.
                    let at = (rng.next() % if rng.next() % 2 == 0 { 8 } else { 64 }) as usize;
                    buf[at] = rng.next() as u8;
                }
                let len = (rng.next() % 65) as usize;
                let packet = ArpPacket::new_unchecked(&buf[..len]);
                let _ = (packet.source_hardware_addr(), packet.source_protocol_addr());
                let _ = (packet.target_hardware_addr(), packet.target_protocol_addr());
                if let Ok(p) = ArpPacket::new_checked(&buf[..len]) {
                    if let Ok(repr) = ArpRepr::parse(&p) {
                        let mut out = [0u8; 28];
                        repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
                        let again = ArpPacket::new_checked(&out[..]).unwrap();
                        assert_eq!(ArpRepr::parse(&again), Ok(repr));
                    }
                }
                let mut out = buf;
                let mut p = ArpPacket::new_unchecked(&mut out[..len]);
                p.set_target_protocol_addr(&[1, 2, 3, 4]);
                p.set_source_hardware_addr(&[1; 6]);
            }
        }
    }
}
