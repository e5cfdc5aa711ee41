//! IPv4 fragmentation and reassembly (RFC 791 §3.2 "Fragmentation and
//! Reassembly", RFC 815, RFC 1122 §3.3.2 and §3.3.5), driven through
//! `Stack` with hand-built fragments.

mod common;

use common::*;
use wolfip_core::config::{REASM_BUFFERS, REASM_BUFFER_SIZE, REASM_TIMEOUT_MS};
use wolfip_core::ip::reassembly::{FragKey, Fragment, Outcome, Reassembler};
use wolfip_core::wire::{Icmpv4Packet, Icmpv4Repr, IpProtocol};
use wolfip_core::{IfaceId, Stack};

const DATA_LEN: usize = 4000;

fn echo_4000() -> (Vec<u8>, Vec<u8>) {
    let data = pattern(4, DATA_LEN);
    let icmp = icmp_echo_request(0xbeef, 42, &data);
    (data, icmp)
}

fn echo_frags(ident: u16) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (data, icmp) = echo_4000();
    let repr = wolfip_core::wire::Ipv4Repr {
        ident,
        ..ip_repr(PEER_IP, OUR_IP, IpProtocol::Icmp, icmp.len())
    };
    let frags = fragment_frames(&repr, &icmp, 1480);
    assert_eq!(frags.len(), 3);
    (data, frags)
}

/// Checks an echo reply sent as fragments: every fragment fits the MTU, the
/// offsets are multiples of 8, one ident, MF on all but the last; the
/// reassembled message is an echo reply carrying `data`.
fn check_fragmented_reply(out: &[Vec<u8>], data: &[u8]) {
    let frags: Vec<IpFrame> = out.iter().map(|f| parse_ip(f)).collect();
    assert_eq!(frags.len(), (8 + data.len()).div_ceil(1480));
    for f in &frags {
        assert!(f.header.len() + f.payload.len() <= 1500, "fits the MTU");
        assert_eq!(f.eth.dst_addr, PEER_MAC);
        assert_eq!((f.ip.src_addr, f.ip.dst_addr), (OUR_IP, PEER_IP));
        assert_eq!(f.ip.protocol, IpProtocol::Icmp);
        assert!(!f.ip.dont_frag);
    }
    // Sent in order, all but the last full-size (1480 = 185 * 8).
    for (i, f) in frags.iter().enumerate() {
        assert_eq!(usize::from(f.ip.frag_offset), i * 1480);
    }
    let (_, whole) = reassemble(&frags);
    assert_eq!(whole.len(), 8 + data.len());
    let repr = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&whole[..]).unwrap())
        .expect("valid ICMP checksum over the whole reply");
    assert_eq!(
        repr,
        Icmpv4Repr::EchoReply {
            ident: 0xbeef,
            seq_no: 42,
            data
        }
    );

    // The stack's own reassembler agrees.
    let mut r = Reassembler::new();
    let mut done = None;
    for f in frags.iter().rev() {
        let key = FragKey {
            src: f.ip.src_addr,
            dst: f.ip.dst_addr,
            protocol: 1,
            ident: f.ip.ident,
        };
        let frag = Fragment {
            key,
            offset: usize::from(f.ip.frag_offset),
            more: f.ip.more_frags,
            data: &f.payload,
            ttl: f.ip.ttl,
        };
        if let (Outcome::Complete { slot }, _) = r.add(T0, frag) {
            done = Some(slot);
        }
    }
    assert_eq!(r.payload(done.expect("complete")), &whole[..]);
}

