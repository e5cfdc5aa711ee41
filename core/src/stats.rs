//! Counters per protocol: received, sent, and dropped by reason, in the
//! spirit of Zephyr's `net stats`. Read them with [`crate::Stack::stats`].

use core::fmt;

/// Ethernet-level counters (all interfaces together).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EthStats {
    /// Frames taken from drivers.
    pub rx: u64,
    /// Frames handed to drivers.
    pub tx: u64,
    /// Frames too short to hold an Ethernet header.
    pub drop_truncated: u64,
    /// Frames addressed to another station or to a multicast group.
    pub drop_not_for_us: u64,
    /// Frames of an EtherType we do not handle (IPv6, VLAN, ...).
    pub drop_ethertype: u64,
    /// Frames larger than `FRAME_SIZE` offered by a driver or the stack.
    pub drop_oversize: u64,
    /// Times a driver answered "busy" (the frame was kept and retried).
    pub tx_busy: u64,
}

/// ARP counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ArpStats {
    /// ARP packets received.
    pub rx: u64,
    /// Requests we sent (gratuitous announcements included).
    pub tx_requests: u64,
    /// Replies we sent.
    pub tx_replies: u64,
    /// Malformed or non-Ethernet/IPv4 ARP packets.
    pub drop_malformed: u64,
    /// Packets claiming one of our own addresses as sender (a conflict).
    pub drop_conflict: u64,
    /// Replies nobody asked for (they never create an entry).
    pub unsolicited_replies: u64,
    /// Frames dropped because their next hop never answered.
    pub drop_unresolved: u64,
    /// Frames dropped because the pending queue was full.
    pub drop_pending_full: u64,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Requests for our address left unanswered (and their sender not
    /// learned) because the reply limit for unknown requesters was spent.
    pub replies_rate_limited: u64,
}

/// IPv4 counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IpStats {
    /// Datagrams received (fragments counted one by one).
    pub rx: u64,
    /// Datagrams sent (each fragment counted).
    pub tx: u64,
    /// Truncated or malformed headers.
    pub drop_malformed: u64,
    /// Header checksum errors.
    pub drop_checksum: u64,
    /// Datagrams for another host, or from a martian source.
    pub drop_not_for_us: u64,
    /// Datagrams of a protocol we do not handle.
    pub drop_protocol: u64,
    /// Datagrams we could not route.
    pub drop_no_route: u64,
    /// Outgoing datagrams dropped for lack of frame slots.
    pub drop_no_buffer: u64,
    /// Fragments received.
    pub frags_rx: u64,
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// Partial datagrams discarded after the reassembly timeout.
    pub reasm_timeouts: u64,
    /// Fragments that overlap earlier ones with different data or bounds:
    /// the whole datagram is discarded (RFC 5722's rule, applied to IPv4).
    pub reasm_overlaps: u64,
    /// Exact duplicate fragments (ignored).
    pub reasm_duplicates: u64,
    /// Datagrams larger than a reassembly buffer or than 65535 bytes.
    pub reasm_oversize: u64,
    /// Partial datagrams evicted because every buffer was busy.
    pub reasm_evictions: u64,
    /// Datagrams we fragmented on output.
    pub fragmented: u64,
    /// Fragments we sent.
    pub frags_tx: u64,
}

/// ICMP counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IcmpStats {
    /// Messages received.
    pub rx: u64,
    /// Messages sent.
    pub tx: u64,
    /// Echo requests answered.
    pub echo_replies_sent: u64,
    /// Destination-unreachable messages received.
    pub unreachables_rx: u64,
    /// Destination-unreachable messages sent.
    pub unreachables_tx: u64,
    /// Path MTU updates from fragmentation-needed messages.
    pub pmtu_updates: u64,
    /// Malformed messages or bad checksums.
    pub drop_malformed: u64,
    /// Error messages not sent because of the rate limit.
    pub rate_limited: u64,
    /// Messages of types we ignore.
    pub drop_unsupported: u64,
}

/// UDP counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UdpStats {
    /// Datagrams received.
    pub rx: u64,
    /// Datagrams sent.
    pub tx: u64,
    /// Malformed headers.
    pub drop_malformed: u64,
    /// Checksum errors.
    pub drop_checksum: u64,
    /// Datagrams for a port nobody listens on.
    pub drop_no_socket: u64,
    /// Datagrams dropped because the socket's receive queue was full.
    pub drop_queue_full: u64,
}

