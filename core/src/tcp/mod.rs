//! TCP (RFC 9293) with window scaling and timestamps (RFC 7323), SACK
//! (RFC 2018, RFC 6675), NewReno (RFC 6582) and CUBIC (RFC 9438)
//! congestion control, RFC 6298 retransmission timers, RFC 5961 blind-attack
//! defences and RFC 6528 initial sequence numbers, all in fixed storage.
//!
//! Where to look:
//!
//! | file | holds |
//! |---|---|
//! | `api.rs` | the calls on [`crate::Stack`]: open, accept, connect, disconnect, send, recv, shutdown, close, options |
//! | `bind.rs` | bind and listen: address conflicts and `SO_REUSEADDR`, reclaiming slots when the table is full |
//! | `tcb.rs` | the per-connection state |
//! | `input.rs` | segment arrival: state machine, acceptability, RST/SYN rules |
//! | `ack.rs` | acknowledgements: RTT, congestion, fast retransmit, SACK recovery |
//! | `recv.rs` | arriving data and FIN, out-of-order queue, ACK policy |
//! | `output.rs` | what to send next: data, FIN, ACKs, probes; Nagle, SWS |
//! | `emit.rs` | building a segment and handing it to IP |
//! | `timers.rs` | retransmission, persist, keepalive, delayed ACK, TIME-WAIT |
//! | `listen.rs` | the listen backlog: SYN queue and accept queue |
//! | `cookie.rs` | SYN cookies (RFC 4987 §3.6) when the SYN queue is full |
//! | `demux.rs` | constant-time 4-tuple lookup |
//! | `congestion/` | NewReno and CUBIC |
//! | `sack.rs` | the sender's SACK scoreboard |
//! | `assembler.rs`, `buffer.rs` | out-of-order ranges, byte rings |
//! | `rtt.rs`, `isn.rs` | RTO estimator, ISNs and ephemeral ports |

pub mod ack;
pub mod api;
pub mod assembler;
pub mod bind;
pub mod buffer;
pub mod congestion;
pub mod cookie;
pub mod demux;
pub mod emit;
pub mod input;
pub mod isn;
pub mod listen;
pub mod output;
pub mod recv;
pub mod rtt;
pub mod sack;
pub(crate) mod slots;
pub mod tcb;
pub mod timers;

use crate::addr::SocketAddrV4;
use crate::config::{TCP_RX_BUFFER, TCP_SYN_BACKLOG, TCP_TX_BUFFER};
use crate::time::Duration;
use buffer::RingBuffer;
use congestion::Algorithm;
use demux::{Demux, Key, Owner};
use isn::PortAllocator;
use listen::SynRequest;
use tcb::Tcb;

pub use congestion::Algorithm as CongestionAlgorithm;

/// Connection states (RFC 9293 §3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// No connection.
    Closed,
    /// Waiting for connection requests.
    Listen,
    /// Our SYN is out.
    SynSent,
    /// SYN received and answered.
    SynReceived,
    /// Open both ways.
    Established,
    /// We sent FIN, not yet acknowledged.
    FinWait1,
    /// Our FIN is acknowledged; the peer may still send.
    FinWait2,
    /// The peer sent FIN; we may still send.
    CloseWait,
    /// Both sent FIN at once; ours not yet acknowledged.
    Closing,
    /// The peer closed first, our FIN is out.
    LastAck,
    /// Both closed; waiting for stray segments to die.
    TimeWait,
}

/// Why a connection failed; reported once, like `SO_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpError {
    /// The peer answered our SYN with RST (ECONNREFUSED).
    Refused,
    /// The peer reset an open connection (ECONNRESET).
    Reset,
    /// Retransmissions ran out, or the user timeout expired (ETIMEDOUT).
    TimedOut,
    /// We sent to a peer that had already closed, and it reset (EPIPE).
    BrokenPipe,
}

/// Keepalive settings (RFC 9293 §3.8.4; Linux's TCP_KEEPIDLE,
/// TCP_KEEPINTVL, TCP_KEEPCNT).
///
/// The times are taken in whole seconds, rounded up, from 1 s to
/// [`Keepalive::MAX_SECS`] (32767 s, Linux's `MAX_TCP_KEEPIDLE` and
/// `MAX_TCP_KEEPINTVL`): longer ones are clamped. The socket layer refuses
/// values Linux refuses (EINVAL) before they get here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe.
    pub idle: Duration,
    /// Time between probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped.
    pub count: u8,
}

