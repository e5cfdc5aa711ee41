//! TCP congestion control: NewReno (RFC 5681, RFC 6582, RFC 3465) and CUBIC
//! (RFC 9438), chosen per socket at run time.
//!
//! [`Congestion`] is one plain value per socket, dispatched on an
//! [`Algorithm`] enum: no trait object, no generic parameter on the socket.
//! Integer arithmetic only (no FPU on the targets); every window is in bytes
//! in a `u32`. CUBIC's units and overflow bounds are documented in the
//! `cubic` module: milliseconds on the cubic curve, `C = 0.4` as
//! `MSS / 2.5e9` bytes/ms³, β = 7/10, α = 9/17.
//!
//! # What the engine calls, and when
//!
//! * [`Congestion::on_ack`] for every ACK that acknowledges new data
//!   outside fast recovery. Slow start while `cwnd < ssthresh`, then the
//!   algorithm's congestion avoidance.
//! * [`Congestion::on_loss_detected`] when fast recovery starts (three
//!   duplicate ACKs, RFC 6582; or SACK-based loss detection, RFC 6675).
//!   The window drops to the new ssthresh at once: what [`window`] reports
//!   from then on is the *post-recovery target*. The engine runs recovery
//!   itself (RFC 6582 inflation by `3*SMSS` and per duplicate ACK, or PRR,
//!   RFC 6937) starting from [`ssthresh`], and calls
//! * [`Congestion::on_recovery_exit`] when the recovery point is
//!   acknowledged: `cwnd = ssthresh` (RFC 6582 §3.2 step 3, option 2,
//!   "deflate the window"), and CUBIC's new epoch starts.
//! * [`Congestion::on_rto`] when the retransmission timer expires.
//! * [`Congestion::on_idle_restart`] before sending after an idle period.
//! * [`Congestion::set_mss`] when PMTU discovery lowers the MSS.
//!
//! [`window`]: Congestion::window
//! [`ssthresh`]: Congestion::ssthresh

use crate::time::{Duration, Instant};

mod cubic;
mod newreno;

use cubic::CubicState;
use newreno::NewRenoState;

/// What distinguishes one congestion-control algorithm from another.
///
/// The machinery every algorithm shares lives in [`Congestion`]: slow start
/// (RFC 5681 §3.1), one reduction per recovery, the loss window after a
/// timeout, the application-limited test (RFC 7661). An algorithm answers
/// only these questions. Adding one means implementing this trait and
/// adding a variant to [`Algorithm`]; a socket picks its algorithm at run
/// time without a trait object being stored.
pub trait CongestionControl {
    /// Congestion avoidance: the window after `acked` more bytes were
    /// acknowledged with the window at `cwnd`.
    fn grow(&mut self, now: Instant, cwnd: u32, mss: u32, acked: u32) -> u32;
    /// The slow-start threshold after a congestion event with the window at
    /// `cwnd` and `flight` bytes outstanding.
    fn ssthresh_after_loss(&mut self, cwnd: u32, flight: u32, mss: u32) -> u32;
    /// Congestion avoidance starts again at `cwnd` (recovery is over).
    fn restart(&mut self, now: Instant, cwnd: u32, mss: u32);
    /// The retransmission timer expired.
    fn on_timeout(&mut self);
    /// Forgets per-epoch state (idle restart, application-limited period,
    /// MSS change).
    fn reset(&mut self);
    /// The connection's RTT estimate changed.
    fn set_rtt(&mut self, _rtt: Duration) {}
}

impl CongestionControl for NewRenoState {
    fn grow(&mut self, _now: Instant, cwnd: u32, mss: u32, acked: u32) -> u32 {
        self.on_ack(cwnd, mss, acked)
    }
    fn ssthresh_after_loss(&mut self, _cwnd: u32, flight: u32, mss: u32) -> u32 {
        self.reset();
        newreno::ssthresh_after_loss(flight, mss)
    }
    fn restart(&mut self, _now: Instant, _cwnd: u32, _mss: u32) {
        self.reset();
    }
    fn on_timeout(&mut self) {
        self.reset();
    }
    fn reset(&mut self) {
        NewRenoState::reset(self);
    }
}

