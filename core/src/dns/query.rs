//! One query in flight: which attempt is due or awaited, and what a
//! response to it means.
//!
//! Attempts follow glibc's `res_send` order: a round asks each server in
//! turn, and an attempt of round `r` waits `DNS_TIMEOUT_MS << r` for its
//! answer (RFC 1035 §4.2.1: "the retransmission interval should be based
//! on prior statistics if possible"; a fixed doubling is what stub
//! resolvers do). After `DNS_ATTEMPTS` rounds the query times out. Every
//! attempt gets a fresh random ID and source port (RFC 5452 §9.2).
//!
//! A server that answers SERVFAIL, REFUSED or another error code for this
//! question is not asked again: the next server is tried at once, and the
//! query ends with that error only when no other server is left to try
//! (every one failed, or the rounds ran out while the others timed out).

use heapless::Vec;

use super::cache::Addresses;
use super::DnsError;
use crate::addr::Ipv4Addr;
use crate::config::{DNS_ATTEMPTS, DNS_TIMEOUT_MS};
use crate::time::{Duration, Instant};
use crate::wire::dns::{DnsPacket, Name, Rcode, RecordData, CLASS_IN, TYPE_A};

/// Most CNAME records followed for one query, across re-queries
/// (RFC 1034 §3.6.2 asks resolvers to stop CNAME loops; glibc and Zephyr
/// use similar small bounds).
pub(crate) const MAX_CNAME_LINKS: u8 = 8;

/// An attempt on the wire: the response must come from `server`, port 53,
/// to `port`, with `id` (RFC 5452 §4.1-4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempt {
    pub server: Ipv4Addr,
    pub port: u16,
    pub id: u16,
    /// When the attempt times out.
    pub deadline: Instant,
}

/// A query in flight.
pub(crate) struct Query {
    /// The name the application asked for (the cache key).
    pub name: Name,
    /// The name of the current question: `name`, or the target of a CNAME
    /// chain that left the previous response without an address.
    pub qname: Name,
    /// CNAME records followed so far.
    pub links: u8,
    /// Smallest TTL of the CNAME records followed so far.
    pub chain_ttl: u32,
    /// Current round (0-based) and server index in the list.
    pub round: u8,
    pub server: u8,
    /// Servers (by index) that answered with an error code.
    pub failed: u64,
    /// The error code of the last server that gave one.
    pub error: Option<DnsError>,
    /// The attempt awaiting its answer; `None`: the next one is due.
    pub attempt: Option<Attempt>,
    /// When the next attempt is due (while `attempt` is `None`).
    pub due: Instant,
    /// Whether an attempt of this question was sent (for counting
    /// retransmissions).
    pub sent_any: bool,
}

/// What a response means for the query.
// Short-lived on the stack; no heap to box a name into.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Does not parse: dropped, the query keeps waiting.
    Malformed,
    /// Not an answer to this attempt's question: dropped, keep waiting.
    Mismatch,
    /// Addresses, valid for `ttl` seconds.
    Answer { addrs: Addresses, ttl: u32 },
    /// The CNAME chain leaves the response: ask for `target`.
    Requery { target: Name, ttl: u32, links: u8 },
    /// The query ends with this error.
    Fail(DnsError),
    /// This server failed (SERVFAIL, REFUSED, ...): try the next one.
    ServerError(DnsError),
}

/// The time an attempt of round `round` waits.
pub(crate) fn timeout(round: u8) -> Duration {
    let factor = 1u64 << u32::from(round).min(62);
    Duration::from_millis((DNS_TIMEOUT_MS as u64).saturating_mul(factor))
}

impl Query {
    /// A query for `name`, its first attempt due at `now`.
    pub fn new(name: Name, now: Instant) -> Self {
        Query {
            qname: name.clone(),
            name,
            links: 0,
            chain_ttl: u32::MAX,
            round: 0,
            server: 0,
            failed: 0,
            error: None,
            attempt: None,
            due: now,
            sent_any: false,
        }
    }

    /// When the query next needs the resolver to run.
    pub fn deadline(&self) -> Instant {
        self.attempt.map_or(self.due, |a| a.deadline)
    }

    fn has_failed(&self, server: usize) -> bool {
        server < 64 && self.failed & (1 << server) != 0
    }

    /// Moves to the next attempt, due at `now`, with `servers` servers
    /// known: the next server of the round that has not failed, or the
    /// first of the next round. False when none is left: the query ends.
    pub fn next_attempt(&mut self, servers: usize, now: Instant) -> bool {
        self.attempt = None;
        self.due = now;
        if servers == 0 || (0..servers).all(|s| self.has_failed(s)) {
            return false;
        }
        loop {
            self.server = self.server.saturating_add(1);
            if usize::from(self.server) >= servers {
                self.server = 0;
                self.round = self.round.saturating_add(1);
            }
            if usize::from(self.round) >= DNS_ATTEMPTS {
                return false;
            }
            if !self.has_failed(usize::from(self.server)) {
                return true;
            }
        }
    }