impl Keepalive {
    /// The longest idle time and interval, in seconds: Linux's
    /// `MAX_TCP_KEEPIDLE` and `MAX_TCP_KEEPINTVL`.
    pub const MAX_SECS: u16 = 32767;
}

impl Default for Keepalive {
    /// Linux's defaults: 2 hours, 75 s, 9 probes.
    fn default() -> Self {
        Keepalive {
            idle: Duration::from_secs(7200),
            interval: Duration::from_secs(75),
            count: 9,
        }
    }
}

/// Keepalive settings as a connection stores them: whole seconds within
/// `1..=`[`Keepalive::MAX_SECS`], as Linux's socket options take them
/// (6 bytes instead of 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct KeepaliveCfg {
    idle_s: u16,
    interval_s: u16,
    /// Probes before giving up; 0 means keepalive is off.
    count: u8,
}

impl KeepaliveCfg {
    pub const OFF: KeepaliveCfg = KeepaliveCfg {
        idle_s: 0,
        interval_s: 0,
        count: 0,
    };

    /// `d` in whole seconds, rounded up, within `1..=MAX_SECS`.
    fn secs(d: Duration) -> u16 {
        let s = d
            .total_micros()
            .div_ceil(1_000_000)
            .clamp(1, u64::from(Keepalive::MAX_SECS));
        u16::try_from(s).unwrap_or(Keepalive::MAX_SECS)
    }

    /// From the public form; `None` or a count of 0 turns keepalive off.
    pub fn new(ka: Option<Keepalive>) -> Self {
        match ka {
            Some(k) if k.count > 0 => KeepaliveCfg {
                idle_s: Self::secs(k.idle),
                interval_s: Self::secs(k.interval),
                count: k.count,
            },
            _ => Self::OFF,
        }
    }

    /// Back to the public form.
    pub fn get(self) -> Option<Keepalive> {
        (self.count > 0).then(|| Keepalive {
            idle: Duration::from_secs(u64::from(self.idle_s)),
            interval: Duration::from_secs(u64::from(self.interval_s)),
            count: self.count,
        })
    }
}

impl TcpSocket {
    /// The user timeout, if set.
    pub fn user_timeout(&self) -> Option<Duration> {
        (self.user_timeout_ms > 0).then(|| Duration::from_millis(u64::from(self.user_timeout_ms)))
    }
}

/// Names a TCP socket; stale handles are detected by a generation count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpHandle {
    index: u16,
    generation: u16,
}

impl TcpHandle {
    /// The slot number, for tables indexed by socket.
    pub fn index(self) -> usize {
        usize::from(self.index)
    }
}

/// A socket slot: the user's view (binding, listen state) plus, once
/// connecting or connected, its [`Tcb`] and buffers.
pub(crate) struct TcpSocket {
    pub generation: u16,
    pub in_use: bool,
    /// The user closed the handle; the stack finishes the connection.
    pub orphaned: bool,
    pub bound: Option<SocketAddrV4>,
    /// Listening with this backlog.
    pub backlog: Option<u16>,
    /// Established by a listener and waiting in its accept queue.
    pub accept_of: Option<u16>,
    pub accept_seq: u32,
    pub algo: Algorithm,
    pub nodelay: bool,
    pub keepalive: KeepaliveCfg,
    /// `TCP_USER_TIMEOUT` in milliseconds, 0 for none.
    pub user_timeout_ms: u32,
    /// The error of a connection that is gone, until read.
    pub error: Option<TcpError>,
    /// `SO_REUSEADDR`.
    pub reuse_addr: bool,
    /// The application bound a specific address (Linux's
    /// `SOCK_BINDADDR_LOCK`): a disconnect keeps it.
    pub addr_locked: bool,
    /// The application bound a port other than 0 (`SOCK_BINDPORT_LOCK`):
    /// a disconnect keeps it.
    pub port_locked: bool,
    pub tcb: Option<Tcb>,
    pub rx: RingBuffer<TCP_RX_BUFFER>,
    pub tx: RingBuffer<TCP_TX_BUFFER>,
}

