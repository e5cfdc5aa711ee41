//! `wolfip_getaddrinfo`, `wolfip_freeaddrinfo` and `wolfip_gai_strerror`
//! as C calls them, in the hosted port, without root:
//!
//! * every case that needs no DNS server is compared with the host's own
//!   glibc `getaddrinfo` (same results in the same order, or the same
//!   `EAI_*` code): literals, `localhost`, NULL nodes, `AI_PASSIVE`, the
//!   socket type fan-out, services, `AI_CANONNAME` and the errors;
//! * names go to a small DNS server written here, on a wolfip UDP socket
//!   at 127.0.0.1:53 of the same stack: answers, NXDOMAIN, NODATA,
//!   SERVFAIL, REFUSED, silence (`EAI_AGAIN` after the core's timeouts,
//!   waited for without spinning), several resolutions at once;
//! * the fixed result pool: exhaustion (`EAI_MEMORY`) and recovery, frees
//!   from the middle of a list, double and foreign frees ignored.
//!
//! The tests share one stack and one pool, so they run one at a time.

use std::ffi::{CStr, CString};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use libc::{addrinfo, c_int};
use wolfip_bsd::engine::{Engine, MsgFlags};
use wolfip_bsd::ffi::{
    addrinfo_in_use, wolfip_dns_set_servers, wolfip_freeaddrinfo, wolfip_gai_strerror,
    wolfip_getaddrinfo, ADDRINFO_MAX,
};
use wolfip_bsd::hosted::{self, Hosted};
use wolfip_bsd::resolve::Eai;
use wolfip_core::{Ipv4Addr, SocketAddrV4};

fn eng() -> &'static Engine<Hosted> {
    static E: OnceLock<&'static Engine<Hosted>> = OnceLock::new();
    E.get_or_init(|| hosted::init().expect("init"))
}

fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// One result, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Res {
    flags: c_int,
    family: c_int,
    socktype: c_int,
    protocol: c_int,
    addr: SocketAddrV4,
    canon: Option<String>,
}

/// The hints of a call: flags, family, socket type, protocol.
type H = (c_int, c_int, c_int, c_int);

fn hints_of(h: H) -> addrinfo {
    // SAFETY: addrinfo is plain old data; all zeroes (null pointers) is a
    // valid value.
    let mut a: addrinfo = unsafe { core::mem::zeroed() };
    (a.ai_flags, a.ai_family, a.ai_socktype, a.ai_protocol) = h;
    a
}

fn cstr(s: Option<&str>) -> Option<CString> {
    s.map(|s| CString::new(s).unwrap())
}

fn ptr(s: &Option<CString>) -> *const libc::c_char {
    s.as_ref().map_or(core::ptr::null(), |s| s.as_ptr())
}

/// Reads a result list.
///
/// # Safety
/// `p` must be a list from getaddrinfo, not freed yet.
unsafe fn read_list(mut p: *const addrinfo) -> Vec<Res> {
    let mut v = Vec::new();
    while !p.is_null() {
        // SAFETY: a valid list (contract).
        let a = unsafe { &*p };
        assert_eq!(a.ai_addrlen as usize, size_of::<libc::sockaddr_in>());
        // SAFETY: ai_addr of an AF_INET result points to a sockaddr_in.
        let sin = unsafe { *(a.ai_addr as *const libc::sockaddr_in) };
        assert_eq!(i32::from(sin.sin_family), libc::AF_INET);
        let canon = (!a.ai_canonname.is_null()).then(|| {
            // SAFETY: a NUL-terminated string of the result.
            unsafe { CStr::from_ptr(a.ai_canonname) }
                .to_string_lossy()
                .into_owned()
        });
        v.push(Res {
            flags: a.ai_flags,
            family: a.ai_family,
            socktype: a.ai_socktype,
            protocol: a.ai_protocol,
            addr: SocketAddrV4::new(
                Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()),
                u16::from_be(sin.sin_port),
            ),
            canon,
        });
        p = a.ai_next;
    }
    v
}

/// Our getaddrinfo, the list kept (to be freed by the caller).
fn ours_raw(node: Option<&str>, service: Option<&str>, h: Option<H>) -> Result<*mut addrinfo, Eai> {
    let (n, s) = (cstr(node), cstr(service));
    let hints = h.map(hints_of);
    let hp = hints
        .as_ref()
        .map_or(core::ptr::null(), |h| h as *const addrinfo);
    let mut res: *mut addrinfo = core::ptr::null_mut();
    // SAFETY: valid strings, hints and result pointer.
    let rc = unsafe { wolfip_getaddrinfo(ptr(&n), ptr(&s), hp, &mut res) };
    if rc == 0 {
        Ok(res)
    } else {
        Err(Eai(rc))
    }
}

