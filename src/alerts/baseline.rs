//! What is normal for a signal, learnt from its own history: samples kept per hour of day and
//! kind of day (weekday, weekend), a bounded ring per bucket, and thresholds from robust
//! statistics of the bucket and its neighbouring hours — a high quantile with a margin and the
//! median plus a multiple of the MAD, whichever is further, within the signal's floor and cap.
//! Quantiles rather than a mean and deviation, because normal life is skewed: the daily pass
//! lifts queue lag for half an hour every night and that hour's quantile learns it. Until a
//! bucket has enough history, the signal's stated default applies. Serialisable, so a restart
//! keeps what was learnt. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::signal::{Bad, Signal};

/// Samples kept per bucket: ten days of one hour.
pub const KEEP: usize = 600;
/// Samples (the bucket and its two neighbours together) before the learnt threshold is used.
pub const ENOUGH: usize = 240;
/// The high quantile and its margin (high-bad), the low quantile and its margin (low-bad).
const Q_HIGH: f64 = 0.995;
const HIGH_MARGIN: f64 = 1.5;
const Q_LOW: f64 = 0.005;
const LOW_MARGIN: f64 = 0.5;
/// MADs beyond the median that are never normal (high-bad).
const MADS: f64 = 8.0;

/// An hour of day (0–23) on a weekday or a weekend day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bucket {
    pub weekend: bool,
    pub hour: u32,
}

impl Bucket {
    pub fn of(t: DateTime<Utc>) -> Bucket {
        Bucket {
            weekend: t.weekday().number_from_monday() >= 6,
            hour: t.hour(),
        }
    }

    fn key(self) -> String {
        format!("{}{:02}", if self.weekend { "we" } else { "wd" }, self.hour)
    }

    /// The hour before and after, the same kind of day.
    fn neighbours(self) -> [Bucket; 3] {
        let h = |d: u32| Bucket {
            weekend: self.weekend,
            hour: (self.hour + d) % 24,
        };
        [h(23), self, h(1)]
    }
}

/// The thresholds in force for one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// Beyond this, the sample departs from normal.
    pub open: f64,
    /// Back within this, it is normal again (nearer normal than `open`: hysteresis).
    pub close: f64,
    /// Learnt from history (else the stated default).
    pub learnt: bool,
}

/// One signal's history by bucket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Baseline {
    /// Bucket key → ring of samples (oldest overwritten first) and the next slot.
    buckets: BTreeMap<String, (Vec<f32>, usize)>,
}

impl Baseline {
    /// Learns one sample.
    pub fn learn(&mut self, t: DateTime<Utc>, value: f64) {
        if !value.is_finite() {
            return;
        }
        let (ring, next) = self.buckets.entry(Bucket::of(t).key()).or_default();
        if ring.len() < KEEP {
            ring.push(value as f32);
        } else {
            ring[*next % KEEP] = value as f32;
            *next = (*next + 1) % KEEP;
        }
    }

    fn pool(&self, bucket: Bucket) -> Vec<f64> {
        bucket
            .neighbours()
            .iter()
            .filter_map(|b| self.buckets.get(&b.key()))
            .flat_map(|(ring, _)| ring.iter().map(|v| f64::from(*v)))
            .collect()
    }

    /// The thresholds for `signal` at `bucket` (`None`: nothing learnt and no default).
    pub fn threshold(&self, signal: Signal, bucket: Bucket) -> Option<Threshold> {
        let mut pool = self.pool(bucket);
        if pool.len() < ENOUGH {
            let d = signal.default_threshold()?;
            let close = match signal.bad() {
                Bad::High => d * 0.7,
                Bad::Low => d * 2.0,
            };
            return Some(Threshold {
                open: d,
                close,
                learnt: false,
            });
        }
        pool.sort_by(f64::total_cmp);
        let median = quantile(&pool, 0.5);
        let mut deviations: Vec<f64> = pool.iter().map(|v| (v - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let mad = quantile(&deviations, 0.5);
        Some(match signal.bad() {
            Bad::High => {
                let q = quantile(&pool, Q_HIGH);
                let open = (q * HIGH_MARGIN)
                    .max(median + MADS * mad)
                    .max(signal.floor())
                    .min(signal.cap());
                Threshold {
                    open,
                    close: q.max(median + MADS / 2.0 * mad).min(open * 0.8),
                    learnt: true,
                }
            }
            Bad::Low => {
                let q = quantile(&pool, Q_LOW);
                let open = (q * LOW_MARGIN).min(signal.cap());
                Threshold {
                    open,
                    close: (q * 0.8).max(open),
                    learnt: true,
                }
            }
        })
    }
}

/// The `q` quantile of sorted `values` (nearest rank), 0 for none.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        // 2026-11-02 is a Monday.
        Utc.with_ymd_and_hms(2026, 11, 2 + day, hour, minute, 0)
            .unwrap()
    }

    #[test]
    fn weekdays_and_weekends_are_apart() {
        assert!(!Bucket::of(at(0, 10, 0)).weekend);
        assert!(Bucket::of(at(5, 10, 0)).weekend, "Saturday");
        assert!(Bucket::of(at(6, 10, 0)).weekend, "Sunday");
    }

    #[test]
    fn the_default_applies_until_there_is_enough_history() {
        let mut b = Baseline::default();
        let bucket = Bucket::of(at(0, 10, 0));
        let t = b.threshold(Signal::QueueLagSeconds, bucket).unwrap();
        assert_eq!((t.open, t.learnt), (900.0, false));
        assert_eq!(b.threshold(Signal::WebhookDeliveries, bucket), None);
        for day in 0..5 {
            for m in 0..60 {
                b.learn(at(day, 10, m), 5.0 + f64::from(m % 7));
            }
        }
        let t = b.threshold(Signal::QueueLagSeconds, bucket).unwrap();
        assert!(t.learnt);
        assert_eq!(t.open, 120.0, "the floor: a few seconds of lag is normal");
        assert!(t.close < t.open);
    }

    #[test]
    fn a_nightly_burst_is_learnt_as_normal_for_its_hour_only() {
        let mut b = Baseline::default();
        for day in 0..5 {
            for h in 0..24 {
                for m in 0..60 {
                    let burst = h == 2 && m < 30;
                    b.learn(at(day, h, m), if burst { 500.0 } else { 3.0 });
                }
            }
        }
        let night = b
            .threshold(Signal::QueueLagSeconds, Bucket::of(at(0, 2, 0)))
            .unwrap();
        assert!(night.open >= 500.0, "{night:?}");
        let day = b
            .threshold(Signal::QueueLagSeconds, Bucket::of(at(0, 14, 0)))
            .unwrap();
        assert_eq!(day.open, 120.0);
    }

    #[test]
    fn rings_are_bounded() {
        let mut b = Baseline::default();
        for day in 0..30 {
            for m in 0..60 {
                b.learn(at(day % 5, 10, m), 1.0);
            }
        }
        assert!(b.buckets.values().all(|(r, _)| r.len() <= KEEP));
    }
}
