//! IPv4 headers (RFC 791).
//!
//! RFC 791 §3.1 "Internet Header Format":
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |Type of Service|          Total Length         |
//! |         Identification        |Flags|      Fragment Offset    |
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! |                       Source Address                          |
//! |                    Destination Address                        |
//! |                    Options                    |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::Ipv4Addr;

use super::{be16, be32, checksum, put_be16, put_be32, Error, Result};

/// The upper-layer protocol number (RFC 791 §3.1 "Protocol"; values from
/// the IANA registry, formerly RFC 790).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpProtocol {
    /// 1, ICMP (RFC 792).
    Icmp,
    /// 6, TCP (RFC 9293).
    Tcp,
    /// 17, UDP (RFC 768).
    Udp,
    /// Any other protocol number.
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(value: u8) -> Self {
        match value {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(value: IpProtocol) -> Self {
        match value {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Unknown(other) => other,
        }
    }
}

/// Length of an IPv4 header without options (IHL = 5).
pub const HEADER_LEN: usize = 20;

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC_ADDR: usize = 12;
    pub const DST_ADDR: usize = 16;
}

/// RFC 791 §3.1 "Flags": bit 1, Don't Fragment.
const FLAG_DF: u16 = 0x4000;
/// RFC 791 §3.1 "Flags": bit 2, More Fragments.
const FLAG_MF: u16 = 0x2000;
/// RFC 791 §3.1 "Fragment Offset": 13 bits, in units of 8 octets.
const OFFSET_MASK: u16 = 0x1fff;

