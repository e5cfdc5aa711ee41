//! TCP between the stack and the Linux kernel: bulk echo both ways with a
//! hash check (lossless, 1 % and 5 % loss), half-close both ways, resets
//! both ways, 1,000 connections in sequence and 64 at once without leaking
//! a socket, a burst of 64 SYNs answered at once, and tshark's view of the
//! handshake options, SACK in use under loss and the checksums of every
//! frame the stack sent.
//!
//! Most tests run `tap_echo`; the scenarios it cannot express (the stack
//! half-closing first while still reading, the stack resetting, seeing
//! the reset error itself) run the stack in the test: the test thread
//! polls a [`Stack`] on the TAP while a Linux client runs on another
//! thread of the same namespace. Each test runs in its own network
//! namespace on 192.0.2.0/24 (Linux 192.0.2.1, the stack 192.0.2.2); see
//! `common` for the skip policy. Every loop is bounded in count and time.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;
use wolfip_core::time::Instant as StackInstant;
use wolfip_core::{
    IfaceId, Ipv4Addr, Shutdown, SocketAddrV4, Stack, TcpError, TcpHandle, TcpRecvError, TcpState,
};
use wolfip_examples::{make_stack, tcp_sockets_in_use, TapDev, DEFAULT_MAC};
use wolfip_tap::Clock;

/// The stack's echo service, as Linux reaches it.
fn echo_addr() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 2], ECHO_PORT))
}

