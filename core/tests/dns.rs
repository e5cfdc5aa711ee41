//! The DNS resolver (RFC 1035, RFC 5452) driven through `Stack` with
//! hand-built frames and injected time.

mod common;

use std::task::Poll;

use common::*;
use wolfip_core::config::{
    DNS_ATTEMPTS, DNS_QUERIES, DNS_SERVERS, DNS_TIMEOUT_MS, TX_FRAMES, UDP_SOCKETS,
};
use wolfip_core::dns::{DnsAnswer, DnsError, DnsQuery, DnsServersError, DnsStartError};
use wolfip_core::udp::EPHEMERAL_FIRST;
use wolfip_core::wire::dns::{DnsPacket, Name, Rcode, CLASS_IN, TYPE_A, TYPE_CNAME};
use wolfip_core::wire::IpProtocol;
use wolfip_core::{Event, IfaceId, Ipv4Addr, Stack};

/// Off-link servers, reached through the peer as gateway.
const S1: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const S2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

/// A query the stack sent.
#[derive(Debug, Clone)]
struct Sent {
    server: Ipv4Addr,
    port: u16,
    id: u16,
    name: Name,
    bytes: Vec<u8>,
}

/// Parses a frame as a DNS query from us, checking every field a server
/// would look at.
fn parse_query(frame: &[u8]) -> Sent {
    let f = parse_ip(frame);
    assert_eq!(f.eth.dst_addr, PEER_MAC);
    assert_eq!(f.ip.protocol, IpProtocol::Udp);
    assert_eq!(f.ip.src_addr, OUR_IP);
    let (udp, data) = parse_udp(&f);
    assert_eq!(udp.dst_port, 53);
    assert!(
        udp.src_port >= EPHEMERAL_FIRST,
        "dynamic range: {}",
        udp.src_port
    );
    let p = DnsPacket::new_checked(&data[..]).unwrap();
    assert!(!p.qr() && p.rd() && p.opcode() == 0);
    assert_eq!(
        (p.qdcount(), p.ancount(), p.nscount(), p.arcount()),
        (1, 0, 0, 0)
    );
    let q = p.question().unwrap();
    assert_eq!((q.qtype, q.qclass), (TYPE_A, CLASS_IN));
    Sent {
        server: f.ip.dst_addr,
        port: udp.src_port,
        id: p.id(),
        name: q.name,
        bytes: data,
    }
}

/// The only frame of `out`, as a query.
fn one_query(out: &[Vec<u8>]) -> Sent {
    assert_eq!(out.len(), 1, "one query: {out:02x?}");
    parse_query(&out[0])
}

/// An answer record.
struct Rr {
    owner: &'static str,
    rtype: u16,
    ttl: u32,
    data: Vec<u8>,
}

fn a(owner: &'static str, ttl: u32, addr: [u8; 4]) -> Rr {
    Rr {
        owner,
        rtype: TYPE_A,
        ttl,
        data: addr.to_vec(),
    }
}

fn wire_name(s: &str) -> Vec<u8> {
    let mut b = vec![0u8; 256];
    let n = Name::from_text(s).unwrap().emit(&mut b).unwrap();
    b.truncate(n);
    b
}

fn cname(owner: &'static str, ttl: u32, target: &str) -> Rr {
    Rr {
        owner,
        rtype: TYPE_CNAME,
        ttl,
        data: wire_name(target),
    }
}