/// A checked view of an IPv4 packet.
///
/// The buffer may be longer than the total length (Ethernet pads short
/// frames, RFC 894); the padding is not part of [`payload`](Self::payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer` without checking it. The accessors still never panic:
    /// missing fields read as zero and out-of-range slices as empty.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the structure of the header, in this order:
    ///
    /// * the buffer holds 20 bytes, else [`Error::Truncated`];
    /// * version is 4 (RFC 791 §3.1 "Version"), else [`Error::Malformed`];
    /// * IHL >= 5 ("the minimum value for a correct header is 5"), else
    ///   [`Error::Malformed`];
    /// * the buffer holds the IHL-sized header, else [`Error::Truncated`];
    /// * total length >= header length ("Total Length ... including
    ///   internet header and data"), else [`Error::Malformed`];
    /// * the buffer holds total length bytes, else [`Error::Truncated`].
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 {
            return Err(Error::Malformed);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if header_len > len {
            return Err(Error::Truncated);
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(Error::Malformed);
        }
        if total_len > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// The version field (4 for IPv4).
    pub fn version(&self) -> u8 {
        self.byte(field::VER_IHL) >> 4
    }

    /// The header length in bytes: IHL (32-bit words) times 4.
    pub fn header_len(&self) -> usize {
        usize::from(self.byte(field::VER_IHL) & 0x0f) * 4
    }

    /// The type of service octet (DSCP and ECN, RFC 2474/3168).
    pub fn tos(&self) -> u8 {
        self.byte(field::TOS)
    }

    /// The total length field: header plus data, in bytes.
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// The identification field (RFC 791 §3.2 "Fragmentation").
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    /// The Don't Fragment flag.
    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_DF != 0
    }

    /// The More Fragments flag.
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_MF != 0
    }

    /// The fragment offset in bytes (the 13-bit field times 8, RFC 791 §3.1).
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buffer.as_ref(), field::FLG_OFF) & OFFSET_MASK) * 8
    }

    /// The time to live.
    pub fn ttl(&self) -> u8 {
        self.byte(field::TTL)
    }

    /// The upper-layer protocol.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.byte(field::PROTOCOL))
    }

    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(be32(self.buffer.as_ref(), field::SRC_ADDR))
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(be32(self.buffer.as_ref(), field::DST_ADDR))
    }

    /// The raw options and padding, bytes `20..header_len` (RFC 791 §3.1
    /// "Options"). Not interpreted by this stack.
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }

    /// The data, bytes `header_len..total_len`; link-layer padding beyond
    /// the total length is excluded.
    pub fn payload(&self) -> &[u8] {
        let range = self.header_len()..usize::from(self.total_len());
        self.buffer.as_ref().get(range).unwrap_or(&[])
    }

    /// Whether the header checksum is valid: the one's complement sum of
    /// the header, checksum included, is all ones (RFC 791 §3.1 "Header
    /// Checksum", RFC 1071). False if the header is not in the buffer.
    pub fn verify_checksum(&self) -> bool {
        let header_len = self.header_len();
        match self.buffer.as_ref().get(..header_len) {
            Some(header) if header_len >= HEADER_LEN => checksum::sum(header) == 0xffff,
            _ => false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn set_byte(&mut self, at: usize, value: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = value;
        }
    }

    /// Sets the version field.
    pub fn set_version(&mut self, version: u8) {
        let b = self.byte(field::VER_IHL);
        self.set_byte(field::VER_IHL, (b & 0x0f) | (version << 4));
    }

    /// Sets IHL from a header length in bytes (`len / 4`, a multiple of 4
    /// between 20 and 60).
    pub fn set_header_len(&mut self, len: usize) {
        let b = self.byte(field::VER_IHL);
        let ihl = ((len / 4) & 0x0f) as u8;
        self.set_byte(field::VER_IHL, (b & 0xf0) | ihl);
    }

    /// Sets the type of service octet.
    pub fn set_tos(&mut self, tos: u8) {
        self.set_byte(field::TOS, tos);
    }

    /// Sets the total length field.
    pub fn set_total_len(&mut self, len: u16) {
        put_be16(self.buffer.as_mut(), field::LENGTH, len);
    }

    /// Sets the identification field.
    pub fn set_ident(&mut self, ident: u16) {
        put_be16(self.buffer.as_mut(), field::IDENT, ident);
    }

    fn update_flags(&mut self, mask: u16, value: u16) {
        let raw = be16(self.buffer.as_ref(), field::FLG_OFF);
        put_be16(
            self.buffer.as_mut(),
            field::FLG_OFF,
            (raw & !mask) | (value & mask),
        );
    }

    /// Sets the Don't Fragment flag.
    pub fn set_dont_frag(&mut self, value: bool) {
        self.update_flags(FLAG_DF, if value { FLAG_DF } else { 0 });
    }

    /// Sets the More Fragments flag.
    pub fn set_more_frags(&mut self, value: bool) {
        self.update_flags(FLAG_MF, if value { FLAG_MF } else { 0 });
    }

    /// Sets the fragment offset from a byte offset, which must be a
    /// multiple of 8 (RFC 791 §3.2; the low three bits are dropped).
    pub fn set_frag_offset(&mut self, offset_bytes: u16) {
        self.update_flags(OFFSET_MASK, offset_bytes / 8);
    }

    /// Sets the whole flags/fragment-offset word; the reserved bit 0 is
    /// cleared (RFC 791 §3.1 "Bit 0: reserved, must be zero").
    pub fn set_flags_and_offset(&mut self, dont_frag: bool, more_frags: bool, offset_bytes: u16) {
        let mut raw = (offset_bytes / 8) & OFFSET_MASK;
        if dont_frag {
            raw |= FLAG_DF;
        }
        if more_frags {
            raw |= FLAG_MF;
        }
        put_be16(self.buffer.as_mut(), field::FLG_OFF, raw);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.set_byte(field::TTL, ttl);
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, protocol: IpProtocol) {
        self.set_byte(field::PROTOCOL, protocol.into());
    }

    /// Sets the header checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        put_be32(self.buffer.as_mut(), field::SRC_ADDR, u32::from(addr));
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        put_be32(self.buffer.as_mut(), field::DST_ADDR, u32::from(addr));
    }

    /// Computes and stores the header checksum over `header_len` bytes
    /// (RFC 791 §3.1: "the checksum field itself is replaced with zero"
    /// while computing). Does nothing if the header is not in the buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = self.header_len();
        let sum = match self.buffer.as_ref().get(..header_len) {
            Some(header) => checksum::sum(header),
            None => return,
        };
        self.set_checksum(checksum::finish(sum));
    }

    /// Mutable access to the options, bytes `20..header_len`.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..header_len)
            .unwrap_or(&mut [])
    }

    /// Mutable access to the data, bytes `header_len..total_len`.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Upper-layer protocol.
    pub protocol: IpProtocol,
    /// Length of the data after the header (total length - header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Type of service octet.
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment flag.
    pub dont_frag: bool,
    /// More Fragments flag.
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
}

impl Ipv4Repr {
    /// Length of the header `emit` writes (no options).
    pub const HEADER_LEN: usize = HEADER_LEN;