impl CongestionControl for CubicState {
    fn grow(&mut self, now: Instant, cwnd: u32, mss: u32, acked: u32) -> u32 {
        self.on_ack(now, cwnd, mss, acked)
    }
    fn ssthresh_after_loss(&mut self, cwnd: u32, _flight: u32, mss: u32) -> u32 {
        self.on_congestion(cwnd, mss)
    }
    fn restart(&mut self, now: Instant, cwnd: u32, mss: u32) {
        self.start_epoch(now, cwnd, mss);
    }
    fn on_timeout(&mut self) {
        self.on_rto();
    }
    fn reset(&mut self) {
        self.reset_epoch();
    }
    fn set_rtt(&mut self, rtt: Duration) {
        CubicState::set_rtt(self, rtt);
    }
}

/// A congestion-control algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// NewReno: the window is halved (of the data in flight) on loss and
    /// grows by one segment per window acknowledged (RFC 5681, RFC 6582).
    NewReno,
    /// CUBIC: the window is cut to 0.7 of itself on loss and regrows along a
    /// cubic function of the time since the loss, concave up to the window
    /// of the loss and convex beyond (RFC 9438). Never slower than Reno.
    Cubic,
}

/// The active algorithm and its own state: only one algorithm's state is
/// kept at a time (an enum rather than both, to keep a connection small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AlgoState {
    NewReno(NewRenoState),
    Cubic(CubicState),
}

impl AlgoState {
    /// A fresh state for `algo`.
    const fn new(algo: Algorithm) -> Self {
        match algo {
            Algorithm::NewReno => AlgoState::NewReno(NewRenoState::new()),
            Algorithm::Cubic => AlgoState::Cubic(CubicState::new()),
        }
    }
}

/// The congestion-control state of one TCP connection.
#[derive(Debug, Clone)]
pub struct Congestion {
    /// Congestion window, bytes.
    cwnd: u32,
    /// Slow-start threshold, bytes.
    ssthresh: u32,
    /// Sender MSS (SMSS), bytes, at least 1.
    mss: u32,
    /// Between `on_loss_detected` and `on_recovery_exit` (or an RTO).
    in_recovery: bool,
    /// An RTO fired and no new data was acknowledged since.
    rto_backoff: bool,
    /// The algorithm in use and its state.
    state: AlgoState,
}

/// The initial window for an MSS, RFC 6928 §2:
/// `min(10*MSS, max(2*MSS, 14600))` bytes (10 segments of 1460 bytes; 5360
/// bytes at an MSS of 536; 2 segments above an MSS of 7300).
pub const fn initial_window(mss: u32) -> u32 {
    let mss = if mss == 0 { 1 } else { mss };
    let two = mss.saturating_mul(2);
    let upper = if two > 14_600 { two } else { 14_600 };
    let ten = mss.saturating_mul(10);
    if ten < upper {
        ten
    } else {
        upper
    }
}

impl Congestion {
    /// A controller for a new connection: `cwnd` = the RFC 6928 initial
    /// window, `ssthresh` = `u32::MAX` ("arbitrarily high", RFC 5681 §3.1).
    /// An `mss` of 0 is taken as 1.
    pub const fn new(algo: Algorithm, mss: u32) -> Self {
        let mss = if mss == 0 { 1 } else { mss };
        Congestion {
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            mss,
            in_recovery: false,
            rto_backoff: false,
            state: AlgoState::new(algo),
        }
    }

    /// The algorithm in use.
    pub const fn algorithm(&self) -> Algorithm {
        match self.state {
            AlgoState::NewReno(_) => Algorithm::NewReno,
            AlgoState::Cubic(_) => Algorithm::Cubic,
        }
    }

    /// Switches algorithm mid-connection. The window and ssthresh are kept;
    /// the new algorithm starts from a fresh state (for CUBIC: no `W_max`,
    /// so its next epoch starts convex from the current window).
    pub fn set_algorithm(&mut self, algo: Algorithm) {
        if algo != self.algorithm() {
            self.state = AlgoState::new(algo);
        }
    }

    /// The congestion window `cwnd`, in bytes.
    pub const fn window(&self) -> u32 {
        self.cwnd
    }

