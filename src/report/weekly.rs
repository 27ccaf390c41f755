//! The weekly health report, from plain facts: for each repository a section of its dashboard
//! (upkeep PRs opened, merged and closed, the median time to merge, advisories open and fixed,
//! benchmark regressions caught, reverts), and for the operator an issue (uptime, deliveries
//! received and recovered, breaker openings, alerts, budget use, database size). Weeks are ISO
//! weeks in UTC, Monday to Sunday; the report is of the last complete one. Pure.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Utc};

use crate::time::DAY_MS;

const WEEK_MS: i64 = 7 * DAY_MS;

/// The kinds of repository facts the report counts (`repo_events.kind`).
pub mod kind {
    pub const PR_OPENED: &str = "pr_opened";
    /// Value: seconds from opened to merged.
    pub const PR_MERGED: &str = "pr_merged";
    pub const PR_CLOSED: &str = "pr_closed";
    /// A security PR merged: the advisory it answered is fixed.
    pub const ADVISORY_FIXED: &str = "advisory_fixed";
    pub const BENCH_REGRESSION: &str = "bench_regression";
}

/// The names of what the sampler and the sweep count in `signal_samples` beside the signals.
pub mod counts {
    /// Circuit breakers opened in the minute.
    pub const BREAKER_OPENINGS: &str = "breaker_openings";
    /// Deliveries the sweep recovered in one round.
    pub const DELIVERIES_RECOVERED: &str = "deliveries_recovered";

    /// An alert of `signal` opened.
    pub fn alert_opened(signal: &str) -> String {
        format!("alert_opened.{signal}")
    }
}

/// The last complete week before `now_ms`: `[Monday 00:00, next Monday 00:00)` UTC, in ms.
pub fn last_week(now_ms: i64) -> (i64, i64) {
    // 1970-01-01 was a Thursday: Mondays are 4 days after a multiple of 7 days.
    let monday = now_ms - (now_ms - 4 * DAY_MS).rem_euclid(WEEK_MS);
    (monday - WEEK_MS, monday)
}

/// `2026-11-30`: the week's Monday, its name in keys and titles.
pub fn week_name(from_ms: i64) -> String {
    date(from_ms).format("%Y-%m-%d").to_string()
}

fn date(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `Monday 30 November to Sunday 6 December 2026`.
fn span(from_ms: i64, to_ms: i64) -> String {
    let (a, b) = (date(from_ms), date(to_ms - 1));
    let year = if a.year() == b.year() {
        String::new()
    } else {
        format!(" {}", a.year())
    };
    format!(
        "{} {} {}{year} to {} {} {} {}",
        a.format("%A"),
        a.day(),
        a.format("%B"),
        b.format("%A"),
        b.day(),
        b.format("%B"),
        b.year()
    )
}

/// A repository's week.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoWeek {
    pub from_ms: i64,
    pub to_ms: i64,
    pub prs_opened: u32,
    pub prs_merged: u32,
    pub prs_closed: u32,
    /// Seconds from opened to merged, one per merged PR.
    pub merge_seconds: Vec<f64>,
    /// Advisories in the lockfiles now (the pass's own audit), when known.
    pub advisories_open: Option<usize>,
    pub advisories_fixed: u32,
    pub regressions_caught: u32,
    pub reverts: u32,
}

impl RepoWeek {
    /// Counts `(kind, value)` facts of the week.
    pub fn from_facts<'a>(
        (from_ms, to_ms): (i64, i64),
        facts: impl IntoIterator<Item = (&'a str, Option<f64>)>,
        reverts: u32,
        advisories_open: Option<usize>,
    ) -> RepoWeek {
        let mut w = RepoWeek {
            from_ms,
            to_ms,
            reverts,
            advisories_open,
            ..RepoWeek::default()
        };
        for (k, value) in facts {
            match k {
                kind::PR_OPENED => w.prs_opened += 1,
                kind::PR_MERGED => {
                    w.prs_merged += 1;
                    w.merge_seconds
                        .extend(value.filter(|v| v.is_finite() && *v >= 0.0));
                }
                kind::PR_CLOSED => w.prs_closed += 1,
                kind::ADVISORY_FIXED => w.advisories_fixed += 1,
                kind::BENCH_REGRESSION => w.regressions_caught += 1,
                _ => {}
            }
        }
        w
    }

