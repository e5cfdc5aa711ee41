//! Exhaustion through the socket layer (issue 8): open sockets and
//! connections until a table is full, check the errno the next call gets
//! (`shared/reference/linux-errno.md`; the mapping is in src/errno.rs),
//! then release everything and show that every operation works again and
//! `Stack::occupancy` is back to idle.

mod common;
use common::*;
use wolfip_bsd::{Errno, FD_MAX};
use wolfip_core::config::{TCP_SOCKETS, UDP_SOCKETS};
use wolfip_core::{Duration, Occupancy};

/// Lets `secs` seconds of stack time pass (TIME-WAIT, FIN exchanges and
/// retransmissions run out).
fn let_time_pass(w: &mut World, secs: u64) {
    for _ in 0..secs * 10 {
        w.now += Duration::from_millis(100);
        w.stack.poll(w.now, w.eth, &mut Silent);
    }
}

/// A connected pair exchanges data both ways.
fn pair_works(w: &mut World, port: u16) {
    let (c, a) = w.pair(port);
    assert_eq!(w.s.sendto(&mut w.stack, c, b"ping", None, w.now), Ok(4));
    w.pump();
    let mut buf = [0u8; 8];
    assert_eq!(w.s.recvfrom(&mut w.stack, a, &mut buf).map(|r| r.0), Ok(4));
    assert_eq!(w.s.sendto(&mut w.stack, a, b"pong", None, w.now), Ok(4));
    w.pump();
    assert_eq!(w.s.recvfrom(&mut w.stack, c, &mut buf).map(|r| r.0), Ok(4));
    for fd in [c, a] {
        w.s.close(&mut w.stack, fd, w.now).unwrap();
    }
}

/// Every table idle (ARP entries aside: nothing answers on Ethernet).
fn assert_idle(w: &World, idle: Occupancy) {
    let o = w.stack.occupancy();
    assert_eq!(o, idle, "{o}");
}

/// Descriptors run out before UDP sockets do (`WOLFIP_FD_MAX` <
/// `WOLFIP_UDP_SOCKETS` in this build): socket() gives EMFILE, as Linux
/// does at RLIMIT_NOFILE. Closing them all makes everything usable.
#[test]
fn udp_sockets_until_emfile_then_all_released() {
    const {
        assert!(
            FD_MAX < UDP_SOCKETS,
            "this test expects the descriptor limit first"
        )
    };
    let mut w = World::new();
    w.pump(); // the gratuitous ARP leaves
    let idle = w.stack.occupancy();
    let mut fds = Vec::new();
    let err = loop {
        match w.s.socket(&mut w.stack, AF_INET, DGRAM | NB, 0) {
            Ok(fd) => fds.push(fd),
            Err(e) => break e,
        }
    };
    assert_eq!((err, fds.len()), (Errno::EMFILE, FD_MAX));
    assert_eq!(w.stack.occupancy().udp_sockets, FD_MAX);
    // Each one still works at the limit.
    w.s.bind(&mut w.stack, fds[0], lo(6000)).unwrap();
    assert_eq!(
        w.s.sendto(&mut w.stack, fds[1], b"x", Some(lo(6000)), w.now),
        Ok(1)
    );
    w.pump();
    let mut buf = [0u8; 4];
    assert_eq!(
        w.s.recvfrom(&mut w.stack, fds[0], &mut buf).map(|r| r.0),
        Ok(1)
    );
    for fd in fds {
        w.s.close(&mut w.stack, fd, w.now).unwrap();
    }
    w.pump();
    assert_idle(&w, idle);
    let u = w.udp();
    w.s.bind(&mut w.stack, u, lo(6000)).unwrap();
    pair_works(&mut w, 6001);
}

