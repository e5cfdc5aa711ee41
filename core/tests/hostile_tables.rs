//! Tables an outsider can fill (issue 8): a flood fills each one, a
//! legitimate user of the same table still gets through, and once the
//! flood stops and its timers run out [`Stack::occupancy`] is back to the
//! idle figure.

mod common;
mod tcp_common;

use common::*;
use wolfip_core::config::{
    ARP_ENTRIES, ARP_MAX_REQUESTS, ARP_PENDING, ARP_REACHABLE_SECS, ARP_RETRY_MS, PMTU_ENTRIES,
    REASM_BUFFERS, REASM_TIMEOUT_MS,
};
use wolfip_core::wire::{ArpOperation, EthernetAddress, IpProtocol};
use wolfip_core::{IfaceId, Instant, Ipv4Addr, Occupancy, Stack, UdpHandle};

/// The `n`th spoofed on-link source (192.0.2.100 on).
fn spoofed(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, 100 + n as u8)
}

/// An echo service on UDP port 7: the flood's trigger. It answers every
/// datagram, so each one from an address nobody answers ARP for (a
/// spoofed on-link source) makes the stack resolve that address. (An
/// application's answer, not ICMP's or TCP's, so no rate limit of the
/// stack's own replies changes what these tests see.)
fn echo_service(s: &mut Stack) -> UdpHandle {
    let u = s.udp_open().unwrap();
    s.udp_bind(u, sock(Ipv4Addr::UNSPECIFIED, 7)).unwrap();
    u
}

/// A datagram from `src` to the echo service, and its answer; returns
/// the frames sent.
fn echo_from(
    s: &mut Stack,
    id: IfaceId,
    echo: UdpHandle,
    src: Ipv4Addr,
    now: Instant,
) -> Vec<Vec<u8>> {
    let f = ip_frame(
        src,
        OUR_IP,
        IpProtocol::Udp,
        &udp_packet(src, OUR_IP, 1000, 7, b"flood"),
    );
    let mut out = input(s, now, id, &f);
    let mut buf = [0u8; 16];
    let (n, meta) = s.udp_recv_from(echo, &mut buf).expect("delivered");
    s.udp_send_to(echo, &buf[..n], Some(meta.from), now)
        .unwrap();
    out.extend(run(s, now, id));
    out
}

/// The peer (which asked for us, see `stack_with_peer`) becomes a
/// neighbour we talk to: the echo service answers it once.
fn talk_to_peer(s: &mut Stack, id: IfaceId, echo: UdpHandle) {
    let out = echo_from(s, id, echo, PEER_IP, T0);
    assert_eq!(out.len(), 1, "answered at once: {out:02x?}");
}

/// The ARP requests among `frames`, by target address.
fn requests_for(frames: &[Vec<u8>]) -> Vec<Ipv4Addr> {
    frames
        .iter()
        .filter(|f| is_arp(f))
        .map(|f| parse_arp(f).1)
        .filter(|a| a.operation == ArpOperation::Request)
        .map(|a| a.target_protocol_addr)
        .collect()
}

/// `ip` at `mac` answers our request.
fn reply_from(ip: Ipv4Addr, mac: EthernetAddress) -> Vec<u8> {
    arp_frame(OUR_MAC, ArpOperation::Reply, mac, ip, OUR_MAC, OUR_IP)
}

/// Sends one UDP datagram to a new on-link neighbour `to` (at `mac`) and
/// checks that it is resolved and the datagram delivered.
fn legit_datagram_gets_through(
    s: &mut Stack,
    id: IfaceId,
    now: Instant,
    to: Ipv4Addr,
    mac: EthernetAddress,
) {
    let u = s.udp_open().unwrap();
    s.udp_send_to(u, b"legit", Some(sock(to, 9)), now).unwrap();
    let out = run(s, now, id);
    assert_eq!(
        requests_for(&out),
        [to],
        "a request for the new neighbour, whatever the flood"
    );
    let out = input(s, now, id, &reply_from(to, mac));
    let udp: Vec<_> = out
        .iter()
        .filter(|f| !is_arp(f))
        .map(|f| parse_ip(f))
        .collect();
    assert_eq!(udp.len(), 1, "the datagram leaves once resolved");
    assert_eq!((udp[0].eth.dst_addr, udp[0].ip.dst_addr), (mac, to));
    assert_eq!(parse_udp(&udp[0]).1, b"legit");
    s.udp_close(u);
}

