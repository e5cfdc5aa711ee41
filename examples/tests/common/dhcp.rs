//! Shared helpers of the DHCP and DNS interoperability tests
//! (`interop_dhcp.rs`, `interop_dns.rs`): a [`DhcpRig`] puts a stack with no address on
//! the TAP, with dnsmasq (the fixture of `wolfip_examples::dnsmasq`) serving
//! DHCP and DNS from the Linux side, and drives the stack with the real
//! clock; [`TapEcho::start_dhcp`] runs `tap_echo --dhcp`.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use wolfip_core::dhcp::{DhcpLease, DhcpState};
use wolfip_core::time::Instant as StackInstant;
use wolfip_core::{Event, IfaceId, Stack};
use wolfip_examples::dnsmasq::{self, Dnsmasq, DnsmasqConfig};
use wolfip_examples::{make_unconfigured_stack, TapDev, DEFAULT_MAC};
use wolfip_tap::Clock;

use super::*;

/// Whether the DHCP tests can run here: root, `/dev/net/tun`, the tools
/// of [`can_run`] and dnsmasq (same skip policy).
pub fn can_run_dhcp() -> bool {
    if !can_run(&[]) {
        return false;
    }
    if dnsmasq::available() {
        return true;
    }
    let msg = "needs dnsmasq (Debian dnsmasq-base; install with: bash .ci/install-deps.sh)";
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg} (CI=true: not skipping)");
    }
    eprintln!("skipped: {msg}");
    false
}

/// The stack on the TAP with no address, dnsmasq on Linux's side, and the
/// events the stack reported so far (with when they were read).
pub struct DhcpRig {
    pub stack: Box<Stack>,
    pub iface: IfaceId,
    pub dev: TapDev,
    pub clock: Clock,
    pub pcap: PathBuf,
    pub server: Dnsmasq,
    /// Linux's (and the server's) address on the TAP.
    pub linux_ip: Ipv4Addr,
    /// Every event read from the stack, in order.
    pub events: Vec<(StackInstant, Event)>,
}

impl DhcpRig {
    /// Creates the TAP with Linux at `linux_ip`/24, attaches a stack with
    /// no address to it (recording a capture), waits for the link and
    /// starts dnsmasq with the configuration `cfg` makes of the default
    /// one ([`DnsmasqConfig::new`]: pool `.100`-`.150`, 2 minutes, Linux as
    /// router and DNS server).
    pub fn start(
        test: &str,
        linux_ip: Ipv4Addr,
        cfg: impl FnOnce(DnsmasqConfig) -> DnsmasqConfig,
    ) -> DhcpRig {
        ip(&["tuntap", "add", "dev", TAP, "mode", "tap"]);
        ip(&["addr", "add", &format!("{linux_ip}/24"), "dev", TAP]);
        ip(&["link", "set", TAP, "up"]);
        let pcap = temp_path(test, "pcap");
        let dev = TapDev::open(TAP, Some(pcap.to_str().unwrap())).expect("attach to the TAP");
        let (stack, iface) =
            make_unconfigured_stack(DEFAULT_MAC).unwrap_or_else(|e| panic!("stack: {e}"));
        wait_link_up();
        let server = Dnsmasq::start(cfg(DnsmasqConfig::new(TAP, linux_ip)))
            .unwrap_or_else(|e| panic!("{e}"));
        DhcpRig {
            stack,
            iface,
            dev,
            clock: Clock::new(),
            pcap,
            server,
            linux_ip,
            events: Vec::new(),
        }
    }

    /// One turn: poll, read the events, let `f` act, poll again to send
    /// what it queued; returns `f`'s answer and the stack's next deadline.
    fn turn<T>(
        &mut self,
        f: &mut impl FnMut(&mut Stack, StackInstant, &[(StackInstant, Event)]) -> Option<T>,
    ) -> (Option<T>, Option<StackInstant>) {
        let now = self.clock.now();
        self.stack.poll(now, self.iface, &mut self.dev);
        while let Some(e) = self.stack.poll_event() {
            self.events.push((now, e));
        }
        let done = f(&mut self.stack, now, &self.events);
        let next = self.stack.poll(now, self.iface, &mut self.dev);
        while let Some(e) = self.stack.poll_event() {
            self.events.push((now, e));
        }
        self.dev.flush();
        (done, next)
    }

    /// Sleeps until a frame arrives or the stack's deadline `next`, at
    /// most 5 ms.
    fn sleep(&self, next: Option<StackInstant>) {
        let sleep = next.map_or(Duration::from_millis(5), |t| {
            self.clock.until(t).min(Duration::from_millis(5))
        });
        if !sleep.is_zero() {
            let _ = self.dev.tap().wait_readable(Some(sleep));
        }
    }

    /// Runs the stack until `f` (called after every poll, with the events
    /// so far) returns a value; panics after `limit` with the stack's
    /// counters, the DHCP state and the server's log.
    pub fn run_until<T>(
        &mut self,
        limit: Duration,
        what: &str,
        mut f: impl FnMut(&mut Stack, StackInstant, &[(StackInstant, Event)]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            let (done, next) = self.turn(&mut f);
            if let Some(t) = done {
                return t;
            }
            if Instant::now() >= deadline {
                panic!("{what}: not done within {limit:?}\n{}", self.report());
            }
            self.sleep(next);
        }
    }

