//! The calls auto-revert needs: a commit's message, parents, tree and date; the pull request a
//! commit merged; the default branch's workflow runs; re-running a run's failed jobs; dispatching
//! a workflow on a branch (bisection); creating commits and merging one into a branch (the
//! merges endpoint, whose 409 is a conflict); and who applied a label to an issue (the kill
//! switch counts only when a writer applied it).

use reqwest::Method;
use serde_json::{json, Value};

use super::repo::Repo;
use super::GitHubError;

/// A commit, as the Git Data API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub sha: String,
    pub message: String,
    pub parents: Vec<String>,
    pub tree: String,
    /// The committer's date (epoch ms).
    pub committed_at_ms: i64,
}

/// A merged pull request associated with a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPull {
    pub number: u64,
    pub title: String,
    pub author: String,
    pub labels: Vec<String>,
    pub merge_commit_sha: Option<String>,
    pub merged: bool,
    /// The branch it was merged into.
    pub base_ref: String,
}

/// A workflow run, as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub id: i64,
    pub workflow_id: i64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: String,
}

/// What merging a commit into a branch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The merge commit and its tree.
    Merged { sha: String, tree: String },
    /// The branch already contains it.
    Nothing,
    /// The changes conflict.
    Conflict,
}

fn status_error(r: &super::client::Response, method: &str, path: String) -> GitHubError {
    GitHubError::Status {
        status: r.status.as_u16(),
        method: method.into(),
        path,
        message: String::from_utf8_lossy(&r.body).chars().take(300).collect(),
    }
}

impl Repo<'_> {
    /// POSTs an "again" request (re-run, re-request); 403 means it is running again already
    /// (a retried job asked twice), which is what was wanted.
    async fn post_again(&self, path: String) -> Result<(), GitHubError> {
        let r = self
            .client
            .send(Method::POST, &path, Some(&json!({})))
            .await?;
        if r.status.is_success() || r.status.as_u16() == 403 {
            Ok(())
        } else {
            Err(status_error(&r, "POST", path))
        }
    }
}

