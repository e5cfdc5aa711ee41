//! The Linux kernel's TCP over the benchmark's simulated link: a reference
//! for the "lossy-lfn" scenario.
//!
//! The kernel here has no `sch_netem`, so two network namespaces are
//! bridged in user space through a [`SimLink`] that runs in real time:
//!
//! * namespace A (thread `lfn-a`): TAP `lfna`, 192.0.2.1/24, the sender;
//! * namespace B (thread `lfn-b`): TAP `lfnb`, 192.0.2.2/24, the receiver;
//! * the calling thread (whose namespace is never changed) reads frames
//!   from each TAP, hands them to the link's port of that side stamped with
//!   the elapsed wall time, and writes frames the link delivers to the
//!   other TAP.
//!
//! Every frame, including the first SYN, crosses the link and may be lost.
//! There is no ARP: each side has a fixed MAC address and a permanent
//! neighbour entry for the other, and IPv6 is disabled in both namespaces,
//! so the link carries nothing but the TCP connection.
//!
//! The sender's socket gets the congestion control by name (the host
//! default may be something else, e.g. BBR, and a new namespace inherits
//! it). Both namespaces get `tcp_rmem` and `tcp_wmem` = `4096 1.5*buffer
//! 1.5*buffer` (per namespace, no `unsafe` socket options): Linux
//! advertises only part of its receive buffer, the rest covering per-packet
//! overhead (6.x measures the payload/truesize ratio, about 2/3 on these
//! TAPs), so the window comes out at about `buffer` (254 KiB for 256 KiB,
//! `snd_wnd` in `ss`), like the other stacks' receive windows. (Setting
//! `SO_RCVBUF` = `buffer`, which Linux doubles, would give about 1.3 ×
//! `buffer`.) The send buffer holds roughly `buffer` bytes of payload.
//!
//! The namespaces and interfaces exist only while the function runs: they
//! belong to threads that exit and to TAP descriptors that are closed
//! before it returns. Nothing of the host is touched.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use socket2::{Domain, Protocol, Socket, Type};
use wolfip_core::phy::sim::{LinkConfig, LinkStats, Side, SimLink};
use wolfip_core::phy::Device;
use wolfip_tap::{netns, wait_readable_any, Clock, TapDevice};

/// The receiver's TCP port.
const PORT: u16 = 5201;
/// The congestion control of [`linux_over_sim`].
pub const DEFAULT_CC: &str = "cubic";
/// Extra wall time, beyond the transfer, within which a run always ends.
const GRACE: StdDuration = StdDuration::from_secs(14);
/// Timeout of each blocking socket call, so threads notice deadlines.
const POLL: StdDuration = StdDuration::from_millis(200);

/// One end of the bridged link.
struct End {
    tap: &'static str,
    ip: Ipv4Addr,
    mac: &'static str,
}

/// The sender's end.
const END_A: End = End {
    tap: "lfna",
    ip: Ipv4Addr::new(192, 0, 2, 1),
    mac: "02:00:00:00:0a:01",
};
/// The receiver's end.
const END_B: End = End {
    tap: "lfnb",
    ip: Ipv4Addr::new(192, 0, 2, 2),
    mac: "02:00:00:00:0a:02",
};

/// What one run measured.
#[derive(Debug)]
pub struct LinuxReport {
    /// Payload bytes the receiver read in its measuring interval.
    pub bytes: u64,
    /// The interval: from the first byte read to the end, in seconds.
    pub secs: f64,
    /// `bytes * 8 / secs / 1e6`.
    pub goodput_mbps: f64,
    /// The congestion control read back from the sender's socket.
    pub cc: String,
    /// Link counters for frames sent by A (data) and by B (ACKs).
    pub link: [LinkStats; 2],
    /// Latest and mean lateness of a delivery of the bridge, microseconds.
    pub late_max_us: u64,
    /// See `late_max_us`.
    pub late_mean_us: f64,
    /// Frames a TAP refused on delivery (dropped, not on the link's count).
    pub tap_busy: u64,
    /// `ss -tin` of the sender just before it stopped.
    pub sender_ss: String,
    /// Selected `Tcp`/`TcpExt` counters of the sender's namespace.
    pub sender_counters: Vec<(String, u64)>,
}

