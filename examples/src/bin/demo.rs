//! The first thing to run: the stack on a TAP device in a private network
//! namespace, driven from the Linux side with real tools, and a short
//! report of what happened.
//!
//! Needs root (for the namespace and the TAP device), `/dev/net/tun`,
//! `ip` (iproute2) and `ping` (iputils-ping). Nothing outside the private
//! namespace is touched; addresses come from 192.0.2.0/24 (RFC 5737).

use std::net::UdpSocket;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant as StdInstant};

use wolfip_core::{Ipv4Addr, SocketAddrV4};
use wolfip_examples::{make_stack, run_loop, TapDev, UdpEcho, DEFAULT_MAC};
use wolfip_tap::{netns, Clock};

const TAP: &str = "wolfip0";
const LINUX_IP: &str = "192.0.2.1";
const STACK_IP: &str = "192.0.2.2";
const ECHO_PORT: u16 = 4242;
const HELLO_PORT: u16 = 5555;

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
        eprintln!("  - ip (Debian package iproute2) and ping (iputils-ping)");
        eprintln!("Nothing outside the private namespace is touched.");
        return ExitCode::from(2);
    }
    println!("{}\n", wolfip_core::config::report());
    // The whole demo runs in one thread moved into a fresh namespace; the
    // namespace and its TAP vanish when the demo ends.
    let result = thread::spawn(demo).join();
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
    for (tool, arg) in [("ip", "-V"), ("ping", "-V")] {
        if Command::new(tool).arg(arg).output().is_err() {
            return Err(format!("`{tool}` is not installed"));
        }
    }
    Ok(())
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
    let stack_thread = thread::spawn(move || -> Result<_, String> {
        let (mut stack, iface) =
            make_stack(DEFAULT_MAC, format!("{STACK_IP}/24").parse().unwrap(), None)?;
        let mut echo = UdpEcho::new(&mut stack, ECHO_PORT)?;
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
            |s, now| echo.run(s, now),
            || stop_flag.load(Ordering::SeqCst),
            Duration::from_millis(50),
        );
        let arp: Vec<_> = stack.arp_entries(iface).collect();
        Ok((*stack.stats(), arp, echo.echoed))
    });

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

    // 4. ARP by Linux: the kernel's neighbour table holds our MAC.
    let neigh = sh(&["ip", "neigh", "show", STACK_IP, "dev", TAP]).unwrap_or_default();
    report.check(
        neigh.contains(&DEFAULT_MAC.to_string()),
        format!("Linux resolved {STACK_IP}: `{}`", neigh.trim()),
    );

    stop.store(true, Ordering::SeqCst);
    let (stats, arp, echoed) = stack_thread
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
    println!("\nStack counters (UDP datagrams echoed: {echoed}):\n{stats}");
    Ok(report.failures())
}