/// Bounds every connect, read and write of the Linux clients.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the echo port (at most 5 s) with read and write timeouts.
fn connect() -> TcpStream {
    let s = TcpStream::connect_timeout(&echo_addr(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect to {}: {e}\n{}", echo_addr(), diagnostics()));
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// Spawns a client thread (it inherits the caller's namespace) with a
/// small stack.
fn client<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    thread::Builder::new()
        .name(name.to_owned())
        .stack_size(512 * 1024)
        .spawn(f)
        .expect("spawn client thread")
}

/// Joins a finished thread, passing its panic on.
fn join<T>(h: JoinHandle<T>) -> T {
    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

// ---------------------------------------------------------------------
// Test data: a reproducible stream and a hash of it.

/// Fills `buf` with bytes `offset..offset + buf.len()` of the pseudo-random
/// stream `seed` (8-byte blocks of splitmix64), so a receiver can
/// regenerate what it should have got at any offset.
fn pattern(seed: u64, offset: u64, buf: &mut [u8]) {
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

/// 64-bit FNV-1a, fed piece by piece.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Checks that `got` is bytes `offset..` of stream `seed`; panics at the
/// first difference.
fn check_pattern(seed: u64, offset: u64, got: &[u8], what: &str) {
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
fn seed(test: &str) -> u64 {
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
fn bulk_run(test: &str, extra: &[&str], total: usize, limit: Duration, settle: Duration) -> Run {
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
struct Run {
    echo: TapEcho,
    stopped: Stopped,
}

impl Run {
    fn pcap(&self) -> &Path {
        &self.echo.pcap
    }
}

/// Frames of `pcap` that tshark finds corrupt (malformed, bad checksum)
/// among those the stack sent: none allowed.
fn assert_no_corruption(pcap: &Path) {
    let bad = capture_corruption(pcap, STACK_MAC);
    assert!(
        bad.is_empty(),
        "tshark finds frames sent by the stack malformed or with bad checksums in {}:\n{}",
        pcap.display(),
        bad.join("\n")
    );
}

/// The display filter of our retransmissions as tshark sees them.
fn our_retransmissions() -> String {
    format!(
        "eth.src == {STACK_MAC} && (tcp.analysis.retransmission \
         || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission)"
    )
}

/// What tshark sees of loss recovery, in one pass over the capture.
#[derive(Debug, Default)]
struct Recovery {
    /// Segments the stack retransmitted.
    our_retransmissions: usize,
    /// ACKs with SACK blocks from the stack.
    our_sacks: usize,
    /// ACKs with SACK blocks from Linux.
    linux_sacks: usize,
}

fn recovery(pcap: &Path) -> Recovery {
    let lines = tshark(
        pcap,
        &format!("({}) || tcp.options.sack_le", our_retransmissions()),
        &["eth.src", "tcp.options.sack_le", "_ws.expert.message"],
    );
    let mut r = Recovery::default();
    for l in &lines {
        let f: Vec<&str> = l.split('\t').collect();
        let ours = f[0] == STACK_MAC;
        if f.get(1).is_some_and(|v| !v.is_empty()) {
            if ours {
                r.our_sacks += 1;
            } else {
                r.linux_sacks += 1;
            }
        }
        // "This frame is a (suspected) [fast|spurious] retransmission".
        if ours && f.get(2).is_some_and(|m| m.contains("retransmission")) {
            r.our_retransmissions += 1;
        }
    }
    r
}

#[test]
fn bulk_echo_lossless_20mb() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let total = 20_000_000;
        let run = bulk_run(
            "bulk_lossless",
            &[],
            total,
            Duration::from_secs(40),
            Duration::from_millis(300),
        );
        assert_eq!(
            run.stopped.tcp_counter("retransmits"),
            0,
            "retransmissions on a lossless link: {}",
            run.stopped.stdout
        );
        assert_eq!(
            run.stopped.tcp_counter("resets tx"),
            0,
            "{}",
            run.stopped.stdout
        );
        let pcap = run.pcap();

        // The handshake (one tshark pass): our SYN-ACK offers MSS 1460
        // (1500-byte MTU), window scaling, SACK and timestamps, and echoes
        // the timestamp of Linux's SYN, which offered them all too.
        let syns = fields(
            pcap,
            "tcp.flags.syn == 1",
            &[
                "eth.src",
                "tcp.flags.ack",
                "tcp.options.mss_val",
                "tcp.options.wscale.shift",
                "tcp.options.sack_perm",
                "tcp.options.timestamp.tsval",
                "tcp.options.timestamp.tsecr",
            ],
        );
        assert_eq!(syns.len(), 2, "SYN and SYN-ACK: {syns:?}");
        let (syn, synack) = (&syns[0], &syns[1]);
        assert!(
            syn[0] != STACK_MAC && syn[1] == "0",
            "the first SYN is Linux's: {syns:?}"
        );
        assert!(
            syn[2..6].iter().all(|f| !f.is_empty()),
            "Linux's SYN lacks an option: {syn:?}"
        );
        assert!(
            synack[0] == STACK_MAC && synack[1] == "1",
            "then our SYN-ACK: {syns:?}"
        );
        assert_eq!(synack[2], "1460", "SYN-ACK MSS: {synack:?}");
        assert!(
            !synack[3].is_empty(),
            "SYN-ACK without window scale: {synack:?}"
        );
        assert!(
            !synack[4].is_empty(),
            "SYN-ACK without SACK-permitted: {synack:?}"
        );
        assert!(
            !synack[5].is_empty(),
            "SYN-ACK without timestamps: {synack:?}"
        );
        assert_eq!(
            synack[6], syn[5],
            "SYN-ACK TSecr does not echo Linux's TSval"
        );
        println!(
            "bulk_lossless: our SYN-ACK: mss {} wscale {} sack_perm {} tsval {}",
            synack[2], synack[3], synack[4], synack[5]
        );

        // Everything else we sent (one more pass): nothing corrupt, no
        // retransmission on a lossless link, and timestamps on every
        // segment now that they were negotiated (RFC 7323 §3.2; a RST may
        // omit them, and there is none here).
        let bad = tshark(
            pcap,
            &format!(
                "eth.src == {STACK_MAC} && (_ws.malformed || ip.checksum.status == \"Bad\" \
                 || tcp.checksum.status == \"Bad\" || ({}) \
                 || (tcp && !tcp.options.timestamp.tsval))",
                our_retransmissions()
            ),
            &[
                "frame.number",
                "tcp.seq",
                "tcp.len",
                "tcp.flags.str",
                "_ws.expert.message",
            ],
        );
        assert!(
            bad.is_empty(),
            "segments of the stack that are corrupt, retransmitted or without \
             timestamps on a lossless link:\n{}",
            bad.join("\n")
        );
    });
}

/// A bulk echo over a link that drops `ppm` frames per million each way:
/// the data arrives intact, retransmissions happen, nothing is corrupt.
/// Returns the run for further checks.
fn lossy_bulk(test: &str, ppm: u32, total: usize) -> (Run, Recovery) {
    let ppm = ppm.to_string();
    let run = bulk_run(
        test,
        &["--drop-ppm", &ppm],
        total,
        Duration::from_secs(60),
        // Our FIN or Linux's last ACK may be lost: leave time for a few
        // retransmissions before counting sockets.
        Duration::from_secs(3),
    );
    let s = &run.stopped;
    let dropped = s
        .stdout
        .lines()
        .find(|l| l.starts_with("tap_echo: fault injector dropped"))
        .unwrap_or_else(|| panic!("no fault injector line:\n{}", s.stdout));
    println!("{test}: {dropped}");
    assert!(
        s.tcp_counter("retransmits") > 0,
        "no retransmission with {ppm} ppm loss: {}",
        s.stdout
    );
    assert!(s.tcp_counter("ooo queued") > 0, "{}", s.stdout);
    assert_no_corruption(run.pcap());
    // A reset from the stack is only allowed once the connection is over:
    // Linux, in TIME-WAIT, may answer a late retransmission of ours with
    // a duplicate ACK that arrives after our LAST-ACK ended; it then
    // reaches the listener, which answers an ACK with <SEQ=SEG.ACK><RST>
    // (RFC 9293 §3.10.7.2): our final sequence number, after the FIN.
    let rsts = fields(
        run.pcap(),
        &format!("eth.src == {STACK_MAC} && tcp.flags.reset == 1"),
        &["frame.number", "tcp.seq", "tcp.flags.ack"],
    );
    // The capture shows the wire: a RST dropped on the way out is counted
    // but not captured.
    assert!(
        rsts.len() as u64 <= s.tcp_counter("resets tx"),
        "RSTs in the capture but not counted: {rsts:?}"
    );
    for r in &rsts {
        assert!(
            r[1] == (total + 2).to_string() && r[2] == "0",
            "a RST from the stack before the connection ended (want relative seq {}, \
             no ACK): {rsts:?}",
            total + 2
        );
    }
    let r = recovery(run.pcap());
    println!("{test}: tshark: {r:?}");
    assert!(
        r.our_retransmissions > 0,
        "tshark sees no retransmission by the stack: {r:?}"
    );
    (run, r)
}

#[test]
fn bulk_echo_with_1_percent_loss() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        lossy_bulk("bulk_1pct", 10_000, 5_000_000);
    });
}

#[test]
fn bulk_echo_with_5_percent_loss_uses_sack() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let (run, r) = lossy_bulk("bulk_5pct", 50_000, 3_000_000);
        // Both sides report holes with SACK blocks while recovering.
        assert!(r.our_sacks > 0, "the stack never sent a SACK block: {r:?}");
        assert!(r.linux_sacks > 0, "Linux never sent a SACK block: {r:?}");
        assert!(
            run.stopped.tcp_counter("retransmits fast") > 0,
            "no fast retransmit under 5 % loss: {}",
            run.stopped.stdout
        );
    });
}

