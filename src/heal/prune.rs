//! Applies the retention rules (`retention`) hourly: each rule in batches of `BATCH` rows until
//! nothing old is left, yielding between batches so intake and workers get the database.

use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use super::retention::{Retention, Rule, BATCH};
use crate::store::{Store, StoreError};
use crate::time::now_ms;

/// Prunes every table by `retention` at `now_ms`; how many rows went.
pub async fn prune(store: &Store, retention: &Retention, now_ms: i64) -> Result<u64, StoreError> {
    let mut total = 0;
    for rule in retention.rules(now_ms) {
        loop {
            let n = match rule {
                Rule::DeadJobs { before } => store.purge_dead_jobs(before, BATCH).await?,
                Rule::Reverts { before } => store.purge_reverts(before, BATCH).await?,
                Rule::Bisections { before } => store.purge_bisections(before, BATCH).await?,
                Rule::BenchResults {
                    before,
                    keep_commits,
                } => {
                    store
                        .purge_bench_results(before, keep_commits, BATCH)
                        .await?
                }
                Rule::CommandRuns { before } => store.purge_command_runs(before, BATCH).await?,
                Rule::CommandRate { before } => store.purge_command_rate(before, BATCH).await?,
                Rule::Samples { before } => store.purge_samples(before, BATCH).await?,
                Rule::RepoEvents { before } => store.purge_repo_events(before, BATCH).await?,
            };
            total += n;
            if n < u64::try_from(BATCH).unwrap_or(u64::MAX) {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(total)
}

/// Prunes at start and then every `every` by what `retention` says then (a reloaded
/// configuration may change it), until shutdown.
pub async fn run(
    store: Store,
    every: Duration,
    retention: impl Fn() -> Retention,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match prune(&store, &retention(), now_ms()).await {
            Ok(0) => {}
            Ok(n) => info!(rows = n, "old rows pruned"),
            Err(e) => warn!(error = %e, "pruning failed; it is tried again within the hour"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}
