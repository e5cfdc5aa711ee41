//! The demo's C step: `c-tests/echo/echo_server.c`, built exactly as a C
//! user builds it (gcc, `pkg-config --cflags --libs wolfip_bsd`,
//! `libwolfip_bsd.a`), runs on its own TAP device; 50 kernel TCP clients at
//! once and a UDP datagram go through it from the Linux side.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The TAP device of the C server.
pub const TAP: &str = "wolfipc0";
/// Linux's address on it.
pub const LINUX_IP: &str = "198.51.100.1";
/// The C server's address.
pub const SERVER_IP: &str = "198.51.100.2";
/// The echo port.
pub const PORT: u16 = 7007;
/// Clients at once.
pub const CLIENTS: usize = 50;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// `target/release` (where this binary and libwolfip_bsd.a live).
fn lib_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| repo().join("target/release"))
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Builds the C library if needed and the echo server against it; returns
/// the binary and the compiler command line shown to the user.
pub fn build_server() -> Result<(PathBuf, String), String> {
    let dir = lib_dir();
    if !dir.join("libwolfip_bsd.a").exists() || !dir.join("wolfip_bsd.pc").exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(Command::new(cargo)
            .args(["build", "--release", "-p", "wolfip-bsd", "--manifest-path"])
            .arg(repo().join("Cargo.toml")))
        .map_err(|e| {
            format!(
                "building libwolfip_bsd.a ({e}); run `cargo build --release -p wolfip-bsd` first"
            )
        })?;
    }
    let flags = run(Command::new("pkg-config")
        .args(["--cflags", "--libs", "wolfip_bsd"])
        .env("PKG_CONFIG_PATH", &dir))?;
    let src = repo().join("c-tests/echo/echo_server.c");
    let out = dir.join("c_echo_server");
    let mut gcc = Command::new("gcc");
    gcc.args([
        "-std=c11",
        "-D_GNU_SOURCE",
        "-O2",
        "-Wall",
        "-Wextra",
        "-pthread",
        "-DWOLFIP",
    ])
    .arg(&src)
    .arg("-o")
    .arg(&out)
    .args(flags.split_whitespace());
    let shown = format!(
        "gcc -DWOLFIP c-tests/echo/echo_server.c $(pkg-config --cflags --libs wolfip_bsd) ({})",
        flags.trim()
    );
    run(&mut gcc)?;
    Ok((out, shown))
}

/// The running server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin: &Path) -> Result<Server, String> {
    let mut child = Command::new(bin)
        .args([
            SERVER_IP,
            &PORT.to_string(),
            "--tap",
            TAP,
            "--cidr",
            &format!("{SERVER_IP}/24"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting the C server: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(line) if line.starts_with("listening") => Ok(server),
        Ok(line) => Err(format!("C server said: {line}")),
        Err(_) => Err("C server not listening after 10 s".into()),
    }
}

fn payload(i: usize) -> Vec<u8> {
    (0..20_000)
        .map(|k| ((k * 31 + i * 7) % 251) as u8)
        .collect()
}

fn client(i: usize) -> Result<(), String> {
    let addr: SocketAddr = format!("{SERVER_IP}:{PORT}")
        .parse()
        .map_err(|e| format!("{e}"))?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("client {i}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let data = payload(i);
    let mut reader = s.try_clone().map_err(|e| e.to_string())?;
    let expect = data.len();
    let rd = thread::spawn(move || {
        let mut got = Vec::with_capacity(expect);
        let _ = reader.read_to_end(&mut got);
        got
    });
    s.write_all(&data)
        .map_err(|e| format!("client {i} write: {e}"))?;
    s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
    let got = rd.join().map_err(|_| "reader panicked")?;
    if got != data {
        return Err(format!(
            "client {i}: {} of {} bytes came back, or different",
            got.len(),
            data.len()
        ));
    }
    Ok(())
}

/// Runs the step in the calling thread's namespace; returns the checks
/// (passed, description).
pub fn run_step() -> Vec<(bool, String)> {
    let mut checks = Vec::new();
    let (bin, shown) = match build_server() {
        Ok(b) => b,
        Err(e) => return vec![(false, format!("C echo server: build failed: {e}"))],
    };
    checks.push((
        true,
        format!("C echo server built as a C user would: {shown}"),
    ));
    let setup = (|| {
        run(Command::new("ip").args(["tuntap", "add", "mode", "tap", "name", TAP]))?;
        run(Command::new("ip").args(["addr", "add", &format!("{LINUX_IP}/24"), "dev", TAP]))?;
        run(Command::new("ip").args(["link", "set", TAP, "up"]))
    })();
    if let Err(e) = setup {
        checks.push((false, format!("C echo server: TAP setup: {e}")));
        return checks;
    }
    let server = match start(&bin) {
        Ok(s) => s,
        Err(e) => {
            checks.push((false, e));
            return checks;
        }
    };
    let t = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| thread::spawn(move || client(i)))
        .collect();
    let errors: Vec<String> = handles
        .into_iter()
        .filter_map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("client panicked".into()))
                .err()
        })
        .collect();
    checks.push((
        errors.is_empty(),
        format!(
            "C echo server (poll(), wolfip_posix.h) on {SERVER_IP}:{PORT}: {} of {CLIENTS} Linux clients \
             echoed 20 KB each intact, all at once ({:.0} ms){}",
            CLIENTS - errors.len(),
            t.elapsed().as_secs_f64() * 1e3,
            errors.first().map(|e| format!("; first error: {e}")).unwrap_or_default()
        ),
    ));
    let udp = (|| -> Result<bool, String> {
        let s = UdpSocket::bind((LINUX_IP, 0)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        for _ in 0..3 {
            s.send_to(b"udp through C", (SERVER_IP, PORT))
                .map_err(|e| e.to_string())?;
            if let Ok((n, _)) = s.recv_from(&mut buf) {
                return Ok(&buf[..n] == b"udp through C");
            }
        }
        Ok(false)
    })();
    checks.push((
        udp == Ok(true),
        format!("C echo server: UDP datagram echoed ({udp:?})"),
    ));
    drop(server);
    checks
}
