//! The `nb` stack ([`NalStack`]) over the hosted engine's loopback: what
//! embedded-nal clients (minimq, the CoAP server, sntpc) rely on.
//! One process, one engine: each test uses its own ports.

mod util;

use embedded_nal::{TcpClientStack, TcpErrorKind, TcpFullStack, UdpClientStack, UdpFullStack};
use util::{local, nb_until};
use wolfip_bsd::hosted::Hosted;
use wolfip_bsd::Errno;
use wolfip_nal::{Error, NalStack, TcpSocket};

fn stack() -> NalStack<Hosted> {
    NalStack::hosted().expect("hosted stack")
}

fn tcp_kind(e: &Error) -> TcpErrorKind {
    embedded_nal::TcpError::kind(e)
}

fn io_kind(e: &Error) -> embedded_io::ErrorKind {
    embedded_io::Error::kind(e)
}

/// A listener on `port` and a client connected to it by calling
/// `connect` until it returns `Ok`; returns (listener, client, server
/// side) and how many calls the connect took.
fn connected(s: &mut NalStack<Hosted>, port: u16) -> (TcpSocket, TcpSocket, TcpSocket, usize) {
    let mut l = TcpClientStack::socket(s).unwrap();
    TcpFullStack::bind(s, &mut l, port).unwrap();
    s.listen(&mut l).unwrap();
    let mut c = TcpClientStack::socket(s).unwrap();
    let mut calls = 0;
    nb_until("connect", || {
        calls += 1;
        TcpClientStack::connect(s, &mut c, local(port))
    })
    .unwrap();
    let (srv, peer) = nb_until("accept", || s.accept(&mut l)).unwrap();
    assert_eq!(peer.ip(), local(port).ip());
    (l, c, srv, calls)
}

#[test]
fn connect_is_called_until_ok() {
    let mut s = stack();
    let mut l = TcpClientStack::socket(&mut s).unwrap();
    TcpFullStack::bind(&mut s, &mut l, 41001).unwrap();
    s.listen(&mut l).unwrap();
    let mut c = TcpClientStack::socket(&mut s).unwrap();
    // The first call starts the handshake: WouldBlock, never Ok at once.
    assert_eq!(
        TcpClientStack::connect(&mut s, &mut c, local(41001)),
        Err(nb::Error::WouldBlock)
    );
    nb_until("connect", || {
        TcpClientStack::connect(&mut s, &mut c, local(41001))
    })
    .unwrap();
    // Again on the connected socket: still Ok (not EISCONN).
    assert_eq!(
        TcpClientStack::connect(&mut s, &mut c, local(41001)),
        Ok(())
    );
    let (mut srv, _) = nb_until("accept", || s.accept(&mut l)).unwrap();
    // Data both ways.
    assert_eq!(TcpClientStack::send(&mut s, &mut c, b"ping"), Ok(4));
    let mut buf = [0u8; 16];
    let n = nb_until("receive", || {
        TcpClientStack::receive(&mut s, &mut srv, &mut buf)
    })
    .unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(TcpClientStack::send(&mut s, &mut srv, b"pong"), Ok(4));
    let n = nb_until("receive", || {
        TcpClientStack::receive(&mut s, &mut c, &mut buf)
    })
    .unwrap();
    assert_eq!(&buf[..n], b"pong");
    for sock in [c, srv, l] {
        TcpClientStack::close(&mut s, sock).unwrap();
    }
}

#[test]
fn receive_would_block_when_empty() {
    let mut s = stack();
    let (l, mut c, srv, _) = connected(&mut s, 41002);
    let mut buf = [0u8; 8];
    assert_eq!(
        TcpClientStack::receive(&mut s, &mut c, &mut buf),
        Err(nb::Error::WouldBlock)
    );
    // An empty buffer is Ok(0) at once, whatever is queued.
    assert_eq!(TcpClientStack::receive(&mut s, &mut c, &mut []), Ok(0));
    for sock in [c, srv, l] {
        TcpClientStack::close(&mut s, sock).unwrap();
    }
}

