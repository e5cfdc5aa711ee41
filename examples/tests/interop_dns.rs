//! The DNS resolver of the core, and `tap_echo --dhcp`, against dnsmasq on
//! the Linux side of a TAP device. Each test runs in its own network
//! namespace (see `common`), on 198.51.100.0/24 or 203.0.113.0/24, drives
//! the stack itself with the real clock (or runs `tap_echo --dhcp`), and
//! checks both what the stack reports and what dnsmasq logged. The DHCP
//! client's own tests are in `interop_dhcp.rs`.

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use common::dhcp::*;
use common::*;
use wolfip_core::dns::{DnsAnswer, DnsError};
use wolfip_core::{Event, Ipv4Cidr};

const HOSTNAME: &str = "wolfip-test";
const NET1_LINUX: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const NET2_LINUX: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);

/// Linux pings `addr` once per 0.2 s, `count` times; insists on every
/// reply (for a stack that runs in another process).
fn ping_addr(addr: Ipv4Addr, count: u32) {
    let mut cmd = Command::new("ping");
    cmd.args(["-n", "-c", &count.to_string(), "-i", "0.2", "-W", "2"]);
    cmd.arg(addr.to_string());
    let out = run(cmd, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(&format!(", {count} received")),
        "ping {addr}:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tap_echo_takes_its_address_from_dhcp() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        ip(&["tuntap", "add", "dev", TAP, "mode", "tap"]);
        ip(&["addr", "add", &format!("{NET1_LINUX}/24"), "dev", TAP]);
        ip(&["link", "set", TAP, "up"]);
        let server = start_dnsmasq(NET1_LINUX, |c| {
            c.arg("--no-ping")
                .arg("--dhcp-option=option:T1,3")
                .arg("--dhcp-option=option:T2,6")
        });
        let mut echo = TapEcho::start_dhcp("tap_echo_dhcp", &["--hostname", "echo-host"]);
        let bound = echo.wait_line("tap_echo: DHCP bound: ", Duration::from_secs(15));
        eprintln!("{bound}");
        // "tap_echo: DHCP bound: 198.51.100.1xx/24 from server ..."
        let cidr: Ipv4Cidr = bound["tap_echo: DHCP bound: ".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("no address in {bound}"));
        let addr = cidr.address();
        assert_eq!(
            bound,
            format!(
                "tap_echo: DHCP bound: {cidr} from server {NET1_LINUX}, router {NET1_LINUX}, \
                 DNS {NET1_LINUX}, lease 120 s (T1 3 s, T2 6 s)"
            )
        );
        ping_addr(addr, 3);
        let sock = UdpSocket::bind((NET1_LINUX, 0)).expect("bind");
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        sock.send_to(b"leased", (addr, ECHO_PORT)).expect("send");
        let mut buf = [0u8; 64];
        let (n, from) = sock.recv_from(&mut buf).expect("UDP echo");
        assert_eq!((&buf[..n], from.ip()), (&b"leased"[..], addr.into()));

        let renewed = echo.wait_line("tap_echo: DHCP renewed: ", Duration::from_secs(6));
        assert!(
            renewed.starts_with(&format!("tap_echo: DHCP renewed: {cidr} ")),
            "{renewed}"
        );
        // Still serving after the renewal.
        ping_addr(addr, 1);

        let stopped = echo.stop();
        assert!(
            stopped
                .stdout
                .contains(&format!("tap_echo: DHCP lease {cidr} released")),
            "{}",
            stopped.stdout
        );
        let dhcp = stopped.stack_counters("dhcp");
        assert_eq!(dhcp["leases"], 1, "{dhcp:?}");
        assert!(dhcp["leases renewals"] >= 1, "{dhcp:?}");
        let release = format!("DHCPRELEASE({TAP}) {addr} {STACK_MAC}");
        server
            .wait_for_since(0, Duration::from_secs(3), |l| l.contains(&release))
            .unwrap_or_else(|| panic!("no {release} in:\n{}", server.log().join("\n")));
        let log = server.log();
        let lines = dhcp_lines(&log);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("DHCPACK") && l.trim_end().ends_with("echo-host")),
            "{lines:#?}"
        );
        assert_eq!(
            lines.last().map(|l| l.trim_end().to_owned()),
            Some(release),
            "{lines:#?}"
        );
        check_capture(&echo.pcap);
    });
}

/// The host list of the DNS tests.
const NAS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
const PRINTER: [Ipv4Addr; 2] = [
    Ipv4Addr::new(198, 51, 100, 21),
    Ipv4Addr::new(198, 51, 100, 22),
];

