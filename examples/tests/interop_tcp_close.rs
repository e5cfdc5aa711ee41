//! TCP connection teardown between the stack and the Linux kernel:
//! half-close by either side (the other still sending), the stack's FIN
//! sent once in FIN-WAIT-2, and resets both ways (Linux with `SO_LINGER`
//! 0; the stack with `tcp_abort` and with `tcp_close` on unread data).
//!
//! The scenarios `tap_echo` cannot express (the stack half-closing first
//! while still reading, the stack resetting, seeing the reset error
//! itself) run the stack in the test ([`OurStack`]): the test thread polls
//! it on the TAP while a Linux client runs on another thread of the same
//! namespace. Each test runs in its own network namespace on
//! 192.0.2.0/24 (Linux 192.0.2.1, the stack 192.0.2.2); see `common` for
//! the skip policy. Every loop is bounded in count and time.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown as NetShutdown;
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::tcp::*;
use common::*;
use wolfip_core::{Shutdown, TcpError, TcpRecvError, TcpState};

// ---------------------------------------------------------------------
// Half-close.

/// The Linux client shuts down its write side after sending 1 MB; the
/// echo keeps sending what is left (CLOSE-WAIT), then closes: Linux reads
/// everything, then end of stream.
#[test]
fn half_close_by_linux_still_gets_the_whole_echo() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let total = 1_000_000;
        let run = bulk_run(
            "half_close_linux",
            &[],
            total,
            Duration::from_secs(30),
            Duration::from_millis(300),
        );
        let pcap = run.pcap();
        // FINs, and our data segments: one pass.
        let segs = fields(
            pcap,
            &format!("tcp.flags.fin == 1 || (eth.src == {STACK_MAC} && tcp.len > 0)"),
            &["frame.number", "eth.src", "tcp.flags.fin", "tcp.nxtseq"],
        );
        // Relative sequence numbers: SYN 1, the data, FIN 1.
        let (linux, ours) = fins_ending_at(&segs, total + 2, total + 2);
        let (lf, of): (u64, u64) = (linux[0][0].parse().unwrap(), ours[0][0].parse().unwrap());
        assert!(of > lf, "our FIN (frame {of}) before Linux's (frame {lf})");
        let after = segs
            .iter()
            .filter(|f| f[1] == STACK_MAC && f[0].parse::<u64>().unwrap() > lf)
            .count();
        println!("half_close_linux: {after} segments echoed after Linux's FIN");
        assert_no_corruption(pcap);
    });
}

/// FIN segments of `segs` (fields frame.number, eth.src, tcp.flags.fin,
/// tcp.nxtseq) split into (Linux's, ours); each side's must all end at
/// the given relative sequence number (a FIN may be retransmitted, e.g.
/// by Linux's tail loss probe when the stack is slow, but never moves).
fn fins_ending_at(
    segs: &[Vec<String>],
    linux_end: usize,
    our_end: usize,
) -> (Vec<&Vec<String>>, Vec<&Vec<String>>) {
    let (ours, linux): (Vec<&Vec<String>>, Vec<&Vec<String>>) = segs
        .iter()
        .filter(|f| f[2] == "1")
        .partition(|f| f[1] == STACK_MAC);
    assert!(!linux.is_empty(), "no FIN from Linux");
    assert!(!ours.is_empty(), "no FIN from the stack");
    for f in &linux {
        assert_eq!(f[3], linux_end.to_string(), "Linux's FINs: {linux:?}");
    }
    for f in &ours {
        assert_eq!(
            f[3],
            our_end.to_string(),
            "our FINs must all end at relative sequence number {our_end}: {ours:?}"
        );
    }
    (linux, ours)
}

