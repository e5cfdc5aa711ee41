//! Tests of the DHCP wire format (`wire::dhcp`): hostile inputs, round
//! trips, a mutation loop.

use super::*;
use crate::wire::test_util::XorShift;

const MAC: EthernetAddress = EthernetAddress([0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]);
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 10);

/// A DHCPOFFER in the shape dnsmasq sends (options 53, 54, 51, 58, 59,
/// 1, 28, 3, 6, End, zero padding to 300 bytes). No capture was at hand:
/// written byte by byte from the RFC 2131 §2 layout.
fn dnsmasq_offer() -> [u8; 300] {
    #[rustfmt::skip]
    const HEAD: [u8; 34] = [
        2, 1, 6, 0, 0x39, 0x03, 0xf3, 0x26, // op, htype, hlen, hops, xid
        0, 0, 0, 0, // secs, flags
        0, 0, 0, 0, 192, 168, 0, 10, 192, 168, 0, 1, 0, 0, 0, 0, // ci/yi/si/giaddr
        0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42, // chaddr; its last 10 bytes, sname, file: 0
    ];
    #[rustfmt::skip]
    const COOKIE_AND_OPTIONS: [u8; 56] = [
        0x63, 0x82, 0x53, 0x63,
        53, 1, 2,
        54, 4, 192, 168, 0, 1,
        51, 4, 0, 0, 0x0e, 0x10, // 3600 s
        58, 4, 0, 0, 0x07, 0x08, // 1800 s
        59, 4, 0, 0, 0x0c, 0x4e, // 3150 s
        1, 4, 255, 255, 255, 0,
        28, 4, 192, 168, 0, 255,
        3, 4, 192, 168, 0, 1,
        6, 4, 192, 168, 0, 1,
        255,
    ];
    let mut buf = [0u8; 300];
    buf[..34].copy_from_slice(&HEAD);
    buf[236..292].copy_from_slice(&COOKIE_AND_OPTIONS);
    buf
}

fn offer_repr() -> DhcpRepr<'static> {
    DhcpRepr {
        your_ip: CLIENT,
        server_ip: SERVER,
        server_id: Some(SERVER),
        lease_time: Some(3600),
        renew_time: Some(1800),
        rebind_time: Some(3150),
        subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        router: Some(SERVER),
        dns_servers: [Some(SERVER), None, None],
        ..DhcpRepr::new(OpCode::Reply, MessageType::Offer, 0x3903_f326, MAC)
    }
}

/// A BOOTREQUEST header (Ethernet, cookie) followed by `options`.
fn msg(options: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN];
    buf[..3].copy_from_slice(&[1, 1, 6]);
    buf[236..240].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    buf.extend_from_slice(options);
    buf
}

fn parse(buf: &[u8]) -> Result<DhcpRepr<'_>> {
    DhcpRepr::parse(&DhcpPacket::new_unchecked(buf))
}

/// `options` after a DISCOVER message type.
fn after_discover(options: &[u8]) -> Result<DhcpRepr<'static>> {
    let buf = msg(&[&[53, 1, 1][..], options].concat()).leak();
    parse(buf)
}

/// Emits `repr` into a dirty buffer, checks the length and the zero
/// filling, parses it back and returns the bytes.
fn round_trip(repr: &DhcpRepr<'_>) -> Vec<u8> {
    let len = repr.buffer_len();
    let mut buf = vec![0xaa; len + 4];
    repr.emit(&mut DhcpPacket::new_unchecked(&mut buf[..len]));
    assert_eq!(buf[len..], [0xaa; 4]);
    buf.truncate(len);
    assert!(len >= MIN_LEN);
    assert!(buf[44..236].iter().all(|&b| b == 0), "sname and file");
    let packet = DhcpPacket::new_checked(&buf[..]).unwrap();
    assert_eq!((packet.htype(), packet.hlen(), packet.hops()), (1, 6, 0));
    assert_eq!(DhcpRepr::parse(&packet), Ok(*repr));
    buf
}

