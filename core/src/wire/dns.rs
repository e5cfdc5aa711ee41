//! DNS messages (RFC 1035 §4), as much as a stub resolver asking for A
//! records needs: the header, the emission of a query, and the parsing of
//! the question and answer sections of a response.
//!
//! RFC 1035 §4.1.1, the header:
//!
//! ```text
//!   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      ID                       |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                    QDCOUNT                    |
//! |                    ANCOUNT                    |
//! |                    NSCOUNT                    |
//! |                    ARCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```
//!
//! followed by the question, answer, authority and additional sections.
//! Names are sequences of length-prefixed labels ending with the empty
//! label, possibly ending instead with a compression pointer
//! (RFC 1035 §4.1.4). Every read is bounds-checked: hostile input gives an
//! [`Error`], never a panic, and compression pointers can neither loop
//! nor run forward (see [`DnsPacket::read_name`]).

use core::fmt;
use core::net::Ipv4Addr;

use super::{be16, be32, put_be16, Error, Result};

/// Length of the DNS header.
pub const HEADER_LEN: usize = 12;

/// The UDP port of DNS servers (RFC 1035 §4.2.1).
pub const PORT: u16 = 53;

/// Longest name in wire form, the terminating empty label included
/// (RFC 1035 §2.3.4: "names - 255 octets or less").
pub const MAX_NAME_LEN: usize = 255;

/// Longest name as dotted text without a trailing dot: 255 wire bytes less
/// the first length byte and the terminating empty label.
pub const MAX_NAME_TEXT_LEN: usize = 253;

/// Longest label (RFC 1035 §2.3.4: "labels - 63 octets or less").
pub const MAX_LABEL_LEN: usize = 63;

/// Largest query [`QueryRepr::emit`] can write: header, longest name,
/// QTYPE and QCLASS.
pub const MAX_QUERY_LEN: usize = HEADER_LEN + MAX_NAME_LEN + 4;

/// Most compression pointers followed while reading one name; a name can
/// legitimately need at most 127 (one per label), real ones a handful.
pub const MAX_POINTERS: usize = 64;

/// TYPE A, a host address (RFC 1035 §3.2.2).
pub const TYPE_A: u16 = 1;
/// TYPE CNAME, the canonical name of an alias (RFC 1035 §3.2.2).
pub const TYPE_CNAME: u16 = 5;
/// CLASS IN, the Internet (RFC 1035 §3.2.4).
pub const CLASS_IN: u16 = 1;

mod field {
    pub const ID: usize = 0;
    pub const FLAGS: usize = 2;
    pub const QDCOUNT: usize = 4;
    pub const ANCOUNT: usize = 6;
    pub const NSCOUNT: usize = 8;
    pub const ARCOUNT: usize = 10;
}

mod flag {
    pub const QR: u16 = 0x8000;
    pub const OPCODE_SHIFT: u16 = 11;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
    pub const RA: u16 = 0x0080;
    pub const RCODE_MASK: u16 = 0x000f;
}

/// A response code (RFC 1035 §4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rcode {
    /// 0: no error.
    NoError,
    /// 1: the server could not interpret the query.
    FormErr,
    /// 2: the server failed (SERVFAIL).
    ServFail,
    /// 3: the name does not exist (NXDOMAIN; only meaningful from an
    /// authoritative server, but recursive servers relay it).
    NxDomain,
    /// 4: the server does not support this kind of query.
    NotImp,
    /// 5: the server refuses to answer.
    Refused,
    /// Any other value of the 4-bit field.
    Other(u8),
}

impl From<u8> for Rcode {
    fn from(v: u8) -> Self {
        match v {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            n => Rcode::Other(n),
        }
    }
}

impl From<Rcode> for u8 {
    fn from(r: Rcode) -> u8 {
        match r {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Other(n) => n & 0x0f,
        }
    }
}

// ----- names ---------------------------------------------------------------

