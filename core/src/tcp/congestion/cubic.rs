//! CUBIC (RFC 9438 §4) in integer arithmetic, for targets without an FPU.
//!
//! Only congestion avoidance and the loss response live here; slow start
//! (standard, no HyStart++), fast recovery and the application-limited
//! check are shared with NewReno in the parent module.
//!
//! # Units
//!
//! * Windows (`cwnd`, `W_max`, `W_est`, `cwnd_prior`) are bytes, `u32`. The
//!   RFC's formulas count segments; they are scaled by the MSS here.
//! * Time on the cubic curve is whole milliseconds: `t` (since the start of
//!   the epoch, plus one RTT for the target) is a `u64`, `K` a `u32`. The RTT
//!   is kept in microseconds (`u32`, saturating at ~71 minutes) and added
//!   before the conversion to milliseconds.
//! * `C = 0.4` segments/s³ is `0.4 * MSS` bytes/s³ = `MSS / 2.5e9`
//!   bytes/ms³, so `C*(t-K)³ = MSS * d³ / CUBE_DIV` bytes with `d = |t-K|` in
//!   milliseconds and `CUBE_DIV = 2_500_000_000`.
//! * `β = 7/10`; fast convergence `(1+β)/2 = 17/20`;
//!   `α = 3(1-β)/(1+β) = 0.9/1.7 = 9/17` exactly.
//!
//! # Overflow bounds
//!
//! * `K³ = (W_max - cwnd_epoch) * 2.5e9 / MSS` ms³; the product is below
//!   `2³² * 2.5e9 ≈ 1.07e19 < 2⁶⁴`, so `K <= 2_206_000` ms (37 minutes, at an
//!   MSS of 1 byte; about 194 s at 1460).
//! * `d` is clamped to [`MAX_OFFSET_MS`] (43 minutes) before cubing, so
//!   `d³ <= 1.76e19 < 2⁶⁴`. `K` is below the clamp, so only the convex side
//!   ever clamps, where the term is already `>= 7e9 * MSS` bytes, more than
//!   any `u32` window, and the target is capped at `1.5 * cwnd` anyway. Any
//!   elapsed time (hours, days, `u64::MAX` microseconds) is therefore safe.
//! * `MSS * d³ / 2.5e9` is computed as `q*MSS + r*MSS/2.5e9` with
//!   `d³ = q*2.5e9 + r`: the exact floor, with `r*MSS < 2.5e9 * 2³² < 2⁶⁴`
//!   and the first product saturating.
//! * The per-ACK increment numerator `(target - cwnd) * acked + remainder`
//!   is below `2³¹ * 2³² + 2³² < 2⁶⁴`.

use crate::time::{Duration, Instant};

/// `1e9 / C`: milliseconds³ per segment of the cubic term (C = 0.4/s³).
const CUBE_DIV: u64 = 2_500_000_000;
/// Clamp for `|t - K|` in milliseconds: `MAX_OFFSET_MS³ < 2⁶⁴`.
const MAX_OFFSET_MS: u64 = 2_600_000;
/// Multiplicative decrease β = 0.7 (RFC 9438 §4.6).
const BETA_NUM: u64 = 7;
const BETA_DEN: u64 = 10;
/// Fast convergence factor (1 + β) / 2 = 0.85 (RFC 9438 §4.7).
const FC_NUM: u64 = 17;
const FC_DEN: u64 = 20;
/// Reno-friendly additive increase α = 3(1 - β)/(1 + β) = 9/17 (§4.3).
const ALPHA_NUM: u64 = 9;
const ALPHA_DEN: u64 = 17;

