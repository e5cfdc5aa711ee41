//! `c-tests/resolve/resolve.c`, a C program built against the wolfip C
//! library with only the POSIX names of `<wolfip_posix.h>` (`getaddrinfo`,
//! `freeaddrinfo`, `gai_strerror`) plus `wolfip_dhcp_start`/`_wait`,
//! against dnsmasq on the Linux side of a TAP:
//!
//! * the program's address, netmask, router and DNS server come from
//!   dnsmasq's DHCP (the interface is attached without an address);
//! * `printer.test` resolves to 203.0.113.10 (hosts file), `www.test` to
//!   203.0.113.11 (a CNAME to `nas.test`), `nosuch.test` is `EAI_NONAME`
//!   (NXDOMAIN: dnsmasq answers `test` locally), `v6only.test` is
//!   `EAI_NODATA` (an AAAA record only);
//! * then the test kills dnsmasq and `late.test` is `EAI_AGAIN` once the
//!   core's retransmissions run out.
//!
//! Everything runs in a fresh network namespace (TAP `wres0`, Linux at
//! 203.0.113.1/24), as root; without root, or without dnsmasq, the test
//! says why and passes (unless `CI=true`). Every wait is bounded.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

const TAP: &str = "wres0";
const LINUX_IP: &str = "203.0.113.1";
const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// How long dnsmasq has to start.
const DNSMASQ_START: Duration = Duration::from_secs(15);
/// DHCP (dnsmasq pings an address before offering it, the client probes
/// it with ARP) and the first resolutions.
const LEASE_LIMIT: Duration = Duration::from_secs(90);
/// The last resolution: the core's retransmissions (1 + 2 + 4 s with the
/// default DNS_TIMEOUT_MS and DNS_ATTEMPTS) and some slack.
const TIMEOUT_LIMIT: Duration = Duration::from_secs(60);

fn skip_without_dnsmasq(test: &str) -> bool {
    if Path::new(DNSMASQ).exists() {
        return false;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs {DNSMASQ} (CI=true: not skipping)");
    }
    eprintln!("skipped {test}: needs {DNSMASQ}");
    true
}

/// A child killed and reaped when dropped.
struct Guard(Option<Child>);

impl Guard {
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// dnsmasq's log (stderr), kept as it comes.
type Log = Arc<Mutex<Vec<String>>>;

/// dnsmasq serving DHCP and DNS on the TAP, its files in `dir`; returns
/// once it has read its hosts file (its last start-up step).
fn start_dnsmasq(dir: &Path) -> (Guard, Log) {
    let hosts = dir.join("hosts");
    std::fs::write(
        &hosts,
        "203.0.113.10 printer.test\n\
         203.0.113.11 nas.test\n\
         203.0.113.12 late.test\n\
         2001:db8::6 v6only.test\n",
    )
    .expect("write hosts file");
    let mut cmd = Command::new(DNSMASQ);
    cmd.args([
        "--no-daemon",
        "--conf-file=/dev/null",
        &format!("--interface={TAP}"),
        "--bind-interfaces",
        "--dhcp-range=203.0.113.50,203.0.113.60,255.255.255.0,2m",
        &format!("--dhcp-option=option:dns-server,{LINUX_IP}"),
        "--no-resolv",
        "--no-hosts",
        "--cname=www.test,nas.test",
        // Names under test/ that are not known are NXDOMAIN, not REFUSED
        // (dnsmasq has no upstream server).
        "--local=/test/",
        "--log-dhcp",
        "--log-queries",
        "--log-facility=-",
        "--user=root",
    ])
    .arg(format!("--addn-hosts={}", hosts.display()))
    .arg(format!("--dhcp-leasefile={}", dir.join("leases").display()))
    .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn dnsmasq");
    let _out = drain(child.stdout.take().expect("piped stdout"));
    let err = BufReader::new(child.stderr.take().expect("piped stderr"));
    let log: Log = Arc::default();
    let (tx, ready) = mpsc::channel();
    let keep = log.clone();
    thread::spawn(move || {
        for line in err.lines() {
            let Ok(line) = line else { break };
            if line.contains("hosts - ") {
                let _ = tx.send(());
            }
            keep.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    let mut guard = Guard(Some(child));
    if ready.recv_timeout(DNSMASQ_START).is_err() {
        guard.kill();
        panic!("dnsmasq did not start:\n{}", log_text(&log));
    }
    (guard, log)
}

fn log_text(log: &Log) -> String {
    let l = log.lock().unwrap_or_else(|e| e.into_inner());
    l[l.len().saturating_sub(80)..].join("\n")
}

/// The C program with its stdout read line by line.
struct Program {
    child: Guard,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<thread::JoinHandle<Vec<u8>>>,
}

impl Program {
    fn start(bin: &Path) -> Program {
        let mut child = Command::new(bin)
            .arg(TAP)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the resolve program");
        let stdin = child.stdin.take();
        let out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Some(drain(child.stderr.take().expect("piped stderr")));
        Program {
            child: Guard(Some(child)),
            stdin,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Reads lines until one starts with `prefix` (returned) or `limit`
    /// passes, or the program's output ends (`Err` with what it printed).
    fn until(&mut self, prefix: &str, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    eprintln!("resolve: {line}");
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return Ok(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no `{prefix}` line within {limit:?}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("the program ended before a `{prefix}` line"))
                }
            }
        }
    }

    fn say(&mut self, line: &str) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = writeln!(s, "{line}");
            let _ = s.flush();
        }
    }

    /// Waits for the exit (bounded) and returns its status and stderr.
    fn finish(&mut self, limit: Duration) -> (Option<std::process::ExitStatus>, String) {
        let status = self
            .child
            .0
            .as_mut()
            .and_then(|c| wait_timeout(c, limit).ok().flatten());
        self.child.kill();
        let err = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&err).into_owned())
    }
}

