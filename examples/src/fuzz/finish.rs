//! The end of a run: the application closes everything, time runs past
//! every timeout, and the stack must be idle again — every TCP and UDP
//! slot can be opened without reclaiming one, and a listener and an active
//! open each carry a clean connection with data both ways.

use wolfip_core::config::{TCP_SOCKETS, UDP_SOCKETS};
use wolfip_core::{Duration, Ipv4Addr, SocketAddrV4, TcpHandle, TcpState};

use super::peer::{syn_options, Peer, Seg, ACK, PSH, SYN};
use super::wire::{arp, OUR_IP, PEER_IP, PEER_MAC};
use super::Run;

/// How long the stack is left alone after the application closed
/// everything (longer than any retransmission, FIN-WAIT-2, TIME-WAIT or
/// keepalive sequence).
pub const DRAIN: Duration = Duration::from_secs(2 * 3600);

/// Step of the clock while draining.
const DRAIN_STEP: Duration = Duration::from_secs(5);

/// Step index used for the peer model after the fuzz.
const AFTER: u64 = u64::MAX / 2;

/// Closes everything, drains, and checks that the stack is idle and
/// works. Panics (with "invariant:") if not.
pub fn finish(run: &mut Run) {
    run.dev.busy_one_in = 0;
    run.dev.rx.clear();
    run.app.close_all(&mut run.stack, run.now);
    run.settle(AFTER);
    let end = run.now + DRAIN;
    while run.now < end {
        run.now += DRAIN_STEP;
        run.settle(AFTER);
    }
    // Every table an outsider can fill is empty again (ARP and PMTU
    // entries age on their own, longer; events wait for the application).
    let o = run.stack.occupancy();
    let busy = [
        ("SYN queue", o.tcp_syn_queue),
        ("TCP sockets", o.tcp_sockets),
        ("reassembly", o.reassembly),
        ("frame slots", o.tx_frames),
        ("loopback", o.loopback_frames),
        ("unresolved ARP entries", o.arp_incomplete),
        ("UDP sockets", o.udp_sockets),
    ];
    for (table, n) in busy {
        assert_eq!(n, 0, "invariant: {table} not idle after the drain: {o}");
    }
    let free = run.stack.tcp_free_slots();
    assert_eq!(
        free,
        TCP_SOCKETS,
        "invariant: {} TCP slot(s) still in use {} s after the application closed everything",
        TCP_SOCKETS - free,
        DRAIN.total_millis() / 1000
    );
    // Every UDP slot opens.
    let udp: Vec<_> = (0..UDP_SOCKETS)
        .map(|i| {
            run.stack
                .udp_open()
                .unwrap_or_else(|e| panic!("invariant: UDP slot {i} did not open: {e:?}"))
        })
        .collect();
    for h in udp {
        run.stack.udp_close(h);
    }
    // Every TCP slot opens without reclaiming a closing connection.
    let reclaimed = run.stack.stats().tcp.reclaimed;
    let tcp: Vec<_> = (0..TCP_SOCKETS)
        .map(|i| {
            run.stack
                .tcp_open()
                .unwrap_or_else(|e| panic!("invariant: TCP slot {i} did not open: {e:?}"))
        })
        .collect();
    assert_eq!(
        run.stack.stats().tcp.reclaimed,
        reclaimed,
        "invariant: opening every slot reclaimed a connection"
    );
    for h in tcp {
        run.stack.tcp_close(h, run.now);
    }
    clean_connections(run);
    run.cov.simulated_secs = run.now.saturating_since(super::T0).total_millis() / 1000;
}

fn deliver(run: &mut Run, seg: &Seg) {
    run.stack.receive(run.now, run.iface, &seg.frame());
    run.now += Duration::from_millis(1);
    run.settle(AFTER);
}

fn recv_all(run: &mut Run, h: TcpHandle) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let n = run.stack.tcp_recv(h, &mut buf).unwrap_or(0);
    buf[..n].to_vec()
}

