//! Blocking calls of the hosted port, over loopback, with real threads:
//! waits that end when the peer acts, timeouts, the thread rules of
//! Linux (close from another thread does not wake, shutdown does), and
//! that a blocked call neither spins nor holds up other sockets.

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use wolfip_bsd::engine::{Engine, MsgFlags, PollEntry};
use wolfip_bsd::hosted::{self, Hosted};
use wolfip_bsd::Errno;
use wolfip_core::{Ipv4Addr, SocketAddrV4};

const AF_INET: i32 = libc::AF_INET;
const STREAM: i32 = libc::SOCK_STREAM;

fn eng() -> &'static Engine<Hosted> {
    static E: OnceLock<&'static Engine<Hosted>> = OnceLock::new();
    E.get_or_init(|| hosted::init().expect("init"))
}

fn local(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}

fn listener(port: u16) -> i32 {
    let e = eng();
    let l = e.socket(AF_INET, STREAM, 0).unwrap();
    e.bind(l, local(port)).unwrap();
    e.listen(l, 8).unwrap();
    l
}

/// A connected pair (client, server side) on `port`.
fn pair(port: u16) -> (i32, i32, i32) {
    let e = eng();
    let l = listener(port);
    let c = e.socket(AF_INET, STREAM, 0).unwrap();
    e.connect(c, Some(local(port))).unwrap();
    let (s, _) = e.accept(l, 0).unwrap();
    (l, c, s)
}

fn set_rcvtimeo(fd: i32, ms: u64) {
    let mut tv = [0u8; 16];
    tv[..8].copy_from_slice(&((ms / 1000) as i64).to_ne_bytes());
    tv[8..].copy_from_slice(&(((ms % 1000) * 1000) as i64).to_ne_bytes());
    eng()
        .setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
        .unwrap();
}

fn recv(fd: i32, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
    eng()
        .recvfrom(fd, buf, MsgFlags::from_bits(flags))
        .map(|r| r.len)
}

fn send(fd: i32, data: &[u8]) -> Result<usize, Errno> {
    eng().sendto(fd, data, None, MsgFlags::default())
}

/// CPU time of this process (user + system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[test]
fn blocking_accept_and_recv_wait_for_the_peer() {
    let e = eng();
    let l = listener(31001);
    let client = thread::spawn(|| {
        thread::sleep(Duration::from_millis(50));
        let e = eng();
        let c = e.socket(AF_INET, STREAM, 0).unwrap();
        e.connect(c, Some(local(31001))).unwrap();
        thread::sleep(Duration::from_millis(50));
        assert_eq!(send(c, b"hello").unwrap(), 5);
        c
    });
    let started = Instant::now();
    let (s, peer) = e.accept(l, 0).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(40));
    assert_eq!(*peer.ip(), Ipv4Addr::LOCALHOST);
    let mut buf = [0u8; 16];
    assert_eq!(recv(s, &mut buf, 0).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    let c = client.join().unwrap();
    for fd in [c, s, l] {
        e.close(fd).unwrap();
    }
}

#[test]
fn rcvtimeo_expires_with_eagain_without_spinning() {
    let e = eng();
    let (l, c, s) = pair(31002);
    set_rcvtimeo(s, 300);
    let cpu = cpu_time();
    let started = Instant::now();
    let mut buf = [0u8; 4];
    assert_eq!(recv(s, &mut buf, 0), Err(Errno::EAGAIN));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(290), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    // Other tests run meanwhile; a spinning wait alone would burn ~300 ms.
    let burnt = cpu_time().saturating_sub(cpu);
    assert!(
        burnt < Duration::from_millis(200),
        "cpu {burnt:?} while blocked"
    );
    for fd in [c, s, l] {
        e.close(fd).unwrap();
    }
}

#[test]
fn close_from_another_thread_does_not_wake_a_blocked_recv() {
    let e = eng();
    let (l, c, s) = pair(31003);
    set_rcvtimeo(s, 400);
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        eng().close(s).unwrap();
    });
    let started = Instant::now();
    let mut buf = [0u8; 4];
    assert_eq!(recv(s, &mut buf, 0), Err(Errno::EAGAIN));
    assert!(started.elapsed() >= Duration::from_millis(390));
    closer.join().unwrap();
    // The descriptor is gone for good once the blocked call returned.
    assert_eq!(recv(s, &mut buf, libc::MSG_DONTWAIT), Err(Errno::EBADF));
    for fd in [c, l] {
        e.close(fd).unwrap();
    }
}