/// Runs the stack through `secs` seconds, a second at a time.
fn let_time_pass(s: &mut Stack, id: IfaceId, mut now: Instant, secs: u64) -> Instant {
    for _ in 0..secs {
        now += ms(1000);
        run(s, now, id);
    }
    now
}

/// Long enough for every ARP entry to age out or fail.
const ARP_DRAIN_SECS: u64 =
    ARP_REACHABLE_SECS as u64 + 2 * (ARP_MAX_REQUESTS as u64 + 1) * ARP_RETRY_MS as u64 / 1000 + 5;

/// Spoofed on-link sources, one per frame, make us resolve each of them
/// (RFC 1122 §2.3.2.2 lets frames wait for resolution): the ARP_PENDING
/// waiting-frame slots fill first. A new resolution still queues its frame
/// (the oldest waiting frame makes room, RFC 1122 §2.3.2.2 "the latest"
/// packet is the one kept) and goes out when its answer comes.
#[test]
fn arp_pending_flood_does_not_block_a_new_resolution() {
    let (mut s, id) = stack_with_peer(81);
    let echo = echo_service(&mut s);
    let idle = s.occupancy();
    let mut now = T0;
    for n in 0..ARP_PENDING + 2 {
        now += ms(1);
        echo_from(&mut s, id, echo, spoofed(n), now);
    }
    let o = s.occupancy();
    assert_eq!(o.tx_awaiting_arp, ARP_PENDING, "{o}");
    assert!(o.arp_entries < ARP_ENTRIES, "the cache is not full: {o}");

    legit_datagram_gets_through(&mut s, id, now, OTHER_IP, OTHER_MAC);
    assert!(s.stats().arp.drop_pending_full >= 2);

    let now = let_time_pass(&mut s, id, now, ARP_DRAIN_SECS);
    let o = s.occupancy();
    assert_eq!(
        o,
        Occupancy {
            arp_entries: 0,
            ..idle
        },
        "{o}"
    );
    // Usable again: the peer is resolved afresh.
    legit_datagram_gets_through(&mut s, id, now, PEER_IP, PEER_MAC);
}

/// A flood of spoofed on-link sources fills the ARP cache with
/// unresolved entries. A new resolution still gets an entry (the oldest
/// unresolved one makes room, never `CacheFull`), and the recently
/// confirmed entry of a live neighbour is never the one evicted.
#[test]
fn arp_cache_flood_neither_blocks_a_resolution_nor_evicts_a_live_neighbour() {
    let (mut s, id) = stack_with_peer(82);
    let echo = echo_service(&mut s);
    talk_to_peer(&mut s, id, echo);
    let idle = s.occupancy();
    let mut now = T0;
    for n in 0..3 * ARP_ENTRIES {
        now += ms(1);
        echo_from(&mut s, id, echo, spoofed(n), now);
    }
    let o = s.occupancy();
    assert_eq!(
        (o.arp_entries, o.arp_incomplete),
        (ARP_ENTRIES, ARP_ENTRIES - 1),
        "full; the peer's entry kept: {o}"
    );
    assert!(o.tx_awaiting_arp <= ARP_PENDING, "{o}");

    // The live neighbour: answered straight away, no new resolution.
    let out = echo_from(&mut s, id, echo, PEER_IP, now);
    assert_eq!(out.len(), 1, "{out:02x?}");
    assert_eq!(parse_ip(&out[0]).eth.dst_addr, PEER_MAC);

    legit_datagram_gets_through(&mut s, id, now, OTHER_IP, OTHER_MAC);

    let now = let_time_pass(&mut s, id, now, ARP_DRAIN_SECS);
    let o = s.occupancy();
    assert_eq!(
        o,
        Occupancy {
            arp_entries: 0,
            ..idle
        },
        "{o}"
    );
    legit_datagram_gets_through(&mut s, id, now, PEER_IP, PEER_MAC);
}

