//! Webhook intake: check the signature, read the envelope, store the delivery with its processing
//! job, answer. Nothing else happens on this path; the job queue does the work.

pub mod body;
pub mod events;
pub mod route;
pub mod signature;
pub mod writer;

use http::HeaderMap;

use bytes::Bytes;

use crate::store::deliveries::Stored;
use crate::store::StoreError;
use writer::{DeliveryWriter, Pending};

pub use events::Event;
pub use signature::{sign, verify, SignatureError};

/// The job kind that processes one stored delivery.
pub const DELIVERY_JOB: &str = "delivery";

/// What became of one POST /webhook.
#[derive(Debug)]
pub enum Outcome {
    /// Stored, and a job will process it.
    Accepted {
        event: String,
    },
    /// Stored; upkeep does not act on this event.
    Ignored {
        event: String,
    },
    /// `ping`: stored and answered.
    Ping,
    /// This delivery id was stored before: nothing new happens.
    Duplicate {
        event: String,
    },
    Unauthorized(SignatureError),
    BadRequest {
        event: Option<String>,
        message: String,
    },
    StoreFailed(StoreError),
}

impl Outcome {
    /// The `outcome` label of `upkeep_webhook_deliveries_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Accepted { .. } => "accepted",
            Outcome::Ignored { .. } => "ignored",
            Outcome::Ping => "ping",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Unauthorized(_) => "unauthorized",
            Outcome::BadRequest { .. } => "bad_request",
            Outcome::StoreFailed(_) => "error",
        }
    }

    /// Counts this outcome in `upkeep_webhook_deliveries_total`, whichever way the delivery came
    /// (pushed by GitHub, or recovered from its delivery log).
    pub fn count(&self) {
        metrics::counter!("upkeep_webhook_deliveries_total", "event" => self.event_label().to_owned(), "outcome" => self.label()).increment(1);
    }

    /// The `event` label: only names GitHub sends reach the metric, never arbitrary header text.
    pub fn event_label(&self) -> &str {
        let event = match self {
            Outcome::Accepted { event }
            | Outcome::Ignored { event }
            | Outcome::Duplicate { event } => Some(event.as_str()),
            Outcome::Ping => Some("ping"),
            Outcome::BadRequest { event, .. } => event.as_deref(),
            Outcome::Unauthorized(_) | Outcome::StoreFailed(_) => None,
        };
        match event {
            Some(e) if e == "ping" || events::is_handled(e) => e,
            Some(_) => "other",
            None => "unknown",
        }
    }
}

/// Runs one delivery through signature check, envelope parse and storage.
pub async fn ingest(
    writer: &DeliveryWriter,
    secret: &[u8],
    headers: &HeaderMap,
    body: Bytes,
    now: i64,
) -> Outcome {
    let signature = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if let Err(e) = verify(secret, &body, signature) {
        return Outcome::Unauthorized(e);
    }
    ingest_verified(writer, headers, body, now).await
}

/// Reads the envelope of a body whose signature already matched (`body::read_signed`) and
/// stores it with its processing job.
pub async fn ingest_verified(
    writer: &DeliveryWriter,
    headers: &HeaderMap,
    body: Bytes,
    now: i64,
) -> Outcome {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let Some(event) = header("x-github-event") else {
        return Outcome::BadRequest {
            event: None,
            message: "missing X-GitHub-Event header".into(),
        };
    };
    let event = event.to_owned();
    let Some(delivery_id) = header("x-github-delivery") else {
        return Outcome::BadRequest {
            event: Some(event),
            message: "missing X-GitHub-Delivery header".into(),
        };
    };
    if delivery_id.len() > 128 {
        return Outcome::BadRequest {
            event: Some(event),
            message: "X-GitHub-Delivery is longer than 128 characters".into(),
        };
    }
    let Ok(payload) = String::from_utf8(Vec::from(body)) else {
        return Outcome::BadRequest {
            event: Some(event),
            message: "body is not UTF-8".into(),
        };
    };
    let envelope: events::Envelope = match serde_json::from_str(&payload) {
        Ok(e) => e,
        Err(e) => {
            return Outcome::BadRequest {
                event: Some(event),
                message: format!("body is not a JSON webhook payload: {e}"),
            }
        }
    };
    let handled = events::is_handled(&event);
    let delivery = Pending {
        delivery_id: delivery_id.to_owned(),
        event: event.clone(),
        action: envelope.action,
        installation_id: envelope.installation.map(|i| i.id),
        repository_id: envelope.repository.as_ref().map(|r| r.id),
        repository: envelope.repository.map(|r| r.full_name),
        received_at: now,
        payload,
        enqueue: handled,
    };
    match writer.store(delivery).await {
        Ok(Stored::Duplicate) => Outcome::Duplicate { event },
        Ok(Stored::New) if event == "ping" => Outcome::Ping,
        Ok(Stored::New) if handled => Outcome::Accepted { event },
        Ok(Stored::New) => Outcome::Ignored { event },
        Err(e) => Outcome::StoreFailed(e),
    }
}
