//! DHCPv4 messages (RFC 2131 §2, options RFC 2132).
//!
//! RFC 2131 §2, Figure 1 (offsets added):
//!
//! ```text
//! 0     1     2     3     4       8       10      12       16       20       24
//! +-----+-----+-----+-----+-------+-------+-------+--------+--------+--------+--------+
//! | op  |htype|hlen |hops |  xid  | secs  | flags | ciaddr | yiaddr | siaddr | giaddr |
//! +-----+-----+-----+-----+-------+-------+-------+--------+--------+--------+--------+
//! 28            44            108           236      240
//! +-------------+-------------+-------------+--------+--------------------+
//! | chaddr (16) | sname (64)  | file (128)  | cookie | options (variable) |
//! +-------------+-------------+-------------+--------+--------------------+
//! ```
//!
//! Options are tag-length-value triples, except Pad (0) and End (255) which
//! are a single octet (RFC 2132 §2). Only Ethernet hardware addresses are
//! handled, Option Overload (52, RFC 2132 §9.3) is ignored (`sname` and
//! `file` are never searched for options), and a repeated option is not
//! concatenated as RFC 3396 would: the first occurrence wins.

use core::net::Ipv4Addr;

use super::ethernet::EthernetAddress;
use super::{be16, be32, put_be16, put_be32, Error, Result};

/// UDP port of DHCP servers (RFC 2131 §4.1).
pub const SERVER_PORT: u16 = 67;
/// UDP port of DHCP clients (RFC 2131 §4.1).
pub const CLIENT_PORT: u16 = 68;
/// The magic cookie 99.130.83.99 opening the options (RFC 2131 §3,
/// RFC 2132 §2).
pub const MAGIC_COOKIE: u32 = 0x6382_5363;
/// Fixed BOOTP header (236) + magic cookie (4).
pub const HEADER_LEN: usize = 240;
/// Smallest message we emit: the BOOTP minimum of 300 octets (RFC 951 §3,
/// a 64-octet `vend` field; RFC 1542 §2.1). `emit` pads with zero up to it.
pub const MIN_LEN: usize = 300;
/// Most DNS servers a repr carries.
pub const MAX_DNS_SERVERS: usize = 3;

/// `htype` of 10 Mb/s Ethernet (RFC 1700 "Hardware Type").
const HTYPE_ETHERNET: u8 = 1;
/// The broadcast bit of `flags` (RFC 2131 §2, Figure 2).
const FLAG_BROADCAST: u16 = 0x8000;
/// Longest value an option can carry: its length is one octet.
const MAX_OPTION_LEN: usize = 255;

mod field {
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: usize = 4;
    pub const SECS: usize = 8;
    pub const FLAGS: usize = 10;
    pub const CIADDR: usize = 12;
    pub const YIADDR: usize = 16;
    pub const SIADDR: usize = 20;
    pub const GIADDR: usize = 24;
    pub const CHADDR: usize = 28;
    pub const CHADDR_LEN: usize = 16;
    pub const MAGIC: usize = 236;
}

