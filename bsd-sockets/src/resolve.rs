//! `getaddrinfo` without the C: what glibc does with a node, a service and
//! the hints, over the core's DNS resolver, for any [`Port`].
//!
//! The checks run in glibc's order (`sysdeps/posix/getaddrinfo.c`), so the
//! same wrong call gets the same `EAI_*` code:
//!
//! 1. a node or service of `"*"` counts as NULL; both NULL is `EAI_NONAME`;
//! 2. flags glibc does not know are `EAI_BADFLAGS`, and so is
//!    `AI_CANONNAME` without a node;
//! 3. a family other than `AF_UNSPEC`/`AF_INET` is `EAI_FAMILY` (this stack
//!    has no IPv6; glibc would accept `AF_INET6`);
//! 4. a service that is not a number is `EAI_NONAME` under
//!    `AI_NUMERICSERV`;
//! 5. the socket type and protocol pick rows of glibc's table (`SOCK_STREAM`
//!    /TCP, `SOCK_DGRAM`/UDP, `SOCK_RAW`/any): no row is `EAI_SOCKTYPE`; a
//!    service for `SOCK_RAW`, or a name not in [`SERVICES`] for the chosen
//!    protocol, is `EAI_SERVICE`;
//! 6. the node: an `inet_aton` literal (`"10.1"`, `"0x7f.1"` too, as glibc),
//!    `"localhost"`, NULL (`AI_PASSIVE`: 0.0.0.0, else 127.0.0.1) never
//!    send a query; `AI_NUMERICHOST` with anything else is `EAI_NONAME`;
//!    any other name goes to the DNS resolver.
//!
//! With neither a socket type nor a protocol in the hints, every address
//! comes once per row of the table (stream, datagram, raw), as glibc gives
//! it.

use core::ffi::CStr;
use core::task::Poll;

use crate::engine::{Engine, Port};
use wolfip_core::config::{DNS_ATTEMPTS, DNS_MAX_ADDRESSES, DNS_SERVERS, DNS_TIMEOUT_MS};
use wolfip_core::dns::{DnsError, DnsQuery, DnsStartError};
use wolfip_core::{Duration, Ipv4Addr, SocketAddrV4};

/// A `getaddrinfo` error code (`EAI_*`) of the target's libc.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Eai(pub i32);

impl Eai {
    /// `EAI_BADFLAGS`: bad `ai_flags`.
    pub const BADFLAGS: Eai = Eai(libc::EAI_BADFLAGS);
    /// `EAI_NONAME`: the name or service is not known.
    pub const NONAME: Eai = Eai(libc::EAI_NONAME);
    /// `EAI_AGAIN`: temporary failure (no answer, SERVFAIL, REFUSED).
    pub const AGAIN: Eai = Eai(libc::EAI_AGAIN);
    /// `EAI_FAIL`: non-recoverable failure (a malformed answer).
    pub const FAIL: Eai = Eai(libc::EAI_FAIL);
    /// `EAI_NODATA`: the name exists but has no address.
    pub const NODATA: Eai = Eai(libc::EAI_NODATA);
    /// `EAI_FAMILY`: `ai_family` not supported.
    pub const FAMILY: Eai = Eai(libc::EAI_FAMILY);
    /// `EAI_SOCKTYPE`: `ai_socktype` not supported.
    pub const SOCKTYPE: Eai = Eai(libc::EAI_SOCKTYPE);
    /// `EAI_SERVICE`: the service is not known for the socket type.
    pub const SERVICE: Eai = Eai(libc::EAI_SERVICE);
    /// `EAI_ADDRFAMILY` (glibc's -9: the `libc` crate does not have it).
    pub const ADDRFAMILY: Eai = Eai(-9);
    /// `EAI_MEMORY`: the result pool is exhausted.
    pub const MEMORY: Eai = Eai(libc::EAI_MEMORY);
    /// `EAI_SYSTEM`: see `errno`.
    pub const SYSTEM: Eai = Eai(libc::EAI_SYSTEM);
    /// `EAI_OVERFLOW`: a buffer is too small (here: a node too long for
    /// `ai_canonname`).
    pub const OVERFLOW: Eai = Eai(libc::EAI_OVERFLOW);

