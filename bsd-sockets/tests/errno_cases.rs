//! Linux's errno behaviour, case by case (`shared/reference/linux-errno.md`),
//! checked in-process over the loopback interface (and an Ethernet
//! interface whose far side answers nothing, for SYN_SENT).

mod common;
use common::*;
use wolfip_bsd::{Errno, FD_BASE, FD_MAX};
use wolfip_core::{Ipv4Addr, SocketAddrV4};

/// socket(): unknown domain EAFNOSUPPORT; unknown type EINVAL; STREAM with
/// IPPROTO_UDP and DGRAM with IPPROTO_TCP EPROTONOSUPPORT.
#[test]
fn socket_arguments() {
    let mut w = World::new();
    let st = &mut w.stack;
    assert_eq!(
        w.s.socket(st, libc::AF_INET6, STREAM, 0),
        Err(Errno::EAFNOSUPPORT)
    );
    assert_eq!(
        w.s.socket(st, AF_INET, libc::SOCK_RAW, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(w.s.socket(st, AF_INET, 77, 0), Err(Errno::EINVAL));
    assert_eq!(
        w.s.socket(st, AF_INET, STREAM, libc::IPPROTO_UDP),
        Err(Errno::EPROTONOSUPPORT)
    );
    assert_eq!(
        w.s.socket(st, AF_INET, DGRAM, libc::IPPROTO_TCP),
        Err(Errno::EPROTONOSUPPORT)
    );
    assert!(w.s.socket(st, AF_INET, STREAM, libc::IPPROTO_TCP).unwrap() >= FD_BASE);
}

/// SOCK_NONBLOCK and SOCK_CLOEXEC are accepted; F_GETFL shows O_RDWR and
/// O_NONBLOCK; F_SETFL changes it.
#[test]
fn type_flags_and_fcntl() {
    let mut w = World::new();
    let fd =
        w.s.socket(&mut w.stack, AF_INET, STREAM | NB | libc::SOCK_CLOEXEC, 0)
            .unwrap();
    assert_eq!(w.s.get_flags(fd), Ok(libc::O_RDWR | libc::O_NONBLOCK));
    w.s.set_flags(fd, libc::O_RDWR).unwrap();
    assert_eq!(w.s.get_flags(fd), Ok(libc::O_RDWR));
}

/// Any call on a closed or negative descriptor: EBADF.
#[test]
fn closed_descriptor_is_ebadf() {
    let mut w = World::new();
    let fd = w.tcp();
    w.s.close(&mut w.stack, fd, w.now).unwrap();
    for bad in [fd, -1, FD_BASE + FD_MAX as i32, 0] {
        let st = &mut w.stack;
        assert_eq!(w.s.bind(st, bad, lo(1)), Err(Errno::EBADF));
        assert_eq!(w.s.listen(st, bad, 1), Err(Errno::EBADF));
        assert_eq!(w.s.accept(st, bad, 0), Err(Errno::EBADF));
        assert_eq!(w.s.connect(st, bad, Some(lo(1)), w.now), Err(Errno::EBADF));
        assert_eq!(w.s.sendto(st, bad, b"x", None, w.now), Err(Errno::EBADF));
        assert_eq!(w.s.recvfrom(st, bad, &mut [0; 4]), Err(Errno::EBADF));
        assert_eq!(
            w.s.shutdown(st, bad, libc::SHUT_WR, w.now),
            Err(Errno::EBADF)
        );
        assert_eq!(w.s.getsockname(st, bad), Err(Errno::EBADF));
        assert_eq!(w.s.get_flags(bad), Err(Errno::EBADF));
        assert_eq!(w.s.close(st, bad, w.now), Err(Errno::EBADF));
    }
}

/// Descriptor table full: EMFILE; a slot freed is reused (lowest first).
#[test]
fn table_full_is_emfile() {
    let mut w = World::new();
    let fds: Vec<i32> = (0..FD_MAX).map(|_| w.tcp()).collect();
    assert_eq!(
        w.s.socket(&mut w.stack, AF_INET, STREAM, 0),
        Err(Errno::EMFILE)
    );
    w.s.close(&mut w.stack, fds[3], w.now).unwrap();
    assert_eq!(w.tcp(), fds[3]);
}

/// bind twice: EINVAL; UDP port already bound: EADDRINUSE; an address not
/// on any interface: EADDRNOTAVAIL.
#[test]
fn bind_errors() {
    let mut w = World::new();
    let a = w.udp();
    w.s.bind(&mut w.stack, a, lo(5000)).unwrap();
    assert_eq!(w.s.bind(&mut w.stack, a, lo(5001)), Err(Errno::EINVAL));
    let b = w.udp();
    assert_eq!(w.s.bind(&mut w.stack, b, lo(5000)), Err(Errno::EADDRINUSE));
    let c = w.tcp();
    let foreign = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 1), 80);
    assert_eq!(
        w.s.bind(&mut w.stack, c, foreign),
        Err(Errno::EADDRNOTAVAIL)
    );
}