    /// The slow-start threshold, in bytes.
    pub const fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    /// The sender MSS the window is counted against, in bytes.
    pub const fn mss(&self) -> u32 {
        self.mss
    }

    /// Whether the next ACK is counted by slow start (`cwnd < ssthresh`).
    pub const fn in_slow_start(&self) -> bool {
        self.cwnd < self.ssthresh
    }

    /// Whether fast recovery is under way (since `on_loss_detected`).
    pub const fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// The active algorithm's rules.
    fn controller(&mut self) -> &mut dyn CongestionControl {
        match &mut self.state {
            AlgoState::NewReno(s) => s,
            AlgoState::Cubic(s) => s,
        }
    }

    /// A new sender MSS (PMTU discovery). The window stays in bytes, raised
    /// to at least one `mss`; ssthresh to at least two. CUBIC's epoch
    /// restarts, since `K` is a function of the MSS.
    pub fn set_mss(&mut self, mss: u32) {
        let mss = mss.max(1);
        if mss == self.mss {
            return;
        }
        self.mss = mss;
        self.cwnd = self.cwnd.max(mss);
        self.ssthresh = self.ssthresh.max(mss.saturating_mul(2));
        self.controller().reset();
    }

    /// `acked` bytes of new data acknowledged outside fast recovery (calls
    /// during recovery only update the RTT). `rtt` is the engine's current
    /// RTT estimate, preferably SRTT (`None` keeps the previous one); it is
    /// CUBIC's look-ahead in `W_cubic(t + RTT)`. `in_flight_before` is the
    /// data in flight before this ACK, bytes.
    ///
    /// * Application-limited: if `in_flight_before < cwnd / 2` the window
    ///   is not raised, since it has not been tested by the network (the
    ///   half-window "validated" test of RFC 7661 §4.1; RFC 9438 §5.8 for
    ///   CUBIC, whose epoch also restarts so the time spent limited does not
    ///   count in `t`).
    /// * Slow start (`cwnd < ssthresh`): `cwnd += min(acked, SMSS)`, RFC
    ///   5681 equation (2), capped at ssthresh. This is RFC 3465 byte
    ///   counting with L = 1*SMSS, the standard's limit, rather than the
    ///   experimental L = 2*SMSS: doubling per RTT with an ACK per segment,
    ///   about 1.5x per RTT with delayed ACKs.
    /// * Congestion avoidance: NewReno adds one SMSS per window of bytes
    ///   acknowledged (RFC 3465 §2.1); CUBIC follows RFC 9438 §4.3 to §4.5.
    pub fn on_ack(
        &mut self,
        now: Instant,
        acked: u32,
        rtt: Option<Duration>,
        in_flight_before: u32,
    ) {
        if let Some(rtt) = rtt {
            self.controller().set_rtt(rtt);
        }
        if acked == 0 {
            return;
        }
        self.rto_backoff = false;
        if self.in_recovery {
            return;
        }
        if u64::from(in_flight_before) * 2 < u64::from(self.cwnd) {
            self.controller().reset();
            return;
        }
        if self.cwnd < self.ssthresh {
            let grown = self.cwnd.saturating_add(acked.min(self.mss));
            self.cwnd = grown.min(self.ssthresh);
            return;
        }
        let (cwnd, mss) = (self.cwnd, self.mss);
        self.cwnd = self.controller().grow(now, cwnd, mss, acked);
    }

    /// Fast recovery starts (three duplicate ACKs, or SACK loss detection),
    /// with `in_flight` bytes outstanding (RFC 5681 FlightSize).
    ///
    /// NewReno: `ssthresh = max(in_flight / 2, 2*SMSS)`, RFC 5681 equation
    /// (4). CUBIC: `ssthresh = max(0.7 * cwnd, 2*SMSS)` (RFC 9438 §4.6; the
    /// window rather than FlightSize, which §4.6 allows because the window
    /// does not grow while application-limited), `W_max` with fast
    /// convergence (§4.7). Either way `cwnd = ssthresh`: the post-recovery
    /// target, see the module documentation. One reduction per recovery:
    /// further calls before [`on_recovery_exit`](Self::on_recovery_exit)
    /// are ignored.
    pub fn on_loss_detected(&mut self, _now: Instant, in_flight: u32) {
        if self.in_recovery {
            return;
        }
        self.in_recovery = true;
        let (cwnd, mss) = (self.cwnd, self.mss);
        self.ssthresh = self.controller().ssthresh_after_loss(cwnd, in_flight, mss);
        self.cwnd = self.ssthresh;
    }