    /// The current server failed with `error`: never ask it again for this
    /// question; moves on as [`next_attempt`](Self::next_attempt).
    pub fn server_failed(&mut self, error: DnsError, servers: usize, now: Instant) -> bool {
        if self.server < 64 {
            self.failed |= 1 << self.server;
        }
        self.error = Some(error);
        self.next_attempt(servers, now)
    }

    /// Starts over with `target` as the question (a CNAME chain that left
    /// the last response), from the first server, due at `now`.
    pub fn requery(&mut self, target: Name, ttl: u32, links: u8, now: Instant) {
        self.qname = target;
        self.chain_ttl = ttl;
        self.links = links;
        self.round = 0;
        self.server = 0;
        self.failed = 0;
        self.error = None;
        self.attempt = None;
        self.due = now;
        self.sent_any = false;
    }

    /// What `msg`, a datagram from the right server and port to the
    /// attempt's port, means for attempt `a`.
    pub fn evaluate(&self, a: &Attempt, msg: &[u8]) -> Verdict {
        let Ok(p) = DnsPacket::new_checked(msg) else {
            return Verdict::Malformed;
        };
        // RFC 5452 §4.1-4.2 and RFC 1035 §7.3: the ID and the question
        // must match the query; a response (QR), standard query (opcode 0).
        if p.id() != a.id || !p.qr() || p.opcode() != 0 || p.qdcount() != 1 {
            return Verdict::Mismatch;
        }
        let q = match p.question() {
            Ok(q) => q,
            Err(_) => return Verdict::Malformed,
        };
        if q.name != self.qname || q.qtype != TYPE_A || q.qclass != CLASS_IN {
            return Verdict::Mismatch;
        }
        match p.rcode() {
            Rcode::NoError => {}
            // RFC 1035 §4.1.1: name error. (RFC 6604: with a CNAME chain
            // it concerns the chain's last name; either way no address.)
            Rcode::NxDomain => return Verdict::Fail(DnsError::NxDomain),
            Rcode::Refused => return Verdict::ServerError(DnsError::Refused),
            _ => return Verdict::ServerError(DnsError::ServFail),
        }
        // The records that parse. A truncated response (TC, RFC 1035
        // §4.1.1; RFC 2181 §9) may end in the middle of one: keep those
        // before it. A complete one must parse entirely.
        let mut usable = 0usize;
        let Ok(records) = p.answers() else {
            return Verdict::Malformed;
        };
        for r in records {
            match r {
                Ok(_) => usable += 1,
                Err(_) if p.tc() => break,
                Err(_) => return Verdict::Malformed,
            }
        }
        self.follow(&p, usable)
    }

