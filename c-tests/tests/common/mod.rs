//! The shared harness of the C tests: building the wolfip C library and C
//! programs (a Linux variant and a wolfip variant of each), network
//! namespaces, and running a program with a time limit.
//!
//! Policy (the same as the interop tests of `examples/`): without root or
//! `/dev/net/tun` a test prints why and passes, unless the environment
//! variable `CI` is `true`, in which case it fails. Every wait is bounded,
//! and a child still running when its time is up is killed.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wolfip_tap::netns;

/// The cargo target directory of this build (the parent of
/// `CARGO_TARGET_TMPDIR`).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR has a parent")
        .to_path_buf()
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("c-tests lies inside the workspace")
        .to_path_buf()
}

/// This package's directory (`c-tests/`).
pub fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the C programs are written: `<target>/c-tests/`.
pub fn output_dir() -> PathBuf {
    target_dir().join("c-tests")
}

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether `test` must be skipped: true (after printing why) when the
/// process is not root or `/dev/net/tun` cannot be opened; panics instead
/// when `CI=true`, where a skip would hide a failure.
pub fn skip_without_root(test: &str) -> bool {
    if netns::is_root() && netns::tun_available() {
        return false;
    }
    if ci() {
        panic!("{test}: needs root and /dev/net/tun (CI=true: not skipping)");
    }
    eprintln!("skipped {test}: needs root and /dev/net/tun");
    true
}

// ---------------------------------------------------------------------
// Running programs.