/// Goodput in Mbit/s of the kernel's default-for-this-benchmark congestion
/// control ([`DEFAULT_CC`]) sending for `secs` seconds over a link with
/// `cfg` seeded with `seed`, with `buffer`-byte socket buffers. Prints one
/// progress line to stderr. Needs root and `/dev/net/tun`.
pub fn linux_over_sim(cfg: LinkConfig, seed: u64, secs: u64, buffer: usize) -> Result<f64, String> {
    let r = run(cfg, seed, secs, buffer, DEFAULT_CC)?;
    let [a, b] = r.link;
    let ss: Vec<&str> = r.sender_ss.split_whitespace().collect();
    let ss = |key: &str| ss.iter().find_map(|t| t.strip_prefix(key)).unwrap_or("?");
    let counters: Vec<String> = r
        .sender_counters
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    eprintln!(
        "linux-over-sim: {:.2} Mbit/s ({} B in {:.1} s, cc {}, data lost {}/{} queue-drop {}, acks lost {}/{}; \
         sender at the end: cwnd {} ssthresh {} rtt {} snd_wnd {}; {}; bridge late max {} us mean {:.0} us, tap busy {})",
        r.goodput_mbps, r.bytes, r.secs, r.cc, a.lost, a.sent, a.queue_drops, b.lost, b.sent,
        ss("cwnd:"), ss("ssthresh:"), ss("rtt:"), ss("snd_wnd:"), counters.join(" "),
        r.late_max_us, r.late_mean_us, r.tap_busy
    );
    Ok(r.goodput_mbps)
}

/// One run with congestion control `cc` (a name from
/// `net.ipv4.tcp_available_congestion_control`); see [`linux_over_sim`].
/// Ends within `secs` + 14 s whatever happens.
pub fn run(
    cfg: LinkConfig,
    seed: u64,
    secs: u64,
    buffer: usize,
    cc: &str,
) -> Result<LinuxReport, String> {
    if !netns::is_root() || !netns::tun_available() {
        return Err("needs root and /dev/net/tun".into());
    }
    let hard = StdInstant::now() + StdDuration::from_secs(secs) + GRACE;
    let measure = StdDuration::from_secs(secs);
    let done = Arc::new(AtomicBool::new(false));
    let (ready_b, rx_b) = mpsc::channel();
    let d = done.clone();
    let server = spawn("lfn-b", move || {
        receiver(ready_b, buffer, measure, hard, &d)
    })?;
    let tap_b = rx_b.recv_timeout(StdDuration::from_secs(10));
    let (ready_a, rx_a) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (d, c) = (done.clone(), cc.to_string());
    let client = match spawn("lfn-a", move || {
        sender(ready_a, go_rx, &c, buffer, hard, &d)
    }) {
        Ok(c) => c,
        Err(e) => {
            done.store(true, Ordering::Relaxed);
            let _ = server.join();
            return Err(e);
        }
    };
    let tap_a = rx_a.recv_timeout(StdDuration::from_secs(10));
    let (mut tap_a, mut tap_b) = match (tap_a, tap_b) {
        (Ok(Ok(a)), Ok(Ok(b))) => (a, b),
        (a, b) => {
            drop(go_tx);
            done.store(true, Ordering::Relaxed);
            let _ = (server.join(), client.join());
            let why = |r: Result<Result<TapDevice, String>, _>| match r {
                Ok(Ok(_)) => "ok".to_string(),
                Ok(Err(e)) => e,
                Err(_) => "no answer".to_string(),
            };
            return Err(format!("setup: A {}, B {}", why(a), why(b)));
        }
    };
    let mut link = SimLink::new(cfg, seed);
    let _ = go_tx.send(());
    let stats = bridge(&mut link, &mut tap_a, &mut tap_b, || {
        StdInstant::now() >= hard || (server.is_finished() && client.is_finished())
    });
    done.store(true, Ordering::Relaxed);
    let recv = server.join().map_err(|_| "receiver panicked".to_string())?;
    let send = client.join().map_err(|_| "sender panicked".to_string())?;
    let (bytes, secs) = recv?;
    let (cc, sender_ss, sender_counters) = send?;
    if bytes == 0 || secs <= 0.0 {
        return Err("no data received".into());
    }
    Ok(LinuxReport {
        bytes,
        secs,
        goodput_mbps: bytes as f64 * 8.0 / secs / 1e6,
        cc,
        link: [link.stats(Side::A), link.stats(Side::B)],
        late_max_us: stats.late_max_us,
        late_mean_us: stats.late_sum_us as f64 / stats.deliveries.max(1) as f64,
        tap_busy: stats.tap_busy,
        sender_ss,
        sender_counters,
    })
}

