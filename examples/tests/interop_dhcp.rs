//! The DHCP client of the core against dnsmasq on the Linux side of a TAP
//! device (the resolver and `tap_echo --dhcp`: `interop_dns.rs`). Each test runs in its own network
//! namespace (see `common`), on 198.51.100.0/24 or 203.0.113.0/24, drives
//! the stack itself with the real clock (or runs `tap_echo --dhcp`), and
//! checks both what the stack reports and what dnsmasq logged.
//!
//! dnsmasq pings an address before it offers it (3 s); the tests that do
//! not need that check pass `--no-ping`.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::dhcp::*;
use common::*;
use wolfip_core::config::{DHCP_ARP_PROBES, DHCP_PROBE_INTERVAL_MS};
use wolfip_core::dhcp::{DhcpLease, DhcpState};
use wolfip_core::{Event, IfaceId, Ipv4Cidr, LeaseLost, NextHop, Stack};

const HOSTNAME: &str = "wolfip-test";
const NET1_LINUX: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const NET2_LINUX: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
/// An address off both subnets, reached through the default route.
const FAR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 99);

/// Insists that `lease` is one of dnsmasq's default pool (`.100`-`.150` of
/// `linux`'s /24) with `linux` as server, router and DNS server.
fn assert_default_lease(lease: &DhcpLease, linux: Ipv4Addr) {
    let [a, b, c, _] = linux.octets();
    let addr = lease.address.address();
    assert_eq!(lease.address.prefix_len(), 24, "{lease:?}");
    assert_eq!(addr.octets()[..3], [a, b, c], "{lease:?}");
    assert!((100..=150).contains(&addr.octets()[3]), "{lease:?}");
    assert_eq!(lease.server, linux, "{lease:?}");
    assert_eq!(lease.router, Some(linux), "{lease:?}");
    assert_eq!(lease.dns_servers, [Some(linux), None, None], "{lease:?}");
}

/// Insists that the stack uses `lease`: the address on the interface, a
/// default route through the router, the subnet connected.
fn assert_applied(stack: &Stack, iface: IfaceId, lease: &DhcpLease) {
    assert_eq!(stack.ipv4(iface), Some(lease.address));
    let router = lease.router.expect("a router");
    let default: Ipv4Cidr = "0.0.0.0/0".parse().unwrap();
    let routes: Vec<_> = stack.routes().copied().collect();
    assert!(
        routes
            .iter()
            .any(|r| r.dest == default && r.gateway == Some(router) && r.iface == iface),
        "no default route through {router}: {routes:?}"
    );
    assert_eq!(
        stack.route_lookup(FAR),
        Some(NextHop { iface, via: router }),
        "route to {FAR}"
    );
    let neighbour = Ipv4Addr::from(u32::from(lease.address.network()) + 77);
    assert_eq!(
        stack.route_lookup(neighbour),
        Some(NextHop {
            iface,
            via: neighbour
        }),
        "route to {neighbour} (on the subnet)"
    );
}

/// Insists that nothing of a lease is left on the stack.
fn assert_unapplied(stack: &Stack, iface: IfaceId) {
    assert_eq!(stack.ipv4(iface), None);
    let routes: Vec<_> = stack.routes().copied().collect();
    assert!(routes.is_empty(), "routes left: {routes:?}");
    assert_eq!(stack.route_lookup(FAR), None);
    assert_eq!(stack.dhcp_lease(iface), None);
    assert_eq!(stack.dns_servers().count(), 0, "DNS servers left");
}

/// The message types of dnsmasq's DHCP transaction lines.
fn kinds(lines: &[String]) -> Vec<&str> {
    lines.iter().map(|l| kind(l)).collect()
}

