//! The stack is no amplifier and no reflector: every reply it sends to
//! traffic nobody asked for is rate limited. For each kind — RSTs for
//! segments to no connection (RFC 9293 §3.10.7.1), challenge ACKs across
//! all connections (RFC 5961 §7), ARP replies (RFC 826), ICMP errors
//! (RFC 1812 §4.3.2.8) — a flood of N frames draws at most the burst plus
//! the rate times the elapsed time, replies resume once time passes, and
//! the counters account for every frame not answered.

mod common;
mod tcp_common;

use tcp_common::{add, Harness, Seg, PEER_PORT, PORT};
use wolfip_core::config::{
    ARP_REPLIES_PER_SEC, ARP_REPLY_BURST, ICMP_ERRORS_PER_SEC, ICMP_ERROR_BURST,
    TCP_CHALLENGE_ACKS_PER_SEC, TCP_RST_BURST, TCP_RST_PER_SEC, TCP_SOCKETS,
};
use wolfip_core::wire::{ArpOperation, EthernetAddress, TcpControl};
use wolfip_core::{Duration, Instant, Ipv4Addr};

/// RFC 5961 §7's per-connection limit (`input::CHALLENGE_ACKS_PER_SEC`).
const PER_CONN: usize = 10;

/// How many of `n` SYNs to closed ports, from distinct source ports, were
/// answered with a RST.
fn syn_flood(h: &mut Harness, n: usize, first_port: u16) -> usize {
    for i in 0..n {
        let port = first_port.wrapping_add(i as u16).max(1);
        h.send(&Seg::to_us(TcpControl::Syn, 1000 + i as u32, None).with_ports(port, 9));
    }
    let rsts = h.take();
    assert!(rsts.iter().all(|s| s.is_rst()), "{rsts:#?}");
    rsts.len()
}

/// Tokens a bucket of `per_sec` refills in `d` (whole tokens, as the
/// stack counts them in millionths).
fn refill(per_sec: usize, d: Duration) -> usize {
    (d.total_micros() * per_sec as u64 / 1_000_000) as usize
}

/// A SYN flood to a closed port draws `TCP_RST_BURST` RSTs at once, then
/// `TCP_RST_PER_SEC`; each unanswered SYN is counted.
#[test]
fn rsts_for_no_connection_are_limited() {
    let mut h = Harness::new(1);
    let extra = 30;
    assert_eq!(
        syn_flood(&mut h, TCP_RST_BURST + extra, 2000),
        TCP_RST_BURST
    );
    let st = h.stack.stats().tcp;
    assert_eq!(st.resets_tx, TCP_RST_BURST as u64);
    assert_eq!(st.rst_rate_limited, extra as u64);
    assert_eq!(st.drop_no_socket, (TCP_RST_BURST + extra) as u64);

    // 100 ms later: exactly the refill of 100 ms.
    let d = Duration::from_millis(100);
    h.advance(d);
    let want = refill(TCP_RST_PER_SEC, d).min(TCP_RST_BURST);
    assert_eq!(syn_flood(&mut h, want + 20, 3000), want);

    // After the bucket had time to fill: the whole burst again.
    h.advance(Duration::from_secs(
        (TCP_RST_BURST / TCP_RST_PER_SEC.max(1) + 1) as u64,
    ));
    assert_eq!(syn_flood(&mut h, TCP_RST_BURST + 5, 4000), TCP_RST_BURST);
    let st = h.stack.stats().tcp;
    assert_eq!(st.resets_tx + st.rst_rate_limited, st.drop_no_socket);
}

/// A steady flood, one SYN a millisecond for two seconds: never more RSTs
/// than the burst plus the rate times the time elapsed.
#[test]
fn rst_flood_over_time_stays_under_the_bound() {
    let mut h = Harness::new(2);
    let start = h.now;
    let mut sent = 0;
    for i in 0..2000u32 {
        h.now = start + Duration::from_millis(u64::from(i));
        h.send(&Seg::to_us(TcpControl::Syn, i, None).with_ports(1024 + (i % 60000) as u16, 9));
        sent += h.take().len();
        let bound = TCP_RST_BURST + refill(TCP_RST_PER_SEC, h.now - start);
        assert!(sent <= bound, "{sent} RSTs after {i} ms, bound {bound}");
    }
    let bound = TCP_RST_BURST + refill(TCP_RST_PER_SEC, h.now - start);
    assert!(
        sent + 1 >= bound.min(2000),
        "the limit gives what it allows: {sent} of {bound}"
    );
    let st = h.stack.stats().tcp;
    assert_eq!(st.resets_tx + st.rst_rate_limited, 2000);
}