    fn quiet(&self) -> bool {
        self.prs_opened + self.prs_merged + self.prs_closed == 0
            && self.advisories_fixed + self.regressions_caught + self.reverts == 0
            && self.advisories_open.unwrap_or(0) == 0
    }
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    Some(crate::bench::stats::quantile(values, 0.5)).filter(|m| m.is_finite())
}

/// `45 min`, `5 h 20 min`, `2 d 3 h`: a duration as people read it.
pub fn duration(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round().max(0.0) as u64;
    match minutes {
        0 => "under a minute".to_owned(),
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => match m % 60 {
            0 => format!("{} h", m / 60),
            r => format!("{} h {r} min", m / 60),
        },
        m => match (m / 60) % 24 {
            0 => format!("{} d", m / (24 * 60)),
            h => format!("{} d {h} h", m / (24 * 60)),
        },
    }
}

/// The heading of the dashboard's weekly section.
pub const REPO_HEADING: &str = "## Last week";

/// The dashboard's weekly section, heading included.
pub fn render_repo(w: &RepoWeek) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{REPO_HEADING}\n");
    let _ = writeln!(s, "{} (UTC).\n", span(w.from_ms, w.to_ms));
    if w.quiet() {
        let _ = writeln!(
            s,
            "A quiet week: no upkeep pull request, advisory, benchmark regression or revert.\n"
        );
        return s;
    }
    let merged = match median(&w.merge_seconds) {
        Some(m) => format!("{} (median time to merge: {})", w.prs_merged, duration(m)),
        None => w.prs_merged.to_string(),
    };
    let open_now = w
        .advisories_open
        .map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    let _ = writeln!(s, "| | |\n|---|---|");
    for (what, n) in [
        ("upkeep pull requests opened", w.prs_opened.to_string()),
        ("merged", merged),
        ("closed unmerged", w.prs_closed.to_string()),
        ("advisories in the lockfiles now", open_now),
        ("advisories fixed", w.advisories_fixed.to_string()),
        (
            "benchmark regressions caught",
            w.regressions_caught.to_string(),
        ),
        ("reverts", w.reverts.to_string()),
    ] {
        let _ = writeln!(s, "| {what} | {n} |");
    }
    s.push('\n');
    s
}

/// The operator's week.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsWeek {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Minutes the alert sampler ran (one sample a minute while upkeep is up)...
    pub minutes_up: u64,
    /// ...out of the minutes of the week upkeep existed (from its first sample).
    pub minutes_counted: u64,
    pub deliveries: u64,
    pub deliveries_recovered: u64,
    pub breaker_openings: u64,
    /// Alerts opened, by signal, in signal order.
    pub alerts: Vec<(String, u64)>,
    /// The least and the mean share of an installation's API budget left, over the samples.
    pub budget_lowest: Option<f64>,
    pub budget_mean: Option<f64>,
    pub repositories: u64,
    pub database_bytes: i64,
}

/// The ops issue's marker for a week: found again, never opened twice.
pub fn ops_marker(from_ms: i64) -> String {
    format!("<!-- upkeep:weekly-report week={} -->", week_name(from_ms))
}

/// The ops issue's title.
pub fn ops_title(w: &OpsWeek) -> String {
    format!("upkeep health report: week of {}", week_name(w.from_ms))
}

fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p >= 99.95 || p == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GiB", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KiB", n / 1024.0)
    }
}

