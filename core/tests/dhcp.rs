//! The DHCPv4 client (RFC 2131, RFC 2132, RFC 5227's address check) driven
//! through `Stack` with hand-built server messages and injected time.

mod common;

use common::*;
use wolfip_core::config::{DHCP_ARP_PROBES, DHCP_PROBE_INTERVAL_MS, UDP_SOCKETS};
use wolfip_core::dhcp::{DhcpConfig, DhcpError, DhcpState};
use wolfip_core::wire::dhcp::{
    DhcpPacket, DhcpRepr, MessageType, OpCode, CLIENT_PORT, SERVER_PORT,
};
use wolfip_core::wire::{ArpOperation, EtherType, EthernetAddress, IpProtocol};
use wolfip_core::{Duration, Event, IfaceId, Instant, Ipv4Addr, LeaseLost, Stack};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const OFFERED: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);
const DNS1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);
const LEASE_SECS: u32 = 600;

/// A message the client sent, with its IP and UDP envelope.
#[derive(Debug)]
struct Sent {
    eth_dst: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    bytes: Vec<u8>,
}

impl Sent {
    fn repr(&self) -> DhcpRepr<'_> {
        DhcpRepr::parse(&DhcpPacket::new_checked(&self.bytes[..]).unwrap()).unwrap()
    }
}

/// The DHCP messages among `frames` (ARP frames are skipped).
fn dhcp_sent(frames: &[Vec<u8>]) -> Vec<Sent> {
    frames
        .iter()
        .filter(|f| !is_arp(f))
        .map(|f| {
            let ip = parse_ip(f);
            assert_eq!(ip.ip.protocol, IpProtocol::Udp);
            let (udp, data) = parse_udp(&ip);
            assert_eq!((udp.src_port, udp.dst_port), (CLIENT_PORT, SERVER_PORT));
            Sent {
                eth_dst: ip.eth.dst_addr,
                src: ip.ip.src_addr,
                dst: ip.ip.dst_addr,
                bytes: data,
            }
        })
        .collect()
}

/// ARP probes among `frames`: their target addresses.
fn probes(frames: &[Vec<u8>]) -> Vec<Ipv4Addr> {
    frames
        .iter()
        .filter(|f| is_arp(f))
        .map(|f| parse_arp(f).1)
        .filter(|a| a.source_protocol_addr.is_unspecified())
        .map(|a| a.target_protocol_addr)
        .collect()
}

/// A server message for `xid`, sent from `SERVER` to `to` (our MAC).
fn reply(kind: MessageType, xid: u32, to: Ipv4Addr, edit: impl Fn(&mut DhcpRepr<'_>)) -> Vec<u8> {
    let mut r = DhcpRepr {
        your_ip: OFFERED,
        server_id: Some(SERVER),
        subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        router: Some(SERVER),
        dns_servers: [Some(DNS1), None, None],
        lease_time: Some(LEASE_SECS),
        ..DhcpRepr::new(OpCode::Reply, kind, xid, OUR_MAC)
    };
    if kind == MessageType::Nak {
        r.your_ip = Ipv4Addr::UNSPECIFIED;
        r.lease_time = None;
        r.subnet_mask = None;
        r.router = None;
        r.dns_servers = [None; 3];
    }
    edit(&mut r);
    let mut buf = vec![0u8; r.buffer_len()];
    r.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]));
    let udp = udp_packet(SERVER, to, SERVER_PORT, CLIENT_PORT, &buf);
    let ip = ip_packet(&ip_repr(SERVER, to, IpProtocol::Udp, udp.len()), &udp);
    eth_frame(OUR_MAC, PEER_MAC, EtherType::Ipv4, &ip)
}

fn config() -> DhcpConfig<'static> {
    DhcpConfig {
        hostname: Some("sensor-7"),
        ..DhcpConfig::default()
    }
}

