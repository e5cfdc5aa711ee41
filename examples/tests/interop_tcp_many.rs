//! Many TCP connections between the Linux kernel and the stack: 1,000 in
//! sequence and 64 at once (twice, past TIME-WAIT) through `tap_echo`
//! without leaking a socket, and a burst of 64 SYNs answered at once by
//! the stack polled in the test. Each test runs in its own network
//! namespace on 192.0.2.0/24 (Linux 192.0.2.1, the stack 192.0.2.2); see
//! `common` for the skip policy. Every loop is bounded in count and time.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::tcp::*;
use common::*;

// ---------------------------------------------------------------------
// Many connections.

/// One short echo exchange on a fresh connection: connect, send `payload`,
/// read it back, close.
fn echo_exchange(payload: &[u8], what: &str) {
    let mut s = connect();
    s.write_all(payload)
        .unwrap_or_else(|e| panic!("{what}: write: {e}"));
    let mut got = vec![0u8; payload.len()];
    s.read_exact(&mut got)
        .unwrap_or_else(|e| panic!("{what}: read the echo: {e}\n{}", diagnostics()));
    assert_eq!(got, payload, "{what}: echo differs");
}

/// Stops `tap_echo` once Linux's final ACKs had time to land (our side
/// closes last, in LAST-ACK) and insists that it accepted `accepted`
/// connections, echoed `bytes`, holds none and leaked no socket, and
/// counted no reset, backlog drop or timeout.
fn stop_and_check(echo: &mut TapEcho, accepted: u64, bytes: u64) -> Stopped {
    thread::sleep(Duration::from_millis(300));
    let stopped = echo.stop();
    println!("{}", stopped.stdout);
    let c = stopped.tcp_echo_counters();
    assert_eq!(
        (c.accepted, c.bytes),
        (accepted, bytes),
        "{}",
        stopped.stdout
    );
    assert_eq!(c.still_open, 0, "{}", stopped.stdout);
    assert_eq!(c.sockets_in_use, 1, "leaked sockets: {}", stopped.stdout);
    for k in ["resets rx", "resets tx", "drop backlog", "timed out"] {
        assert_eq!(stopped.tcp_counter(k), 0, "{k}: {}", stopped.stdout);
    }
    stopped
}

#[test]
fn thousand_connections_in_sequence() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("thousand_conns", &[]);
        wait_ping();
        let mut rng = Rng::from_time("thousand_conns");
        let t0 = Instant::now();
        let mut bytes = 0;
        for i in 0..1000 {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "only {i} connections in 60 s"
            );
            let n = rng.range(1, 64);
            echo_exchange(&rng.bytes(n), &format!("connection {i}"));
            bytes += n as u64;
        }
        println!(
            "thousand_conns: 1000 connections in {:.2} s",
            t0.elapsed().as_secs_f64()
        );
        let stopped = stop_and_check(&mut echo, 1000, bytes);
        assert_eq!(stopped.tcp_counter("opens passive"), 1000);
        assert_no_corruption(&echo.pcap);
    });
}

/// One client of [`sixty_four_at_once`]: connect, wait for all, echo,
/// wait for all, close. Never panics, so every client reaches both
/// barriers (each step is bounded: connect 5 s, read and write 10 s).
fn one_of_many(barrier: &Barrier, payload: &[u8]) -> Result<(), String> {
    let conn = TcpStream::connect_timeout(&echo_addr(), Duration::from_secs(5))
        .and_then(|s| {
            s.set_read_timeout(Some(IO_TIMEOUT))?;
            s.set_write_timeout(Some(IO_TIMEOUT))?;
            Ok(s)
        })
        .map_err(|e| format!("connect: {e}"));
    // All 64 connected before anyone sends.
    barrier.wait();
    let echoed = conn.and_then(|mut s| {
        s.write_all(payload).map_err(|e| format!("write: {e}"))?;
        let mut got = vec![0u8; payload.len()];
        s.read_exact(&mut got)
            .map_err(|e| format!("read the echo: {e}"))?;
        if got != payload {
            return Err("echo differs".into());
        }
        Ok(s)
    });
    // All 64 echoed before anyone closes.
    barrier.wait();
    echoed.map(drop)
}

