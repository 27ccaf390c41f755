//! The signals upkeep watches about itself, which way is bad for each, and the stated
//! defaults it alerts on until it has learnt a signal's normal. Pure.

use serde::{Deserialize, Serialize};

/// One watched signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Age of the oldest due job, seconds.
    QueueLagSeconds,
    /// Failed job attempts / all attempts in the minute.
    JobFailureRatio,
    /// GitHub answers that failed (5xx, time-outs, 429) / all answers in the minute.
    GithubErrorRatio,
    /// Webhook deliveries received in the minute (too few is the anomaly).
    WebhookDeliveries,
    /// The lowest installation budget left, as a share of its limit.
    RateLimitRemainingRatio,
}

/// Which side of the threshold is trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    High,
    Low,
}

impl Signal {
    pub const ALL: [Signal; 5] = [
        Signal::QueueLagSeconds,
        Signal::JobFailureRatio,
        Signal::GithubErrorRatio,
        Signal::WebhookDeliveries,
        Signal::RateLimitRemainingRatio,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Signal::QueueLagSeconds => "queue_lag_seconds",
            Signal::JobFailureRatio => "job_failure_ratio",
            Signal::GithubErrorRatio => "github_error_ratio",
            Signal::WebhookDeliveries => "webhook_deliveries",
            Signal::RateLimitRemainingRatio => "rate_limit_remaining_ratio",
        }
    }

    pub fn from_name(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn bad(self) -> Bad {
        match self {
            Signal::WebhookDeliveries | Signal::RateLimitRemainingRatio => Bad::Low,
            _ => Bad::High,
        }
    }

    /// The threshold used until the signal's normal is learnt (`None`: no alert until then;
    /// how many deliveries are normal cannot be guessed).
    pub fn default_threshold(self) -> Option<f64> {
        match self {
            Signal::QueueLagSeconds => Some(900.0),
            Signal::JobFailureRatio => Some(0.5),
            Signal::GithubErrorRatio => Some(0.25),
            Signal::WebhookDeliveries => None,
            Signal::RateLimitRemainingRatio => Some(0.05),
        }
    }

    /// A learnt threshold never goes below this (high-bad): near-zero histories must not
    /// alert on a few seconds of lag or one failed job.
    pub fn floor(self) -> f64 {
        match self {
            Signal::QueueLagSeconds => 120.0,
            Signal::JobFailureRatio => 0.2,
            Signal::GithubErrorRatio => 0.1,
            Signal::WebhookDeliveries | Signal::RateLimitRemainingRatio => 0.0,
        }
    }

    /// ... nor above this: a history with spikes must still see a real outage.
    pub fn cap(self) -> f64 {
        match self {
            Signal::QueueLagSeconds => 1800.0,
            Signal::JobFailureRatio => 0.6,
            Signal::GithubErrorRatio => 0.5,
            Signal::WebhookDeliveries => f64::INFINITY,
            Signal::RateLimitRemainingRatio => 0.2,
        }
    }

    /// Whether `value` is on the bad side of `threshold`.
    pub fn beyond(self, value: f64, threshold: f64) -> bool {
        match self.bad() {
            Bad::High => value > threshold,
            Bad::Low => value < threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Signal::ALL {
            assert_eq!(Signal::from_name(s.name()), Some(s));
        }
        assert_eq!(Signal::from_name("cpu"), None);
    }
}
