//! The permissions each installation has accepted, as GitHub last said (an `installation`
//! event or `GET /app/installations`), with the account they belong to for the accept page.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreError};

/// An installation's accepted permissions and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub account_login: String,
    pub account_type: String,
    pub permissions: BTreeMap<String, String>,
}

impl Store {
    /// Records what installation `id` has accepted (a known installation only).
    pub async fn set_installation_permissions(
        &self,
        id: i64,
        permissions: &BTreeMap<String, String>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(permissions).unwrap_or_else(|_| "{}".to_owned());
        let done =
            sqlx::query("UPDATE installations SET permissions = $1, updated_at = $2 WHERE id = $3")
                .bind(json)
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// What installation `id` has accepted; `None` while unknown (nothing is paused then).
    pub async fn installation_permissions(&self, id: i64) -> Result<Option<Accepted>, StoreError> {
        let row = sqlx::query(
            "SELECT account_login, account_type, permissions FROM installations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(json) = row.try_get::<Option<String>, _>(2)? else {
            return Ok(None);
        };
        Ok(Some(Accepted {
            account_login: row.try_get(0)?,
            account_type: row.try_get(1)?,
            permissions: serde_json::from_str(&json).unwrap_or_default(),
        }))
    }
}