// ---------------------------------------------------------------------
// Half-close.

/// Fields of the frames matching `filter`, split.
fn fields(pcap: &Path, filter: &str, f: &[&str]) -> Vec<Vec<String>> {
    tshark(pcap, filter, f)
        .iter()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// The Linux client shuts down its write side after sending 1 MB; the
/// echo keeps sending what is left (CLOSE-WAIT), then closes: Linux reads
/// everything, then end of stream.
#[test]
fn half_close_by_linux_still_gets_the_whole_echo() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let total = 1_000_000;
        let run = bulk_run(
            "half_close_linux",
            &[],
            total,
            Duration::from_secs(30),
            Duration::from_millis(300),
        );
        let pcap = run.pcap();
        // FINs, and our data segments: one pass.
        let segs = fields(
            pcap,
            &format!("tcp.flags.fin == 1 || (eth.src == {STACK_MAC} && tcp.len > 0)"),
            &["frame.number", "eth.src", "tcp.flags.fin", "tcp.nxtseq"],
        );
        // Relative sequence numbers: SYN 1, the data, FIN 1.
        let (linux, ours) = fins_ending_at(&segs, total + 2, total + 2);
        let (lf, of): (u64, u64) = (linux[0][0].parse().unwrap(), ours[0][0].parse().unwrap());
        assert!(of > lf, "our FIN (frame {of}) before Linux's (frame {lf})");
        let after = segs
            .iter()
            .filter(|f| f[1] == STACK_MAC && f[0].parse::<u64>().unwrap() > lf)
            .count();
        println!("half_close_linux: {after} segments echoed after Linux's FIN");
        assert_no_corruption(pcap);
    });
}

/// FIN segments of `segs` (fields frame.number, eth.src, tcp.flags.fin,
/// tcp.nxtseq) split into (Linux's, ours); each side's must all end at
/// the given relative sequence number (a FIN may be retransmitted, e.g.
/// by Linux's tail loss probe when the stack is slow, but never moves).
fn fins_ending_at(
    segs: &[Vec<String>],
    linux_end: usize,
    our_end: usize,
) -> (Vec<&Vec<String>>, Vec<&Vec<String>>) {
    let (ours, linux): (Vec<&Vec<String>>, Vec<&Vec<String>>) = segs
        .iter()
        .filter(|f| f[2] == "1")
        .partition(|f| f[1] == STACK_MAC);
    assert!(!linux.is_empty(), "no FIN from Linux");
    assert!(!ours.is_empty(), "no FIN from the stack");
    for f in &linux {
        assert_eq!(f[3], linux_end.to_string(), "Linux's FINs: {linux:?}");
    }
    for f in &ours {
        assert_eq!(
            f[3],
            our_end.to_string(),
            "our FINs must all end at relative sequence number {our_end}: {ours:?}"
        );
    }
    (linux, ours)
}

/// The stack inside the test: the calling thread polls it on the TAP.
struct OurStack {
    stack: Box<Stack>,
    iface: IfaceId,
    dev: TapDev,
    clock: Clock,
    pcap: PathBuf,
}