fn events(s: &mut Stack) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// [`run`], answering the stack's ARP requests for the server as the
/// server would; every frame sent.
fn run_arp(s: &mut Stack, now: Instant, id: IfaceId) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    let mut out = run(s, now, id);
    for _ in 0..4 {
        let asks = out.iter().any(|f| {
            is_arp(f) && {
                let a = parse_arp(f).1;
                a.operation == ArpOperation::Request && a.target_protocol_addr == SERVER
            }
        });
        all.append(&mut out);
        if !asks {
            break;
        }
        let us = s.ipv4(id).map_or(OFFERED, |c| c.address());
        out = input(s, now, id, &peer_arp_reply_to(us));
    }
    all
}

/// Runs the stack at every instant it asks for until `until` (the server
/// answering ARP); returns the frames sent with their times.
fn run_until(s: &mut Stack, id: IfaceId, from: Instant, until: Instant) -> Vec<(Instant, Vec<u8>)> {
    let mut out = Vec::new();
    let mut now = from;
    for _ in 0..10_000 {
        for f in run_arp(s, now, id) {
            out.push((now, f));
        }
        match s.poll_at(now) {
            Some(t) if t <= until => now = t.max(now + Duration::from_micros(1)),
            _ => break,
        }
    }
    out
}

/// Starts the client and answers DISCOVER and REQUEST as a server would;
/// returns the stack bound to `OFFERED` and the time it bound.
fn bound_stack(seed: u64) -> (Box<Stack>, IfaceId, Instant) {
    let (mut s, id) = bare_stack(seed);
    s.dhcp_start(id, &config()).unwrap();
    let discover = dhcp_sent(&run(&mut s, T0, id));
    assert_eq!(discover.len(), 1);
    let xid = discover[0].repr().xid;
    let req = dhcp_sent(&input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Offer, xid, OFFERED, |_| {}),
    ));
    assert_eq!(req.len(), 1);
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Ack, xid, OFFERED, |_| {}),
    );
    let end = T0 + ms(DHCP_PROBE_INTERVAL_MS as u64 * (DHCP_ARP_PROBES as u64 + 1));
    run_until(&mut s, id, T0, end);
    assert_eq!(s.dhcp_state(id), DhcpState::Bound);
    let bound_at = s.dhcp_lease(id).unwrap().acquired;
    events(&mut s);
    (s, id, bound_at)
}