/// The integer cube root, rounded down: the largest `y` with `y³ <= x`.
///
/// Bit by bit, three bits of `x` per bit of the result (Hacker's Delight
/// `icbrt`, widened to 64 bits): 22 rounds of shifts, adds and small
/// multiplications, no division. The comparison is made on `x >> s` so that
/// `b << s` is only formed when it is known to fit.
pub const fn cbrt_u64(mut x: u64) -> u64 {
    let mut y: u64 = 0;
    let mut s: i32 = 63;
    while s >= 0 {
        y <<= 1;
        // (y + 1)³ - y³ for the doubled y; y < 2²¹ here, so b < 2⁴⁴.
        let b = 3 * y * (y + 1) + 1;
        if (x >> s) >= b {
            x -= b << s;
            y += 1;
        }
        s -= 3;
    }
    y
}

fn sat32(x: u64) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// `C * d³` in bytes for an offset of `d_ms` milliseconds: `mss * d³ / 2.5e9`,
/// saturating (see the module's overflow bounds).
fn cubic_term(d_ms: u64, mss: u32) -> u64 {
    let d = if d_ms < MAX_OFFSET_MS {
        d_ms
    } else {
        MAX_OFFSET_MS
    };
    let cube = d * d * d;
    let m = u64::from(mss);
    (cube / CUBE_DIV)
        .saturating_mul(m)
        .saturating_add(cube % CUBE_DIV * m / CUBE_DIV)
}

/// `K` in milliseconds for a window `delta` bytes below `W_max` (RFC 9438
/// §4.2: `K = cbrt((W_max - cwnd_epoch) / C)`).
fn k_millis(delta: u32, mss: u32) -> u32 {
    let mss = u64::from(mss.max(1));
    sat32(cbrt_u64(u64::from(delta) * CUBE_DIV / mss))
}

/// CUBIC's per-socket state (RFC 9438 §4.1 variables), all windows in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CubicState {
    /// `t_epoch`: the start of the current congestion-avoidance stage;
    /// `None` until the next ACK in congestion avoidance (or the end of fast
    /// recovery) starts one.
    epoch: crate::time::Deadline,
    /// `W_max`: the window just before the last reduction, lowered by fast
    /// convergence; 0 before the first congestion event.
    w_max: u32,
    /// `K` in milliseconds for the current epoch.
    k_ms: u32,
    /// `cwnd_prior`: the window when ssthresh was last set (for α, §4.3).
    cwnd_prior: u32,
    /// `W_est`: the Reno-friendly estimate (§4.3).
    w_est: u32,
    /// Bytes acknowledged towards the next `W_est` increase.
    est_acked: u32,
    /// Remainder of the per-ACK `(target - cwnd) * acked / cwnd` division.
    ca_rem: u32,
    /// The latest RTT estimate from the engine, in microseconds.
    rtt_us: u32,
    /// The next epoch follows a retransmission timeout: K = 0 and
    /// `W_max = cwnd_epoch` (§4.8).
    after_rto: bool,
}

impl Default for CubicState {
    fn default() -> Self {
        Self::new()
    }
}

impl CubicState {
    /// A fresh state: no congestion event seen, no epoch, RTT unknown (0).
    pub const fn new() -> Self {
        CubicState {
            epoch: crate::time::Deadline::NONE,
            w_max: 0,
            k_ms: 0,
            cwnd_prior: 0,
            w_est: 0,
            est_acked: 0,
            ca_rem: 0,
            rtt_us: 0,
            after_rto: false,
        }
    }