impl OurStack {
    /// Creates the TAP (Linux 192.0.2.1/24), attaches the stack to it as
    /// 192.0.2.2/24, recording to a capture file, and waits for the link.
    fn start(test: &str) -> OurStack {
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
    fn listen(&mut self) -> TcpHandle {
        self.listen_with_backlog(4)
    }

    /// A listener on the echo port with room for `backlog` connections.
    fn listen_with_backlog(&mut self, backlog: usize) -> TcpHandle {
        let l = self.stack.tcp_open().expect("tcp_open");
        self.stack
            .tcp_bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, ECHO_PORT))
            .expect("tcp_bind");
        self.stack.tcp_listen(l, backlog).expect("tcp_listen");
        l
    }

    /// Runs the stack until `f` (called after every poll) returns a value;
    /// panics after `limit`.
    fn run_until<T>(
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
    fn run_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        self.run_until(d + Duration::from_secs(1), "run_for", |_, _| {
            (Instant::now() >= end).then_some(())
        });
    }

    /// Runs the stack until the client thread `h` has finished (at most
    /// `limit`) and returns its result.
    fn join<T>(&mut self, h: JoinHandle<T>, limit: Duration) -> T {
        self.run_until(limit, "Linux client", |_, _| h.is_finished().then_some(()));
        join(h)
    }

    /// Accepts one connection (at most 10 s).
    fn accept(&mut self, listener: TcpHandle) -> TcpHandle {
        self.run_until(Duration::from_secs(10), "accept", |s, _| {
            s.tcp_accept(listener).ok().map(|(h, _)| h)
        })
    }

    /// Reads exactly `n` bytes from `h` (at most 10 s).
    fn read_exact(&mut self, h: TcpHandle, n: usize) -> Vec<u8> {
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

    fn sockets_in_use(&mut self) -> usize {
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

/// The stack sends 100 kB and shuts down its write side first, then keeps
/// reading: Linux reads everything and end of stream, then sends 300 kB
/// on the half-open connection, which the stack receives in FIN-WAIT-2,
/// then closes; the stack ends in TIME-WAIT, whose slot is free 2 s later.
#[test]
fn half_close_by_the_stack_while_it_keeps_reading() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        const DOWN: usize = 100_000;
        const UP: usize = 300_000;
        let mut ours = OurStack::start("half_close_stack");
        let listener = ours.listen();
        let seed = seed("half_close_stack");
        let up_seed = seed ^ 0x5555;
        let linux = client("linux", move || {
            let mut s = connect();
            let mut got = Vec::new();
            s.read_to_end(&mut got)
                .unwrap_or_else(|e| panic!("Linux: read until our FIN: {e}"));
            assert_eq!(got.len(), DOWN, "Linux: bytes before end of stream");
            check_pattern(seed, 0, &got, "Linux: what the stack sent");
            // Half-open: sending still works after end of stream.
            let mut buf = vec![0u8; UP];
            pattern(up_seed, 0, &mut buf);
            s.write_all(&buf)
                .unwrap_or_else(|e| panic!("Linux: write after end of stream: {e}"));
            s.shutdown(NetShutdown::Write).expect("Linux: shutdown");
            assert_eq!(s.read(&mut [0u8; 16]).expect("Linux: read"), 0);
        });

        let conn = ours.accept(listener);
        let mut sent = 0usize;
        let mut buf = vec![0u8; 16384];
        ours.run_until(Duration::from_secs(20), "send, then shut down", |s, _| {
            while sent < DOWN {
                let n = s.tcp_send_room(conn).min(buf.len()).min(DOWN - sent);
                if n == 0 {
                    return None;
                }
                pattern(seed, sent as u64, &mut buf[..n]);
                sent += s.tcp_send(conn, &buf[..n]).expect("tcp_send");
            }
            s.tcp_shutdown(conn, Shutdown::Write).expect("tcp_shutdown");
            Some(())
        });
        assert!(
            ours.stack.tcp_send(conn, b"x").is_err(),
            "tcp_send after shutdown(Write) succeeded"
        );
        let mut got = 0usize;
        let mut states = Vec::new();
        ours.run_until(Duration::from_secs(30), "receive until EOF", |s, _| loop {
            match s.tcp_recv(conn, &mut buf) {
                Ok(0) => return Some(()),
                Ok(n) => {
                    check_pattern(up_seed, got as u64, &buf[..n], "the stack: what Linux sent");
                    got += n;
                    let st = s.tcp_state(conn).unwrap();
                    if states.last() != Some(&st) {
                        states.push(st);
                    }
                }
                Err(TcpRecvError::WouldBlock) => return None,
                Err(e) => panic!("tcp_recv after {got} bytes: {e:?}"),
            }
        });
        assert_eq!(got, UP, "bytes the stack received after its FIN");
        assert_eq!(
            states.first(),
            Some(&TcpState::FinWait2),
            "states while receiving: {states:?}"
        );
        assert!(
            states
                .iter()
                .all(|s| matches!(s, TcpState::FinWait2 | TcpState::TimeWait)),
            "states while receiving: {states:?}"
        );
        assert_eq!(ours.stack.tcp_state(conn), Some(TcpState::TimeWait));
        ours.join(linux, Duration::from_secs(20));
        ours.stack.tcp_close(conn, ours.clock.now());
        assert_eq!(ours.sockets_in_use(), 2, "listener and TIME-WAIT");
        ours.run_for(Duration::from_millis(2500));
        assert_eq!(ours.sockets_in_use(), 1, "TIME-WAIT over: the listener");
        let st = ours.stack.stats().tcp;
        assert_eq!(
            (st.resets_rx, st.resets_tx),
            (0, 0),
            "{}",
            ours.stack.stats()
        );
        ours.dev.flush();

        // On the wire: our FIN right after our 100 kB, Linux's data after
        // it, Linux's FIN after its 300 kB.
        let pcap = ours.pcap.clone();
        let segs = fields(
            &pcap,
            &format!("tcp.flags.fin == 1 || (eth.src != {STACK_MAC} && tcp.len > 0)"),
            &["frame.number", "eth.src", "tcp.flags.fin", "tcp.nxtseq"],
        );
        // Ours right after our 100 kB, Linux's after its 300 kB.
        let (_, ours) = fins_ending_at(&segs, UP + 2, DOWN + 2);
        let first_linux_data = segs
            .iter()
            .find(|f| f[1] != STACK_MAC && f[2] != "1")
            .map(|f| f[0].parse::<u64>().unwrap())
            .expect("data from Linux");
        let our_fin: u64 = ours[0][0].parse().unwrap();
        assert!(
            first_linux_data > our_fin,
            "Linux sent data (frame {first_linux_data}) before our FIN (frame {our_fin})"
        );
        assert_no_corruption(&pcap);
    });
}

// ---------------------------------------------------------------------
// Resets.

/// A Python client: connects to the echo port, sends `send`, reads
/// `expect` back, then closes with `SO_LINGER` {on, 0}, which makes Linux
/// reset the connection.
fn python_linger_reset(send: &str, expect: &str) -> Command {
    let script = format!(
        r#"
import socket, struct, sys
s = socket.create_connection(("{STACK_IP}", {ECHO_PORT}), timeout=5)
s.sendall(b"{send}")
got = b""
while len(got) < {n}:
    d = s.recv({n} - len(got))
    if not d:
        sys.exit("end of stream after %r" % got)
    got += d
if got != b"{expect}":
    sys.exit("got %r" % got)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("reset")
"#,
        n = expect.len()
    );
    let mut cmd = Command::new("python3");
    cmd.args(["-c", &script]);
    cmd
}

