//! Waiting for the cloud to finish something (an image to become active, a server to boot or
//! to disappear): polls with capped exponential backoff and jitter. The caller bounds the
//! wait with the resource's timeout.

use std::future::Future;
use std::time::Duration;

/// Delays between polls: the first after `first`, each next one half as long again, never
/// above `cap`, with up to 20% jitter so that many resources do not poll in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    pub fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff { next: first, cap }
    }

    /// The next delay; advances the schedule.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.mul_f64(1.5).min(self.cap);
        delay + delay.mul_f64(crate::http::jitter_fraction() * 0.2)
    }
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
    fn delays_grow_by_half_up_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let delays: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        let bases = [500u64, 750, 1125, 1687, 2531, 3796, 5000, 5000];
        for (d, base) in delays.iter().zip(bases) {
            let base = Duration::from_millis(base);
            assert!(*d >= base && *d <= base.mul_f64(1.21), "{d:?} vs {base:?}");
        }
        assert!(delays[11] <= Duration::from_secs(6));
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