/// The stack sends 100 kB and shuts down its write side first, then keeps
/// reading: Linux reads everything and end of stream, then sends 300 kB
/// on the half-open connection, which the stack receives in FIN-WAIT-2,
/// then closes; the stack ends in TIME-WAIT, whose slot is free 2 s later.
#[test]
fn half_close_by_the_stack_while_it_keeps_reading() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        const DOWN: usize = 100_000;
        const UP: usize = 300_000;
        let mut ours = OurStack::start("half_close_stack");
        let listener = ours.listen();
        let seed = seed("half_close_stack");
        let up_seed = seed ^ 0x5555;
        let linux = client("linux", move || {
            let mut s = connect();
            let mut got = Vec::new();
            s.read_to_end(&mut got)
                .unwrap_or_else(|e| panic!("Linux: read until our FIN: {e}"));
            assert_eq!(got.len(), DOWN, "Linux: bytes before end of stream");
            check_pattern(seed, 0, &got, "Linux: what the stack sent");
            // Half-open: sending still works after end of stream.
            let mut buf = vec![0u8; UP];
            pattern(up_seed, 0, &mut buf);
            s.write_all(&buf)
                .unwrap_or_else(|e| panic!("Linux: write after end of stream: {e}"));
            s.shutdown(NetShutdown::Write).expect("Linux: shutdown");
            assert_eq!(s.read(&mut [0u8; 16]).expect("Linux: read"), 0);
        });

        let conn = ours.accept(listener);
        let mut sent = 0usize;
        let mut buf = vec![0u8; 16384];
        ours.run_until(Duration::from_secs(20), "send, then shut down", |s, _| {
            while sent < DOWN {
                let n = s.tcp_send_room(conn).min(buf.len()).min(DOWN - sent);
                if n == 0 {
                    return None;
                }
                pattern(seed, sent as u64, &mut buf[..n]);
                sent += s.tcp_send(conn, &buf[..n]).expect("tcp_send");
            }
            s.tcp_shutdown(conn, Shutdown::Write).expect("tcp_shutdown");
            Some(())
        });
        assert!(
            ours.stack.tcp_send(conn, b"x").is_err(),
            "tcp_send after shutdown(Write) succeeded"
        );
        let mut got = 0usize;
        let mut states = Vec::new();
        ours.run_until(Duration::from_secs(30), "receive until EOF", |s, _| loop {
            match s.tcp_recv(conn, &mut buf) {
                Ok(0) => return Some(()),
                Ok(n) => {
                    check_pattern(up_seed, got as u64, &buf[..n], "the stack: what Linux sent");
                    got += n;
                    let st = s.tcp_state(conn).unwrap();
                    if states.last() != Some(&st) {
                        states.push(st);
                    }
                }
                Err(TcpRecvError::WouldBlock) => return None,
                Err(e) => panic!("tcp_recv after {got} bytes: {e:?}"),
            }
        });
        assert_eq!(got, UP, "bytes the stack received after its FIN");
        assert_eq!(
            states.first(),
            Some(&TcpState::FinWait2),
            "states while receiving: {states:?}"
        );
        assert!(
            states
                .iter()
                .all(|s| matches!(s, TcpState::FinWait2 | TcpState::TimeWait)),
            "states while receiving: {states:?}"
        );
        assert_eq!(ours.stack.tcp_state(conn), Some(TcpState::TimeWait));
        ours.join(linux, Duration::from_secs(20));
        ours.stack.tcp_close(conn, ours.clock.now());
        assert_eq!(ours.sockets_in_use(), 2, "listener and TIME-WAIT");
        ours.run_for(Duration::from_millis(2500));
        assert_eq!(ours.sockets_in_use(), 1, "TIME-WAIT over: the listener");
        let st = ours.stack.stats().tcp;
        assert_eq!(
            (st.resets_rx, st.resets_tx),
            (0, 0),
            "{}",
            ours.stack.stats()
        );
        ours.dev.flush();

        // On the wire: our FIN right after our 100 kB, Linux's data after
        // it, Linux's FIN after its 300 kB.
        let pcap = ours.pcap.clone();
        let segs = fields(
            &pcap,
            &format!("tcp.flags.fin == 1 || (eth.src != {STACK_MAC} && tcp.len > 0)"),
            &["frame.number", "eth.src", "tcp.flags.fin", "tcp.nxtseq"],
        );
        // Ours right after our 100 kB, Linux's after its 300 kB.
        let (_, ours) = fins_ending_at(&segs, UP + 2, DOWN + 2);
        let first_linux_data = segs
            .iter()
            .find(|f| f[1] != STACK_MAC && f[2] != "1")
            .map(|f| f[0].parse::<u64>().unwrap())
            .expect("data from Linux");
        let our_fin: u64 = ours[0][0].parse().unwrap();
        assert!(
            first_linux_data > our_fin,
            "Linux sent data (frame {first_linux_data}) before our FIN (frame {our_fin})"
        );
        assert_no_corruption(&pcap);
    });
}

