//! A scripted TCP peer for packet-in/packet-out tests: the stack under
//! test is 192.0.2.2 on one Ethernet interface; the test plays the remote
//! host 192.0.2.1, hands it segments, and reads back every segment the
//! stack sends, with time under the test's control.
#![allow(dead_code)]

use std::fmt::Write as _;

use wolfip_core::config::TCP_RTO_MAX_MS;
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::rand::FixedSeed;
use wolfip_core::wire::tcp::MAX_SACK_BLOCKS;
use wolfip_core::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    IpProtocol, Ipv4Packet, Ipv4Repr, SackBlock, SeqNumber, TcpControl, TcpPacket, TcpRepr,
};
use wolfip_core::{
    Duration, IfaceConfig, IfaceId, Instant, Ipv4Addr, SocketAddrV4, Stack, TcpHandle, TcpState,
};

pub const US: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const US_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
pub const PEER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
pub const PEER_PORT: u16 = 40000;
pub const PORT: u16 = 80;

/// A segment as sent or received, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub src_port: u16,
    pub dst_port: u16,
    pub control: TcpControl,
    pub seq: SeqNumber,
    pub ack: Option<SeqNumber>,
    pub window: u16,
    pub window_scale: Option<u8>,
    pub mss: Option<u16>,
    pub sack_permitted: bool,
    pub sack: Vec<(SeqNumber, SeqNumber)>,
    pub timestamp: Option<(u32, u32)>,
    pub payload: Vec<u8>,
    /// The IP header's DF flag.
    pub dont_frag: bool,
}

impl Seg {
    /// A segment from the peer to the stack's `PORT` with nothing set.
    pub fn to_us(control: TcpControl, seq: u32, ack: Option<u32>) -> Seg {
        Seg {
            src_port: PEER_PORT,
            dst_port: PORT,
            control,
            seq: SeqNumber(seq),
            ack: ack.map(SeqNumber),
            window: 65535,
            window_scale: None,
            mss: None,
            sack_permitted: false,
            sack: Vec::new(),
            timestamp: None,
            payload: Vec::new(),
            dont_frag: true,
        }
    }
    pub fn with_payload(mut self, p: &[u8]) -> Seg {
        self.payload = p.to_vec();
        self
    }
    pub fn with_window(mut self, w: u16) -> Seg {
        self.window = w;
        self
    }
    pub fn with_ts(mut self, tsval: u32, tsecr: u32) -> Seg {
        self.timestamp = Some((tsval, tsecr));
        self
    }
    pub fn with_sack(mut self, blocks: &[(u32, u32)]) -> Seg {
        self.sack = blocks
            .iter()
            .map(|&(l, r)| (SeqNumber(l), SeqNumber(r)))
            .collect();
        self
    }
    pub fn with_ports(mut self, src: u16, dst: u16) -> Seg {
        self.src_port = src;
        self.dst_port = dst;
        self
    }
    /// SYN options as Linux sends them: MSS 1460, SACK-permitted, TS, WS 7.
    pub fn with_linux_syn_options(mut self, tsval: u32) -> Seg {
        self.mss = Some(1460);
        self.sack_permitted = true;
        self.timestamp = Some((tsval, 0));
        self.window_scale = Some(7);
        self
    }
    /// SEG.LEN (RFC 9293 §3.4): payload plus SYN and FIN.
    pub fn len(&self) -> usize {
        self.payload.len() + usize::from(matches!(self.control, TcpControl::Syn | TcpControl::Fin))
    }
    pub fn is_syn(&self) -> bool {
        self.control == TcpControl::Syn
    }
    pub fn is_fin(&self) -> bool {
        self.control == TcpControl::Fin
    }
    pub fn is_rst(&self) -> bool {
        self.control == TcpControl::Rst
    }
}

/// Collects what the stack transmits.
#[derive(Default)]
pub struct Capture {
    pub frames: Vec<Vec<u8>>,
}

impl Device for Capture {
    fn receive(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
        None
    }
    fn transmit(&mut self, _: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        self.frames.push(frame.to_vec());
        Ok(())
    }
}

