//! Reads a week's facts from the store for the pure report (`weekly`): a repository's
//! recorded facts and revert decisions; upkeep's own signal samples and counts, its
//! repositories and its database's size. Driver.

use super::weekly::{counts, OpsWeek, RepoWeek};
use crate::alerts::signal::Signal;
use crate::store::{Store, StoreError};

/// A repository's week `[from, to)`; `advisories_open` is what its latest audit found, when
/// the caller knows it. `None` for a repository upkeep did not know for the whole week (a
/// first week would read as a quiet one).
pub async fn repo_week(
    store: &Store,
    repository_id: i64,
    (from, to): (i64, i64),
    advisories_open: Option<usize>,
) -> Result<Option<RepoWeek>, StoreError> {
    match store.repository_known_since(repository_id).await? {
        Some(since) if since <= from => {}
        _ => return Ok(None),
    }
    let events = store.repo_events_between(repository_id, from, to).await?;
    let reverts = store
        .count_reverts_between(repository_id, "reverted", from, to)
        .await?;
    Ok(Some(RepoWeek::from_facts(
        (from, to),
        events.iter().map(|e| (e.kind.as_str(), e.value)),
        u32::try_from(reverts).unwrap_or(u32::MAX),
        advisories_open,
    )))
}

/// The operator's week `[from, to)`.
pub async fn ops_week(store: &Store, (from, to): (i64, i64)) -> Result<OpsWeek, StoreError> {
    let sum = |v: &[(i64, f64)]| v.iter().map(|(_, x)| x.max(0.0)).sum::<f64>() as u64;
    let up = store
        .samples_between(Signal::QueueLagSeconds.name(), from, to)
        .await?;
    // The week counts from upkeep's first sample, so a first week is not an outage.
    let first = store
        .first_sample_at(Signal::QueueLagSeconds.name())
        .await?
        .filter(|t| *t < to);
    let minutes_counted = first.map_or(0, |t| ((to - t.max(from)).max(0) / 60_000) as u64);
    let deliveries = store
        .samples_between(Signal::WebhookDeliveries.name(), from, to)
        .await?;
    let recovered = store
        .samples_between(counts::DELIVERIES_RECOVERED, from, to)
        .await?;
    let openings = store
        .samples_between(counts::BREAKER_OPENINGS, from, to)
        .await?;
    let mut alerts = Vec::new();
    for s in Signal::ALL {
        let opened = store
            .samples_between(&counts::alert_opened(s.name()), from, to)
            .await?;
        alerts.push((s.name().to_owned(), opened.len() as u64));
    }
    let budget: Vec<f64> = store
        .samples_between(Signal::RateLimitRemainingRatio.name(), from, to)
        .await?
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v.is_finite())
        .collect();
    Ok(OpsWeek {
        from_ms: from,
        to_ms: to,
        minutes_up: (up.len() as u64).min(minutes_counted),
        minutes_counted,
        deliveries: sum(&deliveries),
        deliveries_recovered: sum(&recovered),
        breaker_openings: sum(&openings),
        alerts,
        budget_lowest: budget.iter().copied().reduce(f64::min),
        budget_mean: (!budget.is_empty()).then(|| budget.iter().sum::<f64>() / budget.len() as f64),
        repositories: store.active_repositories().await?.len() as u64,
        database_bytes: store.database_size_bytes().await?,
    })
}