    /// Follows the CNAME chain from the question through the first
    /// `usable` answer records (RFC 1034 §3.6.2, §5.3.3: a recursive
    /// server puts the chain and the target's addresses in one answer).
    fn follow(&self, p: &DnsPacket<&[u8]>, usable: usize) -> Verdict {
        let mut current = self.qname.clone();
        let mut links = self.links;
        let mut ttl = self.chain_ttl;
        loop {
            let mut addrs = Vec::new();
            let mut a_ttl = u32::MAX;
            let mut cname = None;
            let Ok(records) = p.answers() else {
                return Verdict::Malformed;
            };
            for r in records.take(usable).flatten() {
                if r.name != current {
                    continue;
                }
                match r.data {
                    RecordData::A(addr) if !addrs.contains(&addr) && addrs.push(addr).is_ok() => {
                        a_ttl = a_ttl.min(r.ttl);
                    }
                    RecordData::Cname(t) if cname.is_none() => cname = Some((t, r.ttl)),
                    _ => {}
                }
            }
            if !addrs.is_empty() {
                return Verdict::Answer {
                    addrs,
                    ttl: ttl.min(a_ttl),
                };
            }
            let Some((target, cname_ttl)) = cname else {
                break;
            };
            links += 1;
            if links > MAX_CNAME_LINKS {
                // Too long, or a loop.
                return Verdict::Fail(DnsError::Malformed);
            }
            ttl = ttl.min(cname_ttl);
            current = target;
        }
        if p.tc() {
            // Truncated without an address: no TCP fallback (RFC 7766
            // would retry over TCP); treated as a failed server.
            return Verdict::ServerError(DnsError::ServFail);
        }
        if current == self.qname {
            // RFC 2308 §2.2: NODATA, the name exists without an A record.
            return Verdict::Fail(DnsError::NoData);
        }
        Verdict::Requery {
            target: current,
            ttl,
            links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dns::{QueryRepr, TYPE_CNAME};
    use std::vec::Vec as StdVec;

    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);
    const T: Instant = Instant::from_secs(10);

    fn name(s: &str) -> Name {
        Name::from_text(s).unwrap()
    }

    fn attempt() -> Attempt {
        Attempt {
            server: SERVER,
            port: 50000,
            id: 0x4321,
            deadline: T,
        }
    }

    /// A response to `q` (as asked by `query`) with `rcode` and answer
    /// records `(owner, type, ttl, rdata)`.
    fn response(
        qname: &str,
        rcode: u8,
        tc: bool,
        rrs: &[(&str, u16, u32, StdVec<u8>)],
    ) -> StdVec<u8> {
        let n = name(qname);
        let mut b = [0u8; 300];
        let len = QueryRepr {
            id: 0x4321,
            name: &n,
        }
        .emit(&mut b)
        .unwrap();
        let mut b = b[..len].to_vec();
        {
            let mut p = DnsPacket::new_unchecked(&mut b[..]);
            p.set_qr(true);
            p.set_ra(true);
            p.set_tc(tc);
            p.set_rcode(Rcode::from(rcode));
            p.set_ancount(rrs.len() as u16);
        }
        for (owner, t, ttl, data) in rrs {
            let mut nb = [0u8; 256];
            let nl = name(owner).emit(&mut nb).unwrap();
            b.extend_from_slice(&nb[..nl]);
            b.extend_from_slice(&t.to_be_bytes());
            b.extend_from_slice(&CLASS_IN.to_be_bytes());
            b.extend_from_slice(&ttl.to_be_bytes());
            b.extend_from_slice(&(data.len() as u16).to_be_bytes());
            b.extend_from_slice(data);
        }
        b
    }

    fn a(owner: &'static str, ttl: u32, last: u8) -> (&'static str, u16, u32, StdVec<u8>) {
        (owner, TYPE_A, ttl, [192, 0, 2, last].to_vec())
    }

    fn cname(owner: &'static str, ttl: u32, target: &str) -> (&'static str, u16, u32, StdVec<u8>) {
        let mut nb = [0u8; 256];
        let nl = name(target).emit(&mut nb).unwrap();
        (owner, TYPE_CNAME, ttl, nb[..nl].to_vec())
    }

    fn addrs(lasts: &[u8]) -> Addresses {
        lasts.iter().map(|&l| Ipv4Addr::new(192, 0, 2, l)).collect()
    }

    #[test]
    fn direct_answer_and_cname_chain() {
        let q = Query::new(name("www.example"), T);
        let r = response(
            "WWW.example",
            0,
            false,
            &[a("www.example", 60, 1), a("www.example", 30, 2)],
        );
        assert_eq!(
            q.evaluate(&attempt(), &r),
            Verdict::Answer {
                addrs: addrs(&[1, 2]),
                ttl: 30
            }
        );
        let r = response(
            "www.example",
            0,
            false,
            &[
                a("other.example", 5, 9),
                cname("www.example", 20, "b.example"),
                cname("b.example", 300, "c.example"),
                a("c.example", 100, 3),
            ],
        );
        assert_eq!(
            q.evaluate(&attempt(), &r),
            Verdict::Answer {
                addrs: addrs(&[3]),
                ttl: 20
            }
        );
        // A chain leaving the response.
        let r = response(
            "www.example",
            0,
            false,
            &[cname("www.example", 40, "far.example")],
        );
        assert_eq!(
            q.evaluate(&attempt(), &r),
            Verdict::Requery {
                target: name("far.example"),
                ttl: 40,
                links: 1
            }
        );
    }

    #[test]
    fn chain_limits() {
        let q = Query::new(name("a.example"), T);
        let r = response(
            "a.example",
            0,
            false,
            &[
                cname("a.example", 9, "b.example"),
                cname("b.example", 9, "a.example"),
            ],
        );
        assert_eq!(
            q.evaluate(&attempt(), &r),
            Verdict::Fail(DnsError::Malformed),
            "loop"
        );
        // 8 links are fine, 9 are not.
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].map(|s| {
            let s: &'static str =
                std::boxed::Box::leak(std::format!("{s}.example").into_boxed_str());
            s
        });
        let chain = |n: usize| {
            let mut rrs: StdVec<_> = (0..n).map(|i| cname(names[i], 9, names[i + 1])).collect();
            rrs.push(a(names[n], 9, 7));
            response("a.example", 0, false, &rrs)
        };
        assert!(matches!(
            q.evaluate(&attempt(), &chain(8)),
            Verdict::Answer { .. }
        ));
        assert_eq!(
            q.evaluate(&attempt(), &chain(9)),
            Verdict::Fail(DnsError::Malformed)
        );
        // Links already followed in earlier responses count.
        let mut q2 = Query::new(name("a.example"), T);
        q2.links = 7;
        assert!(matches!(
            q2.evaluate(&attempt(), &chain(1)),
            Verdict::Answer { .. }
        ));
        assert_eq!(
            q2.evaluate(&attempt(), &chain(2)),
            Verdict::Fail(DnsError::Malformed)
        );
    }