fn assert_python_ok(out: &std::process::Output) {
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "reset",
        "python client: {:?}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Linux resets with SO_LINGER 0: `tap_echo` counts the reset and lets
/// the connection go; it sends no reset itself.
#[test]
fn linux_reset_reaches_tap_echo() {
    if !can_run(&["python3"]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("linux_reset_echo", &[]);
        wait_ping();
        let out = run(
            python_linger_reset("hello", "hello"),
            Duration::from_secs(20),
        );
        assert_python_ok(&out);
        thread::sleep(Duration::from_millis(300));
        let stopped = echo.stop();
        let c = stopped.tcp_echo_counters();
        assert_eq!((c.accepted, c.bytes), (1, 5), "{}", stopped.stdout);
        assert_eq!(c.still_open, 0, "{}", stopped.stdout);
        assert_eq!(c.sockets_in_use, 1, "{}", stopped.stdout);
        assert_eq!(stopped.tcp_counter("resets rx"), 1, "{}", stopped.stdout);
        assert_eq!(stopped.tcp_counter("resets tx"), 0, "{}", stopped.stdout);
        let rsts = fields(&echo.pcap, "tcp.flags.reset == 1", &["eth.src"]);
        assert_eq!(rsts.len(), 1, "RSTs: {rsts:?}");
        assert_ne!(rsts[0][0], STACK_MAC, "the RST came from the stack");
        assert_no_corruption(&echo.pcap);
    });
}

/// The same reset seen by the application on the stack: `tcp_recv` fails
/// with `Reset`, once, and the socket's slot is freed on close.
#[test]
fn linux_reset_is_reported_to_the_application() {
    if !can_run(&["python3"]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("linux_reset_app");
        let listener = ours.listen();
        let py = client("python", || {
            run(python_linger_reset("ping", "pong"), Duration::from_secs(20))
        });
        let conn = ours.accept(listener);
        assert_eq!(ours.read_exact(conn, 4), b"ping");
        assert_eq!(ours.stack.tcp_send(conn, b"pong"), Ok(4));
        let err = ours.run_until(Duration::from_secs(10), "the reset", |s, _| {
            match s.tcp_recv(conn, &mut [0u8; 64]) {
                Err(TcpRecvError::WouldBlock) => None,
                other => Some(other),
            }
        });
        assert_eq!(err, Err(TcpRecvError::Failed(TcpError::Reset)));
        assert_python_ok(&ours.join(py, Duration::from_secs(20)));
        assert_eq!(ours.stack.tcp_state(conn), Some(TcpState::Closed));
        // Reported once.
        assert_ne!(
            ours.stack.tcp_recv(conn, &mut [0u8; 64]),
            Err(TcpRecvError::Failed(TcpError::Reset))
        );
        ours.stack.tcp_close(conn, ours.clock.now());
        assert_eq!(ours.sockets_in_use(), 1, "only the listener left");
        let st = ours.stack.stats().tcp;
        assert_eq!(
            (st.resets_rx, st.resets_tx),
            (1, 0),
            "{}",
            ours.stack.stats()
        );
        ours.dev.flush();
        assert_no_corruption(&ours.pcap);
    });
}

/// The stack resets: `tcp_abort` after reading a request, and `tcp_close`
/// with unread data (RFC 2525 §2.17); each time the Linux client blocked
/// in `read` gets ECONNRESET, and Linux answers nothing.
#[test]
fn stack_reset_reaches_linux() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("stack_reset");
        let listener = ours.listen();
        let reader = |request: &'static [u8]| {
            move || {
                let mut s = connect();
                s.write_all(request).expect("Linux: write");
                let r = s.read(&mut [0u8; 64]);
                match r {
                    Err(e) => e.kind(),
                    Ok(n) => panic!("Linux: read {n} bytes instead of a reset"),
                }
            }
        };

        // 1. tcp_abort.
        let linux = client("linux-abort", reader(b"request"));
        let conn = ours.accept(listener);
        assert_eq!(ours.read_exact(conn, 7), b"request");
        let now = ours.clock.now();
        ours.stack.tcp_abort(conn, now);
        assert_eq!(ours.stack.tcp_state(conn), None, "handle still valid");
        let kind = ours.join(linux, Duration::from_secs(15));
        assert_eq!(kind, ErrorKind::ConnectionReset, "Linux after tcp_abort");

        // 2. tcp_close with 1000 bytes never read.
        let linux = client("linux-close", reader(&[0x42; 1000]));
        let conn = ours.accept(listener);
        ours.run_until(Duration::from_secs(10), "1000 bytes queued", |s, _| {
            (s.tcp_recv_queue(conn) == 1000).then_some(())
        });
        let now = ours.clock.now();
        ours.stack.tcp_close(conn, now);
        let kind = ours.join(linux, Duration::from_secs(15));
        assert_eq!(kind, ErrorKind::ConnectionReset, "Linux after tcp_close");

        ours.run_for(Duration::from_millis(200));
        assert_eq!(ours.sockets_in_use(), 1, "only the listener left");
        let st = ours.stack.stats().tcp;
        assert_eq!(
            (st.resets_rx, st.resets_tx),
            (0, 2),
            "{}",
            ours.stack.stats()
        );
        ours.dev.flush();

        // Our RSTs sit exactly at our next sequence number (nothing was
        // sent: relative 1) and acknowledge what was received.
        let rsts = fields(
            &ours.pcap,
            "tcp.flags.reset == 1",
            &["eth.src", "tcp.seq", "tcp.ack", "tcp.flags.ack"],
        );
        assert_eq!(rsts.len(), 2, "RSTs: {rsts:?}");
        for r in &rsts {
            assert_eq!(r[0], STACK_MAC, "a RST from Linux: {rsts:?}");
            assert_eq!(r[1], "1", "RST sequence number: {rsts:?}");
        }
        assert_eq!(rsts[0][2], "8", "RST after 7 bytes: {rsts:?}");
        assert_eq!(rsts[1][2], "1001", "RST after 1000 bytes: {rsts:?}");
        assert_no_corruption(&ours.pcap);
    });
}

