//! Group commit for deliveries. Every request hands its delivery to one writer task, which takes
//! whatever else is waiting (up to a count and a byte budget) and stores the lot, jobs
//! included, in one statement, then answers each request. Under a burst, per-delivery
//! database work shrinks to a share of one commit; alone, a delivery is stored at once.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tracing::error;

use crate::heal::breaker::Admission;
use crate::heal::breakers::Breakers;
use crate::heal::dependencies::DATABASE;
use crate::queue::Priority;
use crate::store::deliveries::{NewDelivery, Stored};
use crate::store::{Store, StoreError};

/// Deliveries per transaction at most.
const MAX_BATCH: usize = 256;
/// Payload bytes per transaction at most (a 25 MiB delivery goes alone).
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Requests waiting for the writer before new ones wait for room.
const QUEUE: usize = 4096;

/// A delivery handed to the writer (owned: it crosses tasks).
#[derive(Debug)]
pub struct Pending {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub repository: Option<String>,
    pub received_at: i64,
    /// The raw body, checked to be JSON.
    pub payload: String,
    pub enqueue: bool,
}

struct Request {
    delivery: Pending,
    reply: oneshot::Sender<Result<Stored, StoreError>>,
}

/// Handle on the writer task; cheap to clone.
#[derive(Clone)]
pub struct DeliveryWriter {
    tx: mpsc::Sender<Request>,
    priority: Priority,
}

impl DeliveryWriter {
    /// Starts the writer task on `store`; it stops when every handle is dropped. While the
    /// database's breaker is open a delivery is refused at once (GitHub logs the failure and
    /// the missed-delivery sweep brings it back) instead of waiting out a connection time-out.
    pub fn start(store: Store, job_kind: &'static str, database: Arc<Breakers>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, job_kind, database, rx));
        DeliveryWriter {
            tx,
            priority: Priority::default(),
        }
    }

    /// Busy while deliveries wait to be stored: job workers yield to it.
    pub fn priority(&self) -> Priority {
        self.priority.clone()
    }

    /// Stores one delivery (with others waiting, in one transaction).
    pub async fn store(&self, delivery: Pending) -> Result<Stored, StoreError> {
        let _busy = self.priority.start();
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request { delivery, reply })
            .await
            .map_err(|_| StoreError::Batch("the delivery writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Batch("the delivery writer dropped the request".into()))?
    }
}

async fn run(
    store: Store,
    job_kind: &'static str,
    database: Arc<Breakers>,
    mut rx: mpsc::Receiver<Request>,
) {
    while let Some(first) = rx.recv().await {
        let mut bytes = first.delivery.payload.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    bytes += next.delivery.payload.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        if let Admission::Wait { .. } = database.admit(DATABASE) {
            for request in batch {
                let _ = request.reply.send(Err(StoreError::Batch(
                    "the database is unreachable (circuit open)".into(),
                )));
            }
            continue;
        }
        let result = {
            let rows: Vec<NewDelivery<'_>> = batch
                .iter()
                .map(|r| {
                    let d = &r.delivery;
                    NewDelivery {
                        delivery_id: &d.delivery_id,
                        event: &d.event,
                        action: d.action.as_deref(),
                        installation_id: d.installation_id,
                        repository_id: d.repository_id,
                        repository: d.repository.as_deref(),
                        received_at: d.received_at,
                        payload: &d.payload,
                        enqueue: d.enqueue,
                    }
                })
                .collect();
            store.store_deliveries(&rows, job_kind).await
        };
        let failure = match &result {
            Err(e) if e.is_unavailable() => Some("unreachable"),
            _ => None,
        };
        database.record(DATABASE, failure);
        match result {
            Ok(stored) => {
                for (request, stored) in batch.into_iter().zip(stored) {
                    let _ = request.reply.send(Ok(stored));
                }
            }
            Err(e) => {
                error!(error = %e, deliveries = batch.len(), "storing a batch of deliveries failed");
                let message = e.to_string();
                for request in batch {
                    let _ = request.reply.send(Err(StoreError::Batch(message.clone())));
                }
            }
        }
    }
}
