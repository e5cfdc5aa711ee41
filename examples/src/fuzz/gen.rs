//! Frame generators: valid TCP segments from the peer model and their
//! mutations (flags, sequence numbers near the window edges and across
//! wraparound, zero windows, option bombs), SYNs to the listeners, ICMP
//! errors quoting our own segments, and mutated ARP, IPv4, ICMP, UDP and
//! fragment frames.

use wolfip_core::Ipv4Addr;

use super::peer::{syn_options, ts_option, Peer, Seg, ACK, FIN, PSH, RST, SYN, URG};
use super::wire::*;
use super::Rng;

/// The kinds of generated frames (indices into the coverage table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The peer's next valid segment on a connection.
    TcpValid,
    /// A valid segment with mutated TCP fields (checksum fixed).
    TcpMutated,
    /// A valid segment with a bomb of malformed or extreme options.
    TcpOptions,
    /// A SYN to a listener (or a closed port).
    TcpSyn,
    /// A TCP frame with random byte-level mutations.
    TcpRaw,
    /// An ICMP error quoting one of our TCP segments.
    IcmpQuote,
    /// ARP requests and replies, mutated.
    Arp,
    /// The peer's answer to our ARP request.
    ArpReply,
    /// ICMP echo and other ICMP messages, mutated.
    Icmp,
    /// UDP datagrams, mutated.
    Udp,
    /// Fragments (of UDP, ICMP and TCP datagrams): overlapping, tiny,
    /// duplicated, mutated.
    Fragment,
    /// IPv4 header edits of any template.
    IpHeader,
    /// Random bytes.
    Random,
}

/// Every kind, in table order.
pub const KINDS: [Kind; 13] = [
    Kind::TcpValid,
    Kind::TcpMutated,
    Kind::TcpOptions,
    Kind::TcpSyn,
    Kind::TcpRaw,
    Kind::IcmpQuote,
    Kind::Arp,
    Kind::ArpReply,
    Kind::Icmp,
    Kind::Udp,
    Kind::Fragment,
    Kind::IpHeader,
    Kind::Random,
];

/// The ports our listeners use.
pub const LISTEN_PORTS: [u16; 2] = [80, 81];
/// The UDP port of the bound socket.
pub const UDP_PORT: u16 = 7;

/// Addresses worth trying in mutated headers.
const ADDRS: [Ipv4Addr; 10] = [
    OUR_IP,
    PEER_IP,
    OTHER_IP,
    SUBNET_BCAST,
    Ipv4Addr::BROADCAST,
    Ipv4Addr::UNSPECIFIED,
    Ipv4Addr::LOCALHOST,
    Ipv4Addr::new(224, 0, 0, 1),
    Ipv4Addr::new(240, 0, 0, 1),
    Ipv4Addr::new(203, 0, 113, 7),
];