    const ALL: [(Eai, &'static str, &'static CStr); 12] = [
        (Eai::BADFLAGS, "EAI_BADFLAGS", c"Bad value for ai_flags"),
        (Eai::NONAME, "EAI_NONAME", c"Name or service not known"),
        (
            Eai::AGAIN,
            "EAI_AGAIN",
            c"Temporary failure in name resolution",
        ),
        (
            Eai::FAIL,
            "EAI_FAIL",
            c"Non-recoverable failure in name resolution",
        ),
        (
            Eai::NODATA,
            "EAI_NODATA",
            c"No address associated with hostname",
        ),
        (Eai::FAMILY, "EAI_FAMILY", c"ai_family not supported"),
        (Eai::SOCKTYPE, "EAI_SOCKTYPE", c"ai_socktype not supported"),
        (
            Eai::SERVICE,
            "EAI_SERVICE",
            c"Servname not supported for ai_socktype",
        ),
        (
            Eai::ADDRFAMILY,
            "EAI_ADDRFAMILY",
            c"Address family for hostname not supported",
        ),
        (Eai::MEMORY, "EAI_MEMORY", c"Memory allocation failure"),
        (Eai::SYSTEM, "EAI_SYSTEM", c"System error"),
        // glibc has no text for it.
        (Eai::OVERFLOW, "EAI_OVERFLOW", c"Unknown error"),
    ];

    /// The symbolic name (`"EAI_NONAME"`), `"EAI_?"` for another value.
    pub fn name(self) -> &'static str {
        Eai::ALL
            .iter()
            .find(|e| e.0 == self)
            .map_or("EAI_?", |e| e.1)
    }

    /// glibc's `gai_strerror` text (C locale); `"Unknown error"` for a
    /// value it has no text for.
    pub fn message(self) -> &'static CStr {
        Eai::ALL
            .iter()
            .find(|e| e.0 == self)
            .map_or(c"Unknown error", |e| e.2)
    }
}

impl core::fmt::Debug for Eai {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

/// A finished query's failure as glibc reports it.
impl From<DnsError> for Eai {
    fn from(e: DnsError) -> Eai {
        match e {
            DnsError::NxDomain => Eai::NONAME,
            DnsError::NoData => Eai::NODATA,
            // glibc: TRY_AGAIN, and no answer at all, are EAI_AGAIN.
            DnsError::ServFail | DnsError::Refused | DnsError::Timeout => Eai::AGAIN,
            DnsError::Malformed => Eai::FAIL,
            // The query is gone (the core dropped it): asking again may work.
            DnsError::UnknownQuery => Eai::AGAIN,
        }
    }
}

/// A query that could not start, as glibc reports the same situation.
impl From<DnsStartError> for Eai {
    fn from(e: DnsStartError) -> Eai {
        match e {
            // Not a valid DNS name: no such host.
            DnsStartError::InvalidName => Eai::NONAME,
            // glibc without a reachable server, or out of room: try later.
            DnsStartError::NoServers | DnsStartError::TableFull => Eai::AGAIN,
        }
    }
}

/// `AI_IDN`, `AI_CANONIDN` and the two deprecated IDN flags: glibc accepts
/// them; with ASCII names they change nothing. (Not in the `libc` crate.)
const AI_IDN_FLAGS: i32 = 0x0040 | 0x0080 | 0x0100 | 0x0200;

/// Every flag glibc accepts; the address-selection ones (`AI_V4MAPPED`,
/// `AI_ALL`, `AI_ADDRCONFIG`) change nothing for an IPv4-only stack.
pub const KNOWN_FLAGS: i32 = libc::AI_PASSIVE
    | libc::AI_CANONNAME
    | libc::AI_NUMERICHOST
    | libc::AI_V4MAPPED
    | libc::AI_ALL
    | libc::AI_ADDRCONFIG
    | libc::AI_NUMERICSERV
    | AI_IDN_FLAGS;

/// The hints of a call (`struct addrinfo` without its pointers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// `ai_flags`.
    pub flags: i32,
    /// `ai_family`.
    pub family: i32,
    /// `ai_socktype`.
    pub socktype: i32,
    /// `ai_protocol`.
    pub protocol: i32,
}