/// ACKs to a listener (no connection: RFC 9293 §3.10.7.2) draw RSTs from
/// the same bucket as segments to closed ports.
#[test]
fn rsts_to_listener_acks_share_the_bucket() {
    let mut h = Harness::new(3);
    h.listen(4);
    let half = TCP_RST_BURST / 2;
    assert_eq!(syn_flood(&mut h, half, 2000), half);
    for i in 0..TCP_RST_BURST {
        let seg = Seg::to_us(TcpControl::None, 5000, Some(7000 + i as u32))
            .with_ports(30000 + i as u16, PORT);
        h.send(&seg);
    }
    let rsts = h.take();
    assert!(rsts.iter().all(|s| s.is_rst() && s.src_port == PORT));
    assert_eq!(rsts.len(), TCP_RST_BURST - half);
    assert_eq!(h.stack.stats().tcp.rst_rate_limited, half as u64);
}

/// RFC 9293 §3.10.7.3: in SYN-SENT a segment whose ACK does not
/// acknowledge our SYN is answered with a RST; a flood of them from a
/// forger who guessed the ports draws RSTs from the same bucket.
#[test]
fn rsts_for_bad_acks_in_syn_sent_are_limited() {
    let mut h = Harness::new(4);
    let (c, syn) = h.connect();
    for i in 0..TCP_RST_BURST + 10 {
        let bad = syn.seq.0.wrapping_add(1_000 + i as u32);
        h.send(&Seg::to_us(TcpControl::None, 5000, Some(bad)));
    }
    let rsts = h.take();
    assert!(rsts.iter().all(|s| s.is_rst()));
    assert_eq!(rsts.len(), TCP_RST_BURST);
    assert_eq!(h.stack.stats().tcp.rst_rate_limited, 10);
    assert_eq!(h.stack.tcp_state(c), Some(wolfip_core::TcpState::SynSent));
}

/// Accepts `n` connections from the peer's ports `PEER_PORT..`, all with
/// ISS `P`. Returns the handles.
fn accept_many(h: &mut Harness, n: usize) -> Vec<wolfip_core::TcpHandle> {
    const P: u32 = 9000;
    let l = h.listen(n);
    let mut out = Vec::new();
    for j in 0..n as u16 {
        let port = PEER_PORT + j;
        h.send(&Seg::to_us(TcpControl::Syn, P, None).with_ports(port, PORT));
        let synack = h.take_one();
        let ack = Seg::to_us(TcpControl::None, add(P, 1), Some(add(synack.seq.0, 1)))
            .with_ports(port, PORT);
        h.send(&ack);
        let (c, _) = h.stack.tcp_accept(l).expect("accepted");
        out.push(c);
    }
    out
}

/// In-window RSTs (not exact) at every connection: challenge ACKs up to
/// `PER_CONN` each, and in all at most the second's system-wide quota.
/// Returns how many challenge ACKs went out.
fn challenge_round(h: &mut Harness, conns: usize, per_conn: usize) -> usize {
    for j in 0..conns as u16 {
        for i in 0..per_conn as u32 {
            let seg = Seg::to_us(TcpControl::Rst, add(9001, 10 + i), None)
                .with_ports(PEER_PORT + j, PORT);
            h.send(&seg);
        }
    }
    let acks = h.take();
    assert!(acks.iter().all(|s| !s.is_rst() && s.ack.is_some()));
    for j in 0..conns as u16 {
        let n = acks.iter().filter(|s| s.dst_port == PEER_PORT + j).count();
        assert!(n <= PER_CONN, "{n} challenge ACKs to one connection");
    }
    acks.len()
}

