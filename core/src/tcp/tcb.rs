//! The transmission control block: everything one connection remembers
//! besides its buffers (RFC 9293 §3.3.1). Kept small: with the rest of its
//! socket, the buffers' bookkeeping and its table entries, a connection
//! costs at most 512 bytes besides its payload
//! ([`SOCKET_MARGINAL_BYTES`](super::SOCKET_MARGINAL_BYTES), checked when
//! the crate is built).

use crate::addr::{Ipv4Addr, SocketAddrV4};
use crate::config::{TCP_OOO_RANGES, TCP_SACK_RANGES};
use crate::tcp::assembler::Assembler;
use crate::tcp::congestion::{Algorithm, Congestion};
use crate::tcp::rtt::{RttEstimator, RttSampler};
use crate::tcp::sack::Scoreboard;
use crate::tcp::TcpState;
use crate::time::{Deadline, Instant};
use crate::wire::SeqNumber;

/// Options negotiated on the SYN exchange (RFC 9293 §3.2, RFC 7323,
/// RFC 2018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Negotiated {
    /// Both sides sent window scale: `snd_shift` scales the peer's windows,
    /// `rcv_shift` ours (RFC 7323 §2.2).
    pub window_scaling: bool,
    /// Shift applied to the windows the peer advertises.
    pub snd_shift: u8,
    /// Shift applied to the windows we advertise.
    pub rcv_shift: u8,
    /// Both sides sent timestamps (RFC 7323 §3.2).
    pub timestamps: bool,
    /// Both sides sent SACK-permitted (RFC 2018 §2).
    pub sack: bool,
}

/// One connection's state.
#[derive(Debug)]
pub(crate) struct Tcb {
    pub state: TcpState,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,

    // Send sequence space (RFC 9293 §3.3.1).
    pub iss: SeqNumber,
    pub snd_una: SeqNumber,
    pub snd_nxt: SeqNumber,
    /// Highest sequence number sent so far (snd_nxt may move back on RTO).
    pub snd_max: SeqNumber,
    /// Send window, already scaled.
    pub snd_wnd: u32,
    pub snd_wl1: SeqNumber,
    pub snd_wl2: SeqNumber,
    /// Largest window the peer ever offered (for sender SWS avoidance and
    /// RFC 5961 §5's ACK acceptability).
    pub max_snd_wnd: u32,
    /// Effective send MSS (peer's MSS option, path MTU, our interface).
    pub smss: u16,
    /// The MSS we announced.
    pub rmss: u16,

    // Receive sequence space.
    pub irs: SeqNumber,
    pub rcv_nxt: SeqNumber,
    /// Right edge of the window we last advertised: never moved left
    /// (RFC 9293 §3.8.6.2.2: no shrinking).
    pub rcv_adv: SeqNumber,

    pub opts: Negotiated,
    /// RFC 7323 §4.3: TS.Recent, the time it was stored, and Last.ACK.sent.
    pub ts_recent: u32,
    pub ts_recent_at: Instant,
    pub last_ack_sent: SeqNumber,
    /// RFC 7323 §5.4: a random per-connection offset on our TSval.
    pub ts_offset: u32,

    /// The user asked to close the send side: FIN after the data.
    pub fin_queued: bool,
    /// The peer's FIN arrived (nothing more to receive).
    pub fin_received: bool,
    /// The user shut the receive side: data arriving is discarded.
    pub rx_shutdown: bool,

    // Timers.
    pub rtt: RttEstimator,
    pub sampler: RttSampler,
    pub retransmit_at: Deadline,
    /// Consecutive retransmissions of the oldest segment.
    pub retries: u8,
    /// When SND.UNA last advanced, or data was first sent with nothing in
    /// flight (the user timeout counts from here).
    pub last_ack_progress: Instant,
    /// Retransmit the segment at SND.UNA at the next output (fast
    /// retransmit, NewReno partial ACK).
    pub rexmit_pending: bool,
    /// The last send found no route to the peer: output waits for the
    /// retransmission timer instead of asking to run at once (which would
    /// spin the caller while the route is gone).
    pub route_blocked: bool,
    pub ack_delayed_until: Deadline,
    pub ack_now: bool,
    /// Full-sized segments received since our last ACK.
    pub segs_since_ack: u8,
    pub persist_at: Deadline,
    /// Zero-window probes sent in a row (their interval doubles).
    pub persist_count: u8,
    pub keepalive_probes: u8,
    pub last_rx: Instant,
    pub time_wait_until: Deadline,

