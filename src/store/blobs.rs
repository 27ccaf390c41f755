//! Git blob texts by object id: immutable, so kept until unused for a while, and shared by
//! every replica.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// A blob's text, if stored; marks it used.
    pub async fn blob(&self, sha: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("UPDATE blobs SET used_at = $1 WHERE sha = $2 RETURNING content")
            .bind(now)
            .bind(sha)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn put_blob(&self, sha: &str, content: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO blobs (sha, content, used_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha) DO UPDATE SET used_at = excluded.used_at",
        )
        .bind(sha)
        .bind(content)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets blobs unused since `before`; how many.
    pub async fn purge_blobs(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM blobs WHERE used_at < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
