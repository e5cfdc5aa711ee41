//! TCP segments (RFC 9293 §3.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |       |C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//! |       |       |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           [Options]                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             data ...
//! ```
//!
//! TCP has no length field: the segment is the whole buffer handed to the
//! view (the IP payload). The checksum covers the IPv4 pseudo-header with
//! the segment length, the header and the data (RFC 9293 §3.1 "Checksum").
//! Options are in [`tcp_options`](super::tcp_options).

use core::net::Ipv4Addr;

use super::{be16, be32, checksum, put_be16, put_be32, Error, Result};

pub use super::tcp_options::{SackBlock, SeqNumber, TcpOption, TcpOptions, MAX_SACK_BLOCKS};

/// Length of the TCP header without options.
pub const HEADER_LEN: usize = 20;

/// The most option bytes a header can hold: data offset 15 words = 60 bytes
/// (RFC 9293 §3.1 "Data Offset").
pub const MAX_OPTIONS_LEN: usize = 40;

/// The largest window scale shift (RFC 7323 §2.3).
pub const MAX_WINDOW_SCALE: u8 = 14;

/// IP protocol number of TCP (RFC 9293 §3.1 "Protocol").
const PROTOCOL_TCP: u8 = 6;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ_NUM: usize = 4;
    pub const ACK_NUM: usize = 8;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// Flag bits of byte 13 (RFC 9293 §3.1 "Control Bits", RFC 3168 §6.1).
mod flag {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Defines one getter per flag bit of byte 13.
macro_rules! flag_accessors {
    ($($name:ident, $mask:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        pub fn $name(&self) -> bool {
            self.flag(flag::$mask)
        }
    )*};
}

/// Defines one setter per flag bit of byte 13.
macro_rules! flag_setters {
    ($($name:ident, $mask:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        pub fn $name(&mut self, value: bool) {
            self.set_flag(flag::$mask, value);
        }
    )*};
}

/// A checked view of a TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buffer` without checking it. The accessors still never panic:
    /// missing fields read as zero and options and payload as empty.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// [`Error::Truncated`] if the buffer cannot hold the 20-byte header;
    /// [`Error::Malformed`] if the data offset is below 5 words (RFC 9293
    /// §3.1: "The TCP header ... is an integer multiple of 32 bits", at
    /// least 20 bytes); [`Error::Truncated`] if the buffer is shorter than
    /// the data offset says.
    pub fn check_len(&self) -> Result<()> {
        let buffer_len = self.buffer.as_ref().len();
        if buffer_len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = usize::from(self.header_len());
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if header_len > buffer_len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// The sequence number of the first data byte (of the SYN if set).
    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(be32(self.buffer.as_ref(), field::SEQ_NUM))
    }

    /// The acknowledgment number, meaningful when ACK is set.
    pub fn ack_number(&self) -> SeqNumber {
        SeqNumber(be32(self.buffer.as_ref(), field::ACK_NUM))
    }

