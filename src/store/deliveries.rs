//! Webhook deliveries: stored before they are acknowledged, once per `X-GitHub-Delivery`.

use sqlx::Row;

use super::jobs::NewJob;
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
    /// Stores the delivery and, when it is new and `job` is given, enqueues its processing in the
    /// same transaction: a delivery is never stored without its job, nor acknowledged unstored.
    pub async fn store_delivery(
        &self,
        delivery: &NewDelivery<'_>,
        job: Option<&NewJob<'_>>,
    ) -> Result<Stored, StoreError> {
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO deliveries (delivery_id, event, action, installation_id, repository_id, \
             repository, received_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (delivery_id) DO NOTHING",
        )
        .bind(delivery.delivery_id)
        .bind(delivery.event)
        .bind(delivery.action)
        .bind(delivery.installation_id)
        .bind(delivery.repository_id)
        .bind(delivery.repository)
        .bind(delivery.received_at)
        .bind(delivery.payload)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(Stored::Duplicate);
        }
        if let Some(job) = job {
            super::jobs::enqueue_on(&mut *tx, job, delivery.received_at).await?;
        }
        tx.commit().await?;
        Ok(Stored::New)
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
