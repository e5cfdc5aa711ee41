//! ARP (RFC 826, RFC 1122 §2.3.2, RFC 5227) driven through `Stack` with
//! hand-built frames.

mod common;

use common::*;
use wolfip_core::config::{
    ARP_ENTRIES, ARP_MAX_REQUESTS, ARP_PENDING, ARP_REACHABLE_SECS, ARP_RETRY_MS, UDP_TX_DATAGRAMS,
};
use wolfip_core::wire::{ArpOperation, EtherType, EthernetAddress, IpProtocol};
use wolfip_core::{Ipv4Addr, Stack, UdpHandle};

fn request_from_peer(target: Ipv4Addr) -> Vec<u8> {
    arp_request(PEER_MAC, PEER_IP, target)
}

/// Asserts `frame` is our broadcast request for `target`.
fn assert_request_for(frame: &[u8], target: Ipv4Addr) {
    let (eth, arp) = parse_arp(frame);
    assert_eq!(eth.dst_addr, EthernetAddress::BROADCAST);
    assert_eq!(eth.src_addr, OUR_MAC);
    assert_eq!(arp.operation, ArpOperation::Request);
    assert_eq!(arp.source_hardware_addr, OUR_MAC);
    assert_eq!(arp.source_protocol_addr, OUR_IP);
    assert_eq!(arp.target_hardware_addr, EthernetAddress::default());
    assert_eq!(arp.target_protocol_addr, target);
}

fn udp_socket(s: &mut Stack) -> UdpHandle {
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(Ipv4Addr::UNSPECIFIED, 7000)).unwrap();
    h
}

/// RFC 826 "Packet Reception": a request for our protocol address is
/// answered with a reply whose fields are swapped and filled in exactly, and
/// the requester is merged into the table ("?Am I the target protocol
/// address? Yes: ... merge the <protocol type, sender protocol address,
/// sender hardware address> triplet").
#[test]
fn answers_request_for_our_address_and_learns_requester() {
    let (mut s, id) = stack(1);
    let out = input(&mut s, T0, id, &request_from_peer(OUR_IP));
    assert_eq!(out.len(), 1);
    let (eth, arp) = parse_arp(&out[0]);
    assert_eq!(eth.dst_addr, PEER_MAC, "reply is unicast to the requester");
    assert_eq!(eth.src_addr, OUR_MAC);
    assert_eq!(eth.ethertype, EtherType::Arp);
    assert_eq!(arp.operation, ArpOperation::Reply);
    assert_eq!(arp.source_hardware_addr, OUR_MAC);
    assert_eq!(arp.source_protocol_addr, OUR_IP);
    assert_eq!(arp.target_hardware_addr, PEER_MAC);
    assert_eq!(arp.target_protocol_addr, PEER_IP);
    assert_eq!(out[0].len(), 14 + 28);

    let learned: Vec<_> = s.arp_entries(id).collect();
    assert_eq!(learned, [(PEER_IP, PEER_MAC)]);
    assert_eq!(s.stats().arp.rx, 1);
    assert_eq!(s.stats().arp.tx_replies, 1);

    // Learned: a datagram to the peer leaves at once, without a request.
    let h = udp_socket(&mut s);
    s.udp_send_to(h, b"hi", Some(sock(PEER_IP, 9)), T0).unwrap();
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 1);
    let f = parse_ip(&out[0]);
    assert_eq!(f.eth.dst_addr, PEER_MAC);
    assert_eq!(s.stats().arp.tx_requests, 1, "only the announcement");
}

/// RFC 826 "Packet Reception": when we are not the target, nothing is sent
/// and (the sender being unknown) nothing is merged.
#[test]
fn ignores_request_for_another_address() {
    let (mut s, id) = stack(2);
    let out = input(&mut s, T0, id, &request_from_peer(OTHER_IP));
    assert!(out.is_empty());
    assert_eq!(s.arp_entries(id).count(), 0);
    assert_eq!(s.stats().arp.tx_replies, 0);
    assert_eq!(s.stats().arp.rx, 1);
}

