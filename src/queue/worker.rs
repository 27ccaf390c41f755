//! Worker loop: claim a job with a lease, renew the lease while the handler runs, then record
//! success, a retry time, or death. A worker that dies mid-job leaves a lease that expires; the
//! next claim takes the job over, and the dead worker's late writes are refused by lease token.
//! An attempt that times out or loses its worker is a crash; a job that crashes twice is
//! quarantined (a poison job must not take the workers down over and over). At shutdown's
//! deadline a job in hand goes back in line without spending an attempt.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{watch, Notify};
use tracing::{error, info, warn, Instrument};

use crate::heal::breaker::Admission;
use crate::heal::breakers::Breakers;
use crate::heal::dependencies::DATABASE;
use crate::queue::gate::Gate;
use crate::queue::policy::{backoff, QueueConfig};
use crate::store::jobs::Job;
use crate::store::Store;
use crate::time::now_ms;

/// How a job attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (network, rate limit, a server error).
    #[error("{0}")]
    Retry(String),
    /// Will never succeed (bad payload, unknown kind): dead at once.
    #[error("{0}")]
    Permanent(String),
    /// Not a failure: run again at this time without using up an attempt (a rate limit).
    #[error("deferred until {until_ms}: {reason}")]
    Defer { until_ms: i64, reason: String },
}

/// The database out of reach (a lost connection, a restart, SQLite busy) is an outage, not the
/// job's fault: it runs again shortly without spending an attempt. Any other store error is
/// worth another attempt.
impl From<crate::store::StoreError> for JobError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            JobError::Defer {
                until_ms: now_ms() + DATABASE_WAIT_MS,
                reason: format!("the database is unreachable: {e}"),
            }
        } else {
            JobError::Retry(e.to_string())
        }
    }
}

/// How long a job waits when the database was out of reach.
const DATABASE_WAIT_MS: i64 = 5_000;
/// How often a finished job's outcome is recorded again while the database is out of reach.
const RECORD_RETRY: Duration = Duration::from_secs(1);
/// How long a finished job's outcome is retried before the lease is left to run out.
const RECORD_PATIENCE: Duration = Duration::from_secs(15 * 60);

impl From<crate::github::GitHubError> for JobError {
    fn from(e: crate::github::GitHubError) -> Self {
        match e {
            crate::github::GitHubError::RateLimited { until_ms } => JobError::Defer {
                until_ms,
                reason: "GitHub rate limit".into(),
            },
            // An outage is nobody's fault and no attempt's: wait for the breaker's next probe.
            crate::github::GitHubError::Unavailable { until_ms } => JobError::Defer {
                until_ms,
                reason: "GitHub unavailable (circuit open)".into(),
            },
            e if e.is_missing_permission() => JobError::Permanent(format!(
                "the App lacks a permission on this installation (grant it in the installation's settings, then `@upkeep retry`): {e}"
            )),
            e if e.is_transient() => JobError::Retry(e.to_string()),
            e => JobError::Permanent(e.to_string()),
        }
    }
}

/// Runs jobs of every kind the application knows.
pub trait JobHandler: Send + Sync + 'static {
    fn handle(&self, job: &Job) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Work that must not wait behind jobs: while it is busy, workers claim less often. Webhook
/// intake uses it, so a burst of deliveries is stored (and answered) first and processed after.
#[derive(Clone, Default)]
pub struct Priority(Arc<AtomicUsize>);

impl Priority {
    /// Marks one unit of priority work as started until the guard drops.
    pub fn start(&self) -> PriorityGuard {
        self.0.fetch_add(1, Ordering::AcqRel);
        PriorityGuard(Arc::clone(&self.0))
    }

    pub fn busy(&self) -> bool {
        self.0.load(Ordering::Acquire) > 0
    }
}

/// Ends one unit of priority work when dropped.
pub struct PriorityGuard(Arc<AtomicUsize>);

impl Drop for PriorityGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The longest a worker defers to priority work before claiming anyway, so jobs always progress.
const MAX_DEFERENCE: Duration = Duration::from_millis(50);

/// One worker: a loop claiming and running jobs until shutdown.
pub struct Worker<H> {
    store: Store,
    handler: Arc<H>,
    config: QueueConfig,
    wake: Arc<Notify>,
    name: String,
    priority: Option<Priority>,
    /// Turns true when shutdown's deadline has passed: a job in hand is put back and dropped.
    hard_stop: Option<watch::Receiver<bool>>,
    /// How many workers may run a job at once (`None`: every worker).
    gate: Option<Arc<Gate>>,
    /// The database's breaker: while it is open, no claim is sent (`None`: always claim).
    database: Option<Arc<Breakers>>,
}