/// The stack under test and its scripted peer.
pub struct Harness {
    pub stack: Box<Stack>,
    pub iface: IfaceId,
    pub now: Instant,
    /// Every TCP segment the stack sent so far, in order.
    pub sent: Vec<Seg>,
    /// How many of `sent` the test has looked at (see `take`).
    seen: usize,
}

impl Harness {
    /// A stack at 192.0.2.2/24 that already knows the peer's MAC.
    pub fn new(seed: u64) -> Harness {
        Harness::with_mtu(seed, IfaceConfig::ethernet(US_MAC).mtu)
    }

    /// [`Harness::new`] on a link whose MTU is `mtu`.
    pub fn with_mtu(seed: u64, mtu: usize) -> Harness {
        let mut stack = Box::new(Stack::new(&mut FixedSeed(seed)));
        let iface = stack
            .add_interface(IfaceConfig {
                mtu,
                ..IfaceConfig::ethernet(US_MAC)
            })
            .unwrap();
        stack
            .set_ipv4(iface, Some("192.0.2.2/24".parse().unwrap()))
            .unwrap();
        let mut h = Harness {
            stack,
            iface,
            now: Instant::from_secs(100),
            sent: Vec::new(),
            seen: 0,
        };
        // The peer asks for us: the stack learns the peer's MAC.
        h.arp_refresh();
        h
    }

    /// Dispatches and transmits; records TCP segments the stack sent.
    pub fn run(&mut self) {
        let mut cap = Capture::default();
        for _ in 0..8 {
            self.stack.dispatch(self.now);
            let f = self.stack.transmit(self.now, self.iface, &mut cap);
            if f.sent == 0 {
                break;
            }
        }
        for f in cap.frames {
            if let Some(seg) = parse_tcp(&f) {
                self.sent.push(seg);
            }
        }
    }

    /// Hands a segment from the peer to the stack, then runs it.
    pub fn send(&mut self, seg: &Seg) {
        let frame = build_frame(seg, PEER, US);
        self.stack.receive(self.now, self.iface, &frame);
        self.run();
    }

    /// Moves time forward by `d` and runs the stack.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.run();
    }

    /// Moves time to the stack's next deadline (if any, at most `max`
    /// ahead) and runs it. Returns the time moved.
    pub fn advance_to_deadline(&mut self, max: Duration) -> Duration {
        let target = match self.stack.poll_at(self.now) {
            Some(t) if t > self.now => t.min(self.now + max),
            Some(_) => self.now,
            None => self.now + max,
        };
        let d = target - self.now;
        self.now = target;
        self.run();
        d
    }

    /// The segments sent since the last call.
    pub fn take(&mut self) -> Vec<Seg> {
        let v = self.sent[self.seen..].to_vec();
        self.seen = self.sent.len();
        v
    }

    /// Exactly one new segment; panics otherwise.
    pub fn take_one(&mut self) -> Seg {
        let v = self.take();
        assert_eq!(v.len(), 1, "expected one segment, got {v:#?}");
        v.into_iter().next().unwrap()
    }

    /// Asserts nothing was sent since the last look.
    pub fn expect_silence(&mut self) {
        let v = self.take();
        assert!(v.is_empty(), "expected nothing, got {v:#?}");
    }

    /// A listener on `PORT` with `backlog`.
    pub fn listen(&mut self, backlog: usize) -> TcpHandle {
        let l = self.stack.tcp_open().unwrap();
        self.stack
            .tcp_bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT))
            .unwrap();
        self.stack.tcp_listen(l, backlog).unwrap();
        l
    }

    /// Passive open with Linux-like options; returns (accepted handle, our
    /// ISS). The peer's ISS is `peer_iss`; its SYN has TSval 1000.
    pub fn accept_linux(&mut self, peer_iss: u32) -> (TcpHandle, u32) {
        let l = self.listen(8);
        self.send(&Seg::to_us(TcpControl::Syn, peer_iss, None).with_linux_syn_options(1000));
        let synack = self.take_one();
        assert!(synack.is_syn() && synack.ack == Some(SeqNumber(peer_iss.wrapping_add(1))));
        let iss = synack.seq.0;
        let ts = synack.timestamp.map(|(v, _)| v).unwrap_or(0);
        self.send(
            &Seg::to_us(
                TcpControl::None,
                peer_iss.wrapping_add(1),
                Some(iss.wrapping_add(1)),
            )
            .with_ts(1001, ts),
        );
        let (h, _) = self.stack.tcp_accept(l).expect("accepted");
        assert_eq!(self.stack.tcp_state(h), Some(TcpState::Established));
        (h, iss)
    }

    /// Passive open without any option (an RFC 793 peer); returns (handle,
    /// our ISS).
    pub fn accept_plain(&mut self, peer_iss: u32) -> (TcpHandle, u32) {
        let l = self.listen(8);
        self.send(&Seg::to_us(TcpControl::Syn, peer_iss, None));
        let synack = self.take_one();
        let iss = synack.seq.0;
        self.send(&Seg::to_us(
            TcpControl::None,
            peer_iss.wrapping_add(1),
            Some(iss.wrapping_add(1)),
        ));
        let (h, _) = self.stack.tcp_accept(l).expect("accepted");
        (h, iss)
    }

    /// Active open to the peer's `PEER_PORT`; returns (handle, the SYN).
    pub fn connect(&mut self) -> (TcpHandle, Seg) {
        let c = self.stack.tcp_open().unwrap();
        self.stack
            .tcp_bind(c, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT))
            .unwrap();
        self.stack
            .tcp_connect(c, SocketAddrV4::new(PEER, PEER_PORT), self.now)
            .unwrap();
        self.run();
        let syn = self.take_one();
        assert!(syn.is_syn() && syn.ack.is_none());
        (c, syn)
    }
}