/// Spawns a named thread.
fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<T>, String> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| format!("spawn {name}: {e}"))
}

/// Counters of the bridge loop.
#[derive(Default)]
struct BridgeStats {
    deliveries: u64,
    late_sum_us: u64,
    late_max_us: u64,
    tap_busy: u64,
}

/// Moves frames between the TAPs and the link until `stop` says so.
///
/// Waits in poll(2) on both TAPs with whole-millisecond timeouts that end
/// 0.2 ms before the next delivery is due, then sleeps in steps of at most
/// 100 µs, so deliveries are late by about 0.1 ms without spinning a core.
fn bridge(
    link: &mut SimLink,
    a: &mut TapDevice,
    b: &mut TapDevice,
    stop: impl Fn() -> bool,
) -> BridgeStats {
    let clock = Clock::new();
    let fds = [a.as_raw_fd(), b.as_raw_fd()];
    let mut buf = vec![0u8; 9216];
    let mut s = BridgeStats::default();
    while !stop() {
        let now = clock.now();
        for (side, tap) in [(Side::A, &mut *a), (Side::B, &mut *b)] {
            for _ in 0..256 {
                let Some(n) = tap.receive(now, &mut buf) else {
                    break;
                };
                let _ = link.port(side).transmit(now, &buf[..n]);
            }
        }
        let now = clock.now();
        if let Some(due) = link.next_delivery().filter(|d| *d <= now) {
            let late = (now - due).total_micros();
            s.late_max_us = s.late_max_us.max(late);
            s.late_sum_us += late;
            s.deliveries += 1;
        }
        // Port B receives what A sent, and the other way round.
        for (side, tap) in [(Side::B, &mut *b), (Side::A, &mut *a)] {
            while let Some(n) = link.port(side).receive(now, &mut buf) {
                if tap.transmit(now, &buf[..n]).is_err() {
                    s.tap_busy += 1;
                }
            }
        }
        let wait = link
            .next_delivery()
            .map_or(StdDuration::from_millis(20), |t| clock.until(t))
            .min(StdDuration::from_millis(20));
        if wait >= StdDuration::from_micros(1200) {
            let ms = (wait - StdDuration::from_micros(200)).as_millis() as u64;
            let _ = wait_readable_any(&fds, Some(StdDuration::from_millis(ms)));
        } else if !wait.is_zero() {
            thread::sleep(wait.min(StdDuration::from_micros(100)));
        }
    }
    s
}

/// Writes `value` to `/proc/sys/net/KEY` (KEY with slashes); the file
/// belongs to the calling thread's network namespace.
fn sysctl(key: &str, value: &str) -> Result<(), String> {
    std::fs::write(format!("/proc/sys/net/{key}"), value)
        .map_err(|e| format!("sysctl {key}={value}: {e}"))
}

/// Runs `ip` with the words of `args` in the calling thread's namespace.
fn ip(args: &str) -> Result<(), String> {
    let out = Command::new("ip").args(args.split_whitespace()).output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "ip {args}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("ip {args}: {e}")),
    }
}

/// Moves the calling thread into a new namespace and sets it up as `me`
/// talking to `peer`: TCP settings, TAP, address, static neighbour.
fn setup(me: &End, peer: &End, buffer: usize) -> Result<TapDevice, String> {
    netns::unshare_net().map_err(|e| format!("unshare: {e}"))?;
    // Best effort: without IPv6 the link carries nothing but our TCP.
    let _ = sysctl("ipv6/conf/default/disable_ipv6", "1");
    let _ = sysctl("ipv6/conf/all/disable_ipv6", "1");
    let mem = format!("4096 {} {}", 3 * buffer / 2, 3 * buffer / 2);
    sysctl("ipv4/tcp_rmem", &mem)?;
    sysctl("ipv4/tcp_wmem", &mem)?;
    let tap = TapDevice::open(me.tap).map_err(|e| format!("open {}: {e}", me.tap))?;
    let name = tap.name();
    ip(&format!(
        "link set dev {name} address {} mtu 1500 up",
        me.mac
    ))?;
    ip(&format!("addr add {}/24 dev {name}", me.ip))?;
    let (pip, pmac) = (peer.ip, peer.mac);
    ip(&format!(
        "neigh replace {pip} lladdr {pmac} dev {name} nud permanent"
    ))?;
    Ok(tap)
}

