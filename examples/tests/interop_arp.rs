//! ARP between `tap_echo` and the Linux kernel, both directions: Linux
//! resolves the stack (and again after its cache is flushed), the stack
//! resolves Linux (Linux holding a static entry, so the stack cannot learn
//! Linux's address from a request), and the stack announces its address at
//! start. Each test runs in its own network namespace; see `common`.

mod common;

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use common::*;

/// Linux's neighbour entry for 192.0.2.2 (`ip neigh show`), trimmed.
fn neigh() -> String {
    ip(&["neigh", "show", STACK_IP, "dev", TAP])
        .trim()
        .to_owned()
}

/// Insists that Linux holds a usable entry 192.0.2.2 -> the stack's MAC.
fn assert_resolved(when: &str) {
    let n = neigh();
    let words: Vec<&str> = n.split_whitespace().collect();
    assert!(
        words.windows(2).any(|w| w == ["lladdr", STACK_MAC]),
        "{when}: no lladdr {STACK_MAC} in '{n}'"
    );
    let state = words.last().copied().unwrap_or("");
    assert!(
        ["REACHABLE", "STALE", "DELAY", "PROBE"].contains(&state),
        "{when}: neighbour state of 192.0.2.2 is '{state}' ('{n}')"
    );
}

/// Insists that the first frame the stack sent is its gratuitous ARP
/// announcement of 192.0.2.2 (a broadcast request with sender and target
/// address 192.0.2.2, RFC 5227 §2.3).
fn assert_announced_first(pcap: &Path) {
    let ours = fields(
        pcap,
        &format!("eth.src == {STACK_MAC}"),
        &[
            "eth.dst",
            "arp.opcode",
            "arp.src.hw_mac",
            "arp.src.proto_ipv4",
            "arp.dst.proto_ipv4",
        ],
    );
    let first = ours.first().expect("the stack sent nothing");
    assert_eq!(
        first,
        &["ff:ff:ff:ff:ff:ff", "1", STACK_MAC, STACK_IP, STACK_IP],
        "the stack's first frame is not an ARP announcement of {STACK_IP}"
    );
}

#[test]
fn linux_resolves_the_stack_and_again_after_a_flush() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let linux_mac = tap_mac();
        let mut echo = TapEcho::start("arp_linux_resolves", &[]);
        ping(56, 2);
        assert_resolved("after ping");

        // Forget the stack's address, then make Linux ask again.
        ip(&["neigh", "del", STACK_IP, "dev", TAP]);
        ip(&["neigh", "flush", "dev", TAP]);
        let n = neigh();
        assert!(!n.contains("lladdr"), "entry survived the flush: '{n}'");
        ping(56, 2);
        assert_resolved("after flush and ping");
        // And a UDP echo works too with the new entry.
        let sock = UdpSocket::bind((LINUX_IP, 0)).expect("bind 192.0.2.1");
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        sock.send_to(b"after the flush", (STACK_IP, ECHO_PORT))
            .expect("send");
        let mut buf = [0u8; 64];
        let (n, from) = sock.recv_from(&mut buf).expect("echo after the flush");
        assert_eq!(&buf[..n], b"after the flush");
        assert_eq!(from.to_string(), format!("{STACK_IP}:{ECHO_PORT}"));

        echo.stop();
        assert_announced_first(&echo.pcap);
        // Linux asked (at least) twice, broadcasting or probing by unicast...
        let asked = fields(
            &echo.pcap,
            &format!(
                "arp.opcode == 1 && eth.src == {linux_mac} && arp.dst.proto_ipv4 == {STACK_IP}"
            ),
            &["arp.src.proto_ipv4"],
        );
        assert!(
            asked.len() >= 2,
            "Linux asked for {STACK_IP} {} time(s)",
            asked.len()
        );
        // ...and every answer of the stack was right.
        let replies = fields(
            &echo.pcap,
            &format!("arp.opcode == 2 && eth.src == {STACK_MAC}"),
            &[
                "eth.dst",
                "arp.src.hw_mac",
                "arp.src.proto_ipv4",
                "arp.dst.hw_mac",
                "arp.dst.proto_ipv4",
            ],
        );
        assert!(
            replies.len() >= 2,
            "the stack sent {} ARP replies",
            replies.len()
        );
        let want = [&linux_mac, STACK_MAC, STACK_IP, &linux_mac, LINUX_IP];
        for r in &replies {
            assert_eq!(r, &want, "ARP reply of the stack");
        }
        check_capture(&echo.pcap);
    });
}