/// RFC 2131 §3.1 and §4.4.1: DISCOVER broadcast from 0.0.0.0 with our
/// identity; OFFER (here unicast to the offered address) answered with a
/// broadcast REQUEST naming the offer and its server, same xid; the ACKed
/// address is probed (RFC 5227 §2.1.1) and then applied with the default
/// route, the DNS servers and a gratuitous ARP.
#[test]
fn full_exchange_applies_the_lease() {
    let (mut s, id) = bare_stack(1);
    s.dhcp_start(id, &config()).unwrap();
    assert_eq!(s.dhcp_state(id), DhcpState::Selecting);
    let out = dhcp_sent(&run(&mut s, T0, id));
    assert_eq!(out.len(), 1, "one DISCOVER");
    let d = &out[0];
    assert_eq!(d.eth_dst, EthernetAddress::BROADCAST);
    assert_eq!((d.src, d.dst), (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST));
    let r = d.repr();
    assert_eq!(r.message_type, MessageType::Discover);
    assert_eq!(r.op, OpCode::Request);
    assert_eq!(r.client_hw, OUR_MAC);
    assert_eq!(r.hostname, Some(&b"sensor-7"[..]));
    assert_eq!(
        r.client_id,
        Some(&[1, 2, 0, 0, 0, 0, 2][..]),
        "type 1 + MAC"
    );
    let params = r.parameter_request_list.unwrap();
    for code in [1, 3, 6, 51, 58, 59] {
        assert!(params.contains(&code), "asks for option {code}");
    }
    let xid = r.xid;

    let offer = reply(MessageType::Offer, xid, OFFERED, |_| {});
    let out = dhcp_sent(&input(&mut s, T0, id, &offer));
    assert_eq!(out.len(), 1, "one REQUEST");
    let q = out[0].repr();
    assert_eq!(q.message_type, MessageType::Request);
    assert_eq!(q.xid, xid, "RFC 2131 §4.4.1: the xid of the offer");
    assert_eq!(q.requested_ip, Some(OFFERED));
    assert_eq!(q.server_id, Some(SERVER));
    assert_eq!(q.client_ip, Ipv4Addr::UNSPECIFIED);
    assert_eq!(out[0].dst, Ipv4Addr::BROADCAST);
    assert_eq!(s.dhcp_state(id), DhcpState::Requesting);

    let ack = reply(MessageType::Ack, xid, OFFERED, |_| {});
    let out = input(&mut s, T0, id, &ack);
    assert_eq!(s.dhcp_state(id), DhcpState::Probing);
    assert_eq!(probes(&out), vec![OFFERED], "first probe at once");
    assert_eq!(s.ipv4(id), None, "not used before the check ends");
    let later = run_until(&mut s, id, T0 + ms(1), T0 + ms(5_000));
    let probe_times: Vec<_> = later
        .iter()
        .filter(|(_, f)| !probes(std::slice::from_ref(f)).is_empty())
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(probe_times.len(), DHCP_ARP_PROBES - 1);
    assert_eq!(s.dhcp_state(id), DhcpState::Bound);
    let lease = s.dhcp_lease(id).unwrap();
    // RFC 2131 §4.4.1: the lease runs from the exchange, not from the end
    // of the address check.
    assert_eq!(lease.acquired, T0);
    let bound_at = later
        .iter()
        .find(|(_, f)| is_arp(f) && parse_arp(f).1.source_protocol_addr == OFFERED)
        .map(|(t, _)| *t);
    assert_eq!(
        bound_at,
        Some(T0 + ms(DHCP_PROBE_INTERVAL_MS as u64 * DHCP_ARP_PROBES as u64)),
        "bound (and announced) one interval after the last probe"
    );
    assert_eq!(s.ipv4(id), Some(cidr("192.0.2.50/24")));
    assert_eq!(lease.router, Some(SERVER));
    assert_eq!(lease.server, SERVER);
    let hop = s.route_lookup(Ipv4Addr::new(203, 0, 113, 9)).unwrap();
    assert_eq!((hop.iface, hop.via), (id, SERVER), "default route");
    assert_eq!(s.dns_servers().collect::<Vec<_>>(), vec![DNS1]);
    // The gratuitous ARP announcing the address (RFC 5227 §2.3).
    let announced = later.iter().any(|(_, f)| {
        is_arp(f) && {
            let a = parse_arp(f).1;
            a.source_protocol_addr == OFFERED && a.target_protocol_addr == OFFERED
        }
    });
    assert!(announced);
    assert_eq!(events(&mut s), vec![Event::DhcpBound { iface: id }]);
    assert_eq!(s.stats().dhcp.leases, 1);
}

/// RFC 2131 §4.4.5: at T1 a REQUEST unicast to the server from our
/// address (ciaddr set, no requested address or server identifier); the ACK
/// extends the lease.
#[test]
fn renews_at_t1() {
    let (mut s, id, bound) = bound_stack(2);
    let t1 = bound + Duration::from_secs(u64::from(LEASE_SECS / 2));
    assert!(
        run_until(&mut s, id, bound, t1 - ms(1)).is_empty(),
        "quiet until T1"
    );
    // The server's MAC is known from nothing yet: the unicast REQUEST
    // waits for ARP; answer it.
    let out = run(&mut s, t1, id);
    let arp: Vec<_> = out.iter().filter(|f| is_arp(f)).collect();
    assert_eq!(arp.len(), 1, "ARP request for the server");
    let out = input(&mut s, t1, id, &peer_arp_reply_to(OFFERED));
    let req = dhcp_sent(&out);
    assert_eq!(req.len(), 1);
    assert_eq!((req[0].src, req[0].dst), (OFFERED, SERVER));
    assert_eq!(req[0].eth_dst, PEER_MAC);
    let r = req[0].repr();
    assert_eq!(r.message_type, MessageType::Request);
    assert_eq!(r.client_ip, OFFERED);
    assert_eq!((r.requested_ip, r.server_id), (None, None));
    assert_eq!(s.dhcp_state(id), DhcpState::Renewing);
    input(
        &mut s,
        t1,
        id,
        &reply(MessageType::Ack, r.xid, OFFERED, |_| {}),
    );
    assert_eq!(s.dhcp_state(id), DhcpState::Bound);
    assert_eq!(s.dhcp_lease(id).unwrap().acquired, t1);
    assert_eq!(events(&mut s), vec![Event::DhcpRenewed { iface: id }]);
    assert_eq!(s.stats().dhcp.renewals, 1);
}

