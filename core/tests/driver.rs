//! The driver contract (`phy::Device`: a busy driver keeps its frames with
//! the stack), `poll_at` scheduling, the counters and the configuration
//! report.

mod common;

use common::*;
use wolfip_core::config::{self, TX_FRAMES, UDP_SOCKETS};
use wolfip_core::wire::{EthernetAddress, IpProtocol};
use wolfip_core::{Duration, IfaceConfig, Instant, Stack};

/// How soon counts as "near" for a retry after a busy driver.
const NEAR: Duration = Duration::from_millis(10);

fn assert_near(at: Option<Instant>, now: Instant) {
    let at = at.expect("a deadline while frames wait");
    assert!(
        at > now && at <= now + NEAR,
        "poll_at {at:?} for now {now:?}: must be soon but not now (no spin)"
    );
}

/// `phy::Device::transmit`: a driver answering `TxBusy` keeps the frame
/// with the stack; the next transmit delivers the waiting frames, oldest
/// first; meanwhile `poll_at` asks to be run again soon (not "now", which
/// would spin the caller's loop).
#[test]
fn busy_driver_keeps_frames_and_delivers_them_in_order() {
    let (mut s, id) = stack_with_peer(1);
    let h = s.udp_open().unwrap();
    for i in 0..5u8 {
        s.udp_send_to(h, &[i], Some(sock(PEER_IP, 9)), T0).unwrap();
    }
    s.dispatch(T0);
    let mut dev = Capture {
        room: Some(2),
        ..Capture::new()
    };
    let f = s.transmit(T0, id, &mut dev);
    assert_eq!((f.sent, f.blocked), (2, true));
    assert_eq!(s.stats().eth.tx_busy, 1);
    assert_near(s.poll_at(T0), T0);

    // Still busy: nothing lost, nothing reordered.
    let f = s.transmit(T0 + ms(1), id, &mut dev);
    assert_eq!((f.sent, f.blocked), (0, true));
    assert_near(s.poll_at(T0 + ms(1)), T0 + ms(1));

    dev.room = None;
    let f = s.transmit(T0 + ms(2), id, &mut dev);
    assert_eq!((f.sent, f.blocked), (3, false));
    let order: Vec<u8> = dev
        .tx
        .iter()
        .map(|f| parse_udp(&parse_ip(f)).1[0])
        .collect();
    assert_eq!(order, [0, 1, 2, 3, 4]);
    assert!(
        s.poll_at(T0 + ms(2)).is_none_or(|t| t > T0 + ms(1000)),
        "idle once everything left"
    );
}

/// `Stack::poll` against a busy driver returns a near deadline.
#[test]
fn poll_with_busy_driver_returns_a_near_deadline() {
    let (mut s, id) = stack_with_peer(2);
    let h = s.udp_open().unwrap();
    s.udp_send_to(h, b"x", Some(sock(PEER_IP, 9)), T0).unwrap();
    let mut dev = Capture {
        room: Some(0),
        ..Capture::new()
    };
    assert_near(s.poll(T0, id, &mut dev), T0);
    dev.room = None;
    let next = s.poll(T0 + ms(1), id, &mut dev);
    assert_eq!(dev.tx.len(), 1);
    assert!(next.is_none_or(|t| t > T0 + ms(1000)));
}

