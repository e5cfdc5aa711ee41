//! A wall clock for the stack's injected time.

use wolfip_core::time::{Duration, Instant};

/// Converts [`std::time::Instant`] (monotonic) into the stack's
/// [`Instant`]: microseconds since the clock was created.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: std::time::Instant,
}

impl Clock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Clock {
            start: std::time::Instant::now(),
        }
    }

    /// Microseconds elapsed since the clock was created.
    pub fn now(&self) -> Instant {
        let micros = self.start.elapsed().as_micros();
        Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// The real time left until the stack instant `deadline`, zero if it
    /// has passed; handy as a poll timeout.
    pub fn until(&self, deadline: Instant) -> std::time::Duration {
        to_std(deadline.saturating_since(self.now()))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// A stack [`Duration`] as a [`std::time::Duration`].
pub fn to_std(d: Duration) -> std::time::Duration {
    std::time::Duration::from_micros(d.total_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_in_micros() {
        let clock = Clock::new();
        let a = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = clock.now();
        assert!(b - a >= Duration::from_millis(5), "{a:?} {b:?}");
        assert!(b - a < Duration::from_secs(5));
        assert_eq!(clock.until(a), std::time::Duration::ZERO);
        let later = clock.now() + Duration::from_secs(10);
        assert!(clock.until(later) > std::time::Duration::from_secs(9));
        assert_eq!(
            to_std(Duration::from_micros(1500)),
            std::time::Duration::from_micros(1500)
        );
    }
}