#[test]
fn lease_is_obtained_and_applied() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        // dnsmasq's ping check is on here: the offer comes 3 s late.
        let mut rig = DhcpRig::start("dhcp_lease", NET1_LINUX, |c| c);
        let t = Instant::now();
        rig.dhcp_start(Some(HOSTNAME));
        assert_eq!(rig.stack.dhcp_state(rig.iface), DhcpState::Selecting);
        let lease = rig.wait_bound(Duration::from_secs(20));
        eprintln!(
            "lease_is_obtained_and_applied: bound in {:.2?}: {lease:?}",
            t.elapsed()
        );
        assert_default_lease(&lease, NET1_LINUX);
        // dnsmasq's lease time and its T1/T2 (RFC 2131 §4.4.5 defaults).
        assert_eq!(
            lease.lease_time,
            Some(wolfip_core::Duration::from_secs(120))
        );
        assert_eq!(lease.renew_after, wolfip_core::Duration::from_secs(60));
        assert_eq!(lease.rebind_after, wolfip_core::Duration::from_secs(105));
        assert_applied(&rig.stack, rig.iface, &lease);
        assert_eq!(rig.stack.dns_servers().collect::<Vec<_>>(), [NET1_LINUX]);
        let iface = rig.iface;
        assert_eq!(rig.count_events(|e| *e == Event::DhcpBound { iface }), 1);
        assert_eq!(rig.events.len(), 1, "{:?}", rig.events);

        // Linux reaches the leased address.
        let addr = lease.address.address();
        rig.ping_from_linux(addr, 3);

        let s = rig.stack.stats().dhcp;
        assert_eq!(
            (s.leases, s.renewals, s.declines, s.naks),
            (1, 0, 0, 0),
            "{s:?}"
        );
        assert_eq!(
            (s.tx, s.rx),
            (2, 2),
            "DISCOVER + REQUEST, OFFER + ACK: {s:?}"
        );
        assert_eq!(
            s.drop_malformed + s.drop_bogus + s.drop_unexpected,
            0,
            "{s:?}"
        );

        // What dnsmasq saw: one exchange, our name.
        let lines = rig.server_dhcp_lines();
        assert_eq!(
            kinds(&lines),
            ["DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK"],
            "{lines:#?}"
        );
        let want_ack = format!("DHCPACK({TAP}) {addr} {STACK_MAC} {HOSTNAME}");
        assert_eq!(lines[3].trim_end(), want_ack);
        assert!(lines[1].contains(&addr.to_string()), "{}", lines[1]);
        assert!(!rig
            .server_lines(&["client provides name: wolfip-test"])
            .is_empty());
        let leases = rig.server.lease_file();
        assert!(
            leases.contains(&format!("{STACK_MAC} {addr} {HOSTNAME}")),
            "lease file: {leases}"
        );

        // The capture: DISCOVER and REQUEST broadcast from 0.0.0.0 with our
        // name, then the RFC 5227 probes, then the announcement.
        let sent = rig.sent_dhcp(&[
            "dhcp.option.dhcp",
            "ip.src",
            "ip.dst",
            "dhcp.option.hostname",
            "dhcp.option.requested_ip_address",
            "dhcp.option.dhcp_server_id",
        ]);
        let a = addr.to_string();
        let l = NET1_LINUX.to_string();
        assert_eq!(
            sent,
            [
                vec!["1", "0.0.0.0", "255.255.255.255", HOSTNAME, "", ""],
                vec!["3", "0.0.0.0", "255.255.255.255", HOSTNAME, &a, &l],
            ],
        );
        let probes = fields(
            &rig.pcap,
            &format!("eth.src == {STACK_MAC} && arp.opcode == 1 && arp.dst.proto_ipv4 == {addr}"),
            &["arp.src.proto_ipv4", "frame.time_relative"],
        );
        assert_eq!(
            probes.len(),
            DHCP_ARP_PROBES + 1,
            "probes and announcement: {probes:?}"
        );
        for p in &probes[..DHCP_ARP_PROBES] {
            assert_eq!(p[0], "0.0.0.0", "a probe has sender address 0: {probes:?}");
        }
        assert_eq!(probes[DHCP_ARP_PROBES][0], a, "then the announcement");
        let t: Vec<f64> = probes.iter().map(|p| p[1].parse().unwrap()).collect();
        let gap = DHCP_PROBE_INTERVAL_MS as f64 / 1000.0;
        for w in t.windows(2) {
            assert!(w[1] - w[0] >= gap - 0.01, "probes {gap} s apart: {t:?}");
        }
        rig.check_capture();
    });
}