/// dnsmasq with a host list under `test.` (answered locally: unknown names
/// there get NXDOMAIN), a CNAME, and TTLs long enough to cache (dnsmasq
/// gives its local names TTL 0 by default).
fn dns_server(
    c: wolfip_examples::dnsmasq::DnsmasqConfig,
) -> wolfip_examples::dnsmasq::DnsmasqConfig {
    c.arg("--no-ping")
        .arg("--local-ttl=300")
        .host(NAS, "nas.test")
        .host(PRINTER[0], "printer.test")
        .host(PRINTER[1], "printer.test")
        .cname("www.test", "nas.test")
        .local("test")
}

/// What a lookup gave and how long it took.
struct Lookup {
    result: Result<DnsAnswer, DnsError>,
    /// Stack time from the query to its outcome.
    took: wolfip_core::Duration,
    /// Whether `Event::DnsDone` reported it.
    event: bool,
    /// Whether it was ready as soon as it was asked (cache, literal).
    immediate: bool,
}

/// Resolves `name` while driving the stack (at most `limit`).
fn lookup(rig: &mut DhcpRig, name: &str, limit: Duration) -> Lookup {
    let start = rig.clock.now();
    let q = rig
        .stack
        .dns_query(name)
        .unwrap_or_else(|e| panic!("dns_query {name}: {e}"));
    let seen = rig.events.len();
    if let std::task::Poll::Ready(result) = rig.stack.dns_result(q) {
        return Lookup {
            result,
            took: wolfip_core::Duration::ZERO,
            event: false,
            immediate: true,
        };
    }
    let (result, at) = rig.run_until(limit, &format!("resolving {name}"), |s, now, _| {
        match s.dns_result(q) {
            std::task::Poll::Ready(r) => Some((r, now)),
            std::task::Poll::Pending => None,
        }
    });
    // A query answered at once (cache, literal) has no event; the others
    // have exactly one, read in the poll before dns_result said Ready.
    let event = rig.events[seen..]
        .iter()
        .any(|(_, e)| *e == Event::DnsDone(q));
    Lookup {
        result,
        took: at.saturating_since(start),
        event,
        immediate: false,
    }
}

fn addresses(l: &Lookup, name: &str) -> Vec<Ipv4Addr> {
    match &l.result {
        Ok(a) => a.addresses.iter().copied().collect(),
        Err(e) => panic!("{name}: {e:?}"),
    }
}

#[test]
fn names_resolve_through_the_server_learned_by_dhcp() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        let mut rig = DhcpRig::start("dns_names", NET1_LINUX, dns_server);
        assert_eq!(
            rig.stack.dns_query("nas.test").err(),
            Some(wolfip_core::dns::DnsStartError::NoServers),
            "no server before the lease"
        );
        rig.dhcp_start(Some(HOSTNAME));
        let lease = rig.wait_bound(Duration::from_secs(10));
        assert_eq!(rig.stack.dns_servers().collect::<Vec<_>>(), [NET1_LINUX]);
        let me = lease.address.address();

        let nas = lookup(&mut rig, "nas.test", Duration::from_secs(5));
        assert_eq!(addresses(&nas, "nas.test"), [NAS]);
        assert!(nas.event && !nas.immediate, "no DnsDone event");
        let ttl = nas.result.as_ref().unwrap().ttl;
        assert!((299..=300).contains(&ttl), "ttl {ttl}");
        eprintln!("names_resolve: nas.test in {}", nas.took);

        // Two records for one name; a CNAME followed to its target; our own
        // name, which dnsmasq learned from our DHCP request.
        let printer = lookup(&mut rig, "printer.test", Duration::from_secs(5));
        let mut got = addresses(&printer, "printer.test");
        got.sort();
        assert_eq!(got, PRINTER);
        let www = lookup(&mut rig, "www.test", Duration::from_secs(5));
        assert_eq!(addresses(&www, "www.test"), [NAS]);
        let own = lookup(&mut rig, HOSTNAME, Duration::from_secs(5));
        assert_eq!(addresses(&own, HOSTNAME), [me]);

        // An unknown name.
        let unknown = lookup(&mut rig, "nothere.test", Duration::from_secs(5));
        assert_eq!(unknown.result, Err(DnsError::NxDomain));
        assert!(unknown.event);
        // A name outside `test.`: dnsmasq has no upstream server to ask
        // and refuses (one server: the query ends at once).
        let outside = lookup(&mut rig, "nothere.example", Duration::from_secs(5));
        assert_eq!(outside.result, Err(DnsError::Refused));

        // nas.test again: from the cache, no query.
        let before = rig.stack.stats().dns;
        let again = lookup(&mut rig, "nas.test", Duration::from_secs(1));
        assert_eq!(addresses(&again, "nas.test"), [NAS]);
        assert!(again.immediate, "a cached answer is ready at once");
        assert!(!again.event, "a cached answer has no event");
        let after = rig.stack.stats().dns;
        assert_eq!(after.tx, before.tx, "a query went out for a cached name");
        assert_eq!(after.cache_hits, before.cache_hits + 1);
        let d = after;
        assert_eq!(
            (d.tx, d.rx, d.retransmits, d.nxdomain, d.servfail),
            (6, 6, 0, 1, 1),
            "{d:?}"
        );
        assert_eq!(d.drop_malformed + d.drop_mismatch + d.timeouts, 0, "{d:?}");

        // What dnsmasq saw: one query per name, from our address (it logs
        // in order, a little after it answered).
        rig.wait_server_lines(&["is REFUSED"], 1, Duration::from_secs(3));
        let from = format!("from {me}");
        for name in [
            "nas.test",
            "printer.test",
            "www.test",
            HOSTNAME,
            "nothere.test",
            "nothere.example",
        ] {
            let asked = rig.server_lines(&[&format!("query[A] {name} "), &from]);
            assert_eq!(asked.len(), 1, "{name}: {asked:?}");
        }
        assert!(!rig.server_lines(&["www.test is <CNAME>"]).is_empty());
        assert!(!rig.server_lines(&["nothere.test is NXDOMAIN"]).is_empty());
        rig.check_capture();
        let queries = fields(
            &rig.pcap,
            &format!("eth.src == {STACK_MAC} && dns"),
            &[
                "dns.qry.name",
                "dns.qry.type",
                "udp.dstport",
                "ip.dst",
                "udp.srcport",
                "dns.id",
            ],
        );
        assert_eq!(queries.len(), 6, "{queries:?}");
        for q in &queries {
            assert_eq!(q[1..4], ["1", "53", &NET1_LINUX.to_string()], "{q:?}");
            let port: u16 = q[4].parse().unwrap();
            assert!(
                port >= 49152,
                "source port {port} outside the dynamic range"
            );
        }
        // A fresh source port and ID for each query (RFC 5452 §9.2).
        let distinct = |i: usize| {
            let mut v: Vec<&str> = queries.iter().map(|q| q[i].as_str()).collect();
            v.sort();
            v.dedup();
            v.len()
        };
        assert!(distinct(4) >= 5 && distinct(5) >= 5, "{queries:?}");
    });
}

