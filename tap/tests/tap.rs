//! TAP device tests against the real Linux stack, each inside a private
//! network namespace (so the host's interfaces are never touched). Only the
//! documentation range 192.0.2.0/24 is used; every wait is bounded.
//!
//! Without root or `/dev/net/tun` the tests print why and pass, unless the
//! environment variable `CI` is `true`, in which case they fail.

use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use wolfip_core::phy::Device;
use wolfip_core::time::Instant as StackInstant;
use wolfip_tap::{netns, Clock, TapDevice};

const TAP_IP: [u8; 4] = [192, 0, 2, 1];
const PEER_IP: [u8; 4] = [192, 0, 2, 2];
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

/// Whether the privileged tests can run here; see the module docs.
fn privileged() -> bool {
    if netns::is_root() && netns::tun_available() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("needs root and /dev/net/tun (CI=true: not skipping)");
    }
    eprintln!("skipped: needs root and /dev/net/tun");
    false
}

/// Runs `f` on a fresh thread moved into its own network namespace.
fn in_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        netns::unshare_net().expect("unshare_net");
        f()
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Runs `ip ARGS` (from the calling thread, hence in its namespace).
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Opens wtest0, brings it up as 192.0.2.1/24 with a static neighbour
/// 192.0.2.2 at 02:00:00:00:00:02.
fn setup_tap() -> TapDevice {
    let tap = TapDevice::open("wtest0").expect("open TAP");
    assert_eq!(tap.name(), "wtest0");
    tap.set_up().expect("set_up");
    ip(&["addr", "add", "192.0.2.1/24", "dev", "wtest0"]);
    ip(&[
        "neigh",
        "add",
        "192.0.2.2",
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        "wtest0",
    ]);
    tap
}

/// Reads frames until one satisfies `want` or `limit` passes (at most a few
/// hundred frames). Other frames (IPv6 router solicitations, MLD, ...) are
/// skipped.
fn wait_frame(
    tap: &mut TapDevice,
    clock: &Clock,
    limit: Duration,
    want: impl Fn(&[u8]) -> bool,
) -> Option<Vec<u8>> {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 2048];
    for _ in 0..500 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if !tap.wait_readable(Some(left)).expect("poll") {
            continue;
        }
        while let Some(n) = tap.receive(clock.now(), &mut buf) {
            if want(&buf[..n]) {
                return Some(buf[..n].to_vec());
            }
        }
    }
    None
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// Whether `f` is an IPv4/UDP frame to port `port`.
fn is_udp_to(f: &[u8], port: u16) -> bool {
    if f.len() < 14 + 20 + 8 || be16(&f[12..]) != 0x0800 || f[14 + 9] != 17 {
        return false;
    }
    let ihl = usize::from(f[14] & 0x0f) * 4;
    f.len() >= 14 + ihl + 8 && be16(&f[14 + ihl + 2..]) == port
}

/// Whether `f` is an ARP reply.
fn is_arp_reply(f: &[u8]) -> bool {
    f.len() >= 42 && be16(&f[12..]) == 0x0806 && be16(&f[20..]) == 2
}

/// An ARP request from 02:00:00:00:00:02 / 192.0.2.2 for `target`, padded
/// to the 60-byte Ethernet minimum.
fn arp_request(target: [u8; 4]) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&[0xff; 6]); // broadcast
    f.extend_from_slice(&PEER_MAC);
    f.extend_from_slice(&[0x08, 0x06]); // ARP
    f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]); // Ethernet/IPv4, request
    f.extend_from_slice(&PEER_MAC);
    f.extend_from_slice(&PEER_IP);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&target);
    f.resize(60, 0);
    f
}