/// The ops issue's body, marker included.
pub fn render_ops(w: &OpsWeek) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} (UTC).\n", span(w.from_ms, w.to_ms));
    let uptime = if w.minutes_counted == 0 {
        "no samples: the alert sampler did not run this week".to_owned()
    } else {
        let share = (w.minutes_up as f64 / w.minutes_counted as f64).min(1.0);
        let down = w.minutes_counted.saturating_sub(w.minutes_up);
        format!(
            "{} ({} down of {})",
            percent(share),
            duration(down as f64 * 60.0),
            duration(w.minutes_counted as f64 * 60.0)
        )
    };
    let alerts = if w.alerts.iter().all(|(_, n)| *n == 0) {
        "none".to_owned()
    } else {
        w.alerts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(signal, n)| format!("`{signal}` × {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let budget = match (w.budget_lowest, w.budget_mean) {
        (Some(low), Some(mean)) => format!(
            "{} used at the worst moment, {} on average",
            percent(1.0 - low),
            percent(1.0 - mean)
        ),
        _ => "no reading (no installation answered)".to_owned(),
    };
    let _ = writeln!(s, "| | |\n|---|---|");
    for (what, v) in [
        ("uptime", uptime),
        ("webhook deliveries received", w.deliveries.to_string()),
        (
            "deliveries recovered from GitHub's log",
            w.deliveries_recovered.to_string(),
        ),
        ("circuit breaker openings", w.breaker_openings.to_string()),
        ("alerts opened", alerts),
        ("API budget", budget),
        ("repositories", w.repositories.to_string()),
        ("database size", bytes(w.database_bytes)),
    ] {
        let _ = writeln!(s, "| {what} | {v} |");
    }
    let _ = writeln!(
        s,
        "\nNothing here needs you unless an alert issue is open. The figures come from upkeep's \
         own store; `/status` shows the present.\n"
    );
    s.push_str(&ops_marker(w.from_ms));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEC_7_2026: i64 = 1_796_601_600_000; // Monday 2026-12-07 00:00 UTC

    #[test]
    fn the_last_week_is_the_last_complete_monday_to_sunday() {
        let (from, to) = last_week(DEC_7_2026 + 3_600_000);
        assert_eq!(to, DEC_7_2026);
        assert_eq!(week_name(from), "2026-11-30");
        assert_eq!(
            last_week(DEC_7_2026),
            (from, to),
            "Monday midnight starts a week"
        );
        assert_eq!(last_week(DEC_7_2026 - 1).1, DEC_7_2026 - WEEK_MS);
        assert_eq!(
            span(from, to),
            "Monday 30 November to Sunday 6 December 2026"
        );
    }

    #[test]
    fn medians_and_durations_read_as_people_say_them() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(duration(20.0), "under a minute");
        assert_eq!(duration(45.0 * 60.0), "45 min");
        assert_eq!(duration(5.0 * 3600.0 + 20.0 * 60.0), "5 h 20 min");
        assert_eq!(duration(2.0 * 86_400.0 + 3.0 * 3600.0), "2 d 3 h");
        assert_eq!(duration(7.0 * 86_400.0), "7 d");
    }

    #[test]
    fn facts_are_counted_by_kind() {
        let facts = [
            (kind::PR_OPENED, None),
            (kind::PR_OPENED, None),
            (kind::PR_MERGED, Some(600.0)),
            (kind::PR_MERGED, Some(f64::NAN)),
            (kind::PR_CLOSED, None),
            (kind::BENCH_REGRESSION, None),
            ("something_else", None),
        ];
        let w = RepoWeek::from_facts((0, WEEK_MS), facts, 2, Some(1));
        assert_eq!((w.prs_opened, w.prs_merged, w.prs_closed), (2, 2, 1));
        assert_eq!(w.merge_seconds, [600.0]);
        assert_eq!((w.regressions_caught, w.reverts), (1, 2));
        let quiet = RepoWeek::from_facts((0, WEEK_MS), [], 0, Some(0));
        assert!(render_repo(&quiet).contains("A quiet week"));
    }
}