/// The server's response to `q`: its question echoed, `rcode`, the
/// records. An owner equal to the question is written as a compression
/// pointer to it (RFC 1035 §4.1.4).
fn reply(q: &Sent, rcode: u8, rrs: &[Rr]) -> Vec<u8> {
    let mut b = q.bytes.clone();
    {
        let mut p = DnsPacket::new_unchecked(&mut b[..]);
        p.set_qr(true);
        p.set_ra(true);
        p.set_rcode(Rcode::from(rcode));
        p.set_ancount(rrs.len() as u16);
    }
    for rr in rrs {
        if Name::from_text(rr.owner).unwrap() == q.name {
            b.extend_from_slice(&[0xc0, 12]);
        } else {
            b.extend_from_slice(&wire_name(rr.owner));
        }
        b.extend_from_slice(&rr.rtype.to_be_bytes());
        b.extend_from_slice(&CLASS_IN.to_be_bytes());
        b.extend_from_slice(&rr.ttl.to_be_bytes());
        b.extend_from_slice(&(rr.data.len() as u16).to_be_bytes());
        b.extend_from_slice(&rr.data);
    }
    b
}

/// A UDP frame from `src:sport` to us at `dport`.
fn frame_from(src: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    ip_frame(
        src,
        OUR_IP,
        IpProtocol::Udp,
        &udp_packet(src, OUR_IP, sport, dport, data),
    )
}

/// The response `data` to `q`, from its server's port 53 to its port.
fn answer_frame(q: &Sent, data: &[u8]) -> Vec<u8> {
    frame_from(q.server, 53, q.port, data)
}

/// A stack that knows the peer, uses it as gateway, and has `servers`.
fn resolver(seed: u64, servers: &[Ipv4Addr]) -> (Box<Stack>, IfaceId) {
    let (mut s, id) = stack_with_peer(seed);
    s.set_default_gateway(PEER_IP).unwrap();
    s.dns_set_servers(servers).unwrap();
    (s, id)
}

fn ip(n: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(n)
}

fn answer(addrs: &[[u8; 4]], ttl: u32) -> DnsAnswer {
    DnsAnswer {
        addresses: addrs.iter().map(|&a| ip(a)).collect(),
        ttl,
    }
}

fn events(s: &mut Stack) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// RFC 1035 §4.1: a query to the first server from a random port with a
/// random ID, the answer taken, a DnsDone event; the cache answers the
/// same name (any case) at once without a frame until the TTL runs out.
#[test]
fn query_answer_cache_and_expiry() {
    let (mut s, id) = resolver(1, &[S1, S2]);
    let q = s.dns_query("www.Example.com").unwrap();
    assert_eq!(s.dns_result(q), Poll::Pending);
    assert_eq!(s.poll_at(T0), Some(T0), "the query is due now");
    let sent = one_query(&run(&mut s, T0, id));
    assert_eq!(sent.server, S1);
    assert_eq!(sent.name, Name::from_text("www.example.com").unwrap());
    assert_eq!(s.stats().dns.tx, 1);
    assert_eq!(s.poll_at(T0), Some(T0 + ms(DNS_TIMEOUT_MS as u64)));

    let rsp = reply(
        &sent,
        0,
        &[
            a("www.example.com", 300, [192, 0, 2, 80]),
            a("www.example.com", 60, [192, 0, 2, 81]),
        ],
    );
    let out = input(&mut s, T0 + ms(20), id, &answer_frame(&sent, &rsp));
    assert!(out.is_empty(), "nothing sent back: {out:02x?}");
    assert_eq!(events(&mut s), [Event::DnsDone(q)]);
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 80], [192, 0, 2, 81]], 60)))
    );
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::UnknownQuery)));
    assert_eq!((s.stats().dns.rx, s.stats().udp.drop_no_socket), (1, 0));

    // The cache: at once, no frame, no event, the TTL left.
    let t1 = T0 + ms(10_000);
    assert!(run(&mut s, t1, id).is_empty());
    // (The peer refreshes our ARP entry for it, so that it still holds
    // after the TTL.)
    assert_eq!(input(&mut s, t1, id, &peer_arp_request()).len(), 1);
    let q2 = s.dns_query("WWW.EXAMPLE.COM.").unwrap();
    assert_eq!(
        s.dns_result(q2),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 80], [192, 0, 2, 81]], 50)))
    );
    assert_eq!(s.stats().dns.cache_hits, 1);
    assert!(run(&mut s, t1, id).is_empty());
    assert!(events(&mut s).is_empty());

    // Expired at T0 + 20 ms + 60 s: on the wire again, new port and ID.
    let t2 = T0 + ms(20 + 60_000);
    assert!(run(&mut s, t2, id).is_empty());
    let q3 = s.dns_query("www.example.com").unwrap();
    assert_eq!(s.dns_result(q3), Poll::Pending);
    let again = one_query(&run(&mut s, t2, id));
    assert_eq!(again.name, sent.name);
    assert!((again.port, again.id) != (sent.port, sent.id));
    // Flushing the cache drops the answer even before it expires.
    let rsp = reply(&again, 0, &[a("www.example.com", 600, [192, 0, 2, 82])]);
    input(&mut s, t2, id, &answer_frame(&again, &rsp));
    assert!(s.dns_result(q3).is_ready());
    s.dns_flush_cache();
    let q4 = s.dns_query("www.example.com").unwrap();
    assert_eq!(s.dns_result(q4), Poll::Pending);
    assert_eq!(s.stats().dns.cache_hits, 1);
}

