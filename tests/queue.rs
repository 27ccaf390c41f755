//! The durable job queue on both SQLite and PostgreSQL: a worker killed with SIGKILL mid-job
//! leaves a job that a restarted worker completes exactly once; concurrent workers never run the
//! same job at once; failing jobs back off and end dead after their last attempt.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, TestDb};
use sqlx::Row;
use tokio::sync::{watch, Notify};
use upkeep::queue::{JobError, JobHandler, QueueConfig, Worker};
use upkeep::store::jobs::{Job, NewJob};
use upkeep::store::Store;
use upkeep::time::now_ms;

fn config(lease_ms: u64) -> QueueConfig {
    QueueConfig {
        lease: Duration::from_millis(lease_ms),
        base_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(2),
        poll_interval: Duration::from_millis(20),
        job_timeout: Duration::from_secs(120),
    }
}

fn job<'a>(key: &'a str, max_attempts: i64) -> NewJob<'a> {
    NewJob {
        kind: "test",
        dedupe_key: key,
        payload: "{}",
        run_at: None,
        max_attempts,
        repository_id: None,
    }
}

fn spawn_workers<H: JobHandler>(
    store: &Store,
    handler: Arc<H>,
    n: usize,
    cfg: QueueConfig,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let w = Worker::new(
                store.clone(),
                Arc::clone(&handler),
                cfg.clone(),
                Arc::new(Notify::new()),
                format!("w{i}"),
            );
            tokio::spawn(w.run(stop.clone()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// SIGKILL mid-job, then restart: exactly once.

/// The effect of a job, written by the child worker process into a table of its own.
const EFFECTS: &str =
    "CREATE TABLE IF NOT EXISTS test_effects (job_id BIGINT NOT NULL, phase TEXT NOT NULL)";

struct ChildHandler {
    store: Store,
    hang: bool,
}

impl JobHandler for ChildHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let phase = if self.hang { "started" } else { "completed" };
        sqlx::query("INSERT INTO test_effects (job_id, phase) VALUES ($1, $2)")
            .bind(job.id)
            .bind(phase)
            .execute(self.store.pool())
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        if self.hang {
            // Killed here by the parent.
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
        Ok(())
    }
}

/// Entry point of the worker process the SIGKILL test starts (this test binary, run again).
#[tokio::test]
#[ignore = "entry point of the child worker process for the SIGKILL tests"]
async fn child_worker_process() {
    let Ok(url) = std::env::var("UPKEEP_TEST_CHILD_DB") else {
        return;
    };
    let hang = std::env::var("UPKEEP_TEST_CHILD_HANG").as_deref() == Ok("1");
    let store = Store::open(&url).await.unwrap();
    let (_stop_tx, stop) = watch::channel(false);
    let handler = Arc::new(ChildHandler {
        store: store.clone(),
        hang,
    });
    for w in spawn_workers(&store, handler, 1, config(1_000), &stop) {
        w.await.unwrap();
    }
}

fn start_child(url: &str, hang: bool) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "child_worker_process",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("UPKEEP_TEST_CHILD_DB", url)
        .env("UPKEEP_TEST_CHILD_HANG", if hang { "1" } else { "0" })
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

async fn effects(store: &Store, phase: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM test_effects WHERE phase = $1")
        .bind(phase)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn a_job_killed_mid_way_completes_exactly_once_after_restart(db: TestDb) {
    let store = db.store().await;
    sqlx::query(EFFECTS).execute(store.pool()).await.unwrap();
    assert!(store.enqueue(&job("kill-me", 5), now_ms()).await.unwrap());

    let mut first = start_child(&db.url, true);
    eventually(30, "the first worker to start the job", || {
        let store = store.clone();
        async move { (effects(&store, "started").await == 1).then_some(()) }
    })
    .await;
    // SIGKILL: no clean-up, no lease release.
    first.kill().unwrap();
    first.wait().unwrap();
    let orphan = store.job_by_key("kill-me").await.unwrap().unwrap();
    assert_eq!(
        orphan.state, "running",
        "the killed worker's job is left running"
    );

    let mut second = start_child(&db.url, false);
    let done = eventually(30, "the restarted worker to finish the job", || {
        let store = store.clone();
        async move {
            store
                .job_by_key("kill-me")
                .await
                .unwrap()
                .filter(|j| j.state == "done")
        }
    })
    .await;
    // Give the restarted worker time to do anything twice, if it would.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(
        effects(&store, "completed").await,
        1,
        "the job completed more than once"
    );
    assert_eq!(
        store.job_by_key("kill-me").await.unwrap().unwrap().state,
        "done"
    );
}

#[tokio::test]
async fn sigkill_mid_job_then_restart_completes_exactly_once_on_sqlite() {
    a_job_killed_mid_way_completes_exactly_once_after_restart(TestDb::sqlite()).await;
}

#[tokio::test]
async fn sigkill_mid_job_then_restart_completes_exactly_once_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    a_job_killed_mid_way_completes_exactly_once_after_restart(db).await;
}

// ---------------------------------------------------------------------------------------------
// Concurrent workers never run the same job at once.

#[derive(Default)]
struct Exclusive {
    running: Mutex<HashSet<i64>>,
    runs: Mutex<Vec<i64>>,
    overlaps: Mutex<Vec<i64>>,
}

impl JobHandler for Exclusive {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        if !self.running.lock().unwrap().insert(job.id) {
            self.overlaps.lock().unwrap().push(job.id);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.running.lock().unwrap().remove(&job.id);
        self.runs.lock().unwrap().push(job.id);
        Ok(())
    }
}

async fn workers_never_share_a_job(db: TestDb, jobs: usize) {
    // Two pools stand for two replicas; each runs several workers.
    let replica_a = db.store().await;
    let replica_b = db.store().await;
    let now = now_ms();
    for i in 0..jobs {
        replica_a
            .enqueue(&job(&format!("j{i}"), 3), now)
            .await
            .unwrap();
    }
    let handler = Arc::new(Exclusive::default());
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = spawn_workers(&replica_a, Arc::clone(&handler), 3, config(30_000), &stop);
    tasks.extend(spawn_workers(
        &replica_b,
        Arc::clone(&handler),
        3,
        config(30_000),
        &stop,
    ));
    eventually(60, "every job to run", || {
        let handler = Arc::clone(&handler);
        async move { (handler.runs.lock().unwrap().len() >= jobs).then_some(()) }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let runs = handler.runs.lock().unwrap().clone();
    let distinct: HashSet<i64> = runs.iter().copied().collect();
    assert_eq!(runs.len(), jobs, "some job ran twice");
    assert_eq!(distinct.len(), jobs);
    assert!(
        handler.overlaps.lock().unwrap().is_empty(),
        "two workers ran the same job at once"
    );
    let counts = replica_b.job_counts().await.unwrap();
    assert_eq!(counts, vec![("done".to_owned(), jobs as i64)]);
}

#[tokio::test]
async fn two_replicas_of_workers_on_postgres_never_run_the_same_job_at_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    workers_never_share_a_job(db, 300).await;
}

#[tokio::test]
async fn two_replicas_of_workers_on_sqlite_never_run_the_same_job_at_once() {
    workers_never_share_a_job(TestDb::sqlite(), 150).await;
}

// ---------------------------------------------------------------------------------------------
// Failing jobs back off and end dead.

#[derive(Default)]
struct AlwaysFails {
    attempts_at: Mutex<Vec<Instant>>,
}

impl JobHandler for AlwaysFails {
    async fn handle(&self, _job: &Job) -> Result<(), JobError> {
        self.attempts_at.lock().unwrap().push(Instant::now());
        Err(JobError::Retry("the far side is down".into()))
    }
}

async fn failing_jobs_back_off_and_end_dead(db: TestDb) {
    let store = db.store().await;
    store.enqueue(&job("doomed", 4), now_ms()).await.unwrap();
    let handler = Arc::new(AlwaysFails::default());
    let (stop_tx, stop) = watch::channel(false);
    let tasks = spawn_workers(&store, Arc::clone(&handler), 2, config(30_000), &stop);
    let dead = eventually(30, "the job to die", || {
        let store = store.clone();
        async move {
            store
                .job_by_key("doomed")
                .await
                .unwrap()
                .filter(|j| j.state == "dead")
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(dead.attempts, 4);
    assert_eq!(dead.last_error.as_deref(), Some("the far side is down"));
    let times = handler.attempts_at.lock().unwrap().clone();
    assert_eq!(times.len(), 4, "a dead job ran again");
    // Waits of at least half of 200 ms, 400 ms, 800 ms (equal jitter), growing.
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    for (i, gap) in gaps.iter().enumerate() {
        let floor = Duration::from_millis(100 << i);
        assert!(*gap >= floor, "gap {i} was {gap:?}, below {floor:?}");
    }
    let listed = store.list_jobs(&["dead"], 10).await.unwrap();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn failing_jobs_back_off_and_end_dead_on_sqlite() {
    failing_jobs_back_off_and_end_dead(TestDb::sqlite()).await;
}

#[tokio::test]
async fn failing_jobs_back_off_and_end_dead_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    failing_jobs_back_off_and_end_dead(db).await;
}

#[tokio::test]
async fn enqueueing_the_same_key_twice_is_a_no_op() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    assert!(store.enqueue(&job("once", 3), now_ms()).await.unwrap());
    assert!(!store.enqueue(&job("once", 3), now_ms()).await.unwrap());
    assert_eq!(
        store.job_counts().await.unwrap(),
        vec![("queued".to_owned(), 1)]
    );
}

struct RateLimitedOnce {
    calls: Mutex<u32>,
}

impl JobHandler for RateLimitedOnce {
    async fn handle(&self, _job: &Job) -> Result<(), JobError> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls == 1 {
            return Err(upkeep::github::GitHubError::RateLimited {
                until_ms: now_ms() + 300,
            }
            .into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_rate_limited_job_waits_for_the_reset_without_using_an_attempt() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    store.enqueue(&job("limited", 1), now_ms()).await.unwrap();
    let handler = Arc::new(RateLimitedOnce {
        calls: Mutex::new(0),
    });
    let (stop_tx, stop) = watch::channel(false);
    let started = Instant::now();
    let tasks = spawn_workers(&store, Arc::clone(&handler), 1, config(30_000), &stop);
    let done = eventually(10, "the deferred job to run again", || {
        let store = store.clone();
        async move {
            store
                .job_by_key("limited")
                .await
                .unwrap()
                .filter(|j| j.state == "done")
        }
    })
    .await;
    stop_tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    // One attempt allowed, two runs: the rate-limited one did not count.
    assert_eq!(done.attempts, 1);
    assert_eq!(*handler.calls.lock().unwrap(), 2);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_scheduler_tick_requeues_a_dead_workers_job_even_while_others_are_due() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let now = now_ms();
    store.enqueue(&job("orphan", 3), now - 10).await.unwrap();
    let orphan = store
        .claim_job("dead-worker", now, now + 100)
        .await
        .unwrap()
        .unwrap();
    store.enqueue(&job("busy", 3), now).await.unwrap();
    // The lease ran out; a busy queue would keep claiming due jobs first.
    upkeep::queue::scheduler::tick(&store, now + 1_000, Default::default())
        .await
        .unwrap();
    let requeued = store.job_by_key("orphan").await.unwrap().unwrap();
    assert_eq!(requeued.state, "failed");
    assert_eq!(
        requeued.last_error.as_deref(),
        Some("worker stopped before finishing")
    );
    let first = store
        .claim_job("live-worker", now + 1_000, now + 60_000)
        .await
        .unwrap()
        .unwrap();
    let second = store
        .claim_job("live-worker", now + 1_000, now + 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.dedupe_key, "busy",
        "a requeued job goes to the back of the line"
    );
    assert_eq!(second.id, orphan.id);
    assert_eq!(second.attempts, 2);
    // The dead worker's late completion is refused.
    assert!(!store
        .complete_job(orphan.id, "dead-worker", now + 2_000)
        .await
        .unwrap());
}

// A job that panics dies with the panic's message, and the worker goes on with the next one.

struct PanicsOnBoom;

impl JobHandler for PanicsOnBoom {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        if job.dedupe_key == "boom" {
            panic!("index out of bounds in a parser");
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_job_dies_and_the_worker_goes_on() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    store.enqueue(&job("boom", 3), now_ms()).await.unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let tasks = spawn_workers(&store, Arc::new(PanicsOnBoom), 1, config(30_000), &stop);
    let dead = eventually(30, "the panicking job to die", || {
        let store = store.clone();
        async move {
            store
                .job_by_key("boom")
                .await
                .unwrap()
                .filter(|j| j.state == "dead")
        }
    })
    .await;
    assert_eq!(dead.attempts, 1, "a panic is not retried");
    assert!(
        dead.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("index out of bounds"),
        "{dead:?}"
    );
    store.enqueue(&job("after", 3), now_ms()).await.unwrap();
    eventually(30, "the next job done by the same worker", || {
        let store = store.clone();
        async move {
            store
                .job_by_key("after")
                .await
                .unwrap()
                .filter(|j| j.state == "done")
        }
    })
    .await;
    stop_tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
}

// A poison job: one that times out (or loses its worker) twice is quarantined, not retried for
// ever, and the worker goes on with the next job.

struct HangsOnPoison;

impl JobHandler for HangsOnPoison {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        if job.dedupe_key == "poison" {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_job_that_times_out_twice_is_quarantined_and_the_worker_goes_on() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    store.enqueue(&job("poison", 8), now_ms()).await.unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let cfg = QueueConfig {
        job_timeout: Duration::from_millis(300),
        base_backoff: Duration::from_millis(20),
        ..config(30_000)
    };
    let tasks = spawn_workers(&store, Arc::new(HangsOnPoison), 1, cfg, &stop);
    let quarantined = eventually(30, "the poison job quarantined", || {
        let store = store.clone();
        async move {
            store
                .job_by_key("poison")
                .await
                .unwrap()
                .filter(|j| j.state == "quarantined")
        }
    })
    .await;
    assert_eq!(quarantined.attempts, 2, "tried twice, not eight times");
    assert_eq!(quarantined.crashes, 2);
    assert!(quarantined
        .last_error
        .as_deref()
        .unwrap_or_default()
        .contains("timed out"));
    store.enqueue(&job("after", 3), now_ms()).await.unwrap();
    eventually(30, "the next job done", || {
        let store = store.clone();
        async move {
            store
                .job_by_key("after")
                .await
                .unwrap()
                .filter(|j| j.state == "done")
        }
    })
    .await;
    stop_tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let listed = store.list_jobs(&["quarantined"], 10).await.unwrap();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn a_job_whose_worker_dies_twice_is_quarantined_and_retry_brings_it_back() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let now = now_ms();
    let key = "takes-workers-down";
    store
        .enqueue(
            &NewJob {
                repository_id: Some(5),
                ..job(key, 8)
            },
            now - 10,
        )
        .await
        .unwrap();
    // First worker dies: the next claim takes the orphan over, counting a crash.
    store
        .claim_job("w1", now, now + 100)
        .await
        .unwrap()
        .unwrap();
    let second = store
        .claim_job("w2", now + 1_000, now + 1_100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.crashes, 1);
    // The second worker dies too: no third claim; the scheduler tick quarantines it.
    assert!(store
        .claim_job("w3", now + 2_000, now + 60_000)
        .await
        .unwrap()
        .is_none());
    upkeep::queue::scheduler::tick(&store, now + 2_000, Default::default())
        .await
        .unwrap();
    let j = store.job_by_key(key).await.unwrap().unwrap();
    assert_eq!((j.state.as_str(), j.crashes), ("quarantined", 2));
    assert_eq!(store.quarantined_jobs(5, 10).await.unwrap().len(), 1);
    // `@upkeep retry` runs it again with a clean slate.
    let retried = store
        .retry_last_failed(5, now + 3_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((retried.state.as_str(), retried.crashes), ("queued", 0));
}
