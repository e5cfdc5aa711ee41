//! Two stacks over the deterministic simulated link (`phy::sim`): ARP
//! across the link, an ICMP echo exchange, and a UDP request/response
//! workload (including 3000-byte datagrams that fragment) under seeded loss,
//! duplication, reordering and corruption. Time jumps straight to the next
//! event: `min(poll_at of both stacks, link.next_delivery(), app timers)`.

use std::collections::BTreeMap;

mod sim_common;
use sim_common::*;

use wolfip_core::phy::sim::{LinkConfig, Side};
use wolfip_core::phy::Device;
use wolfip_core::stats::Stats;
use wolfip_core::wire::{
    EtherType, EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet,
    Ipv4Repr,
};
use wolfip_core::{Duration, Instant, Ipv4Addr, SocketAddrV4, Stack, UdpHandle, UdpSendError};

/// The pair of these tests: B seeded with `seed ^ 0xb0b`, and every frame
/// A receives logged in `a_rx`.
fn pair(seed: u64, cfg: LinkConfig) -> Pair {
    Pair::seeded(seed, seed ^ 0xb0b, cfg).with_a_rx_log()
}

fn sa(ip: Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

/// RFC 826 across a link: A's first datagram to B makes A ask, B answers
/// (and learns A from the request), the datagram arrives once.
#[test]
fn arp_resolution_across_the_link() {
    let mut p = pair(
        1,
        LinkConfig {
            delay: Duration::from_millis(1),
            ..LinkConfig::default()
        },
    );
    p.settle();
    let ha = p.a.udp_open().unwrap();
    let hb = p.b.udp_open().unwrap();
    p.b.udp_bind(hb, sa(IP_B, 7)).unwrap();
    p.a.udp_send_to(ha, b"hello", Some(sa(IP_B, 7)), p.now)
        .unwrap();
    let start = p.now;
    let mut got = None;
    for _ in 0..100 {
        p.poll();
        let mut buf = [0u8; 16];
        if let Ok((n, meta)) = p.b.udp_recv_from(hb, &mut buf) {
            got = Some((buf[..n].to_vec(), meta.from));
            break;
        }
        p.advance_to_event(None);
    }
    let (data, from) = got.expect("delivered");
    assert_eq!(data, b"hello");
    assert_eq!(*from.ip(), IP_A);
    assert_eq!(p.a.arp_entries(p.ia).collect::<Vec<_>>(), [(IP_B, MAC_B)]);
    assert_eq!(p.b.arp_entries(p.ib).collect::<Vec<_>>(), [(IP_A, MAC_A)]);
    // Request, reply, datagram: three one-way delays.
    assert_eq!(p.now - start, Duration::from_millis(3));
    assert_eq!(p.a.stats().arp.tx_requests, 2, "announcement + request");
    assert_eq!(p.b.stats().arp.tx_replies, 1);
}

/// RFC 792 echo across the link: echo requests put on A's side of the wire
/// reach B, which resolves A (stack A answers its ARP request) and answers
/// each with an exact echo reply (checked as stack A receives it).
#[test]
fn icmp_echo_exchange_across_the_link() {
    let mut p = pair(
        2,
        LinkConfig {
            delay: Duration::from_micros(300),
            ..LinkConfig::default()
        },
    );
    p.settle();
    p.a_rx.clear();
    for seq in 0..5u16 {
        let data: Vec<u8> = (0..(100 + 300 * usize::from(seq)))
            .map(|i| i as u8)
            .collect();
        let icmp_repr = Icmpv4Repr::EchoRequest {
            ident: 0xabcd,
            seq_no: seq,
            data: &data,
        };
        let ip = Ipv4Repr {
            src_addr: IP_A,
            dst_addr: IP_B,
            protocol: IpProtocol::Icmp,
            payload_len: icmp_repr.buffer_len(),
            ttl: 64,
            tos: 0,
            ident: seq,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        };
        let mut frame = vec![0u8; 14 + ip.buffer_len()];
        let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
        EthernetRepr {
            src_addr: MAC_A,
            dst_addr: MAC_B,
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut eth);
        let mut ipp = Ipv4Packet::new_unchecked(eth.payload_mut());
        ip.emit(&mut ipp);
        icmp_repr.emit(&mut Icmpv4Packet::new_unchecked(ipp.payload_mut()));
        p.link.port(Side::A).transmit(p.now, &frame).unwrap();

        let sent_at = p.now;
        let mut reply = None;
        for _ in 0..100 {
            p.poll();
            reply = p.a_rx.iter().find_map(|f| {
                let eth = EthernetFrame::new_checked(&f[..]).ok()?;
                let ipp = Ipv4Packet::new_checked(eth.payload()).ok()?;
                let ipr = Ipv4Repr::parse(&ipp).ok()?;
                let icmp = Icmpv4Packet::new_checked(ipp.payload()).ok()?;
                match Icmpv4Repr::parse(&icmp).ok()? {
                    Icmpv4Repr::EchoReply {
                        ident,
                        seq_no,
                        data,
                    } => Some((ipr, eth.dst_addr(), ident, seq_no, data.to_vec())),
                    _ => None,
                }
            });
            if reply.is_some() {
                break;
            }
            p.advance_to_event(None);
        }
        let (ipr, dst_mac, ident, seq_no, echoed) = reply.expect("echo reply");
        assert_eq!((ipr.src_addr, ipr.dst_addr), (IP_B, IP_A));
        assert_eq!(dst_mac, MAC_A);
        assert_eq!((ident, seq_no), (0xabcd, seq));
        assert_eq!(echoed, data);
        let rtt = p.now - sent_at;
        let expected = if seq == 0 { 4 } else { 2 } * 300; // ARP once
        assert_eq!(rtt, Duration::from_micros(expected), "seq {seq}");
        p.a_rx.clear();
    }
    assert_eq!(p.b.stats().icmp.echo_replies_sent, 5);
    assert_eq!(p.a.stats().arp.tx_replies, 1, "A answered B's request");
}

/// The request's content for `id`: a self-describing header and a pattern,
/// so that any damaged datagram is recognised.
fn request(id: u32) -> Vec<u8> {
    let len = match id % 4 {
        0 => 3000,
        1 => 1 + (id as usize * 37) % 1400,
        2 => 1472,
        _ => 8 + (id as usize) % 64,
    };
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&(len as u32).to_be_bytes());
    v.extend((8..len).map(|i| (i as u32 ^ id.wrapping_mul(2_654_435_761)) as u8));
    v
}