/// RFC 5452 §9.2: IDs and ports differ from query to query and from
/// stack to stack.
#[test]
fn ids_and_ports_are_random() {
    let mut seen = Vec::new();
    for seed in 1..=4 {
        let (mut s, id) = resolver(seed, &[S1]);
        for n in 0..DNS_QUERIES {
            s.dns_query(&format!("h{n}.example")).unwrap();
        }
        let out = run(&mut s, T0, id);
        assert_eq!(out.len(), DNS_QUERIES);
        seen.extend(out.iter().map(|f| {
            let q = parse_query(f);
            (q.port, q.id)
        }));
    }
    let mut ports: Vec<_> = seen.iter().map(|p| p.0).collect();
    let mut ids: Vec<_> = seen.iter().map(|p| p.1).collect();
    ports.sort_unstable();
    ports.dedup();
    ids.sort_unstable();
    ids.dedup();
    assert!(ports.len() > seen.len() * 3 / 4, "{seen:?}");
    assert!(ids.len() > seen.len() * 3 / 4, "{seen:?}");
}

/// RFC 5452 §4: a response is taken only from the server asked, from
/// port 53, to the query's port, with its ID and question; anything else
/// is dropped and counted and the query goes on waiting.
#[test]
fn mismatched_responses_are_dropped() {
    let (mut s, id) = resolver(2, &[S1]);
    let q = s.dns_query("host.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let good = reply(&sent, 0, &[a("host.example", 60, [192, 0, 2, 9])]);
    let t = T0 + ms(10);

    let mut wrong_id = good.clone();
    wrong_id[1] ^= 1;
    assert!(input(&mut s, t, id, &answer_frame(&sent, &wrong_id)).is_empty());
    let other_server = frame_from(S2, 53, sent.port, &good);
    assert!(input(&mut s, t, id, &other_server).is_empty());
    let other_q = Sent {
        name: Name::from_text("other.example").unwrap(),
        bytes: {
            let mut b = sent.bytes[..12].to_vec();
            b.extend_from_slice(&wire_name("other.example"));
            b.extend_from_slice(&[0, 1, 0, 1]);
            b
        },
        ..sent.clone()
    };
    let wrong_question = reply(&other_q, 0, &[a("other.example", 60, [192, 0, 2, 9])]);
    assert!(input(&mut s, t, id, &answer_frame(&sent, &wrong_question)).is_empty());
    let mut not_a_response = good.clone();
    not_a_response[2] &= 0x7f;
    assert!(input(&mut s, t, id, &answer_frame(&sent, &not_a_response)).is_empty());
    assert_eq!(s.stats().dns.drop_mismatch, 4);
    // Garbage: counted as malformed.
    assert!(input(&mut s, t, id, &answer_frame(&sent, &good[..20])).is_empty());
    assert_eq!(s.stats().dns.drop_malformed, 1);
    // Another destination port or source port is not ours at all: the
    // stack answers port unreachable as for any closed port.
    let wrong_port = frame_from(S1, 53, sent.port ^ 1, &good);
    let out = input(&mut s, t, id, &wrong_port);
    assert_eq!(out.len(), 1, "ICMP port unreachable");
    let wrong_sport = frame_from(S1, 5353, sent.port, &good);
    input(&mut s, t, id, &wrong_sport);
    assert_eq!(s.stats().udp.drop_no_socket, 2);
    assert_eq!(s.stats().dns.rx, 0);

    assert_eq!(s.dns_result(q), Poll::Pending);
    assert!(events(&mut s).is_empty());
    assert!(input(&mut s, t, id, &answer_frame(&sent, &good)).is_empty());
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 9]], 60)))
    );
}

