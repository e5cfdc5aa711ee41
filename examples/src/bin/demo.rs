//! The first thing to run: the stack on a TAP device in a private network
//! namespace, driven from the Linux side with real tools and kernel
//! sockets (ping, UDP echo, TCP echo, a bulk TCP transfer), a C program on
//! the socket library, a DHCP lease and DNS lookups from dnsmasq, and a
//! short report of what happened.
//!
//! Needs root (for the namespace and the TAP device), `/dev/net/tun`,
//! `ip` and `ss` (iproute2), `ping` (iputils-ping) and `dnsmasq`
//! (dnsmasq-base). Nothing outside the private namespace is touched;
//! addresses come from 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24
//! (RFC 5737).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant as StdInstant};
use wolfip_examples::Fnv;

use wolfip_core::dhcp::{DhcpConfig, DhcpState};
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{Ipv4Addr, SocketAddrV4};
use wolfip_examples::dnsmasq::{self, Dnsmasq, DnsmasqConfig};
use wolfip_examples::{
    describe_lease, drive_until, make_stack, make_unconfigured_stack, run_loop, TapDev, TcpEcho,
    UdpEcho, DEFAULT_MAC,
};
use wolfip_tap::{netns, Clock};

const TAP: &str = "wolfip0";
const LINUX_IP: &str = "192.0.2.1";
const STACK_IP: &str = "192.0.2.2";
const ECHO_PORT: u16 = 4242;
const HELLO_PORT: u16 = 5555;
/// Bytes sent through the TCP echo and back in the bulk check.
const BULK_BYTES: usize = 20 << 20;
/// The bulk check gives up after this long, whatever its progress.
const BULK_LIMIT: Duration = Duration::from_secs(30);
/// Stack size of the thread that builds the `Stack`: it is built by value
/// (about 2.6 MB with this repository's host profile, more than std's
/// 2 MiB default thread stack) before it goes into its `Box`.
const STACK_THREAD_BYTES: usize = 64 << 20;

/// The DHCP and DNS step: its TAP, dnsmasq's address on it, the stack's
/// MAC and hostname, and a name of dnsmasq's host list (and its alias).
const DHCP_TAP: &str = "wolfipd0";
const DHCP_SERVER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const DHCP_MAC: EthernetAddress = EthernetAddress([0x02, 0x57, 0x49, 0x50, 0x00, 0x02]);
const DHCP_HOSTNAME: &str = "wolfip-demo";
const DNS_NAME: &str = "nas.demo";
const DNS_ALIAS: &str = "www.demo";
const DNS_ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 20);

struct Report {
    lines: Vec<(bool, String)>,
}

impl Report {
    fn check(&mut self, ok: bool, what: String) {
        println!("  [{}] {what}", if ok { " ok " } else { "FAIL" });
        self.lines.push((ok, what));
    }
    fn failures(&self) -> usize {
        self.lines.iter().filter(|(ok, _)| !ok).count()
    }
}

