//! Calling a person when upkeep cannot fix it: an alert still open after its grace period
//! opens one issue in `UPKEEP_OPS_REPO` (found again by its marker, so a restart or a second
//! round never opens another), and the issue closes itself with a comment when the signal
//! recovers. `UPKEEP_ALERT_WEBHOOK` receives each open and close as JSON with a
//! Slack-compatible `text`. Without either, alerts stay on `/status` and in the log. Driver.

use std::collections::BTreeSet;
use std::time::Duration;

use tracing::{info, warn};

use super::notice;
use super::open_alert::OpenAlert;
use super::signal::Signal;
use super::Event;
use crate::github::app::{registered, SharedApp};
use crate::github::repo::Repo;
use crate::github::GitHubError;
use crate::store::Store;

/// Where alerts go besides `/status`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Routes {
    /// `owner/name`, a repository the App is installed on.
    pub ops_repo: Option<String>,
    pub webhook: Option<url::Url>,
}

/// Where alerts go now: read at every event and every round, so a reloaded `UPKEEP_CONFIG`
/// applies to the next one.
pub type RoutesNow = std::sync::Arc<dyn Fn() -> Routes + Send + Sync>;

/// Escalation's state: the signals whose ops issue is open (as far as this process knows).
pub struct Escalation {
    pub routes: RoutesNow,
    /// Where upkeep serves the alert charts the ops issue links (`UPKEEP_PUBLIC_URL`).
    pub public_url: Option<url::Url>,
    pub store: Store,
    pub github: SharedApp,
    escalated: BTreeSet<Signal>,
    http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum EscalateError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0} is not a repository upkeep is installed on")]
    NotInstalled(String),
}

impl Escalation {
    pub fn new(
        routes: RoutesNow,
        public_url: Option<url::Url>,
        store: Store,
        github: SharedApp,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Escalation {
            routes,
            public_url,
            store,
            github,
            escalated: BTreeSet::new(),
            http,
        }
    }

    /// An event: to the webhook; a close also closes the ops issue.
    pub async fn on_event(&mut self, e: &Event) {
        let routes = (self.routes)();
        if let Some(url) = &routes.webhook {
            let body = serde_json::json!({
                "text": notice::webhook_text(e.signal, e.event, e.value, e.threshold),
                "signal": e.signal.name(),
                "event": e.event,
                "value": e.value,
                "threshold": e.threshold,
                "t": e.t.to_rfc3339(),
            });
            match self.http.post(url.clone()).json(&body).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => warn!(
                    status = r.status().as_u16(),
                    "the alert webhook refused the event"
                ),
                Err(e) => warn!(error = %e.without_url(), "the alert webhook could not be reached"),
            }
        }
        if let (true, Some(ops_repo)) = (e.event == "close", &routes.ops_repo) {
            let at = e.t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            match self.close_issue(ops_repo, e.signal, &at, e.value).await {
                Ok(()) => {
                    self.escalated.remove(&e.signal);
                }
                Err(err) => {
                    warn!(signal = e.signal.name(), error = %err, "closing the ops issue failed; tried again at the next close")
                }
            }
        }
    }

    /// Opens the ops issue of each alert open longer than its grace period (once).
    pub async fn tick(&mut self, open: &[OpenAlert], now_ms: i64) {
        let Some(ops_repo) = (self.routes)().ops_repo else {
            return;
        };
        for a in open {
            let Some(signal) = Signal::from_name(&a.signal) else {
                continue;
            };
            let open_for = Duration::from_millis((now_ms - a.since_ms).max(0) as u64);
            if self.escalated.contains(&signal) || open_for < notice::grace(signal) {
                continue;
            }
            match self.open_issue(&ops_repo, signal, a, open_for).await {
                Ok(number) => {
                    info!(
                        signal = signal.name(),
                        issue = number,
                        "alert not recovered within its grace period: ops issue open"
                    );
                    self.escalated.insert(signal);
                }
                Err(e) => {
                    warn!(signal = signal.name(), error = %e, "opening the ops issue failed; tried again next minute")
                }
            }
        }
    }

    async fn ops_repo(
        &self,
        name: &str,
    ) -> Result<Option<(crate::github::InstallationClient, String)>, EscalateError> {
        ops_client(&self.store, &self.github, name).await
    }

    /// Find-or-create by marker.
    async fn open_issue(
        &self,
        ops_repo: &str,
        signal: Signal,
        a: &OpenAlert,
        open_for: Duration,
    ) -> Result<u64, EscalateError> {
        let Some((client, name)) = self.ops_repo(ops_repo).await? else {
            return Ok(0);
        };
        let repo = Repo::new(&client, &name);
        let marker = notice::marker(signal);
        if let Some(i) = repo
            .open_issues()
            .await?
            .iter()
            .find(|i| i.body.contains(&marker))
        {
            return Ok(i.number);
        }
        let since = chrono::DateTime::from_timestamp_millis(a.since_ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        let now = crate::time::now_ms();
        let hours_ago = now - super::chart::HOURS * 3_600_000;
        let values: Vec<f64> = self
            .store
            .samples_between(signal.name(), hours_ago, now + 1)
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let chart = notice::chart_lines(signal, &values, self.public_url.as_ref(), now);
        let body = notice::body(signal, &since, a.value, a.threshold, open_for, &chart);
        Ok(repo
            .create_issue(&notice::title(signal), &body, &[])
            .await?)
    }

    async fn close_issue(
        &self,
        ops_repo: &str,
        signal: Signal,
        at: &str,
        value: f64,
    ) -> Result<(), EscalateError> {
        let Some((client, name)) = self.ops_repo(ops_repo).await? else {
            return Ok(());
        };
        let repo = Repo::new(&client, &name);
        let marker = notice::marker(signal);
        for i in repo
            .open_issues()
            .await?
            .iter()
            .filter(|i| i.body.contains(&marker))
        {
            repo.comment(i.number, &notice::recovered(signal, at, value))
                .await?;
            repo.close_issue(i.number).await?;
        }
        Ok(())
    }
}

/// A client for the ops repository `name` (`owner/name`), through the installation that holds
/// it; `None` before the App is registered.
pub async fn ops_client(
    store: &Store,
    github: &SharedApp,
    name: &str,
) -> Result<Option<(crate::github::InstallationClient, String)>, EscalateError> {
    let Some(app) = registered(github) else {
        return Ok(None);
    };
    let repo = store
        .active_repositories()
        .await?
        .into_iter()
        .find(|r| r.full_name.eq_ignore_ascii_case(name))
        .ok_or_else(|| EscalateError::NotInstalled(name.to_owned()))?;
    Ok(Some((
        app.installation(repo.installation_id),
        repo.full_name,
    )))
}