#[test]
fn parse_dnsmasq_offer() {
    let buf = dnsmasq_offer();
    let packet = DhcpPacket::new_checked(&buf[..]).unwrap();
    assert_eq!((packet.op(), packet.htype(), packet.hlen()), (2, 1, 6));
    assert_eq!(
        (packet.hops(), packet.xid(), packet.secs()),
        (0, 0x3903_f326, 0)
    );
    assert_eq!((packet.flags(), packet.broadcast()), (0, false));
    assert_eq!(packet.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!((packet.yiaddr(), packet.siaddr()), (CLIENT, SERVER));
    assert_eq!(packet.giaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!((packet.chaddr(), packet.magic()), (MAC, MAGIC_COOKIE));
    assert_eq!(packet.options_bytes().len(), 60);
    let codes: Vec<u8> = packet.options().map(|o| o.unwrap().0).collect();
    assert_eq!(codes, [53, 54, 51, 58, 59, 1, 28, 3, 6]);
    // Option 28 (broadcast address) is unknown here and skipped.
    assert_eq!(DhcpRepr::parse(&packet), Ok(offer_repr()));
    round_trip(&offer_repr());
}

#[test]
fn every_truncation_of_an_offer() {
    let buf = dnsmasq_offer();
    // Where each option of the offer ends, counted from the cookie.
    let ends = [3, 9, 15, 21, 27, 33, 39, 45, 51];
    for len in 0..=buf.len() {
        let got = parse(&buf[..len]);
        if len < HEADER_LEN {
            assert_eq!(got, Err(Error::Truncated), "{len}");
            assert_eq!(DhcpPacket::new_checked(&buf[..len]), Err(Error::Truncated));
        } else if len == HEADER_LEN {
            assert_eq!(got, Err(Error::Malformed), "no message type");
        } else if len >= HEADER_LEN + 51 {
            assert_eq!(got, Ok(offer_repr()), "{len}");
        } else if ends.contains(&(len - HEADER_LEN)) {
            assert_eq!(got.map(|r| r.message_type), Ok(MessageType::Offer));
        } else {
            assert_eq!(got, Err(Error::Truncated), "{len}");
        }
        let packet = DhcpPacket::new_unchecked(&buf[..len]);
        let _ = (packet.chaddr(), packet.giaddr(), packet.options().count());
    }
}

#[test]
fn header_checks() {
    let mut buf = msg(&[53, 1, 1]);
    assert!(parse(&buf).is_ok());
    buf[239] ^= 1;
    assert_eq!(DhcpPacket::new_checked(&buf[..]), Err(Error::Malformed));
    assert_eq!(parse(&buf), Err(Error::Malformed));
    for (at, value, err) in [
        (0, 0, Error::Malformed),
        (0, 3, Error::Malformed),
        (1, 6, Error::Unsupported), // IEEE 802
        (2, 16, Error::Unsupported),
        (2, 0, Error::Unsupported),
    ] {
        let mut buf = msg(&[53, 1, 1]);
        buf[at] = value;
        assert_eq!(parse(&buf), Err(err), "byte {at} = {value}");
    }
}

#[test]
fn message_type_is_mandatory_and_checked() {
    assert_eq!(parse(&msg(&[])), Err(Error::Malformed));
    assert_eq!(
        parse(&msg(&[54, 4, 1, 2, 3, 4, 255])),
        Err(Error::Malformed)
    );
    for value in [0u8, 9, 255] {
        assert_eq!(parse(&msg(&[53, 1, value])), Err(Error::Malformed));
    }
    for bad in [&[53u8, 0][..], &[53, 2, 1, 1]] {
        assert_eq!(parse(&msg(bad)), Err(Error::Malformed), "{bad:?}");
    }
    for value in 1..=8u8 {
        let ty = parse(&msg(&[53, 1, value])).unwrap().message_type;
        assert_eq!(
            (u8::from(ty), MessageType::try_from(value)),
            (value, Ok(ty))
        );
    }
}

#[test]
fn fixed_lengths_are_exact() {
    for tag in [54u8, 50, 1, 51, 58, 59] {
        for len in [0u8, 1, 3, 5, 8] {
            let mut opt = vec![tag, len];
            opt.resize(2 + usize::from(len), 0xff);
            assert_eq!(after_discover(&opt), Err(Error::Malformed), "{tag}/{len}");
        }
    }
    for bad in [
        &[57u8, 0][..],
        &[57, 1, 9],
        &[57, 3, 2, 64, 0],
        &[57, 2, 2, 63],
    ] {
        assert_eq!(after_discover(bad), Err(Error::Malformed), "{bad:?}");
    }
    assert_eq!(after_discover(&[57, 2, 2, 64]).unwrap().max_size, Some(576));
    assert_eq!(
        after_discover(&[57, 2, 255, 255]).unwrap().max_size,
        Some(65535)
    );
}

#[test]
fn address_lists() {
    for tag in [3u8, 6] {
        for len in [0u8, 1, 3, 5, 7, 9] {
            let mut opt = vec![tag, len];
            opt.resize(2 + usize::from(len), 1);
            assert_eq!(after_discover(&opt), Err(Error::Malformed), "{tag}/{len}");
        }
    }
    let repr = after_discover(&[3, 8, 10, 0, 0, 1, 10, 0, 0, 2]).unwrap();
    assert_eq!(repr.router, Some(Ipv4Addr::new(10, 0, 0, 1)));
    let mut five = vec![6, 20];
    for i in 1..=5 {
        five.extend_from_slice(&[10, 0, 0, i]);
    }
    let repr = after_discover(&five).unwrap();
    let dns = [1, 2, 3].map(|i| Some(Ipv4Addr::new(10, 0, 0, i)));
    assert_eq!(repr.dns_servers, dns);
    let repr = after_discover(&[6, 4, 9, 9, 9, 9]).unwrap();
    assert_eq!(
        repr.dns_servers,
        [Some(Ipv4Addr::new(9, 9, 9, 9)), None, None]
    );
}

#[test]
fn subnet_mask_must_be_contiguous() {
    for bad in [
        [255, 0, 255, 0],
        [255, 255, 255, 1],
        [0, 0, 0, 1],
        [127, 255, 255, 255],
    ] {
        let opt = [&[1u8, 4][..], &bad].concat();
        assert_eq!(after_discover(&opt), Err(Error::Malformed), "{bad:?}");
    }
    for good in [
        [0, 0, 0, 0],
        [255, 255, 255, 255],
        [255, 255, 255, 252],
        [128, 0, 0, 0],
    ] {
        let opt = [&[1u8, 4][..], &good].concat();
        assert_eq!(after_discover(&opt).unwrap().subnet_mask, Some(good.into()));
    }
}

#[test]
fn variable_options_have_minimum_lengths() {
    for bad in [&[61u8, 0][..], &[61, 1, 1], &[12, 0], &[55, 0], &[56, 0]] {
        assert_eq!(after_discover(bad), Err(Error::Malformed), "{bad:?}");
    }
    let repr = after_discover(&[61, 2, 0, 7, 12, 1, b'h', 55, 1, 3, 56, 1, b'!']).unwrap();
    assert_eq!(repr.client_id, Some(&[0u8, 7][..]));
    assert_eq!(repr.hostname, Some(&b"h"[..]));
    assert_eq!(repr.parameter_request_list, Some(&[3u8][..]));
    assert_eq!(repr.message, Some(&b"!"[..]));
}

#[test]
fn options_past_the_end_are_truncated() {
    for bad in [&[12u8][..], &[12, 5, b'a'], &[6, 8, 1, 2, 3, 4], &[61, 255]] {
        assert_eq!(after_discover(bad), Err(Error::Truncated), "{bad:?}");
    }
    assert_eq!(parse(&msg(&[53])), Err(Error::Truncated));
    assert_eq!(parse(&msg(&[53, 1])), Err(Error::Truncated));
}

#[test]
fn options_iterator() {
    let mut it = DhcpOptions::new(&[0, 1, 2, 0xaa, 0xbb, 0, 0, 12, 5, b'a', 1, 0]);
    assert_eq!(it.next(), Some(Ok((1, &[0xaa, 0xbb][..]))));
    assert_eq!(it.next(), Some(Err(Error::Truncated)));
    assert_eq!(it.next(), None);
    let mut it = DhcpOptions::new(&[7]);
    assert_eq!((it.next(), it.next()), (Some(Err(Error::Truncated)), None));
    let mut it = DhcpOptions::new(&[7, 0, 255, 1, 0]);
    assert_eq!((it.next(), it.next()), (Some(Ok((7, &[][..]))), None));
    assert_eq!(DhcpOptions::new(&[0, 0, 0]).next(), None);
    assert_eq!(DhcpOptions::new(&[]).next(), None);
}

#[test]
fn unknown_options_pad_end_and_overload() {
    // Pad around options; unknown 28 and 200; Overload says sname holds
    // options (a message type there), which is ignored.
    let mut buf = msg(&[0, 0, 53, 1, 3, 0, 28, 4, 1, 2, 3, 4, 200, 0, 52, 1, 3, 255]);
    buf[44..47].copy_from_slice(&[53, 1, 5]);
    assert_eq!(parse(&buf).unwrap().message_type, MessageType::Request);
    // Whatever follows End, even a truncated option, is ignored.
    let repr = after_discover(&[255, 12, 200, 53, 1, 9]).unwrap();
    assert_eq!(
        repr,
        DhcpRepr::new(
            OpCode::Request,
            MessageType::Discover,
            0,
            EthernetAddress([0; 6])
        )
    );
    // No End at all.
    assert_eq!(
        after_discover(&[12, 1, b'x']).unwrap().hostname,
        Some(&b"x"[..])
    );
}

#[test]
fn duplicates_first_wins() {
    #[rustfmt::skip]
    let repr = after_discover(&[
        53, 1, 2, // ignored: the leading DISCOVER came first
        54, 4, 1, 1, 1, 1, 54, 4, 2, 2, 2, 2, 54, 1, 0, // a bad duplicate is not checked
        3, 4, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4,
        6, 4, 5, 5, 5, 5, 6, 8, 6, 6, 6, 6, 7, 7, 7, 7,
        51, 4, 0, 0, 0, 1, 51, 4, 0, 0, 0, 2,
        12, 1, b'a', 12, 1, b'b', 12, 0,
    ])
    .unwrap();
    assert_eq!(repr.message_type, MessageType::Discover);
    assert_eq!(repr.server_id, Some(Ipv4Addr::new(1, 1, 1, 1)));
    assert_eq!(repr.router, Some(Ipv4Addr::new(3, 3, 3, 3)));
    assert_eq!(
        repr.dns_servers,
        [Some(Ipv4Addr::new(5, 5, 5, 5)), None, None]
    );
    assert_eq!((repr.lease_time, repr.hostname), (Some(1), Some(&b"a"[..])));
}

#[test]
fn discover_round_trip_and_layout() {
    let client_id = [1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42];
    let repr = DhcpRepr {
        secs: 3,
        broadcast: true,
        client_id: Some(&client_id),
        hostname: Some(b"wolf"),
        parameter_request_list: Some(&[1, 3, 6, 51]),
        max_size: Some(1500),
        ..DhcpRepr::new(OpCode::Request, MessageType::Discover, 0xdead_beef, MAC)
    };
    let buf = round_trip(&repr);
    assert_eq!(buf.len(), MIN_LEN);
    assert_eq!(
        buf[..12],
        [1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 3, 0x80, 0]
    );
    assert_eq!(
        buf[28..44],
        [0, 0x0b, 0x82, 1, 0xfc, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    #[rustfmt::skip]
    let options = [
        53, 1, 1, 61, 7, 1, 0, 0x0b, 0x82, 1, 0xfc, 0x42, 57, 2, 0x05, 0xdc,
        12, 4, b'w', b'o', b'l', b'f', 55, 4, 1, 3, 6, 51, 255,
    ];
    assert_eq!(buf[236..240], MAGIC_COOKIE.to_be_bytes());
    assert_eq!(buf[240..240 + options.len()], options);
    assert!(buf[240 + options.len()..].iter().all(|&b| b == 0));
}

#[test]
fn client_messages_round_trip() {
    let base = DhcpRepr::new(OpCode::Request, MessageType::Request, 7, MAC);
    let selecting = DhcpRepr {
        requested_ip: Some(CLIENT),
        server_id: Some(SERVER),
        client_id: Some(&[1, 2, 3]),
        hostname: Some(b"h"),
        parameter_request_list: Some(&[1, 3]),
        ..base
    };
    let renewing = DhcpRepr {
        client_ip: CLIENT,
        secs: 65535,
        ..base
    };
    let decline = DhcpRepr {
        message_type: MessageType::Decline,
        requested_ip: Some(CLIENT),
        server_id: Some(SERVER),
        message: Some(b"address in use"),
        ..base
    };
    let release = DhcpRepr {
        message_type: MessageType::Release,
        client_ip: CLIENT,
        server_id: Some(SERVER),
        ..base
    };
    let inform = DhcpRepr {
        message_type: MessageType::Inform,
        client_ip: CLIENT,
        ..base
    };
    for repr in [selecting, renewing, decline, release, inform] {
        round_trip(&repr);
    }
}

#[test]
fn server_messages_round_trip() {
    let ack = DhcpRepr {
        message_type: MessageType::Ack,
        broadcast: true,
        relay_ip: Ipv4Addr::new(10, 9, 9, 1),
        dns_servers: [1, 2, 3].map(|i| Some(Ipv4Addr::new(8, 8, 8, i))),
        lease_time: Some(u32::MAX),
        ..offer_repr()
    };
    let nak = DhcpRepr {
        server_id: Some(SERVER),
        message: Some(b"requested address not available"),
        ..DhcpRepr::new(OpCode::Reply, MessageType::Nak, 9, MAC)
    };
    for repr in [offer_repr(), ack, nak] {
        round_trip(&repr);
    }
    // Order of the server options: 53, 54, 1, 3, 6, 51, 58, 59.
    let buf = round_trip(&ack);
    let codes: Vec<u8> = DhcpPacket::new_unchecked(&buf[..])
        .options()
        .map(|o| o.unwrap().0)
        .collect();
    assert_eq!(codes, [53, 54, 1, 3, 6, 51, 58, 59]);
}

#[test]
fn emit_edge_cases() {
    // Values over 255 bytes are cut to 255; the message grows past 300.
    let long = [b'n'; 300];
    let repr = DhcpRepr {
        hostname: Some(&long),
        message: Some(&long[..256]),
        ..DhcpRepr::new(OpCode::Request, MessageType::Discover, 1, MAC)
    };
    assert_eq!(repr.buffer_len(), HEADER_LEN + 3 + 2 * 257 + 1);
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]));
    let parsed = parse(&buf).unwrap();
    assert_eq!(parsed.hostname, Some(&long[..255]));
    assert_eq!(parsed.message, Some(&long[..255]));
    assert_eq!(buf.last(), Some(&255));
    // DNS entries are packed: a gap is dropped.
    let dns = DhcpRepr {
        dns_servers: [None, Some(SERVER), None],
        ..repr
    };
    let mut buf = vec![0u8; dns.buffer_len()];
    dns.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]));
    assert_eq!(parse(&buf).unwrap().dns_servers, [Some(SERVER), None, None]);
    // A short buffer is written as far as it goes, without panicking.
    for len in 0..offer_repr().buffer_len() {
        let mut buf = vec![0xaau8; len];
        offer_repr().emit(&mut DhcpPacket::new_unchecked(&mut buf[..]));
        assert!(buf.iter().all(|&b| b != 0xaa));
    }
}