// ---------------------------------------------------------------------
// Many connections.

/// One short echo exchange on a fresh connection: connect, send `payload`,
/// read it back, close.
fn echo_exchange(payload: &[u8], what: &str) {
    let mut s = connect();
    s.write_all(payload)
        .unwrap_or_else(|e| panic!("{what}: write: {e}"));
    let mut got = vec![0u8; payload.len()];
    s.read_exact(&mut got)
        .unwrap_or_else(|e| panic!("{what}: read the echo: {e}\n{}", diagnostics()));
    assert_eq!(got, payload, "{what}: echo differs");
}

#[test]
fn thousand_connections_in_sequence() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("thousand_conns", &[]);
        wait_ping();
        let mut rng = Rng::from_time("thousand_conns");
        let t0 = Instant::now();
        let mut bytes = 0;
        for i in 0..1000 {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "only {i} connections in 60 s"
            );
            let n = rng.range(1, 64);
            echo_exchange(&rng.bytes(n), &format!("connection {i}"));
            bytes += n as u64;
        }
        println!(
            "thousand_conns: 1000 connections in {:.2} s",
            t0.elapsed().as_secs_f64()
        );
        // Our side closes last (LAST-ACK): wait for Linux's final ACKs.
        thread::sleep(Duration::from_millis(300));
        let stopped = echo.stop();
        println!("{}", stopped.stdout);
        let c = stopped.tcp_echo_counters();
        assert_eq!((c.accepted, c.bytes), (1000, bytes), "{}", stopped.stdout);
        assert_eq!(c.still_open, 0, "{}", stopped.stdout);
        assert_eq!(c.sockets_in_use, 1, "leaked sockets: {}", stopped.stdout);
        for k in ["resets rx", "resets tx", "drop backlog", "timed out"] {
            assert_eq!(stopped.tcp_counter(k), 0, "{k}: {}", stopped.stdout);
        }
        assert_eq!(stopped.tcp_counter("opens passive"), 1000);
        assert_no_corruption(&echo.pcap);
    });
}

/// One client of [`sixty_four_at_once`]: connect, wait for all, echo,
/// wait for all, close. Never panics, so every client reaches both
/// barriers (each step is bounded: connect 5 s, read and write 10 s).
fn one_of_many(barrier: &Barrier, payload: &[u8]) -> Result<(), String> {
    let conn = TcpStream::connect_timeout(&echo_addr(), Duration::from_secs(5))
        .and_then(|s| {
            s.set_read_timeout(Some(IO_TIMEOUT))?;
            s.set_write_timeout(Some(IO_TIMEOUT))?;
            Ok(s)
        })
        .map_err(|e| format!("connect: {e}"));
    // All 64 connected before anyone sends.
    barrier.wait();
    let echoed = conn.and_then(|mut s| {
        s.write_all(payload).map_err(|e| format!("write: {e}"))?;
        let mut got = vec![0u8; payload.len()];
        s.read_exact(&mut got)
            .map_err(|e| format!("read the echo: {e}"))?;
        if got != payload {
            return Err("echo differs".into());
        }
        Ok(s)
    });
    // All 64 echoed before anyone closes.
    barrier.wait();
    echoed.map(drop)
}

/// 64 clients connect at once, each echoes, all 64 are open at the same
/// moment, then they close; returns the bytes echoed.
fn sixty_four_at_once(round: u32, rng: &mut Rng) -> u64 {
    let barrier = Arc::new(Barrier::new(64));
    let mut threads = Vec::new();
    let mut bytes = 0;
    for i in 0..64 {
        let n = rng.range(1, 2000);
        let payload = rng.bytes(n);
        bytes += n as u64;
        let barrier = barrier.clone();
        threads.push(client(&format!("conn-{round}-{i}"), move || {
            one_of_many(&barrier, &payload)
        }));
    }
    let errors: Vec<String> = threads
        .into_iter()
        .enumerate()
        .filter_map(|(i, t)| join(t).err().map(|e| format!("connection {i}: {e}")))
        .collect();
    assert!(
        errors.is_empty(),
        "round {round}: {} of 64 clients failed:\n{}\n{}",
        errors.len(),
        errors.join("\n"),
        diagnostics()
    );
    bytes
}