/// RFC 5961 §7: challenge ACKs are limited per connection and across all
/// connections; the system-wide quota is drawn at random each second in
/// `[L/2, 3L/2)` (L = `TCP_CHALLENGE_ACKS_PER_SEC`), so that an attacker
/// cannot count on the exact threshold (CVE-2016-5696). Every challenge
/// not sent is counted.
#[test]
fn challenge_acks_are_limited_system_wide_with_a_random_quota() {
    // 20 connections ask for more than any quota (at most 3L/2 with the
    // default L = 100); fewer sockets than that still test the bounds.
    let conns = (TCP_SOCKETS - 1).min(20);
    let attempts = conns * (PER_CONN + 2);
    let (lo, hi) = (
        TCP_CHALLENGE_ACKS_PER_SEC.div_ceil(2),
        TCP_CHALLENGE_ACKS_PER_SEC.div_ceil(2) + TCP_CHALLENGE_ACKS_PER_SEC,
    );
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..24 {
        let mut h = Harness::new(100 + seed);
        accept_many(&mut h, conns);
        let sent = challenge_round(&mut h, conns, PER_CONN + 2);
        assert!(sent <= conns * PER_CONN, "per connection: {sent}");
        assert!(sent < hi, "system-wide: {sent}");
        assert!(
            sent >= lo.min(conns * PER_CONN),
            "at least the smallest quota: {sent}"
        );
        let st = h.stack.stats().tcp;
        assert_eq!(st.challenge_acks, sent as u64);
        assert_eq!(
            st.challenge_acks + st.challenge_rate_limited,
            attempts as u64
        );
        seen.insert(sent);

        // The next second: challenges again.
        h.advance(Duration::from_secs(1));
        assert!(challenge_round(&mut h, conns, 1) >= 1.min(lo));
    }
    if conns * PER_CONN > lo {
        // Some seconds' quotas were below what the connections asked for:
        // the system-wide limit bound, and not always at the same count.
        assert!(seen.iter().any(|&n| n < conns * PER_CONN), "{seen:?}");
        assert!(seen.len() >= 2, "the quota is random: {seen:?}");
    }
}

/// Requests for our address from forged, unknown senders: `ARP_REPLY_BURST`
/// replies, then `ARP_REPLIES_PER_SEC`; the senders over the limit are not
/// learned. A neighbour we talk to (here: we answered its ping), with the
/// same hardware address as in the cache, is always answered, even while
/// the bucket is empty, and the flood does not push it out of the cache.
#[test]
fn arp_replies_are_limited_but_known_neighbours_always_answered() {
    use common::*;
    let (mut s, id) = stack_with_peer(5);
    // We talk to the peer: its ping is answered (to the cached address).
    assert_eq!(input(&mut s, T0, id, &ping_frame(1, 1, b"hi")).len(), 1);
    let spoofed = |i: usize| {
        let mac = EthernetAddress([0x02, 0xee, 0, 0, (i >> 8) as u8, i as u8]);
        arp_request(mac, spoofed_ip(i), OUR_IP)
    };
    let flood = |s: &mut wolfip_core::Stack, now: Instant, n: usize, from: usize| {
        let mut replies = 0;
        for i in from..from + n {
            for f in input(s, now, id, &spoofed(i)) {
                let (_, arp) = parse_arp(&f);
                assert_eq!(arp.operation, ArpOperation::Reply);
                replies += 1;
            }
        }
        replies
    };
    // The reply of stack_with_peer took one token.
    let extra = 25;
    assert_eq!(
        flood(&mut s, T0, ARP_REPLY_BURST + extra, 0),
        ARP_REPLY_BURST - 1
    );
    assert_eq!(s.stats().arp.replies_rate_limited, extra as u64 + 1);

    // The known neighbour is answered although the bucket is empty, again
    // and again, and its answers take nothing from it.
    for _ in 0..3 {
        let out = input(&mut s, T0, id, &peer_arp_request());
        assert_eq!(out.len(), 1, "the known neighbour is answered");
        let (eth, arp) = parse_arp(&out[0]);
        assert_eq!(
            (eth.dst_addr, arp.target_protocol_addr),
            (PEER_MAC, PEER_IP)
        );
    }
    assert_eq!(s.stats().arp.replies_rate_limited, extra as u64 + 1);

    // A forged sender that was answered (and so is in the cache) is not a
    // neighbour we talk to: repeating its request gets nothing more.
    let cached = (0..ARP_REPLY_BURST - 1)
        .find(|&i| s.arp_entries(id).any(|(ip, _)| ip == spoofed_ip(i)))
        .expect("an answered sender in the cache");
    assert!(input(&mut s, T0, id, &spoofed(cached)).is_empty());
    assert_eq!(s.stats().arp.replies_rate_limited, extra as u64 + 2);

    // Senders over the limit were not learned; the neighbour was kept.
    let learned: Vec<_> = s.arp_entries(id).collect();
    assert!(learned.contains(&(PEER_IP, PEER_MAC)), "{learned:?}");
    for i in ARP_REPLY_BURST - 1..ARP_REPLY_BURST + extra {
        assert!(
            !learned.iter().any(|&(ip, _)| ip == spoofed_ip(i)),
            "{i} learned"
        );
    }

    // 200 ms later: the refill of 200 ms; after the burst's time, the burst.
    let d = Duration::from_millis(200);
    let want = refill(ARP_REPLIES_PER_SEC, d).min(ARP_REPLY_BURST);
    assert_eq!(flood(&mut s, T0 + d, want + 10, 1000), want);
    let later =
        T0 + d + Duration::from_secs((ARP_REPLY_BURST / ARP_REPLIES_PER_SEC.max(1) + 1) as u64);
    assert_eq!(
        flood(&mut s, later, ARP_REPLY_BURST + 10, 2000),
        ARP_REPLY_BURST
    );

    // The neighbour's address claimed from another hardware address is
    // not the known neighbour: limited like any stranger.
    let before = s.stats().arp.replies_rate_limited;
    assert!(input(&mut s, later, id, &arp_request(OTHER_MAC, PEER_IP, OUR_IP)).is_empty());
    assert_eq!(s.stats().arp.replies_rate_limited, before + 1);
    let a = s.stats().arp;
    assert_eq!(
        a.tx_replies + a.replies_rate_limited,
        a.rx,
        "every request counted"
    );
}

