//! Shared helpers for the interoperability tests that run `tap_echo`
//! against the Linux kernel, each test inside its own network namespace.
//!
//! Policy: without root, `/dev/net/tun` or one of the Linux tools, a test
//! prints why and passes, unless the environment variable `CI` is `true`,
//! in which case it fails. Every wait is bounded in time and count, and
//! every child process is killed if the test fails (see [`ChildGuard`]).

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wolfip_tap::netns;

pub mod dhcp;
pub mod hostile;
pub mod tcp;

/// The TAP interface every test creates (each in its own namespace).
pub const TAP: &str = "wolfip0";
/// Linux's address on the TAP.
pub const LINUX_IP: &str = "192.0.2.1";
/// The stack's address.
pub const STACK_IP: &str = "192.0.2.2";
/// The stack's hardware address (the examples' default).
pub const STACK_MAC: &str = "02:57:49:50:00:01";
/// The UDP echo port of `tap_echo`.
pub const ECHO_PORT: u16 = 4242;

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether the privileged tests can run here; see the module docs.
pub fn privileged() -> bool {
    if netns::is_root() && netns::tun_available() {
        return true;
    }
    if ci() {
        panic!("needs root and /dev/net/tun (CI=true: not skipping)");
    }
    eprintln!("skipped: needs root and /dev/net/tun");
    false
}

/// Whether every tool of `tools` runs (`TOOL --version` or `TOOL -V`);
/// same policy as [`privileged`].
pub fn tools_available(tools: &[&str]) -> bool {
    for tool in tools {
        let ok = ["--version", "-V", "-h"].iter().any(|flag| {
            Command::new(tool)
                .arg(flag)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        });
        if !ok {
            let msg = format!("needs {tool} (install with: bash .ci/install-deps.sh)");
            if ci() {
                panic!("{msg} (CI=true: not skipping)");
            }
            eprintln!("skipped: {msg}");
            return false;
        }
    }
    true
}

/// Both [`privileged`] and [`tools_available`] for `ip`, `ping`, `tshark`, `kill`
/// and `extra`.
pub fn can_run(extra: &[&str]) -> bool {
    let mut tools = vec!["ip", "ping", "tshark", "kill"];
    tools.extend_from_slice(extra);
    privileged() && tools_available(&tools)
}

/// Runs `f` on a fresh thread moved into its own network namespace; the
/// thread's panic, if any, is the caller's. The thread has a 32 MiB stack,
/// enough for a `Stack` built by value in a debug build even when the test
/// binary runs outside cargo (which sets `RUST_MIN_STACK` from
/// `.cargo/config.toml`).
pub fn in_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            netns::unshare_net().expect("unshare_net");
            f()
        })
        .expect("spawn the namespace thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A path in the temporary directory unique to this test, this process and
/// this call.
pub fn temp_path(test: &str, ext: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("wolfip-{test}-{}-{n}.{ext}", std::process::id()))
}

