//! TCP between two stacks over the deterministic simulated link: handshake,
//! echo, bulk transfers checked byte for byte, with and without faults.

use wolfip_core::phy::sim::{LinkConfig, Side, SimLink};
use wolfip_core::rand::FixedSeed;
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{
    Duration, IfaceConfig, IfaceId, Instant, Ipv4Addr, SocketAddrV4, Stack, TcpHandle,
    TcpRecvError, TcpSendError, TcpState,
};

const IP_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

struct Pair {
    a: Box<Stack>,
    b: Box<Stack>,
    ia: IfaceId,
    ib: IfaceId,
    link: SimLink,
    now: Instant,
}

impl Pair {
    fn new(seed: u64, cfg: LinkConfig) -> Pair {
        let mut a = Box::new(Stack::new(&mut FixedSeed(seed)));
        let mut b = Box::new(Stack::new(&mut FixedSeed(seed ^ 0xabcdef)));
        let ia = a
            .add_interface(IfaceConfig::ethernet(EthernetAddress([2, 0, 0, 0, 0, 0xa])))
            .unwrap();
        let ib = b
            .add_interface(IfaceConfig::ethernet(EthernetAddress([2, 0, 0, 0, 0, 0xb])))
            .unwrap();
        a.set_ipv4(ia, Some("192.0.2.1/24".parse().unwrap()))
            .unwrap();
        b.set_ipv4(ib, Some("192.0.2.2/24".parse().unwrap()))
            .unwrap();
        Pair {
            a,
            b,
            ia,
            ib,
            link: SimLink::new(cfg, seed),
            now: Instant::from_secs(1),
        }
    }

    /// Runs both stacks once at the current time, then moves time to the
    /// next event (at most `max_step` ahead).
    fn step(&mut self, max_step: Duration) {
        let na = self.a.poll(self.now, self.ia, &mut self.link.port(Side::A));
        let nb = self.b.poll(self.now, self.ib, &mut self.link.port(Side::B));
        let mut next = self.now + max_step;
        for t in [na, nb, self.link.next_delivery()].into_iter().flatten() {
            next = next.min(t.max(self.now + Duration::from_micros(1)));
        }
        self.now = next;
    }
}

fn pattern(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Opens a connection A -> B:80. Returns (client on A, server socket on B).
fn connect(p: &mut Pair) -> (TcpHandle, TcpHandle) {
    let l = p.b.tcp_open().unwrap();
    p.b.tcp_bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80))
        .unwrap();
    p.b.tcp_listen(l, 4).unwrap();
    let c = p.a.tcp_open().unwrap();
    p.a.tcp_connect(c, SocketAddrV4::new(IP_B, 80), p.now)
        .unwrap();
    for _ in 0..10_000 {
        p.step(Duration::from_millis(100));
        if let Ok((s, peer)) = p.b.tcp_accept(l) {
            assert_eq!(*peer.ip(), IP_A);
            for _ in 0..1000 {
                if p.a.tcp_state(c) == Some(TcpState::Established) {
                    return (c, s);
                }
                p.step(Duration::from_millis(100));
            }
        }
    }
    panic!("no connection: client {:?}", p.a.tcp_state(c));
}

/// Sends `data` from (`from`, h1) to (`to`, h2) and returns what arrived,
/// closing the sender's side after the data.
fn transfer(
    p: &mut Pair,
    a_to_b: bool,
    tx: TcpHandle,
    rx: TcpHandle,
    data: &[u8],
    limit: Duration,
) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 65536];
    let deadline = p.now + limit;
    let mut closed = false;
    while p.now < deadline {
        let (s, r) = if a_to_b {
            (&mut p.a, &mut p.b)
        } else {
            (&mut p.b, &mut p.a)
        };
        while sent < data.len() {
            match s.tcp_send(tx, &data[sent..]) {
                Ok(n) => sent += n,
                Err(TcpSendError::WouldBlock) => break,
                Err(e) => panic!("send: {e:?}"),
            }
        }
        if sent == data.len() && !closed {
            s.tcp_shutdown(tx, wolfip_core::Shutdown::Write).unwrap();
            closed = true;
        }
        loop {
            match r.tcp_recv(rx, &mut buf) {
                Ok(0) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(TcpRecvError::WouldBlock) => break,
                Err(e) => panic!("recv: {e:?} after {} bytes", got.len()),
            }
        }
        p.step(Duration::from_millis(50));
    }
    panic!(
        "transfer stalled: {} of {} bytes arrived, {} sent",
        got.len(),
        data.len(),
        sent
    );
}

#[test]
fn handshake_and_small_echo() {
    let mut p = Pair::new(
        1,
        LinkConfig {
            delay: Duration::from_millis(5),
            ..LinkConfig::default()
        },
    );
    let (c, s) = connect(&mut p);
    let info = p.a.tcp_info(c).unwrap();
    assert!(
        info.window_scaling && info.timestamps && info.sack,
        "{info:?}"
    );
    assert_eq!(p.a.tcp_send(c, b"hello").unwrap(), 5);
    let mut buf = [0u8; 16];
    let mut n = 0;
    for _ in 0..100 {
        p.step(Duration::from_millis(10));
        if let Ok(k) = p.b.tcp_recv(s, &mut buf) {
            n = k;
            break;
        }
    }
    assert_eq!(&buf[..n], b"hello");
}

#[test]
fn bulk_one_megabyte_clean_link() {
    let cfg = LinkConfig {
        delay: Duration::from_millis(1),
        bandwidth_bps: 100_000_000,
        ..LinkConfig::default()
    };
    let mut p = Pair::new(2, cfg);
    let (c, s) = connect(&mut p);
    let data = pattern(1 << 20, 7);
    let start = p.now;
    let got = transfer(&mut p, true, c, s, &data, Duration::from_secs(120));
    assert!(got == data, "data differs");
    let secs = (p.now - start).total_micros() as f64 / 1e6;
    eprintln!(
        "1 MiB in {secs:.3} s simulated ({:.1} Mbit/s)",
        8.0 * data.len() as f64 / secs / 1e6
    );
}

#[test]
fn bulk_with_loss_and_reordering() {
    for seed in 1..4u64 {
        let cfg = LinkConfig {
            delay: Duration::from_millis(2),
            loss_ppm: 20_000,
            reorder_ppm: 20_000,
            duplicate_ppm: 5_000,
            corrupt_ppm: 5_000,
            bandwidth_bps: 50_000_000,
            ..LinkConfig::default()
        };
        let mut p = Pair::new(seed, cfg);
        let (c, s) = connect(&mut p);
        let data = pattern(300_000, seed as u32);
        let got = transfer(
            &mut p,
            seed % 2 == 0,
            if seed % 2 == 0 { c } else { s },
            if seed % 2 == 0 { s } else { c },
            &data,
            Duration::from_secs(600),
        );
        assert!(
            got == data,
            "seed {seed}: data differs ({} vs {})",
            got.len(),
            data.len()
        );
        eprintln!(
            "seed {seed}: {} bytes, sim time {:?}\n{}\n{}",
            got.len(),
            p.now,
            p.a.stats(),
            p.b.stats()
        );
    }
}