    #[test]
    fn rcodes_nodata_and_truncation() {
        let q = Query::new(name("x.example"), T);
        let ev =
            |rcode, tc, rrs: &[_]| q.evaluate(&attempt(), &response("x.example", rcode, tc, rrs));
        assert_eq!(ev(3, false, &[]), Verdict::Fail(DnsError::NxDomain));
        assert_eq!(ev(2, false, &[]), Verdict::ServerError(DnsError::ServFail));
        assert_eq!(ev(5, false, &[]), Verdict::ServerError(DnsError::Refused));
        assert_eq!(ev(4, false, &[]), Verdict::ServerError(DnsError::ServFail));
        assert_eq!(ev(0, false, &[]), Verdict::Fail(DnsError::NoData));
        assert_eq!(
            ev(0, false, &[(("x.example"), 16, 5, b"\x02hi".to_vec())]),
            Verdict::Fail(DnsError::NoData)
        );
        assert_eq!(ev(0, true, &[]), Verdict::ServerError(DnsError::ServFail));
        // Truncated in the middle of the second record: the first counts.
        let mut r = response(
            "x.example",
            0,
            true,
            &[a("x.example", 50, 1), a("x.example", 50, 2)],
        );
        r.truncate(r.len() - 2);
        assert_eq!(
            q.evaluate(&attempt(), &r),
            Verdict::Answer {
                addrs: addrs(&[1]),
                ttl: 50
            }
        );
        // The same without TC is malformed.
        DnsPacket::new_unchecked(&mut r[..]).set_tc(false);
        assert_eq!(q.evaluate(&attempt(), &r), Verdict::Malformed);
    }

    #[test]
    fn mismatches() {
        let q = Query::new(name("x.example"), T);
        let good = response("x.example", 0, false, &[a("x.example", 50, 1)]);
        let mut other_id = attempt();
        other_id.id ^= 1;
        assert_eq!(q.evaluate(&other_id, &good), Verdict::Mismatch);
        let wrong_name = response("y.example", 0, false, &[a("y.example", 50, 1)]);
        assert_eq!(q.evaluate(&attempt(), &wrong_name), Verdict::Mismatch);
        let mut not_response = good.clone();
        DnsPacket::new_unchecked(&mut not_response[..]).set_qr(false);
        assert_eq!(q.evaluate(&attempt(), &not_response), Verdict::Mismatch);
        let mut opcode = good.clone();
        DnsPacket::new_unchecked(&mut opcode[..]).set_opcode(2);
        assert_eq!(q.evaluate(&attempt(), &opcode), Verdict::Mismatch);
        let mut qtype = good.clone();
        let at = 12 + name("x.example").wire_len();
        qtype[at + 1] = 28; // AAAA
        assert_eq!(q.evaluate(&attempt(), &qtype), Verdict::Mismatch);
        assert_eq!(q.evaluate(&attempt(), &good[..11]), Verdict::Malformed);
        assert_eq!(q.evaluate(&attempt(), &good[..14]), Verdict::Malformed);
    }

    #[test]
    fn attempt_order_skips_failed_servers() {
        let mut q = Query::new(name("x.example"), T);
        let mut order = StdVec::new();
        order.push((q.round, q.server));
        while q.next_attempt(2, T) {
            order.push((q.round, q.server));
        }
        let want: StdVec<_> = (0..DNS_ATTEMPTS as u8)
            .flat_map(|r| [(r, 0), (r, 1)])
            .collect();
        assert_eq!(order, want);

        let mut q = Query::new(name("x.example"), T);
        assert!(q.server_failed(DnsError::ServFail, 2, T));
        assert_eq!((q.round, q.server), (0, 1));
        assert!(q.next_attempt(2, T), "server 0 is skipped from now on");
        assert_eq!((q.round, q.server), (1, 1));
        assert!(!q.server_failed(DnsError::Refused, 2, T), "none left");
        assert_eq!(q.error, Some(DnsError::Refused));
        assert!(!Query::new(name("x.example"), T).next_attempt(0, T));
        assert_eq!(timeout(0), Duration::from_millis(DNS_TIMEOUT_MS as u64));
        assert_eq!(timeout(2), Duration::from_millis(4 * DNS_TIMEOUT_MS as u64));
    }
}