/// Kills (SIGKILL) and reaps its child when dropped, unless it was taken.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child already reaped")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits at most `limit` for `child` to exit (polling every 20 ms).
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return Some(s);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Reads all of `r` on a thread (so a chatty child never blocks on a full
/// pipe).
fn drain<R: Read + Send + 'static>(mut r: R) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// Runs `cmd` (from the calling thread, hence in its namespace) with the
/// given stdin, for at most `limit`; panics if it takes longer (after
/// killing it).
pub fn run_with_stdin(mut cmd: Command, stdin: Stdio, limit: Duration) -> Output {
    let desc = format!("{cmd:?}");
    let child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    let mut guard = ChildGuard(Some(child));
    let out = drain(guard.child().stdout.take().unwrap());
    let err = drain(guard.child().stderr.take().unwrap());
    let status = wait_timeout(guard.child(), limit);
    drop(guard); // kills it if it is still running
    let status = status.unwrap_or_else(|| panic!("{desc} still running after {limit:?}"));
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// [`run_with_stdin`] with no input.
pub fn run(cmd: Command, limit: Duration) -> Output {
    run_with_stdin(cmd, Stdio::null(), limit)
}

/// Runs `ip ARGS` and insists that it succeeds; returns its stdout.
pub fn ip(args: &[&str]) -> String {
    let mut cmd = Command::new("ip");
    cmd.args(args);
    let out = run(cmd, Duration::from_secs(10));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Linux's view of [`TAP`] (neighbours, counters, qdisc), for failure
/// messages.
pub fn diagnostics() -> String {
    let mut s = String::new();
    for args in [
        &["-s", "neigh", "show", "dev", TAP][..],
        &["-s", "link", "show", "dev", TAP][..],
        &["route", "show", "dev", TAP][..],
    ] {
        let mut cmd = Command::new("ip");
        cmd.args(args);
        let out = run(cmd, Duration::from_secs(10));
        s += &format!(
            "$ ip {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let mut cmd = Command::new("tc");
    cmd.args(["-s", "qdisc", "show", "dev", TAP]);
    if let Ok(out) = cmd.output() {
        s += &format!(
            "$ tc -s qdisc show dev {TAP}\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    s
}

/// Creates the TAP interface [`TAP`] as `192.0.2.1/24` and brings it up.
pub fn setup_tap() {
    ip(&["tuntap", "add", "dev", TAP, "mode", "tap"]);
    ip(&["addr", "add", "192.0.2.1/24", "dev", TAP]);
    ip(&["link", "set", TAP, "up"]);
}

/// The hardware address Linux gave [`TAP`] (lower case).
pub fn tap_mac() -> String {
    let out = ip(&["-o", "link", "show", "dev", TAP]);
    let mut words = out.split_whitespace();
    words
        .find(|w| *w == "link/ether")
        .expect("link/ether in ip link output");
    words.next().expect("MAC after link/ether").to_lowercase()
}

/// Waits (at most 5 s) until Linux sees [`TAP`] as operationally up.
///
/// Once `tap_echo` has attached to the TAP the carrier is on, but the
/// kernel activates the interface's transmit queues a little later (link
/// watch work, rate limited across all interfaces): until then whatever
/// Linux sends on it is silently dropped. Operational state UP is set in
/// the same step.
pub fn wait_link_up() {
    let mut last = String::new();
    for _ in 0..100 {
        last = ip(&["-o", "link", "show", "dev", TAP]);
        if last.contains("LOWER_UP") && last.contains(" state UP ") {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{TAP} not up within 5 s: {last}");
}

/// A running `tap_echo`, stopped with SIGTERM by [`TapEcho::stop`] or killed
/// (SIGKILL) when dropped. Its capture file is removed when the test passes
/// and kept (its path printed) when it fails, or always when the
/// environment variable `WOLFIP_KEEP_PCAP` is set.
pub struct TapEcho {
    guard: ChildGuard,
    lines: Receiver<String>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    /// Lines of stdout read by [`TapEcho::occupancy`] while it waited for
    /// its own, given back by [`TapEcho::stop`].
    seen: Vec<String>,
    pub pcap: PathBuf,
}

/// What `tap_echo` said when it stopped.
pub struct Stopped {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl TapEcho {
    /// Starts `tap_echo --tap TAP --ip 192.0.2.2/24 --pcap FILE` (plus
    /// `extra` arguments) and waits (at most 10 s) for its start-up line.
    pub fn start(test: &str, extra: &[&str]) -> TapEcho {
        let pcap = temp_path(test, "pcap");
        let child = Command::new(env!("CARGO_BIN_EXE_tap_echo"))
            .args(["--tap", TAP, "--ip", "192.0.2.2/24", "--pcap"])
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
            for line in BufReader::new(out).lines() {
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
        match t.lines.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => assert!(
                line.starts_with("tap_echo: 192.0.2.2/24 (02:57:49:50:00:01) on wolfip0"),
                "unexpected start-up line: {line}"
            ),
            Err(RecvTimeoutError::Timeout) => panic!("tap_echo printed nothing within 10 s"),
            Err(RecvTimeoutError::Disconnected) => {
                let status = wait_timeout(t.guard.child(), Duration::from_secs(5));
                let err = t.stderr.take().unwrap().join().unwrap();
                panic!(
                    "tap_echo exited at start ({status:?}): {}",
                    String::from_utf8_lossy(&err)
                );
            }
        }
        wait_link_up();
        t
    }

    /// Sends SIGTERM, waits (at most 10 s, then SIGKILL and panic) for the
    /// exit and returns what it printed. Insists on exit status 0.
    pub fn stop(&mut self) -> Stopped {
        let pid = self.guard.child().id().to_string();
        let mut kill = Command::new("kill");
        kill.args(["-TERM", &pid]);
        let k = run(kill, Duration::from_secs(5));
        assert!(
            k.status.success(),
            "kill -TERM {pid}: {}",
            String::from_utf8_lossy(&k.stderr)
        );
        let status = wait_timeout(self.guard.child(), Duration::from_secs(10))
            .unwrap_or_else(|| panic!("tap_echo (pid {pid}) ignored SIGTERM for 10 s"));
        self.guard.0 = None;
        // The pipes are closed now that it has exited: the readers end.
        self.stdout.take().unwrap().join().unwrap();
        let mut stdout = std::mem::take(&mut self.seen);
        stdout.extend(self.lines.try_iter());
        let stderr =
            String::from_utf8_lossy(&self.stderr.take().unwrap().join().unwrap()).into_owned();
        let s = Stopped {
            status,
            stdout: stdout.join("\n"),
            stderr,
        };
        assert!(
            s.status.success(),
            "tap_echo exited with {:?}\nstdout:\n{}\nstderr:\n{}",
            s.status,
            s.stdout,
            s.stderr
        );
        s
    }
}

impl TapEcho {
    /// The process id of `tap_echo`.
    pub fn pid(&mut self) -> u32 {
        self.guard.child().id()
    }

    /// Whether `tap_echo` is still running.
    pub fn running(&mut self) -> bool {
        self.guard.child().try_wait().expect("try_wait").is_none()
    }

    /// Sends SIGUSR1 and returns the occupancy line `tap_echo` prints in
    /// answer (at most 5 s), parsed by [`parse_occupancy`].
    pub fn occupancy(&mut self) -> HashMap<String, u64> {
        let pid = self.pid().to_string();
        let mut kill = Command::new("kill");
        kill.args(["-USR1", &pid]);
        let k = run(kill, Duration::from_secs(5));
        assert!(k.status.success(), "kill -USR1 {pid}");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(OCCUPANCY) => return parse_occupancy(&line),
                Ok(line) => self.seen.push(line),
                Err(e) => panic!("no occupancy line from tap_echo after SIGUSR1: {e:?}"),
            }
        }
    }
}

/// The start of `tap_echo`'s occupancy line.
pub const OCCUPANCY: &str = "tap_echo: occupancy ";

/// Parses `tap_echo: occupancy key=value ...` into its pairs.
pub fn parse_occupancy(line: &str) -> HashMap<String, u64> {
    let rest = line
        .strip_prefix(OCCUPANCY)
        .unwrap_or_else(|| panic!("not an occupancy line: {line}"));
    rest.split_whitespace()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("bad pair {kv:?} in {line}"));
            let v = v
                .parse()
                .unwrap_or_else(|_| panic!("bad value {kv:?} in {line}"));
            (k.to_owned(), v)
        })
        .collect()
}

impl Drop for TapEcho {
    fn drop(&mut self) {
        if thread::panicking() || std::env::var_os("WOLFIP_KEEP_PCAP").is_some() {
            eprintln!("capture kept for inspection: {}", self.pcap.display());
        } else {
            let _ = std::fs::remove_file(&self.pcap);
        }
        // self.guard kills tap_echo if it still runs.
    }
}

impl Stopped {
    /// The first line of stdout starting with `prefix`; panics with
    /// `missing` and the whole stdout if there is none.
    fn line_starting(&self, prefix: &str, missing: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{missing} in:\n{}", self.stdout))
    }

    /// `(echoed, dropped)` from the "UDP echoed N (dropped M)" line.
    pub fn echo_counters(&self) -> (u64, u64) {
        let line = self.line_starting("tap_echo: stopping; UDP echoed ", "no counters line");
        let nums = numbers(line);
        assert_eq!(nums.len(), 2, "counters line: {line}");
        (nums[0], nums[1])
    }

    /// The TCP echo's line "TCP accepted N connections, echoed B bytes, K
    /// still open; S of T sockets in use".
    pub fn tcp_echo_counters(&self) -> TcpEchoCounters {
        let line = self.line_starting("tap_echo: TCP accepted ", "no TCP echo line");
        let nums = numbers(line);
        assert_eq!(nums.len(), 5, "TCP echo line: {line}");
        TcpEchoCounters {
            accepted: nums[0],
            bytes: nums[1],
            still_open: nums[2],
            sockets_in_use: nums[3],
        }
    }

    /// The stack's counters of one protocol line of its statistics (`eth`,
    /// `arp`, `ipv4`, `frag`, `icmp`, `udp`, `tcp`); see [`parse_counters`].
    pub fn stack_counters(&self, proto: &str) -> HashMap<String, u64> {
        let line = self
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(proto))
            .unwrap_or_else(|| panic!("no '{proto}' counters in:\n{}", self.stdout));
        parse_counters(line)
    }

    /// The occupancy `tap_echo` printed on exit (its last occupancy line).
    pub fn occupancy(&self) -> HashMap<String, u64> {
        let line = self
            .stdout
            .lines()
            .rfind(|l| l.starts_with(OCCUPANCY))
            .unwrap_or_else(|| panic!("no occupancy line in:\n{}", self.stdout));
        parse_occupancy(line)
    }

    /// One TCP counter of the stack, e.g. `"resets rx"`; panics if there is
    /// no such counter.
    pub fn tcp_counter(&self, name: &str) -> u64 {
        let c = self.stack_counters("tcp");
        *c.get(name)
            .unwrap_or_else(|| panic!("no TCP counter '{name}' in {c:?}"))
    }
}

/// The decimal numbers of `line`, in order.
fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect()
}

/// What `tap_echo`'s TCP echo reported when it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpEchoCounters {
    /// Connections accepted.
    pub accepted: u64,
    /// Bytes echoed.
    pub bytes: u64,
    /// Connections the echo still held.
    pub still_open: u64,
    /// TCP sockets of the stack in use (the listener included).
    pub sockets_in_use: u64,
}

/// Parses one line of the stack's statistics, e.g. `tcp   rx 5 tx 4 |
/// opens active 0 passive 1 | retransmits 0 (timeouts 0 fast 0) | resets
/// rx 0 tx 0 ...`, into named counters: each number is named by the word
/// before it, prefixed by the first word of its `|` section unless it is
/// that word: `tcp rx`, `opens passive`, `retransmits`, `retransmits
/// timeouts`, `resets rx`, `drop backlog`, `timed out`...
pub fn parse_counters(line: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let trim = |w: &str| {
        w.trim_matches(|c| c == '(' || c == ')' || c == ':')
            .to_owned()
    };
    for section in line.split('|') {
        let words: Vec<&str> = section.split_whitespace().collect();
        for i in 1..words.len() {
            let Ok(n) = trim(words[i]).parse::<u64>() else {
                continue;
            };
            let prev = trim(words[i - 1]);
            let key = if i == 1 {
                prev
            } else {
                format!("{} {prev}", trim(words[0]))
            };
            out.insert(key, n);
        }
    }
    out
}

/// Runs `ping -c COUNT -i 0.2 -W 2 -s SIZE 192.0.2.2` and insists that every
/// reply came back, once, with the right data.
pub fn ping(size: usize, count: u32) {
    let mut cmd = Command::new("ping");
    cmd.args([
        "-n",
        "-c",
        &count.to_string(),
        "-i",
        "0.2",
        "-W",
        "2",
        "-w",
        "20",
    ]);
    cmd.args(["-s", &size.to_string(), STACK_IP]);
    let out = run(cmd, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or_else(|| {
            panic!(
                "ping -s {size}: no summary\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let nums: Vec<&str> = summary.split_whitespace().collect();
    // "3 packets transmitted, 3 received, 0% packet loss, time 405ms"
    assert_eq!(
        nums.first(),
        Some(&count.to_string().as_str()),
        "ping -s {size}: {summary}"
    );
    assert_eq!(
        nums.get(3),
        Some(&count.to_string().as_str()),
        "ping -s {size}: {summary}\n{text}"
    );
    assert!(
        summary.contains(" 0% packet loss"),
        "ping -s {size}: {summary}"
    );
    assert!(
        !text.contains("DUP!"),
        "ping -s {size}: duplicate replies\n{text}"
    );
    assert!(
        !text.contains("wrong data"),
        "ping -s {size}: corrupted replies\n{text}"
    );
    assert!(out.status.success(), "ping -s {size} failed:\n{text}");
}

/// Waits (at most 10 pings of 1 s) until 192.0.2.2 answers a ping.
pub fn wait_ping() {
    for _ in 0..10 {
        let mut cmd = Command::new("ping");
        cmd.args(["-n", "-c", "1", "-W", "1", STACK_IP]);
        if run(cmd, Duration::from_secs(5)).status.success() {
            return;
        }
    }
    panic!("192.0.2.2 never answered a ping");
}

/// Runs tshark on `pcap` with display filter `filter`, printing `fields`
/// (tab separated, one line per frame). Checksum validation is on.
/// tshark's stderr ("Running as user root ...") is ignored, but its exit
/// status must be 0.
pub fn tshark(pcap: &Path, filter: &str, fields: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(pcap);
    for proto in ["ip", "udp", "tcp"] {
        cmd.args(["-o", &format!("{proto}.check_checksum:TRUE")]);
    }
    // The payloads are random bytes: without this, tshark's heuristic
    // dissectors now and then take one for RTCP (or another protocol) and
    // report it malformed. The echo port and the closed port carry data.
    cmd.args([
        "-d",
        &format!("udp.port=={ECHO_PORT},data"),
        "-d",
        "udp.port==9,data",
        "-d",
        &format!("tcp.port=={ECHO_PORT},data"),
    ]);
    cmd.args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = run(cmd, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "tshark -r {} -Y '{filter}': {}",
        pcap.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Frames of `pcap` sent by `mac` that tshark finds malformed or flags with
/// an expert warning or error (bad checksums included): `number\tmessages`.
pub fn capture_problems(pcap: &Path, mac: &str) -> Vec<String> {
    let filter = format!("eth.src == {mac} && (_ws.malformed || _ws.expert.severity >= warning)");
    tshark(pcap, &filter, &["frame.number", "_ws.expert.message"])
}

/// Frames of `pcap` sent by `mac` that are malformed or carry a bad IP,
/// TCP or UDP checksum: `number\tmessages`. Unlike [`capture_problems`]
/// this ignores TCP analysis notes and warnings (retransmission, dup ACK,
/// zero window, previous segment not captured...), which are legitimate
/// on a lossy link.
pub fn capture_corruption(pcap: &Path, mac: &str) -> Vec<String> {
    let filter = format!(
        "eth.src == {mac} && (_ws.malformed || ip.checksum.status == \"Bad\" \
         || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\")"
    );
    tshark(pcap, &filter, &["frame.number", "_ws.expert.message"])
}

/// How many frames of `pcap` match `filter`.
pub fn tshark_count(pcap: &Path, filter: &str) -> usize {
    tshark(pcap, filter, &["frame.number"]).len()
}

/// The fields `f` of the frames of `pcap` matching `filter`, one vector a
/// frame.
pub fn fields(pcap: &Path, filter: &str, f: &[&str]) -> Vec<Vec<String>> {
    tshark(pcap, filter, f)
        .iter()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Insists that the capture holds frames from the stack and that tshark
/// finds nothing wrong with any of them.
pub fn check_capture(pcap: &Path) {
    let ours = tshark(pcap, &format!("eth.src == {STACK_MAC}"), &["frame.number"]);
    assert!(
        !ours.is_empty(),
        "no frame from the stack in {}",
        pcap.display()
    );
    let problems = capture_problems(pcap, STACK_MAC);
    assert!(
        problems.is_empty(),
        "tshark flags frames sent by the stack in {}:\n{}",
        pcap.display(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------
// Hand-made captures, the positive controls of the tshark checks.

/// The one's complement sum of `data` as big-endian 16-bit words (an odd
/// last byte padded with zero) added to `acc`, not folded.
fn sum(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    acc
}

/// Folds `acc` to 16 bits and complements it: an Internet checksum.
fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The addresses of the hand-made packets: 192.0.2.2 -> 192.0.2.1.
const FRAME_SRC_IP: [u8; 4] = [192, 0, 2, 2];
const FRAME_DST_IP: [u8; 4] = [192, 0, 2, 1];

/// The checksum of the transport `segment` (its checksum field zero) of
/// IP protocol `proto` from 192.0.2.2 to 192.0.2.1, pseudo-header
/// included.
pub fn l4_checksum(proto: u8, segment: &[u8]) -> u16 {
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&FRAME_SRC_IP);
    pseudo.extend_from_slice(&FRAME_DST_IP);
    pseudo.extend_from_slice(&[0, proto]);
    pseudo.extend_from_slice(&(segment.len() as u16).to_be_bytes());
    fold(sum(segment, sum(&pseudo, 0)))
}

/// An Ethernet frame from `src` (MAC) to 02:00:00:00:00:02 holding an IPv4
/// packet 192.0.2.2 -> 192.0.2.1 of protocol `proto` that carries
/// `segment`, with a correct header checksum.
pub fn ipv4_frame(src: [u8; 6], proto: u8, segment: &[u8]) -> Vec<u8> {
    let mut ip = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0];
    ip[2..4].copy_from_slice(&(20 + segment.len() as u16).to_be_bytes());
    ip.extend_from_slice(&FRAME_SRC_IP);
    ip.extend_from_slice(&FRAME_DST_IP);
    let ck = fold(sum(&ip, 0));
    ip[10..12].copy_from_slice(&ck.to_be_bytes());

    let mut f = vec![0x02, 0, 0, 0, 0, 0x02];
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(segment);
    f
}

/// Writes `frames` as a classic little-endian pcap (Ethernet link type).
pub fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]); // thiszone, sigfigs
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

// ---------------------------------------------------------------------
// Test data.

/// A small xorshift64* generator: random payloads without a dependency.
/// The seed is printed so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn from_time(test: &str) -> Rng {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let seed = (t ^ (u64::from(std::process::id()) << 32)) | 1;
        eprintln!("{test}: random seed {seed:#x}");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform enough in `lo..=hi` for tests.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 56) as u8).collect()
    }
}

/// Writes `data` to a fresh temporary file and opens it for reading.
pub fn stdin_from(test: &str, data: &[u8]) -> (PathBuf, File) {
    let path = temp_path(test, "bin");
    std::fs::write(&path, data).expect("write temp file");
    let f = File::open(&path).expect("open temp file");
    (path, f)
}