/// Picks a kind and makes a frame of it.
pub fn generate(rng: &mut Rng, peer: &mut Peer, step: u64) -> (Kind, Vec<Vec<u8>>) {
    if peer.arp_wanted && rng.chance(2) {
        peer.arp_wanted = false;
        let f = arp(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
        return (Kind::ArpReply, vec![f]);
    }
    let r = rng.below(100);
    let kind = match r {
        0..=22 => Kind::TcpValid,
        23..=45 => Kind::TcpMutated,
        46..=54 => Kind::TcpOptions,
        55..=62 => Kind::TcpSyn,
        63..=66 => Kind::TcpRaw,
        67..=71 => Kind::IcmpQuote,
        72..=77 => Kind::Arp,
        78..=81 => Kind::Icmp,
        82..=87 => Kind::Udp,
        88..=90 => Kind::Fragment,
        91..=97 => Kind::IpHeader,
        _ => Kind::Random,
    };
    let needs_conn = matches!(
        kind,
        Kind::TcpValid | Kind::TcpMutated | Kind::TcpOptions | Kind::TcpRaw | Kind::IcmpQuote
    );
    if needs_conn && peer.conns.is_empty() {
        return (Kind::TcpSyn, vec![syn(rng, peer, step)]);
    }
    let frames = match kind {
        Kind::TcpValid => {
            let s = valid(rng, peer, step);
            // A pure ACK that acknowledges nothing new goes four times in
            // a row now and then: three duplicates (the first may update
            // the window) start a fast retransmit.
            let dup = s.flags == ACK && s.len == 0 && rng.chance(3);
            vec![s.frame(); if dup { 4 } else { 1 }]
        }
        Kind::TcpMutated => {
            let mut s = valid(rng, peer, step);
            for _ in 0..1 + rng.below(3) {
                mutate_seg(rng, &mut s);
            }
            vec![s.frame()]
        }
        Kind::TcpOptions => {
            let mut s = valid(rng, peer, step);
            s.opts = option_bomb(rng, &s);
            if rng.chance(4) {
                s.flags |= SYN;
            }
            vec![s.frame()]
        }
        Kind::TcpSyn => vec![syn(rng, peer, step)],
        Kind::TcpRaw => {
            let mut f = valid(rng, peer, step).frame();
            for _ in 0..1 + rng.below(3) {
                mutate_bytes(rng, &mut f);
            }
            if rng.chance(2) {
                fix_ip_checksum(&mut f);
            }
            if !rng.chance(4) {
                fix_l4_checksum(&mut f);
            }
            vec![f]
        }
        Kind::IcmpQuote => vec![icmp_quote(rng, peer)],
        Kind::Arp => {
            let t = arp_template(rng);
            vec![mutated(rng, t)]
        }
        Kind::Icmp => {
            let t = icmp_template(rng);
            vec![mutated(rng, t)]
        }
        Kind::Udp => {
            let t = udp_template(rng);
            vec![mutated(rng, t)]
        }
        Kind::Fragment => fragment_burst(rng, peer, step),
        Kind::IpHeader => {
            let t = match rng.below(3) {
                0 if !peer.conns.is_empty() => valid(rng, peer, step).frame(),
                0 | 1 => udp_template(rng),
                _ => icmp_template(rng),
            };
            let mut f = t;
            for _ in 0..1 + rng.below(2) {
                mutate_ip(rng, &mut f);
            }
            if !rng.chance(3) {
                fix_ip_checksum(&mut f);
            }
            if rng.chance(2) {
                fix_l4_checksum(&mut f);
            }
            vec![f]
        }
        Kind::Random => vec![random_frame(rng)],
        Kind::ArpReply => unreachable!("chosen above"),
    };
    (kind, frames)
}

/// A SYN from the peer to a listener (sometimes a closed port), with a
/// variety of options; the peer model starts tracking it.
fn syn(rng: &mut Rng, peer: &mut Peer, step: u64) -> Vec<u8> {
    let dport = if rng.chance(8) {
        [1, 79, 82, 7000][rng.below(4)]
    } else {
        LISTEN_PORTS[rng.below(2)]
    };
    let sport = 40000 + rng.below(48) as u16;
    let iss = match rng.below(4) {
        0 => 0u32.wrapping_sub(1 + rng.below(3) as u32), // wraps during the connection
        1 => 0x7fff_fff0,
        _ => rng.next_u64() as u32,
    };
    let ts = rng.next_u64() as u32 >> 1;
    let opts = match rng.below(6) {
        0 => Vec::new(),
        1 => syn_options(536, None, 0),
        2 => syn_options(
            [1, 64, 88, 1460, 9000, 65535][rng.below(6)],
            Some((ts, 0)),
            rng.below(16) as u8,
        ),
        _ => syn_options(1460, Some((ts, 0)), 7),
    };
    let src = if rng.chance(20) { OTHER_IP } else { PEER_IP };
    peer.open_passive(src, dport, sport, iss, ts, step);
    Seg {
        src,
        sport,
        dport,
        seq: iss,
        ack: if rng.chance(10) {
            rng.next_u64() as u32
        } else {
            0
        },
        flags: if rng.chance(10) {
            SYN | (rng.byte() & !SYN)
        } else {
            SYN
        },
        wnd: [0, 1, 512, 65535][rng.below(4)],
        urg: 0,
        opts,
        len: if rng.chance(10) { rng.below(100) } else { 0 },
        doff: None,
    }
    .frame()
}

/// The peer's next segment on a random connection: a SYN-ACK (or a SYN,
/// for a simultaneous open) while the stack waits in SYN-SENT, else data,
/// acknowledgments and FINs in the window. The model advances as if the
/// segment were accepted (the stack's acknowledgments correct it).
fn valid(rng: &mut Rng, peer: &mut Peer, step: u64) -> Seg {
    let i = rng.below(peer.conns.len());
    let c = &mut peer.conns[i];
    c.touched = step;
    c.peer_ts = c.peer_ts.wrapping_add(1 + rng.below(50) as u32);
    let ts = c.ts_on.then_some((c.peer_ts, c.ts_recent));
    let mut s = Seg {
        src: c.ip,
        sport: c.peer_port,
        dport: c.our_port,
        seq: c.peer_nxt,
        ack: c.our_nxt,
        flags: ACK,
        wnd: if rng.chance(30) {
            0
        } else {
            65535 - rng.below(4096) as u16
        },
        urg: 0,
        opts: ts.map(|(v, e)| ts_option(v, e)).unwrap_or_default(),
        len: 0,
        doff: None,
    };
    if !c.synced {
        match c.our_iss {
            // The stack is in SYN-SENT (or SYN-RECEIVED after a
            // simultaneous open): answer its SYN.
            Some(iss) => {
                s.seq = c.peer_iss;
                s.opts = syn_options(1460, Some((c.peer_ts, c.ts_recent)), 7);
                if rng.chance(4) {
                    s.flags = SYN; // simultaneous open
                } else {
                    s.flags = SYN | ACK;
                    s.ack = iss.wrapping_add(1);
                }
            }
            // Our listener has not answered: send the SYN again.
            None => {
                s.seq = c.peer_iss;
                s.flags = SYN;
                s.ack = 0;
                s.opts = syn_options(1460, Some((c.peer_ts, 0)), 7);
            }
        }
        return s;
    }
    // Acknowledge everything, or hold some back (duplicate and partial
    // acknowledgments; a FIN that does not acknowledge ours makes CLOSING).
    let outstanding = c.our_nxt.wrapping_sub(c.acked);
    s.ack = match rng.below(8) {
        0 if outstanding > 0 => c.acked,
        1 if outstanding > 1 => c
            .acked
            .wrapping_add(1 + rng.below(outstanding as usize - 1) as u32),
        2 if c.our_fin => c.our_nxt.wrapping_sub(1),
        _ => c.our_nxt,
    };
    if (s.ack.wrapping_sub(c.acked) as i32) >= 0 {
        c.acked = s.ack;
    }
    match rng.below(10) {
        0..=3 => {
            s.len = [1, 10, 100, 536, 1000, 1400][rng.below(6)];
            s.flags |= PSH;
        }
        4 => s.flags |= FIN,
        5 if rng.chance(3) => {
            s.len = 1 + rng.below(200);
            s.flags |= FIN | PSH;
        }
        _ => {}
    }
    c.peer_nxt = c
        .peer_nxt
        .wrapping_add(s.len as u32)
        .wrapping_add(u32::from(s.flags & FIN != 0));
    s
}

/// Values near the interesting edges of a sequence space around `base`.
fn near(rng: &mut Rng, base: u32, wnd: u32) -> u32 {
    let d: u32 = match rng.below(10) {
        0 => 1,
        1 => 0u32.wrapping_sub(1),
        2 => wnd,
        3 => wnd.wrapping_add(1),
        4 => wnd.wrapping_sub(1),
        5 => 1 << 31,
        6 => (1 << 31) - 1,
        7 => 0u32.wrapping_sub(wnd),
        8 => rng.below(70000) as u32,
        _ => 0u32.wrapping_sub(rng.below(70000) as u32),
    };
    base.wrapping_add(d)
}

/// One TCP-level mutation of a segment.
fn mutate_seg(rng: &mut Rng, s: &mut Seg) {
    match rng.below(12) {
        0 | 1 => {
            const SETS: [u8; 12] = [
                SYN | FIN,
                SYN | RST,
                RST,
                RST | ACK,
                FIN,
                0,
                URG | ACK,
                SYN | ACK | FIN,
                FIN | PSH | URG,
                0xff,
                0x3f,
                ACK | 0xc0,
            ];
            s.flags = if rng.chance(3) {
                rng.byte()
            } else {
                SETS[rng.below(SETS.len())]
            };
        }
        2 | 3 => s.seq = near(rng, s.seq, 65535),
        4 | 5 => s.ack = near(rng, s.ack, 16384),
        6 => s.wnd = [0, 1, 65535, rng.next_u64() as u16][rng.below(4)],
        7 => {
            s.flags |= URG;
            s.urg = [0, 1, 65535, rng.next_u64() as u16][rng.below(4)];
        }
        8 => s.len = [0, 1, 1460, 1480, rng.below(1480)][rng.below(5)],
        9 => s.doff = Some(rng.below(16) as u8),
        10 => s.opts = option_bomb(rng, s),
        _ => {
            // A retransmission of old data, or data far ahead.
            s.seq = s.seq.wrapping_sub(rng.below(20000) as u32);
            s.len = 1 + rng.below(1400);
        }
    }
}

/// Malformed or extreme options.
fn option_bomb(rng: &mut Rng, s: &Seg) -> Vec<u8> {
    let mut o = Vec::new();
    for _ in 0..1 + rng.below(4) {
        match rng.below(12) {
            0 => o.extend_from_slice(&[rng.byte() | 2, 0]), // zero length
            1 => o.extend_from_slice(&[2, 40 + rng.byte() % 20]), // past the header
            2 => o.extend_from_slice(&[2, 4, 0, 0]),        // MSS 0
            3 => o.extend_from_slice(&[3, 3, 14 + rng.byte() % 242]), // window scale
            4 => {
                // SACK blocks: odd lengths, around the window, reversed.
                let len = [2, 3, 9, 10, 18, 26, 34, 11][rng.below(8)];
                o.extend_from_slice(&[5, len]);
                for k in 0..(len as usize).saturating_sub(2) / 4 {
                    let edge = near(rng, s.ack, 1000 * (k as u32 + 1));
                    o.extend_from_slice(&edge.to_be_bytes());
                }
            }
            5 => {
                o.extend_from_slice(&[8, 10]);
                o.extend_from_slice(&(rng.next_u64() as u32).to_be_bytes());
                o.extend_from_slice(&[0, 0, 0, 0]);
            }
            6 => o.extend(std::iter::repeat_n(1, 1 + rng.below(40))),
            7 => {
                let len = rng.byte() % 12;
                o.extend_from_slice(&[rng.byte() | 0x10, len]);
                o.extend((2..len).map(|_| rng.byte()));
            }
            8 => o.extend_from_slice(&[4, 2, 4, 2, 4, 3]),
            9 => o.extend_from_slice(&[0, 2, 4, 0xff, 0xff]), // EOL, then more
            10 => o.extend_from_slice(&[8, 9, 1, 2, 3, 4, 5, 6, 7]), // short timestamps
            _ => o.extend_from_slice(&[2, 4, 0xff, 0xff, 3, 3, 0]),
        }
    }
    o.truncate(40);
    o
}

/// An ICMP error quoting one of our segments (destination unreachable
/// with every code, fragmentation needed with odd MTUs, time exceeded,
/// parameter problem, source quench, redirect).
fn icmp_quote(rng: &mut Rng, peer: &mut Peer) -> Vec<u8> {
    let c = &peer.conns[rng.below(peer.conns.len())];
    let mut quote = c.quote.clone();
    if quote.len() < 28 {
        // Nothing seen yet: quote a segment we could have sent.
        let seg = Seg {
            src: OUR_IP,
            sport: c.our_port,
            dport: c.peer_port,
            seq: c.acked,
            ack: c.peer_nxt,
            flags: ACK,
            wnd: 1000,
            urg: 0,
            opts: Vec::new(),
            len: 0,
            doff: None,
        };
        quote = ipv4(OUR_IP, c.ip, TCP, 1, 0, &seg.tcp_bytes());
    }
    if rng.chance(4) {
        // Another sequence number in the quote.
        let ihl = usize::from(quote[0] & 0x0f) * 4;
        let seq = get32(&quote, ihl + 4);
        put32(&mut quote, ihl + 4, near(rng, seq, 16384));
    }
    match rng.below(4) {
        0 => quote.truncate(20 + rng.below(8)),
        1 => quote.truncate(28),
        _ => {}
    }
    let (ty, code, rest) = match rng.below(8) {
        0..=2 => {
            let mtu = [
                0u16, 1, 67, 68, 100, 296, 576, 1000, 1499, 1500, 9000, 65535,
            ][rng.below(12)];
            (3, 4, [0, 0, (mtu >> 8) as u8, mtu as u8])
        }
        3 | 4 => (3, rng.below(16) as u8, [0; 4]),
        5 => (11, rng.below(2) as u8, [0; 4]),
        6 => (12, 0, [20, 0, 0, 0]),
        _ => ([4, 5][rng.below(2)], 0, [192, 0, 2, 9]),
    };
    let mut f = ip_frame(c.ip, OUR_IP, ICMP, &icmp(ty, code, rest, &quote));
    if rng.chance(8) {
        mutate_bytes(rng, &mut f);
        fix_ip_checksum(&mut f);
        fix_l4_checksum(&mut f);
    }
    f
}

fn arp_template(rng: &mut Rng) -> Vec<u8> {
    let b = EthernetAddressExt::BCAST;
    match rng.below(6) {
        0 => arp(b, 1, PEER_MAC, PEER_IP, EthernetAddressExt::ZERO, OUR_IP),
        1 => arp(b, 1, OTHER_MAC, OTHER_IP, EthernetAddressExt::ZERO, OUR_IP),
        2 => arp(b, 1, PEER_MAC, PEER_IP, EthernetAddressExt::ZERO, PEER_IP),
        3 => arp(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP),
        4 => arp(OUR_MAC, 2, OTHER_MAC, OTHER_IP, OUR_MAC, OUR_IP),
        _ => arp(b, 1, OTHER_MAC, OUR_IP, EthernetAddressExt::ZERO, OUR_IP),
    }
}

struct EthernetAddressExt;
impl EthernetAddressExt {
    const BCAST: wolfip_core::wire::EthernetAddress = wolfip_core::wire::EthernetAddress([0xff; 6]);
    const ZERO: wolfip_core::wire::EthernetAddress = wolfip_core::wire::EthernetAddress([0; 6]);
}

fn icmp_template(rng: &mut Rng) -> Vec<u8> {
    let data: Vec<u8> = (0..[0, 4, 56, 1400][rng.below(4)])
        .map(|i| i as u8)
        .collect();
    let (ty, code) = [(8, 0), (8, 0), (0, 0), (13, 0), (3, 3), (99, 1)][rng.below(6)];
    let dst = if rng.chance(8) { SUBNET_BCAST } else { OUR_IP };
    ip_frame(PEER_IP, dst, ICMP, &icmp(ty, code, [0, 1, 0, 2], &data))
}

fn udp_template(rng: &mut Rng) -> Vec<u8> {
    let len = [0, 1, 64, 1472][rng.below(4)];
    let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let (sport, dport) = [(1000, UDP_PORT), (53, 5353), (1000, 9999), (68, 67)][rng.below(4)];
    ip_frame(
        PEER_IP,
        OUR_IP,
        UDP,
        &udp(PEER_IP, OUR_IP, sport, dport, &data),
    )
}

/// Fragments of a UDP, ICMP or TCP datagram: in order, shuffled,
/// duplicated, overlapping, tiny, or partly mutated.
fn fragment_burst(rng: &mut Rng, peer: &mut Peer, step: u64) -> Vec<Vec<u8>> {
    let ident = rng.below(8) as u16;
    let (proto, payload) = match rng.below(3) {
        0 => {
            let n = 100 + rng.below(3000);
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            (UDP, udp(PEER_IP, OUR_IP, 1000, UDP_PORT, &data))
        }
        1 => {
            let data: Vec<u8> = (0..rng.below(4000)).map(|i| i as u8).collect();
            (ICMP, icmp(8, 0, [0, 9, 0, 9], &data))
        }
        _ if !peer.conns.is_empty() => (TCP, valid(rng, peer, step).tcp_bytes()),
        _ => (UDP, udp(PEER_IP, OUR_IP, 1000, UDP_PORT, b"tiny")),
    };
    let chunk = [8, 16, 24, 512, 1480][rng.below(5)];
    let mut frags = fragments(PEER_IP, OUR_IP, proto, ident, &payload, chunk);
    frags.truncate(24);
    match rng.below(6) {
        0 => frags.reverse(),
        1 => {
            let n = frags.len();
            for i in 0..n {
                frags.swap(i, rng.below(n));
            }
        }
        2 => {
            if let Some(f) = frags.first().cloned() {
                frags.push(f);
            }
        }
        3 => {
            // Overlap: move one fragment's offset back by a few units.
            let i = rng.below(frags.len());
            let off = get16(&frags[i], 20);
            let back = 1 + rng.below(4) as u16;
            put16(
                &mut frags[i],
                20,
                (off & 0xe000) | (off & 0x1fff).saturating_sub(back),
            );
            fix_ip_checksum(&mut frags[i]);
        }
        4 => {
            let i = rng.below(frags.len());
            mutate_bytes(rng, &mut frags[i]);
            if rng.chance(2) {
                fix_ip_checksum(&mut frags[i]);
            }
        }
        _ => {}
    }
    if rng.chance(4) {
        frags.truncate(rng.below(frags.len()) + 1); // incomplete: times out
    }
    frags
}

fn random_frame(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(1600);
    let mut f: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
    if rng.chance(2) && f.len() >= 34 {
        f[..6].copy_from_slice(&OUR_MAC.0);
        put16(&mut f, 12, 0x0800);
        f[14] = 0x45;
        let total = (f.len() - 14) as u16;
        put16(&mut f, 16, total);
        f[23] = [ICMP, TCP, UDP][rng.below(3)];
        f[26..30].copy_from_slice(&PEER_IP.octets());
        f[30..34].copy_from_slice(&OUR_IP.octets());
        fix_ip_checksum(&mut f);
        if rng.chance(2) {
            fix_l4_checksum(&mut f);
        }
    }
    f
}

/// A template mutated a few times (or left valid), checksums fixed up
/// half of the time.
fn mutated(rng: &mut Rng, mut f: Vec<u8>) -> Vec<u8> {
    if rng.chance(4) {
        return f;
    }
    for _ in 0..1 + rng.below(3) {
        if rng.chance(2) {
            mutate_ip(rng, &mut f);
        } else {
            mutate_bytes(rng, &mut f);
        }
    }
    if rng.chance(2) {
        fix_ip_checksum(&mut f);
    }
    if rng.chance(2) {
        fix_l4_checksum(&mut f);
    }
    f
}

/// Byte-level mutations: bit flips, truncation, extension.
fn mutate_bytes(rng: &mut Rng, f: &mut Vec<u8>) {
    match rng.below(4) {
        0 | 1 => {
            for _ in 0..1 + rng.below(8) {
                if !f.is_empty() {
                    let i = rng.below(f.len());
                    f[i] ^= 1 << rng.below(8);
                }
            }
        }
        2 => {
            let i = rng.below(f.len() + 1);
            f.truncate(i);
        }
        _ => {
            let n = 1 + rng.below(64);
            f.extend((0..n).map(|_| rng.byte()));
        }
    }
}

/// IPv4 (and ARP) header field edits.
fn mutate_ip(rng: &mut Rng, f: &mut [u8]) {
    match rng.below(9) {
        0 => put16(f, 16, rng.next_u64() as u16), // total length
        1 => {
            let d = rng.below(41) as i32 - 20;
            let t = i32::from(get16(f, 16)) + d;
            put16(f, 16, t.clamp(0, 65535) as u16);
        }
        2 => {
            if let Some(b) = f.get_mut(14) {
                *b = (*b & 0xf0) | rng.below(16) as u8; // IHL
            }
        }
        3 => put16(f, 20, rng.next_u64() as u16), // flags + fragment offset
        4 => {
            let a = ADDRS[rng.below(ADDRS.len())].octets();
            let at = if rng.chance(2) { 26 } else { 30 };
            if let Some(b) = f.get_mut(at..at + 4) {
                b.copy_from_slice(&a);
            }
        }
        5 => {
            // ARP fields: hlen/plen, op, addresses.
            let at = [18, 19, 20, 21, 28, 38][rng.below(6)];
            if let Some(b) = f.get_mut(at) {
                *b = rng.byte();
            }
        }
        6 => {
            if let Some(b) = f.get_mut(14) {
                *b = (rng.below(16) as u8) << 4 | (*b & 0x0f); // version
            }
        }
        7 => {
            if let Some(b) = f.get_mut(22) {
                *b = [0, 1, 255][rng.below(3)]; // TTL
            }
        }
        _ => {
            let ty = [0x0800, 0x0806, 0x86dd, rng.next_u64() as u16][rng.below(4)];
            put16(f, 12, ty);
        }
    }
}