/// ARP requests for our address from many spoofed senders (RFC 826 would
/// have each one merged into the table) neither evict a recently
/// confirmed neighbour nor cancel a resolution in progress; the requests
/// are still answered.
#[test]
fn arp_request_flood_keeps_live_entries_and_resolutions_in_progress() {
    let (mut s, id) = stack_with_peer(83);
    let echo = echo_service(&mut s);
    talk_to_peer(&mut s, id, echo);
    let idle = s.occupancy();
    // A resolution in progress for OTHER_IP, a datagram waiting for it.
    let u = s.udp_open().unwrap();
    s.udp_send_to(u, b"waiting", Some(sock(OTHER_IP, 9)), T0)
        .unwrap();
    assert_eq!(requests_for(&run(&mut s, T0, id)), [OTHER_IP]);

    let mut now = T0;
    for n in 0..3 * ARP_ENTRIES {
        now += ms(1);
        let mac = EthernetAddress([0x02, 0, 0, 0, 0x10, n as u8]);
        input(&mut s, now, id, &arp_request(mac, spoofed(n), OUR_IP));
    }
    let o = s.occupancy();
    assert_eq!((o.arp_entries, o.arp_incomplete), (ARP_ENTRIES, 1), "{o}");

    let out = echo_from(&mut s, id, echo, PEER_IP, now);
    assert_eq!(out.len(), 1, "no new resolution for the peer");
    assert_eq!(parse_ip(&out[0]).eth.dst_addr, PEER_MAC);

    let out = input(&mut s, now, id, &reply_from(OTHER_IP, OTHER_MAC));
    assert_eq!(out.len(), 1, "the waiting datagram leaves");
    let f = parse_ip(&out[0]);
    assert_eq!(f.eth.dst_addr, OTHER_MAC);
    assert_eq!(parse_udp(&f).1, b"waiting");
    s.udp_close(u);

    let now = let_time_pass(&mut s, id, now, ARP_DRAIN_SECS);
    assert_eq!(
        s.occupancy(),
        Occupancy {
            arp_entries: 0,
            ..idle
        }
    );
    legit_datagram_gets_through(&mut s, id, now, OTHER_IP, OTHER_MAC);
}

/// First fragments of datagrams that never complete, from many spoofed
/// sources, take every reassembly buffer; a legitimate fragmented
/// datagram still reassembles (the oldest partial one is evicted, RFC 815
/// leaves the policy to the host), and the buffers drain on timeout.
#[test]
fn reassembly_flood_does_not_block_a_legitimate_datagram() {
    let (mut s, id) = stack_with_peer(84);
    let u = s.udp_open().unwrap();
    s.udp_bind(u, sock(Ipv4Addr::UNSPECIFIED, 7000)).unwrap();
    let idle = s.occupancy();
    let data = pattern(1, 3000);
    let mut now = T0;
    for n in 0..4 * REASM_BUFFERS {
        now += ms(1);
        let udp = udp_packet(spoofed(n), OUR_IP, 1000, 7000, &data);
        let repr = ip_repr(spoofed(n), OUR_IP, IpProtocol::Udp, udp.len());
        let first = &fragment_frames(&repr, &udp, 1024)[0];
        input(&mut s, now, id, first);
    }
    assert_eq!(s.occupancy().reassembly, REASM_BUFFERS);

    let udp = udp_packet(PEER_IP, OUR_IP, 1000, 7000, &data);
    let repr = ip_repr(PEER_IP, OUR_IP, IpProtocol::Udp, udp.len());
    for f in fragment_frames(&repr, &udp, 1024) {
        input(&mut s, now, id, &f);
    }
    let mut buf = [0u8; 4096];
    let (n, _) = s.udp_recv_from(u, &mut buf).expect("reassembled");
    assert_eq!(&buf[..n], &data[..]);

    let now = now + ms(REASM_TIMEOUT_MS as u64 + 1);
    run(&mut s, now, id);
    let o = s.occupancy();
    assert_eq!(o.reassembly, 0, "{o}");
    assert_eq!(
        Occupancy {
            arp_entries: idle.arp_entries,
            ..o
        },
        idle
    );
}

