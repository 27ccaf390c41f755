//! An installation's primary rate-limit budget, as GitHub's answers report it
//! (`x-ratelimit-limit`, `-remaining`, `-reset`), and what it allows. Pure: readings and times
//! in, decisions out.
//!
//! Scheduled work (daily passes, scheduled dependency passes) is the only work that can wait:
//! once the budget left falls below the reserve (20% by default), it waits for the reset, so
//! the budget that is left goes to what people and safety need: commands, reverts, security
//! audits. The burn rate since the budget's last reset forecasts when it would run out; the
//! forecast is logged and reported, and a pass that would exhaust it before the reset starts
//! knowing so.

/// The share of the budget kept for people's commands, reverts and security work.
pub const DEFAULT_RESERVE: f64 = 0.2;

/// The last reading of one installation's budget, and where its burn rate started.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub limit: u32,
    pub remaining: u32,
    /// When GitHub refills it (ms since the epoch).
    pub reset_ms: i64,
    /// When it was read.
    pub at_ms: i64,
    /// The first reading of this reset period: (time, remaining).
    since: (i64, u32),
}

impl Budget {
    /// A new reading, continuing `previous` when it is of the same reset period.
    pub fn observe(
        previous: Option<&Budget>,
        at_ms: i64,
        limit: u32,
        remaining: u32,
        reset_ms: i64,
    ) -> Budget {
        let since = match previous {
            // The same period: GitHub's reset second may wobble by one.
            Some(p) if (p.reset_ms - reset_ms).abs() <= 1000 && remaining <= p.since.1 => p.since,
            _ => (at_ms, remaining),
        };
        Budget {
            limit,
            remaining,
            reset_ms,
            at_ms,
            since,
        }
    }

    /// Requests spent per millisecond since this period's first reading (`None` before any).
    pub fn burn_per_ms(&self) -> Option<f64> {
        let elapsed = self.at_ms - self.since.0;
        let spent = self.since.1.saturating_sub(self.remaining);
        (elapsed > 0 && spent > 0).then(|| f64::from(spent) / elapsed as f64)
    }

    /// When it runs out at the current burn, if that comes before the reset.
    pub fn forecast_exhausted_at(&self) -> Option<i64> {
        let burn = self.burn_per_ms()?;
        let at = self.at_ms + (f64::from(self.remaining) / burn) as i64;
        (at < self.reset_ms).then_some(at)
    }

    /// Whether the share left is below `reserve` at `now_ms` (a reading from a past period
    /// says nothing: the budget has been refilled since).
    pub fn below_reserve(&self, now_ms: i64, reserve: f64) -> bool {
        now_ms < self.reset_ms && f64::from(self.remaining) < reserve * f64::from(self.limit)
    }

    /// Until when scheduled work must wait, if it must.
    pub fn scheduled_wait(&self, now_ms: i64, reserve: f64) -> Option<i64> {
        self.below_reserve(now_ms, reserve).then_some(self.reset_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn below_the_reserve_scheduled_work_waits_for_the_reset() {
        let b = Budget::observe(None, 0, 5000, 750, HOUR);
        assert_eq!(b.scheduled_wait(10, DEFAULT_RESERVE), Some(HOUR));
        let b = Budget::observe(None, 0, 5000, 1000, HOUR);
        assert_eq!(
            b.scheduled_wait(10, DEFAULT_RESERVE),
            None,
            "20% is the reserve itself"
        );
    }

    #[test]
    fn a_reading_from_before_the_reset_no_longer_holds_anything_back() {
        let b = Budget::observe(None, 0, 5000, 10, HOUR);
        assert_eq!(b.scheduled_wait(HOUR, DEFAULT_RESERVE), None);
    }

    #[test]
    fn the_burn_rate_forecasts_exhaustion_before_the_reset() {
        let first = Budget::observe(None, 0, 5000, 5000, HOUR);
        assert_eq!(first.forecast_exhausted_at(), None);
        // 1,000 spent in 6 minutes: 4,000 more last 24 minutes, before the reset.
        let later = Budget::observe(Some(&first), 360_000, 5000, 4000, HOUR);
        assert_eq!(later.forecast_exhausted_at(), Some(360_000 + 1_440_000));
        // A slow burn lasts past the reset: no forecast.
        let slow = Budget::observe(Some(&first), 360_000, 5000, 4990, HOUR);
        assert_eq!(slow.forecast_exhausted_at(), None);
    }

    #[test]
    fn a_new_period_starts_the_burn_rate_afresh() {
        let old = Budget::observe(None, 0, 5000, 100, HOUR);
        let new = Budget::observe(Some(&old), HOUR + 10, 5000, 4999, 2 * HOUR);
        assert_eq!(new.burn_per_ms(), None);
        let next = Budget::observe(Some(&new), HOUR + 1010, 5000, 4989, 2 * HOUR);
        assert_eq!(next.burn_per_ms(), Some(10.0 / 1000.0));
    }
}
