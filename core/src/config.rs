//! Every capacity of the stack, in one place.
//!
//! Values are fixed when the crate is compiled. Each one has a default and
//! can be overridden with an environment variable of the same name prefixed
//! by `WOLFIP_` at build time, the way Kconfig options size Zephyr's stack:
//!
//! ```text
//! WOLFIP_UDP_SOCKETS=16 WOLFIP_TX_FRAMES=32 cargo build --release
//! ```
//!
//! Combinations that cannot work are rejected at compile time (see the
//! `const` assertions at the bottom of this file). [`report`] describes the
//! configuration and the RAM each part of the stack takes;
//! `docs/configuration.md` maps Zephyr's options onto these.

use core::fmt;

/// Parses a decimal build-time override, or returns `default` (also used by
/// the other crates of the project for their own `WOLFIP_*` knobs).
/// A malformed value stops the build with a message naming the problem:
/// every caller in the project evaluates it in a `const` item, so its
/// panics (and the overflow check of `n += digit`) fire while compiling,
/// never in a running stack.
pub const fn env_or(value: Option<&str>, default: usize) -> usize {
    let s = match value {
        Some(s) => s.as_bytes(),
        None => return default,
    };
    if s.is_empty() {
        panic!("wolfip config: empty WOLFIP_* value");
    }
    let mut n: usize = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'_' {
            i += 1;
            continue;
        }
        if c < b'0' || c > b'9' {
            panic!("wolfip config: WOLFIP_* values must be decimal numbers");
        }
        n = match n.checked_mul(10) {
            Some(v) => v,
            None => panic!("wolfip config: WOLFIP_* value too large"),
        };
        n += (c - b'0') as usize;
        i += 1;
    }
    n
}

