//! What upkeep reads from GitHub Actions: for benchmark ingestion, a run's artifacts and an
//! artifact's zip (whose redirect to storage the transport follows without credentials); a
//! commit's workflow runs (those that succeeded, and every one before a merge); and the comment
//! calls an edited-in-place PR comment needs.

use reqwest::Method;
use serde_json::{json, Value};

use super::repo::Repo;
use super::GitHubError;
use crate::webhook::events::WorkflowRun;

/// An artifact of a workflow run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactInfo {
    pub id: i64,
    pub name: String,
    pub size: u64,
    pub expired: bool,
}

impl Repo<'_> {
    /// The artifacts of workflow run `run_id` (the first 100).
    pub async fn run_artifacts(&self, run_id: i64) -> Result<Vec<ArtifactInfo>, GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!("/actions/runs/{run_id}/artifacts?per_page=100")))
            .await?;
        Ok(v["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| {
                Some(ArtifactInfo {
                    id: a["id"].as_i64()?,
                    name: a["name"].as_str()?.to_owned(),
                    size: a["size_in_bytes"].as_u64().unwrap_or(u64::MAX),
                    expired: a["expired"].as_bool().unwrap_or(false),
                })
            })
            .collect())
    }

    /// The newest unexpired artifact named `name` of run `run_id` (a re-run attempt uploads its
    /// own), if any.
    pub async fn newest_artifact(
        &self,
        run_id: i64,
        name: &str,
    ) -> Result<Option<ArtifactInfo>, GitHubError> {
        Ok(self
            .run_artifacts(run_id)
            .await?
            .into_iter()
            .filter(|a| a.name == name && !a.expired)
            .max_by_key(|a| a.id))
    }

    /// Successful workflow runs on commit `sha`, newest first (the first 20).
    pub async fn successful_runs(&self, sha: &str) -> Result<Vec<WorkflowRun>, GitHubError> {
        let mut runs = self.runs_on(sha, "&status=success&per_page=20").await?;
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(runs)
    }

    /// Workflow runs on commit `sha` (`query` adds filters and the page size). A workflow's run
    /// exists from the moment its event triggers it, before any of its jobs has a check run.
    pub async fn runs_on(&self, sha: &str, query: &str) -> Result<Vec<WorkflowRun>, GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!(
                "/actions/runs?head_sha={}{query}",
                super::names::query_value(sha)
            )))
            .await?;
        Ok(v["workflow_runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| serde_json::from_value::<WorkflowRun>(r.clone()).ok())
            .filter(|r| r.head_sha == sha)
            .collect())
    }

    /// An artifact's zip, refused when over `max` bytes.
    pub async fn download_artifact(&self, id: i64, max: u64) -> Result<Vec<u8>, GitHubError> {
        let path = self.path(&format!("/actions/artifacts/{id}/zip"));
        let r = self.client.send(Method::GET, &path, None).await?;
        if !r.status.is_success() {
            return Err(GitHubError::Status {
                status: r.status.as_u16(),
                method: "GET".into(),
                path,
                message: String::from_utf8_lossy(&r.body).chars().take(300).collect(),
            });
        }
        if r.body.len() as u64 > max {
            return Err(GitHubError::Status {
                status: r.status.as_u16(),
                method: "GET".into(),
                path,
                message: format!(
                    "the artifact is {} bytes, over the {max} byte limit",
                    r.body.len()
                ),
            });
        }
        Ok(r.body.to_vec())
    }

    /// The first comment on issue or PR `number` whose body contains `marker`: `(id, body)`.
    pub async fn find_comment(
        &self,
        number: u64,
        marker: &str,
    ) -> Result<Option<(i64, String)>, GitHubError> {
        let list: Vec<Value> = self
            .client
            .get(&self.path(&format!("/issues/{number}/comments?per_page=100")))
            .await?;
        Ok(list.iter().find_map(|c| {
            let body = c["body"].as_str()?;
            body.contains(marker)
                .then(|| Some((c["id"].as_i64()?, body.to_owned())))
                .flatten()
        }))
    }

    /// Replaces a comment's body.
    pub async fn update_comment(&self, id: i64, body: &str) -> Result<(), GitHubError> {
        self.client
            .json::<Value>(
                Method::PATCH,
                &self.path(&format!("/issues/comments/{id}")),
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(())
    }
}
