//! Shared harness of the real-client tests: each test brings our stack up
//! on a TAP device inside a network namespace of its own (the test thread
//! is moved into it; servers started from it inherit it), on a
//! documentation range, and starts the real server on the Linux side.
//!
//! Policy (as in `examples/tests/common`): without root, `/dev/net/tun` or
//! a tool, a test prints why and passes, unless `CI=true`, where it fails.
//! Every wait is bounded; every child process is killed when its guard is
//! dropped.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use wolfip_bsd::engine::Engine;
use wolfip_bsd::hosted::{self, Hosted};
use wolfip_core::{Ipv4Addr, Ipv4Cidr};
use wolfip_tap::netns;

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn skip(msg: &str) -> bool {
    if ci() {
        panic!("{msg} (CI=true: not skipping)");
    }
    eprintln!("skipped: {msg}");
    false
}

/// Whether the test can run: root, `/dev/net/tun`, `ip`, and every tool of
/// `tools` (found on PATH or as an absolute path).
pub fn can_run(tools: &[&str]) -> bool {
    if !(netns::is_root() && netns::tun_available()) {
        return skip("needs root and /dev/net/tun");
    }
    for tool in std::iter::once(&"ip").chain(tools) {
        let found = if tool.starts_with('/') {
            std::path::Path::new(tool).exists()
        } else {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if !found {
            return skip(&format!(
                "needs {tool} (install with: bash .ci/install-deps.sh)"
            ));
        }
    }
    true
}

/// Runs `f` on a fresh thread moved into its own network namespace (32 MiB
/// of stack); the thread's panic, if any, is the caller's.
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

/// A path in the temporary directory unique to this process and call.
pub fn temp_path(test: &str, ext: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "wolfip-nal-{test}-{}-{n}.{ext}",
        std::process::id()
    ))
}

/// Kills (SIGKILL) and reaps its child when dropped.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(mut cmd: Command, log: &PathBuf) -> ChildGuard {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let err = out.try_clone().expect("log file");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        ChildGuard(Some(
            cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}")),
        ))
    }

    /// The child.
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child already reaped")
    }

    /// Kills and reaps the child now.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
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

/// Runs `cmd` to completion, killed after `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if wait_timeout(&mut child, limit).is_none() {
        let _ = child.kill();
    }
    child.wait_with_output().expect("wait")
}

/// Runs `ip ARGS` and insists that it succeeds.
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

/// Waits (at most 5 s) until Linux sees `tap` as operationally up (until
/// then what Linux sends on it is dropped).
pub fn wait_link_up(tap: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        last = ip(&["-o", "link", "show", "dev", tap]);
        if last.contains("LOWER_UP") && last.contains(" state UP ") {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{tap} not up within 5 s: {last}");
}

/// A link between our stack and Linux, in the calling thread's namespace.
pub struct Link {
    /// The hosted engine (one per process).
    pub engine: &'static Engine<Hosted>,
    /// Our address.
    pub ours: Ipv4Addr,
    /// Linux's address on the TAP.
    pub linux: Ipv4Addr,
}

/// Creates TAP `tap`, brings our stack up on it as `ours`/24 with Linux as
/// `linux`/24 (same /24, a documentation range) and waits until the link
/// is up. Call it from inside [`in_netns`].
///
/// The TAP is created before the stack attaches (as in
/// `examples/tests/common`): a TAP whose carrier is on from its creation
/// never sees a carrier change and stays in operational state `UNKNOWN`,
/// which [`wait_link_up`] does not accept.
pub fn bring_up(tap: &str, ours: Ipv4Addr, linux: Ipv4Addr) -> Link {
    ip(&["tuntap", "add", "dev", tap, "mode", "tap"]);
    let engine = hosted::init().expect("wolfip hosted init");
    let cidr = Ipv4Cidr::new(ours, 24).expect("cidr");
    hosted::tap_attach(tap, Some(cidr), None).expect("tap_attach");
    ip(&["addr", "add", &format!("{linux}/24"), "dev", tap]);
    ip(&["link", "set", tap, "up"]);
    wait_link_up(tap);
    Link {
        engine,
        ours,
        linux,
    }
}

/// Waits at most `limit` until something accepts TCP connections at
/// `addr` (from the Linux side: the caller's namespace).
pub fn wait_tcp(addr: SocketAddr, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {addr} after {limit:?}");
}

/// The contents of `log`, for failure messages and checks.
pub fn read_log(log: &PathBuf) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Waits at most `limit` until `log` contains `needle`.
pub fn wait_log(log: &PathBuf, needle: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if read_log(log).contains(needle) {
            return true;
        }
        thread::sleep(Duration::from_millis(50));
    }
    false
}