/// An ARP reply from the server (`PEER_MAC` at `SERVER`) to `to`.
fn peer_arp_reply_to(to: Ipv4Addr) -> Vec<u8> {
    arp_frame(OUR_MAC, ArpOperation::Reply, PEER_MAC, SERVER, OUR_MAC, to)
}

/// RFC 2131 §4.4.5: a silent server: RENEWING until T2, then REBINDING
/// with broadcasts, and at the end of the lease the address, the default
/// route and the DNS servers go and the client starts over.
#[test]
fn rebinds_at_t2_and_expires() {
    let (mut s, id, bound) = bound_stack(3);
    let secs = |n: u32| bound + Duration::from_secs(u64::from(n));
    let t2 = secs(LEASE_SECS / 8 * 7);
    let end = secs(LEASE_SECS);
    // The server hears nothing: only its ARP answers.
    let frames = run_until(&mut s, id, bound, end + ms(1));
    let sent: Vec<(Instant, Sent)> = frames
        .iter()
        .filter(|(_, f)| !is_arp(f))
        .map(|(t, f)| (*t, dhcp_sent(std::slice::from_ref(f)).remove(0)))
        .collect();
    let renewing: Vec<_> = sent.iter().filter(|(_, m)| m.dst == SERVER).collect();
    let rebinding: Vec<_> = sent
        .iter()
        .filter(|(_, m)| m.dst == Ipv4Addr::BROADCAST && m.repr().client_ip == OFFERED)
        .collect();
    assert_eq!(renewing.first().map(|x| x.0), Some(secs(LEASE_SECS / 2)));
    assert!(renewing.iter().all(|(t, _)| *t < t2));
    // Retransmissions no closer than 60 s (RFC 2131 §4.4.5).
    for w in renewing.windows(2) {
        assert!(w[1].0 - w[0].0 >= Duration::from_secs(60) || w[1].0 == t2);
    }
    assert_eq!(rebinding.first().map(|x| x.0), Some(t2));
    assert!(rebinding.iter().all(|(t, _)| *t < end));
    assert_eq!(s.ipv4(id), None, "address removed at expiry");
    assert!(
        s.routes().all(|r| r.dest.prefix_len() != 0),
        "default route removed"
    );
    assert_eq!(s.dns_servers().count(), 0);
    let discover = sent
        .iter()
        .find(|(_, m)| m.repr().message_type == MessageType::Discover);
    assert_eq!(discover.map(|x| x.0), Some(end), "starts over at once");
    assert_eq!(
        events(&mut s),
        vec![Event::DhcpLost {
            iface: id,
            reason: LeaseLost::Expired
        }]
    );
    assert_eq!(s.stats().dhcp.expiries, 1);
    assert_eq!(s.dhcp_state(id), DhcpState::Selecting);
}

