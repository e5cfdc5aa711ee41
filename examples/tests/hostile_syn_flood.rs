//! A SYN flood: 100,000 SYNs to the echo port from spoofed sources
//! (198.51.100.0/24 and 203.0.113.0/24, `hostile.py synflood`, written to
//! the TAP through an AF_PACKET socket) while Linux makes 200 legitimate
//! connections, each exchanging a few bytes with the echo. The stack
//! routes its SYN-ACKs to the spoofed sources through Linux, which drops
//! them: the half-open connections never complete. At least 99 % of the
//! legitimate connections must succeed (with SYN cookies; without them
//! the SYN queue fills up and stays full for a minute: 0.5 % succeeded).
//! See `common` for the skip policy.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::hostile::*;
use common::tcp::*;
use common::*;

const SPOOFED: u32 = 100_000;
/// SYNs a second: about what the stack reads from the TAP in a debug
/// build, so that the flood reaches the stack rather than the TAP's queue.
const RATE: u32 = 20_000;
const LEGITIMATE: u32 = 200;
/// 40 client threads of 5 connections each, one a second per thread: the
/// 200 are spread over the flood's 5 s, and a run where they fail still
/// ends within about 5 × (5 s + 1 s).
const THREADS: u32 = 40;
// Each legitimate connection has 5 s for its handshake (Linux sends its
// SYN three times: at 0, 1 and 3 s) and 5 s for each of its write and read.

#[test]
fn syn_flood() {
    if !can_run_hostile(&[]) {
        return;
    }
    in_netns(|| {
        let t0 = Instant::now();
        setup_tap();
        let mut echo = TapEcho::start("syn_flood", GATEWAY_ARGS);
        wait_ping();
        echo_round_trip(b"before", Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("before the flood: {e}"));
        let idle = echo.occupancy();
        let linux_mac = tap_mac();
        let (count, rate) = (SPOOFED.to_string(), RATE.to_string());
        let mut flood = Script::spawn(&["synflood", TAP, &linux_mac, STACK_MAC, &count, &rate]);
        // The frames are built first (a few seconds): the clients start
        // with the flood.
        flood.expect_line("flooding", Duration::from_secs(60));
        // The legitimate clients, spread over the flood's duration.
        let ok = Arc::new(AtomicU32::new(0));
        let per_thread = LEGITIMATE / THREADS;
        let spacing =
            Duration::from_secs_f64(f64::from(SPOOFED) / f64::from(RATE) / f64::from(per_thread));
        let clients: Vec<_> = (0..THREADS)
            .map(|t| {
                let ok = ok.clone();
                client(&format!("legit-{t}"), move || {
                    let mut errors = Vec::new();
                    thread::sleep(Duration::from_millis(30 * u64::from(t)));
                    for i in 0..per_thread {
                        let msg = format!("legitimate {t}.{i}");
                        match echo_round_trip(msg.as_bytes(), Duration::from_secs(5)) {
                            Ok(()) => {
                                ok.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => errors.push(e),
                        }
                        thread::sleep(spacing);
                    }
                    errors
                })
            })
            .collect();
        // Halfway through: how full the SYN queue is.
        thread::sleep(Duration::from_secs_f64(
            f64::from(SPOOFED) / f64::from(RATE) / 2.0,
        ));
        let during = echo.occupancy();
        let summary_line = {
            let l = flood.expect_line("synflood", Duration::from_secs(60));
            flood.finish(Duration::from_secs(10));
            l
        };
        println!("syn_flood: {summary_line}");
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut errors = Vec::new();
        for c in clients {
            while !c.is_finished() {
                assert!(Instant::now() < deadline, "legitimate clients hang");
                thread::sleep(Duration::from_millis(50));
            }
            errors.extend(join(c));
        }
        let ok = ok.load(Ordering::SeqCst);
        let after = echo.occupancy();
        let stopped = echo.stop();
        println!("{}", stopped.stdout);
        assert_no_panic(&stopped.stderr);
        let tcp = stopped.stack_counters("tcp");
        // The SYN-cookie counters ("syn cookies sent N accepted N rejected
        // N"), absent from a stack without cookies.
        let counter = |k: &str| tcp.get(k).map_or("-".to_owned(), u64::to_string);
        println!(
            "syn_flood: {ok} of {LEGITIMATE} legitimate connections succeeded ({:.1} %) \
             during {SPOOFED} spoofed SYNs; SYN queue mid-flood {}, after {}; \
             tcp rx {} drop backlog {}; SYN cookies sent {} accepted {} rejected {}; {:.1} s",
            f64::from(ok) * 100.0 / f64::from(LEGITIMATE),
            during["tcp_syn_queue"],
            after["tcp_syn_queue"],
            tcp["tcp rx"],
            tcp["drop backlog"],
            counter("syn sent"),
            counter("syn accepted"),
            counter("syn rejected"),
            t0.elapsed().as_secs_f64()
        );
        println!("syn_flood: idle {idle:?}\nsyn_flood: mid-flood {during:?}");
        if !errors.is_empty() {
            let mut e = errors.clone();
            e.sort();
            e.dedup();
            println!("syn_flood: failures: {e:?}");
        }
        assert!(
            ok * 100 >= LEGITIMATE * 99,
            "only {ok} of {LEGITIMATE} legitimate connections succeeded under the flood"
        );
    });
}