/// RFC 826 "Packet Reception": the merge step only updates existing
/// entries; a reply nobody asked for finds none and creates none.
#[test]
fn unsolicited_reply_creates_no_entry() {
    let (mut s, id) = stack(3);
    let out = input(&mut s, T0, id, &peer_arp_reply());
    assert!(out.is_empty());
    assert_eq!(s.arp_entries(id).count(), 0);
    assert_eq!(s.stats().arp.unsolicited_replies, 1);
}

/// RFC 826 "Packet Reception" merge: a known sender announcing a new
/// hardware address (gratuitous ARP) updates the entry even though we are
/// not the target.
#[test]
fn known_sender_is_updated_by_gratuitous_arp() {
    let (mut s, id) = stack_with_peer(4);
    let new_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x99]);
    let g = arp_request(new_mac, PEER_IP, PEER_IP);
    assert!(input(&mut s, T0, id, &g).is_empty());
    assert_eq!(s.arp_entries(id).collect::<Vec<_>>(), [(PEER_IP, new_mac)]);
}

/// RFC 5227 §2.3: setting an address sends an ARP Announcement, a request
/// whose sender and target protocol addresses are both the new address and
/// whose target hardware address is zero.
#[test]
fn gratuitous_arp_when_address_is_set() {
    let (mut s, id) = bare_stack(5);
    assert!(run(&mut s, T0, id).is_empty());
    s.set_ipv4(id, Some(cidr("192.0.2.2/24"))).unwrap();
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 1);
    assert_request_for(&out[0], OUR_IP);
    assert_eq!(s.stats().arp.tx_requests, 1);
    // Removing the address announces nothing.
    s.set_ipv4(id, None).unwrap();
    assert!(run(&mut s, T0, id).is_empty());
}

/// RFC 1122 §2.3.2.2 (queue at least one datagram while resolving) and
/// §2.3.2.1 (requests for one address at most once per second, here
/// `ARP_RETRY_MS`): one broadcast request at once, no extra request however
/// often the stack is polled inside the interval, the next one exactly at the
/// interval; the answer releases the queued datagram with the right MAC.
#[test]
fn unresolved_neighbour_is_queued_and_requests_are_rate_limited() {
    let (mut s, id) = stack(6);
    let h = udp_socket(&mut s);
    s.udp_send_to(h, b"queued", Some(sock(PEER_IP, 9)), T0)
        .unwrap();
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 1, "exactly one request, the datagram waits");
    assert_request_for(&out[0], PEER_IP);
    let retry = ms(ARP_RETRY_MS as u64);
    assert_eq!(s.poll_at(T0), Some(T0 + retry));

    let mut dev = Capture::new();
    let mut now = T0;
    while now < T0 + retry {
        s.poll(now, id, &mut dev);
        now += ms(7);
    }
    assert!(
        dev.tx.is_empty(),
        "rate limit: {} extra frames",
        dev.tx.len()
    );

    s.poll(T0 + retry, id, &mut dev);
    let out = dev.take();
    assert_eq!(out.len(), 1);
    assert_request_for(&out[0], PEER_IP);
    assert_eq!(s.stats().arp.tx_requests, 3, "announcement + two requests");

    let out = input(&mut s, T0 + retry + ms(1), id, &peer_arp_reply());
    assert_eq!(out.len(), 1);
    let f = parse_ip(&out[0]);
    assert_eq!(f.eth.dst_addr, PEER_MAC);
    assert_eq!(f.eth.src_addr, OUR_MAC);
    assert_eq!(f.ip.dst_addr, PEER_IP);
    let (udp, data) = parse_udp(&f);
    assert_eq!((udp.src_port, udp.dst_port), (7000, 9));
    assert_eq!(data, b"queued");
    assert_eq!(s.arp_entries(id).collect::<Vec<_>>(), [(PEER_IP, PEER_MAC)]);
}

/// RFC 1122 §2.3.2.2: the first datagram to an unresolved neighbour must not
/// be lost. A ping from a host we have no entry for is answered once the
/// host's ARP reply arrives.
#[test]
fn first_ping_gets_through() {
    let (mut s, id) = stack(7);
    let out = input(&mut s, T0, id, &ping_frame(0x77, 1, b"first"));
    assert_eq!(out.len(), 1);
    assert_request_for(&out[0], PEER_IP);
    let out = input(&mut s, T0 + ms(3), id, &peer_arp_reply());
    assert_eq!(out.len(), 1);
    let f = parse_ip(&out[0]);
    assert_eq!(f.eth.dst_addr, PEER_MAC);
    assert_eq!(f.ip.protocol, IpProtocol::Icmp);
    let (ty, code, rest, data) = parse_icmp(&f.payload);
    assert_eq!((ty, code), (0, 0));
    assert_eq!(rest, [0, 0x77, 0, 1]);
    assert_eq!(data, b"first");
}