/// A domain name in fixed storage: its labels in wire form (each preceded
/// by its length, without the terminating empty label), ASCII letters
/// folded to lower case so that equality is the case-insensitive
/// comparison of RFC 4343 §3. Keeping the labels rather than dotted text
/// keeps names exact: a label may hold any byte, a `.` included
/// (RFC 2181 §11), which dotted text could not tell from a separator.
/// [`Display`](fmt::Display) writes the dotted text, escaping such bytes
/// as in RFC 4343 §2.1.
#[derive(Clone)]
pub struct Name {
    buf: [u8; MAX_NAME_LEN - 1],
    len: u8,
}

impl Name {
    /// The root name (no label).
    pub const ROOT: Name = Name {
        buf: [0; MAX_NAME_LEN - 1],
        len: 0,
    };

    /// Parses a host name given as dotted text: labels of 1 to 63
    /// letters, digits, hyphens or underscores (RFC 1123 §2.1's host
    /// names; the underscore of service names, RFC 8552, is accepted),
    /// at most 253 characters, one trailing dot allowed (an absolute
    /// name). The empty name, the root `.`, an empty label (`a..b`,
    /// `.a`) or any other character is [`Error::Malformed`].
    pub fn from_text(text: &str) -> Result<Name> {
        let bytes = text.as_bytes();
        let bytes = bytes.strip_suffix(b".").unwrap_or(bytes);
        if bytes.is_empty() || bytes.len() > MAX_NAME_TEXT_LEN {
            return Err(Error::Malformed);
        }
        let mut name = Name::ROOT;
        for label in bytes.split(|&b| b == b'.') {
            let ok = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
            if label.is_empty() || label.len() > MAX_LABEL_LEN || !label.iter().all(ok) {
                return Err(Error::Malformed);
            }
            name.push_label(label)?;
        }
        Ok(name)
    }

    /// Appends a label (1 to 63 bytes), folding ASCII letters to lower
    /// case; [`Error::Malformed`] if the name would exceed 255 bytes in
    /// wire form.
    fn push_label(&mut self, label: &[u8]) -> Result<()> {
        let len = usize::from(self.len);
        // The label's length byte, its bytes, and room for the final
        // empty label.
        let new_len = len + 1 + label.len();
        if label.is_empty() || label.len() > MAX_LABEL_LEN || new_len + 1 > MAX_NAME_LEN {
            return Err(Error::Malformed);
        }
        let dst = self.buf.get_mut(len..new_len).ok_or(Error::Malformed)?;
        if let Some((first, rest)) = dst.split_first_mut() {
            *first = label.len() as u8;
            for (d, s) in rest.iter_mut().zip(label) {
                *d = s.to_ascii_lowercase();
            }
        }
        self.len = new_len as u8;
        Ok(())
    }

    /// The length in wire form, the terminating empty label included
    /// (1 for the root, at most 255).
    pub fn wire_len(&self) -> usize {
        usize::from(self.len) + 1
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.len == 0
    }

    /// The labels (lower-cased), first to last.
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            rest: self.buf.get(..usize::from(self.len)).unwrap_or(&[]),
        }
    }

    /// The name in wire form without the terminating empty label.
    fn wire(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Writes the name in wire form, terminating empty label included,
    /// into `buf`; returns the bytes written ([`Error::Truncated`] if
    /// `buf` is too short). No compression is used.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let n = self.wire_len();
        let dst = buf.get_mut(..n).ok_or(Error::Truncated)?;
        if let Some((last, head)) = dst.split_last_mut() {
            head.copy_from_slice(self.wire());
            *last = 0;
        }
        Ok(n)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // Both sides are folded to lower case when built (RFC 4343 §3).
        self.wire() == other.wire()
    }
}

impl Eq for Name {}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &b in label {
                // RFC 4343 §2.1: "\." and "\\" for the special characters,
                // "\DDD" for the others outside printable ASCII.
                match b {
                    b'.' | b'\\' => write!(f, "\\{}", b as char)?,
                    0x21..=0x7e => write!(f, "{}", b as char)?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// The labels of a [`Name`].
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let len = usize::from(len);
        let label = tail.get(..len)?;
        self.rest = tail.get(len..).unwrap_or(&[]);
        Some(label)
    }
}

