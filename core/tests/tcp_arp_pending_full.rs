//! A connection whose next hop is still being resolved while the ARP
//! pending queue is full. Found by the whole-stack fuzzer
//! (docs/fuzzing.md, seed 1): `send_ip` refused the segment (Unresolved)
//! every turn, it stayed owed, and `poll_at` said "now" until the ARP
//! request gave up — a caller spun a CPU for seconds. Like a missing route
//! (and like Linux, whose neighbour queue drops the packet), the
//! connection now waits for its retransmission timer.

mod tcp_common;
use tcp_common::*;
use wolfip_core::wire::TcpControl;
use wolfip_core::{Duration, Ipv4Addr, SocketAddrV4, TcpState};

/// A host on the link that has not answered ARP yet.
const SILENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);

#[test]
fn full_arp_queue_does_not_make_tcp_spin() {
    let mut h = Harness::new(1);
    // Fill the ARP pending queue with datagrams for a silent host.
    let u = h.stack.udp_open().unwrap();
    let mut n = 0;
    while h.stack.stats().arp.drop_pending_full == 0 {
        let _ = h
            .stack
            .udp_send_to(u, b"x", Some(SocketAddrV4::new(SILENT, 9)), h.now);
        h.run();
        n += 1;
        assert!(n < 1000, "the pending queue never filled");
    }
    h.take();
    // A connection to the same host: its SYN finds no room.
    let c = h.stack.tcp_open().unwrap();
    h.stack
        .tcp_connect(c, SocketAddrV4::new(SILENT, 80), h.now)
        .unwrap();
    for turn in 0..20 {
        h.run();
        if let Some(at) = h.stack.poll_at(h.now) {
            assert!(
                at > h.now,
                "poll_at says now on turn {turn} with nothing able to go"
            );
        }
    }
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynSent));
    // The host answers: the queued datagrams go, and the SYN follows
    // (when the socket is next visited, at the latest when the
    // retransmission timer fires).
    let reply = wolfip_core::wire::EthernetAddress([2, 0, 0, 0, 0, 9]);
    let arp = arp_reply_frame(reply, SILENT);
    h.stack.receive(h.now, h.iface, &arp);
    h.run();
    h.advance(Duration::from_millis(1100));
    let syns: Vec<_> = h.take().into_iter().filter(|s| s.is_syn()).collect();
    assert!(
        !syns.is_empty(),
        "the SYN goes once the address is resolved"
    );
}

/// An ARP reply from `mac`/`ip` to us.
fn arp_reply_frame(mac: wolfip_core::wire::EthernetAddress, ip: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&US_MAC.0);
    f.extend_from_slice(&mac.0);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2]);
    f.extend_from_slice(&mac.0);
    f.extend_from_slice(&ip.octets());
    f.extend_from_slice(&US_MAC.0);
    f.extend_from_slice(&US.octets());
    f
}

/// A delayed ACK that finds no way out (here: no route; the same with a
/// full ARP queue) must not leave its past deadline in `poll_at`: the
/// connection waits for its retransmission timer like any other output.
/// Found by the whole-stack fuzzer (seed 2, after the fix above made the
/// ARP case wait too): `poll_at` returned the delayed ACK's expired
/// deadline turn after turn.
#[test]
fn a_blocked_delayed_ack_does_not_keep_poll_at_in_the_past() {
    let mut h = Harness::new(13);
    let p = h.open(5000, SynOpts::PLAIN);
    h.take();
    // One segment of data: its ACK is delayed.
    h.send(&Seg::to_us(TcpControl::None, p.nxt, Some(p.una)).with_payload(b"data"));
    assert!(h.take().is_empty(), "the ACK is delayed");
    h.stack.set_ipv4(h.iface, None).unwrap();
    h.take();
    h.now += ms(100);
    for turn in 0..20 {
        h.stack.dispatch(h.now);
        let at = h.stack.poll_at(h.now);
        assert!(
            at.is_some_and(|t| t > h.now),
            "turn {turn}: without a route the stack asks to run at {at:?} (now {:?})",
            h.now
        );
        h.now += ms(1);
    }
}