impl Default for Hints {
    /// glibc's hints for a NULL `hints` argument.
    fn default() -> Hints {
        Hints {
            flags: libc::AI_V4MAPPED | libc::AI_ADDRCONFIG,
            family: libc::AF_UNSPEC,
            socktype: 0,
            protocol: 0,
        }
    }
}

/// The service names known without `/etc/services` (there is none on a
/// device): name, port, over TCP, over UDP. The protocols are those of
/// Debian's `/etc/services` and, for the last two, IANA's registry.
pub const SERVICES: [(&str, u16, bool, bool); 6] = [
    ("domain", 53, true, true),
    ("ntp", 123, false, true),
    ("http", 80, true, false),
    ("https", 443, true, true),
    ("mqtt", 1883, true, true),
    ("coap", 5683, true, true),
];

/// One row of glibc's socket type table (`gaih_inet_typeproto`).
#[derive(Debug, Clone, Copy)]
struct Row {
    socktype: i32,
    protocol: i32,
    /// Takes the protocol of the hints (`GAI_PROTO_PROTOANY`) and no
    /// service (`GAI_PROTO_NOSERVICE`): raw sockets.
    raw: bool,
}

const ROWS: [Row; 3] = [
    Row {
        socktype: libc::SOCK_STREAM,
        protocol: libc::IPPROTO_TCP,
        raw: false,
    },
    Row {
        socktype: libc::SOCK_DGRAM,
        protocol: libc::IPPROTO_UDP,
        raw: false,
    },
    Row {
        socktype: libc::SOCK_RAW,
        protocol: 0,
        raw: true,
    },
];

impl Row {
    /// Whether the hints select this row.
    fn matches(&self, h: &Hints) -> bool {
        (h.socktype == 0 || h.socktype == self.socktype)
            && (h.protocol == 0 || self.raw || h.protocol == self.protocol)
    }

    /// The port of `name` for this row's protocol, from [`SERVICES`].
    fn service_port(&self, name: &[u8]) -> Option<u16> {
        SERVICES
            .iter()
            .find(|s| s.0.as_bytes() == name)
            .filter(|s| match self.protocol {
                p if p == libc::IPPROTO_TCP => s.2,
                p if p == libc::IPPROTO_UDP => s.3,
                _ => false,
            })
            .map(|s| s.1)
    }
}

/// A socket type, protocol and port every address is returned with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kind {
    socktype: i32,
    protocol: i32,
    port: u16,
}

/// The kinds a call returns (at most one per row).
struct Kinds {
    list: [Kind; ROWS.len()],
    len: usize,
}

impl Kinds {
    fn push(&mut self, k: Kind) {
        if let Some(slot) = self.list.get_mut(self.len) {
            *slot = k;
            self.len += 1;
        }
    }
    fn as_slice(&self) -> &[Kind] {
        &self.list[..self.len]
    }
}

/// A service that is a decimal number (glibc's `strtoul` without a sign,
/// which is rarely meant), truncated to 16 bits as glibc does.
fn service_number(s: &[u8]) -> Option<u16> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = s.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(n as u16)
}