/// Option codes (RFC 2132) this module knows.
pub mod option_code {
    /// Pad, a single zero octet (RFC 2132 §3.1).
    pub const PAD: u8 = 0;
    /// Subnet Mask (RFC 2132 §3.3).
    pub const SUBNET_MASK: u8 = 1;
    /// Router (RFC 2132 §3.5).
    pub const ROUTER: u8 = 3;
    /// Domain Name Server (RFC 2132 §3.8).
    pub const DNS_SERVER: u8 = 6;
    /// Host Name (RFC 2132 §3.14).
    pub const HOSTNAME: u8 = 12;
    /// Broadcast Address (RFC 2132 §5.3).
    pub const BROADCAST_ADDRESS: u8 = 28;
    /// Requested IP Address (RFC 2132 §9.1).
    pub const REQUESTED_IP: u8 = 50;
    /// IP Address Lease Time (RFC 2132 §9.2).
    pub const LEASE_TIME: u8 = 51;
    /// Option Overload (RFC 2132 §9.3); ignored by this module.
    pub const OVERLOAD: u8 = 52;
    /// DHCP Message Type (RFC 2132 §9.6).
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server Identifier (RFC 2132 §9.7).
    pub const SERVER_ID: u8 = 54;
    /// Parameter Request List (RFC 2132 §9.8).
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// Message (RFC 2132 §9.9).
    pub const MESSAGE: u8 = 56;
    /// Maximum DHCP Message Size (RFC 2132 §9.10).
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    /// Renewal (T1) Time Value (RFC 2132 §9.11).
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding (T2) Time Value (RFC 2132 §9.12).
    pub const REBINDING_TIME: u8 = 59;
    /// Client-identifier (RFC 2132 §9.14).
    pub const CLIENT_ID: u8 = 61;
    /// End, a single 255 octet (RFC 2132 §3.2).
    pub const END: u8 = 255;
}

use option_code as code;

/// The `op` field (RFC 2131 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    /// 1, BOOTREQUEST: client to server.
    Request,
    /// 2, BOOTREPLY: server to client.
    Reply,
}

impl OpCode {
    /// The opcode for `value`, `None` unless 1 or 2.
    pub const fn from_u8(value: u8) -> Option<OpCode> {
        match value {
            1 => Some(OpCode::Request),
            2 => Some(OpCode::Reply),
            _ => None,
        }
    }
}

impl From<OpCode> for u8 {
    fn from(value: OpCode) -> u8 {
        match value {
            OpCode::Request => 1,
            OpCode::Reply => 2,
        }
    }
}

/// The DHCP Message Type, option 53 (RFC 2132 §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// DHCPDISCOVER.
    Discover = 1,
    /// DHCPOFFER.
    Offer = 2,
    /// DHCPREQUEST.
    Request = 3,
    /// DHCPDECLINE.
    Decline = 4,
    /// DHCPACK.
    Ack = 5,
    /// DHCPNAK.
    Nak = 6,
    /// DHCPRELEASE.
    Release = 7,
    /// DHCPINFORM.
    Inform = 8,
}

impl MessageType {
    /// The message type for `value`, `None` outside 1..=8.
    pub const fn from_u8(value: u8) -> Option<MessageType> {
        Some(match value {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            _ => return None,
        })
    }
}

impl TryFrom<u8> for MessageType {
    type Error = Error;

    /// [`Error::Malformed`] outside 1..=8.
    fn try_from(value: u8) -> Result<MessageType> {
        MessageType::from_u8(value).ok_or(Error::Malformed)
    }
}

impl From<MessageType> for u8 {
    fn from(value: MessageType) -> u8 {
        value as u8
    }
}

/// Iterator over the options of a message, from
/// [`DhcpPacket::options`]: yields `(code, value)`, skips Pad, stops at End
/// or at the end of the buffer (a missing End is tolerated), and yields
/// [`Error::Truncated`] once, then stops, when a length octet or a value
/// runs past the buffer.
#[derive(Debug, Clone)]
pub struct DhcpOptions<'a> {
    data: &'a [u8],
}

impl<'a> DhcpOptions<'a> {
    /// Iterates over the options in `data` (the bytes after the cookie).
    pub const fn new(data: &'a [u8]) -> Self {
        DhcpOptions { data }
    }
}

impl<'a> Iterator for DhcpOptions<'a> {
    type Item = Result<(u8, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&tag, rest) = self.data.split_first()?;
            match tag {
                code::PAD => self.data = rest,
                code::END => {
                    self.data = &[];
                    return None;
                }
                _ => {
                    let split = rest.split_first().and_then(|(&len, rest)| {
                        let len = usize::from(len);
                        Some((rest.get(..len)?, rest.get(len..)?))
                    });
                    let Some((value, rest)) = split else {
                        self.data = &[];
                        return Some(Err(Error::Truncated));
                    };
                    self.data = rest;
                    return Some(Ok((tag, value)));
                }
            }
        }
    }
}