impl TcpSocket {
    pub const EMPTY: TcpSocket = TcpSocket {
        generation: 0,
        in_use: false,
        orphaned: false,
        bound: None,
        backlog: None,
        accept_of: None,
        accept_seq: 0,
        algo: Algorithm::Cubic,
        nodelay: false,
        keepalive: KeepaliveCfg::OFF,
        user_timeout_ms: 0,
        error: None,
        reuse_addr: false,
        addr_locked: false,
        port_locked: false,
        tcb: None,
        rx: RingBuffer::new(),
        tx: RingBuffer::new(),
    };

    /// Back to [`TcpSocket::EMPTY`] with `generation` and `in_use`, without
    /// writing the payload buffers (assigning `EMPTY` would rewrite both:
    /// twice the buffer size of memory traffic for every connection opened
    /// and closed, 1 MiB with 256 KiB buffers). Their bookkeeping is
    /// emptied and their limits restored; bytes left in the storage are
    /// never readable, only queued bytes are. Every field is named, so a
    /// new one cannot be forgotten here.
    pub fn reset(&mut self, generation: u16, in_use: bool) {
        let TcpSocket {
            generation: g,
            in_use: u,
            orphaned,
            bound,
            backlog,
            accept_of,
            accept_seq,
            algo,
            nodelay,
            keepalive,
            user_timeout_ms,
            error,
            reuse_addr,
            addr_locked,
            port_locked,
            tcb,
            rx,
            tx,
        } = self;
        // The values of `EMPTY` (a test checks they stay equal); no copy of
        // `EMPTY` itself, which would be a buffer-sized temporary.
        *g = generation;
        *u = in_use;
        *orphaned = false;
        *bound = None;
        *backlog = None;
        *accept_of = None;
        *accept_seq = 0;
        *algo = Algorithm::Cubic;
        *nodelay = false;
        *keepalive = KeepaliveCfg::OFF;
        *user_timeout_ms = 0;
        *error = None;
        *reuse_addr = false;
        *addr_locked = false;
        *port_locked = false;
        *tcb = None;
        rx.clear();
        rx.set_limit(TCP_RX_BUFFER);
        tx.clear();
        tx.set_limit(TCP_TX_BUFFER);
    }

    /// The state, `Closed` without a TCB, `Listen` when listening.
    pub fn state(&self) -> TcpState {
        match (&self.tcb, self.backlog) {
            (Some(t), _) => t.state,
            (None, Some(_)) => TcpState::Listen,
            (None, None) => TcpState::Closed,
        }
    }
}

/// All TCP state of a stack.
pub(crate) struct TcpSockets {
    pub sockets: slots::Slots,
    pub syn_queue: [Option<SynRequest>; TCP_SYN_BACKLOG],
    /// Entries of `syn_queue` in use (kept by `listen.rs`, the only code
    /// that fills or empties it), so an idle turn skips the queue.
    pub syn_len: u16,
    pub demux: Demux,
    pub ports: PortAllocator,
    pub accept_counter: u32,
    /// SYN cookies are on (`Stack::set_tcp_syn_cookies`).
    pub syn_cookies: bool,
    /// When the last SYN cookie was sent: cookies are only checked while
    /// one sent may still be valid (Linux's `tcp_synq_no_recent_overflow`).
    pub cookie_sent_at: Option<crate::time::Instant>,
}

impl TcpSockets {
    pub fn new(seed: u64) -> Self {
        TcpSockets {
            sockets: slots::Slots::new(),
            syn_queue: [None; TCP_SYN_BACKLOG],
            syn_len: 0,
            demux: Demux::new(seed),
            ports: PortAllocator::new(),
            accept_counter: 0,
            syn_cookies: crate::config::TCP_SYN_COOKIES != 0,
            cookie_sent_at: None,
        }
    }

    /// The socket behind a live handle.
    pub fn get(&mut self, h: TcpHandle) -> Option<&mut TcpSocket> {
        self.sockets.get_mut(usize::from(h.index)).filter(|s| {
            s.in_use && !s.orphaned && s.generation == h.generation && s.accept_of.is_none()
        })
    }

    /// A handle for slot `i`.
    pub fn handle(&self, i: usize) -> TcpHandle {
        TcpHandle {
            index: i as u16,
            generation: self.sockets[i].generation,
        }
    }