/// Builds an Ethernet frame carrying `seg` from `src` to `dst`.
pub fn build_frame(seg: &Seg, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut sack_ranges: [Option<SackBlock>; MAX_SACK_BLOCKS] = [None; MAX_SACK_BLOCKS];
    for (i, &(l, r)) in seg.sack.iter().take(MAX_SACK_BLOCKS).enumerate() {
        sack_ranges[i] = Some(SackBlock { left: l, right: r });
    }
    let repr = TcpRepr {
        src_port: seg.src_port,
        dst_port: seg.dst_port,
        control: seg.control,
        seq_number: seg.seq,
        ack_number: seg.ack,
        window_len: seg.window,
        window_scale: seg.window_scale,
        max_seg_size: seg.mss,
        sack_permitted: seg.sack_permitted,
        sack_ranges,
        timestamp: seg.timestamp,
        payload: &seg.payload,
    };
    let tcp_len = repr.buffer_len();
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::Tcp,
        payload_len: tcp_len,
        ttl: 64,
        tos: 0,
        ident: 1,
        dont_frag: seg.dont_frag,
        more_frags: false,
        frag_offset: 0,
    };
    let mut frame = ipv4_frame(&ip);
    repr.emit(&mut TcpPacket::new_unchecked(&mut frame[34..]), src, dst);
    frame
}

/// An Ethernet frame from the peer's MAC to ours with the IP header `ip`
/// emitted; the payload (`frame[34..]`, `ip.payload_len` bytes) is left
/// to the caller.
fn ipv4_frame(ip: &Ipv4Repr) -> Vec<u8> {
    let mut frame = vec![0u8; 14 + 20 + ip.payload_len];
    EthernetRepr {
        src_addr: PEER_MAC,
        dst_addr: US_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut frame[14..34]));
    frame
}

/// Parses a frame the stack sent, if it is TCP (checksums verified).
pub fn parse_tcp(frame: &[u8]) -> Option<Seg> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EtherType::Ipv4 {
        return None;
    }
    let ipp = Ipv4Packet::new_checked(eth.payload()).ok()?;
    let ip = Ipv4Repr::parse(&ipp).expect("valid IP header");
    if ip.protocol != IpProtocol::Tcp {
        return None;
    }
    let payload = ipp.payload();
    let tp = TcpPacket::new_checked(payload).expect("valid TCP length");
    let r = TcpRepr::parse(&tp, ip.src_addr, ip.dst_addr)
        .expect("valid TCP segment with a good checksum");
    Some(Seg {
        src_port: r.src_port,
        dst_port: r.dst_port,
        control: r.control,
        seq: r.seq_number,
        ack: r.ack_number,
        window: r.window_len,
        window_scale: r.window_scale,
        mss: r.max_seg_size,
        sack_permitted: r.sack_permitted,
        sack: r
            .sack_ranges
            .iter()
            .flatten()
            .map(|b| (b.left, b.right))
            .collect(),
        timestamp: r.timestamp,
        payload: r.payload.to_vec(),
        dont_frag: ip.dont_frag,
    })
}

