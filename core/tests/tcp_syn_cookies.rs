//! SYN cookies (RFC 4987 §3.6): a SYN that finds no room in the SYN queue
//! is answered with a cookie SYN-ACK and nothing is kept; the ACK that
//! returns a valid cookie makes the connection, with the MSS (and, with
//! timestamps, the window scale and SACK) the cookie carried. Invalid,
//! misdirected and expired cookies get RST; the switch turns it all off;
//! a flood of spoofed SYNs does not keep real clients out.

mod tcp_common;
use tcp_common::*;

use wolfip_core::config::TCP_SYN_BACKLOG;
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::wire::{SeqNumber, TcpControl};
use wolfip_core::{Duration, Instant, Ipv4Addr, TcpAcceptError, TcpHandle, TcpState};

const ISS: u32 = 9000;

/// A SYN from the peer's `port`, with `opts`; returns the SYN-ACK.
fn syn(h: &mut Harness, port: u16, peer_iss: u32, opts: SynOpts) -> Seg {
    syn_from_port(h, port, peer_iss, opts)
}

/// The ACK completing the handshake the SYN-ACK `sa` began.
fn ack_of(sa: &Seg, peer_iss: u32, window: u16) -> Seg {
    handshake_ack(sa, peer_iss, window)
}

/// A listener with backlog 2 whose two requests (from ports 41001 and
/// 41002) fill it: the next SYN gets a cookie.
fn full_listener(h: &mut Harness) -> TcpHandle {
    let l = h.listen(2);
    for port in [41001, 41002] {
        syn(h, port, ISS, SynOpts::PLAIN);
    }
    assert_eq!(h.stack.tcp_half_open(), 2);
    l
}

/// RFC 4987 §3.6: with its backlog filled by requests, a listener answers
/// a SYN with a SYN-ACK and keeps nothing: no request, no retransmission.
/// Without timestamps the SYN-ACK offers no window scale and no SACK (they
/// could not come back), only the MSS.
#[test]
fn full_backlog_gets_a_cookie_and_keeps_no_state() {
    let mut h = Harness::new(1);
    full_listener(&mut h);
    let sa = syn(&mut h, PEER_PORT, ISS, SynOpts::K);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 1);
    assert_eq!(h.stack.stats().tcp.drop_syn_backlog, 0);
    assert_eq!(h.stack.tcp_half_open(), 2);
    assert_eq!(
        (sa.window_scale, sa.sack_permitted, sa.timestamp),
        (None, false, None)
    );
    assert!(sa.mss.is_some());
    // Only the two queued requests' SYN-ACKs are ever sent again.
    let mut resent = Vec::new();
    for _ in 0..40 {
        h.advance_to_deadline(Duration::from_secs(200));
        resent.extend(h.take().into_iter().map(|s| s.dst_port));
    }
    assert!(!resent.is_empty());
    assert!(
        resent.iter().all(|&p| p == 41001 || p == 41002),
        "{resent:?}"
    );
    assert_eq!(h.stack.tcp_half_open(), 0);
}

/// RFC 4987 §3.6: a full SYN queue (all listeners' requests) also makes
/// cookies, and the returning ACK is a connection.
#[test]
fn full_syn_queue_gets_a_cookie() {
    let mut h = Harness::new(2);
    let l = h.listen(10_000);
    for i in 0..TCP_SYN_BACKLOG as u16 {
        syn(&mut h, 42000 + i, ISS, SynOpts::PLAIN);
    }
    let sa = syn(&mut h, PEER_PORT, ISS, SynOpts::PLAIN);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 1);
    assert_eq!(h.stack.tcp_half_open(), TCP_SYN_BACKLOG);
    h.send(&ack_of(&sa, ISS, 65535));
    let (c, from) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(from.port(), PEER_PORT);
    assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
}

