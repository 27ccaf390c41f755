//! The part of the day daily passes are spread over (`UPKEEP_DAILY_WINDOW`, UTC): an operator
//! who wants the passes at night, away from office hours' CI queues and API budgets, says
//! `01:00-06:00`; a window may wrap past midnight (`22:00-04:00`). Unset, it is the whole day.
//! Pure.

use crate::time::DAY_MS;

const MINUTE_MS: i64 = 60_000;

/// A daily window: where it starts and how long it lasts, in milliseconds from midnight UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyWindow {
    start_ms: i64,
    len_ms: i64,
}

impl Default for DailyWindow {
    /// The whole day.
    fn default() -> Self {
        DailyWindow {
            start_ms: 0,
            len_ms: DAY_MS,
        }
    }
}

impl DailyWindow {
    /// Reads `HH:MM-HH:MM` (UTC, 24-hour clock; `24:00` ends a window at midnight).
    pub fn parse(text: &str) -> Result<DailyWindow, String> {
        let bad = || format!("{text:?} is not a window of the day as HH:MM-HH:MM (UTC)");
        let (from, to) = text.trim().split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<i64> {
            let (h, m) = t.trim().split_once(':')?;
            if h.is_empty() || h.len() > 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            ((0..24).contains(&h) && (0..60).contains(&m) || (h, m) == (24, 0))
                .then_some(h * 60 + m)
        };
        let (start, end) = (minutes(from).ok_or_else(bad)?, minutes(to).ok_or_else(bad)?);
        let len = (end - start).rem_euclid(24 * 60);
        if len == 0 && !(start == 0 && end == 24 * 60) {
            return Err(format!(
                "{text:?} is empty: its start and end are the same time"
            ));
        }
        let len = if len == 0 { 24 * 60 } else { len };
        Ok(DailyWindow {
            start_ms: (start % (24 * 60)) * MINUTE_MS,
            len_ms: len * MINUTE_MS,
        })
    }

    /// A time of day inside the window (ms from midnight UTC) for `spread`, any number (a
    /// hash), taken modulo the window's length: hashes spread evenly over the window.
    pub fn at(&self, spread: u64) -> i64 {
        let into = i64::try_from(spread % self.len_ms as u64).unwrap_or(0);
        (self.start_ms + into) % DAY_MS
    }

    /// Whether a time of day (ms from midnight UTC) is inside the window.
    pub fn contains(&self, time_of_day_ms: i64) -> bool {
        (time_of_day_ms - self.start_ms).rem_euclid(DAY_MS) < self.len_ms
    }

    /// `HH:MM-HH:MM`, as the setting is written.
    pub fn label(&self) -> String {
        let hm = |ms: i64| format!("{:02}:{:02}", ms / 3_600_000, ms / MINUTE_MS % 60);
        let end = self.start_ms + self.len_ms;
        let end = if end % DAY_MS == 0 && end > 0 {
            "24:00".to_owned()
        } else {
            hm(end % DAY_MS)
        };
        format!("{}-{end}", hm(self.start_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_read_as_written() {
        let night = DailyWindow::parse("01:00-06:00").unwrap();
        assert_eq!(night.label(), "01:00-06:00");
        assert!(night.contains(3_600_000) && night.contains(6 * 3_600_000 - 1));
        assert!(!night.contains(6 * 3_600_000) && !night.contains(0));
        let wrap = DailyWindow::parse("22:30-04:00").unwrap();
        assert_eq!(wrap.label(), "22:30-04:00");
        assert!(wrap.contains(23 * 3_600_000) && wrap.contains(3_600_000));
        assert!(!wrap.contains(12 * 3_600_000));
        assert_eq!(
            DailyWindow::parse("00:00-24:00"),
            Ok(DailyWindow::default())
        );
        assert_eq!(DailyWindow::default().label(), "00:00-24:00");
    }

    #[test]
    fn mistakes_are_refused_with_the_format() {
        for bad in [
            "",
            "1-6",
            "01:00",
            "25:00-26:00",
            "01:60-02:00",
            "03:00-03:00",
            "1:0-2:00",
        ] {
            let e = DailyWindow::parse(bad).unwrap_err();
            assert!(e.contains("HH:MM") || e.contains("empty"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_point_of_the_spread_lands_inside_the_window() {
        for text in ["01:00-06:00", "22:30-04:00", "00:00-24:00", "23:59-00:01"] {
            let w = DailyWindow::parse(text).unwrap();
            for spread in (0..100_000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) {
                let at = w.at(spread);
                assert!((0..DAY_MS).contains(&at) && w.contains(at), "{text}: {at}");
            }
        }
    }
}
