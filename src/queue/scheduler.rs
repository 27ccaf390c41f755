//! The daily schedule. Every repository gets a run at a fixed time of day spread across the
//! operator's daily window (`UPKEEP_DAILY_WINDOW`, the whole day by default) by a hash of its id. Each tick enqueues the most recent slot that has passed, keyed
//! `daily:{repo}:{date}`: the unique key means any number of replicas and restarts enqueue it
//! once, and a slot missed while the server was down runs at the next start. Dependency passes
//! then follow each repository's own schedule (`.github/upkeep.toml`): the pass records when it
//! is next due, and a tick at or after that time enqueues it, keyed `deps:{repo}:{due}`.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};

pub use super::window::DailyWindow;
use crate::store::jobs::NewJob;
use crate::store::{Store, StoreError};
use crate::time::{now_ms, DAY_MS};

/// The job kind of a repository's daily pass.
pub const DAILY_JOB: &str = "daily";
/// The job kind of a repository's dependency pass, when its own schedule says so.
pub const DEPS_JOB: &str = "deps";

/// Whether a job is scheduled work (a daily slot, or a dependency pass the schedule queued)
/// rather than one a person or an event asked for: only scheduled work waits for a budget's
/// reset. The scheduler's dependency keys are `deps:<repository>:<due ms>`; a command's and the
/// dashboard's name their cause instead.
pub fn is_scheduled(kind: &str, dedupe_key: &str) -> bool {
    match kind {
        DAILY_JOB => true,
        DEPS_JOB => {
            let mut parts = dedupe_key.splitn(3, ':');
            let due = parts.nth(2).unwrap_or_default();
            !due.is_empty() && due.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}
/// Finished jobs are kept this long, for `upkeep jobs` and debugging.
const KEEP_DONE_MS: i64 = 7 * DAY_MS;
/// Cached blob texts unused this long are dropped.
const KEEP_BLOBS_MS: i64 = 14 * DAY_MS;
/// How long a processed webhook delivery is kept (payload included): far beyond GitHub's
/// three-day redelivery window, so a redelivered id is still recognised as a duplicate.
pub const KEEP_DELIVERIES_MS: i64 = 30 * DAY_MS;
/// Deliveries deleted per tick at most: a backlog (after an upgrade, say) drains over
/// several ticks instead of holding the database in one long delete.
const PURGE_DELIVERIES_PER_TICK: i64 = 5_000;

/// Offset of a repository's daily slot from midnight UTC, in milliseconds, inside `window`.
/// Stable across versions and machines (SHA-256, not the std hasher).
pub fn daily_offset_ms(repository_id: i64, window: DailyWindow) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"upkeep-daily:")
        .chain_update(repository_id.to_le_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    window.at(u64::from_le_bytes(first))
}

/// The most recent daily slot at or before `now`: its time and its dedupe key. The key names
/// the slot's date, so a window moved during the day never runs a repository twice that day.
pub fn due_slot(repository_id: i64, now: i64, window: DailyWindow) -> (i64, String) {
    let day_start = now - now.rem_euclid(DAY_MS);
    let today = day_start + daily_offset_ms(repository_id, window);
    let slot = if today <= now { today } else { today - DAY_MS };
    let date = chrono::DateTime::from_timestamp_millis(slot)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    (slot, format!("{DAILY_JOB}:{repository_id}:{date}"))
}

/// One scheduler tick: requeue jobs whose worker died, bury those that died on their last
/// attempt, drop old finished jobs, old blobs and old processed deliveries, and enqueue every
/// repository's due daily slot. Returns how many daily jobs it enqueued.
pub async fn tick(store: &Store, now: i64, window: DailyWindow) -> Result<usize, StoreError> {
    let released = store.release_expired_leases(now).await?;
    if released > 0 {
        warn!(
            count = released,
            "jobs whose worker stopped are queued again"
        );
    }
    let buried = store.bury_abandoned_jobs(now).await?;
    if buried > 0 {
        warn!(
            count = buried,
            "jobs died with their worker on the last attempt"
        );
    }
    store.purge_done_jobs(now - KEEP_DONE_MS).await?;
    store.purge_blobs(now - KEEP_BLOBS_MS).await?;
    let purged = store
        .purge_deliveries(now - KEEP_DELIVERIES_MS, PURGE_DELIVERIES_PER_TICK)
        .await?;
    if purged > 0 {
        info!(
            count = purged,
            "processed deliveries older than 30 days deleted"
        );
    }
    let mut enqueued = 0;
    for repo in store.active_repositories().await? {
        let (slot, key) = due_slot(repo.id, now, window);
        if repo.last_daily_key.as_deref() == Some(key.as_str()) {
            continue;
        }
        let payload = serde_json::json!({ "repository_id": repo.id }).to_string();
        let job = NewJob {
            kind: DAILY_JOB,
            dedupe_key: &key,
            payload: &payload,
            run_at: Some(slot),
            max_attempts: crate::queue::DEFAULT_MAX_ATTEMPTS,
            repository_id: Some(repo.id),
        };
        if store.enqueue(&job, now).await? {
            enqueued += 1;
        }
        store.set_last_daily_key(repo.id, &key, now).await?;
    }
    // Dependency passes follow each repository's own schedule once it has had a first pass.
    for repo in store.active_repositories().await? {
        let Some(due) = repo.deps_next_at.filter(|at| *at <= now) else {
            continue;
        };
        let key = format!("{DEPS_JOB}:{}:{due}", repo.id);
        let payload = serde_json::json!({ "repository_id": repo.id }).to_string();
        let job = NewJob {
            kind: DEPS_JOB,
            dedupe_key: &key,
            payload: &payload,
            run_at: Some(due),
            max_attempts: crate::queue::DEFAULT_MAX_ATTEMPTS,
            repository_id: Some(repo.id),
        };
        if store.enqueue(&job, now).await? {
            enqueued += 1;
        }
    }
    if enqueued > 0 {
        info!(count = enqueued, "daily passes enqueued");
    }
    Ok(enqueued)
}

/// Ticks at start-up and then every `every` until shutdown, in the daily window in force at
/// each tick.
pub async fn run(
    store: Store,
    every: Duration,
    window: impl Fn() -> DailyWindow + Send,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match tick(&store, now_ms(), window()).await {
            Ok(n) if n > 0 => wake.notify_waiters(),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "scheduler tick failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_spread_across_the_day_and_never_change() {
        let whole = DailyWindow::default();
        let offsets: Vec<i64> = (0..1000).map(|r| daily_offset_ms(r, whole)).collect();
        assert!(offsets.iter().all(|o| (0..DAY_MS).contains(o)));
        // Every hour of the day gets some repositories.
        for hour in 0..24 {
            assert!(
                offsets.iter().any(|o| o / 3_600_000 == hour),
                "hour {hour} empty"
            );
        }
        assert_eq!(daily_offset_ms(42, whole), daily_offset_ms(42, whole));
        let night = DailyWindow::parse("01:00-06:00").unwrap();
        let offsets: Vec<i64> = (0..1000).map(|r| daily_offset_ms(r, night)).collect();
        assert!(offsets
            .iter()
            .all(|o| (3_600_000..6 * 3_600_000).contains(o)));
        for hour in 1..6 {
            assert!(
                offsets.iter().any(|o| o / 3_600_000 == hour),
                "hour {hour} empty"
            );
        }
    }

    #[test]
    fn a_window_moved_during_the_day_keeps_that_day_s_key() {
        let (repo, day) = (7, 20_000 * DAY_MS);
        let noon = day + 12 * 3_600_000;
        let early = DailyWindow::parse("01:00-02:00").unwrap();
        let late = DailyWindow::parse("22:00-23:00").unwrap();
        let (_, ran) = due_slot(repo, noon, early);
        // Moved to the evening at noon: the due slot is yesterday's, whose key ran yesterday
        // (the job table refuses it again), and tonight's carries today's date, which ran.
        let (_, yesterday) = due_slot(repo, noon, late);
        let (_, tonight) = due_slot(repo, day + 23 * 3_600_000, late);
        assert_ne!(yesterday, ran);
        assert_eq!(tonight, ran);
    }

    #[test]
    fn the_due_slot_is_the_latest_one_not_in_the_future() {
        let repo = 7;
        let whole = DailyWindow::default();
        let offset = daily_offset_ms(repo, whole);
        let day = 20_000 * DAY_MS;
        let (slot, key) = due_slot(repo, day + offset, whole);
        assert_eq!(slot, day + offset);
        let (before, key_before) = due_slot(repo, day + offset - 1, whole);
        assert_eq!(before, day + offset - DAY_MS);
        assert_ne!(key, key_before);
        let (later, key_later) = due_slot(repo, day + offset + DAY_MS - 1, whole);
        assert_eq!((later, key_later), (slot, key));
    }

    #[test]
    fn only_the_schedule_s_own_passes_count_as_scheduled() {
        assert!(is_scheduled(DAILY_JOB, "daily:7:2026-12-06"));
        assert!(is_scheduled(DEPS_JOB, "deps:7:1796520698479"));
        // `@upkeep update`, the dashboard, an advisory refresh: someone asked for these.
        assert!(!is_scheduled(DEPS_JOB, "deps:7:cmd:1018:update"));
        assert!(!is_scheduled(DEPS_JOB, "deps:7:dashboard:1796520698479"));
        assert!(!is_scheduled(DEPS_JOB, "deps:7:"));
        assert!(!is_scheduled("audit", "audit:7:1796520698479"));
        assert!(!is_scheduled("delivery", "delivery:abc"));
    }
}