/// RFC 2131 §4.1: retransmissions after 4, 8, 16 s (each +-1 s), then
/// capped at 64 s; the xid stays.
#[test]
fn discover_backoff() {
    let (mut s, id) = bare_stack(4);
    s.dhcp_start(id, &config()).unwrap();
    let frames = run_until(&mut s, id, T0, T0 + Duration::from_secs(300));
    let times: Vec<Instant> = frames.iter().map(|(t, _)| *t).collect();
    let gaps: Vec<u64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).total_millis())
        .collect();
    assert!(gaps.len() >= 5, "{gaps:?}");
    for (i, g) in gaps.iter().enumerate() {
        let base = (4000u64 << i.min(4)).min(64_000);
        assert!((base - 1000..=base + 1000).contains(g), "gap {i}: {g} ms");
    }
    let xids: Vec<u32> = frames
        .iter()
        .map(|(_, f)| dhcp_sent(std::slice::from_ref(f))[0].repr().xid)
        .collect();
    assert!(xids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(s.stats().dhcp.retransmits, gaps.len() as u64);
}

/// RFC 2131 §3.1 step 5: an address found in use by the ARP probe is
/// DECLINEd (broadcast, naming the address and the server) and the client
/// waits ten seconds before it starts over.
#[test]
fn arp_conflict_declines() {
    let (mut s, id) = bare_stack(5);
    s.dhcp_start(id, &config()).unwrap();
    let xid = dhcp_sent(&run(&mut s, T0, id))[0].repr().xid;
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Offer, xid, OFFERED, |_| {}),
    );
    let out = input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Ack, xid, OFFERED, |_| {}),
    );
    assert_eq!(probes(&out), vec![OFFERED]);
    // Somebody answers for the address.
    let answer = arp_frame(
        OUR_MAC,
        ArpOperation::Reply,
        OTHER_MAC,
        OFFERED,
        OUR_MAC,
        Ipv4Addr::UNSPECIFIED,
    );
    let out = dhcp_sent(&input(&mut s, T0 + ms(3), id, &answer));
    assert_eq!(out.len(), 1);
    let d = out[0].repr();
    assert_eq!(d.message_type, MessageType::Decline);
    assert_eq!((d.requested_ip, d.server_id), (Some(OFFERED), Some(SERVER)));
    assert_eq!(
        (out[0].src, out[0].dst),
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
    );
    assert_eq!(s.dhcp_state(id), DhcpState::Declined);
    assert_eq!(s.ipv4(id), None);
    assert_eq!(s.stats().dhcp.declines, 1);
    let frames = run_until(&mut s, id, T0 + ms(4), T0 + Duration::from_secs(11));
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0, T0 + ms(3) + Duration::from_secs(10));
    let again = dhcp_sent(&[frames[0].1.clone()]);
    assert_eq!(again[0].repr().message_type, MessageType::Discover);
    assert_ne!(again[0].repr().xid, xid, "a new exchange");
    assert_eq!(
        again[0].repr().requested_ip,
        None,
        "the declined address is not hinted"
    );
}

/// A probe from another host for the same address is a conflict too
/// (RFC 5227 §2.1.1).
#[test]
fn simultaneous_probe_is_a_conflict() {
    let (mut s, id) = bare_stack(6);
    s.dhcp_start(id, &config()).unwrap();
    let xid = dhcp_sent(&run(&mut s, T0, id))[0].repr().xid;
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Offer, xid, OFFERED, |_| {}),
    );
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Ack, xid, OFFERED, |_| {}),
    );
    let probe = arp_request(OTHER_MAC, Ipv4Addr::UNSPECIFIED, OFFERED);
    let out = dhcp_sent(&input(&mut s, T0 + ms(1), id, &probe));
    assert_eq!(out[0].repr().message_type, MessageType::Decline);
}

