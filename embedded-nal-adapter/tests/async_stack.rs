//! The embedded-nal-async stack ([`AsyncStack`]) over the hosted engine's
//! loopback, run by the tiny `block_on` of `util` (a thread-parker waker).
//! Peers are plain engine sockets on threads of their own.

mod util;

use std::thread;
use std::time::Duration;

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use embedded_io::{ReadReady, WriteReady};
use embedded_io_async::{Read, Write};
use embedded_nal_async::{ConnectedUdp as _, TcpConnect, UdpStack, UnconnectedUdp as _};
use util::{block_on, eng, local, local4, pattern, Fnv};
use wolfip_bsd::engine::MsgFlags;
use wolfip_bsd::hosted::Hosted;
use wolfip_bsd::Errno;
use wolfip_nal::{AsyncStack, Error};

fn stack() -> AsyncStack<Hosted> {
    AsyncStack::hosted().unwrap()
}

/// A blocking listener on `port`; its first connection goes to `serve` on
/// a thread of its own.
fn server<T: Send + 'static>(
    port: u16,
    serve: impl FnOnce(i32) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let e = eng();
    let l = e.socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    e.bind(l, local4(port)).unwrap();
    e.listen(l, 4).unwrap();
    thread::spawn(move || {
        let (fd, _) = e.accept(l, 0).unwrap();
        e.close(l).unwrap();
        let r = serve(fd);
        e.close(fd).unwrap();
        r
    })
}

fn recv(fd: i32, buf: &mut [u8]) -> usize {
    eng().recvfrom(fd, buf, MsgFlags::default()).unwrap().len
}

fn send_all(fd: i32, data: &[u8]) {
    assert_eq!(
        eng().sendto(fd, data, None, MsgFlags::default()).unwrap(),
        data.len()
    );
}

#[test]
fn tcp_connect_write_read() {
    // An echo server.
    let srv = server(43001, |fd| {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        loop {
            let n = recv(fd, &mut buf);
            if n == 0 {
                return total;
            }
            total += n;
            send_all(fd, &buf[..n]);
        }
    });
    let a = stack();
    let data = pattern(3, 200_000);
    let mut want = Fnv::new();
    want.update(&data);
    let got = block_on(async {
        let mut c = TcpConnect::connect(&a, local(43001)).await.unwrap();
        assert!(c.write_ready().unwrap());
        c.write_all(b"hello").await.unwrap();
        c.flush().await.unwrap();
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
        // Larger than the buffers: writes and reads interleave.
        let mut h = Fnv::new();
        let (mut sent, mut recvd) = (0, 0);
        let mut rbuf = vec![0u8; 8192];
        while recvd < data.len() {
            if sent < data.len() && c.write_ready().unwrap() {
                sent += c.write(&data[sent..]).await.unwrap();
            }
            if c.read_ready().unwrap() || sent == data.len() {
                let n = c.read(&mut rbuf).await.unwrap();
                assert!(n > 0);
                h.update(&rbuf[..n]);
                recvd += n;
            }
        }
        h.0
    });
    assert_eq!(got, want.0);
    // The connection was dropped at the end of the block: the peer saw EOF.
    assert_eq!(srv.join().unwrap(), 5 + data.len());
}

#[test]
fn dropped_connection_is_eof_for_the_peer() {
    let srv = server(43002, |fd| {
        let mut buf = [0u8; 64];
        let n = recv(fd, &mut buf);
        let first = buf[..n].to_vec();
        (first, recv(fd, &mut buf))
    });
    let a = stack();
    block_on(async {
        let mut c = TcpConnect::connect(&a, local(43002)).await.unwrap();
        c.write_all(b"bye").await.unwrap();
        c.flush().await.unwrap();
        drop(c);
    });
    let (first, end) = srv.join().unwrap();
    assert_eq!(first, b"bye");
    assert_eq!(end, 0, "the peer reads the end of the stream");
}