/// Minimal form of the half-close by the stack: it sends 5 bytes and shuts
/// down its write side; Linux acknowledges the FIN, reads end of stream,
/// keeps the connection half-open for 1 s, sends 3 bytes and closes.
/// Nothing of ours lies beyond the FIN (relative sequence number 7): no
/// second FIN, nothing sent or retransmitted past it in FIN-WAIT-2 or
/// TIME-WAIT.
#[test]
fn stack_fin_is_sent_once_in_fin_wait_2() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("fin_once");
        let listener = ours.listen();
        let linux = client("linux", || {
            let mut s = connect();
            let mut got = Vec::new();
            s.read_to_end(&mut got)
                .unwrap_or_else(|e| panic!("Linux: read until our FIN: {e}"));
            assert_eq!(got, b"hello", "Linux: before end of stream");
            thread::sleep(Duration::from_secs(1));
            s.write_all(b"bye")
                .unwrap_or_else(|e| panic!("Linux: write after end of stream: {e}"));
        });
        let conn = ours.accept(listener);
        assert_eq!(ours.stack.tcp_send(conn, b"hello"), Ok(5));
        ours.stack
            .tcp_shutdown(conn, Shutdown::Write)
            .expect("tcp_shutdown");
        ours.join(linux, Duration::from_secs(15));
        assert_eq!(ours.read_exact(conn, 3), b"bye");
        ours.run_until(Duration::from_secs(5), "end of stream", |s, _| {
            match s.tcp_recv(conn, &mut [0u8; 16]) {
                Ok(0) => Some(()),
                Err(TcpRecvError::WouldBlock) => None,
                other => panic!("tcp_recv after 'bye': {other:?}"),
            }
        });
        assert_eq!(ours.stack.tcp_state(conn), Some(TcpState::TimeWait));
        let info = ours.stack.tcp_info(conn).expect("tcp_info");
        ours.dev.flush();
        let pcap = ours.pcap.clone();
        let segs = fields(
            &pcap,
            &format!("eth.src == {STACK_MAC} && tcp"),
            &[
                "frame.number",
                "tcp.flags.str",
                "tcp.seq",
                "tcp.len",
                "tcp.nxtseq",
            ],
        );
        let listing = segs
            .iter()
            .map(|f| f.join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        let fins: Vec<&Vec<String>> = segs.iter().filter(|f| f[1].contains('F')).collect();
        assert!(!fins.is_empty(), "no FIN from the stack:\n{listing}");
        // Nothing at or beyond sequence number 7 but the ACKs that sit
        // there: no second FIN, no segment past the first (a plain
        // retransmission of the FIN would be legitimate, and ends at 7 too).
        let num = |v: &str| v.parse::<u64>().unwrap();
        let beyond: Vec<&Vec<String>> = segs
            .iter()
            .filter(|f| num(&f[2]) > 7 || num(&f[4]) > 7 || (f[1].contains('F') && num(&f[4]) != 7))
            .collect();
        assert!(
            beyond.is_empty(),
            "the stack sent {} segment(s) beyond its FIN (relative seq 6, acknowledged by \
             Linux): a second FIN or later sequence numbers; tcp_info: {info:?}\n\
             our segments (frame, flags, seq, len, nxtseq):\n{listing}",
            beyond.len()
        );
        println!(
            "fin_once: {} FIN(s) from the stack, timeouts {}",
            fins.len(),
            info.timeouts
        );
        assert_no_corruption(&pcap);
    });
}

// ---------------------------------------------------------------------
// Resets.

/// A Python client: connects to the echo port, sends `send`, reads
/// `expect` back, then closes with `SO_LINGER` {on, 0}, which makes Linux
/// reset the connection.
fn python_linger_reset(send: &str, expect: &str) -> Command {
    let script = format!(
        r#"
import socket, struct, sys
s = socket.create_connection(("{STACK_IP}", {ECHO_PORT}), timeout=5)
s.sendall(b"{send}")
got = b""
while len(got) < {n}:
    d = s.recv({n} - len(got))
    if not d:
        sys.exit("end of stream after %r" % got)
    got += d
if got != b"{expect}":
    sys.exit("got %r" % got)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("reset")
"#,
        n = expect.len()
    );
    let mut cmd = Command::new("python3");
    cmd.args(["-c", &script]);
    cmd
}

fn assert_python_ok(out: &std::process::Output) {
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "reset",
        "python client: {:?}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Linux resets with SO_LINGER 0: `tap_echo` counts the reset and lets
/// the connection go; it sends no reset itself.
#[test]
fn linux_reset_reaches_tap_echo() {
    if !can_run(&["python3"]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("linux_reset_echo", &[]);
        wait_ping();
        let out = run(
            python_linger_reset("hello", "hello"),
            Duration::from_secs(20),
        );
        assert_python_ok(&out);
        thread::sleep(Duration::from_millis(300));
        let stopped = echo.stop();
        let c = stopped.tcp_echo_counters();
        assert_eq!((c.accepted, c.bytes), (1, 5), "{}", stopped.stdout);
        assert_eq!(c.still_open, 0, "{}", stopped.stdout);
        assert_eq!(c.sockets_in_use, 1, "{}", stopped.stdout);
        assert_eq!(stopped.tcp_counter("resets rx"), 1, "{}", stopped.stdout);
        assert_eq!(stopped.tcp_counter("resets tx"), 0, "{}", stopped.stdout);
        let rsts = fields(&echo.pcap, "tcp.flags.reset == 1", &["eth.src"]);
        assert_eq!(rsts.len(), 1, "RSTs: {rsts:?}");
        assert_ne!(rsts[0][0], STACK_MAC, "the RST came from the stack");
        assert_no_corruption(&echo.pcap);
    });
}