// ----- the checked view ----------------------------------------------------

/// A checked view of a DNS message: [`new_checked`](Self::new_checked)
/// guarantees the 12-byte header; the sections behind it are read with
/// bounds checks by [`question`](Self::question) and
/// [`answers`](Self::answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DnsPacket<T> {
    /// Wraps `buffer` without checking it; the accessors still never
    /// panic (missing fields read as zero).
    pub const fn new_unchecked(buffer: T) -> Self {
        DnsPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// [`Error::Truncated`] if the buffer cannot hold the header.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS)
    }

    /// The ID copied from query to response.
    pub fn id(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ID)
    }

    /// QR: true for a response.
    pub fn qr(&self) -> bool {
        self.flags() & flag::QR != 0
    }

    /// The 4-bit opcode (0: standard query).
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> flag::OPCODE_SHIFT) & 0x0f) as u8
    }

    /// AA: the answer comes from an authoritative server.
    pub fn aa(&self) -> bool {
        self.flags() & flag::AA != 0
    }

    /// TC: the message was truncated to fit the transport.
    pub fn tc(&self) -> bool {
        self.flags() & flag::TC != 0
    }

    /// RD: recursion desired.
    pub fn rd(&self) -> bool {
        self.flags() & flag::RD != 0
    }

    /// RA: recursion available.
    pub fn ra(&self) -> bool {
        self.flags() & flag::RA != 0
    }

    /// The response code.
    pub fn rcode(&self) -> Rcode {
        Rcode::from((self.flags() & flag::RCODE_MASK) as u8)
    }

    /// Entries in the question section.
    pub fn qdcount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::QDCOUNT)
    }

    /// Records in the answer section.
    pub fn ancount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ANCOUNT)
    }

    /// Records in the authority section.
    pub fn nscount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::NSCOUNT)
    }

    /// Records in the additional section.
    pub fn arcount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ARCOUNT)
    }

    /// Reads the (possibly compressed) name at `at`; returns it with the
    /// offset just past it in place (past its first pointer, if any).
    ///
    /// RFC 1035 §4.1.4 lets a name end with a pointer to an earlier
    /// occurrence. Hostile pointers are refused as [`Error::Malformed`]:
    /// each must point strictly before the run of labels it ends (the
    /// name's start, or the previous pointer's target), so no loop and no
    /// forward reference can exist; at most
    /// [`MAX_POINTERS`] are followed, and the name read must fit in 255
    /// bytes (RFC 1035 §2.3.4). The label types 01 and 10 (RFC 6891 §5
    /// retired them) are malformed too. A label or pointer running past
    /// the end is [`Error::Truncated`].
    pub fn read_name(&self, at: usize) -> Result<(Name, usize)> {
        read_name(self.buffer.as_ref(), at)
    }

    /// The first entry of the question section (RFC 1035 §4.1.2);
    /// [`Error::Malformed`] if QDCOUNT is 0.
    pub fn question(&self) -> Result<Question> {
        if self.qdcount() == 0 {
            return Err(Error::Malformed);
        }
        Ok(read_question(self.buffer.as_ref(), HEADER_LEN)?.0)
    }

    /// The records of the answer section (RFC 1035 §4.1.3), after
    /// skipping the QDCOUNT questions ([`Error`] if they do not parse).
    pub fn answers(&self) -> Result<Records<'_>> {
        let msg = self.buffer.as_ref();
        let mut pos = HEADER_LEN;
        for _ in 0..self.qdcount() {
            pos = read_question(msg, pos)?.1;
        }
        Ok(Records {
            msg,
            pos,
            remaining: self.ancount(),
        })
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DnsPacket<T> {
    fn set_flag(&mut self, mask: u16, on: bool) {
        let f = self.flags();
        let f = if on { f | mask } else { f & !mask };
        put_be16(self.buffer.as_mut(), field::FLAGS, f);
    }

    /// Sets the ID.
    pub fn set_id(&mut self, v: u16) {
        put_be16(self.buffer.as_mut(), field::ID, v);
    }

    /// Sets QR.
    pub fn set_qr(&mut self, on: bool) {
        self.set_flag(flag::QR, on);
    }

    /// Sets the opcode (4 bits).
    pub fn set_opcode(&mut self, v: u8) {
        let f = self.flags() & !(0x0f << flag::OPCODE_SHIFT);
        let f = f | (u16::from(v & 0x0f) << flag::OPCODE_SHIFT);
        put_be16(self.buffer.as_mut(), field::FLAGS, f);
    }

    /// Sets AA.
    pub fn set_aa(&mut self, on: bool) {
        self.set_flag(flag::AA, on);
    }

    /// Sets TC.
    pub fn set_tc(&mut self, on: bool) {
        self.set_flag(flag::TC, on);
    }

    /// Sets RD.
    pub fn set_rd(&mut self, on: bool) {
        self.set_flag(flag::RD, on);
    }

    /// Sets RA.
    pub fn set_ra(&mut self, on: bool) {
        self.set_flag(flag::RA, on);
    }

    /// Sets the response code.
    pub fn set_rcode(&mut self, r: Rcode) {
        let f = (self.flags() & !flag::RCODE_MASK) | u16::from(u8::from(r));
        put_be16(self.buffer.as_mut(), field::FLAGS, f);
    }

    /// Sets QDCOUNT.
    pub fn set_qdcount(&mut self, v: u16) {
        put_be16(self.buffer.as_mut(), field::QDCOUNT, v);
    }

    /// Sets ANCOUNT.
    pub fn set_ancount(&mut self, v: u16) {
        put_be16(self.buffer.as_mut(), field::ANCOUNT, v);
    }

    /// Sets NSCOUNT.
    pub fn set_nscount(&mut self, v: u16) {
        put_be16(self.buffer.as_mut(), field::NSCOUNT, v);
    }

    /// Sets ARCOUNT.
    pub fn set_arcount(&mut self, v: u16) {
        put_be16(self.buffer.as_mut(), field::ARCOUNT, v);
    }
}