/// Our getaddrinfo, read and freed.
fn ours(node: Option<&str>, service: Option<&str>, h: Option<H>) -> Result<Vec<Res>, Eai> {
    let p = ours_raw(node, service, h)?;
    // SAFETY: a list just returned.
    let v = unsafe { read_list(p) };
    wolfip_freeaddrinfo(p);
    Ok(v)
}

/// The host's glibc getaddrinfo, only the IPv4 results.
fn glibc(node: Option<&str>, service: Option<&str>, h: H) -> Result<Vec<Res>, Eai> {
    let (n, s) = (cstr(node), cstr(service));
    let hints = hints_of(h);
    let mut res: *mut addrinfo = core::ptr::null_mut();
    // SAFETY: valid strings, hints and result pointer.
    let rc = unsafe { libc::getaddrinfo(ptr(&n), ptr(&s), &hints, &mut res) };
    if rc != 0 {
        return Err(Eai(rc));
    }
    // SAFETY: the list glibc returned; freed right after.
    let v = unsafe {
        let mut v = Vec::new();
        let mut p = res as *const addrinfo;
        while !p.is_null() {
            if (*p).ai_family == libc::AF_INET {
                let one = (*p).ai_next;
                let mut copy = *p;
                copy.ai_next = core::ptr::null_mut();
                v.extend(read_list(&copy));
                p = one;
            } else {
                p = (*p).ai_next;
            }
        }
        libc::freeaddrinfo(res);
        v
    };
    Ok(v)
}

const STREAM: c_int = libc::SOCK_STREAM;
const DGRAM: c_int = libc::SOCK_DGRAM;
const RAW: c_int = libc::SOCK_RAW;
const TCP: c_int = libc::IPPROTO_TCP;
const UDP: c_int = libc::IPPROTO_UDP;
const UNSPEC: c_int = libc::AF_UNSPEC;
const INET: c_int = libc::AF_INET;
const PASSIVE: c_int = libc::AI_PASSIVE;
const CANON: c_int = libc::AI_CANONNAME;
const NUMHOST: c_int = libc::AI_NUMERICHOST;
const NUMSERV: c_int = libc::AI_NUMERICSERV;

