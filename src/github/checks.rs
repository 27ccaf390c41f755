//! Check runs on a repository's commits: creating them (in progress, or completed with a
//! conclusion, a Markdown summary and annotations), finding and completing one created earlier
//! by its `external_id`, and reading a commit's check runs back.

use http::Method;
use serde_json::{json, Value};

use super::repo::Repo;
use super::GitHubError;

/// A check run to create.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub name: String,
    pub head_sha: String,
    /// `success`, `failure`, `neutral`, …; `None` for a check that is not done yet (created
    /// `in_progress`; a later run of the same name on the commit supersedes it).
    pub conclusion: Option<String>,
    pub title: String,
    pub summary: String,
    /// `(path, line, level, message)`; level is `notice`, `warning` or `failure`.
    pub annotations: Vec<(String, usize, String, String)>,
}

/// A check run's outcome on a commit.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub id: u64,
    pub name: String,
    /// What the creating app tagged it with, if anything.
    pub external_id: Option<String>,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
}

impl Repo<'_> {
    pub async fn create_check_run(&self, run: &CheckRun) -> Result<(), GitHubError> {
        self.post_check_run(run, None).await
    }

    /// Creates `run` tagged with `external_id` (GitHub keeps it on the check run), so that
    /// [`Repo::finish_open_check_run`] can find it again.
    pub async fn create_check_run_for(
        &self,
        run: &CheckRun,
        external_id: &str,
    ) -> Result<(), GitHubError> {
        self.post_check_run(run, Some(external_id)).await
    }

    /// Completes the check runs named `run.name` on `run.head_sha` that were created with
    /// `external_id` and are not completed yet (one, unless a retried job made two), with
    /// `run`'s conclusion and output: one check run on the commit, not a stale in-progress one
    /// under a new one. `false` when there is none.
    pub async fn finish_open_check_run(
        &self,
        run: &CheckRun,
        external_id: &str,
    ) -> Result<bool, GitHubError> {
        let open: Vec<RunResult> = self
            .check_runs(&run.head_sha)
            .await?
            .into_iter()
            .filter(|r| {
                r.name == run.name
                    && r.status != "completed"
                    && r.external_id.as_deref() == Some(external_id)
            })
            .collect();
        let mut body = check_run_body(run);
        if let Some(map) = body.as_object_mut() {
            // The update endpoint takes no head_sha: the check run keeps its commit.
            map.remove("head_sha");
        }
        for r in &open {
            self.client
                .json::<Value>(
                    Method::PATCH,
                    &self.path(&format!("/check-runs/{}", r.id)),
                    Some(&body),
                )
                .await?;
        }
        Ok(!open.is_empty())
    }

    async fn post_check_run(
        &self,
        run: &CheckRun,
        external_id: Option<&str>,
    ) -> Result<(), GitHubError> {
        let mut body = check_run_body(run);
        if let Some(id) = external_id {
            body["external_id"] = json!(id);
        }
        self.client
            .json::<Value>(Method::POST, &self.path("/check-runs"), Some(&body))
            .await?;
        Ok(())
    }

    /// Everything CI reported on commit `sha`, as check runs: its check runs; its commit
    /// statuses (the latest per context: `pending` in progress, `failure` and `error` failed),
    /// so CI that reports statuses (Jenkins, older integrations) holds a merge back too; and its
    /// workflow runs that have not finished, as in progress, since a triggered workflow has a
    /// run before its jobs have check runs. An installation that has not yet accepted the
    /// `statuses` permission (asked for after it installed) answers 403 there: then statuses
    /// are left out, with a warning, rather than no merge at all.
    pub async fn ci_results(&self, sha: &str) -> Result<Vec<RunResult>, GitHubError> {
        let mut results = self.check_runs(sha).await?;
        results.extend(self.statuses(sha).await?);
        results.extend(
            self.runs_on(sha, "&per_page=100")
                .await?
                .into_iter()
                .filter(|r| r.status.as_deref() != Some("completed"))
                .map(|r| RunResult {
                    id: r.id.unsigned_abs(),
                    name: r.name.unwrap_or_default(),
                    external_id: None,
                    status: r.status.unwrap_or_else(|| "queued".to_owned()),
                    conclusion: None,
                    html_url: r.html_url,
                }),
        );
        Ok(results)
    }

    /// A commit's statuses as check runs (none when the permission is not granted yet).
    async fn statuses(&self, sha: &str) -> Result<Vec<RunResult>, GitHubError> {
        let path = self.path(&format!(
            "/commits/{}/status?per_page=100",
            super::names::segment(sha)
        ));
        let v: Value = match self.client.get(&path).await {
            Ok(v) => v,
            Err(GitHubError::Status { status: 403, .. }) => {
                tracing::warn!(
                    repo = self.full_name(),
                    "commit statuses not readable (the statuses permission is not accepted yet): only check runs count"
                );
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        Ok(v["statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let state = s["state"].as_str().unwrap_or_default();
                let done = state != "pending";
                RunResult {
                    id: s["id"].as_u64().unwrap_or_default(),
                    name: s["context"].as_str().unwrap_or_default().to_owned(),
                    external_id: None,
                    status: if done { "completed" } else { "in_progress" }.to_owned(),
                    conclusion: done.then(|| {
                        if state == "success" {
                            "success"
                        } else {
                            "failure"
                        }
                        .to_owned()
                    }),
                    html_url: s["target_url"]
                        .as_str()
                        .filter(|u| !u.is_empty())
                        .map(str::to_owned),
                }
            })
            .collect())
    }

    /// The check runs on a commit (the first 100).
    pub async fn check_runs(&self, sha: &str) -> Result<Vec<RunResult>, GitHubError> {
        let v: Value = self
            .client
            .get(&self.path(&format!(
                "/commits/{}/check-runs?per_page=100",
                super::names::segment(sha)
            )))
            .await?;
        Ok(v["check_runs"]
            .as_array()
            .map(|runs| {
                runs.iter()
                    .map(|r| RunResult {
                        id: r["id"].as_u64().unwrap_or_default(),
                        name: r["name"].as_str().unwrap_or_default().to_owned(),
                        external_id: r["external_id"]
                            .as_str()
                            .filter(|e| !e.is_empty())
                            .map(str::to_owned),
                        status: r["status"].as_str().unwrap_or_default().to_owned(),
                        conclusion: r["conclusion"].as_str().map(str::to_owned),
                        html_url: r["html_url"]
                            .as_str()
                            .filter(|u| !u.is_empty())
                            .map(str::to_owned),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// The create (and, without `head_sha`, update) body of a check run: in progress while
/// `conclusion` is `None`, completed with it otherwise; at most 50 annotations (GitHub's limit
/// per request).
fn check_run_body(run: &CheckRun) -> Value {
    let annotations: Vec<Value> = run
        .annotations
        .iter()
        .take(50)
        .map(|(path, line, level, message)| {
            json!({
                "path": path, "start_line": line, "end_line": line,
                "annotation_level": level, "message": message,
            })
        })
        .collect();
    let mut body = json!({
        "name": run.name,
        "head_sha": run.head_sha,
        "status": "in_progress",
        "output": {"title": run.title, "summary": run.summary, "annotations": annotations},
    });
    if let Some(conclusion) = &run.conclusion {
        body["status"] = json!("completed");
        body["conclusion"] = json!(conclusion);
    }
    body
}
