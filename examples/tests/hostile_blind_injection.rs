//! Blind in-window attacks on an established connection (RFC 5961): with
//! an echo connection from Linux carrying data, `hostile.py inject` learns
//! the connection's sequence numbers from the TAP and sends 10,000
//! segments with its 4-tuple: RSTs, SYNs and data with guessed sequence
//! numbers, half in the stack's receive window (never exactly RCV.NXT: an
//! exact RST is a legitimate reset) and half far outside it, the data in
//! the window carrying an ACK the stack never sent. The connection must
//! survive with every byte intact, and the stack must have answered with
//! challenge ACKs. See `common` for the skip policy.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::hostile::*;
use common::tcp::*;
use common::*;

const INJECTED: usize = 10_000;

/// Echoed on a new connection afterwards.
const MSG: &[u8] = b"a new connection after the injection";

/// Sends bytes `off..off + n` of stream `seed` and reads their echo,
/// checking it; returns the new offset.
fn echo_chunk(s: &mut TcpStream, seed: u64, off: u64, n: usize) -> u64 {
    let mut buf = vec![0u8; n];
    pattern(seed, off, &mut buf);
    s.write_all(&buf)
        .unwrap_or_else(|e| panic!("write at {off}: {e}"));
    let mut back = vec![0u8; n];
    s.read_exact(&mut back)
        .unwrap_or_else(|e| panic!("read the echo of {off}..{}: {e}", off + n as u64));
    check_pattern(seed, off, &back, "echo after injection");
    off + n as u64
}

#[test]
fn blind_injection() {
    if !can_run_hostile(&[]) {
        return;
    }
    in_netns(|| {
        let t0 = Instant::now();
        setup_tap();
        let mut echo = TapEcho::start("blind_injection", GATEWAY_ARGS);
        wait_ping();
        let linux_mac = tap_mac();
        let seed = seed("blind_injection");
        let mut s = connect();
        let port = s.local_addr().unwrap().port().to_string();
        let mut off = 0u64;
        // 1 MiB before.
        for _ in 0..16 {
            off = echo_chunk(&mut s, seed, off, 64 * 1024);
        }
        let count = INJECTED.to_string();
        let mut inj = Script::spawn(&["inject", TAP, &linux_mac, STACK_MAC, &port, &count]);
        inj.expect_line("listening", Duration::from_secs(20));
        // Small exchanges until the script has seen both directions (it
        // then stops watching and injects while the connection is quiet).
        let deadline = Instant::now() + Duration::from_secs(20);
        let summary = loop {
            assert!(Instant::now() < deadline, "the injection never started");
            off = echo_chunk(&mut s, seed, off, 1000);
            if let Ok(l) = inj.lines.recv_timeout(Duration::from_secs(1)) {
                assert!(l.starts_with("learned"), "hostile.py: {l}");
                println!("blind_injection: {l}");
                break inj.expect_line("inject", Duration::from_secs(30));
            }
        };
        println!("blind_injection: {summary}");
        inj.finish(Duration::from_secs(10));
        // 1 MiB after, on the same connection.
        for _ in 0..16 {
            off = echo_chunk(&mut s, seed, off, 64 * 1024);
        }
        drop(s);
        echo_round_trip(MSG, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("new connection: {e}"));
        std::thread::sleep(Duration::from_millis(300));
        let stopped = echo.stop();
        println!("{}", stopped.stdout);
        assert_no_panic(&stopped.stderr);
        let c = stopped.tcp_echo_counters();
        assert_eq!(c.accepted, 2, "{}", stopped.stdout);
        assert_eq!(
            c.bytes,
            off + MSG.len() as u64,
            "bytes echoed (the injected data must not be among them)"
        );
        let challenge = stopped.tcp_counter("resets challenge");
        let resets_rx = stopped.tcp_counter("resets rx");
        let tcp = stopped.stack_counters("tcp");
        let limited = tcp
            .get("rate-limited challenge")
            .map_or("-".to_owned(), u64::to_string);
        println!(
            "blind_injection: {INJECTED} injected, {off} bytes echoed intact, \
             challenge ACKs {challenge} (rate-limited {limited}), resets rx {resets_rx}, \
             dropped out of window {}, {:.1} s",
            tcp["drop window"],
            t0.elapsed().as_secs_f64()
        );
        assert!(challenge > 0, "no challenge ACK: {}", stopped.stdout);
    });
}
