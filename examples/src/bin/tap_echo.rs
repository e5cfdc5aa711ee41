//! The counterpart of Zephyr's native_sim TAP echo sample: the stack on a
//! Linux TAP interface, answering ping and echoing UDP and TCP on one port
//! (several TCP clients at once), until
//! killed (SIGINT/SIGTERM print the counters and close the capture file).
//!
//! ```text
//! tap_echo --tap IFNAME --ip CIDR [--gateway IP] [--port 4242] [--pcap FILE] [--mac MAC]
//!          [--drop-ppm N]
//! tap_echo --tap IFNAME --dhcp [--hostname NAME] [--port 4242] [--pcap FILE] [--mac MAC]
//!          [--drop-ppm N]
//! ```
//!
//! With `--dhcp` the address, the default route and the DNS servers come
//! from a DHCP server (the core's client); the lease is printed when it is
//! obtained and each time it is renewed, and released at exit.
//!
//! On exit, and whenever SIGUSR1 arrives, it prints a line `tap_echo:
//! occupancy key=value ...` with how full each table of the stack is
//! ([`Stack::occupancy`]): tests compare it before and after an attack.
//!
//! `--drop-ppm N` makes the link lossy: core's `FaultInjector` drops N
//! frames per million in each direction, from a fixed seed. The capture
//! shows what went over the TAP (frames dropped on the way in included,
//! frames dropped on the way out not).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wolfip_core::config::DHCP_HOSTNAME_LEN;
use wolfip_core::dhcp::DhcpConfig;
use wolfip_core::occupancy::Occupancy;
use wolfip_core::phy::fault::{FaultConfig, FaultInjector};
use wolfip_core::{Event, IfaceId, Ipv4Addr, Ipv4Cidr, Stack};
use wolfip_examples::{
    arg, describe_lease, has_arg, make_stack, make_unconfigured_stack, parse_args_with_switches,
    parse_mac, run_loop, tcp_sockets_in_use, TapDev, TcpEcho, UdpEcho, DEFAULT_MAC,
};
use wolfip_tap::{catch_termination, terminating, Clock};

const USAGE: &str =
    "usage: tap_echo --tap IFNAME --ip CIDR [--gateway IP] [--port 4242] [--pcap FILE] [--mac MAC]
                [--drop-ppm N]
       tap_echo --tap IFNAME --dhcp [--hostname NAME] [--port 4242] [--pcap FILE] [--mac MAC]
                [--drop-ppm N]

Runs the wolfip stack on the Linux TAP interface IFNAME (created if it does
not exist, which needs root or CAP_NET_ADMIN) with address CIDR, answers
ping, echoes UDP datagrams sent to PORT and echoes TCP connections to PORT
(several at once), until interrupted. --drop-ppm N drops N frames per
million (0 to 1000000) in each direction, with a fixed seed.

--dhcp takes the address, default route and DNS servers from a DHCP server
instead of --ip and --gateway (sending NAME as option 12 with --hostname),
prints the lease when it is obtained and renewed, and releases it at exit.";

/// The seed of the fault injector behind `--drop-ppm`: runs are
/// reproducible given the same sequence of frames.
const DROP_SEED: u64 = 0x5eed_d20b;

/// How long `--dhcp` keeps running after SIGTERM to send its RELEASE.
const RELEASE_TIME: Duration = Duration::from_millis(300);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.is_empty() {
                println!("{USAGE}");
                ExitCode::SUCCESS
            } else {
                eprintln!("tap_echo: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        }
    }
}

/// Set by SIGUSR1: print the occupancy line at the next turn of the loop.
static REPORT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_usr1(_: libc::c_int) {
    REPORT.store(true, Ordering::SeqCst);
}