#[test]
fn lease_is_renewed_at_t1() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        // dnsmasq's shortest lease is 2 minutes: T1 and T2 are given
        // explicitly, and dnsmasq sends them as they are.
        let mut rig = DhcpRig::start("dhcp_renew", NET2_LINUX, |c| {
            c.arg("--no-ping")
                .arg("--dhcp-option=option:T1,4")
                .arg("--dhcp-option=option:T2,7")
        });
        rig.dhcp_start(Some(HOSTNAME));
        let lease = rig.wait_bound(Duration::from_secs(10));
        assert_default_lease(&lease, NET2_LINUX);
        assert_eq!(lease.renew_after, wolfip_core::Duration::from_secs(4));
        assert_eq!(lease.rebind_after, wolfip_core::Duration::from_secs(7));
        assert_eq!(
            lease.lease_time,
            Some(wolfip_core::Duration::from_secs(120))
        );
        let bound_at = Instant::now();
        let acks_before = rig.server_lines(&["DHCPACK"]).len();

        let iface = rig.iface;
        let renewed = rig.run_until(Duration::from_secs(8), "renewal at T1", |s, _, ev| {
            ev.iter()
                .any(|(_, e)| *e == Event::DhcpRenewed { iface })
                .then(|| s.dhcp_lease(iface))
                .flatten()
        });
        // T1 counts from the ACK (`acquired`); the address was taken into
        // use a second later, after the ARP probes.
        let at = renewed.acquired - lease.acquired;
        eprintln!(
            "lease_is_renewed_at_t1: renewed {at} after the first ACK ({:.2?} after bound)",
            bound_at.elapsed()
        );
        assert_eq!(renewed.address, lease.address);
        assert!(
            at >= wolfip_core::Duration::from_secs(4) && at < wolfip_core::Duration::from_secs(5),
            "renewed {at} after the first ACK"
        );
        assert_eq!(rig.stack.dhcp_state(iface), DhcpState::Bound);
        assert_applied(&rig.stack, iface, &renewed);
        let s = rig.stack.stats().dhcp;
        assert_eq!((s.leases, s.renewals, s.retransmits), (1, 1, 0), "{s:?}");
        assert_eq!(
            rig.events.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
            [Event::DhcpBound { iface }, Event::DhcpRenewed { iface }]
        );

        // The server saw a second REQUEST for the address and ACKed it.
        rig.wait_server_lines(&["DHCPACK("], acks_before + 1, Duration::from_secs(3));
        let lines = rig.server_dhcp_lines();
        assert_eq!(
            kinds(&lines),
            [
                "DHCPDISCOVER",
                "DHCPOFFER",
                "DHCPREQUEST",
                "DHCPACK",
                "DHCPREQUEST",
                "DHCPACK"
            ],
            "{lines:#?}"
        );
        let addr = lease.address.address().to_string();
        assert!(
            lines[4].contains(&addr) && lines[5].contains(&addr),
            "{lines:#?}"
        );
        assert_eq!(rig.server_lines(&["DHCPACK"]).len(), acks_before + 1);

        // RENEWING (RFC 2131 §4.3.2, table 4): unicast to the server,
        // ciaddr set, no requested address, no server identifier.
        let sent = rig.sent_dhcp(&[
            "dhcp.option.dhcp",
            "ip.src",
            "ip.dst",
            "dhcp.ip.client",
            "dhcp.option.requested_ip_address",
            "dhcp.option.dhcp_server_id",
        ]);
        let l = NET2_LINUX.to_string();
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert_eq!(sent[2], ["3", &addr, &l, &addr, "", ""], "{sent:?}");
        rig.check_capture();
    });
}

