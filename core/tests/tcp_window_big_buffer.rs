//! The window-update rule (no pure window update while 64 KiB or more is
//! advertised) with big receive buffers: a peer that fills the window and
//! waits must always learn of the room reading makes, without a
//! zero-window probe. It bites only in a build with
//! WOLFIP_TCP_RX_BUFFER > 128 KiB (e.g. 262144, as the bench builds; a
//! test thread then needs a large RUST_MIN_STACK); with the default
//! buffers it checks the ordinary rule.

mod tcp_common;
use tcp_common::*;

use wolfip_core::config::TCP_RX_BUFFER;
use wolfip_core::wire::TcpControl;

fn right_edge(s: &Seg, shift: u8) -> u32 {
    s.ack.unwrap().0.wrapping_add(u32::from(s.window) << shift)
}

fn run(read_per_stall: usize) {
    let mut h = Harness::new(3);
    let mut p = h.open(1000, SynOpts::LINUX);
    let synack = h.sent.iter().find(|s| s.is_syn()).unwrap().clone();
    let shift = synack.window_scale.unwrap_or(0);
    let mut edge = right_edge(&synack, 0);
    // No extra ACK right after the handshake (the point of the change).
    assert!(h.take().iter().all(|s| s.is_syn()));
    let mut total = 0usize;
    let mut stalls = 0;
    while total < 4 * TCP_RX_BUFFER + 12345 {
        let usable = edge.wrapping_sub(p.nxt) as i32;
        if usable > 0 {
            let n = (usable as usize).min(1000);
            let data = pattern(total as u8, n);
            h.peer_data(&mut p, &data);
            total += n;
        } else {
            // Blocked: the application reads, the stack runs.
            stalls += 1;
            // Keep the peer's ARP entry fresh (time moves on).
            h.arp_refresh();
            let mut buf = vec![0u8; read_per_stall];
            let _ = h.stack.tcp_recv(p.h, &mut buf);
            h.advance(ms(1));
        }
        for s in h.take() {
            if s.ack.is_some() && !s.is_syn() {
                let e = right_edge(&s, shift);
                if (e.wrapping_sub(edge) as i32) > 0 {
                    edge = e;
                }
            }
        }
        if edge.wrapping_sub(p.nxt) as i32 <= 0 && stalls > 0 {
            // After a read the peer must not stay blocked for long without
            // a probe: give the delayed ACK its time.
            h.advance(ms(25));
            for s in h.take() {
                if s.ack.is_some() {
                    let e = right_edge(&s, shift);
                    if (e.wrapping_sub(edge) as i32) > 0 {
                        edge = e;
                    }
                }
            }
        }
        assert!(
            stalls < 10_000,
            "stuck: total {total}, no window update after reading"
        );
    }
    assert!(stalls > 0, "the window never filled");
    let _ = TcpControl::None;
}

#[test]
fn peer_learns_of_room_after_full_buffer_read_all() {
    run(TCP_RX_BUFFER);
}

#[test]
fn peer_learns_of_room_after_full_buffer_read_small() {
    run(3000);
}
