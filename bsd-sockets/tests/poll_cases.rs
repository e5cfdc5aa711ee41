//! poll() readiness as Linux reports it (`shared/reference/linux-errno.md`,
//! "poll / select"), checked in-process.

mod common;
use common::*;
use wolfip_bsd::poll::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDHUP};
use wolfip_core::{Ipv4Addr, SocketAddrV4};

/// A fresh unconnected TCP socket: OUT+HUP; a fresh UDP socket: OUT; a
/// closed descriptor: NVAL.
#[test]
fn fresh_sockets_and_closed_fd() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(w.s.revents(&mut w.stack, t), POLLOUT | POLLHUP);
    let u = w.udp();
    assert_eq!(w.s.revents(&mut w.stack, u), POLLOUT);
    w.s.close(&mut w.stack, u, w.now).unwrap();
    assert_eq!(w.s.revents(&mut w.stack, u), POLLNVAL);
}

/// A listener: nothing while idle, IN with a pending connection.
#[test]
fn listener() {
    let mut w = World::new();
    let l = w.tcp();
    w.s.bind(&mut w.stack, l, lo(8000)).unwrap();
    w.s.listen(&mut w.stack, l, 4).unwrap();
    assert_eq!(w.s.revents(&mut w.stack, l), 0);
    let c = w.tcp();
    let _ = w.s.connect(&mut w.stack, c, Some(lo(8000)), w.now);
    w.pump();
    assert_eq!(w.s.revents(&mut w.stack, l), POLLIN);
}

/// SYN_SENT with no answer: no events. A refused non-blocking connect:
/// IN+OUT+ERR+HUP+RDHUP (Linux's tcp_done shuts both directions; asked for
/// POLLOUT alone, the reference's OUT+ERR+HUP).
#[test]
fn connecting_and_refused() {
    let mut w = World::new();
    let c = w.tcp();
    let silent = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 80);
    let _ = w.s.connect(&mut w.stack, c, Some(silent), w.now);
    w.pump();
    assert_eq!(w.s.revents(&mut w.stack, c), 0);
    let r = w.tcp();
    let _ = w.s.connect(&mut w.stack, r, Some(lo(9)), w.now);
    w.pump();
    assert_eq!(
        w.s.revents(&mut w.stack, r),
        POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP
    );
}

/// Established: OUT; with data: IN+OUT.
#[test]
fn established() {
    let mut w = World::new();
    let (c, a) = w.pair(8001);
    assert_eq!(w.s.revents(&mut w.stack, c), POLLOUT);
    w.s.sendto(&mut w.stack, a, b"ping", None, w.now).unwrap();
    w.pump();
    assert_eq!(w.s.revents(&mut w.stack, c), POLLIN | POLLOUT);
}

/// Peer FIN: IN+OUT+RDHUP, no HUP; both FINs: IN+OUT+HUP+RDHUP.
#[test]
fn half_and_full_close() {
    let mut w = World::new();
    let (c, a) = w.pair(8002);
    w.s.shutdown(&mut w.stack, a, libc::SHUT_WR, w.now).unwrap();
    w.pump();
    assert_eq!(w.s.revents(&mut w.stack, c), POLLIN | POLLOUT | POLLRDHUP);
    w.s.shutdown(&mut w.stack, c, libc::SHUT_WR, w.now).unwrap();
    w.pump();
    assert_eq!(
        w.s.revents(&mut w.stack, c),
        POLLIN | POLLOUT | POLLHUP | POLLRDHUP
    );
}

/// Peer RST while established: IN+OUT+ERR+HUP+RDHUP.
#[test]
fn peer_reset() {
    let mut w = World::new();
    let (c, a) = w.pair(8003);
    w.s.sendto(&mut w.stack, c, b"unread", None, w.now).unwrap();
    w.pump();
    w.s.close(&mut w.stack, a, w.now).unwrap();
    w.pump();
    assert_eq!(
        w.s.revents(&mut w.stack, c),
        POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP
    );
}

/// Connected UDP after an ICMP port unreachable: ERR (and OUT).
#[test]
fn udp_error() {
    let mut w = World::new();
    let u = w.udp();
    w.s.connect(&mut w.stack, u, Some(lo(9)), w.now).unwrap();
    w.s.sendto(&mut w.stack, u, b"anyone?", None, w.now)
        .unwrap();
    w.pump();
    assert_eq!(w.s.revents(&mut w.stack, u), POLLOUT | POLLERR);
}
