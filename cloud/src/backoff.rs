//! The one backoff schedule: capped exponential delays with jitter, for retrying requests
//! (`http`) and for waiting on the cloud (an image to become active, a server to boot or to
//! disappear). The caller bounds a wait with its own timeout.

use std::future::Future;
use std::time::Duration;

/// Delays that grow by `factor` from `first` up to `cap`, each with up to `jitter` (a
/// fraction) added so that many clients do not retry or poll in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    factor: f64,
    jitter: f64,
    attempt: u32,
}

impl Backoff {
    /// For polls: half as long again each time, up to 20% jitter.
    pub fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff {
            first,
            cap,
            factor: 1.5,
            jitter: 0.2,
            attempt: 0,
        }
    }

    /// For retries: doubling, up to 25% jitter.
    pub fn doubling(first: Duration, cap: Duration) -> Backoff {
        Backoff {
            factor: 2.0,
            jitter: 0.25,
            ..Backoff::new(first, cap)
        }
    }

    /// The delay before attempt `attempt + 1`, jitter included.
    pub fn delay(&self, attempt: u32) -> Duration {
        let grown = self
            .first
            .mul_f64(self.factor.powi(attempt.min(64) as i32).min(1e9));
        let base = grown.min(self.cap);
        base + base.mul_f64(jitter_fraction() * self.jitter)
    }

    /// The next delay; advances the schedule.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }
}

/// A number in [0, 1) that differs between calls, for spreading retries and polls apart
/// (not for anything secret).
pub fn jitter_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}

/// Calls `probe` until it returns `Some` (done) or an error, sleeping per `backoff` between
/// calls.
pub async fn poll<T, E, F, Fut>(mut backoff: Backoff, mut probe: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    loop {
        if let Some(done) = probe().await? {
            return Ok(done);
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_delays_grow_by_half_up_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let delays: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        let bases = [500u64, 750, 1125, 1687, 2531, 3796, 5000, 5000];
        for (d, base) in delays.iter().zip(bases) {
            let base = Duration::from_millis(base);
            assert!(*d >= base && *d <= base.mul_f64(1.21), "{d:?} vs {base:?}");
        }
        assert!(delays[11] <= Duration::from_secs(6));
    }

    #[test]
    fn retry_delays_double_and_are_capped() {
        let b = Backoff::doubling(Duration::from_millis(250), Duration::from_secs(20));
        assert!(b.delay(0) >= Duration::from_millis(250));
        assert!(b.delay(0) < Duration::from_millis(320));
        assert!(b.delay(3) >= Duration::from_secs(2));
        assert!(b.delay(30) <= Duration::from_secs(25));
    }

    #[tokio::test]
    async fn poll_stops_at_the_first_answer_and_passes_errors_on() {
        let fast = || Backoff::new(Duration::from_millis(1), Duration::from_millis(2));
        let mut calls = 0;
        let done: Result<u32, String> = poll(fast(), || {
            calls += 1;
            let answer = (calls == 3).then_some(calls);
            async move { Ok(answer) }
        })
        .await;
        assert_eq!(done, Ok(3));

        let mut calls = 0;
        let failed: Result<u32, String> = poll(fast(), || {
            calls += 1;
            let n = calls;
            async move { Err(format!("failed at call {n}")) }
        })
        .await;
        assert_eq!(failed, Err("failed at call 1".to_string()));
    }
}
