//! Scenario 7, `scaling` (its own build: 1,100 TCP sockets of 4 KiB each
//! way, see the launcher): how each stack's cost grows with the number of
//! connections and open sockets.
//!
//! - `throughput-1conn`, `throughput-64conn`: bulk transfer over the
//!   preallocated ring link between two stacks of one kind, 4 KiB socket
//!   buffers, 64 MiB in all (8 MiB with `--quick`) shared evenly over 1 or
//!   64 concurrent connections, every byte of every connection checked;
//!   Mbit/s of wall time, total over the connections.
//! - `segment-delivery-ns-1sock`, `segment-delivery-ns-1024socks`: a steady
//!   ping-pong of 64-byte segments on one established connection, with no
//!   other connection open, or with 1,023 other established (idle)
//!   connections open on both stacks; wall ns per data segment delivered
//!   (a round trip delivers two), the median of several batches. The
//!   measured connection is the one in the middle of the opening order
//!   (the average place for a linear search). `segment-delivery-ratio` is
//!   the second over the first (target: at most 1.2 for wolfip).

use std::collections::HashMap;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::wire::IpAddress;
use wolfip_core::phy::sim::Side;
use wolfip_core::{config, Duration, Instant, Ipv4Addr, SocketAddrV4, Stack, TcpHandle, TcpState};
use wolfip_core::{CongestionAlgorithm, IfaceId};

use crate::drive::{Link, Pattern, IP_A, IP_B, MAC_A, MAC_B, PORT};
use crate::output::Measurement;
use crate::ring::RingLink;
use crate::{smol, wolf, Impl, Opts, KIB, MIB, START};

const SCENARIO: &str = "scaling";

/// Socket buffers, each way.
const BUFFER: usize = 4 * KIB;
/// Open sockets (established connections) of the large delivery case.
const MANY: usize = 1024;
/// Connections opened at a time (below the SYN queue of the build).
const OPEN_BATCH: usize = 32;
/// Payload of one ping or pong.
const PING: usize = 64;

/// This build of wolfip-core must hold the large case at both ends
/// (1,024 connections and a listener) with 4 KiB buffers.
pub fn check_build() -> Result<(), String> {
    let got = (
        config::TCP_SOCKETS,
        config::TCP_RX_BUFFER,
        config::TCP_TX_BUFFER,
    );
    if got.0 < MANY + 1
        || got.1 != BUFFER
        || got.2 != BUFFER
        || config::TCP_SYN_BACKLOG < OPEN_BATCH
    {
        return Err(format!(
            "the scaling scenario needs wolfip-core built with at least {} TCP sockets of \
             {BUFFER} bytes each way and a SYN queue of at least {OPEN_BATCH} (this build: \
             {got:?}, SYN queue {}): run it with \
             `cargo run --release -p wolfip-examples --bin bench`",
            MANY + 1,
            config::TCP_SYN_BACKLOG
        ));
    }
    Ok(())
}

/// Two stacks of one kind and `n` connections from A to B; connection `i`
/// is A's `i`-th client and the server socket B paired with it.
trait Conns {
    fn poll<L: Link>(&mut self, now: Instant, link: &mut L);
    fn poll_at(&mut self, now: Instant) -> Option<Instant>;
    /// Starts `k` more connections.
    fn start(&mut self, k: usize, now: Instant);
    /// Whether every connection started is established at both ends (B
    /// accepting and pairing them as needed).
    fn settled(&mut self) -> bool;
    /// Offers `data` to connection `i` at `side`; returns how much it took.
    fn send(&mut self, side: Side, i: usize, data: &[u8]) -> usize;
    /// Takes received data of connection `i` at `side`.
    fn recv(&mut self, side: Side, i: usize, buf: &mut [u8]) -> usize;
}

struct Wolf {
    a: Box<Stack>,
    b: Box<Stack>,
    ia: IfaceId,
    ib: IfaceId,
    listener: TcpHandle,
    clients: Vec<TcpHandle>,
    servers: Vec<Option<TcpHandle>>,
    /// Client port to connection index, to pair accepted sockets.
    by_port: HashMap<u16, usize>,
}

