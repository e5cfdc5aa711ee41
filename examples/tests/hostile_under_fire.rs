//! The stack under fire: while a bulk echo from Linux runs (paced, with a
//! byte-by-byte check of what comes back), Linux scans the stack with
//! nmap (SYN, FIN, Xmas, NULL, ACK and UDP scans, OS detection), floods it
//! with hping3 (SYN, FIN, RST, ACK, UDP, ICMP; 5,000 each) and sends what
//! only a raw socket can (`hostile.py land`, `crafted`, `arp_spoof`, with
//! scapy): LAND packets, tiny, overlapping, teardrop and oversized fragments, a fragment flood
//! from spoofed sources, bad IP/TCP/UDP checksums, TCP option bombs, an
//! ARP flood, and spoofed ARP replies claiming Linux's address (ARP
//! poisoning: reported, not asserted).
//!
//! Afterwards the transfer must be complete and intact, the stack must
//! answer ping and accept new connections, every table must go back to
//! its size before the attacks (ARP apart: made-up neighbours may have
//! entries), tap_echo must not have panicked, and none of the frames it
//! sent may be malformed or carry a bad checksum. See `common` for the
//! skip policy.

mod common;

use std::time::{Duration, Instant};

use common::hostile::*;
use common::tcp::*;
use common::*;

const NMAP: &[&str] = &[
    "-n",
    "-Pn",
    "-T5",
    "--max-retries",
    "1",
    "--host-timeout",
    "60s",
    "-e",
    TAP,
];