/// listen on UDP: EOPNOTSUPP; on an unbound TCP socket: 0 with an
/// ephemeral port; again: 0. accept on a non-listener: EINVAL; on UDP:
/// EOPNOTSUPP; non-blocking with an empty queue: EAGAIN.
#[test]
fn listen_and_accept_errors() {
    let mut w = World::new();
    let u = w.udp();
    assert_eq!(w.s.listen(&mut w.stack, u, 1), Err(Errno::EOPNOTSUPP));
    assert_eq!(w.s.accept(&mut w.stack, u, 0), Err(Errno::EOPNOTSUPP));
    let t = w.tcp();
    assert_eq!(w.s.accept(&mut w.stack, t, 0), Err(Errno::EINVAL));
    w.s.listen(&mut w.stack, t, 4).unwrap();
    assert!(w.s.getsockname(&mut w.stack, t).unwrap().port() >= 49152);
    w.s.listen(&mut w.stack, t, 8).unwrap();
    assert_eq!(w.s.accept(&mut w.stack, t, 0), Err(Errno::EAGAIN));
}

/// accept after shutdown(SHUT_RD) of the listener: EINVAL.
#[test]
fn accept_after_listener_shut_rd() {
    let mut w = World::new();
    let t = w.tcp();
    w.s.listen(&mut w.stack, t, 4).unwrap();
    w.s.shutdown(&mut w.stack, t, libc::SHUT_RD, w.now).unwrap();
    assert_eq!(w.s.accept(&mut w.stack, t, 0), Err(Errno::EINVAL));
}

/// Non-blocking connect to a closed port: EINPROGRESS; then the refusal
/// once (ECONNREFUSED), then ECONNABORTED, then a new attempt.
#[test]
fn connect_refused_sequence() {
    let mut w = World::new();
    let c = w.tcp();
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(9)), w.now),
        Err(Errno::EINPROGRESS)
    );
    w.pump();
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(9)), w.now),
        Err(Errno::ECONNREFUSED)
    );
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(9)), w.now),
        Err(Errno::ECONNABORTED)
    );
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(9)), w.now),
        Err(Errno::EINPROGRESS)
    );
}

/// SO_ERROR reports ECONNREFUSED once, then 0; the next connect is
/// ECONNABORTED.
#[test]
fn so_error_after_refusal() {
    let mut w = World::new();
    let c = w.tcp();
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(9)), w.now),
        Err(Errno::EINPROGRESS)
    );
    w.pump();
    assert_eq!(
        w.s.take_error(&mut w.stack, c),
        Ok(Some(Errno::ECONNREFUSED))
    );
    assert_eq!(w.s.take_error(&mut w.stack, c), Ok(None));
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(9)), w.now),
        Err(Errno::ECONNABORTED)
    );
}

/// Non-blocking success: the next connect is 0, after that EISCONN;
/// connect on a listener: EISCONN.
#[test]
fn connect_success_then_eisconn() {
    let mut w = World::new();
    let (c, _a) = w.pair(7000);
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(lo(7000)), w.now),
        Err(Errno::EISCONN)
    );
    let l = w.tcp();
    w.s.listen(&mut w.stack, l, 1).unwrap();
    assert_eq!(
        w.s.connect(&mut w.stack, l, Some(lo(7000)), w.now),
        Err(Errno::EISCONN)
    );
    assert_eq!(w.s.getpeername(&mut w.stack, c), Ok(lo(7000)));
}