fn scratch_dir() -> PathBuf {
    let dir = output_dir().join(format!("resolve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

#[test]
fn dhcp_then_getaddrinfo_against_dnsmasq() {
    let test = "dhcp_then_getaddrinfo_against_dnsmasq";
    if skip_without_root(test) || skip_without_dnsmasq(test) {
        return;
    }
    let src = package_dir().join("resolve/resolve.c");
    let bin = compile_c("resolve", &[&src], Variant::Wolfip).unwrap_or_else(|e| panic!("{e}"));
    fresh_netns().unwrap_or_else(|e| panic!("{e}"));
    ip(&format!("tuntap add mode tap name {TAP}"));
    ip(&format!("addr add {LINUX_IP}/24 dev {TAP}"));
    ip(&format!("link set {TAP} up"));
    let dir = scratch_dir();
    let (mut dnsmasq, log) = start_dnsmasq(&dir);
    let mut prog = Program::start(&bin);

    let mut result = (|| -> Result<(), String> {
        let bound = prog.until("bound ", LEASE_LIMIT)?;
        let f: Vec<&str> = bound.split_whitespace().collect();
        let (addr, mask) = f[1].split_once('/').ok_or("bound line")?;
        let last: u8 = addr
            .strip_prefix("203.0.113.")
            .and_then(|n| n.parse().ok())
            .ok_or(format!("address {addr} outside 203.0.113.0/24"))?;
        if !(50..=60).contains(&last)
            || mask != "255.255.255.0"
            || f[3] != LINUX_IP
            || f[5] != LINUX_IP
            || f[7] != LINUX_IP
            || f[9] != "120"
        {
            return Err(format!("unexpected lease: {bound}"));
        }
        prog.until("kill-dns", LEASE_LIMIT)?;
        dnsmasq.kill();
        prog.say("killed");
        let done = prog.until("done ", TIMEOUT_LIMIT)?;
        let want = [
            "ok printer.test 203.0.113.10",
            "ok www.test 203.0.113.11",
            "ok nosuch.test EAI_NONAME",
            "ok v6only.test EAI_NODATA",
            "ok late.test EAI_AGAIN",
        ];
        for w in want {
            if !prog.seen.iter().any(|l| l.starts_with(w)) {
                return Err(format!("no line `{w}`"));
            }
        }
        if done != "done 0" || prog.seen.iter().any(|l| l.starts_with("FAIL")) {
            return Err("the program reported failures".into());
        }
        Ok(())
    })();
    let (status, stderr) = prog.finish(Duration::from_secs(15));
    if result.is_ok() && !status.is_some_and(|s| s.success()) {
        result = Err(format!("exit status {status:?}"));
    }
    dnsmasq.kill();
    if let Err(e) = result {
        panic!(
            "{test}: {e}\nprogram stdout:\n{}\nprogram stderr:\n{stderr}\ndnsmasq:\n{}",
            prog.seen.join("\n"),
            log_text(&log)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