/// A checked view of a DHCP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DhcpPacket<T> {
    /// Wraps `buffer` without checking it. The accessors still never panic:
    /// missing fields read as zero and the options as empty.
    pub const fn new_unchecked(buffer: T) -> Self {
        DhcpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// [`Error::Truncated`] if the buffer cannot hold the 240-byte header
    /// and cookie; [`Error::Malformed`] if the cookie is not
    /// [`MAGIC_COOKIE`] (RFC 2131 §3: a message without it is not DHCP).
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.magic() != MAGIC_COOKIE {
            return Err(Error::Malformed);
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

    fn addr(&self, at: usize) -> Ipv4Addr {
        Ipv4Addr::from(be32(self.buffer.as_ref(), at))
    }

    /// `op`: 1 BOOTREQUEST, 2 BOOTREPLY.
    pub fn op(&self) -> u8 {
        self.byte(field::OP)
    }

    /// `htype`, the hardware address type (1 for Ethernet).
    pub fn htype(&self) -> u8 {
        self.byte(field::HTYPE)
    }

    /// `hlen`, the hardware address length (6 for Ethernet).
    pub fn hlen(&self) -> u8 {
        self.byte(field::HLEN)
    }

    /// `hops`, incremented by relay agents.
    pub fn hops(&self) -> u8 {
        self.byte(field::HOPS)
    }

    /// `xid`, the transaction id chosen by the client.
    pub fn xid(&self) -> u32 {
        be32(self.buffer.as_ref(), field::XID)
    }

    /// `secs`, seconds since the client began acquiring or renewing.
    pub fn secs(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SECS)
    }

    /// `flags`.
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS)
    }

    /// The BROADCAST bit of `flags` (RFC 2131 §2, Figure 2).
    pub fn broadcast(&self) -> bool {
        self.flags() & FLAG_BROADCAST != 0
    }

    /// `ciaddr`, the client's address when it already has one.
    pub fn ciaddr(&self) -> Ipv4Addr {
        self.addr(field::CIADDR)
    }

    /// `yiaddr`, the address the server gives the client.
    pub fn yiaddr(&self) -> Ipv4Addr {
        self.addr(field::YIADDR)
    }

    /// `siaddr`, the next server to use in bootstrap.
    pub fn siaddr(&self) -> Ipv4Addr {
        self.addr(field::SIADDR)
    }

    /// `giaddr`, the relay agent's address.
    pub fn giaddr(&self) -> Ipv4Addr {
        self.addr(field::GIADDR)
    }

    /// The first 6 bytes of `chaddr`.
    pub fn chaddr(&self) -> EthernetAddress {
        let buf = self.buffer.as_ref();
        EthernetAddress::from_bytes(buf.get(field::CHADDR..).unwrap_or(&[]))
    }

    /// The cookie field (bytes 236..240).
    pub fn magic(&self) -> u32 {
        be32(self.buffer.as_ref(), field::MAGIC)
    }

    /// The bytes after the cookie.
    pub fn options_bytes(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// The options after the cookie; see [`DhcpOptions`].
    pub fn options(&self) -> DhcpOptions<'_> {
        DhcpOptions::new(self.options_bytes())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DhcpPacket<T> {
    fn set_byte(&mut self, at: usize, value: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = value;
        }
    }

    /// Sets `op`.
    pub fn set_op(&mut self, value: u8) {
        self.set_byte(field::OP, value);
    }

    /// Sets `htype`.
    pub fn set_htype(&mut self, value: u8) {
        self.set_byte(field::HTYPE, value);
    }

    /// Sets `hlen`.
    pub fn set_hlen(&mut self, value: u8) {
        self.set_byte(field::HLEN, value);
    }

    /// Sets `hops`.
    pub fn set_hops(&mut self, value: u8) {
        self.set_byte(field::HOPS, value);
    }

    /// Sets `xid`.
    pub fn set_xid(&mut self, value: u32) {
        put_be32(self.buffer.as_mut(), field::XID, value);
    }

    /// Sets `secs`.
    pub fn set_secs(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::SECS, value);
    }

    /// Sets `flags`.
    pub fn set_flags(&mut self, value: u16) {
        put_be16(self.buffer.as_mut(), field::FLAGS, value);
    }

    /// Sets `ciaddr`.
    pub fn set_ciaddr(&mut self, value: Ipv4Addr) {
        put_be32(self.buffer.as_mut(), field::CIADDR, value.into());
    }

    /// Sets `yiaddr`.
    pub fn set_yiaddr(&mut self, value: Ipv4Addr) {
        put_be32(self.buffer.as_mut(), field::YIADDR, value.into());
    }

    /// Sets `siaddr`.
    pub fn set_siaddr(&mut self, value: Ipv4Addr) {
        put_be32(self.buffer.as_mut(), field::SIADDR, value.into());
    }

    /// Sets `giaddr`.
    pub fn set_giaddr(&mut self, value: Ipv4Addr) {
        put_be32(self.buffer.as_mut(), field::GIADDR, value.into());
    }

    /// Sets `chaddr` to `addr` followed by 10 zero bytes.
    pub fn set_chaddr(&mut self, addr: EthernetAddress) {
        let mut chaddr = [0u8; field::CHADDR_LEN];
        put(&mut chaddr, 0, addr.as_bytes());
        put(self.buffer.as_mut(), field::CHADDR, &chaddr);
    }

    /// Sets the cookie field.
    pub fn set_magic(&mut self, value: u32) {
        put_be32(self.buffer.as_mut(), field::MAGIC, value);
    }

    /// Mutable access to the bytes after the cookie.
    pub fn options_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for DhcpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// Copies `data` to `buf[at..]`, as far as the buffer goes.
