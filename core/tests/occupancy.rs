//! `Stack::occupancy`: each table's count follows what is in it, and goes
//! back to the idle figure once the traffic that filled it is gone.

mod tcp_common;

use tcp_common::*;
use wolfip_core::wire::TcpControl;
use wolfip_core::{Duration, Ipv4Addr, Occupancy, SocketAddrV4};

#[test]
fn tcp_tables_fill_and_drain() {
    let mut h = Harness::new(7);
    let idle = h.stack.occupancy();
    assert_eq!(idle.tcp_sockets, 0);
    assert_eq!(idle.arp_entries, 1, "the peer's entry: {idle}");

    let l = h.listen(8);
    // Two SYNs: two requests in the SYN queue, nothing else.
    h.send(&Seg::to_us(TcpControl::Syn, 1000, None));
    h.send(&Seg::to_us(TcpControl::Syn, 5000, None).with_ports(PEER_PORT + 1, PORT));
    let synacks = h.take();
    assert_eq!(synacks.len(), 2);
    let o = h.stack.occupancy();
    assert_eq!(
        (o.tcp_syn_queue, o.tcp_listening, o.tcp_sockets),
        (2, 1, 1),
        "{o}"
    );

    // The first completes: a connection in the accept queue.
    h.send(&Seg::to_us(
        TcpControl::None,
        1001,
        Some(synacks[0].seq.0.wrapping_add(1)),
    ));
    let o = h.stack.occupancy();
    assert_eq!(
        (o.tcp_syn_queue, o.tcp_accept_queue, o.tcp_sockets),
        (1, 1, 2),
        "{o}"
    );

    let (c, _) = h.stack.tcp_accept(l).expect("accepted");
    assert_eq!(h.stack.occupancy().tcp_accept_queue, 0);

    // We close first and the peer answers: TIME-WAIT, an orphan.
    h.close(c);
    let fin = h.take_one();
    assert!(fin.is_fin());
    let our_fin_end = fin.seq.0.wrapping_add(1);
    h.send(&Seg::to_us(TcpControl::Fin, 1001, Some(our_fin_end)));
    let o = h.stack.occupancy();
    assert_eq!((o.tcp_time_wait, o.tcp_orphaned), (1, 1), "{o}");

    // Time passes: the request times out, TIME-WAIT ends.
    for _ in 0..200 {
        h.advance(Duration::from_secs(1));
    }
    h.stack.tcp_close(l, h.now);
    h.run();
    // The peer's ARP entry went stale and its re-confirmation went
    // unanswered (the scripted peer does not answer ARP): removed too.
    let expected = Occupancy {
        arp_entries: 0,
        ..idle
    };
    assert_eq!(h.stack.occupancy(), expected);
}

#[test]
fn arp_and_frame_slots_fill_and_drain() {
    let mut h = Harness::new(8);
    let idle = h.stack.occupancy();
    // Data for an on-link address nobody answers for: an incomplete entry
    // and frame slots waiting for it.
    let u = h.stack.udp_open().unwrap();
    let to = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 77), 9);
    for _ in 0..2 {
        h.stack.udp_send_to(u, b"hello", Some(to), h.now).unwrap();
    }
    h.run();
    let o = h.stack.occupancy();
    assert_eq!((o.arp_entries, o.arp_incomplete), (2, 1), "{o}");
    assert_eq!((o.tx_frames, o.tx_awaiting_arp), (2, 2), "{o}");
    assert_eq!(o.udp_sockets, 1);
    // Nobody answers: the entry and the frames go.
    for _ in 0..30 {
        h.advance(Duration::from_secs(1));
    }
    h.stack.udp_close(u);
    assert_eq!(h.stack.occupancy(), idle);
}

#[test]
fn capacity_is_the_build_configuration() {
    let c = Occupancy::CAPACITY;
    assert_eq!(c.tcp_sockets, wolfip_core::config::TCP_SOCKETS);
    assert_eq!(c.tcp_syn_queue, wolfip_core::config::TCP_SYN_BACKLOG);
    assert_eq!(c.reassembly, wolfip_core::config::REASM_BUFFERS);
    assert!(format!("{}", Occupancy::default()).contains("syn queue 0/"));
}