/// glibc's `gaih_inet` up to the name: the rows the hints select and the
/// port of the service for each.
fn kinds(h: &Hints, service: Option<&[u8]>, number: Option<u16>) -> Result<Kinds, Eai> {
    let mut out = Kinds {
        list: [Kind {
            socktype: 0,
            protocol: 0,
            port: 0,
        }; ROWS.len()],
        len: 0,
    };
    let kind = |r: &Row, port| Kind {
        socktype: r.socktype,
        protocol: if r.raw { h.protocol } else { r.protocol },
        port,
    };
    let chosen = if h.socktype != 0 || h.protocol != 0 {
        match ROWS.iter().find(|r| r.matches(h)) {
            Some(r) => Some(r),
            None if h.socktype != 0 => return Err(Eai::SOCKTYPE),
            None => return Err(Eai::SERVICE),
        }
    } else {
        None
    };
    match (service, number) {
        (Some(_), _) if chosen.is_some_and(|r| r.raw) => Err(Eai::SERVICE),
        (Some(name), None) => {
            // A name: every row that has it (glibc asks /etc/services per
            // protocol).
            for r in ROWS.iter().filter(|r| !r.raw && r.matches(h)) {
                if let Some(port) = r.service_port(name) {
                    out.push(kind(r, port));
                }
            }
            if out.len == 0 {
                return Err(Eai::SERVICE);
            }
            Ok(out)
        }
        (_, port) => {
            let port = port.unwrap_or(0);
            match chosen {
                Some(r) => out.push(kind(r, port)),
                None => ROWS.iter().for_each(|r| out.push(kind(r, port))),
            }
            Ok(out)
        }
    }
}

/// The most results one call gives: every address of a name, once per row.
pub const MAX_RESULTS: usize = max(DNS_MAX_ADDRESSES, 1) * ROWS.len();

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// One result: an address with its socket type and protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrInfo {
    /// `ai_flags`: the flags of the hints, as glibc returns them.
    pub flags: i32,
    /// `ai_socktype`.
    pub socktype: i32,
    /// `ai_protocol`.
    pub protocol: i32,
    /// The address and port (`ai_addr`, family `AF_INET`).
    pub addr: SocketAddrV4,
}

/// What a call gives, in glibc's order: per address, per socket type.
#[derive(Debug, Clone, Copy)]
pub struct AddrList {
    items: [AddrInfo; MAX_RESULTS],
    len: usize,
}

impl AddrList {
    /// The results.
    pub fn as_slice(&self) -> &[AddrInfo] {
        &self.items[..self.len]
    }
}

/// The addresses of a node.
struct Addrs {
    list: [Ipv4Addr; max(DNS_MAX_ADDRESSES, 1)],
    len: usize,
}

impl Addrs {
    fn one(a: Ipv4Addr) -> Addrs {
        let mut list = [Ipv4Addr::UNSPECIFIED; max(DNS_MAX_ADDRESSES, 1)];
        list[0] = a;
        Addrs { list, len: 1 }
    }
}

/// Resolves `node` and `service` as glibc's `getaddrinfo` does (see the
/// module's documentation); names go to the core's DNS resolver through
/// [`lookup`], which blocks the calling thread.
pub fn getaddrinfo<P: Port>(
    engine: &Engine<P>,
    node: Option<&[u8]>,
    service: Option<&[u8]>,
    hints: &Hints,
) -> Result<AddrList, Eai> {
    let node = node.filter(|n| *n != b"*");
    let service = service.filter(|s| *s != b"*");
    if node.is_none() && service.is_none() {
        return Err(Eai::NONAME);
    }
    if hints.flags & !KNOWN_FLAGS != 0 {
        return Err(Eai::BADFLAGS);
    }
    if hints.flags & libc::AI_CANONNAME != 0 && node.is_none() {
        return Err(Eai::BADFLAGS);
    }
    if hints.family != libc::AF_UNSPEC && hints.family != libc::AF_INET {
        return Err(Eai::FAMILY);
    }
    // An empty service is no service (glibc).
    let service = service.filter(|s| !s.is_empty());
    let number = service.and_then(service_number);
    if service.is_some() && number.is_none() && hints.flags & libc::AI_NUMERICSERV != 0 {
        return Err(Eai::NONAME);
    }
    let kinds = kinds(hints, service, number)?;
    let addrs = host(engine, node, hints.flags)?;
    let mut out = AddrList {
        items: [AddrInfo {
            flags: 0,
            socktype: 0,
            protocol: 0,
            addr: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
        }; MAX_RESULTS],
        len: 0,
    };
    for &a in &addrs.list[..addrs.len] {
        for k in kinds.as_slice() {
            if let Some(slot) = out.items.get_mut(out.len) {
                *slot = AddrInfo {
                    flags: hints.flags,
                    socktype: k.socktype,
                    protocol: k.protocol,
                    addr: SocketAddrV4::new(a, k.port),
                };
                out.len += 1;
            }
        }
    }
    Ok(out)
}