#[test]
fn under_fire() {
    if !can_run_hostile(&["nmap", "hping3"]) {
        return;
    }
    in_netns(|| {
        let t0 = Instant::now();
        setup_tap();
        let mut echo = TapEcho::start("under_fire", GATEWAY_ARGS);
        wait_ping();
        let idle = echo.occupancy();
        println!("under_fire: idle occupancy {idle:?}");
        let linux_mac = tap_mac();
        let seed = seed("under_fire");
        // 64 KiB every 60 ms (about 1 MB/s): at least 8 MiB, and until the
        // attacks are over (at most 32 MiB, about 30 s).
        let bulk = BackgroundBulk::start(seed, 8 << 20, 32 << 20, Duration::from_millis(60));

        let long = Duration::from_secs(90);
        let mut timings = Vec::new();
        let mut timed = |name: &str, f: &mut dyn FnMut()| {
            let t = Instant::now();
            f();
            timings.push(format!("{name} {:.1}s", t.elapsed().as_secs_f64()));
        };

        // LAND: SYNs from the stack's own address and port to themselves.
        // A stack that takes them in answers itself and holds a SYN-queue
        // entry for about 63 s (its SYN-ACK retransmissions): the idle
        // check below then fails.
        timed("land", &mut || {
            hostile_py(&["land", TAP, &linux_mac, STACK_MAC], long);
        });

        // nmap: TCP SYN + UDP scans with OS detection, then FIN, Xmas,
        // NULL and ACK scans.
        timed("nmap -sS -sU -O", &mut || {
            let mut a = NMAP.to_vec();
            a.extend([
                "-sS",
                "-sU",
                "-O",
                "-p",
                "T:1-200,4242,U:1-20,4242",
                STACK_IP,
            ]);
            let out = attack("nmap", &a, long);
            let open: Vec<&str> = out.lines().filter(|l| l.contains("open")).collect();
            println!("under_fire: nmap: {open:?}");
        });
        // ARP poisoning while the transfer runs, then the truth a second
        // later.
        timed("arp spoof", &mut || {
            hostile_py(&["arp_spoof", TAP, &linux_mac, STACK_MAC, BOGUS_MAC], long);
        });
        for scan in ["-sF", "-sX", "-sN", "-sA"] {
            timed(&format!("nmap {scan}"), &mut || {
                let mut a = NMAP.to_vec();
                a.extend([scan, "-p", "1-200,4242", STACK_IP]);
                attack("nmap", &a, long);
            });
        }

        // hping3 floods, 5,000 packets each at 10,000 a second, from
        // Linux's own address (Linux resets the SYN-ACKs).
        for (name, flags) in [
            ("SYN", &["-S", "-p", "4242"][..]),
            ("FIN", &["-F", "-p", "4242"][..]),
            ("RST", &["-R", "-p", "4242"][..]),
            ("ACK", &["-A", "-p", "4242"][..]),
            ("UDP", &["--udp", "-p", "4242", "-d", "64"][..]),
            ("UDP closed port", &["--udp", "-p", "9", "-d", "64"][..]),
            ("ICMP", &["--icmp", "-d", "64"][..]),
        ] {
            timed(&format!("hping3 {name}"), &mut || {
                let mut a = vec!["-q", "-n", "-c", "5000", "-i", "u100", "-I", TAP];
                a.extend_from_slice(flags);
                a.push(STACK_IP);
                attack("hping3", &a, long);
            });
        }

        // What only a raw socket sends.
        timed("crafted", &mut || {
            hostile_py(&["crafted", TAP, &linux_mac, STACK_MAC], long);
        });
        let attacks_done = t0.elapsed();

        // The transfer went on through all of it.
        let r = bulk.finish(Duration::from_secs(120));
        assert_eq!(
            r.sent_hash, r.received_hash,
            "the echo's hash differs from what was sent"
        );
        println!(
            "under_fire: bulk echo of {:.1} MB intact in {:.1} s (hash {:#018x})",
            r.bytes as f64 / 1e6,
            r.elapsed.as_secs_f64(),
            r.sent_hash
        );
        // Still alive: ping and a new connection.
        ping(56, 3);
        echo_round_trip(b"still here after the attacks", Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("new connection after the attacks: {e}"));
        // Back to idle once the timers ran out: reassembly 15 s after the
        // crafted fragments, TIME-WAIT 2 s.
        let (after, waited) = wait_idle(&mut echo, &idle, Duration::from_secs(40));
        println!(
            "under_fire: idle again {:.1} s after the checks: {after:?}",
            waited.as_secs_f64()
        );
        assert_eq!(after["arp_incomplete"], 0, "{after:?}");
        // Linux, plus at most the 8 made-up neighbours that asked for the
        // stack's address.
        assert!(
            after["arp_entries"] <= idle["arp_entries"] + 8,
            "ARP entries: {after:?}"
        );
        assert!(echo.running(), "tap_echo died");
        let stopped = echo.stop();
        println!("{}", stopped.stdout);
        assert_no_panic(&stopped.stderr);

        // Our frames: nothing malformed, no bad checksum.
        let t = Instant::now();
        assert_no_corruption(&echo.pcap);
        // What the stack answered of the crafted packets (one tshark pass;
        // the sizes tell them from hping3's, which carry 64 bytes).
        let answers = fields(
            &echo.pcap,
            &format!(
                "eth.src == {STACK_MAC} && ((icmp.type == 0 && icmp.ident == 0x7001 && ip.len == 228) \
                 || (icmp.type == 0 && icmp.ident == 0x7300 && ip.len == 28) \
                 || (icmp.type == 0 && icmp.ident >= 0x7100 && icmp.ident < 0x7110 && ip.len == 92) \
                 || (tcp.flags.syn == 1 && tcp.ack_raw == 1 && tcp.dstport >= 40000 && tcp.dstport < 40100) \
                 || (udp.srcport == {ECHO_PORT} && udp.length == 20 && udp.dstport >= 40000 && udp.dstport < 40100))"
            ),
            &["icmp.ident", "tcp.dstport", "udp.dstport"],
        );
        let count = |f: &dyn Fn(&Vec<String>) -> bool| answers.iter().filter(|a| f(a)).count();
        let tiny = count(&|a| a[0] == "0x7001" || a[0] == "28673");
        let bad_ip = count(&|a| a[0] == "0x7300" || a[0] == "29440");
        let overlapping = count(&|a| a[0].starts_with("0x710") || a[0].starts_with("2908"));
        let bad_tcp = count(&|a| !a[1].is_empty());
        let bad_udp = count(&|a| !a[2].is_empty());
        println!(
            "under_fire: answers to crafted packets: ping in 8-byte fragments {tiny}, \
             overlapping-fragment pings {overlapping} of 16, bad IP checksum {bad_ip}, \
             bad TCP checksum {bad_tcp}, bad UDP checksum {bad_udp}"
        );
        assert_eq!(
            tiny, 1,
            "the ping in 8-byte fragments was not answered once: {answers:?}"
        );
        assert_eq!(
            (bad_ip, bad_tcp, bad_udp),
            (0, 0, 0),
            "the stack answered packets with bad checksums: {answers:?}"
        );

        // ARP poisoning: did the stack send to the made-up MAC?
        let poisoned = tshark_count(
            &echo.pcap,
            &format!("eth.src == {STACK_MAC} && eth.dst == {BOGUS_MAC}"),
        );
        println!(
            "under_fire: frames the stack sent to the spoofed MAC {BOGUS_MAC} \
             (ARP poisoning of Linux's entry, until the correction a second later): {poisoned}"
        );
        timings.push(format!("tshark {:.1}s", t.elapsed().as_secs_f64()));
        println!(
            "under_fire: attacks {:.1} s: {}",
            attacks_done.as_secs_f64(),
            timings.join(", ")
        );
        println!("under_fire: total {:.1} s", t0.elapsed().as_secs_f64());
    });
}
