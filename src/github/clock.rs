//! GitHub's clock, as the `Date` header of its answers tells it. An App's JWT is judged by
//! GitHub's clock (`iat` not in its future, `exp` at most ten minutes after), so a machine whose
//! clock runs minutes fast or slow would have every App request refused; upkeep signs by
//! GitHub's time instead: its own clock plus the skew the last answers showed.

use std::sync::atomic::{AtomicI64, Ordering};

use http::HeaderMap;
use tracing::warn;

use crate::time::now_ms;

/// A change of skew smaller than this is the header's one-second grain and the answer's
/// travel time, not a clock that moved.
const NOISE_MS: i64 = 2_000;
/// A skew beyond this is worth a line in the log: the host's clock needs NTP.
const WORTH_SAYING_MS: i64 = 30_000;

/// GitHub's time minus ours, learned from its answers.
#[derive(Debug, Default)]
pub struct GitHubClock {
    skew_ms: AtomicI64,
}

/// GitHub's time minus `local_ms`, from a `Date` header (`Sun, 06 Dec 2026 16:20:00 GMT`).
/// The header keeps whole seconds, cut down: half a second is added back.
pub fn skew_from_date(date: &str, local_ms: i64) -> Option<i64> {
    let theirs = chrono::DateTime::parse_from_rfc2822(date.trim()).ok()?;
    Some(theirs.timestamp_millis() + 500 - local_ms)
}

impl GitHubClock {
    /// GitHub's time now (ms since the epoch), as far as its answers tell.
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.skew_ms.load(Ordering::Relaxed)
    }

    /// How far GitHub's clock is ahead of ours (negative: behind).
    pub fn skew_ms(&self) -> i64 {
        self.skew_ms.load(Ordering::Relaxed)
    }

    /// Learns the skew from an answer's `Date` header; returns whether it changed.
    pub fn learn(&self, headers: &HeaderMap) -> bool {
        let Some(skew) = headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|d| skew_from_date(d, now_ms()))
        else {
            return false;
        };
        let old = self.skew_ms.load(Ordering::Relaxed);
        if (skew - old).abs() <= NOISE_MS {
            return false;
        }
        self.skew_ms.store(skew, Ordering::Relaxed);
        if skew.abs() >= WORTH_SAYING_MS {
            warn!(
                skew_s = skew / 1000,
                "this machine's clock differs from GitHub's; App tokens are signed by GitHub's clock (fix the host's time sync)"
            );
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skew_is_github_time_minus_ours() {
        // 2026-12-06T16:20:00Z = 1796574000 s.
        let date = "Sun, 06 Dec 2026 16:20:00 GMT";
        assert_eq!(skew_from_date(date, 1_796_574_000_000), Some(500));
        // Our clock ten minutes fast: GitHub is ten minutes behind us.
        assert_eq!(
            skew_from_date(date, 1_796_574_600_000),
            Some(-600_000 + 500)
        );
        assert_eq!(skew_from_date("yesterday", 0), None);
    }

    #[test]
    fn a_second_of_jitter_is_not_learned_but_a_fast_clock_is() {
        let clock = GitHubClock::default();
        let mut headers = HeaderMap::new();
        let at = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string()
        };
        headers.insert(http::header::DATE, at(now_ms()).parse().unwrap());
        assert!(!clock.learn(&headers), "within a second or two of ours");
        headers.insert(http::header::DATE, at(now_ms() - 600_000).parse().unwrap());
        assert!(clock.learn(&headers));
        assert!(
            (clock.skew_ms() + 600_000).abs() < 2_000,
            "{}",
            clock.skew_ms()
        );
        assert!((clock.now_ms() - (now_ms() - 600_000)).abs() < 2_000);
    }
}
