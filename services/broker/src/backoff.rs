//! Jittered exponential backoff ("full jitter"), so many clients that lost the same broker do
//! not come back in lockstep.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self { min, max: max.max(min), attempt: 0 }
    }

    /// The pause before the next attempt: uniform in `[min, min * 2^attempt]`, capped at `max`.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.min.saturating_mul(1u32 << self.attempt.min(16)).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let span = ceiling.saturating_sub(self.min);
        let jitter = rand::rng().random_range(0.0..=1.0);
        self.min + span.mul_f64(jitter)
    }

    /// Call after a success: the next failure starts from `min` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_within_bounds_and_resets() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        let mut b = Backoff::new(min, max);
        for attempt in 0..20u32 {
            let d = b.next_delay();
            let ceiling = min.saturating_mul(1 << attempt.min(16)).min(max);
            assert!(d >= min && d <= ceiling, "attempt {attempt}: {d:?}");
        }
        b.reset();
        assert!(b.next_delay() <= min);
    }
}