fn response(req: &[u8]) -> Vec<u8> {
    req.iter().rev().map(|b| b ^ 0x5a).collect()
}

/// Returns the id of a valid request, panicking on a damaged one.
fn check_request(data: &[u8]) -> u32 {
    assert!(data.len() >= 8, "short request {data:02x?}");
    let id = u32::from_be_bytes(data[..4].try_into().unwrap());
    assert_eq!(data, &request(id)[..], "damaged request delivered");
    id
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    now: Instant,
    steps: u64,
    a: Stats,
    b: Stats,
    retransmissions: u32,
    corrupted: u64,
}

/// Runs `total` requests from A to B's echo-like server with at most
/// `window` outstanding and a 250 ms retransmission timer.
fn workload(seed: u64, cfg: LinkConfig, total: u32, window: usize) -> Outcome {
    let mut p = pair(seed, cfg);
    let client = p.a.udp_open().unwrap();
    p.a.udp_bind(client, sa(IP_A, 5000)).unwrap();
    let server = p.b.udp_open().unwrap();
    p.b.udp_bind(server, sa(Ipv4Addr::UNSPECIFIED, 7)).unwrap();
    let rto = Duration::from_millis(250);
    let mut next_id = 0u32;
    let mut outstanding: BTreeMap<u32, Instant> = BTreeMap::new(); // id -> resend at
    let mut done = vec![false; total as usize];
    let mut retransmissions = 0;
    let mut buf = vec![0u8; 4096];
    let deadline = p.now + Duration::from_secs(900);
    loop {
        assert!(p.now < deadline, "workload did not finish: {done:?}");
        assert!(p.steps < 400_000, "too many steps");
        p.poll();
        serve(&mut p.b, server, &mut buf, p.now);
        while let Ok((n, meta)) = p.a.udp_recv_from(client, &mut buf) {
            assert_eq!(meta.from, sa(IP_B, 7));
            let req = response(&buf[..n]);
            let id = check_request(&req);
            assert!(id < next_id, "reply to a request never sent");
            done[id as usize] = true;
            outstanding.remove(&id);
        }
        // Retransmit what timed out, then open the window.
        let due: Vec<u32> = outstanding
            .iter()
            .filter(|(_, &t)| t <= p.now)
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            if send(&mut p.a, client, id, p.now) {
                retransmissions += 1;
                outstanding.insert(id, p.now + rto);
            }
        }
        while outstanding.len() < window && next_id < total {
            if !send(&mut p.a, client, next_id, p.now) {
                break;
            }
            outstanding.insert(next_id, p.now + rto);
            next_id += 1;
        }
        if done.iter().all(|&d| d) {
            break;
        }
        let timer = outstanding.values().min().copied();
        p.advance_to_event(timer);
    }
    Outcome {
        now: p.now,
        steps: p.steps,
        a: *p.a.stats(),
        b: *p.b.stats(),
        retransmissions,
        corrupted: p.link.stats(Side::A).corrupted + p.link.stats(Side::B).corrupted,
    }
}

