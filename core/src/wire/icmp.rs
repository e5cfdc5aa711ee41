//! ICMPv4 messages (RFC 792), with the next-hop MTU of RFC 1191.
//!
//! Every message starts with the same 8 bytes (RFC 792):
//!
//! ```text
//!  0               1               2               3
//! +---------------+---------------+-------------------------------+
//! |     Type      |     Code      |          Checksum             |
//! +---------------+---------------+-------------------------------+
//! |  Identifier / unused          |  Sequence Number / MTU        |
//! +-------------------------------+-------------------------------+
//! |     Data ...
//! ```
//!
//! The checksum covers the whole ICMP message: the view's buffer must be
//! exactly the IP payload (use `Ipv4Packet::payload`).

use super::{be16, checksum, put_be16, Error, Result};

/// Type 0, Echo Reply (RFC 792 "Echo or Echo Reply Message").
pub const TYPE_ECHO_REPLY: u8 = 0;
/// Type 3, Destination Unreachable (RFC 792).
pub const TYPE_DST_UNREACHABLE: u8 = 3;
/// Type 8, Echo Request (RFC 792 "Echo or Echo Reply Message").
pub const TYPE_ECHO_REQUEST: u8 = 8;
/// Type 11, Time Exceeded (RFC 792).
pub const TYPE_TIME_EXCEEDED: u8 = 11;

/// Length of the ICMP header (type, code, checksum, 4 more bytes).
pub const HEADER_LEN: usize = 8;

/// The smallest quotation an error message may carry: an IPv4 header
/// without options and "the first 64 bits of the original datagram's
/// data" (RFC 792, "Destination Unreachable Message").
const MIN_QUOTE_LEN: usize = 20 + 8;

/// Codes of the Destination Unreachable message (RFC 792).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DstUnreachable {
    /// 0, net unreachable.
    NetUnreachable,
    /// 1, host unreachable.
    HostUnreachable,
    /// 2, protocol unreachable.
    ProtoUnreachable,
    /// 3, port unreachable.
    PortUnreachable,
    /// 4, fragmentation needed and DF set (next-hop MTU per RFC 1191 §4).
    FragRequired,
    /// Any other code (RFC 1122 §3.2.2.1 defines 5 to 12).
    Other(u8),
}

impl From<u8> for DstUnreachable {
    fn from(value: u8) -> Self {
        match value {
            0 => DstUnreachable::NetUnreachable,
            1 => DstUnreachable::HostUnreachable,
            2 => DstUnreachable::ProtoUnreachable,
            3 => DstUnreachable::PortUnreachable,
            4 => DstUnreachable::FragRequired,
            other => DstUnreachable::Other(other),
        }
    }
}

impl From<DstUnreachable> for u8 {
    fn from(value: DstUnreachable) -> Self {
        match value {
            DstUnreachable::NetUnreachable => 0,
            DstUnreachable::HostUnreachable => 1,
            DstUnreachable::ProtoUnreachable => 2,
            DstUnreachable::PortUnreachable => 3,
            DstUnreachable::FragRequired => 4,
            DstUnreachable::Other(other) => other,
        }
    }
}

/// Codes of the Time Exceeded message (RFC 792).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeExceeded {
    /// 0, time to live exceeded in transit.
    TtlExpired,
    /// 1, fragment reassembly time exceeded.
    FragExpired,
    /// Any other code.
    Other(u8),
}

impl From<u8> for TimeExceeded {
    fn from(value: u8) -> Self {
        match value {
            0 => TimeExceeded::TtlExpired,
            1 => TimeExceeded::FragExpired,
            other => TimeExceeded::Other(other),
        }
    }
}

