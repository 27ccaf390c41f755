//! What each installation has accepted, kept in the store: from `installation` events and
//! hourly from `GET /app/installations`. The features paused for an installation are read
//! from here by every driver that would otherwise fail on a 403 (the workflow-run intake, the
//! dependency pass), and shown on the status page by installation id. Driver.

use std::collections::BTreeMap;

use tracing::{info, warn};

use super::accepted::{self, Paused};
use super::finding::{Drift, DriftBoard};
use crate::github::{GitHubApp, GitHubError};
use crate::store::{Store, StoreError};

/// This check's name on the drift board.
pub const CHECK: &str = "installation_permissions";

/// The features paused for `installation` (none while its permissions are unknown, or when
/// the store cannot say: a pause must never come from a database hiccup).
pub async fn paused_for(store: &Store, installation: i64) -> Vec<Paused> {
    paused_with_note(store, installation).await.0
}

/// The features paused for `installation` and the dashboard's note about them (empty when
/// nothing is), from one read of the store.
pub async fn paused_with_note(store: &Store, installation: i64) -> (Vec<Paused>, Vec<String>) {
    match store.installation_permissions(installation).await {
        Ok(Some(a)) => {
            let paused = accepted::paused(&a.permissions);
            let url = accepted::accept_url(&a.account_login, &a.account_type, installation);
            let note = accepted::dashboard_lines(&paused, &url);
            (paused, note)
        }
        Ok(None) => (Vec::new(), Vec::new()),
        Err(e) => {
            warn!(installation, error = %e, "accepted permissions unreadable; nothing paused");
            (Vec::new(), Vec::new())
        }
    }
}

/// Records what an `installation` event says the installation has accepted.
pub async fn record(
    store: &Store,
    installation: i64,
    permissions: &BTreeMap<String, String>,
    now: i64,
) -> Result<(), StoreError> {
    if permissions.is_empty() {
        return Ok(());
    }
    store
        .set_installation_permissions(installation, permissions, now)
        .await?;
    let paused = accepted::paused(permissions);
    if paused.is_empty() {
        info!(installation, "every permission upkeep needs is accepted");
    } else {
        let features: Vec<&str> = paused.iter().map(|p| p.feature.name()).collect();
        warn!(installation, paused = ?features, "permissions not accepted; features paused there");
    }
    Ok(())
}

/// Reads every installation's accepted permissions, stores them, and puts the installations
/// with paused features on the board.
pub async fn check(
    app: &GitHubApp,
    store: &Store,
    board: &DriftBoard,
) -> Result<usize, GitHubError> {
    let now = crate::time::now_ms();
    let (listed, _) = crate::github::listings::app_installations(app).await?;
    let mut found: Vec<Drift> = Vec::new();
    for i in listed.iter().filter(|i| !i.permissions.is_empty()) {
        if let Err(e) = store
            .set_installation_permissions(i.id, &i.permissions, now)
            .await
        {
            warn!(installation = i.id, error = %e, "accepted permissions not stored");
        }
        found.extend(accepted::drift(i.id, &accepted::paused(&i.permissions)));
    }
    let n = found.len();
    board.set(CHECK, found);
    Ok(n)
}