/// Installs the SIGUSR1 handler (it only stores to an atomic, which is
/// async-signal-safe).
fn catch_usr1() -> Result<(), String> {
    // SAFETY: a zeroed `sigaction` is a valid "no flags, empty mask" value;
    // the handler only performs an atomic store. `sigaction` reads the
    // struct and writes nothing (the old action pointer is null).
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_usr1 as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut())
    };
    if rc != 0 {
        return Err(format!("SIGUSR1: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// The occupancy line: `tap_echo: occupancy key=value ...`, one pair per
/// field of [`Occupancy`].
fn occupancy_line(o: &Occupancy) -> String {
    let pairs = [
        ("arp_entries", o.arp_entries),
        ("arp_incomplete", o.arp_incomplete),
        ("tx_frames", o.tx_frames),
        ("tx_awaiting_arp", o.tx_awaiting_arp),
        ("loopback_frames", o.loopback_frames),
        ("reassembly", o.reassembly),
        ("pmtu_entries", o.pmtu_entries),
        ("tcp_syn_queue", o.tcp_syn_queue),
        ("tcp_sockets", o.tcp_sockets),
        ("tcp_listening", o.tcp_listening),
        ("tcp_accept_queue", o.tcp_accept_queue),
        ("tcp_time_wait", o.tcp_time_wait),
        ("tcp_orphaned", o.tcp_orphaned),
        ("udp_sockets", o.udp_sockets),
        ("dns_queries", o.dns_queries),
        ("dns_cache", o.dns_cache),
        ("events", o.events),
    ];
    let mut line = String::from("tap_echo: occupancy");
    for (k, v) in pairs {
        line += &format!(" {k}={v}");
    }
    line
}

/// Where the address comes from.
enum Addressing {
    /// `--ip` (and `--gateway`).
    Static(Ipv4Cidr, Option<Ipv4Addr>),
    /// `--dhcp` (and `--hostname`).
    Dhcp(Option<String>),
}

fn addressing(args: &[(String, String)]) -> Result<Addressing, String> {
    if has_arg(args, "--dhcp") {
        if has_arg(args, "--ip") {
            return Err("--ip and --dhcp are mutually exclusive".into());
        }
        if has_arg(args, "--gateway") {
            return Err(
                "--gateway and --dhcp are mutually exclusive (the lease gives the router)".into(),
            );
        }
        let hostname = match arg(args, "--hostname") {
            Some(h) if h.is_empty() || h.len() > DHCP_HOSTNAME_LEN => {
                return Err(format!(
                    "bad --hostname {h:?} (1 to {DHCP_HOSTNAME_LEN} bytes)"
                ))
            }
            h => h.map(str::to_owned),
        };
        return Ok(Addressing::Dhcp(hostname));
    }
    if has_arg(args, "--hostname") {
        return Err("--hostname needs --dhcp".into());
    }
    let ip: Ipv4Cidr = arg(args, "--ip")
        .ok_or("--ip is required (or --dhcp)")?
        .parse()
        .map_err(|_| "--ip wants an address with a prefix, e.g. 192.0.2.2/24")?;
    let gateway = match arg(args, "--gateway") {
        Some(g) => Some(g.parse().map_err(|_| format!("bad gateway {g}"))?),
        None => None,
    };
    Ok(Addressing::Static(ip, gateway))
}

/// Prints what the DHCP client reports.
fn report_events(stack: &mut Stack, iface: IfaceId) {
    while let Some(e) = stack.poll_event() {
        let what = match e {
            Event::DhcpBound { .. } => "bound",
            Event::DhcpRenewed { .. } => "renewed",
            Event::DhcpLost { reason, .. } => {
                println!("tap_echo: DHCP lease lost ({reason:?})");
                continue;
            }
            _ => continue,
        };
        if let Some(l) = stack.dhcp_lease(iface) {
            println!("tap_echo: DHCP {what}: {}", describe_lease(&l));
        }
    }
}

fn run() -> Result<(), String> {
    let flags = [
        "--tap",
        "--ip",
        "--gateway",
        "--port",
        "--pcap",
        "--mac",
        "--drop-ppm",
        "--hostname",
    ];
    let args = parse_args_with_switches(std::env::args().skip(1), &flags, &["--dhcp"])?;
    let tap_name = arg(&args, "--tap").ok_or("--tap is required")?;
    let addressing = addressing(&args)?;
    let port: u16 = arg(&args, "--port")
        .unwrap_or("4242")
        .parse()
        .map_err(|_| "bad --port")?;
    let mac = match arg(&args, "--mac") {
        Some(m) => parse_mac(m)?,
        None => DEFAULT_MAC,
    };

    let drop_ppm: u32 = match arg(&args, "--drop-ppm") {
        Some(p) => p
            .parse()
            .ok()
            .filter(|&p| p <= 1_000_000)
            .ok_or_else(|| format!("bad --drop-ppm {p} (0 to 1000000)"))?,
        None => 0,
    };

    let tap =
        TapDev::open(tap_name, arg(&args, "--pcap")).map_err(|e| format!("TAP {tap_name}: {e}"))?;
    // With 0 ppm the injector draws no random numbers and changes nothing.
    let mut dev = FaultInjector::new(tap, FaultConfig::drop_both(drop_ppm), DROP_SEED);
    let (mut stack, iface) = match &addressing {
        Addressing::Static(ip, gateway) => make_stack(mac, *ip, *gateway)?,
        Addressing::Dhcp(_) => make_unconfigured_stack(mac)?,
    };
    let mut echo = UdpEcho::new(&mut stack, port)?;
    let mut tcp_echo = TcpEcho::new(&mut stack, port, 128)?;
    catch_termination().map_err(|e| format!("signal handlers: {e}"))?;
    catch_usr1()?;
    match &addressing {
        Addressing::Static(ip, _) => {
            println!("tap_echo: {ip} ({mac}) on {tap_name}, UDP and TCP echo on port {port}")
        }
        Addressing::Dhcp(hostname) => {
            let cfg = DhcpConfig {
                hostname: hostname.as_deref(),
                ..DhcpConfig::default()
            };
            stack
                .dhcp_start(iface, &cfg)
                .map_err(|e| format!("DHCP: {e}"))?;
            let name = hostname
                .as_deref()
                .map_or_else(String::new, |h| format!(" as {h}"));
            println!("tap_echo: DHCP{name} ({mac}) on {tap_name}, UDP and TCP echo on port {port}");
        }
    }
    if drop_ppm > 0 {
        println!("tap_echo: dropping {drop_ppm} ppm each way (seed {DROP_SEED:#x})");
    }
    let clock = Clock::new();
    run_loop(
        &mut stack,
        iface,
        &mut dev,
        &clock,
        |stack, now| {
            report_events(stack, iface);
            if REPORT.swap(false, Ordering::SeqCst) {
                println!("{}", occupancy_line(&stack.occupancy()));
            }
            let u = echo.run(stack, now);
            let t = tcp_echo.run(stack, now);
            u || t
        },
        terminating,
        Duration::from_millis(200),
    );
    if matches!(addressing, Addressing::Dhcp(_)) {
        let held = stack.dhcp_lease(iface).map(|l| l.address);
        let _ = stack.dhcp_stop(iface);
        // Long enough for the RELEASE to leave (and for an ARP
        // resolution of the server, should it be needed).
        let until = std::time::Instant::now() + RELEASE_TIME;
        run_loop(
            &mut stack,
            iface,
            &mut dev,
            &clock,
            |_, _| false,
            || std::time::Instant::now() >= until,
            Duration::from_millis(20),
        );
        if let Some(a) = held {
            println!("tap_echo: DHCP lease {a} released");
        }
    }
    println!(
        "tap_echo: stopping; UDP echoed {} (dropped {})",
        echo.echoed, echo.dropped
    );
    let in_use = tcp_sockets_in_use(&mut stack, clock.now());
    println!(
        "tap_echo: TCP accepted {} connections, echoed {} bytes, {} still open; {in_use} of {} sockets in use",
        tcp_echo.accepted,
        tcp_echo.bytes,
        tcp_echo.open_connections(),
        wolfip_core::config::TCP_SOCKETS,
    );
    if drop_ppm > 0 {
        let f = dev.stats();
        println!(
            "tap_echo: fault injector dropped rx {} of {} tx {} of {}",
            f.rx_dropped,
            f.rx_dropped + f.rx_frames,
            f.tx_dropped,
            f.tx_dropped + f.tx_frames,
        );
    }
    println!("{}", occupancy_line(&stack.occupancy()));
    println!("{}", stack.stats());
    Ok(())
}
