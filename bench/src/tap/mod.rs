//! Scenarios 3, 4 and 5: the stacks over a Linux TAP device against the
//! Linux kernel, inside network namespaces this program creates.
//!
//! The benchmark thread moves itself into a fresh network namespace
//! ([`wolfip_tap::netns::unshare_net`]) before anything touches the
//! network, checks that it did (its namespace differs from the one it
//! started in), and only then creates the TAP interface `wbtap0`, gives
//! Linux `192.0.2.1/24` on it and a permanent neighbour entry for the
//! stack under test at `192.0.2.2`. The Linux peers are threads spawned
//! from that thread afterwards, which share its namespace (each checks
//! that it does before doing anything). The kernel-to-kernel figure uses a
//! veth pair between that namespace and a second one (`198.51.100.0/24`).
//! Nothing of the host's interfaces, routes or settings is touched; the
//! namespaces and their interfaces vanish with the threads.
//!
//! The stack under test runs in the benchmark thread, sans-IO, with its
//! application in the same loop, **busy polling** (no sleeping between
//! polls) for every scenario and both stacks alike; the Linux peers use
//! ordinary blocking sockets. See [`measure`] and [`rr`] for the
//! scenarios.

mod measure;
mod peer;
mod rr;
mod stacks;

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wolfip_core::phy::sim::Side;
use wolfip_tap::{netns, TapDevice};

use crate::drive::Link;
use crate::output::Measurement;
use crate::Opts;

/// The TAP interface, in the benchmark's own namespace.
pub(crate) const TAP: &str = "wbtap0";
/// Linux's address on the TAP.
pub(crate) const LINUX_IP: [u8; 4] = [192, 0, 2, 1];
/// The stack under test.
pub(crate) const STACK_IP: [u8; 4] = [192, 0, 2, 2];
/// The stack under test's hardware address (both stacks use it, so
/// Linux's permanent neighbour entry fits both).
pub(crate) const STACK_MAC: [u8; 6] = [0x02, 0x57, 0x42, 0x00, 0x00, 0x02];

/// The network namespace of the calling thread, as the kernel names it
/// (`net:[4026531840]`).
pub(crate) fn netns_id() -> io::Result<PathBuf> {
    std::fs::read_link("/proc/thread-self/ns/net")
}

/// The calling thread's id (for `ip link set DEV netns TID`).
pub(crate) fn thread_id() -> io::Result<String> {
    // `/proc/thread-self` links to `PID/task/TID`.
    let p = std::fs::read_link("/proc/thread-self")?;
    p.file_name()
        .map(|t| t.to_string_lossy().into_owned())
        .ok_or_else(|| io::Error::other("no thread id"))
}

/// Fails unless the calling thread is in the namespace `ns`: every peer
/// thread checks this before it touches the network.
pub(crate) fn check_netns(ns: &Path) -> Result<(), String> {
    let here = netns_id().map_err(|e| format!("reading the thread's namespace: {e}"))?;
    if here != ns {
        return Err(format!(
            "thread in namespace {here:?}, not in the benchmark's {ns:?}: refusing to go on"
        ));
    }
    Ok(())
}

/// Runs `prog ARGS` from the calling thread (so in its namespace), for at
/// most 10 s; returns its standard output, or an error with its standard
/// error.
pub(crate) fn cmd(prog: &str, args: &[&str]) -> Result<String, String> {
    let desc = format!("{prog} {}", args.join(" "));
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{desc}: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{desc}: no answer within 10 s"));
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{desc}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{desc}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ip ARGS`, see [`cmd`].
pub(crate) fn ip(args: &[&str]) -> Result<String, String> {
    cmd("ip", args)
}

/// Waits (at most 5 s) until Linux sees `dev` as operationally up: until
/// then what it sends on it is dropped.
pub(crate) fn wait_link_up(dev: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..250 {
        last = ip(&["-o", "link", "show", "dev", dev])?;
        // A TAP created attached has its carrier from the start and
        // stays in operational state UNKNOWN.
        if last.contains("LOWER_UP")
            && (last.contains(" state UP ") || last.contains(" state UNKNOWN "))
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("{dev} not up within 5 s: {last}"))
}

/// Dotted quad.
pub(crate) fn dotted(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// The TAP device as the link of [`crate::smol::Node`] (both sides of the
/// link are the one device; the stack under test uses [`Side::A`]).
pub(crate) struct TapLink(pub(crate) TapDevice);

impl Link for TapLink {
    type Port<'a> = &'a mut TapDevice;

    fn port(&mut self, _side: Side) -> Self::Port<'_> {
        &mut self.0
    }

    fn next_delivery(&self) -> Option<wolfip_core::Instant> {
        None
    }

    fn describe(&self) -> String {
        format!("{:?}", self.0.stats())
    }
}

impl TapLink {
    /// Reads and drops whatever frames wait (left over from a previous
    /// run).
    pub(crate) fn drain(&mut self) {
        use wolfip_core::phy::Device as _;
        let mut buf = vec![0u8; 65_536];
        for _ in 0..100_000 {
            if self
                .0
                .receive(wolfip_core::Instant::ZERO, &mut buf)
                .is_none()
            {
                break;
            }
        }
    }
}

/// Creates the TAP in the calling thread's (new) namespace and configures
/// Linux's side of it.
fn setup_tap() -> Result<TapLink, String> {
    let tap = TapDevice::open(TAP).map_err(|e| format!("opening TAP {TAP}: {e}"))?;
    ip(&[
        "addr",
        "add",
        &format!("{}/24", dotted(LINUX_IP)),
        "dev",
        TAP,
    ])?;
    // No IPv6 chatter (router solicitations, MLD) on the link.
    ip(&["link", "set", "dev", TAP, "addrgenmode", "none"])?;
    ip(&["link", "set", "dev", TAP, "up"])?;
    let mac = STACK_MAC.map(|b| format!("{b:02x}")).join(":");
    ip(&[
        "neigh",
        "replace",
        &dotted(STACK_IP),
        "lladdr",
        &mac,
        "nud",
        "permanent",
        "dev",
        TAP,
    ])?;
    // The accept scenario's Linux clients close first: no TIME-WAIT
    // sockets in this namespace (a per-namespace setting), so that tens of
    // thousands of short connections do not run out of ports.
    std::fs::write("/proc/sys/net/ipv4/tcp_max_tw_buckets", "0")
        .map_err(|e| format!("setting tcp_max_tw_buckets in the namespace: {e}"))?;
    wait_link_up(TAP)?;
    Ok(TapLink(tap))
}

/// Runs the `tap` group: scenarios 3, 4 and 5. Without root or
/// `/dev/net/tun` it says so on standard error and measures nothing.
pub(crate) fn tap(o: &Opts, out: &mut Vec<Measurement>) -> Result<(), String> {
    if !netns::is_root() || !netns::tun_available() {
        eprintln!("tap: skipped, needs root and /dev/net/tun");
        return Ok(());
    }
    let host = netns_id().map_err(|e| format!("reading the namespace: {e}"))?;
    netns::unshare_net().map_err(|e| format!("unshare(CLONE_NEWNET): {e}"))?;
    let ns = netns_id().map_err(|e| format!("reading the namespace: {e}"))?;
    if ns == host {
        return Err("still in the original network namespace after unshare".into());
    }
    let mut link = setup_tap()?;
    let mut m = measure::Bench::new(o.quick, ns);
    m.bulk(&mut link, out)?;
    m.rr(&mut link, out)?;
    m.accept(&mut link, out)?;
    Ok(())
}
