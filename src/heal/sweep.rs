//! The missed-delivery sweep: on start and then every few minutes (`reach::sweep_every`), read
//! GitHub's delivery log with the App's JWT and bring in every event GitHub failed to deliver.
//!
//! A missed event is recovered by fetching its payload (`GET /app/hook/deliveries/{id}`) and
//! storing it as if it had just arrived, not by asking GitHub for another attempt
//! (`POST .../attempts`). Three reasons: a redelivery needs GitHub to reach upkeep, which is the
//! very thing that failed (and never happens for a workstation or a network behind a firewall,
//! where this sweep is how events arrive at all); a redelivery is fire-and-forget, so the sweep
//! could not tell whether it landed without waiting for the next sweep; and the payload comes
//! over the authenticated API, so it needs no signature to be trusted. It then takes the exact
//! path a pushed delivery takes (`webhook::ingest_verified`): the same checks, the same
//! once-per-GUID storage with its processing job, so an event pushed and recovered at once is
//! stored once.
//!
//! After the database was restored from a backup (or started empty), the store has lost events
//! it had acknowledged: GitHub logged them as delivered, so from the backup's time on (the
//! `LOST` mark) every event the store does not hold is recovered too. A mark older than
//! GitHub's three days (a gap) queues a reconcile of everything (`heal::resync`).
//!
//! One replica sweeps at a time (a lease on the store). The mark (how far back the next sweep
//! reads) only moves once every failed event this sweep found is stored, so a sweep cut short
//! by an outage is simply read again; a GUID is stored once whatever happens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};

use super::missed::{next_cursor, Attempt, Reading};
use crate::github::app::SharedApp;
use crate::github::{GitHubApp, GitHubError};
use crate::store::{Store, StoreError};
use crate::time::now_ms;
use crate::webhook::writer::DeliveryWriter;
use crate::webhook::{ingest_verified, Outcome};

/// The lease one replica holds while it sweeps.
pub const LEASE: &str = "delivery-sweep";
/// The mark: the newest attempt the last complete sweep read (ms since the epoch).
pub const MARK: &str = "delivery-sweep";
/// Set when the store lost deliveries it had taken (restored from a backup, or started empty):
/// from this time on (ms), events count as missed whatever GitHub's attempt answered.
pub const LOST: &str = "deliveries-lost-since";
/// `LOST` once a sweep brought back everything lost (marks never move back).
const NOTHING_LOST: i64 = i64::MAX;
/// Deliveries this process recovered (`upkeep_deliveries_recovered_total`, for the status page).
static RECOVERED: AtomicU64 = AtomicU64::new(0);

/// How many deliveries this process has recovered since it started.
pub fn recovered_total() -> u64 {
    RECOVERED.load(Ordering::Relaxed)
}

/// How long a sweep may hold the lease before another replica may take over.
const LEASE_MS: i64 = 5 * 60_000;
/// Attempts per page (GitHub's most).
const PER_PAGE: u32 = 100;
/// Pages per sweep at most: 20,000 attempts, a busy App's three days.
const MAX_PAGES: usize = 200;
/// A recovered payload larger than this is refused (GitHub caps payloads at 25 MB).
const MAX_PAYLOAD: usize = 25 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    GitHub(#[from] GitHubError),
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Attempts read from the log.
    pub read: usize,
    /// Events stored that had never arrived.
    pub recovered: usize,
    /// Failed events that turned out to be stored already.
    pub already_stored: usize,
    /// Events GitHub's log holds that cannot be stored (a malformed payload): logged, skipped.
    pub unrecoverable: usize,
    /// The last sweep was longer ago than GitHub keeps deliveries.
    pub gap: bool,
}

/// Sweeps the delivery log into the store.
#[derive(Clone)]
pub struct DeliverySweep {
    pub store: Store,
    pub github: SharedApp,
    pub writer: DeliveryWriter,
    pub wake: Arc<Notify>,
    /// This replica's name on the lease.
    pub holder: String,
}

impl DeliverySweep {
    /// One sweep, when the App is registered and no other replica is sweeping (else `None`).
    pub async fn once(&self) -> Result<Option<Swept>, SweepError> {
        let Some(app) = crate::github::app::registered(&self.github) else {
            return Ok(None);
        };
        let now = now_ms();
        if !self
            .store
            .take_lease(LEASE, &self.holder, now, now + LEASE_MS)
            .await?
        {
            return Ok(None);
        }
        let result = self.sweep(&app, now).await;
        if let Err(e) = self.store.release_lease(LEASE, &self.holder).await {
            warn!(error = %e, "giving the delivery sweep's lease back failed; it runs out by itself");
        }
        result.map(Some)
    }