/// RFC 2131 §3.1 step 5: a NAK to our REQUEST restarts at INIT with a new
/// xid; a NAK while renewing also removes the lease.
#[test]
fn nak_restarts() {
    let (mut s, id) = bare_stack(7);
    s.dhcp_start(id, &config()).unwrap();
    let xid = dhcp_sent(&run(&mut s, T0, id))[0].repr().xid;
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Offer, xid, OFFERED, |_| {}),
    );
    let out = dhcp_sent(&input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Nak, xid, Ipv4Addr::BROADCAST, |_| {}),
    ));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].repr().message_type, MessageType::Discover);
    assert_ne!(out[0].repr().xid, xid);
    assert_eq!(s.stats().dhcp.naks, 1);

    let (mut s, id, bound) = bound_stack(8);
    let t1 = bound + Duration::from_secs(u64::from(LEASE_SECS / 2));
    let req = dhcp_sent(&run_arp(&mut s, t1, id));
    let xid = req[0].repr().xid;
    input(
        &mut s,
        t1,
        id,
        &reply(MessageType::Nak, xid, OFFERED, |_| {}),
    );
    assert_eq!(s.ipv4(id), None);
    assert_eq!(
        events(&mut s),
        vec![Event::DhcpLost {
            iface: id,
            reason: LeaseLost::Nak
        }]
    );
    assert_eq!(s.dhcp_state(id), DhcpState::Selecting);
}

/// RFC 2131 §4.4.6 and §3.2: stopping releases the lease (unicast to the
/// server, ciaddr and server identifier) and removes it; starting again
/// asks for the same address first (INIT-REBOOT: broadcast REQUEST with
/// the address, no server identifier, ciaddr 0).
#[test]
fn release_then_init_reboot() {
    let (mut s, id, bound) = bound_stack(9);
    s.dhcp_stop(id).unwrap();
    let out = dhcp_sent(&run_arp(&mut s, bound, id));
    assert_eq!(out.len(), 1);
    let r = out[0].repr();
    assert_eq!(r.message_type, MessageType::Release);
    assert_eq!((out[0].src, out[0].dst), (OFFERED, SERVER));
    assert_eq!(
        out[0].eth_dst,
        EthernetAddress::BROADCAST,
        "the server's MAC is not cached: no ARP exchange after the address is gone"
    );
    assert_eq!((r.client_ip, r.server_id), (OFFERED, Some(SERVER)));
    assert_eq!(s.ipv4(id), None);
    assert_eq!(s.dhcp_state(id), DhcpState::Stopped);
    assert_eq!(
        events(&mut s),
        vec![Event::DhcpLost {
            iface: id,
            reason: LeaseLost::Stopped
        }]
    );
    assert_eq!(s.dhcp_stop(id), Err(DhcpError::NotRunning));

    s.dhcp_start(id, &config()).unwrap();
    assert_eq!(s.dhcp_state(id), DhcpState::Rebooting);
    let later = bound + Duration::from_secs(5);
    let out = dhcp_sent(&run(&mut s, later, id));
    let r = out[0].repr();
    assert_eq!(r.message_type, MessageType::Request);
    assert_eq!(r.requested_ip, Some(OFFERED));
    assert_eq!((r.server_id, r.client_ip), (None, Ipv4Addr::UNSPECIFIED));
    assert_eq!(out[0].dst, Ipv4Addr::BROADCAST);
    input(
        &mut s,
        bound + ms(10),
        id,
        &reply(MessageType::Ack, r.xid, OFFERED, |_| {}),
    );
    assert_eq!(s.dhcp_state(id), DhcpState::Probing);
}

/// An INIT-REBOOT nobody answers falls back to DISCOVER.
#[test]
fn unanswered_init_reboot_falls_back() {
    let (mut s, id) = bare_stack(10);
    let cfg = DhcpConfig {
        previous: Some(OFFERED),
        ..config()
    };
    s.dhcp_start(id, &cfg).unwrap();
    let frames = run_until(&mut s, id, T0, T0 + Duration::from_secs(20));
    let kinds: Vec<MessageType> = frames
        .iter()
        .map(|(_, f)| dhcp_sent(std::slice::from_ref(f))[0].repr().message_type)
        .collect();
    assert_eq!(
        &kinds[..3],
        &[
            MessageType::Request,
            MessageType::Request,
            MessageType::Discover
        ]
    );
}