/// A handshake and data both ways to a fresh listener, then the same for
/// an active open.
fn clean_connections(run: &mut Run) {
    run.peer = Peer::default();
    let req = arp(
        wolfip_core::wire::EthernetAddress([0xff; 6]),
        1,
        PEER_MAC,
        PEER_IP,
        wolfip_core::wire::EthernetAddress([0; 6]),
        OUR_IP,
    );
    run.stack.receive(run.now, run.iface, &req);
    run.settle(AFTER);

    // Passive open.
    let l = run.stack.tcp_open().expect("invariant: listener slot");
    run.stack
        .tcp_bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80))
        .expect("invariant: bind port 80 after the fuzz");
    run.stack.tcp_listen(l, 1).expect("invariant: listen");
    let iss = 1000;
    run.peer.open_passive(PEER_IP, 80, 50000, iss, 1, AFTER);
    let mut syn = Seg {
        src: PEER_IP,
        sport: 50000,
        dport: 80,
        seq: iss,
        ack: 0,
        flags: SYN,
        wnd: 65535,
        urg: 0,
        opts: syn_options(1460, None, 0),
        len: 0,
        doff: None,
    };
    deliver(run, &syn);
    let c = run.peer.conns[run
        .peer
        .find(PEER_IP, 80, 50000)
        .expect("invariant: no SYN-ACK after the fuzz")]
    .clone();
    assert!(
        c.synced && c.our_iss.is_some(),
        "invariant: no SYN-ACK after the fuzz"
    );
    syn.flags = ACK | PSH;
    syn.opts.clear();
    syn.seq = iss + 1;
    syn.ack = c.our_nxt;
    syn.len = 5;
    deliver(run, &syn);
    let (h, peer) = run
        .stack
        .tcp_accept(l)
        .expect("invariant: listener did not accept a clean connection after the fuzz");
    assert_eq!(peer, SocketAddrV4::new(PEER_IP, 50000));
    let got = recv_all(run, h);
    assert_eq!(
        got.len(),
        5,
        "invariant: data of a clean connection not received"
    );
    assert_eq!(run.stack.tcp_send(h, b"world"), Ok(5));
    run.settle(AFTER);
    let c = &run.peer.conns[run.peer.find(PEER_IP, 80, 50000).expect("connection")];
    assert_eq!(
        c.our_nxt,
        c.our_iss.unwrap_or(0).wrapping_add(6),
        "invariant: a clean connection's data not sent"
    );
    run.cov.clean_connections += 1;

    // Active open.
    let a = run.stack.tcp_open().expect("invariant: socket slot");
    run.stack
        .tcp_connect(a, SocketAddrV4::new(PEER_IP, 7000), run.now)
        .expect("invariant: connect after the fuzz");
    run.settle(AFTER);
    let port = run.stack.tcp_local_addr(a).expect("local address").port();
    let i = run
        .peer
        .find(PEER_IP, port, 7000)
        .expect("invariant: no SYN after connect");
    let c = run.peer.conns[i].clone();
    let synack = Seg {
        src: PEER_IP,
        sport: 7000,
        dport: port,
        seq: 5000,
        ack: c.our_iss.expect("our SYN").wrapping_add(1),
        flags: SYN | ACK,
        wnd: 65535,
        urg: 0,
        opts: syn_options(1460, None, 0),
        len: 0,
        doff: None,
    };
    deliver(run, &synack);
    assert_eq!(
        run.stack.tcp_state(a),
        Some(TcpState::Established),
        "invariant: active open did not complete after the fuzz"
    );
    assert_eq!(run.stack.tcp_send(a, b"ping"), Ok(4));
    run.settle(AFTER);
    let c = &run.peer.conns[run.peer.find(PEER_IP, port, 7000).expect("connection")];
    assert_eq!(
        c.our_nxt,
        c.our_iss.unwrap_or(0).wrapping_add(5),
        "invariant: data not sent"
    );
    run.cov.clean_connections += 1;
    run.stack.tcp_abort(a, run.now);
    run.stack.tcp_abort(h, run.now);
    run.stack.tcp_close(l, run.now);
    run.settle(AFTER);
}
