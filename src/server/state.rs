//! The state every request and the first-run setup share: settings, the store, the App's
//! credentials once they exist, the delivery writer, the advisory database and the intake's
//! byte budget, and the adaptive worker limit the GitHub transport feeds.

use std::sync::{Arc, RwLock};

use tokio::sync::Notify;

use crate::github::{GitHubApp, GitHubError, RetryPolicy, Transport};
use crate::heal::dependencies::Dependencies;
use crate::heal::workers::WorkerLimit;
use crate::server::settings::{AppCredentials, Settings};
use crate::store::Store;
use crate::webhook;

/// State shared by every request.
pub struct AppState {
    pub settings: Settings,
    pub store: Store,
    /// `None` until the App is registered (first-run setup); then set once.
    pub credentials: RwLock<Option<Arc<AppCredentials>>>,
    pub github: crate::github::app::SharedApp,
    /// Wakes idle workers when a job is enqueued.
    pub wake: Arc<Notify>,
    pub setup: super::setup_states::SetupStates,
    /// Stores deliveries in batches (group commit).
    pub deliveries: webhook::writer::DeliveryWriter,
    /// The RustSec database: a local copy, or fetched and refreshed hourly.
    pub advisories: Arc<crate::audit::Advisories>,
    /// The bytes of webhook bodies held at once before their signature is known.
    pub intake_budget: webhook::body::Budget,
    /// How many jobs may run at once, moved by GitHub's answers.
    pub worker_limit: Arc<WorkerLimit>,
    /// The breakers of every dependency but GitHub (whose are in its transport).
    pub dependencies: Dependencies,
    /// When this process started (ms since the epoch).
    pub started_at_ms: i64,
    /// What the drift checks last found (the App's webhook, its permissions).
    pub drift: crate::drift::finding::DriftBoard,
    /// Settings a reloaded configuration changes while the server runs.
    pub live: Arc<super::live::Live>,
}

/// The advisory database the settings ask for: `UPKEEP_ADVISORY_DB` as it is, else copies
/// fetched from `UPKEEP_ADVISORY_DB_URL` into the data directory.
fn advisories_for(settings: &Settings) -> crate::audit::Advisories {
    if let Some(dir) = &settings.advisory_db {
        match crate::audit::AdvisoryDb::open(dir) {
            Ok(db) => return crate::audit::Advisories::local(db),
            Err(e) => tracing::warn!(error = %e, "UPKEEP_ADVISORY_DB does not open"),
        }
    }
    crate::audit::Advisories::remote(crate::audit::AdvisorySource::new(
        &settings.advisory_db_url,
        &settings.data_dir,
    ))
}

impl AppState {
    pub fn new(
        settings: Settings,
        store: Store,
        worker_limit: Arc<WorkerLimit>,
        dependencies: Dependencies,
    ) -> Result<Arc<Self>, GitHubError> {
        let state = Arc::new(AppState {
            worker_limit,
            credentials: RwLock::new(None),
            github: Arc::new(RwLock::new(None)),
            wake: Arc::new(Notify::new()),
            setup: Default::default(),
            deliveries: webhook::writer::DeliveryWriter::start(
                store.for_intake(),
                webhook::DELIVERY_JOB,
                Arc::clone(&dependencies.database),
            ),
            dependencies,
            started_at_ms: crate::time::now_ms(),
            drift: Default::default(),
            live: super::live::Live::with(
                settings
                    .advisory_refresh
                    .unwrap_or(std::time::Duration::from_secs(3600)),
                settings
                    .bench_retention_days
                    .unwrap_or_else(super::live::default_bench_retention_days),
                settings.daily_window,
                crate::alerts::escalate::Routes {
                    ops_repo: settings.ops_repo.clone(),
                    webhook: settings.alert_webhook.clone(),
                },
            ),
            store,
            advisories: Arc::new(advisories_for(&settings)),
            intake_budget: webhook::body::Budget::new(webhook::body::DEFAULT_BUDGET),
            settings: settings.clone(),
        });
        if let Some(creds) = settings.app {
            state.install_credentials(creds)?;
        }
        Ok(state)
    }

    /// Starts using App credentials (at start-up, or when the setup flow returns them).
    pub fn install_credentials(&self, creds: AppCredentials) -> Result<(), GitHubError> {
        let transport = Transport::new(&self.settings.github_api_url, RetryPolicy::default())?
            .with_limit(Arc::clone(&self.worker_limit));
        let github = GitHubApp::with_transport(creds.app_id, &creds.private_key, transport)?
            .with_key_file(creds.private_key_path.clone());
        if let Ok(mut g) = self.github.write() {
            *g = Some(Arc::new(github));
        }
        if let Ok(mut c) = self.credentials.write() {
            *c = Some(Arc::new(creds));
        }
        Ok(())
    }

    /// New credentials for the same App (a reloaded webhook secret): the GitHub client, its
    /// breakers and token cache stay.
    pub fn replace_credentials(&self, creds: AppCredentials) {
        if let Ok(mut c) = self.credentials.write() {
            *c = Some(Arc::new(creds));
        }
    }

    pub fn credentials(&self) -> Option<Arc<AppCredentials>> {
        self.credentials.read().ok().and_then(|c| c.clone())
    }
}