/// The addresses of the node: literals and `localhost` at once, names by
/// the DNS resolver.
fn host<P: Port>(engine: &Engine<P>, node: Option<&[u8]>, flags: i32) -> Result<Addrs, Eai> {
    let Some(name) = node else {
        return Ok(Addrs::one(if flags & libc::AI_PASSIVE != 0 {
            Ipv4Addr::UNSPECIFIED
        } else {
            Ipv4Addr::LOCALHOST
        }));
    };
    if let Some(a) = inet_aton(name) {
        return Ok(Addrs::one(a));
    }
    if flags & libc::AI_NUMERICHOST != 0 {
        return Err(Eai::NONAME);
    }
    if is_localhost(name) {
        return Ok(Addrs::one(Ipv4Addr::LOCALHOST));
    }
    let name = core::str::from_utf8(name).map_err(|_| Eai::NONAME)?;
    lookup(engine, name)
}

/// `localhost` (any case, with or without the final dot): the loopback
/// address without a query (RFC 6761 §6.3).
fn is_localhost(name: &[u8]) -> bool {
    let name = name.strip_suffix(b".").unwrap_or(name);
    name.eq_ignore_ascii_case(b"localhost")
}

/// glibc's `__inet_aton_exact`: `a.b.c.d`, `a.b.c` (c 16 bits), `a.b` (b 24
/// bits) or `a` (32 bits), each part decimal, octal (leading 0) or
/// hexadecimal (0x), nothing after.
pub fn inet_aton(s: &[u8]) -> Option<Ipv4Addr> {
    let mut parts = [0u32; 4];
    let mut n = 0;
    let mut rest = s;
    loop {
        let (value, after) = aton_part(rest)?;
        if n == parts.len() {
            return None;
        }
        parts[n] = value;
        n += 1;
        match after.split_first() {
            None => break,
            Some((b'.', more)) => rest = more,
            Some(_) => return None,
        }
    }
    let (head, last) = (&parts[..n - 1], parts[n - 1]);
    if head.iter().any(|&p| p > 0xff) {
        return None;
    }
    let room = 8 * (4 - head.len() as u32);
    if room < 32 && last >> room != 0 {
        return None;
    }
    let mut v: u32 = 0;
    for (i, &p) in head.iter().enumerate() {
        v |= p << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from_bits(v | last))
}

/// One part of an `inet_aton` address and what follows it.
fn aton_part(s: &[u8]) -> Option<(u32, &[u8])> {
    let first = *s.first()?;
    if !first.is_ascii_digit() {
        return None;
    }
    let (base, mut rest, mut digit) = match s {
        [b'0', b'x' | b'X', r @ ..] => (16, r, false),
        [b'0', r @ ..] => (8, r, true),
        _ => (10, s, false),
    };
    let mut v: u64 = 0;
    while let Some((&c, r)) = rest.split_first() {
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'f' | b'A'..=b'F' if base == 16 => {
                u64::from(c.to_ascii_lowercase() - b'a') + 10
            }
            _ => break,
        };
        if d >= base {
            // 8 or 9 in an octal part.
            return None;
        }
        v = v * base + d;
        if v > u64::from(u32::MAX) {
            return None;
        }
        digit = true;
        rest = r;
    }
    digit.then_some((v as u32, rest))
}

/// CNAME links the core follows by asking again (each new question starts
/// its rounds over the servers anew), plus the first question.
const QUESTIONS: u64 = 9;

