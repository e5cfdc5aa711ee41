//! The C echo programs (`c-tests/echo/`): `echo_server.c`, a poll()-based
//! TCP and UDP echo server, and `echo_client.c`, a blocking client that
//! checks a deterministic byte stream coming back, each built against
//! Linux's sockets and against the wolfip C library (`-DWOLFIP`,
//! `<wolfip_posix.h>`), from the same source.
//!
//! * `c_echo_server_linux_sanity`: the Linux build on 127.0.0.1, 50
//!   concurrent socat clients with distinct ~20 KB payloads, one UDP
//!   datagram, and the client in both of its modes.
//! * `c_echo_server_serves_50_socat_clients`: the wolfip build on a TAP
//!   device, the same 50 socat clients and UDP datagram from the Linux side.
//! * `c_client_against_wolfip_server`: the Linux build of the client, 1 MB
//!   through the wolfip build of the server (poll mode and writer-thread
//!   mode).
//! * `c_client_wolfip_against_linux`: the wolfip build of the client, 1 MB
//!   through the Linux build of the server (both modes).
//!
//! Every test runs in its own network namespace: 127.0.0.1 on loopback, and
//! for the wolfip ones a TAP `wecho0` with Linux at 192.0.2.1/24 and the
//! wolfip program at 192.0.2.2/24. Every wait is bounded; a child still
//! running when its time is up is killed (and so is every child of a failing
//! test, when its guard drops).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;

/// The TAP interface of the wolfip tests (one per namespace).
const TAP: &str = "wecho0";
/// Linux's side of the TAP.
const LINUX_IP: &str = "192.0.2.1";
/// The wolfip program's address.
const STACK_IP: &str = "192.0.2.2";
const STACK_CIDR: &str = "192.0.2.2/24";
/// The echo port (each test has its own namespace, so one port does).
const PORT: u16 = 7007;

/// Concurrent socat clients.
const CLIENTS: usize = 50;
/// Bytes of the C client's round trip.
const ROUND_TRIP: usize = 1_000_000;

/// How long a server has to print its `listening` line.
const LISTEN_LIMIT: Duration = Duration::from_secs(15);
/// One socat client, connection included.
const SOCAT_LIMIT: Duration = Duration::from_secs(60);
/// One run of the C client (it bounds itself to `CLIENT_TIMEOUT` seconds).
const CLIENT_LIMIT: Duration = Duration::from_secs(90);
const CLIENT_TIMEOUT: &str = "60";
/// How long a server has to exit once its `--exit-after` count is reached.
const EXIT_LIMIT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------
// Building.