#[test]
fn shutdown_rd_wakes_accept_with_einval_and_recv_with_eof() {
    let e = eng();
    let l = listener(31004);
    let waker = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        eng().shutdown(l, libc::SHUT_RD).unwrap();
    });
    let started = Instant::now();
    assert_eq!(e.accept(l, 0).map(|_| ()), Err(Errno::EINVAL));
    assert!(started.elapsed() < Duration::from_secs(2));
    waker.join().unwrap();
    e.close(l).unwrap();

    let (l, c, s) = pair(31005);
    let waker = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        eng().shutdown(s, libc::SHUT_RD).unwrap();
    });
    let mut buf = [0u8; 4];
    assert_eq!(recv(s, &mut buf, 0), Ok(0));
    waker.join().unwrap();
    for fd in [c, s, l] {
        e.close(fd).unwrap();
    }
}

#[test]
fn blocking_connect_refused_then_a_new_attempt() {
    let e = eng();
    let c = e.socket(AF_INET, STREAM, 0).unwrap();
    assert_eq!(e.connect(c, Some(local(31006))), Err(Errno::ECONNREFUSED));
    // The error was consumed: SO_ERROR is 0, the next connect tries again.
    let mut v = [0u8; 4];
    e.getsockopt(c, libc::SOL_SOCKET, libc::SO_ERROR, &mut v)
        .unwrap();
    assert_eq!(i32::from_ne_bytes(v), 0);
    assert_eq!(e.connect(c, Some(local(31006))), Err(Errno::ECONNREFUSED));
    e.close(c).unwrap();
}

#[test]
fn waitall_collects_several_sends_and_peek_leaves_data() {
    let e = eng();
    let (l, c, s) = pair(31007);
    let sender = thread::spawn(move || {
        for chunk in [&b"abc"[..], b"def", b"ghij"] {
            thread::sleep(Duration::from_millis(30));
            send(c, chunk).unwrap();
        }
    });
    let mut buf = [0u8; 10];
    assert_eq!(recv(s, &mut buf, libc::MSG_WAITALL).unwrap(), 10);
    assert_eq!(&buf, b"abcdefghij");
    sender.join().unwrap();
    send(c, b"xy").unwrap();
    let mut p = [0u8; 2];
    assert_eq!(recv(s, &mut p, libc::MSG_PEEK).unwrap(), 2);
    assert_eq!(recv(s, &mut buf, 0).unwrap(), 2);
    assert_eq!(&buf[..2], b"xy");
    for fd in [c, s, l] {
        e.close(fd).unwrap();
    }
}

#[test]
fn poll_sleeps_until_data_and_honours_its_timeout() {
    let e = eng();
    let (l, c, s) = pair(31008);
    let mut set = [PollEntry {
        fd: s,
        events: libc::POLLIN,
        revents: 0,
    }];
    let started = Instant::now();
    assert_eq!(e.poll(&mut set, 150).unwrap(), 0);
    assert!(started.elapsed() >= Duration::from_millis(140));
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(80));
        send(c, b"!").unwrap();
    });
    assert_eq!(e.poll(&mut set, 5000).unwrap(), 1);
    assert_eq!(set[0].revents, libc::POLLIN);
    sender.join().unwrap();
    for fd in [c, s, l] {
        e.close(fd).unwrap();
    }
}

#[test]
fn a_blocked_call_does_not_hold_up_other_sockets() {
    let e = eng();
    let (l1, c1, s1) = pair(31009);
    set_rcvtimeo(s1, 1500);
    let blocked = thread::spawn(move || {
        let mut buf = [0u8; 4];
        recv(s1, &mut buf, 0)
    });
    thread::sleep(Duration::from_millis(50));
    // Meanwhile another connection works normally, 100 round trips.
    let (l2, c2, s2) = pair(31010);
    e.setsockopt(
        c2,
        libc::IPPROTO_TCP,
        libc::TCP_NODELAY,
        &1i32.to_ne_bytes(),
    )
    .unwrap();
    let mut buf = [0u8; 8];
    for i in 0..100u32 {
        send(c2, &i.to_be_bytes()).unwrap();
        assert_eq!(recv(s2, &mut buf[..4], libc::MSG_WAITALL).unwrap(), 4);
        assert_eq!(buf[..4], i.to_be_bytes());
    }
    // All of it happened while the other call was still blocked.
    assert!(!blocked.is_finished());
    send(c1, b"done").unwrap();
    assert_eq!(blocked.join().unwrap(), Ok(4));
    for fd in [c1, s1, l1, c2, s2, l2] {
        e.close(fd).unwrap();
    }
}