/// Queues request `id`; false if the socket's queue is full for now.
fn send(stack: &mut Stack, h: UdpHandle, id: u32, now: Instant) -> bool {
    match stack.udp_send_to(h, &request(id), Some(sa(IP_B, 7)), now) {
        Ok(_) => true,
        Err(UdpSendError::WouldBlock) => false,
        Err(e) => panic!("send failed: {e:?}"),
    }
}

/// The server: checks each request and answers it.
fn serve(b: &mut Stack, h: UdpHandle, buf: &mut [u8], now: Instant) {
    while let Ok((n, meta)) = b.udp_recv_from(h, buf) {
        assert_eq!(n, meta.len, "no request exceeds the buffer");
        check_request(&buf[..n]);
        assert_eq!(*meta.from.ip(), IP_A);
        // A full send queue loses the response; the client retries.
        let _ = b.udp_send_to(h, &response(&buf[..n]), Some(meta.from), now);
    }
}

fn faulty(loss: u32, dup: u32, reorder: u32, corrupt: u32) -> LinkConfig {
    LinkConfig {
        loss_ppm: loss,
        duplicate_ppm: dup,
        reorder_ppm: reorder,
        reorder_extra: Duration::from_millis(3),
        corrupt_ppm: corrupt,
        delay: Duration::from_millis(1),
        bandwidth_bps: 100_000_000,
        ..LinkConfig::default()
    }
}

/// A perfect link: every request answered, no retransmission, no drop.
#[test]
fn udp_request_response_on_a_clean_link() {
    let o = workload(3, faulty(0, 0, 0, 0), 60, 1);
    assert_eq!(o.retransmissions, 0);
    assert_eq!(o.a.udp.rx, 60);
    assert_eq!(o.b.udp.rx, 60);
    assert_eq!(o.b.ip.reassembled, 15, "every fourth request is 3000 bytes");
    assert_eq!(o.a.ip.reassembled, 15);
}

/// RFC 768/791 end to end under loss, duplication, reordering and
/// corruption: every request is eventually answered, and no damaged
/// datagram is ever delivered (checksums catch every flipped bit; every
/// datagram's content is checked on both sides). ARP has no checksum and
/// the simulated link no FCS: a corrupted ARP reply can misdirect traffic
/// until the entry ages out (`ARP_REACHABLE_SECS`, RFC 1122 §2.3.2.1);
/// seed 13 goes through such an outage and still completes.
#[test]
fn udp_request_response_under_faults() {
    for seed in 11..=16 {
        let cfg = faulty(30_000, 20_000, 50_000, 20_000);
        let o = workload(seed, cfg, 120, 4);
        assert!(o.retransmissions > 0, "seed {seed}: faults had no effect");
        assert!(o.corrupted > 0, "seed {seed}: nothing corrupted");
        let caught = |s: &Stats| {
            s.ip.drop_checksum
                + s.udp.drop_checksum
                + s.eth.drop_not_for_us
                + s.eth.drop_ethertype
                + s.ip.drop_malformed
                + s.arp.drop_malformed
                + s.ip.drop_not_for_us
                + s.icmp.drop_malformed
        };
        assert!(caught(&o.a) + caught(&o.b) > 0, "seed {seed}: {o:?}");
        assert!(o.b.ip.reassembled > 0 && o.a.ip.reassembled > 0);
    }
}

/// The simulation is a pure function of the seed.
#[test]
fn simulation_is_deterministic() {
    let cfg = faulty(50_000, 30_000, 50_000, 10_000);
    let first = workload(21, cfg, 30, 3);
    assert_eq!(first, workload(21, cfg, 30, 3));
    assert_ne!(first, workload(22, cfg, 30, 3));
}
