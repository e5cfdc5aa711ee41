//! A dnsmasq (DHCP and DNS server) for the interop tests and the demo: it
//! runs in the caller's network namespace on one interface, with its own
//! lease, hosts and pid files, and logs (DHCP and DNS) to stderr, which is
//! kept so that a test can check what the server saw. Every wait is
//! bounded; the server is killed when the fixture is dropped.
//!
//! ```text
//! dnsmasq --no-daemon --conf-file=/dev/null --interface=TAP --bind-interfaces
//!         --except-interface=lo --dhcp-range=START,END,MASK,LEASE
//!         --dhcp-option=option:router,GW --dhcp-option=option:dns-server,SRV
//!         --no-resolv --no-hosts --addn-hosts=FILE --cname=ALIAS,TARGET
//!         --dhcp-leasefile=FILE --log-dhcp --log-queries --log-facility=-
//!         --pid-file=FILE [extra arguments]
//! ```
//!
//! Run it only from a thread inside a private network namespace: it binds
//! to the interface given, and to nothing else.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Where Debian's dnsmasq-base installs the server.
pub const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// How long [`Dnsmasq::start`] waits for the server to be ready.
pub const START_LIMIT: Duration = Duration::from_secs(5);

/// The dnsmasq binary: [`DNSMASQ`] if present, else `dnsmasq` from `PATH`.
pub fn binary() -> PathBuf {
    if Path::new(DNSMASQ).exists() {
        PathBuf::from(DNSMASQ)
    } else {
        PathBuf::from("dnsmasq")
    }
}