/// See [`DnsPacket::read_name`].
fn read_name(msg: &[u8], at: usize) -> Result<(Name, usize)> {
    let mut name = Name::ROOT;
    let mut pos = at;
    // Where the name ends in place: set at the terminating label or at
    // the first pointer.
    let mut end = None;
    // Where the run of labels being read began: the name itself, then the
    // target of the last pointer.
    let mut run_start = at;
    let mut jumps = 0;
    loop {
        let len = *msg.get(pos).ok_or(Error::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let start = pos + 1;
                let label = msg
                    .get(start..start + usize::from(len))
                    .ok_or(Error::Truncated)?;
                // Malformed past 255 bytes (RFC 1035 §2.3.4).
                name.push_label(label)?;
                pos = start + usize::from(len);
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or(Error::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                if end.is_none() {
                    end = Some(pos + 2);
                }
                jumps += 1;
                // Strictly backwards, before the run of labels the pointer
                // ends: RFC 1035 §4.1.4 only ever points to "a prior
                // occurrence of the same name", and a pointer into its own
                // run (or forward) could loop. Each jump thus lands
                // earlier than the last, so reading always ends.
                if target >= run_start || jumps > MAX_POINTERS {
                    return Err(Error::Malformed);
                }
                pos = target;
                run_start = target;
            }
            _ => return Err(Error::Malformed),
        }
    }
}

/// Reads a question entry at `at`: the entry and the offset past it.
fn read_question(msg: &[u8], at: usize) -> Result<(Question, usize)> {
    let (name, pos) = read_name(msg, at)?;
    if msg.len() < pos + 4 {
        return Err(Error::Truncated);
    }
    let q = Question {
        name,
        qtype: be16(msg, pos),
        qclass: be16(msg, pos + 2),
    };
    Ok((q, pos + 4))
}

// ----- reprs ---------------------------------------------------------------

