//! The history health reports and alert charts read: upkeep's own signals over time
//! (`signal_samples`) and what it did for each repository (`repo_events`, once per fact).

use sqlx::Row;

use super::{Dialect, Store, StoreError};

/// One fact about a repository: its kind, when, and a value where it has one (a PR's time to
/// merge in seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct RepoEvent {
    pub kind: String,
    pub at: i64,
    pub value: Option<f64>,
}

impl Store {
    /// Adds a sample (or a count) of `name` at `t`.
    pub async fn record_sample(&self, name: &str, t: i64, value: f64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO signal_samples (name, t, value) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(t)
            .bind(value)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The samples of `name` from `from` (inclusive) to `to` (exclusive), oldest first.
    pub async fn samples_between(
        &self,
        name: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, f64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT t, value FROM signal_samples WHERE name = $1 AND t >= $2 AND t < $3 ORDER BY t",
        )
        .bind(name)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// When `name` was first sampled (within retention).
    pub async fn first_sample_at(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MIN(t) FROM signal_samples WHERE name = $1")
                .bind(name)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Records a fact about a repository once: a second record under the same key is ignored
    /// (a redelivered or re-run event).
    pub async fn record_repo_event(
        &self,
        key: &str,
        repository_id: i64,
        kind: &str,
        at: i64,
        value: Option<f64>,
    ) -> Result<bool, StoreError> {
        // A NULL of no stated type does not bind through PostgreSQL's Any driver: a fact
        // without a value leaves the column out instead.
        let sql = match value {
            Some(_) => {
                "INSERT INTO repo_events (key, repository_id, kind, at, value) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING"
            }
            None => {
                "INSERT INTO repo_events (key, repository_id, kind, at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING"
            }
        };
        let mut q = sqlx::query(sql)
            .bind(key)
            .bind(repository_id)
            .bind(kind)
            .bind(at);
        if let Some(v) = value {
            q = q.bind(v);
        }
        let n = q.execute(self.pool()).await?.rows_affected();
        Ok(n > 0)
    }

    /// A repository's facts from `from` (inclusive) to `to` (exclusive), oldest first.
    pub async fn repo_events_between(
        &self,
        repository_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<RepoEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, at, value FROM repo_events WHERE repository_id = $1 AND at >= $2 AND at < $3 \
             ORDER BY at, key",
        )
        .bind(repository_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RepoEvent {
                    kind: r.try_get(0)?,
                    at: r.try_get(1)?,
                    value: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// When upkeep first stored a repository.
    pub async fn repository_known_since(&self, id: i64) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT created_at FROM repositories WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Revert decisions of `decision` for a repository from `from` to `to` (exclusive).
    pub async fn count_reverts_between(
        &self,
        repository_id: i64,
        decision: &str,
        from: i64,
        to: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM reverts WHERE repository_id = $1 AND decision = $2 \
             AND created_at >= $3 AND created_at < $4",
        )
        .bind(repository_id)
        .bind(decision)
        .bind(from)
        .bind(to)
        .fetch_one(self.pool())
        .await?)
    }

    /// The database's size on disk, in bytes (SQLite: pages in use and free; PostgreSQL: the
    /// current database).
    pub async fn database_size_bytes(&self) -> Result<i64, StoreError> {
        Ok(match self.dialect() {
            Dialect::Sqlite => {
                sqlx::query_scalar(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(self.pool())
                .await?
            }
            Dialect::Postgres => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(self.pool())
                    .await?
            }
        })
    }

    /// Signal samples taken before `before`.
    pub async fn purge_samples(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        self.delete(
            "DELETE FROM signal_samples WHERE t IN \
             (SELECT t FROM signal_samples WHERE t < $1 ORDER BY t LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Repository facts older than `before`.
    pub async fn purge_repo_events(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        self.delete(
            "DELETE FROM repo_events WHERE key IN \
             (SELECT key FROM repo_events WHERE at < $1 ORDER BY at LIMIT $2)",
            before,
            limit,
        )
        .await
    }
}