/// No answer yet (SYN_SENT): connect again EALREADY; send and recv EAGAIN;
/// getpeername ENOTCONN.
#[test]
fn syn_sent_state() {
    let mut w = World::new();
    let c = w.tcp();
    let silent = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 80);
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(silent), w.now),
        Err(Errno::EINPROGRESS)
    );
    w.pump();
    assert_eq!(
        w.s.connect(&mut w.stack, c, Some(silent), w.now),
        Err(Errno::EALREADY)
    );
    assert_eq!(
        w.s.sendto(&mut w.stack, c, b"x", None, w.now),
        Err(Errno::EAGAIN)
    );
    assert_eq!(
        w.s.recvfrom(&mut w.stack, c, &mut [0; 4]),
        Err(Errno::EAGAIN)
    );
    assert_eq!(w.s.getpeername(&mut w.stack, c), Err(Errno::ENOTCONN));
}

/// No route: TCP connect, UDP connect and UDP sendto are ENETUNREACH.
#[test]
fn no_route_is_enetunreach() {
    let mut w = World::new();
    let far = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 1), 80);
    let t = w.tcp();
    assert_eq!(
        w.s.connect(&mut w.stack, t, Some(far), w.now),
        Err(Errno::ENETUNREACH)
    );
    let u = w.udp();
    assert_eq!(
        w.s.connect(&mut w.stack, u, Some(far), w.now),
        Err(Errno::ENETUNREACH)
    );
    assert_eq!(
        w.s.sendto(&mut w.stack, u, b"x", Some(far), w.now),
        Err(Errno::ENETUNREACH)
    );
}

/// recv on a never-connected or listening TCP socket: ENOTCONN; send:
/// EPIPE (Linux, where POSIX says ENOTCONN).
#[test]
fn unconnected_tcp_send_recv() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(
        w.s.recvfrom(&mut w.stack, t, &mut [0; 4]),
        Err(Errno::ENOTCONN)
    );
    assert_eq!(
        w.s.sendto(&mut w.stack, t, b"x", None, w.now),
        Err(Errno::EPIPE)
    );
    w.s.listen(&mut w.stack, t, 1).unwrap();
    assert_eq!(
        w.s.recvfrom(&mut w.stack, t, &mut [0; 4]),
        Err(Errno::ENOTCONN)
    );
    assert_eq!(
        w.s.sendto(&mut w.stack, t, b"x", None, w.now),
        Err(Errno::EPIPE)
    );
}

/// Nothing to read, non-blocking: EAGAIN, even with a zero-length buffer.
#[test]
fn nothing_to_read_is_eagain() {
    let mut w = World::new();
    let (c, _a) = w.pair(7001);
    assert_eq!(
        w.s.recvfrom(&mut w.stack, c, &mut [0; 4]),
        Err(Errno::EAGAIN)
    );
    assert_eq!(w.s.recvfrom(&mut w.stack, c, &mut []), Err(Errno::EAGAIN));
}

/// Data flows; the peer's FIN makes recv return 0, repeatedly.
#[test]
fn data_then_peer_fin() {
    let mut w = World::new();
    let (c, a) = w.pair(7002);
    assert_eq!(w.s.sendto(&mut w.stack, c, b"hello", None, w.now), Ok(5));
    w.s.shutdown(&mut w.stack, c, libc::SHUT_WR, w.now).unwrap();
    w.pump();
    let mut buf = [0u8; 16];
    assert_eq!(w.s.recvfrom(&mut w.stack, a, &mut buf), Ok((5, None)));
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(w.s.recvfrom(&mut w.stack, a, &mut buf), Ok((0, None)));
    assert_eq!(w.s.recvfrom(&mut w.stack, a, &mut buf), Ok((0, None)));
}

/// After our own shutdown(SHUT_WR), send is EPIPE; SHUT_WR twice is 0;
/// shutdown(SHUT_RD) then recv is 0.
#[test]
fn own_shutdown() {
    let mut w = World::new();
    let (c, _a) = w.pair(7003);
    w.s.shutdown(&mut w.stack, c, libc::SHUT_WR, w.now).unwrap();
    assert_eq!(w.s.shutdown(&mut w.stack, c, libc::SHUT_WR, w.now), Ok(()));
    assert_eq!(
        w.s.sendto(&mut w.stack, c, b"x", None, w.now),
        Err(Errno::EPIPE)
    );
    w.s.shutdown(&mut w.stack, c, libc::SHUT_RD, w.now).unwrap();
    assert_eq!(w.s.recvfrom(&mut w.stack, c, &mut [0; 4]), Ok((0, None)));
}

