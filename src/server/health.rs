//! Health and metrics: `/healthz` says the process serves; `/readyz` says whether each component
//! can do its work now (503 while the database cannot answer); `/metrics` renders Prometheus
//! text, refreshing the queue gauges from the store first.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::store::jobs::STATES;
use crate::store::Store;

/// How long the readiness probe waits for the database.
pub const DATABASE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The body of `/readyz`.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub components: BTreeMap<&'static str, &'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<&'static str, String>,
}

impl Readiness {
    /// Ready unless a component the server cannot work without is unhealthy.
    pub fn is_ready(&self) -> bool {
        self.status != "unavailable"
    }
}

/// Probes every component.
pub async fn readiness(
    store: &Store,
    app_configured: bool,
    advisories: &crate::audit::AdvisoryHealth,
) -> Readiness {
    let mut components = BTreeMap::new();
    let mut details = BTreeMap::new();
    let database_ok = match store.ping(DATABASE_PROBE_TIMEOUT).await {
        Ok(()) => true,
        Err(e) => {
            details.insert("database", e.to_string());
            false
        }
    };
    components.insert(
        "database",
        if database_ok { "healthy" } else { "unhealthy" },
    );
    components.insert(
        "github_app",
        if app_configured {
            "configured"
        } else {
            "setup"
        },
    );
    components.insert("advisory_db", advisories.status);
    if let Some(d) = &advisories.detail {
        details.insert("advisory_db", d.clone());
    }
    let status = if !database_ok {
        "unavailable"
    } else if !app_configured || advisories.status != "healthy" {
        "degraded"
    } else {
        "ok"
    };
    Readiness {
        status,
        components,
        details,
    }
}

/// Prometheus text for `/metrics`.
pub async fn render_metrics(store: &Store) -> String {
    if let Ok(counts) = store.job_counts().await {
        for state in STATES {
            let n = counts
                .iter()
                .find(|(s, _)| s == state)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            metrics::gauge!("upkeep_jobs", "state" => state).set(n as f64);
        }
    }
    crate::server::telemetry::metrics_handle().render()
}