/// Cases glibc answers without any network: the same answer from both.
const SAME_AS_GLIBC: &[(Option<&str>, Option<&str>, H)] = &[
    // Literals, with the socket type fan-out.
    (Some("127.0.0.1"), None, (0, UNSPEC, 0, 0)),
    (Some("192.0.2.7"), Some("80"), (0, INET, 0, 0)),
    (Some("192.0.2.7"), Some("80"), (0, UNSPEC, STREAM, 0)),
    (Some("192.0.2.7"), Some("5353"), (0, UNSPEC, DGRAM, 0)),
    (Some("192.0.2.7"), None, (0, UNSPEC, RAW, 0)),
    (Some("192.0.2.7"), Some("53"), (0, UNSPEC, 0, UDP)),
    (Some("192.0.2.7"), Some("53"), (0, UNSPEC, 0, TCP)),
    (Some("192.0.2.7"), None, (0, UNSPEC, 0, 47)),
    (Some("192.0.2.7"), Some("65536"), (0, UNSPEC, STREAM, 0)),
    (Some("192.0.2.7"), Some(""), (0, UNSPEC, 0, 0)),
    // inet_aton's other forms.
    (Some("10.1"), Some("7"), (0, UNSPEC, STREAM, 0)),
    (Some("10.1.2"), None, (0, UNSPEC, STREAM, 0)),
    (Some("0x7f.1"), None, (0, UNSPEC, STREAM, 0)),
    (Some("010.0.0.1"), None, (NUMHOST, UNSPEC, STREAM, 0)),
    (Some("3232235777"), None, (0, UNSPEC, STREAM, 0)),
    // "*" is NULL; NULL nodes.
    (None, Some("8080"), (PASSIVE, UNSPEC, 0, 0)),
    (None, Some("8080"), (0, UNSPEC, 0, 0)),
    (Some("*"), Some("8080"), (PASSIVE, INET, STREAM, 0)),
    (None, Some("8080"), (NUMHOST | NUMSERV, UNSPEC, DGRAM, 0)),
    // localhost, from the hosts file for glibc.
    (Some("localhost"), Some("80"), (0, INET, STREAM, 0)),
    (Some("localhost"), None, (CANON, INET, 0, 0)),
    // AI_CANONNAME on a literal: the literal.
    (Some("192.0.2.7"), Some("1883"), (CANON, UNSPEC, 0, 0)),
    (Some("127.1"), None, (CANON | PASSIVE, INET, DGRAM, 0)),
    // Services by name, per protocol as /etc/services has them.
    (Some("192.0.2.7"), Some("http"), (0, UNSPEC, 0, 0)),
    (Some("192.0.2.7"), Some("domain"), (0, UNSPEC, 0, 0)),
    (Some("192.0.2.7"), Some("ntp"), (0, UNSPEC, 0, 0)),
    (Some("192.0.2.7"), Some("https"), (0, UNSPEC, DGRAM, 0)),
    (Some("192.0.2.7"), Some("ntp"), (0, UNSPEC, STREAM, 0)),
    (Some("192.0.2.7"), Some("http"), (0, UNSPEC, 0, UDP)),
    (
        Some("192.0.2.7"),
        Some("no-such-service"),
        (0, UNSPEC, 0, 0),
    ),
    (Some("192.0.2.7"), Some("8o"), (0, UNSPEC, STREAM, 0)),
    // Errors.
    (None, None, (0, UNSPEC, 0, 0)),
    (Some("*"), Some("*"), (0, UNSPEC, 0, 0)),
    (Some("192.0.2.7"), None, (0x8000, UNSPEC, 0, 0)),
    (None, Some("80"), (CANON, UNSPEC, 0, 0)),
    (Some("192.0.2.7"), Some("http"), (NUMSERV, UNSPEC, 0, 0)),
    (Some("192.0.2.7"), Some("http"), (NUMSERV, 12345, 0, 0)),
    (Some("192.0.2.7"), None, (0, 12345, 0, 0)),
    (Some("192.0.2.7"), None, (0, UNSPEC, 99, 0)),
    (Some("192.0.2.7"), None, (0, UNSPEC, STREAM, UDP)),
    (Some("192.0.2.7"), None, (0, UNSPEC, DGRAM, TCP)),
    (Some("192.0.2.7"), Some("80"), (0, UNSPEC, RAW, 0)),
    (Some("192.0.2.7"), Some("80"), (0, UNSPEC, 0, 47)),
    (Some("printer.test"), None, (NUMHOST, UNSPEC, 0, 0)),
    (Some("localhost"), None, (NUMHOST, INET, 0, 0)),
    (Some("256.1.1.1"), None, (NUMHOST, INET, 0, 0)),
    (Some("192.0.2.7 "), None, (NUMHOST, INET, 0, 0)),
];

