//! `tap_echo` against the Linux kernel: ping of many sizes, UDP echo
//! through socat and through kernel sockets, ICMP port unreachable, and
//! tshark's verdict on every frame the stack sent. Each test runs in its
//! own network namespace on 192.0.2.0/24 (Linux 192.0.2.1, the stack
//! 192.0.2.2); see `common` for the skip policy.

mod common;

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn ping_of_many_sizes() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("ping_of_many_sizes", &[]);
        wait_ping();
        // 1472: the largest unfragmented request; 1473: the first fragmented
        // one; 8000 (+8 ICMP header) still fits the 8192-byte reassembly
        // buffer.
        for size in [0, 56, 1472, 1473, 4000, 8000] {
            ping(size, 3);
        }
        let stopped = echo.stop();
        // "icmp  rx N tx N | echo replies N ..." from the stack's counters:
        // 18 echoes here, at least one more from wait_ping.
        let icmp = stopped
            .stdout
            .lines()
            .find(|l| l.starts_with("icmp "))
            .unwrap_or_else(|| panic!("no icmp counters in:\n{}", stopped.stdout));
        let replies: u64 = icmp
            .split("echo replies ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no echo replies counter in: {icmp}"));
        assert!(replies >= 19, "{icmp}");

        // The replies to fragmented requests went out fragmented, each
        // fragment at most 1500 bytes, and reassemble to the right size.
        let frags = tshark(
            &echo.pcap,
            &format!("eth.src == {STACK_MAC} && (ip.flags.mf == 1 || ip.frag_offset > 0)"),
            &["ip.len"],
        );
        assert!(!frags.is_empty(), "no fragment sent by the stack");
        for len in &frags {
            let len: usize = len.parse().unwrap();
            assert!(len <= 1500, "fragment of {len} bytes");
        }
        let replies = tshark(
            &echo.pcap,
            &format!("eth.src == {STACK_MAC} && icmp.type == 0"),
            &["ip.reassembled.length"],
        );
        for (size, want) in [(1473, 3), (4000, 3), (8000, 3)] {
            let n = replies
                .iter()
                .filter(|r| **r == (size + 8).to_string())
                .count();
            assert_eq!(
                n,
                want,
                "reassembled replies of {} bytes: {replies:?}",
                size + 8
            );
        }
        check_capture(&echo.pcap);
    });
    // The namespace, and the TAP with it, never existed for the host.
    let host = Command::new("ip")
        .args(["link", "show", TAP])
        .output()
        .expect("run ip");
    assert!(
        !host.status.success(),
        "{TAP} leaked into the host namespace"
    );
}

#[test]
fn udp_echo_through_socat() {
    if !can_run(&["socat"]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("udp_echo_through_socat", &[]);
        wait_ping();
        let mut rng = Rng::from_time("udp_echo_through_socat");
        let sizes = [1usize, 100, 1472, 3000, 4000];
        for size in sizes {
            let data = rng.bytes(size);
            let (path, file) = stdin_from("udp_echo_through_socat", &data);
            let mut cmd = Command::new("socat");
            cmd.args([
                "-b",
                "65536",
                "-t",
                "2",
                "-",
                &format!("UDP:{STACK_IP}:{ECHO_PORT}"),
            ]);
            let out = run_with_stdin(cmd, Stdio::from(file), Duration::from_secs(20));
            let _ = std::fs::remove_file(&path);
            assert!(
                out.status.success(),
                "socat ({size} bytes): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                out.stdout.len(),
                size,
                "echo of {size} bytes has the wrong length"
            );
            assert!(
                out.stdout == data,
                "echo of {size} bytes differs from what was sent"
            );
        }
        let stopped = echo.stop();
        assert_eq!(
            stopped.echo_counters(),
            (sizes.len() as u64, 0),
            "{}",
            stopped.stdout
        );

        // Each echo left the stack once with the right UDP length (tshark
        // shows the reassembled datagram on its last fragment).
        let mut lens: Vec<usize> = tshark(
            &echo.pcap,
            &format!("eth.src == {STACK_MAC} && udp.srcport == {ECHO_PORT}"),
            &["udp.length"],
        )
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
        lens.sort_unstable();
        let want: Vec<usize> = sizes.iter().map(|s| s + 8).collect();
        assert_eq!(lens, want, "UDP lengths of the echoes");
        check_capture(&echo.pcap);
    });
}