/// One line per segment with sequence numbers relative to `our_iss` (for
/// segments we sent) and `peer_iss` (for acknowledgments of the peer's
/// data): stable across seeds, for insta snapshots.
pub fn trace(segs: &[Seg], our_iss: u32, peer_iss: u32) -> String {
    let mut out = String::new();
    for s in segs {
        let flags = match s.control {
            TcpControl::Syn => "S",
            TcpControl::Fin => "F",
            TcpControl::Rst => "R",
            TcpControl::Psh => "P",
            TcpControl::None => ".",
        };
        let _ = write!(out, "{flags} seq={}", s.seq.0.wrapping_sub(our_iss));
        if let Some(a) = s.ack {
            let _ = write!(out, " ack={}", a.0.wrapping_sub(peer_iss));
        }
        let _ = write!(out, " win={} len={}", s.window, s.payload.len());
        if let Some(m) = s.mss {
            let _ = write!(out, " mss={m}");
        }
        if let Some(w) = s.window_scale {
            let _ = write!(out, " ws={w}");
        }
        if s.sack_permitted {
            out.push_str(" sackok");
        }
        if s.timestamp.is_some() {
            out.push_str(" ts");
        }
        for (l, r) in &s.sack {
            let _ = write!(
                out,
                " sack={}-{}",
                l.0.wrapping_sub(peer_iss),
                r.0.wrapping_sub(peer_iss)
            );
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------
// Helpers for the connection tests (tcp_open.rs, tcp_listen.rs,
// tcp_close.rs, tcp_reset.rs).

/// `a + n` in sequence space (modulo 2^32).
pub fn add(a: u32, n: u32) -> u32 {
    a.wrapping_add(n)
}

/// The times of RTO backoff from `rto`: rto, 3 rto, 7 rto... (RFC 6298
/// §5.5), capped per interval at the maximum RTO.
pub fn backoff_times(rto_ms: u64, n: usize) -> Vec<Duration> {
    let mut t = 0;
    let mut iv = rto_ms;
    let mut v = Vec::new();
    for _ in 0..n {
        t += iv;
        v.push(Duration::from_millis(t));
        iv = (iv * 2).min(TCP_RTO_MAX_MS as u64);
    }
    v
}

impl Harness {
    /// The application closes `c`, then the stack runs.
    pub fn close(&mut self, c: TcpHandle) {
        let now = self.now;
        self.stack.tcp_close(c, now);
        self.run();
    }

    /// The application aborts `c`, then the stack runs.
    pub fn abort(&mut self, c: TcpHandle) {
        let now = self.now;
        self.stack.tcp_abort(c, now);
        self.run();
    }

    /// Free socket slots (not counting those `tcp_open` would reclaim
    /// from closed connections).
    pub fn free_slots(&mut self) -> usize {
        self.stack.tcp_free_slots()
    }
}

// ---------------------------------------------------------------------
// Helpers for the data-transfer, loss-recovery, timer and option tests
// (tcp_data.rs, tcp_loss.rs, tcp_timers.rs, tcp_options.rs).

/// Milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `len` bytes of a pattern that differs by `seed` and never repeats
/// within 251 bytes, so a misplaced byte shows.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i % 251) as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

/// The options of the peer's SYN (and the window of its handshake ACK).
#[derive(Debug, Clone, Copy)]
pub struct SynOpts {
    pub mss: Option<u16>,
    pub ws: Option<u8>,
    pub sack: bool,
    pub ts: bool,
    /// The window field of the SYN and of the ACK completing the handshake.
    pub window: u16,
}

impl SynOpts {
    /// As Linux sends them: MSS 1460, WS 7, SACK-permitted, timestamps.
    pub const LINUX: SynOpts = SynOpts {
        mss: Some(1460),
        ws: Some(7),
        sack: true,
        ts: true,
        window: 65535,
    };
    /// No option at all (an RFC 793 peer: MSS 536 assumed).
    pub const PLAIN: SynOpts = SynOpts {
        mss: None,
        ws: None,
        sack: false,
        ts: false,
        window: 65535,
    };
    /// MSS 1000, WS 7, SACK-permitted, no timestamps: our segments carry
    /// exactly 1000 bytes, which keeps the arithmetic of tests readable.
    pub const K: SynOpts = SynOpts {
        mss: Some(1000),
        ws: Some(7),
        sack: true,
        ts: false,
        window: 65535,
    };
    /// [`SynOpts::K`] without SACK.
    pub const K_NOSACK: SynOpts = SynOpts {
        sack: false,
        ..SynOpts::K
    };
}

/// How the handshake of [`Harness::open_with`] goes.
#[derive(Debug, Clone, Copy)]
pub enum Handshake {
    /// The ACK arrives this long after the SYN-ACK: one RTT sample.
    Rtt(Duration),
    /// The first SYN-ACK is lost and sent again: no RTT sample (Karn), so
    /// the RTO stays at its initial value.
    SynAckLost,
}

/// An established connection as the peer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Our socket.
    pub h: TcpHandle,
    /// Our ISS.
    pub iss: u32,
    /// The peer's ISS.
    pub irs: u32,
    /// The peer's next sequence number.
    pub nxt: u32,
    /// What the peer acknowledges of our data (its RCV.NXT).
    pub una: u32,
    /// The window field the peer sends.
    pub window: u16,
    /// Timestamps negotiated: the peer sends TSval = its clock in ms and
    /// echoes our latest TSval.
    pub ts: bool,
}

impl Peer {
    /// The sequence number of our data byte `off` (0 = the first one).
    pub fn our(&self, off: usize) -> u32 {
        self.iss.wrapping_add(1).wrapping_add(off as u32)
    }
    /// The sequence number of the peer's data byte `off`.
    pub fn their(&self, off: usize) -> u32 {
        self.irs.wrapping_add(1).wrapping_add(off as u32)
    }
    /// The offset of our sequence number `seq` in our data.
    pub fn our_off(&self, seq: SeqNumber) -> usize {
        seq.0.wrapping_sub(self.iss.wrapping_add(1)) as usize
    }
}

impl Harness {
    /// Passive open with chosen SYN options and an instant handshake.
    pub fn open(&mut self, irs: u32, o: SynOpts) -> Peer {
        self.open_with(irs, o, Handshake::Rtt(Duration::ZERO))
    }

    /// Passive open with chosen SYN options and handshake timing.
    pub fn open_with(&mut self, irs: u32, o: SynOpts, hs: Handshake) -> Peer {
        let l = self.listen(8);
        let mut syn = Seg::to_us(TcpControl::Syn, irs, None).with_window(o.window);
        syn.mss = o.mss;
        syn.window_scale = o.ws;
        syn.sack_permitted = o.sack;
        if o.ts {
            syn.timestamp = Some((self.now.total_millis() as u32, 0));
        }
        self.send(&syn);
        let synack = self.take_one();
        assert!(synack.is_syn());
        match hs {
            Handshake::Rtt(d) => self.advance(d),
            Handshake::SynAckLost => {
                let d = self.advance_to_deadline(Duration::from_secs(2));
                assert_eq!(d, Duration::from_secs(1), "SYN-ACK again after 1 s");
                assert!(self.take_one().is_syn());
            }
        }
        let iss = synack.seq.0;
        let mut p = Peer {
            h: l,
            iss,
            irs,
            nxt: irs.wrapping_add(1),
            una: iss.wrapping_add(1),
            window: o.window,
            ts: o.ts,
        };
        let ack = self.peer_seg(&p, TcpControl::None, p.nxt, &[]);
        self.send(&ack);
        let (h, _) = self.stack.tcp_accept(l).expect("accepted");
        assert_eq!(self.stack.tcp_state(h), Some(TcpState::Established));
        p.h = h;
        p
    }

    /// The TSval of the latest segment we sent (0 if none had one).
    pub fn tsecr(&self) -> u32 {
        self.sent
            .iter()
            .rev()
            .find_map(|s| s.timestamp.map(|(v, _)| v))
            .unwrap_or(0)
    }

    /// A segment from the peer: ACK of `p.una`, `p.window`, and a
    /// timestamp (its clock in ms, our latest TSval) if negotiated.
    pub fn peer_seg(&self, p: &Peer, control: TcpControl, seq: u32, payload: &[u8]) -> Seg {
        let mut s = Seg::to_us(control, seq, Some(p.una))
            .with_window(p.window)
            .with_payload(payload);
        if p.ts {
            s.timestamp = Some((self.now.total_millis() as u32, self.tsecr()));
        }
        s
    }

    /// The peer sends `data` in order (one segment, PSH).
    pub fn peer_data(&mut self, p: &mut Peer, data: &[u8]) {
        let s = self.peer_seg(p, TcpControl::Psh, p.nxt, data);
        p.nxt = p.nxt.wrapping_add(data.len() as u32);
        self.send(&s);
    }

    /// The peer sends `data` as its bytes `off..` (out of order, or again).
    pub fn peer_data_at(&mut self, p: &Peer, off: usize, data: &[u8]) {
        let s = self.peer_seg(p, TcpControl::Psh, p.their(off), data);
        self.send(&s);
    }

    /// The peer acknowledges our data up to byte `off`.
    pub fn peer_ack(&mut self, p: &mut Peer, off: usize) {
        self.peer_sack(p, off, &[]);
    }

    /// The peer acknowledges our data up to byte `off`, with SACK blocks
    /// of our bytes `l..r`.
    pub fn peer_sack(&mut self, p: &mut Peer, off: usize, blocks: &[(usize, usize)]) {
        let s = self.ack_seg(p, off, blocks);
        self.send(&s);
    }

    /// The ACK [`peer_sack`](Self::peer_sack) sends, not sent yet.
    pub fn ack_seg(&self, p: &mut Peer, off: usize, blocks: &[(usize, usize)]) -> Seg {
        p.una = p.our(off);
        let blocks: Vec<(u32, u32)> = blocks.iter().map(|&(l, r)| (p.our(l), p.our(r))).collect();
        self.peer_seg(p, TcpControl::None, p.nxt, &[])
            .with_sack(&blocks)
    }

    /// Reads everything the socket has.
    pub fn read_all(&mut self, h: TcpHandle) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.stack.tcp_recv(h, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }
}

/// A two-way transcript for snapshots: one line per segment, `>` from the
/// peer, `<` from the stack, with the time in ms since the log started.
/// Sequence numbers are relative to the sender's ISS and acknowledgments
/// and SACK blocks to the receiver's, so 1 is the first data byte of
/// either side.
pub struct Log {
    t0: Instant,
    pub text: String,
}

impl Log {
    pub fn new(h: &Harness) -> Log {
        Log {
            t0: h.now,
            text: String::new(),
        }
    }

    fn line(&mut self, h: &Harness, dir: char, s: &Seg, seq_base: u32, ack_base: u32) {
        let t = (h.now - self.t0).total_millis();
        let _ = write!(self.text, "{t:>6}ms {dir} ");
        self.text
            .push_str(&trace(std::slice::from_ref(s), seq_base, ack_base));
    }

    /// Segments the stack sent.
    pub fn ours(&mut self, h: &Harness, p: &Peer, segs: &[Seg]) {
        for s in segs {
            self.line(h, '<', s, p.iss, p.irs);
        }
    }

    /// A segment from the peer.
    pub fn theirs(&mut self, h: &Harness, p: &Peer, s: &Seg) {
        self.line(h, '>', s, p.irs, p.iss);
    }

    /// A comment line.
    pub fn note(&mut self, s: &str) {
        let _ = writeln!(self.text, "# {s}");
    }
}

impl Harness {
    /// Sends `seg` from the peer and logs it with the stack's answers,
    /// which are returned.
    pub fn send_logged(&mut self, log: &mut Log, p: &Peer, seg: &Seg) -> Vec<Seg> {
        log.theirs(self, p, seg);
        self.send(seg);
        let out = self.take();
        log.ours(self, p, &out);
        out
    }

    /// Moves to TCP's next event (at most `max` ahead, see
    /// [`advance_tcp`](Self::advance_tcp)) and logs what the stack sends.
    pub fn wait_logged(&mut self, log: &mut Log, p: &Peer, max: Duration) -> Vec<Seg> {
        self.advance_tcp(max);
        let out = self.take();
        log.ours(self, p, &out);
        out
    }
}

impl Harness {
    /// The peer asks for our MAC again, which refreshes its ARP entry with
    /// us: long tests stay clear of ARP re-confirmation, which this
    /// harness does not answer.
    pub fn arp_refresh(&mut self) {
        let arp = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: PEER_MAC,
            source_protocol_addr: PEER,
            target_hardware_addr: EthernetAddress::default(),
            target_protocol_addr: US,
        };
        let mut frame = vec![0u8; 14 + 28];
        EthernetRepr {
            src_addr: PEER_MAC,
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EtherType::Arp,
        }
        .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
        arp.emit(&mut ArpPacket::new_unchecked(&mut frame[14..]));
        self.stack.receive(self.now, self.iface, &frame);
        self.run();
    }

    /// Moves time to TCP's next event (a segment sent or a connection
    /// timed out), at most `max` ahead, keeping ARP fresh on the way;
    /// returns the time moved.
    pub fn advance_tcp(&mut self, max: Duration) -> Duration {
        let start = self.now;
        let before = self.stack.stats().tcp;
        let mut spins = 0;
        while self.now - start < max {
            spins += 1;
            assert!(spins < 100_000, "the stack keeps asking to run now");
            self.arp_refresh();
            let left = max.total_micros() - (self.now - start).total_micros();
            self.advance_to_deadline(Duration::from_micros(left));
            if self.stack.stats().tcp != before {
                break;
            }
        }
        self.now - start
    }
}

/// An ICMP destination-unreachable from a router (192.0.2.254) about a
/// segment we sent, quoting its IP header and first 8 TCP bytes.
pub fn icmp_unreachable(seg: &Seg, reason: wolfip_core::wire::DstUnreachable, mtu: u16) -> Vec<u8> {
    use wolfip_core::wire::{Icmpv4Packet, Icmpv4Repr};
    let ours = build_frame(seg, US, PEER);
    let quote = &ours[14..14 + 20 + 8];
    let icmp = Icmpv4Repr::DstUnreachable {
        reason,
        next_hop_mtu: mtu,
        data: quote,
    };
    let mut payload = vec![0u8; icmp.buffer_len()];
    icmp.emit(&mut Icmpv4Packet::new_unchecked(&mut payload[..]));
    let ip = Ipv4Repr {
        src_addr: Ipv4Addr::new(192, 0, 2, 254),
        dst_addr: US,
        protocol: IpProtocol::Icmp,
        payload_len: payload.len(),
        ttl: 64,
        tos: 0,
        ident: 7,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
    };
    let mut frame = ipv4_frame(&ip);
    frame[34..].copy_from_slice(&payload);
    frame
}

/// A SYN from the peer's `port` with `opts` (MSS, window scale, SACK,
/// timestamps with TSval 1000) to the listener on [`PORT`]; returns the
/// SYN-ACK, checked to acknowledge the SYN (SYN-cookie and review tests).
pub fn syn_from_port(h: &mut Harness, port: u16, peer_iss: u32, opts: SynOpts) -> Seg {
    let mut s = Seg::to_us(TcpControl::Syn, peer_iss, None).with_ports(port, PORT);
    s.mss = opts.mss;
    s.window_scale = opts.ws;
    s.sack_permitted = opts.sack;
    if opts.ts {
        s.timestamp = Some((1000, 0));
    }
    h.send(&s);
    let sa = h.take_one();
    assert!(sa.is_syn() && sa.dst_port == port, "{sa:?}");
    assert_eq!(sa.ack, Some(SeqNumber(peer_iss.wrapping_add(1))));
    sa
}

/// The ACK completing the handshake the SYN-ACK `sa` began, with
/// `window`, echoing its TSval (as TSecr, TSval 1001) if it had one.
pub fn handshake_ack(sa: &Seg, peer_iss: u32, window: u16) -> Seg {
    let mut s = Seg::to_us(TcpControl::None, add(peer_iss, 1), Some(add(sa.seq.0, 1)))
        .with_ports(sa.dst_port, PORT)
        .with_window(window);
    if let Some((tsval, _)) = sa.timestamp {
        s.timestamp = Some((1001, tsval));
    }
    s
}
