//! Harness self-check: a passive open with Linux's options and a snapshot
//! of the handshake and a small exchange.

mod tcp_common;
use tcp_common::*;
use wolfip_core::wire::TcpControl;

/// RFC 9293 §3.5 (three-way handshake), RFC 7323 §2.2/§3.2 and RFC 2018
/// §2 (options echoed only when offered): the SYN-ACK carries MSS, window
/// scale, SACK-permitted and timestamps; data is acknowledged.
#[test]
fn passive_open_trace() {
    let mut h = Harness::new(1);
    let (c, iss) = h.accept_linux(5000);
    h.send(
        &Seg::to_us(TcpControl::Psh, 5001, Some(iss + 1))
            .with_ts(1002, 0)
            .with_payload(b"GET /"),
    );
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.tcp_recv(c, &mut buf).unwrap(), 5);
    h.stack.tcp_send(c, b"200 OK").unwrap();
    h.run();
    let all = h.sent.clone();
    insta::assert_snapshot!(trace(&all, iss, 5000));
}
