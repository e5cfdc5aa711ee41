//! The retransmission timer: RFC 6298 smoothed RTT and RTO, with the
//! RFC 7323 §4.2 gain scaling for per-ACK timestamp samples, exponential
//! backoff (RFC 6298 §5.5) and a Karn-safe sampler for connections without
//! timestamps (RFC 6298 §3).
//!
//! Who calls what:
//!
//! * every valid RTT measurement goes to [`RttEstimator::sample`] (one
//!   sample per round trip, from [`RttSampler`]) or
//!   [`RttEstimator::sample_scaled`] (a sample on every ACK, from the
//!   RFC 7323 timestamp echo);
//! * a retransmission timeout calls [`RttEstimator::on_timeout`] and
//!   [`RttSampler::on_retransmit`];
//! * an ACK for new data calls [`RttEstimator::reset_backoff`];
//! * the timer is armed for [`RttEstimator::rto`].
//!
//! **RTO bounds.** The initial, minimum and maximum RTO are the same for
//! every connection of a stack, so they are not stored per connection:
//! they are const parameters of [`RttEstimator`], in milliseconds, which
//! default to the configuration (`WOLFIP_TCP_RTO_INITIAL_MS`,
//! `WOLFIP_TCP_RTO_MIN_MS`, `WOLFIP_TCP_RTO_MAX_MS`). The stack always uses
//! the defaults; the unit tests below pick other bounds.
//!
//! **Karn's algorithm** (RFC 6298 §3): an ACK for a segment that was sent
//! more than once does not say which copy it acknowledges, so the engine
//! must not take an RTT sample from it. Without timestamps, [`RttSampler`]
//! enforces this by discarding the timed segment on any retransmission.
//! With timestamps (RFC 7323 §4), the echoed TSecr names the copy that was
//! acknowledged, so samples from retransmitted data are valid.

use crate::config::{TCP_RTO_INITIAL_MS, TCP_RTO_MAX_MS, TCP_RTO_MIN_MS};
use crate::time::{Duration, Instant};
use crate::wire::SeqNumber;

/// The initial RTO of RFC 6298 §2.1: 1 second.
pub const RFC6298_INITIAL_RTO: Duration = Duration::from_secs(1);
/// The lower bound of RFC 6298 §2.4: 1 second. Linux uses 200 ms
/// (`TCP_RTO_MIN`); the `MIN_MS` parameter of [`RttEstimator`] chooses.
pub const RFC6298_MIN_RTO: Duration = Duration::from_secs(1);
/// The smallest upper bound RFC 6298 §2.5 allows: 60 seconds.
pub const RFC6298_MAX_RTO: Duration = Duration::from_secs(60);
/// The clock granularity G of RFC 6298 §2: 1 ms, so the variance term of
/// the RTO is never below 1 ms.
pub const CLOCK_GRANULARITY: Duration = Duration::from_millis(1);

const G_US: u64 = 1000;
/// SRTT and RTTVAR are kept in units of 1/8 µs in a `u32`; longer samples
/// (over 536 s, beyond any sane RTO bound) are taken as this.
const MAX_SAMPLE_US: u64 = (u32::MAX / 8) as u64;

/// A configured number of milliseconds as a `u32`, saturating.
const fn config_ms(ms: usize) -> u32 {
    if ms > u32::MAX as usize {
        u32::MAX
    } else {
        ms as u32
    }
}

/// `ms` milliseconds in microseconds, saturating at `u32::MAX` µs
/// (71 minutes).
const fn ms_to_us(ms: u32) -> u32 {
    ms.saturating_mul(1000)
}