impl<H: JobHandler> Worker<H> {
    pub fn new(
        store: Store,
        handler: Arc<H>,
        config: QueueConfig,
        wake: Arc<Notify>,
        name: String,
    ) -> Self {
        Worker {
            store,
            handler,
            config,
            wake,
            name,
            priority: None,
            hard_stop: None,
            gate: None,
            database: None,
        }
    }

    /// Claims only while the database's breaker lets calls through, and tells it how each
    /// claim went: a database that is down is asked once per open period by one worker, not
    /// every poll by all of them.
    pub fn guarded_by(mut self, database: Arc<Breakers>) -> Self {
        self.database = Some(database);
        self
    }

    /// Claims only while `gate` has room: the adaptive limit may let fewer jobs run at once
    /// than there are workers.
    pub fn limited_by(mut self, gate: Arc<Gate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Gives up a job in hand (put back in line, no attempt spent) once `hard_stop` turns true.
    pub fn stopping_hard_on(mut self, hard_stop: watch::Receiver<bool>) -> Self {
        self.hard_stop = Some(hard_stop);
        self
    }

    /// Defers to `priority` work: claims wait (briefly) while it is busy.
    pub fn yielding_to(mut self, priority: Priority) -> Self {
        self.priority = Some(priority);
        self
    }

    async fn defer_to_priority(&self) {
        let Some(priority) = &self.priority else {
            return;
        };
        let until = Instant::now() + MAX_DEFERENCE;
        while priority.busy() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Claims and runs jobs until `shutdown` turns true; a job in hand is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.run_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => warn!(worker = %self.name, error = %e, "claiming a job failed"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims one due job and runs it; false when none was due.
    pub async fn run_one(&self) -> Result<bool, crate::store::StoreError> {
        self.defer_to_priority().await;
        // Held while the job runs; without room, this worker waits like an idle one.
        let _place = match &self.gate {
            Some(gate) => match gate.try_enter() {
                Some(place) => Some(place),
                None => return Ok(false),
            },
            None => None,
        };
        if let Some(database) = &self.database {
            if let Admission::Wait { .. } = database.admit(DATABASE) {
                return Ok(false);
            }
        }
        let token = format!("{}:{:016x}", self.name, rand::rng().random::<u64>());
        let now = now_ms();
        let claimed = self
            .store
            .claim_job(&token, now, now + ms(self.config.lease))
            .await;
        if let Some(database) = &self.database {
            let failure = match &claimed {
                Err(e) if e.is_unavailable() => Some("unreachable"),
                _ => None,
            };
            database.record(DATABASE, failure);
        }
        let Some(job) = claimed? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts, repository_id = job.repository_id);
        self.run_claimed(job, token).instrument(span).await;
        Ok(true)
    }

    async fn run_claimed(&self, job: Job, token: String) {
        let started = Instant::now();
        let heartbeat = self.spawn_heartbeat(job.id, token.clone());
        // The job runs in its own task, so a panic in it fails the job instead of ending this
        // worker (and leaving the heartbeat renewing a lease nobody works on).
        let handler = Arc::clone(&self.handler);
        let owned = job.clone();
        let mut task = tokio::spawn(async move { handler.handle(&owned).await });
        let mut hard_stop = self.hard_stop.clone();
        let stopped = async {
            match hard_stop.as_mut() {
                Some(rx) => {
                    let _ = rx.wait_for(|stop| *stop).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let mut crashed = false;
        let result = tokio::select! {
            r = tokio::time::timeout(self.config.job_timeout, &mut task) => match r {
                Ok(Ok(result)) => result,
                // A panic is a bug in upkeep: no attempt will go better (dead at once, as before).
                Ok(Err(e)) if e.is_panic() => Err(JobError::Permanent(format!(
                    "the job panicked: {}",
                    panic_message(e.into_panic())
                ))),
                Ok(Err(e)) => Err(JobError::Retry(format!("the job was cancelled: {e}"))),
                Err(_) => {
                    task.abort();
                    crashed = true;
                    Err(JobError::Retry(format!(
                        "timed out after {:?}",
                        self.config.job_timeout
                    )))
                }
            },
            _ = stopped => {
                // Shutdown's deadline: not the job's fault, so no attempt is spent on it.
                task.abort();
                warn!("shutdown deadline passed: the job goes back in line");
                Err(JobError::Defer {
                    until_ms: now_ms(),
                    reason: "upkeep stopped while it ran".into(),
                })
            }
        };
        // The outcome is recorded even through a database outage: while the database is out
        // of reach the heartbeat keeps the lease and the recording is tried again, so a job
        // that finished is not run again and one that waits spends no attempt.
        let since = Instant::now();
        let outcome = loop {
            match self.record(&job, &token, &result, crashed).await {
                Ok(outcome) => break outcome,
                Err(e) if e.is_unavailable() && since.elapsed() < RECORD_PATIENCE => {
                    warn!(error = %e, "the database is out of reach; recording the job's outcome again shortly");
                    tokio::time::sleep(RECORD_RETRY).await;
                }
                Err(e) => {
                    error!(error = %e, "recording the job's outcome failed; its lease runs out and it runs again");
                    break "store_error";
                }
            }
        };
        heartbeat.abort();
        if outcome == "lease_lost" {
            warn!("another worker took this job over; its result here is discarded");
        } else if outcome == "done" {
            info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "job done"
            );
        }
        crate::tally::job_finished(outcome);
        metrics::counter!("upkeep_jobs_finished_total", "kind" => job.kind.clone(), "outcome" => outcome).increment(1);
        metrics::histogram!("upkeep_job_duration_seconds", "kind" => job.kind.clone())
            .record(started.elapsed().as_secs_f64());
    }

    /// Records a finished job's outcome: done, deferred, failed (with its retry), crashed or
    /// dead; `lease_lost` when another worker took it over.
    async fn record(
        &self,
        job: &Job,
        token: &str,
        result: &Result<(), JobError>,
        crashed: bool,
    ) -> Result<&'static str, crate::store::StoreError> {
        let now = now_ms();
        Ok(match &result {
            Ok(()) => match self.store.complete_job(job.id, token, now).await {
                Ok(true) => "done",
                Ok(false) => "lease_lost",
                Err(e) => return Err(e),
            },
            Err(JobError::Defer { until_ms, reason }) => match self
                .store
                .defer_job(job.id, token, *until_ms, reason, now)
                .await
            {
                Ok(true) => {
                    info!(until_ms, reason = %reason, "job deferred");
                    "deferred"
                }
                Ok(false) => "lease_lost",
                Err(e) => return Err(e),
            },
            Err(err) if crashed => {
                let retry_at = (job.attempts < job.max_attempts)
                    .then(|| now + ms(backoff(&self.config, job.attempts)));
                let message = err.to_string();
                match self
                    .store
                    .crash_job(job.id, token, &message, retry_at, now)
                    .await
                {
                    Ok(Some(state)) if state == "quarantined" => {
                        error!(error = %message, crashes = job.crashes + 1, "job quarantined: it crashed its attempts; `@upkeep retry` or `upkeep jobs --state quarantined`");
                        "quarantined"
                    }
                    Ok(Some(state)) if state == "dead" => {
                        error!(error = %message, "job is dead");
                        "dead"
                    }
                    Ok(Some(_)) => {
                        warn!(error = %message, "job crashed; will retry");
                        "failed"
                    }
                    Ok(None) => "lease_lost",
                    Err(e) => return Err(e),
                }
            }
            Err(err) => {
                let retry_at = match err {
                    JobError::Retry(_) if job.attempts < job.max_attempts => {
                        Some(now + ms(backoff(&self.config, job.attempts)))
                    }
                    _ => None,
                };
                let message = err.to_string();
                match self
                    .store
                    .fail_job(job.id, token, &message, retry_at, now)
                    .await
                {
                    Ok(true) if retry_at.is_some() => {
                        warn!(error = %message, "job failed; will retry");
                        "failed"
                    }
                    Ok(true) => {
                        error!(error = %message, "job is dead");
                        "dead"
                    }
                    Ok(false) => "lease_lost",
                    Err(e) => return Err(e),
                }
            }
        })
    }

    fn spawn_heartbeat(&self, id: i64, token: String) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let lease = self.config.lease;
        tokio::spawn(async move {
            let every = (lease / 3).max(Duration::from_millis(50));
            loop {
                tokio::time::sleep(every).await;
                let now = now_ms();
                match store.extend_lease(id, &token, now + ms(lease), now).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => warn!(job = id, error = %e, "renewing a lease failed"),
                }
            }
        })
    }
}

/// What a panic said, when it said it with a string.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
