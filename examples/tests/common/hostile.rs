//! Shared helpers of the hostile tests (`hostile_*`): the attack tools
//! (nmap, hping3, and `hostile.py`, the packets only a raw socket or scapy
//! can send), a bulk echo that runs in the background while the attacks
//! go on, and the check that every table of the stack is back to its idle
//! size afterwards.
//!
//! Every address is in the documentation ranges: the stack is 192.0.2.2
//! with Linux (192.0.2.1) as its gateway, spoofed sources come from
//! 198.51.100.0/24 and 203.0.113.0/24; the stack's answers to them go to
//! Linux, which does not forward and drops them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown as NetShutdown, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wolfip_examples::Fnv;

use super::tcp::*;
use super::*;

/// The system interpreter, where Debian's python3-scapy lives (a `python3`
/// on PATH may be a pyenv shim without it).
pub const PYTHON: &str = "/usr/bin/python3";

/// The Linux side's packet generator.
const SCRIPT: &str = include_str!("hostile.py");

/// `tap_echo`'s arguments in the hostile tests: Linux is the gateway, so
/// that answers to spoofed sources go to Linux (which drops them).
pub const GATEWAY_ARGS: &[&str] = &["--gateway", LINUX_IP];

/// A MAC address nobody has: the one a spoofed ARP reply claims for Linux.
pub const BOGUS_MAC: &str = "02:de:ad:be:ef:01";

/// Whether the hostile tests can run: [`can_run`] with `tools`, and scapy
/// in [`PYTHON`]; same skip policy.
pub fn can_run_hostile(tools: &[&str]) -> bool {
    if !can_run(tools) {
        return false;
    }
    let ok = Command::new(PYTHON)
        .args(["-c", "import scapy"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let msg = format!("needs python3-scapy for {PYTHON} (bash .ci/install-deps.sh)");
        if ci() {
            panic!("{msg} (CI=true: not skipping)");
        }
        eprintln!("skipped: {msg}");
    }
    ok
}

/// The command running `hostile.py ARGS`.
fn script(args: &[&str]) -> Command {
    let mut cmd = Command::new(PYTHON);
    cmd.args(["-c", SCRIPT]).args(args);
    cmd
}

/// Runs `hostile.py ARGS` (at most `limit`), insists that it succeeds and
/// returns its last line of output (a summary of `key=value` pairs).
pub fn hostile_py(args: &[&str], limit: Duration) -> String {
    let out = run(script(args), limit);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "hostile.py {}: {:?}\n{stdout}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    println!("hostile.py: {last}");
    last
}

/// `hostile.py ARGS` in the background, its stdout line by line.
pub struct Script {
    guard: ChildGuard,
    pub lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Script {
    pub fn spawn(args: &[&str]) -> Script {
        let child = script(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hostile.py");
        let mut guard = ChildGuard(Some(child));
        let out = guard.child().stdout.take().unwrap();
        let mut err = guard.child().stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            v
        });
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Script {
            guard,
            lines,
            stderr: Some(stderr),
        }
    }

    /// The next line starting with `prefix` (others are printed), at most
    /// `limit`.
    pub fn expect_line(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(l) => println!("hostile.py: {l}"),
                Err(e) => {
                    let _ = self.guard.child().kill();
                    let err = self.stderr.take().unwrap().join().unwrap();
                    panic!(
                        "hostile.py: no line '{prefix}' within {limit:?} ({e:?}): {}",
                        String::from_utf8_lossy(&err)
                    );
                }
            }
        }
    }

    /// Waits (at most `limit`) for the script to exit successfully.
    pub fn finish(mut self, limit: Duration) {
        let status = wait_timeout(self.guard.child(), limit);
        let err = if status.is_some() {
            self.stderr.take().unwrap().join().unwrap()
        } else {
            Vec::new()
        };
        assert!(
            status.is_some_and(|s| s.success()),
            "hostile.py: {status:?} {}",
            String::from_utf8_lossy(&err)
        );
    }
}

/// Runs a tool (nmap, hping3) for at most `limit` and returns its output;
/// insists that it was not killed by a signal (hping3 exits 1 when nothing
/// answers, which is often the point).
pub fn attack(tool: &str, args: &[&str], limit: Duration) -> String {
    let t0 = Instant::now();
    let mut cmd = Command::new(tool);
    cmd.args(args);
    let out = run(cmd, limit);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.code().is_some(),
        "{tool} {}: {:?}\n{text}",
        args.join(" "),
        out.status
    );
    println!(
        "attack: {tool} {} ({:.1} s, exit {:?})",
        args.join(" "),
        t0.elapsed().as_secs_f64(),
        out.status.code()
    );
    text
}

// ---------------------------------------------------------------------
// A bulk echo in the background.

/// A bulk echo running while the attacks go on: a writer thread sends the
/// test stream (paced, at least `min` bytes and until told to stop, at
/// most `max`), a reader thread checks every echoed byte against it.
pub struct BackgroundBulk {
    stop: Arc<AtomicBool>,
    writer: JoinHandle<Result<(u64, u64), String>>,
    reader: JoinHandle<Result<(u64, u64), String>>,
    t0: Instant,
}

/// What a background bulk echo moved.
#[derive(Debug)]
pub struct BulkResult {
    pub bytes: u64,
    pub sent_hash: u64,
    pub received_hash: u64,
    pub elapsed: Duration,
}