// --- Helpers of nal_coap.rs, nal_sntp.rs and nal_http.rs -----------------

/// Brings up the loopback interface of the caller's namespace (the control
/// tests talk to their server over 127.0.0.1 there).
pub fn lo_up() {
    ip(&["link", "set", "lo", "up"]);
}

/// Runs `f` on a new thread (in the caller's namespace: threads inherit
/// it) and waits at most `limit` for its result; a panic of `f` is the
/// caller's. Past `limit` it panics naming `what`; the thread is left
/// behind (the process ends with the failed test).
pub fn bounded<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn a bounded thread");
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // `f` panicked before sending.
            match handle.join() {
                Err(e) => std::panic::resume_unwind(e),
                Ok(()) => panic!("{what}: ended without a result"),
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no result within {limit:?}")
        }
    }
}

// ---------------------------------------------------------------------
// MQTT: a mosquitto broker and its command-line clients (the MQTT tests).
// ---------------------------------------------------------------------

/// A mosquitto 2.0 broker in the caller's namespace, listening on one
/// address only, without persistence (a restart forgets every session),
/// logging everything (`log_type all`) to its own file. Killed on drop.
pub struct Mosquitto {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its configuration file.
    pub conf: PathBuf,
    /// Its log (the broker's own log and its stdout/stderr).
    pub log: PathBuf,
    guard: ChildGuard,
}

impl Mosquitto {
    /// Writes the configuration (`listener PORT ADDR`, `allow_anonymous
    /// true`, `user root`) and starts the broker; returns once it accepts
    /// connections (at most 10 s).
    pub fn start(test: &str, addr: SocketAddr) -> Mosquitto {
        let conf = temp_path(&format!("{test}-mosquitto"), "conf");
        let log = temp_path(&format!("{test}-mosquitto"), "log");
        let text = format!(
            "listener {port} {ip}\n\
             allow_anonymous true\n\
             user root\n\
             persistence false\n\
             log_dest file {log}\n\
             log_type all\n\
             log_timestamp_format %H:%M:%S\n",
            port = addr.port(),
            ip = addr.ip(),
            log = log.display()
        );
        std::fs::write(&conf, text).expect("write the mosquitto configuration");
        let guard = Self::spawn(&conf, &log, addr);
        Mosquitto {
            addr,
            conf,
            log,
            guard,
        }
    }

    fn spawn(conf: &PathBuf, log: &PathBuf, addr: SocketAddr) -> ChildGuard {
        let mut cmd = Command::new("mosquitto");
        cmd.arg("-c").arg(conf);
        let mut guard = ChildGuard::spawn(cmd, log);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = guard.child().try_wait().expect("try_wait") {
                panic!("mosquitto exited ({s}): {}", read_log(log));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return guard;
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto not listening on {addr} after 10 s: {}",
                read_log(log)
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the broker (SIGKILL: the kernel closes its connections) and
    /// reaps it.
    pub fn kill(&mut self) {
        self.guard.kill();
    }

    /// Starts the broker again with the same configuration (it must have
    /// been killed); returns once it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.guard.0.is_none(), "mosquitto is still running");
        self.guard = Self::spawn(&self.conf, &self.log, self.addr);
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        read_log(&self.log)
    }

    /// Publishes `msg` on `topic` with `mosquitto_pub` (client id `id`,
    /// QoS `qos`) from the caller's namespace; insists that it succeeds.
    pub fn publish(&self, id: &str, topic: &str, msg: &str, qos: u8) {
        let mut cmd = Command::new("mosquitto_pub");
        cmd.args(["-h", &self.addr.ip().to_string()])
            .args(["-p", &self.addr.port().to_string()])
            .args(["-i", id, "-t", topic, "-m", msg, "-q", &qos.to_string()]);
        let (status, out) = run_captured(cmd, Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "mosquitto_pub ({status:?}): {out}\nbroker log:\n{}",
            self.log_text()
        );
    }

    /// Starts `mosquitto_sub` (client id `id`) on `topic`, printing
    /// `TOPIC PAYLOAD` lines to `out`, exiting after `count` messages or
    /// `secs` seconds of silence; returns once the broker has acknowledged
    /// the subscription (at most 10 s).
    pub fn subscriber(
        &self,
        id: &str,
        topic: &str,
        count: usize,
        secs: u32,
        out: &PathBuf,
    ) -> ChildGuard {
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args(["-h", &self.addr.ip().to_string()])
            .args(["-p", &self.addr.port().to_string()])
            .args(["-i", id, "-t", topic, "-v"])
            .args(["-C", &count.to_string(), "-W", &secs.to_string()]);
        let guard = ChildGuard::spawn(cmd, out);
        assert!(
            wait_log(
                &self.log,
                &format!("Sending SUBACK to {id}"),
                Duration::from_secs(10)
            ),
            "mosquitto_sub {id} not subscribed after 10 s:\n{}",
            self.log_text()
        );
        guard
    }
}

/// The target directory's profile folder of this test binary
/// (`target/debug` for `target/debug/deps/nal_minimq-HASH`).
pub fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    Some(deps.parent()?.to_path_buf())
}