/// More fragmented datagrams than frame slots with the driver busy: the
/// stack neither spins (`poll_at` not "now" while nothing can move) nor
/// loses anything; once the driver drains, every datagram leaves whole.
#[test]
fn datagrams_waiting_for_frame_slots_do_not_spin() {
    let (mut s, id) = stack_with_peer(3);
    let n = UDP_SOCKETS;
    assert!(3 * n > TX_FRAMES, "enough fragments to exhaust the slots");
    for i in 0..n {
        let h = s.udp_open().unwrap();
        s.udp_send_to(h, &pattern(i as u32, 3000), Some(sock(PEER_IP, 9)), T0)
            .unwrap();
    }
    let mut dev = Capture {
        room: Some(0),
        ..Capture::new()
    };
    let mut now = T0;
    for _ in 0..5 {
        s.poll(now, id, &mut dev);
        assert_near(s.poll_at(now), now);
        now += ms(1);
    }
    dev.room = None;
    for _ in 0..20 {
        match s.poll(now, id, &mut dev) {
            Some(t) if t <= now => {}
            _ => break,
        }
    }
    let frags: Vec<IpFrame> = dev.tx.iter().map(|f| parse_ip(f)).collect();
    assert_eq!(frags.len(), 3 * n);
    let mut datagrams: Vec<Vec<u8>> = frags
        .chunks(3)
        .map(|c| {
            let (ip, whole) = reassemble(c);
            parse_udp_payload(ip.src_addr, ip.dst_addr, &whole).1
        })
        .collect();
    datagrams.sort();
    let mut expected: Vec<Vec<u8>> = (0..n).map(|i| pattern(i as u32, 3000)).collect();
    expected.sort();
    assert_eq!(datagrams, expected);
}

/// A busy driver on one interface is not forgotten because another
/// interface's driver took its frames: `poll_at` still asks for a retry
/// soon rather than now.
#[test]
fn busy_on_one_interface_is_tracked_per_interface() {
    let (mut s, eth0) = stack_with_peer(4);
    let mac1 = EthernetAddress([0x02, 0, 0, 0, 1, 2]);
    let eth1 = s.add_interface(IfaceConfig::ethernet(mac1)).unwrap();
    s.set_ipv4(eth1, Some(cidr("198.51.100.2/24"))).unwrap();
    let h = s.udp_open().unwrap();
    s.udp_send_to(h, b"x", Some(sock(PEER_IP, 9)), T0).unwrap();
    s.dispatch(T0);
    let mut busy = Capture {
        room: Some(0),
        ..Capture::new()
    };
    let mut ok = Capture::new();
    assert!(s.transmit(T0, eth0, &mut busy).blocked);
    let f = s.transmit(T0, eth1, &mut ok);
    assert_eq!((f.sent, f.blocked), (1, false), "eth1's announcement");
    assert_near(s.poll_at(T0), T0);
    busy.room = None;
    assert_eq!(s.transmit(T0 + ms(1), eth0, &mut busy).sent, 1);
}

/// The counters (in the spirit of the IP-MIB of RFC 4293 §5, e.g.
/// ipSystemStatsInHdrErrors, and Zephyr's `net stats`) reflect exactly what
/// happened, and `Display` prints them.
#[test]
fn stats_reflect_what_happened() {
    let (mut s, id) = stack(5);
    let req = peer_arp_request();
    input(&mut s, T0, id, &req); // ARP in, reply out
    input(&mut s, T0, id, &ping_frame(1, 1, b"p")); // echo reply
    input(&mut s, T0, id, &udp_frame(1, 9, b"closed")); // port unreachable
    let mut bad = ping_frame(1, 2, b"p");
    bad[14 + 10] ^= 1;
    input(&mut s, T0, id, &bad); // IP checksum
    input(
        &mut s,
        T0,
        id,
        &ip_frame(PEER_IP, OTHER_IP, IpProtocol::Udp, &[0; 8]),
    ); // not ours
    input(&mut s, T0, id, &[0u8; 10]); // runt
    let st = *s.stats();
    assert_eq!((st.eth.rx, st.eth.tx), (6, 1 + 3), "announcement + 3 sent");
    assert_eq!(st.eth.drop_truncated, 1);
    assert_eq!(
        (st.arp.rx, st.arp.tx_requests, st.arp.tx_replies),
        (1, 1, 1)
    );
    assert_eq!((st.ip.rx, st.ip.tx), (4, 2));
    assert_eq!((st.ip.drop_checksum, st.ip.drop_not_for_us), (1, 1));
    assert_eq!((st.icmp.rx, st.icmp.tx), (1, 2));
    assert_eq!((st.icmp.echo_replies_sent, st.icmp.unreachables_tx), (1, 1));
    assert_eq!((st.udp.rx, st.udp.drop_no_socket), (0, 1));

    let text = format!("{}", s.stats());
    for prefix in ["eth ", "arp ", "ipv4 ", "frag ", "icmp ", "udp ", "tcp "] {
        assert!(
            text.lines().any(|l| l.starts_with(prefix)),
            "no {prefix:?} line in\n{text}"
        );
    }
    assert!(text.contains("echo replies 1"), "{text}");
    assert!(text.contains("checksum 1"), "{text}");
    assert_eq!(counters(s.stats()).len(), 96);
}