impl Wolf {
    fn new(seed: u64) -> Wolf {
        let (a, ia) = wolf::stack(seed, MAC_A, IP_A);
        let (mut b, ib) = wolf::stack(seed ^ 0xabcdef, MAC_B, IP_B);
        let listener = b.tcp_open().unwrap();
        wolf::apply(&mut b, listener, BUFFER);
        b.tcp_bind(listener, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT))
            .unwrap();
        b.tcp_listen(listener, 2 * OPEN_BATCH).unwrap();
        Wolf {
            a,
            b,
            ia,
            ib,
            listener,
            clients: Vec::new(),
            servers: Vec::new(),
            by_port: HashMap::new(),
        }
    }

    fn handle(&self, side: Side, i: usize) -> Option<TcpHandle> {
        match side {
            Side::A => Some(self.clients[i]),
            Side::B => self.servers[i],
        }
    }
}

impl Conns for Wolf {
    fn poll<L: Link>(&mut self, now: Instant, link: &mut L) {
        self.a.poll(now, self.ia, &mut link.port(Side::A));
        self.b.poll(now, self.ib, &mut link.port(Side::B));
    }

    fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        wolfip_core::time::earliest(self.a.poll_at(now), self.b.poll_at(now))
    }

    fn start(&mut self, k: usize, now: Instant) {
        let [w, x, y, z] = IP_B;
        for _ in 0..k {
            let h = self.a.tcp_open().unwrap();
            wolf::apply(&mut self.a, h, BUFFER);
            self.a.tcp_set_nodelay(h, true).unwrap();
            self.a
                .tcp_connect(h, SocketAddrV4::new(Ipv4Addr::new(w, x, y, z), PORT), now)
                .unwrap();
            let port = self.a.tcp_local_addr(h).unwrap().port();
            self.by_port.insert(port, self.clients.len());
            self.clients.push(h);
            self.servers.push(None);
        }
    }

    fn settled(&mut self) -> bool {
        while let Ok((h, remote)) = self.b.tcp_accept(self.listener) {
            let i = self.by_port[&remote.port()];
            self.b.tcp_set_nodelay(h, true).unwrap();
            self.b
                .tcp_set_congestion(h, CongestionAlgorithm::Cubic)
                .unwrap();
            self.servers[i] = Some(h);
        }
        self.servers.iter().all(Option::is_some)
            && self
                .clients
                .iter()
                .all(|&h| self.a.tcp_state(h) == Some(TcpState::Established))
    }

    fn send(&mut self, side: Side, i: usize, data: &[u8]) -> usize {
        let Some(h) = self.handle(side, i) else {
            return 0;
        };
        let s = if side == Side::A {
            &mut self.a
        } else {
            &mut self.b
        };
        s.tcp_send(h, data).unwrap_or(0)
    }

    fn recv(&mut self, side: Side, i: usize, buf: &mut [u8]) -> usize {
        let Some(h) = self.handle(side, i) else {
            return 0;
        };
        let s = if side == Side::A {
            &mut self.a
        } else {
            &mut self.b
        };
        s.tcp_recv(h, buf).unwrap_or(0)
    }
}

struct Smol {
    a: smol::Node,
    b: smol::Node,
    clients: Vec<SocketHandle>,
    /// B's sockets, one listener per connection (smoltcp's listening socket
    /// becomes the connection), in the order they were added.
    listening: Vec<SocketHandle>,
    servers: Vec<Option<SocketHandle>>,
    /// B's sockets not yet paired with a connection.
    unpaired: Vec<SocketHandle>,
}

/// First local port of A's clients.
const SMOL_PORT0: u16 = 49152;

impl Smol {
    fn new<L: Link>(seed: u64, link: &mut L) -> Smol {
        Smol {
            a: smol::Node::new(seed, MAC_A, IP_A, Side::A, link),
            b: smol::Node::new(seed ^ 0xabcdef, MAC_B, IP_B, Side::B, link),
            clients: Vec::new(),
            listening: Vec::new(),
            servers: Vec::new(),
            unpaired: Vec::new(),
        }
    }