    /// Runs the stack until the server logs a line from `mark` on that
    /// contains every word of `words` (at most `limit`); returns it.
    pub fn wait_server_log(&mut self, mark: usize, words: &[&str], limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let (_, next) = self.turn(&mut |_, _, _| None::<()>);
            if let Some(l) = self
                .server
                .log_since(mark)
                .into_iter()
                .find(|l| words.iter().all(|w| l.contains(w)))
            {
                return l;
            }
            if Instant::now() >= deadline {
                panic!(
                    "dnsmasq logged no line with {words:?} within {limit:?}\n{}",
                    self.report()
                );
            }
            self.sleep(next);
        }
    }

    /// Runs the stack until the server has logged `n` lines that contain
    /// every word of `words` (at most `limit`): dnsmasq writes its log
    /// from its event loop, a little after it answered.
    pub fn wait_server_lines(&mut self, words: &[&str], n: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.server_lines(words).len() < n {
            if Instant::now() >= deadline {
                panic!(
                    "dnsmasq logged fewer than {n} lines with {words:?} within {limit:?}\n{}",
                    self.report()
                );
            }
            let (_, next) = self.turn(&mut |_, _, _| None::<()>);
            self.sleep(next);
        }
    }

    /// Runs the stack for `d`.
    pub fn run_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        self.run_until(d + Duration::from_secs(1), "run_for", |_, _, _| {
            (Instant::now() >= end).then_some(())
        });
    }

    /// The stack's counters, its DHCP state and lease, its events, the
    /// server's log and Linux's view of the TAP: for failure messages.
    pub fn report(&self) -> String {
        format!(
            "DHCP state {:?}, lease {:?}\nevents {:?}\n{}\ndnsmasq log:\n{}\n{}",
            self.stack.dhcp_state(self.iface),
            self.stack.dhcp_lease(self.iface),
            self.events,
            self.stack.stats(),
            self.server.log().join("\n"),
            diagnostics()
        )
    }

    /// Starts the DHCP client with `hostname`.
    pub fn dhcp_start(&mut self, hostname: Option<&str>) {
        self.dhcp_start_with(&wolfip_core::dhcp::DhcpConfig {
            hostname,
            ..Default::default()
        });
    }

    /// Starts the DHCP client with `cfg`.
    pub fn dhcp_start_with(&mut self, cfg: &wolfip_core::dhcp::DhcpConfig<'_>) {
        // The stack takes its notion of now from the last poll.
        let now = self.clock.now();
        self.stack.poll(now, self.iface, &mut self.dev);
        self.stack
            .dhcp_start(self.iface, cfg)
            .unwrap_or_else(|e| panic!("dhcp_start: {e}"));
    }

    /// Runs the stack until its DHCP client is bound (at most `limit`);
    /// returns the lease.
    pub fn wait_bound(&mut self, limit: Duration) -> DhcpLease {
        let iface = self.iface;
        self.run_until(limit, "DHCP lease", |s, _, _| {
            (s.dhcp_state(iface) == DhcpState::Bound)
                .then(|| s.dhcp_lease(iface))
                .flatten()
        })
    }

    /// How many events satisfy `pred`.
    pub fn count_events(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| pred(e)).count()
    }

    /// Runs `cmd` (from this thread, so in its namespace) while driving
    /// the stack, for at most `limit` (then kills it and panics).
    pub fn run_command(&mut self, mut cmd: Command, limit: Duration) -> Output {
        let desc = format!("{cmd:?}");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        let mut guard = ChildGuard(Some(child));
        let out = drain(guard.child().stdout.take().unwrap());
        let err = drain(guard.child().stderr.take().unwrap());
        let status = self.run_until(limit, &desc, |_, _, _| {
            guard.child().try_wait().expect("try_wait")
        });
        guard.0 = None;
        Output {
            status,
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    }

    /// Linux pings `addr` `count` times (0.2 s apart) while the stack
    /// runs; insists that every reply came back.
    pub fn ping_from_linux(&mut self, addr: Ipv4Addr, count: u32) -> String {
        let mut cmd = Command::new("ping");
        cmd.args(["-n", "-c", &count.to_string(), "-i", "0.2", "-W", "2"]);
        cmd.arg(addr.to_string());
        let out = self.run_command(cmd, Duration::from_secs(20));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let summary = text
            .lines()
            .find(|l| l.contains("packets transmitted"))
            .unwrap_or("")
            .to_owned();
        assert!(
            out.status.success() && summary.contains(&format!(", {count} received")),
            "ping {addr}: {summary}\n{text}{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.report()
        );
        summary
    }

    /// The server's log lines that contain every word of `words`.
    pub fn server_lines(&self, words: &[&str]) -> Vec<String> {
        self.server
            .log()
            .into_iter()
            .filter(|l| words.iter().all(|w| l.contains(w)))
            .collect()
    }

    /// The server's DHCP transaction lines (`DHCPDISCOVER(wolfip0) ...`,
    /// `DHCPOFFER(...`...), in order, without the time stamp and the
    /// transaction id.
    pub fn server_dhcp_lines(&self) -> Vec<String> {
        dhcp_lines(&self.server.log())
    }

    /// Insists that tshark finds no malformed frame and no warning in what
    /// the stack sent, and that it sent DHCP.
    pub fn check_capture(&mut self) {
        self.dev.flush();
        let dhcp = tshark(
            &self.pcap,
            &format!("eth.src == {STACK_MAC} && dhcp"),
            &["frame.number"],
        );
        assert!(!dhcp.is_empty(), "no DHCP frame from the stack");
        let problems = capture_problems(&self.pcap, STACK_MAC);
        assert!(
            problems.is_empty(),
            "tshark flags frames sent by the stack in {}:\n{}",
            self.pcap.display(),
            problems.join("\n")
        );
    }

    /// The DHCP messages the stack sent, from the capture: one row per
    /// message of `fields` (tshark field names).
    pub fn sent_dhcp(&mut self, fields_: &[&str]) -> Vec<Vec<String>> {
        self.dev.flush();
        fields(
            &self.pcap,
            &format!("eth.src == {STACK_MAC} && dhcp"),
            fields_,
        )
    }
}