/// Whether dnsmasq runs here (`dnsmasq --version`).
pub fn available() -> bool {
    Command::new(binary())
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What the server is told.
#[derive(Debug, Clone)]
pub struct DnsmasqConfig {
    /// The interface it serves (and the only one it binds to).
    pub interface: String,
    /// First address of the DHCP pool.
    pub range_start: Ipv4Addr,
    /// Last address of the DHCP pool.
    pub range_end: Ipv4Addr,
    /// Subnet mask handed out.
    pub netmask: Ipv4Addr,
    /// Lease time in dnsmasq's syntax (`2m`, `1h`, `infinite`); dnsmasq's
    /// minimum is 2 minutes.
    pub lease: String,
    /// Option 3 (router), if any.
    pub router: Option<Ipv4Addr>,
    /// Option 6 (DNS server), if any.
    pub dns_server: Option<Ipv4Addr>,
    /// The host list (`--addn-hosts`): address and name.
    pub hosts: Vec<(Ipv4Addr, String)>,
    /// `--cname=ALIAS,TARGET` records.
    pub cnames: Vec<(String, String)>,
    /// Domains answered only from the host list (`--local=/DOMAIN/`): an
    /// unknown name there gets NXDOMAIN, not REFUSED (dnsmasq has no
    /// upstream server).
    pub local_domains: Vec<String>,
    /// Further arguments, e.g. `--dhcp-option=option:T1,4`, `--no-ping`,
    /// `--dhcp-host=MAC,ADDR`, `--dhcp-authoritative`.
    pub extra: Vec<String>,
}

impl DnsmasqConfig {
    /// A server on `interface` at `server` (which Linux must hold on it),
    /// handing out `.100`-`.150` of its /24 for 2 minutes, with itself as
    /// router and DNS server, no hosts.
    pub fn new(interface: &str, server: Ipv4Addr) -> DnsmasqConfig {
        let [a, b, c, _] = server.octets();
        DnsmasqConfig {
            interface: interface.to_owned(),
            range_start: Ipv4Addr::new(a, b, c, 100),
            range_end: Ipv4Addr::new(a, b, c, 150),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            lease: "2m".into(),
            router: Some(server),
            dns_server: Some(server),
            hosts: Vec::new(),
            cnames: Vec::new(),
            local_domains: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Adds `name` at `addr` to the host list.
    pub fn host(mut self, addr: Ipv4Addr, name: &str) -> Self {
        self.hosts.push((addr, name.to_owned()));
        self
    }

    /// Adds a CNAME `alias` -> `target`.
    pub fn cname(mut self, alias: &str, target: &str) -> Self {
        self.cnames.push((alias.to_owned(), target.to_owned()));
        self
    }

    /// Answers names under `domain` from the host list only.
    pub fn local(mut self, domain: &str) -> Self {
        self.local_domains.push(domain.to_owned());
        self
    }

    /// Adds a further argument.
    pub fn arg(mut self, a: &str) -> Self {
        self.extra.push(a.to_owned());
        self
    }
}

/// The files of one server instance.
struct Files {
    hosts: PathBuf,
    leases: PathBuf,
    pid: PathBuf,
}

impl Files {
    fn new() -> Files {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = format!("wolfip-dnsmasq-{}-{n}", std::process::id());
        let dir = std::env::temp_dir();
        Files {
            hosts: dir.join(format!("{base}.hosts")),
            leases: dir.join(format!("{base}.leases")),
            pid: dir.join(format!("{base}.pid")),
        }
    }
}

/// A running dnsmasq, killed when dropped. Its log (every line it wrote on
/// stderr, across restarts) stays readable after it stopped.
pub struct Dnsmasq {
    cfg: DnsmasqConfig,
    files: Files,
    child: Option<Child>,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Dnsmasq {
    /// Writes the host list and starts the server; waits (at most
    /// [`START_LIMIT`]) until it has bound its sockets and read the host
    /// list.
    pub fn start(cfg: DnsmasqConfig) -> Result<Dnsmasq, String> {
        let files = Files::new();
        let hosts: String = cfg
            .hosts
            .iter()
            .map(|(a, n)| format!("{a} {n}\n"))
            .collect();
        std::fs::write(&files.hosts, hosts)
            .map_err(|e| format!("writing {}: {e}", files.hosts.display()))?;
        let mut d = Dnsmasq {
            cfg,
            files,
            child: None,
            log: Arc::new(Mutex::new(Vec::new())),
            reader: None,
        };
        d.spawn()?;
        Ok(d)
    }

    /// The command line of the server.
    pub fn args(&self) -> Vec<String> {
        let c = &self.cfg;
        let mut a = vec![
            "--no-daemon".to_owned(),
            "--conf-file=/dev/null".to_owned(),
            format!("--interface={}", c.interface),
            "--bind-interfaces".to_owned(),
            "--except-interface=lo".to_owned(),
            format!(
                "--dhcp-range={},{},{},{}",
                c.range_start, c.range_end, c.netmask, c.lease
            ),
        ];
        if let Some(r) = c.router {
            a.push(format!("--dhcp-option=option:router,{r}"));
        }
        if let Some(s) = c.dns_server {
            a.push(format!("--dhcp-option=option:dns-server,{s}"));
        }
        a.push("--no-resolv".to_owned());
        a.push("--no-hosts".to_owned());
        a.push(format!("--addn-hosts={}", self.files.hosts.display()));
        for (alias, target) in &c.cnames {
            a.push(format!("--cname={alias},{target}"));
        }
        for d in &c.local_domains {
            a.push(format!("--local=/{d}/"));
        }
        a.push(format!("--dhcp-leasefile={}", self.files.leases.display()));
        a.push("--log-dhcp".to_owned());
        a.push("--log-queries".to_owned());
        a.push("--log-facility=-".to_owned());
        a.push(format!("--pid-file={}", self.files.pid.display()));
        a.extend(c.extra.iter().cloned());
        a
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mark = self.mark();
        let mut child = Command::new(binary())
            .args(self.args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary().display()))?;
        let err = child.stderr.take().ok_or("no stderr pipe")?;
        let log = self.log.clone();
        self.reader = Some(thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut l) = log.lock() {
                    l.push(line);
                }
            }
        }));
        self.child = Some(child);
        let hosts = format!("read {}", self.files.hosts.display());
        let ready = self.wait_for_since(mark, START_LIMIT, |l| l.contains(&hosts));
        let bound = self.log_since(mark).iter().any(|l| {
            l.contains("DHCP, sockets bound exclusively to interface")
                || l.contains("DHCP, IP range")
        });
        if ready.is_none() || !bound {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            self.kill();
            return Err(format!(
                "dnsmasq not ready within {START_LIMIT:?} (exit status {exited:?}); its log:\n{}",
                self.log_since(mark).join("\n")
            ));
        }
        Ok(())
    }

    /// The position of the next log line, for [`log_since`](Self::log_since).
    pub fn mark(&self) -> usize {
        self.log.lock().map_or(0, |l| l.len())
    }

    /// Every log line so far.
    pub fn log(&self) -> Vec<String> {
        self.log_since(0)
    }

    /// The log lines from `mark` on.
    pub fn log_since(&self, mark: usize) -> Vec<String> {
        self.log
            .lock()
            .map(|l| l.get(mark..).map(<[String]>::to_vec).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The first log line from `mark` on that satisfies `pred`, waiting at
    /// most `limit` for it.
    pub fn wait_for_since(
        &self,
        mark: usize,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(l) = self.log_since(mark).into_iter().find(|l| pred(l)) {
                return Some(l);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The process id of the running server.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The lease file (dnsmasq writes it when a lease changes).
    pub fn lease_file(&self) -> String {
        std::fs::read_to_string(&self.files.leases).unwrap_or_default()
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &DnsmasqConfig {
        &self.cfg
    }

    /// Stops the server with SIGTERM (it writes its lease file and logs
    /// "exiting"), waiting at most 5 s, then SIGKILL.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.is_running() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
        }
        self.kill();
    }

    /// Kills the server (SIGKILL) and reaps it; its log reader ends.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }

    /// Stops the server and starts it again with the same configuration
    /// and files (leases granted before are kept).
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.spawn()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        self.kill();
        for p in [&self.files.hosts, &self.files.leases, &self.files.pid] {
            let _ = std::fs::remove_file(p);
        }
    }
}
