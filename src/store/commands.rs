//! What comment commands and the dashboard keep: which commands already ran (so an edited
//! comment never runs one twice), ignores added or removed by command until the PR that writes
//! them merges, whether a person turned the dashboard off, and re-running a failed job.

use sqlx::Row;

use super::jobs::Job;
use super::{Store, StoreError};

/// An ignore added (`add`) or removed (`remove`) by command, not yet in `.github/upkeep.toml`
/// on the default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingIgnore {
    pub dependency: String,
    /// A version requirement; empty for the whole dependency.
    pub versions: String,
    /// `add` or `remove`.
    pub op: String,
}

impl Store {
    /// Claims a command of a comment; `false` when it already ran.
    pub async fn claim_command(
        &self,
        repository_id: i64,
        comment_id: i64,
        key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO command_runs (repository_id, comment_id, command_key, ran_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(repository_id)
        .bind(comment_id)
        .bind(key)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Forgets a claim, so a retry of the delivery runs the command (it failed half way).
    pub async fn release_command(&self, comment_id: i64, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM command_runs WHERE comment_id = $1 AND command_key = $2")
            .bind(comment_id)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records an ignore added or removed by command (a later one for the same dependency
    /// and versions replaces it).
    pub async fn put_pending_ignore(
        &self,
        repository_id: i64,
        ignore: &PendingIgnore,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_ignores (repository_id, dependency, versions, op, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repository_id, dependency, versions) \
             DO UPDATE SET op = excluded.op, created_at = excluded.created_at",
        )
        .bind(repository_id)
        .bind(ignore.dependency.as_str())
        .bind(ignore.versions.as_str())
        .bind(ignore.op.as_str())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets pending ignores of a dependency (all of them when `versions` is `None`).
    pub async fn drop_pending_ignores(
        &self,
        repository_id: i64,
        dependency: &str,
        versions: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM pending_ignores WHERE repository_id = $1 AND dependency = $2 \
             AND ($3 = '*' OR versions = $3)",
        )
        .bind(repository_id)
        .bind(dependency)
        .bind(versions.unwrap_or("*"))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets every pending ignore of a repository (its PR merged or was closed).
    pub async fn clear_pending_ignores(&self, repository_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pending_ignores WHERE repository_id = $1")
            .bind(repository_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The pending ignores of a repository, oldest first.
    pub async fn pending_ignores(
        &self,
        repository_id: i64,
    ) -> Result<Vec<PendingIgnore>, StoreError> {
        let rows = sqlx::query(
            "SELECT dependency, versions, op FROM pending_ignores WHERE repository_id = $1 \
             ORDER BY created_at, dependency",
        )
        .bind(repository_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingIgnore {
                    dependency: r.try_get(0)?,
                    versions: r.try_get(1)?,
                    op: r.try_get(2)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Turns the dashboard off (a person closed it) or on again (reopened).
    pub async fn set_dashboard_off(
        &self,
        repository_id: i64,
        off: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE repositories SET dashboard_off = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(off))
            .bind(now)
            .bind(repository_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Queues the repository's most recent failed or dead job again (a fresh set of
    /// attempts); the job, or `None` when nothing failed.
    pub async fn retry_last_failed(
        &self,
        repository_id: i64,
        now: i64,
    ) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(
            "SELECT id, dedupe_key FROM jobs WHERE repository_id = $1 AND state IN ('failed', 'dead') \
             ORDER BY updated_at DESC, id DESC LIMIT 1",
        )
        .bind(repository_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get(0)?;
        let key: String = row.try_get(1)?;
        let updated = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, lease_until = NULL, \
             lease_token = NULL, updated_at = $1 WHERE id = $2 AND state IN ('failed', 'dead')",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        if updated.rows_affected() == 0 {
            // A worker took it up meanwhile: it is running again already.
            return Ok(None);
        }
        self.job_by_key(&key).await
    }
}
