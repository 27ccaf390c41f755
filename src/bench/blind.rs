//! The benchmarks of a repository that cannot see the slowdown the verdicts aim for
//! (`limits::WANTED`): each runner class's recent default-branch results, their detection
//! limits worked out off the async runtime (the search runs the verdict a few thousand times
//! per benchmark). For the dashboard.

use crate::bench::limits::{limits, Blind, WANTED};
use crate::bench::Rules;
use crate::store::{Store, StoreError};

/// Default-branch result sets the limits are learned from (as ingest's history).
const HISTORY: i64 = 20;

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
        let found = tokio::task::spawn_blocking(move || limits(&sets, family, &Rules::default()))
            .await
            .unwrap_or_default();
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
