//! Webhook deliveries: stored before they are acknowledged, once per `X-GitHub-Delivery`.

use sqlx::Row;

use super::{Dialect, Store, StoreError};

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

    /// Stores a batch of deliveries, each new one that asks for it with its processing job
    /// (`{job_kind}:{delivery_id}`), in one statement: a delivery is never stored without its
    /// job, nor acknowledged unstored. On SQLite a trigger enqueues the job (migration 0002); on
    /// PostgreSQL a data-modifying CTE does. One statement per batch is what lets one SQLite
    /// writer keep up with a burst: each statement is a round trip to sqlx's SQLite thread. The
    /// answer is in the batch's order; a delivery id seen before, or earlier in the same batch,
    /// is a duplicate.
    pub async fn store_deliveries(
        &self,
        batch: &[NewDelivery<'_>],
        job_kind: &str,
    ) -> Result<Vec<Stored>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<String> = (0..batch.len())
            .map(|i| {
                let b = i * 10;
                let p: Vec<String> = (1..=10).map(|k| format!("${}", b + k)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let insert = format!(
            "INSERT INTO deliveries (delivery_id, event, action, installation_id, repository_id, \
             repository, received_at, payload, payload_lz4, job_kind) VALUES {} \
             ON CONFLICT (delivery_id) DO NOTHING",
            rows.join(", ")
        );
        // On SQLite the payload is stored LZ4-compressed (a quarter of the bytes to write twice,
        // WAL then checkpoint); PostgreSQL compresses large text itself (TOAST).
        let compress = self.dialect() == Dialect::Sqlite;
        let sql = match self.dialect() {
            Dialect::Sqlite => format!("{insert} RETURNING delivery_id"),
            Dialect::Postgres => format!(
                "WITH new AS ({insert} RETURNING delivery_id, job_kind, repository_id, received_at), \
                 queued AS (INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, max_attempts, \
                 run_at, repository_id, created_at, updated_at) \
                 SELECT job_kind, job_kind || ':' || delivery_id, json_build_object('delivery_id', delivery_id)::text, \
                 'queued', 0, {}, received_at, repository_id, received_at, received_at FROM new \
                 WHERE job_kind IS NOT NULL ON CONFLICT (dedupe_key) DO NOTHING) \
                 SELECT delivery_id FROM new",
                crate::queue::DEFAULT_MAX_ATTEMPTS
            ),
        };
        let mut query = sqlx::query(&sql);
        for d in batch {
            query = query
                .bind(d.delivery_id)
                .bind(d.event)
                .bind(d.action)
                .bind(d.installation_id)
                .bind(d.repository_id)
                .bind(d.repository)
                .bind(d.received_at);
            query = if compress {
                query
                    .bind("")
                    .bind(Some(lz4_flex::compress_prepend_size(d.payload.as_bytes())))
            } else {
                query.bind(d.payload).bind(None::<Vec<u8>>)
            };
            query = query.bind(d.enqueue.then_some(job_kind));
        }
        let inserted: std::collections::HashSet<String> = query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        let mut seen = std::collections::HashSet::new();
        Ok(batch
            .iter()
            .map(|d| {
                if inserted.contains(d.delivery_id) && seen.insert(d.delivery_id) {
                    Stored::New
                } else {
                    Stored::Duplicate
                }
            })
            .collect())
    }

    /// Looks a delivery up by its GitHub delivery id.
    pub async fn delivery(&self, delivery_id: &str) -> Result<Option<Delivery>, StoreError> {
        let row = sqlx::query(
            "SELECT delivery_id, event, action, installation_id, repository_id, repository, \
             received_at, payload, processed_at, outcome, payload_lz4 FROM deliveries \
             WHERE delivery_id = $1",
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
                payload: match r.try_get::<Option<Vec<u8>>, _>(10)? {
                    Some(packed) => lz4_flex::decompress_size_prepended(&packed)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or_else(|| StoreError::CorruptPayload(delivery_id.to_owned()))?,
                    None => r.try_get(7)?,
                },
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

    /// Deletes processed deliveries received before `before`, oldest first, at most `limit`
    /// of them (one bounded statement, so intake never waits long behind it); returns how many.
    /// Unprocessed deliveries stay whatever their age: their work is not done. A delivery id
    /// deleted here is no longer recognised as a duplicate, so `before` must lie well beyond
    /// GitHub's redelivery window (three days).
    pub async fn purge_deliveries(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM deliveries WHERE delivery_id IN (SELECT delivery_id FROM deliveries \
             WHERE received_at < $1 AND processed_at IS NOT NULL ORDER BY received_at LIMIT $2)",
        )
        .bind(before)
        .bind(limit)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Which of `ids` are stored (whatever became of them).
    pub async fn known_deliveries(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut known = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT delivery_id FROM deliveries WHERE delivery_id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.pool()).await? {
                known.insert(row.try_get::<String, _>(0)?);
            }
        }
        Ok(known)
    }

    /// When the newest stored delivery arrived (`None`: none yet).
    pub async fn last_delivery_at(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT MAX(received_at) FROM deliveries")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// How many deliveries arrived from `since_ms` on.
    pub async fn count_deliveries_since(&self, since_ms: i64) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM deliveries WHERE received_at >= $1")
                .bind(since_ms)
                .fetch_one(self.pool())
                .await?
                .try_get(0)?,
        )
    }

    /// How many deliveries are stored.
    pub async fn count_deliveries(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM deliveries")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }
}