/// The peer closes with unread data in its buffer: it resets. The error is
/// reported once, by whichever call comes first (here recv: ECONNRESET),
/// then recv gives 0 and send EPIPE, as on Linux.
#[test]
fn peer_reset() {
    let mut w = World::new();
    let (c, a) = w.pair(7004);
    w.s.sendto(&mut w.stack, c, b"unread", None, w.now).unwrap();
    w.pump();
    w.s.close(&mut w.stack, a, w.now).unwrap();
    w.pump();
    assert_eq!(
        w.s.recvfrom(&mut w.stack, c, &mut [0; 4]),
        Err(Errno::ECONNRESET)
    );
    assert_eq!(w.s.recvfrom(&mut w.stack, c, &mut [0; 4]), Ok((0, None)));
    assert_eq!(
        w.s.sendto(&mut w.stack, c, b"x", None, w.now),
        Err(Errno::EPIPE)
    );
}

/// shutdown: on an unconnected TCP socket ENOTCONN; a bad `how` EINVAL; on
/// an unconnected UDP socket ENOTCONN, on a connected one 0.
#[test]
fn shutdown_errors() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(
        w.s.shutdown(&mut w.stack, t, libc::SHUT_WR, w.now),
        Err(Errno::ENOTCONN)
    );
    assert_eq!(w.s.shutdown(&mut w.stack, t, 7, w.now), Err(Errno::EINVAL));
    let u = w.udp();
    assert_eq!(
        w.s.shutdown(&mut w.stack, u, libc::SHUT_RDWR, w.now),
        Err(Errno::ENOTCONN)
    );
    w.s.connect(&mut w.stack, u, Some(lo(9)), w.now).unwrap();
    assert_eq!(
        w.s.shutdown(&mut w.stack, u, libc::SHUT_RDWR, w.now),
        Ok(())
    );
}

/// UDP: send on an unconnected socket without an address EDESTADDRREQ; a
/// datagram above 65507 bytes EMSGSIZE; connect(AF_UNSPEC) dissolves the
/// association (getpeername ENOTCONN).
#[test]
fn udp_send_errors() {
    let mut w = World::new();
    let u = w.udp();
    assert_eq!(
        w.s.sendto(&mut w.stack, u, b"x", None, w.now),
        Err(Errno::EDESTADDRREQ)
    );
    let big = vec![0u8; 65508];
    assert_eq!(
        w.s.sendto(&mut w.stack, u, &big, Some(lo(9)), w.now),
        Err(Errno::EMSGSIZE)
    );
    w.s.connect(&mut w.stack, u, Some(lo(9)), w.now).unwrap();
    assert_eq!(w.s.getpeername(&mut w.stack, u), Ok(lo(9)));
    w.s.connect(&mut w.stack, u, None, w.now).unwrap();
    assert_eq!(w.s.getpeername(&mut w.stack, u), Err(Errno::ENOTCONN));
}

/// Connected UDP, ICMP port unreachable comes back: the next recv is
/// ECONNREFUSED once, then EAGAIN.
#[test]
fn udp_connected_port_unreachable() {
    let mut w = World::new();
    let u = w.udp();
    w.s.connect(&mut w.stack, u, Some(lo(9)), w.now).unwrap();
    w.s.sendto(&mut w.stack, u, b"anyone?", None, w.now)
        .unwrap();
    w.pump();
    assert_eq!(
        w.s.recvfrom(&mut w.stack, u, &mut [0; 16]),
        Err(Errno::ECONNREFUSED)
    );
    assert_eq!(
        w.s.recvfrom(&mut w.stack, u, &mut [0; 16]),
        Err(Errno::EAGAIN)
    );
}

/// getsockname on an unbound socket: 0.0.0.0:0; getpeername unconnected
/// and listening: ENOTCONN.
#[test]
fn names() {
    let mut w = World::new();
    let t = w.tcp();
    assert_eq!(
        w.s.getsockname(&mut w.stack, t),
        Ok(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    );
    assert_eq!(w.s.getpeername(&mut w.stack, t), Err(Errno::ENOTCONN));
    w.s.listen(&mut w.stack, t, 1).unwrap();
    assert_eq!(w.s.getpeername(&mut w.stack, t), Err(Errno::ENOTCONN));
}
