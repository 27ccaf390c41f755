//! Named leases shared by every replica on the store: one holder at a time until the lease is
//! given back or runs out. Taking is one upsert that only overwrites a lease that ran out or is
//! the taker's own, so two replicas racing for a free lease cannot both get it (PostgreSQL
//! serialises them on the row; SQLite has one writer).

use super::{Store, StoreError};

impl Store {
    /// Takes lease `name` for `holder` until `until` (ms) when it is free, ran out by `now`, or
    /// is `holder`'s already (then renewed); whether `holder` has it now.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
             WHERE leases.until_ms < $4 OR leases.holder = $2",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives lease `name` back, if `holder` still has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Drops every named lease. Only for a store just restored from a backup: the leases in
    /// it were held by processes that ran before the file broke, and would keep this one from
    /// sweeping until they ran out.
    pub async fn clear_leases(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM leases")
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
