//! TCP between two stacks over the deterministic simulated link: handshake,
//! echo, bulk transfers checked byte for byte, with and without faults,
//! many short connections in a row, and a link outage. The long transfers
//! and the throughput tables are in `tcp_bulk.rs`.

mod sim_common;
use sim_common::*;

use wolfip_core::config::{TCP_RETRIES, TCP_SOCKETS};
use wolfip_core::phy::sim::LinkConfig;
use wolfip_core::{
    Duration, Instant, Ipv4Addr, Shutdown, SocketAddrV4, Stack, TcpError, TcpHandle, TcpRecvError,
    TcpSendError, TcpState,
};

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

/// Opens sockets until the stack has none left; returns how many it gave
/// and closes them again.
fn free_sockets(s: &mut Stack, now: Instant) -> usize {
    let mut got = Vec::new();
    while let Ok(h) = s.tcp_open() {
        got.push(h);
    }
    let n = got.len();
    for h in got {
        s.tcp_close(h, now);
    }
    n
}

/// One request/response exchange on a fresh connection from A to B's
/// listener `l`: the client sends `req`, half-closes, reads the echo to
/// the end and closes; the server reads to the end, echoes, and closes.
/// Returns false if A had no socket left (all held by TIME-WAIT).
fn exchange(p: &mut Pair, l: TcpHandle, req: &[u8], n: usize) -> bool {
    let Ok(c) = p.a.tcp_open() else {
        return false;
    };
    p.a.tcp_connect(c, SocketAddrV4::new(IP_B, 80), p.now)
        .unwrap();
    let deadline = p.now + Duration::from_secs(120);
    let mut server: Option<TcpHandle> = None;
    let (mut sent, mut shut) = (0, false);
    let mut echoed = Vec::new();
    let mut back = Vec::new();
    let (mut server_eof, mut server_sent, mut server_closed) = (false, 0, false);
    let mut buf = [0u8; 4096];
    loop {
        assert!(
            p.now < deadline,
            "connection {n}: client {:?} {:?}, server {:?}: sent {sent}, echoed {}, back {}\n{}\n{}",
            p.a.tcp_state(c),
            p.a.tcp_info(c),
            server.and_then(|s| p.b.tcp_info(s)),
            echoed.len(),
            back.len(),
            p.a.stats(),
            p.b.stats()
        );
        if server.is_none() {
            server = p.b.tcp_accept(l).ok().map(|(s, _)| s);
        }
        if p.a.tcp_state(c) == Some(TcpState::Established) || sent > 0 {
            while sent < req.len() {
                match p.a.tcp_send(c, &req[sent..]) {
                    Ok(k) => sent += k,
                    Err(TcpSendError::WouldBlock) => break,
                    Err(e) => panic!("connection {n}: send {e:?}"),
                }
            }
            if sent == req.len() && !shut {
                p.a.tcp_shutdown(c, Shutdown::Write).unwrap();
                shut = true;
            }
        }
        if let Some(s) = server {
            while !server_eof {
                match p.b.tcp_recv(s, &mut buf) {
                    Ok(0) => server_eof = true,
                    Ok(k) => echoed.extend_from_slice(&buf[..k]),
                    Err(TcpRecvError::WouldBlock) => break,
                    Err(e) => panic!("connection {n}: server recv {e:?}"),
                }
            }
            if server_eof && !server_closed {
                while server_sent < echoed.len() {
                    match p.b.tcp_send(s, &echoed[server_sent..]) {
                        Ok(k) => server_sent += k,
                        Err(TcpSendError::WouldBlock) => break,
                        Err(e) => panic!("connection {n}: server send {e:?}"),
                    }
                }
                if server_sent == echoed.len() {
                    // FIN after the data; the stack finishes the close.
                    p.b.tcp_close(s, p.now);
                    server_closed = true;
                }
            }
        }
        match p.a.tcp_recv(c, &mut buf) {
            Ok(0) => break,
            Ok(k) => back.extend_from_slice(&buf[..k]),
            Err(TcpRecvError::WouldBlock) => {}
            Err(e) => panic!("connection {n}: client recv {e:?}"),
        }
        p.step(Duration::from_millis(100));
    }
    assert_eq!(echoed, req, "connection {n}: request");
    assert_eq!(back, req, "connection {n}: response");
    p.a.tcp_close(c, p.now);
    true
}

/// 200 connections one after another over a lossy link, each a small
/// request and its echo, each closed by both ends: every one completes,
/// and once the TIME-WAIT and FIN-WAIT-2 timers have run out both stacks
/// have every socket slot back (nothing leaks, not even when a FIN or the
/// last ACK is lost).
#[test]
fn many_short_connections_lossy_link() {
    let cfg = LinkConfig {
        delay: Duration::from_millis(2),
        bandwidth_bps: 100_000_000,
        loss_ppm: 20_000,
        reorder_ppm: 10_000,
        duplicate_ppm: 10_000,
        corrupt_ppm: 10_000,
        ..LinkConfig::default()
    };
    let mut p = Pair::new(11, cfg);
    let l = p.b.tcp_open().unwrap();
    p.b.tcp_bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80))
        .unwrap();
    p.b.tcp_listen(l, 8).unwrap();
    let start = p.now;
    let mut waits = 0;
    for n in 0..200u32 {
        let req = pattern(1 + (n as usize * 997) % 6000, n);
        while !exchange(&mut p, l, &req, n as usize) {
            // Every slot of A is in TIME-WAIT: wait for one to expire.
            waits += 1;
            assert!(waits < 10_000, "no socket ever came free");
            p.step(Duration::from_millis(100));
        }
    }
    let busy = p.now - start;
    // Let TIME-WAIT (2 s), FIN-WAIT-2 (60 s) and any retransmission end.
    let idle_until = p.now + Duration::from_secs(200);
    while p.now < idle_until {
        p.step(Duration::from_secs(1));
    }
    let (a, b) = (p.a.stats().tcp, p.b.stats().tcp);
    eprintln!(
        "200 connections in {busy:?} simulated, {waits} waits for a free socket\n{}\n{}",
        p.a.stats(),
        p.b.stats()
    );
    assert_eq!(a.active_opens, 200);
    assert_eq!(b.passive_opens, 200);
    assert_eq!(a.timed_out + b.timed_out, 0);
    assert_eq!(
        free_sockets(&mut p.a, p.now),
        TCP_SOCKETS,
        "A leaks sockets"
    );
    // B still has its listener.
    assert_eq!(
        free_sockets(&mut p.b, p.now),
        TCP_SOCKETS - 1,
        "B leaks sockets"
    );
}

