//! The alert driver: every minute it samples upkeep's own signals (queue lag from the store,
//! job and GitHub failure ratios from the process's tallies, deliveries received from the
//! store, the lowest rate-limit budget left), feeds them to the pure `detector`, and acts on
//! what opens: a stuck queue puts jobs whose worker died back in line and wakes the workers;
//! deliveries that stopped run the missed-delivery sweep and the webhook check now; GitHub
//! errors are the breakers' business. Open alerts go to the log, `upkeep_alerts_open{signal}`
//! and the store (which `/status` reads, on any replica); what was learnt is persisted every
//! half hour and on each event, so a restart keeps it. One replica samples (a lease). What
//! stays open past its grace period is escalated (`escalate`: the ops issue, the webhook).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};

use super::detector::{Detector, Event};
use super::signal::Signal;
use crate::github::app::{registered, SharedApp};
use crate::store::{Store, StoreError};
use crate::time::now_ms;

/// The store's names for what was learnt and what is open.
pub const LEARNT: &str = "detector";
pub const OPEN: &str = "open";
const LEASE: &str = "alert-sampler";
/// Samples between saves of what was learnt.
const SAVE_EVERY: u32 = 30;

pub use super::open_alert::OpenAlert;

/// Who gets woken when an alert's corrective action runs.
#[derive(Clone)]
pub struct Corrections {
    /// Idle workers (after stuck leases are released).
    pub workers: Arc<Notify>,
    /// The missed-delivery sweep and the webhook check.
    pub sweep: Arc<Notify>,
    pub hook_check: Arc<Notify>,
}

/// The sampler's state between samples.
pub struct Sampler {
    pub store: Store,
    pub github: SharedApp,
    pub corrections: Corrections,
    /// This replica's name on the lease.
    pub holder: String,
    detector: Option<Detector>,
    tallies: (u64, u64, u64, u64),
    since_save: u32,
    /// Breaker openings counted at the last sample.
    openings: u64,
    escalation: super::escalate::Escalation,
    weekly: crate::report::post::WeeklyPost,
}

impl Sampler {
    pub fn new(
        store: Store,
        github: SharedApp,
        corrections: Corrections,
        routes: super::escalate::RoutesNow,
        public_url: Option<url::Url>,
        holder: String,
    ) -> Self {
        Sampler {
            weekly: crate::report::post::WeeklyPost::new(
                store.clone(),
                std::sync::Arc::clone(&github),
                std::sync::Arc::clone(&routes),
            ),
            escalation: super::escalate::Escalation::new(
                routes,
                public_url,
                store.clone(),
                std::sync::Arc::clone(&github),
            ),
            store,
            github,
            corrections,
            holder,
            detector: None,
            tallies: crate::tally::counts(),
            since_save: 0,
            openings: crate::tally::breaker_openings(),
        }
    }