/// Hands the TAP of a set-up namespace (or the error) to the bridge.
fn announce<T>(
    ready: &mpsc::Sender<Result<TapDevice, String>>,
    r: Result<(TapDevice, T), String>,
) -> Result<T, String> {
    let (msg, r) = match r {
        Ok((tap, x)) => (Ok(tap), Ok(x)),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    let _ = ready.send(msg);
    r
}

/// Whether a socket error only means "try again" (a timeout expired).
fn transient(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}

/// Thread B: counts the bytes read during `measure` from the first one,
/// then sets `done` and drains until the sender closes. Returns the count
/// and the interval in seconds. Only counts; the payload is not checked.
fn receiver(
    ready: mpsc::Sender<Result<TapDevice, String>>,
    buffer: usize,
    measure: StdDuration,
    hard: StdInstant,
    done: &AtomicBool,
) -> Result<(u64, f64), String> {
    let listener = announce(
        &ready,
        setup(&END_B, &END_A, buffer).and_then(|tap| {
            let l = TcpListener::bind((END_B.ip, PORT)).map_err(|e| format!("bind: {e}"))?;
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            Ok((tap, l))
        }),
    )?;
    let mut stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e)
                if e.kind() == ErrorKind::WouldBlock
                    && StdInstant::now() < hard
                    && !done.load(Ordering::Relaxed) =>
            {
                thread::sleep(StdDuration::from_millis(5));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    };
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(POLL))
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65536];
    let (mut first, mut bytes, mut secs) = (None::<StdInstant>, 0u64, 0.0);
    let mut drain_until = hard;
    loop {
        let now = StdInstant::now();
        if now >= drain_until {
            break;
        }
        if let Some(f) = first.filter(|f| secs == 0.0 && now >= *f + measure) {
            secs = (now - f).as_secs_f64();
            done.store(true, Ordering::Relaxed);
            drain_until = drain_until.min(now + StdDuration::from_secs(3));
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) if secs == 0.0 => {
                first.get_or_insert_with(StdInstant::now);
                bytes += n as u64;
            }
            Ok(_) => {}
            Err(e) if transient(&e) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    if secs == 0.0 {
        // The sender stopped early (deadline or error): measure up to now.
        secs = first.map_or(0.0, |f| f.elapsed().as_secs_f64());
        done.store(true, Ordering::Relaxed);
    }
    Ok((bytes, secs))
}

/// What the sender reports: congestion control, `ss -tin`, counters.
type SenderInfo = (String, String, Vec<(String, u64)>);

