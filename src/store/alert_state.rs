//! The self-tuning alerts' persisted state: named JSON documents (what was learnt, which
//! alerts are open), replaced whole.

use super::{Store, StoreError};

impl Store {
    pub async fn put_alert_state(
        &self,
        name: &str,
        body: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_state (name, body, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(body)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn alert_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT body FROM alert_state WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}