fn put(buf: &mut [u8], at: usize, data: &[u8]) {
    if let Some(dst) = buf.get_mut(at..) {
        for (d, s) in dst.iter_mut().zip(data) {
            *d = *s;
        }
    }
}

/// A parsed DHCP message (Ethernet clients only).
///
/// Options absent from the message are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpRepr<'a> {
    /// `op`.
    pub op: OpCode,
    /// Option 53, mandatory in DHCP (RFC 2131 §3).
    pub message_type: MessageType,
    /// `xid`.
    pub xid: u32,
    /// `secs`.
    pub secs: u16,
    /// The BROADCAST bit of `flags`.
    pub broadcast: bool,
    /// `chaddr`.
    pub client_hw: EthernetAddress,
    /// `ciaddr`.
    pub client_ip: Ipv4Addr,
    /// `yiaddr`.
    pub your_ip: Ipv4Addr,
    /// `siaddr`.
    pub server_ip: Ipv4Addr,
    /// `giaddr`.
    pub relay_ip: Ipv4Addr,
    /// Server Identifier, option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Requested IP Address, option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Subnet Mask, option 1 (a contiguous mask).
    pub subnet_mask: Option<Ipv4Addr>,
    /// Router, option 3: the first (preferred, RFC 2132 §3.5) address.
    pub router: Option<Ipv4Addr>,
    /// Domain Name Server, option 6: the first three addresses, in order of
    /// preference. `emit` writes the `Some` entries only.
    pub dns_servers: [Option<Ipv4Addr>; MAX_DNS_SERVERS],
    /// IP Address Lease Time, option 51, in seconds (0xffffffff: infinite).
    pub lease_time: Option<u32>,
    /// Renewal (T1) Time, option 58, in seconds.
    pub renew_time: Option<u32>,
    /// Rebinding (T2) Time, option 59, in seconds.
    pub rebind_time: Option<u32>,
    /// Maximum DHCP Message Size, option 57 (at least 576).
    pub max_size: Option<u16>,
    /// Client-identifier, option 61: type octet then identifier (2 bytes or
    /// more).
    pub client_id: Option<&'a [u8]>,
    /// Host Name, option 12 (1 byte or more).
    pub hostname: Option<&'a [u8]>,
    /// Parameter Request List, option 55: option codes (1 byte or more).
    pub parameter_request_list: Option<&'a [u8]>,
    /// Message, option 56: error text, e.g. in a NAK (1 byte or more).
    pub message: Option<&'a [u8]>,
}