/// The forged sender address of request `i` (distinct for the first 250).
fn spoofed_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, (i % 250) as u8 + 1)
}

/// ICMP errors (port unreachable for UDP to a closed port): a flood of N
/// draws `ICMP_ERROR_BURST` plus the refill, and never more than the bound.
/// Echo replies are not limited (no amplification: see docs/tcp.md).
#[test]
fn icmp_errors_bounded_and_echo_replies_not_limited() {
    use common::*;
    let (mut s, id) = stack_with_peer(6);
    let start = T0;
    let mut sent = 0;
    for i in 0..1500u64 {
        let now = start + Duration::from_millis(i);
        sent += input(&mut s, now, id, &udp_frame(40000, 9999, b"x")).len();
        let bound = ICMP_ERROR_BURST + refill(ICMP_ERRORS_PER_SEC, now - start);
        assert!(sent <= bound, "{sent} errors after {i} ms, bound {bound}");
    }
    let c = s.stats().icmp;
    assert_eq!(c.unreachables_tx + c.rate_limited, 1500);

    let n = 3 * ICMP_ERROR_BURST.max(20);
    let mut replies = 0;
    for i in 0..n {
        replies += input(
            &mut s,
            start + ms(1500),
            id,
            &ping_frame(1, i as u16, b"ping"),
        )
        .len();
    }
    assert_eq!(replies, n);
}

/// A SYN replayed again and again for one half-open request draws at most
/// one SYN-ACK per 500 ms (Linux's `tcp_invalid_ratelimit`), besides the
/// request's own retransmissions.
#[test]
fn duplicate_syns_draw_at_most_one_synack_per_half_second() {
    let mut h = Harness::new(31);
    let _l = h.listen(8);
    let syn = Seg::to_us(TcpControl::Syn, 7000, None);
    h.send(&syn);
    assert_eq!(h.take().len(), 1, "the first SYN-ACK");
    // 39 copies of the SYN, 25 ms apart, before the first retransmission
    // (due after 1 s): the one at 500 ms is answered, the rest counted.
    for _ in 0..39 {
        h.now += Duration::from_millis(25);
        h.send(&syn);
    }
    let synacks = h.take().into_iter().filter(|s| s.is_syn()).count();
    assert_eq!(synacks, 1, "SYN-ACKs for 39 duplicate SYNs in 975 ms");
    assert_eq!(h.stack.stats().tcp.synack_rate_limited, 38);
    // The request's own retransmission is not held back by the limit.
    h.now += Duration::from_millis(30);
    h.run();
    assert_eq!(h.take().into_iter().filter(|s| s.is_syn()).count(), 1);
}