/// The ACK of a cookie makes an ESTABLISHED connection in the accept
/// queue that carries data both ways with the MSS the cookie encoded (the
/// peer's 1400 rounded down to 1300), without options (no timestamps).
#[test]
fn cookie_ack_makes_a_working_connection() {
    let mut h = Harness::new(3);
    let l = full_listener(&mut h);
    let opts = SynOpts {
        mss: Some(1400),
        ..SynOpts::PLAIN
    };
    let sa = syn(&mut h, PEER_PORT, ISS, opts);
    h.send(&ack_of(&sa, ISS, 65535).with_payload(b"hello"));
    let t = h.stack.stats().tcp;
    assert_eq!((t.syn_cookies_accepted, t.passive_opens), (1, 1));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    let info = h.stack.tcp_info(c).unwrap();
    assert_eq!(info.state, TcpState::Established);
    assert_eq!(info.mss, 1300);
    assert!(!info.window_scaling && !info.sack && !info.timestamps);
    let mut buf = [0u8; 16];
    let n = h.stack.tcp_recv(c, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    let data = pattern(1, 3000);
    h.stack.tcp_set_nodelay(c, true).unwrap();
    assert_eq!(h.stack.tcp_send(c, &data).unwrap(), 3000);
    h.run();
    let out: Vec<Seg> = h
        .take()
        .into_iter()
        .filter(|s| !s.payload.is_empty())
        .collect();
    assert_eq!(
        out.iter().map(|s| s.payload.len()).collect::<Vec<_>>(),
        [1300, 1300, 400]
    );
    assert_eq!(out[0].seq, SeqNumber(add(sa.seq.0, 1)));
    assert_eq!(out[0].ack, Some(SeqNumber(add(ISS, 6))));
    let got: Vec<u8> = out.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(got, data);
}

/// With timestamps, the SYN-ACK offers window scale and SACK, and the
/// cookie's TSval brings the peer's back: window scale 7 and SACK, or
/// window scale 3 without SACK. Our later TSvals never go below the
/// SYN-ACK's (the peer's PAWS test, RFC 7323 §5.3).
#[test]
fn timestamps_carry_window_scale_and_sack() {
    for (ws, sack) in [(7u8, true), (3, false)] {
        let mut h = Harness::new(4);
        let l = full_listener(&mut h);
        let opts = SynOpts {
            ws: Some(ws),
            sack,
            ..SynOpts::LINUX
        };
        let sa = syn(&mut h, PEER_PORT, ISS, opts);
        assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 1);
        assert!(sa.window_scale.is_some() && sa.timestamp.is_some());
        assert_eq!(sa.sack_permitted, sack);
        let synack_tsval = sa.timestamp.unwrap().0;
        h.advance(ms(5));
        h.send(&ack_of(&sa, ISS, 100));
        let (c, _) = h.stack.tcp_accept(l).unwrap();
        let info = h.stack.tcp_info(c).unwrap();
        assert!(info.window_scaling && info.timestamps, "{info:?}");
        assert_eq!(info.sack, sack);
        assert_eq!(info.snd_wnd, 100 << ws);
        assert_eq!(info.mss, 1460 - 12);
        h.stack.tcp_send(c, b"x").unwrap();
        h.run();
        let d = h.take_one();
        let (tsval, tsecr) = d.timestamp.expect("timestamps in use");
        assert_eq!(tsecr, 1001);
        let ahead = tsval.wrapping_sub(synack_tsval) as i32;
        assert!(
            (5..5 + 32).contains(&ahead),
            "TSval {ahead} ms after the SYN-ACK's"
        );
    }
}

/// RFC 4987 §3.6: without timestamps, the window scale and SACK the SYN
/// offered are lost: the connection has neither.
#[test]
fn without_timestamps_no_window_scale_or_sack() {
    let mut h = Harness::new(5);
    let l = full_listener(&mut h);
    let sa = syn(&mut h, PEER_PORT, ISS, SynOpts::K);
    h.send(&ack_of(&sa, ISS, 100));
    let (c, _) = h.stack.tcp_accept(l).unwrap();
    let info = h.stack.tcp_info(c).unwrap();
    assert!(!info.window_scaling && !info.sack && !info.timestamps);
    assert_eq!(info.snd_wnd, 100);
    assert_eq!(info.mss, 536);
}

