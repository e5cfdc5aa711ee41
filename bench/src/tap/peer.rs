//! The Linux side of the TAP scenarios: threads with ordinary blocking
//! std sockets, spawned from the benchmark thread (so in its network
//! namespace, which each checks first). Every wait has a timeout and every
//! loop looks at a stop flag, so a peer always ends.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::check_netns;
use crate::drive::Pattern;

/// Linux's `ENOBUFS`: a datagram dropped because a queue is full.
const ENOBUFS: i32 = 105;

/// Timeout of every blocking socket call of a peer.
const IO_TIMEOUT: Duration = Duration::from_millis(200);

/// A running peer thread; its result arrives through a channel, so that
/// waiting for it can time out.
pub(crate) struct Peer<T> {
    rx: Receiver<Result<T, String>>,
    name: &'static str,
}

impl<T> Peer<T> {
    /// The result, if the thread has ended.
    pub(crate) fn try_result(&self) -> Option<Result<T, String>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Err(format!("{} panicked", self.name))),
        }
    }

    /// Waits at most `limit` for the result.
    pub(crate) fn finish(self, limit: Duration) -> Result<T, String> {
        match self.rx.recv_timeout(limit) {
            Ok(r) => r.map_err(|e| format!("{}: {e}", self.name)),
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("{} still running after {limit:?}", self.name))
            }
            Err(RecvTimeoutError::Disconnected) => Err(format!("{} panicked", self.name)),
        }
    }
}

/// Spawns `f` as a peer thread in the calling thread's namespace `ns`.
pub(crate) fn spawn<T: Send + 'static>(
    name: &'static str,
    ns: &Path,
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Peer<T> {
    let (tx, rx) = mpsc::channel();
    let ns = ns.to_path_buf();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let r = check_netns(&ns).and_then(|()| f());
            let _ = tx.send(r);
        })
        .expect("spawn a peer thread");
    Peer { rx, name }
}

/// Accepts one connection on `l` within 10 s (or until `stop`), as a
/// blocking stream with [`IO_TIMEOUT`] on reads and writes and Nagle off.
pub(crate) fn accept_one(l: &TcpListener, stop: &AtomicBool) -> Result<TcpStream, String> {
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                s.set_read_timeout(Some(IO_TIMEOUT))
                    .map_err(|e| e.to_string())?;
                s.set_write_timeout(Some(IO_TIMEOUT))
                    .map_err(|e| e.to_string())?;
                s.set_nodelay(true).map_err(|e| e.to_string())?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                    return Err("no connection within 10 s".into());
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    }
}

/// Whether `e` is a socket timeout (no data, or no room, in time).
fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Bulk receiver: accepts one connection, reads until `stop` (or the end
/// of the stream), checks every byte against `pattern` and counts them in
/// `count`. Returns the bytes received.
pub(crate) fn sink(
    l: TcpListener,
    pattern: Arc<Pattern>,
    count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> Result<u64, String> {
    let mut s = accept_one(&l, &stop)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let n = match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if timed_out(&e) => continue,
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(e) => return Err(format!("read after {got} bytes: {e}")),
        };
        if buf[..n] != *pattern.at(got, n) {
            return Err(format!(
                "data differs within bytes {got}..{}",
                got + n as u64
            ));
        }
        got += n as u64;
        count.store(got, Ordering::Relaxed);
    }
    Ok(got)
}

/// Bulk sender: accepts one connection and writes the pattern until
/// `stop`. Returns the bytes written.
pub(crate) fn source(
    l: TcpListener,
    pattern: Arc<Pattern>,
    stop: Arc<AtomicBool>,
) -> Result<u64, String> {
    let mut s = accept_one(&l, &stop)?;
    let mut sent = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match s.write(pattern.at(sent, 256 * 1024)) {
            Ok(n) => sent += n as u64,
            Err(e) if timed_out(&e) => continue,
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(e) => return Err(format!("write after {sent} bytes: {e}")),
        }
    }
    Ok(sent)
}

/// Echo server: accepts one connection and sends back every byte until
/// `stop` or the end of the stream. Returns the bytes echoed.
pub(crate) fn echo(l: TcpListener, stop: Arc<AtomicBool>) -> Result<u64, String> {
    let mut s = accept_one(&l, &stop)?;
    let mut buf = [0u8; 64];
    let mut echoed = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                s.write_all(&buf[..n]).map_err(|e| format!("write: {e}"))?;
                echoed += n as u64;
            }
            Err(e) if timed_out(&e) => continue,
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(echoed)
}

/// What the accept scenario's clients did.
#[derive(Debug, Default)]
pub(crate) struct ClientCounts {
    /// Connections that completed their exchange.
    pub(crate) done: u64,
    /// Connections that failed (refused, timed out, reset, wrong byte).
    pub(crate) failed: u64,
    /// The first failure, for the progress line.
    pub(crate) first_error: Option<String>,
}

