//! Instruction counts and the other Callgrind metrics of the default branch (gungraun
//! summaries), one row per benchmark and metric kind: the baseline and the history
//! `bench::counts` learns each benchmark's own noise from.

use sqlx::Row;

use super::bench::ResultKey;
use super::{Store, StoreError};
use crate::bench::gungraun::{Counted, Metric};

impl Store {
    /// Keeps a default-branch set of counts (a re-run of the same commit replaces it).
    pub async fn put_bench_counts(
        &self,
        key: &ResultKey<'_>,
        counts: &[Counted],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for c in counts {
            sqlx::query(
                "INSERT INTO bench_counts (repository_id, branch, commit_sha, runner_class, full_id, \
                 metric, value, run_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (repository_id, commit_sha, runner_class, full_id, metric) DO UPDATE SET \
                 value = excluded.value, run_id = excluded.run_id",
            )
            .bind(key.repository_id)
            .bind(key.branch)
            .bind(key.commit_sha)
            .bind(key.runner_class)
            .bind(c.id.as_str())
            .bind(c.metric.as_str())
            .bind(c.value)
            .bind(key.run_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The newest `commits` default-branch count sets on a runner class, oldest first, each
    /// `(commit, counts)`; `except` is left out (the commit being judged).
    pub async fn bench_count_history(
        &self,
        repository_id: i64,
        branch: &str,
        runner_class: &str,
        except: &str,
        commits: i64,
    ) -> Result<Vec<(String, Vec<Counted>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.commit_sha, r.full_id, r.metric, r.value FROM bench_counts r \
             JOIN (SELECT commit_sha, MAX(created_at) AS at FROM bench_counts \
                   WHERE repository_id = $1 AND branch = $2 AND runner_class = $3 AND commit_sha <> $4 \
                   GROUP BY commit_sha ORDER BY at DESC LIMIT $5) c ON c.commit_sha = r.commit_sha \
             WHERE r.repository_id = $1 AND r.branch = $2 AND r.runner_class = $3 \
             ORDER BY c.at, r.commit_sha, r.full_id, r.metric",
        )
        .bind(repository_id)
        .bind(branch)
        .bind(runner_class)
        .bind(except)
        .bind(commits)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(String, Vec<Counted>)> = Vec::new();
        for r in rows {
            let sha: String = r.try_get(0)?;
            let id: String = r.try_get(1)?;
            let metric: String = r.try_get(2)?;
            let value: f64 = r.try_get(3)?;
            // A metric a later version stopped reading is left out, not an error.
            let Some(metric) = Metric::from_name(&metric) else {
                continue;
            };
            let c = Counted { id, metric, value };
            match out.last_mut() {
                Some((last, cs)) if *last == sha => cs.push(c),
                _ => out.push((sha, vec![c])),
            }
        }
        Ok(out)
    }
}