/// How long [`lookup`] waits at most. The core ends every query by itself
/// (`DNS_TIMEOUT_MS` doubling over `DNS_ATTEMPTS` rounds of every server,
/// for each question of a CNAME chain); this bound, the sum of all that
/// plus 5 s, only guards against a query that is never reported.
pub fn safety_bound() -> Duration {
    let rounds = (1u64 << DNS_ATTEMPTS.min(20)) - 1;
    let ms = (DNS_TIMEOUT_MS as u64)
        .saturating_mul(rounds)
        .saturating_mul(DNS_SERVERS.max(1) as u64)
        .saturating_mul(QUESTIONS)
        .saturating_add(5000);
    Duration::from_millis(ms)
}

/// Cancels the query when the wait ends without its result (the bound
/// passed, or a panic unwinds).
struct InFlight<'a, P: Port> {
    engine: &'a Engine<P>,
    query: Option<DnsQuery>,
}

impl<P: Port> Drop for InFlight<'_, P> {
    fn drop(&mut self) {
        if let Some(q) = self.query.take() {
            self.engine.port().with(|stack, _, _| stack.dns_cancel(q));
        }
    }
}

/// Asks the core's resolver for the A records of `name` and blocks the
/// calling thread, without spinning, until the query ends: the port's
/// driver wakes the waiters when the answer arrives or the core gives up.
fn lookup<P: Port>(engine: &Engine<P>, name: &str) -> Result<Addrs, Eai> {
    let port = engine.port();
    let query = port.with(|stack, _, _| stack.dns_query(name))?;
    // The query's retransmission timer is a new deadline for the driver.
    port.wake();
    let mut flight = InFlight {
        engine,
        query: Some(query),
    };
    let bound = port.now() + safety_bound();
    let done = engine.wait_until(Some(bound), |stack, _, _| match stack.dns_result(query) {
        Poll::Ready(r) => Some(r),
        Poll::Pending => None,
    });
    let Some(result) = done else {
        return Err(Eai::AGAIN);
    };
    // Ready freed the core's slot: nothing to cancel.
    flight.query = None;
    let answer = result?;
    let mut out = Addrs {
        list: [Ipv4Addr::UNSPECIFIED; max(DNS_MAX_ADDRESSES, 1)],
        len: 0,
    };
    for (slot, &a) in out.list.iter_mut().zip(answer.addresses.iter()) {
        *slot = a;
        out.len += 1;
    }
    if out.len == 0 {
        return Err(Eai::NODATA);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Option<Ipv4Addr> {
        inet_aton(s.as_bytes())
    }

    #[test]
    fn inet_aton_forms_as_glibc() {
        assert_eq!(a("192.0.2.1"), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(a("127.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(a("10.1.2"), Some(Ipv4Addr::new(10, 1, 0, 2)));
        assert_eq!(a("0x7f.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(a("010.0.0.1"), Some(Ipv4Addr::new(8, 0, 0, 1)));
        assert_eq!(a("3232235777"), Some(Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(a("0"), Some(Ipv4Addr::UNSPECIFIED));
        for bad in [
            "",
            "256.1.1.1",
            "1.2.3.4.5",
            "1.2.3.",
            "08",
            "0x",
            "1.2.3.4 ",
            "a.b",
            "1..2",
            "4294967296",
            "1.2.65536",
            "printer.test",
        ] {
            assert_eq!(a(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn service_numbers() {
        assert_eq!(service_number(b"80"), Some(80));
        assert_eq!(service_number(b"65536"), Some(0));
        assert_eq!(service_number(b"http"), None);
        assert_eq!(service_number(b"8o"), None);
        assert_eq!(service_number(b""), None);
    }

    #[test]
    fn localhost_names() {
        for n in ["localhost", "LocalHost", "localhost."] {
            assert!(is_localhost(n.as_bytes()), "{n}");
        }
        assert!(!is_localhost(b"localhost.test"));
    }

    #[test]
    fn eai_names_and_messages() {
        assert_eq!(Eai::NONAME.name(), "EAI_NONAME");
        assert_eq!(Eai(12345).name(), "EAI_?");
        assert_eq!(Eai(12345).message(), c"Unknown error");
        assert_eq!(Eai::NONAME.message(), c"Name or service not known");
        assert_eq!(format!("{:?}", Eai::AGAIN), "EAI_AGAIN(-3)");
    }
}
