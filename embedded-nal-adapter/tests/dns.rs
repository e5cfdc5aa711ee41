//! Name lookups of both stacks: literals without a query, errors without a
//! server, then real queries to a DNS server of the test's own (UDP port
//! 53 of the stack's loopback). One test: the server list is process-wide.

mod util;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use embedded_nal::{AddrType, Dns};
use util::{block_on, eng, nb_until};
use wolfip_bsd::engine::{MsgFlags, Port};
use wolfip_bsd::Errno;
use wolfip_nal::{AsyncStack, Error, NalStack};

/// The names the test server knows, with their address.
const ZONE: [(&str, [u8; 4]); 4] = [
    ("printer.test", [192, 0, 2, 7]),
    ("camera.test", [192, 0, 2, 8]),
    ("a.test", [192, 0, 2, 1]),
    ("b.test", [192, 0, 2, 2]),
];

/// The question's name (dotted) and where the question ends.
fn question(q: &[u8]) -> (String, usize) {
    let mut name = String::new();
    let mut i = 12;
    while q[i] != 0 {
        let len = q[i] as usize;
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(std::str::from_utf8(&q[i + 1..i + 1 + len]).unwrap());
        i += 1 + len;
    }
    (name, i + 1 + 4)
}

/// A response: the address of a known name, NXDOMAIN for any other.
fn respond(q: &[u8]) -> (String, Vec<u8>) {
    let (name, end) = question(q);
    let known = ZONE.iter().find(|z| z.0.eq_ignore_ascii_case(&name));
    let mut r = Vec::new();
    r.extend_from_slice(&q[..2]);
    r.extend_from_slice(if known.is_some() {
        &[0x81, 0x80]
    } else {
        &[0x81, 0x83]
    });
    r.extend_from_slice(&[0, 1, 0, u8::from(known.is_some()), 0, 0, 0, 0]);
    r.extend_from_slice(&q[12..end]);
    if let Some((_, a)) = known {
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        r.extend_from_slice(a);
    }
    (name, r)
}

/// A DNS server on 127.0.0.1:53 of the stack, answering after `delay`;
/// counts the queries per name of [`ZONE`] (index 4: other names).
fn serve(delay: Duration) -> Arc<[AtomicUsize; 5]> {
    let e = eng();
    let fd = e.socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    e.bind(fd, util::local4(53)).unwrap();
    let counts = Arc::new([const { AtomicUsize::new(0) }; 5]);
    let c = counts.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        loop {
            let r = e.recvfrom(fd, &mut buf, MsgFlags::default()).unwrap();
            let (name, resp) = respond(&buf[..r.len]);
            let i = ZONE.iter().position(|z| z.0 == name).unwrap_or(4);
            c[i].fetch_add(1, Ordering::SeqCst);
            thread::sleep(delay);
            e.sendto(fd, &resp, r.from, MsgFlags::default()).unwrap();
        }
    });
    counts
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