#[test]
fn the_stack_resolves_linux() {
    if !can_run(&[]) {
        return;
    }
    in_netns(|| {
        setup_tap();
        let linux_mac = tap_mac();
        // Linux never asks for 192.0.2.2: the stack cannot learn Linux's
        // address from a request and has to ask itself.
        ip(&[
            "neigh",
            "replace",
            STACK_IP,
            "lladdr",
            STACK_MAC,
            "dev",
            TAP,
            "nud",
            "permanent",
        ]);
        let mut echo = TapEcho::start("arp_stack_resolves", &[]);

        let sock = UdpSocket::bind((LINUX_IP, 0)).expect("bind 192.0.2.1");
        let local = sock.local_addr().unwrap();
        // Up to 3 tries: a datagram Linux drops before it reaches the TAP
        // must not fail the test. Datagrams the stack received but did not
        // echo are caught below from the capture.
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 2048];
        let mut first = None;
        for _ in 0..3 {
            sock.send_to(b"who am I?", (STACK_IP, ECHO_PORT))
                .expect("send");
            match sock.recv_from(&mut buf) {
                Ok(r) => {
                    first = Some(r);
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    eprintln!("the_stack_resolves_linux: no echo within 2 s, sending again");
                }
                Err(e) => panic!("recv: {e}"),
            }
        }
        let (n, from) = first.unwrap_or_else(|| {
            panic!(
                "no echo for 3 datagrams (the stack has to resolve 192.0.2.1 first)\n{}",
                diagnostics()
            )
        });
        assert_eq!(&buf[..n], b"who am I?");
        assert_eq!(from.to_string(), format!("{STACK_IP}:{ECHO_PORT}"));
        // The stack now knows Linux: more datagrams come back at once.
        for i in 0..5u8 {
            sock.send_to(&[i; 100], (STACK_IP, ECHO_PORT))
                .expect("send");
            let (n, _) = sock.recv_from(&mut buf).expect("echo");
            assert_eq!(&buf[..n], &[i; 100][..]);
        }
        assert!(neigh().contains("PERMANENT"), "{}", neigh());

        let stopped = echo.stop();
        let pcap = &echo.pcap;
        assert_announced_first(pcap);
        let linux_asked = tshark(
            pcap,
            &format!("arp.opcode == 1 && eth.src == {linux_mac}"),
            &["frame.number"],
        );
        assert!(
            linux_asked.is_empty(),
            "Linux sent ARP requests: {linux_asked:?}"
        );
        // The stack's request for 192.0.2.1 (not counting its announcement)...
        let requests = fields(
            pcap,
            &format!(
                "arp.opcode == 1 && eth.src == {STACK_MAC} && arp.dst.proto_ipv4 == {LINUX_IP}"
            ),
            &[
                "eth.dst",
                "arp.src.hw_mac",
                "arp.src.proto_ipv4",
                "arp.dst.hw_mac",
            ],
        );
        assert!(!requests.is_empty(), "the stack never asked for {LINUX_IP}");
        for r in &requests {
            assert_eq!(
                r,
                &[
                    "ff:ff:ff:ff:ff:ff",
                    STACK_MAC,
                    STACK_IP,
                    "00:00:00:00:00:00"
                ]
            );
        }
        // ...Linux's answer...
        let answers = fields(
            pcap,
            &format!("arp.opcode == 2 && eth.src == {linux_mac}"),
            &[
                "eth.dst",
                "arp.src.hw_mac",
                "arp.src.proto_ipv4",
                "arp.dst.proto_ipv4",
            ],
        );
        assert!(
            answers.contains(&vec![
                STACK_MAC.into(),
                linux_mac.clone(),
                LINUX_IP.into(),
                STACK_IP.into()
            ]),
            "no ARP reply from Linux to the stack: {answers:?}"
        );
        // ...and every echo went to Linux's address.
        let echoes = fields(
            pcap,
            &format!("eth.src == {STACK_MAC} && udp.srcport == {ECHO_PORT}"),
            &["eth.dst", "ip.dst", "udp.dstport"],
        );
        // Every datagram that reached the stack was echoed, also the one
        // that had to wait for the ARP answer.
        let received = tshark(
            pcap,
            &format!("eth.src == {linux_mac} && udp.dstport == {ECHO_PORT}"),
            &["frame.number"],
        );
        assert!(received.len() >= 6, "datagrams received: {received:?}");
        assert_eq!(echoes.len(), received.len(), "echoes sent: {echoes:?}");
        assert_eq!(stopped.echo_counters(), (received.len() as u64, 0));
        for e in &echoes {
            assert_eq!(
                e,
                &[linux_mac.clone(), LINUX_IP.into(), local.port().to_string()]
            );
        }
        check_capture(pcap);
    });
}