    fn socket(&mut self, side: Side, i: usize) -> Option<&mut tcp::Socket<'static>> {
        match side {
            Side::A => {
                let h = self.clients[i];
                Some(self.a.socket(h))
            }
            Side::B => {
                let h = self.servers[i]?;
                Some(self.b.socket(h))
            }
        }
    }
}

fn smol_socket() -> tcp::Socket<'static> {
    let mut s = smol::socket(BUFFER);
    s.set_nagle_enabled(false);
    s
}

impl Conns for Smol {
    fn poll<L: Link>(&mut self, now: Instant, link: &mut L) {
        self.a.poll(now, link);
        self.b.poll(now, link);
    }

    fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        wolfip_core::time::earliest(self.a.poll_at(now), self.b.poll_at(now))
    }

    fn start(&mut self, k: usize, _now: Instant) {
        let [w, x, y, z] = IP_B;
        for _ in 0..k {
            let l = self.b.sockets.add(smol_socket());
            self.b.socket(l).listen(PORT).unwrap();
            self.listening.push(l);
            self.unpaired.push(l);
            let c = self.a.sockets.add(smol_socket());
            let cx = self.a.iface.context();
            let port = SMOL_PORT0 + self.clients.len() as u16;
            self.a
                .sockets
                .get_mut::<tcp::Socket>(c)
                .connect(cx, (IpAddress::v4(w, x, y, z), PORT), port)
                .unwrap();
            self.clients.push(c);
            self.servers.push(None);
        }
    }

    fn settled(&mut self) -> bool {
        let mut k = 0;
        while k < self.unpaired.len() {
            let h = self.unpaired[k];
            let s = self.b.socket(h);
            if s.state() == tcp::State::Established {
                let port = s.remote_endpoint().unwrap().port;
                self.servers[(port - SMOL_PORT0) as usize] = Some(h);
                self.unpaired.swap_remove(k);
            } else {
                k += 1;
            }
        }
        self.servers.iter().all(Option::is_some)
            && self
                .clients
                .iter()
                .all(|&h| self.a.socket(h).state() == tcp::State::Established)
    }

    fn send(&mut self, side: Side, i: usize, data: &[u8]) -> usize {
        self.socket(side, i)
            .and_then(|s| s.send_slice(data).ok())
            .unwrap_or(0)
    }

    fn recv(&mut self, side: Side, i: usize, buf: &mut [u8]) -> usize {
        self.socket(side, i)
            .and_then(|s| s.recv_slice(buf).ok())
            .unwrap_or(0)
    }
}

/// The largest step of the clock when nothing is due sooner.
const MAX_STEP: Duration = Duration::from_millis(200);

/// The next event: a timer of either stack or a frame on the link, at
/// least 1 µs and at most [`MAX_STEP`] ahead.
fn advance<C: Conns, L: Link>(c: &mut C, link: &L, now: Instant) -> Instant {
    let mut next = now + MAX_STEP;
    for t in [c.poll_at(now), link.next_delivery()].into_iter().flatten() {
        next = next.min(t.max(now + Duration::from_micros(1)));
    }
    next
}

/// Opens `n` connections, [`OPEN_BATCH`] at a time, each batch run until
/// established; returns the time then.
fn open<C: Conns, L: Link>(c: &mut C, link: &mut L, mut now: Instant, n: usize) -> Instant {
    let mut opened = 0;
    while opened < n {
        let k = OPEN_BATCH.min(n - opened);
        c.start(k, now);
        opened += k;
        let deadline = now + Duration::from_secs(120);
        while !c.settled() {
            assert!(now < deadline, "connections not established within 120 s");
            c.poll(now, link);
            now = advance(c, link, now);
        }
    }
    now
}

/// Per-connection state of a bulk run.
struct Flow {
    sent: u64,
    received: u64,
}

