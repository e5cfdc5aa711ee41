//! Ethernet II frames (RFC 894; IEEE 802.3 §3.2.6 for the Length/Type field).
//!
//! ```text
//!  0                 6                 12       14
//! +-----------------+-----------------+--------+------------------
//! | destination (6) | source (6)      | type   | payload (46..1500)
//! +-----------------+-----------------+--------+------------------
//! ```
//!
//! The preamble and the frame check sequence are handled by the hardware and
//! are not part of the buffers seen here. RFC 894 ("Frame Format") pads short
//! frames to the 60-byte minimum; the padding is simply part of `payload()`
//! and upper layers ignore it using their own length fields.

use core::fmt;

use super::{be16, put_be16, Error, Result};

/// A 48-bit IEEE 802 MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// Builds an address from the first six bytes of `data`. A shorter slice
    /// is padded with zero bytes and a longer one truncated; never panics.
    pub fn from_bytes(data: &[u8]) -> EthernetAddress {
        let mut bytes = [0u8; 6];
        for (dst, src) in bytes.iter_mut().zip(data) {
            *dst = *src;
        }
        EthernetAddress(bytes)
    }

    /// The six octets of the address.
    pub const fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether this is the broadcast address `ff:ff:ff:ff:ff:ff`.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether the I/G (group) bit, the least significant bit of the first
    /// octet, is set (IEEE 802 §8.2). The broadcast address is multicast too.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual address: neither multicast nor the
    /// all-zero address.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && self.0 != [0u8; 6]
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The EtherType carried in the type field (RFC 894; IEEE 802.3 §3.2.6:
/// values >= 0x0600 are types, smaller ones are 802.3 lengths and end up as
/// [`EtherType::Unknown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EtherType {
    /// 0x0800, Internet Protocol version 4 (RFC 894).
    Ipv4,
    /// 0x0806, Address Resolution Protocol (RFC 826).
    Arp,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        match value {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> Self {
        match value {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Ipv4 => f.write_str("IPv4"),
            EtherType::Arp => f.write_str("ARP"),
            EtherType::Unknown(v) => write!(f, "0x{v:04x}"),
        }
    }
}

/// Length of the Ethernet II header: two addresses and the type.
pub const HEADER_LEN: usize = 14;

mod field {
    use core::ops::Range;
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
}

/// A checked view of an Ethernet II frame (header + payload, no FCS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer` without checking its length. The accessors still never
    /// panic: fields beyond the end read as zero and the payload as empty.
    pub const fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// [`Error::Truncated`] if the buffer cannot hold the 14-byte header.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The destination address (octets 0..6).
    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(self.buffer.as_ref().get(field::DESTINATION).unwrap_or(&[]))
    }

    /// The source address (octets 6..12).
    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(self.buffer.as_ref().get(field::SOURCE).unwrap_or(&[]))
    }

    /// The EtherType (octets 12..14, RFC 894).
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(be16(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// Everything after the header, including any padding up to the 60-byte
    /// minimum frame size (RFC 894).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::DESTINATION) {
            b.copy_from_slice(&addr.0);
        }
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::SOURCE) {
            b.copy_from_slice(&addr.0);
        }
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        put_be16(self.buffer.as_mut(), field::ETHERTYPE, ethertype.into());
    }

    /// Mutable access to everything after the header.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for EthernetFrame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed header of an Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Source address.
    pub src_addr: EthernetAddress,
    /// Destination address.
    pub dst_addr: EthernetAddress,
    /// EtherType of the payload.
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Parses the header of `frame`; [`Error::Truncated`] if it is shorter
    /// than 14 bytes (only possible for a `new_unchecked` frame).
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        frame.check_len()?;
        Ok(EthernetRepr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Writes the 14-byte header into `frame`; the payload is left as is.
    /// A buffer shorter than the header is written as far as it goes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }

    /// Size of a frame carrying `payload_len` bytes of payload (no FCS, no
    /// minimum-size padding).
    pub const fn buffer_len(payload_len: usize) -> usize {
        HEADER_LEN.saturating_add(payload_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{arp, icmp, ipv4, udp};

    /// A real ARP request as captured on the wire (Wireshark `arp` sample:
    /// who-has 24.166.173.159 tell 24.166.172.1), padded to 60 bytes.
    const ARP_FRAME: [u8; 60] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x18, 0xa6,
        0xac, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0xa6, 0xad, 0x9f, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn address_predicates() {
        assert!(EthernetAddress::BROADCAST.is_broadcast());
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(!EthernetAddress::BROADCAST.is_unicast());
        let m = EthernetAddress([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]);
        assert!(m.is_multicast() && !m.is_broadcast() && !m.is_unicast());
        let u = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
        assert!(u.is_unicast() && !u.is_multicast());
        assert!(!EthernetAddress::default().is_unicast());
    }

    #[test]
    fn address_from_bytes_and_format() {
        let a = EthernetAddress::from_bytes(&[2, 0, 0, 0, 0, 1]);
        assert_eq!(a, EthernetAddress([2, 0, 0, 0, 0, 1]));
        assert_eq!(
            EthernetAddress::from_bytes(&[0xaa]),
            EthernetAddress([0xaa, 0, 0, 0, 0, 0])
        );
        assert_eq!(
            EthernetAddress::from_bytes(&[1, 2, 3, 4, 5, 6, 7]).0,
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(EthernetAddress::from_bytes(&[]), EthernetAddress::default());
        assert_eq!(a.as_bytes(), &[2, 0, 0, 0, 0, 1]);
        assert_eq!(format!("{a}"), "02:00:00:00:00:01");
        assert_eq!(format!("{a:?}"), "02:00:00:00:00:01");
        assert_eq!(
            format!("{}", EthernetAddress::BROADCAST),
            "ff:ff:ff:ff:ff:ff"
        );
    }

    #[test]
    fn ethertype_conversions() {
        assert_eq!(EtherType::from(0x0800), EtherType::Ipv4);
        assert_eq!(EtherType::from(0x0806), EtherType::Arp);
        assert_eq!(EtherType::from(0x86dd), EtherType::Unknown(0x86dd));
        for v in [0x0800u16, 0x0806, 0x86dd, 0, 0xffff] {
            assert_eq!(u16::from(EtherType::from(v)), v);
        }
    }

    #[test]
    fn parse_captured_arp_frame() {
        let frame = EthernetFrame::new_checked(&ARP_FRAME[..]).unwrap();
        let repr = EthernetRepr::parse(&frame).unwrap();
        assert_eq!(repr.dst_addr, EthernetAddress::BROADCAST);
        assert_eq!(
            repr.src_addr,
            EthernetAddress([0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54])
        );
        assert_eq!(repr.ethertype, EtherType::Arp);
        assert_eq!(frame.payload().len(), 46);
        assert_eq!(frame.payload()[..4], [0x00, 0x01, 0x08, 0x00]);
    }

    #[test]
    fn round_trip() {
        let repr = EthernetRepr {
            src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
            ethertype: EtherType::Ipv4,
        };
        let mut buf = [0u8; EthernetRepr::buffer_len(4)];
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        repr.emit(&mut frame);
        frame.payload_mut().copy_from_slice(&[1, 2, 3, 4]);
        let frame = EthernetFrame::new_checked(&buf[..]).unwrap();
        assert_eq!(EthernetRepr::parse(&frame).unwrap(), repr);
        assert_eq!(frame.payload(), &[1, 2, 3, 4]);
        assert_eq!(&buf[12..14], &[0x08, 0x00]);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                EthernetFrame::new_checked(&ARP_FRAME[..len]).err(),
                Some(Error::Truncated)
            );
            let frame = EthernetFrame::new_unchecked(&ARP_FRAME[..len]);
            assert_eq!(EthernetRepr::parse(&frame), Err(Error::Truncated));
            let _ = (
                frame.dst_addr(),
                frame.src_addr(),
                frame.ethertype(),
                frame.payload(),
            );
        }
        assert!(EthernetFrame::new_checked(&ARP_FRAME[..HEADER_LEN]).is_ok());
    }

    #[test]
    fn emit_into_short_buffer_does_not_panic() {
        let repr = EthernetRepr {
            src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EtherType::Arp,
        };
        for len in 0..HEADER_LEN {
            let mut buf = [0u8; HEADER_LEN];
            let mut frame = EthernetFrame::new_unchecked(&mut buf[..len]);
            repr.emit(&mut frame);
            assert!(frame.payload_mut().is_empty());
        }
    }

    use crate::wire::test_util::XorShift;

    /// Parses a frame through every layer this module family knows about.
    fn parse_all_layers(bytes: &[u8]) {
        let Ok(frame) = EthernetFrame::new_checked(bytes) else {
            return;
        };
        let Ok(eth) = EthernetRepr::parse(&frame) else {
            return;
        };
        match eth.ethertype {
            EtherType::Arp => {
                if let Ok(p) = arp::ArpPacket::new_checked(frame.payload()) {
                    let _ = arp::ArpRepr::parse(&p);
                }
            }
            EtherType::Ipv4 => {
                let Ok(ip) = ipv4::Ipv4Packet::new_checked(frame.payload()) else {
                    return;
                };
                let _ = ip.options();
                let Ok(ip_repr) = ipv4::Ipv4Repr::parse(&ip) else {
                    return;
                };
                match ip_repr.protocol {
                    ipv4::IpProtocol::Icmp => {
                        if let Ok(p) = icmp::Icmpv4Packet::new_checked(ip.payload()) {
                            let _ = icmp::Icmpv4Repr::parse(&p);
                        }
                    }
                    ipv4::IpProtocol::Udp => {
                        if let Ok(p) = udp::UdpPacket::new_checked(ip.payload()) {
                            let _ = udp::UdpRepr::parse(&p, ip_repr.src_addr, ip_repr.dst_addr);
                        }
                    }
                    _ => {}
                }
            }
            EtherType::Unknown(_) => {}
        }
        // Also drive every inner parser straight at the payload, so that
        // mutations of the EtherType do not hide them.
        let p = frame.payload();
        if let Ok(a) = arp::ArpPacket::new_checked(p) {
            let _ = arp::ArpRepr::parse(&a);
        }
        if let Ok(i) = icmp::Icmpv4Packet::new_checked(p) {
            let _ = icmp::Icmpv4Repr::parse(&i);
        }
        let any = core::net::Ipv4Addr::UNSPECIFIED;
        if let Ok(u) = udp::UdpPacket::new_checked(p) {
            let _ = udp::UdpRepr::parse(&u, any, any);
        }
    }

    #[test]
    fn fuzz_all_layers_never_panics() {
        let mut ip_icmp = [0u8; 74];
        ip_icmp[..12].copy_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
        ip_icmp[12..14].copy_from_slice(&[0x08, 0x00]);
        ip_icmp[14..].copy_from_slice(&icmp::tests::ECHO_REQUEST_IP);
        let mut ip_udp = [0u8; 14 + 57];
        ip_udp[..14].copy_from_slice(&ip_icmp[..14]);
        ip_udp[14..].copy_from_slice(&udp::tests::DNS_QUERY_IP);
        let seeds: [&[u8]; 3] = [&ARP_FRAME, &ip_icmp, &ip_udp];
        for seed in 1..=8u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            for _ in 0..4000 {
                let base = seeds[(rng.next() % seeds.len() as u64) as usize];
                let mut buf = [0u8; 80];
                buf[..base.len()].copy_from_slice(base);
                let flips = 1 + rng.next() % 4;
                for _ in 0..flips {
                    let at = (rng.next() % base.len() as u64) as usize;
                    buf[at] = rng.next() as u8;
                }
                let len = if rng.next() % 4 == 0 {
                    (rng.next() % 81) as usize
                } else {
                    base.len()
                };
                parse_all_layers(&buf[..len]);
            }
        }
    }
}
