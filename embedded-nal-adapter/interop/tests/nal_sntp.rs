//! sntpc 0.11 (an SNTP client with a socket trait of its own) over our
//! `NalStack`'s `UdpClientStack`, against chronyd 4.3 on the Linux side
//! of the TAP.
//!
//! chronyd runs with `local stratum 8` (it serves its own clock as a
//! stratum-8 source at once; sntpc rejects an unsynchronised server),
//! `-x` (it never touches the system clock), no command port and no
//! command socket, bound to Linux's address on the link. The client asks
//! several times; each answer must be within a few seconds of the system
//! clock (client and server share it), at stratum 8, with a sane round
//! trip.
//!
//! `sntp_control_std_embedded_nal` runs the same client over the kernel's
//! sockets (std-embedded-nal) against a chronyd on 127.0.0.1 in a namespace
//! of its own.

mod common;

use std::cell::RefCell;
use std::fmt::Debug;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use embedded_nal::{nb, UdpClientStack};
use sntpc::{NtpContext, NtpResult, NtpUdpSocket, StdTimestampGen};
use wolfip_core::Ipv4Addr;

const CHRONYD: &str = "chronyd";
/// How long one receive waits for the answer.
const RECV_LIMIT: Duration = Duration::from_secs(1);
/// Attempts per query (chronyd needs a moment to open its socket).
const ATTEMPTS: usize = 20;
/// Queries per test.
const QUERIES: usize = 5;

/// sntpc's socket over any embedded-nal `UdpClientStack`: a socket
/// connected to the server; `send_to` insists on that address, `recv_from`
/// polls the nb-style receive for at most [`RECV_LIMIT`].
struct NalNtpSocket<S: UdpClientStack> {
    inner: RefCell<(S, S::UdpSocket)>,
    remote: SocketAddr,
}

impl<S: UdpClientStack> NalNtpSocket<S>
where
    S::Error: Debug,
{
    fn connect(mut stack: S, remote: SocketAddr) -> Self {
        let mut socket = stack.socket().expect("udp socket");
        stack.connect(&mut socket, remote).expect("udp connect");
        NalNtpSocket {
            inner: RefCell::new((stack, socket)),
            remote,
        }
    }

    fn close(self) {
        let (mut stack, socket) = self.inner.into_inner();
        stack.close(socket).expect("udp close");
    }
}

impl<S: UdpClientStack> NtpUdpSocket for NalNtpSocket<S>
where
    S::Error: Debug,
{
    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> sntpc::Result<usize> {
        if addr != self.remote {
            return Err(sntpc::Error::Network);
        }
        let (stack, socket) = &mut *self.inner.borrow_mut();
        match nb::block!(stack.send(socket, buf)) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                eprintln!("sntp send: {e:?}");
                Err(sntpc::Error::Network)
            }
        }
    }

    async fn recv_from(&self, buf: &mut [u8]) -> sntpc::Result<(usize, SocketAddr)> {
        let (stack, socket) = &mut *self.inner.borrow_mut();
        let deadline = Instant::now() + RECV_LIMIT;
        loop {
            match stack.receive(socket, buf) {
                Ok(r) => return Ok(r),
                Err(nb::Error::WouldBlock) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(1));
                }
                Err(nb::Error::WouldBlock) => return Err(sntpc::Error::Network),
                Err(nb::Error::Other(e)) => {
                    eprintln!("sntp receive: {e:?}");
                    return Err(sntpc::Error::Network);
                }
            }
        }
    }
}

/// A chronyd serving `local stratum 8` on `addr`:123 to `allow`, with its
/// files in the temporary directory; killed when dropped.
struct Chronyd {
    _guard: common::ChildGuard,
    log: PathBuf,
    files: Vec<PathBuf>,
}

impl Chronyd {
    fn start(addr: IpAddr, allow: &str) -> Chronyd {
        let conf = common::temp_path("chrony", "conf");
        let pid = common::temp_path("chrony", "pid");
        let drift = common::temp_path("chrony", "drift");
        let log = common::temp_path("chrony", "log");
        std::fs::write(
            &conf,
            format!(
                "local stratum 8\n\
                 allow {allow}\n\
                 cmdport 0\n\
                 bindcmdaddress /\n\
                 bindaddress {addr}\n\
                 port 123\n\
                 pidfile {}\n\
                 driftfile {}\n",
                pid.display(),
                drift.display()
            ),
        )
        .expect("write chrony.conf");
        let mut cmd = Command::new(CHRONYD);
        // -d: foreground, log to stderr; -x: never touch the clock.
        cmd.arg("-f").arg(&conf).args(["-d", "-x", "-u", "root"]);
        let guard = common::ChildGuard::spawn(cmd, &log);
        Chronyd {
            _guard: guard,
            log,
            files: vec![conf, pid, drift],
        }
    }
}