/// TCP counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TcpStats {
    /// Segments received.
    pub rx: u64,
    /// Segments sent.
    pub tx: u64,
    /// Malformed segments.
    pub drop_malformed: u64,
    /// Checksum errors.
    pub drop_checksum: u64,
    /// Segments outside the receive window (answered with an ACK).
    pub drop_out_of_window: u64,
    /// Segments failing the PAWS test (RFC 7323 §5).
    pub drop_paws: u64,
    /// Segments for no connection (answered with RST).
    pub drop_no_socket: u64,
    /// Connections opened by `connect`.
    pub active_opens: u64,
    /// Connections accepted from a listener.
    pub passive_opens: u64,
    /// SYNs dropped because the SYN queue or the backlog was full (and
    /// SYN cookies were off, or the accept queue itself was full), and
    /// handshake ACKs dropped for want of a socket or accept-queue room.
    pub drop_syn_backlog: u64,
    /// SYN-ACKs sent with a SYN cookie instead of a queued request
    /// (RFC 4987 §3.6).
    pub syn_cookies_sent: u64,
    /// Connections made from the ACK of a SYN cookie.
    pub syn_cookies_accepted: u64,
    /// ACKs for a listener checked as SYN cookies and found invalid
    /// (answered with RST).
    pub syn_cookies_rejected: u64,
    /// Resets sent.
    pub resets_tx: u64,
    /// Resets received that closed a connection.
    pub resets_rx: u64,
    /// Challenge ACKs sent (RFC 5961).
    pub challenge_acks: u64,
    /// Challenge ACKs not sent because the per-connection or the
    /// system-wide limit was spent (RFC 5961 §7).
    pub challenge_rate_limited: u64,
    /// RSTs not sent, in answer to segments for no connection, because the
    /// RST limit was spent.
    pub rst_rate_limited: u64,
    /// SYN-ACKs not resent in answer to a duplicate SYN because one went
    /// out less than 500 ms before.
    pub synack_rate_limited: u64,
    /// Segments retransmitted (timeouts and fast retransmits).
    pub retransmits: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// Fast retransmits (entries into recovery).
    pub fast_retransmits: u64,
    /// Out-of-order segments queued.
    pub ooo_queued: u64,
    /// Out-of-order segments dropped (too many holes).
    pub ooo_dropped: u64,
    /// Connections that failed after running out of retries.
    pub timed_out: u64,
    /// Connections the application had closed (TIME-WAIT, or still
    /// closing and then reset) dropped to give their slot to a new socket
    /// when the table was full.
    pub reclaimed: u64,
}

/// DHCPv4 client counters (all interfaces together).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DhcpStats {
    /// Messages sent (DISCOVER, REQUEST, DECLINE, RELEASE).
    pub tx: u64,
    /// Messages received on port 68 while a client ran.
    pub rx: u64,
    /// Leases obtained (ACK after SELECTING or INIT-REBOOT).
    pub leases: u64,
    /// Leases extended (ACK while RENEWING or REBINDING).
    pub renewals: u64,
    /// NAKs that sent the client back to INIT.
    pub naks: u64,
    /// Offered addresses declined after an ARP probe found them in use.
    pub declines: u64,
    /// Leases that ran out.
    pub expiries: u64,
    /// Retransmissions.
    pub retransmits: u64,
    /// Dropped: unparseable (bad lengths, options past the end, ...).
    pub drop_malformed: u64,
    /// Dropped: well formed but not for us (other xid or hardware
    /// address, a message type unexpected in the state, a server other
    /// than the chosen one).
    pub drop_unexpected: u64,
    /// Dropped: an ACK or OFFER whose contents cannot be used (no address,
    /// a reserved address, no server identifier, a mask that leaves no
    /// host part).
    pub drop_bogus: u64,
}

/// DNS resolver counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DnsStats {
    /// Queries sent, retransmissions included.
    pub tx: u64,
    /// Retransmissions (to the same or the next server).
    pub retransmits: u64,
    /// Responses accepted.
    pub rx: u64,
    /// Answered from the cache.
    pub cache_hits: u64,
    /// Dropped: unparseable responses (bad lengths, compression loops,
    /// names past the end).
    pub drop_malformed: u64,
    /// Dropped: responses that do not match a query in flight (id,
    /// question, server address or port; RFC 5452 §4).
    pub drop_mismatch: u64,
    /// Queries that ended with NXDOMAIN.
    pub nxdomain: u64,
    /// Queries that ended with SERVFAIL or another error code.
    pub servfail: u64,
    /// Queries that timed out.
    pub timeouts: u64,
}