#[test]
fn lookups_time_out_when_the_server_is_gone() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        use wolfip_core::config::{DNS_ATTEMPTS, DNS_TIMEOUT_MS};
        let mut rig = DhcpRig::start("dns_timeout", NET2_LINUX, |c| {
            dns_server(c).host(Ipv4Addr::new(203, 0, 113, 30), "late.test")
        });
        rig.dhcp_start(None);
        rig.wait_bound(Duration::from_secs(10));
        let nas = lookup(&mut rig, "nas.test", Duration::from_secs(5));
        assert_eq!(addresses(&nas, "nas.test"), [NAS]);

        rig.server.kill();
        let before = rig.stack.stats().dns;
        // One server: DNS_ATTEMPTS rounds, the timeout doubling from
        // DNS_TIMEOUT_MS (1 + 2 + 4 s by default).
        let expected: u64 = (0..DNS_ATTEMPTS as u32)
            .map(|r| (DNS_TIMEOUT_MS as u64) << r)
            .sum();
        assert!(
            expected <= 10_000,
            "the configuration would wait {expected} ms"
        );
        let t = Instant::now();
        let late = lookup(
            &mut rig,
            "late.test",
            Duration::from_millis(expected + 2000),
        );
        let real = t.elapsed();
        eprintln!(
            "lookups_time_out: timed out after {} (real {real:.2?}, expected {expected} ms)",
            late.took
        );
        assert_eq!(late.result, Err(DnsError::Timeout));
        assert!(late.event);
        let took = late.took.total_millis();
        assert!(
            took >= expected && took < expected + 500,
            "timed out after {took} ms, expected {expected} ms"
        );
        let after = rig.stack.stats().dns;
        assert_eq!(after.tx - before.tx, DNS_ATTEMPTS as u64, "{after:?}");
        assert_eq!(
            after.retransmits - before.retransmits,
            DNS_ATTEMPTS as u64 - 1
        );
        assert_eq!(after.timeouts - before.timeouts, 1);
        // The cached name still answers, without a server.
        let cached = lookup(&mut rig, "nas.test", Duration::from_secs(1));
        assert_eq!(addresses(&cached, "nas.test"), [NAS]);
        assert!(cached.immediate);

        // The server comes back: the name resolves (a timeout is not
        // cached).
        let mark = rig.server.mark();
        rig.server.restart().unwrap_or_else(|e| panic!("{e}"));
        let late = lookup(&mut rig, "late.test", Duration::from_secs(5));
        assert_eq!(
            addresses(&late, "late.test"),
            [Ipv4Addr::new(203, 0, 113, 30)]
        );
        assert_eq!(
            dhcp_lines(&rig.server.log_since(mark)).len(),
            0,
            "no DHCP traffic while bound"
        );
        rig.check_capture();
    });
}