    /// Records the engine's current RTT estimate (used for `W_cubic(t+RTT)`).
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt_us = sat32(rtt.total_micros());
    }

    /// Ends the current epoch: the next ACK in congestion avoidance starts a
    /// new one from the window it finds (application-limited periods, idle
    /// restarts and MSS changes, RFC 9438 §5.8).
    pub fn reset_epoch(&mut self) {
        self.epoch = crate::time::Deadline::NONE;
    }

    /// A congestion event (fast retransmit or the first RTO) with the
    /// window at `cwnd`: `W_max` bookkeeping with fast convergence (§4.7),
    /// `cwnd_prior`, and the new ssthresh `max(β * cwnd, 2 * mss)` (§4.6),
    /// which is returned. The epoch ends; the next starts after recovery.
    pub fn on_congestion(&mut self, cwnd: u32, mss: u32) -> u32 {
        let c = u64::from(cwnd);
        self.w_max = if cwnd < self.w_max {
            sat32(c * FC_NUM / FC_DEN)
        } else {
            cwnd
        };
        self.cwnd_prior = cwnd;
        self.epoch = crate::time::Deadline::NONE;
        sat32((c * BETA_NUM / BETA_DEN).max(u64::from(mss) * 2))
    }

    /// A retransmission timeout: the next congestion-avoidance stage starts
    /// with `K = 0` and `W_max` = the window at its start (§4.8).
    pub fn on_rto(&mut self) {
        self.epoch = crate::time::Deadline::NONE;
        self.after_rto = true;
    }

    /// Starts a congestion-avoidance stage at `now` with window `cwnd`
    /// (`cwnd_epoch`): computes `K`, and sets `W_est = cwnd_epoch` (§4.3).
    pub fn start_epoch(&mut self, now: Instant, cwnd: u32, mss: u32) {
        self.epoch = crate::time::Deadline::at(now);
        if self.after_rto || self.w_max <= cwnd {
            // After an RTO (§4.8), or with no reduction to recover from (first
            // exit from slow start, W_max overtaken during an app-limited
            // pause): the curve starts at its inflection point, convex.
            self.w_max = cwnd;
            self.k_ms = 0;
        } else {
            self.k_ms = k_millis(self.w_max - cwnd, mss);
        }
        self.after_rto = false;
        self.w_est = cwnd;
        self.est_acked = 0;
        self.ca_rem = 0;
    }

    /// `W_cubic(t)` in bytes for `t_ms` milliseconds into the epoch (§4.2,
    /// figure 1): `C*(t-K)³ + W_max`, saturating, never negative.
    fn w_cubic(&self, t_ms: u64, mss: u32) -> u64 {
        let k = u64::from(self.k_ms);
        let w_max = u64::from(self.w_max);
        if t_ms < k {
            w_max.saturating_sub(cubic_term(k - t_ms, mss))
        } else {
            w_max.saturating_add(cubic_term(t_ms - k, mss))
        }
    }

    /// `W_est += α * segments_acked / cwnd` (§4.3) in bytes: one `mss` per
    /// `cwnd / α` bytes acknowledged, α switching from 9/17 to 1 once `W_est`
    /// reaches `cwnd_prior`.
    fn grow_w_est(&mut self, cwnd: u32, mss: u32, acked: u32) {
        self.est_acked = self.est_acked.saturating_add(acked);
        let c = u64::from(cwnd.max(1));
        let need = if self.w_est >= self.cwnd_prior {
            c
        } else {
            c * ALPHA_DEN / ALPHA_NUM
        };
        let have = u64::from(self.est_acked);
        if have >= need {
            let n = have / need;
            let grown = u64::from(self.w_est).saturating_add(n.saturating_mul(u64::from(mss)));
            self.w_est = sat32(grown);
            self.est_acked = sat32(have - n * need);
        }
    }

    /// One ACK of `acked` new bytes in congestion avoidance, window `cwnd`;
    /// returns the new window (RFC 9438 §4.3 to §4.5).
    ///
    /// In the Reno-friendly region (`W_cubic(t) < W_est`) the window is
    /// `W_est`. Otherwise the target is `W_cubic(t + RTT)` clamped to
    /// `[cwnd, 1.5 * cwnd]`, and the window grows by
    /// `(target - cwnd) * acked / cwnd` bytes (the per-segment
    /// `(target - cwnd) / cwnd` of §4.4 and §4.5, byte-counted), the division
    /// remainder being carried to the next ACK. The same rule covers the
    /// concave (`cwnd < W_max`) and convex regions.
    pub fn on_ack(&mut self, now: Instant, cwnd: u32, mss: u32, acked: u32) -> u32 {
        let cwnd = cwnd.max(1);
        let start = match self.epoch.get() {
            Some(start) => start,
            None => {
                self.start_epoch(now, cwnd, mss);
                now
            }
        };
        let elapsed_us = now.saturating_since(start).total_micros();
        let t_ms = elapsed_us / 1000;
        let t_rtt_ms = elapsed_us.saturating_add(u64::from(self.rtt_us)) / 1000;

        self.grow_w_est(cwnd, mss, acked);
        if self.w_cubic(t_ms, mss) < u64::from(self.w_est) {
            return cwnd.max(self.w_est);
        }

        let c = u64::from(cwnd);
        let target = self.w_cubic(t_rtt_ms, mss).clamp(c, c + c / 2);
        let num = (target - c) * u64::from(acked) + u64::from(self.ca_rem);
        let inc = (num / c).min(target - c);
        self.ca_rem = sat32(num % c);
        sat32(c + inc)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Algorithm, Congestion};
    use super::*;

    const MSS: u32 = 1460;

    /// The CUBIC state of a controller running CUBIC.
    fn cubic_of(cc: &Congestion) -> &CubicState {
        match &cc.state {
            super::super::AlgoState::Cubic(c) => c,
            other => panic!("not CUBIC: {other:?}"),
        }
    }

    /// A CUBIC controller that has just left fast recovery at `t0` after a
    /// loss at a window of `w_max_segs` segments.
    fn after_loss(w_max_segs: u32, t0: Instant) -> Congestion {
        let mut cc = Congestion::new(Algorithm::Cubic, MSS);
        cc.cwnd = w_max_segs * MSS;
        cc.on_loss_detected(t0, cc.cwnd);
        cc.on_recovery_exit(t0);
        cc
    }

    #[test]
    fn cbrt_exact_on_cubes_and_their_neighbours() {
        // Every perfect cube that fits in u64: 2642245³ < 2⁶⁴ < 2642246³.
        for n in 0..=2_642_245u64 {
            let cube = n * n * n;
            assert_eq!(cbrt_u64(cube), n);
            if n > 0 {
                assert_eq!(cbrt_u64(cube - 1), n - 1);
            }
            if n < 2_642_245 {
                let next = (n + 1) * (n + 1) * (n + 1);
                assert_eq!(cbrt_u64(next - 1), n);
            }
        }
        assert_eq!(cbrt_u64(u64::MAX), 2_642_245);
    }

    #[test]
    fn cbrt_monotonic_and_floor() {
        let mut prev = 0;
        for x in 0..=(1u64 << 22) {
            let r = cbrt_u64(x);
            assert!(r == prev || r == prev + 1, "x={x}");
            prev = r;
        }
        // Pseudo-random values across the whole range: r³ <= x < (r+1)³.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = s >> (s % 64);
            let r = cbrt_u64(x);
            assert!(r * r * r <= x);
            let up = (r + 1)
                .checked_mul(r + 1)
                .and_then(|v| v.checked_mul(r + 1));
            assert!(up.is_none_or(|v| v > x), "x={x} r={r}");
        }
    }

    #[test]
    fn beta_reduction_sets_w_max() {
        let cc = after_loss(100, Instant::ZERO);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert_eq!(cc.window(), 70 * MSS);
        assert_eq!(cubic_of(&cc).w_max, 100 * MSS);
        assert_eq!(cubic_of(&cc).cwnd_prior, 100 * MSS);
        // K = cbrt(30 segments / 0.4) s = cbrt(75) s = 4.217 s.
        assert_eq!(cubic_of(&cc).k_ms, 4217);
        // The floor of 2 segments.
        let mut small = Congestion::new(Algorithm::Cubic, MSS);
        small.cwnd = 2 * MSS;
        small.on_loss_detected(Instant::ZERO, small.cwnd);
        assert_eq!(small.window(), 2 * MSS);
    }

    #[test]
    fn fast_convergence_lowers_w_max() {
        let t0 = Instant::ZERO;
        let mut cc = after_loss(100, t0);
        // A second loss below the previous W_max: W_max = 0.85 * cwnd.
        cc.cwnd = 80 * MSS;
        cc.on_loss_detected(t0, cc.cwnd);
        assert_eq!(cubic_of(&cc).w_max, 68 * MSS);
        assert_eq!(cc.ssthresh(), 56 * MSS);
        cc.on_recovery_exit(t0);
        // A loss above W_max: W_max = cwnd.
        cc.cwnd = 120 * MSS;
        cc.on_loss_detected(t0, cc.cwnd);
        assert_eq!(cubic_of(&cc).w_max, 120 * MSS);
        assert_eq!(cc.ssthresh(), 84 * MSS);
    }

    #[test]
    fn reaches_w_max_at_k_concave_then_convex() {
        let t0 = Instant::from_secs(5);
        let rtt = Duration::from_millis(100);
        let w_max = 1000 * MSS;
        let mut cc = after_loss(1000, t0);
        // K = cbrt(300 / 0.4) s = cbrt(750) s = 9.0856 s.
        assert_eq!(cubic_of(&cc).k_ms, 9085);
        let mut now = t0;
        let mut per_second = [cc.window(); 19];
        for (i, slot) in per_second.iter_mut().enumerate().skip(1) {
            for round in 0..10 {
                if i == 10 && round == 1 {
                    // Just past K (9.1 s): the window is back at W_max.
                    let w = u64::from(cc.window());
                    let diff = w.abs_diff(u64::from(w_max));
                    assert!(diff * 50 <= u64::from(w_max), "{w} vs {w_max}");
                }
                cc.ack_round(&mut now, rtt);
            }
            *slot = cc.window();
        }
        let inc: [u32; 18] = core::array::from_fn(|i| per_second[i + 1] - per_second[i]);
        // Concave before K: shrinking increments, below W_max.
        for i in 0..8 {
            assert!(inc[i] > inc[i + 1], "concave {i}: {inc:?}");
            assert!(per_second[i + 1] < w_max);
        }
        // Convex after K: growing increments, above W_max.
        for i in 10..17 {
            assert!(inc[i] < inc[i + 1], "convex {i}: {inc:?}");
            assert!(per_second[i + 1] > w_max);
        }
        // 18 s in: C*(18 - K)³ + W_max = 282 segments above W_max, within 2%.
        let expect = cubic_of(&cc).w_cubic(18_000 + 100, MSS);
        let got = u64::from(per_second[18]);
        assert!(got.abs_diff(expect) * 50 <= expect, "{got} vs {expect}");
    }

    #[test]
    fn reno_friendly_region_dominates_small_bdp() {
        // 20 segments, 1 ms RTT: the cubic curve barely moves in 200 ms while
        // Reno grows one segment per RTT.
        let t0 = Instant::ZERO;
        let rtt = Duration::from_millis(1);
        let mut cc = after_loss(20, t0);
        assert_eq!(cc.window(), 14 * MSS);
        let mut now = t0;
        // α = 9/17 while W_est < cwnd_prior: ~0.53 segment per RTT.
        for _ in 0..5 {
            cc.ack_round(&mut now, rtt);
        }
        let w = cc.window();
        assert!((16 * MSS..=17 * MSS).contains(&w), "{w}");
        for _ in 5..200 {
            cc.ack_round(&mut now, rtt);
        }
        let curve = cubic_of(&cc).w_cubic(200, MSS);
        assert!(curve < u64::from(20 * MSS), "{curve}");
        // 6 segments at α=9/17 (~12 RTTs), then one per RTT.
        let w = cc.window();
        assert!((180 * MSS..=215 * MSS).contains(&w), "{}", w / MSS);
    }

    #[test]
    fn rto_restarts_convex_from_ssthresh() {
        let t0 = Instant::ZERO;
        let mut cc = Congestion::new(Algorithm::Cubic, MSS);
        cc.cwnd = 100 * MSS;
        cc.on_rto(t0, cc.cwnd);
        assert_eq!(cc.window(), MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        let mut now = t0;
        let rtt = Duration::from_millis(250);
        while cc.window() < cc.ssthresh() {
            cc.ack_round(&mut now, rtt);
        }
        // The last slow-start round reached ssthresh part-way: its remaining
        // ACKs already ran in congestion avoidance, from a 70-segment epoch.
        assert!((70 * MSS..71 * MSS).contains(&cc.window()));
        assert_eq!(cubic_of(&cc).k_ms, 0);
        assert_eq!(cubic_of(&cc).w_max, 70 * MSS);
        // The first seconds are Reno-friendly (W_est gains ~2 segments/s at
        // this RTT, C*t³ less); from 3 s on the curve is convex: each second
        // adds more than the one before.
        for _ in 0..11 {
            cc.ack_round(&mut now, rtt);
        }
        let mut last = cc.window();
        let mut last_inc = 0;
        for _ in 0..4 {
            for _ in 0..4 {
                cc.ack_round(&mut now, rtt);
            }
            let inc = cc.window() - last;
            assert!(inc > last_inc, "{inc} <= {last_inc}");
            (last, last_inc) = (cc.window(), inc);
        }
        assert!(last > 100 * MSS);
    }

    #[test]
    fn growth_capped_at_one_and_a_half() {
        let t0 = Instant::ZERO;
        let mut cc = after_loss(100, t0);
        let before = cc.window();
        // An hour later, one ACK of a whole window: target capped at 1.5x.
        cc.on_ack(t0 + Duration::from_secs(3600), before, None, before);
        assert_eq!(cc.window(), before + before / 2);
    }

    #[test]
    fn no_overflow_near_1_gb_after_an_hour() {
        let t0 = Instant::from_secs(1);
        let hour = Duration::from_secs(3600);
        for mss in [1, 536, MSS, 9000, 65_535] {
            for w in [1u32 << 30, u32::MAX - 1] {
                let mut cc = Congestion::new(Algorithm::Cubic, mss);
                cc.cwnd = w;
                cc.on_loss_detected(t0, w);
                cc.on_recovery_exit(t0);
                let start = cc.window();
                cc.on_ack(t0 + hour, mss, Some(hour), start);
                let w1 = cc.window();
                assert!(w1 >= start && u64::from(w1) <= u64::from(start) * 3 / 2);
                cc.on_ack(t0 + hour, w1, Some(hour), w1);
                let far = Instant::from_micros(u64::MAX);
                cc.on_ack(
                    far,
                    u32::MAX,
                    Some(Duration::from_micros(u64::MAX)),
                    u32::MAX,
                );
                assert!(cc.window() >= w1);
                // K stays below the offset clamp, even at an MSS of 1.
                assert!(u64::from(cubic_of(&cc).k_ms) < MAX_OFFSET_MS);
            }
        }
    }

    #[test]
    fn w_cubic_is_monotonic_and_exact_at_k() {
        for mss in [1, 536, MSS, 65_535] {
            for w_max in [3 * mss, 100 * MSS, 1 << 30, u32::MAX] {
                let mut s = CubicState::new();
                s.w_max = w_max;
                let epoch_cwnd = sat32(u64::from(w_max) * 7 / 10);
                s.start_epoch(Instant::ZERO, epoch_cwnd, mss);
                assert_eq!(s.w_cubic(u64::from(s.k_ms), mss), u64::from(w_max));
                // W_cubic(0) is cwnd_epoch, up to the rounding of K.
                let w0 = s.w_cubic(0, mss);
                assert!(w0 >= u64::from(epoch_cwnd) && w0 <= u64::from(w_max));
                let mut prev = 0;
                let mut t = 0u64;
                while t < 10_000_000 {
                    let w = s.w_cubic(t, mss);
                    assert!(w >= prev);
                    prev = w;
                    t = t * 5 / 4 + 1;
                }
                assert!(s.w_cubic(u64::MAX, mss) >= prev);
            }
        }
    }
}