/// RFC 1122 §2.3.2.1/§2.3.2.2: after `ARP_MAX_REQUESTS` unanswered
/// requests the queued datagrams are dropped and counted; a late reply then
/// releases nothing.
#[test]
fn unanswered_resolution_drops_queued_frames() {
    let (mut s, id) = stack(8);
    let h = udp_socket(&mut s);
    s.udp_send_to(h, b"a", Some(sock(PEER_IP, 9)), T0).unwrap();
    s.udp_send_to(h, b"b", Some(sock(PEER_IP, 9)), T0).unwrap();
    let retry = ms(ARP_RETRY_MS as u64);
    let mut requests = 0;
    let mut now = T0;
    for _ in 0..ARP_MAX_REQUESTS {
        let out = run(&mut s, now, id);
        assert_eq!(out.len(), 1, "one request per interval");
        assert_request_for(&out[0], PEER_IP);
        requests += 1;
        assert_eq!(s.stats().arp.drop_unresolved, 0);
        now += retry;
    }
    assert_eq!(requests, ARP_MAX_REQUESTS);
    assert!(run(&mut s, now, id).is_empty(), "no request after the last");
    assert_eq!(s.stats().arp.drop_unresolved, 2);
    assert_eq!(s.poll_at(now), None, "nothing left to do");
    assert!(input(&mut s, now + ms(1), id, &peer_arp_reply()).is_empty());
    assert_eq!(s.stats().arp.unsolicited_replies, 1);
}

