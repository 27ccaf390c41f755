//! The HTTP surface (axum) and the process that runs it: routes, shared state, workers, the
//! scheduler and graceful shutdown, bounded by a deadline even with a stuck worker.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::github::GitHubError;
use crate::handles::Handles;
use crate::queue::dispatch::AppHandler;
use crate::queue::{scheduler, QueueConfig, Worker};
use crate::server::responses::error_response;
use crate::server::settings::Settings;
use crate::server::state::AppState;
use crate::store::{Store, StoreError};
use crate::time::now_ms;
use crate::webhook::{self, Outcome};

/// GitHub caps webhook payloads at 25 MB.
pub use crate::webhook::body::MAX_BODY as MAX_WEBHOOK_BODY;

/// Every route the server answers.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/webhook", post(receive_webhook))
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/status", get(status_page))
        .route("/status.json", get(status_json))
        .route(
            "/bench/{repository}/chart.svg",
            get(super::charts::bench_chart),
        )
        .route("/status/signals/{file}", get(super::charts::signal_chart))
        .merge(crate::server::setup::routes())
        .with_state(state)
}

async fn receive_webhook(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let Some(creds) = state.credentials() else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "upkeep is not registered as a GitHub App yet; open / to set it up",
        );
    };
    let delivery = headers
        .get("x-github-delivery")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(64)
        .collect::<String>();
    let body = match webhook::body::read_signed(
        body,
        &headers,
        &creds.webhook_secrets(),
        &state.intake_budget,
        &webhook::body::Limits::default(),
    )
    .await
    {
        Ok(body) => body,
        Err(e) => {
            metrics::counter!("upkeep_webhook_deliveries_total", "event" => "unknown", "outcome" => e.label()).increment(1);
            warn!(delivery, reason = %e, "webhook refused");
            let mut response = error_response(e.status(), &e.to_string());
            if e.status() == StatusCode::SERVICE_UNAVAILABLE {
                response.headers_mut().insert(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from_static("5"),
                );
            }
            return response;
        }
    };
    if body.matched > 0 {
        // Each time, so the operator sees when the old secret stops being used and can go.
        warn!(
            delivery,
            "a delivery was signed with UPKEEP_WEBHOOK_SECRET_PREVIOUS; remove it once GitHub uses the new secret"
        );
        metrics::counter!("upkeep_webhook_previous_secret_total").increment(1);
    }
    let outcome =
        webhook::ingest_verified(&state.deliveries, &headers, body.bytes.clone(), now_ms()).await;
    drop(body);
    outcome.count();
    metrics::histogram!("upkeep_webhook_duration_seconds").record(started.elapsed().as_secs_f64());
    let delivery = delivery.as_str();
    match outcome {
        Outcome::Accepted { event } => {
            state.wake.notify_one();
            (
                StatusCode::ACCEPTED,
                Json(json!({ "status": "accepted", "event": event })),
            )
                .into_response()
        }
        Outcome::Ignored { event } => (
            StatusCode::OK,
            Json(json!({ "status": "ignored", "event": event })),
        )
            .into_response(),
        Outcome::Ping => (StatusCode::OK, Json(json!({ "status": "pong" }))).into_response(),
        Outcome::Duplicate { event } => (
            StatusCode::OK,
            Json(json!({ "status": "duplicate", "event": event })),
        )
            .into_response(),
        Outcome::Unauthorized(e) => {
            warn!(delivery, reason = %e, "webhook refused");
            error_response(StatusCode::UNAUTHORIZED, &e.to_string())
        }
        Outcome::BadRequest { message, .. } => {
            warn!(delivery, reason = %message, "webhook refused");
            error_response(StatusCode::BAD_REQUEST, &message)
        }
        Outcome::StoreFailed(e) => {
            error!(delivery, error = %e, "could not store a delivery; GitHub will show it failed");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery could not be stored; redeliver it later",
            )
        }
    }
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let readiness = crate::server::health::readiness(
        &state.store.for_intake(),
        state.credentials().is_some(),
        &state.advisories.health(ADVISORY_MAX_AGE),
    )
    .await;
    let status = if readiness.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