/// When a flood evicts an unresolved entry, the frames waiting for it are
/// dropped and counted with it: no frame slot waits for an address the
/// cache no longer resolves (nothing would ever release it).
#[test]
fn evicted_resolution_releases_its_waiting_frames() {
    let (mut s, id) = stack_with_peer(85);
    let echo = echo_service(&mut s);
    talk_to_peer(&mut s, id, echo);
    let idle = s.occupancy();
    let u = s.udp_open().unwrap();
    // OTHER_IP is the oldest unresolved entry...
    s.udp_send_to(u, b"first", Some(sock(OTHER_IP, 9)), T0)
        .unwrap();
    run(&mut s, T0, id);
    let mut now = T0;
    // ...the flood fills the cache up to one free slot...
    for n in 0..ARP_ENTRIES - 3 {
        now += ms(1);
        echo_from(&mut s, id, echo, spoofed(n), now);
    }
    // ...OTHER_IP gets the newest waiting frame...
    s.udp_send_to(u, b"second", Some(sock(OTHER_IP, 9)), now)
        .unwrap();
    run(&mut s, now, id);
    let o = s.occupancy();
    assert_eq!(o.arp_entries, ARP_ENTRIES - 1, "{o}");
    // ...and two more sources: the last evicts OTHER_IP's entry.
    for n in ARP_ENTRIES - 3..ARP_ENTRIES - 1 {
        now += ms(1);
        echo_from(&mut s, id, echo, spoofed(n), now);
    }
    let unresolved_before = s.stats().arp.drop_unresolved;
    let o = s.occupancy();
    assert_eq!(o.arp_entries, ARP_ENTRIES, "{o}");
    assert!(s.stats().arp.evictions >= 1);
    // OTHER_IP answers too late: its entry is gone, nothing is sent.
    let out = input(&mut s, now, id, &reply_from(OTHER_IP, OTHER_MAC));
    assert!(out.is_empty(), "{out:02x?}");
    s.udp_close(u);

    let now = let_time_pass(&mut s, id, now, ARP_DRAIN_SECS);
    let o = s.occupancy();
    assert_eq!(
        o,
        Occupancy {
            arp_entries: 0,
            ..idle
        },
        "{o}"
    );
    assert!(s.stats().arp.drop_unresolved > unresolved_before);
    legit_datagram_gets_through(&mut s, id, now, OTHER_IP, OTHER_MAC);
}

// ---------------------------------------------------------------------
// TCP: TIME-WAIT left by a peer that makes us close first, half-open
// requests that never complete, an accept queue the application is slow
// to drain.

use tcp_common::{Harness, Seg, PORT};
use wolfip_core::config::TCP_SOCKETS;
use wolfip_core::wire::TcpControl;
use wolfip_core::{Duration, TcpHandle};

const P: u32 = 9000;

/// The peer connects from `port` to our listener; returns our ISS. The
/// connection waits in the accept queue.
fn handshake(h: &mut Harness, port: u16) -> u32 {
    h.send(&Seg::to_us(TcpControl::Syn, P, None).with_ports(port, PORT));
    let synack = h.take_one();
    assert!(synack.is_syn(), "{synack:?}");
    let iss = synack.seq.0;
    h.send(&Seg::to_us(TcpControl::None, P + 1, Some(iss.wrapping_add(1))).with_ports(port, PORT));
    iss
}

