//! Detection limits where the app needs them: worked out off the async runtime (the search runs
//! the verdict a few thousand times per benchmark), for ingest's table; and the benchmarks of a
//! repository that cannot see the slowdown the verdicts aim for (`limits::WANTED`) on each
//! runner class's recent default-branch results, for the dashboard.

use std::collections::BTreeMap;

use crate::bench::limits::{limits, Blind, WANTED};
use crate::bench::{Measured, Rules};
use crate::store::{Store, StoreError};

/// Default-branch result sets the limits are learned from (as ingest's history).
const HISTORY: i64 = 20;

/// Each benchmark's limit from `sets` (a runner class's default-branch history, oldest
/// first), `family` benchmarks compared together, on a blocking thread.
pub async fn limits_off_runtime(
    sets: Vec<(String, Vec<Measured>)>,
    family: usize,
) -> BTreeMap<String, f64> {
    tokio::task::spawn_blocking(move || limits(&sets, family, &Rules::default()))
        .await
        .unwrap_or_default()
}

/// The repository's blind benchmarks on `branch`, widest limit first.
pub async fn blind_benchmarks(
    store: &Store,
    repository_id: i64,
    branch: &str,
) -> Result<Vec<Blind>, StoreError> {
    let mut out = Vec::new();
    for class in store.bench_runner_classes(repository_id, branch).await? {
        let sets = store
            .bench_history(repository_id, branch, &class, "", HISTORY)
            .await?;
        let family = sets.last().map_or(1, |(_, set)| set.len());
        let found = limits_off_runtime(sets, family).await;
        out.extend(
            found
                .into_iter()
                .filter(|(_, limit)| *limit > WANTED)
                .map(|(id, limit)| Blind {
                    id,
                    runner_class: class.clone(),
                    limit,
                }),
        );
    }
    out.sort_by(|a, b| b.limit.total_cmp(&a.limit).then(a.id.cmp(&b.id)));
    Ok(out)
}
