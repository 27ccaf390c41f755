//! The database's circuit breaker: PostgreSQL reached through a TCP proxy the test can cut.
//! While the database is out of reach the workers' claims fail until the breaker opens; then no
//! worker asks it at all (no connection attempt reaches the proxy) until the open period is
//! over, when one claim is the probe, and the job waiting all along runs once the database is
//! back. Does not stop the machine's PostgreSQL server, so it runs with the other tests.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::TestDb;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use upkeep::heal::breaker::BreakerPolicy;
use upkeep::heal::breakers::Breakers;
use upkeep::queue::{JobError, JobHandler, QueueConfig, Worker};
use upkeep::store::jobs::{Job, NewJob};
use upkeep::store::Store;

/// A TCP proxy to PostgreSQL that can be cut: cut, it closes its open connections and every
/// new one at once (a database host gone away), counting the attempts.
struct CuttableProxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut_now: Arc<Notify>,
    attempts_while_down: Arc<AtomicUsize>,
}

impl CuttableProxy {
    async fn start(upstream: String) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let cut_now = Arc::new(Notify::new());
        let attempts_while_down = Arc::new(AtomicUsize::new(0));
        let (flag, cut, attempts) = (
            Arc::clone(&up),
            Arc::clone(&cut_now),
            Arc::clone(&attempts_while_down),
        );
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let cut = Arc::clone(&cut);
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        CuttableProxy {
            port,
            up,
            cut_now,
            attempts_while_down,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut_now.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    fn attempts_while_down(&self) -> usize {
        self.attempts_while_down.load(Ordering::SeqCst)
    }
}

struct Counting(AtomicUsize);

impl JobHandler for Counting {
    async fn handle(&self, _job: &Job) -> Result<(), JobError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn worker(
    store: &Store,
    handler: &Arc<Counting>,
    breakers: &Arc<Breakers>,
    i: usize,
) -> Worker<Counting> {
    Worker::new(
        store.clone(),
        Arc::clone(handler),
        QueueConfig {
            poll_interval: Duration::from_millis(20),
            ..QueueConfig::default()
        },
        Arc::new(Notify::new()),
        format!("w{i}"),
    )
    .guarded_by(Arc::clone(breakers))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_out_of_reach_is_asked_once_per_open_period_and_work_resumes_after() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = CuttableProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let store = Store::open(url.as_str()).await.unwrap();

    let breakers = Arc::new(Breakers::new(
        "database",
        BreakerPolicy {
            open_base: Duration::from_secs(3),
            open_max: Duration::from_secs(3),
            jitter: 0.0,
            ..BreakerPolicy::for_database()
        },
    ));
    let handler = Arc::new(Counting(AtomicUsize::new(0)));
    let workers: Vec<Worker<Counting>> = (0..3)
        .map(|i| worker(&store, &handler, &breakers, i))
        .collect();

    proxy.cut();
    // Three workers poll at once: each claim fails (after the pool's connect time-out).
    let (a, b, c) = tokio::join!(
        workers[0].run_one(),
        workers[1].run_one(),
        workers[2].run_one()
    );
    let failed = [a, b, c];
    assert!(
        failed
            .iter()
            .all(|r| r.as_ref().is_err_and(|e| e.is_unavailable())),
        "{failed:?}"
    );
    assert_eq!(breakers.states()[0].state.name(), "open");
    let attempts = proxy.attempts_while_down();
    assert!(
        attempts >= 3,
        "each failed claim tried to connect: {attempts}"
    );

    // Open: a hundred polls send nothing to the database.
    for _ in 0..100 {
        assert!(!workers[0].run_one().await.unwrap(), "no claim while open");
    }
    assert_eq!(
        proxy.attempts_while_down(),
        attempts,
        "no connection attempt while open"
    );

    // A job is enqueued while the database is back; after the open period one claim (the
    // probe) finds it, runs it, and closes the breaker.
    proxy.restore();
    let admin = Store::open(&db.url).await.unwrap();
    admin
        .enqueue(
            &NewJob {
                kind: "test",
                dedupe_key: "waiting",
                payload: "{}",
                run_at: None,
                max_attempts: 3,
                repository_id: None,
            },
            upkeep::time::now_ms(),
        )
        .await
        .unwrap();
    assert!(
        !workers[1].run_one().await.unwrap(),
        "still open: the job waits"
    );
    assert_eq!(handler.0.load(Ordering::SeqCst), 0);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(
        workers[1].run_one().await.unwrap(),
        "the probe claims the job"
    );
    assert_eq!(handler.0.load(Ordering::SeqCst), 1);
    assert_eq!(breakers.states()[0].state.name(), "closed");
}