/// `config::report()`: every knob is printed with its value, and the
/// whole-stack size is `size_of::<Stack>()`, each part within it.
#[test]
fn config_report_prints_every_knob_and_the_stack_size() {
    let r = config::report();
    assert_eq!(r.stack_bytes, core::mem::size_of::<Stack>());
    let parts = r.tx_frames_bytes
        + r.loopback_bytes
        + r.reassembly_bytes
        + r.interfaces_bytes
        + r.routes_bytes
        + r.udp_bytes;
    assert!(parts <= r.stack_bytes);
    assert!(r.udp_socket_overhead < r.udp_bytes);
    let text = r.to_string();
    let knobs = [
        ("INTERFACES", config::INTERFACES),
        ("FRAME_SIZE", config::FRAME_SIZE),
        ("TX_FRAMES", config::TX_FRAMES),
        ("LOOPBACK_FRAMES", config::LOOPBACK_FRAMES),
        ("RX_BUDGET", config::RX_BUDGET),
        ("ROUTES", config::ROUTES),
        ("ARP_ENTRIES", config::ARP_ENTRIES),
        ("ARP_PENDING", config::ARP_PENDING),
        ("ARP_REACHABLE_SECS", config::ARP_REACHABLE_SECS),
        ("ARP_RETRY_MS", config::ARP_RETRY_MS),
        ("ARP_MAX_REQUESTS", config::ARP_MAX_REQUESTS),
        ("REASM_BUFFERS", config::REASM_BUFFERS),
        ("REASM_BUFFER_SIZE", config::REASM_BUFFER_SIZE),
        ("REASM_TIMEOUT_MS", config::REASM_TIMEOUT_MS),
        ("PMTU_ENTRIES", config::PMTU_ENTRIES),
        ("IP_TTL", config::IP_TTL),
        ("ICMP_ERROR_BURST", config::ICMP_ERROR_BURST),
        ("ICMP_ERRORS_PER_SEC", config::ICMP_ERRORS_PER_SEC),
        ("UDP_SOCKETS", config::UDP_SOCKETS),
        ("UDP_RX_BUFFER", config::UDP_RX_BUFFER),
        ("UDP_RX_DATAGRAMS", config::UDP_RX_DATAGRAMS),
        ("UDP_TX_BUFFER", config::UDP_TX_BUFFER),
        ("UDP_TX_DATAGRAMS", config::UDP_TX_DATAGRAMS),
        ("TCP_SYN_BACKLOG", config::TCP_SYN_BACKLOG),
        ("TCP_SYN_COOKIES", config::TCP_SYN_COOKIES),
    ];
    for (name, value) in knobs {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&format!("WOLFIP_{name}")))
            .unwrap_or_else(|| panic!("WOLFIP_{name} missing from\n{text}"));
        assert_eq!(
            line.split_whitespace().nth(1),
            Some(value.to_string().as_str()),
            "{line}"
        );
    }
    let whole = text.lines().find(|l| l.contains("whole stack")).unwrap();
    assert!(
        whole.contains(&format!("{} B", core::mem::size_of::<Stack>())),
        "{whole}"
    );
}