    async fn sweep(&self, app: &GitHubApp, now: i64) -> Result<Swept, SweepError> {
        let mark = self.store.mark(MARK).await?;
        let mut reading = Reading::new(mark, now);
        let lost = self.store.mark(LOST).await?.filter(|l| *l != NOTHING_LOST);
        if let Some(lost) = lost {
            reading = reading.lost_since(lost);
        }
        let mut path = format!("/app/hook/deliveries?per_page={PER_PAGE}");
        for page in 1..=MAX_PAGES {
            let response = app.app_request(Method::GET, &path, None).await?;
            let attempts: Vec<Attempt> = response.json("/app/hook/deliveries")?;
            let more = reading.page(&attempts);
            let cursor = response
                .headers
                .get(http::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_cursor);
            match cursor {
                Some(cursor) if more => {
                    let cursor: String =
                        url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
                    path = format!("/app/hook/deliveries?per_page={PER_PAGE}&cursor={cursor}");
                    // A long read keeps the lease.
                    let now = now_ms();
                    self.store
                        .take_lease(LEASE, &self.holder, now, now + LEASE_MS)
                        .await?;
                }
                _ => break,
            }
            if page == MAX_PAGES {
                warn!(
                    pages = MAX_PAGES,
                    "the delivery log is longer than one sweep reads; the rest waits for the next"
                );
            }
        }
        let mut swept = Swept {
            read: reading.read(),
            gap: reading.gap(),
            ..Swept::default()
        };
        if swept.gap {
            warn!("upkeep was away longer than GitHub keeps webhook deliveries (three days): events before that are gone from the log, so every repository is reconciled");
            // Keyed by the mark: a sweep cut short and read again queues no second reconcile.
            let cause = format!("gap:{}", mark.unwrap_or_default());
            super::resync::enqueue_everything(&self.store, &cause, now).await?;
        }
        let failed = reading.failed();
        let guids: Vec<String> = failed.iter().map(|a| a.guid.clone()).collect();
        let known = self.store.known_deliveries(&guids).await?;
        for attempt in failed {
            if known.contains(&attempt.guid) {
                swept.already_stored += 1;
                continue;
            }
            match self.recover(app, attempt).await? {
                Recovered::Stored => {
                    swept.recovered += 1;
                    metrics::counter!("upkeep_deliveries_recovered_total").increment(1);
                    RECOVERED.fetch_add(1, Ordering::Relaxed);
                    info!(delivery = %attempt.guid, event = %attempt.event, "recovered a delivery GitHub failed to make");
                }
                Recovered::AlreadyStored => swept.already_stored += 1,
                Recovered::Unusable(why) => {
                    swept.unrecoverable += 1;
                    warn!(delivery = %attempt.guid, event = %attempt.event, reason = %why, "a delivery GitHub failed to make cannot be recovered");
                }
            }
        }
        if swept.recovered > 0 {
            self.wake.notify_waiters();
            // For the operator's weekly report; the recovery itself is already stored.
            if let Err(e) = self
                .store
                .record_sample(
                    crate::report::weekly::counts::DELIVERIES_RECOVERED,
                    now,
                    swept.recovered as f64,
                )
                .await
            {
                warn!(error = %e, "counting recovered deliveries for the weekly report failed");
            }
        }
        if let Some(mark) = reading.next_mark() {
            self.store.advance_mark(MARK, mark).await?;
        }
        if lost.is_some() {
            // Everything the store lost and GitHub still lists is back.
            self.store.advance_mark(LOST, NOTHING_LOST).await?;
        }
        Ok(swept)
    }

    /// Fetches one missed event's payload and stores it as a delivery.
    async fn recover(&self, app: &GitHubApp, attempt: &Attempt) -> Result<Recovered, SweepError> {
        #[derive(serde::Deserialize)]
        struct Full {
            guid: String,
            event: String,
            request: Sent,
        }
        #[derive(serde::Deserialize)]
        struct Sent {
            payload: Option<serde_json::Value>,
        }
        let path = format!("/app/hook/deliveries/{}", attempt.id);
        let response = app.app_request(Method::GET, &path, None).await?;
        let full: Full = match response.json("/app/hook/deliveries/{id}") {
            Ok(f) => f,
            Err(e) => return Ok(Recovered::Unusable(e.to_string())),
        };
        if full.guid != attempt.guid || full.event != attempt.event {
            return Ok(Recovered::Unusable(
                "the delivery's details differ from the log's".into(),
            ));
        }
        let Some(payload) = full.request.payload else {
            return Ok(Recovered::Unusable("GitHub holds no payload for it".into()));
        };
        let body = payload.to_string();
        if body.len() > MAX_PAYLOAD {
            return Ok(Recovered::Unusable(format!(
                "the payload is larger than {MAX_PAYLOAD} bytes"
            )));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-github-event", &attempt.event),
            ("x-github-delivery", &attempt.guid),
        ] {
            match HeaderValue::from_str(value) {
                Ok(v) => {
                    headers.insert(name, v);
                }
                Err(_) => return Ok(Recovered::Unusable(format!("{name} is not a header value"))),
            }
        }
        let outcome = ingest_verified(&self.writer, &headers, Bytes::from(body), now_ms()).await;
        outcome.count();
        Ok(match outcome {
            Outcome::Accepted { .. } | Outcome::Ignored { .. } | Outcome::Ping => Recovered::Stored,
            Outcome::Duplicate { .. } => Recovered::AlreadyStored,
            Outcome::StoreFailed(e) => return Err(SweepError::Store(e)),
            Outcome::BadRequest { message, .. } => Recovered::Unusable(message),
            Outcome::Unauthorized(e) => Recovered::Unusable(e.to_string()),
        })
    }
}

enum Recovered {
    Stored,
    AlreadyStored,
    Unusable(String),
}

/// Sweeps at start, then every `every`, until shutdown.
/// Sweeps at start, then every `every` or when `now` is notified (an alert's corrective
/// action), until shutdown.
pub async fn run(
    sweep: DeliverySweep,
    every: Duration,
    now: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match sweep.once().await {
            Ok(Some(s)) if s.recovered > 0 || s.unrecoverable > 0 => {
                info!(
                    read = s.read,
                    recovered = s.recovered,
                    unrecoverable = s.unrecoverable,
                    "delivery log swept"
                )
            }
            Ok(_) => {}
            Err(e) => {
                warn!(error = %e, "sweeping the delivery log failed; the next sweep reads it again")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = now.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}