#[test]
fn udp_from_linux_arrives_and_arp_is_answered() {
    if !privileged() {
        return;
    }
    in_netns(|| {
        let clock = Clock::new();
        let mut tap = setup_tap();

        // Linux -> TAP: a UDP datagram to the static neighbour.
        let sock = UdpSocket::bind((Ipv4Addr::from(TAP_IP), 0)).expect("bind");
        let src_port = sock.local_addr().unwrap().port();
        let payload = b"hello wolfip";
        sock.send_to(payload, (Ipv4Addr::from(PEER_IP), 9999))
            .expect("send_to");
        let f = wait_frame(&mut tap, &clock, Duration::from_secs(5), |f| {
            is_udp_to(f, 9999)
        })
        .expect("UDP frame seen on the TAP within 5 s");
        assert_eq!(
            &f[0..6],
            &PEER_MAC,
            "destination MAC from the static neighbour"
        );
        let tap_mac: [u8; 6] = f[6..12].try_into().unwrap();
        assert_eq!(tap_mac[0] & 1, 0, "unicast source MAC");
        assert_eq!(be16(&f[12..]), 0x0800);
        let ip = &f[14..];
        assert_eq!(ip[0] >> 4, 4);
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        assert_eq!(
            usize::from(be16(&ip[2..])),
            ihl + 8 + payload.len(),
            "IP total length"
        );
        assert_eq!(ip[9], 17);
        assert_eq!(&ip[12..16], &TAP_IP);
        assert_eq!(&ip[16..20], &PEER_IP);
        let udp = &ip[ihl..];
        assert_eq!(be16(&udp[0..]), src_port);
        assert_eq!(be16(&udp[2..]), 9999);
        assert_eq!(usize::from(be16(&udp[4..])), 8 + payload.len());
        assert_eq!(&udp[8..8 + payload.len()], payload);

        // TAP -> Linux: an ARP request for 192.0.2.1 is answered.
        let now = clock.now();
        tap.transmit(now, &arp_request(TAP_IP)).expect("transmit");
        assert_eq!(tap.stats().tx_frames, 1);
        let r = wait_frame(&mut tap, &clock, Duration::from_secs(5), is_arp_reply)
            .expect("ARP reply within 5 s");
        assert_eq!(&r[0..6], &PEER_MAC);
        assert_eq!(&r[6..12], &tap_mac);
        assert_eq!(&r[14..22], &[0, 1, 0x08, 0x00, 6, 4, 0, 2]);
        assert_eq!(&r[22..28], &tap_mac, "sender MAC");
        assert_eq!(&r[28..32], &TAP_IP, "sender IP");
        assert_eq!(&r[32..38], &PEER_MAC, "target MAC");
        assert_eq!(&r[38..42], &PEER_IP, "target IP");
        assert!(tap.stats().rx_frames >= 2);
    });
    // The namespace (and wtest0 with it) never existed for the host.
    let host = Command::new("ip")
        .args(["link", "show", "wtest0"])
        .output()
        .expect("run ip");
    assert!(
        !host.status.success(),
        "wtest0 leaked into the host namespace"
    );
}

#[test]
fn oversize_frames_are_dropped_and_counted() {
    if !privileged() {
        return;
    }
    in_netns(|| {
        let clock = Clock::new();
        let mut tap = setup_tap();
        let sock = UdpSocket::bind((Ipv4Addr::from(TAP_IP), 0)).expect("bind");
        sock.send_to(&[0x55; 1000], (Ipv4Addr::from(PEER_IP), 9999))
            .expect("send_to");
        assert!(tap
            .wait_readable(Some(Duration::from_secs(5)))
            .expect("poll"));
        // Nothing fits 20 bytes except nothing: every frame is dropped.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut small = [0u8; 20];
        for _ in 0..500 {
            assert_eq!(tap.receive(clock.now(), &mut small), None);
            if tap.stats().rx_dropped_oversize > 0 || Instant::now() > deadline {
                break;
            }
            let _ = tap.wait_readable(Some(Duration::from_millis(100)));
        }
        assert!(tap.stats().rx_dropped_oversize >= 1, "{:?}", tap.stats());
        assert_eq!(tap.stats().rx_frames, 0);
    });
}

#[test]
fn down_link_mtu_loopback_and_timeouts() {
    if !privileged() {
        return;
    }
    in_netns(|| {
        // unshare_net brought lo up: 127.0.0.1 works.
        let a = UdpSocket::bind("127.0.0.1:0").expect("bind lo");
        a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        a.send_to(b"ping", a.local_addr().unwrap())
            .expect("send on lo");
        let mut buf = [0u8; 16];
        assert_eq!(a.recv(&mut buf).expect("recv on lo"), 4);

        let mut tap = TapDevice::open("wtest1").expect("open TAP");
        tap.set_mtu(1400).expect("set_mtu");
        assert_eq!(tap.mtu().expect("mtu"), 1400);
        // Down: the kernel sends nothing, so the wait times out.
        let t0 = Instant::now();
        assert!(!tap
            .wait_readable(Some(Duration::from_millis(50)))
            .expect("poll"));
        assert!(t0.elapsed() >= Duration::from_millis(45));
        // Writing to a down interface fails in the kernel: counted, dropped.
        let now = StackInstant::ZERO;
        assert_eq!(tap.transmit(now, &arp_request(TAP_IP)), Ok(()));
        let s = tap.stats();
        assert_eq!(s.tx_frames + s.tx_errors, 1, "{s:?}");
        let mut frame = [0u8; 1514];
        assert_eq!(tap.receive(now, &mut frame), None);

        // Attaching by name to an existing TAP fails while it is in use
        // (no IFF_MULTI_QUEUE), and works again once it is released.
        assert!(TapDevice::open("wtest1").is_err());
        tap.set_up().expect("set_up");
        assert!(tap
            .wait_writable(Some(Duration::from_secs(1)))
            .expect("poll"));
        tap.set_down().expect("set_down");
        drop(tap);
        // The kernel lets go of a closed TAP's queue asynchronously: under
        // load an attach right after the close can still see EBUSY. Retry
        // for at most a second.
        let t0 = Instant::now();
        let again = loop {
            match TapDevice::open("wtest1") {
                Ok(t) => break t,
                Err(e)
                    if e.raw_os_error() == Some(libc::EBUSY)
                        && t0.elapsed() < Duration::from_secs(1) =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("reopen: {e:?}"),
            }
        };
        assert_eq!(again.name(), "wtest1");
    });
}