    /// The header length in bytes: the data offset field times 4.
    pub fn header_len(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::DATA_OFFSET)
            .map_or(0, |b| (b >> 4) * 4)
    }

    fn flag(&self, mask: u8) -> bool {
        self.buffer
            .as_ref()
            .get(field::FLAGS)
            .is_some_and(|b| b & mask != 0)
    }

    flag_accessors! {
        fin, FIN, "FIN: no more data from the sender (RFC 9293 §3.1).";
        syn, SYN, "SYN: synchronize sequence numbers (RFC 9293 §3.1).";
        rst, RST, "RST: reset the connection (RFC 9293 §3.1).";
        psh, PSH, "PSH: push function (RFC 9293 §3.1).";
        ack, ACK, "ACK: the acknowledgment number is significant (RFC 9293 §3.1).";
        urg, URG, "URG: the urgent pointer is significant (RFC 9293 §3.1).";
        ece, ECE, "ECE: ECN-Echo (RFC 3168 §6.1).";
        cwr, CWR, "CWR: congestion window reduced (RFC 3168 §6.1).";
    }

    /// The receive window, not yet scaled (RFC 7323 §2.3).
    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WINDOW)
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The urgent pointer, meaningful when URG is set.
    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }

    /// The option bytes, `20..header_len` (empty if out of range).
    pub fn options(&self) -> &[u8] {
        let end = usize::from(self.header_len());
        self.buffer.as_ref().get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// The data, `header_len..` (empty if out of range).
    pub fn payload(&self) -> &[u8] {
        let start = usize::from(self.header_len()).max(HEADER_LEN);
        self.buffer.as_ref().get(start..).unwrap_or(&[])
    }

    /// SEG.LEN (RFC 9293 §3.4): data bytes plus one each for SYN and FIN.
    pub fn segment_len(&self) -> usize {
        self.payload().len() + usize::from(self.syn()) + usize::from(self.fin())
    }

    /// Whether the checksum is valid for a segment from `src` to `dst`
    /// (RFC 9293 §3.1; unlike UDP there is no "no checksum" value). False if
    /// the buffer is shorter than the header.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        let segment = self.buffer.as_ref();
        match u32::try_from(segment.len()) {
            Ok(len) if segment.len() >= HEADER_LEN => {
                let pseudo = checksum::pseudo_header(src, dst, PROTOCOL_TCP, len);
                checksum::combine(&[pseudo, checksum::sum(segment)]) == 0xffff
            }
            _ => false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::SRC_PORT, value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::DST_PORT, value);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, value: SeqNumber) {
        put_be32(self.buffer.as_mut(), field::SEQ_NUM, value.0);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, value: SeqNumber) {
        put_be32(self.buffer.as_mut(), field::ACK_NUM, value.0);
    }

    /// Sets the header length in bytes (stored as `value / 4` in the data
    /// offset; the reserved bits are cleared).
    pub fn set_header_len(&mut self, value: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::DATA_OFFSET) {
            *b = (value / 4) << 4;
        }
    }

    fn set_flag(&mut self, mask: u8, value: bool) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::FLAGS) {
            *b = if value { *b | mask } else { *b & !mask };
        }
    }

    /// Clears all eight flags.
    pub fn clear_flags(&mut self) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::FLAGS) {
            *b = 0;
        }
    }

    flag_setters! {
        set_fin, FIN, "Sets FIN.";
        set_syn, SYN, "Sets SYN.";
        set_rst, RST, "Sets RST.";
        set_psh, PSH, "Sets PSH.";
        set_ack, ACK, "Sets ACK.";
        set_urg, URG, "Sets URG.";
        set_ece, ECE, "Sets ECE.";
        set_cwr, CWR, "Sets CWR.";
    }

    /// Sets the window field.
    pub fn set_window_len(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::WINDOW, value);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::URGENT, value);
    }

    /// Computes and stores the checksum over the pseudo-header and the
    /// whole buffer (RFC 9293 §3.1). Does nothing if the buffer is shorter
    /// than the header.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let segment = self.buffer.as_ref();
        let Ok(len) = u32::try_from(segment.len()) else {
            return;
        };
        if segment.len() < HEADER_LEN {
            return;
        }
        let sum = checksum::combine(&[
            checksum::pseudo_header(src, dst, PROTOCOL_TCP, len),
            checksum::sum(segment),
        ]);
        self.set_checksum(checksum::finish(sum));
    }

    /// Mutable access to the option bytes, `20..header_len`.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.header_len());
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..end)
            .unwrap_or(&mut [])
    }

    /// Mutable access to the data, `header_len..`.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = usize::from(self.header_len()).max(HEADER_LEN);
        self.buffer.as_mut().get_mut(start..).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for TcpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The one control flag of a segment that matters to the state machine
/// besides ACK (as in smoltcp): RST, SYN, FIN or PSH, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TcpControl {
    /// No flag.
    #[default]
    None,
    /// PSH.
    Psh,
    /// SYN.
    Syn,
    /// FIN.
    Fin,
    /// RST.
    Rst,
}

impl TcpControl {
    /// The sequence space the flag occupies: 1 for SYN and FIN (RFC 9293
    /// §3.4), 0 otherwise.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(self) -> usize {
        match self {
            TcpControl::Syn | TcpControl::Fin => 1,
            _ => 0,
        }
    }
}

