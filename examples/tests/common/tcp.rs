//! Shared helpers of the TCP interoperability tests (`interop_tcp_*`):
//! Linux clients of the stack's echo port, a reproducible test stream and
//! its hash, a bulk echo through `tap_echo`, and [`OurStack`], the stack
//! polled by the test itself for the scenarios `tap_echo` cannot express.

use std::io::{Read, Write};
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use wolfip_examples::Fnv;

use wolfip_core::time::Instant as StackInstant;
use wolfip_core::{IfaceId, Ipv4Addr, SocketAddrV4, Stack, TcpHandle, TcpRecvError};
use wolfip_examples::{make_stack, tcp_sockets_in_use, TapDev, DEFAULT_MAC};
use wolfip_tap::Clock;

use super::*;

/// The stack's echo service, as Linux reaches it.
pub fn echo_addr() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 2], ECHO_PORT))
}

/// Bounds every connect, read and write of the Linux clients.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the echo port (at most 5 s) with read and write timeouts.
pub fn connect() -> TcpStream {
    let s = TcpStream::connect_timeout(&echo_addr(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect to {}: {e}\n{}", echo_addr(), diagnostics()));
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// Spawns a client thread (it inherits the caller's namespace) with a
/// small stack.
pub fn client<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    thread::Builder::new()
        .name(name.to_owned())
        .stack_size(512 * 1024)
        .spawn(f)
        .expect("spawn client thread")
}

/// Joins a finished thread, passing its panic on.
pub fn join<T>(h: JoinHandle<T>) -> T {
    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

// ---------------------------------------------------------------------
// Test data: a reproducible stream and a hash of it.

/// Fills `buf` with bytes `offset..offset + buf.len()` of the pseudo-random
/// stream `seed` (8-byte blocks of splitmix64), so a receiver can
/// regenerate what it should have got at any offset.
pub fn pattern(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut pos = offset;
    let mut i = 0;
    while i < buf.len() {
        let mut z = seed.wrapping_add((pos / 8).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let word = (z ^ (z >> 31)).to_le_bytes();
        let within = (pos % 8) as usize;
        let n = (8 - within).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&word[within..within + n]);
        i += n;
        pos += n as u64;
    }
}

/// Checks that `got` is bytes `offset..` of stream `seed`; panics at the
/// first difference.
pub fn check_pattern(seed: u64, offset: u64, got: &[u8], what: &str) {
    let mut want = vec![0u8; got.len()];
    pattern(seed, offset, &mut want);
    if got != want.as_slice() {
        let i = got.iter().zip(&want).position(|(a, b)| a != b).unwrap();
        panic!(
            "{what}: byte {} is {:#04x}, want {:#04x}",
            offset + i as u64,
            got[i],
            want[i]
        );
    }
}

/// A seed for the test data, printed so a failure can be replayed.
pub fn seed(test: &str) -> u64 {
    Rng::from_time(test).next_u64()
}

// ---------------------------------------------------------------------
// Bulk echo through tap_echo.

/// What a bulk echo measured.
struct Bulk {
    elapsed: Duration,
    sent_hash: u64,
    received_hash: u64,
}

/// Shuts the socket down both ways when dropped, so a thread blocked on a
/// clone of it (the writer) returns when the reader gives up.
struct ShutOnDrop(TcpStream);

impl Drop for ShutOnDrop {
    fn drop(&mut self) {
        let _ = self.0.shutdown(NetShutdown::Both);
    }
}

/// Sends `total` bytes of stream `seed` to the echo from one thread, then
/// shuts down its write side (a half-close); reads the echo on the calling
/// thread until end of stream, checking every byte against the stream.
/// Panics if it takes longer than `limit`.
fn bulk_echo(seed: u64, total: usize, limit: Duration) -> Bulk {
    let stream = connect();
    let writer = stream.try_clone().expect("clone socket");
    let reader = ShutOnDrop(stream);
    let t0 = Instant::now();
    let w = client("bulk-writer", move || -> Result<u64, String> {
        let mut writer = writer;
        let mut hash = Fnv::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut off = 0usize;
        while off < total {
            let n = buf.len().min(total - off);
            pattern(seed, off as u64, &mut buf[..n]);
            hash.update(&buf[..n]);
            writer
                .write_all(&buf[..n])
                .map_err(|e| format!("write at {off}: {e}"))?;
            off += n;
        }
        writer
            .shutdown(NetShutdown::Write)
            .map_err(|e| format!("shutdown(Write): {e}"))?;
        Ok(hash.0)
    });
    let mut hash = Fnv::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0usize;
    // Each read returns data, end of stream or an error (10 s timeout);
    // there are at most `total` bytes, so the loop is bounded.
    loop {
        assert!(
            t0.elapsed() < limit,
            "bulk echo: {got} of {total} bytes back after {limit:?}\n{}",
            diagnostics()
        );
        let n = match (&reader.0).read(&mut buf) {
            Ok(n) => n,
            Err(e) => panic!("bulk echo: read after {got} bytes: {e}\n{}", diagnostics()),
        };
        if n == 0 {
            break;
        }
        assert!(got + n <= total, "bulk echo: more than {total} bytes back");
        check_pattern(seed, got as u64, &buf[..n], "bulk echo");
        hash.update(&buf[..n]);
        got += n;
    }
    let elapsed = t0.elapsed();
    assert_eq!(got, total, "bulk echo: end of stream after {got} bytes");
    // The end of stream is final.
    assert_eq!((&reader.0).read(&mut buf).expect("read after EOF"), 0);
    let sent_hash = join(w).unwrap_or_else(|e| panic!("bulk writer: {e}"));
    Bulk {
        elapsed,
        sent_hash,
        received_hash: hash.0,
    }
}

/// Runs a bulk echo of `total` bytes through `tap_echo` (with `extra`
/// arguments), prints the throughput, stops `tap_echo` after `settle` and
/// checks the counters every bulk run must show. Resets sent by the stack
/// are left to the caller: under loss a late duplicate from Linux may
/// arrive after the connection closed and be answered with one.
pub fn bulk_run(
    test: &str,
    extra: &[&str],
    total: usize,
    limit: Duration,
    settle: Duration,
) -> Run {
    setup_tap();
    let mut echo = TapEcho::start(test, extra);
    wait_ping();
    let seed = seed(test);
    let bulk = bulk_echo(seed, total, limit);
    assert_eq!(
        bulk.sent_hash, bulk.received_hash,
        "hash of the echo differs from the hash of what was sent"
    );
    let secs = bulk.elapsed.as_secs_f64();
    println!(
        "{test}: {:.1} MB each way in {secs:.2} s: {:.2} MB/s each way (hash {:#018x})",
        total as f64 / 1e6,
        total as f64 / 1e6 / secs,
        bulk.sent_hash
    );
    // Let the last ACK (and, under loss, retransmissions of our FIN) land.
    thread::sleep(settle);
    let stopped = echo.stop();
    println!("{}", stopped.stdout);
    let c = stopped.tcp_echo_counters();
    assert_eq!(c.accepted, 1, "{}", stopped.stdout);
    assert_eq!(c.bytes, total as u64, "{}", stopped.stdout);
    assert_eq!(c.still_open, 0, "{}", stopped.stdout);
    assert_eq!(c.sockets_in_use, 1, "only the listener: {}", stopped.stdout);
    assert_eq!(stopped.tcp_counter("resets rx"), 0, "{}", stopped.stdout);
    assert_eq!(stopped.tcp_counter("timed out"), 0, "{}", stopped.stdout);
    Run { echo, stopped }
}

/// A stopped `tap_echo` and what it said; keeps the capture alive (and
/// kept on failure) until dropped.
pub struct Run {
    pub echo: TapEcho,
    pub stopped: Stopped,
}

impl Run {
    pub fn pcap(&self) -> &Path {
        &self.echo.pcap
    }
}

/// Frames of `pcap` that tshark finds corrupt (malformed, bad checksum)
/// among those the stack sent: none allowed.
pub fn assert_no_corruption(pcap: &Path) {
    let bad = capture_corruption(pcap, STACK_MAC);
    assert!(
        bad.is_empty(),
        "tshark finds frames sent by the stack malformed or with bad checksums in {}:\n{}",
        pcap.display(),
        bad.join("\n")
    );
}

/// The stack inside the test: the calling thread polls it on the TAP.
pub struct OurStack {
    pub stack: Box<Stack>,
    iface: IfaceId,
    pub dev: TapDev,
    pub clock: Clock,
    pub pcap: PathBuf,
}

impl OurStack {
    /// Creates the TAP (Linux 192.0.2.1/24), attaches the stack to it as
    /// 192.0.2.2/24, recording to a capture file, and waits for the link.
    pub fn start(test: &str) -> OurStack {
        setup_tap();
        let pcap = temp_path(test, "pcap");
        let dev = TapDev::open(TAP, Some(pcap.to_str().unwrap())).expect("attach to the TAP");
        let (stack, iface) = make_stack(DEFAULT_MAC, "192.0.2.2/24".parse().unwrap(), None)
            .unwrap_or_else(|e| panic!("make_stack: {e}"));
        wait_link_up();
        OurStack {
            stack,
            iface,
            dev,
            clock: Clock::new(),
            pcap,
        }
    }

    /// A listener on the echo port.
    pub fn listen(&mut self) -> TcpHandle {
        self.listen_with_backlog(4)
    }

    /// A listener on the echo port with room for `backlog` connections.
    pub fn listen_with_backlog(&mut self, backlog: usize) -> TcpHandle {
        let l = self.stack.tcp_open().expect("tcp_open");
        self.stack
            .tcp_bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, ECHO_PORT))
            .expect("tcp_bind");
        self.stack.tcp_listen(l, backlog).expect("tcp_listen");
        l
    }

    /// Runs the stack until `f` (called after every poll) returns a value;
    /// panics after `limit`.
    pub fn run_until<T>(
        &mut self,
        limit: Duration,
        what: &str,
        mut f: impl FnMut(&mut Stack, StackInstant) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            let now = self.clock.now();
            self.stack.poll(now, self.iface, &mut self.dev);
            let done = f(&mut self.stack, now);
            // Send what `f` queued.
            let next = self.stack.poll(now, self.iface, &mut self.dev);
            self.dev.flush();
            if let Some(t) = done {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not done within {limit:?}\n{}\n{}",
                self.stack.stats(),
                diagnostics()
            );
            let sleep = next.map_or(Duration::from_millis(5), |t| {
                self.clock.until(t).min(Duration::from_millis(5))
            });
            if !sleep.is_zero() {
                let _ = self.dev.tap().wait_readable(Some(sleep));
            }
        }
    }

    /// Runs the stack for `d`.
    pub fn run_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        self.run_until(d + Duration::from_secs(1), "run_for", |_, _| {
            (Instant::now() >= end).then_some(())
        });
    }

    /// Runs the stack until the client thread `h` has finished (at most
    /// `limit`) and returns its result.
    pub fn join<T>(&mut self, h: JoinHandle<T>, limit: Duration) -> T {
        self.run_until(limit, "Linux client", |_, _| h.is_finished().then_some(()));
        join(h)
    }

    /// Accepts one connection (at most 10 s).
    pub fn accept(&mut self, listener: TcpHandle) -> TcpHandle {
        self.run_until(Duration::from_secs(10), "accept", |s, _| {
            s.tcp_accept(listener).ok().map(|(h, _)| h)
        })
    }

    /// Reads exactly `n` bytes from `h` (at most 10 s).
    pub fn read_exact(&mut self, h: TcpHandle, n: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        self.run_until(Duration::from_secs(10), "read", |s, _| {
            while got.len() < n {
                let want = (n - got.len()).min(buf.len());
                match s.tcp_recv(h, &mut buf[..want]) {
                    Ok(0) => panic!("end of stream after {} of {n} bytes", got.len()),
                    Ok(k) => got.extend_from_slice(&buf[..k]),
                    Err(TcpRecvError::WouldBlock) => return None,
                    Err(e) => panic!("tcp_recv: {e:?}"),
                }
            }
            Some(())
        });
        got
    }

    pub fn sockets_in_use(&mut self) -> usize {
        tcp_sockets_in_use(&mut self.stack, self.clock.now())
    }
}

impl Drop for OurStack {
    fn drop(&mut self) {
        self.dev.flush();
        if thread::panicking() {
            eprintln!("capture kept for inspection: {}", self.pcap.display());
        } else {
            let _ = std::fs::remove_file(&self.pcap);
        }
    }
}