impl Drop for DhcpRig {
    fn drop(&mut self) {
        if thread::panicking() || std::env::var_os("WOLFIP_KEEP_PCAP").is_some() {
            eprintln!("capture kept for inspection: {}", self.pcap.display());
            if thread::panicking() {
                eprintln!("dnsmasq log:\n{}", self.server.log().join("\n"));
            }
        } else {
            let _ = std::fs::remove_file(&self.pcap);
        }
    }
}

/// The DHCP transaction lines of a dnsmasq log (`DHCPDISCOVER(wolfip0)
/// ...`), without the time stamp, the process and the transaction id.
pub fn dhcp_lines(log: &[String]) -> Vec<String> {
    log.iter()
        .filter_map(|l| {
            let i = l.find(" DHCP")?;
            let rest = &l[i + 1..];
            rest.split_once('(')
                .filter(|(kind, _)| kind.chars().all(|c| c.is_ascii_uppercase()))
                .map(|_| rest.to_owned())
        })
        .collect()
}

/// The message type of a line of [`dhcp_lines`]: `DHCPACK`.
pub fn kind(line: &str) -> &str {
    line.split('(').next().unwrap_or("")
}

/// Starts dnsmasq in this namespace on [`TAP`] (which must exist, with
/// `linux_ip`): for the `tap_echo --dhcp` test.
pub fn start_dnsmasq(
    linux_ip: Ipv4Addr,
    cfg: impl FnOnce(DnsmasqConfig) -> DnsmasqConfig,
) -> Dnsmasq {
    Dnsmasq::start(cfg(DnsmasqConfig::new(TAP, linux_ip))).unwrap_or_else(|e| panic!("{e}"))
}

impl TapEcho {
    /// Starts `tap_echo --tap TAP --dhcp --pcap FILE` (plus `extra`) and
    /// waits (at most 10 s) for its start-up line.
    pub fn start_dhcp(test: &str, extra: &[&str]) -> TapEcho {
        let pcap = temp_path(test, "pcap");
        let child = Command::new(env!("CARGO_BIN_EXE_tap_echo"))
            .args(["--tap", TAP, "--dhcp", "--pcap"])
            .arg(&pcap)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tap_echo");
        let mut guard = ChildGuard(Some(child));
        let out = guard.child().stdout.take().unwrap();
        let err = drain(guard.child().stderr.take().unwrap());
        let (tx, lines) = mpsc::channel();
        let stdout = thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut t = TapEcho {
            guard,
            lines,
            stdout: Some(stdout),
            stderr: Some(err),
            seen: Vec::new(),
            pcap,
        };
        let first = t.next_line(Duration::from_secs(10));
        assert!(
            first.starts_with("tap_echo: DHCP") && first.contains(&format!(" on {TAP},")),
            "unexpected start-up line: {first}"
        );
        wait_link_up();
        t
    }

    /// The next line `tap_echo` prints, waiting at most `limit`.
    pub fn next_line(&mut self, limit: Duration) -> String {
        match self.lines.recv_timeout(limit) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("tap_echo printed nothing within {limit:?}"),
            Err(RecvTimeoutError::Disconnected) => {
                let status = wait_timeout(self.guard.child(), Duration::from_secs(5));
                let err = self
                    .stderr
                    .take()
                    .map(|h| h.join().unwrap())
                    .unwrap_or_default();
                panic!(
                    "tap_echo exited ({status:?}): {}",
                    String::from_utf8_lossy(&err)
                );
            }
        }
    }

    /// Skips lines until one starts with `prefix` (at most `limit` in
    /// all); returns it.
    pub fn wait_line(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next_line(left.max(Duration::from_millis(1)));
            if line.starts_with(prefix) {
                return line;
            }
        }
    }
}