/// A parsed TCP segment. `'a` is the lifetime of the buffer the segment was
/// parsed from (or of the data to send): `payload` borrows it.
///
/// The urgent pointer, URG, ECE and CWR are not represented: parsing ignores
/// them and emitting clears them. Options that belong only on a SYN (MSS,
/// window scale, SACK-permitted; RFC 9293 §3.7.1, RFC 7323 §2.2, RFC 2018
/// §2) are recorded and emitted whatever the flags: ignoring them on other
/// segments is the connection's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// RST, SYN, FIN, PSH or none.
    pub control: TcpControl,
    /// Sequence number.
    pub seq_number: SeqNumber,
    /// Acknowledgment number; `Some` exactly when ACK is set.
    pub ack_number: Option<SeqNumber>,
    /// Window field, not scaled.
    pub window_len: u16,
    /// Window scale shift, at most 14 (RFC 7323 §2.3).
    pub window_scale: Option<u8>,
    /// Maximum segment size (RFC 9293 §3.7.1).
    pub max_seg_size: Option<u16>,
    /// SACK-permitted (RFC 2018 §2).
    pub sack_permitted: bool,
    /// SACK blocks (RFC 2018 §3), packed at the front.
    pub sack_ranges: [Option<SackBlock>; MAX_SACK_BLOCKS],
    /// Timestamps option `(tsval, tsecr)` (RFC 7323 §3.2).
    pub timestamp: Option<(u32, u32)>,
    /// The data.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a segment from `src` to `dst`: the length checks of
    /// [`TcpPacket::check_len`], then the checksum ([`Error::Checksum`]),
    /// then [`Error::Malformed`] for SYN with RST or FIN, or for a malformed
    /// option list (RFC 9293 §3.1, MUST-7). Other flag combinations
    /// collapse by priority RST > SYN > FIN > PSH. Unknown options are
    /// ignored (MUST-6); a repeated option keeps its last value; a window
    /// scale above 14 is taken as 14 (RFC 7323 §2.3).
    ///
    /// The packet borrows a buffer for `'a`, so the repr's payload outlives
    /// the view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &TcpPacket<&'a T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<TcpRepr<'a>> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        let control = match (packet.rst(), packet.syn(), packet.fin(), packet.psh()) {
            (_, true, true, _) | (true, true, _, _) => return Err(Error::Malformed),
            (true, _, _, _) => TcpControl::Rst,
            (_, true, _, _) => TcpControl::Syn,
            (_, _, true, _) => TcpControl::Fin,
            (_, _, _, true) => TcpControl::Psh,
            _ => TcpControl::None,
        };
        let bytes: &'a [u8] = packet.buffer.as_ref();
        let header_len = usize::from(packet.header_len());
        let options = bytes.get(HEADER_LEN..header_len).unwrap_or(&[]);
        let mut repr = TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            control,
            seq_number: packet.seq_number(),
            ack_number: packet.ack().then_some(packet.ack_number()),
            window_len: packet.window_len(),
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None; MAX_SACK_BLOCKS],
            timestamp: None,
            payload: bytes.get(header_len..).unwrap_or(&[]),
        };
        repr.parse_options(options)?;
        Ok(repr)
    }

    /// Length of the header with options, 20..=60.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// Length of the whole segment: header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len().saturating_add(self.payload.len())
    }

    /// SEG.LEN (RFC 9293 §3.4): the payload plus one for SYN or FIN.
    pub fn segment_len(&self) -> usize {
        self.payload.len().saturating_add(self.control.len())
    }

    /// Writes the header with options into `header` (checksum 0) and
    /// returns its length.
    fn write_header(&self, header: &mut [u8; HEADER_LEN + MAX_OPTIONS_LEN]) -> usize {
        let header_len = self.header_len();
        let mut packet = TcpPacket::new_unchecked(&mut header[..]);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number.unwrap_or_default());
        packet.set_header_len(u8::try_from(header_len).unwrap_or(0));
        packet.clear_flags();
        packet.set_ack(self.ack_number.is_some());
        match self.control {
            TcpControl::None => {}
            TcpControl::Psh => packet.set_psh(true),
            TcpControl::Syn => packet.set_syn(true),
            TcpControl::Fin => packet.set_fin(true),
            TcpControl::Rst => packet.set_rst(true),
        }
        packet.set_window_len(self.window_len);
        packet.set_checksum(0);
        packet.set_urgent_at(0);

        self.emit_options(header.get_mut(HEADER_LEN..).unwrap_or(&mut []));
        header_len
    }

    /// Writes only the header, options included, into the front of `buf`
    /// and returns its length, [`header_len`](Self::header_len). The
    /// checksum covers this header followed by `self.payload`, which the
    /// caller places after it (or sends from elsewhere: zero-copy). The
    /// header length is a multiple of 4, so the partial sums add up (RFC
    /// 1071 §2(B)). Writes nothing and returns 0 if `buf` is too short.
    pub fn emit_header(&self, buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) -> usize {
        let mut header = [0u8; HEADER_LEN + MAX_OPTIONS_LEN];
        let header_len = self.write_header(&mut header);
        let (Some(out), Some(bytes)) = (buf.get_mut(..header_len), header.get(..header_len)) else {
            return 0;
        };
        let len = u32::try_from(self.buffer_len()).unwrap_or(u32::MAX);
        let sum = checksum::combine(&[
            checksum::pseudo_header(src, dst, PROTOCOL_TCP, len),
            checksum::sum(bytes),
            checksum::sum(self.payload),
        ]);
        out.copy_from_slice(bytes);
        put_be16(out, field::CHECKSUM, checksum::finish(sum));
        header_len
    }

    /// Writes the header, options and payload and fills the checksum. The
    /// segment is the whole buffer, so it should be exactly
    /// [`buffer_len`](Self::buffer_len) bytes; a shorter one is written as
    /// far as it goes without panicking (and then fails to parse).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        let mut header = [0u8; HEADER_LEN + MAX_OPTIONS_LEN];
        let header_len = self.write_header(&mut header);
        let buffer = packet.buffer.as_mut();
        for (d, s) in buffer.iter_mut().zip(header.iter().take(header_len)) {
            *d = *s;
        }
        if let Some(data) = buffer.get_mut(header_len..) {
            for (d, s) in data.iter_mut().zip(self.payload) {
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
    use crate::wire::test_util::XorShift;

    pub(crate) const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    pub(crate) const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

    /// A Linux SYN from 192.168.1.10:42226 to 192.168.1.1:80 as an IPv4
    /// packet, with Linux's option layout: MSS 1460, SACK-permitted,
    /// timestamps (TSval 0x005c2d1e, TSecr 0), NOP, window scale 7. IP
    /// checksum 0x9b1a and TCP checksum 0xe7d5 computed independently.
    const LINUX_SYN_IP: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x9b, 0x1a, 0xc0, 0xa8, 0x01,
        0x0a, 0xc0, 0xa8, 0x01, 0x01, 0xa4, 0xf2, 0x00, 0x50, 0xe3, 0xc1, 0x2b, 0x5f, 0x00, 0x00,
        0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0xe7, 0xd5, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
        0x02, 0x08, 0x0a, 0x00, 0x5c, 0x2d, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];

    pub(crate) const BASE: TcpRepr<'static> = TcpRepr {
        src_port: 42226,
        dst_port: 80,
        control: TcpControl::None,
        seq_number: SeqNumber(0xffff_ff00),
        ack_number: None,
        window_len: 1024,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None; MAX_SACK_BLOCKS],
        timestamp: None,
        payload: &[],
    };

    /// 37 bytes: an odd length, so the checksum pads a byte.
    const DATA: &[u8] = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

    pub(crate) fn block(left: u32, right: u32) -> Option<SackBlock> {
        Some(SackBlock {
            left: SeqNumber(left),
            right: SeqNumber(right),
        })
    }

    pub(crate) fn ack_with_sacks() -> TcpRepr<'static> {
        TcpRepr {
            ack_number: Some(SeqNumber(0x100)),
            timestamp: Some((7, 8)),
            sack_ranges: [block(0x300, 0x400), block(0x500, 0x600), block(1, 2), None],
            ..BASE
        }
    }

    /// Emits `repr` into a buffer of exactly `buffer_len` bytes, checks
    /// that `emit_header` writes the same header and that the bytes parse
    /// back to `expected`.
    pub(crate) fn round_trip(repr: &TcpRepr<'_>, expected: &TcpRepr<'_>) -> ([u8; 128], usize) {
        let mut buf = [0u8; 128];
        let len = repr.buffer_len();
        repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..len]), SRC, DST);
        let mut header = [0u8; 60];
        assert_eq!(repr.emit_header(&mut header, SRC, DST), repr.header_len());
        assert_eq!(header[..repr.header_len()], buf[..repr.header_len()]);
        let packet = TcpPacket::new_checked(&buf[..len]).unwrap();
        assert_eq!(usize::from(packet.header_len()), repr.header_len());
        assert_eq!(packet.payload(), repr.payload);
        assert_eq!(TcpRepr::parse(&packet, SRC, DST).as_ref(), Ok(expected));
        (buf, len)
    }

    /// A bare segment from `BASE` with `options` (a multiple of 4 bytes) and
    /// a valid checksum.
    pub(crate) fn with_options(options: &[u8]) -> ([u8; 60], usize) {
        let mut buf = [0u8; 60];
        let len = HEADER_LEN + options.len();
        BASE.emit(&mut TcpPacket::new_unchecked(&mut buf[..len]), SRC, DST);
        let mut packet = TcpPacket::new_unchecked(&mut buf[..len]);
        packet.set_header_len(len as u8);
        packet.options_mut().copy_from_slice(options);
        packet.fill_checksum(SRC, DST);
        (buf, len)
    }

    #[test]
    fn parse_captured_linux_syn() {
        let ip = Ipv4Packet::new_checked(&LINUX_SYN_IP[..]).unwrap();
        let ip_repr = Ipv4Repr::parse(&ip).unwrap();
        assert_eq!(ip_repr.protocol, IpProtocol::Tcp);
        let packet = TcpPacket::new_checked(ip.payload()).unwrap();
        assert_eq!((packet.src_port(), packet.dst_port()), (42226, 80));
        assert_eq!(packet.seq_number(), SeqNumber(0xe3c1_2b5f));
        assert_eq!((packet.header_len(), packet.options().len()), (40, 20));
        assert!(packet.syn() && !packet.ack() && !packet.fin() && !packet.rst());
        assert!(!packet.psh() && !packet.urg() && !packet.ece() && !packet.cwr());
        assert_eq!((packet.window_len(), packet.checksum()), (64240, 0xe7d5));
        assert_eq!((packet.urgent_at(), packet.segment_len()), (0, 1));
        assert!(packet.verify_checksum(ip_repr.src_addr, ip_repr.dst_addr));
        let repr = TcpRepr::parse(&packet, ip_repr.src_addr, ip_repr.dst_addr).unwrap();
        let expected = TcpRepr {
            control: TcpControl::Syn,
            seq_number: SeqNumber(0xe3c1_2b5f),
            window_len: 64240,
            window_scale: Some(7),
            max_seg_size: Some(1460),
            sack_permitted: true,
            timestamp: Some((0x005c_2d1e, 0)),
            ..BASE
        };
        assert_eq!(repr, expected);
        assert_eq!((repr.segment_len(), repr.header_len()), (1, 40));
        assert_eq!(
            TcpRepr::parse(&packet, Ipv4Addr::new(10, 0, 0, 1), DST),
            Err(Error::Checksum)
        );
        // Our layout differs from Linux's (NOP WS, SACKP TS) at equal length.
        let (buf, len) = round_trip(&repr, &expected);
        assert_eq!(len, 40);
        let options = [
            2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0x5c, 0x2d, 0x1e, 0, 0, 0, 0,
        ];
        assert_eq!(buf[20..40], options);
    }

    #[test]
    fn round_trip_syn_with_all_options() {
        let syn = TcpRepr {
            control: TcpControl::Syn,
            ack_number: Some(SeqNumber(0x8000_0000)),
            window_scale: Some(14),
            max_seg_size: Some(536),
            sack_permitted: true,
            timestamp: Some((0xdead_beef, 0x0102_0304)),
            ..BASE
        };
        let (buf, len) = round_trip(&syn, &syn);
        assert_eq!((len, buf[12], buf[13]), (40, 0xa0, 0x12));
        // Each option alone keeps 4-byte alignment.
        let sackp = TcpRepr {
            sack_permitted: true,
            ..BASE
        };
        let (buf, _) = round_trip(&sackp, &sackp);
        assert_eq!(buf[20..24], [1, 1, 4, 2]);
        let ts = TcpRepr {
            timestamp: Some((1, 2)),
            ..BASE
        };
        let (buf, len) = round_trip(&ts, &ts);
        assert_eq!((len, &buf[20..24]), (32, &[1, 1, 8, 10][..]));
    }

    #[test]
    fn round_trip_ack_with_timestamps_and_three_sack_blocks() {
        let repr = ack_with_sacks();
        let (buf, len) = round_trip(&repr, &repr);
        assert_eq!((len, repr.header_len(), repr.segment_len()), (60, 60, 0));
        assert_eq!(buf[20..24], [1, 1, 8, 10]);
        assert_eq!(buf[32..38], [1, 1, 5, 26, 0, 0]);
        assert_eq!(buf[13], 0x10);
    }

    #[test]
    fn round_trip_data_segments() {
        for control in [
            TcpControl::None,
            TcpControl::Psh,
            TcpControl::Fin,
            TcpControl::Rst,
        ] {
            let repr = TcpRepr {
                control,
                payload: DATA,
                ..ack_with_sacks()
            };
            let (buf, len) = round_trip(&repr, &repr);
            assert_eq!(len, 60 + DATA.len());
            assert_eq!(&buf[60..len], DATA);
            assert_eq!(
                repr.segment_len(),
                DATA.len() + usize::from(control == TcpControl::Fin)
            );
        }
        let bare = TcpRepr {
            payload: DATA,
            ..BASE
        };
        assert_eq!(round_trip(&bare, &bare).1, 20 + DATA.len());
    }

    #[test]
    fn malformed_fields() {
        for offset in 0..5u8 {
            let (mut buf, len) = with_options(&[]);
            buf[12] = offset << 4;
            TcpPacket::new_unchecked(&mut buf[..len]).fill_checksum(SRC, DST);
            let packet = TcpPacket::new_unchecked(&buf[..len]);
            assert_eq!(packet.check_len(), Err(Error::Malformed));
            assert_eq!(TcpRepr::parse(&packet, SRC, DST), Err(Error::Malformed));
            assert!(packet.options().is_empty() && packet.payload().is_empty());
        }
        // Flags: SYN with RST or FIN is malformed; the rest by priority.
        let cases = [
            (flag::SYN | flag::RST, None),
            (flag::SYN | flag::FIN | flag::ACK, None),
            (flag::RST | flag::FIN | flag::PSH, Some(TcpControl::Rst)),
            (flag::SYN | flag::PSH | flag::URG, Some(TcpControl::Syn)),
            (
                flag::FIN | flag::PSH | flag::ECE | flag::CWR,
                Some(TcpControl::Fin),
            ),
            (flag::PSH, Some(TcpControl::Psh)),
            (0, Some(TcpControl::None)),
        ];
        for (flags, control) in cases {
            let (mut buf, len) = with_options(&[]);
            buf[13] = flags;
            TcpPacket::new_unchecked(&mut buf[..len]).fill_checksum(SRC, DST);
            let packet = TcpPacket::new_checked(&buf[..len]).unwrap();
            let parsed = TcpRepr::parse(&packet, SRC, DST).map(|r| r.control);
            assert_eq!(parsed, control.ok_or(Error::Malformed), "{flags:#x}");
        }
        // Port 0 parses: TCP decides what to do with it (Linux answers a
        // segment to port 0 with RST, like any closed port).
        for (src_port, dst_port) in [(0, 80), (80, 0)] {
            let (buf, len) = round_trip(&BASE, &BASE);
            let mut buf = buf;
            let mut packet = TcpPacket::new_unchecked(&mut buf[..len]);
            packet.set_src_port(src_port);
            packet.set_dst_port(dst_port);
            packet.fill_checksum(SRC, DST);
            let packet = TcpPacket::new_checked(&buf[..len]).unwrap();
            let r = TcpRepr::parse(&packet, SRC, DST).unwrap();
            assert_eq!((r.src_port, r.dst_port), (src_port, dst_port));
        }
    }

    #[test]
    fn checksum_corruption_is_detected() {
        let repr = TcpRepr {
            payload: DATA,
            ..ack_with_sacks()
        };
        let (good, len) = round_trip(&repr, &repr);
        for at in 0..len {
            let mut buf = good;
            buf[at] ^= 0x21;
            let packet = TcpPacket::new_checked(&buf[..len]).unwrap();
            assert_eq!(
                TcpRepr::parse(&packet, SRC, DST),
                Err(Error::Checksum),
                "byte {at}"
            );
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = &LINUX_SYN_IP[20..];
        for len in 0..full.len() {
            assert_eq!(
                TcpPacket::new_checked(&full[..len]).err(),
                Some(Error::Truncated)
            );
            let packet = TcpPacket::new_unchecked(&full[..len]);
            assert_eq!(TcpRepr::parse(&packet, SRC, DST), Err(Error::Truncated));
            let _ = (packet.options(), packet.payload(), packet.segment_len());
            assert!(!packet.verify_checksum(SRC, DST));
        }
    }

    #[test]
    fn emit_into_short_buffer_does_not_panic() {
        let repr = TcpRepr {
            payload: DATA,
            ..ack_with_sacks()
        };
        for len in 0..repr.buffer_len() {
            let mut buf = [0u8; 128];
            let mut packet = TcpPacket::new_unchecked(&mut buf[..len]);
            repr.emit(&mut packet, SRC, DST);
            let packet = TcpPacket::new_unchecked(&buf[..len]);
            assert_ne!(TcpRepr::parse(&packet, SRC, DST), Ok(repr));
            let mut header = [0u8; 60];
            let short = len.min(repr.header_len() - 1);
            assert_eq!(repr.emit_header(&mut header[..short], SRC, DST), 0);
            assert!(header.iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn fuzz_never_panics() {
        let repr = TcpRepr {
            payload: DATA,
            ..ack_with_sacks()
        };
        let (good, good_len) = round_trip(&repr, &repr);
        for seed in 1..=8u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            for _ in 0..5000 {
                let mut buf = good;
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() % if rng.next() % 2 == 0 { 60 } else { 128 }) as usize;
                    buf[at] = rng.next() as u8;
                }
                let len = if rng.next() % 2 == 0 {
                    good_len
                } else {
                    (rng.next() % 129) as usize
                };
                let buf = &mut buf[..len];
                if rng.next() % 4 != 0 {
                    TcpPacket::new_unchecked(&mut *buf).fill_checksum(SRC, DST);
                }
                let unchecked = TcpPacket::new_unchecked(&*buf);
                let _ = (
                    unchecked.payload(),
                    unchecked.segment_len(),
                    unchecked.verify_checksum(SRC, DST),
                );
                let _ = TcpOptions::new(unchecked.options()).count();
                if let Ok(packet) = TcpPacket::new_checked(&*buf) {
                    if let Ok(first) = TcpRepr::parse(&packet, SRC, DST) {
                        let mut out = [0u8; 128];
                        let out = &mut out[..first.buffer_len()];
                        first.emit(&mut TcpPacket::new_unchecked(&mut *out), SRC, DST);
                        let again = TcpPacket::new_checked(&*out).unwrap();
                        let second = TcpRepr::parse(&again, SRC, DST).unwrap();
                        let first = TcpRepr {
                            sack_ranges: second.sack_ranges,
                            ..first
                        };
                        assert_eq!(second, first);
                        let mut out2 = [0u8; 128];
                        let out2 = &mut out2[..second.buffer_len()];
                        second.emit(&mut TcpPacket::new_unchecked(&mut *out2), SRC, DST);
                        let third = TcpPacket::new_checked(&*out2).unwrap();
                        assert_eq!(TcpRepr::parse(&third, SRC, DST), Ok(second));
                    }
                }
                let mut view = TcpPacket::new_unchecked(&mut *buf);
                let _ = (view.payload_mut().len(), view.options_mut().len());
            }
        }
    }
}
