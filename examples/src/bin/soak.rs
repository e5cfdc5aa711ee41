//! Soak test: many connect/transfer/close cycles from the Linux kernel to
//! our stack over a lossy, reordering link, then a check that nothing
//! leaked (issue 8; not part of CI, which runs a short smoke of it).
//!
//! ```text
//! sudo soak [--cycles 100000] [--clients 16] [--loss-ppm 10000]
//!           [--reorder-ppm 20000] [--close-first-percent 25] [--seed 1]
//!           [--max-minutes 60]
//! ```
//!
//! The program moves a thread into a network namespace of its own (the
//! host's interfaces are never touched), creates TAP `soak0` there with
//! Linux at 192.0.2.1/24, and runs our stack at 192.0.2.2/24 behind
//! wolfip-core's simulated link ([`SimLink`]) in real time: every frame
//! between Linux and the stack, ARP included, may be lost or held back so
//! that later frames overtake it.
//!
//! `--clients` Linux threads (blocking sockets) run the cycles: connect to
//! port 7000, send a 5-byte header (a mode byte and a length) and that many
//! seeded bytes, read the echo and check every byte. In mode `E` the client
//! shuts its side down after sending and the stack closes after reading
//! the end (Linux ends in TIME-WAIT); in mode `C` (`--close-first-percent`
//! of the cycles) the stack closes as soon as it has echoed the data (the
//! stack ends in TIME-WAIT, so its slots are recycled under load).
//!
//! Afterwards the stack runs until every table is back to idle or 30 s
//! pass, and the program checks: every cycle succeeded with the right
//! bytes; [`Stack::occupancy`] shows only the listener (no socket, SYN
//! request, accepted-but-unserved connection, TIME-WAIT, frame slot or
//! reassembly buffer left); the application holds no connection; the
//! stack asks for no timer within the next second (no socket timer left
//! running). Exit status 0 when all hold, 1 otherwise, 2 for bad arguments,
//! 77 when root or `/dev/net/tun` is missing.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use wolfip_core::phy::sim::{LinkConfig, Side, SimLink};
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::{
    Duration, Instant, Ipv4Addr, Occupancy, SocketAddrV4, Stack, TcpHandle, TcpRecvError,
};
use wolfip_examples::{make_stack, parse_args, DEFAULT_MAC};
use wolfip_tap::{netns, Clock, TapDevice};

const USAGE: &str = "usage: soak [--cycles N] [--clients N] [--loss-ppm N] [--reorder-ppm N]
            [--close-first-percent P] [--seed N] [--max-minutes M]";

const TAP: &str = "soak0";
const PORT: u16 = 7000;
/// The largest payload of one cycle.
const MAX_LEN: usize = 32 * 1024;
/// How long the stack may take to get back to idle after the last cycle.
const SETTLE: StdDuration = StdDuration::from_secs(30);

#[derive(Clone, Copy, Debug)]
struct Opts {
    cycles: u64,
    clients: usize,
    loss_ppm: u32,
    reorder_ppm: u32,
    close_first_percent: u64,
    seed: u64,
    max: StdDuration,
}

fn opts() -> Result<Opts, String> {
    let flags = [
        "--cycles",
        "--clients",
        "--loss-ppm",
        "--reorder-ppm",
        "--close-first-percent",
        "--seed",
        "--max-minutes",
    ];
    let args = parse_args(std::env::args().skip(1), &flags)?;
    let num = |name: &str, default: u64| -> Result<u64, String> {
        match wolfip_examples::arg(&args, name) {
            Some(v) => v.parse().map_err(|_| format!("bad {name} {v:?}")),
            None => Ok(default),
        }
    };
    let o = Opts {
        cycles: num("--cycles", 100_000)?,
        clients: num("--clients", 16)?.clamp(1, 64) as usize,
        loss_ppm: num("--loss-ppm", 10_000)?.min(500_000) as u32,
        reorder_ppm: num("--reorder-ppm", 20_000)?.min(1_000_000) as u32,
        close_first_percent: num("--close-first-percent", 25)?.min(100),
        seed: num("--seed", 1)?,
        max: StdDuration::from_secs(num("--max-minutes", 60)?.max(1) * 60),
    };
    Ok(o)
}