/// Sends `payload` on the connected `sock` and insists that the very same
/// bytes come back.
fn echo_once(sock: &UdpSocket, payload: &[u8], what: &str) {
    sock.send(payload)
        .unwrap_or_else(|e| panic!("{what}: send: {e}"));
    let mut buf = vec![0u8; 65536];
    let n = sock
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("{what}: no echo: {e}\n{}", diagnostics()));
    assert_eq!(n, payload.len(), "{what}: echo length");
    assert!(buf[..n] == *payload, "{what}: echo differs");
}

#[test]
fn udp_echo_of_many_datagrams_from_a_kernel_socket() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("udp_many", &[]);
        wait_ping();
        let mut rng = Rng::from_time("udp_many");
        let sock = UdpSocket::bind((LINUX_IP, 0)).expect("bind 192.0.2.1");
        sock.connect((STACK_IP, ECHO_PORT)).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut sent = 0u64;

        // One at a time: 200 unfragmented, 20 fragmented (up to the 4096
        // bytes a socket of the stack can hold).
        for i in 0..220 {
            let size = if i < 200 {
                rng.range(1, 1472)
            } else {
                rng.range(1473, 4000)
            };
            echo_once(
                &sock,
                &rng.bytes(size),
                &format!("datagram {i} ({size} bytes)"),
            );
            sent += 1;
        }

        // A burst of 8 before reading: what one socket of the stack holds
        // by default (8 datagrams, 4096 bytes: at most 512 each here; more
        // is dropped and counted as queue-full, by design).
        let burst: Vec<Vec<u8>> = (0..8)
            .map(|_| {
                let n = rng.range(1, 512);
                rng.bytes(n)
            })
            .collect();
        for p in &burst {
            sock.send(p).expect("send burst");
            sent += 1;
        }
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        for i in 0..burst.len() {
            let n = sock
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("burst echo {i}: {e}"));
            got.push(buf[..n].to_vec());
        }
        let (mut a, mut b) = (burst.clone(), got);
        a.sort();
        b.sort();
        assert!(a == b, "the burst's echoes differ from what was sent");

        let stopped = echo.stop();
        assert_eq!(stopped.echo_counters(), (sent, 0), "{}", stopped.stdout);
        check_capture(&echo.pcap);
    });
}