    /// Takes a free slot; when none is free, reclaims one from a connection
    /// the application has let go of (see [`TcpSockets::reclaim`]).
    pub fn alloc(&mut self, net: &mut crate::net::Net, now: crate::time::Instant) -> Option<usize> {
        let i = match self.sockets.iter().position(|s| !s.in_use) {
            Some(i) => i,
            None => self.reclaim(net, now)?,
        };
        let s = &mut self.sockets[i];
        let generation = s.generation.wrapping_add(1);
        s.reset(generation, true);
        Some(i)
    }

    /// The local address a socket holds: its connection's, else its
    /// binding.
    pub fn local_of(s: &TcpSocket) -> Option<SocketAddrV4> {
        s.tcb.as_ref().map(|t| t.local).or(s.bound)
    }

    /// Drops socket `i`'s connection and listen state, keeping the slot,
    /// its handle and its options: the TCB, the buffers, the demux entries
    /// and the listen backlog go. Unaccepted connections of a listener
    /// must be dealt with first ([`listen::close_listener`]).
    pub fn clear_connection(&mut self, i: usize) {
        let s = &mut self.sockets[i];
        if let Some(t) = s.tcb.take() {
            self.demux.remove(
                &Key {
                    local: t.local,
                    remote: t.remote,
                },
                Owner::Socket(i as u16),
            );
        }
        if s.backlog.take().is_some() {
            if let Some(b) = s.bound {
                self.demux
                    .remove(&Key::listener(b), Owner::Socket(i as u16));
            }
        }
        s.rx.clear();
        s.tx.clear();
    }

    /// Whether a local port is used by any socket or half-open connection.
    pub fn port_in_use(&self, port: u16) -> bool {
        self.sockets.iter().filter(|s| s.in_use).any(|s| {
            s.bound.is_some_and(|b| b.port() == port)
                || s.tcb.as_ref().is_some_and(|t| t.local.port() == port)
        })
    }

    /// Releases slot `i`: its demux entries go, its buffers are cleared.
    pub fn free(&mut self, i: usize) {
        let s = &mut self.sockets[i];
        if let Some(t) = &s.tcb {
            self.demux.remove(
                &Key {
                    local: t.local,
                    remote: t.remote,
                },
                Owner::Socket(i as u16),
            );
        }
        if s.backlog.is_some() {
            if let Some(b) = s.bound {
                self.demux
                    .remove(&Key::listener(b), Owner::Socket(i as u16));
            }
        }
        let generation = s.generation;
        s.reset(generation, false);
    }
}

/// Bytes one connection's state takes without its buffers.
pub const SOCKET_OVERHEAD: usize = core::mem::size_of::<TcpSocket>()
    - core::mem::size_of::<RingBuffer<TCP_RX_BUFFER>>()
    - core::mem::size_of::<RingBuffer<TCP_TX_BUFFER>>();

/// Bytes each additional TCP socket costs besides its payload bytes: its
/// slot ([`SOCKET_OVERHEAD`] plus the two buffers' bookkeeping), the
/// deadline the slot table caches for it (a `u64`, see `slots.rs`) and
/// its share of the demultiplexing table (two slots per socket, which
/// keeps the table at most half full).
pub const SOCKET_MARGINAL_BYTES: usize =
    core::mem::size_of::<TcpSocket>() - TCP_RX_BUFFER - TCP_TX_BUFFER
        + core::mem::size_of::<u64>()
        + 2 * demux::SLOT_BYTES;

impl TcpSockets {
    /// Runs the timers and output of the connections that changed or
    /// whose deadline has come (see [`slots`]), and the SYN queue.
    pub(crate) fn dispatch(&mut self, net: &mut crate::net::Net, now: crate::time::Instant) {
        listen::poll(net, self, now);
        let mut next = self.sockets.next_to_run(0, now);
        while let Some(i) = next {
            let open = self.sockets[i]
                .tcb
                .as_ref()
                .is_some_and(|t| t.state != TcpState::Closed);
            if open {
                if timers::poll(net, &mut self.sockets[i], now) {
                    input::enter_closed(self, i);
                } else {
                    output::dispatch(net, &mut self.sockets[i], now);
                }
            }
            self.sockets.settle(i, now);
            next = self.sockets.next_to_run(i + 1, now);
        }
    }

    /// Whether TCP may have something to do at `now` (an over-estimate
    /// that costs no visit to a socket, for the loop of `Stack::poll`).
    pub(crate) fn may_want_now(&self, now: crate::time::Instant) -> bool {
        self.sockets.maybe_due(now) || listen::poll_at(self).is_some_and(|t| t <= now)
    }