/// glibc's order: each round asks every server in turn, an attempt of
/// round r waits DNS_TIMEOUT_MS << r, every attempt from a new port with a
/// new ID; after DNS_ATTEMPTS rounds the query times out, exactly then.
#[test]
fn retries_rotate_servers_with_doubling_timeouts() {
    let (mut s, id) = resolver(3, &[S1, S2]);
    let q = s.dns_query("slow.example").unwrap();
    let mut t = T0;
    let mut attempts = Vec::new();
    for round in 0..DNS_ATTEMPTS as u32 {
        for server in [S1, S2] {
            let sent = one_query(&run(&mut s, t, id));
            assert_eq!(sent.server, server, "round {round} at {t:?}");
            attempts.push((sent.port, sent.id));
            let wait = ms((DNS_TIMEOUT_MS as u64) << round);
            assert_eq!(s.poll_at(t), Some(t + wait));
            // Nothing just before the deadline.
            assert!(run(&mut s, t + wait - ms(1), id).is_empty());
            t += wait;
        }
    }
    let total: u64 = (0..DNS_ATTEMPTS as u32)
        .map(|r| 2 * ((DNS_TIMEOUT_MS as u64) << r))
        .sum();
    assert_eq!(t, T0 + ms(total));
    assert_eq!(s.dns_result(q), Poll::Pending);
    assert!(run(&mut s, t, id).is_empty(), "no more attempts");
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::Timeout)));
    assert_eq!(events(&mut s), [Event::DnsDone(q)]);
    let d = s.stats().dns;
    assert_eq!(
        (d.tx, d.retransmits, d.timeouts),
        (attempts.len() as u64, attempts.len() as u64 - 1, 1)
    );
    let mut distinct = attempts.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), attempts.len(), "new port and ID each time");
}

/// A response to an earlier attempt (its port is closed now) is not
/// taken.
#[test]
fn late_answer_to_an_earlier_attempt_is_refused() {
    let (mut s, id) = resolver(4, &[S1]);
    let q = s.dns_query("late.example").unwrap();
    let first = one_query(&run(&mut s, T0, id));
    let t = T0 + ms(DNS_TIMEOUT_MS as u64);
    let second = one_query(&run(&mut s, t, id));
    let late = reply(&first, 0, &[a("late.example", 60, [192, 0, 2, 1])]);
    input(&mut s, t, id, &answer_frame(&first, &late));
    assert_eq!(s.dns_result(q), Poll::Pending);
    let good = reply(&second, 0, &[a("late.example", 60, [192, 0, 2, 2])]);
    input(&mut s, t, id, &answer_frame(&second, &good));
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 2]], 60)))
    );
}