/// The value of a four-byte option.
fn four(data: &[u8]) -> Result<[u8; 4]> {
    <[u8; 4]>::try_from(data).map_err(|_| Error::Malformed)
}

/// An address option (RFC 2132 §3.3, §9.1, §9.7).
fn addr(data: &[u8]) -> Result<Ipv4Addr> {
    four(data).map(Ipv4Addr::from)
}

/// A 32-bit time option (RFC 2132 §9.2, §9.11, §9.12).
fn word(data: &[u8]) -> Result<u32> {
    four(data).map(u32::from_be_bytes)
}

/// A variable-length option of at least `min` bytes.
fn at_least(data: &[u8], min: usize) -> Result<&[u8]> {
    if data.len() < min {
        return Err(Error::Malformed);
    }
    Ok(data)
}

/// An address list (RFC 2132 §3.5, §3.8): a non-zero multiple of 4 bytes.
fn addr_list(data: &[u8]) -> Result<impl Iterator<Item = [u8; 4]> + '_> {
    if data.is_empty() || data.len() % 4 != 0 {
        return Err(Error::Malformed);
    }
    Ok(data.chunks_exact(4).filter_map(|c| four(c).ok()))
}

/// Whether `mask` is ones followed by zeros (RFC 950 recommends contiguous
/// masks; RFC 4632 §3.1 makes prefixes the only form).
fn is_contiguous(mask: u32) -> bool {
    mask.leading_ones() + mask.trailing_zeros() == 32
}

impl<'a> DhcpRepr<'a> {
    /// A message with the given fields and everything else zero or `None`;
    /// set the rest with struct update syntax.
    pub const fn new(
        op: OpCode,
        message_type: MessageType,
        xid: u32,
        client_hw: EthernetAddress,
    ) -> Self {
        DhcpRepr {
            op,
            message_type,
            xid,
            secs: 0,
            broadcast: false,
            client_hw,
            client_ip: Ipv4Addr::UNSPECIFIED,
            your_ip: Ipv4Addr::UNSPECIFIED,
            server_ip: Ipv4Addr::UNSPECIFIED,
            relay_ip: Ipv4Addr::UNSPECIFIED,
            server_id: None,
            requested_ip: None,
            subnet_mask: None,
            router: None,
            dns_servers: [None; MAX_DNS_SERVERS],
            lease_time: None,
            renew_time: None,
            rebind_time: None,
            max_size: None,
            client_id: None,
            hostname: None,
            parameter_request_list: None,
            message: None,
        }
    }