    /// When TCP next needs to run.
    pub(crate) fn poll_at(&self, now: crate::time::Instant) -> Option<crate::time::Instant> {
        crate::time::earliest(listen::poll_at(self), self.sockets.poll_at(now))
    }
}

// One more socket costs at most 512 bytes besides its payload (its state,
// the buffers' bookkeeping and its table entries) with the default numbers
// of out-of-order and SACK ranges (each extra range adds 8 bytes): checked
// when the crate is built.
const _: () = assert!(
    crate::config::TCP_OOO_RANGES > 8
        || crate::config::TCP_SACK_RANGES > 8
        || SOCKET_MARGINAL_BYTES <= 512,
    "a TCP socket's overhead grew past 512 bytes"
);

#[cfg(test)]
mod reset_tests {
    use super::*;

    /// `reset` leaves a used socket as `EMPTY` would, buffers emptied and
    /// their limits restored.
    #[test]
    fn reset_matches_empty() {
        let mut slots = std::boxed::Box::new(slots::Slots::new());
        let s = &mut slots[0];
        s.in_use = true;
        s.orphaned = true;
        s.bound = Some(SocketAddrV4::new(
            crate::addr::Ipv4Addr::new(192, 0, 2, 1),
            80,
        ));
        s.backlog = Some(3);
        s.accept_of = Some(1);
        s.accept_seq = 9;
        s.algo = Algorithm::NewReno;
        s.nodelay = true;
        s.keepalive = KeepaliveCfg::new(Some(Keepalive::default()));
        s.user_timeout_ms = 5;
        s.error = Some(TcpError::Reset);
        s.reuse_addr = true;
        s.addr_locked = true;
        s.port_locked = true;
        s.rx.set_limit(100);
        s.tx.set_limit(100);
        assert_eq!(s.rx.enqueue_slice(b"abc"), 3);
        assert_eq!(s.tx.enqueue_slice(b"de"), 2);
        s.reset(7, true);
        let e = &TcpSocket::EMPTY;
        assert_eq!((s.generation, s.in_use), (7, true));
        assert_eq!(
            (s.orphaned, s.bound, s.backlog, s.accept_of, s.accept_seq),
            (e.orphaned, e.bound, e.backlog, e.accept_of, e.accept_seq)
        );
        assert_eq!(
            (s.algo, s.nodelay, s.keepalive, s.user_timeout_ms, s.error),
            (e.algo, e.nodelay, e.keepalive, e.user_timeout_ms, e.error)
        );
        assert_eq!(
            (s.reuse_addr, s.addr_locked, s.port_locked, s.tcb.is_none()),
            (e.reuse_addr, e.addr_locked, e.port_locked, true)
        );
        assert_eq!((s.rx.len(), s.tx.len()), (0, 0));
        assert_eq!(
            (s.rx.capacity(), s.tx.capacity()),
            (TCP_RX_BUFFER, TCP_TX_BUFFER)
        );
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn report_shows_the_connection_overhead() {
        assert_eq!(
            crate::config::report().tcp_socket_overhead,
            super::SOCKET_OVERHEAD
        );
    }

    #[test]
    fn keepalive_times_are_whole_seconds_within_linux_limits() {
        use super::{Keepalive, KeepaliveCfg};
        use crate::time::Duration;
        let ka = |idle, interval| {
            KeepaliveCfg::new(Some(Keepalive {
                idle,
                interval,
                count: 9,
            }))
            .get()
            .map(|k| (k.idle, k.interval, k.count))
        };
        let s = Duration::from_secs;
        assert_eq!(ka(s(7200), s(75)), Some((s(7200), s(75), 9)));
        // Rounded up, at least 1 s.
        assert_eq!(
            ka(Duration::from_millis(1500), Duration::ZERO),
            Some((s(2), s(1), 9))
        );
        // At most 32767 s, Linux's MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL.
        assert_eq!(ka(s(32767), s(32767)), Some((s(32767), s(32767), 9)));
        assert_eq!(ka(s(32768), s(1 << 40)), Some((s(32767), s(32767), 9)));
        // Off: none, or no probes.
        assert_eq!(KeepaliveCfg::new(None).get(), None);
        let none = Keepalive {
            count: 0,
            ..Keepalive::default()
        };
        assert_eq!(KeepaliveCfg::new(Some(none)), KeepaliveCfg::OFF);
    }
}
