//! reqwless 0.14 (an HTTP client on embedded-nal-async's `TcpConnect` and
//! `Dns`) over our `AsyncStack`, against lighttpd 1.4 on the Linux side of
//! the TAP, resolving names through our stack's DNS resolver and dnsmasq.
//!
//! lighttpd serves a document root in the temporary directory holding a
//! 1 MiB file of deterministic pseudo-random bytes. The client GETs it by
//! IP-literal URL (reqwless resolves every host, literals too: our `Dns`
//! must parse them without a query), then, with dnsmasq answering
//! `www.test` on the link and our stack told to use it, by name; it also
//! asks for a name dnsmasq does not know (a DNS error, not a hang). Each
//! body is streamed through reqwless's body reader and checked by length
//! and SHA-256 against the file. The futures run on futures-lite's
//! `block_on`, which parks the thread until a waker fires: a lost wake-up
//! in the adapter shows as a timeout, not as busy polling that hides it.
//!
//! `http_control_std_embedded_nal_async` runs the same client over the
//! kernel's sockets (std-embedded-nal-async) against a lighttpd on
//! 127.0.0.1 in a namespace of its own (names come from a fixed table
//! there: the kernel's resolver would read the host's configuration).

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use embedded_io_async::Read as _;
use embedded_nal_async::{AddrType, Dns, TcpConnect};
use reqwless::client::HttpClient;
use reqwless::request::Method;
use sha2::{Digest, Sha256};
use wolfip_bsd::engine::Port as _;
use wolfip_core::Ipv4Addr;

const LIGHTTPD: &str = "lighttpd";
const DNSMASQ: &str = "/usr/sbin/dnsmasq";
/// Size of the served file.
const FILE_LEN: usize = 1 << 20;
/// How long one GET (connect, request, 1 MiB body) may take.
const GET_LIMIT: Duration = Duration::from_secs(60);

/// `len` deterministic pseudo-random bytes (splitmix64 from `seed`).
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A lighttpd serving `/file` (1 MiB) on `addr`:80; killed, and its files
/// removed, when dropped.
struct Lighttpd {
    _guard: common::ChildGuard,
    root: PathBuf,
    files: Vec<PathBuf>,
    /// The length and SHA-256 of `/file`.
    expected: (usize, [u8; 32]),
}

impl Lighttpd {
    fn start(addr: IpAddr) -> Lighttpd {
        let root = common::temp_path("http", "www");
        std::fs::create_dir_all(&root).expect("document root");
        let body = pseudo_random(FILE_LEN, 0x5eed_1234);
        std::fs::write(root.join("file"), &body).expect("write the file");
        let expected = (body.len(), Sha256::digest(&body).into());
        let conf = common::temp_path("lighttpd", "conf");
        let pid = common::temp_path("lighttpd", "pid");
        let errlog = common::temp_path("lighttpd", "err");
        let log = common::temp_path("lighttpd", "log");
        std::fs::write(
            &conf,
            format!(
                "server.document-root = \"{}\"\n\
                 server.bind = \"{addr}\"\n\
                 server.port = 80\n\
                 server.pid-file = \"{}\"\n\
                 server.errorlog = \"{}\"\n\
                 server.modules = ()\n\
                 mimetype.assign = (\"\" => \"application/octet-stream\")\n",
                root.display(),
                pid.display(),
                errlog.display()
            ),
        )
        .expect("write lighttpd.conf");
        let mut cmd = Command::new(LIGHTTPD);
        cmd.arg("-D").arg("-f").arg(&conf);
        let guard = common::ChildGuard::spawn(cmd, &log);
        common::wait_tcp(SocketAddr::new(addr, 80), Duration::from_secs(10));
        Lighttpd {
            _guard: guard,
            root,
            files: vec![conf, pid, errlog, log],
            expected,
        }
    }
}

