//! Reads what the status page shows: the breakers from the GitHub transport and the process's
//! dependencies, the queue and the deliveries from the store (each read bounded by a time-out:
//! a database that does not answer leaves those figures empty, and its breaker says why), the
//! budgets the transport last saw, and the alerts. Driver.

use std::time::Duration;

use super::model::{self, Status};
use crate::heal::database::{NO_BACKUP, RESTORED_AT, RESTORED_FROM};
use crate::server::state::AppState;
use crate::store::StoreError;
use crate::time::now_ms;

/// How long the page waits for each store read.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

async fn bounded<T>(read: impl std::future::Future<Output = Result<T, StoreError>>) -> Option<T> {
    match tokio::time::timeout(STORE_TIMEOUT, read).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "a status reading failed");
            None
        }
        Err(_) => None,
    }
}

/// Every dependency's breakers, summed up (GitHub's per installation too when asked).
fn dependencies(state: &AppState, per_installation: bool) -> Vec<model::Dependency> {
    let github_scopes = crate::github::app::registered(&state.github)
        .map(|a| a.transport().breakers().states())
        .unwrap_or_default();
    let deps = &state.dependencies;
    vec![
        model::dependency("github", &github_scopes, per_installation),
        model::dependency("index", &deps.index.states(), false),
        model::dependency("advisory_db", &deps.advisory_db.states(), false),
        model::dependency("git", &deps.git.states(), false),
        model::dependency("database", &deps.database.states(), false),
    ]
}

/// Sets the gauges a scrape reads from the same facts as the page:
/// `upkeep_breaker_state{dependency}` (0 closed, 1 half-open, 2 open; GitHub's the worst of
/// its scopes) and `upkeep_rate_limit_remaining{installation}`.
pub fn export_gauges(state: &AppState) {
    let app = crate::github::app::registered(&state.github);
    for d in dependencies(state, false) {
        let value = match d.state {
            "open" => 2.0,
            "half_open" => 1.0,
            _ => 0.0,
        };
        metrics::gauge!("upkeep_breaker_state", "dependency" => d.name).set(value);
    }
    if let Some(app) = app {
        for (installation, budget) in app.transport().budgets() {
            metrics::gauge!("upkeep_rate_limit_remaining", "installation" => installation.to_string())
                .set(f64::from(budget.remaining));
        }
    }
}

/// The status now.
pub async fn gather(state: &AppState) -> Status {
    let now = now_ms();
    let store = state.store.for_intake();
    let app = crate::github::app::registered(&state.github);
    let dependencies = dependencies(state, true);
    let counts = bounded(store.job_counts()).await.unwrap_or_default();
    let oldest = bounded(store.oldest_due_job(now)).await.flatten();
    let last = bounded(store.last_delivery_at()).await.flatten();
    let restored_at = bounded(store.mark(RESTORED_AT)).await.flatten();
    let restored_from = bounded(store.mark(RESTORED_FROM))
        .await
        .flatten()
        .filter(|t| *t != NO_BACKUP);
    let budgets = app
        .as_ref()
        .map(|a| a.transport().budgets())
        .unwrap_or_default();
    let learnt = bounded(crate::alerts::sampler::open_alerts(&store))
        .await
        .unwrap_or_default();
    Status {
        version: env!("CARGO_PKG_VERSION"),
        started_at: model::rfc3339(state.started_at_ms),
        dependencies,
        queue: model::Queue {
            workers_max: state.worker_limit.max(),
            workers_allowed: state.worker_limit.gate().allowed(),
            ..model::queue(&counts, oldest, now)
        },
        deliveries: model::Deliveries {
            last_received_at: last.map(model::rfc3339),
            recovered_total: crate::heal::sweep::recovered_total(),
        },
        rate_limit: model::rate_limits(&budgets),
        drift: state.drift.all(),
        alerts: model::restore_alert(restored_at, restored_from, now)
            .into_iter()
            .chain(learnt.iter().filter_map(|a| {
                crate::alerts::Signal::from_name(&a.signal)
                    .map(|s| model::learnt_alert(s, a.since_ms, a.value, a.threshold))
            }))
            .collect(),
        config: model::LiveConfig {
            advisory_refresh_minutes: state.live.advisory_refresh().as_secs() / 60,
            bench_retention_days: state.live.bench_retention_days(),
            daily_window: state.live.daily_window().label(),
            alerts_to: {
                let routes = state.live.alert_routes();
                [
                    routes.ops_repo.is_some().then_some("ops_issue"),
                    routes.webhook.is_some().then_some("webhook"),
                ]
                .into_iter()
                .flatten()
                .collect()
            },
        },
    }
}
