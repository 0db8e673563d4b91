//! Poll intervals: start fast, grow, cap, with jitter so many workflows do not poll in step.

use std::time::Duration;

/// A growing interval with ±`jitter` randomness.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    factor: f64,
    max: Duration,
    jitter: f64,
    rng: u64,
}

impl Backoff {
    /// Starts at `initial`, multiplies by `factor` after each step, never exceeds `max`.
    /// `jitter` is the relative spread (0.2 = ±20%); `seed` makes the sequence reproducible.
    pub fn new(initial: Duration, factor: f64, max: Duration, jitter: f64, seed: u64) -> Self {
        Backoff {
            next: initial,
            factor,
            max,
            jitter,
            rng: seed | 1,
        }
    }

    /// Restarts from `initial` (for example when the phase changes and news is expected soon).
    pub fn reset(&mut self, initial: Duration) {
        self.next = initial;
    }

    fn random_unit(&mut self) -> f64 {
        // xorshift64*: enough for spreading wake-ups.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let bits = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }

    /// The next interval to wait.
    pub fn next_interval(&mut self) -> Duration {
        let base = self.next.min(self.max);
        self.next = base.mul_f64(self.factor).min(self.max);
        let spread = 1.0 + self.jitter * (2.0 * self.random_unit() - 1.0);
        base.mul_f64(spread).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters_within_bounds() {
        let mut b = Backoff::new(Duration::from_secs(2), 1.5, Duration::from_secs(10), 0.2, 7);
        let xs: Vec<f64> = (0..10).map(|_| b.next_interval().as_secs_f64()).collect();
        assert!((1.6..=2.4).contains(&xs[0]), "{xs:?}");
        assert!(xs.iter().all(|&x| x <= 10.0));
        assert!(xs[9] >= 8.0, "{xs:?}");
        let mut again = Backoff::new(Duration::from_secs(2), 1.5, Duration::from_secs(10), 0.2, 7);
        assert_eq!(again.next_interval().as_secs_f64(), xs[0], "reproducible");
        b.reset(Duration::from_secs(1));
        assert!(b.next_interval() <= Duration::from_millis(1200));
    }
}