/// RCODE 3 ends the query with NxDomain; RCODE 2 and 5 move to the next
/// server at once and end the query only when no server is left.
#[test]
fn nxdomain_servfail_and_refused_are_distinct() {
    let (mut s, id) = resolver(5, &[S1]);
    let q = s.dns_query("nope.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    input(&mut s, T0, id, &answer_frame(&sent, &reply(&sent, 3, &[])));
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::NxDomain)));
    assert_eq!(s.stats().dns.nxdomain, 1);

    let q = s.dns_query("broken.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let out = input(&mut s, T0, id, &answer_frame(&sent, &reply(&sent, 2, &[])));
    assert!(out.is_empty(), "the only server failed: not asked again");
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::ServFail)));
    assert_eq!(s.stats().dns.servfail, 1);
    assert_eq!(events(&mut s).len(), 2);

    // Two servers: SERVFAIL from the first, the second asked at once.
    s.dns_set_servers(&[S1, S2]).unwrap();
    let q = s.dns_query("flaky.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let out = input(&mut s, T0, id, &answer_frame(&sent, &reply(&sent, 2, &[])));
    let next = one_query(&out);
    assert_eq!(next.server, S2);
    assert_eq!(s.dns_result(q), Poll::Pending);
    let rsp = reply(&next, 0, &[a("flaky.example", 30, [192, 0, 2, 3])]);
    input(&mut s, T0, id, &answer_frame(&next, &rsp));
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 3]], 30)))
    );

    // REFUSED from both: Refused, reported after the second.
    let q = s.dns_query("closed.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let next = one_query(&input(
        &mut s,
        T0,
        id,
        &answer_frame(&sent, &reply(&sent, 5, &[])),
    ));
    assert_eq!(s.dns_result(q), Poll::Pending);
    assert!(input(&mut s, T0, id, &answer_frame(&next, &reply(&next, 5, &[]))).is_empty());
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::Refused)));

    // SERVFAIL from one, silence from the other: ServFail once the
    // other's rounds run out.
    let q = s.dns_query("half.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let next = one_query(&input(
        &mut s,
        T0,
        id,
        &answer_frame(&sent, &reply(&sent, 2, &[])),
    ));
    assert_eq!(next.server, S2);
    let mut t = T0;
    for round in 0..DNS_ATTEMPTS as u32 {
        t += ms((DNS_TIMEOUT_MS as u64) << round);
        let out = run(&mut s, t, id);
        if round + 1 < DNS_ATTEMPTS as u32 {
            assert_eq!(one_query(&out).server, S2, "the failed server is skipped");
        } else {
            assert!(out.is_empty());
        }
    }
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::ServFail)));

    // The name exists without an A record.
    let q = s.dns_query("mx-only.example").unwrap();
    let sent = one_query(&run(&mut s, t, id));
    input(&mut s, t, id, &answer_frame(&sent, &reply(&sent, 0, &[])));
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::NoData)));
}

/// RFC 1034 §3.6.2: a chain of CNAMEs in one response is followed to the
/// addresses; the answer lives as long as its shortest-lived record.
#[test]
fn cname_chain_in_one_response() {
    let (mut s, id) = resolver(6, &[S1]);
    let q = s.dns_query("www.example.com").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let rsp = reply(
        &sent,
        0,
        &[
            cname("www.example.com", 3600, "web.example.net"),
            cname("web.example.net", 120, "cdn.example.org"),
            a("unrelated.example", 5, [198, 51, 100, 99]),
            a("cdn.example.org", 600, [203, 0, 113, 10]),
        ],
    );
    assert!(input(&mut s, T0, id, &answer_frame(&sent, &rsp)).is_empty());
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[203, 0, 113, 10]], 120)))
    );
    // Cached under the name asked for.
    let q = s.dns_query("www.example.com").unwrap();
    assert!(s.dns_result(q).is_ready());
    assert_eq!(s.stats().dns.cache_hits, 1);

    // A loop is unusable.
    let q = s.dns_query("loop.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let rsp = reply(
        &sent,
        0,
        &[
            cname("loop.example", 60, "pool.example"),
            cname("pool.example", 60, "loop.example"),
        ],
    );
    input(&mut s, T0, id, &answer_frame(&sent, &rsp));
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::Malformed)));
}

