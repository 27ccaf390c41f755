//! Queue policy: how long a lease lasts and how long a failed job waits before its next attempt.

use std::time::Duration;

use rand::Rng;

/// Timing of the queue; tests shorten everything.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// A claimed job belongs to its worker this long; the worker renews it while it runs.
    pub lease: Duration,
    /// Wait before the second attempt; doubles with every further attempt.
    pub base_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// How often an idle worker looks for due jobs when nothing wakes it.
    pub poll_interval: Duration,
    /// The longest one attempt may run.
    pub job_timeout: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            lease: Duration::from_secs(60),
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(1),
            job_timeout: Duration::from_secs(600),
        }
    }
}

/// Wait before the next attempt after `attempts` failed ones: exponential, capped, with "equal
/// jitter" (half fixed, half random) so retries of many jobs do not arrive together.
pub fn backoff(config: &QueueConfig, attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = config
        .base_backoff
        .saturating_mul(2u32.saturating_pow(exp))
        .min(config.max_backoff);
    let half = full / 2;
    let jitter = rand::rng().random_range(0.0..=1.0);
    half + half.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_its_jitter_and_is_capped() {
        let config = QueueConfig {
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(100),
            ..QueueConfig::default()
        };
        for _ in 0..100 {
            let first = backoff(&config, 1);
            assert!(
                first >= Duration::from_secs(5) && first <= Duration::from_secs(10),
                "{first:?}"
            );
            let third = backoff(&config, 3);
            assert!(
                third >= Duration::from_secs(20) && third <= Duration::from_secs(40),
                "{third:?}"
            );
            let late = backoff(&config, 30);
            assert!(
                late >= Duration::from_secs(50) && late <= Duration::from_secs(100),
                "{late:?}"
            );
        }
    }
}