/// An ACK whose cookie is wrong, comes from another 4-tuple, carries
/// another sequence number (the peer's ISN is in the MAC), or returns
/// after its periods are over gets RST (RFC 9293 §3.10.7.2) and makes no
/// connection.
#[test]
fn invalid_cookies_get_rst() {
    let mut h = Harness::new(6);
    let l = full_listener(&mut h);
    let sa = syn(&mut h, PEER_PORT, ISS, SynOpts::PLAIN);
    let good = ack_of(&sa, ISS, 65535);
    let mut wrong = good.clone();
    wrong.ack = Some(SeqNumber(add(sa.seq.0, 2)));
    let other_port = good.clone().with_ports(PEER_PORT + 1, PORT);
    let mut other_isn = good.clone();
    other_isn.seq = SeqNumber(add(ISS, 2));
    for (what, seg) in [
        ("wrong cookie", &wrong),
        ("other port", &other_port),
        ("other ISN", &other_isn),
    ] {
        h.send(seg);
        let rst = h.take_one();
        assert!(rst.is_rst(), "{what}: {rst:?}");
        assert_eq!((rst.seq, rst.dst_port), (seg.ack.unwrap(), seg.src_port));
    }
    assert_eq!(h.stack.stats().tcp.syn_cookies_rejected, 3);
    // Past the cookie's life (two 64 s periods; the requests are gone by
    // then), while cookies are still being sent: RST.
    // In steps, so that the requests run through their retransmissions
    // and are dropped.
    for _ in 0..130 {
        h.advance(Duration::from_secs(1));
    }
    h.take();
    assert_eq!(h.stack.occupancy().tcp_syn_queue, 0);
    // The peer's ARP entry ran out meanwhile (the script answers no ARP).
    h.arp_refresh();
    full_listener_again(&mut h);
    syn(&mut h, 43000, ISS, SynOpts::PLAIN);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 2);
    h.send(&good);
    assert!(h.take_one().is_rst());
    assert_eq!(h.stack.stats().tcp.syn_cookies_rejected, 4);
    assert_eq!(h.stack.tcp_accept(l), Err(TcpAcceptError::WouldBlock));
    assert_eq!(h.stack.stats().tcp.syn_cookies_accepted, 0);
}

/// The two requests of [`full_listener`] again (after they timed out).
fn full_listener_again(h: &mut Harness) {
    for port in [41001, 41002] {
        syn(h, port, ISS, SynOpts::PLAIN);
    }
}

/// A cookie is good for the period it was made in and the next one: made
/// at 100 s (period 1 of 64 s), an ACK at 190 s (period 2) still makes the
/// connection.
#[test]
fn cookie_valid_through_the_next_period() {
    let mut h = Harness::new(7);
    let l = full_listener(&mut h);
    let sa = syn(&mut h, PEER_PORT, ISS, SynOpts::PLAIN);
    h.advance(Duration::from_secs(90));
    h.take();
    h.arp_refresh();
    h.send(&ack_of(&sa, ISS, 65535));
    assert!(h.stack.tcp_accept(l).is_ok());
}

/// The switch off: a SYN finding the backlog full is dropped and counted
/// (the old behaviour), and the ACK of a cookie sent before is reset.
#[test]
fn switched_off_drops_syn_and_refuses_cookies() {
    let mut h = Harness::new(8);
    assert!(h.stack.tcp_syn_cookies());
    let l = full_listener(&mut h);
    let sa = syn(&mut h, PEER_PORT, ISS, SynOpts::PLAIN);
    h.stack.set_tcp_syn_cookies(false);
    assert!(!h.stack.tcp_syn_cookies());
    h.send(&Seg::to_us(TcpControl::Syn, ISS, None).with_ports(PEER_PORT + 1, PORT));
    h.expect_silence();
    let t = h.stack.stats().tcp;
    assert_eq!((t.syn_cookies_sent, t.drop_syn_backlog), (1, 1));
    h.send(&ack_of(&sa, ISS, 65535));
    assert!(h.take_one().is_rst());
    assert_eq!(h.stack.tcp_accept(l), Err(TcpAcceptError::WouldBlock));
    // On again: cookies again.
    h.stack.set_tcp_syn_cookies(true);
    syn(&mut h, PEER_PORT + 1, ISS, SynOpts::PLAIN);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 2);
}

/// With the accept queue itself full, a SYN is dropped, cookie or not (as
/// Linux); a cookie's ACK arriving while it is full is dropped and
/// counted, and its retransmission gets in once there is room.
#[test]
fn full_accept_queue_drops_syn_and_cookie_ack() {
    let mut h = Harness::new(9);
    let l = h.listen(2);
    let a = syn(&mut h, 41001, ISS, SynOpts::PLAIN);
    let b = syn(&mut h, 41002, ISS, SynOpts::PLAIN);
    let c = syn(&mut h, PEER_PORT, ISS, SynOpts::PLAIN);
    assert_eq!(h.stack.stats().tcp.syn_cookies_sent, 1);
    h.send(&ack_of(&a, ISS, 65535));
    h.send(&ack_of(&b, ISS, 65535));
    // Two unaccepted connections: the accept queue is full.
    h.send(&Seg::to_us(TcpControl::Syn, ISS, None).with_ports(41003, PORT));
    h.expect_silence();
    let drops = h.stack.stats().tcp.drop_syn_backlog;
    assert_eq!((drops, h.stack.stats().tcp.syn_cookies_sent), (1, 1));
    h.send(&ack_of(&c, ISS, 65535));
    h.expect_silence();
    assert_eq!(h.stack.stats().tcp.drop_syn_backlog, 2);
    assert_eq!(h.stack.stats().tcp.syn_cookies_accepted, 0);
    h.stack.tcp_accept(l).unwrap();
    h.send(&ack_of(&c, ISS, 65535));
    assert_eq!(h.stack.stats().tcp.syn_cookies_accepted, 1);
    h.stack.tcp_accept(l).unwrap();
    let (_, from) = h.stack.tcp_accept(l).unwrap();
    assert_eq!(from.port(), PEER_PORT);
}