#[test]
fn answers_as_glibc_where_no_server_is_needed() {
    let _g = serial();
    let mut diffs = Vec::new();
    for &(node, service, h) in SAME_AS_GLIBC {
        let want = glibc(node, service, h);
        let got = ours(node, service, Some(h));
        if got != want {
            diffs.push(format!(
                "{node:?} {service:?} {h:?}:\n  glibc {want:?}\n  ours  {got:?}"
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert_eq!(addrinfo_in_use(), 0);
}

#[test]
fn what_this_stack_decides_itself() {
    let _g = serial();
    let r = |a: [u8; 4], port, socktype, protocol, flags| Res {
        flags,
        family: INET,
        socktype,
        protocol,
        addr: SocketAddrV4::new(Ipv4Addr::from(a), port),
        canon: None,
    };
    // NULL hints: glibc's defaults, one entry per socket type.
    let dflt = libc::AI_V4MAPPED | libc::AI_ADDRCONFIG;
    assert_eq!(
        ours(Some("192.0.2.9"), Some("7"), None),
        Ok(vec![
            r([192, 0, 2, 9], 7, STREAM, TCP, dflt),
            r([192, 0, 2, 9], 7, DGRAM, UDP, dflt),
            r([192, 0, 2, 9], 7, RAW, 0, dflt),
        ])
    );
    // The services glibc finds in /etc/services and a device has none of.
    assert_eq!(
        ours(None, Some("mqtt"), Some((PASSIVE, INET, STREAM, 0))),
        Ok(vec![r([0, 0, 0, 0], 1883, STREAM, TCP, PASSIVE)])
    );
    assert_eq!(
        ours(None, Some("coap"), Some((0, INET, DGRAM, 0))),
        Ok(vec![r([127, 0, 0, 1], 5683, DGRAM, UDP, 0)])
    );
    // localhost in any case, with or without the root's dot, and without
    // a server (none is configured here).
    for name in ["LOCALHOST", "localhost."] {
        let v = ours(Some(name), None, Some((CANON, INET, STREAM, 0))).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].addr, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        assert_eq!(v[0].canon.as_deref(), Some(name));
    }
    // IPv4 only: AF_INET6 is EAI_FAMILY here (glibc would resolve AAAA).
    assert_eq!(
        ours(Some("::1"), None, Some((0, libc::AF_INET6, 0, 0))),
        Err(Eai::FAMILY)
    );
    // A NULL result pointer.
    let n = CString::new("192.0.2.7").unwrap();
    // SAFETY: a valid node; res NULL is the case under test.
    let rc = unsafe {
        wolfip_getaddrinfo(
            n.as_ptr(),
            core::ptr::null(),
            core::ptr::null(),
            core::ptr::null_mut(),
        )
    };
    assert_eq!(rc, libc::EAI_SYSTEM);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::EFAULT)
    );
}

#[test]
fn eai_values_and_texts_are_glibcs() {
    let pairs = [
        (Eai::BADFLAGS, libc::EAI_BADFLAGS),
        (Eai::NONAME, libc::EAI_NONAME),
        (Eai::AGAIN, libc::EAI_AGAIN),
        (Eai::FAIL, libc::EAI_FAIL),
        (Eai::NODATA, libc::EAI_NODATA),
        (Eai::FAMILY, libc::EAI_FAMILY),
        (Eai::SOCKTYPE, libc::EAI_SOCKTYPE),
        (Eai::SERVICE, libc::EAI_SERVICE),
        (Eai::MEMORY, libc::EAI_MEMORY),
        (Eai::SYSTEM, libc::EAI_SYSTEM),
        (Eai::OVERFLOW, libc::EAI_OVERFLOW),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours.0, theirs, "{ours:?}");
    }
    // EAI_ADDRFAMILY is not in the libc crate: glibc's text for -9 says
    // which code it is.
    for code in pairs
        .iter()
        .map(|p| p.1)
        .chain([Eai::ADDRFAMILY.0, 0, 1, 12345])
    {
        // SAFETY: both return static NUL-terminated strings.
        let (a, b) = unsafe {
            (
                CStr::from_ptr(wolfip_gai_strerror(code)),
                CStr::from_ptr(libc::gai_strerror(code)),
            )
        };
        assert_eq!(a, b, "gai_strerror({code})");
    }
}

/// A list of one result (a literal, one socket type).
fn one() -> Result<*mut addrinfo, Eai> {
    ours_raw(Some("192.0.2.1"), Some("9"), Some((0, INET, STREAM, 0)))
}

#[test]
fn the_pool_runs_out_and_recovers() {
    let _g = serial();
    assert_eq!(addrinfo_in_use(), 0);
    let mut held: Vec<*mut addrinfo> = (0..ADDRINFO_MAX).map(|_| one().unwrap()).collect();
    assert_eq!(addrinfo_in_use(), ADDRINFO_MAX);
    assert_eq!(one(), Err(Eai::MEMORY));
    // A foreign pointer, a pointer inside a block, and NULL change nothing.
    let mut mine = hints_of((0, 0, 0, 0));
    wolfip_freeaddrinfo(&mut mine);
    // SAFETY: a held result; ai_addr points inside its block.
    wolfip_freeaddrinfo(unsafe { (*held[0]).ai_addr.cast() });
    wolfip_freeaddrinfo(core::ptr::null_mut());
    assert_eq!(addrinfo_in_use(), ADDRINFO_MAX);
    // One back: one more call fits; a second free of it is ignored.
    let p = held.pop().unwrap();
    wolfip_freeaddrinfo(p);
    wolfip_freeaddrinfo(p);
    assert_eq!(addrinfo_in_use(), ADDRINFO_MAX - 1);
    held.push(one().unwrap());
    assert_eq!(one(), Err(Eai::MEMORY));
    // A call needing three blocks gets none of two free ones.
    if ADDRINFO_MAX >= 3 {
        wolfip_freeaddrinfo(held.pop().unwrap());
        wolfip_freeaddrinfo(held.pop().unwrap());
        assert_eq!(
            ours_raw(Some("192.0.2.1"), Some("9"), Some((0, INET, 0, 0))),
            Err(Eai::MEMORY)
        );
        assert_eq!(addrinfo_in_use(), ADDRINFO_MAX - 2);
    }
    for p in held.drain(..) {
        wolfip_freeaddrinfo(p);
    }
    assert_eq!(addrinfo_in_use(), 0);
    // Everything usable again.
    let all: Vec<_> = (0..ADDRINFO_MAX).map(|_| one().unwrap()).collect();
    all.into_iter().for_each(|p| wolfip_freeaddrinfo(p));
    assert_eq!(addrinfo_in_use(), 0);
}