#[test]
fn sixty_four_connections_at_once_twice() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("sixty_four", &[]);
        wait_ping();
        let mut rng = Rng::from_time("sixty_four");
        let t0 = Instant::now();
        let mut bytes = sixty_four_at_once(1, &mut rng);
        println!(
            "sixty_four: first 64 in {:.2} s",
            t0.elapsed().as_secs_f64()
        );
        // Past TIME-WAIT (2 s), every slot must be back: 64 more at once.
        thread::sleep(Duration::from_millis(2500));
        bytes += sixty_four_at_once(2, &mut rng);
        println!(
            "sixty_four: 128 connections in {:.2} s",
            t0.elapsed().as_secs_f64()
        );
        thread::sleep(Duration::from_millis(300));
        let stopped = echo.stop();
        println!("{}", stopped.stdout);
        let c = stopped.tcp_echo_counters();
        assert_eq!((c.accepted, c.bytes), (128, bytes), "{}", stopped.stdout);
        assert_eq!(c.still_open, 0, "{}", stopped.stdout);
        assert_eq!(c.sockets_in_use, 1, "leaked sockets: {}", stopped.stdout);
        for k in ["resets rx", "resets tx", "drop backlog", "timed out"] {
            assert_eq!(stopped.tcp_counter(k), 0, "{k}: {}", stopped.stdout);
        }
        assert_no_corruption(&echo.pcap);
    });
}

// ---------------------------------------------------------------------
// The capture checks themselves.

/// An Ethernet frame from `src`: IPv4 192.0.2.2 -> 192.0.2.1, a TCP ACK
/// 4242 -> 5555 carrying `payload`, with correct checksums.
fn tcp_frame(src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    fn sum(data: &[u8], mut acc: u32) -> u32 {
        for c in data.chunks(2) {
            acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        acc
    }
    fn fold(mut acc: u32) -> u16 {
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        !(acc as u16)
    }
    let (sip, dip) = ([192, 0, 2, 2], [192, 0, 2, 1]);
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&4242u16.to_be_bytes());
    tcp.extend_from_slice(&5555u16.to_be_bytes());
    tcp.extend_from_slice(&1000u32.to_be_bytes()); // seq
    tcp.extend_from_slice(&2000u32.to_be_bytes()); // ack
    tcp.extend_from_slice(&[0x50, 0x18]); // 20 bytes, PSH ACK
    tcp.extend_from_slice(&16384u16.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
    tcp.extend_from_slice(payload);
    let tcp_len = tcp.len() as u16;
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&sip);
    pseudo.extend_from_slice(&dip);
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&tcp_len.to_be_bytes());
    let ck = fold(sum(&tcp, sum(&pseudo, 0)));
    tcp[16..18].copy_from_slice(&ck.to_be_bytes());

    let mut ip = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0];
    ip[2..4].copy_from_slice(&(20 + tcp_len).to_be_bytes());
    ip.extend_from_slice(&sip);
    ip.extend_from_slice(&dip);
    let ck = fold(sum(&ip, 0));
    ip[10..12].copy_from_slice(&ck.to_be_bytes());

    let mut f = vec![0x02, 0, 0, 0, 0, 0x02];
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&tcp);
    f
}

/// Writes `frames` as a classic little-endian pcap (Ethernet link type).
fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&(i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).expect("write pcap");
}

/// The positive control of [`capture_corruption`] for TCP: it reports
/// hand-made segments from our MAC with a bad TCP or IP checksum or cut
/// short, not a good one, not a bad one from another MAC, and not a plain
/// retransmission (a TCP analysis note, legitimate under loss).
#[test]
fn tshark_tcp_check_reports_bad_checksums() {
    if !tools_available(&["tshark"]) {
        return;
    }
    const OURS: [u8; 6] = [0x02, 0x57, 0x49, 0x50, 0x00, 0x01];
    const OTHER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x99];
    let good = tcp_frame(OURS, b"some echoed bytes");
    let mut bad_tcp = good.clone();
    bad_tcp[14 + 20 + 16] ^= 0x5a;
    let mut bad_ip = good.clone();
    bad_ip[14 + 10] ^= 0x5a;
    let mut bad_other = tcp_frame(OTHER, b"not ours");
    bad_other[14 + 20 + 16] ^= 0x5a;
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 5);
    let pcap = temp_path("tshark_tcp_control", "pcap");
    write_pcap(
        &pcap,
        &[
            good.clone(),
            bad_tcp,
            good, // the same segment again: a retransmission
            bad_other,
            bad_ip,
            truncated,
        ],
    );
    let all = tshark_count(&pcap, "frame");
    let retx = tshark_count(&pcap, "tcp.analysis.retransmission");
    let problems = capture_corruption(&pcap, STACK_MAC);
    let _ = std::fs::remove_file(&pcap);
    assert_eq!(all, 6, "tshark did not read the hand-made capture");
    assert!(retx >= 1, "no retransmission seen in the control capture");
    let frames: Vec<&str> = problems
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(frames, ["2", "5", "6"], "tshark's report: {problems:?}");
}

