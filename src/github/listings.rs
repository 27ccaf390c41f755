//! What reconciling reads from GitHub: the App's installations, an installation's repositories,
//! and the default branch's latest results. Runs and suites come back as GitHub's own JSON so
//! they can take the exact path their webhook events take.

use http::Method;
use serde::Deserialize;
use serde_json::Value;

use super::repo::Repo;
use super::{GitHubApp, GitHubError, InstallationClient};

/// Pages read at most per list (100 entries each).
const MAX_PAGES: u32 = 30;

/// An installation as `GET /app/installations` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct AppInstallation {
    pub id: i64,
    pub account: Option<InstallationAccount>,
    #[serde(default)]
    pub suspended_at: Option<String>,
    /// What the installation has accepted (name → `read`/`write`/`admin`).
    #[serde(default)]
    pub permissions: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationAccount {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// Every installation of the App (the JWT's view), and whether the list was read to its end.
pub async fn app_installations(
    app: &GitHubApp,
) -> Result<(Vec<AppInstallation>, bool), GitHubError> {
    let mut all = Vec::new();
    for page in 1..=MAX_PAGES {
        let path = format!("/app/installations?per_page=100&page={page}");
        let list: Vec<AppInstallation> = app
            .app_request(Method::GET, &path, None)
            .await?
            .json("/app/installations")?;
        let last = list.len() < 100;
        all.extend(list);
        if last {
            return Ok((all, true));
        }
    }
    Ok((all, false))
}

/// A repository as `GET /installation/repositories` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedRepository {
    pub id: i64,
    pub full_name: String,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub private: bool,
}

/// Every repository the installation grants, and whether the list was read to its end.
pub async fn installation_repositories(
    client: &InstallationClient,
) -> Result<(Vec<ListedRepository>, bool), GitHubError> {
    #[derive(Deserialize)]
    struct Page {
        total_count: usize,
        repositories: Vec<ListedRepository>,
    }
    let mut all: Vec<ListedRepository> = Vec::new();
    for page in 1..=MAX_PAGES {
        let p: Page = client
            .get(&format!(
                "/installation/repositories?per_page=100&page={page}"
            ))
            .await?;
        let empty = p.repositories.is_empty();
        all.extend(p.repositories);
        if empty || all.len() >= p.total_count {
            return Ok((all, true));
        }
    }
    Ok((all, false))
}

impl Repo<'_> {
    /// The latest completed push runs on `branch` (the first 100, newest first), as GitHub
    /// lists them.
    pub async fn finished_push_runs(&self, branch: &str) -> Result<Vec<Value>, GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!(
                "/actions/runs?branch={}&event=push&status=completed&per_page=100",
                super::names::query_value(branch)
            )))
            .await?;
        Ok(v["workflow_runs"].as_array().cloned().unwrap_or_default())
    }

    /// The check suites on commit `sha` (the first 100), as GitHub lists them.
    pub async fn suites_on(&self, sha: &str) -> Result<Vec<Value>, GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!(
                "/commits/{}/check-suites?per_page=100",
                super::names::ref_path(sha)
            )))
            .await?;
        Ok(v["check_suites"].as_array().cloned().unwrap_or_default())
    }
}