/// A served connection from `port`: accepted, closed by us first (a
/// server that closes after its reply), then by the peer: TIME-WAIT,
/// held by the stack alone.
fn served_into_time_wait(h: &mut Harness, l: TcpHandle, port: u16) {
    let iss = handshake(h, port);
    let (c, _) = h.stack.tcp_accept(l).expect("accepted");
    h.close(c);
    assert!(h.take_one().is_fin());
    h.send(&Seg::to_us(TcpControl::Fin, P + 1, Some(iss.wrapping_add(2))).with_ports(port, PORT));
    assert!(!h.take_one().is_rst());
}

/// Drains every timer, closes `l`, and checks the tables are idle.
fn drains_to_idle(h: &mut Harness, l: TcpHandle, idle: Occupancy) {
    for _ in 0..300 {
        h.advance(Duration::from_secs(1));
    }
    let now = h.now;
    h.stack.tcp_close(l, now);
    h.run();
    let o = h.stack.occupancy();
    // The peer's ARP entry ages out (the scripted peer answers no poll).
    assert_eq!(
        o,
        Occupancy {
            arp_entries: 0,
            ..idle
        },
        "{o}"
    );
}

/// Clients that make us close first fill the socket table with
/// TIME-WAIT (RFC 9293 §3.10.7.4 keeps them 2 MSL). A new client is still
/// served: completing its handshake takes the oldest TIME-WAIT slot, as
/// lwIP's `tcp_kill_timewait` and Linux's `tcp_max_tw_buckets` do.
#[test]
fn time_wait_flood_does_not_lock_out_a_new_client() {
    let mut h = Harness::new(86);
    let idle = h.stack.occupancy();
    let l = h.listen(8);
    for k in 0..TCP_SOCKETS as u16 - 1 {
        served_into_time_wait(&mut h, l, 2000 + k);
    }
    let o = h.stack.occupancy();
    assert_eq!(
        (o.tcp_sockets, o.tcp_time_wait),
        (TCP_SOCKETS, TCP_SOCKETS - 1),
        "{o}"
    );

    let iss = handshake(&mut h, 3000);
    let (c, _) = h
        .stack
        .tcp_accept(l)
        .expect("a TIME-WAIT slot was reclaimed");
    assert_eq!(h.stack.stats().tcp.reclaimed, 1);
    h.send(
        &Seg::to_us(TcpControl::Psh, P + 1, Some(iss.wrapping_add(1)))
            .with_ports(3000, PORT)
            .with_payload(b"hello"),
    );
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(c, &mut buf), Ok(5));
    h.abort(c);
    h.take();
    drains_to_idle(&mut h, l, idle);
}

/// Half-open requests that never complete leave the SYN queue once their
/// SYN-ACK retransmissions run out (RFC 9293 §3.8.1's retransmission
/// limit); a legitimate client is served meanwhile and afterwards.
#[test]
fn unanswered_syn_ack_requests_time_out() {
    let mut h = Harness::new(87);
    let idle = h.stack.occupancy();
    let l = h.listen(8);
    for k in 0..6 {
        h.send(&Seg::to_us(TcpControl::Syn, P, None).with_ports(4000 + k, PORT));
    }
    assert_eq!(h.stack.occupancy().tcp_syn_queue, 6);
    assert_eq!(h.take().len(), 6, "six SYN-ACKs");
    handshake(&mut h, 4100);
    let (c, _) = h.stack.tcp_accept(l).expect("served while requests wait");
    h.abort(c);
    for _ in 0..300 {
        h.advance(Duration::from_secs(1));
    }
    let o = h.stack.occupancy();
    assert_eq!((o.tcp_syn_queue, o.tcp_sockets), (0, 1), "{o}");
    h.take();
    h.arp_refresh(); // the peer's entry aged out meanwhile
    handshake(&mut h, 4200);
    let (c, _) = h.stack.tcp_accept(l).expect("served afterwards");
    h.abort(c);
    h.take();
    drains_to_idle(&mut h, l, idle);
}