impl Drop for Chronyd {
    fn drop(&mut self) {
        eprintln!("chronyd log:\n{}", common::read_log(&self.log));
        for f in self.files.iter().chain(std::iter::once(&self.log)) {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// One SNTP query, retried (each try a send and a bounded receive) until
/// it is answered or [`ATTEMPTS`] ran out.
fn query<S: UdpClientStack>(socket: &NalNtpSocket<S>) -> NtpResult
where
    S::Error: Debug,
{
    let ctx = NtpContext::new(StdTimestampGen::default());
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match sntpc::sync::get_time(socket.remote, socket, ctx) {
            Ok(r) => return r,
            Err(e) => {
                eprintln!("sntp try: {e:?} (chronyd may not be listening yet)");
                last = Some(e);
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    panic!(
        "no SNTP answer from {} after {ATTEMPTS} tries: {last:?}",
        socket.remote
    );
}

/// Checks an answer against the system clock that client and server share.
fn check(r: &NtpResult) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    eprintln!(
        "sntp: seconds {} (system {now}), offset {} us, roundtrip {} us, stratum {}, li {}, ref {:?}",
        r.seconds, r.offset, r.roundtrip, r.stratum, r.leap_indicator, r.reference_id
    );
    assert!(
        r.seconds.abs_diff(now) <= 3,
        "server time {} is not within 3 s of the system clock {now}",
        r.seconds
    );
    assert!(r.offset.abs() < 3_000_000, "offset {} us", r.offset);
    assert!(r.roundtrip < 1_000_000, "roundtrip {} us", r.roundtrip);
    assert_eq!(r.stratum, 8, "stratum (chronyd has `local stratum 8`)");
    assert_eq!(r.leap_indicator, 0, "leap indicator");
}

/// Runs [`QUERIES`] queries over `stack` to `server`, each on a new
/// socket, plus several on one socket.
fn queries<S: UdpClientStack + Clone>(stack: S, server: SocketAddr)
where
    S::Error: Debug,
{
    for i in 0..QUERIES {
        let t = Instant::now();
        let socket = NalNtpSocket::connect(stack.clone(), server);
        let r = query(&socket);
        eprintln!("query {i} (new socket): {:?}", t.elapsed());
        check(&r);
        socket.close();
    }
    let socket = NalNtpSocket::connect(stack, server);
    for i in 0..QUERIES {
        let t = Instant::now();
        let r = query(&socket);
        eprintln!("query {i} (same socket): {:?}", t.elapsed());
        check(&r);
    }
    socket.close();
}

/// The control: the same client over the kernel's sockets on 127.0.0.1.
#[test]
fn sntp_control_std_embedded_nal() {
    if !common::can_run(&[CHRONYD]) {
        return;
    }
    let t = Instant::now();
    common::in_netns(|| {
        common::lo_up();
        let server = IpAddr::from([127, 0, 0, 1]);
        let _chronyd = Chronyd::start(server, "127.0.0.0/8");
        common::bounded("sntp control", Duration::from_secs(60), move || {
            queries(std_embedded_nal::Stack, SocketAddr::new(server, 123))
        });
    });
    eprintln!("sntp control: {:?}", t.elapsed());
}

/// The client over wolfip's `NalStack` on TAP: ours 198.51.100.2/24,
/// chronyd on Linux at 198.51.100.1:123.
#[test]
fn sntp_client_on_wolfip_nal() {
    if !common::can_run(&[CHRONYD]) {
        return;
    }
    let t = Instant::now();
    common::in_netns(|| {
        let link = common::bring_up(
            "wnalsntp0",
            Ipv4Addr::new(198, 51, 100, 2),
            Ipv4Addr::new(198, 51, 100, 1),
        );
        let server = IpAddr::V4(link.linux);
        let _chronyd = Chronyd::start(server, "198.51.100.0/24");
        let engine = link.engine;
        common::bounded("sntp on wolfip", Duration::from_secs(60), move || {
            queries(
                wolfip_nal::NalStack::new(engine),
                SocketAddr::new(server, 123),
            )
        });
    });
    eprintln!("sntp on wolfip: {:?}", t.elapsed());
}