/// Connections a listener holds in its accept queue take TCP sockets but
/// no descriptor, so connecting over loopback fills the TCP table before
/// the descriptor table: then socket(SOCK_STREAM) gives ENOBUFS (Linux's
/// errno when it cannot allocate a socket) while UDP sockets still open;
/// a handshake that completes with no socket free is dropped and the
/// client waits (Linux drops the ACK the same way). Accepting and closing
/// everything makes every operation work again, and the tables idle.
#[test]
fn tcp_connections_until_enobufs_then_all_released() {
    const { assert!(FD_MAX < TCP_SOCKETS) };
    let mut w = World::new();
    w.pump(); // the gratuitous ARP leaves
    let idle = w.stack.occupancy();
    let l = w.tcp();
    w.s.bind(&mut w.stack, l, lo(7000)).unwrap();
    w.s.listen(&mut w.stack, l, 4096).unwrap();
    let mut clients = Vec::new();
    let err = loop {
        let c = match w.s.socket(&mut w.stack, AF_INET, STREAM | NB, 0) {
            Ok(c) => c,
            Err(e) => break e,
        };
        clients.push(c);
        assert_eq!(
            w.s.connect(&mut w.stack, c, Some(lo(7000)), w.now),
            Err(Errno::EINPROGRESS)
        );
        w.pump();
    };
    assert_eq!(err, Errno::ENOBUFS, "TCP table full, descriptors left");
    let o = w.stack.occupancy();
    assert_eq!(o.tcp_sockets, TCP_SOCKETS, "{o}");
    assert!(1 + clients.len() < FD_MAX, "{o}");
    // Only the TCP table is full: a UDP socket still opens.
    let u = w.udp();
    w.s.close(&mut w.stack, u, w.now).unwrap();

    // Accept what the listener holds until the descriptors run out too:
    // EMFILE, the rest stays queued (Linux).
    let mut accepted = Vec::new();
    let err = loop {
        match w.s.accept(&mut w.stack, l, 0) {
            Ok((a, _)) => accepted.push(a),
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::EMFILE);
    assert_eq!(1 + clients.len() + accepted.len(), FD_MAX);
    assert!(accepted.len() < o.tcp_accept_queue, "{o}");
    assert_eq!(
        w.s.sendto(&mut w.stack, accepted[0], b"hi", None, w.now),
        Ok(2)
    );

    for fd in clients.into_iter().chain(accepted).chain([l]) {
        w.s.close(&mut w.stack, fd, w.now).unwrap();
    }
    let_time_pass(&mut w, 120);
    let o = w.stack.occupancy();
    assert_eq!(
        Occupancy {
            arp_entries: idle.arp_entries,
            arp_incomplete: idle.arp_incomplete,
            ..o
        },
        idle,
        "{o}"
    );
    // Every descriptor is free again: FD_MAX sockets open.
    let fds: Vec<i32> = (0..FD_MAX).map(|_| w.tcp()).collect();
    for fd in fds {
        w.s.close(&mut w.stack, fd, w.now).unwrap();
    }
    pair_works(&mut w, 7001);
}

/// TCP descriptors until EMFILE; accept with the descriptor table full
/// leaves the connection queued (EMFILE, as Linux) and takes it once a
/// descriptor is free.
#[test]
fn accept_with_descriptors_exhausted_is_emfile_then_succeeds() {
    let mut w = World::new();
    w.pump(); // the gratuitous ARP leaves
    let idle = w.stack.occupancy();
    let l = w.tcp();
    w.s.bind(&mut w.stack, l, lo(7100)).unwrap();
    w.s.listen(&mut w.stack, l, 8).unwrap();
    let c = w.tcp();
    let _ = w.s.connect(&mut w.stack, c, Some(lo(7100)), w.now);
    w.pump();
    let mut fill = Vec::new();
    let err = loop {
        match w.s.socket(&mut w.stack, AF_INET, STREAM | NB, 0) {
            Ok(fd) => fill.push(fd),
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::EMFILE);
    assert_eq!(w.s.accept(&mut w.stack, l, 0), Err(Errno::EMFILE));
    assert_eq!(w.stack.occupancy().tcp_accept_queue, 1);
    w.s.close(&mut w.stack, fill.pop().unwrap(), w.now).unwrap();
    let (a, _) = w.s.accept(&mut w.stack, l, 0).expect("queued connection");
    for fd in fill.into_iter().chain([a, c, l]) {
        w.s.close(&mut w.stack, fd, w.now).unwrap();
    }
    let_time_pass(&mut w, 30);
    assert_idle(&w, idle);
    pair_works(&mut w, 7101);
}