    /// Fast recovery ends (the recovery point is acknowledged): the window
    /// is deflated to ssthresh (RFC 6582 §3.2 step 3, option 2) and CUBIC's
    /// congestion-avoidance epoch starts now. Ignored outside recovery (for
    /// instance when an RTO already ended it).
    pub fn on_recovery_exit(&mut self, now: Instant) {
        if !self.in_recovery {
            return;
        }
        self.in_recovery = false;
        self.cwnd = self.ssthresh.max(self.mss);
        let (cwnd, mss) = (self.cwnd, self.mss);
        self.controller().restart(now, cwnd, mss);
    }

    /// The retransmission timer expired with `in_flight` bytes outstanding:
    /// `cwnd` = the loss window, one SMSS (RFC 5681 §3.1), and fast
    /// recovery, if any, ends.
    ///
    /// ssthresh: NewReno `max(in_flight / 2, 2*SMSS)` (RFC 5681 equation
    /// (4)); CUBIC `max(0.7 * cwnd, 2*SMSS)` with the `W_max` bookkeeping,
    /// its next epoch starting with `K = 0` (RFC 9438 §4.8). It is held
    /// constant when the timer fires again before any new data is
    /// acknowledged (RFC 5681 §3.1: the segment was already retransmitted by
    /// the timer). During fast recovery the event has already been answered:
    /// CUBIC keeps its ssthresh, NewReno only lowers it to equation (4) if
    /// that is smaller (equation (4) is an upper bound).
    pub fn on_rto(&mut self, _now: Instant, in_flight: u32) {
        if !self.rto_backoff {
            let (cwnd, mss) = (self.cwnd, self.mss);
            self.ssthresh = match (self.algorithm(), self.in_recovery) {
                (_, false) => self.controller().ssthresh_after_loss(cwnd, in_flight, mss),
                (Algorithm::NewReno, true) => self
                    .ssthresh
                    .min(newreno::ssthresh_after_loss(in_flight, mss)),
                (Algorithm::Cubic, true) => self.ssthresh,
            };
        }
        self.controller().on_timeout();
        self.in_recovery = false;
        self.rto_backoff = true;
        self.cwnd = self.mss;
    }

    /// About to send after `idle` without sending, `rto` being the current
    /// retransmission timeout: if `idle > rto` the window is cut to the
    /// restart window `RW = min(IW, cwnd)` (RFC 5681 §4.1), and CUBIC's
    /// epoch restarts. ssthresh is kept.
    pub fn on_idle_restart(&mut self, _now: Instant, rto: Duration, idle: Duration) {
        if idle <= rto {
            return;
        }
        self.cwnd = self.cwnd.min(initial_window(self.mss));
        self.controller().reset();
    }
}