#[test]
fn freeing_from_the_middle_frees_the_rest() {
    let _g = serial();
    if ADDRINFO_MAX < 4 {
        return;
    }
    let list = ours_raw(Some("192.0.2.1"), Some("9"), Some((0, INET, 0, 0))).unwrap();
    assert_eq!(addrinfo_in_use(), 3);
    // SAFETY: a list of three, not freed yet.
    let second = unsafe { (*list).ai_next };
    wolfip_freeaddrinfo(second);
    assert_eq!(addrinfo_in_use(), 1);
    // The freed blocks go to someone else; freeing the head later must not
    // free theirs.
    let other = one().unwrap();
    assert_eq!(addrinfo_in_use(), 2);
    wolfip_freeaddrinfo(list);
    assert_eq!(addrinfo_in_use(), 1);
    // SAFETY: `other` is still ours to read.
    assert_eq!(unsafe { read_list(other) }.len(), 1);
    wolfip_freeaddrinfo(other);
    assert_eq!(addrinfo_in_use(), 0);
}

// ---------------------------------------------------------------------
// A DNS server on the stack's own loopback.

/// What the test server does with a question.
fn answer_for(name: &str) -> Option<(u8, Vec<[u8; 4]>)> {
    let name = name.to_ascii_lowercase();
    let first = name.split('.').next().unwrap_or("");
    match first {
        "silent" => None,
        "nx" => Some((3, vec![])),
        "nodata" => Some((0, vec![])),
        "fail" => Some((2, vec![])),
        "refused" => Some((5, vec![])),
        "two" => Some((0, vec![[192, 0, 2, 21], [192, 0, 2, 22]])),
        _ => Some((0, vec![[192, 0, 2, 10]])),
    }
}

/// The question's name and where the question ends.
fn question(q: &[u8]) -> Option<(String, usize)> {
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let n = usize::from(*q.get(i)?);
        i += 1;
        if n == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + n)?).into_owned());
        i += n;
    }
    Some((labels.join("."), i + 4))
}

/// The response to query `q`, or `None` to stay silent.
fn respond(q: &[u8]) -> Option<Vec<u8>> {
    let (name, end) = question(q)?;
    let (rcode, addrs) = answer_for(&name)?;
    let mut r = Vec::new();
    r.extend_from_slice(&q[..2]);
    r.extend_from_slice(&[0x81, 0x80 | rcode]);
    r.extend_from_slice(&[0, 1]);
    r.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(q.get(12..end)?);
    for a in addrs {
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        r.extend_from_slice(&a);
    }
    Some(r)
}

/// The server: answers on 127.0.0.1:53 until `stop` is set; returns the
/// names it was asked.
fn serve(stop: &'static std::sync::atomic::AtomicBool) -> thread::JoinHandle<Vec<String>> {
    let e = eng();
    let fd = e.socket(libc::AF_INET, DGRAM, 0).unwrap();
    e.bind(fd, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 53))
        .unwrap();
    // 100 ms receive timeout, so that `stop` is seen.
    let mut tv = [0u8; 16];
    tv[8..].copy_from_slice(&100_000i64.to_ne_bytes());
    e.setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
        .unwrap();
    thread::spawn(move || {
        let mut asked = Vec::new();
        let mut buf = [0u8; 512];
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let Ok(got) = e.recvfrom(fd, &mut buf, MsgFlags::default()) else {
                continue;
            };
            let q = &buf[..got.len];
            if let Some((name, _)) = question(q) {
                asked.push(name);
            }
            if let (Some(r), Some(from)) = (respond(q), got.from) {
                let _ = e.sendto(fd, &r, Some(from), MsgFlags::default());
            }
        }
        e.close(fd).unwrap();
        asked
    })
}