/// Replies that are not for us, or that cannot be used, are dropped and
/// counted; the client keeps its state.
#[test]
fn hostile_replies_are_dropped() {
    let (mut s, id) = bare_stack(11);
    s.dhcp_start(id, &config()).unwrap();
    let xid = dhcp_sent(&run(&mut s, T0, id))[0].repr().xid;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            reply(MessageType::Offer, xid ^ 1, OFFERED, |_| {}),
            "wrong xid",
        ),
        (
            reply(MessageType::Offer, xid, OFFERED, |r| {
                r.client_hw = OTHER_MAC
            }),
            "other hardware address",
        ),
        (
            reply(MessageType::Ack, xid, OFFERED, |_| {}),
            "ACK while selecting",
        ),
        (
            reply(MessageType::Offer, xid, OFFERED, |r| {
                r.your_ip = Ipv4Addr::new(224, 0, 0, 5)
            }),
            "multicast address offered",
        ),
        (
            reply(MessageType::Offer, xid, OFFERED, |r| r.server_id = None),
            "no server identifier",
        ),
        (
            reply(MessageType::Offer, xid, OFFERED, |r| r.op = OpCode::Request),
            "a request",
        ),
    ];
    for (dropped, (frame, why)) in cases.iter().enumerate() {
        let dropped = dropped as u64;
        let out = input(&mut s, T0, id, frame);
        assert!(dhcp_sent(&out).is_empty(), "{why}: answered");
        assert_eq!(s.dhcp_state(id), DhcpState::Selecting, "{why}");
        let d = s.stats().dhcp;
        assert_eq!(
            d.drop_unexpected + d.drop_bogus,
            dropped + 1,
            "{why}: counted"
        );
    }
    // Options running past the end of the packet.
    let mut bad = reply(MessageType::Offer, xid, OFFERED, |_| {});
    let opts = 14 + 20 + 8 + 240;
    bad[opts + 1] = 200; // option 53's length: far past the end

    let fixed = fix_udp_checksum(bad);
    input(&mut s, T0, id, &fixed);
    assert_eq!(s.stats().dhcp.drop_malformed, 1);
    assert_eq!(s.dhcp_state(id), DhcpState::Selecting);

    // Once an offer is chosen, another server's ACK is not taken.
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Offer, xid, OFFERED, |_| {}),
    );
    let rogue = reply(MessageType::Ack, xid, OFFERED, |r| {
        r.server_id = Some(OTHER_IP);
        r.your_ip = Ipv4Addr::new(192, 0, 2, 66);
    });
    input(&mut s, T0, id, &rogue);
    assert_eq!(s.dhcp_state(id), DhcpState::Requesting);
    assert_eq!(s.stats().dhcp.drop_unexpected, 5);
}

/// Recomputes the UDP checksum of a frame built by `reply` after an edit.
fn fix_udp_checksum(mut frame: Vec<u8>) -> Vec<u8> {
    use wolfip_core::wire::UdpPacket;
    let mut p = UdpPacket::new_unchecked(&mut frame[34..]);
    p.set_checksum(0);
    let dst = Ipv4Addr::new(frame[30], frame[31], frame[32], frame[33]);
    let mut p = UdpPacket::new_unchecked(&mut frame[34..]);
    p.fill_checksum(SERVER, dst);
    frame
}

/// A unicast datagram to an address we do not hold reaches the DHCP client
/// only on port 68 and only while it waits for an offer or ACK; sockets and
/// ICMP never see it.
#[test]
fn unicast_before_configuration_only_reaches_dhcp() {
    let (mut s, id) = bare_stack(12);
    let u = s.udp_open().unwrap();
    s.udp_bind(u, sock(Ipv4Addr::UNSPECIFIED, 9)).unwrap();
    let stray = ip_frame(
        SERVER,
        OFFERED,
        IpProtocol::Udp,
        &udp_packet(SERVER, OFFERED, 67, 9, b"x"),
    );
    assert!(input(&mut s, T0, id, &stray).is_empty());
    s.dhcp_start(id, &config()).unwrap();
    run(&mut s, T0, id);
    let out = input(&mut s, T0, id, &stray);
    assert!(out.is_empty(), "no ICMP error, nothing delivered");
    assert!(s.udp_recv_from(u, &mut [0u8; 8]).is_err());
    assert_eq!(s.stats().ip.drop_not_for_us, 2);
}