/// RFC 7323 §4.2 ExpectedSamples = ceiling(FlightSize / (SMSS * 2)), at
/// least 1: the number of timestamp samples one window of data yields with
/// delayed ACKs (one ACK per two segments).
pub fn expected_samples(flight_size: u32, smss: u32) -> u32 {
    let per_ack = u64::from(smss.max(1)) * 2;
    let n = u64::from(flight_size).div_ceil(per_ack);
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

/// The RFC 6298 estimator: SRTT, RTTVAR, the RTO and its backoff.
///
/// SRTT and RTTVAR are kept in fixed point, in units of 1/8 µs (as Linux
/// keeps `srtt_us << 3`), so the 1/8 and 1/4 gains lose nothing to rounding
/// at realistic RTTs and the scaled gains of RFC 7323 §4.2 still move the
/// estimate. Each update adds `(target - old) / divisor`, truncated toward
/// zero in those units: the estimate never overshoots its target, and is
/// within `ExpectedSamples` µs of a constant RTT once converged.
///
/// The RTO bounds are the const parameters, in milliseconds (see the
/// module documentation): the RTO starts at `INITIAL_MS` (RFC 6298 §2.1:
/// 1 s, [`RFC6298_INITIAL_RTO`]) and every RTO, the initial one included,
/// is kept within `[MIN_MS, MAX_MS]` (§2.4: a minimum of 1 s, which Linux
/// lowers to 200 ms; §2.5: a maximum of at least 60 s). A `MAX_MS` below
/// `MIN_MS` is taken as `MIN_MS`. The bounds saturate at `u32::MAX` µs
/// (71 minutes). The defaults are the stack's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttEstimator<
    const INITIAL_MS: u32 = { config_ms(TCP_RTO_INITIAL_MS) },
    const MIN_MS: u32 = { config_ms(TCP_RTO_MIN_MS) },
    const MAX_MS: u32 = { config_ms(TCP_RTO_MAX_MS) },
> {
    /// SRTT in 1/8 µs.
    srtt_x8: u32,
    /// RTTVAR in 1/8 µs.
    rttvar_x8: u32,
    /// The RTO before backoff, in µs, within `[MIN_MS, MAX_MS]`.
    rto_us: u32,
    /// Consecutive timeouts since the last valid sample or reset.
    backoff: u8,
    has_sample: bool,
}

impl<const INITIAL_MS: u32, const MIN_MS: u32, const MAX_MS: u32> Default
    for RttEstimator<INITIAL_MS, MIN_MS, MAX_MS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const INITIAL_MS: u32, const MIN_MS: u32, const MAX_MS: u32>
    RttEstimator<INITIAL_MS, MIN_MS, MAX_MS>
{
    /// The lower bound on the RTO, in µs.
    const MIN_US: u32 = ms_to_us(MIN_MS);
    /// The upper bound on the RTO, in µs; never below the lower one.
    const MAX_US: u32 = {
        let max = ms_to_us(MAX_MS);
        if max < Self::MIN_US {
            Self::MIN_US
        } else {
            max
        }
    };
    /// The initial RTO, in µs, within the bounds.
    const INITIAL_US: u32 = {
        let initial = ms_to_us(INITIAL_MS);
        if initial < Self::MIN_US {
            Self::MIN_US
        } else if initial > Self::MAX_US {
            Self::MAX_US
        } else {
            initial
        }
    };

    /// An estimator without samples, whose RTO is the initial one.
    pub const fn new() -> Self {
        RttEstimator {
            srtt_x8: 0,
            rttvar_x8: 0,
            rto_us: Self::INITIAL_US,
            backoff: 0,
            has_sample: false,
        }
    }

    /// Takes one RTT measurement, RFC 6298 §2.2 (the first: SRTT = R,
    /// RTTVAR = R/2) or §2.3 (later ones: RTTVAR = 3/4 RTTVAR + 1/4
    /// |SRTT - R|, computed with the old SRTT, then SRTT = 7/8 SRTT + 1/8 R),
    /// and sets RTO = SRTT + max(G, 4 RTTVAR) within `[min, max]`, with
    /// G = [`CLOCK_GRANULARITY`].
    ///
    /// A valid sample also clears the backoff: RFC 6298 §5 notes that a new
    /// measurement after a backoff "may result in collapsing RTO back down".
    /// The engine must not pass samples from retransmitted segments unless
    /// timestamps tell the copies apart (Karn, §3; see [`RttSampler`]).
    pub fn sample(&mut self, rtt: Duration) {
        self.sample_scaled(rtt, 1);
    }

    /// Takes one of several RTT measurements per window, RFC 7323 §4.2:
    /// with timestamps every ACK yields a sample, and the §2.3 gains are
    /// divided by `expected_samples` (alpha' = 1/(8 ExpectedSamples),
    /// beta' = 1/(4 ExpectedSamples); see [`expected_samples`]) so that
    /// RTTVAR keeps about one window's worth of memory instead of
    /// collapsing. `expected_samples` of 0 is taken as 1, which is
    /// [`sample`](Self::sample). The first sample ever is §2.2, unscaled.
    ///
    /// Rounding: in units of 1/8 µs, each of SRTT and RTTVAR moves by the
    /// difference to its target divided by `8 * n` (resp. `4 * n`),
    /// truncated toward zero.
    pub fn sample_scaled(&mut self, rtt: Duration, expected_samples: u32) {
        let r = rtt.total_micros().min(MAX_SAMPLE_US) as i64 * 8;
        let (srtt, rttvar) = if self.has_sample {
            let n = i64::from(expected_samples.max(1));
            let srtt = i64::from(self.srtt_x8);
            let rttvar = i64::from(self.rttvar_x8);
            // RFC 6298 §2.3: RTTVAR first, with the old SRTT.
            let err = (srtt - r).abs();
            (
                srtt + (r - srtt) / (8 * n),
                rttvar + (err - rttvar) / (4 * n),
            )
        } else {
            (r, r / 2)
        };
        // Both stay within [0, 8 * MAX_SAMPLE_US], which fits a u32.
        self.srtt_x8 = u32::try_from(srtt).unwrap_or(u32::MAX);
        self.rttvar_x8 = u32::try_from(rttvar).unwrap_or(u32::MAX);
        self.has_sample = true;
        self.backoff = 0;
        self.rto_us = self.computed_rto();
    }

    /// RTO = SRTT + max(G, K * RTTVAR) with K = 4, rounded up to the µs and
    /// kept within `[min, max]` (RFC 6298 §2.3 - §2.5).
    fn computed_rto(&self) -> u32 {
        let srtt = u64::from(self.srtt_x8).div_ceil(8);
        let var4 = u64::from(self.rttvar_x8).div_ceil(2);
        let rto = srtt + var4.max(G_US);
        let rto = rto.clamp(u64::from(Self::MIN_US), u64::from(Self::MAX_US));
        u32::try_from(rto).unwrap_or(Self::MAX_US)
    }

    /// The current retransmission timeout: the computed RTO doubled for
    /// each consecutive timeout (`rto << backoff`, RFC 6298 §5.5), never
    /// above the maximum (§2.5).
    pub fn rto(&self) -> Duration {
        let base = u64::from(self.rto_us);
        let backed_off = if self.backoff >= 32 {
            u64::MAX
        } else {
            base << self.backoff
        };
        Duration::from_micros(backed_off.min(u64::from(Self::MAX_US)))
    }

    /// The retransmission timer expired: back off, RTO = RTO * 2 capped at
    /// the maximum (RFC 6298 §5.5). The backoff count keeps rising (up to
    /// 255) after the cap is reached, so it also counts the consecutive
    /// timeouts.
    pub fn on_timeout(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// Forgets the backoff. The engine calls this when an ACK acknowledges
    /// new data: the retransmission got through, so the path is alive.
    /// A valid [`sample`](Self::sample) clears the backoff as well; without
    /// timestamps Karn's rule (RFC 6298 §3, §5 note) yields no sample for
    /// retransmitted data, so this is how the timer returns from backoff.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// Consecutive timeouts since the last valid sample or
    /// [`reset_backoff`](Self::reset_backoff).
    pub fn backoff(&self) -> u8 {
        self.backoff
    }

    /// The smoothed RTT, rounded to the µs; `None` before the first sample.
    pub fn srtt(&self) -> Option<Duration> {
        self.has_sample
            .then(|| Duration::from_micros((u64::from(self.srtt_x8) + 4) / 8))
    }

    /// The RTT variation, rounded to the µs; `None` before the first
    /// sample.
    pub fn rttvar(&self) -> Option<Duration> {
        self.has_sample
            .then(|| Duration::from_micros((u64::from(self.rttvar_x8) + 4) / 8))
    }

    /// The RTO this estimator started with (after clamping).
    pub fn initial_rto(&self) -> Duration {
        Duration::from_micros(u64::from(Self::INITIAL_US))
    }

    /// The lower bound on the RTO.
    pub fn min_rto(&self) -> Duration {
        Duration::from_micros(u64::from(Self::MIN_US))
    }

    /// The upper bound on the RTO (never below the lower one).
    pub fn max_rto(&self) -> Duration {
        Duration::from_micros(u64::from(Self::MAX_US))
    }

    /// Forgets SRTT and RTTVAR, keeping the current RTO and backoff: the
    /// next sample is taken as a first one (§2.2). RFC 6298 §5 allows this
    /// after backing off several times, when the estimates are likely bogus.
    pub fn clear_samples(&mut self) {
        self.has_sample = false;
        self.srtt_x8 = 0;
        self.rttvar_x8 = 0;
    }
}

/// Times one segment at a time for RTT samples without timestamps, the
/// classic BSD way, with Karn's algorithm (RFC 6298 §3): a sample is taken
/// only from an ACK covering a segment that was sent exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttSampler {
    /// The sequence number just past the timed segment, if one is timed.
    seq: Option<SeqNumber>,
    /// When the timed segment was sent.
    sent_at: Instant,
}

impl Default for RttSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl RttSampler {
    /// A sampler timing nothing.
    pub const fn new() -> Self {
        RttSampler {
            seq: None,
            sent_at: Instant::ZERO,
        }
    }

    /// A segment ending just before `seq_end` (its sequence number plus
    /// its length, SYN and FIN counted) is sent for the first time at
    /// `now`: time it, unless a segment is already being timed. Returns
    /// whether timing started. Never call it for a retransmission.
    pub fn start(&mut self, seq_end: SeqNumber, now: Instant) -> bool {
        if self.seq.is_some() {
            return false;
        }
        self.seq = Some(seq_end);
        self.sent_at = now;
        true
    }

    /// An ACK for `ack` arrived at `now`: if it covers the timed segment,
    /// returns the measured RTT (for [`RttEstimator::sample`]) and stops
    /// timing.
    pub fn on_ack(&mut self, ack: SeqNumber, now: Instant) -> Option<Duration> {
        let seq = self.seq?;
        if ack.ge(seq) {
            self.seq = None;
            Some(now.saturating_since(self.sent_at))
        } else {
            None
        }
    }

    /// Some data is being retransmitted (timeout or fast retransmit): by
    /// Karn's algorithm the timed segment can no longer give a sample, since
    /// the ACK that covers it may be for a retransmitted copy or triggered
    /// by one. The measurement is discarded.
    pub fn on_retransmit(&mut self) {
        self.seq = None;
    }

    /// Whether a segment is being timed.
    pub fn is_running(&self) -> bool {
        self.seq.is_some()
    }

    /// The end of the timed segment, if any.
    pub fn timed_seq(&self) -> Option<SeqNumber> {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// An estimator whose RTO bounds do not interfere: initial 1 s,
    /// minimum 0, maximum 600 s.
    type Loose = RttEstimator<1000, 0, 600_000>;

    fn loose() -> Loose {
        Loose::new()
    }

    /// RFC 6298's bounds (§2.1, §2.4, §2.5).
    type Rfc6298 = RttEstimator<1000, 1000, 60_000>;

    /// Linux's lower bound with RFC 6298's upper one.
    type Linux = RttEstimator<1000, 200, 60_000>;

    #[test]
    fn starts_at_initial_rto() {
        let e = Rfc6298::new();
        assert_eq!(e.rto(), ms(1000));
        assert_eq!((e.srtt(), e.rttvar(), e.backoff()), (None, None, 0));
        assert_eq!(
            (e.initial_rto(), e.min_rto(), e.max_rto()),
            (RFC6298_INITIAL_RTO, RFC6298_MIN_RTO, RFC6298_MAX_RTO)
        );
        assert_eq!(Rfc6298::default(), e);
        // The initial RTO is clamped; max below min is taken as min.
        assert_eq!(RttEstimator::<50, 200, 900>::new().rto(), ms(200));
        assert_eq!(RttEstimator::<5000, 200, 900>::new().rto(), ms(900));
        let e = RttEstimator::<100, 300, 200>::new();
        assert_eq!((e.rto(), e.max_rto()), (ms(300), ms(300)));
    }

    #[test]
    fn defaults_are_the_configuration() {
        use crate::config::{TCP_RTO_INITIAL_MS, TCP_RTO_MAX_MS, TCP_RTO_MIN_MS};
        let e: RttEstimator = RttEstimator::new();
        let cfg = |v: usize| ms(v as u64);
        assert_eq!(
            (e.initial_rto(), e.min_rto(), e.max_rto()),
            (
                cfg(TCP_RTO_INITIAL_MS),
                cfg(TCP_RTO_MIN_MS),
                cfg(TCP_RTO_MAX_MS)
            )
        );
        assert_eq!(e.rto(), cfg(TCP_RTO_INITIAL_MS));
        // The bounds live in the type, not in each connection's state.
        assert!(core::mem::size_of::<RttEstimator>() <= 16);
    }

    #[test]
    fn rfc6298_formulas_by_hand() {
        let mut e = loose();
        // §2.2: SRTT = R = 100 ms, RTTVAR = R/2 = 50 ms,
        // RTO = 100 + max(1, 4 * 50) = 300 ms.
        e.sample(ms(100));
        assert_eq!(
            (e.srtt(), e.rttvar(), e.rto()),
            (Some(ms(100)), Some(ms(50)), ms(300))
        );
        // §2.3 with R' = 180 ms: RTTVAR = 3/4 * 50 + 1/4 * |100 - 180| =
        // 57.5 ms; SRTT = 7/8 * 100 + 1/8 * 180 = 110 ms;
        // RTO = 110 + 4 * 57.5 = 340 ms.
        e.sample(ms(180));
        assert_eq!(
            (e.srtt(), e.rttvar(), e.rto()),
            (Some(ms(110)), Some(us(57_500)), ms(340))
        );
        // R' = 70 ms: RTTVAR = 3/4 * 57.5 + 1/4 * 40 = 53.125 ms;
        // SRTT = 7/8 * 110 + 70/8 = 105 ms; RTO = 105 + 212.5 = 317.5 ms.
        e.sample(ms(70));
        assert_eq!(e.srtt(), Some(ms(105)));
        assert_eq!(e.rttvar(), Some(us(53_125)));
        assert_eq!(e.rto(), us(317_500));
        // A steady RTT shrinks RTTVAR; the RTO approaches SRTT + G.
        for _ in 0..400 {
            e.sample(ms(105));
        }
        assert_eq!(e.srtt(), Some(ms(105)));
        assert!(e.rttvar().unwrap() < us(10), "{:?}", e.rttvar());
        assert_eq!(e.rto(), ms(105) + CLOCK_GRANULARITY);
    }

    #[test]
    fn granularity_floor_on_the_variance_term() {
        // R = 1 ms: RTTVAR = 0.5 ms, 4 * RTTVAR = 2 ms > G.
        let mut e = loose();
        e.sample(ms(1));
        assert_eq!(e.rto(), ms(3));
        // R = 200 µs: 4 * RTTVAR = 400 µs < G = 1 ms.
        let mut e = loose();
        e.sample(us(200));
        assert_eq!(e.rto(), us(1200));
        // R = 0.
        let mut e = loose();
        e.sample(Duration::ZERO);
        assert_eq!((e.srtt(), e.rto()), (Some(Duration::ZERO), ms(1)));
    }

    #[test]
    fn min_and_max_clamp() {
        let mut e = Linux::new();
        e.sample(ms(10)); // 10 + 20 = 30 ms, raised to 200 ms.
        assert_eq!(e.rto(), ms(200));
        e.sample(Duration::from_secs(100)); // far above the maximum
        assert_eq!(e.rto(), ms(60_000));
        // A huge sample saturates instead of overflowing.
        let mut e = RttEstimator::<1000, 200, 1_000_000>::new();
        e.sample(Duration::from_secs(1_000_000));
        assert_eq!(e.srtt(), Some(us(MAX_SAMPLE_US)));
        assert_eq!(e.rto(), Duration::from_secs(1000));
        // Bounds beyond u32 µs saturate at about 71 minutes.
        let e = RttEstimator::<1000, 200, 7_200_000>::new();
        assert_eq!(e.max_rto(), us(u64::from(u32::MAX)));
        let e = RttEstimator::<1000, 200, { u32::MAX }>::new();
        assert_eq!(e.max_rto(), us(u64::from(u32::MAX)));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let mut e = Linux::new();
        let expect = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000];
        for (i, &want) in expect.iter().enumerate() {
            assert_eq!(e.backoff(), i as u8);
            assert_eq!(e.rto(), ms(want));
            e.on_timeout();
        }
        // The count saturates; the RTO stays at the cap.
        for _ in 0..300 {
            e.on_timeout();
        }
        assert_eq!((e.backoff(), e.rto()), (255, ms(60_000)));
        e.reset_backoff();
        assert_eq!((e.backoff(), e.rto()), (0, ms(1000)));
        // A valid sample collapses the backoff (RFC 6298 §5 note).
        e.sample(ms(100));
        e.on_timeout();
        e.on_timeout();
        assert_eq!(e.rto(), ms(1200));
        e.sample(ms(100));
        assert_eq!(e.backoff(), 0);
        // 100 ms again: RTTVAR = 3/4 * 50 = 37.5 ms, RTO = 250 ms.
        assert_eq!(e.rto(), ms(250));
    }

    #[test]
    fn clear_samples_restarts_from_section_2_2() {
        let mut e = loose();
        e.sample(ms(100));
        e.sample(ms(300));
        e.on_timeout();
        let rto = e.rto();
        e.clear_samples();
        assert_eq!((e.srtt(), e.rto(), e.backoff()), (None, rto, 1));
        e.sample(ms(40));
        assert_eq!(
            (e.srtt(), e.rttvar(), e.rto()),
            (Some(ms(40)), Some(ms(20)), ms(120))
        );
    }

    #[test]
    fn scaled_gains() {
        // n = 1 is the plain update.
        let (mut a, mut b) = (loose(), loose());
        for r in [100, 180, 70, 90, 250] {
            a.sample(ms(r));
            b.sample_scaled(ms(r), 1);
        }
        assert_eq!(a, b);
        let mut c = loose();
        for r in [100, 180, 70, 90, 250] {
            c.sample_scaled(ms(r), 0);
        }
        assert_eq!(a, c);
        // n = 4 by hand: after 100 ms, R' = 180 ms:
        // RTTVAR = 50 + (80 - 50) / 16 = 51.875 ms,
        // SRTT = 100 + 80 / 32 = 102.5 ms.
        let mut e = loose();
        e.sample_scaled(ms(100), 4); // the first is unscaled
        e.sample_scaled(ms(180), 4);
        assert_eq!(e.srtt(), Some(us(102_500)));
        assert_eq!(e.rttvar(), Some(us(51_875)));
        assert_eq!(e.rto(), us(102_500 + 4 * 51_875));
        assert_eq!(expected_samples(0, 1460), 1);
        assert_eq!(expected_samples(2920, 1460), 1);
        assert_eq!(expected_samples(2921, 1460), 2);
        assert_eq!(expected_samples(64 * 1460, 1460), 32);
        assert_eq!(expected_samples(u32::MAX, 0), u32::MAX / 2 + 1);
    }

    #[test]
    fn scaled_sampling_keeps_window_memory() {
        // A window of 32 ACKs per RTT, with RTTs alternating 90 / 110 ms
        // inside each window and one window in eight at 200 ms.
        let n = 32;
        let (mut scaled, mut unscaled) = (loose(), loose());
        for window in 0..64 {
            for i in 0..n {
                let r = if window % 8 == 7 {
                    200
                } else if i % 2 == 0 {
                    90
                } else {
                    110
                };
                scaled.sample_scaled(ms(r), n);
                unscaled.sample(ms(r));
            }
        }
        // Scaling converges to the mean...
        let srtt = scaled.srtt().unwrap().total_micros();
        assert!((95_000..=125_000).contains(&srtt), "{srtt}");
        // ...and remembers the 200 ms window: after seven calm windows,
        // RTTVAR still reflects it.
        for _ in 0..7 * n {
            scaled.sample_scaled(ms(100), n);
            unscaled.sample(ms(100));
        }
        let (sv, uv) = (scaled.rttvar().unwrap(), unscaled.rttvar().unwrap());
        assert!(sv > ms(5), "scaled RTTVAR collapsed: {sv:?}");
        assert!(uv < us(100), "unscaled RTTVAR: {uv:?}");
        assert!(scaled.rto() > unscaled.rto() + ms(20));
        // Many samples at one RTT still converge to it.
        for _ in 0..100 * n {
            scaled.sample_scaled(ms(100), n);
        }
        let srtt = scaled.srtt().unwrap().total_micros();
        assert!(srtt.abs_diff(100_000) <= u64::from(n), "{srtt}");
    }

    #[test]
    fn sampler_measures_one_segment() {
        let t0 = Instant::from_millis(1000);
        let mut s = RttSampler::default();
        assert!(!s.is_running());
        assert_eq!(s.on_ack(SeqNumber(500), t0), None);
        assert!(s.start(SeqNumber(1100), t0));
        // A second segment does not restart the measurement.
        assert!(!s.start(SeqNumber(2200), t0 + ms(5)));
        assert_eq!(s.timed_seq(), Some(SeqNumber(1100)));
        // A partial ACK does not cover it.
        assert_eq!(s.on_ack(SeqNumber(1099), t0 + ms(30)), None);
        assert_eq!(s.on_ack(SeqNumber(2200), t0 + ms(42)), Some(ms(42)));
        assert!(!s.is_running());
        assert_eq!(s.on_ack(SeqNumber(2200), t0 + ms(50)), None);
        // Around the wrap.
        assert!(s.start(SeqNumber(0xffff_fff0), t0));
        assert_eq!(s.on_ack(SeqNumber(0xffff_ff00), t0 + ms(1)), None);
        assert_eq!(s.on_ack(SeqNumber(0x10), t0 + ms(7)), Some(ms(7)));
    }

    #[test]
    fn karn_discards_retransmitted_measurement() {
        let t0 = Instant::from_millis(1000);
        let mut s = RttSampler::new();
        s.start(SeqNumber(1100), t0);
        s.on_retransmit();
        assert!(!s.is_running());
        // The ACK of the retransmitted copy gives no sample.
        assert_eq!(s.on_ack(SeqNumber(1100), t0 + ms(1500)), None);
        // A fresh segment is timed again.
        assert!(s.start(SeqNumber(2200), t0 + ms(1600)));
        assert_eq!(s.on_ack(SeqNumber(2200), t0 + ms(1650)), Some(ms(50)));
    }
}
