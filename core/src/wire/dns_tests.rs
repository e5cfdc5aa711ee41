//! Tests of the DNS wire format (`wire::dns`): hostile inputs (pointer
//! loops, truncations, mutations) and round trips.

use super::*;
use crate::wire::test_util::XorShift;
use std::string::ToString;
use std::vec::Vec;

fn name(s: &str) -> Name {
    Name::from_text(s).unwrap()
}

/// Appends `s` as uncompressed labels with the terminating zero.
fn put_name(buf: &mut Vec<u8>, s: &str) {
    for l in s.split('.').filter(|l| !l.is_empty()) {
        buf.push(l.len() as u8);
        buf.extend_from_slice(l.as_bytes());
    }
    buf.push(0);
}

fn put_rr_head(buf: &mut Vec<u8>, rtype: u16, ttl: u32, rdlen: u16) {
    buf.extend_from_slice(&rtype.to_be_bytes());
    buf.extend_from_slice(&CLASS_IN.to_be_bytes());
    buf.extend_from_slice(&ttl.to_be_bytes());
    buf.extend_from_slice(&rdlen.to_be_bytes());
}

fn header(id: u16, flags: u16, qd: u16, an: u16) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [id, flags, qd, an, 0, 0] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b
}

/// A response for `WWW.Example.com` A: a CNAME to `host.example.com`
/// (owner and target compressed), then two A records of the target
/// (owner a pointer to the CNAME's data), then an MX record.
fn response() -> Vec<u8> {
    let mut b = header(0x1234, 0x8180, 1, 4);
    put_name(&mut b, "WWW.Example.com"); // at 12: 3www 7example 3com 0
    b.extend_from_slice(&TYPE_A.to_be_bytes());
    b.extend_from_slice(&CLASS_IN.to_be_bytes());
    // CNAME: owner = pointer to 12; data = 4host + pointer to 16
    // ("example.com").
    b.extend_from_slice(&[0xc0, 12]);
    put_rr_head(&mut b, TYPE_CNAME, 300, 7);
    let target_at = b.len();
    b.extend_from_slice(&[4, b'h', b'o', b's', b't', 0xc0, 16]);
    for (ttl, last) in [(60u32, 7u8), (0x8000_0000, 8)] {
        b.extend_from_slice(&[0xc0, target_at as u8]);
        put_rr_head(&mut b, TYPE_A, ttl, 4);
        b.extend_from_slice(&[192, 0, 2, last]);
    }
    b.extend_from_slice(&[0xc0, 12]);
    put_rr_head(&mut b, 15, 60, 4);
    b.extend_from_slice(&[0, 10, 0xc0, 12]);
    b
}

/// Parses everything a resolver would look at; `Err` on the first
/// error. Display runs on every name too.
fn parse_all(bytes: &[u8]) -> Result<usize> {
    let p = DnsPacket::new_checked(bytes)?;
    let _ = (p.id(), p.qr(), p.opcode(), p.aa(), p.tc(), p.rd(), p.ra());
    let _ = (p.rcode(), p.nscount(), p.arcount());
    let q = p.question()?;
    let _ = q.name.to_string();
    let mut n = 0;
    for r in p.answers()? {
        let r = r?;
        let _ = r.name.to_string();
        if let RecordData::Cname(t) = &r.data {
            let _ = t.to_string();
        }
        n += 1;
    }
    Ok(n)
}