/// RFC 1122 §2.3.2.2 lets the queue be bounded: at most `ARP_PENDING`
/// frames wait for resolution; the rest are dropped and counted, and the
/// ones kept all leave when the answer comes.
#[test]
fn pending_limit_is_enforced() {
    let (mut s, id) = stack(9);
    let total = ARP_PENDING + 2;
    let sockets: Vec<UdpHandle> = (0..total.div_ceil(UDP_TX_DATAGRAMS))
        .map(|_| {
            let h = s.udp_open().unwrap();
            s.udp_bind(h, sock(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
            h
        })
        .collect();
    for i in 0..total {
        let h = sockets[i / UDP_TX_DATAGRAMS];
        s.udp_send_to(h, &[i as u8], Some(sock(PEER_IP, 9)), T0)
            .unwrap();
    }
    let out = run(&mut s, T0, id);
    assert_eq!(out.len(), 1, "a single request for all of them");
    assert_request_for(&out[0], PEER_IP);
    assert_eq!(s.stats().arp.drop_pending_full, 2);

    let out = input(&mut s, T0 + ms(1), id, &peer_arp_reply());
    assert_eq!(out.len(), ARP_PENDING);
    let sent: Vec<u8> = out.iter().map(|f| parse_udp(&parse_ip(f)).1[0]).collect();
    assert_eq!(sent, (0..ARP_PENDING as u8).collect::<Vec<_>>(), "in order");
}

/// RFC 5227 §2.4 (ongoing address conflict detection): a packet whose
/// sender protocol address is ours is a conflict; it is counted and never
/// learned, whether request or reply.
#[test]
fn conflicting_claim_of_our_address_is_not_learned() {
    let (mut s, id) = stack(10);
    let claim = arp_request(OTHER_MAC, OUR_IP, OUR_IP);
    assert!(input(&mut s, T0, id, &claim).is_empty());
    let reply = arp_frame(
        OUR_MAC,
        ArpOperation::Reply,
        OTHER_MAC,
        OUR_IP,
        OUR_MAC,
        OUR_IP,
    );
    assert!(input(&mut s, T0, id, &reply).is_empty());
    assert_eq!(s.stats().arp.drop_conflict, 2);
    assert_eq!(s.arp_entries(id).count(), 0);
    // Our own address still goes through loopback, never to the claimant.
    let h = udp_socket(&mut s);
    s.udp_send_to(h, b"x", Some(sock(OUR_IP, 9)), T0).unwrap();
    assert!(run(&mut s, T0, id).is_empty());
}

/// RFC 826: frames not addressed to our MAC (nor broadcast) are not ours,
/// and ARP for a non-Ethernet/IPv4 pair is discarded.
#[test]
fn foreign_unicast_and_unsupported_hardware_are_dropped() {
    let (mut s, id) = stack(11);
    let mut f = request_from_peer(OUR_IP);
    f[..6].copy_from_slice(&OTHER_MAC.0);
    assert!(input(&mut s, T0, id, &f).is_empty());
    assert_eq!(s.stats().eth.drop_not_for_us, 1);
    let mut f = request_from_peer(OUR_IP);
    f[14 + 1] = 6; // ar$hrd = 6 (IEEE 802)
    assert!(input(&mut s, T0, id, &f).is_empty());
    assert_eq!(s.stats().arp.drop_malformed, 1);
    assert_eq!(s.arp_entries(id).count(), 0);
}

/// RFC 1122 §2.3.2.1 ("unicast poll"): an entry past `ARP_REACHABLE_SECS`
/// is still used, and re-confirmed with a request sent unicast to the cached
/// address; when those go unanswered the entry is flushed and the next
/// datagram starts a broadcast resolution.
#[test]
fn stale_entry_is_reconfirmed_by_unicast_poll() {
    let (mut s, id) = stack_with_peer(12);
    let h = udp_socket(&mut s);
    let stale = T0 + ms(ARP_REACHABLE_SECS as u64 * 1000 + 1);
    s.udp_send_to(h, b"late", Some(sock(PEER_IP, 9)), stale)
        .unwrap();
    let out = run(&mut s, stale, id);
    assert_eq!(out.len(), 2, "the datagram and a unicast poll");
    let f = parse_ip(&out[0]);
    assert_eq!(f.eth.dst_addr, PEER_MAC, "stale entries are still used");
    let (eth, arp) = parse_arp(&out[1]);
    assert_eq!(eth.dst_addr, PEER_MAC, "the poll is unicast");
    assert_eq!(arp.operation, ArpOperation::Request);
    assert_eq!(arp.target_protocol_addr, PEER_IP);

    // No answer: ARP_MAX_REQUESTS polls in all, then the entry is gone.
    let retry = ms(ARP_RETRY_MS as u64);
    let mut now = stale;
    let mut polls = 1;
    for _ in 0..ARP_MAX_REQUESTS + 1 {
        now += retry;
        polls += run(&mut s, now, id).len();
    }
    assert_eq!(polls, ARP_MAX_REQUESTS);
    assert_eq!(s.arp_entries(id).count(), 0);
    s.udp_send_to(h, b"again", Some(sock(PEER_IP, 9)), now)
        .unwrap();
    let out = run(&mut s, now, id);
    assert_eq!(out.len(), 1);
    assert_request_for(&out[0], PEER_IP);
}

/// RFC 826 with a bounded table: when every entry is in use, a new
/// requester replaces the least recently confirmed entry of another
/// requester (never a neighbour we talk to: see rate_limits.rs), and the
/// eviction is counted.
#[test]
fn full_cache_evicts_the_oldest_entry_and_counts_it() {
    let (mut s, id) = stack(13);
    for i in 0..=ARP_ENTRIES {
        let ip = Ipv4Addr::new(192, 0, 2, 10 + i as u8);
        let mac = EthernetAddress([0x02, 0, 0, 0, 0x10, i as u8]);
        let req = arp_request(mac, ip, OUR_IP);
        assert_eq!(input(&mut s, T0 + ms(i as u64), id, &req).len(), 1);
    }
    let entries: Vec<Ipv4Addr> = s.arp_entries(id).map(|(ip, _)| ip).collect();
    assert_eq!(entries.len(), ARP_ENTRIES);
    assert!(
        !entries.contains(&Ipv4Addr::new(192, 0, 2, 10)),
        "oldest evicted"
    );
    assert!(entries.contains(&Ipv4Addr::new(192, 0, 2, 10 + ARP_ENTRIES as u8)));
    assert_eq!(s.stats().arp.evictions, 1);
}
