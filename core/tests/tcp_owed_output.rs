//! Output a connection owes must go out once a frame slot is free, even
//! when it found none the first time: a turn of the stack runs only the
//! sockets that changed or whose deadline came (`core/src/tcp/slots.rs`),
//! so what a socket still owes has to show in its deadline
//! (`timers::poll_at`). Two cases a review found lost: the window update
//! that reopens a zero window, and the SYN-ACK of a simultaneous open.

mod tcp_common;
use tcp_common::*;

use wolfip_core::config::{TCP_RX_BUFFER, TX_FRAMES, UDP_TX_DATAGRAMS};
use wolfip_core::wire::{SeqNumber, TcpControl};
use wolfip_core::{Ipv4Addr, SocketAddrV4, TcpState};

/// Queues UDP datagrams until every frame slot is taken (the driver is not
/// called).
fn fill_frame_slots(h: &mut Harness) {
    let mut queued = 0;
    while queued < TX_FRAMES {
        let u = h.stack.udp_open().unwrap();
        h.stack
            .udp_bind(u, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .unwrap();
        for _ in 0..UDP_TX_DATAGRAMS.min(TX_FRAMES - queued) {
            h.stack
                .udp_send_to(u, b"x", Some(SocketAddrV4::new(PEER, 9)), h.now)
                .unwrap();
            queued += 1;
        }
    }
    h.stack.dispatch(h.now);
}

#[test]
fn simultaneous_open_syn_ack_goes_once_a_frame_slot_is_free() {
    let mut h = Harness::new(11);
    let (c, syn) = h.connect();
    let iss = syn.seq.0;
    h.advance(ms(10));
    fill_frame_slots(&mut h);

    // The peer's own SYN crosses ours (simultaneous open): we must answer
    // with SYN-ACK, but no frame slot is free right now.
    let peer_syn = Seg::to_us(TcpControl::Syn, 7000, None);
    let frame = build_frame(&peer_syn, PEER, US);
    h.stack.receive(h.now, h.iface, &frame);
    h.stack.dispatch(h.now);
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::SynReceived));

    // The driver takes the queued frames; the stack runs again, and again
    // 100 ms later (the RTO is still 1 s away).
    h.run();
    h.advance(ms(100));
    let segs = h.take();
    assert!(
        segs.iter()
            .any(|s| s.is_syn() && s.seq == SeqNumber(iss) && s.ack == Some(SeqNumber(7001))),
        "no SYN-ACK once frame slots were free: {segs:#?}"
    );
}

#[test]
fn window_update_that_found_no_frame_slot_is_sent_once_one_is_free() {
    let mut h = Harness::new(7);
    let mut p = h.open(5000, SynOpts::PLAIN);
    h.take();

    // The peer fills our receive buffer: the last ACK shuts the window.
    let chunk = 1024;
    let mut sent = 0;
    while sent < TCP_RX_BUFFER {
        let n = chunk.min(TCP_RX_BUFFER - sent);
        h.peer_data(&mut p, &pattern(1, n));
        sent += n;
    }
    h.advance(ms(500));
    let acks = h.take();
    let last = acks.last().expect("ACKs of the data");
    assert_eq!(last.window, 0, "window shut: {acks:#?}");

    // Other traffic takes every frame slot.
    fill_frame_slots(&mut h);

    // The application reads everything: the window reopens, but the
    // update finds no frame slot.
    let data = h.read_all(p.h);
    assert_eq!(data.len(), TCP_RX_BUFFER);
    h.stack.dispatch(h.now);

    // The driver takes the frames; the stack runs again (and again, later).
    h.run();
    h.advance(ms(100));
    h.advance(ms(1000));
    let segs = h.take();
    assert!(
        segs.iter().any(|s| s.window > 0),
        "no window update after the receive buffer was emptied \
         (the peer stays blocked until its persist timer): {segs:#?}"
    );
}

/// Data queued while there is no route to the peer (the address went
/// away, e.g. with a lost lease) waits for the retransmission timer: the
/// stack does not ask to run at once turn after turn (a caller would spin),
/// and the data goes out once the route is back and the timer fires.
#[test]
fn no_route_waits_for_the_retransmission_timer_instead_of_spinning() {
    let mut h = Harness::new(13);
    let p = h.open(5000, SynOpts::PLAIN);
    h.take();
    let addr = h.stack.ipv4(h.iface);
    h.stack.set_ipv4(h.iface, None).unwrap();
    h.take();
    h.stack.tcp_send(p.h, b"hello").unwrap();
    h.run();
    for _ in 0..20 {
        h.stack.dispatch(h.now);
        let at = h.stack.poll_at(h.now);
        assert!(
            at.is_some_and(|t| t > h.now),
            "without a route the stack asks to run at {at:?} (now {:?})",
            h.now
        );
        h.now += ms(1);
    }
    assert!(h.take().is_empty());
    // The route comes back; the retransmission timer sends the data.
    h.stack.set_ipv4(h.iface, addr).unwrap();
    h.take();
    let start = h.now;
    let mut segs = Vec::new();
    while h.now - start < ms(5000) && !segs.iter().any(|s: &Seg| s.payload == b"hello") {
        h.advance_to_deadline(ms(5000));
        segs.extend(h.take());
    }
    assert!(
        segs.iter().any(|s| s.payload == b"hello"),
        "the data did not go once the route was back: {segs:#?}"
    );
    // Within the first retransmission timeout (1 s) after the send.
    assert!(h.now - start <= ms(1100), "took {:?}", h.now - start);
}
