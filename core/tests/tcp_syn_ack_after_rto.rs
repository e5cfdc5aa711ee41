//! The SYN-ACK for our first SYN arriving after a retransmission timeout
//! pulled SND.NXT back to ISS, but before the SYN could go again (no
//! route, a full ARP queue, no frame slot): SND.UNA moved to ISS+1 and
//! SND.NXT stayed at ISS, behind it. Found by the whole-stack fuzzer
//! (docs/fuzzing.md, seed 3): such a connection never sent its FIN after
//! `tcp_close` and kept its slot for ever. SND.NXT now moves up with
//! SND.UNA, as in ack::process (and BSD's tcp_input).

mod tcp_common;
use tcp_common::*;
use wolfip_core::wire::TcpControl;
use wolfip_core::{Duration, TcpState};

#[test]
fn syn_ack_after_an_unsent_syn_retransmission_keeps_snd_nxt_in_step() {
    let mut h = Harness::new(21);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    // The address goes away: the SYN retransmission cannot be sent.
    let addr = h.stack.ipv4(h.iface);
    h.stack.set_ipv4(h.iface, None).unwrap();
    h.advance(Duration::from_millis(1100));
    h.stack.set_ipv4(h.iface, addr).unwrap();
    h.take();
    // The answer to the first SYN.
    h.send(
        &Seg::to_us(TcpControl::Syn, 7000, Some(iss.wrapping_add(1))).with_ports(PEER_PORT, PORT),
    );
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
    h.take();
    // Data and a FIN, right after ISS.
    h.stack.tcp_send(c, b"abc").unwrap();
    h.stack.tcp_close(c, h.now);
    let mut segs = Vec::new();
    for _ in 0..10 {
        h.advance_to_deadline(Duration::from_secs(5));
        segs.extend(h.take());
    }
    let data = segs.iter().find(|s| s.payload == b"abc");
    assert_eq!(
        data.map(|s| s.seq.0),
        Some(iss.wrapping_add(1)),
        "the data goes right after the SYN: {segs:#?}"
    );
    assert!(segs.iter().any(|s| s.is_fin()), "the FIN goes: {segs:#?}");
}