/// All counters of a stack.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Ethernet.
    pub eth: EthStats,
    /// ARP.
    pub arp: ArpStats,
    /// IPv4.
    pub ip: IpStats,
    /// ICMPv4.
    pub icmp: IcmpStats,
    /// UDP.
    pub udp: UdpStats,
    /// TCP.
    pub tcp: TcpStats,
    /// DHCPv4 client.
    pub dhcp: DhcpStats,
    /// DNS resolver.
    pub dns: DnsStats,
    /// Events dropped because the application did not read them in time.
    pub events_dropped: u64,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.eth;
        writeln!(
            f,
            "eth   rx {} tx {} | drop: truncated {} not-for-us {} ethertype {} oversize {} | tx busy {}",
            e.rx, e.tx, e.drop_truncated, e.drop_not_for_us, e.drop_ethertype, e.drop_oversize, e.tx_busy
        )?;
        let a = &self.arp;
        writeln!(
            f,
            "arp   rx {} tx req {} rep {} | drop: malformed {} conflict {} unresolved {} pending-full {} | unsolicited {} evictions {} | replies rate-limited {}",
            a.rx, a.tx_requests, a.tx_replies, a.drop_malformed, a.drop_conflict, a.drop_unresolved,
            a.drop_pending_full, a.unsolicited_replies, a.evictions, a.replies_rate_limited
        )?;
        let i = &self.ip;
        writeln!(
            f,
            "ipv4  rx {} tx {} | drop: malformed {} checksum {} not-for-us {} protocol {} no-route {} no-buffer {}",
            i.rx, i.tx, i.drop_malformed, i.drop_checksum, i.drop_not_for_us, i.drop_protocol, i.drop_no_route,
            i.drop_no_buffer
        )?;
        writeln!(
            f,
            "frag  rx {} reassembled {} | timeouts {} overlaps {} duplicates {} oversize {} evictions {} | fragmented {} frags tx {}",
            i.frags_rx, i.reassembled, i.reasm_timeouts, i.reasm_overlaps, i.reasm_duplicates, i.reasm_oversize,
            i.reasm_evictions, i.fragmented, i.frags_tx
        )?;
        let c = &self.icmp;
        writeln!(
            f,
            "icmp  rx {} tx {} | echo replies {} unreach rx {} tx {} pmtu {} | drop: malformed {} unsupported {} rate-limited {}",
            c.rx, c.tx, c.echo_replies_sent, c.unreachables_rx, c.unreachables_tx, c.pmtu_updates, c.drop_malformed,
            c.drop_unsupported, c.rate_limited
        )?;
        let u = &self.udp;
        writeln!(
            f,
            "udp   rx {} tx {} | drop: malformed {} checksum {} no-socket {} queue-full {}",
            u.rx, u.tx, u.drop_malformed, u.drop_checksum, u.drop_no_socket, u.drop_queue_full
        )?;
        let t = &self.tcp;
        write!(
            f,
            "tcp   rx {} tx {} | opens active {} passive {} | retransmits {} (timeouts {} fast {}) | resets rx {} tx {} challenge {} | rate-limited rst {} challenge {} syn-ack {} | ooo queued {} dropped {} | drop: malformed {} checksum {} window {} paws {} no-socket {} backlog {} | syn cookies sent {} accepted {} rejected {} | timed out {} reclaimed {}",
            t.rx, t.tx, t.active_opens, t.passive_opens, t.retransmits, t.timeouts, t.fast_retransmits, t.resets_rx,
            t.resets_tx, t.challenge_acks, t.rst_rate_limited, t.challenge_rate_limited, t.synack_rate_limited, t.ooo_queued, t.ooo_dropped, t.drop_malformed, t.drop_checksum,
            t.drop_out_of_window, t.drop_paws, t.drop_no_socket, t.drop_syn_backlog, t.syn_cookies_sent,
            t.syn_cookies_accepted, t.syn_cookies_rejected, t.timed_out,
            t.reclaimed
        )?;
        let d = &self.dhcp;
        writeln!(f)?;
        writeln!(
            f,
            "dhcp  rx {} tx {} | leases {} renewals {} naks {} declines {} expiries {} retransmits {} | drop: malformed {} unexpected {} bogus {}",
            d.rx, d.tx, d.leases, d.renewals, d.naks, d.declines, d.expiries, d.retransmits, d.drop_malformed,
            d.drop_unexpected, d.drop_bogus
        )?;
        let n = &self.dns;
        write!(
            f,
            "dns   rx {} tx {} | retransmits {} cache hits {} | nxdomain {} servfail {} timeouts {} | drop: malformed {} mismatch {} | events dropped {}",
            n.rx, n.tx, n.retransmits, n.cache_hits, n.nxdomain, n.servfail, n.timeouts, n.drop_malformed,
            n.drop_mismatch, self.events_dropped
        )
    }
}