#[cfg(test)]
impl Congestion {
    /// Test ACK clock for one round trip of a window-limited sender: one
    /// window in flight, each whole segment of it acknowledged by its own
    /// ACK, the ACKs evenly spread over `rtt`.
    fn ack_round(&mut self, now: &mut Instant, rtt: Duration) {
        let start = *now;
        let segs = u64::from((self.cwnd / self.mss).max(1));
        for i in 1..=segs {
            *now = start + Duration::from_micros(rtt.total_micros() * i / segs);
            let flight = self.cwnd;
            self.on_ack(*now, self.mss, Some(rtt), flight);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1460;
    const RTT: Duration = Duration::from_millis(40);
    const BOTH: [Algorithm; 2] = [Algorithm::NewReno, Algorithm::Cubic];

    #[test]
    fn initial_window_rfc6928() {
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(536), 5360);
        assert_eq!(initial_window(1000), 10_000);
        assert_eq!(initial_window(4000), 14_600);
        assert_eq!(initial_window(9000), 18_000);
        assert_eq!(initial_window(0), 10);
        assert_eq!(initial_window(u32::MAX), u32::MAX);
        let cc = Congestion::new(Algorithm::Cubic, MSS);
        assert_eq!(cc.window(), 14_600);
        assert_eq!(cc.ssthresh(), u32::MAX);
        assert!(cc.in_slow_start());
        assert_eq!(Congestion::new(Algorithm::NewReno, 536).window(), 5360);
    }

    #[test]
    fn slow_start_doubles_per_rtt() {
        for algo in BOTH {
            let mut cc = Congestion::new(algo, MSS);
            let mut now = Instant::ZERO;
            for round in 1..=6 {
                cc.ack_round(&mut now, RTT);
                assert_eq!(cc.window(), (10 * MSS) << round, "{algo:?}");
            }
        }
    }

    #[test]
    fn slow_start_counts_one_mss_per_ack_and_stops_at_ssthresh() {
        let mut cc = Congestion::new(Algorithm::NewReno, MSS);
        // A delayed ACK for two segments still adds one MSS (RFC 5681 eq. 2).
        cc.on_ack(Instant::ZERO, 2 * MSS, None, cc.window());
        assert_eq!(cc.window(), 11 * MSS);
        cc.on_ack(Instant::ZERO, 100, None, cc.window());
        assert_eq!(cc.window(), 11 * MSS + 100);
        cc.ssthresh = 12 * MSS;
        cc.on_ack(Instant::ZERO, MSS, None, cc.window());
        assert_eq!(cc.window(), 12 * MSS);
        assert!(!cc.in_slow_start());
    }

    #[test]
    fn newreno_adds_one_mss_per_rtt() {
        let mut cc = Congestion::new(Algorithm::NewReno, MSS);
        cc.cwnd = 40 * MSS;
        cc.on_loss_detected(Instant::ZERO, 40 * MSS);
        assert_eq!(cc.window(), 20 * MSS);
        cc.on_recovery_exit(Instant::ZERO);
        let mut now = Instant::ZERO;
        for round in 1..=30 {
            cc.ack_round(&mut now, RTT);
            assert_eq!(cc.window(), (20 + round) * MSS);
        }
    }

    #[test]
    fn newreno_halves_flight_on_loss() {
        let mut cc = Congestion::new(Algorithm::NewReno, MSS);
        cc.cwnd = 50_000;
        cc.on_loss_detected(Instant::ZERO, 40_000);
        assert_eq!((cc.ssthresh(), cc.window()), (20_000, 20_000));
        assert!(cc.in_recovery());
        // One reduction per recovery.
        cc.on_loss_detected(Instant::ZERO, 20_000);
        assert_eq!(cc.ssthresh(), 20_000);
        // No growth during recovery; exit deflates to ssthresh.
        cc.on_ack(Instant::ZERO, 10_000, None, 20_000);
        assert_eq!(cc.window(), 20_000);
        cc.on_recovery_exit(Instant::ZERO);
        assert_eq!(cc.window(), 20_000);
        assert!(!cc.in_recovery());
        // Floor of two segments.
        cc.on_loss_detected(Instant::ZERO, 1000);
        assert_eq!(cc.window(), 2 * MSS);
    }

    #[test]
    fn rto_sets_loss_window_and_holds_ssthresh_on_backoff() {
        for algo in BOTH {
            let mut cc = Congestion::new(algo, MSS);
            cc.cwnd = 100 * MSS;
            cc.on_rto(Instant::ZERO, 100 * MSS);
            assert_eq!(cc.window(), MSS);
            let first = match algo {
                Algorithm::NewReno => 50 * MSS,
                Algorithm::Cubic => 70 * MSS,
            };
            assert_eq!(cc.ssthresh(), first);
            // The timer fires again for the same segment: ssthresh held.
            cc.on_rto(Instant::ZERO, MSS);
            assert_eq!((cc.window(), cc.ssthresh()), (MSS, first));
            // New data acknowledged, then another RTO: recomputed.
            cc.on_ack(Instant::ZERO, MSS, None, MSS);
            assert_eq!(cc.window(), 2 * MSS);
            cc.on_rto(Instant::ZERO, 2 * MSS);
            assert_eq!((cc.window(), cc.ssthresh()), (MSS, 2 * MSS));
        }
    }

    #[test]
    fn rto_during_recovery_ends_it() {
        for algo in BOTH {
            let mut cc = Congestion::new(algo, MSS);
            cc.cwnd = 100 * MSS;
            cc.on_loss_detected(Instant::ZERO, 100 * MSS);
            let ss = cc.ssthresh();
            cc.on_rto(Instant::ZERO, 60 * MSS);
            assert!(!cc.in_recovery());
            assert_eq!(cc.window(), MSS);
            let want = match algo {
                Algorithm::NewReno => 30 * MSS,
                Algorithm::Cubic => ss,
            };
            assert_eq!(cc.ssthresh(), want);
            // A late recovery exit does not undo the loss window.
            cc.on_recovery_exit(Instant::ZERO);
            assert_eq!(cc.window(), MSS);
        }
    }

    #[test]
    fn idle_restart_uses_restart_window() {
        let rto = Duration::from_secs(1);
        let mut cc = Congestion::new(Algorithm::Cubic, MSS);
        cc.cwnd = 100 * MSS;
        cc.on_idle_restart(Instant::ZERO, rto, rto);
        assert_eq!(cc.window(), 100 * MSS);
        cc.on_idle_restart(Instant::ZERO, rto, Duration::from_millis(1001));
        assert_eq!(cc.window(), 10 * MSS);
        cc.cwnd = 3 * MSS;
        cc.on_idle_restart(Instant::ZERO, rto, Duration::from_secs(60));
        assert_eq!(cc.window(), 3 * MSS);
    }

    #[test]
    fn set_mss_keeps_bytes_and_clamps() {
        let mut cc = Congestion::new(Algorithm::NewReno, MSS);
        cc.set_mss(1200);
        assert_eq!((cc.window(), cc.mss()), (14_600, 1200));
        cc.cwnd = 1000;
        cc.ssthresh = 1000;
        cc.set_mss(1400);
        assert_eq!((cc.window(), cc.ssthresh()), (1400, 2800));
        cc.set_mss(0);
        assert_eq!(cc.mss(), 1);
        assert_eq!(Congestion::new(Algorithm::Cubic, 0).mss(), 1);
    }

    #[test]
    fn set_algorithm_keeps_window() {
        let mut cc = Congestion::new(Algorithm::NewReno, MSS);
        cc.cwnd = 40 * MSS;
        cc.on_loss_detected(Instant::ZERO, 40 * MSS);
        cc.on_recovery_exit(Instant::ZERO);
        cc.set_algorithm(Algorithm::Cubic);
        assert_eq!(cc.algorithm(), Algorithm::Cubic);
        assert_eq!((cc.window(), cc.ssthresh()), (20 * MSS, 20 * MSS));
        let mut now = Instant::ZERO;
        cc.ack_round(&mut now, RTT);
        assert!(cc.window() >= 20 * MSS);
        cc.set_algorithm(Algorithm::NewReno);
        assert_eq!(cc.algorithm(), Algorithm::NewReno);
    }

    #[test]
    fn application_limited_does_not_grow() {
        for algo in BOTH {
            let mut cc = Congestion::new(algo, MSS);
            let iw = cc.window();
            let mut now = Instant::ZERO;
            // Slow start: only 4 of 10 segments in flight.
            for _ in 0..100 {
                now += RTT;
                cc.on_ack(now, MSS, Some(RTT), 4 * MSS);
            }
            assert_eq!(cc.window(), iw, "{algo:?}");
            // Half the window in flight counts as window-limited.
            cc.on_ack(now, MSS, Some(RTT), 5 * MSS);
            assert_eq!(cc.window(), iw + MSS);
            // Congestion avoidance, a long time at a tenth of the window.
            cc.cwnd = 100 * MSS;
            cc.on_loss_detected(now, 100 * MSS);
            cc.on_recovery_exit(now);
            let w = cc.window();
            for _ in 0..10_000 {
                now += Duration::from_millis(10);
                cc.on_ack(now, MSS, Some(RTT), w / 10);
            }
            assert_eq!(cc.window(), w, "{algo:?}");
            // Once window-limited again, CUBIC resumes from a fresh epoch
            // instead of jumping along a curve that kept running.
            cc.on_ack(now, MSS, Some(RTT), w);
            assert!(cc.window() - w < MSS, "{algo:?}");
        }
    }
}