/// `total` bytes shared over `n` connections from A to B, all running at
/// once; returns wall Mbit/s.
fn bulk<C: Conns, L: Link>(
    c: &mut C,
    link: &mut L,
    mut now: Instant,
    n: usize,
    total: u64,
    pattern: &Pattern,
) -> f64 {
    let each = total / n as u64;
    let mut flows: Vec<Flow> = (0..n)
        .map(|_| Flow {
            sent: 0,
            received: 0,
        })
        .collect();
    let mut buf = vec![0u8; 64 * KIB];
    let mut done = 0;
    let mut last_progress = now;
    let wall = std::time::Instant::now();
    let mut pump = |c: &mut C, flows: &mut [Flow], done: &mut usize| {
        let mut moved = false;
        for (i, f) in flows.iter_mut().enumerate() {
            while f.sent < each {
                let left = (each - f.sent).min(64 * KIB as u64) as usize;
                let k = c.send(Side::A, i, pattern.at(f.sent, left));
                if k == 0 {
                    break;
                }
                f.sent += k as u64;
                moved = true;
            }
            loop {
                let k = c.recv(Side::B, i, &mut buf);
                if k == 0 {
                    break;
                }
                let want = pattern.at(f.received, k);
                if let Some(j) = buf[..k].iter().zip(want).position(|(g, w)| g != w) {
                    panic!(
                        "connection {i}: data differs at byte {}",
                        f.received + j as u64
                    );
                }
                f.received += k as u64;
                assert!(f.received <= f.sent, "more data than was sent");
                if f.received == each {
                    *done += 1;
                }
                moved = true;
            }
        }
        moved
    };
    loop {
        let before = done;
        let moved = pump(c, &mut flows, &mut done);
        if done == n {
            break;
        }
        c.poll(now, link);
        while pump(c, &mut flows, &mut done) {
            c.poll(now, link);
        }
        if moved || done != before {
            last_progress = now;
        }
        assert!(
            now - last_progress < Duration::from_secs(120),
            "stalled: nothing moved for 120 s simulated"
        );
        now = advance(c, link, now);
    }
    let secs = wall.elapsed().as_secs_f64();
    let bytes: u64 = flows.iter().map(|f| f.received).sum();
    assert_eq!(bytes, each * n as u64);
    bytes as f64 * 8.0 / secs / 1e6
}

/// Polls both stacks (the clock moving by 1 µs each time) until `side`
/// has taken [`PING`] bytes of connection `i`, checked against `want`.
fn deliver<C: Conns, L: Link>(
    c: &mut C,
    link: &mut L,
    now: &mut Instant,
    side: Side,
    i: usize,
    want: &[u8],
    buf: &mut [u8],
) {
    let mut got = 0;
    let mut polls = 0;
    while got < PING {
        c.poll(*now, link);
        *now += Duration::from_micros(1);
        let k = c.recv(side, i, &mut buf[got..PING]);
        got += k;
        polls += 1;
        assert!(polls < 10_000, "ping-pong stalled");
    }
    assert_eq!(&buf[..PING], want, "ping-pong data differs");
}

/// A steady ping-pong on connection `i` of a set of connections.
struct PingPong<'p, C, L> {
    c: C,
    link: L,
    now: Instant,
    i: usize,
    offset: u64,
    pattern: &'p Pattern,
}

impl<C: Conns, L: Link> PingPong<'_, C, L> {
    /// Wall ns per data segment delivered over `rounds` round trips (two
    /// segments each).
    fn batch(&mut self, rounds: usize) -> f64 {
        let mut buf = [0u8; PING];
        let (c, link, i) = (&mut self.c, &mut self.link, self.i);
        let wall = std::time::Instant::now();
        for _ in 0..rounds {
            let ping = self.pattern.at(self.offset, PING);
            assert_eq!(c.send(Side::A, i, ping), PING);
            deliver(c, link, &mut self.now, Side::B, i, ping, &mut buf);
            let pong = self.pattern.at(self.offset + PING as u64, PING);
            assert_eq!(c.send(Side::B, i, pong), PING);
            deliver(c, link, &mut self.now, Side::A, i, pong, &mut buf);
            self.offset += 2 * PING as u64;
        }
        wall.elapsed().as_nanos() as f64 / (2 * rounds) as f64
    }
}

