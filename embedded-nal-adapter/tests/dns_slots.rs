//! Regression (found in review): nb lookups whose caller gave up keep the core's query slots
//! (finished, never taken); every other resolver of the stack (async
//! lookups, getaddrinfo) then fails with ENOBUFS although nothing is in
//! flight.

mod util;

use std::net::{IpAddr, Ipv4Addr};
use std::thread;
use std::time::Duration;

use embedded_nal::{AddrType, Dns};
use util::{block_on, eng};
use wolfip_bsd::engine::{MsgFlags, Port};
use wolfip_core::config::DNS_QUERIES;
use wolfip_nal::{AsyncStack, NalStack};

/// Answers every A query with 192.0.2.9, TTL 60, 50 ms late.
fn serve() {
    let e = eng();
    let fd = e.socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    e.bind(fd, util::local4(53)).unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        loop {
            let r = e.recvfrom(fd, &mut buf, MsgFlags::default()).unwrap();
            let q = &buf[..r.len];
            let mut i = 12;
            while q[i] != 0 {
                i += 1 + q[i] as usize;
            }
            let end = i + 5;
            let mut resp = Vec::new();
            resp.extend_from_slice(&q[..2]);
            resp.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
            resp.extend_from_slice(&q[12..end]);
            resp.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 9]);
            // Answer a little later, so that the lookup that sent the
            // query always sees it in flight first (over loopback the
            // answer could otherwise arrive within the same call).
            thread::sleep(Duration::from_millis(50));
            e.sendto(fd, &resp, r.from, MsgFlags::default()).unwrap();
        }
    });
}

#[test]
fn abandoned_nb_lookups_starve_the_other_resolvers() {
    let e = eng();
    e.port()
        .with(|s, _, _| s.dns_set_servers(&[Ipv4Addr::LOCALHOST]))
        .unwrap();
    serve();
    let mut nal = NalStack::new(e);
    // DNS_QUERIES lookups, each called once: the caller gives up (a
    // timeout of its own, another name to try, ...).
    for i in 0..DNS_QUERIES {
        let name = format!("gone{i}.test");
        assert!(matches!(
            nal.get_host_by_name(&name, AddrType::IPv4),
            Err(nb::Error::WouldBlock)
        ));
    }
    // They are all answered.
    thread::sleep(Duration::from_millis(1000));
    // Nothing is in flight now, yet an async lookup cannot start.
    let a = AsyncStack::new(e);
    let r = block_on(embedded_nal_async::Dns::get_host_by_name(
        &a,
        "other.test",
        AddrType::IPv4,
    ));
    assert_eq!(r, Ok(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9))));
}