    // Congestion control and loss recovery.
    pub cc: Congestion,
    pub dupacks: u8,
    // Whether fast recovery is under way is `cc.in_recovery()`: the
    // congestion controller enters and leaves recovery with the engine.
    /// RFC 6582 "recover": snd_max when recovery started.
    pub recover: SeqNumber,
    /// RFC 6675 HighRxt: highest sequence retransmitted in this recovery.
    pub high_rxt: SeqNumber,
    pub scoreboard: Scoreboard<TCP_SACK_RANGES>,

    // Receive side.
    pub assembler: Assembler<TCP_OOO_RANGES>,

    /// RFC 5961 §7: challenge ACKs sent in the current second.
    pub challenge_count: u8,
    pub challenge_window: Instant,

    // Counters for tcp_info.
    pub retransmits: u32,
    pub fast_retransmits: u32,
    pub rto_count: u32,
}

impl Tcb {
    /// A fresh block for a connection between `local` and `remote`.
    pub fn new(
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: SeqNumber,
        now: Instant,
        algo: Algorithm,
    ) -> Self {
        Tcb {
            state: TcpState::Closed,
            local,
            remote,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            snd_wl1: SeqNumber(0),
            snd_wl2: SeqNumber(0),
            max_snd_wnd: 0,
            smss: 536,
            rmss: 536,
            irs: SeqNumber(0),
            rcv_nxt: SeqNumber(0),
            rcv_adv: SeqNumber(0),
            opts: Negotiated::default(),
            ts_recent: 0,
            ts_recent_at: now,
            last_ack_sent: SeqNumber(0),
            ts_offset: 0,
            fin_queued: false,
            fin_received: false,
            rx_shutdown: false,
            rtt: RttEstimator::new(),
            sampler: RttSampler::new(),
            retransmit_at: Deadline::NONE,
            retries: 0,
            last_ack_progress: now,
            rexmit_pending: false,
            route_blocked: false,
            ack_delayed_until: Deadline::NONE,
            ack_now: false,
            segs_since_ack: 0,
            persist_at: Deadline::NONE,
            persist_count: 0,
            keepalive_probes: 0,
            last_rx: now,
            time_wait_until: Deadline::NONE,
            cc: Congestion::new(algo, 536),
            dupacks: 0,
            recover: iss,
            high_rxt: iss,
            scoreboard: Scoreboard::new(),
            assembler: Assembler::new(),
            challenge_count: 0,
            challenge_window: now,
            retransmits: 0,
            fast_retransmits: 0,
            rto_count: 0,
        }
    }

    /// Bytes sent and not yet acknowledged (SYN and FIN included).
    pub fn in_flight(&self) -> u32 {
        self.snd_nxt.diff(self.snd_una).max(0) as u32
    }

    /// Whether our SYN is still unacknowledged (it occupies the first
    /// sequence number, not a buffer byte).
    pub fn syn_unacked(&self) -> bool {
        self.snd_una == self.iss
    }

    /// The send-buffer offset of sequence number `seq`.
    pub fn tx_offset(&self, seq: SeqNumber) -> usize {
        let base = if self.syn_unacked() {
            self.iss + 1
        } else {
            self.snd_una
        };
        seq.diff(base).max(0) as usize
    }

    /// Our TSval for `now` (RFC 7323 §5.4: a millisecond clock with a
    /// random offset).
    pub fn tsval(&self, now: Instant) -> u32 {
        (now.total_millis() as u32).wrapping_add(self.ts_offset)
    }

    /// Whether `state` has exchanged SYNs both ways.
    pub fn synchronized(&self) -> bool {
        !matches!(
            self.state,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
        )
    }

    /// The peer's address as a pair.
    pub fn peer_ip(&self) -> Ipv4Addr {
        *self.remote.ip()
    }
}