impl From<TimeExceeded> for u8 {
    fn from(value: TimeExceeded) -> Self {
        match value {
            TimeExceeded::TtlExpired => 0,
            TimeExceeded::FragExpired => 1,
            TimeExceeded::Other(other) => other,
        }
    }
}

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const ECHO_IDENT: usize = 4;
    pub const ECHO_SEQNO: usize = 6;
    pub const UNUSED: usize = 4;
    pub const NEXT_HOP_MTU: usize = 6;
}

/// A checked view of an ICMPv4 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps `buffer` without checking it. The accessors still never panic:
    /// missing fields read as zero and the data as empty.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// [`Error::Truncated`] if the buffer cannot hold the 8-byte header.
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

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// The message type (see the `TYPE_*` constants).
    pub fn msg_type(&self) -> u8 {
        self.byte(field::TYPE)
    }

    /// The message code.
    pub fn msg_code(&self) -> u8 {
        self.byte(field::CODE)
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The echo identifier, bytes 4..6 (RFC 792 "Echo or Echo Reply").
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// The echo sequence number, bytes 6..8.
    pub fn echo_seq_no(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// The next-hop MTU of a "fragmentation needed" message, bytes 6..8
    /// (RFC 1191 §4; 0 from routers predating RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        be16(self.buffer.as_ref(), field::NEXT_HOP_MTU)
    }

    /// Everything after the 8-byte header: the echo data, or the quoted
    /// original datagram of an error message.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// Whether the checksum is valid: the one's complement sum of the whole
    /// message, checksum included, is all ones (RFC 792, RFC 1071).
    pub fn verify_checksum(&self) -> bool {
        let buf = self.buffer.as_ref();
        buf.len() >= HEADER_LEN && checksum::sum(buf) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    fn set_byte(&mut self, at: usize, value: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = value;
        }
    }

    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: u8) {
        self.set_byte(field::TYPE, value);
    }

    /// Sets the message code.
    pub fn set_msg_code(&mut self, value: u8) {
        self.set_byte(field::CODE, value);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::ECHO_IDENT, value);
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::ECHO_SEQNO, value);
    }

    /// Sets the next-hop MTU (bytes 6..8, RFC 1191 §4).
    pub fn set_next_hop_mtu(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::NEXT_HOP_MTU, value);
    }

    /// Computes and stores the checksum over the whole buffer (RFC 792:
    /// "For computing the checksum, the checksum field should be zero").
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::sum(self.buffer.as_ref());
        self.set_checksum(checksum::finish(sum));
    }

    /// Mutable access to everything after the 8-byte header.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Icmpv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed ICMPv4 message of one of the kinds this stack handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv4Repr<'a> {
    /// Type 8, code 0.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data, to be echoed back unchanged.
        data: &'a [u8],
    },
    /// Type 0, code 0.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data of the request.
        data: &'a [u8],
    },
    /// Type 3.
    DstUnreachable {
        /// The code.
        reason: DstUnreachable,
        /// Bytes 6..8: the next-hop MTU for [`DstUnreachable::FragRequired`]
        /// (RFC 1191 §4), otherwise unused and 0.
        next_hop_mtu: u16,
        /// The quoted original datagram: its IP header and at least the
        /// first 8 bytes of its data, raw.
        data: &'a [u8],
    },
    /// Type 11.
    TimeExceeded {
        /// The code.
        reason: TimeExceeded,
        /// The quoted original datagram: its IP header and at least the
        /// first 8 bytes of its data, raw.
        data: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses an ICMPv4 message. The returned repr borrows its data from
    /// the packet's underlying buffer (`'a`), not from the view, so the view
    /// may be a temporary: `Icmpv4Repr::parse(&Icmpv4Packet::new_checked(bytes)?)`.
    ///
    /// Errors, in order: [`Error::Truncated`] if shorter than 8 bytes;
    /// [`Error::Checksum`]; [`Error::Malformed`] for an echo message with a
    /// non-zero code (RFC 792: "Code 0"); [`Error::Truncated`] for an error
    /// message quoting less than 28 bytes (an IPv4 header + 64 bits of
    /// data, RFC 792); [`Error::Unsupported`] for any other type.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Icmpv4Repr<'a>> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        let buffer: &'a T = packet.buffer;
        let buffer: &'a [u8] = buffer.as_ref();
        let data = buffer.get(HEADER_LEN..).unwrap_or(&[]);
        let code = packet.msg_code();
        match packet.msg_type() {
            TYPE_ECHO_REQUEST | TYPE_ECHO_REPLY if code != 0 => Err(Error::Malformed),
            TYPE_ECHO_REQUEST => Ok(Icmpv4Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            }),
            TYPE_ECHO_REPLY => Ok(Icmpv4Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            }),
            TYPE_DST_UNREACHABLE | TYPE_TIME_EXCEEDED if data.len() < MIN_QUOTE_LEN => {
                Err(Error::Truncated)
            }
            TYPE_DST_UNREACHABLE => Ok(Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(code),
                next_hop_mtu: packet.next_hop_mtu(),
                data,
            }),
            TYPE_TIME_EXCEEDED => Ok(Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::from(code),
                data,
            }),
            _ => Err(Error::Unsupported),
        }
    }

    fn data(&self) -> &'a [u8] {
        match *self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::DstUnreachable { data, .. }
            | Icmpv4Repr::TimeExceeded { data, .. } => data,
        }
    }

    /// Length of the message `emit` writes: 8 + `data.len()`.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.data().len())
    }

    /// Writes the header and the data and fills the checksum. The buffer
    /// should be exactly [`buffer_len`](Self::buffer_len) bytes, as the
    /// checksum covers all of it; a shorter one is written as far as it goes
    /// (and the data truncated).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                packet.set_msg_type(TYPE_ECHO_REQUEST);
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
            }
            Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                packet.set_msg_type(TYPE_ECHO_REPLY);
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
            }
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => {
                packet.set_msg_type(TYPE_DST_UNREACHABLE);
                packet.set_msg_code(reason.into());
                // RFC 1191 §4: "unused" (zero) in bytes 4..6, MTU in 6..8.
                put_be16(packet.buffer.as_mut(), field::UNUSED, 0);
                packet.set_next_hop_mtu(next_hop_mtu);
            }
            Icmpv4Repr::TimeExceeded { reason, .. } => {
                packet.set_msg_type(TYPE_TIME_EXCEEDED);
                packet.set_msg_code(reason.into());
                // RFC 792: bytes 4..8 are unused and zero.
                put_be16(packet.buffer.as_mut(), field::UNUSED, 0);
                put_be16(packet.buffer.as_mut(), field::NEXT_HOP_MTU, 0);
            }
        }
        let data = self.data();
        for (dst, src) in packet.data_mut().iter_mut().zip(data) {
            *dst = *src;
        }
        packet.fill_checksum();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::ipv4::{Ipv4Packet, Ipv4Repr};

    /// An IPv4 echo request as Windows `ping` sends it: 192.168.1.10 ->
    /// 192.168.1.1, ident 1, seq 0x21, data "abcdefghijklmnopqrstuvwabcdefghi".
    /// IP checksum 0x7b4b, ICMP checksum 0x4d3a (both computed independently).
    pub(crate) const ECHO_REQUEST_IP: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x3c, 0x1a, 0x00, 0x00, 0x80, 0x01, 0x7b, 0x4b, 0xc0, 0xa8, 0x01,
        0x0a, 0xc0, 0xa8, 0x01, 0x01, 0x08, 0x00, 0x4d, 0x3a, 0x00, 0x01, 0x00, 0x21, 0x61, 0x62,
        0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
        0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    ];

    const PING_DATA: &[u8] = b"abcdefghijklmnopqrstuvwabcdefghi";

    fn echo_request() -> &'static [u8] {
        &ECHO_REQUEST_IP[20..]
    }

    #[test]
    fn parse_captured_echo_request() {
        let ip = Ipv4Packet::new_checked(&ECHO_REQUEST_IP[..]).unwrap();
        let ip_repr = Ipv4Repr::parse(&ip).unwrap();
        assert_eq!(ip_repr.payload_len, 40);
        let packet = Icmpv4Packet::new_checked(ip.payload()).unwrap();
        assert!(packet.verify_checksum());
        assert_eq!(packet.checksum(), 0x4d3a);
        assert_eq!(
            (packet.msg_type(), packet.msg_code()),
            (TYPE_ECHO_REQUEST, 0)
        );
        assert_eq!(
            Icmpv4Repr::parse(&packet).unwrap(),
            Icmpv4Repr::EchoRequest {
                ident: 1,
                seq_no: 0x21,
                data: PING_DATA
            }
        );
    }

    #[test]
    fn echo_reply_round_trip() {
        let request = Icmpv4Packet::new_checked(echo_request()).unwrap();
        let Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        } = Icmpv4Repr::parse(&request).unwrap()
        else {
            panic!("not an echo request")
        };
        let reply = Icmpv4Repr::EchoReply {
            ident,
            seq_no,
            data,
        };
        let mut buf = [0u8; 40];
        assert_eq!(reply.buffer_len(), 40);
        reply.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(
            Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&buf[..]).unwrap()),
            Ok(reply)
        );
        // Only the type and the checksum differ from the request; the
        // checksum changes by exactly the type difference (RFC 1624).
        assert_eq!(buf[0], 0);
        assert_eq!(&buf[4..], &echo_request()[4..]);
        assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), 0x4d3a + 0x0800);

        let mut again = [0u8; 40];
        let request = Icmpv4Repr::EchoRequest {
            ident: 1,
            seq_no: 0x21,
            data: PING_DATA,
        };
        request.emit(&mut Icmpv4Packet::new_unchecked(&mut again[..]));
        assert_eq!(&again[..], echo_request());
    }

    #[test]
    fn error_messages_round_trip() {
        let quote = &ECHO_REQUEST_IP[..28];
        let reprs = [
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::FragRequired,
                next_hop_mtu: 1400,
                data: quote,
            },
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::PortUnreachable,
                next_hop_mtu: 0,
                data: quote,
            },
            Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::TtlExpired,
                data: quote,
            },
            Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::Other(7),
                data: &ECHO_REQUEST_IP,
            },
        ];
        for repr in reprs {
            let mut buf = [0xaau8; 68];
            let buf = &mut buf[..repr.buffer_len()];
            repr.emit(&mut Icmpv4Packet::new_unchecked(&mut *buf));
            let packet = Icmpv4Packet::new_checked(&*buf).unwrap();
            assert_eq!(Icmpv4Repr::parse(&packet), Ok(repr));
        }
        let frag = reprs[0];
        let mut buf = [0u8; 36];
        frag.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..2], &[3, 4]);
        assert_eq!(&buf[4..8], &[0, 0, 0x05, 0x78]);
        assert_eq!(Icmpv4Packet::new_unchecked(&buf[..]).next_hop_mtu(), 1400);
    }

    #[test]
    fn code_conversions() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(DstUnreachable::from(v)), v);
            assert_eq!(u8::from(TimeExceeded::from(v)), v);
        }
        assert_eq!(DstUnreachable::from(4), DstUnreachable::FragRequired);
        assert_eq!(TimeExceeded::from(1), TimeExceeded::FragExpired);
    }

    #[test]
    fn every_truncation_is_an_error() {
        // Cutting an echo request leaves a valid-length packet whose
        // checksum no longer matches; below 8 bytes it is truncated.
        let full = echo_request();
        for len in 0..full.len() {
            let packet = Icmpv4Packet::new_unchecked(&full[..len]);
            let _ = (packet.data(), packet.echo_seq_no(), packet.next_hop_mtu());
            let expected = if len < HEADER_LEN {
                Error::Truncated
            } else {
                Error::Checksum
            };
            assert_eq!(Icmpv4Repr::parse(&packet), Err(expected), "len {len}");
            assert_eq!(
                Icmpv4Packet::new_checked(&full[..len]).is_err(),
                len < HEADER_LEN
            );
        }
        // An error message quoting too little, with a valid checksum.
        for len in 0..MIN_QUOTE_LEN {
            let repr = Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::TtlExpired,
                data: &ECHO_REQUEST_IP[..len],
            };
            let mut buf = [0u8; 8 + MIN_QUOTE_LEN];
            let buf = &mut buf[..repr.buffer_len()];
            repr.emit(&mut Icmpv4Packet::new_unchecked(&mut *buf));
            let packet = Icmpv4Packet::new_checked(&*buf).unwrap();
            assert_eq!(Icmpv4Repr::parse(&packet), Err(Error::Truncated));
        }
    }

    #[test]
    fn checksum_corruption_is_detected() {
        let good = echo_request();
        for at in 0..good.len() {
            let mut buf = [0u8; 40];
            buf.copy_from_slice(good);
            buf[at] ^= 0x5a;
            let packet = Icmpv4Packet::new_checked(&buf[..]).unwrap();
            assert!(!packet.verify_checksum());
            assert_eq!(Icmpv4Repr::parse(&packet), Err(Error::Checksum));
        }
    }

    #[test]
    fn unsupported_and_malformed() {
        let check = |msg_type: u8, code: u8, expected: Error| {
            let mut buf = [0u8; 40];
            buf.copy_from_slice(echo_request());
            let mut packet = Icmpv4Packet::new_unchecked(&mut buf[..]);
            packet.set_msg_type(msg_type);
            packet.set_msg_code(code);
            packet.fill_checksum();
            let packet = Icmpv4Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(Icmpv4Repr::parse(&packet), Err(expected));
        };
        check(13, 0, Error::Unsupported); // timestamp
        check(5, 0, Error::Unsupported); // redirect
        check(TYPE_ECHO_REQUEST, 1, Error::Malformed);
        check(TYPE_ECHO_REPLY, 9, Error::Malformed);
    }

    #[test]
    fn emit_into_short_buffer_does_not_panic() {
        let repr = Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::HostUnreachable,
            next_hop_mtu: 0,
            data: &ECHO_REQUEST_IP,
        };
        for len in 0..repr.buffer_len() {
            let mut buf = [0u8; 68];
            repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..len]));
        }
    }

    use crate::wire::test_util::XorShift;

    #[test]
    fn fuzz_never_panics() {
        for seed in 1..=8u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            for _ in 0..5000 {
                let mut buf = [0u8; 48];
                buf[..40].copy_from_slice(echo_request());
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() % if rng.next() % 2 == 0 { 8 } else { 48 }) as usize;
                    buf[at] = rng.next() as u8;
                }
                let len = (rng.next() % 49) as usize;
                let buf = &mut buf[..len];
                if rng.next() % 2 == 0 {
                    Icmpv4Packet::new_unchecked(&mut *buf).fill_checksum();
                }
                let unchecked = Icmpv4Packet::new_unchecked(&*buf);
                let _ = (
                    unchecked.data(),
                    unchecked.echo_ident(),
                    unchecked.verify_checksum(),
                );
                if let Ok(packet) = Icmpv4Packet::new_checked(&*buf) {
                    if let Ok(repr) = Icmpv4Repr::parse(&packet) {
                        let mut out = [0u8; 48];
                        let out = &mut out[..repr.buffer_len()];
                        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut *out));
                        let again = Icmpv4Packet::new_checked(&*out).unwrap();
                        assert_eq!(Icmpv4Repr::parse(&again), Ok(repr));
                    }
                }
                let _ = Icmpv4Packet::new_unchecked(&mut *buf).data_mut().len();
            }
        }
    }
}