#[test]
fn peer_close_is_ok_zero_and_reset_an_error() {
    let srv = server(43003, |fd| send_all(fd, b"x"));
    let a = stack();
    block_on(async {
        let mut c = TcpConnect::connect(&a, local(43003)).await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(c.read(&mut buf).await.unwrap(), 1);
        assert_eq!(c.read(&mut buf).await.unwrap(), 0);
    });
    srv.join().unwrap();
    // The reset comes after the client's first byte (before it, it could
    // beat the end of the client's connect, which then reports it).
    let srv = server(43004, |fd| {
        let mut b = [0u8; 1];
        assert_eq!(recv(fd, &mut b), 1);
        util::linger_zero(fd);
    });
    block_on(async {
        let mut c = TcpConnect::connect(&a, local(43004)).await.unwrap();
        c.write_all(b"!").await.unwrap();
        let mut buf = [0u8; 8];
        let e = c.read(&mut buf).await.unwrap_err();
        assert_eq!(
            embedded_io::Error::kind(&e),
            embedded_io::ErrorKind::ConnectionReset
        );
    });
    srv.join().unwrap();
}

#[test]
fn refused_connect() {
    let a = stack();
    let e = block_on(TcpConnect::connect(&a, local(43005))).unwrap_err();
    assert_eq!(e, Error(Errno::ECONNREFUSED));
    assert_eq!(
        embedded_io::Error::kind(&e),
        embedded_io::ErrorKind::ConnectionRefused
    );
}

#[test]
fn udp_connect_bind_single_bind_multiple() {
    let a = stack();
    block_on(async {
        let mut multi = a.bind_multiple(local(43010)).await.unwrap();
        let (single_addr, mut single) = a.bind_single(local(43011)).await.unwrap();
        assert_eq!(single_addr, local(43011));
        let (conn_addr, mut conn) = UdpStack::connect(&a, local(43010)).await.unwrap();
        let SocketAddr::V4(ca) = conn_addr else {
            panic!()
        };
        assert_eq!(*ca.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(ca.port(), 0);

        // connected -> multiply bound
        conn.send(b"from conn").await.unwrap();
        let mut buf = [0u8; 64];
        let (n, to, from) = multi.receive_into(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"from conn");
        assert_eq!(to, local(43010));
        assert_eq!(from, conn_addr);
        // multiply bound -> connected (a reply from where it came)
        multi.send(to, from, b"reply").await.unwrap();
        let n = conn.receive_into(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"reply");
        // single -> multi, with an unspecified local address
        let any = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        single.send(any, local(43010), b"single").await.unwrap();
        let (n, _, from) = multi.receive_into(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"single");
        assert_eq!(from, local(43011));
        // A local address that does not match the socket: EINVAL.
        let e = single.send(local(9), local(43010), b"x").await.unwrap_err();
        assert_eq!(e, Error(Errno::EINVAL));
        // A datagram longer than the buffer: the full length is reported.
        conn.send(&[1u8; 100]).await.unwrap();
        let mut small = [0u8; 10];
        let (n, _, _) = multi.receive_into(&mut small).await.unwrap();
        assert_eq!(n, 100);
        // A pending receive is woken by a datagram sent from another thread.
        let t = thread::spawn(|| {
            thread::sleep(Duration::from_millis(50));
            let e = eng();
            let fd = e.socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
            e.sendto(fd, b"later", Some(local4(43011)), MsgFlags::default())
                .unwrap();
            e.close(fd).unwrap();
        });
        let (n, to, _) = single.receive_into(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"later");
        assert_eq!(to, local(43011));
        t.join().unwrap();
    });
}

#[test]
fn udp_bind_in_use() {
    let a = stack();
    block_on(async {
        let _one = a.bind_multiple(local(43020)).await.unwrap();
        let e = a.bind_multiple(local(43020)).await.unwrap_err();
        assert_eq!(e, Error(Errno::EADDRINUSE));
        assert_eq!(
            embedded_io::Error::kind(&e),
            embedded_io::ErrorKind::AddrInUse
        );
    });
}

#[test]
fn dns_literal() {
    let a = stack();
    let r = block_on(embedded_nal_async::Dns::get_host_by_name(
        &a,
        "127.0.0.1",
        embedded_nal::AddrType::Either,
    ));
    assert_eq!(r, Ok(core::net::IpAddr::V4(Ipv4Addr::LOCALHOST)));
}