#[test]
fn udp_to_a_closed_port_gets_port_unreachable() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let mut echo = TapEcho::start("udp_closed_port", &[]);
        wait_ping();

        // A connected kernel socket learns of the ICMP error as
        // ECONNREFUSED on its next call.
        let sock = UdpSocket::bind((LINUX_IP, 0)).expect("bind 192.0.2.1");
        let local = sock.local_addr().unwrap().port();
        sock.connect((STACK_IP, 9)).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let t0 = Instant::now();
        let mut refused = false;
        let mut buf = [0u8; 64];
        for _ in 0..3 {
            match sock.send(b"anyone on port 9?") {
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    refused = true;
                    break;
                }
                Err(e) => panic!("send: {e}"),
                Ok(_) => {}
            }
            match sock.recv(&mut buf) {
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    refused = true;
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("recv: {e}"),
                Ok(n) => panic!("port 9 answered {n} bytes"),
            }
        }
        assert!(refused, "no ECONNREFUSED after 3 datagrams to 192.0.2.2:9");

        // A flood toward the closed port: ICMP errors are rate limited
        // (burst 10, then 10 per second by default), but the burst is sent.
        let flood = UdpSocket::bind((LINUX_IP, 0)).expect("bind 192.0.2.1");
        for i in 0..40u8 {
            flood.send_to(&[i; 32], (STACK_IP, 9)).expect("send flood");
        }
        std::thread::sleep(Duration::from_millis(300));
        let window = t0.elapsed();
        let stopped = echo.stop();
        assert_eq!(stopped.echo_counters(), (0, 0));

        let unreach = tshark(
            &echo.pcap,
            &format!("eth.src == {STACK_MAC} && icmp.type == 3 && icmp.code == 3"),
            &["ip.src", "ip.dst", "udp.srcport", "udp.dstport"],
        );
        let first = format!("{STACK_IP},{LINUX_IP}\t{LINUX_IP}\t{local}\t9");
        // Both IP headers (outer and quoted) show up in ip.src / ip.dst.
        let first_alt = format!("{STACK_IP},{LINUX_IP}\t{LINUX_IP},{STACK_IP}\t{local}\t9");
        assert!(
            unreach.iter().any(|l| *l == first || *l == first_alt),
            "no ICMP port unreachable quoting {LINUX_IP}:{local} -> :9 in {unreach:?}"
        );
        // The burst (shared with the datagrams above) is spent, then no
        // more than the rate allows.
        let flood_port = flood.local_addr().unwrap().port().to_string();
        let flooded = unreach
            .iter()
            .filter(|l| l.contains(&format!("\t{flood_port}\t9")))
            .count();
        let total = unreach.len();
        let max = 10 + 10 * (window.as_secs() as usize + 1);
        assert!(flooded >= 1, "no port unreachable for the flood");
        assert!(
            (10..=max.min(40)).contains(&total),
            "{total} port unreachables for 40+ datagrams in {window:?} (want 10..={max})"
        );
        check_capture(&echo.pcap);
    });
}

/// A frame from `src` (MAC) to 02:00:00:00:00:02: IPv4 192.0.2.2 ->
/// 192.0.2.1, UDP 4242 -> 5555 with `payload`, and correct checksums.
fn udp_frame(src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    let udp_len = (8 + payload.len()) as u16;
    let mut udp = Vec::new();
    udp.extend_from_slice(&4242u16.to_be_bytes());
    udp.extend_from_slice(&5555u16.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let ck = l4_checksum(17, &udp);
    udp[6..8].copy_from_slice(&(if ck == 0 { 0xffff } else { ck }).to_be_bytes());
    ipv4_frame(src, 17, &udp)
}

/// The positive control of [`check_capture`]: the very same tshark query
/// reports hand-made frames from our MAC with a bad IP or UDP checksum or
/// cut short, and nothing for a good frame or for a bad one from another
/// MAC.
#[test]
fn tshark_check_reports_bad_checksums() {
    if !tools_available(&["tshark"]) {
        return;
    }
    const OURS: [u8; 6] = [0x02, 0x57, 0x49, 0x50, 0x00, 0x01];
    const OTHER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x99];
    let good = udp_frame(OURS, b"a perfectly fine datagram");
    let mut bad_ip = good.clone();
    bad_ip[14 + 10] ^= 0x5a; // IP header checksum
    let mut bad_udp = good.clone();
    bad_udp[14 + 20 + 6] ^= 0x5a; // UDP checksum
    let mut bad_ip_other = udp_frame(OTHER, b"not ours");
    bad_ip_other[14 + 10] ^= 0x5a;
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 10); // shorter than its IP total length
    let pcap = temp_path("tshark_control", "pcap");
    write_pcap(
        &pcap,
        &[bad_ip, good.clone(), bad_udp, bad_ip_other, good, truncated],
    );

    let problems = capture_problems(&pcap, STACK_MAC);
    let frames: Vec<&str> = problems
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let all = tshark(&pcap, "frame", &["frame.number"]);
    let _ = std::fs::remove_file(&pcap);
    assert_eq!(all.len(), 6, "tshark did not read the hand-made capture");
    assert_eq!(frames, ["1", "3", "6"], "tshark's report: {problems:?}");
    assert!(
        problems[0].to_lowercase().contains("checksum"),
        "{problems:?}"
    );
    assert!(
        problems[1].to_lowercase().contains("checksum"),
        "{problems:?}"
    );
}
