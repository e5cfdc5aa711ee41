//! NewReno congestion avoidance (RFC 5681 §3.1) with byte counting
//! (RFC 3465 §2.1), and the RFC 5681 equation (4) loss threshold.
//!
//! Slow start, fast recovery (RFC 6582) and the retransmission-timeout
//! response are shared with CUBIC and live in the parent module; this file
//! only holds what differs: the linear, one-segment-per-window growth.

/// NewReno's per-socket state: the bytes acknowledged towards the next
/// one-segment increase of the congestion window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NewRenoState {
    bytes_acked: u32,
}

impl NewRenoState {
    /// A fresh state with nothing counted.
    pub const fn new() -> Self {
        NewRenoState { bytes_acked: 0 }
    }

    /// Forgets the bytes counted so far (after a loss, an RTO or an idle
    /// restart, RFC 3465 §2.1).
    pub fn reset(&mut self) {
        self.bytes_acked = 0;
    }

    /// One ACK of `acked` new bytes in congestion avoidance; returns the new
    /// congestion window.
    ///
    /// RFC 3465 §2.1 byte counting instead of the per-ACK
    /// `cwnd += SMSS*SMSS/cwnd` of RFC 5681 equation (3): the acknowledged
    /// bytes are summed, and each time the sum reaches `cwnd` it is reduced
    /// by `cwnd` and the window grows by one `mss`. That is exactly one
    /// segment per window of data acknowledged, whatever the ACK pattern
    /// (delayed ACKs, stretch ACKs), without the rounding loss of the
    /// per-ACK formula at large windows. At most one segment per ACK, and
    /// the leftover is capped at one window so a huge ACK cannot bank growth.
    pub fn on_ack(&mut self, cwnd: u32, mss: u32, acked: u32) -> u32 {
        let cwnd = cwnd.max(1);
        self.bytes_acked = self.bytes_acked.saturating_add(acked);
        if self.bytes_acked < cwnd {
            return cwnd;
        }
        let grown = cwnd.saturating_add(mss);
        self.bytes_acked = (self.bytes_acked - cwnd).min(grown - 1);
        grown
    }
}

/// The slow-start threshold after a loss, RFC 5681 equation (4):
/// `max(FlightSize / 2, 2 * SMSS)`, in bytes.
pub const fn ssthresh_after_loss(flight_size: u32, mss: u32) -> u32 {
    let half = flight_size / 2;
    let floor = mss.saturating_mul(2);
    if half > floor {
        half
    } else {
        floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_segment_per_window_acked() {
        let mss = 1000;
        let mut s = NewRenoState::new();
        let mut cwnd = 10 * mss;
        // Nine full-sized ACKs: not yet a window's worth.
        for _ in 0..9 {
            cwnd = s.on_ack(cwnd, mss, mss);
        }
        assert_eq!(cwnd, 10 * mss);
        // The tenth completes the window.
        cwnd = s.on_ack(cwnd, mss, mss);
        assert_eq!(cwnd, 11 * mss);
        assert_eq!(s.bytes_acked, 0);
    }

    #[test]
    fn delayed_acks_grow_the_same() {
        let mss = 1460;
        let (mut a, mut b) = (NewRenoState::new(), NewRenoState::new());
        let (mut wa, mut wb) = (20 * mss, 20 * mss);
        for _ in 0..400 {
            wa = a.on_ack(wa, mss, mss);
        }
        for _ in 0..200 {
            wb = b.on_ack(wb, mss, 2 * mss);
        }
        assert_eq!(wa, wb);
    }

    #[test]
    fn stretch_ack_adds_one_segment_and_caps_leftover() {
        let mut s = NewRenoState::new();
        let cwnd = s.on_ack(4000, 1000, 100_000);
        assert_eq!(cwnd, 5000);
        assert!(s.bytes_acked < cwnd);
        // Near the top of the range nothing overflows.
        let w = s.on_ack(u32::MAX - 10, 1460, u32::MAX);
        assert_eq!(w, u32::MAX);
    }

    #[test]
    fn reset_forgets() {
        let mut s = NewRenoState::new();
        s.on_ack(10_000, 1000, 9000);
        s.reset();
        assert_eq!(s.on_ack(10_000, 1000, 9000), 10_000);
    }

    #[test]
    fn equation_4() {
        assert_eq!(ssthresh_after_loss(40_000, 1460), 20_000);
        assert_eq!(ssthresh_after_loss(1000, 1460), 2920);
        assert_eq!(ssthresh_after_loss(0, 536), 1072);
        assert_eq!(ssthresh_after_loss(u32::MAX, u32::MAX), u32::MAX);
    }
}
