//! What comment commands and the dashboard keep: which commands were claimed and which are
//! done (so an edited comment never runs one twice, and a crash never loses one), how many
//! commands each person ran lately, ignores added or removed by command until the PR that writes
//! them merges, whether a person turned the dashboard off, and re-running a failed job.

use sqlx::Row;

use super::jobs::Job;
use super::{Store, StoreError};

/// How long another delivery's unfinished claim on a command is respected before a later
/// delivery of the same comment takes it over (its job may have died).
pub const CLAIM_TAKEOVER_MS: i64 = 15 * 60 * 1000;

/// What claiming a command found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had claimed it: run it.
    New,
    /// This delivery claimed it before and stopped before the reply existed: finish it.
    Resumed,
    /// Its reply exists.
    Done,
    /// Another delivery of the comment is on it.
    Elsewhere,
}

/// What a person may still run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub granted: i64,
    /// Tell them (once per window) that the rest waits.
    pub tell: bool,
    pub window_ends_at: i64,
}

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
    /// Claims a command of a comment for the delivery `by`: new, resumed (this delivery claimed
    /// it before and stopped before its reply existed), done, or held by another delivery. A
    /// claim another delivery left unfinished for [`CLAIM_TAKEOVER_MS`] is taken over.
    pub async fn claim_command(
        &self,
        repository_id: i64,
        comment_id: i64,
        key: &str,
        by: &str,
        now: i64,
    ) -> Result<Claim, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO command_runs (repository_id, comment_id, command_key, ran_at, claimed_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(repository_id)
        .bind(comment_id)
        .bind(key)
        .bind(now)
        .bind(by)
        .execute(self.pool())
        .await?
        .rows_affected();
        if inserted > 0 {
            return Ok(Claim::New);
        }
        let taken = sqlx::query(
            "UPDATE command_runs SET claimed_by = $1, ran_at = $2 WHERE comment_id = $3 \
             AND command_key = $4 AND done_at IS NULL AND (claimed_by = $1 OR ran_at < $5)",
        )
        .bind(by)
        .bind(now)
        .bind(comment_id)
        .bind(key)
        .bind(now - CLAIM_TAKEOVER_MS)
        .execute(self.pool())
        .await?
        .rows_affected();
        if taken > 0 {
            return Ok(Claim::Resumed);
        }
        let done: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT done_at FROM command_runs WHERE comment_id = $1 AND command_key = $2",
        )
        .bind(comment_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        Ok(match done {
            Some(Some(_)) => Claim::Done,
            _ => Claim::Elsewhere,
        })
    }

    /// Marks claimed commands done: their reply exists (or they were answered by the limit).
    pub async fn finish_commands(
        &self,
        comment_id: i64,
        keys: &[&str],
        now: i64,
    ) -> Result<(), StoreError> {
        for key in keys {
            sqlx::query(
                "UPDATE command_runs SET done_at = $1 WHERE comment_id = $2 AND command_key = $3",
            )
            .bind(now)
            .bind(comment_id)
            .bind(*key)
            .execute(self.pool())
            .await?;
        }
        Ok(())
    }

    /// Takes up to `wanted` commands from a person's allowance on a repository: at most `limit`
    /// per `window_ms`. Whether they should be told is true once per window, the first time the
    /// allowance falls short.
    pub async fn take_command_allowance(
        &self,
        repository_id: i64,
        login: &str,
        wanted: i64,
        limit: i64,
        window_ms: i64,
        now: i64,
    ) -> Result<Allowance, StoreError> {
        let login = login.to_lowercase();
        let mut tx = self.pool().begin().await?;
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT window_start, used, told FROM command_rate WHERE repository_id = $1 AND login = $2",
        )
        .bind(repository_id)
        .bind(login.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (start, used, told) = match row {
            Some((start, used, told)) if now - start < window_ms => (start, used, told != 0),
            _ => (now, 0, false),
        };
        let granted = wanted.min(limit - used).max(0);
        let tell = granted < wanted && !told;
        sqlx::query(
            "INSERT INTO command_rate (repository_id, login, window_start, used, told) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repository_id, login) DO UPDATE SET \
             window_start = excluded.window_start, used = excluded.used, told = excluded.told",
        )
        .bind(repository_id)
        .bind(login.as_str())
        .bind(start)
        .bind(used + granted)
        .bind(i64::from(told || tell))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Allowance {
            granted,
            tell,
            window_ends_at: start + window_ms,
        })
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

    /// Queues the repository's most recent failed, dead or quarantined job again (a fresh set of
    /// attempts); the job, or `None` when nothing failed.
    pub async fn retry_last_failed(
        &self,
        repository_id: i64,
        now: i64,
    ) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(
            "SELECT id, dedupe_key FROM jobs WHERE repository_id = $1 \
             AND state IN ('failed', 'dead', 'quarantined') \
             ORDER BY updated_at DESC, id DESC LIMIT 1",
        )
        .bind(repository_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get(0)?;
        let key: String = row.try_get(1)?;
        let updated = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, crashes = 0, run_at = $1, \
             lease_until = NULL, lease_token = NULL, updated_at = $1 \
             WHERE id = $2 AND state IN ('failed', 'dead', 'quarantined')",
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