/// The median of a list of figures.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Wall ns per delivered segment with 1 and with `many` connections open:
/// `batches` batches of `rounds` round trips on each, alternating between
/// the two after one batch of warm-up each, so that what the machine does
/// meanwhile weighs on both alike; the medians.
fn ping_pong_pair<C: Conns, L: Link>(
    mut one: PingPong<'_, C, L>,
    mut many: PingPong<'_, C, L>,
    rounds: usize,
    batches: usize,
) -> (f64, f64) {
    one.batch(rounds);
    many.batch(rounds);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..batches {
        a.push(one.batch(rounds));
        b.push(many.batch(rounds));
    }
    (median(a), median(b))
}

/// Runs `bulk` for `imp` with `n` connections.
fn throughput(imp: Impl, n: usize, total: u64) -> f64 {
    let seed = 7;
    let pattern = Pattern::new(seed);
    // Room for every connection's window in flight: 64 x 4 KiB is about
    // 200 full frames.
    let mut link = RingLink::new(1024, 1514);
    match imp {
        Impl::Wolfip => {
            let mut c = Wolf::new(seed);
            let now = open(&mut c, &mut link, START, n);
            bulk(&mut c, &mut link, now, n, total, &pattern)
        }
        Impl::Smoltcp => {
            let mut c = Smol::new(seed, &mut link);
            let now = open(&mut c, &mut link, START, n);
            bulk(&mut c, &mut link, now, n, total, &pattern)
        }
    }
}

/// Ping-pong ns per segment for `imp` with 1 and with [`MANY`]
/// established connections (each on a fresh pair of stacks and its own
/// link), measured side by side.
fn delivery(imp: Impl, rounds: usize, batches: usize) -> (f64, f64) {
    let seed = 77;
    let pattern = Pattern::new(seed);
    fn setup<C: Conns>(
        mut c: C,
        mut link: RingLink,
        n: usize,
        pattern: &Pattern,
    ) -> PingPong<'_, C, RingLink> {
        let now = open(&mut c, &mut link, START, n);
        PingPong {
            c,
            link,
            now,
            // The one in the middle of the opening order (the average
            // place for a linear search).
            i: n / 2,
            offset: 0,
            pattern,
        }
    }
    match imp {
        Impl::Wolfip => {
            let one = setup(Wolf::new(seed), RingLink::new(1024, 1514), 1, &pattern);
            let many = setup(Wolf::new(seed), RingLink::new(1024, 1514), MANY, &pattern);
            ping_pong_pair(one, many, rounds, batches)
        }
        Impl::Smoltcp => {
            let mut link = RingLink::new(1024, 1514);
            let c = Smol::new(seed, &mut link);
            let one = setup(c, link, 1, &pattern);
            let mut link = RingLink::new(1024, 1514);
            let c = Smol::new(seed, &mut link);
            let many = setup(c, link, MANY, &pattern);
            ping_pong_pair(one, many, rounds, batches)
        }
    }
}

pub fn scaling(o: &Opts, out: &mut Vec<Measurement>) {
    let m = |imp: Impl, metric, value: f64, unit| Measurement {
        scenario: SCENARIO,
        imp: imp.name(),
        metric,
        value,
        unit,
    };
    let total = if o.quick { 8 * MIB } else { 64 * MIB };
    for (n, metric) in [(1, "throughput-1conn"), (64, "throughput-64conn")] {
        for imp in [Impl::Wolfip, Impl::Smoltcp] {
            let v = throughput(imp, n, total);
            eprintln!(
                "scaling {}: {n} connection(s), {} MiB checked: {v:.1} Mbit/s",
                imp.name(),
                total / MIB
            );
            out.push(m(imp, metric, v, "Mbit/s"));
        }
    }
    let (rounds, batches) = if o.quick { (300, 5) } else { (2000, 7) };
    for imp in [Impl::Wolfip, Impl::Smoltcp] {
        let (one, many) = delivery(imp, rounds, batches);
        eprintln!(
            "scaling {}: {one:.0} ns per segment with 1 connection, {many:.0} ns with {MANY}",
            imp.name()
        );
        out.push(m(imp, "segment-delivery-ns-1sock", one, "ns"));
        out.push(m(imp, "segment-delivery-ns-1024socks", many, "ns"));
        out.push(m(imp, "segment-delivery-ratio", many / one, "x"));
    }
}