#[test]
fn send_takes_part_of_the_buffer_when_full() {
    let mut s = stack();
    let (l, mut c, mut srv, _) = connected(&mut s, 41003);
    // Far more than the send buffer and the peer's window together.
    let big = vec![0x5au8; 4 * 1024 * 1024];
    let first = TcpClientStack::send(&mut s, &mut c, &big).unwrap();
    assert!(first > 0 && first < big.len(), "partial send, got {first}");
    // Fill until nothing fits: WouldBlock, not Ok(0).
    let mut total = first;
    let mut blocked = false;
    for _ in 0..10_000 {
        match TcpClientStack::send(&mut s, &mut c, &big) {
            Ok(n) => {
                assert!(n > 0);
                total += n;
            }
            Err(nb::Error::WouldBlock) => {
                blocked = true;
                break;
            }
            Err(e) => panic!("send: {e:?}"),
        }
    }
    assert!(blocked, "the send buffer never filled");
    // The peer reads everything queued so far; then sending works again.
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < total {
        match TcpClientStack::receive(&mut s, &mut srv, &mut buf) {
            Ok(n) => got += n,
            Err(nb::Error::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(1)),
            Err(e) => panic!("receive: {e:?}"),
        }
    }
    assert_eq!(got, total);
    let n = nb_until("send after drain", || {
        TcpClientStack::send(&mut s, &mut c, &big)
    })
    .unwrap();
    assert!(n > 0);
    for sock in [c, srv, l] {
        TcpClientStack::close(&mut s, sock).unwrap();
    }
}

#[test]
fn peer_fin_is_pipe_closed_not_ok_zero() {
    let mut s = stack();
    let (l, mut c, mut srv, _) = connected(&mut s, 41004);
    TcpClientStack::send(&mut s, &mut srv, b"last words").unwrap();
    TcpClientStack::close(&mut s, srv).unwrap();
    // The data first...
    let mut buf = [0u8; 64];
    let n = nb_until("data", || TcpClientStack::receive(&mut s, &mut c, &mut buf)).unwrap();
    assert_eq!(&buf[..n], b"last words");
    // ...then the end as an error of kind PipeClosed, every time.
    for _ in 0..3 {
        let e = nb_until("fin", || TcpClientStack::receive(&mut s, &mut c, &mut buf)).unwrap_err();
        assert_eq!(tcp_kind(&e), TcpErrorKind::PipeClosed, "{e:?}");
        assert_eq!(e, Error::CLOSED);
    }
    TcpClientStack::close(&mut s, c).unwrap();
    TcpClientStack::close(&mut s, l).unwrap();
}

#[test]
fn peer_reset_is_pipe_closed() {
    let mut s = stack();
    let (l, mut c, srv, _) = connected(&mut s, 41005);
    util::linger_zero(srv.fd());
    TcpClientStack::close(&mut s, srv).unwrap();
    let mut buf = [0u8; 64];
    let e = nb_until("rst", || TcpClientStack::receive(&mut s, &mut c, &mut buf)).unwrap_err();
    assert_eq!(e, Error(Errno::ECONNRESET));
    assert_eq!(tcp_kind(&e), TcpErrorKind::PipeClosed);
    assert_eq!(io_kind(&e), embedded_io::ErrorKind::ConnectionReset);
    // Later calls stay closed: receive and send both PipeClosed.
    let e = nb_until("after rst", || {
        TcpClientStack::receive(&mut s, &mut c, &mut buf)
    })
    .unwrap_err();
    assert_eq!(tcp_kind(&e), TcpErrorKind::PipeClosed, "{e:?}");
    let e = nb_until("send after rst", || {
        TcpClientStack::send(&mut s, &mut c, b"x")
    })
    .unwrap_err();
    assert_eq!(tcp_kind(&e), TcpErrorKind::PipeClosed, "{e:?}");
    TcpClientStack::close(&mut s, c).unwrap();
    TcpClientStack::close(&mut s, l).unwrap();
}

#[test]
fn refused_connect_is_an_error_and_can_be_retried() {
    let mut s = stack();
    let mut c = TcpClientStack::socket(&mut s).unwrap();
    let e = nb_until("refused", || {
        TcpClientStack::connect(&mut s, &mut c, local(41006))
    })
    .unwrap_err();
    assert_eq!(e, Error(Errno::ECONNREFUSED));
    assert_eq!(tcp_kind(&e), TcpErrorKind::Other);
    assert_eq!(io_kind(&e), embedded_io::ErrorKind::ConnectionRefused);
    // The next call is a new attempt (not ECONNABORTED): with a listener
    // there now, it succeeds.
    let mut l = TcpClientStack::socket(&mut s).unwrap();
    TcpFullStack::bind(&mut s, &mut l, 41006).unwrap();
    s.listen(&mut l).unwrap();
    nb_until("retry", || {
        TcpClientStack::connect(&mut s, &mut c, local(41006))
    })
    .unwrap();
    let (srv, _) = nb_until("accept", || s.accept(&mut l)).unwrap();
    for sock in [c, srv, l] {
        TcpClientStack::close(&mut s, sock).unwrap();
    }
}