fn main() -> ExitCode {
    if let Err(missing) = preflight() {
        eprintln!("demo: cannot run here: {missing}\n");
        eprintln!("The demo needs:");
        eprintln!("  - root (run it with sudo): it creates a private network namespace and a TAP device in it");
        eprintln!("  - /dev/net/tun (the tun kernel module)");
        eprintln!(
            "  - ip and ss (Debian package iproute2), ping (iputils-ping), dnsmasq (dnsmasq-base)"
        );
        eprintln!("Nothing outside the private namespace is touched.");
        return ExitCode::from(2);
    }
    println!("{}\n", wolfip_core::config::report());
    // The whole demo runs in one thread moved into a fresh namespace; the
    // namespace and its TAP vanish when the demo ends.
    let result = match spawn_large("demo", demo) {
        Ok(handle) => handle.join(),
        Err(e) => Ok(Err(e)),
    };
    match result {
        Ok(Ok(0)) => {
            println!("\nAll checks passed.");
            ExitCode::SUCCESS
        }
        Ok(Ok(n)) => {
            println!("\n{n} check(s) failed.");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}

fn preflight() -> Result<(), String> {
    if !netns::is_root() {
        return Err("not running as root".into());
    }
    if !netns::tun_available() {
        return Err("/dev/net/tun cannot be opened".into());
    }
    for (tool, arg) in [("ip", "-V"), ("ss", "-V"), ("ping", "-V")] {
        if Command::new(tool).arg(arg).output().is_err() {
            return Err(format!("`{tool}` is not installed"));
        }
    }
    if !dnsmasq::available() {
        return Err(format!(
            "`dnsmasq` is not installed (looked for {})",
            dnsmasq::binary().display()
        ));
    }
    Ok(())
}

/// Spawns a named thread with a stack large enough to build a `Stack` on.
fn spawn_large<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<thread::JoinHandle<T>, String> {
    thread::Builder::new()
        .name(name.into())
        .stack_size(STACK_THREAD_BYTES)
        .spawn(f)
        .map_err(|e| format!("spawning thread {name}: {e}"))
}

fn sh(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `ping` and returns (received, transmitted, average rtt text).
fn ping(size: usize, count: usize) -> (usize, usize, String) {
    let out = Command::new("ping")
        .args([
            "-c",
            &count.to_string(),
            "-W",
            "2",
            "-i",
            "0.2",
            "-s",
            &size.to_string(),
            STACK_IP,
        ])
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut received = 0;
    let mut rtt = String::from("-");
    for line in text.lines() {
        if let Some((tx, rest)) = line.split_once(" packets transmitted, ") {
            let _ = tx;
            received = rest
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
        if let Some((_, v)) = line.split_once(" = ") {
            rtt = v
                .split('/')
                .nth(1)
                .map(|a| format!("{a} ms"))
                .unwrap_or(rtt);
        }
    }
    (received, count, rtt)
}

fn demo() -> Result<usize, String> {
    netns::unshare_net().map_err(|e| format!("unshare(CLONE_NEWNET): {e}"))?;
    let mut dev = TapDev::open(TAP, None).map_err(|e| format!("TAP {TAP}: {e}"))?;
    sh(&["ip", "addr", "add", &format!("{LINUX_IP}/24"), "dev", TAP])?;
    println!("Private namespace: Linux at {LINUX_IP}/24 on {TAP}, wolfip at {STACK_IP}/24 ({DEFAULT_MAC})\n");

    // The Linux side listens before the stack starts: the stack's first
    // datagram to it needs an ARP resolution by the stack.
    let hello_rx = UdpSocket::bind((LINUX_IP, HELLO_PORT)).map_err(|e| format!("bind: {e}"))?;
    hello_rx.set_read_timeout(Some(Duration::from_secs(3))).ok();

    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let stack_thread = spawn_large("wolfip", move || -> Result<_, String> {
        let (mut stack, iface) =
            make_stack(DEFAULT_MAC, format!("{STACK_IP}/24").parse().unwrap(), None)?;
        let mut echo = UdpEcho::new(&mut stack, ECHO_PORT)?;
        let mut tcp_echo = TcpEcho::new(&mut stack, ECHO_PORT, 8)?;
        let hello = stack.udp_open().map_err(|e| format!("{e:?}"))?;
        let clock = Clock::new();
        let to = SocketAddrV4::new(LINUX_IP.parse::<Ipv4Addr>().unwrap(), HELLO_PORT);
        stack
            .udp_send_to(hello, b"hello from wolfip", Some(to), clock.now())
            .map_err(|e| format!("hello: {e:?}"))?;
        run_loop(
            &mut stack,
            iface,
            &mut dev,
            &clock,
            |s, now| {
                let u = echo.run(s, now);
                let t = tcp_echo.run(s, now);
                u || t
            },
            || stop_flag.load(Ordering::SeqCst),
            Duration::from_millis(50),
        );
        let arp: Vec<_> = stack.arp_entries(iface).collect();
        let tcp = (tcp_echo.accepted, tcp_echo.bytes);
        Ok((*stack.stats(), arp, echo.echoed, tcp))
    })?;

    let mut report = Report { lines: Vec::new() };
    println!("Checks, driven from the Linux side:");

    // 1. ARP by the stack: its first datagram reaches Linux.
    let mut buf = [0u8; 4096];
    let t = StdInstant::now();
    let hello = hello_rx.recv_from(&mut buf);
    report.check(
        matches!(&hello, Ok((n, from)) if &buf[..*n] == b"hello from wolfip" && from.ip().to_string() == STACK_IP),
        format!("stack resolved {LINUX_IP} by ARP; its first datagram arrived ({:.1} ms)", t.elapsed().as_secs_f64() * 1e3),
    );

    // 2. Ping, small and fragmented.
    for size in [56usize, 4000] {
        let (rx, tx, rtt) = ping(size, 3);
        let frag = if size + 28 > 1500 {
            ", fragmented both ways"
        } else {
            ""
        };
        report.check(
            rx == tx,
            format!("ping -s {size}: {rx}/{tx} replies, avg rtt {rtt}{frag}"),
        );
    }

    // 3. UDP echo from a Linux socket, including a fragmented datagram.
    let sock = UdpSocket::bind((LINUX_IP, 0)).map_err(|e| format!("bind: {e}"))?;
    sock.set_read_timeout(Some(Duration::from_secs(2))).ok();
    sock.connect((STACK_IP, ECHO_PORT))
        .map_err(|e| format!("connect: {e}"))?;
    let mut ok = 0;
    let sizes = [1usize, 64, 512, 1472, 3000];
    let t = StdInstant::now();
    for (i, &size) in sizes.iter().enumerate() {
        let msg: Vec<u8> = (0..size).map(|b| (b * 31 + i * 7) as u8).collect();
        if sock.send(&msg).is_ok() {
            if let Ok(n) = sock.recv(&mut buf) {
                if buf[..n] == msg[..] {
                    ok += 1;
                }
            }
        }
    }
    report.check(
        ok == sizes.len(),
        format!(
            "UDP echo on port {ECHO_PORT}: {ok}/{} datagrams of {sizes:?} bytes came back intact ({:.1} ms)",
            sizes.len(),
            t.elapsed().as_secs_f64() * 1e3
        ),
    );

    // 4. TCP echo from a kernel socket, and what Linux negotiated with the
    // stack's SYN-ACK.
    tcp_echo_check(&mut report)?;

    // 5. A bulk transfer through the TCP echo, both ways at once.
    tcp_bulk_check(&mut report)?;

    // 6. ARP by Linux: the kernel's neighbour table holds our MAC.
    let neigh = sh(&["ip", "neigh", "show", STACK_IP, "dev", TAP]).unwrap_or_default();
    report.check(
        neigh.contains(&DEFAULT_MAC.to_string()),
        format!("Linux resolved {STACK_IP}: `{}`", neigh.trim()),
    );

    stop.store(true, Ordering::SeqCst);
    let (stats, arp, echoed, (accepted, echoed_bytes)) = stack_thread
        .join()
        .map_err(|_| "stack thread panicked".to_string())??;
    report.check(
        arp.iter().any(|(ip, _)| ip.to_string() == LINUX_IP),
        format!(
            "stack's ARP cache: {}",
            arp.iter()
                .map(|(ip, mac)| format!("{ip} at {mac}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    // 7. The C echo server: C code on libwolfip_bsd.a, on its own TAP.
    for (ok, what) in wolfip_examples::c_echo::run_step() {
        report.check(ok, what);
    }
    // 8. A DHCP lease and DNS lookups from dnsmasq, on a third TAP.
    if let Err(e) = dhcp_dns_step(&mut report) {
        report.check(false, format!("DHCP lease and DNS from dnsmasq: {e}"));
    }
    let t = &stats.tcp;
    report.check(
        accepted >= 2 && t.passive_opens >= 2 && t.drop_checksum == 0 && t.drop_malformed == 0,
        format!(
            "stack's TCP: {accepted} connections accepted, {echoed_bytes} bytes echoed, \
             {} segments in / {} out, {} retransmitted, {} checksum errors",
            t.rx, t.tx, t.retransmits, t.drop_checksum
        ),
    );
    println!(
        "\nStack counters (UDP datagrams echoed: {echoed}; TCP bytes echoed: {echoed_bytes}):\n{stats}"
    );
    Ok(report.failures())
}

fn stack_addr() -> SocketAddr {
    SocketAddr::from((STACK_IP.parse::<std::net::Ipv4Addr>().unwrap(), ECHO_PORT))
}

/// Connects a kernel TCP socket to the stack's echo port, with timeouts on
/// every call.
fn tcp_connect(timeout: Duration) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&stack_addr(), Duration::from_secs(3))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    Ok(s)
}

/// Messages of several sizes through the stack's `TcpEcho`, each read back
/// whole before the next; then `ss -ti` shows the options Linux took from
/// the stack's SYN-ACK.
fn tcp_echo_check(report: &mut Report) -> Result<(), String> {
    let t = StdInstant::now();
    let mut sock = match tcp_connect(Duration::from_secs(3)) {
        Ok(s) => s,
        Err(e) => {
            report.check(false, format!("TCP connect to {STACK_IP}:{ECHO_PORT}: {e}"));
            return Ok(());
        }
    };
    let connect_ms = t.elapsed().as_secs_f64() * 1e3;
    sock.set_nodelay(true).ok();
    let sizes = [1usize, 100, 1460, 5000, 40_000];
    let mut ok = 0;
    let t = StdInstant::now();
    for (i, &size) in sizes.iter().enumerate() {
        let msg: Vec<u8> = (0..size).map(|b| (b * 13 + i * 101) as u8).collect();
        let mut back = vec![0u8; size];
        if sock.write_all(&msg).is_ok() && sock.read_exact(&mut back).is_ok() && back == msg {
            ok += 1;
        }
    }
    report.check(
        ok == sizes.len(),
        format!(
            "TCP echo on port {ECHO_PORT}: connected in {connect_ms:.1} ms; {ok}/{} messages of \
             {sizes:?} bytes came back intact ({:.1} ms)",
            sizes.len(),
            t.elapsed().as_secs_f64() * 1e3
        ),
    );

    // The connection is still open: ask the kernel what it negotiated.
    // (`ss` 6.1 prints the `ts` and `sack` flags only with `-e`.)
    let ss = sh(&["ss", "-tine"]).unwrap_or_default();
    let peer = format!("{STACK_IP}:{ECHO_PORT}");
    let info = ss
        .lines()
        .skip_while(|l| !(l.starts_with("ESTAB") && l.contains(&peer)))
        .nth(1)
        .unwrap_or("");
    let opts: Vec<&str> = info
        .split_whitespace()
        .filter(|w| {
            matches!(*w, "ts" | "sack")
                || w.starts_with("wscale:")
                || w.starts_with("mss:")
                || w.starts_with("rtt:")
        })
        .collect();
    let has = |name: &str| opts.iter().any(|w| w.split(':').next() == Some(name));
    report.check(
        has("ts") && has("sack") && has("wscale") && has("mss"),
        format!(
            "Linux took the SYN-ACK's options (ss -tie): {}",
            if opts.is_empty() {
                "none found".to_string()
            } else {
                opts.join(" ")
            }
        ),
    );

    // Orderly close: our FIN, the echo's FIN after its data.
    sock.shutdown(Shutdown::Write).ok();
    let mut rest = [0u8; 64];
    let closed = matches!(sock.read(&mut rest), Ok(0));
    report.check(
        closed,
        "TCP close: after our FIN the stack closed its side too (read returned end of stream)"
            .to_string(),
    );
    Ok(())
}

/// `BULK_BYTES` of pseudo-random data from Linux through the stack's TCP
/// echo and back, written and read at the same time by two threads. Each
/// side hashes its bytes; the throughputs are measured on the Linux side:
/// the sending one up to the last write (so it includes what Linux's send
/// buffer still held), the receiving one up to the last byte read.
fn tcp_bulk_check(report: &mut Report) -> Result<(), String> {
    let sock = match tcp_connect(Duration::from_secs(5)) {
        Ok(s) => s,
        Err(e) => {
            report.check(false, format!("TCP bulk: connect: {e}"));
            return Ok(());
        }
    };
    let mut writer_sock = sock.try_clone().map_err(|e| format!("try_clone: {e}"))?;
    let start = StdInstant::now();
    let writer = thread::spawn(move || -> (std::io::Result<()>, u64, Duration) {
        let mut hash = Fnv::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut chunk = vec![0u8; 64 << 10];
        let mut left = BULK_BYTES;
        while left > 0 {
            let n = left.min(chunk.len());
            for word in chunk[..n].chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                word.copy_from_slice(&x.to_le_bytes()[..word.len()]);
            }
            hash.update(&chunk[..n]);
            if let Err(e) = writer_sock.write_all(&chunk[..n]) {
                return (Err(e), hash.0, start.elapsed());
            }
            left -= n;
        }
        let r = writer_sock.shutdown(Shutdown::Write);
        (r, hash.0, start.elapsed())
    });

    let mut reader = sock;
    let mut hash = Fnv::new();
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 << 10];
    let read_result = loop {
        if start.elapsed() > BULK_LIMIT {
            break Err(format!("gave up after {} s", BULK_LIMIT.as_secs()));
        }
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                hash.update(&buf[..n]);
                got += n;
            }
            Err(e) => break Err(e.to_string()),
        }
    };
    let down = start.elapsed();
    if read_result.is_err() {
        // Unblock the writer.
        reader.shutdown(Shutdown::Both).ok();
    }
    let (write_result, sent_hash, up) = writer
        .join()
        .map_err(|_| "bulk writer thread panicked".to_string())?;
    let mbit = |d: Duration| BULK_BYTES as f64 * 8.0 / d.as_secs_f64().max(1e-6) / 1e6;
    let mb = BULK_BYTES >> 20;
    let ok =
        read_result.is_ok() && write_result.is_ok() && got == BULK_BYTES && hash.0 == sent_hash;
    let what = if ok {
        format!(
            "TCP bulk: {mb} MB through the echo and back in {:.2} s, hashes match; \
             Linux->wolfip {:.0} Mbit/s, wolfip->Linux {:.0} Mbit/s",
            down.as_secs_f64(),
            mbit(up),
            mbit(down)
        )
    } else {
        format!(
            "TCP bulk: {got} of {BULK_BYTES} bytes came back in {:.2} s (hash {}; write: {}; read: {})",
            down.as_secs_f64(),
            if hash.0 == sent_hash { "matches" } else { "differs" },
            write_result.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into()),
            read_result.as_ref().map_or_else(|e| e.clone(), |_| "ok".into()),
        )
    };
    report.check(ok, what);
    Ok(())
}

/// Waits (at most 5 s) until Linux sees `tap` as operationally up: until
/// then it drops what it sends on it.
fn wait_oper_up(tap: &str) -> Result<(), String> {
    let deadline = StdInstant::now() + Duration::from_secs(5);
    loop {
        let link = sh(&["ip", "-o", "link", "show", "dev", tap])?;
        if link.contains("LOWER_UP") && link.contains(" state UP ") {
            return Ok(());
        }
        if StdInstant::now() >= deadline {
            return Err(format!("{tap} not up within 5 s: {}", link.trim()));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The message of a dnsmasq log line (without time stamp, process and
/// transaction id): `DHCPACK(wolfipd0) 203.0.113.1xx 02:57:... wolfip-demo`.
fn dnsmasq_message(line: &str) -> &str {
    let msg = line.split_once("]: ").map_or(line, |(_, m)| m);
    match msg.split_once(' ') {
        Some((xid, rest)) if xid.chars().all(|c| c.is_ascii_digit()) => rest.trim_end(),
        _ => msg.trim_end(),
    }
}

/// Step 8: a stack with no address on its own TAP gets a lease from
/// dnsmasq (address, router, DNS server), resolves a name of dnsmasq's
/// host list through its alias, answers ping at the leased address and
/// releases the lease.
fn dhcp_dns_step(report: &mut Report) -> Result<(), String> {
    println!("  -- DHCP lease and DNS from dnsmasq ({DHCP_SERVER}/24 on {DHCP_TAP}):");
    sh(&["ip", "tuntap", "add", "mode", "tap", "name", DHCP_TAP])?;
    sh(&[
        "ip",
        "addr",
        "add",
        &format!("{DHCP_SERVER}/24"),
        "dev",
        DHCP_TAP,
    ])?;
    let mut dev = TapDev::open(DHCP_TAP, None).map_err(|e| format!("TAP {DHCP_TAP}: {e}"))?;
    let (mut stack, iface) = make_unconfigured_stack(DHCP_MAC)?;
    wait_oper_up(DHCP_TAP)?;
    let server = Dnsmasq::start(
        DnsmasqConfig::new(DHCP_TAP, DHCP_SERVER)
            // Skip dnsmasq's 3 s ping of the address it is about to offer.
            .arg("--no-ping")
            .arg("--local-ttl=60")
            .host(DNS_ADDR, DNS_NAME)
            .cname(DNS_ALIAS, DNS_NAME)
            .local("demo"),
    )?;
    let clock = Clock::new();
    stack.poll(clock.now(), iface, &mut dev);
    let cfg = DhcpConfig {
        hostname: Some(DHCP_HOSTNAME),
        ..DhcpConfig::default()
    };
    stack
        .dhcp_start(iface, &cfg)
        .map_err(|e| format!("dhcp_start: {e}"))?;
    let t = StdInstant::now();
    let lease = drive_until(
        &mut stack,
        iface,
        &mut dev,
        &clock,
        Duration::from_secs(10),
        |s, _| {
            while s.poll_event().is_some() {}
            (s.dhcp_state(iface) == DhcpState::Bound)
                .then(|| s.dhcp_lease(iface))
                .flatten()
        },
    );
    let Some(lease) = lease else {
        report.check(
            false,
            format!(
                "no DHCP lease within 10 s (client {:?}); dnsmasq's log:\n{}",
                stack.dhcp_state(iface),
                server.log().join("\n")
            ),
        );
        return Ok(());
    };
    let addr = lease.address.address();
    report.check(
        stack.ipv4(iface) == Some(lease.address)
            && lease.router == Some(DHCP_SERVER)
            && stack.dns_servers().any(|d| d == DHCP_SERVER),
        format!(
            "DHCP lease in {:.0} ms (address checked by ARP first): {}",
            t.elapsed().as_secs_f64() * 1e3,
            describe_lease(&lease)
        ),
    );
    let log = server.log();
    let exchange: Vec<&str> = log
        .iter()
        .map(|l| dnsmasq_message(l))
        .filter(|m| m.starts_with("DHCP") && m.contains('('))
        .collect();
    let ack = exchange.iter().find(|m| m.starts_with("DHCPACK"));
    report.check(
        ack.is_some_and(|a| a.ends_with(DHCP_HOSTNAME)),
        format!(
            "dnsmasq logged {}; `{}`",
            exchange
                .iter()
                .map(|m| m.split('(').next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(" "),
            ack.unwrap_or(&"no DHCPACK")
        ),
    );

    // A name of dnsmasq's host list, asked by its alias (a CNAME).
    let t = StdInstant::now();
    let answer = match stack.dns_query(DNS_ALIAS) {
        Ok(q) => drive_until(
            &mut stack,
            iface,
            &mut dev,
            &clock,
            Duration::from_secs(10),
            |s, _| {
                while s.poll_event().is_some() {}
                match s.dns_result(q) {
                    std::task::Poll::Ready(r) => Some(r),
                    std::task::Poll::Pending => None,
                }
            },
        )
        .map(|r| r.map_err(|e| e.to_string()))
        .unwrap_or_else(|| Err("no answer within 10 s".into())),
        Err(e) => Err(e.to_string()),
    };
    let ms = t.elapsed().as_secs_f64() * 1e3;
    match answer {
        Ok(a) => report.check(
            a.addresses.iter().eq([DNS_ADDR].iter()),
            format!(
                "DNS through the server from the lease: {DNS_ALIAS} (CNAME of {DNS_NAME}) -> {} \
                 in {ms:.1} ms, TTL {} s",
                a.addresses
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                a.ttl
            ),
        ),
        Err(e) => report.check(false, format!("DNS: {DNS_ALIAS}: {e}")),
    }

    // Linux reaches the leased address.
    let mut ping = Command::new("ping")
        .args(["-n", "-c", "3", "-i", "0.2", "-W", "2", &addr.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("ping: {e}"))?;
    let status = drive_until(
        &mut stack,
        iface,
        &mut dev,
        &clock,
        Duration::from_secs(10),
        |_, _| ping.try_wait().ok().flatten(),
    );
    if status.is_none() {
        let _ = ping.kill();
    }
    let out = ping.wait_with_output().map_err(|e| format!("ping: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or("no summary");
    report.check(
        status.is_some_and(|s| s.success()),
        format!("ping {addr} (the leased address): {summary}"),
    );

    // Release: dnsmasq hears of it, the address is gone.
    let _ = stack.dhcp_stop(iface);
    let released = drive_until(
        &mut stack,
        iface,
        &mut dev,
        &clock,
        Duration::from_secs(3),
        |_, _| {
            server
                .log()
                .iter()
                .map(|l| dnsmasq_message(l))
                .find(|m| m.starts_with("DHCPRELEASE"))
                .map(str::to_owned)
        },
    );
    report.check(
        released.is_some() && stack.ipv4(iface).is_none(),
        format!(
            "dhcp_stop released the lease: dnsmasq logged `{}`",
            released.as_deref().unwrap_or("nothing")
        ),
    );
    let counters = stack.stats().to_string();
    for line in counters
        .lines()
        .filter(|l| l.starts_with("dhcp") || l.starts_with("dns"))
    {
        println!("         {line}");
    }
    Ok(())
}
