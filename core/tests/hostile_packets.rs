//! Packets crafted to confuse the stack about who sent them.

mod tcp_common;

use tcp_common::*;
use wolfip_core::wire::TcpControl;
use wolfip_core::Duration;

/// A LAND packet: a SYN from our own address and port to that address and
/// port, arriving from the wire. It must be dropped as a martian (RFC 1812
/// §5.3.7: a router must not accept a datagram whose source is one of its
/// own addresses from an interface; Linux drops it the same way), not
/// answered: an answer would go to ourselves and could loop.
#[test]
fn land_packet_is_dropped_silently() {
    let mut h = Harness::new(11);
    let _l = h.listen(8);
    let before = h.stack.stats().ip.drop_not_for_us;
    let syn = Seg::to_us(TcpControl::Syn, 1000, None).with_ports(PORT, PORT);
    let frame = build_frame(&syn, US, US);
    let now = h.now;
    h.stack.receive(now, h.iface, &frame);
    h.run();
    for _ in 0..10 {
        h.advance(Duration::from_millis(300));
    }
    h.expect_silence();
    let o = h.stack.occupancy();
    assert_eq!(
        (o.tcp_syn_queue, o.tcp_sockets, o.loopback_frames),
        (0, 1, 0),
        "{o}"
    );
    assert_eq!(h.stack.stats().ip.drop_not_for_us, before + 1);
}