    /// The signals now; `window` is how long one sample covers.
    async fn sample(
        &mut self,
        now: i64,
        window: Duration,
    ) -> Result<Vec<(Signal, f64)>, StoreError> {
        let lag = self
            .store
            .oldest_due_job(now)
            .await?
            .map_or(0.0, |t| ((now - t).max(0) / 1000) as f64);
        let since = now - window.as_millis() as i64;
        let deliveries = self.store.count_deliveries_since(since).await? as f64;
        let (jobs, failed, answers, errors) = crate::tally::counts();
        let (j0, f0, a0, e0) = self.tallies;
        self.tallies = (jobs, failed, answers, errors);
        let mut out = vec![
            (Signal::QueueLagSeconds, lag),
            (Signal::WebhookDeliveries, deliveries),
        ];
        // A minute without attempts had no failures; a minute without answers from GitHub
        // because its breaker holds every call back is GitHub failing.
        let ratio = |bad: u64, all: u64| {
            if all == 0 {
                0.0
            } else {
                bad as f64 / all as f64
            }
        };
        out.push((Signal::JobFailureRatio, ratio(failed - f0, jobs - j0)));
        let app = registered(&self.github);
        let held_back = answers == a0
            && app.as_ref().is_some_and(|a| {
                a.transport()
                    .breakers()
                    .states()
                    .iter()
                    .any(|s| matches!(s.state, crate::heal::breaker::State::Open { .. }))
            });
        let github = if held_back {
            1.0
        } else {
            ratio(errors - e0, answers - a0)
        };
        out.push((Signal::GithubErrorRatio, github));
        if let Some(app) = app {
            let lowest = app
                .transport()
                .budgets()
                .iter()
                .filter(|(_, b)| b.limit > 0)
                .map(|(_, b)| b.remaining as f64 / b.limit as f64)
                .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.min(r))));
            if let Some(r) = lowest {
                out.push((Signal::RateLimitRemainingRatio, r));
            }
        }
        Ok(out)
    }

    /// One round: sample, detect, act, persist. Nothing when another replica samples.
    pub async fn once(&mut self, window: Duration) -> Result<Vec<Event>, StoreError> {
        let now = now_ms();
        let lease_ms = (window.as_millis() as i64 * 3).max(10_000);
        if !self
            .store
            .take_lease(LEASE, &self.holder, now, now + lease_ms)
            .await?
        {
            // Another replica learns; take its state when this one takes over.
            self.detector = None;
            return Ok(Vec::new());
        }
        if self.detector.is_none() {
            let learnt = self.store.alert_state(LEARNT).await?;
            self.detector = Some(
                learnt
                    .and_then(|j| serde_json::from_str(&j).ok())
                    .unwrap_or_default(),
            );
        }
        let samples = self.sample(now, window).await?;
        self.record(now, &samples).await?;
        let t: DateTime<Utc> = Utc
            .timestamp_millis_opt(now)
            .single()
            .unwrap_or_else(Utc::now);
        let detector = self.detector.get_or_insert_with(Detector::default);
        let events: Vec<Event> = samples
            .into_iter()
            .filter_map(|(signal, value)| detector.observe(t, signal, value))
            .collect();
        let open: Vec<OpenAlert> = detector
            .open()
            .into_iter()
            .map(|(s, o)| OpenAlert {
                signal: s.name().to_owned(),
                since_ms: o.since.timestamp_millis(),
                value: o.value,
                threshold: o.threshold,
            })
            .collect();
        for s in Signal::ALL {
            let is_open = open.iter().any(|o| o.signal == s.name());
            metrics::gauge!("upkeep_alerts_open", "signal" => s.name()).set(if is_open {
                1.0
            } else {
                0.0
            });
        }
        let open_json = serde_json::to_string(&open).unwrap_or_else(|_| "[]".into());
        self.store.put_alert_state(OPEN, &open_json, now).await?;
        self.since_save += 1;
        if !events.is_empty() || self.since_save >= SAVE_EVERY {
            let learnt = serde_json::to_string(detector).unwrap_or_default();
            self.store.put_alert_state(LEARNT, &learnt, now).await?;
            self.since_save = 0;
        }
        for e in &events {
            if e.event == "open" {
                let name = crate::report::weekly::counts::alert_opened(e.signal.name());
                self.store.record_sample(&name, now, 1.0).await?;
            }
            self.act(e, now).await;
            self.escalation.on_event(e).await;
        }
        self.escalation.tick(&open, now).await;
        self.weekly.tick(now).await;
        Ok(events)
    }

    /// Keeps the samples and the minute's breaker openings for the alert charts and the
    /// weekly report.
    async fn record(&mut self, now: i64, samples: &[(Signal, f64)]) -> Result<(), StoreError> {
        use crate::report::weekly::counts;
        for (signal, value) in samples {
            self.store.record_sample(signal.name(), now, *value).await?;
        }
        let openings = crate::tally::breaker_openings();
        let new = openings.saturating_sub(self.openings);
        self.openings = openings;
        if new > 0 {
            self.store
                .record_sample(counts::BREAKER_OPENINGS, now, new as f64)
                .await?;
        }
        Ok(())
    }

    /// Logs an event and runs the open alert's corrective action.
    async fn act(&self, e: &Event, now: i64) {
        let signal = e.signal.name();
        if e.event == "close" {
            info!(
                signal,
                value = e.value,
                threshold = e.threshold,
                "alert closed: back to normal"
            );
            return;
        }
        warn!(
            signal,
            value = e.value,
            threshold = e.threshold,
            "alert open: departed from normal"
        );
        match e.signal {
            Signal::QueueLagSeconds => {
                match self.store.release_expired_leases(now).await {
                    Ok(n) => info!(
                        released = n,
                        "corrective action: stuck leases released, workers woken"
                    ),
                    Err(e) => warn!(error = %e, "corrective action: releasing stuck leases failed"),
                }
                self.corrections.workers.notify_waiters();
            }
            Signal::WebhookDeliveries => {
                info!("corrective action: sweeping GitHub's delivery log and checking the webhook now");
                self.corrections.sweep.notify_one();
                self.corrections.hook_check.notify_one();
            }
            // The breakers handle GitHub; a budget refills on its own.
            _ => {}
        }
    }
}

/// The open alerts the sampler last stored (any replica may read them).
pub async fn open_alerts(store: &Store) -> Result<Vec<OpenAlert>, StoreError> {
    Ok(store
        .alert_state(OPEN)
        .await?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

/// Samples every `every` until shutdown.
pub async fn run(mut sampler: Sampler, every: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = sampler.once(every).await {
            warn!(error = %e, "sampling the alert signals failed; trying again next minute");
        }
    }
}