macro_rules! knob {
    ($(#[$doc:meta])* $name:ident, $env:literal, $default:expr) => {
        $(#[$doc])*
        #[doc = concat!("\n\nOverride at build time with `", $env, "`.")]
        pub const $name: usize = env_or(option_env!($env), $default);
    };
}

knob!(
    /// Ethernet interfaces the stack can own (the loopback interface comes on
    /// top). Zephyr: `NET_IF_MAX_IPV4_COUNT`.
    INTERFACES, "WOLFIP_INTERFACES", 2
);
knob!(
    /// Largest Ethernet frame, header included, FCS excluded: 1514 for a
    /// 1500-byte MTU.
    FRAME_SIZE, "WOLFIP_FRAME_SIZE", 1514
);
knob!(
    /// Frame slots between the stack and the drivers for outgoing traffic
    /// (frames waiting for ARP use some of them). Zephyr: `NET_PKT_TX_COUNT`.
    TX_FRAMES, "WOLFIP_TX_FRAMES", 16
);
knob!(
    /// Frame slots of the loopback interface.
    LOOPBACK_FRAMES, "WOLFIP_LOOPBACK_FRAMES", 8
);
knob!(
    /// Frames the stack takes from one device in one `poll` before it runs
    /// timers and transmits (keeps latency bounded under a flood).
    RX_BUDGET, "WOLFIP_RX_BUDGET", 64
);
knob!(
    /// Routes besides the connected ones derived from interface addresses.
    ROUTES, "WOLFIP_ROUTES", 8
);
knob!(
    /// ARP cache entries per interface.
    ARP_ENTRIES, "WOLFIP_ARP_ENTRIES", 16
);
knob!(
    /// Outgoing frames that may wait for an ARP answer at once (taken from
    /// the `TX_FRAMES` slots).
    ARP_PENDING, "WOLFIP_ARP_PENDING", 8
);
knob!(
    /// Seconds an ARP entry is trusted after its last confirmation.
    ARP_REACHABLE_SECS, "WOLFIP_ARP_REACHABLE_SECS", 60
);
knob!(
    /// Milliseconds between two ARP requests for the same address.
    ARP_RETRY_MS, "WOLFIP_ARP_RETRY_MS", 1000
);
knob!(
    /// ARP requests sent for an address before waiting frames are dropped.
    ARP_MAX_REQUESTS, "WOLFIP_ARP_MAX_REQUESTS", 3
);
knob!(
    /// Datagrams being reassembled at once. Zephyr:
    /// `NET_IPV4_FRAGMENT_MAX_COUNT`.
    REASM_BUFFERS, "WOLFIP_REASM_BUFFERS", 2
);
knob!(
    /// Largest IP payload one reassembly buffer holds (a multiple of 64).
    REASM_BUFFER_SIZE, "WOLFIP_REASM_BUFFER_SIZE", 8192
);
knob!(
    /// Milliseconds a partly reassembled datagram is kept (RFC 791 suggests
    /// 15 s as the initial timer). Zephyr: `NET_IPV4_FRAGMENT_TIMEOUT`.
    REASM_TIMEOUT_MS, "WOLFIP_REASM_TIMEOUT_MS", 15_000
);
knob!(
    /// Path-MTU cache entries (learned from ICMP fragmentation-needed).
    PMTU_ENTRIES, "WOLFIP_PMTU_ENTRIES", 4
);
knob!(
    /// The smallest path MTU an ICMP "fragmentation needed" can set. A
    /// smaller report sets this one and lets routers fragment our datagrams
    /// to that destination (Don't Fragment off), so a forged report cannot
    /// shrink TCP segments to a few bytes each (CVE-2019-11479). Linux:
    /// `net.ipv4.route.min_pmtu`, 552.
    PMTU_MIN, "WOLFIP_PMTU_MIN", 552
);
knob!(
    /// Default time to live of outgoing datagrams.
    IP_TTL, "WOLFIP_IP_TTL", 64
);
knob!(
    /// ICMP error messages the stack may send in a burst.
    ICMP_ERROR_BURST, "WOLFIP_ICMP_ERROR_BURST", 10
);
knob!(
    /// ICMP error messages the stack may send per second once the burst is
    /// spent (RFC 1812 §4.3.2.8 rate limiting).
    ICMP_ERRORS_PER_SEC, "WOLFIP_ICMP_ERRORS_PER_SEC", 10
);
knob!(
    /// RSTs the stack may send in a burst in answer to segments that belong
    /// to no connection (closed ports, stray ACKs to a listener or a
    /// handshake, bad ACKs in SYN-SENT or SYN-RECEIVED).
    TCP_RST_BURST, "WOLFIP_TCP_RST_BURST", 50
);
knob!(
    /// Such RSTs per second once the burst is spent. FreeBSD limits them
    /// with `net.inet.icmp.icmplim` (200 a second); Linux does not limit
    /// them.
    TCP_RST_PER_SEC, "WOLFIP_TCP_RST_PER_SEC", 200
);
knob!(
    /// Challenge ACKs (RFC 5961 §7) per second across all connections, on
    /// top of the limit of 10 per connection. Each second's quota is drawn
    /// at random between half and one and a half times this value (Linux's
    /// fix for CVE-2016-5696). Linux: `net.ipv4.tcp_challenge_ack_limit`.
    TCP_CHALLENGE_ACKS_PER_SEC, "WOLFIP_TCP_CHALLENGE_ACKS_PER_SEC", 100
);
knob!(
    /// ARP replies the stack may send in a burst to requesters it does not
    /// already know. A request from an address whose entry in the ARP cache
    /// is resolved to the same hardware address is always answered.
    ARP_REPLY_BURST, "WOLFIP_ARP_REPLY_BURST", 20
);
knob!(
    /// ARP replies per second to unknown requesters once the burst is spent.
    ARP_REPLIES_PER_SEC, "WOLFIP_ARP_REPLIES_PER_SEC", 20
);
knob!(
    /// UDP sockets. Zephyr: part of `NET_MAX_CONTEXTS`.
    UDP_SOCKETS, "WOLFIP_UDP_SOCKETS", 8
);
knob!(
    /// Bytes of received datagrams one UDP socket can hold.
    UDP_RX_BUFFER, "WOLFIP_UDP_RX_BUFFER", 4096
);
knob!(
    /// Received datagrams one UDP socket can hold.
    UDP_RX_DATAGRAMS, "WOLFIP_UDP_RX_DATAGRAMS", 8
);
knob!(
    /// Bytes of datagrams waiting to be sent one UDP socket can hold; also
    /// the largest datagram it can send.
    UDP_TX_BUFFER, "WOLFIP_UDP_TX_BUFFER", 4096
);
knob!(
    /// Datagrams waiting to be sent one UDP socket can hold.
    UDP_TX_DATAGRAMS, "WOLFIP_UDP_TX_DATAGRAMS", 8
);

knob!(
    /// TCP sockets (listening and connected together). Zephyr: part of
    /// `NET_MAX_CONTEXTS` / `NET_MAX_CONN`.
    TCP_SOCKETS, "WOLFIP_TCP_SOCKETS", 8
);
knob!(
    /// Receive buffer of one TCP socket, in bytes: in-order data waiting for
    /// the application plus out-of-order data kept with holes. Zephyr:
    /// `NET_TCP_MAX_RECV_WINDOW_SIZE`.
    TCP_RX_BUFFER, "WOLFIP_TCP_RX_BUFFER", 16384
);
knob!(
    /// Send buffer of one TCP socket, in bytes: unacknowledged plus unsent
    /// data. Zephyr: `NET_TCP_MAX_SEND_WINDOW_SIZE`.
    TCP_TX_BUFFER, "WOLFIP_TCP_TX_BUFFER", 16384
);
knob!(
    /// Out-of-order ranges (holes between them) one TCP socket keeps and
    /// reports with SACK. Zephyr keeps none (`NET_TCP_RECV_QUEUE_TIMEOUT`
    /// only queues hole-free data).
    TCP_OOO_RANGES, "WOLFIP_TCP_OOO_RANGES", 8
);
knob!(
    /// SACKed ranges the sender's scoreboard remembers per socket (RFC 6675).
    TCP_SACK_RANGES, "WOLFIP_TCP_SACK_RANGES", 8
);
knob!(
    /// Half-open connections (SYN received, SYN-ACK sent) all listeners
    /// together may hold: the SYN queue of the listen backlog.
    TCP_SYN_BACKLOG, "WOLFIP_TCP_SYN_BACKLOG", 16
);
knob!(
    /// SYN cookies (RFC 4987 §3.6): 1 answers a SYN that finds the SYN
    /// queue (or its listener's share of the backlog) full with a cookie
    /// SYN-ACK that keeps no state, as Linux's `tcp_syncookies=1`; 0 drops
    /// such SYNs. The default of a stack; `Stack::set_tcp_syn_cookies`
    /// changes it at run time.
    TCP_SYN_COOKIES, "WOLFIP_TCP_SYN_COOKIES", 1
);
knob!(
    /// Milliseconds a connection stays in TIME-WAIT; 0 disables it. Zephyr:
    /// `NET_TCP_TIME_WAIT_DELAY`.
    TCP_TIME_WAIT_MS, "WOLFIP_TCP_TIME_WAIT_MS", 2000
);
knob!(
    /// Initial retransmission timeout in milliseconds (RFC 6298 §2.1).
    /// Zephyr: `NET_TCP_INIT_RETRANSMISSION_TIMEOUT`.
    TCP_RTO_INITIAL_MS, "WOLFIP_TCP_RTO_INITIAL_MS", 1000
);
knob!(
    /// Smallest retransmission timeout in milliseconds.
    TCP_RTO_MIN_MS, "WOLFIP_TCP_RTO_MIN_MS", 200
);
knob!(
    /// Largest retransmission timeout in milliseconds (RFC 6298 §2.5).
    TCP_RTO_MAX_MS, "WOLFIP_TCP_RTO_MAX_MS", 60_000
);
knob!(
    /// Retransmissions of one segment before the connection fails with
    /// "timed out". Zephyr: `NET_TCP_RETRY_COUNT`.
    TCP_RETRIES, "WOLFIP_TCP_RETRIES", 9
);
knob!(
    /// Retransmissions of a SYN or SYN-ACK before giving up.
    TCP_SYN_RETRIES, "WOLFIP_TCP_SYN_RETRIES", 5
);
knob!(
    /// Delayed-ACK timer in milliseconds (RFC 9293 §3.8.6.3: under 500).
    TCP_DELAYED_ACK_MS, "WOLFIP_TCP_DELAYED_ACK_MS", 20
);
knob!(
    /// ARP probes the DHCP client sends for an offered address before
    /// using it (RFC 5227 §2.1.1; RFC 2131 §2.2 asks for a check); 0 skips
    /// the check. lwIP: `DHCP_DOES_ARP_CHECK`.
    DHCP_ARP_PROBES, "WOLFIP_DHCP_ARP_PROBES", 2
);
knob!(
    /// Time between the DHCP client's ARP probes, and after the last one
    /// before the address is taken (RFC 5227 uses 1-2 s; lwIP 500 ms).
    DHCP_PROBE_INTERVAL_MS, "WOLFIP_DHCP_PROBE_INTERVAL_MS", 500
);
knob!(
    /// Longest hostname the DHCP client sends (option 12).
    DHCP_HOSTNAME_LEN, "WOLFIP_DHCP_HOSTNAME_LEN", 32
);
knob!(
    /// DNS queries in flight at once. Zephyr: `DNS_NUM_CONCUR_QUERIES`.
    DNS_QUERIES, "WOLFIP_DNS_QUERIES", 4
);
knob!(
    /// DNS servers the resolver knows, set by hand and learned from DHCP
    /// together. Zephyr: `DNS_RESOLVER_MAX_SERVERS`.
    DNS_SERVERS, "WOLFIP_DNS_SERVERS", 4
);
knob!(
    /// Names the DNS cache holds. lwIP: `DNS_TABLE_SIZE`.
    DNS_CACHE_ENTRIES, "WOLFIP_DNS_CACHE_ENTRIES", 8
);
knob!(
    /// Addresses kept per resolved name (lwIP keeps one; Zephyr reports
    /// each address through its callback).
    DNS_MAX_ADDRESSES, "WOLFIP_DNS_MAX_ADDRESSES", 4
);
knob!(
    /// First DNS retransmission timeout; it doubles each round over the
    /// servers.
    DNS_TIMEOUT_MS, "WOLFIP_DNS_TIMEOUT_MS", 1000
);
knob!(
    /// Rounds over all DNS servers before a query times out (glibc's
    /// `attempts`, lwIP's `DNS_MAX_RETRIES`).
    DNS_ATTEMPTS, "WOLFIP_DNS_ATTEMPTS", 3
);
knob!(
    /// Events (DHCP lease changes, finished DNS queries) kept until the
    /// application reads them; the oldest is dropped and counted past it.
    EVENTS, "WOLFIP_EVENTS", 16
);

/// Interfaces including the loopback interface (index 0).
pub const ALL_INTERFACES: usize = INTERFACES + 1;

/// Smallest MTU IPv4 allows (RFC 791: every host must accept 68 octets).
pub const MIN_MTU: usize = 68;

// Compile-time checks: a configuration that cannot work does not build.
const _: () = assert!(
    INTERFACES >= 1 && INTERFACES <= 32,
    "WOLFIP_INTERFACES must be 1..=32"
);
const _: () = assert!(
    PMTU_MIN >= MIN_MTU && PMTU_MIN <= 65535,
    "WOLFIP_PMTU_MIN must be 68..=65535"
);
const _: () = assert!(
    FRAME_SIZE >= 14 + MIN_MTU && FRAME_SIZE <= 9018,
    "WOLFIP_FRAME_SIZE must be 82..=9018"
);
const _: () = assert!(
    TX_FRAMES >= 2 && TX_FRAMES <= 4096,
    "WOLFIP_TX_FRAMES must be 2..=4096"
);
const _: () = assert!(
    ARP_PENDING >= 1 && ARP_PENDING < TX_FRAMES,
    "WOLFIP_ARP_PENDING must be at least 1 and below WOLFIP_TX_FRAMES"
);
const _: () = assert!(
    LOOPBACK_FRAMES >= 1,
    "WOLFIP_LOOPBACK_FRAMES must be at least 1"
);
const _: () = assert!(RX_BUDGET >= 1, "WOLFIP_RX_BUDGET must be at least 1");
const _: () = assert!(
    ARP_ENTRIES >= 1 && ARP_ENTRIES <= 1024,
    "WOLFIP_ARP_ENTRIES must be 1..=1024"
);
const _: () = assert!(
    ARP_MAX_REQUESTS >= 1,
    "WOLFIP_ARP_MAX_REQUESTS must be at least 1"
);
const _: () = assert!(
    REASM_BUFFER_SIZE % 64 == 0 && REASM_BUFFER_SIZE >= 1024 && REASM_BUFFER_SIZE <= 65536,
    "WOLFIP_REASM_BUFFER_SIZE must be a multiple of 64 in 1024..=65536"
);
const _: () = assert!(UDP_SOCKETS <= 255, "WOLFIP_UDP_SOCKETS must be at most 255");
const _: () = assert!(
    UDP_RX_DATAGRAMS >= 1 && UDP_TX_DATAGRAMS >= 1,
    "UDP queues need at least one datagram"
);
const _: () = assert!(
    UDP_TX_BUFFER <= 65507 && UDP_RX_BUFFER <= 65536,
    "UDP buffers above the largest datagram are wasted"
);
const _: () = assert!(
    IP_TTL >= 1 && IP_TTL <= 255,
    "WOLFIP_IP_TTL must be 1..=255"
);
const _: () = assert!(
    ICMP_ERROR_BURST >= 1 && ICMP_ERROR_BURST <= 1_000_000,
    "WOLFIP_ICMP_ERROR_BURST must be 1..=1000000"
);
const _: () = assert!(
    ICMP_ERRORS_PER_SEC <= 1_000_000,
    "WOLFIP_ICMP_ERRORS_PER_SEC must be at most 1000000"
);
const _: () = assert!(
    TCP_RST_BURST >= 1 && TCP_RST_BURST <= 1_000_000 && TCP_RST_PER_SEC <= 1_000_000,
    "WOLFIP_TCP_RST_BURST must be 1..=1000000 and WOLFIP_TCP_RST_PER_SEC at most 1000000"
);
const _: () = assert!(
    TCP_CHALLENGE_ACKS_PER_SEC >= 1 && TCP_CHALLENGE_ACKS_PER_SEC <= 1_000_000,
    "WOLFIP_TCP_CHALLENGE_ACKS_PER_SEC must be 1..=1000000"
);
const _: () = assert!(
    ARP_REPLY_BURST >= 1 && ARP_REPLY_BURST <= 1_000_000 && ARP_REPLIES_PER_SEC <= 1_000_000,
    "WOLFIP_ARP_REPLY_BURST must be 1..=1000000 and WOLFIP_ARP_REPLIES_PER_SEC at most 1000000"
);

const _: () = assert!(
    TCP_SOCKETS <= 4096,
    "WOLFIP_TCP_SOCKETS must be at most 4096"
);
const _: () = assert!(
    TCP_RX_BUFFER >= 536 && TCP_RX_BUFFER < (1 << 30),
    "WOLFIP_TCP_RX_BUFFER must be 536..2^30"
);
const _: () = assert!(
    TCP_TX_BUFFER >= 536 && TCP_TX_BUFFER < (1 << 30),
    "WOLFIP_TCP_TX_BUFFER must be 536..2^30"
);
const _: () = assert!(
    TCP_OOO_RANGES >= 1 && TCP_OOO_RANGES <= 64,
    "WOLFIP_TCP_OOO_RANGES must be 1..=64"
);
const _: () = assert!(
    TCP_SACK_RANGES >= 1 && TCP_SACK_RANGES <= 64,
    "WOLFIP_TCP_SACK_RANGES must be 1..=64"
);
const _: () = assert!(
    TCP_SYN_BACKLOG <= 4096,
    "WOLFIP_TCP_SYN_BACKLOG must be at most 4096"
);
const _: () = assert!(
    TCP_SYN_COOKIES <= 1,
    "WOLFIP_TCP_SYN_COOKIES must be 0 or 1"
);
const _: () = assert!(
    TCP_RTO_MIN_MS >= 1
        && TCP_RTO_MIN_MS <= TCP_RTO_INITIAL_MS
        && TCP_RTO_INITIAL_MS <= TCP_RTO_MAX_MS,
    "need 1 <= WOLFIP_TCP_RTO_MIN_MS <= WOLFIP_TCP_RTO_INITIAL_MS <= WOLFIP_TCP_RTO_MAX_MS"
);
const _: () = assert!(
    TCP_RETRIES >= 1 && TCP_RETRIES <= 30 && TCP_SYN_RETRIES >= 1 && TCP_SYN_RETRIES <= 30,
    "WOLFIP_TCP_RETRIES and WOLFIP_TCP_SYN_RETRIES must be 1..=30"
);
const _: () = assert!(
    TCP_DELAYED_ACK_MS < 500,
    "RFC 9293 3.8.6.3: WOLFIP_TCP_DELAYED_ACK_MS must stay under 500"
);
const _: () = assert!(
    DNS_QUERIES >= 1 && DNS_QUERIES <= 255,
    "WOLFIP_DNS_QUERIES must be 1..=255"
);
const _: () = assert!(
    DNS_SERVERS >= 1 && DNS_ATTEMPTS >= 1 && DNS_MAX_ADDRESSES >= 1 && DNS_TIMEOUT_MS >= 1,
    "WOLFIP_DNS_SERVERS, WOLFIP_DNS_ATTEMPTS, WOLFIP_DNS_MAX_ADDRESSES and WOLFIP_DNS_TIMEOUT_MS must be at least 1"
);
const _: () = assert!(
    DNS_ATTEMPTS <= 8,
    "WOLFIP_DNS_ATTEMPTS must be at most 8 (the timeout doubles each round)"
);
const _: () = assert!(
    DHCP_HOSTNAME_LEN >= 1 && DHCP_HOSTNAME_LEN <= 255,
    "WOLFIP_DHCP_HOSTNAME_LEN must be 1..=255 (option 12)"
);

/// A description of the build-time configuration and the RAM it costs.
///
/// `Display` prints one line per capacity followed by the memory of each part
/// of a [`crate::Stack`], in the spirit of Zephyr's `net mem` and `net stats`.
#[derive(Debug, Clone, Copy)]
pub struct ConfigReport {
    /// `size_of::<Stack>()`: everything the stack owns, buffers included.
    pub stack_bytes: usize,
    /// Outgoing frame slots.
    pub tx_frames_bytes: usize,
    /// Loopback frame slots.
    pub loopback_bytes: usize,
    /// Reassembly buffers.
    pub reassembly_bytes: usize,
    /// All interfaces with their ARP caches.
    pub interfaces_bytes: usize,
    /// Routing table.
    pub routes_bytes: usize,
    /// All UDP sockets with their queues.
    pub udp_bytes: usize,
    /// One UDP socket without its queues.
    pub udp_socket_overhead: usize,
    /// All TCP sockets with their buffers, the SYN queue and the
    /// demultiplexing table.
    pub tcp_bytes: usize,
    /// One TCP connection's state without its buffers.
    pub tcp_socket_overhead: usize,
    /// The DHCP clients of all interfaces.
    pub dhcp_bytes: usize,
    /// The DNS resolver: queries in flight, servers, cache.
    pub dns_bytes: usize,
}

/// Describes the configuration this crate was built with.
pub fn report() -> ConfigReport {
    crate::stack::memory_report()
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wolfip configuration")?;
        let knobs: [(&str, usize); 53] = [
            ("INTERFACES", INTERFACES),
            ("FRAME_SIZE", FRAME_SIZE),
            ("TX_FRAMES", TX_FRAMES),
            ("LOOPBACK_FRAMES", LOOPBACK_FRAMES),
            ("RX_BUDGET", RX_BUDGET),
            ("ROUTES", ROUTES),
            ("ARP_ENTRIES", ARP_ENTRIES),
            ("ARP_PENDING", ARP_PENDING),
            ("ARP_REACHABLE_SECS", ARP_REACHABLE_SECS),
            ("ARP_RETRY_MS", ARP_RETRY_MS),
            ("ARP_MAX_REQUESTS", ARP_MAX_REQUESTS),
            ("REASM_BUFFERS", REASM_BUFFERS),
            ("REASM_BUFFER_SIZE", REASM_BUFFER_SIZE),
            ("REASM_TIMEOUT_MS", REASM_TIMEOUT_MS),
            ("PMTU_ENTRIES", PMTU_ENTRIES),
            ("PMTU_MIN", PMTU_MIN),
            ("IP_TTL", IP_TTL),
            ("ICMP_ERROR_BURST", ICMP_ERROR_BURST),
            ("ICMP_ERRORS_PER_SEC", ICMP_ERRORS_PER_SEC),
            ("TCP_RST_BURST", TCP_RST_BURST),
            ("TCP_RST_PER_SEC", TCP_RST_PER_SEC),
            ("TCP_CHALLENGE_ACKS_PER_SEC", TCP_CHALLENGE_ACKS_PER_SEC),
            ("ARP_REPLY_BURST", ARP_REPLY_BURST),
            ("ARP_REPLIES_PER_SEC", ARP_REPLIES_PER_SEC),
            ("UDP_SOCKETS", UDP_SOCKETS),
            ("UDP_RX_BUFFER", UDP_RX_BUFFER),
            ("UDP_RX_DATAGRAMS", UDP_RX_DATAGRAMS),
            ("UDP_TX_BUFFER", UDP_TX_BUFFER),
            ("UDP_TX_DATAGRAMS", UDP_TX_DATAGRAMS),
            ("TCP_SOCKETS", TCP_SOCKETS),
            ("TCP_RX_BUFFER", TCP_RX_BUFFER),
            ("TCP_TX_BUFFER", TCP_TX_BUFFER),
            ("TCP_OOO_RANGES", TCP_OOO_RANGES),
            ("TCP_SACK_RANGES", TCP_SACK_RANGES),
            ("TCP_SYN_BACKLOG", TCP_SYN_BACKLOG),
            ("TCP_SYN_COOKIES", TCP_SYN_COOKIES),
            ("TCP_TIME_WAIT_MS", TCP_TIME_WAIT_MS),
            ("TCP_RTO_INITIAL_MS", TCP_RTO_INITIAL_MS),
            ("TCP_RTO_MIN_MS", TCP_RTO_MIN_MS),
            ("TCP_RTO_MAX_MS", TCP_RTO_MAX_MS),
            ("TCP_RETRIES", TCP_RETRIES),
            ("TCP_SYN_RETRIES", TCP_SYN_RETRIES),
            ("TCP_DELAYED_ACK_MS", TCP_DELAYED_ACK_MS),
            ("DHCP_ARP_PROBES", DHCP_ARP_PROBES),
            ("DHCP_PROBE_INTERVAL_MS", DHCP_PROBE_INTERVAL_MS),
            ("DHCP_HOSTNAME_LEN", DHCP_HOSTNAME_LEN),
            ("DNS_QUERIES", DNS_QUERIES),
            ("DNS_SERVERS", DNS_SERVERS),
            ("DNS_CACHE_ENTRIES", DNS_CACHE_ENTRIES),
            ("DNS_MAX_ADDRESSES", DNS_MAX_ADDRESSES),
            ("DNS_TIMEOUT_MS", DNS_TIMEOUT_MS),
            ("DNS_ATTEMPTS", DNS_ATTEMPTS),
            ("EVENTS", EVENTS),
        ];
        for (name, value) in knobs {
            writeln!(f, "  WOLFIP_{name:<22} {value}")?;
        }
        writeln!(f, "RAM")?;
        writeln!(f, "  tx frame slots          {:>8} B", self.tx_frames_bytes)?;
        writeln!(f, "  loopback frame slots    {:>8} B", self.loopback_bytes)?;
        writeln!(
            f,
            "  reassembly buffers      {:>8} B",
            self.reassembly_bytes
        )?;
        writeln!(
            f,
            "  interfaces + ARP caches {:>8} B",
            self.interfaces_bytes
        )?;
        writeln!(f, "  routing table           {:>8} B", self.routes_bytes)?;
        writeln!(f, "  UDP sockets + queues    {:>8} B", self.udp_bytes)?;
        writeln!(
            f,
            "  (one UDP socket without queues: {} B)",
            self.udp_socket_overhead
        )?;
        writeln!(f, "  TCP sockets + buffers   {:>8} B", self.tcp_bytes)?;
        writeln!(
            f,
            "  (one TCP connection without buffers: {} B)",
            self.tcp_socket_overhead
        )?;
        writeln!(f, "  DHCP clients            {:>8} B", self.dhcp_bytes)?;
        writeln!(f, "  DNS resolver + cache    {:>8} B", self.dns_bytes)?;
        write!(f, "  whole stack             {:>8} B", self.stack_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::env_or;

    #[test]
    fn env_parsing() {
        assert_eq!(env_or(None, 7), 7);
        assert_eq!(env_or(Some("12"), 7), 12);
        assert_eq!(env_or(Some("65_536"), 7), 65536);
    }

    #[test]
    #[should_panic]
    fn env_rejects_garbage() {
        env_or(Some("12k"), 7);
    }
}