/// Keeps only the segments the stack sends to the real peer (192.0.2.1);
/// the SYN-ACKs to spoofed sources are counted and dropped.
#[derive(Default)]
struct PeerOnly {
    segs: Vec<Seg>,
    others: usize,
}

impl Device for PeerOnly {
    fn receive(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
        None
    }
    fn transmit(&mut self, _: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        if frame.get(30..34) == Some(&PEER.octets()[..]) {
            self.segs.extend(parse_tcp(frame));
        } else {
            self.others += 1;
        }
        Ok(())
    }
}

/// A small xorshift generator: reproducible spoofed sources.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
}

/// Runs the stack and returns what it sent to the real peer.
fn run_peer_only(h: &mut Harness, dev: &mut PeerOnly) -> Vec<Seg> {
    h.stack.dispatch(h.now);
    h.stack.transmit(h.now, h.iface, dev);
    std::mem::take(&mut dev.segs)
}

/// A SYN from a random spoofed source off the link (routed through the
/// peer, the default gateway).
fn spoofed_syn(h: &mut Harness, rng: &mut Rng, dev: &mut PeerOnly) {
    let r = rng.next();
    let src = Ipv4Addr::new(
        11 + (r % 100) as u8,
        (r >> 8) as u8,
        (r >> 16) as u8,
        1 + (r >> 24) as u8 % 250,
    );
    let port = 1024 + (rng.next() % 60000) as u16;
    let seg = Seg::to_us(TcpControl::Syn, rng.next(), None)
        .with_ports(port, PORT)
        .with_linux_syn_options(rng.next());
    h.stack.receive(h.now, h.iface, &build_frame(&seg, src, US));
    let out = run_peer_only(h, dev);
    assert!(out.is_empty(), "{out:?}");
}

