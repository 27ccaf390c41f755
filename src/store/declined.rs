//! Dependency updates a person declined by closing upkeep's PR unmerged: remembered by branch
//! and plan fingerprint, so the same update is not proposed again (a newer one is).

use std::collections::BTreeSet;

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Remembers that the update on `branch` with `fingerprint` was declined.
    pub async fn record_declined(
        &self,
        repository_id: i64,
        branch: &str,
        fingerprint: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO declined_updates (repository_id, branch, fingerprint, declined_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(repository_id)
        .bind(branch)
        .bind(fingerprint)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every declined `(branch, fingerprint)` of a repository.
    pub async fn declined(
        &self,
        repository_id: i64,
    ) -> Result<BTreeSet<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT branch, fingerprint FROM declined_updates WHERE repository_id = $1",
        )
        .bind(repository_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