/// Reads all of `r` on a thread, so a chatty child never blocks on a full
/// pipe.
pub fn drain<R: Read + Send + 'static>(mut r: R) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// Waits at most `limit` for `child` to exit (polling every 10 ms).
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().map_err(|e| format!("wait: {e}"))? {
            return Ok(Some(s));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A child process that is killed (SIGKILL) and reaped when dropped, unless
/// [`Running::finish`] collected it. Its stdout and stderr are drained on
/// threads as it runs.
pub struct Running {
    desc: String,
    child: Option<Child>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    /// Spawns `cmd` (from the calling thread, hence in its network
    /// namespace) with stdin from /dev/null and stdout/stderr captured.
    pub fn spawn(mut cmd: Command) -> Result<Running, String> {
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn {desc}: {e}"))?;
        let stdout = Some(drain(child.stdout.take().expect("piped stdout")));
        let stderr = Some(drain(child.stderr.take().expect("piped stderr")));
        Ok(Running {
            desc,
            child: Some(child),
            stdout,
            stderr,
        })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Waits at most `limit` for the exit and returns what it printed; if
    /// it is still running then, kills it and returns an error with its
    /// output so far.
    pub fn finish(mut self, limit: Duration) -> Result<Output, String> {
        let mut child = self.child.take().expect("running");
        let status = wait_timeout(&mut child, limit);
        let timed_out = !matches!(status, Ok(Some(_)));
        if timed_out {
            let _ = child.kill();
            let _ = child.wait();
        }
        let stdout = self.stdout.take().unwrap().join().unwrap_or_default();
        let stderr = self.stderr.take().unwrap().join().unwrap_or_default();
        match status? {
            Some(status) => Ok(Output {
                status,
                stdout,
                stderr,
            }),
            None => Err(format!(
                "{} still running after {limit:?}; killed\nstdout:\n{}\nstderr:\n{}",
                self.desc,
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            )),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs `cmd` for at most `timeout`; see [`Running::finish`].
pub fn run_command(cmd: Command, timeout: Duration) -> Result<Output, String> {
    Running::spawn(cmd)?.finish(timeout)
}

/// Runs `bin` with `args` and the extra environment `env` for at most
/// `timeout` (killed then, and an error returned).
pub fn run_args(
    bin: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Result<Output, String> {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_command(cmd, timeout)
}

/// Runs `bin` without arguments; see [`run_args`].
pub fn run(bin: &Path, env: &[(&str, &str)], timeout: Duration) -> Result<Output, String> {
    run_args(bin, &[], env, timeout)
}

/// The last `n` lines of `text`, for error messages.
pub fn tail(text: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------
// Network namespaces.

/// Moves the calling thread (the test's own thread) into a new, empty
/// network namespace with the loopback interface up. Processes it starts
/// afterwards run there too.
pub fn fresh_netns() -> Result<(), String> {
    netns::unshare_net().map_err(|e| format!("unshare(CLONE_NEWNET): {e}"))?;
    try_ip("link set lo up").map(|_| ())
}

fn ip_binary() -> &'static str {
    if Path::new("/sbin/ip").exists() {
        "/sbin/ip"
    } else {
        "ip"
    }
}

/// Runs `ip ARGS` (split on whitespace); its stdout, or its stderr as the
/// error.
pub fn try_ip(args: &str) -> Result<String, String> {
    let mut cmd = Command::new(ip_binary());
    cmd.args(args.split_whitespace());
    let out = run_command(cmd, Duration::from_secs(10))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {args}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs `ip ARGS` and panics with its stderr if it fails.
pub fn ip(args: &str) -> String {
    try_ip(args).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------
// Building.

/// The wolfip C library: compiler and linker flags from its pkg-config
/// file.
#[derive(Debug, Clone)]
pub struct LibInfo {
    pub cflags: Vec<String>,
    pub libs: Vec<String>,
}

/// Where the C library is built: `<target>/c-lib`, a target directory of
/// its own (the one running the tests is locked by the cargo running them).
pub fn c_lib_target_dir() -> PathBuf {
    target_dir().join("c-lib")
}

/// Builds the C library (`cargo build --release -p wolfip-bsd`) once per
/// test process and reads its flags with pkg-config from the
/// `wolfip_bsd.pc` that its build script writes.
pub fn wolfip_lib() -> Result<LibInfo, String> {
    static LIB: OnceLock<Result<LibInfo, String>> = OnceLock::new();
    LIB.get_or_init(build_wolfip_lib).clone()
}

fn build_wolfip_lib() -> Result<LibInfo, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let dir = c_lib_target_dir();
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "--release", "-p", "wolfip-bsd", "--target-dir"])
        .arg(&dir);
    let out = run_command(cmd, Duration::from_secs(900))?;
    if !out.status.success() {
        return Err(format!(
            "{cargo} build --release -p wolfip-bsd failed ({}):\n{}",
            out.status,
            tail(&out.stderr, 60)
        ));
    }
    let pc_dir = dir.join("release");
    let flags = |what: &str| -> Result<Vec<String>, String> {
        let mut cmd = Command::new("pkg-config");
        cmd.args([what, "wolfip_bsd"])
            .env("PKG_CONFIG_PATH", &pc_dir);
        let out = run_command(cmd, Duration::from_secs(30))?;
        if !out.status.success() {
            return Err(format!(
                "pkg-config {what} wolfip_bsd (PKG_CONFIG_PATH={}): {}",
                pc_dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    };
    Ok(LibInfo {
        cflags: flags("--cflags")?,
        libs: flags("--libs")?,
    })
}

/// Which sockets a C program is built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The Linux kernel's.
    Linux,
    /// wolfip's: `-DWOLFIP` and the C library's flags.
    Wolfip,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Linux => "linux",
            Variant::Wolfip => "wolfip",
        }
    }
}

/// Compiles `sources` into `<target>/c-tests/<name>-<variant>` with gcc
/// (C11, all warnings as errors, pthreads); the Wolfip variant adds
/// `-DWOLFIP` and the library's flags (building it first). Returns the
/// binary's path, or gcc's complaints.
pub fn compile_c(name: &str, sources: &[&Path], variant: Variant) -> Result<PathBuf, String> {
    let dir = output_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let out = dir.join(format!("{name}-{}", variant.name()));
    // Written under a temporary name and renamed, so that a concurrent
    // build of the same program never leaves a half-written binary.
    let tmp = dir.join(format!(
        "{name}-{}.tmp{}",
        variant.name(),
        std::process::id()
    ));
    let mut cmd = Command::new("gcc");
    cmd.args([
        "-std=c11",
        "-D_GNU_SOURCE",
        "-O1",
        "-g",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pthread",
    ]);
    let lib = match variant {
        Variant::Linux => None,
        Variant::Wolfip => {
            let lib = wolfip_lib()?;
            cmd.arg("-DWOLFIP").args(&lib.cflags);
            Some(lib)
        }
    };
    cmd.args(sources).arg("-o").arg(&tmp);
    if let Some(lib) = &lib {
        cmd.args(&lib.libs);
    }
    let desc = format!("{cmd:?}");
    let res = run_command(cmd, Duration::from_secs(300))?;
    if !res.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "{desc} failed ({}):\n{}",
            res.status,
            String::from_utf8_lossy(&res.stderr)
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("rename to {}: {e}", out.display()))?;
    Ok(out)
}

/// The `.c` files of `dir`, sorted.
pub fn c_sources(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    v.sort();
    v
}