#[test]
fn header_accessors() {
    let b = response();
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.id(), 0x1234);
    assert!(p.qr() && p.rd() && p.ra() && !p.aa() && !p.tc());
    assert_eq!(p.opcode(), 0);
    assert_eq!(p.rcode(), Rcode::NoError);
    assert_eq!(
        (p.qdcount(), p.ancount(), p.nscount(), p.arcount()),
        (1, 4, 0, 0)
    );
    assert_eq!(
        DnsPacket::new_checked(&b[..11]).unwrap_err(),
        Error::Truncated
    );
    let mut h = [0u8; HEADER_LEN];
    let mut p = DnsPacket::new_unchecked(&mut h[..]);
    p.set_opcode(0xf);
    p.set_rcode(Rcode::Refused);
    p.set_aa(true);
    p.set_tc(true);
    p.set_ra(true);
    p.set_qr(true);
    assert_eq!(p.opcode(), 0xf);
    assert_eq!(p.rcode(), Rcode::Refused);
    assert!(p.aa() && p.tc() && p.ra() && p.qr() && !p.rd());
    p.set_tc(false);
    p.set_rcode(Rcode::Other(9));
    assert!(!p.tc());
    assert_eq!(p.rcode(), Rcode::Other(9));
    for v in 0..16u8 {
        assert_eq!(u8::from(Rcode::from(v)), v);
    }
}

/// RFC 1035 §2.3.1/§2.3.4 and RFC 1123 §2.1: what `from_text` takes.
#[test]
fn name_validation() {
    let n = name("WWW.Example.COM.");
    assert_eq!(n, name("www.example.com"), "RFC 4343: case-insensitive");
    assert_eq!(n.to_string(), "www.example.com");
    assert_eq!(n.wire_len(), 17);
    assert_eq!(n.labels().count(), 3);
    assert!(name("_sip._udp.a-b.example").labels().count() == 4);
    assert!(name("1.2.3.4.5").labels().count() == 5);
    let l63 = "a".repeat(63);
    assert!(Name::from_text(&l63).is_ok());
    assert!(Name::from_text(&"a".repeat(64)).is_err());
    // 253 characters: 63.63.63.61
    let max = [l63.as_str(), &l63, &l63, &"b".repeat(61)].join(".");
    assert_eq!(max.len(), MAX_NAME_TEXT_LEN);
    let n = Name::from_text(&max).unwrap();
    assert_eq!(n.wire_len(), MAX_NAME_LEN);
    assert!(Name::from_text(&(max.clone() + ".")).is_ok());
    assert!(Name::from_text(&(max + "b")).is_err(), "254 characters");
    for bad in [
        "", ".", "..", "a..b", ".a", "a.b..", "a b", "a/b", "é.com", "a\0b", "a.*.b",
    ] {
        assert_eq!(Name::from_text(bad), Err(Error::Malformed), "{bad:?}");
    }
    assert!(Name::ROOT.is_root());
    assert_eq!(Name::ROOT.to_string(), ".");
}

#[test]
fn display_escapes_odd_bytes() {
    let mut n = Name::ROOT;
    n.push_label(b"a.b").unwrap();
    n.push_label(b"\\\x01 Z").unwrap();
    assert_eq!(n.to_string(), "a\\.b.\\\\\\001\\032z");
    assert_ne!(n, name("a.b.z"));
}

/// The emitter against an independently computed query (the UDP
/// module's test vector: example.com A, ID 0xabcd, RD).
#[test]
fn query_matches_reference_bytes() {
    let reference = &crate::wire::udp::tests::DNS_QUERY_IP[28..];
    let n = name("Example.com");
    let q = QueryRepr {
        id: 0xabcd,
        name: &n,
    };
    let mut buf = [0xffu8; MAX_QUERY_LEN];
    let len = q.emit(&mut buf).unwrap();
    assert_eq!(len, q.buffer_len());
    assert_eq!(&buf[..len], reference);
    assert_eq!(q.emit(&mut buf[..len - 1]), Err(Error::Truncated));
}