#[test]
fn lease_is_rebound_at_t2_when_the_server_was_away() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        let mut rig = DhcpRig::start("dhcp_rebind", NET1_LINUX, |c| {
            c.arg("--no-ping")
                .arg("--dhcp-option=option:T1,4")
                .arg("--dhcp-option=option:T2,7")
        });
        rig.dhcp_start(Some(HOSTNAME));
        let lease = rig.wait_bound(Duration::from_secs(10));
        let addr = lease.address.address();
        let iface = rig.iface;
        // The server goes away before T1: the unicast REQUEST of RENEWING
        // gets no answer.
        rig.server.stop();
        rig.run_until(Duration::from_secs(6), "RENEWING", |s, _, _| {
            (s.dhcp_state(iface) == DhcpState::Renewing).then_some(())
        });
        // It is back (with its lease file) before T2: the broadcast REQUEST
        // of REBINDING is answered.
        let mark = rig.server.mark();
        rig.server.restart().unwrap_or_else(|e| panic!("{e}"));
        rig.run_until(Duration::from_secs(6), "rebinding", |s, _, ev| {
            ev.iter()
                .any(|(_, e)| *e == Event::DhcpRenewed { iface })
                .then(|| s.dhcp_lease(iface))
                .flatten()
        });
        let rebound = rig.stack.dhcp_lease(iface).unwrap();
        let at = rebound.acquired - lease.acquired;
        eprintln!("lease_is_rebound_at_t2: rebound {at} after the first ACK");
        assert!(
            at >= wolfip_core::Duration::from_secs(7) && at < wolfip_core::Duration::from_secs(8),
            "rebound {at} after the first ACK"
        );
        assert_eq!(rebound.address, lease.address);
        assert_applied(&rig.stack, iface, &rebound);
        let s = rig.stack.stats().dhcp;
        assert_eq!((s.leases, s.renewals, s.expiries), (1, 1, 0), "{s:?}");

        rig.wait_server_log(mark, &["DHCPACK("], Duration::from_secs(3));
        let lines = dhcp_lines(&rig.server.log_since(mark));
        assert_eq!(kinds(&lines), ["DHCPREQUEST", "DHCPACK"], "{lines:#?}");
        assert!(lines[1].contains(&addr.to_string()), "{}", lines[1]);
        // RENEWING unicast to the server, REBINDING broadcast; both with
        // ciaddr and without option 50 or 54 (RFC 2131 table 5).
        let sent = rig.sent_dhcp(&[
            "dhcp.option.dhcp",
            "ip.src",
            "ip.dst",
            "dhcp.ip.client",
            "dhcp.option.requested_ip_address",
            "dhcp.option.dhcp_server_id",
        ]);
        let (a, l) = (addr.to_string(), NET1_LINUX.to_string());
        assert_eq!(
            sent[2..],
            [
                vec!["3", &a, &l, &a, "", ""],
                vec!["3", &a, "255.255.255.255", &a, "", ""],
            ],
            "{sent:?}"
        );
        rig.check_capture();
    });
}

#[test]
fn release_is_seen_by_the_server() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        let mut rig = DhcpRig::start("dhcp_release", NET1_LINUX, |c| c.arg("--no-ping"));
        rig.dhcp_start(Some(HOSTNAME));
        let lease = rig.wait_bound(Duration::from_secs(10));
        let addr = lease.address.address();
        assert!(rig.server.lease_file().contains(&addr.to_string()));

        let iface = rig.iface;
        rig.stack.dhcp_stop(iface).expect("dhcp_stop");
        assert_eq!(rig.stack.dhcp_state(iface), DhcpState::Stopped);
        assert_unapplied(&rig.stack, iface);
        let want = format!("DHCPRELEASE({TAP}) {addr} {STACK_MAC}");
        let line = rig.wait_server_log(0, &[&want], Duration::from_secs(3));
        assert!(line.trim_end().ends_with(&want), "{line}");
        assert_eq!(
            rig.events.last().map(|(_, e)| *e),
            Some(Event::DhcpLost {
                iface,
                reason: LeaseLost::Stopped
            })
        );
        // dnsmasq forgot the lease.
        let deadline = Instant::now() + Duration::from_secs(3);
        while rig.server.lease_file().contains(&addr.to_string()) && Instant::now() < deadline {
            rig.run_for(Duration::from_millis(50));
        }
        let leases = rig.server.lease_file();
        assert!(!leases.contains(&addr.to_string()), "lease file: {leases}");
        let sent = rig.sent_dhcp(&[
            "dhcp.option.dhcp",
            "ip.src",
            "ip.dst",
            "dhcp.ip.client",
            "dhcp.option.dhcp_server_id",
        ]);
        let (a, l) = (addr.to_string(), NET1_LINUX.to_string());
        assert_eq!(sent.last().unwrap(), &["7", &a, &l, &a, &l], "{sent:?}");
        assert_eq!(rig.stack.stats().dhcp.tx, 3);
        rig.check_capture();
    });
}