/// A question entry (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// QNAME.
    pub name: Name,
    /// QTYPE ([`TYPE_A`], ...).
    pub qtype: u16,
    /// QCLASS ([`CLASS_IN`], ...).
    pub qclass: u16,
}

/// A standard query (opcode 0, RD set: RFC 1035 §4.1.1) for the A records
/// of a name, class IN.
#[derive(Debug, Clone, Copy)]
pub struct QueryRepr<'a> {
    /// The ID the response must echo.
    pub id: u16,
    /// The name asked for (validated by [`Name::from_text`]).
    pub name: &'a Name,
}

impl QueryRepr<'_> {
    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.name.wire_len() + 4
    }

    /// Writes the query into `buf`; returns its length, or
    /// [`Error::Truncated`] if `buf` is shorter than
    /// [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let buf = buf.get_mut(..len).ok_or(Error::Truncated)?;
        buf.fill(0);
        let mut p = DnsPacket::new_unchecked(&mut *buf);
        p.set_id(self.id);
        p.set_rd(true);
        p.set_qdcount(1);
        let n = self
            .name
            .emit(buf.get_mut(HEADER_LEN..).ok_or(Error::Truncated)?)?;
        put_be16(buf, HEADER_LEN + n, TYPE_A);
        put_be16(buf, HEADER_LEN + n + 2, CLASS_IN);
        Ok(len)
    }
}

/// The data of a resource record.
// A name is kept inline: no heap to box it into.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData<'a> {
    /// An A record of class IN: a host address.
    A(Ipv4Addr),
    /// A CNAME record of class IN: the canonical name of the owner.
    Cname(Name),
    /// Any other type or class, uninterpreted.
    Other(&'a [u8]),
}

/// A resource record (RFC 1035 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// The owner name.
    pub name: Name,
    /// TYPE.
    pub rtype: u16,
    /// CLASS.
    pub class: u16,
    /// Seconds the record may be cached. RFC 2181 §8: a value with the
    /// top bit set is read as 0.
    pub ttl: u32,
    /// RDATA.
    pub data: RecordData<'a>,
}

/// The records of a section; yields `Err` once and then stops when a
/// record does not parse.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    pos: usize,
    remaining: u16,
}

impl<'a> Records<'a> {
    fn read(&mut self) -> Result<Record<'a>> {
        let msg = self.msg;
        let (name, pos) = read_name(msg, self.pos)?;
        // TYPE, CLASS, TTL, RDLENGTH.
        if msg.len() < pos + 10 {
            return Err(Error::Truncated);
        }
        let rtype = be16(msg, pos);
        let class = be16(msg, pos + 2);
        let ttl = be32(msg, pos + 4);
        let ttl = if ttl > i32::MAX as u32 { 0 } else { ttl };
        let rdlen = usize::from(be16(msg, pos + 8));
        let start = pos + 10;
        let rdata = msg.get(start..start + rdlen).ok_or(Error::Truncated)?;
        let data = match (rtype, class) {
            // RFC 1035 §3.4.1: "a 32 bit Internet address".
            (TYPE_A, CLASS_IN) => match <[u8; 4]>::try_from(rdata) {
                Ok(a) => RecordData::A(Ipv4Addr::from(a)),
                Err(_) => return Err(Error::Malformed),
            },
            // RFC 1035 §3.3.1: the RDATA is one (possibly compressed)
            // name and nothing else.
            (TYPE_CNAME, CLASS_IN) => {
                let (target, end) = read_name(msg, start)?;
                if end != start + rdlen {
                    return Err(Error::Malformed);
                }
                RecordData::Cname(target)
            }
            _ => RecordData::Other(rdata),
        };
        self.pos = start + rdlen;
        Ok(Record {
            name,
            rtype,
            class,
            ttl,
            data,
        })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let r = self.read();
        if r.is_err() {
            self.remaining = 0;
        }
        Some(r)
    }
}

#[cfg(test)]
#[path = "dns_tests.rs"]
mod tests;