/// A query emitted, turned into a response by hand, parsed back.
#[test]
fn round_trip() {
    let n = name("host.example.org");
    let mut buf = [0u8; MAX_QUERY_LEN];
    let len = QueryRepr { id: 7, name: &n }.emit(&mut buf).unwrap();
    let mut b = buf[..len].to_vec();
    {
        let mut p = DnsPacket::new_unchecked(&mut b[..]);
        assert!(p.rd() && !p.qr());
        assert_eq!(p.qdcount(), 1);
        p.set_qr(true);
        p.set_ra(true);
        p.set_ancount(1);
    }
    b.extend_from_slice(&[0xc0, 12]);
    put_rr_head(&mut b, TYPE_A, 3600, 4);
    b.extend_from_slice(&[203, 0, 113, 9]);
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.id(), 7);
    let q = p.question().unwrap();
    assert_eq!((q.name, q.qtype, q.qclass), (n.clone(), TYPE_A, CLASS_IN));
    let rs: Vec<_> = p.answers().unwrap().collect::<Result<_>>().unwrap();
    assert_eq!(
        rs,
        [Record {
            name: n,
            rtype: TYPE_A,
            class: CLASS_IN,
            ttl: 3600,
            data: RecordData::A(Ipv4Addr::new(203, 0, 113, 9)),
        }]
    );
}

#[test]
fn parses_compressed_response() {
    let b = response();
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.question().unwrap().name, name("www.example.com"));
    let rs: Vec<_> = p.answers().unwrap().collect::<Result<_>>().unwrap();
    assert_eq!(rs.len(), 4);
    assert_eq!(rs[0].name, name("www.example.com"));
    assert_eq!(rs[0].data, RecordData::Cname(name("host.example.com")));
    assert_eq!(rs[0].ttl, 300);
    assert_eq!(rs[1].name, name("host.example.com"));
    assert_eq!(rs[1].data, RecordData::A(Ipv4Addr::new(192, 0, 2, 7)));
    assert_eq!(rs[2].ttl, 0, "RFC 2181 §8: top bit set reads as 0");
    assert_eq!(rs[3].rtype, 15);
    assert_eq!(rs[3].data, RecordData::Other(&[0, 10, 0xc0, 12]));
    assert_eq!(parse_all(&b), Ok(4));
}

#[test]
fn every_truncation_fails_cleanly() {
    let b = response();
    for len in 0..b.len() {
        assert!(parse_all(&b[..len]).is_err(), "prefix of {len} bytes");
    }
}

/// A message whose question name is `name_bytes` (at offset 12).
fn with_name(name_bytes: &[u8]) -> Vec<u8> {
    let mut b = header(1, 0x8180, 1, 0);
    b.extend_from_slice(name_bytes);
    b.extend_from_slice(&[0, 1, 0, 1]);
    b
}

fn question_err(name_bytes: &[u8]) -> Error {
    let b = with_name(name_bytes);
    DnsPacket::new_checked(&b[..])
        .unwrap()
        .question()
        .unwrap_err()
}

#[test]
fn hostile_pointers() {
    // A pointer to itself.
    assert_eq!(question_err(&[0xc0, 12]), Error::Malformed);
    // Forward.
    assert_eq!(question_err(&[0xc0, 14, 1, b'a', 0]), Error::Malformed);
    // A label then a pointer back into its own run: a loop.
    assert_eq!(question_err(&[1, b'a', 0xc0, 12]), Error::Malformed);
    assert_eq!(question_err(&[1, b'a', 0xc0, 13]), Error::Malformed);
    // Past the end of the message.
    assert_eq!(question_err(&[0xff, 0xff]), Error::Malformed);
    // Cut in the middle of a pointer.
    let b = header(1, 0x8180, 1, 0);
    let mut c = b.clone();
    c.push(0xc0);
    let p = DnsPacket::new_checked(&c[..]).unwrap();
    assert_eq!(p.question().unwrap_err(), Error::Truncated);
    // The retired label types 01 and 10.
    assert_eq!(question_err(&[0x41, 0]), Error::Malformed);
    assert_eq!(question_err(&[0x81, 0]), Error::Malformed);

    // Two pointers pointing at each other, read from either end.
    let mut b = header(1, 0x8180, 0, 0);
    b.extend_from_slice(&[0xc0, 14, 0xc0, 12]);
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.read_name(12).unwrap_err(), Error::Malformed);
    assert_eq!(p.read_name(14).unwrap_err(), Error::Malformed);

    // A valid chain of pointers, each strictly earlier.
    let mut b = header(1, 0x8180, 0, 0);
    b.extend_from_slice(&[3, b'c', b'o', b'm', 0]); // 12
    b.extend_from_slice(&[1, b'b', 0xc0, 12]); // 17
    b.extend_from_slice(&[1, b'a', 0xc0, 17]); // 21
    b.extend_from_slice(&[0xc0, 21]); // 25
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    let (n, end) = p.read_name(25).unwrap();
    assert_eq!((n, end), (name("a.b.com"), 27));
}

