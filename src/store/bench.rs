//! Benchmark results of the default branch: the baseline (the latest commit with results on a
//! runner class) and the history its noise bands are learned from (adjacent commits' changes).

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreError};
use crate::bench::Measured;

/// `spread_ns` of a result with samples.
const NO_SPREAD: f64 = -1.0;

/// Where a result set came from.
#[derive(Debug, Clone, Copy)]
pub struct ResultKey<'a> {
    pub repository_id: i64,
    pub branch: &'a str,
    pub commit_sha: &'a str,
    pub runner_class: &'a str,
    pub run_id: i64,
}

impl Store {
    /// Keeps a default-branch result set (a re-run of the same commit replaces it).
    pub async fn put_bench_results(
        &self,
        key: &ResultKey<'_>,
        results: &[Measured],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for m in results {
            let samples = serde_json::to_string(&m.samples).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "INSERT INTO bench_results (repository_id, branch, commit_sha, runner_class, full_id, \
                 mean_ns, samples, run_id, created_at, spread_ns) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (repository_id, commit_sha, runner_class, full_id) DO UPDATE SET \
                 mean_ns = excluded.mean_ns, samples = excluded.samples, run_id = excluded.run_id, \
                 spread_ns = excluded.spread_ns",
            )
            .bind(key.repository_id)
            .bind(key.branch)
            .bind(key.commit_sha)
            .bind(key.runner_class)
            .bind(m.id.as_str())
            .bind(m.mean())
            .bind(samples)
            .bind(key.run_id)
            .bind(now)
            .bind(
                m.summary
                    .filter(|_| m.samples.is_empty())
                    .map_or(NO_SPREAD, |s| s.1),
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether any benchmark result (a time or a count) of `commit_sha` is stored (its run was
    /// read already).
    pub async fn has_bench_results(
        &self,
        repository_id: i64,
        commit_sha: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM bench_results WHERE repository_id = $1 AND commit_sha = $2 \
             UNION ALL SELECT 1 FROM bench_counts WHERE repository_id = $1 AND commit_sha = $2 LIMIT 1",
        )
        .bind(repository_id)
        .bind(commit_sha)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// The runner classes `branch` has benchmark times from.
    pub async fn bench_runner_classes(
        &self,
        repository_id: i64,
        branch: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT runner_class FROM bench_results WHERE repository_id = $1 AND branch = $2 \
             ORDER BY runner_class",
        )
        .bind(repository_id)
        .bind(branch)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The newest `commits` default-branch result sets on a runner class, oldest first, each
    /// `(commit, results)`; `except` is left out (the commit being judged).
    pub async fn bench_history(
        &self,
        repository_id: i64,
        branch: &str,
        runner_class: &str,
        except: &str,
        commits: i64,
    ) -> Result<Vec<(String, Vec<Measured>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.commit_sha, r.full_id, r.samples, r.mean_ns, r.spread_ns FROM bench_results r \
             JOIN (SELECT commit_sha, MAX(created_at) AS at FROM bench_results \
                   WHERE repository_id = $1 AND branch = $2 AND runner_class = $3 AND commit_sha <> $4 \
                   GROUP BY commit_sha ORDER BY at DESC LIMIT $5) c ON c.commit_sha = r.commit_sha \
             WHERE r.repository_id = $1 AND r.branch = $2 AND r.runner_class = $3 \
             ORDER BY c.at, r.commit_sha, r.full_id",
        )
        .bind(repository_id)
        .bind(branch)
        .bind(runner_class)
        .bind(except)
        .bind(commits)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(String, Vec<Measured>)> = Vec::new();
        for r in rows {
            let sha: String = r.try_get(0)?;
            let id: String = r.try_get(1)?;
            let samples: String = r.try_get(2)?;
            let mean: f64 = r.try_get(3)?;
            let spread: f64 = r.try_get(4)?;
            let samples: Vec<f64> = serde_json::from_str(&samples).unwrap_or_default();
            // A bencher line's result: its estimate and spread, no samples.
            let summary = (samples.is_empty() && spread >= 0.0).then_some((mean, spread));
            let m = Measured {
                id,
                samples,
                summary,
            };
            match out.last_mut() {
                Some((last, ms)) if *last == sha => ms.push(m),
                _ => out.push((sha, vec![m])),
            }
        }
        Ok(out)
    }
}

/// Per benchmark, the typical time of each result set (oldest first): the history the
/// verdicts take their baseline and noise band from.
pub fn levels(sets: &[(String, Vec<Measured>)]) -> BTreeMap<String, Vec<f64>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (_, results) in sets {
        for m in results {
            let t = m.typical();
            if t.is_finite() && t > 0.0 {
                out.entry(m.id.clone()).or_default().push(t);
            }
        }
    }
    out
}
