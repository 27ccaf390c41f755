//! Wall-clock helpers. Times in the store are milliseconds since the Unix epoch (an `i64`), which
//! both SQLite and PostgreSQL hold without driver-specific types.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far `skip_ahead` has moved the clock (0 in production).
static SKIPPED_MS: AtomicI64 = AtomicI64::new(0);

/// Milliseconds since the Unix epoch, now (plus whatever `skip_ahead` added).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
        .saturating_add(SKIPPED_MS.load(Ordering::Acquire))
}

/// Moves upkeep's clock forward for the whole process: the simulated clock of the long-outage
/// tests, which live two hours of the queue and the breakers in seconds. Only the times upkeep
/// schedules by (`now_ms`: job due times, leases, breakers, limits) move; sleeps, timeouts and
/// token lifetimes stay on real time. Nothing in upkeep itself calls it.
pub fn skip_ahead(by: Duration) {
    let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
    SKIPPED_MS.fetch_add(by, Ordering::AcqRel);
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// `ms` as `HH:MM` UTC (for "ask again after …" lines); empty for a time out of range.
pub fn format_utc_minute(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default()
}