fn feed(s: &mut Stack, id: IfaceId, frames: &[&Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in frames {
        out.extend(input(s, T0, id, f));
    }
    out
}

/// RFC 791 §3.2 reassembly in any arrival order, RFC 1122 §3.3.2 (a host
/// MUST reassemble), RFC 792 (the reply carries the request's data) and
/// RFC 791 §3.2 fragmentation of the reply at the 1500-byte MTU.
#[test]
fn fragmented_echo_in_order_gets_fragmented_reply() {
    let (mut s, id) = stack_with_peer(1);
    let (data, f) = echo_frags(0x1111);
    let out = feed(&mut s, id, &[&f[0], &f[1], &f[2]]);
    check_fragmented_reply(&out, &data);
    let st = s.stats();
    assert_eq!((st.ip.frags_rx, st.ip.reassembled), (3, 1));
    assert_eq!((st.ip.fragmented, st.ip.frags_tx), (1, 3));
    assert_eq!(st.icmp.echo_replies_sent, 1);
}

/// RFC 791 §3.2 / RFC 815: fragments may arrive in any order.
#[test]
fn fragmented_echo_reversed_gets_reply() {
    let (mut s, id) = stack_with_peer(2);
    let (data, f) = echo_frags(0x2222);
    let out = feed(&mut s, id, &[&f[2], &f[1], &f[0]]);
    check_fragmented_reply(&out, &data);
}

/// RFC 791 §3.2: the network may duplicate fragments; an exact duplicate is
/// ignored and the datagram still reassembles once.
#[test]
fn fragmented_echo_with_duplicate_gets_one_reply() {
    let (mut s, id) = stack_with_peer(3);
    let (data, f) = echo_frags(0x3333);
    let out = feed(&mut s, id, &[&f[1], &f[0], &f[1], &f[2]]);
    check_fragmented_reply(&out, &data);
    assert_eq!(s.stats().ip.reasm_duplicates, 1);
    assert_eq!(s.stats().ip.reassembled, 1);
    // A duplicate of a fragment of a datagram already delivered starts a new
    // partial datagram, which simply times out: no second reply.
    assert!(input(&mut s, T0, id, &f[2]).is_empty());
}

/// RFC 5722's rule (overlapping fragments discard the datagram), applied
/// to IPv4 as RFC 791 leaves overlap handling open: a fragment overlapping
/// stored data with different bytes yields no reply and is counted.
#[test]
fn overlapping_fragment_with_different_data_discards_datagram() {
    let (mut s, id) = stack_with_peer(4);
    let (_, icmp) = echo_4000();
    let repr = ip_repr(PEER_IP, OUR_IP, IpProtocol::Icmp, icmp.len());
    let f = fragment_frames(&repr, &icmp, 1480);
    assert!(input(&mut s, T0, id, &f[0]).is_empty());
    // 16 bytes at offset 1472 (straddling the end of the first fragment)
    // with different content.
    let mut evil = icmp[1472..1488].to_vec();
    evil.iter_mut().for_each(|b| *b ^= 0xff);
    let r = wolfip_core::wire::Ipv4Repr {
        payload_len: 16,
        more_frags: true,
        frag_offset: 1472,
        ..repr
    };
    let evil = eth_frame(
        OUR_MAC,
        PEER_MAC,
        wolfip_core::wire::EtherType::Ipv4,
        &ip_packet(&r, &evil),
    );
    let mut out = input(&mut s, T0, id, &evil);
    out.extend(feed(&mut s, id, &[&f[1], &f[2]]));
    assert!(out.is_empty(), "no reply for an overlapped datagram");
    assert_eq!(s.stats().ip.reasm_overlaps, 1);
    assert_eq!(s.stats().ip.reassembled, 0);
    assert_eq!(s.stats().icmp.rx, 0);
}

/// RFC 791 §3.2 (reassembly timer) and RFC 1122 §3.3.2 ("If the
/// reassembly time expires, the datagram is discarded"): `poll_at` names
/// the deadline, the buffer is freed and counted at it, and the late rest
/// of the datagram does not complete it.
#[test]
fn reassembly_timeout_frees_buffer_and_counts() {
    let (mut s, id) = stack_with_peer(5);
    let (_, f) = echo_frags(0x5555);
    assert!(input(&mut s, T0, id, &f[0]).is_empty());
    let deadline = T0 + ms(REASM_TIMEOUT_MS as u64);
    assert_eq!(s.poll_at(T0), Some(deadline));

    assert!(run(&mut s, deadline - ms(1), id).is_empty());
    assert_eq!(s.stats().ip.reasm_timeouts, 0);
    assert!(run(&mut s, deadline, id).is_empty());
    assert_eq!(s.stats().ip.reasm_timeouts, 1);
    assert!(
        s.poll_at(deadline).is_none_or(|t| t > deadline),
        "no reassembly deadline left"
    );

    // The late fragments start afresh and cannot complete the datagram.
    let later = deadline + ms(1);
    s.receive(later, id, &f[1]);
    s.receive(later, id, &f[2]);
    assert!(run(&mut s, later, id).is_empty());
    assert_eq!(s.stats().ip.reassembled, 0);
    // They time out too; then every buffer is free again: as many new
    // partial datagrams as there are buffers need no eviction.
    let end = later + ms(REASM_TIMEOUT_MS as u64);
    assert_eq!(s.poll_at(later), Some(end));
    run(&mut s, end, id);
    assert_eq!(s.stats().ip.reasm_timeouts, 2);
    for i in 0..REASM_BUFFERS {
        let (_, f) = echo_frags(0x6000 + i as u16);
        s.receive(end, id, &f[0]);
    }
    assert_eq!(s.stats().ip.reasm_evictions, 0);
    let (_, f) = echo_frags(0x7000);
    s.receive(end, id, &f[0]);
    assert_eq!(s.stats().ip.reasm_evictions, 1, "now every buffer was busy");
}

/// RFC 791 §3.1: a datagram is at most 65535 bytes ("ping of death"), and
/// RFC 1122 §3.3.2 lets a host bound what it reassembles (EMTU_R, here
/// `REASM_BUFFER_SIZE`): fragments reaching beyond either are dropped and
/// counted, never written out of bounds.
#[test]
fn oversize_fragments_are_dropped() {
    let (mut s, id) = stack_with_peer(6);
    let base = ip_repr(PEER_IP, OUR_IP, IpProtocol::Icmp, 0);
    let mk = |ident: u16, offset: usize, more: bool, len: usize| {
        let r = wolfip_core::wire::Ipv4Repr {
            ident,
            payload_len: len,
            more_frags: more,
            frag_offset: offset as u16,
            ..base
        };
        eth_frame(
            OUR_MAC,
            PEER_MAC,
            wolfip_core::wire::EtherType::Ipv4,
            &ip_packet(&r, &vec![0x11; len]),
        )
    };
    // Past the reassembly buffer.
    assert!(input(&mut s, T0, id, &mk(1, REASM_BUFFER_SIZE - 8, true, 16)).is_empty());
    // Past 65535 bytes: the largest offset with a 16-byte last fragment.
    assert!(input(&mut s, T0, id, &mk(2, 65528, false, 16)).is_empty());
    assert_eq!(s.stats().ip.reasm_oversize, 2);
    // The start of datagram 1 is now refused as well.
    assert!(input(&mut s, T0, id, &mk(1, 0, true, 16)).is_empty());
    assert_eq!(s.stats().ip.reassembled, 0);
    assert_eq!(s.stats().icmp.rx, 0);
}

/// RFC 791 §3.2: every fragment but the last carries a multiple of 8
/// octets; a middle fragment that does not is dropped as malformed.
#[test]
fn middle_fragment_not_multiple_of_eight_is_malformed() {
    let (mut s, id) = stack_with_peer(7);
    let r = wolfip_core::wire::Ipv4Repr {
        more_frags: true,
        ..ip_repr(PEER_IP, OUR_IP, IpProtocol::Icmp, 13)
    };
    let f = eth_frame(
        OUR_MAC,
        PEER_MAC,
        wolfip_core::wire::EtherType::Ipv4,
        &ip_packet(&r, &[0; 13]),
    );
    assert!(input(&mut s, T0, id, &f).is_empty());
    assert_eq!(s.stats().ip.drop_malformed, 1);
}

/// RFC 791 §3.2 + RFC 768: a fragmented UDP datagram is reassembled before
/// its checksum is verified and delivered whole to the socket.
#[test]
fn fragmented_udp_datagram_is_delivered_whole() {
    let (mut s, id) = stack_with_peer(8);
    let h = s.udp_open().unwrap();
    s.udp_bind(h, sock(OUR_IP, 4000)).unwrap();
    let data = pattern(8, 3000);
    let udp = udp_packet(PEER_IP, OUR_IP, 1234, 4000, &data);
    let repr = ip_repr(PEER_IP, OUR_IP, IpProtocol::Udp, udp.len());
    let f = fragment_frames(&repr, &udp, 1008);
    assert_eq!(f.len(), 3);
    for frame in [&f[1], &f[2], &f[0]] {
        assert!(input(&mut s, T0, id, frame).is_empty());
    }
    let mut buf = vec![0u8; 4000];
    let (n, meta) = s.udp_recv_from(h, &mut buf).unwrap();
    assert_eq!(&buf[..n], &data[..]);
    assert_eq!(meta.from, sock(PEER_IP, 1234));
    assert!(
        s.poll_at(T0)
            .is_none_or(|t| t > T0 + ms(REASM_TIMEOUT_MS as u64)),
        "the buffer was released"
    );
}
