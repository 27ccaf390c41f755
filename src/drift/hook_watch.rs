//! Keeps the App's webhook pointed at upkeep: at start and then hourly, `GET /app/hook/config`
//! as the App, and when it drifted from what the public URL asks (`drift::hook`), one
//! `PATCH /app/hook/config` with the fields that differ, each logged (never the secret, which
//! is neither read nor sent). Without a public URL GitHub can reach, nothing is checked: the
//! delivery sweep brings events in then. A correction GitHub refuses stays on the status page
//! with what to change by hand. Driver.

use std::time::Duration;

use http::Method;
use serde_json::Value;
use tokio::sync::watch;
use tracing::{info, warn};

use super::finding::{Drift, DriftBoard};
use super::hook::{correction, Change, HookConfig};
use crate::github::app::{registered, SharedApp};
use crate::github::{GitHubApp, GitHubError};

/// This check's name on the drift board.
pub const CHECK: &str = "webhook_config";
const PATH: &str = "/app/hook/config";

/// What the check needs to know.
#[derive(Debug, Clone)]
pub struct HookWatch {
    pub public_url: Option<url::Url>,
    /// The App's settings page, for the fix when GitHub refuses the correction.
    pub settings_page: String,
    pub board: DriftBoard,
    /// Where each installation's accepted permissions are kept (`installations`).
    pub store: crate::store::Store,
}

impl HookWatch {
    /// Checks once; returns what it corrected.
    pub async fn check(&self, app: &GitHubApp) -> Result<Vec<Change>, GitHubError> {
        let Some(public) = self
            .public_url
            .as_ref()
            .filter(|u| crate::heal::reach::reachable(Some(u)))
        else {
            self.board.set(CHECK, Vec::new());
            return Ok(Vec::new());
        };
        let current: Value = app.app_request(Method::GET, PATH, None).await?.json(PATH)?;
        let Some((changes, body)) = correction(&HookConfig::from_json(&current), public) else {
            self.board.set(CHECK, Vec::new());
            return Ok(Vec::new());
        };
        match app.app_request(Method::PATCH, PATH, Some(&body)).await {
            Ok(_) => {
                for c in &changes {
                    info!(field = c.field, was = %c.was, now = %c.now, "the App's webhook had drifted; put back");
                }
                self.board.set(CHECK, Vec::new());
                Ok(changes)
            }
            Err(e) => {
                let found = changes
                    .iter()
                    .map(|c| Drift {
                        kind: CHECK.to_owned(),
                        detail: format!(
                            "the webhook's {} is {} instead of {}",
                            c.field, c.was, c.now
                        ),
                        fix: format!(
                            "set it to {} under \"Webhook\" on {}",
                            c.now, self.settings_page
                        ),
                    })
                    .collect();
                self.board.set(CHECK, found);
                Err(e)
            }
        }
    }
}

/// Checks the webhook, then the App's permissions and events (`app_watch`) and what each
/// installation accepted (`installations`), at start and then
/// every `every` (or at once when `now` is notified: an alert's corrective action) until
/// `shutdown`; waits for the App's credentials.
pub async fn run(
    watch: HookWatch,
    shared: SharedApp,
    every: Duration,
    now: std::sync::Arc<tokio::sync::Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if let Some(app) = registered(&shared) {
            if let Err(e) = watch.check(&app).await {
                warn!(error = %e, "checking the App's webhook configuration failed; trying again later");
            }
            let page = format!("{}/permissions", watch.settings_page);
            if let Err(e) = super::app_watch::check(&app, &page, &watch.board).await {
                warn!(error = %e, "checking the App's permissions failed; trying again later");
            }
            if let Err(e) = super::installations::check(&app, &watch.store, &watch.board).await {
                warn!(error = %e, "checking the installations' permissions failed; trying again later");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = now.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}