impl Drop for Lighttpd {
    fn drop(&mut self) {
        for f in &self.files {
            if f.extension().is_some_and(|e| e == "err" || e == "log") {
                let text = common::read_log(f);
                if !text.trim().is_empty() {
                    eprintln!("{}:\n{text}", f.display());
                }
            }
            let _ = std::fs::remove_file(f);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A dnsmasq answering `name` -> `addr` on `tap` (DNS only, no DHCP), with
/// `--log-queries`; killed, and its files removed, when dropped.
struct Dnsmasq {
    _guard: common::ChildGuard,
    log: PathBuf,
    files: Vec<PathBuf>,
}

impl Dnsmasq {
    fn start(tap: &str, name: &str, addr: Ipv4Addr) -> Dnsmasq {
        let hosts = common::temp_path("dnsmasq", "hosts");
        let pid = common::temp_path("dnsmasq", "pid");
        let log = common::temp_path("dnsmasq", "log");
        std::fs::write(&hosts, format!("{addr} {name}\n")).expect("write the hosts file");
        let mut cmd = Command::new(DNSMASQ);
        cmd.args([
            "--no-daemon",
            "--conf-file=/dev/null",
            &format!("--interface={tap}"),
            "--bind-interfaces",
            "--except-interface=lo",
            "--no-resolv",
            "--no-hosts",
            &format!("--addn-hosts={}", hosts.display()),
            "--local=/test/",
            "--local-ttl=60",
            "--log-queries",
            "--log-facility=-",
            &format!("--pid-file={}", pid.display()),
        ]);
        let guard = common::ChildGuard::spawn(cmd, &log);
        let ready = format!("read {}", hosts.display());
        assert!(
            common::wait_log(&log, &ready, Duration::from_secs(5)),
            "dnsmasq not ready within 5 s: {}",
            common::read_log(&log)
        );
        Dnsmasq {
            _guard: guard,
            log,
            files: vec![hosts, pid],
        }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        eprintln!("dnsmasq log:\n{}", common::read_log(&self.log));
        for f in self.files.iter().chain(std::iter::once(&self.log)) {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Asks `server`:53 for the A record of `name` from the Linux side (a
/// hand-made query over a kernel socket): shows that dnsmasq answers
/// before our resolver is blamed. `None` without an answer within 2 s.
fn linux_lookup(server: Ipv4Addr, name: &str) -> Option<Ipv4Addr> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    // Header: id 0x4711, RD, one question.
    let mut q = vec![0x47, 0x11, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    sock.send_to(&q, (server, 53)).ok()?;
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).ok()?;
    let a = &buf[..n];
    // A lone answer to our question: its record ends with the 4 bytes of
    // the address (dnsmasq puts no other record in the answer).
    let answers = u16::from_be_bytes([*a.get(6)?, *a.get(7)?]);
    if a.get(..2)? != [0x47, 0x11] || answers == 0 || a[3] & 0x0f != 0 {
        return None;
    }
    let end = q.len() + 16; // name pointer, type, class, ttl, rdlength, A
    let addr: [u8; 4] = a.get(end - 4..end)?.try_into().ok()?;
    Some(Ipv4Addr::from(addr))
}

/// Waits (at most 5 s) until the Linux side has no established TCP
/// connection on port 80 left: every connection reqwless opened was closed
/// when it was dropped (lighttpd keeps HTTP/1.1 connections open until the
/// client closes them).
fn wait_no_http_connections() {
    let mut last = String::new();
    for _ in 0..100 {
        let mut cmd = Command::new("ss");
        cmd.args(["-Htn", "state", "established", "( sport = :80 )"]);
        let out = common::run(cmd, Duration::from_secs(5));
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && last.trim().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("connections to port 80 still established 5 s after the GETs:\n{last}");
}

/// What a GET returned.
#[derive(Debug)]
struct Got {
    status: u16,
    content_length: Option<usize>,
    len: usize,
    sha256: [u8; 32],
    reads: usize,
}

/// GETs `url` with reqwless over `tcp` and `dns`, streaming the body
/// through SHA-256.
async fn get<T: TcpConnect, D: Dns>(tcp: &T, dns: &D, url: &str) -> Result<Got, reqwless::Error> {
    let mut client = HttpClient::new(tcp, dns);
    let mut rx = vec![0u8; 4096];
    let mut request = client.request(Method::GET, url).await?;
    let response = request.send(&mut rx).await?;
    let status = response.status.0;
    let content_length = response.content_length;
    let mut body = response.body().reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 8192];
    let (mut len, mut reads) = (0, 0);
    loop {
        let n = body.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n;
        reads += 1;
    }
    Ok(Got {
        status,
        content_length,
        len,
        sha256: hasher.finalize().into(),
        reads,
    })
}

/// Runs [`get`] on a thread of the caller's namespace under futures-lite's
/// `block_on`, bounded by [`GET_LIMIT`].
fn blocking_get<S>(stack: S, url: &str) -> Result<Got, reqwless::Error>
where
    S: TcpConnect + Dns + Send + 'static,
{
    let url = url.to_owned();
    let what = format!("GET {url}");
    let t = Instant::now();
    let r = common::bounded(&what, GET_LIMIT, move || {
        futures_lite::future::block_on(get(&stack, &stack, &url))
    });
    let secs = t.elapsed().as_secs_f64();
    match &r {
        Ok(g) => eprintln!(
            "{what}: {} bytes in {secs:.3} s ({:.1} MB/s, {} reads)",
            g.len,
            g.len as f64 / secs / 1e6,
            g.reads
        ),
        Err(e) => eprintln!("{what}: {e:?} after {secs:.3} s"),
    }
    r
}

/// Checks a GET of `/file` against what the server holds.
fn check(got: &Got, expected: (usize, [u8; 32]), what: &str) {
    assert_eq!(got.status, 200, "{what}: status");
    assert_eq!(
        got.content_length,
        Some(expected.0),
        "{what}: Content-Length"
    );
    assert_eq!(got.len, expected.0, "{what}: body length");
    assert!(
        got.sha256 == expected.1,
        "{what}: SHA-256 of the body differs"
    );
}

/// A GET of `url`, where nothing listens, must fail with a network error
/// of kind `ConnectionRefused` (reqwless passes the connection error's
/// `kind()` on).
fn refused<S>(stack: S, url: &str)
where
    S: TcpConnect + Dns + Send + 'static,
{
    let r = blocking_get(stack, url);
    assert!(
        matches!(
            r,
            Err(reqwless::Error::Network(
                embedded_io::ErrorKind::ConnectionRefused
            ))
        ),
        "GET {url} (nothing listens): {r:?}"
    );
}

/// The control's resolver: IP literals, and names from a fixed table (the
/// kernel's resolver would read the host's configuration).
#[derive(Clone, Default)]
struct ControlStack {
    os: std_embedded_nal_async::Stack,
    hosts: Vec<(String, IpAddr)>,
}

impl TcpConnect for ControlStack {
    type Error = std::io::Error;
    type Connection<'a> = <std_embedded_nal_async::Stack as TcpConnect>::Connection<'a>;

    async fn connect<'a>(
        &'a self,
        remote: SocketAddr,
    ) -> Result<Self::Connection<'a>, Self::Error> {
        self.os.connect(remote).await
    }
}

impl Dns for ControlStack {
    type Error = std::io::Error;

    async fn get_host_by_name(&self, host: &str, _: AddrType) -> Result<IpAddr, Self::Error> {
        if let Ok(ip) = host.parse() {
            return Ok(ip);
        }
        self.hosts
            .iter()
            .find(|(n, _)| n == host)
            .map(|(_, ip)| *ip)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, host.to_owned()))
    }

    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, Self::Error> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// The control: the same client over the kernel's sockets, lighttpd on
/// 127.0.0.1.
#[test]
fn http_control_std_embedded_nal_async() {
    if !common::can_run(&[LIGHTTPD]) {
        return;
    }
    let t = Instant::now();
    common::in_netns(|| {
        common::lo_up();
        let server = IpAddr::from([127, 0, 0, 1]);
        let httpd = Lighttpd::start(server);
        let stack = ControlStack {
            os: Default::default(),
            hosts: vec![("www.test".into(), server)],
        };
        for url in ["http://127.0.0.1/file", "http://www.test/file"] {
            let got =
                blocking_get(stack.clone(), url).unwrap_or_else(|e| panic!("GET {url}: {e:?}"));
            check(&got, httpd.expected, url);
        }
        let r = blocking_get(stack.clone(), "http://nothere.test/file");
        assert!(
            matches!(r, Err(reqwless::Error::Dns)),
            "unknown name: {r:?}"
        );
        refused(stack, "http://127.0.0.1:81/file");
        wait_no_http_connections();
    });
    eprintln!("http control: {:?}", t.elapsed());
}

/// The client over wolfip's `AsyncStack` on TAP: ours 198.51.100.2/24,
/// lighttpd and dnsmasq on Linux at 198.51.100.1.
#[test]
fn http_client_on_wolfip_async() {
    if !common::can_run(&[LIGHTTPD, DNSMASQ]) {
        return;
    }
    let t = Instant::now();
    common::in_netns(|| {
        let tap = "wnalhttp0";
        let link = common::bring_up(
            tap,
            Ipv4Addr::new(198, 51, 100, 2),
            Ipv4Addr::new(198, 51, 100, 1),
        );
        let httpd = Lighttpd::start(IpAddr::V4(link.linux));
        let stack = wolfip_nal::AsyncStack::new(link.engine);

        // By IP literal, twice (a new connection each time; the first
        // closes when dropped). No DNS server is configured yet: a query
        // would fail.
        let literal = format!("http://{}/file", link.linux);
        for i in 0..2 {
            let got = blocking_get(stack, &literal)
                .unwrap_or_else(|e| panic!("GET {literal} #{i}: {e:?}"));
            check(&got, httpd.expected, &literal);
        }

        // By name, through dnsmasq on the link.
        let dns = Dnsmasq::start(tap, "www.test", link.linux);
        assert_eq!(
            linux_lookup(link.linux, "www.test"),
            Some(link.linux),
            "dnsmasq does not answer www.test to Linux itself"
        );
        link.engine
            .port()
            .with(|s, _, _| s.dns_set_servers(&[link.linux]))
            .expect("dns_set_servers");
        let by_name = "http://www.test/file";
        for i in 0..2 {
            let got = blocking_get(stack, by_name)
                .unwrap_or_else(|e| panic!("GET {by_name} #{i}: {e:?}"));
            check(&got, httpd.expected, by_name);
        }
        let log = common::read_log(&dns.log);
        let asked = log
            .matches(&format!("query[A] www.test from {}", link.ours))
            .count();
        assert!(
            asked >= 1,
            "dnsmasq saw no query for www.test from us:\n{log}"
        );
        eprintln!("www.test asked {asked} time(s) for 2 GETs (TTL 60 s: the second may come from the cache)");

        // A name dnsmasq does not know: NXDOMAIN, a DNS error.
        let r = blocking_get(stack, "http://nothere.test/file");
        assert!(
            matches!(r, Err(reqwless::Error::Dns)),
            "unknown name: {r:?}"
        );

        // Nothing listens on port 81: Linux answers RST.
        refused(stack, &format!("http://{}:81/file", link.linux));

        // Every connection was closed when reqwless dropped it.
        wait_no_http_connections();
    });
    eprintln!("http on wolfip: {:?}", t.elapsed());
}