/// One connection of the accept scenario: connect, send a byte, read it
/// back, close (first, so the TIME-WAIT is Linux's, and there are none in
/// the namespace, see `setup_tap`).
fn one_connection(to: SocketAddrV4, byte: u8) -> Result<(), String> {
    let mut s = TcpStream::connect_timeout(&SocketAddr::V4(to), Duration::from_secs(1))
        .map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    s.write_all(&[byte]).map_err(|e| format!("write: {e}"))?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b).map_err(|e| format!("read: {e}"))?;
    if b[0] != byte {
        return Err(format!("echo {} instead of {byte}", b[0]));
    }
    Ok(())
}

/// A client thread of the accept scenario: connections to `to` one after
/// the other until `stop`.
pub(crate) fn clients(to: SocketAddrV4, stop: Arc<AtomicBool>) -> Result<ClientCounts, String> {
    let mut c = ClientCounts::default();
    let mut byte = 0u8;
    while !stop.load(Ordering::Relaxed) {
        byte = byte.wrapping_add(1);
        match one_connection(to, byte) {
            Ok(()) => c.done += 1,
            Err(e) => {
                c.failed += 1;
                c.first_error.get_or_insert(e);
            }
        }
    }
    Ok(c)
}

/// Full 1514-byte frames each send of [`udp_flood`] makes (1472 bytes of
/// UDP payload each).
pub(crate) const FLOOD_FRAMES: u64 = 44;

/// Asks Linux to cut every datagram sent on `s` into datagrams of `size`
/// bytes (UDP generic segmentation offload, `UDP_SEGMENT`, Linux 4.18),
/// which it does in one go the way it segments a TCP send.
fn gso(s: &UdpSocket, size: u16) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    /// `UDP_SEGMENT` of `<linux/udp.h>` (absent from the libc crate's
    /// glibc bindings).
    const UDP_SEGMENT: libc::c_int = 103;
    let v = libc::c_int::from(size);
    // SAFETY: the descriptor is `s`'s, open for the whole call; the option
    // value is a live c_int whose size is passed along; the kernel only
    // reads it.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_UDP,
            UDP_SEGMENT,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(format!("UDP_SEGMENT: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// How many full frames the floods keep ahead of the reader: within the
/// TAP's queue of 1,000, with a send's worth to spare for each flood, so
/// that nothing is dropped (a flood that overruns the queue measures its
/// drops rather than the device).
const FLOOD_AHEAD: u64 = 768;

/// The TAP limit's read direction: UDP from Linux to `to` as fast as the
/// reader takes it, until `stop`. Each send hands Linux 44 datagrams'
/// worth at once, which it cuts into 1514-byte frames with UDP
/// segmentation offload, the way it segments a TCP send: one system call
/// per frame would measure the sending thread, not the device. `read`
/// counts the full frames the reader took, `queued` those the floods
/// (there may be several) have sent; a flood stays at most
/// [`FLOOD_AHEAD`] frames ahead of the reader, as a window would, unless
/// the reader has taken nothing for 50 ms (frames lost). Returns the sends
/// this flood made.
pub(crate) fn udp_flood(
    from: Ipv4Addr,
    to: SocketAddrV4,
    read: Arc<AtomicU64>,
    queued: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> Result<u64, String> {
    let s = UdpSocket::bind((from, 0)).map_err(|e| format!("bind: {e}"))?;
    s.set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    gso(&s, 1472)?;
    let payload = vec![0x5au8; 1472 * FLOOD_FRAMES as usize];
    let mut sent = 0u64;
    let mut waiting: Option<(u64, Instant)> = None;
    while !stop.load(Ordering::Relaxed) {
        let r = read.load(Ordering::Relaxed);
        if queued.load(Ordering::Relaxed) > r + FLOOD_AHEAD {
            match waiting {
                Some((r0, t)) if r0 == r && t.elapsed() >= Duration::from_millis(50) => {
                    // Nothing taken for a while: what is queued is lost.
                    queued.store(r, Ordering::Relaxed);
                }
                Some((r0, _)) if r0 == r => {
                    std::hint::spin_loop();
                    continue;
                }
                _ => {
                    waiting = Some((r, Instant::now()));
                    continue;
                }
            }
        }
        waiting = None;
        queued.fetch_add(FLOOD_FRAMES, Ordering::Relaxed);
        match s.send_to(&payload, to) {
            Ok(_) => sent += 1,
            // A full queue: nothing went out.
            Err(e) if timed_out(&e) || e.raw_os_error() == Some(ENOBUFS) => {
                queued.fetch_sub(FLOOD_FRAMES, Ordering::Relaxed);
            }
            Err(e) => return Err(format!("send: {e}")),
        }
    }
    Ok(sent)
}