/// Compiles `c-tests/echo/<name>.c` for `variant`, once per test process
/// (tests run concurrently and would otherwise race on the same output
/// file); panics with gcc's complaints.
fn binary(name: &str, variant: Variant) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, Result<PathBuf, String>>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let key = format!("{name}-{}", variant.name());
    built
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_insert_with(|| {
            let src = package_dir().join("echo").join(format!("{name}.c"));
            compile_c(name, &[src.as_path()], variant)
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Whether `socat` runs; same skip policy as [`skip_without_root`].
fn skip_without_socat(test: &str) -> bool {
    let ok = Command::new("socat")
        .arg("-V")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return false;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs socat (CI=true: not skipping)");
    }
    eprintln!("skipped {test}: needs socat");
    true
}

fn skip(test: &str) -> bool {
    skip_without_root(test) || skip_without_socat(test)
}

// ---------------------------------------------------------------------
// Processes.

/// A running echo server whose stdout is read line by line as it comes.
/// Killed (SIGKILL) and reaped when dropped, unless [`Server::finish`]
/// collected it.
struct Server {
    desc: String,
    child: Option<Child>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Server {
    /// Starts `bin args` (in the calling thread's namespace) and waits for
    /// its `listening` line.
    fn start(bin: &Path, args: &[&str]) -> Server {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let desc = format!("{cmd:?}");
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        let (tx, lines) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let stdout = thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        let mut server = Server {
            desc,
            child: Some(child),
            lines,
            seen: Vec::new(),
            stdout: Some(stdout),
            stderr: Some(stderr),
        };
        server.wait_listening();
        server
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + LISTEN_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = line.starts_with("listening ");
                    self.seen.push(line);
                    if done {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let out = self.kill();
                    panic!(
                        "{}: no `listening` line within {LISTEN_LIMIT:?}\n{out}",
                        self.desc
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let out = self.kill();
                    panic!("{}: exited before `listening`\n{out}", self.desc)
                }
            }
        }
    }

    /// Kills the server and returns what it printed, for a failure message.
    fn kill(&mut self) -> String {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let out = self.collect();
        format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The output so far (the process must be gone).
    fn collect(&mut self) -> Output {
        if let Some(h) = self.stdout.take() {
            let _ = h.join();
        }
        self.seen.extend(self.lines.try_iter());
        let mut stdout = self.seen.join("\n").into_bytes();
        stdout.push(b'\n');
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Output {
            status: ExitStatus::default(),
            stdout,
            stderr,
        }
    }

    /// Waits at most [`EXIT_LIMIT`] for the server to exit by itself (its
    /// `--exit-after` count reached) and returns its output; if it is still
    /// running, kills it and returns an error with its output.
    fn finish(mut self) -> Result<Output, String> {
        let mut child = self.child.take().expect("running");
        let status = wait_timeout(&mut child, EXIT_LIMIT).unwrap_or_else(|e| panic!("{e}"));
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let mut out = self.collect();
        match status {
            Some(s) => {
                out.status = s;
                Ok(out)
            }
            None => Err(format!(
                "{} still running after {EXIT_LIMIT:?}; killed\nstdout:\n{}\nstderr:\n{}",
                self.desc,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }

    /// [`Server::finish`], insisting on exit status 0 and the line
    /// `served <n>`.
    fn expect_served(self, n: usize) -> Output {
        let desc = self.desc.clone();
        let out = self.finish().unwrap_or_else(|e| panic!("{e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.lines().any(|l| l == format!("served {n}")),
            "{desc}: exited with {} (expected 0 and `served {n}`)\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs `cmd` with `input` on its stdin for at most `limit` (killed then);
/// returns its output, or an error naming the command.
fn run_with_input(mut cmd: Command, input: Vec<u8>, limit: Duration) -> Result<Output, String> {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {desc}: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = thread::spawn(move || {
        // An error here (EPIPE: the child is gone) shows in its output.
        let _ = stdin.write_all(&input);
    });
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_timeout(&mut child, limit)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = writer.join();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "{desc}: still running after {limit:?}; killed ({} bytes out)\nstderr:\n{}",
            stdout.len(),
            String::from_utf8_lossy(&stderr)
        )),
    }
}

// ---------------------------------------------------------------------
// Clients.

/// Client `i`'s payload: a header naming it, then `20_000 + 37 i` bytes of
/// its own pseudo-random sequence.
fn payload(i: usize) -> Vec<u8> {
    let mut v = format!("client {i}\n").into_bytes();
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1);
    for _ in 0..20_000 + 37 * i {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push((x >> 24) as u8);
    }
    v
}

/// The first position where `got` differs from `want`, for messages.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    match want.iter().zip(got).position(|(a, b)| a != b) {
        Some(k) => format!(
            "{} bytes sent, {} echoed, first difference at byte {k}",
            want.len(),
            got.len()
        ),
        None => format!(
            "{} bytes sent, {} echoed, equal up to the shorter",
            want.len(),
            got.len()
        ),
    }
}

/// Runs [`CLIENTS`] socat TCP clients at once against `ip:port`, each
/// sending its own [`payload`], and checks every echo byte for byte.
/// Returns the failures, one line each.
fn socat_clients(ip: &str, port: u16) -> Vec<String> {
    let start = Instant::now();
    let failures: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                s.spawn(move || {
                    let input = payload(i);
                    let mut cmd = Command::new("socat");
                    cmd.args([
                        "-t",
                        "5",
                        "-",
                        &format!("TCP:{ip}:{port},connect-timeout=30"),
                    ]);
                    match run_with_input(cmd, input.clone(), SOCAT_LIMIT) {
                        Err(e) => Some(format!("client {i}: {e}")),
                        Ok(out) if !out.status.success() => Some(format!(
                            "client {i}: socat exited with {}: {}",
                            out.status,
                            String::from_utf8_lossy(&out.stderr).trim()
                        )),
                        Ok(out) if out.stdout != input => Some(format!(
                            "client {i}: {}",
                            first_difference(&input, &out.stdout)
                        )),
                        Ok(_) => None,
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("client thread"))
            .collect()
    });
    eprintln!(
        "{CLIENTS} socat clients against {ip}:{port}: {} failed, {:.2?}",
        failures.len(),
        start.elapsed()
    );
    failures
}

/// Sends one UDP datagram to `ip:port` with socat and checks that the same
/// bytes come back; up to 3 attempts (UDP may lose the first datagram while
/// ARP resolves).
fn udp_round_trip(ip: &str, port: u16) -> Result<(), String> {
    let msg = b"wolfip udp echo 0123456789\n".to_vec();
    let mut last = String::new();
    for attempt in 1..=3 {
        let mut cmd = Command::new("socat");
        cmd.args(["-t", "2", "-", &format!("UDP:{ip}:{port}")]);
        let out = run_with_input(cmd, msg.clone(), Duration::from_secs(15))?;
        if out.stdout == msg {
            return Ok(());
        }
        last = format!(
            "attempt {attempt}: socat exited with {}, echoed {:?}, stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Err(format!("UDP echo from {ip}:{port}: {last}"))
}

/// Runs the C client `bin` against `ip:port` for [`ROUND_TRIP`] bytes with
/// the extra arguments `extra`; returns an error with its output unless it
/// printed `ok <bytes>` and exited 0.
fn c_client(bin: &Path, ip: &str, port: u16, extra: &[&str]) -> Result<(), String> {
    let bytes = ROUND_TRIP.to_string();
    let port = port.to_string();
    let mut args = vec![
        ip,
        port.as_str(),
        "--bytes",
        bytes.as_str(),
        "--timeout",
        CLIENT_TIMEOUT,
    ];
    args.extend_from_slice(extra);
    let start = Instant::now();
    let out = run_args(bin, &args, &[], CLIENT_LIMIT)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.trim() == format!("ok {ROUND_TRIP}") {
        eprintln!(
            "{} {}: ok in {:.2?}",
            bin.display(),
            args.join(" "),
            start.elapsed()
        );
        Ok(())
    } else {
        Err(format!(
            "{} {}: exited with {}\nstdout:\n{stdout}\nstderr:\n{}",
            bin.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The TAP of the wolfip tests, in the current namespace: Linux at
/// 192.0.2.1/24.
fn setup_tap() {
    ip(&format!("tuntap add mode tap name {TAP}"));
    ip(&format!("addr add {LINUX_IP}/24 dev {TAP}"));
    ip(&format!("link set {TAP} up"));
}

/// Linux's view of the TAP, for failure messages.
fn diagnostics() -> String {
    let mut s = String::new();
    for args in [
        format!("-s link show dev {TAP}"),
        format!("neigh show dev {TAP}"),
    ] {
        s += &format!("ip {args}:\n{}\n", try_ip(&args).unwrap_or_else(|e| e));
    }
    s
}

/// Panics with every failure, the server's output and the diagnostics, if
/// there is any failure.
fn report(test: &str, failures: &[String], server: Result<Output, String>, diag: &str) {
    let server_ok = matches!(&server, Ok(o) if o.status.success());
    if failures.is_empty() && server_ok {
        return;
    }
    let server = match server {
        Ok(o) => format!(
            "server exited with {}\nstdout:\n{}\nstderr:\n{}",
            o.status,
            tail(&o.stdout, 20),
            tail(&o.stderr, 40)
        ),
        Err(e) => e,
    };
    panic!(
        "{test}: {} failure(s):\n{}\n{server}\n{diag}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------
// Tests.

#[test]
fn c_echo_server_linux_sanity() {
    let test = "c_echo_server_linux_sanity";
    if skip(test) {
        return;
    }
    let server_bin = binary("echo_server", Variant::Linux);
    let client_bin = binary("echo_client", Variant::Linux);
    fresh_netns().unwrap_or_else(|e| panic!("{e}"));

    let port = PORT.to_string();
    // 50 socat clients and two C clients, each closed once served.
    let exit_after = (CLIENTS + 2).to_string();
    let server = Server::start(
        &server_bin,
        &["127.0.0.1", &port, "--exit-after", &exit_after],
    );
    // UDP first: the server exits once its last TCP client is served.
    let mut failures = Vec::new();
    if let Err(e) = udp_round_trip("127.0.0.1", PORT) {
        failures.push(e);
    }
    failures.extend(socat_clients("127.0.0.1", PORT));
    for extra in [&[][..], &["--threads", "--seed", "7"][..]] {
        if let Err(e) = c_client(&client_bin, "127.0.0.1", PORT, extra) {
            failures.push(e);
        }
    }
    let served = if failures.is_empty() {
        Ok(server.expect_served(CLIENTS + 2))
    } else {
        server.finish()
    };
    report(test, &failures, served, "");
}

#[test]
fn c_echo_server_serves_50_socat_clients() {
    let test = "c_echo_server_serves_50_socat_clients";
    if skip(test) {
        return;
    }
    let server_bin = binary("echo_server", Variant::Wolfip);
    fresh_netns().unwrap_or_else(|e| panic!("{e}"));
    setup_tap();

    let port = PORT.to_string();
    let exit_after = CLIENTS.to_string();
    let server = Server::start(
        &server_bin,
        &[
            STACK_IP,
            &port,
            "--exit-after",
            &exit_after,
            "--tap",
            TAP,
            "--cidr",
            STACK_CIDR,
        ],
    );
    // UDP first: the server exits once its last TCP client is served.
    let mut failures = Vec::new();
    if let Err(e) = udp_round_trip(STACK_IP, PORT) {
        failures.push(e);
    }
    failures.extend(socat_clients(STACK_IP, PORT));
    let diag = if failures.is_empty() {
        String::new()
    } else {
        diagnostics()
    };
    let served = if failures.is_empty() {
        Ok(server.expect_served(CLIENTS))
    } else {
        server.finish()
    };
    report(test, &failures, served, &diag);
}

#[test]
fn c_client_against_wolfip_server() {
    let test = "c_client_against_wolfip_server";
    if skip(test) {
        return;
    }
    let server_bin = binary("echo_server", Variant::Wolfip);
    let client_bin = binary("echo_client", Variant::Linux);
    fresh_netns().unwrap_or_else(|e| panic!("{e}"));
    setup_tap();

    let port = PORT.to_string();
    let server = Server::start(
        &server_bin,
        &[
            STACK_IP,
            &port,
            "--exit-after",
            "2",
            "--tap",
            TAP,
            "--cidr",
            STACK_CIDR,
        ],
    );
    let mut failures = Vec::new();
    for extra in [&[][..], &["--threads", "--seed", "3"][..]] {
        if let Err(e) = c_client(&client_bin, STACK_IP, PORT, extra) {
            failures.push(e);
        }
    }
    let diag = if failures.is_empty() {
        String::new()
    } else {
        diagnostics()
    };
    let served = if failures.is_empty() {
        Ok(server.expect_served(2))
    } else {
        server.finish()
    };
    report(test, &failures, served, &diag);
}

#[test]
fn c_client_wolfip_against_linux() {
    let test = "c_client_wolfip_against_linux";
    if skip(test) {
        return;
    }
    let server_bin = binary("echo_server", Variant::Linux);
    let client_bin = binary("echo_client", Variant::Wolfip);
    fresh_netns().unwrap_or_else(|e| panic!("{e}"));
    setup_tap();

    // One Linux server per client mode, on its own port: the two runs of the
    // wolfip client are two processes, two stacks, which may well pick the
    // same ephemeral port; a different server port keeps the second
    // connection clear of whatever state the first one left in Linux.
    let wolfip_args = ["--tap", TAP, "--cidr", STACK_CIDR];
    let modes: [&[&str]; 2] = [&[], &["--threads", "--seed", "11"]];
    for (k, mode) in modes.iter().enumerate() {
        let port = PORT + k as u16;
        let port_s = port.to_string();
        let server = Server::start(&server_bin, &[LINUX_IP, &port_s, "--exit-after", "1"]);
        let mut extra = mode.to_vec();
        extra.extend_from_slice(&wolfip_args);
        match c_client(&client_bin, LINUX_IP, port, &extra) {
            Ok(()) => {
                server.expect_served(1);
            }
            Err(e) => report(test, &[e], server.finish(), &diagnostics()),
        }
    }
}