/// More than 64 pointers, even backwards ones, are refused.
#[test]
fn pointer_chain_limit() {
    let chain = |links: usize| {
        let mut b = header(1, 0x8180, 0, 0);
        b.push(0); // 12: the root
        let mut prev = 12u16;
        for _ in 0..links {
            let at = b.len() as u16;
            b.extend_from_slice(&(0xc000 | prev).to_be_bytes());
            prev = at;
        }
        (b, usize::from(prev))
    };
    let (b, at) = chain(MAX_POINTERS);
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert!(p.read_name(at).unwrap().0.is_root());
    let (b, at) = chain(MAX_POINTERS + 1);
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.read_name(at).unwrap_err(), Error::Malformed);
}

#[test]
fn labels_past_the_end_and_overlong_names() {
    assert_eq!(question_err(&[5, b'a', b'b']), Error::Truncated);
    // No terminating label: the QTYPE bytes are read as labels.
    let mut b = header(1, 0x8180, 1, 0);
    b.extend_from_slice(&[1, b'a']);
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.question().unwrap_err(), Error::Truncated);
    // 4 labels of 63: 256 bytes with the final zero.
    let mut long = Vec::new();
    for _ in 0..4 {
        long.push(63);
        long.extend_from_slice(&[b'x'; 63]);
    }
    long.push(0);
    assert_eq!(question_err(&long), Error::Malformed);
    // 255 exactly is fine: 3 x 63 + 61.
    let mut ok = Vec::new();
    for l in [63usize, 63, 63, 61] {
        ok.push(l as u8);
        ok.extend(core::iter::repeat_n(b'y', l));
    }
    ok.push(0);
    assert_eq!(ok.len(), 255);
    let b = with_name(&ok);
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.question().unwrap().name.wire_len(), 255);
    // Over 255 through a pointer: 200 bytes of labels pointing to 100.
    let mut b = header(1, 0x8180, 0, 0);
    let part = |n: usize, b: &mut Vec<u8>| {
        for _ in 0..n {
            b.push(49);
            b.extend_from_slice(&[b'z'; 49]);
        }
    };
    part(2, &mut b); // 12..112
    b.push(0);
    let second = b.len();
    part(4, &mut b);
    b.extend_from_slice(&[0xc0, 12]);
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert!(p.read_name(12).is_ok());
    assert_eq!(p.read_name(second).unwrap_err(), Error::Malformed);
}

/// Builds a response with one answer record `rr` for `a.example`.
fn one_answer(rtype: u16, rdlen: u16, rdata: &[u8]) -> Vec<u8> {
    let mut b = header(1, 0x8180, 1, 1);
    put_name(&mut b, "a.example");
    b.extend_from_slice(&[0, 1, 0, 1]);
    b.extend_from_slice(&[0xc0, 12]);
    put_rr_head(&mut b, rtype, 5, rdlen);
    b.extend_from_slice(rdata);
    b
}

