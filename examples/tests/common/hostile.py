# The Linux side of the hostile tests (examples/tests/hostile_*.rs): packets
# the kernel's own sockets and the usual tools cannot send, written to the
# TAP interface through an AF_PACKET socket. Run with the system
# interpreter (/usr/bin/python3, where Debian's python3-scapy lives) inside
# the test's network namespace:
#
#   hostile.py synflood IFACE LINUX_MAC STACK_MAC COUNT RATE
#   hostile.py inject   IFACE LINUX_MAC STACK_MAC PORT COUNT
#   hostile.py crafted  IFACE LINUX_MAC STACK_MAC
#   hostile.py land     IFACE LINUX_MAC STACK_MAC
#   hostile.py arp_spoof IFACE LINUX_MAC STACK_MAC BOGUS_MAC
#
# Every address is one of the documentation ranges: the stack is 192.0.2.2,
# Linux 192.0.2.1, spoofed sources come from 198.51.100.0/24 and
# 203.0.113.0/24 (and, for ARP, unused addresses of 192.0.2.0/24). Every
# loop is bounded by its count; the last line of output is a summary of
# `key=value` pairs.

import os
import random
import select
import socket
import struct
import sys
import time

STACK_IP = "192.0.2.2"
LINUX_IP = "192.0.2.1"
ECHO_PORT = 4242


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, flags_frag=0x4000, ttl=64, bad_sum=False):
    hdr = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags_frag, ttl, proto, 0,
        socket.inet_aton(src), socket.inet_aton(dst),
    )
    ck = checksum(hdr) ^ (0x5A5A if bad_sum else 0)
    return hdr[:10] + struct.pack("!H", ck) + hdr[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, window=65535, options=b"", payload=b"",
        bad_sum=False):
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, window, 0, 0) + options
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
        "!BBH", 0, 6, len(hdr) + len(payload))
    ck = checksum(pseudo + hdr + payload) ^ (0x5A5A if bad_sum else 0)
    return hdr[:16] + struct.pack("!H", ck) + hdr[18:] + payload


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def ether(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def open_sock(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    return s


def send_all(s, frames, rate=0):
    """Sends `frames`, at most `rate` a second (0: as fast as possible).
    A full queue (ENOBUFS) is retried after a short pause, at most 1000
    times in all."""
    sent = 0
    retries = 0
    t0 = time.monotonic()
    for i, f in enumerate(frames):
        while True:
            try:
                s.send(f)
                break
            except OSError:
                retries += 1
                if retries > 1000:
                    raise
                time.sleep(0.001)
        sent += 1
        if rate and i % 256 == 255:
            ahead = t0 + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return sent, time.monotonic() - t0


def spoofed_ip(rng):
    net = rng.choice(("198.51.100.", "203.0.113."))
    return net + str(rng.randint(1, 254))


# ---------------------------------------------------------------------
# SYN flood from spoofed sources.


def synflood(iface, linux_mac, stack_mac, count, rate):
    rng = random.Random(0x5F100D)
    src_mac, dst_mac = mac_bytes(linux_mac), mac_bytes(stack_mac)
    s = open_sock(iface)
    frames = []
    mss = b"\x02\x04\x05\xb4"
    for _ in range(count):
        src = spoofed_ip(rng)
        seg = tcp(src, STACK_IP, rng.randint(1024, 65535), ECHO_PORT,
                  rng.getrandbits(32), 0, SYN, options=mss)
        frames.append(ether(dst_mac, src_mac, 0x0800,
                            ipv4(src, STACK_IP, 6, seg, ident=rng.getrandbits(16))))
    print("flooding", flush=True)
    sent, secs = send_all(s, frames, rate)
    print("synflood sent=%d secs=%.2f" % (sent, secs), flush=True)


# ---------------------------------------------------------------------
# Blind injection into an established connection (RFC 5961).


def parse_tcp(frame):
    """(src, dst, sport, dport, seq, ack, flags, window, options, payload_len) of
    an Ethernet/IPv4/TCP frame, or None."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    t = 14 + ihl
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", frame[t:t + 16])
    doff = (off >> 4) * 4
    src = socket.inet_ntoa(frame[26:30])
    dst = socket.inet_ntoa(frame[30:34])
    return (src, dst, sport, dport, seq, ack, flags, win, frame[t + 20:t + doff],
            total - ihl - doff)


def inject(iface, linux_mac, stack_mac, port, count):
    rng = random.Random(0xB11D)
    s = open_sock(iface)
    # Learn the state of the connection from what crosses the TAP: Linux's
    # next sequence number (the stack's RCV.NXT) and the stack's SND.NXT.
    print("listening", flush=True)
    linux = stack = None
    # Until both directions were seen, then until 300 ms pass without a
    # segment of the connection (the test stops its exchanges once it reads
    # "learned"), at most 20 s in all.
    deadline = time.monotonic() + 20
    quiet_until = None
    while time.monotonic() < deadline:
        if quiet_until is not None and time.monotonic() >= quiet_until:
            break
        r, _, _ = select.select([s], [], [], 0.05)
        if not r:
            continue
        p = parse_tcp(s.recv(65535))
        if p is None:
            continue
        src, dst, sport, dport, seq, ack, flags, win, opts, plen = p
        if src == LINUX_IP and sport == port and dport == ECHO_PORT and plen > 0:
            linux = (seq + plen, ack, opts)
        elif src == STACK_IP and sport == ECHO_PORT and dport == port and plen > 0:
            stack = (seq + plen, win)
        else:
            continue
        if linux is not None and stack is not None:
            quiet_until = time.monotonic() + 0.3
    if linux is None or stack is None:
        print("inject error=no-traffic-seen", flush=True)
        sys.exit(1)
    rcv_nxt, _, opts = linux
    snd_nxt, window = stack
    # The window field unscaled: no larger than the stack's real window.
    window = max(window, 2)
    print("learned rcv_nxt=%d snd_nxt=%d window>=%d" % (rcv_nxt, snd_nxt, window), flush=True)
    # Keep the timestamp option (NOP NOP TS) of Linux's segment so that
    # PAWS does not discard the SYNs and data before the checks under test.
    ts = opts if len(opts) == 12 and opts[2] == 8 else b""
    src_mac, dst_mac = mac_bytes(linux_mac), mac_bytes(stack_mac)
    frames = []
    kinds = {"rst_in": 0, "rst_out": 0, "syn_in": 0, "syn_out": 0, "data_in_badack": 0,
             "data_out": 0}
    for i in range(count):
        in_window = rng.random() < 0.5
        # In window but never RCV.NXT itself (an exact RST is a legitimate
        # reset); out of window: more than 2^24 away.
        if in_window:
            seq = rcv_nxt + rng.randint(1, window - 1)
        else:
            seq = rcv_nxt + rng.randint(1 << 24, (1 << 32) - (1 << 24))
        kind = i % 3
        if kind == 0:
            seg = tcp(LINUX_IP, STACK_IP, port, ECHO_PORT, seq, 0, RST, window=0)
            kinds["rst_in" if in_window else "rst_out"] += 1
        elif kind == 1:
            seg = tcp(LINUX_IP, STACK_IP, port, ECHO_PORT, seq, 0, SYN, options=ts)
            kinds["syn_in" if in_window else "syn_out"] += 1
        else:
            payload = b"INJECTED" * rng.randint(1, 8)
            if in_window:
                # An ACK the stack never sent: far below SND.UNA - MAX.SND.WND
                # or above SND.NXT (RFC 5961 §5: discard, challenge ACK).
                ack = snd_nxt + rng.choice((-1, 1)) * rng.randint(1 << 22, 1 << 30)
                kinds["data_in_badack"] += 1
            else:
                ack = snd_nxt
                kinds["data_out"] += 1
            seg = tcp(LINUX_IP, STACK_IP, port, ECHO_PORT, seq, ack, PSH | ACK,
                      options=ts, payload=payload)
        frames.append(ether(dst_mac, src_mac, 0x0800,
                            ipv4(LINUX_IP, STACK_IP, 6, seg, ident=rng.getrandbits(16))))
    sent, secs = send_all(s, frames, 20000)
    print("inject sent=%d secs=%.2f ts=%d %s" % (
        sent, secs, len(ts) > 0,
        " ".join("%s=%d" % kv for kv in sorted(kinds.items()))), flush=True)


# ---------------------------------------------------------------------
# Crafted oddities, with scapy.


def crafted(iface, linux_mac, stack_mac):
    from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, fragment, sendp, conf
    conf.verb = 0
    rng = random.Random(0xC4AF7)
    eth = Ether(src=linux_mac, dst=stack_mac)
    counts = {}

    def send(name, pkts):
        sendp(pkts, iface=iface, verbose=0)
        counts[name] = counts.get(name, 0) + len(pkts)

    # A ping in tiny (8-byte) fragments: legitimate, the stack may answer.
    big = IP(src=LINUX_IP, dst=STACK_IP, id=0x7001) / ICMP(id=0x7001, seq=1) / Raw(b"t" * 200)
    send("tiny_fragments", [eth / f for f in fragment(big, fragsize=8)])

    # Overlapping fragments (the second rewrites the first's data), and a
    # teardrop pair (the second lies inside the first).
    for ident in range(0x7100, 0x7110):
        payload = bytes(ICMP(id=ident, seq=1) / Raw(b"o" * 64))
        send("overlapping_fragments", [
            eth / IP(src=LINUX_IP, dst=STACK_IP, proto=1, id=ident, flags="MF", frag=0) /
            Raw(payload[:48]),
            eth / IP(src=LINUX_IP, dst=STACK_IP, proto=1, id=ident, flags="MF", frag=3) /
            Raw(b"X" * 40),
            eth / IP(src=LINUX_IP, dst=STACK_IP, proto=1, id=ident, frag=5) /
            Raw(payload[40:]),
        ])
        send("teardrop", [
            eth / IP(src=LINUX_IP, dst=STACK_IP, proto=17, id=ident + 0x100, flags="MF",
                     frag=0) / Raw(b"\0" * 36),
            eth / IP(src=LINUX_IP, dst=STACK_IP, proto=17, id=ident + 0x100, frag=1) /
            Raw(b"\0" * 4),
        ])
    # Ping of death: the last fragment ends past 65535 bytes.
    send("ping_of_death", [
        eth / IP(src=LINUX_IP, dst=STACK_IP, proto=1, id=0x7200, flags="MF", frag=0) /
        Raw(bytes(ICMP(id=0x7200)) + b"d" * 1472),
        eth / IP(src=LINUX_IP, dst=STACK_IP, proto=1, id=0x7200, frag=8180) / Raw(b"d" * 200),
    ])
    # Fragment flood: first fragments of datagrams that never complete, from
    # spoofed sources, each with its own identification.
    send("fragment_flood", [
        eth / IP(src=spoofed_ip(rng), dst=STACK_IP, proto=17, id=rng.getrandbits(16),
                 flags="MF", frag=0) / Raw(b"f" * 64)
        for _ in range(2000)])

    # Bad checksums: IP header, TCP (a SYN to the echo port), UDP (a datagram
    # to the echo port): none may be answered.
    send("bad_ip_checksum", [eth / IP(src=LINUX_IP, dst=STACK_IP, chksum=0x1234) /
                             ICMP(id=0x7300, seq=i) for i in range(100)])
    send("bad_tcp_checksum", [eth / IP(src=LINUX_IP, dst=STACK_IP) /
                              TCP(sport=40000 + i, dport=ECHO_PORT, flags="S", chksum=0x1234)
                              for i in range(100)])
    send("bad_udp_checksum", [eth / IP(src=LINUX_IP, dst=STACK_IP) /
                              UDP(sport=40000 + i, dport=ECHO_PORT, chksum=0x1234) /
                              Raw(b"bad checksum") for i in range(100)])

    # TCP option bombs, on SYNs from Linux's address (Linux resets the
    # SYN-ACKs, so no half-open connection stays): a zero-length option,
    # MSS 0, window scale 15 and 255, truncated SACK blocks, SACK-permitted
    # with a length running past the header, an option list of only
    # unknown kinds, a data offset below 5 and one past the segment.
    bombs = [
        b"\x08\x00" + b"\x00" * 2,  # timestamp with length 0
        b"\x02\x04\x00\x00",  # MSS 0
        b"\x03\x03\x0f\x00",  # window scale 15
        b"\x03\x03\xff\x00",  # window scale 255
        b"\x05\x03\x00\x00",  # SACK of length 3
        b"\x05\x0a" + b"\x00" * 6,  # SACK running past the options
        b"\x04\x28\x00\x00",  # SACK-permitted of length 40
        b"\xfe\x01\xfd\x01",  # unknown kinds with length 1
        b"\x02\x04\x00\x01" + b"\x03\x03\x0e\x01\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00",
    ]
    pkts = []
    for i in range(600):
        opts = bombs[i % len(bombs)]
        seg = tcp(LINUX_IP, STACK_IP, 41000 + i, ECHO_PORT, rng.getrandbits(32), 0, SYN,
                  options=opts)
        pkts.append(eth / IP(src=LINUX_IP, dst=STACK_IP, proto=6) / Raw(seg))
    for i, off in enumerate((0, 1, 4, 15)):
        seg = bytearray(tcp(LINUX_IP, STACK_IP, 42000 + i, ECHO_PORT, 1, 0, SYN))
        seg[12] = off << 4
        pkts.append(eth / IP(src=LINUX_IP, dst=STACK_IP, proto=6) / Raw(bytes(seg)))
    send("tcp_option_bombs", pkts)

    # ARP: a flood of requests for addresses that are not the stack's, from
    # made-up neighbours (RFC 826 creates nothing for them), then requests
    # for the stack from 8 made-up neighbours (which may create entries).
    def rand_mac():
        return "02:bb:%02x:%02x:%02x:%02x" % tuple(rng.getrandbits(8) for _ in range(4))

    send("arp_flood_others", [
        Ether(src=m, dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=m, psrc="192.0.2.%d" % rng.randint(100, 250),
            pdst="192.0.2.%d" % rng.randint(3, 99))
        for m in (rand_mac() for _ in range(3000))])
    send("arp_requests_for_stack", [
        Ether(src=m, dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=m, psrc="192.0.2.%d" % (200 + i), pdst=STACK_IP)
        for i, m in enumerate(rand_mac() for _ in range(8))])
    print("crafted %s" % " ".join("%s=%d" % kv for kv in sorted(counts.items())), flush=True)


def land(iface, linux_mac, stack_mac):
    """LAND: SYNs whose source and destination are both the stack's address
    and echo port."""
    from scapy.all import IP, TCP, Ether, sendp
    rng = random.Random(0x1A4D)
    sendp([Ether(src=linux_mac, dst=stack_mac) / IP(src=STACK_IP, dst=STACK_IP) /
           TCP(sport=ECHO_PORT, dport=ECHO_PORT, flags="S", seq=rng.getrandbits(32))
           for _ in range(20)], iface=iface, verbose=0)
    print("land sent=20", flush=True)


def arp_spoof(iface, linux_mac, stack_mac, bogus_mac):
    """Unsolicited ARP replies claiming Linux's address for `bogus_mac`
    (ARP poisoning), then, a second later, a correct one from Linux."""
    from scapy.all import ARP, Ether, sendp
    lie = Ether(src=bogus_mac, dst=stack_mac) / ARP(
        op=2, hwsrc=bogus_mac, psrc=LINUX_IP, hwdst=stack_mac, pdst=STACK_IP)
    sendp([lie] * 5, iface=iface, verbose=0)
    time.sleep(1.0)
    truth = Ether(src=linux_mac, dst=stack_mac) / ARP(
        op=2, hwsrc=linux_mac, psrc=LINUX_IP, hwdst=stack_mac, pdst=STACK_IP)
    sendp([truth] * 3, iface=iface, verbose=0)
    print("arp_spoof lies=5 corrections=3", flush=True)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "synflood":
        synflood(args[0], args[1], args[2], int(args[3]), int(args[4]))
    elif cmd == "inject":
        inject(args[0], args[1], args[2], int(args[3]), int(args[4]))
    elif cmd == "crafted":
        crafted(args[0], args[1], args[2])
    elif cmd == "land":
        land(args[0], args[1], args[2])
    elif cmd == "arp_spoof":
        arp_spoof(args[0], args[1], args[2], args[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
