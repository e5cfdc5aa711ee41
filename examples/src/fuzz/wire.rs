//! Frame building for the fuzzer (raw bytes, so that malformed frames are as
//! easy to make as valid ones), checksum fix-ups, and the check of every
//! frame the stack transmits.

use wolfip_core::wire::checksum;
use wolfip_core::wire::{EthernetAddress, TcpPacket};
use wolfip_core::Ipv4Addr;

/// The stack's hardware address.
pub const OUR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
/// The peer's hardware address.
pub const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
/// A third station on the link.
pub const OTHER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x03]);
/// The stack's address (on 192.0.2.0/24).
pub const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// The peer the model plays.
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// A host on the link that never answers ARP.
pub const OTHER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
/// The subnet's broadcast address.
pub const SUBNET_BCAST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 255);

/// IP protocol numbers.
pub const ICMP: u8 = 1;
/// TCP's protocol number.
pub const TCP: u8 = 6;
/// UDP's protocol number.
pub const UDP: u8 = 17;

/// Writes a big-endian `u16` at `at` if it fits.
pub fn put16(f: &mut [u8], at: usize, v: u16) {
    if let Some(b) = f.get_mut(at..at + 2) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes a big-endian `u32` at `at` if it fits.
pub fn put32(f: &mut [u8], at: usize, v: u32) {
    if let Some(b) = f.get_mut(at..at + 4) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

/// Reads a big-endian `u16` at `at` (0 past the end).
pub fn get16(f: &[u8], at: usize) -> u16 {
    f.get(at..at + 2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
}

/// Reads a big-endian `u32` at `at` (0 past the end).
pub fn get32(f: &[u8], at: usize) -> u32 {
    f.get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// An Ethernet frame.
pub fn eth(dst: EthernetAddress, src: EthernetAddress, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An ARP packet in an Ethernet frame to `dst`.
pub fn arp(
    dst: EthernetAddress,
    op: u16,
    sha: EthernetAddress,
    spa: Ipv4Addr,
    tha: EthernetAddress,
    tpa: Ipv4Addr,
) -> Vec<u8> {
    let mut p = vec![0, 1, 8, 0, 6, 4];
    p.extend_from_slice(&op.to_be_bytes());
    p.extend_from_slice(&sha.0);
    p.extend_from_slice(&spa.octets());
    p.extend_from_slice(&tha.0);
    p.extend_from_slice(&tpa.octets());
    eth(dst, sha, 0x0806, &p)
}

/// An IPv4 header (IHL 5) with its checksum, followed by `payload`.
pub fn ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ident: u16,
    frag: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0];
    put16(&mut p, 2, (20 + payload.len()).min(65535) as u16);
    put16(&mut p, 4, ident);
    put16(&mut p, 6, frag);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let sum = checksum::sum(&p);
    put16(&mut p, 10, !sum);
    p.extend_from_slice(payload);
    p
}

/// An IPv4 datagram from the peer's MAC to ours.
pub fn ip_frame(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    eth(
        OUR_MAC,
        PEER_MAC,
        0x0800,
        &ipv4(src, dst, proto, 0x1234, 0, payload),
    )
}

/// An ICMP message with a correct checksum.
pub fn icmp(ty: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(data);
    let sum = checksum::sum(&m);
    put16(&mut m, 2, !sum);
    m
}

/// A UDP datagram with a correct checksum.
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = vec![0; 8];
    put16(&mut u, 0, sport);
    put16(&mut u, 2, dport);
    put16(&mut u, 4, (8 + data.len()) as u16);
    u.extend_from_slice(data);
    fill_udp_checksum(src, dst, &mut u);
    u
}

fn fill_udp_checksum(src: Ipv4Addr, dst: Ipv4Addr, u: &mut [u8]) {
    put16(u, 6, 0);
    let sum = checksum::combine(&[
        checksum::pseudo_header(src, dst, UDP, u.len() as u32),
        checksum::sum(u),
    ]);
    put16(
        u,
        6,
        match !sum {
            0 => 0xffff,
            c => c,
        },
    );
}

/// Sets the checksum of a TCP segment (header and payload in `seg`).
pub fn fill_tcp_checksum(src: Ipv4Addr, dst: Ipv4Addr, seg: &mut [u8]) {
    if seg.len() < 20 {
        return;
    }
    put16(seg, 16, 0);
    let sum = checksum::combine(&[
        checksum::pseudo_header(src, dst, TCP, seg.len() as u32),
        checksum::sum(seg),
    ]);
    put16(seg, 16, !sum);
}

/// Recomputes the IPv4 header checksum, if there is a header to fix.
pub fn fix_ip_checksum(f: &mut [u8]) {
    let ihl = usize::from(f.get(14).copied().unwrap_or(0) & 0x0f) * 4;
    if ihl < 20 || f.len() < 14 + ihl {
        return;
    }
    put16(f, 24, 0);
    let sum = checksum::sum(&f[14..14 + ihl]);
    put16(f, 24, !sum);
}

/// Recomputes the ICMP, UDP or TCP checksum of an unfragmented datagram
/// whose lengths are within the frame.
pub fn fix_l4_checksum(f: &mut [u8]) {
    let ihl = usize::from(f.get(14).copied().unwrap_or(0) & 0x0f) * 4;
    let total = usize::from(get16(f, 16));
    if ihl < 20 || total < ihl || f.len() < 14 + total {
        return;
    }
    let src = Ipv4Addr::new(f[26], f[27], f[28], f[29]);
    let dst = Ipv4Addr::new(f[30], f[31], f[32], f[33]);
    let proto = f[23];
    let l4 = &mut f[14 + ihl..14 + total];
    match proto {
        ICMP if l4.len() >= 8 => {
            put16(l4, 2, 0);
            let sum = checksum::sum(l4);
            put16(l4, 2, !sum);
        }
        UDP if l4.len() >= 8 => {
            let ulen = usize::from(get16(l4, 4));
            if (8..=l4.len()).contains(&ulen) {
                fill_udp_checksum(src, dst, &mut l4[..ulen]);
            }
        }
        TCP => fill_tcp_checksum(src, dst, l4),
        _ => {}
    }
}

/// The fragments of an IPv4 datagram (`chunk` bytes of payload each,
/// rounded down to a multiple of 8), as frames from the peer.
pub fn fragments(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ident: u16,
    payload: &[u8],
    chunk: usize,
) -> Vec<Vec<u8>> {
    let chunk = (chunk / 8).max(1) * 8;
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() || off == 0 {
        let end = (off + chunk).min(payload.len());
        let more = end < payload.len();
        let frag = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
        let ip = ipv4(src, dst, proto, ident, frag, &payload[off..end]);
        out.push(eth(OUR_MAC, PEER_MAC, 0x0800, &ip));
        off = end;
        if !more {
            break;
        }
    }
    out
}

/// A TCP segment the stack sent, as the peer model needs it.
#[derive(Debug, Clone)]
pub struct SentTcp {
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Our port.
    pub sport: u16,
    /// The peer's port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags byte (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32).
    pub flags: u8,
    /// Payload length.
    pub len: usize,
    /// Advertised window (unscaled).
    pub wnd: u16,
    /// Our timestamp value, if the option was there.
    pub tsval: Option<u32>,
    /// The IP header and the first 28 bytes of the segment, for ICMP
    /// errors quoting it.
    pub quote: Vec<u8>,
}

/// What a transmitted frame was, for the peer model.
#[derive(Debug, Clone)]
pub enum Sent {
    /// An ARP request for this address.
    ArpRequest(Ipv4Addr),
    /// A TCP segment.
    Tcp(SentTcp),
    /// Anything else (valid).
    Other,
}

/// Checks the invariants of a frame the stack transmits: a well-formed
/// Ethernet frame from us carrying ARP or IPv4 from our address, header
/// checksum right, ICMP/UDP/TCP checksums right, no martian destination.
/// Returns what it was, or what is wrong.
pub fn check_transmitted(frame: &[u8]) -> Result<Sent, String> {
    if frame.len() < 14 {
        return Err(format!("runt frame of {} bytes sent", frame.len()));
    }
    if frame.len() > 1514 {
        return Err(format!("oversize frame of {} bytes sent", frame.len()));
    }
    if frame[6..12] != OUR_MAC.0 {
        return Err("frame not from our MAC".into());
    }
    let p = &frame[14..];
    match get16(frame, 12) {
        0x0806 => {
            if p.len() != 28 || p[..6] != [0, 1, 8, 0, 6, 4] {
                return Err(format!("malformed ARP sent: {p:02x?}"));
            }
            if p[8..14] != OUR_MAC.0 || p[14..18] != OUR_IP.octets() {
                return Err("ARP not from our addresses".into());
            }
            let tpa = Ipv4Addr::new(p[24], p[25], p[26], p[27]);
            match get16(p, 6) {
                1 => Ok(Sent::ArpRequest(tpa)),
                2 => {
                    if frame[..6] != p[18..24] || p[18] & 1 != 0 {
                        return Err("ARP reply to a wrong or group address".into());
                    }
                    Ok(Sent::Other)
                }
                op => Err(format!("ARP operation {op} sent")),
            }
        }
        0x0800 => check_ipv4(frame, p),
        t => Err(format!("ethertype {t:#06x} sent")),
    }
}

fn check_ipv4(frame: &[u8], p: &[u8]) -> Result<Sent, String> {
    if frame[0] & 1 != 0 {
        return Err("IPv4 datagram to a group MAC".into());
    }
    if p.len() < 20 || p[0] >> 4 != 4 {
        return Err("malformed IPv4 header sent".into());
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let total = usize::from(get16(p, 2));
    if ihl < 20 || total < ihl || total != p.len() {
        return Err(format!(
            "IPv4 lengths: ihl {ihl} total {total} in {}",
            p.len()
        ));
    }
    if checksum::sum(&p[..ihl]) != 0xffff {
        return Err("bad IP header checksum sent".into());
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    if src != OUR_IP {
        return Err(format!("datagram from {src}"));
    }
    if dst.is_loopback()
        || dst.is_multicast()
        || dst.is_unspecified()
        || dst.is_broadcast()
        || dst == OUR_IP
        || dst == SUBNET_BCAST
        || dst.octets()[0] >= 240
    {
        return Err(format!("datagram sent to {dst}"));
    }
    let frag = get16(p, 6);
    if frag & 0x3fff != 0 {
        return Ok(Sent::Other); // a fragment: checked as a whole elsewhere
    }
    let l4 = &p[ihl..total];
    match p[9] {
        ICMP => {
            if l4.len() < 8 || checksum::sum(l4) != 0xffff {
                return Err("bad ICMP sent".into());
            }
            match l4[0] {
                0 | 3 => Ok(Sent::Other),
                t => Err(format!("ICMP type {t} sent")),
            }
        }
        UDP => {
            if l4.len() < 8 || usize::from(get16(l4, 4)) != l4.len() || get16(l4, 6) == 0 {
                return Err("malformed UDP sent".into());
            }
            let sum = checksum::combine(&[
                checksum::pseudo_header(src, dst, UDP, l4.len() as u32),
                checksum::sum(l4),
            ]);
            if sum != 0xffff {
                return Err("bad UDP checksum sent".into());
            }
            Ok(Sent::Other)
        }
        TCP => check_tcp(src, dst, p, l4),
        other => Err(format!("IP protocol {other} sent")),
    }
}

fn check_tcp(src: Ipv4Addr, dst: Ipv4Addr, ip: &[u8], l4: &[u8]) -> Result<Sent, String> {
    let seg = TcpPacket::new_checked(l4).map_err(|e| format!("malformed TCP sent: {e:?}"))?;
    if !seg.verify_checksum(src, dst) {
        return Err("bad TCP checksum sent".into());
    }
    let hl = usize::from(seg.header_len());
    let flags = l4[13];
    if flags & 0x06 == 0x06 || flags & 0x05 == 0x05 {
        return Err(format!("TCP flags {flags:#04x} sent"));
    }
    // Port 0 only in a RST answering a segment to or from port 0.
    if (seg.src_port() == 0 || seg.dst_port() == 0) && flags & 0x04 == 0 {
        return Err("TCP port 0 sent".into());
    }
    // Options must parse: kinds we emit are well-formed.
    let opts = &l4[20..hl];
    let mut tsval = None;
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => break,
            1 => i += 1,
            kind => {
                let len = usize::from(*opts.get(i + 1).ok_or("option cut")?);
                if len < 2 || i + len > opts.len() {
                    return Err(format!("malformed TCP option {kind} sent"));
                }
                if kind == 8 && len == 10 {
                    tsval = Some(get32(opts, i + 2));
                }
                i += len;
            }
        }
    }
    let ihl = ip.len() - l4.len();
    Ok(Sent::Tcp(SentTcp {
        dst,
        sport: seg.src_port(),
        dport: seg.dst_port(),
        seq: get32(l4, 4),
        ack: get32(l4, 8),
        flags,
        len: l4.len() - hl,
        wnd: seg.window_len(),
        tsval,
        quote: ip[..(ihl + 28).min(ip.len())].to_vec(),
    }))
}