    /// Parses a message.
    ///
    /// * [`check_len`](DhcpPacket::check_len) errors;
    /// * [`Error::Malformed`] if `op` is not 1 or 2, option 53 is missing or
    ///   outside 1..=8, a fixed-size option has the wrong length (53: 1; 1,
    ///   50, 51, 54, 58, 59: 4; 57: 2), 3 or 6 is not a non-zero multiple
    ///   of 4, a variable option is below its RFC 2132 minimum (61: 2; 12,
    ///   55, 56: 1), 57 is below 576 (RFC 2132 §9.10) or 1 is not a
    ///   contiguous mask;
    /// * [`Error::Truncated`] if an option runs past the buffer;
    /// * [`Error::Unsupported`] unless `htype` = 1 and `hlen` = 6.
    ///
    /// Unknown options and Option Overload (52) are skipped. Of a repeated
    /// option only the first is used; later copies are not even checked.
    /// Options after End are ignored; a missing End is tolerated.
    pub fn parse(packet: &DhcpPacket<&'a [u8]>) -> Result<DhcpRepr<'a>> {
        packet.check_len()?;
        let op = OpCode::from_u8(packet.op()).ok_or(Error::Malformed)?;
        if packet.htype() != HTYPE_ETHERNET || packet.hlen() != 6 {
            return Err(Error::Unsupported);
        }
        let mut repr = DhcpRepr {
            secs: packet.secs(),
            broadcast: packet.broadcast(),
            client_ip: packet.ciaddr(),
            your_ip: packet.yiaddr(),
            server_ip: packet.siaddr(),
            relay_ip: packet.giaddr(),
            ..DhcpRepr::new(op, MessageType::Discover, packet.xid(), packet.chaddr())
        };
        let mut message_type = None;
        let options: &'a [u8] = packet.buffer.get(HEADER_LEN..).unwrap_or(&[]);
        for option in DhcpOptions::new(options) {
            let (tag, data) = option?;
            // Each arm's guard makes the first copy of an option win.
            match tag {
                code::MESSAGE_TYPE if message_type.is_none() => {
                    let [value] = data else {
                        return Err(Error::Malformed);
                    };
                    message_type = Some(MessageType::try_from(*value)?);
                }
                code::SERVER_ID if repr.server_id.is_none() => repr.server_id = Some(addr(data)?),
                code::REQUESTED_IP if repr.requested_ip.is_none() => {
                    repr.requested_ip = Some(addr(data)?);
                }
                code::SUBNET_MASK if repr.subnet_mask.is_none() => {
                    let mask = addr(data)?;
                    if !is_contiguous(mask.into()) {
                        return Err(Error::Malformed);
                    }
                    repr.subnet_mask = Some(mask);
                }
                code::ROUTER if repr.router.is_none() => {
                    repr.router = addr_list(data)?.next().map(Ipv4Addr::from);
                }
                code::DNS_SERVER if repr.dns_servers[0].is_none() => {
                    for (slot, ip) in repr.dns_servers.iter_mut().zip(addr_list(data)?) {
                        *slot = Some(ip.into());
                    }
                }
                code::LEASE_TIME if repr.lease_time.is_none() => {
                    repr.lease_time = Some(word(data)?);
                }
                code::RENEWAL_TIME if repr.renew_time.is_none() => {
                    repr.renew_time = Some(word(data)?);
                }
                code::REBINDING_TIME if repr.rebind_time.is_none() => {
                    repr.rebind_time = Some(word(data)?);
                }
                code::MAX_MESSAGE_SIZE if repr.max_size.is_none() => {
                    let size = <[u8; 2]>::try_from(data).map_err(|_| Error::Malformed)?;
                    let size = u16::from_be_bytes(size);
                    if size < 576 {
                        return Err(Error::Malformed);
                    }
                    repr.max_size = Some(size);
                }
                code::CLIENT_ID if repr.client_id.is_none() => {
                    repr.client_id = Some(at_least(data, 2)?);
                }
                code::HOSTNAME if repr.hostname.is_none() => {
                    repr.hostname = Some(at_least(data, 1)?);
                }
                code::PARAMETER_REQUEST_LIST if repr.parameter_request_list.is_none() => {
                    repr.parameter_request_list = Some(at_least(data, 1)?);
                }
                code::MESSAGE if repr.message.is_none() => repr.message = Some(at_least(data, 1)?),
                // Unknown options, Option Overload, repeated options.
                _ => {}
            }
        }
        repr.message_type = message_type.ok_or(Error::Malformed)?;
        Ok(repr)
    }

    /// Calls `f(code, value)` for each option `emit` writes, in order (End
    /// excluded), values clipped to 255 bytes.
    fn for_each_option(&self, mut f: impl FnMut(u8, &[u8])) {
        let addr = |ip: Option<Ipv4Addr>| ip.map(|ip| ip.octets());
        let word = |w: Option<u32>| w.map(u32::to_be_bytes);
        let (requested, server_id) = (addr(self.requested_ip), addr(self.server_id));
        let (mask, router) = (addr(self.subnet_mask), addr(self.router));
        let (lease, t1) = (word(self.lease_time), word(self.renew_time));
        let t2 = word(self.rebind_time);
        let max_size = self.max_size.map(u16::to_be_bytes);
        let mut dns = [0u8; 4 * MAX_DNS_SERVERS];
        let mut dns_len = 0;
        for ip in self.dns_servers.iter().flatten() {
            put(&mut dns, dns_len, &ip.octets());
            dns_len += 4;
        }
        let dns = dns.get(..dns_len).filter(|list| !list.is_empty());
        let options: [(u8, Option<&[u8]>); 14] = [
            (code::MESSAGE_TYPE, Some(&[u8::from(self.message_type)])),
            (code::CLIENT_ID, self.client_id),
            (code::REQUESTED_IP, requested.as_ref().map(|v| &v[..])),
            (code::SERVER_ID, server_id.as_ref().map(|v| &v[..])),
            (code::MAX_MESSAGE_SIZE, max_size.as_ref().map(|v| &v[..])),
            (code::HOSTNAME, self.hostname),
            (code::PARAMETER_REQUEST_LIST, self.parameter_request_list),
            (code::SUBNET_MASK, mask.as_ref().map(|v| &v[..])),
            (code::ROUTER, router.as_ref().map(|v| &v[..])),
            (code::DNS_SERVER, dns),
            (code::LEASE_TIME, lease.as_ref().map(|v| &v[..])),
            (code::RENEWAL_TIME, t1.as_ref().map(|v| &v[..])),
            (code::REBINDING_TIME, t2.as_ref().map(|v| &v[..])),
            (code::MESSAGE, self.message),
        ];
        for (tag, value) in options {
            if let Some(value) = value {
                f(tag, value.get(..MAX_OPTION_LEN).unwrap_or(value));
            }
        }
    }

    /// Length of the message `emit` writes: header, options and End,
    /// padded to at least [`MIN_LEN`].
    pub fn buffer_len(&self) -> usize {
        let mut len = HEADER_LEN + 1;
        self.for_each_option(|_, value| len += 2 + value.len());
        len.max(MIN_LEN)
    }

    /// Writes the message into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `packet`, zero wherever nothing else goes (`sname`, `file`,
    /// padding after End). Options go in the order 53, 61, 50, 54, 57, 12,
    /// 55, 1, 3, 6, 51, 58, 59, 56, then End. Client id, hostname,
    /// parameter list and message longer than 255 bytes are cut to 255.
    /// Values are written as given: one the parser would reject (an empty
    /// hostname, a non-contiguous mask, ...) is emitted as such. A shorter
    /// buffer is written as far as it goes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut DhcpPacket<T>) {
        for b in packet.buffer.as_mut().iter_mut().take(self.buffer_len()) {
            *b = 0;
        }
        packet.set_op(self.op.into());
        packet.set_htype(HTYPE_ETHERNET);
        packet.set_hlen(6);
        packet.set_hops(0);
        packet.set_xid(self.xid);
        packet.set_secs(self.secs);
        packet.set_flags(if self.broadcast { FLAG_BROADCAST } else { 0 });
        packet.set_ciaddr(self.client_ip);
        packet.set_yiaddr(self.your_ip);
        packet.set_siaddr(self.server_ip);
        packet.set_giaddr(self.relay_ip);
        packet.set_chaddr(self.client_hw);
        packet.set_magic(MAGIC_COOKIE);
        let buf = packet.buffer.as_mut();
        let mut at = HEADER_LEN;
        self.for_each_option(|tag, value| {
            let len = u8::try_from(value.len()).unwrap_or(u8::MAX);
            put(buf, at, &[tag, len]);
            put(buf, at + 2, value);
            at += 2 + value.len();
        });
        put(buf, at, &[code::END]);
    }
}

#[cfg(test)]
#[path = "dhcp_tests.rs"]
mod tests;