fn first_answer(b: &[u8]) -> Result<Record<'static>> {
    let p = DnsPacket::new_checked(b).unwrap();
    let mut it = p.answers()?;
    let r = it.next().unwrap();
    assert!(it.next().is_none());
    // `Records` borrows `p`: keep the record without its raw data.
    r.map(|r| Record {
        data: match r.data {
            RecordData::A(a) => RecordData::A(a),
            RecordData::Cname(n) => RecordData::Cname(n),
            RecordData::Other(_) => RecordData::Other(&[]),
        },
        name: r.name,
        rtype: r.rtype,
        class: r.class,
        ttl: r.ttl,
    })
}

#[test]
fn hostile_records() {
    // rdlength past the end.
    let b = one_answer(TYPE_A, 5, &[1, 2, 3, 4]);
    assert_eq!(first_answer(&b).unwrap_err(), Error::Truncated);
    // An A record of 3 bytes, and of 5.
    let b = one_answer(TYPE_A, 3, &[1, 2, 3]);
    assert_eq!(first_answer(&b).unwrap_err(), Error::Malformed);
    let b = one_answer(TYPE_A, 5, &[1, 2, 3, 4, 5]);
    assert_eq!(first_answer(&b).unwrap_err(), Error::Malformed);
    // A CNAME whose name does not fill its RDATA, or overruns it.
    let b = one_answer(TYPE_CNAME, 4, &[1, b'b', 0, 0]);
    assert_eq!(first_answer(&b).unwrap_err(), Error::Malformed);
    let b = one_answer(TYPE_CNAME, 2, &[1, b'b', 0]);
    assert_eq!(first_answer(&b).unwrap_err(), Error::Malformed);
    let b = one_answer(TYPE_CNAME, 3, &[1, b'b', 0]);
    assert_eq!(first_answer(&b).unwrap().data, RecordData::Cname(name("b")));
    // A CNAME pointing into its own RDATA.
    let at = one_answer(TYPE_CNAME, 0, &[]).len() as u8;
    let b = one_answer(TYPE_CNAME, 4, &[1, b'b', 0xc0, at]);
    assert_eq!(first_answer(&b).unwrap_err(), Error::Malformed);
    // An A record of class CH is not an address.
    let mut b = one_answer(TYPE_A, 4, &[1, 2, 3, 4]);
    let class_at = b.len() - 4 - 8;
    b[class_at..class_at + 2].copy_from_slice(&3u16.to_be_bytes());
    let r = first_answer(&b).unwrap();
    assert_eq!((r.class, r.data), (3, RecordData::Other(&[])));
    // ANCOUNT larger than the records present.
    let mut b = one_answer(TYPE_A, 4, &[1, 2, 3, 4]);
    b[7] = 2;
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    let rs: Vec<_> = p.answers().unwrap().collect();
    assert_eq!(rs.len(), 2);
    assert!(rs[0].is_ok());
    assert_eq!(rs[1].as_ref().unwrap_err(), &Error::Truncated);
    // QDCOUNT 0: no question.
    let mut b = response();
    b[5] = 0;
    let p = DnsPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.question().unwrap_err(), Error::Malformed);
}

/// 20,000 mutated responses: bytes flipped, counts changed, lengths
/// cut. Nothing panics, and the loop protection keeps each parse
/// short.
#[test]
fn random_mutations_never_panic() {
    let base = response();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut ok = 0;
    for _ in 0..20_000 {
        let mut b = base.clone();
        let edits = 1 + rng.next() % 4;
        for _ in 0..edits {
            let at = (rng.next() % b.len() as u64) as usize;
            let v = rng.next() as u8;
            match rng.next() % 4 {
                // Pointer-looking bytes are the interesting ones.
                0 => b[at] = 0xc0 | (v & 0x3f),
                1 => b[at] = v % 70,
                _ => b[at] = v,
            }
        }
        if rng.next() % 4 == 0 {
            let cut = (rng.next() % (b.len() as u64 + 1)) as usize;
            b.truncate(cut);
        }
        if parse_all(&b).is_ok() {
            ok += 1;
        }
    }
    assert!(ok > 0, "some mutations stay valid");
}