/// Thread A: connects once told to go, writes until `done`, then records
/// its socket and namespace state and closes.
fn sender(
    ready: mpsc::Sender<Result<TapDevice, String>>,
    go: mpsc::Receiver<()>,
    cc: &str,
    buffer: usize,
    hard: StdInstant,
    done: &AtomicBool,
) -> Result<SenderInfo, String> {
    announce(&ready, setup(&END_A, &END_B, buffer).map(|tap| (tap, ())))?;
    go.recv_timeout(StdDuration::from_secs(10))
        .map_err(|_| "no go".to_string())?;
    let addr = SocketAddr::from((END_B.ip, PORT));
    let give_up = StdInstant::now() + StdDuration::from_secs(10);
    // The congestion control is set on the socket: a namespace other than
    // the initial one may only pick those of the host's
    // `tcp_allowed_congestion_control` as its default, a socket of a
    // process with CAP_NET_ADMIN any available one.
    let connect = || -> std::io::Result<(TcpStream, String)> {
        let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        s.set_tcp_congestion(cc.as_bytes())?;
        let cc = String::from_utf8_lossy(&s.tcp_congestion()?)
            .trim_end_matches('\0')
            .to_string();
        // SYNs cross the lossy link; the kernel retries them itself.
        s.connect_timeout(&addr.into(), StdDuration::from_secs(4))?;
        Ok((s.into(), cc))
    };
    let (mut stream, cc) = loop {
        match connect() {
            Ok(s) => break s,
            Err(e) if StdInstant::now() >= give_up || done.load(Ordering::Relaxed) => {
                return Err(format!("connect: {e}"))
            }
            Err(_) => thread::sleep(StdDuration::from_millis(100)),
        }
    };
    stream
        .set_write_timeout(Some(POLL))
        .map_err(|e| e.to_string())?;
    let chunk = vec![0x5au8; 65536];
    while !done.load(Ordering::Relaxed) && StdInstant::now() < hard {
        match stream.write(&chunk) {
            Ok(_) => {}
            Err(e) if transient(&e) => {}
            Err(e) => return Err(format!("write: {e}")),
        }
    }
    let ss = Command::new("ss")
        .args(["-tin", "dst", &END_B.ip.to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| format!("ss: {e}"));
    drop(stream);
    Ok((cc, ss, counters()))
}

/// Selected counters of the calling thread's namespace, named
/// `Tcp.X`/`TcpExt.X`, from `/proc/thread-self/net/{snmp,netstat}`.
fn counters() -> Vec<(String, u64)> {
    const WANT: &str = "Tcp.OutSegs Tcp.RetransSegs TcpExt.TCPSackRecovery \
        TcpExt.TCPFastRetrans TcpExt.TCPLossProbes TcpExt.TCPLossProbeRecovery \
        TcpExt.TCPTimeouts TcpExt.TCPLostRetransmit TcpExt.TCPSpuriousRTOs \
        TcpExt.TCPDSACKRecv TcpExt.TCPSACKReorder TcpExt.TCPSlowStartRetrans";
    let mut out = Vec::new();
    for file in ["snmp", "netstat"] {
        let text =
            std::fs::read_to_string(format!("/proc/thread-self/net/{file}")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.chunks(2) {
            let [head, vals] = pair else { continue };
            let (mut h, mut v) = (head.split_whitespace(), vals.split_whitespace());
            let group = h.next().unwrap_or("").trim_end_matches(':');
            v.next();
            for (k, val) in h.zip(v) {
                let name = format!("{group}.{k}");
                if WANT.split_whitespace().any(|w| w == name) {
                    out.push((name, val.parse().unwrap_or(0)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wolfip_core::Duration;

    /// Whether the tests can run here; says why not.
    fn can_run() -> bool {
        let ok = netns::is_root() && netns::tun_available();
        if !ok {
            eprintln!("skipped: needs root and /dev/net/tun");
        }
        ok
    }

    #[test]
    fn perfect_link_is_fast() {
        if !can_run() {
            return;
        }
        let cfg = LinkConfig {
            delay: Duration::from_millis(1),
            ..LinkConfig::default()
        };
        let r = run(cfg, 1, 2, 256 * 1024, DEFAULT_CC).unwrap();
        eprintln!("{r:#?}");
        assert_eq!(r.link[0].lost + r.link[1].lost, 0);
        assert!(r.goodput_mbps > 50.0, "{r:?}");
    }

    /// The "lossy-lfn" link of the benchmark, for `LFN_SECS` seconds
    /// (default 10) and `LFN_CC` (default cubic):
    /// `cargo test -p wolfip-bench --release lossy_lfn -- --ignored --nocapture`.
    #[test]
    #[ignore = "takes LFN_SECS seconds"]
    fn lossy_lfn() {
        if !can_run() {
            return;
        }
        let cfg = LinkConfig {
            delay: Duration::from_millis(25),
            bandwidth_bps: 100_000_000,
            queue_frames: 625_000usize.div_ceil(1514),
            loss_ppm: 10_000,
            mtu_frame: 1514,
            ..LinkConfig::default()
        };
        let secs = std::env::var("LFN_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        match std::env::var("LFN_CC") {
            Ok(cc) => eprintln!("{:#?}", run(cfg, 2, secs, 256 * 1024, &cc).unwrap()),
            Err(_) => assert!(linux_over_sim(cfg, 2, secs, 256 * 1024).unwrap() > 0.0),
        }
    }
}
