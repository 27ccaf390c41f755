//! What the status page says, made from plain readings: the breakers' states, the queue's
//! counts, the deliveries, the rate-limit budgets and the alerts. Aggregates only: no
//! repository name, token or raw error text, and per-installation detail keyed by id. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

pub use crate::drift::finding::Drift;
use crate::heal::breaker::State;
use crate::heal::breakers::ScopeState;
use crate::heal::budget::Budget;

/// How long a restore stays an open alert.
pub const RESTORE_ALERT_MS: i64 = 24 * 3600 * 1000;

/// The whole page, as `/status.json` serves it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub version: &'static str,
    pub started_at: String,
    pub dependencies: Vec<Dependency>,
    pub queue: Queue,
    pub deliveries: Deliveries,
    /// Per installation id.
    pub rate_limit: BTreeMap<String, RateLimit>,
    pub drift: Vec<Drift>,
    pub alerts: Vec<Alert>,
    /// The live settings in force (what a reloaded configuration changed).
    pub config: LiveConfig,
}

/// Settings that reload without a restart, as in force now.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct LiveConfig {
    pub advisory_refresh_minutes: u64,
    pub bench_retention_days: u64,
    /// The part of the day daily passes are spread over, `HH:MM-HH:MM` UTC.
    pub daily_window: String,
    /// Where alerts go besides this page: `ops_issue`, `webhook` (never the addresses).
    pub alerts_to: Vec<&'static str>,
}

/// One dependency's breakers, summed up as the worst of its scopes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dependency {
    pub name: &'static str,
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    pub failure_ratio: f64,
    /// When the worst scope entered its state (`None`: never called yet).
    pub since: Option<String>,
    pub last_error_kind: Option<&'static str>,
    /// GitHub's per-installation breakers, by installation id (other dependencies: empty).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub installations: BTreeMap<String, &'static str>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Queue {
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    pub dead: i64,
    /// How long the longest-waiting due job has waited (`None`: nothing waits).
    pub oldest_queued_age_s: Option<i64>,
    /// The configured worker maximum, and how many may run now (lowered while GitHub
    /// struggles).
    pub workers_max: usize,
    pub workers_allowed: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Deliveries {
    pub last_received_at: Option<String>,
    pub recovered_total: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RateLimit {
    pub remaining: u32,
    pub reset_at: String,
    /// When the budget runs out at the current burn, if before the reset.
    pub forecast_exhausted_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    pub signal: &'static str,
    /// `open` or `closed`.
    pub state: &'static str,
    pub since: String,
    pub value: f64,
    pub threshold: f64,
    /// What happened and what, if anything, a person should do.
    pub detail: String,
}

/// A self-tuning alert that is open: its signal, since when, the value that opened it and the
/// learnt threshold it crossed, with what upkeep did and what to check.
pub fn learnt_alert(
    signal: crate::alerts::Signal,
    since_ms: i64,
    value: f64,
    threshold: f64,
) -> Alert {
    let detail = crate::alerts::notice::check(signal);
    Alert {
        signal: signal.name(),
        state: "open",
        since: rfc3339(since_ms),
        value,
        threshold,
        detail: detail.to_owned(),
    }
}

/// Milliseconds since the epoch as RFC 3339 (UTC, seconds).
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn severity(state: &State) -> u8 {
    match state {
        State::Closed => 0,
        State::HalfOpen { .. } => 1,
        State::Open { .. } => 2,
    }
}

fn state_name(state: &State) -> &'static str {
    match state {
        State::Closed => "closed",
        State::HalfOpen { .. } => "half_open",
        State::Open { .. } => "open",
    }
}