fn main() -> ExitCode {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !netns::is_root() || !netns::tun_available() {
        eprintln!("soak: needs root and /dev/net/tun");
        return ExitCode::from(77);
    }
    let run = thread::Builder::new()
        .name("soak".into())
        .stack_size(64 << 20)
        .spawn(move || soak(o))
        .map_err(|e| e.to_string())
        .and_then(|t| t.join().map_err(|_| "the soak thread panicked".to_string()))
        .and_then(|r| r);
    match run {
        Ok(()) => {
            println!("soak: PASS");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("soak: FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The Linux side of the link is [`Side::A`], the stack's [`Side::B`].
struct LossyTap {
    tap: TapDevice,
    link: SimLink,
    buf: Vec<u8>,
}

impl LossyTap {
    /// Frames Linux wrote go onto the link.
    fn pull(&mut self, now: Instant) {
        for _ in 0..256 {
            let Some(n) = self.tap.receive(now, &mut self.buf) else {
                break;
            };
            let _ = self.link.port(Side::A).transmit(now, &self.buf[..n]);
        }
    }

    /// Frames the link delivers to Linux go to the TAP.
    fn push(&mut self, now: Instant) {
        while let Some(n) = self.link.port(Side::A).receive(now, &mut self.buf) {
            let _ = self.tap.transmit(now, &self.buf[..n]);
        }
    }
}

impl Device for LossyTap {
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.pull(now);
        self.link.port(Side::B).receive(now, buf)
    }

    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        self.link.port(Side::B).transmit(now, frame)
    }
}

fn ip(args: &str) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .map_err(|e| format!("ip {args}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {args}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs in its own thread: namespace, TAP, clients, the stack's loop, the
/// final checks.
fn soak(o: Opts) -> Result<(), String> {
    netns::unshare_net().map_err(|e| format!("unshare: {e}"))?;
    let _ = std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    let tap = TapDevice::open(TAP).map_err(|e| format!("open {TAP}: {e}"))?;
    tap.set_up().map_err(|e| format!("{TAP} up: {e}"))?;
    ip(&format!("addr add 192.0.2.1/24 dev {TAP}"))?;
    // Many short connections from few ports: let Linux reuse its own
    // TIME-WAIT ports for new connections, as busy clients do.
    let _ = std::fs::write("/proc/sys/net/ipv4/tcp_tw_reuse", "1");

    let ip_cidr = "192.0.2.2/24".parse().map_err(|_| "address")?;
    let (mut stack, iface) = make_stack(DEFAULT_MAC, ip_cidr, None)?;
    let link_cfg = LinkConfig {
        loss_ppm: o.loss_ppm,
        reorder_ppm: o.reorder_ppm,
        reorder_extra: Duration::from_millis(2),
        delay: Duration::from_micros(200),
        mtu_frame: 1514,
        ..LinkConfig::default()
    };
    let mut dev = LossyTap {
        tap,
        link: SimLink::new(link_cfg, o.seed),
        buf: vec![0; 9216],
    };
    let mut server = Server::new(&mut stack)?;
    let before = stack.occupancy();

    let shared = Arc::new(Shared::default());
    let started = StdInstant::now();
    let deadline = started + o.max;
    let clients: Vec<_> = (0..o.clients)
        .map(|i| {
            let s = shared.clone();
            thread::Builder::new()
                .name(format!("client-{i}"))
                .spawn(move || client(o, &s, deadline))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;

    let clock = Clock::new();
    let mut last_report = StdInstant::now();
    let mut settle_from: Option<StdInstant> = None;
    let mut cycles_took = o.max;
    let idle = loop {
        let now = clock.now();
        dev.push(now);
        let mut next = stack.poll(now, iface, &mut dev);
        if server.run(&mut stack, now) {
            next = stack.poll(now, iface, &mut dev);
        }
        dev.push(now);
        let wall = StdInstant::now();
        if wall.duration_since(last_report) >= StdDuration::from_secs(10) {
            last_report = wall;
            eprintln!(
                "soak: {} of {} cycles done ({} failed), {:.0} s; {}",
                shared.done.load(Ordering::Relaxed),
                o.cycles,
                shared.failed.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64(),
                stack.occupancy()
            );
        }
        if settle_from.is_none() && clients.iter().all(|c| c.is_finished()) {
            settle_from = Some(wall);
            cycles_took = started.elapsed();
        }
        if let Some(t) = settle_from {
            let o_now = stack.occupancy();
            if o_now == idle_target(o_now) && server.conns.is_empty() {
                break Some(o_now);
            }
            if wall.duration_since(t) > SETTLE {
                break None;
            }
        }
        if wall > deadline + SETTLE {
            shared.stop.store(true, Ordering::Relaxed);
            break None;
        }
        let mut wait = StdDuration::from_millis(10);
        for t in [next, dev.link.next_delivery()].into_iter().flatten() {
            wait = wait.min(clock.until(t));
        }
        if !wait.is_zero() {
            let _ = dev.tap.wait_readable(Some(wait));
        }
    };
    shared.stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let elapsed = cycles_took;
    let done = shared.done.load(Ordering::Relaxed);
    let failed = shared.failed.load(Ordering::Relaxed);
    let bytes = shared.bytes.load(Ordering::Relaxed);
    let now = clock.now();
    let next_timer = stack.poll_at(now).map(|t| t - now);
    let a = dev.link.stats(Side::A);
    let b = dev.link.stats(Side::B);
    println!(
        "soak: {done} cycles ({failed} failed), {:.1} MB checked in {:.0} s, {:.0} cycles/s; \
         link to stack: {} sent {} lost {} reordered; to Linux: {} sent {} lost {} reordered",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        a.sent,
        a.lost,
        a.reordered,
        b.sent,
        b.lost,
        b.reordered
    );
    println!(
        "soak: served {} connections ({} closed by the stack first), {} bytes echoed",
        server.accepted, server.closed_first, server.bytes
    );
    println!("soak: occupancy before: {before}");
    println!("soak: occupancy after:  {}", stack.occupancy());
    println!("soak: next timer: {next_timer:?}");
    print!("{}", stack.stats());
    let errors = shared.errors.lock().map(|e| e.clone()).unwrap_or_default();
    for e in &errors {
        println!("soak: error: {e}");
    }
    let mut problems = Vec::new();
    if failed > 0 {
        problems.push(format!("{failed} cycles failed"));
    }
    if done < o.cycles {
        problems.push(format!("only {done} of {} cycles ran", o.cycles));
    }
    if idle.is_none() {
        problems.push(format!(
            "not idle {} s after the last cycle (app holds {} connections)",
            SETTLE.as_secs(),
            server.conns.len()
        ));
    }
    if next_timer.is_some_and(|d| d < Duration::from_secs(1)) {
        problems.push(format!("a timer is still running: {next_timer:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// What idle means after the run: the listener and nothing else, but for
/// Linux's ARP entry, which may be cached (or gone again).
fn idle_target(now: Occupancy) -> Occupancy {
    Occupancy {
        arp_entries: now.arp_entries.min(1),
        tcp_sockets: 1,
        tcp_listening: 1,
        ..Occupancy::default()
    }
}

#[derive(Default)]
struct Shared {
    next: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
    stop: AtomicBool,
    errors: Mutex<Vec<String>>,
}

/// splitmix64, for the cycle's mode, length and data.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn cycle_data(seed: u64, cycle: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(&mix(seed ^ cycle.rotate_left(20) ^ i).to_le_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

/// One Linux client thread: takes cycle numbers until all are taken.
fn client(o: Opts, s: &Shared, deadline: StdInstant) {
    let to: SocketAddr = ([192, 0, 2, 2], PORT).into();
    loop {
        let n = s.next.fetch_add(1, Ordering::Relaxed);
        if n >= o.cycles || s.stop.load(Ordering::Relaxed) || StdInstant::now() > deadline {
            return;
        }
        let r = mix(o.seed.wrapping_add(n));
        let close_first = r % 100 < o.close_first_percent;
        let len = ((r >> 8) % (MAX_LEN as u64 + 1)) as usize;
        match one_cycle(to, o.seed, n, close_first, len) {
            Ok(()) => {
                s.bytes.fetch_add(len as u64, Ordering::Relaxed);
            }
            Err(e) => {
                s.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut v) = s.errors.lock() {
                    if v.len() < 20 {
                        v.push(format!("cycle {n}: {e}"));
                    }
                }
            }
        }
        s.done.fetch_add(1, Ordering::Relaxed);
    }
}

fn one_cycle(
    to: SocketAddr,
    seed: u64,
    n: u64,
    close_first: bool,
    len: usize,
) -> Result<(), String> {
    let data = cycle_data(seed, n, len);
    let mut c = TcpStream::connect_timeout(&to, StdDuration::from_secs(60))
        .map_err(|e| format!("connect: {e}"))?;
    c.set_read_timeout(Some(StdDuration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    c.set_write_timeout(Some(StdDuration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut header = [0u8; 5];
    header[0] = if close_first { b'C' } else { b'E' };
    header[1..].copy_from_slice(&(len as u32).to_be_bytes());
    // The reader runs beside the writer: the echo of a long payload must
    // drain while the rest is still being written.
    let mut reader = c.try_clone().map_err(|e| e.to_string())?;
    let echo = thread::scope(|sc| {
        let r = sc.spawn(move || {
            let mut got = Vec::with_capacity(len);
            reader.read_to_end(&mut got).map(|_| got)
        });
        let w = c
            .write_all(&header)
            .and_then(|_| c.write_all(&data))
            .and_then(|_| {
                if close_first {
                    Ok(())
                } else {
                    c.shutdown(Shutdown::Write)
                }
            });
        let got = r.join().map_err(|_| "reader panicked".to_string())?;
        w.map_err(|e| format!("write: {e}"))?;
        got.map_err(|e| format!("read: {e}"))
    })?;
    if echo.len() != len {
        return Err(format!("echo of {} bytes, sent {len}", echo.len()));
    }
    if echo != data {
        let at = echo.iter().zip(&data).position(|(a, b)| a != b);
        return Err(format!("echo differs from byte {at:?} of {len}"));
    }
    Ok(())
}

/// One connection of the stack's server.
struct Conn {
    h: TcpHandle,
    header: Vec<u8>,
    /// Payload bytes still to echo, once the header is in.
    left: Option<usize>,
    close_first: bool,
}

/// The stack's side: echoes the payload, then closes as the mode says.
struct Server {
    listener: TcpHandle,
    conns: Vec<Conn>,
    accepted: u64,
    closed_first: u64,
    bytes: u64,
}

impl Server {
    fn new(stack: &mut Stack) -> Result<Server, String> {
        let l = stack.tcp_open().map_err(|e| format!("tcp_open: {e:?}"))?;
        stack
            .tcp_bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT))
            .map_err(|e| format!("tcp_bind: {e:?}"))?;
        stack
            .tcp_listen(l, 64)
            .map_err(|e| format!("tcp_listen: {e:?}"))?;
        Ok(Server {
            listener: l,
            conns: Vec::new(),
            accepted: 0,
            closed_first: 0,
            bytes: 0,
        })
    }

    /// Accepts, echoes, closes; returns whether anything happened.
    fn run(&mut self, stack: &mut Stack, now: Instant) -> bool {
        let mut progress = false;
        while let Ok((h, _)) = stack.tcp_accept(self.listener) {
            self.accepted += 1;
            self.conns.push(Conn {
                h,
                header: Vec::with_capacity(5),
                left: None,
                close_first: false,
            });
            progress = true;
        }
        let mut buf = [0u8; 16384];
        let (mut bytes, mut closed_first) = (0u64, 0u64);
        self.conns.retain_mut(|c| {
            loop {
                let want = match c.left {
                    None => 5 - c.header.len(),
                    Some(0) if c.close_first => {
                        stack.tcp_close(c.h, now);
                        closed_first += 1;
                        progress = true;
                        return false;
                    }
                    // Echoed everything: wait for the client's end.
                    Some(0) => 1,
                    Some(n) => n.min(stack.tcp_send_room(c.h)).min(buf.len()),
                };
                if want == 0 {
                    return true;
                }
                match stack.tcp_recv(c.h, &mut buf[..want]) {
                    Ok(0) => {
                        stack.tcp_close(c.h, now);
                        progress = true;
                        return false;
                    }
                    Ok(n) => {
                        progress = true;
                        match c.left {
                            None => {
                                c.header.extend_from_slice(&buf[..n]);
                                if let [mode, l0, l1, l2, l3] = c.header[..] {
                                    c.close_first = mode == b'C';
                                    c.left = Some(u32::from_be_bytes([l0, l1, l2, l3]) as usize);
                                }
                            }
                            Some(0) => {
                                // Data past the announced length: a bug
                                // on one side; reset so the client sees it.
                                stack.tcp_abort(c.h, now);
                                return false;
                            }
                            Some(left) => {
                                let sent = stack.tcp_send(c.h, &buf[..n]).unwrap_or(0);
                                if sent != n {
                                    stack.tcp_abort(c.h, now);
                                    return false;
                                }
                                bytes += n as u64;
                                c.left = Some(left - n);
                            }
                        }
                    }
                    Err(TcpRecvError::WouldBlock) => return true,
                    Err(_) => {
                        stack.tcp_close(c.h, now);
                        return false;
                    }
                }
            }
        });
        self.bytes += bytes;
        self.closed_first += closed_first;
        progress
    }
}