/// The same reset seen by the application on the stack: `tcp_recv` fails
/// with `Reset`, once, and the socket's slot is freed on close.
#[test]
fn linux_reset_is_reported_to_the_application() {
    if !can_run(&["python3"]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("linux_reset_app");
        let listener = ours.listen();
        let py = client("python", || {
            run(python_linger_reset("ping", "pong"), Duration::from_secs(20))
        });
        let conn = ours.accept(listener);
        assert_eq!(ours.read_exact(conn, 4), b"ping");
        assert_eq!(ours.stack.tcp_send(conn, b"pong"), Ok(4));
        let err = ours.run_until(Duration::from_secs(10), "the reset", |s, _| {
            match s.tcp_recv(conn, &mut [0u8; 64]) {
                Err(TcpRecvError::WouldBlock) => None,
                other => Some(other),
            }
        });
        assert_eq!(err, Err(TcpRecvError::Failed(TcpError::Reset)));
        assert_python_ok(&ours.join(py, Duration::from_secs(20)));
        assert_eq!(ours.stack.tcp_state(conn), Some(TcpState::Closed));
        // Reported once.
        assert_ne!(
            ours.stack.tcp_recv(conn, &mut [0u8; 64]),
            Err(TcpRecvError::Failed(TcpError::Reset))
        );
        ours.stack.tcp_close(conn, ours.clock.now());
        assert_eq!(ours.sockets_in_use(), 1, "only the listener left");
        let st = ours.stack.stats().tcp;
        assert_eq!(
            (st.resets_rx, st.resets_tx),
            (1, 0),
            "{}",
            ours.stack.stats()
        );
        ours.dev.flush();
        assert_no_corruption(&ours.pcap);
    });
}

/// The stack resets: `tcp_abort` after reading a request, and `tcp_close`
/// with unread data (RFC 2525 §2.17); each time the Linux client blocked
/// in `read` gets ECONNRESET, and Linux answers nothing.
#[test]
fn stack_reset_reaches_linux() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        let mut ours = OurStack::start("stack_reset");
        let listener = ours.listen();
        let reader = |request: &'static [u8]| {
            move || {
                let mut s = connect();
                s.write_all(request).expect("Linux: write");
                let r = s.read(&mut [0u8; 64]);
                match r {
                    Err(e) => e.kind(),
                    Ok(n) => panic!("Linux: read {n} bytes instead of a reset"),
                }
            }
        };

        // 1. tcp_abort.
        let linux = client("linux-abort", reader(b"request"));
        let conn = ours.accept(listener);
        assert_eq!(ours.read_exact(conn, 7), b"request");
        let now = ours.clock.now();
        ours.stack.tcp_abort(conn, now);
        assert_eq!(ours.stack.tcp_state(conn), None, "handle still valid");
        let kind = ours.join(linux, Duration::from_secs(15));
        assert_eq!(kind, ErrorKind::ConnectionReset, "Linux after tcp_abort");

        // 2. tcp_close with 1000 bytes never read.
        let linux = client("linux-close", reader(&[0x42; 1000]));
        let conn = ours.accept(listener);
        ours.run_until(Duration::from_secs(10), "1000 bytes queued", |s, _| {
            (s.tcp_recv_queue(conn) == 1000).then_some(())
        });
        let now = ours.clock.now();
        ours.stack.tcp_close(conn, now);
        let kind = ours.join(linux, Duration::from_secs(15));
        assert_eq!(kind, ErrorKind::ConnectionReset, "Linux after tcp_close");

        ours.run_for(Duration::from_millis(200));
        assert_eq!(ours.sockets_in_use(), 1, "only the listener left");
        let st = ours.stack.stats().tcp;
        assert_eq!(
            (st.resets_rx, st.resets_tx),
            (0, 2),
            "{}",
            ours.stack.stats()
        );
        ours.dev.flush();

        // Our RSTs sit exactly at our next sequence number (nothing was
        // sent: relative 1) and acknowledge what was received.
        let rsts = fields(
            &ours.pcap,
            "tcp.flags.reset == 1",
            &["eth.src", "tcp.seq", "tcp.ack", "tcp.flags.ack"],
        );
        assert_eq!(rsts.len(), 2, "RSTs: {rsts:?}");
        for r in &rsts {
            assert_eq!(r[0], STACK_MAC, "a RST from Linux: {rsts:?}");
            assert_eq!(r[1], "1", "RST sequence number: {rsts:?}");
        }
        assert_eq!(rsts[0][2], "8", "RST after 7 bytes: {rsts:?}");
        assert_eq!(rsts[1][2], "1001", "RST after 1000 bytes: {rsts:?}");
        assert_no_corruption(&ours.pcap);
    });
}
