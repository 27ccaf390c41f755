//! Webhook deliveries: stored before they are acknowledged, once per `X-GitHub-Delivery`.

use sqlx::Row;

use super::{Store, StoreError};

/// A delivery as received, about to be stored.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub action: Option<&'a str>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub repository: Option<&'a str>,
    pub received_at: i64,
    pub payload: &'a str,
    /// Whether a processing job goes with it.
    pub enqueue: bool,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub repository: Option<String>,
    pub received_at: i64,
    pub payload: String,
    pub processed_at: Option<i64>,
    pub outcome: Option<String>,
}

/// Whether a delivery was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Duplicate,
}

impl Store {
    /// Stores one delivery; see `store_deliveries`.
    pub async fn store_delivery(
        &self,
        delivery: &NewDelivery<'_>,
        job_kind: &str,
    ) -> Result<Stored, StoreError> {
        let mut stored = self
            .store_deliveries(std::slice::from_ref(delivery), job_kind)
            .await?;
        stored
            .pop()
            .ok_or_else(|| StoreError::Batch("no answer for the delivery".into()))
    }

    /// Stores a batch of deliveries in one transaction, each new one that asks for it with its
    /// processing job (`{job_kind}:{delivery_id}`): a delivery is never stored without its job,
    /// nor acknowledged unstored. Two multi-row statements serve the whole batch, which is what
    /// lets one SQLite writer keep up with a burst. The answer is in the batch's order; a
    /// delivery id seen before, or earlier in the same batch, is a duplicate.
    pub async fn store_deliveries(
        &self,
        batch: &[NewDelivery<'_>],
        job_kind: &str,
    ) -> Result<Vec<Stored>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool().begin().await?;
        let rows: Vec<String> = (0..batch.len())
            .map(|i| {
                let b = i * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO deliveries (delivery_id, event, action, installation_id, repository_id, \
             repository, received_at, payload) VALUES {} ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for d in batch {
            query = query
                .bind(d.delivery_id)
                .bind(d.event)
                .bind(d.action)
                .bind(d.installation_id)
                .bind(d.repository_id)
                .bind(d.repository)
                .bind(d.received_at)
                .bind(d.payload);
        }
        let inserted: std::collections::HashSet<String> = query
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        let mut seen = std::collections::HashSet::new();
        let stored: Vec<Stored> = batch
            .iter()
            .map(|d| {
                if inserted.contains(d.delivery_id) && seen.insert(d.delivery_id) {
                    Stored::New
                } else {
                    Stored::Duplicate
                }
            })
            .collect();
        let jobs: Vec<(String, String, &NewDelivery<'_>)> = batch
            .iter()
            .zip(&stored)
            .filter(|(d, s)| d.enqueue && **s == Stored::New)
            .map(|(d, _)| {
                let key = format!("{job_kind}:{}", d.delivery_id);
                let payload = serde_json::json!({ "delivery_id": d.delivery_id }).to_string();
                (key, payload, d)
            })
            .collect();
        if !jobs.is_empty() {
            let rows: Vec<String> = (0..jobs.len())
                .map(|i| {
                    let b = i * 6;
                    format!(
                        "(${}, ${}, ${}, 'queued', 0, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 5,
                        b + 5
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, max_attempts, run_at, \
                 repository_id, created_at, updated_at) VALUES {} ON CONFLICT (dedupe_key) DO NOTHING",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (key, payload, d) in &jobs {
                query = query
                    .bind(job_kind)
                    .bind(key.as_str())
                    .bind(payload.as_str())
                    .bind(crate::jobs::DEFAULT_MAX_ATTEMPTS)
                    .bind(d.received_at)
                    .bind(d.repository_id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// Looks a delivery up by its GitHub delivery id.
    pub async fn delivery(&self, delivery_id: &str) -> Result<Option<Delivery>, StoreError> {
        let row = sqlx::query(
            "SELECT delivery_id, event, action, installation_id, repository_id, repository, \
             received_at, payload, processed_at, outcome FROM deliveries WHERE delivery_id = $1",
        )
        .bind(delivery_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Delivery {
                delivery_id: r.try_get(0)?,
                event: r.try_get(1)?,
                action: r.try_get(2)?,
                installation_id: r.try_get(3)?,
                repository_id: r.try_get(4)?,
                repository: r.try_get(5)?,
                received_at: r.try_get(6)?,
                payload: r.try_get(7)?,
                processed_at: r.try_get(8)?,
                outcome: r.try_get(9)?,
            })
        })
        .transpose()
    }

    /// Records how processing a delivery ended.
    pub async fn mark_delivery_processed(
        &self,
        delivery_id: &str,
        outcome: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE deliveries SET processed_at = $1, outcome = $2 WHERE delivery_id = $3")
            .bind(at)
            .bind(outcome)
            .bind(delivery_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// How many deliveries are stored.
    pub async fn count_deliveries(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM deliveries")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }
}
