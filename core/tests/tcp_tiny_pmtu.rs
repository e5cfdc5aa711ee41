//! A link MTU at the IPv4 minimum (68 bytes, RFC 791) with SACK and
//! timestamps: 20 bytes of IP header, 20 of TCP header and 12 of
//! timestamps leave room for one SACK block only. Found by the whole-stack
//! fuzzer (docs/fuzzing.md, seed 2), then through an ICMP "fragmentation
//! needed" of 68 (which now stops at `PMTU_MIN`, 552): a duplicate ACK
//! carrying three SACK blocks was 88 bytes, so `send_ip` refused it
//! (TooBig, DF set) every turn; the ACK stayed owed and `poll_at` said
//! "now" for ever — a caller spun a CPU.

mod tcp_common;
use tcp_common::*;
use wolfip_core::wire::TcpControl;

#[test]
fn acks_with_sack_blocks_fit_a_68_byte_path_mtu() {
    let mut h = Harness::with_mtu(1, 68);
    let peer_iss = 5000u32;
    let (c, iss) = h.accept_linux(peer_iss);
    // A segment of ours, for its timestamp.
    h.stack.tcp_send(c, b"hello").unwrap();
    h.run();
    let data = h.take_one();
    assert_eq!(h.stack.mtu(h.iface), Some(68));
    let ts = data.timestamp.map(|(v, _)| v).unwrap_or(0);
    // Three out-of-order segments: each is answered at once by a duplicate
    // ACK whose SACK option lists the blocks received.
    let ack = Some(iss.wrapping_add(6));
    for (k, off) in [100u32, 300, 500].into_iter().enumerate() {
        let seg = Seg::to_us(TcpControl::None, peer_iss + 1 + off, ack)
            .with_payload(&[7; 10])
            .with_ts(2000 + k as u32, ts);
        h.send(&seg);
        let out = h.take();
        assert_eq!(
            out.len(),
            1,
            "a duplicate ACK for out-of-order segment {k}: {out:#?}"
        );
        assert_eq!(out[0].ack.map(|a| a.0), Some(peer_iss + 1));
        assert!(!out[0].sack.is_empty(), "the ACK reports what arrived");
        if let Some(at) = h.stack.poll_at(h.now) {
            assert!(at > h.now, "poll_at says now with nothing to send ({k})");
        }
    }
}