/// Connections the application has not accepted fill the listener's
/// backlog (Linux counts requests and unaccepted connections together);
/// no more are taken until it accepts, and then new clients are served.
#[test]
fn full_accept_queue_recovers_once_accepted() {
    let mut h = Harness::new(88);
    let idle = h.stack.occupancy();
    let l = h.listen(2);
    handshake(&mut h, 5000);
    handshake(&mut h, 5001);
    assert_eq!(h.stack.occupancy().tcp_accept_queue, 2);
    h.send(&Seg::to_us(TcpControl::Syn, P, None).with_ports(5002, PORT));
    h.take();
    let o = h.stack.occupancy();
    assert_eq!((o.tcp_accept_queue, o.tcp_syn_queue), (2, 0), "{o}");
    let a = h.stack.tcp_accept(l).unwrap().0;
    let b = h.stack.tcp_accept(l).unwrap().0;
    assert!(h.stack.tcp_accept(l).is_err());
    handshake(&mut h, 5003);
    let c = h
        .stack
        .tcp_accept(l)
        .expect("served once the queue drained")
        .0;
    assert_eq!(
        h.stack.tcp_state(c),
        Some(wolfip_core::TcpState::Established)
    );
    for x in [a, b, c] {
        h.abort(x);
    }
    h.take();
    drains_to_idle(&mut h, l, idle);
}

// ---------------------------------------------------------------------
// Path MTU: "fragmentation needed" from spoofed routers.

/// A "fragmentation needed" from a router at `router`, quoting a datagram
/// we sent to `dst`, reporting `mtu`.
fn frag_needed(router: Ipv4Addr, dst: Ipv4Addr, mtu: u16) -> Vec<u8> {
    let quoted = ip_packet(&ip_repr(OUR_IP, dst, IpProtocol::Udp, 1472), &[0; 8]);
    let icmp = icmp_unreachable(
        wolfip_core::wire::DstUnreachable::FragRequired,
        mtu,
        &quoted,
    );
    ip_frame(router, OUR_IP, IpProtocol::Icmp, &icmp)
}

/// Reports for many destinations (RFC 1191 §6.3 keeps each ten minutes)
/// take at most `PMTU_ENTRIES` entries; the newest report always gets one
/// (the oldest entry makes room), none lowers a path below `PMTU_MIN`
/// (552, Linux's `min_pmtu`), and the entries are freed once they expire,
/// so the table goes back to idle.
#[test]
fn pmtu_flood_is_bounded_floored_and_expires() {
    let (mut s, id) = stack_with_peer(89);
    let idle = s.occupancy();
    let mut now = T0;
    let dst = |n: usize| Ipv4Addr::new(198, 51, 100, n as u8 + 1);
    for n in 0..4 * PMTU_ENTRIES {
        now += ms(1);
        input(&mut s, now, id, &frag_needed(spoofed(n), dst(n), 20));
        assert_eq!(
            s.path_mtu(dst(n), now),
            Some(wolfip_core::config::PMTU_MIN),
            "floor of PMTU_MIN"
        );
    }
    assert_eq!(s.occupancy().pmtu_entries, PMTU_ENTRIES);
    let legit = Ipv4Addr::new(203, 0, 113, 9);
    input(&mut s, now, id, &frag_needed(PEER_IP, legit, 1400));
    assert_eq!(s.path_mtu(legit, now), Some(1400), "the newest is kept");
    assert_eq!(s.path_mtu(dst(0), now), None, "the oldest made room");
    assert_eq!(s.occupancy().pmtu_entries, PMTU_ENTRIES);

    let now = let_time_pass(&mut s, id, now, 601);
    assert_eq!(s.path_mtu(legit, now), None);
    let o = s.occupancy();
    assert_eq!(
        o,
        Occupancy {
            arp_entries: 0,
            ..idle
        },
        "{o}"
    );
}
