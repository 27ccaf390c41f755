//! Wall-clock helpers. Times in the store are milliseconds since the Unix epoch (an `i64`), which
//! both SQLite and PostgreSQL hold without driver-specific types.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// `ms` as `HH:MM` UTC (for "ask again after …" lines); empty for a time out of range.
pub fn format_utc_minute(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default()
}
