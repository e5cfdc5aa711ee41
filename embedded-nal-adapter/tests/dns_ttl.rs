//! Regression (found in review): a cached answer whose TTL ran out is returned by the adapter's
//! lookups when the stack was idle (the core judges expiry by the time the
//! stack last ran, and the adapter calls dns_query before running it).

mod util;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use embedded_nal::AddrType;
use util::{block_on, eng};
use wolfip_bsd::engine::{MsgFlags, Port};
use wolfip_nal::AsyncStack;

/// Answers every A query with 192.0.2.N (N = 1, 2, ... per query), TTL 1 s.
fn serve() -> Arc<AtomicUsize> {
    let e = eng();
    let fd = e.socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    e.bind(fd, util::local4(53)).unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
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
            let k = c.fetch_add(1, Ordering::SeqCst) as u8 + 1;
            let mut resp = Vec::new();
            resp.extend_from_slice(&q[..2]);
            resp.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
            resp.extend_from_slice(&q[12..end]);
            resp.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 192, 0, 2, k]);
            e.sendto(fd, &resp, r.from, MsgFlags::default()).unwrap();
        }
    });
    n
}

#[test]
fn expired_cache_entry_is_not_returned_after_idle() {
    let e = eng();
    e.port()
        .with(|s, _, _| s.dns_set_servers(&[Ipv4Addr::LOCALHOST]))
        .unwrap();
    let queries = serve();
    let a = AsyncStack::new(e);
    let first = block_on(embedded_nal_async::Dns::get_host_by_name(
        &a,
        "svc.test",
        AddrType::IPv4,
    ))
    .unwrap();
    assert_eq!(first, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    // The answer's TTL is 1 s; the stack is idle meanwhile.
    thread::sleep(Duration::from_millis(3000));
    let second = block_on(embedded_nal_async::Dns::get_host_by_name(
        &a,
        "svc.test",
        AddrType::IPv4,
    ))
    .unwrap();
    eprintln!("queries sent: {}", queries.load(Ordering::SeqCst));
    assert_eq!(
        second,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        "an answer whose 1 s TTL ran out 2 s ago came from the cache"
    );
}
