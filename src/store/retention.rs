//! Pruning the tables that grow, in small batches (each call deletes at most `limit` rows, so a
//! large backlog never holds SQLite's write lock for long). What to keep is decided in
//! `heal::retention`; these only delete what they are told is old.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Dead and quarantined jobs last touched before `before`.
    pub async fn purge_dead_jobs(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        self.delete(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs \
             WHERE state IN ('dead', 'quarantined') AND updated_at < $1 ORDER BY updated_at LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Revert decisions made before `before`.
    pub async fn purge_reverts(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        self.delete(
            "DELETE FROM reverts WHERE (repository_id, sha, created_at) IN \
             (SELECT repository_id, sha, created_at FROM reverts WHERE created_at < $1 \
              ORDER BY created_at LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Finished bisections that ended before `before` (one still running is never pruned).
    pub async fn purge_bisections(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        self.delete(
            "DELETE FROM bisections WHERE (repository_id, red_sha, workflow_id) IN \
             (SELECT repository_id, red_sha, workflow_id FROM bisections \
              WHERE done_at IS NOT NULL AND done_at < $1 ORDER BY done_at LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Exactly-once markers of commands run before `before` (GitHub does not redeliver events
    /// that old, and their deliveries are gone already).
    pub async fn purge_command_runs(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        self.delete(
            "DELETE FROM command_runs WHERE (comment_id, command_key) IN \
             (SELECT comment_id, command_key FROM command_runs WHERE ran_at < $1 \
              ORDER BY ran_at LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Per-person command allowances whose window started before `before`.
    pub async fn purge_command_rate(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        self.delete(
            "DELETE FROM command_rate WHERE (repository_id, login) IN \
             (SELECT repository_id, login FROM command_rate WHERE window_start < $1 LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Benchmark results (times and counts) stored before `before`, except those of the newest
    /// `keep_commits` commits of their repository, branch and runner class: the history
    /// verdicts and charts read is never pruned, however quiet the repository. At most `limit`
    /// rows go.
    pub async fn purge_bench_results(
        &self,
        before: i64,
        keep_commits: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let times = self
            .purge_bench_table(BenchTable::Times, before, keep_commits, limit)
            .await?;
        let left = limit - i64::try_from(times).unwrap_or(i64::MAX);
        let counts = if left > 0 {
            self.purge_bench_table(BenchTable::Counts, before, keep_commits, left)
                .await?
        } else {
            0
        };
        Ok(times + counts)
    }

    async fn purge_bench_table(
        &self,
        table: BenchTable,
        before: i64,
        keep_commits: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let (name, key) = table.name_and_key();
        let series = sqlx::query(&format!(
            "SELECT DISTINCT repository_id, branch, runner_class FROM {name} WHERE created_at < $1"
        ))
        .bind(before)
        .fetch_all(self.pool())
        .await?;
        let mut deleted = 0u64;
        for row in series {
            let repository_id: i64 = row.try_get(0)?;
            let branch: String = row.try_get(1)?;
            let runner_class: String = row.try_get(2)?;
            // The oldest row of the `keep_commits`-th newest commit: everything before it can go.
            let kept_from: Option<i64> = sqlx::query(&format!(
                "SELECT MIN(created_at) FROM {name} \
                 WHERE repository_id = $1 AND branch = $2 AND runner_class = $3 \
                 GROUP BY commit_sha ORDER BY MAX(created_at) DESC LIMIT 1 OFFSET $4"
            ))
            .bind(repository_id)
            .bind(&branch)
            .bind(&runner_class)
            .bind(keep_commits.saturating_sub(1).max(0))
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
            let Some(kept_from) = kept_from else {
                continue;
            };
            let left = limit - i64::try_from(deleted).unwrap_or(i64::MAX);
            if left <= 0 {
                break;
            }
            deleted += sqlx::query(&format!(
                "DELETE FROM {name} WHERE ({key}) IN \
                 (SELECT {key} FROM {name} \
                  WHERE repository_id = $1 AND branch = $2 AND runner_class = $3 AND created_at < $4 \
                  LIMIT $5)"
            ))
            .bind(repository_id)
            .bind(&branch)
            .bind(&runner_class)
            .bind(before.min(kept_from))
            .bind(left)
            .execute(self.pool())
            .await?
            .rows_affected();
        }
        Ok(deleted)
    }

    pub(super) async fn delete(
        &self,
        sql: &str,
        before: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql)
            .bind(before)
            .bind(limit)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}

/// The two tables of benchmark results, pruned alike.
#[derive(Clone, Copy)]
enum BenchTable {
    Times,
    Counts,
}

impl BenchTable {
    /// The table and its primary key's columns (fixed names, never from input).
    fn name_and_key(self) -> (&'static str, &'static str) {
        match self {
            BenchTable::Times => (
                "bench_results",
                "repository_id, commit_sha, runner_class, full_id",
            ),
            BenchTable::Counts => (
                "bench_counts",
                "repository_id, commit_sha, runner_class, full_id, metric",
            ),
        }
    }
}