#[test]
fn ipv6_is_unsupported() {
    let mut s = stack();
    let mut c = TcpClientStack::socket(&mut s).unwrap();
    let v6 = "[::1]:80".parse().unwrap();
    let e = TcpClientStack::connect(&mut s, &mut c, v6).unwrap_err();
    let nb::Error::Other(e) = e else {
        panic!("WouldBlock")
    };
    assert_eq!(io_kind(&e), embedded_io::ErrorKind::Unsupported);
    TcpClientStack::close(&mut s, c).unwrap();
}

#[test]
fn udp_bind_send_to_receive() {
    let mut s = stack();
    let mut a = UdpClientStack::socket(&mut s).unwrap();
    UdpFullStack::bind(&mut s, &mut a, 41010).unwrap();
    let mut b = UdpClientStack::socket(&mut s).unwrap();
    UdpFullStack::bind(&mut s, &mut b, 41011).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        UdpClientStack::receive(&mut s, &mut a, &mut buf),
        Err(nb::Error::WouldBlock)
    );
    s.send_to(&mut b, local(41010), b"hello a").unwrap();
    let (n, from) = nb_until("datagram", || {
        UdpClientStack::receive(&mut s, &mut a, &mut buf)
    })
    .unwrap();
    assert_eq!(&buf[..n], b"hello a");
    assert_eq!(from, local(41011));
    // A reply with send_to, then `send` goes to the last send_to
    // destination (embedded-nal's contract for unconnected sockets).
    s.send_to(&mut a, from, b"one").unwrap();
    UdpClientStack::send(&mut s, &mut a, b"two").unwrap();
    for want in [&b"one"[..], b"two"] {
        let (n, from) = nb_until("reply", || {
            UdpClientStack::receive(&mut s, &mut b, &mut buf)
        })
        .unwrap();
        assert_eq!(&buf[..n], want);
        assert_eq!(from, local(41010));
    }
    // A connected socket.
    let mut c = UdpClientStack::socket(&mut s).unwrap();
    UdpClientStack::connect(&mut s, &mut c, local(41010)).unwrap();
    UdpClientStack::send(&mut s, &mut c, b"connected").unwrap();
    let (n, _) = nb_until("connected", || {
        UdpClientStack::receive(&mut s, &mut a, &mut buf)
    })
    .unwrap();
    assert_eq!(&buf[..n], b"connected");
    // A datagram longer than the buffer is cut to it.
    s.send_to(&mut b, local(41010), &[7u8; 100]).unwrap();
    let mut small = [0u8; 10];
    let (n, _) = nb_until("cut", || {
        UdpClientStack::receive(&mut s, &mut a, &mut small)
    })
    .unwrap();
    assert_eq!(n, 10);
    for sock in [a, b, c] {
        UdpClientStack::close(&mut s, sock).unwrap();
    }
}

#[test]
fn udp_bind_in_use_is_addr_in_use() {
    let mut s = stack();
    let mut a = UdpClientStack::socket(&mut s).unwrap();
    UdpFullStack::bind(&mut s, &mut a, 41012).unwrap();
    let mut b = UdpClientStack::socket(&mut s).unwrap();
    let e = UdpFullStack::bind(&mut s, &mut b, 41012).unwrap_err();
    assert_eq!(io_kind(&e), embedded_io::ErrorKind::AddrInUse);
    UdpClientStack::close(&mut s, a).unwrap();
    UdpClientStack::close(&mut s, b).unwrap();
}

#[test]
fn copies_share_one_stack() {
    let s = stack();
    let mut t = s;
    assert!(std::ptr::eq(s.engine(), t.engine()));
    let sock = TcpClientStack::socket(&mut t).unwrap();
    let fd = sock.fd();
    assert!(fd >= wolfip_bsd::FD_BASE);
    TcpClientStack::close(&mut t, sock).unwrap();
}
