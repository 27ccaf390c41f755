//! Which crates each repository locks (as of its last pass), so a new advisory reaches exactly
//! the repositories it may affect.

use std::collections::BTreeSet;

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Replaces the set of crates `repository_id` locks.
    pub async fn set_locked_crates(
        &self,
        repository_id: i64,
        names: &BTreeSet<String>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM locked_crates WHERE repository_id = $1")
            .bind(repository_id)
            .execute(&mut *tx)
            .await?;
        for name in names {
            sqlx::query(
                "INSERT INTO locked_crates (repository_id, name) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(repository_id)
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Active repositories that lock any of `names`.
    pub async fn repositories_locking(
        &self,
        names: &BTreeSet<String>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut out = BTreeSet::new();
        // One query per crate keeps the SQL portable across both dialects; a refresh brings a
        // handful of advisories.
        for name in names {
            let rows = sqlx::query(
                "SELECT l.repository_id FROM locked_crates l \
                 JOIN repositories r ON r.id = l.repository_id \
                 WHERE l.name = $1 AND r.removed_at IS NULL",
            )
            .bind(name.as_str())
            .fetch_all(self.pool())
            .await?;
            for r in rows {
                out.insert(r.try_get::<i64, _>(0)?);
            }
        }
        Ok(out.into_iter().collect())
    }
}