/// 64 clients connect at once, each echoes, all 64 are open at the same
/// moment, then they close; returns the bytes echoed.
fn sixty_four_at_once(round: u32, rng: &mut Rng) -> u64 {
    let barrier = Arc::new(Barrier::new(64));
    let mut threads = Vec::new();
    let mut bytes = 0;
    for i in 0..64 {
        let n = rng.range(1, 2000);
        let payload = rng.bytes(n);
        bytes += n as u64;
        let barrier = barrier.clone();
        threads.push(client(&format!("conn-{round}-{i}"), move || {
            one_of_many(&barrier, &payload)
        }));
    }
    let errors: Vec<String> = threads
        .into_iter()
        .enumerate()
        .filter_map(|(i, t)| join(t).err().map(|e| format!("connection {i}: {e}")))
        .collect();
    assert!(
        errors.is_empty(),
        "round {round}: {} of 64 clients failed:\n{}\n{}",
        errors.len(),
        errors.join("\n"),
        diagnostics()
    );
    bytes
}

#[test]
fn sixty_four_connections_at_once_twice() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("sixty_four", &[]);
        wait_ping();
        let mut rng = Rng::from_time("sixty_four");
        let t0 = Instant::now();
        let mut bytes = sixty_four_at_once(1, &mut rng);
        println!(
            "sixty_four: first 64 in {:.2} s",
            t0.elapsed().as_secs_f64()
        );
        // Past TIME-WAIT (2 s), every slot must be back: 64 more at once.
        thread::sleep(Duration::from_millis(2500));
        bytes += sixty_four_at_once(2, &mut rng);
        println!(
            "sixty_four: 128 connections in {:.2} s",
            t0.elapsed().as_secs_f64()
        );
        stop_and_check(&mut echo, 128, bytes);
        assert_no_corruption(&echo.pcap);
    });
}

// ---------------------------------------------------------------------
// A burst of SYNs.

/// 64 SYNs waiting on the TAP when the stack next polls (the SYN queue
/// holds 64 in this build) are all answered at once: every handshake
/// completes well within Linux's 1 s SYN retransmission timeout, and the
/// stack drops none of its own replies for want of frame slots.
#[test]
fn burst_of_64_syns_is_answered_at_once() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("syn_burst");
        let listener = ours.listen_with_backlog(64);
        // Warm up (ARP both ways) with one exchange.
        let warm = client("warm-up", || {
            let mut s = connect();
            s.write_all(b"hi").expect("warm-up write");
        });
        let conn = ours.accept(listener);
        ours.join(warm, Duration::from_secs(10));
        ours.stack.tcp_close(conn, ours.clock.now());
        ours.run_for(Duration::from_millis(100));
        let before = ours.stack.stats().ip.drop_no_buffer;

        // 64 connects while the stack does not run: the SYNs queue up in
        // the TAP.
        let start = Arc::new(Barrier::new(65));
        let clients: Vec<JoinHandle<Result<(Instant, TcpStream), String>>> = (0..64)
            .map(|i| {
                let start = start.clone();
                client(&format!("syn-{i}"), move || {
                    start.wait();
                    TcpStream::connect_timeout(&echo_addr(), Duration::from_secs(10))
                        .map(|s| (Instant::now(), s))
                        .map_err(|e| format!("connect: {e}"))
                })
            })
            .collect();
        start.wait();
        thread::sleep(Duration::from_millis(300));
        let t0 = Instant::now();
        let mut accepted = Vec::new();
        ours.run_until(Duration::from_secs(15), "64 handshakes", |s, _| {
            while let Ok((h, _)) = s.tcp_accept(listener) {
                accepted.push(h);
            }
            (accepted.len() == 64).then_some(())
        });
        let all = t0.elapsed();
        let mut late = Vec::new();
        let mut streams = Vec::new();
        for (i, c) in clients.into_iter().enumerate() {
            let done = ours.join(c, Duration::from_secs(15));
            let (done, stream) = done.unwrap_or_else(|e| panic!("client {i}: {e}"));
            streams.push(stream);
            let after = done.saturating_duration_since(t0);
            if after > Duration::from_millis(500) {
                late.push(format!("{i}: {after:?}"));
            }
        }
        let stats = *ours.stack.stats();
        let dropped = stats.ip.drop_no_buffer - before;
        println!(
            "syn_burst: 64 handshakes in {all:?}; {dropped} frames dropped for want of a slot; \
             SYN-ACK retransmissions {}",
            stats.tcp.retransmits
        );
        for h in accepted {
            let now = ours.clock.now();
            ours.stack.tcp_abort(h, now);
        }
        ours.run_for(Duration::from_millis(50));
        drop(streams);
        assert!(
            late.is_empty() && dropped == 0,
            "{} of 64 handshakes took over 500 ms after the stack ran (the 1 s SYN-ACK or \
             SYN retransmission): {late:?}; the stack dropped {dropped} outgoing frames for \
             want of a frame slot (ipv4 drop no-buffer) while answering the burst\n{}",
            late.len(),
            stats
        );
    });
}