/// A CNAME to a name the response says nothing more about: the target is
/// asked for in a new query (new ID and port).
#[test]
fn cname_leaving_the_response_is_requeried() {
    let (mut s, id) = resolver(7, &[S1, S2]);
    let q = s.dns_query("alias.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let rsp = reply(&sent, 0, &[cname("alias.example", 100, "real.example.net")]);
    let t = T0 + ms(5);
    let out = input(&mut s, t, id, &answer_frame(&sent, &rsp));
    let second = one_query(&out);
    assert_eq!(second.name, Name::from_text("real.example.net").unwrap());
    assert_eq!(second.server, S1, "from the first server again");
    assert!((second.port, second.id) != (sent.port, sent.id));
    assert_eq!(s.dns_result(q), Poll::Pending);
    assert_eq!(s.stats().dns.retransmits, 0, "a new question, not a retry");
    assert_eq!(s.poll_at(t), Some(t + ms(DNS_TIMEOUT_MS as u64)));
    let rsp = reply(&second, 0, &[a("real.example.net", 500, [192, 0, 2, 44])]);
    input(&mut s, t, id, &answer_frame(&second, &rsp));
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 44]], 100)))
    );
    assert_eq!(events(&mut s), [Event::DnsDone(q)]);
    let q = s.dns_query("alias.example").unwrap();
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 44]], 100)))
    );
}

/// IPv4 literals need no server, no frame and no event; names are
/// validated before anything is sent.
#[test]
fn literals_invalid_names_and_no_servers() {
    let (mut s, id) = stack_with_peer(8);
    assert_eq!(s.dns_servers().count(), 0);
    let q = s.dns_query("192.0.2.7").unwrap();
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 7]], u32::MAX)))
    );
    assert!(run(&mut s, T0, id).is_empty());
    assert!(events(&mut s).is_empty());
    assert_eq!(s.dns_query("example.com"), Err(DnsStartError::NoServers));
    let long = "x".repeat(64);
    for bad in [
        "",
        ".",
        "a..b",
        "bad name",
        &long,
        "ä.example",
        "192.0.2.7/24",
    ] {
        assert_eq!(s.dns_query(bad), Err(DnsStartError::InvalidName), "{bad:?}");
    }
    assert_eq!(
        DnsStartError::NoServers.to_string(),
        "no DNS server configured"
    );
    assert!(run(&mut s, T0, id).is_empty());
    assert_eq!(s.stats().dns.tx, 0);
}

/// The server list: by hand, bounded, no unusable addresses.
#[test]
fn server_list() {
    let (mut s, _) = stack_with_peer(9);
    let many: Vec<_> = (1..=DNS_SERVERS as u8 + 1)
        .map(|n| ip([192, 0, 2, n]))
        .collect();
    assert_eq!(s.dns_set_servers(&many), Err(DnsServersError::TooMany));
    assert_eq!(
        s.dns_set_servers(&[ip([224, 0, 0, 1])]),
        Err(DnsServersError::Invalid)
    );
    assert_eq!(
        s.dns_set_servers(&[Ipv4Addr::UNSPECIFIED]),
        Err(DnsServersError::Invalid)
    );
    s.dns_set_servers(&[S2, S1, S2]).unwrap();
    assert_eq!(
        s.dns_servers().collect::<Vec<_>>(),
        [S2, S1],
        "deduplicated"
    );
    s.dns_set_servers(&[]).unwrap();
    assert_eq!(s.dns_servers().count(), 0);
}