/// The client keeps its own state: with every UDP socket of the build open
/// it still gets its lease.
#[test]
fn takes_no_socket_slot() {
    let (mut s, id) = bare_stack(13);
    for _ in 0..UDP_SOCKETS {
        s.udp_open().unwrap();
    }
    s.dhcp_start(id, &config()).unwrap();
    let xid = dhcp_sent(&run(&mut s, T0, id))[0].repr().xid;
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Offer, xid, OFFERED, |_| {}),
    );
    input(
        &mut s,
        T0,
        id,
        &reply(MessageType::Ack, xid, OFFERED, |_| {}),
    );
    run_until(&mut s, id, T0, T0 + Duration::from_secs(3));
    assert_eq!(s.dhcp_state(id), DhcpState::Bound);
}

/// Start-up errors.
#[test]
fn start_errors() {
    let (mut s, id) = bare_stack(14);
    assert_eq!(
        s.dhcp_start(IfaceId(9), &config()),
        Err(DhcpError::NoSuchInterface)
    );
    assert_eq!(
        s.dhcp_start(IfaceId::LOOPBACK, &config()),
        Err(DhcpError::NoSuchInterface)
    );
    let long = "h".repeat(wolfip_core::config::DHCP_HOSTNAME_LEN + 1);
    let bad = DhcpConfig {
        hostname: Some(&long),
        ..config()
    };
    assert_eq!(s.dhcp_start(id, &bad), Err(DhcpError::BadHostname));
    let bad = DhcpConfig {
        client_id: Some(&[1]),
        ..config()
    };
    assert_eq!(s.dhcp_start(id, &bad), Err(DhcpError::BadClientId));
    s.dhcp_start(id, &config()).unwrap();
    assert_eq!(s.dhcp_start(id, &config()), Err(DhcpError::AlreadyRunning));
}

/// 5,000 mutated server messages (checksums fixed, so they reach the
/// client) through the stack in each waiting state: no panic, every one
/// counted, and the client still finishes an exchange afterwards.
#[test]
fn mutated_replies_through_the_stack() {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut s, id) = bare_stack(15);
    s.dhcp_start(id, &config()).unwrap();
    let mut xid = dhcp_sent(&run(&mut s, T0, id))[0].repr().xid;
    let mut accepted = 0;
    let kinds = [MessageType::Offer, MessageType::Ack, MessageType::Nak];
    for i in 0..5_000u64 {
        let kind = kinds[(i % 3) as usize];
        let mut f = reply(kind, xid, OFFERED, |_| {});
        let payload = 14 + 20 + 8;
        for _ in 0..1 + next() % 8 {
            let at = payload + (next() as usize % (f.len() - payload));
            f[at] ^= 1 << (next() % 8);
        }
        let f = fix_udp_checksum(f);
        let now = T0 + ms(i);
        s.receive(now, id, &f);
        run(&mut s, now, id);
        if s.dhcp_state(id) != DhcpState::Selecting {
            // A mutation that still reads as a valid OFFER moved the
            // client on: start over from a fresh client.
            accepted += 1;
            s.dhcp_stop(id).unwrap();
            events(&mut s);
            s.dhcp_start(id, &config()).unwrap();
            let sent = dhcp_sent(&run(&mut s, now, id));
            xid = sent.last().map_or(xid, |m| m.repr().xid);
        }
    }
    let d = s.stats().dhcp;
    assert!(d.rx >= 5_000, "{d:?}");
    assert!(
        d.drop_malformed + d.drop_unexpected + d.drop_bogus > 1_000,
        "{d:?}"
    );
    assert!(
        d.drop_malformed > 100,
        "mutations reached the parser: {d:?}"
    );
    assert!(accepted > 0, "some mutations still read as a valid offer");
}