impl BackgroundBulk {
    /// Starts the echo of stream `seed`, writing 64 KiB every `pace`.
    pub fn start(seed: u64, min: u64, max: u64, pace: Duration) -> BackgroundBulk {
        let stream = connect();
        // The attacks may stall the connection for a while.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut w = stream.try_clone().expect("clone socket");
        let mut r = stream;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_w = stop.clone();
        let writer = client("bg-writer", move || {
            let mut hash = Fnv::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut off = 0u64;
            while off < max && (off < min || !stop_w.load(Ordering::SeqCst)) {
                let n = (buf.len() as u64).min(max - off) as usize;
                pattern(seed, off, &mut buf[..n]);
                hash.update(&buf[..n]);
                if let Err(e) = w.write_all(&buf[..n]) {
                    let _ = w.shutdown(NetShutdown::Both);
                    return Err(format!("write at {off}: {e}"));
                }
                off += n as u64;
                thread::sleep(pace);
            }
            w.shutdown(NetShutdown::Write)
                .map_err(|e| format!("shutdown(Write): {e}"))?;
            Ok((off, hash.0))
        });
        let reader = client("bg-reader", move || {
            let mut hash = Fnv::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0u64;
            // Bounded: at most `max` bytes arrive, each read returns data,
            // end of stream or an error (30 s timeout).
            loop {
                let n = match r.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = r.shutdown(NetShutdown::Both);
                        return Err(format!("read after {got} bytes: {e}"));
                    }
                };
                if n == 0 {
                    break;
                }
                if got + n as u64 > max {
                    return Err(format!("more than {max} bytes back"));
                }
                let mut want = vec![0u8; n];
                pattern(seed, got, &mut want);
                if buf[..n] != want[..] {
                    let i = buf[..n].iter().zip(&want).position(|(a, b)| a != b);
                    let _ = r.shutdown(NetShutdown::Both);
                    return Err(format!(
                        "echoed byte {} differs from what was sent",
                        got + i.unwrap() as u64
                    ));
                }
                hash.update(&buf[..n]);
                got += n as u64;
            }
            Ok((got, hash.0))
        });
        BackgroundBulk {
            stop,
            writer,
            reader,
            t0: Instant::now(),
        }
    }

    /// Tells the writer to finish (once it has sent its minimum) and waits
    /// at most `limit` for the whole echo to come back.
    pub fn finish(self, limit: Duration) -> BulkResult {
        self.stop.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + limit;
        while !(self.writer.is_finished() && self.reader.is_finished()) {
            assert!(
                Instant::now() < deadline,
                "background bulk echo not done within {limit:?}\n{}",
                diagnostics()
            );
            thread::sleep(Duration::from_millis(50));
        }
        // The reader's error first: when it gives up it resets the
        // connection, which the writer then reports.
        let read = join(self.reader);
        let written = join(self.writer);
        let (got, received_hash) = read.unwrap_or_else(|e| panic!("bulk reader: {e}"));
        let (sent, sent_hash) = written.unwrap_or_else(|e| panic!("bulk writer: {e}"));
        assert_eq!(got, sent, "bulk echo: {got} of {sent} bytes came back");
        BulkResult {
            bytes: sent,
            sent_hash,
            received_hash,
            elapsed: self.t0.elapsed(),
        }
    }
}

/// One short echo round trip on a new connection (at most `limit` a step:
/// connect, write, read).
pub fn echo_round_trip(msg: &[u8], limit: Duration) -> Result<(), String> {
    let mut s =
        TcpStream::connect_timeout(&echo_addr(), limit).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(limit)).unwrap();
    s.set_write_timeout(Some(limit)).unwrap();
    s.write_all(msg).map_err(|e| format!("write: {e}"))?;
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).map_err(|e| format!("read: {e}"))?;
    if back != msg {
        return Err("echo differs".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Occupancy.

/// The tables whose idle size does not depend on the neighbours.
fn compare_keys(o: &HashMap<String, u64>) -> Vec<&String> {
    let mut keys: Vec<&String> = o.keys().filter(|k| !k.starts_with("arp_")).collect();
    keys.sort();
    keys
}

/// The tables of `now` that differ from `idle`, ARP left out.
pub fn not_idle(idle: &HashMap<String, u64>, now: &HashMap<String, u64>) -> Vec<String> {
    compare_keys(idle)
        .into_iter()
        .filter(|k| now.get(*k) != idle.get(*k))
        .map(|k| {
            format!(
                "{k}={} (idle {})",
                now.get(k).copied().unwrap_or(0),
                idle[k]
            )
        })
        .collect()
}

/// Asks `tap_echo` for its occupancy every 500 ms until every table but
/// ARP is back to its `idle` size (at most `limit`); returns the last
/// reading and how long it took, or panics with the tables still in use.
pub fn wait_idle(
    echo: &mut TapEcho,
    idle: &HashMap<String, u64>,
    limit: Duration,
) -> (HashMap<String, u64>, Duration) {
    let t0 = Instant::now();
    loop {
        let now = echo.occupancy();
        let busy = not_idle(idle, &now);
        if busy.is_empty() {
            return (now, t0.elapsed());
        }
        assert!(
            t0.elapsed() < limit,
            "tables not back to their idle size after {limit:?}: {}\nidle: {idle:?}",
            busy.join(", ")
        );
        thread::sleep(Duration::from_millis(500));
    }
}

/// Insists that `stderr` of `tap_echo` holds no panic.
pub fn assert_no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "tap_echo panicked:\n{stderr}");
}