fn set_servers(list: &[Ipv4Addr]) {
    let v: Vec<libc::in_addr> = list
        .iter()
        .map(|a| libc::in_addr {
            s_addr: u32::from_ne_bytes(a.octets()),
        })
        .collect();
    // SAFETY: `v.len()` valid in_addr.
    let rc = unsafe { wolfip_dns_set_servers(v.as_ptr(), v.len() as c_int) };
    assert_eq!(rc, 0);
}

/// CPU time of this process (user + system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn addrs(v: &[Res]) -> Vec<SocketAddrV4> {
    v.iter().map(|r| r.addr).collect()
}

#[test]
fn names_through_the_stacks_resolver() {
    let _g = serial();
    eng();
    // No server configured: at once, EAI_AGAIN (glibc without a reachable
    // server).
    set_servers(&[]);
    let t = Instant::now();
    assert_eq!(ours(Some("printer.test"), None, None), Err(Eai::AGAIN));
    assert!(t.elapsed() < Duration::from_secs(1));

    static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let server = serve(&STOP);
    set_servers(&[Ipv4Addr::LOCALHOST]);
    let v4 = |a: [u8; 4], port| SocketAddrV4::new(Ipv4Addr::from(a), port);

    // An answer, fanned out per socket type; the canonical name is the
    // name asked.
    let v = ours(
        Some("printer.test"),
        Some("631"),
        Some((CANON, UNSPEC, 0, 0)),
    )
    .unwrap();
    assert_eq!(addrs(&v), vec![v4([192, 0, 2, 10], 631); 3]);
    assert_eq!(v[0].canon.as_deref(), Some("printer.test"));
    assert!(v[1..].iter().all(|r| r.canon.is_none()));
    // Two addresses, in the server's order, each per socket type.
    let v = ours(Some("two.test"), None, Some((0, INET, 0, 0))).unwrap();
    let a = v4([192, 0, 2, 21], 0);
    let b = v4([192, 0, 2, 22], 0);
    assert_eq!(addrs(&v), vec![a, a, a, b, b, b]);
    // The failures, as glibc reports them.
    assert_eq!(ours(Some("nx.test"), None, None), Err(Eai::NONAME));
    assert_eq!(ours(Some("nodata.test"), None, None), Err(Eai::NODATA));
    assert_eq!(ours(Some("fail.test"), None, None), Err(Eai::AGAIN));
    assert_eq!(ours(Some("refused.test"), None, None), Err(Eai::AGAIN));
    assert_eq!(ours(Some("bad..name"), None, None), Err(Eai::NONAME));

    // Several threads at once, each woken by its own answer.
    let names: Vec<String> = (0..4).map(|i| format!("host{i}.test")).collect();
    let joins: Vec<_> = names
        .iter()
        .cloned()
        .map(|n| thread::spawn(move || ours(Some(&n), Some("80"), Some((0, INET, STREAM, 0)))))
        .collect();
    for j in joins {
        assert_eq!(
            addrs(&j.join().unwrap().unwrap()),
            vec![v4([192, 0, 2, 10], 80)]
        );
    }

    // Silence: the core's retransmissions run out (EAI_AGAIN); the caller
    // sleeps meanwhile.
    let cpu = cpu_time();
    let t = Instant::now();
    assert_eq!(ours(Some("silent.test"), None, None), Err(Eai::AGAIN));
    let waited = t.elapsed();
    let spent = cpu_time() - cpu;
    assert!(
        waited >= Duration::from_millis(500),
        "gave up after {waited:?}"
    );
    assert!(
        spent < waited / 4,
        "{spent:?} of CPU while waiting {waited:?}: spinning?"
    );

    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
    let asked = server.join().unwrap();
    set_servers(&[]);
    for n in [
        "printer.test",
        "two.test",
        "nx.test",
        "host3.test",
        "silent.test",
    ] {
        assert!(
            asked.iter().any(|a| a.eq_ignore_ascii_case(n)),
            "{n} never asked: {asked:?}"
        );
    }
    assert!(!asked.iter().any(|a| a.contains("bad")), "{asked:?}");
    assert_eq!(addrinfo_in_use(), 0);
}
