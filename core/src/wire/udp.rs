//! UDP datagrams (RFC 768).
//!
//! ```text
//!  0      7 8     15 16    23 24    31
//! +--------+--------+--------+--------+
//! |     Source      |   Destination   |
//! |      Port       |      Port       |
//! +--------+--------+--------+--------+
//! |                 |                 |
//! |     Length      |    Checksum     |
//! +--------+--------+--------+--------+
//! |          data octets ...
//! ```
//!
//! The checksum covers a pseudo-header (source and destination address,
//! zero, protocol 17, UDP length), the header and the data (RFC 768
//! "Fields").

use core::net::Ipv4Addr;

use super::{be16, checksum, put_be16, Error, Result};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

/// IP protocol number of UDP (RFC 768 "IP Interface").
const PROTOCOL_UDP: u8 = 17;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// Turns a computed checksum into the value to send: RFC 768 "If the
/// computed checksum is zero, it is transmitted as all ones", since an
/// all-zero field means "no checksum".
fn wire_checksum(sum: u16) -> u16 {
    match checksum::finish(sum) {
        0 => 0xffff,
        c => c,
    }
}

/// A checked view of a UDP datagram.
///
/// The buffer may be longer than the length field says; the extra bytes
/// are not part of the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer` without checking it. The accessors still never panic:
    /// missing fields read as zero and the payload as empty.
    pub const fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// [`Error::Truncated`] if the buffer cannot hold the 8-byte header;
    /// [`Error::Malformed`] if the length field is below 8 (RFC 768: "the
    /// minimum value of the length is eight"); [`Error::Truncated`] if the
    /// buffer is shorter than the length field.
    pub fn check_len(&self) -> Result<()> {
        let buffer_len = self.buffer.as_ref().len();
        if buffer_len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(self.len());
        if len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len > buffer_len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The source port (0 if unused, RFC 768).
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// The length field: header plus data, in bytes.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// The checksum field (0 means none was computed).
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The data, bytes `8..length`.
    pub fn payload(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..usize::from(self.len()))
            .unwrap_or(&[])
    }

    /// Whether the checksum is valid for a datagram from `src` to `dst`. A
    /// zero field means the sender computed none and verifies as true
    /// (RFC 768; allowed for IPv4 by RFC 1122 §4.1.3.4). False if the
    /// length field is out of range.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let len = self.len();
        match self.buffer.as_ref().get(..usize::from(len)) {
            Some(datagram) if usize::from(len) >= HEADER_LEN => {
                let pseudo = checksum::pseudo_header(src, dst, PROTOCOL_UDP, u32::from(len));
                checksum::combine(&[pseudo, checksum::sum(datagram)]) == 0xffff
            }
            _ => false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::SRC_PORT, value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::DST_PORT, value);
    }

    /// Sets the length field.
    pub fn set_len(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::LENGTH, value);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Computes and stores the checksum over the pseudo-header and bytes
    /// `0..length`; a computed 0 is sent as 0xffff (RFC 768). Does nothing
    /// if the length field exceeds the buffer.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let len = self.len();
        let sum = match self.buffer.as_ref().get(..usize::from(len)) {
            Some(datagram) => checksum::sum(datagram),
            None => return,
        };
        let pseudo = checksum::pseudo_header(src, dst, PROTOCOL_UDP, u32::from(len));
        self.set_checksum(wire_checksum(checksum::combine(&[pseudo, sum])));
    }

    /// Mutable access to the data, bytes `8..length`.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..end)
            .unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for UdpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed UDP header; the payload is `UdpPacket::payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Parses a datagram from `src` to `dst`: the length checks of
    /// [`UdpPacket::check_len`], then the checksum ([`Error::Checksum`]).
    /// Destination port 0 parses: no socket can hold it, so UDP answers it
    /// as a closed port (Linux: ICMP port unreachable).
    pub fn parse<T: AsRef<[u8]>>(
        packet: &UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<UdpRepr> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
        })
    }

    /// Length of a datagram carrying `payload_len` bytes: 8 + `payload_len`.
    pub const fn buffer_len(payload_len: usize) -> usize {
        HEADER_LEN.saturating_add(payload_len)
    }

    /// The value of the length field for `payload_len` bytes of data; the
    /// caller keeps the datagram within 65535 bytes (it saturates).
    fn length_field(payload_len: usize) -> u16 {
        u16::try_from(Self::buffer_len(payload_len)).unwrap_or(u16::MAX)
    }

    /// The 8 header bytes for a datagram from `src` to `dst` carrying
    /// `payload`, checksum included (RFC 768), computed without needing the
    /// header and payload to be contiguous: for sending a datagram as IP
    /// fragments straight from the socket buffer. Equal to the first 8
    /// bytes `emit` writes.
    pub fn header_bytes(&self, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> [u8; 8] {
        let len = Self::length_field(payload.len());
        let mut header = [0u8; HEADER_LEN];
        put_be16(&mut header, field::SRC_PORT, self.src_port);
        put_be16(&mut header, field::DST_PORT, self.dst_port);
        put_be16(&mut header, field::LENGTH, len);
        // The header is 8 bytes, an even count, so the payload's words line
        // up and the partial sums can simply be added (RFC 1071 §2(B)).
        let sum = checksum::combine(&[
            checksum::pseudo_header(src, dst, PROTOCOL_UDP, u32::from(len)),
            checksum::sum(&header),
            checksum::sum(payload),
        ]);
        put_be16(&mut header, field::CHECKSUM, wire_checksum(sum));
        header
    }

    /// Writes the header (length 8 + `payload.len()`), copies `payload` and
    /// fills the checksum. The buffer should hold at least
    /// [`buffer_len`](Self::buffer_len) bytes; a shorter one is written as
    /// far as it goes without panicking (and then fails `check_len`).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(Self::length_field(payload.len()));
        let buffer = packet.buffer.as_mut();
        let end = buffer.len().min(Self::buffer_len(payload.len()));
        if let Some(data) = buffer.get_mut(HEADER_LEN..end) {
            for (d, s) in data.iter_mut().zip(payload) {
                *d = *s;
            }
        }
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

    /// A DNS query for `example.com` A from 192.168.1.10:54321 to
    /// 192.168.1.1:53, as an IPv4 packet (IP checksum 0xa524, UDP checksum
    /// 0x2ca6, both computed independently). The UDP length, 37, is odd.
    pub(crate) const DNS_QUERY_IP: [u8; 57] = [
        0x45, 0x00, 0x00, 0x39, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xa5, 0x24, 0xc0, 0xa8, 0x01,
        0x0a, 0xc0, 0xa8, 0x01, 0x01, 0xd4, 0x31, 0x00, 0x35, 0x00, 0x25, 0x2c, 0xa6, 0xab, 0xcd,
        0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d,
        0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
    ];

    fn datagram() -> &'static [u8] {
        &DNS_QUERY_IP[20..]
    }

    fn dns_payload() -> &'static [u8] {
        &DNS_QUERY_IP[28..]
    }

    const REPR: UdpRepr = UdpRepr {
        src_port: 54321,
        dst_port: 53,
    };

    #[test]
    fn parse_captured_dns_query() {
        let ip = Ipv4Packet::new_checked(&DNS_QUERY_IP[..]).unwrap();
        let ip_repr = Ipv4Repr::parse(&ip).unwrap();
        assert_eq!(ip_repr.protocol, IpProtocol::Udp);
        let packet = UdpPacket::new_checked(ip.payload()).unwrap();
        assert_eq!(packet.len(), 37);
        assert_eq!(packet.checksum(), 0x2ca6);
        assert!(packet.verify_checksum(ip_repr.src_addr, ip_repr.dst_addr));
        assert_eq!(UdpRepr::parse(&packet, SRC, DST), Ok(REPR));
        assert_eq!(packet.payload(), dns_payload());
        // The pseudo-header matters: other addresses fail the check.
        assert!(UdpRepr::parse(&packet, DST, SRC).is_ok()); // symmetric sum
        assert_eq!(
            UdpRepr::parse(&packet, Ipv4Addr::new(10, 0, 0, 1), DST),
            Err(Error::Checksum)
        );
    }

    #[test]
    fn round_trip_and_header_bytes() {
        let mut buf = [0u8; 37];
        REPR.emit(
            &mut UdpPacket::new_unchecked(&mut buf[..]),
            SRC,
            DST,
            dns_payload(),
        );
        assert_eq!(&buf[..], datagram());
        assert_eq!(REPR.header_bytes(SRC, DST, dns_payload()), buf[..8]);
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(UdpRepr::parse(&packet, SRC, DST), Ok(REPR));
        assert_eq!(UdpRepr::buffer_len(29), 37);

        for payload_len in [0usize, 1, 2, 7, 100, 1473] {
            let mut payload = [0u8; 1473];
            for (i, b) in payload.iter_mut().enumerate() {
                *b = (i * 7 + payload_len) as u8;
            }
            let payload = &payload[..payload_len];
            let repr = UdpRepr {
                src_port: 1,
                dst_port: 65535,
            };
            let mut buf = [0u8; 1481];
            let buf = &mut buf[..UdpRepr::buffer_len(payload_len)];
            repr.emit(&mut UdpPacket::new_unchecked(&mut *buf), SRC, DST, payload);
            assert_eq!(repr.header_bytes(SRC, DST, payload), buf[..8]);
            let packet = UdpPacket::new_checked(&*buf).unwrap();
            assert_eq!(UdpRepr::parse(&packet, SRC, DST), Ok(repr));
            assert_eq!(packet.payload(), payload);
        }
    }

    #[test]
    fn zero_checksum_is_sent_as_ones() {
        // Choose the source port so that the computed checksum is 0.
        let payload = [0x12u8, 0x34];
        let mut repr = UdpRepr {
            src_port: 0,
            dst_port: 7,
        };
        let first = repr.header_bytes(SRC, DST, &payload);
        let c = u16::from_be_bytes([first[6], first[7]]);
        // Adding c to the sum turns the checksum from c into 0 (or 0xffff).
        repr.src_port = c;
        let header = repr.header_bytes(SRC, DST, &payload);
        assert_eq!(&header[6..8], &[0xff, 0xff]);
        let mut buf = [0u8; 10];
        repr.emit(
            &mut UdpPacket::new_unchecked(&mut buf[..]),
            SRC,
            DST,
            &payload,
        );
        assert_eq!(header, buf[..8]);
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(SRC, DST));
        assert_eq!(UdpRepr::parse(&packet, SRC, DST), Ok(repr));
    }

    #[test]
    fn no_checksum_verifies() {
        let mut buf = [0u8; 37];
        buf.copy_from_slice(datagram());
        buf[6] = 0;
        buf[7] = 0;
        buf[20] ^= 0xff;
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(SRC, DST));
        assert_eq!(UdpRepr::parse(&packet, SRC, DST), Ok(REPR));
    }

    #[test]
    fn checksum_corruption_is_detected() {
        for at in 0..37 {
            let mut buf = [0u8; 37];
            buf.copy_from_slice(datagram());
            buf[at] ^= 0x21;
            let Ok(packet) = UdpPacket::new_checked(&buf[..]) else {
                assert!(at == 4 || at == 5, "byte {at}");
                continue;
            };
            assert_eq!(
                UdpRepr::parse(&packet, SRC, DST),
                Err(Error::Checksum),
                "byte {at}"
            );
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = datagram();
        for len in 0..full.len() {
            assert_eq!(
                UdpPacket::new_checked(&full[..len]).err(),
                Some(Error::Truncated)
            );
            let packet = UdpPacket::new_unchecked(&full[..len]);
            assert_eq!(UdpRepr::parse(&packet, SRC, DST), Err(Error::Truncated));
            let _ = (packet.payload(), packet.verify_checksum(SRC, DST));
        }
    }

    #[test]
    fn buffer_longer_than_length_field() {
        let mut buf = [0xeeu8; 64];
        buf[..37].copy_from_slice(datagram());
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.payload(), dns_payload());
        assert_eq!(UdpRepr::parse(&packet, SRC, DST), Ok(REPR));
    }

    #[test]
    fn malformed_fields() {
        for len in 0..8u16 {
            let mut buf = [0u8; 37];
            buf.copy_from_slice(datagram());
            let mut packet = UdpPacket::new_unchecked(&mut buf[..]);
            packet.set_len(len);
            assert_eq!(
                UdpPacket::new_checked(&buf[..]).err(),
                Some(Error::Malformed)
            );
            let packet = UdpPacket::new_unchecked(&buf[..]);
            assert!(packet.payload().is_empty());
            assert_eq!(UdpRepr::parse(&packet, SRC, DST), Err(Error::Malformed));
        }
        let mut buf = [0u8; 37];
        let repr = UdpRepr {
            src_port: 53,
            dst_port: 0,
        };
        repr.emit(
            &mut UdpPacket::new_unchecked(&mut buf[..]),
            SRC,
            DST,
            dns_payload(),
        );
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(SRC, DST));
        assert_eq!(UdpRepr::parse(&packet, SRC, DST), Ok(repr));
    }

    #[test]
    fn emit_into_short_buffer_does_not_panic() {
        for len in 0..37 {
            let mut buf = [0u8; 37];
            let mut packet = UdpPacket::new_unchecked(&mut buf[..len]);
            REPR.emit(&mut packet, SRC, DST, dns_payload());
            assert!(packet.check_len().is_err());
        }
    }

    use crate::wire::test_util::XorShift;

    #[test]
    fn fuzz_never_panics() {
        for seed in 1..=8u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            for _ in 0..5000 {
                let mut buf = [0u8; 48];
                buf[..37].copy_from_slice(datagram());
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() % if rng.next() % 2 == 0 { 8 } else { 48 }) as usize;
                    buf[at] = rng.next() as u8;
                }
                let len = (rng.next() % 49) as usize;
                let buf = &mut buf[..len];
                if rng.next() % 2 == 0 {
                    UdpPacket::new_unchecked(&mut *buf).fill_checksum(SRC, DST);
                }
                let unchecked = UdpPacket::new_unchecked(&*buf);
                let _ = (unchecked.payload(), unchecked.verify_checksum(SRC, DST));
                if let Ok(packet) = UdpPacket::new_checked(&*buf) {
                    if let Ok(repr) = UdpRepr::parse(&packet, SRC, DST) {
                        let payload = packet.payload();
                        let mut out = [0u8; 48];
                        let out = &mut out[..UdpRepr::buffer_len(payload.len())];
                        repr.emit(&mut UdpPacket::new_unchecked(&mut *out), SRC, DST, payload);
                        assert_eq!(repr.header_bytes(SRC, DST, payload), out[..8]);
                        let again = UdpPacket::new_checked(&*out).unwrap();
                        assert_eq!(UdpRepr::parse(&again, SRC, DST), Ok(repr));
                    }
                }
                let _ = UdpPacket::new_unchecked(&mut *buf).payload_mut().len();
            }
        }
    }
}