/// The binary `name` of the package `package`, in this test binary's
/// target directory and profile. When the test runs under cargo (`CARGO`
/// is set) it is built first (a no-op when it is fresh: never a stale
/// binary), with at most 10 minutes for the build; `Err` says why there
/// is none.
pub fn workspace_binary(package: &str, name: &str) -> Result<PathBuf, String> {
    let profile_dir =
        profile_dir().ok_or("the test binary is not in a cargo target directory (…/deps/)")?;
    let target_dir = profile_dir.parent().ok_or("no target directory")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(p) => p.to_owned(),
        None => return Err("no profile directory".into()),
    };
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", package, "--bin", name])
            .args(["--profile", &profile])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        let (status, out) = run_captured(cmd, Duration::from_secs(600));
        if !status.is_some_and(|s| s.success()) {
            return Err(format!(
                "cargo build -p {package} --bin {name} failed ({status:?}): {out}"
            ));
        }
    }
    let bin = profile_dir.join(name);
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing (build it with: cargo build -p {package} --bin {name})",
            bin.display()
        ))
    }
}

// ---------------------------------------------------------------------
// A minimal executor for the async clients.
// ---------------------------------------------------------------------

/// Wakes the thread that runs [`block_on_timeout`].
struct ThreadWaker {
    thread: thread::Thread,
    woken: std::sync::atomic::AtomicBool,
    wakes: AtomicU32,
}

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// What [`block_on_timeout`] saw: how often the future was polled and
/// woken.
#[derive(Debug, Default, Clone, Copy)]
pub struct Polls {
    /// Calls of `poll`.
    pub polls: u32,
    /// Calls of the waker.
    pub wakes: u32,
}

/// Runs `fut` on the calling thread until it completes, at most `limit`:
/// `None` when the time is up (the future is dropped). Between two polls
/// the thread parks until the future's waker is called — never a busy
/// loop: a future that returns `Pending` without arranging a wake-up
/// times out. `polls` counts what happened (accumulated).
pub fn block_on_timeout<F: std::future::Future>(
    fut: F,
    limit: Duration,
    polls: &mut Polls,
) -> Option<F::Output> {
    let deadline = Instant::now() + limit;
    let waker = std::sync::Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: std::sync::atomic::AtomicBool::new(false),
        wakes: AtomicU32::new(0),
    });
    let task_waker = std::task::Waker::from(waker.clone());
    let mut cx = std::task::Context::from_waker(&task_waker);
    let mut fut = std::pin::pin!(fut);
    let out = loop {
        polls.polls += 1;
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            break Some(v);
        }
        // Park until woken (a spurious return re-checks the flag).
        loop {
            if waker.woken.swap(false, Ordering::Acquire) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                polls.wakes += waker.wakes.load(Ordering::Relaxed);
                return None;
            }
            thread::park_timeout(deadline - now);
        }
    };
    polls.wakes += waker.wakes.load(Ordering::Relaxed);
    out
}

/// Runs `cmd` to completion with stdout and stderr in a temporary file,
/// at most `limit` (then it is killed through its own handle: no pid is
/// signalled after it was reaped); returns its status (`None`: killed
/// at the limit) and its output.
pub fn run_captured(cmd: Command, limit: Duration) -> (Option<ExitStatus>, String) {
    let out = temp_path("run", "out");
    let mut guard = ChildGuard::spawn(cmd, &out);
    let status = wait_timeout(guard.child(), limit);
    guard.kill();
    let text = read_log(&out);
    let _ = std::fs::remove_file(&out);
    (status, text)
}