#[test]
fn setters_and_conversions() {
    let mut buf = [0xffu8; HEADER_LEN];
    let mut packet = DhcpPacket::new_unchecked(&mut buf[..]);
    packet.set_chaddr(MAC);
    packet.set_flags(0x8001);
    packet.set_hops(4);
    packet.set_magic(1);
    packet.options_mut(); // empty, no panic
    assert_eq!(
        (packet.chaddr(), packet.broadcast(), packet.hops()),
        (MAC, true, 4)
    );
    assert_eq!(packet.check_len(), Err(Error::Malformed));
    assert!(packet.into_inner()[34..44].iter().all(|&b| b == 0));
    let mut short = [0u8; 3];
    let mut packet = DhcpPacket::new_unchecked(&mut short[..]);
    packet.set_ciaddr(CLIENT);
    packet.set_chaddr(MAC);
    assert_eq!((packet.xid(), packet.options_mut().len()), (0, 0));
    assert_eq!(OpCode::from_u8(0), None);
    assert_eq!(MessageType::from_u8(9), None);
    assert_eq!(MessageType::try_from(0), Err(Error::Malformed));
    assert_eq!(u8::from(OpCode::Reply), 2);
}

#[test]
fn fuzz_never_panics() {
    let discover = DhcpRepr {
        client_id: Some(&[1, 2, 3]),
        hostname: Some(b"abc"),
        parameter_request_list: Some(&[1, 3, 6]),
        max_size: Some(576),
        requested_ip: Some(CLIENT),
        ..DhcpRepr::new(OpCode::Request, MessageType::Discover, 5, MAC)
    };
    let mut bases = [[0u8; 400]; 2];
    bases[0][..300].copy_from_slice(&dnsmasq_offer());
    discover.emit(&mut DhcpPacket::new_unchecked(&mut bases[1][..]));
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for i in 0..20_000 {
        let mut buf = bases[i % 2];
        for _ in 0..1 + rng.next() % 4 {
            // Mostly the options, where the lengths live.
            let at = if rng.next() % 4 == 0 { 0 } else { HEADER_LEN };
            let at = at + (rng.next() as usize) % (400 - at);
            buf[at] = rng.next() as u8;
        }
        let len = HEADER_LEN - 8 + (rng.next() as usize) % (400 - HEADER_LEN + 9);
        let packet = DhcpPacket::new_unchecked(&buf[..len]);
        let _ = (packet.chaddr(), packet.options().count());
        if let Ok(repr) = DhcpRepr::parse(&packet) {
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut DhcpPacket::new_unchecked(&mut out[..]));
            assert_eq!(parse(&out), Ok(repr));
        }
    }
}