    /// Parses and validates an IPv4 header: the structure checks of
    /// [`Ipv4Packet::check_len`], then the header checksum
    /// ([`Error::Checksum`], RFC 791 §3.1 "Header Checksum"). Options are
    /// skipped, not interpreted: the payload starts at IHL * 4.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Ipv4Repr> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
        })
    }

    /// Length of the header `emit` writes: 20.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of the whole packet: 20 + `payload_len`.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload_len)
    }

    /// Writes a 20-byte header without options and fills its checksum. The
    /// payload is left for the caller (`packet.payload_mut()`). The caller
    /// keeps `payload_len` <= 65515 (the total length is a 16-bit field and
    /// saturates otherwise). A short buffer is written as far as it goes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN);
        packet.set_tos(self.tos);
        packet.set_total_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.set_ident(self.ident);
        packet.set_flags_and_offset(self.dont_frag, self.more_frags, self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real header (the classic capture used to illustrate the RFC 791
    /// checksum): 192.168.0.1 -> 192.168.0.199, UDP, DF, checksum 0xb861.
    const CAPTURED_HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    /// A complete 28-byte packet: header with valid checksum + 8 data bytes.
    fn sample() -> [u8; 28] {
        let repr = sample_repr();
        let mut buf = [0u8; 28];
        let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut packet);
        packet
            .payload_mut()
            .copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        buf
    }

    fn sample_repr() -> Ipv4Repr {
        Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::Udp,
            payload_len: 8,
            ttl: 64,
            tos: 0x10,
            ident: 0xbeef,
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
        }
    }

    #[test]
    fn captured_header_checksum() {
        let packet = Ipv4Packet::new_unchecked(&CAPTURED_HEADER[..]);
        assert!(packet.verify_checksum());
        assert_eq!(packet.checksum(), 0xb861);
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.total_len(), 0x73);
        assert!(packet.dont_frag() && !packet.more_frags());
        assert_eq!(packet.frag_offset(), 0);
        assert_eq!(packet.ttl(), 64);
        assert_eq!(packet.protocol(), IpProtocol::Udp);
        assert_eq!(packet.src_addr(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(packet.dst_addr(), Ipv4Addr::new(192, 168, 0, 199));
        // Total length says 115 bytes but only the header was captured.
        assert_eq!(
            Ipv4Packet::new_checked(&CAPTURED_HEADER[..]).err(),
            Some(Error::Truncated)
        );
        let mut copy = CAPTURED_HEADER;
        let mut packet = Ipv4Packet::new_unchecked(&mut copy[..]);
        packet.set_checksum(0);
        packet.fill_checksum();
        assert_eq!(copy, CAPTURED_HEADER);
    }

    #[test]
    fn round_trip() {
        let buf = sample();
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&packet).unwrap(), sample_repr());
        assert_eq!(packet.payload(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(sample_repr().buffer_len(), 28);
        assert_eq!(&buf[6..8], &[0x20, 185]); // MF, 1480 / 8 = 185
        for (df, mf, off) in [(true, false, 0u16), (false, false, 65528), (true, true, 8)] {
            let repr = Ipv4Repr {
                dont_frag: df,
                more_frags: mf,
                frag_offset: off,
                protocol: IpProtocol::Unknown(99),
                ..sample_repr()
            };
            let mut buf = [0u8; 28];
            repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
            assert_eq!(
                Ipv4Repr::parse(&Ipv4Packet::new_checked(&buf[..]).unwrap()),
                Ok(repr)
            );
        }
    }

    #[test]
    fn protocol_conversions() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(v)), v);
        }
        assert_eq!(IpProtocol::from(1), IpProtocol::Icmp);
        assert_eq!(IpProtocol::from(6), IpProtocol::Tcp);
        assert_eq!(IpProtocol::from(17), IpProtocol::Udp);
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        let mut buf = [0xeeu8; 46];
        buf[..28].copy_from_slice(&sample());
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.payload(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(Ipv4Repr::parse(&packet).unwrap().payload_len, 8);
    }

    #[test]
    fn options_are_skipped() {
        // IHL = 6: one NOP option (RFC 791 §3.1, type 1) + End of Option
        // List padding, then 4 data bytes.
        let mut buf = [
            0x46, 0x00, 0x00, 28, 0x00, 0x01, 0x00, 0x00, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            0x01, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
        ];
        Ipv4Packet::new_unchecked(&mut buf[..]).fill_checksum();
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.header_len(), 24);
        assert_eq!(packet.options(), &[1, 0, 0, 0]);
        assert_eq!(packet.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        let repr = Ipv4Repr::parse(&packet).unwrap();
        assert_eq!(repr.payload_len, 4);
        assert_eq!(repr.protocol, IpProtocol::Udp);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let buf = sample();
        for len in 0..buf.len() {
            assert_eq!(
                Ipv4Packet::new_checked(&buf[..len]).err(),
                Some(Error::Truncated)
            );
            let packet = Ipv4Packet::new_unchecked(&buf[..len]);
            assert_eq!(Ipv4Repr::parse(&packet), Err(Error::Truncated));
            let _ = (packet.payload(), packet.options(), packet.verify_checksum());
        }
    }

    #[test]
    fn malformed_fields() {
        let check = |f: &dyn Fn(&mut [u8]), expected: Error| {
            let mut buf = sample();
            f(&mut buf);
            Ipv4Packet::new_unchecked(&mut buf[..]).fill_checksum();
            assert_eq!(Ipv4Packet::new_checked(&buf[..]).err(), Some(expected));
            assert_eq!(
                Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&buf[..])),
                Err(expected)
            );
        };
        check(&|b| b[0] = 0x65, Error::Malformed); // version 6
        check(&|b| b[0] = 0x44, Error::Malformed); // IHL 4
        check(&|b| b[0] = 0x40, Error::Malformed); // IHL 0
        check(&|b| b[0] = 0x48, Error::Truncated); // IHL 8: 32 > 28 bytes
        check(&|b| b[3] = 19, Error::Malformed); // total_len < header_len
        check(&|b| b[3] = 29, Error::Truncated); // total_len > buffer
    }

    #[test]
    fn checksum_corruption_is_detected() {
        let good = sample();
        for at in 0..HEADER_LEN {
            for bit in 0..8 {
                let mut buf = good;
                buf[at] ^= 1 << bit;
                let Ok(packet) = Ipv4Packet::new_checked(&buf[..]) else {
                    continue;
                };
                assert_eq!(
                    Ipv4Repr::parse(&packet),
                    Err(Error::Checksum),
                    "byte {at} bit {bit}"
                );
            }
        }
        // The payload is not covered by the IPv4 checksum.
        let mut buf = good;
        buf[27] ^= 0xff;
        assert!(Ipv4Repr::parse(&Ipv4Packet::new_checked(&buf[..]).unwrap()).is_ok());
    }

    #[test]
    fn setters() {
        let mut buf = [0u8; 24];
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_version(4);
        p.set_header_len(24);
        p.set_total_len(24);
        p.set_dont_frag(true);
        p.set_more_frags(true);
        p.set_frag_offset(16);
        assert!(p.dont_frag() && p.more_frags());
        assert_eq!(p.frag_offset(), 16);
        p.set_more_frags(false);
        assert!(p.dont_frag() && !p.more_frags());
        assert_eq!(p.frag_offset(), 16);
        p.options_mut().copy_from_slice(&[1, 1, 1, 0]);
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert!(p.payload_mut().is_empty());
        assert_eq!(p.header_len(), 24);
    }

    #[test]
    fn emit_into_short_buffer_does_not_panic() {
        let good = sample();
        for len in 0..28 {
            let mut buf = [0u8; 28];
            let mut packet = Ipv4Packet::new_unchecked(&mut buf[..len]);
            sample_repr().emit(&mut packet);
            let _ = packet.payload_mut();
            if len >= HEADER_LEN {
                assert_eq!(buf[..HEADER_LEN], good[..HEADER_LEN]);
            }
        }
    }

    use crate::wire::test_util::XorShift;

    #[test]
    fn fuzz_never_panics() {
        let mut with_options = [0u8; 36];
        with_options[0] = 0x47;
        with_options[3] = 36;
        with_options[20..28].copy_from_slice(&[0x01, 0x44, 0x08, 0x05, 0, 0, 0, 0]);
        Ipv4Packet::new_unchecked(&mut with_options[..]).fill_checksum();
        let seeds: [&[u8]; 3] = [&sample(), &with_options, &CAPTURED_HEADER];
        for seed in 1..=8u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            for _ in 0..5000 {
                let base = seeds[(rng.next() % 3) as usize];
                let mut buf = [0u8; 64];
                buf[..base.len()].copy_from_slice(base);
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() % 24) as usize;
                    buf[at] = rng.next() as u8;
                }
                let len = if rng.next() % 3 == 0 {
                    (rng.next() % 65) as usize
                } else {
                    base.len()
                };
                let buf = &mut buf[..len];
                if rng.next() % 2 == 0 {
                    // Reach the code behind the checksum check too.
                    Ipv4Packet::new_unchecked(&mut *buf).fill_checksum();
                }
                let p = Ipv4Packet::new_unchecked(&*buf);
                let _ = (
                    p.options(),
                    p.payload(),
                    p.verify_checksum(),
                    p.frag_offset(),
                );
                if let Ok(p) = Ipv4Packet::new_checked(&*buf) {
                    if let Ok(repr) = Ipv4Repr::parse(&p) {
                        assert_eq!(repr.payload_len, p.payload().len());
                        assert!(p.header_len() >= HEADER_LEN);
                    }
                }
                let mut p = Ipv4Packet::new_unchecked(&mut *buf);
                let _ = (p.options_mut().len(), p.payload_mut().len());
            }
        }
    }
}