#[test]
fn lookups() {
    let mut s = NalStack::hosted().unwrap();
    let a = AsyncStack::hosted().unwrap();
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);

    // Literals and localhost: no query, no server needed.
    assert_eq!(s.get_host_by_name("127.0.0.1", AddrType::Either), Ok(lo));
    assert_eq!(s.get_host_by_name("localhost", AddrType::IPv4), Ok(lo));
    assert_eq!(
        s.get_host_by_name("192.0.2.9", AddrType::IPv4),
        Ok(v4([192, 0, 2, 9]))
    );
    assert_eq!(
        block_on(embedded_nal_async::Dns::get_host_by_name(
            &a,
            "10.1.2.3",
            AddrType::Either
        )),
        Ok(v4([10, 1, 2, 3]))
    );
    // Reverse lookups are not supported.
    let mut out = [0u8; 64];
    let e = s.get_host_by_address(lo, &mut out).unwrap_err();
    let nb::Error::Other(e) = e else { panic!() };
    assert_eq!(
        embedded_io::Error::kind(&e),
        embedded_io::ErrorKind::Unsupported
    );
    let e = block_on(embedded_nal_async::Dns::get_host_by_address(
        &a, lo, &mut out,
    ))
    .unwrap_err();
    assert_eq!(
        embedded_io::Error::kind(&e),
        embedded_io::ErrorKind::Unsupported
    );

    // A name with no DNS server configured: an error at once.
    assert_eq!(
        s.get_host_by_name("unknown.test", AddrType::Either),
        Err(nb::Error::Other(Error(Errno::ENETUNREACH)))
    );
    assert_eq!(
        block_on(embedded_nal_async::Dns::get_host_by_name(
            &a,
            "unknown.test",
            AddrType::Either
        )),
        Err(Error(Errno::ENETUNREACH))
    );

    // Now with a server (answering after 50 ms).
    let counts = serve(Duration::from_millis(50));
    eng()
        .port()
        .with(|stack, _, _| stack.dns_set_servers(&[Ipv4Addr::LOCALHOST]))
        .unwrap();

    // nb: WouldBlock while the query runs, one query for all the calls.
    assert_eq!(
        s.get_host_by_name("printer.test", AddrType::Either),
        Err(nb::Error::WouldBlock)
    );
    let mut calls = 1;
    let got = nb_until("printer.test", || {
        calls += 1;
        s.get_host_by_name("printer.test", AddrType::Either)
    });
    assert_eq!(got, Ok(v4([192, 0, 2, 7])));
    assert!(calls > 2, "answered after {calls} calls");
    assert_eq!(counts[0].load(Ordering::SeqCst), 1);
    // Two names pending at once, polled in turns.
    assert_eq!(
        s.get_host_by_name("a.test", AddrType::Either),
        Err(nb::Error::WouldBlock)
    );
    assert_eq!(
        s.get_host_by_name("B.test", AddrType::Either),
        Err(nb::Error::WouldBlock)
    );
    let (mut ra, mut rb) = (None, None);
    util::until("a and b", || {
        if ra.is_none() {
            if let Ok(x) = s.get_host_by_name("a.test", AddrType::Either) {
                ra = Some(x);
            }
        }
        if rb.is_none() {
            if let Ok(x) = s.get_host_by_name("B.test", AddrType::Either) {
                rb = Some(x);
            }
        }
        (ra.is_some() && rb.is_some()).then_some(())
    });
    assert_eq!(ra, Some(v4([192, 0, 2, 1])));
    assert_eq!(rb, Some(v4([192, 0, 2, 2])));
    assert_eq!(counts[2].load(Ordering::SeqCst), 1);
    assert_eq!(counts[3].load(Ordering::SeqCst), 1);
    // NXDOMAIN: kind NotFound.
    let e = nb_until("nx", || s.get_host_by_name("nx.test", AddrType::Either)).unwrap_err();
    assert_eq!(e, Error(Errno::ENOENT));
    assert_eq!(
        embedded_io::Error::kind(&e),
        embedded_io::ErrorKind::NotFound
    );
    // Asking for IPv6 only: this stack has none.
    let e = s
        .get_host_by_name("printer.test", AddrType::IPv6)
        .unwrap_err();
    let nb::Error::Other(e) = e else { panic!() };
    assert_eq!(e, Error(Errno::EAFNOSUPPORT));

    // async: woken by the answer.
    let (r, polls) = util::block_on_counted(embedded_nal_async::Dns::get_host_by_name(
        &a,
        "camera.test",
        AddrType::Either,
    ));
    assert_eq!(r, Ok(v4([192, 0, 2, 8])));
    assert!((2..=20).contains(&polls), "{polls} polls");
    let r = block_on(embedded_nal_async::Dns::get_host_by_name(
        &a,
        "nx.test",
        AddrType::IPv4,
    ));
    assert_eq!(r, Err(Error(Errno::ENOENT)));
    // An async lookup dropped before the answer cancels its query.
    {
        let f = embedded_nal_async::Dns::get_host_by_name(&a, "camera2.test", AddrType::Either);
        let mut f = std::pin::pin!(f);
        let w = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(w);
        assert!(f.as_mut().poll(&mut cx).is_pending());
    }
    // The cache answers a known name at once.
    assert_eq!(
        s.get_host_by_name("printer.test", AddrType::Either),
        Ok(v4([192, 0, 2, 7]))
    );
    assert_eq!(counts[0].load(Ordering::SeqCst), 1);
}

use std::future::Future;
