//! A TCP deadline that has passed while every frame slot is taken (the
//! driver is busy) must not make `poll_at` return a time in the past turn
//! after turn: like TCP's "now", it counts only once a slot is free.
//! Found by the whole-stack fuzzer (docs/fuzzing.md, seed 20): a delayed
//! ACK's expired deadline came back from every `poll_at` while the slots
//! were full, so the caller spun instead of waiting for the driver.

mod tcp_common;
use tcp_common::*;
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::wire::TcpControl;
use wolfip_core::{Instant, SocketAddrV4};

/// A driver that never takes a frame.
struct Busy;

impl Device for Busy {
    fn receive(&mut self, _now: Instant, _buf: &mut [u8]) -> Option<usize> {
        None
    }
    fn transmit(&mut self, _now: Instant, _frame: &[u8]) -> Result<(), TxBusy> {
        Err(TxBusy)
    }
}

#[test]
fn an_expired_deadline_waits_for_a_free_slot() {
    let mut h = Harness::new(13);
    let p = h.open(5000, SynOpts::PLAIN);
    h.take();
    // Data from the peer: our ACK is delayed.
    h.send(&Seg::to_us(TcpControl::None, p.nxt, Some(p.una)).with_payload(b"data"));
    assert!(h.take().is_empty(), "the ACK is delayed");
    // Every frame slot fills with datagrams the driver will not take.
    let u = h.stack.udp_open().unwrap();
    for _ in 0..wolfip_core::config::TX_FRAMES + 4 {
        let _ = h
            .stack
            .udp_send_to(u, &[1; 100], Some(SocketAddrV4::new(PEER, 9)), h.now);
        h.stack.dispatch(h.now);
    }
    h.stack.transmit(h.now, h.iface, &mut Busy);
    // The delayed ACK is due but has no slot.
    h.now += ms(100);
    for turn in 0..20 {
        h.stack.poll(h.now, h.iface, &mut Busy);
        let at = h.stack.poll_at(h.now);
        assert!(
            at.is_some_and(|t| t > h.now),
            "turn {turn}: with every slot taken the stack asks to run at {at:?} (now {:?})",
            h.now
        );
        h.now += ms(1);
    }
}