/// RFC 4987 §3.6 under fire: 100,000 SYNs from spoofed sources, one per
/// millisecond, interleaved with 200 real handshakes (half with
/// timestamps, half without), each ACKed 20 ms after its SYN-ACK. Every
/// real client gets in and is accepted; afterwards the SYN queue drains
/// as the spoofed requests time out.
#[test]
fn flood_of_spoofed_syns_lets_real_clients_in() {
    const SPOOFED: usize = 100_000;
    const REAL: usize = 200;
    let mut h = Harness::new(10);
    h.stack.set_default_gateway(PEER).unwrap();
    let l = h.listen(1000);
    let mut dev = PeerOnly::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Handshakes waiting for their ACK: (SYN-ACK, the client's ISN, when).
    let mut pending: Vec<(Seg, u32, usize)> = Vec::new();
    let (mut started, mut accepted) = (0usize, 0usize);
    for i in 0..SPOOFED {
        h.now += ms(1);
        spoofed_syn(&mut h, &mut rng, &mut dev);
        if i % 10_000 == 0 {
            h.arp_refresh();
            h.take();
        }
        if i % (SPOOFED / REAL) == 250 {
            let port = 20000 + started as u16;
            let isn = rng.next();
            let mut s = Seg::to_us(TcpControl::Syn, isn, None).with_ports(port, PORT);
            if started % 2 == 0 {
                s = s.with_linux_syn_options(5000);
            } else {
                s.mss = Some(1460);
            }
            started += 1;
            h.stack.receive(h.now, h.iface, &build_frame(&s, PEER, US));
            let out = run_peer_only(&mut h, &mut dev);
            let sa = out.iter().find(|s| s.is_syn() && s.dst_port == port);
            if let Some(sa) = sa {
                pending.push((sa.clone(), isn, i + 20));
            }
        }
        while pending.first().is_some_and(|p| p.2 <= i) {
            let (sa, isn, _) = pending.remove(0);
            h.stack.receive(
                h.now,
                h.iface,
                &build_frame(&ack_of(&sa, isn, 65535), PEER, US),
            );
            run_peer_only(&mut h, &mut dev);
            while let Ok((c, _)) = h.stack.tcp_accept(l) {
                assert_eq!(h.stack.tcp_state(c), Some(TcpState::Established));
                accepted += 1;
                let now = h.now;
                h.stack.tcp_abort(c, now);
            }
            let rsts = run_peer_only(&mut h, &mut dev);
            assert!(rsts.iter().all(|s| s.is_rst()), "{rsts:?}");
        }
    }
    let t = h.stack.stats().tcp;
    let line = format!(
        "syn cookies sent {} accepted {} rejected 0",
        t.syn_cookies_sent, t.syn_cookies_accepted
    );
    assert!(h.stack.stats().to_string().contains(&line), "{line}");
    assert_eq!(started, REAL);
    assert!(accepted * 100 >= REAL * 99, "{accepted} of {REAL} accepted");
    assert!(t.syn_cookies_sent >= (SPOOFED - 10 * TCP_SYN_BACKLOG) as u64);
    assert!(dev.others >= SPOOFED - TCP_SYN_BACKLOG);
    assert_eq!(h.stack.tcp_half_open(), TCP_SYN_BACKLOG);
    // The spoofed requests time out (about 63 s of SYN-ACK retries).
    for _ in 0..100 {
        h.now += Duration::from_secs(1);
        run_peer_only(&mut h, &mut dev);
    }
    assert_eq!(h.stack.tcp_half_open(), 0);
}

/// An established connection keeps exchanging data, in order and
/// promptly, while spoofed SYNs flood its listener.
#[test]
fn established_connection_unaffected_by_flood() {
    let mut h = Harness::new(11);
    h.stack.set_default_gateway(PEER).unwrap();
    let p = h.open(ISS, SynOpts::LINUX);
    // No Nagle wait where our 100 bytes wrap around the send ring.
    h.stack.tcp_set_nodelay(p.h, true).unwrap();
    let mut dev = PeerOnly::default();
    let mut rng = Rng(77);
    let (mut sent_in, mut sent_out) = (0usize, 0usize);
    for round in 0..200u8 {
        for _ in 0..50 {
            h.now += Duration::from_micros(200);
            spoofed_syn(&mut h, &mut rng, &mut dev);
        }
        // The peer sends 100 bytes; we read them and answer 100 bytes.
        let data = pattern(round, 100);
        let seg = Seg::to_us(
            TcpControl::Psh,
            add(ISS, 1 + sent_in as u32),
            Some(p.our(sent_out)),
        )
        .with_ts(h.now.total_millis() as u32, 0)
        .with_payload(&data);
        h.stack
            .receive(h.now, h.iface, &build_frame(&seg, PEER, US));
        run_peer_only(&mut h, &mut dev);
        sent_in += 100;
        assert_eq!(h.read_all(p.h), data);
        assert_eq!(h.stack.tcp_send(p.h, &data), Ok(100), "round {round}");
        let out = run_peer_only(&mut h, &mut dev);
        let reply: Vec<&Seg> = out.iter().filter(|s| !s.payload.is_empty()).collect();
        assert_eq!(reply[0].seq, SeqNumber(p.our(sent_out)));
        let got: Vec<u8> = reply.iter().flat_map(|s| s.payload.clone()).collect();
        assert_eq!(got, data);
        assert_eq!(reply[0].ack, Some(SeqNumber(add(ISS, 1 + sent_in as u32))));
        sent_out += 100;
    }
    assert!(h.stack.stats().tcp.syn_cookies_sent > 9000);
    assert_eq!(h.stack.tcp_state(p.h), Some(TcpState::Established));
}

/// As Linux, an ACK for a listener is checked as a cookie only while a
/// cookie sent may still be valid (two periods after the last one); other
/// stray ACKs get RST without the check, and are not counted as rejected.
#[test]
fn cookies_checked_only_after_recent_overflow() {
    let mut h = Harness::new(12);
    full_listener(&mut h);
    let stray = Seg::to_us(TcpControl::None, ISS, Some(12345)).with_ports(PEER_PORT, PORT);
    h.send(&stray);
    assert!(h.take_one().is_rst());
    assert_eq!(h.stack.stats().tcp.syn_cookies_rejected, 0);
    syn(&mut h, PEER_PORT + 1, ISS, SynOpts::PLAIN);
    h.send(&stray);
    assert!(h.take_one().is_rst());
    assert_eq!(h.stack.stats().tcp.syn_cookies_rejected, 1);
    h.advance(Duration::from_secs(130));
    h.take();
    h.arp_refresh();
    h.send(&stray);
    assert!(h.take_one().is_rst());
    assert_eq!(h.stack.stats().tcp.syn_cookies_rejected, 1);
}
