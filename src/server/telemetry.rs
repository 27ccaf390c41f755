//! Logs and metrics set-up. Logs go through `tracing` (JSON in production, text on a
//! workstation; level from `RUST_LOG`, default info). Metrics go through the `metrics` facade to
//! one process-wide Prometheus recorder rendered by `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload::{self, Handle};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry};

use crate::server::settings::LogFormat;

/// Latency buckets (seconds) for every histogram: sub-millisecond webhook answers to minute-long
/// jobs.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// The installed filter's handle, for a reloaded `UPKEEP_LOG_LEVEL`.
static FILTER: OnceLock<Handle<EnvFilter, Registry>> = OnceLock::new();

/// Installs the global tracing subscriber (once; later calls do nothing) at `level`
/// (`RUST_LOG` wins when set).
pub fn init_logging(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(fmt.json().flatten_event(true))
            .try_init(),
        LogFormat::Text => tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init(),
    };
    if installed.is_ok() {
        let _ = FILTER.set(handle);
    }
}

/// Applies a new log level at once; whether it was applied (not when `RUST_LOG` is set, or
/// no logger of ours is installed).
pub fn set_log_level(level: &str) -> bool {
    if std::env::var_os("RUST_LOG").is_some() {
        return false;
    }
    match (FILTER.get(), EnvFilter::try_new(level)) {
        (Some(handle), Ok(filter)) => handle.reload(filter).is_ok(),
        _ => false,
    }
}

/// The process-wide Prometheus handle, installing the recorder on first use.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; metrics then go there instead.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        "upkeep_webhook_deliveries_total",
        "Webhook deliveries by event and outcome."
    );
    metrics::describe_counter!(
        "upkeep_deliveries_recovered_total",
        "Webhook deliveries GitHub failed to make, fetched back from its delivery log."
    );
    metrics::describe_histogram!(
        "upkeep_webhook_duration_seconds",
        "Time to verify, store and answer a delivery."
    );
    metrics::describe_gauge!("upkeep_jobs", "Jobs in the queue by state.");
    metrics::describe_counter!(
        "upkeep_jobs_finished_total",
        "Job attempts by kind and outcome."
    );
    metrics::describe_histogram!("upkeep_job_duration_seconds", "Time one job attempt took.");
    metrics::describe_gauge!(
        "upkeep_workers_max",
        "The configured most jobs at once (reloaded live)."
    );
    metrics::describe_gauge!(
        "upkeep_workers_allowed",
        "Jobs allowed at once now: lowered while GitHub struggles."
    );
    metrics::describe_gauge!(
        "upkeep_breaker_state",
        "Each dependency's breaker: 0 closed, 1 half-open, 2 open (GitHub: the worst scope)."
    );
    metrics::describe_gauge!(
        "upkeep_alerts_open",
        "Self-tuning alerts open, by signal (1 open, 0 not)."
    );
    metrics::describe_gauge!(
        "upkeep_rate_limit_remaining",
        "Requests left in each installation's hourly budget, as GitHub last said."
    );
    metrics::describe_counter!(
        "upkeep_github_requests_total",
        "Requests to GitHub by response status."
    );
    metrics::describe_histogram!(
        "upkeep_github_request_duration_seconds",
        "Latency of requests to GitHub."
    );
}