/// DNS_QUERIES slots: pending and finished-but-untaken queries both hold
/// one; taking or cancelling frees it; stale handles are refused.
#[test]
fn table_full_and_handles() {
    let (mut s, id) = resolver(10, &[S1]);
    let qs: Vec<DnsQuery> = (0..DNS_QUERIES)
        .map(|n| s.dns_query(&format!("q{n}.example")).unwrap())
        .collect();
    assert_eq!(
        s.dns_query("one.more.example"),
        Err(DnsStartError::TableFull)
    );
    assert_eq!(s.dns_query("192.0.2.1"), Err(DnsStartError::TableFull));
    let sent: Vec<Sent> = run(&mut s, T0, id).iter().map(|f| parse_query(f)).collect();
    assert_eq!(sent.len(), DNS_QUERIES);
    // Answer the first: finished but not taken, still a slot.
    let rsp = reply(&sent[0], 0, &[a("q0.example", 60, [192, 0, 2, 1])]);
    input(&mut s, T0, id, &answer_frame(&sent[0], &rsp));
    assert_eq!(
        s.dns_query("one.more.example"),
        Err(DnsStartError::TableFull)
    );
    assert!(s.dns_result(qs[0]).is_ready());
    let extra = s.dns_query("one.more.example").unwrap();
    assert_ne!(extra, qs[0], "a new generation");
    assert_eq!(
        s.dns_result(qs[0]),
        Poll::Ready(Err(DnsError::UnknownQuery))
    );
    // Cancelling frees the slot with no event; its answer is then not ours.
    if DNS_QUERIES > 1 {
        s.dns_cancel(qs[1]);
        s.dns_cancel(qs[1]);
        assert_eq!(
            s.dns_result(qs[1]),
            Poll::Ready(Err(DnsError::UnknownQuery))
        );
        let rsp = reply(&sent[1], 0, &[a("q1.example", 60, [192, 0, 2, 1])]);
        let out = input(&mut s, T0, id, &answer_frame(&sent[1], &rsp));
        let icmp = out
            .iter()
            .filter(|f| parse_ip(f).ip.protocol == IpProtocol::Icmp)
            .count();
        assert_eq!(icmp, 1, "a closed port now");
        assert!(s.dns_query("again.example").is_ok());
    }
    assert_eq!(events(&mut s), [Event::DnsDone(qs[0])]);
}

/// The resolver needs no UDP socket: with every socket open it still
/// works, and it never uses a port a socket holds.
#[test]
fn no_socket_taken() {
    let (mut s, id) = resolver(11, &[S1]);
    let mut held = Vec::new();
    for _ in 0..UDP_SOCKETS {
        let h = s.udp_open().unwrap();
        held.push(s.udp_bind(h, sock(OUR_IP, 0)).unwrap().port());
    }
    for n in 0..4 {
        let q = s.dns_query(&format!("n{n}.example")).unwrap();
        let sent = one_query(&run(&mut s, T0, id));
        assert!(!held.contains(&sent.port));
        let rsp = reply(&sent, 0, &[a("x.example", 60, [192, 0, 2, 1])]);
        input(&mut s, T0, id, &answer_frame(&sent, &rsp));
        assert_eq!(
            s.dns_result(q),
            Poll::Ready(Err(DnsError::NoData)),
            "an answer for another name"
        );
    }
}

/// No route to the first server: the second is asked at once.
#[test]
fn unroutable_server_is_skipped() {
    let (mut s, id) = stack_with_peer(12);
    // No default gateway: S1 is unreachable, PEER_IP is on-link.
    s.dns_set_servers(&[S1, PEER_IP]).unwrap();
    let q = s.dns_query("x.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    assert_eq!(sent.server, PEER_IP);
    let rsp = reply(&sent, 0, &[a("x.example", 60, [192, 0, 2, 1])]);
    input(&mut s, T0, id, &answer_frame(&sent, &rsp));
    assert!(s.dns_result(q).is_ready());
    // With no reachable server at all the query times out at once.
    s.dns_set_servers(&[S1]).unwrap();
    let q = s.dns_query("y.example").unwrap();
    assert!(run(&mut s, T0, id).is_empty());
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::Timeout)));
}

