//! The peer model: what the other end of each TCP connection knows about
//! sequence numbers, learnt from the segments the stack sends, so that the
//! generated segments are in (or just around) the window and reach the
//! state machine instead of being dropped at the first check.

use wolfip_core::Ipv4Addr;

use super::wire::{
    eth, fill_tcp_checksum, ipv4, put16, put32, SentTcp, OUR_IP, OUR_MAC, PEER_MAC, TCP,
};

/// TCP flag bits.
pub const FIN: u8 = 0x01;
/// SYN.
pub const SYN: u8 = 0x02;
/// RST.
pub const RST: u8 = 0x04;
/// PSH.
pub const PSH: u8 = 0x08;
/// ACK.
pub const ACK: u8 = 0x10;
/// URG.
pub const URG: u8 = 0x20;

/// A segment to send, before it is turned into bytes.
#[derive(Debug, Clone)]
pub struct Seg {
    /// Source address (normally the peer).
    pub src: Ipv4Addr,
    /// Source port (the peer's).
    pub sport: u16,
    /// Destination port (ours).
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags byte.
    pub flags: u8,
    /// Window.
    pub wnd: u16,
    /// Urgent pointer.
    pub urg: u16,
    /// Raw option bytes (padded to a multiple of 4 when built).
    pub opts: Vec<u8>,
    /// Payload length (the bytes are a pattern of `seq`).
    pub len: usize,
    /// Data offset override (header length in 32-bit words).
    pub doff: Option<u8>,
}

impl Seg {
    /// The TCP header and payload, checksum filled in.
    pub fn tcp_bytes(&self) -> Vec<u8> {
        let mut opts = self.opts.clone();
        opts.truncate(40);
        while opts.len() % 4 != 0 {
            opts.push(0);
        }
        let mut t = vec![0u8; 20];
        put16(&mut t, 0, self.sport);
        put16(&mut t, 2, self.dport);
        put32(&mut t, 4, self.seq);
        put32(&mut t, 8, self.ack);
        let words = self.doff.unwrap_or(((20 + opts.len()) / 4) as u8);
        t[12] = words << 4;
        t[13] = self.flags;
        put16(&mut t, 14, self.wnd);
        put16(&mut t, 18, self.urg);
        t.extend_from_slice(&opts);
        t.extend((0..self.len).map(|i| (self.seq as usize).wrapping_add(i) as u8));
        fill_tcp_checksum(self.src, OUR_IP, &mut t);
        t
    }

    /// The whole frame from the peer.
    pub fn frame(&self) -> Vec<u8> {
        let ip = ipv4(self.src, OUR_IP, TCP, self.seq as u16, 0, &self.tcp_bytes());
        eth(OUR_MAC, PEER_MAC, 0x0800, &ip)
    }
}

/// One connection as the peer sees it.
#[derive(Debug, Clone)]
pub struct PeerConn {
    /// The peer's address.
    pub ip: Ipv4Addr,
    /// Our port.
    pub our_port: u16,
    /// The peer's port.
    pub peer_port: u16,
    /// Our initial sequence number, once our SYN was seen.
    pub our_iss: Option<u32>,
    /// The highest sequence number we sent (SEG.SEQ + SEG.LEN).
    pub our_nxt: u32,
    /// The highest acknowledgment the peer sent.
    pub acked: u32,
    /// Our FIN was seen.
    pub our_fin: bool,
    /// The peer's initial sequence number.
    pub peer_iss: u32,
    /// The next sequence number the peer uses.
    pub peer_nxt: u32,
    /// The stack acknowledged the peer's SYN (the connection is
    /// synchronized both ways).
    pub synced: bool,
    /// The peer's timestamp clock.
    pub peer_ts: u32,
    /// Our last timestamp value, to echo.
    pub ts_recent: u32,
    /// Our segments carry timestamps.
    pub ts_on: bool,
    /// Our last advertised window (unscaled).
    pub our_wnd: u16,
    /// The IP header and first 28 bytes of our last segment.
    pub quote: Vec<u8>,
    /// When it was last touched (frame index), to evict the oldest.
    pub touched: u64,
}

/// Every connection the peer knows of (a small table; the oldest goes).
#[derive(Debug, Default)]
pub struct Peer {
    /// The connections.
    pub conns: Vec<PeerConn>,
    /// The stack asked for the peer's MAC address.
    pub arp_wanted: bool,
}

/// Most connections the model remembers.
const MAX_CONNS: usize = 24;

fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl Peer {
    /// The connection between our `our_port` and `ip:peer_port`.
    pub fn find(&self, ip: Ipv4Addr, our_port: u16, peer_port: u16) -> Option<usize> {
        self.conns
            .iter()
            .position(|c| c.ip == ip && c.our_port == our_port && c.peer_port == peer_port)
    }

    /// Starts a connection from the peer (it sends SYN with `iss`).
    pub fn open_passive(
        &mut self,
        ip: Ipv4Addr,
        our_port: u16,
        peer_port: u16,
        iss: u32,
        ts: u32,
        now: u64,
    ) {
        if let Some(i) = self.find(ip, our_port, peer_port) {
            self.conns.remove(i);
        }
        self.insert(PeerConn {
            ip,
            our_port,
            peer_port,
            our_iss: None,
            our_nxt: 0,
            acked: 0,
            our_fin: false,
            peer_iss: iss,
            peer_nxt: iss.wrapping_add(1),
            synced: false,
            peer_ts: ts,
            ts_recent: 0,
            ts_on: false,
            our_wnd: 0,
            quote: Vec::new(),
            touched: now,
        });
    }

    fn insert(&mut self, c: PeerConn) {
        if self.conns.len() >= MAX_CONNS {
            let oldest = (0..self.conns.len())
                .min_by_key(|&i| self.conns[i].touched)
                .unwrap_or(0);
            self.conns.remove(oldest);
        }
        self.conns.push(c);
    }

    /// Learns from a segment the stack sent. `iss_hint` seeds the peer's
    /// initial sequence number when the stack opens a connection.
    pub fn observe(&mut self, s: &SentTcp, iss_hint: u32, now: u64) {
        let found = self.find(s.dst, s.sport, s.dport);
        if s.flags & RST != 0 {
            if let Some(i) = found {
                self.conns.remove(i);
            }
            return;
        }
        let seg_end = s
            .seq
            .wrapping_add(s.len as u32)
            .wrapping_add(u32::from(s.flags & SYN != 0))
            .wrapping_add(u32::from(s.flags & FIN != 0));
        let i = match found {
            Some(i) => i,
            None => {
                // A connection we did not know of (our active open, or a
                // mutated SYN that the listener took): start tracking it.
                let synced = s.flags & ACK != 0;
                let peer_iss = if synced {
                    s.ack.wrapping_sub(1)
                } else {
                    iss_hint
                };
                self.insert(PeerConn {
                    ip: s.dst,
                    our_port: s.sport,
                    peer_port: s.dport,
                    our_iss: (s.flags & SYN != 0).then_some(s.seq),
                    our_nxt: seg_end,
                    acked: s.seq,
                    our_fin: false,
                    peer_iss,
                    peer_nxt: if synced { s.ack } else { peer_iss },
                    synced: false,
                    peer_ts: iss_hint >> 8,
                    ts_recent: 0,
                    ts_on: false,
                    our_wnd: s.wnd,
                    quote: Vec::new(),
                    touched: now,
                });
                self.conns.len() - 1
            }
        };
        let c = &mut self.conns[i];
        c.touched = now;
        if s.flags & SYN != 0 {
            c.our_iss = Some(s.seq);
            if c.our_nxt == 0 || after(s.seq, c.our_nxt) || s.flags & ACK == 0 {
                c.our_nxt = seg_end;
                c.acked = s.seq;
            }
        }
        if after(seg_end, c.our_nxt) {
            c.our_nxt = seg_end;
        }
        if s.flags & FIN != 0 {
            c.our_fin = true;
        }
        if s.flags & ACK != 0 {
            // The stack's RCV.NXT is the truth about what the peer sent.
            c.peer_nxt = s.ack;
            if s.ack == c.peer_iss.wrapping_add(1) || after(s.ack, c.peer_iss) {
                c.synced = true;
            }
        }
        if let Some(ts) = s.tsval {
            c.ts_recent = ts;
            c.ts_on = true;
        }
        c.our_wnd = s.wnd;
        c.quote.clone_from(&s.quote);
    }
}

/// SYN options as a typical peer sends them: MSS, SACK permitted,
/// timestamps, window scale.
pub fn syn_options(mss: u16, ts: Option<(u32, u32)>, wscale: u8) -> Vec<u8> {
    let mut o = vec![2, 4];
    o.extend_from_slice(&mss.to_be_bytes());
    o.extend_from_slice(&[4, 2]);
    if let Some((v, e)) = ts {
        o.extend_from_slice(&[8, 10]);
        o.extend_from_slice(&v.to_be_bytes());
        o.extend_from_slice(&e.to_be_bytes());
    }
    o.extend_from_slice(&[1, 3, 3, wscale]);
    o
}

/// A timestamp option (with two NOPs in front, as usual).
pub fn ts_option(val: u32, ecr: u32) -> Vec<u8> {
    let mut o = vec![1, 1, 8, 10];
    o.extend_from_slice(&val.to_be_bytes());
    o.extend_from_slice(&ecr.to_be_bytes());
    o
}