/// Minimal form of the half-close by the stack: it sends 5 bytes and shuts
/// down its write side; Linux acknowledges the FIN, reads end of stream,
/// keeps the connection half-open for 1 s, sends 3 bytes and closes.
/// Nothing of ours lies beyond the FIN (relative sequence number 7): no
/// second FIN, nothing sent or retransmitted past it in FIN-WAIT-2 or
/// TIME-WAIT.
#[test]
fn stack_fin_is_sent_once_in_fin_wait_2() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("fin_once");
        let listener = ours.listen();
        let linux = client("linux", || {
            let mut s = connect();
            let mut got = Vec::new();
            s.read_to_end(&mut got)
                .unwrap_or_else(|e| panic!("Linux: read until our FIN: {e}"));
            assert_eq!(got, b"hello", "Linux: before end of stream");
            thread::sleep(Duration::from_secs(1));
            s.write_all(b"bye")
                .unwrap_or_else(|e| panic!("Linux: write after end of stream: {e}"));
        });
        let conn = ours.accept(listener);
        assert_eq!(ours.stack.tcp_send(conn, b"hello"), Ok(5));
        ours.stack
            .tcp_shutdown(conn, Shutdown::Write)
            .expect("tcp_shutdown");
        ours.join(linux, Duration::from_secs(15));
        assert_eq!(ours.read_exact(conn, 3), b"bye");
        ours.run_until(Duration::from_secs(5), "end of stream", |s, _| {
            match s.tcp_recv(conn, &mut [0u8; 16]) {
                Ok(0) => Some(()),
                Err(TcpRecvError::WouldBlock) => None,
                other => panic!("tcp_recv after 'bye': {other:?}"),
            }
        });
        assert_eq!(ours.stack.tcp_state(conn), Some(TcpState::TimeWait));
        let info = ours.stack.tcp_info(conn).expect("tcp_info");
        ours.dev.flush();
        let pcap = ours.pcap.clone();
        let segs = fields(
            &pcap,
            &format!("eth.src == {STACK_MAC} && tcp"),
            &[
                "frame.number",
                "tcp.flags.str",
                "tcp.seq",
                "tcp.len",
                "tcp.nxtseq",
            ],
        );
        let listing = segs
            .iter()
            .map(|f| f.join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        let fins: Vec<&Vec<String>> = segs.iter().filter(|f| f[1].contains('F')).collect();
        assert!(!fins.is_empty(), "no FIN from the stack:\n{listing}");
        // Nothing at or beyond sequence number 7 but the ACKs that sit
        // there: no second FIN, no segment past the first (a plain
        // retransmission of the FIN would be legitimate, and ends at 7 too).
        let num = |v: &str| v.parse::<u64>().unwrap();
        let beyond: Vec<&Vec<String>> = segs
            .iter()
            .filter(|f| num(&f[2]) > 7 || num(&f[4]) > 7 || (f[1].contains('F') && num(&f[4]) != 7))
            .collect();
        assert!(
            beyond.is_empty(),
            "the stack sent {} segment(s) beyond its FIN (relative seq 6, acknowledged by \
             Linux): a second FIN or later sequence numbers; tcp_info: {info:?}\n\
             our segments (frame, flags, seq, len, nxtseq):\n{listing}",
            beyond.len()
        );
        println!(
            "fin_once: {} FIN(s) from the stack, timeouts {}",
            fins.len(),
            info.timeouts
        );
        assert_no_corruption(&pcap);
    });
}

/// 64 SYNs waiting on the TAP when the stack next polls (the SYN queue
/// holds 64 in this build) are all answered at once: every handshake
/// completes well within Linux's 1 s SYN retransmission timeout, and the
/// stack drops none of its own replies for want of frame slots.
#[test]
fn burst_of_64_syns_is_answered_at_once() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("syn_burst");
        let listener = ours.listen_with_backlog(64);
        // Warm up (ARP both ways) with one exchange.
        let warm = client("warm-up", || {
            let mut s = connect();
            s.write_all(b"hi").expect("warm-up write");
        });
        let conn = ours.accept(listener);
        ours.join(warm, Duration::from_secs(10));
        ours.stack.tcp_close(conn, ours.clock.now());
        ours.run_for(Duration::from_millis(100));
        let before = ours.stack.stats().ip.drop_no_buffer;

        // 64 connects while the stack does not run: the SYNs queue up in
        // the TAP.
        let start = Arc::new(Barrier::new(65));
        let clients: Vec<JoinHandle<Result<(Instant, TcpStream), String>>> = (0..64)
            .map(|i| {
                let start = start.clone();
                client(&format!("syn-{i}"), move || {
                    start.wait();
                    TcpStream::connect_timeout(&echo_addr(), Duration::from_secs(10))
                        .map(|s| (Instant::now(), s))
                        .map_err(|e| format!("connect: {e}"))
                })
            })
            .collect();
        start.wait();
        thread::sleep(Duration::from_millis(300));
        let t0 = Instant::now();
        let mut accepted = Vec::new();
        ours.run_until(Duration::from_secs(15), "64 handshakes", |s, _| {
            while let Ok((h, _)) = s.tcp_accept(listener) {
                accepted.push(h);
            }
            (accepted.len() == 64).then_some(())
        });
        let all = t0.elapsed();
        let mut late = Vec::new();
        let mut streams = Vec::new();
        for (i, c) in clients.into_iter().enumerate() {
            let done = ours.join(c, Duration::from_secs(15));
            let (done, stream) = done.unwrap_or_else(|e| panic!("client {i}: {e}"));
            streams.push(stream);
            let after = done.saturating_duration_since(t0);
            if after > Duration::from_millis(500) {
                late.push(format!("{i}: {after:?}"));
            }
        }
        let stats = *ours.stack.stats();
        let dropped = stats.ip.drop_no_buffer - before;
        println!(
            "syn_burst: 64 handshakes in {all:?}; {dropped} frames dropped for want of a slot; \
             SYN-ACK retransmissions {}",
            stats.tcp.retransmits
        );
        for h in accepted {
            let now = ours.clock.now();
            ours.stack.tcp_abort(h, now);
        }
        ours.run_for(Duration::from_millis(50));
        drop(streams);
        assert!(
            late.is_empty() && dropped == 0,
            "{} of 64 handshakes took over 500 ms after the stack ran (the 1 s SYN-ACK or \
             SYN retransmission): {late:?}; the stack dropped {dropped} outgoing frames for \
             want of a frame slot (ipv4 drop no-buffer) while answering the burst\n{}",
            late.len(),
            stats
        );
    });
}
