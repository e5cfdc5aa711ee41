//! The blocking embedded-io stream ([`TcpStream`]) over the hosted
//! engine's loopback.

mod util;

use std::thread;
use std::time::Duration;

use embedded_io::{ErrorKind, Read, ReadReady, Write, WriteReady};
use embedded_nal::{TcpClientStack, TcpFullStack};
use util::{local, nb_until, pattern, Fnv};
use wolfip_bsd::hosted::Hosted;
use wolfip_bsd::Errno;
use wolfip_nal::{Error, NalStack, TcpStream};

const MB: usize = 1024 * 1024;

fn stack() -> NalStack<Hosted> {
    NalStack::hosted().unwrap()
}

fn kind(e: &Error) -> ErrorKind {
    embedded_io::Error::kind(e)
}

/// A listener on `port` whose first connection is handed to `serve` as a
/// stream, on its own thread.
fn server<T: Send + 'static>(
    port: u16,
    serve: impl FnOnce(TcpStream<Hosted>) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let mut s = stack();
    let mut l = TcpClientStack::socket(&mut s).unwrap();
    TcpFullStack::bind(&mut s, &mut l, port).unwrap();
    s.listen(&mut l).unwrap();
    thread::spawn(move || {
        let (sock, _) = nb_until("accept", || s.accept(&mut l)).unwrap();
        TcpClientStack::close(&mut s, l).unwrap();
        serve(TcpStream::from_socket(s, sock))
    })
}

/// Reads until `n` bytes or the end; their hash and count.
fn read_hash(st: &mut TcpStream<Hosted>, n: usize) -> (u64, usize) {
    let mut h = Fnv::new();
    let mut got = 0;
    let mut buf = vec![0u8; 7000];
    while got < n {
        let want = buf.len().min(n - got);
        let k = st.read(&mut buf[..want]).unwrap();
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        got += k;
    }
    (h.0, got)
}

#[test]
fn one_megabyte_each_way() {
    let up = pattern(1, MB);
    let down = pattern(2, MB);
    let mut hu = Fnv::new();
    hu.update(&up);
    let mut hd = Fnv::new();
    hd.update(&down);
    let down2 = down.clone();
    let srv = server(42001, move |mut st| {
        let got = read_hash(&mut st, MB);
        st.write_all(&down2).unwrap();
        st.flush().unwrap();
        // The client closes first: the end of the stream.
        let mut b = [0u8; 1];
        assert_eq!(st.read(&mut b).unwrap(), 0);
        got
    });
    let mut c = TcpStream::connect(stack(), local(42001)).unwrap();
    // Writes of odd sizes; each takes at least one byte.
    let mut off = 0;
    while off < up.len() {
        let end = (off + 30_001).min(up.len());
        let n = c.write(&up[off..end]).unwrap();
        assert!(n > 0);
        off += n;
    }
    c.flush().unwrap();
    let got = read_hash(&mut c, MB);
    assert_eq!(got, (hd.0, MB));
    c.close();
    assert_eq!(srv.join().unwrap(), (hu.0, MB));
}

#[test]
fn read_blocks_until_data_then_eof_is_ok_zero() {
    let srv = server(42002, |mut st| {
        thread::sleep(Duration::from_millis(100));
        st.write_all(b"late").unwrap();
        st.flush().unwrap();
        // Dropped: FIN.
    });
    let mut c = TcpStream::connect(stack(), local(42002)).unwrap();
    assert!(!c.read_ready().unwrap());
    assert!(c.write_ready().unwrap());
    let mut buf = [0u8; 16];
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"late");
    srv.join().unwrap();
    assert!(c.read_ready().unwrap(), "EOF makes a read return at once");
    assert_eq!(c.read(&mut buf).unwrap(), 0);
    assert_eq!(c.read(&mut []).unwrap(), 0);
}

#[test]
fn refused_is_connection_refused() {
    let e = TcpStream::connect(stack(), local(42003)).unwrap_err();
    assert_eq!(e, Error(Errno::ECONNREFUSED));
    assert_eq!(kind(&e), ErrorKind::ConnectionRefused);
}

#[test]
fn reset_is_connection_reset_then_broken_pipe() {
    // The reset comes after the client's first byte (before it, it could
    // beat the end of the client's connect, which then reports it).
    let srv = server(42004, |mut st| {
        let mut b = [0u8; 1];
        st.read_exact(&mut b).unwrap();
        util::linger_zero(st.fd());
        st.close();
    });
    let mut c = TcpStream::connect(stack(), local(42004)).unwrap();
    c.write_all(b"!").unwrap();
    srv.join().unwrap();
    let mut buf = [0u8; 16];
    let e = c.read(&mut buf).unwrap_err();
    assert_eq!(kind(&e), ErrorKind::ConnectionReset);
    let e = c.write(b"x").unwrap_err();
    assert_eq!(kind(&e), ErrorKind::BrokenPipe, "{e:?}");
}

#[test]
fn from_a_socket_still_connecting() {
    let srv = server(42005, |mut st| {
        let mut b = [0u8; 5];
        st.read_exact(&mut b).unwrap();
        b
    });
    let mut s = stack();
    let mut sock = TcpClientStack::socket(&mut s).unwrap();
    assert_eq!(
        TcpClientStack::connect(&mut s, &mut sock, local(42005)),
        Err(nb::Error::WouldBlock)
    );
    let mut st = TcpStream::from_socket(s, sock);
    st.write_all(b"hello").unwrap();
    st.flush().unwrap();
    assert_eq!(&srv.join().unwrap(), b"hello");
}

#[test]
fn ipv6_is_unsupported() {
    let e = TcpStream::connect(stack(), "[::1]:1".parse().unwrap()).unwrap_err();
    assert_eq!(kind(&e), ErrorKind::Unsupported);
}