/// A truncated response (TC) with an address is used; without one it is
/// a server failure (no TCP fallback).
#[test]
fn truncated_responses() {
    let (mut s, id) = resolver(13, &[S1]);
    let q = s.dns_query("big.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let mut rsp = reply(
        &sent,
        0,
        &[
            a("big.example", 60, [192, 0, 2, 1]),
            a("big.example", 60, [192, 0, 2, 2]),
        ],
    );
    rsp[2] |= 0x02; // TC
    rsp.truncate(rsp.len() - 3);
    input(&mut s, T0, id, &answer_frame(&sent, &rsp));
    assert_eq!(
        s.dns_result(q),
        Poll::Ready(Ok(answer(&[[192, 0, 2, 1]], 60)))
    );

    let q = s.dns_query("bigger.example").unwrap();
    let sent = one_query(&run(&mut s, T0, id));
    let mut rsp = reply(&sent, 0, &[]);
    rsp[2] |= 0x02;
    input(&mut s, T0, id, &answer_frame(&sent, &rsp));
    assert_eq!(s.dns_result(q), Poll::Ready(Err(DnsError::ServFail)));
}

/// The frame-slot pool full: the query stays due and leaves on the
/// next run once the driver has taken frames.
#[test]
fn query_waits_for_a_frame_slot() {
    let (mut s, id) = resolver(14, &[S1]);
    // Fill the pool with datagrams the driver has not taken yet.
    let mut queued = 0;
    for _ in 0..UDP_SOCKETS {
        let h = s.udp_open().unwrap();
        while queued <= TX_FRAMES && s.udp_send_to(h, &[0; 8], Some(sock(S1, 9)), T0).is_ok() {
            queued += 1;
        }
    }
    assert!(queued > TX_FRAMES, "enough datagrams to fill the pool");
    s.dispatch(T0);
    let q = s.dns_query("wait.example").unwrap();
    s.dispatch(T0);
    assert_eq!(s.stats().dns.tx, 0, "no frame slot");
    assert_eq!(s.poll_at(T0), Some(T0));
    let mut dev = Capture::new();
    s.transmit(T0, id, &mut dev);
    assert_eq!(dev.tx.len(), TX_FRAMES);
    let out = run(&mut s, T0, id);
    let sent: Vec<Sent> = out
        .iter()
        .filter(|f| parse_udp(&parse_ip(f)).0.dst_port == 53)
        .map(|f| parse_query(f))
        .collect();
    assert_eq!(sent.len(), 1);
    let rsp = reply(&sent[0], 0, &[a("wait.example", 60, [192, 0, 2, 1])]);
    input(&mut s, T0, id, &answer_frame(&sent[0], &rsp));
    assert!(s.dns_result(q).is_ready());
}

/// Mutated responses fed through the stack: nothing panics, every one is
/// counted, and the query ends at most once.
#[test]
fn mutated_responses_through_the_stack() {
    let (mut s, id) = resolver(15, &[S1]);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut finished = 0;
    for round in 0..300 {
        let q = s.dns_query(&format!("m{round}.example")).unwrap();
        let sent = one_query(&run(&mut s, T0, id));
        let base = reply(
            &sent,
            0,
            &[
                cname(leak(format!("m{round}.example")), 60, "t.example"),
                a("t.example", 60, [192, 0, 2, 1]),
            ],
        );
        for _ in 0..10 {
            let mut b = base.clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() % b.len() as u64) as usize;
                b[at] = next() as u8;
            }
            if next() % 3 == 0 {
                b.truncate((next() % b.len() as u64) as usize);
            }
            s.receive(T0, id, &answer_frame(&sent, &b));
        }
        s.dns_cancel(q);
        finished += events(&mut s).len();
        run(&mut s, T0, id);
    }
    let d = s.stats().dns;
    assert!(finished <= 300);
    assert_eq!(
        d.rx + d.drop_malformed + d.drop_mismatch + s.stats().udp.drop_no_socket,
        3000,
        "{d:?}"
    );
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