#[test]
fn address_in_use_is_declined() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        // dnsmasq reserves X for our MAC, and Linux already holds X: Linux
        // answers our ARP probe (dnsmasq's own ping check is off, or it
        // would notice first). dnsmasq must broadcast its answers: a
        // unicast to X would stay inside Linux, X being one of its own
        // addresses.
        let x = Ipv4Addr::new(198, 51, 100, 77);
        let mut rig = DhcpRig::start("dhcp_decline", NET1_LINUX, |c| {
            c.arg("--no-ping")
                .arg("--dhcp-broadcast")
                .arg(&format!("--dhcp-host={STACK_MAC},{x}"))
        });
        ip(&["addr", "add", &format!("{x}/32"), "dev", TAP]);
        let t = Instant::now();
        rig.dhcp_start(Some(HOSTNAME));
        let lease = rig.wait_bound(Duration::from_secs(30));
        eprintln!(
            "address_in_use_is_declined: bound in {:.2?}: {lease:?}",
            t.elapsed()
        );
        let addr = lease.address.address();
        assert_ne!(addr, x);
        assert_default_lease(&lease, NET1_LINUX);
        assert_applied(&rig.stack, rig.iface, &lease);
        let iface = rig.iface;
        assert_eq!(
            rig.events.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
            [Event::DhcpBound { iface }],
            "the declined address was never reported"
        );
        let s = rig.stack.stats().dhcp;
        assert_eq!((s.leases, s.declines), (1, 1), "{s:?}");

        let lines = rig.server_dhcp_lines();
        assert_eq!(
            kinds(&lines),
            [
                "DHCPDISCOVER",
                "DHCPOFFER",
                "DHCPREQUEST",
                "DHCPACK",
                "DHCPDECLINE",
                "DHCPDISCOVER",
                "DHCPOFFER",
                "DHCPREQUEST",
                "DHCPACK"
            ],
            "{lines:#?}"
        );
        let xs = x.to_string();
        for l in &lines[1..5] {
            assert!(l.contains(&xs), "{l}");
        }
        assert!(lines[8].contains(&addr.to_string()), "{}", lines[8]);
        assert!(!rig
            .server_lines(&["disabling DHCP static address", &xs])
            .is_empty());

        // The DECLINE (RFC 2131 table 5): from 0.0.0.0, the address in
        // option 50, the server's identifier; and a new DISCOVER no sooner
        // than 10 s later (RFC 2131 §3.1 step 5).
        let sent = rig.sent_dhcp(&[
            "dhcp.option.dhcp",
            "ip.src",
            "dhcp.option.requested_ip_address",
            "dhcp.option.dhcp_server_id",
            "frame.time_relative",
        ]);
        let kinds_sent: Vec<&str> = sent.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(kinds_sent, ["1", "3", "4", "1", "3"], "{sent:?}");
        let l = NET1_LINUX.to_string();
        assert_eq!(sent[2][..4], ["4", "0.0.0.0", &xs, &l], "{sent:?}");
        let t = |i: usize| sent[i][4].parse::<f64>().unwrap();
        assert!(
            t(3) - t(2) >= 10.0,
            "DISCOVER {:.2} s after DECLINE",
            t(3) - t(2)
        );
        rig.check_capture();
    });
}

#[test]
fn restart_asks_for_the_previous_address() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        // dnsmasq forgets a released lease; it answers an INIT-REBOOT
        // request for an address it has no lease for only when it is
        // authoritative (otherwise it stays silent, RFC 2131 §4.3.2).
        let mut rig = DhcpRig::start("dhcp_reboot", NET2_LINUX, |c| {
            c.arg("--no-ping").arg("--dhcp-authoritative")
        });
        rig.dhcp_start(Some(HOSTNAME));
        let first = rig.wait_bound(Duration::from_secs(10));
        let addr = first.address.address();
        let iface = rig.iface;
        rig.stack.dhcp_stop(iface).expect("dhcp_stop");
        rig.wait_server_log(
            0,
            &["DHCPRELEASE", &addr.to_string()],
            Duration::from_secs(3),
        );
        let released = rig.sent_dhcp(&["frame.number"]).len();

        let mark = rig.server.mark();
        rig.dhcp_start(Some(HOSTNAME));
        assert_eq!(rig.stack.dhcp_state(iface), DhcpState::Rebooting);
        let again = rig.wait_bound(Duration::from_secs(10));
        assert_eq!(again.address, first.address);
        assert_applied(&rig.stack, iface, &again);
        let s = rig.stack.stats().dhcp;
        assert_eq!((s.leases, s.retransmits), (2, 0), "{s:?}");

        // The server saw one REQUEST for the old address, no DISCOVER.
        let lines = dhcp_lines(&rig.server.log_since(mark));
        assert_eq!(kinds(&lines), ["DHCPREQUEST", "DHCPACK"], "{lines:#?}");
        assert!(lines[0].contains(&addr.to_string()), "{}", lines[0]);
        // INIT-REBOOT (RFC 2131 table 5): option 50, no server id, no ciaddr.
        let sent = rig.sent_dhcp(&[
            "dhcp.option.dhcp",
            "ip.src",
            "dhcp.ip.client",
            "dhcp.option.requested_ip_address",
            "dhcp.option.dhcp_server_id",
        ]);
        assert_eq!(
            sent[released..],
            [vec!["3", "0.0.0.0", "0.0.0.0", &addr.to_string(), ""]],
            "{sent:?}"
        );
        rig.check_capture();
    });
}