/// A dependency as the worst of its scopes' breakers (closed, with nothing since, when none
/// has been called). `per_installation` lists GitHub's `installation:<id>` scopes by id.
pub fn dependency(name: &'static str, scopes: &[ScopeState], per_installation: bool) -> Dependency {
    let worst = scopes.iter().max_by(|a, b| {
        severity(&a.state)
            .cmp(&severity(&b.state))
            .then(a.failure_ratio.total_cmp(&b.failure_ratio))
    });
    let installations = if per_installation {
        scopes
            .iter()
            .filter_map(|s| {
                let id = s.scope.strip_prefix("installation:")?;
                Some((id.to_owned(), state_name(&s.state)))
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    Dependency {
        name,
        state: worst.map_or("closed", |w| state_name(&w.state)),
        failure_ratio: worst.map_or(0.0, |w| w.failure_ratio),
        since: worst.map(|w| rfc3339(w.since_ms)),
        last_error_kind: worst.and_then(|w| w.last_error),
        installations,
    }
}

/// The queue from the store's counts per state and its oldest due job.
pub fn queue(counts: &[(String, i64)], oldest_due_ms: Option<i64>, now_ms: i64) -> Queue {
    let count = |state: &str| {
        counts
            .iter()
            .filter(|(s, _)| s == state)
            .map(|(_, n)| *n)
            .sum()
    };
    Queue {
        queued: count("queued"),
        running: count("running"),
        failed: count("failed"),
        dead: count("dead") + count("quarantined"),
        oldest_queued_age_s: oldest_due_ms.map(|t| ((now_ms - t).max(0)) / 1000),
        ..Queue::default()
    }
}

/// Each installation's budget as GitHub last reported it, with the forecast.
pub fn rate_limits(budgets: &[(i64, Budget)]) -> BTreeMap<String, RateLimit> {
    budgets
        .iter()
        .map(|(id, b)| {
            (
                id.to_string(),
                RateLimit {
                    remaining: b.remaining,
                    reset_at: rfc3339(b.reset_ms),
                    forecast_exhausted_at: b.forecast_exhausted_at().map(rfc3339),
                },
            )
        })
        .collect()
}

/// The alert a database restore raises, open for a day after it: `restored_at` is when upkeep
/// restored (or started empty), `backup_taken_at` when the backup it used was taken (`None`:
/// no good backup, it started on an empty database).
pub fn restore_alert(
    restored_at: Option<i64>,
    backup_taken_at: Option<i64>,
    now_ms: i64,
) -> Option<Alert> {
    let at = restored_at?;
    if now_ms - at > RESTORE_ALERT_MS {
        return None;
    }
    let (signal, value, detail) = match backup_taken_at {
        Some(taken) => (
            "database_restored",
            ((at - taken).max(0) / 1000) as f64,
            format!(
                "The SQLite file was corrupt and was replaced by the backup taken at {}; \
                 the corrupt file is kept beside it. Events since the backup were fetched back \
                 from GitHub's delivery log and every installation was reconciled. Check the \
                 disk the data directory is on.",
                rfc3339(taken)
            ),
        ),
        None => (
            "database_replaced",
            0.0,
            "The SQLite file was corrupt and no backup passed the check: upkeep started on an \
             empty database and fetched back what GitHub still lists (three days of events); \
             every installation was reconciled. Check the disk and the backups folder."
                .to_owned(),
        ),
    };
    Some(Alert {
        signal,
        state: "open",
        since: rfc3339(at),
        value,
        threshold: 0.0,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(scope: &str, state: State, ratio: f64) -> ScopeState {
        ScopeState {
            scope: scope.to_owned(),
            state,
            failure_ratio: ratio,
            since_ms: 1_800_000_000_000,
            last_error: Some("5xx"),
        }
    }

    #[test]
    fn a_dependency_shows_its_worst_scope_and_github_its_installations_by_id() {
        let scopes = [
            scope("app", State::Closed, 0.1),
            scope("installation:7", State::Open { until_ms: 0 }, 0.9),
            scope("installation:8", State::HalfOpen { probe_since_ms: 0 }, 0.6),
        ];
        let github = dependency("github", &scopes, true);
        assert_eq!(github.state, "open");
        assert_eq!(github.failure_ratio, 0.9);
        assert_eq!(github.since.as_deref(), Some("2027-01-15T08:00:00Z"));
        assert_eq!(github.installations["7"], "open");
        assert_eq!(github.installations["8"], "half_open");
        assert_eq!(
            github.installations.len(),
            2,
            "the App scope is not an installation"
        );

        let idle = dependency("git", &[], false);
        assert_eq!((idle.state, idle.since), ("closed", None));
    }

    #[test]
    fn the_queue_counts_quarantined_as_dead_and_ages_the_oldest_due_job() {
        let counts = [
            ("queued".to_owned(), 4),
            ("dead".to_owned(), 1),
            ("quarantined".to_owned(), 2),
            ("done".to_owned(), 90),
        ];
        let q = queue(&counts, Some(10_000), 75_500);
        assert_eq!((q.queued, q.running, q.dead), (4, 0, 3));
        assert_eq!(q.oldest_queued_age_s, Some(65));
        assert_eq!(queue(&[], None, 1).oldest_queued_age_s, None);
    }

    #[test]
    fn a_restore_is_an_open_alert_for_a_day() {
        let hour = 3_600_000;
        let at = 1_800_000_000_000;
        let alert = restore_alert(Some(at), Some(at - 5 * hour), at + hour).unwrap();
        assert_eq!((alert.signal, alert.state), ("database_restored", "open"));
        assert_eq!(
            alert.value,
            5.0 * 3600.0,
            "seconds of history the backup lacked"
        );
        assert!(alert.detail.contains("backup taken at"), "{}", alert.detail);
        let empty = restore_alert(Some(at), None, at).unwrap();
        assert_eq!(empty.signal, "database_replaced");
        assert_eq!(restore_alert(Some(at), None, at + 25 * hour), None);
        assert_eq!(restore_alert(None, None, at), None);
    }
}