fn labels(v: &Value) -> Vec<String> {
    v["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["name"].as_str().map(str::to_owned))
        .collect()
}

impl Repo<'_> {
    pub async fn commit(&self, sha: &str) -> Result<CommitInfo, GitHubError> {
        let c: Value = self
            .client
            .get(&self.path(&format!("/git/commits/{}", super::names::segment(sha))))
            .await?;
        let date = c["committer"]["date"].as_str().unwrap_or_default();
        Ok(CommitInfo {
            sha: c["sha"].as_str().unwrap_or(sha).to_owned(),
            message: c["message"].as_str().unwrap_or_default().to_owned(),
            parents: c["parents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["sha"].as_str().map(str::to_owned))
                .collect(),
            tree: c["tree"]["sha"].as_str().unwrap_or_default().to_owned(),
            committed_at_ms: chrono::DateTime::parse_from_rfc3339(date)
                .map(|d| d.timestamp_millis())
                .unwrap_or(0),
        })
    }

    /// The merged pull request whose merge is `sha`, if any.
    pub async fn merged_pull_of(&self, sha: &str) -> Result<Option<MergedPull>, GitHubError> {
        let list: Vec<Value> = self
            .client
            .get(&self.path(&format!("/commits/{}/pulls", super::names::segment(sha))))
            .await?;
        Ok(list
            .iter()
            .filter_map(pull_of)
            .find(|p| p.merged && p.merge_commit_sha.as_deref() == Some(sha)))
    }

    /// A pull request by number, as auto-revert needs it.
    pub async fn pull_for_revert(&self, number: u64) -> Result<Option<MergedPull>, GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!("/pulls/{number}")))
            .await?;
        Ok(pull_of(&v))
    }

    /// Completed runs of workflow `workflow_id` on `branch` triggered by `event`, newest first
    /// (the first 100).
    pub async fn completed_runs(
        &self,
        workflow_id: i64,
        branch: &str,
        event: &str,
    ) -> Result<Vec<RunInfo>, GitHubError> {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let v: Value = self
            .client
            .get(&self.path(&format!(
                "/actions/workflows/{workflow_id}/runs?branch={}&event={}&status=completed&per_page=100",
                enc(branch),
                enc(event)
            )))
            .await?;
        let mut runs: Vec<RunInfo> = v["workflow_runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                Some(RunInfo {
                    id: r["id"].as_i64()?,
                    workflow_id: r["workflow_id"].as_i64()?,
                    name: r["name"].as_str().unwrap_or_default().to_owned(),
                    head_sha: r["head_sha"].as_str()?.to_owned(),
                    status: r["status"].as_str().unwrap_or_default().to_owned(),
                    conclusion: r["conclusion"].as_str().map(str::to_owned),
                    html_url: r["html_url"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(runs)
    }

    /// Runs every job of a workflow run again (a new attempt of the same run).
    pub async fn rerun_workflow(&self, run_id: i64) -> Result<(), GitHubError> {
        self.post_again(self.path(&format!("/actions/runs/{run_id}/rerun")))
            .await
    }

    pub async fn rerun_failed_jobs(&self, run_id: i64) -> Result<(), GitHubError> {
        self.post_again(self.path(&format!("/actions/runs/{run_id}/rerun-failed-jobs")))
            .await
    }

    /// Runs workflow `workflow_id` on `branch`; `false` when GitHub refuses (the workflow has
    /// no `workflow_dispatch` trigger, or the branch is gone).
    pub async fn dispatch_workflow(
        &self,
        workflow_id: i64,
        branch: &str,
    ) -> Result<bool, GitHubError> {
        let path = self.path(&format!("/actions/workflows/{workflow_id}/dispatches"));
        let r = self
            .client
            .send(Method::POST, &path, Some(&json!({ "ref": branch })))
            .await?;
        match r.status.as_u16() {
            200..=299 => Ok(true),
            404 | 422 => Ok(false),
            _ => Err(status_error(&r, "POST", path)),
        }
    }

    pub async fn create_commit(
        &self,
        tree: &str,
        parents: &[&str],
        message: &str,
    ) -> Result<String, GitHubError> {
        let c: Value = self
            .client
            .json(
                Method::POST,
                &self.path("/git/commits"),
                Some(&json!({ "message": message, "tree": tree, "parents": parents })),
            )
            .await?;
        Ok(c["sha"].as_str().unwrap_or_default().to_owned())
    }

    /// Merges commit `head` into branch `base` (the merges endpoint).
    pub async fn merge_into(
        &self,
        base: &str,
        head: &str,
        message: &str,
    ) -> Result<MergeOutcome, GitHubError> {
        let path = self.path("/merges");
        let r = self
            .client
            .send(
                Method::POST,
                &path,
                Some(&json!({ "base": base, "head": head, "commit_message": message })),
            )
            .await?;
        match r.status.as_u16() {
            201 => {
                let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
                Ok(MergeOutcome::Merged {
                    sha: v["sha"].as_str().unwrap_or_default().to_owned(),
                    tree: v["commit"]["tree"]["sha"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                })
            }
            204 => Ok(MergeOutcome::Nothing),
            409 => Ok(MergeOutcome::Conflict),
            _ => Err(status_error(&r, "POST", path)),
        }
    }

    /// Open issues carrying `label`.
    pub async fn open_issues_labelled(&self, label: &str) -> Result<Vec<u64>, GitHubError> {
        let enc: String = url::form_urlencoded::byte_serialize(label.as_bytes()).collect();
        let list: Vec<Value> = self
            .client
            .get(&self.path(&format!("/issues?state=open&labels={enc}&per_page=100")))
            .await?;
        Ok(list
            .iter()
            .filter(|i| labels(i).iter().any(|l| l == label))
            .filter_map(|i| i["number"].as_u64())
            .collect())
    }

    /// Who last applied `label` to issue `number`.
    pub async fn label_applied_by(
        &self,
        number: u64,
        label: &str,
    ) -> Result<Option<String>, GitHubError> {
        // Oldest first: every page up to 1,000 events, so the latest label is seen.
        let mut events: Vec<Value> = Vec::new();
        for page in 1..=10 {
            let batch: Vec<Value> = self
                .client
                .get(&self.path(&format!("/issues/{number}/events?per_page=100&page={page}")))
                .await?;
            let full = batch.len() == 100;
            events.extend(batch);
            if !full {
                break;
            }
        }
        Ok(events
            .iter()
            .rev()
            .find(|e| e["event"] == "labeled" && e["label"]["name"] == label)
            .and_then(|e| e["actor"]["login"].as_str().map(str::to_owned)))
    }
}

fn pull_of(v: &Value) -> Option<MergedPull> {
    Some(MergedPull {
        number: v["number"].as_u64()?,
        title: v["title"].as_str().unwrap_or_default().to_owned(),
        author: v["user"]["login"].as_str().unwrap_or_default().to_owned(),
        labels: labels(v),
        merge_commit_sha: v["merge_commit_sha"].as_str().map(str::to_owned),
        merged: v["merged_at"].is_string() || v["merged"].as_bool().unwrap_or(false),
        base_ref: v["base"]["ref"].as_str().unwrap_or_default().to_owned(),
    })
}

impl Repo<'_> {
    /// Asks GitHub to run a check suite again (the CI app that owns it gets `rerequested`).
    pub async fn rerequest_suite(&self, suite_id: i64) -> Result<(), GitHubError> {
        self.post_again(self.path(&format!("/check-suites/{suite_id}/rerequest")))
            .await
    }

    /// The conclusion of app `app_id`'s newest completed check suite on commit `sha`.
    pub async fn suite_conclusion(
        &self,
        sha: &str,
        app_id: i64,
    ) -> Result<Option<String>, GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!(
                "/commits/{sha}/check-suites?app_id={app_id}&per_page=100"
            )))
            .await?;
        Ok(v["check_suites"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["status"] == "completed")
            .max_by_key(|s| s["id"].as_i64().unwrap_or(0))
            .and_then(|s| s["conclusion"].as_str().map(str::to_owned)))
    }
}