#[test]
fn address_from_another_network_is_refused() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        // The client remembers an address of another network (kept in
        // flash, say): an authoritative server answers its INIT-REBOOT
        // request with a NAK, and the client starts over with DISCOVER.
        let old = Ipv4Addr::new(192, 0, 2, 55);
        let mut rig = DhcpRig::start("dhcp_nak", NET2_LINUX, |c| {
            c.arg("--no-ping").arg("--dhcp-authoritative")
        });
        rig.dhcp_start_with(&wolfip_core::dhcp::DhcpConfig {
            hostname: Some(HOSTNAME),
            previous: Some(old),
            ..Default::default()
        });
        assert_eq!(rig.stack.dhcp_state(rig.iface), DhcpState::Rebooting);
        let lease = rig.wait_bound(Duration::from_secs(10));
        assert_default_lease(&lease, NET2_LINUX);
        let s = rig.stack.stats().dhcp;
        assert_eq!((s.naks, s.leases, s.retransmits), (1, 1, 0), "{s:?}");
        let lines = rig.server_dhcp_lines();
        assert_eq!(
            kinds(&lines),
            [
                "DHCPREQUEST",
                "DHCPNAK",
                "DHCPDISCOVER",
                "DHCPOFFER",
                "DHCPREQUEST",
                "DHCPACK"
            ],
            "{lines:#?}"
        );
        assert!(
            lines[1].contains(&old.to_string()) && lines[1].contains("wrong network"),
            "{}",
            lines[1]
        );
        let sent = rig.sent_dhcp(&["dhcp.option.dhcp", "dhcp.option.requested_ip_address"]);
        assert_eq!(sent[0], ["3", &old.to_string()], "{sent:?}");
        // No hint of the refused address in the DISCOVER that follows.
        assert_eq!(sent[1], ["1", ""], "{sent:?}");
        rig.check_capture();
    });
}

#[test]
fn silent_server_after_restart_means_discover() {
    if !can_run_dhcp() {
        return;
    }
    in_netns(|| {
        // Not authoritative: dnsmasq ignores the INIT-REBOOT REQUEST for
        // the released address; the client gives up after its tries and
        // discovers.
        let mut rig = DhcpRig::start("dhcp_reboot_silent", NET1_LINUX, |c| c.arg("--no-ping"));
        rig.dhcp_start(None);
        let first = rig.wait_bound(Duration::from_secs(10));
        let iface = rig.iface;
        rig.stack.dhcp_stop(iface).expect("dhcp_stop");
        rig.wait_server_log(0, &["DHCPRELEASE"], Duration::from_secs(3));
        let released = rig.sent_dhcp(&["frame.number"]).len();

        let mark = rig.server.mark();
        let t = Instant::now();
        rig.dhcp_start(None);
        let again = rig.wait_bound(Duration::from_secs(20));
        eprintln!(
            "silent_server_after_restart_means_discover: bound again in {:.2?}",
            t.elapsed()
        );
        assert_eq!(again.address, first.address, "dnsmasq's choice is per MAC");
        let lines = dhcp_lines(&rig.server.log_since(mark));
        assert_eq!(
            kinds(&lines),
            ["DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK"],
            "{lines:#?}"
        );
        let sent = rig.sent_dhcp(&["dhcp.option.dhcp", "dhcp.option.dhcp_server_id"]);
        let kinds_sent: Vec<&str> = sent[released..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(kinds_sent, ["3", "3", "1", "3"], "{sent:?}");
        let s = rig.stack.stats().dhcp;
        assert_eq!((s.leases, s.retransmits), (2, 1), "{s:?}");
        rig.check_capture();
    });
}