/// The operator's page: aggregates only, open to anyone who can reach the server.
async fn status_page(State(state): State<Arc<AppState>>) -> Response {
    let status = crate::status::gather::gather(&state).await;
    (
        [
            (http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        crate::status::render::html(&status),
    )
        .into_response()
}

async fn status_json(State(state): State<Arc<AppState>>) -> Response {
    let status = crate::status::gather::gather(&state).await;
    (
        [(http::header::CACHE_CONTROL, "no-store")],
        axum::Json(status),
    )
        .into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    crate::status::gather::export_gauges(&state);
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::server::health::render_metrics(&state.store).await,
    )
        .into_response()
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The default of [`Background::shutdown_deadline`].
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(8);

/// How the background parts run; tests shorten the intervals.
#[derive(Debug, Clone)]
pub struct Background {
    pub queue: QueueConfig,
    pub scheduler_every: Duration,
    /// How often the advisory database is fetched again (hourly in production).
    pub advisories_every: Duration,
    /// After the shutdown signal, how long requests and jobs in hand may take to finish; past
    /// it, jobs go back in line and the process stops anyway (Fly.io's kill timeout is 10 s).
    pub shutdown_deadline: Duration,
    /// How often GitHub's delivery log is swept for missed deliveries; `None`: by whether
    /// GitHub can reach the public URL (`heal::reach::sweep_every`).
    pub delivery_sweep_every: Option<Duration>,
    /// How the number of jobs at once follows GitHub's latency and errors.
    pub concurrency: crate::heal::aimd::AimdPolicy,
    /// How often the App's webhook configuration is checked for drift (hourly).
    pub hook_check_every: Duration,
    /// How often the `UPKEEP_CONFIG` file is looked at for changes.
    pub config_check_every: Duration,
    /// How often the alert signals are sampled (a minute).
    pub alert_sample_every: Duration,
}

impl Default for Background {
    fn default() -> Self {
        Background {
            queue: QueueConfig::default(),
            scheduler_every: Duration::from_secs(60),
            advisories_every: Duration::from_secs(3600),
            shutdown_deadline: SHUTDOWN_DEADLINE,
            delivery_sweep_every: None,
            concurrency: Default::default(),
            hook_check_every: Duration::from_secs(3600),
            config_check_every: Duration::from_secs(2),
            alert_sample_every: Duration::from_secs(60),
        }
    }
}

/// Runs the whole server until `shutdown` resolves: HTTP, workers and scheduler. In-flight
/// requests and jobs finish before it returns.
pub async fn serve(
    settings: Settings,
    background: Background,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| ServeError::Bind(settings.listen, e))?;
    serve_on(listener, settings, background, shutdown).await
}

/// Like `serve`, on a listener the caller bound (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    settings: Settings,
    background: Background,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // A corrupt SQLite file is moved aside and the newest good backup put in its place before
    // anything opens it: a broken file must not become a crash loop.
    let check =
        match crate::heal::database::check_at_start(&settings.database_url, &settings.data_dir)
            .await
        {
            Ok(check) => {
                info!(?check, "database checked");
                Some(check)
            }
            Err(e) => {
                error!(error = %e, "the database check at start failed; opening it anyway");
                None
            }
        };
    // The page cache follows the memory the container may use.
    let memory = crate::server::memory::usable();
    let cache_kib = crate::server::memory::sqlite_cache_kib(memory);
    crate::store::set_sqlite_cache_kib(cache_kib);
    info!(
        memory_mib = memory.map(|m| m >> 20),
        sqlite_cache_kib = cache_kib,
        workers = settings.workers,
        "sized for this machine"
    );
    let store = Store::open(&settings.database_url).await?;
    if let Some(check) = &check {
        crate::heal::database::after_restore(&store, check).await?;
    }
    let address = listener.local_addr()?;
    let workers = settings.workers;
    crate::server::telemetry::metrics_handle();
    let worker_limit =
        crate::heal::workers::WorkerLimit::new(workers, background.concurrency.clone());
    let dependencies = crate::heal::dependencies::Dependencies::new(background.advisories_every);
    let state = AppState::new(
        settings,
        store.clone(),
        Arc::clone(&worker_limit),
        dependencies,
    )?;
    if state.credentials().is_none() {
        let open = if address.ip().is_unspecified() {
            format!("http://127.0.0.1:{}/", address.port())
        } else {
            format!("http://{address}/")
        };
        info!(%address, "no GitHub App credentials yet: open {open} to register the App");
    }
    info!(%address, database = store_kind(&store), "upkeep serving");

    let (stop_tx, stop_rx) = watch::channel(false);
    let (hard_stop_tx, hard_stop_rx) = watch::channel(false);
    let index = crate::index::IndexClient::new(
        state.settings.index_url.as_str(),
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(300),
    )
    .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?
    .sharing_breakers(Arc::clone(&state.dependencies.index));
    let resolver = crate::cargo::Resolver {
        index: (state.settings.index_url.as_str() != crate::index::CRATES_IO)
            .then(|| state.settings.index_url.to_string()),
        // Git dependencies come from the repository's own host or the listed ones.
        allowed_git_hosts: state
            .settings
            .github_web_url
            .host_str()
            .map(str::to_owned)
            .into_iter()
            .chain(state.settings.git_hosts.iter().cloned())
            .collect(),
        git_breakers: Some(Arc::clone(&state.dependencies.git)),
        ..crate::cargo::Resolver::default()
    };
    let mut deps = crate::deps::pass::DepsPass::new(
        crate::index::registries::Registries::new(index),
        resolver,
    );
    deps.store = Some(store.clone());
    deps.advisories = Some(Arc::clone(&state.advisories));
    deps.slug = state.settings.slug.clone();
    deps.public_url = state.settings.public_url.as_ref().map(ToString::to_string);
    let handler = Arc::new(AppHandler(Handles::new(
        store.clone(),
        Arc::clone(&state.github),
        deps,
    )));
    let mut tasks = Vec::new();
    // Enough workers for the largest maximum a reloaded configuration may set; those beyond
    // the current maximum wait at the gate without touching the database.
    for i in 0..workers.max(crate::server::cpus::MAX_WORKERS) {
        let worker = Worker::new(
            store.clone(),
            Arc::clone(&handler),
            background.queue.clone(),
            Arc::clone(&state.wake),
            format!("{}-{}-{i}", hostname(), std::process::id()),
        )
        .yielding_to(state.deliveries.priority())
        .limited_by(worker_limit.gate())
        .guarded_by(Arc::clone(&state.dependencies.database))
        .stopping_hard_on(hard_stop_rx.clone());
        tasks.push(tokio::spawn(worker.run(stop_rx.clone())));
    }
    // The interval configured wins over the (test) background's.
    if state.settings.advisory_refresh.is_none() {
        state.live.set_advisory_refresh(background.advisories_every);
    }
    tasks.push(tokio::spawn(refresh_advisories(
        Arc::clone(&state.advisories),
        Arc::clone(&state.dependencies.advisory_db),
        store.clone(),
        Arc::clone(&state.wake),
        Arc::clone(&state.live),
        stop_rx.clone(),
    )));
    let live = Arc::clone(&state.live);
    tasks.push(tokio::spawn(scheduler::run(
        store.clone(),
        background.scheduler_every,
        move || live.daily_window(),
        Arc::clone(&state.wake),
        stop_rx.clone(),
    )));

    tasks.push(tokio::spawn(crate::heal::database::run_backups(
        store.clone(),
        state.settings.data_dir.clone(),
        Duration::from_secs(3600),
        stop_rx.clone(),
    )));

    let live = Arc::clone(&state.live);
    tasks.push(tokio::spawn(crate::heal::prune::run(
        store.clone(),
        Duration::from_secs(3600),
        move || live.retention(),
        stop_rx.clone(),
    )));

    let sweep_every = background
        .delivery_sweep_every
        .unwrap_or_else(|| crate::heal::reach::sweep_every(state.settings.public_url.as_ref()));
    info!(
        every_s = sweep_every.as_secs(),
        "GitHub's delivery log is swept for missed deliveries"
    );
    // Alerts' corrective actions run the sweep and the webhook check now.
    let sweep_now = Arc::new(tokio::sync::Notify::new());
    let hook_check_now = Arc::new(tokio::sync::Notify::new());
    tasks.push(tokio::spawn(crate::alerts::sampler::run(
        crate::alerts::sampler::Sampler::new(
            store.clone(),
            Arc::clone(&state.github),
            crate::alerts::sampler::Corrections {
                workers: Arc::clone(&state.wake),
                sweep: Arc::clone(&sweep_now),
                hook_check: Arc::clone(&hook_check_now),
            },
            {
                let live = Arc::clone(&state.live);
                Arc::new(move || live.alert_routes())
            },
            state.settings.public_url.clone(),
            format!(
                "{}-{}-{:08x}",
                hostname(),
                std::process::id(),
                rand::random::<u32>()
            ),
        ),
        background.alert_sample_every,
        stop_rx.clone(),
    )));
    tasks.push(tokio::spawn(crate::heal::sweep::run(
        crate::heal::sweep::DeliverySweep {
            store: store.clone(),
            github: Arc::clone(&state.github),
            writer: state.deliveries.clone(),
            wake: Arc::clone(&state.wake),
            // Unique per server, even with several in one process.
            holder: format!(
                "{}-{}-{:08x}",
                hostname(),
                std::process::id(),
                rand::random::<u32>()
            ),
        },
        sweep_every,
        sweep_now,
        stop_rx.clone(),
    )));

    tasks.push(tokio::spawn(crate::drift::hook_watch::run(
        crate::drift::hook_watch::HookWatch {
            public_url: state.settings.public_url.clone(),
            settings_page: format!(
                "{}/settings/apps/{}",
                state.settings.github_web_url.as_str().trim_end_matches('/'),
                state.settings.slug
            ),
            board: state.drift.clone(),
            store: state.store.clone(),
        },
        Arc::clone(&state.github),
        background.hook_check_every,
        hook_check_now,
        stop_rx.clone(),
    )));

    tasks.push(tokio::spawn(crate::server::reload::run(
        Arc::clone(&state),
        background.config_check_every,
        stop_rx.clone(),
    )));

    let app = router(state);
    let (signalled_tx, mut signalled) = watch::channel::<Option<Instant>>(None);
    let shutdown = async move {
        shutdown.await;
        let _ = signalled_tx.send(Some(Instant::now()));
    };
    let deadline = background.shutdown_deadline;
    let serving = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .into_future();
    let result = tokio::select! {
        r = serving => r,
        _ = async {
            let _ = signalled.wait_for(Option::is_some).await;
            tokio::time::sleep(deadline).await;
        } => {
            warn!(?deadline, "requests still open at the shutdown deadline are cut off");
            Ok(())
        }
    };
    let since_signal = signalled.borrow().map(|t| t.elapsed()).unwrap_or_default();
    info!("shutting down: finishing jobs in hand");
    let _ = stop_tx.send(true);
    let mut left = deadline.saturating_sub(since_signal);
    for mut task in tasks {
        let started = Instant::now();
        if tokio::time::timeout(left, &mut task).await.is_err() {
            // Past the deadline: jobs in hand go back in line, then whatever still runs stops.
            warn!(
                ?deadline,
                "jobs still running at the shutdown deadline go back in line"
            );
            let _ = hard_stop_tx.send(true);
            if tokio::time::timeout(Duration::from_secs(1), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
        left = left.saturating_sub(started.elapsed());
    }
    if tokio::time::timeout(Duration::from_secs(2), store.close())
        .await
        .is_err()
    {
        warn!("the database did not close in time");
    }
    result.map_err(ServeError::Io)
}

/// The advisory database counts as stale (degraded) after this long without a good fetch.
const ADVISORY_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(2 * 3600 + 600);

/// Fetches the advisory database at start-up and hourly (a local copy is left alone); new or
/// changed advisories get the repositories that lock their crates audited right away.
async fn refresh_advisories(
    advisories: Arc<crate::audit::Advisories>,
    breakers: Arc<crate::heal::breakers::Breakers>,
    store: Store,
    wake: Arc<tokio::sync::Notify>,
    live: Arc<crate::server::live::Live>,
    mut shutdown: watch::Receiver<bool>,
) {
    // A fetch that keeps failing backs off (two periods, doubling up to twelve) instead of
    // being tried every period; the last good copy stays in use meanwhile.
    loop {
        let every = live.advisory_refresh();
        if let crate::heal::breaker::Admission::Wait { until_ms } = breakers.admit("fetch") {
            tracing::debug!(until_ms, "the advisory database fetch is backing off");
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = live.changed.notified() => {}
                _ = shutdown.changed() => return,
            }
            continue;
        }
        let update = advisories.update().await;
        breakers.record("fetch", update.as_ref().err().map(|_| "fetch"));
        match update {
            Ok(Some(packages)) => {
                info!(crates = packages.len(), "advisory database updated");
                let key = advisories
                    .version()
                    .unwrap_or_else(|| crate::time::now_ms().to_string());
                match crate::audit::triggers::audit_after_refresh(
                    &store,
                    &packages,
                    &key,
                    crate::time::now_ms(),
                )
                .await
                {
                    Ok(n) if n > 0 => wake.notify_waiters(),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "audits after the refresh not enqueued"),
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "advisory database not refreshed; the last good copy stays in use")
            }
        }
        // Until the next fetch is due by the interval in force: a reloaded one counts from
        // this fetch, not from the change.
        let fetched = std::time::Instant::now();
        loop {
            let wait = live.advisory_refresh().saturating_sub(fetched.elapsed());
            tokio::select! {
                _ = tokio::time::sleep(wait) => break,
                _ = live.changed.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

fn store_kind(store: &Store) -> &'static str {
    match store.dialect() {
        crate::store::Dialect::Sqlite => "sqlite",
        crate::store::Dialect::Postgres => "postgres",
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("FLY_MACHINE_ID"))
        .unwrap_or_else(|_| "upkeep".into())
}