/// Runs an A -> B transfer of `data` while the link goes dark (100 % loss
/// both ways) from the moment `before` bytes have arrived until `outage`
/// later. Returns the received bytes (up to an error), when the outage
/// ended, when data arrived again after it, and the error if any.
fn transfer_through_outage(
    p: &mut Pair,
    c: TcpHandle,
    s: TcpHandle,
    data: &[u8],
    before: usize,
    outage: Duration,
) -> (Vec<u8>, Option<Instant>, Option<Instant>, Option<TcpError>) {
    let clean = *p.link.config();
    let dark = LinkConfig {
        loss_ppm: 1_000_000,
        ..clean
    };
    let (mut sent, mut closed) = (0, false);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    let (mut dark_until, mut ended, mut resumed) = (None, None, None);
    let deadline = p.now + Duration::from_secs(3600);
    while p.now < deadline {
        while sent < data.len() {
            match p.a.tcp_send(c, &data[sent..]) {
                Ok(n) => sent += n,
                Err(TcpSendError::WouldBlock) => break,
                Err(TcpSendError::Failed(e)) => return (got, ended, resumed, Some(e)),
                Err(e) => panic!("send: {e:?}"),
            }
        }
        if sent == data.len() && !closed {
            p.a.tcp_shutdown(c, Shutdown::Write).unwrap();
            closed = true;
        }
        loop {
            match p.b.tcp_recv(s, &mut buf) {
                Ok(0) => return (got, ended, resumed, None),
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if ended.is_some() && resumed.is_none() {
                        resumed = Some(p.now);
                    }
                }
                Err(TcpRecvError::WouldBlock) => break,
                Err(TcpRecvError::Failed(e)) => return (got, ended, resumed, Some(e)),
                Err(e) => panic!("recv: {e:?}"),
            }
        }
        if got.len() >= before && dark_until.is_none() && ended.is_none() {
            p.link.set_config(dark);
            dark_until = Some(p.now + outage);
        }
        if dark_until.is_some_and(|t| p.now >= t) {
            p.link.set_config(clean);
            dark_until = None;
            ended = Some(p.now);
        }
        let mut max_step = Duration::from_millis(50);
        if let Some(t) = dark_until {
            max_step = max_step.min(t - p.now + Duration::from_micros(1));
        }
        p.step(max_step);
    }
    panic!(
        "transfer never ended: {} of {} bytes",
        got.len(),
        data.len()
    );
}

/// A 10 s link outage in the middle of a transfer: the sender backs its
/// retransmission timer off (200 ms, 400 ms, ... 6.4 s: six timeouts, well
/// within TCP_RETRIES) and the transfer resumes by itself with the first
/// retransmission after the link is back, and completes intact. An outage
/// longer than all the retries together ends in TimedOut on both sides
/// instead of hanging.
#[test]
fn link_outage_of_ten_seconds_recovers() {
    let cfg = LinkConfig {
        delay: Duration::from_millis(2),
        bandwidth_bps: 50_000_000,
        ..LinkConfig::default()
    };
    let mut p = Pair::new(12, cfg);
    let (c, s) = connect(&mut p);
    let data = pattern(3_000_000, 12);
    let outage = Duration::from_secs(10);
    let (got, ended, resumed, err) =
        transfer_through_outage(&mut p, c, s, &data, 1_000_000, outage);
    let info = p.a.tcp_info(c).unwrap();
    eprintln!(
        "outage ended at {ended:?}, data again at {resumed:?}; sender {info:?}\n{}",
        p.a.stats()
    );
    assert_eq!(err, None, "{info:?}");
    assert!(
        got == data,
        "data differs ({} of {})",
        got.len(),
        data.len()
    );
    let (ended, resumed) = (ended.unwrap(), resumed.unwrap());
    // The backed-off timer fires at most one RTO after the link is back;
    // that RTO is at most 6.4 s (the sum 0.2 + 0.4 + ... + 6.4 = 12.6 s
    // first exceeds the 10 s outage at the sixth timeout).
    assert!(
        resumed - ended <= Duration::from_millis(6_500),
        "resumed {:?} after the outage",
        resumed - ended
    );
    assert!(
        (5..=TCP_RETRIES as u32).contains(&info.timeouts),
        "timeouts {}",
        info.timeouts
    );
    assert_eq!(p.a.stats().tcp.timed_out, 0);

    // Far longer than 0.2 + 0.4 + ... + 51.2 + 60 s: the retries run out.
    let mut p = Pair::new(13, cfg);
    let (c, s) = connect(&mut p);
    let (got, _, _, err) =
        transfer_through_outage(&mut p, c, s, &data, 1_000_000, Duration::from_secs(1000));
    assert_eq!(err, Some(TcpError::TimedOut), "{:?}", p.a.tcp_info(c));
    assert!(got.len() < data.len());
    assert_eq!(p.a.stats().tcp.timed_out, 1);
}
