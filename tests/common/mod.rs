//! Test harness: databases (a temp SQLite file, or a fresh PostgreSQL database per test), the
//! shared real-data directory, and a running server with a test webhook secret.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use sqlx::Connection;
use tokio::sync::oneshot;
use upkeep::server::settings::{Environment, Settings};
use upkeep::server::{self, Background};
use upkeep::store::Store;

pub mod bench_artifacts;
pub mod bench_world;
pub mod binary;
pub mod browser;
pub mod check_cli;
pub mod noise_corpus;
pub mod registry;
pub mod repo_world;

pub const SECRET: &str = "test-webhook-secret-0123456789";
pub const APP_ID: u64 = 4242;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` (or `UPKEEP_SHARED_DIR`); `None` with a printed reason when absent.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("UPKEEP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("..").join("shared"));
    if dir.join("github-webhooks").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: the shared data directory {} is absent (set UPKEEP_SHARED_DIR); .ci/run requires it",
            dir.display()
        );
        None
    }
}

pub fn private_key_path() -> PathBuf {
    repo_root().join("tests/fixtures/test-app-key.pem")
}

pub fn public_key_pem() -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures/test-app-key.pub.pem")).unwrap()
}

/// A database for one test, removed afterwards.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("upkeep.db").display());
        TestDb {
            url,
            _dir: Some(dir),
            pg_name: None,
        }
    }

    pub fn sqlite_path(&self) -> PathBuf {
        PathBuf::from(self.url.trim_start_matches("sqlite://"))
    }

    /// A fresh PostgreSQL database on the local server; `None` (with a printed reason) when the
    /// server is unreachable, unless `UPKEEP_REQUIRE_POSTGRES=1` (CI), where that fails.
    pub async fn postgres() -> Option<TestDb> {
        let admin = admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("UPKEEP_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                    panic!("PostgreSQL at {admin} is required (UPKEEP_REQUIRE_POSTGRES=1): {e}");
                }
                eprintln!("SKIPPED: PostgreSQL at {admin} is unreachable: {e}");
                return None;
            }
        };
        let name = format!("upkeep_test_{:016x}", rand::rng().random::<u64>());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Some(TestDb {
            url: format!("{base}/{name}"),
            _dir: None,
            pg_name: Some(name),
        })
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.url).await.unwrap()
    }
}

fn admin_url() -> String {
    std::env::var("UPKEEP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Best effort, on a thread of its own: Drop may run inside a runtime.
            let admin = admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut c)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Settings for a test server.
pub fn settings(db_url: &str, extra: &[(&str, &str)]) -> Settings {
    let data_dir = tempfile::tempdir().unwrap().keep();
    let mut env: HashMap<String, String> = [
        ("UPKEEP_LISTEN", "127.0.0.1:0".to_owned()),
        ("UPKEEP_DATABASE_URL", db_url.to_owned()),
        ("UPKEEP_DATA_DIR", data_dir.display().to_string()),
        ("UPKEEP_APP_ID", APP_ID.to_string()),
        (
            "UPKEEP_PRIVATE_KEY_PATH",
            private_key_path().display().to_string(),
        ),
        ("UPKEEP_WEBHOOK_SECRET", SECRET.to_owned()),
        // A local advisory database: tests never fetch one.
        (
            "UPKEEP_ADVISORY_DB",
            repo_root()
                .join("tests/fixtures/advisory-db")
                .display()
                .to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        if v.is_empty() {
            env.remove(*k);
        } else {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
    }
    Settings::load(&env, Environment::Workstation).unwrap()
}

/// Background timings short enough for tests.
pub fn fast_background() -> Background {
    Background {
        queue: upkeep::queue::QueueConfig {
            lease: Duration::from_secs(5),
            base_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            poll_interval: Duration::from_millis(50),
            job_timeout: Duration::from_secs(30),
        },
        scheduler_every: Duration::from_millis(200),
        advisories_every: Duration::from_millis(200),
        shutdown_deadline: upkeep::server::SHUTDOWN_DEADLINE,
        delivery_sweep_every: None,
        concurrency: Default::default(),
        hook_check_every: Duration::from_secs(3600),
        config_check_every: Duration::from_millis(200),
        alert_sample_every: Duration::from_secs(60),
    }
}

/// Background work for the killable servers of the crash tests: `fast_background` with a job
/// lease of 20 s. A crash test runs out the killed server's leases itself; a live worker's
/// lease must outlast what a loaded two-core machine does to it meanwhile (the killed server's
/// database connections finishing on their own threads, the fresh server starting). With 5 s,
/// a heartbeat held up that long lost a live job's lease: a second, phantom crash, and the job
/// quarantined (CI, twice). Production's lease is 60 s.
pub fn crash_background() -> Background {
    let mut b = fast_background();
    b.queue.lease = Duration::from_secs(20);
    b
}

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The server's own runtime, when it can be killed (`start_killable`).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl TestServer {
    pub async fn start(settings: Settings) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::serve_on(listener, settings, fast_background(), async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let http = reqwest::Client::new();
        let server = TestServer {
            addr,
            http,
            stop: Some(stop),
            task: Some(task),
            runtime: None,
        };
        server.wait_until_serving().await;
        server
    }

    /// A server on a runtime of its own, which `kill` stops dead: every task (intake, workers,
    /// scheduler) is dropped wherever it is waiting, as SIGKILL would leave them, and nothing
    /// is shut down gracefully. The database file stays for a restart.
    pub async fn start_killable(settings: Settings, background: Background) -> TestServer {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            server::serve_on(listener, settings, background, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let server = TestServer {
            addr,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
            runtime: Some(runtime),
        };
        server.wait_until_serving().await;
        server
    }

    /// Kills this server wherever it is (as SIGKILL would), lets the leases of the jobs it was
    /// running run out (the clock moved on), and starts a killable one on the same database.
    /// Only the jobs the killed server was running: a job the new one has already claimed is
    /// alive, and running its lease out would count a crash that did not happen (twice:
    /// quarantined).
    pub async fn crash_and_restart(&mut self, settings: &Settings, store: &Store) {
        // The killed server's claims, by lease token: a job the fresh server claims meanwhile
        // (the old lease ran out under load) carries a token of its own and is left alone;
        // zeroing its lease too counted a second, phantom crash and quarantined it.
        let running = running_claims(store).await;
        self.crash_and_restart_after(settings, store, running).await;
    }

    /// `crash_and_restart` with the killed server's claims read beforehand, by
    /// [`running_claims`], while it was the only server on the database: another replica
    /// started meanwhile claims jobs with tokens that cannot be told from the killed one's (one
    /// test process: the same host and pid), and running their leases out counted crashes
    /// that did not happen (twice: quarantined).
    pub async fn crash_and_restart_after(
        &mut self,
        settings: &Settings,
        store: &Store,
        running: Vec<(i64, String)>,
    ) {
        let fresh = TestServer::start_killable(settings.clone(), crash_background()).await;
        std::mem::replace(self, fresh).kill();
        for (id, token) in running {
            sqlx::query(
                "UPDATE jobs SET lease_until = 0 WHERE id = $1 AND lease_token = $2 \
                 AND state = 'running'",
            )
            .bind(id)
            .bind(token)
            .execute(store.pool())
            .await
            .unwrap();
        }
    }

    /// Kills a killable server in place (as SIGKILL would) and lets the leases of the jobs it
    /// was running run out: upkeep is away until `come_back`.
    pub async fn go_down(&mut self, store: &Store) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        self.task.take();
        self.stop.take();
        sqlx::query("UPDATE jobs SET lease_until = 0 WHERE state = 'running'")
            .execute(store.pool())
            .await
            .unwrap();
    }

    /// Starts a server that `go_down` stopped again, on the same database.
    pub async fn come_back(&mut self, settings: &Settings) {
        *self = TestServer::start_killable(settings.clone(), fast_background()).await;
    }

    /// Stops a killable server at once, wherever its tasks are.
    pub fn kill(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        self.task.take();
        // Only now: dropping the sender would start a graceful shutdown.
        self.stop.take();
    }

    async fn wait_until_serving(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.http.get(self.url("/healthz")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server did not start");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The body of `GET path`, whatever its status.
    pub async fn text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A metric without labels as `/metrics` shows it (0 before it is first counted).
    pub async fn metric(&self, name: &str) -> f64 {
        let prefix = format!("{name} ");
        self.text("/metrics")
            .await
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0.0, |v| v.trim().parse().unwrap())
    }

    /// POSTs a delivery signed with the test secret.
    pub async fn deliver(&self, event: &str, delivery: &str, body: &[u8]) -> reqwest::Response {
        self.post_webhook(
            event,
            delivery,
            body,
            Some(upkeep::webhook::sign(SECRET.as_bytes(), body)),
        )
        .await
    }

    pub async fn post_webhook(
        &self,
        event: &str,
        delivery: &str,
        body: &[u8],
        signature: Option<String>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url("/webhook"))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        req.send().await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// Polls `check` until it returns `Some`, failing after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The jobs running now and their lease tokens (what a server killed now was holding, when it is
/// the only one on the database).
pub async fn running_claims(store: &Store) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT id, lease_token FROM jobs WHERE state = 'running'")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

pub fn unique_delivery() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// Runs git in `dir` as a fixed author, failing the test on an error.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until no job is queued, running or waiting for a retry (each is done or dead).
pub async fn jobs_settled(store: &Store) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let counts = store.job_counts().await.unwrap();
        if counts
            .iter()
            .all(|(state, n)| state == "done" || state == "dead" || *n == 0)
        {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            // Say which jobs hold it up: a flaky settle is otherwise impossible to read.
            let stuck = store
                .list_jobs(&["queued", "running", "failed", "quarantined"], 20)
                .await
                .unwrap();
            panic!(
                "timed out waiting for jobs settled: {counts:?}\n{:#?}",
                stuck
                    .iter()
                    .map(|j| (
                        j.id,
                        &j.kind,
                        &j.state,
                        j.attempts,
                        j.crashes,
                        j.run_at,
                        &j.last_error
                    ))
                    .collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Overwrites the file's first page, header included, as a failing disk or a bad copy would,
/// and drops its write-ahead log (which could otherwise still hold a good copy of that page).
/// The killed server's database connections live on their own threads for a moment after its
/// runtime is gone (a real SIGKILL takes them at once), and the last to close checkpoints the
/// log into the file: let them finish first.
pub async fn corrupt_sqlite(path: &std::path::Path) {
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
    std::io::Write::write_all(&mut file, &[0xA5; 4096]).unwrap();
    file.sync_all().unwrap();
}

/// Stops or starts the machine's PostgreSQL server (`pg_ctlcluster`): only for tests .ci/run
/// runs on their own, at the end.
pub fn pg_cluster(action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("PostgreSQL's cluster configuration under /etc/postgresql")
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let status = std::process::Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            version.to_str().unwrap(),
            "main",
            action,
        ])
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctlcluster {action} failed");
}

/// Every file under `dir`, by path relative to it.
pub fn files_under(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}
