//! One repository's REST operations, typed: what the dependency pass reads (repository, branch
//! head, recursive tree, blobs, open pull requests) and writes through the Git Data API (blobs,
//! tree, commit, ref: no clone, and GitHub signs commits the App makes this way), plus pull
//! requests, labels, assignees, comments and issues (check runs are in `checks`). Only the
//! fields upkeep uses are read.

use base64::Engine as _;
use http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{GitHubError, InstallationClient};

/// What upkeep needs to know about a repository.
#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    #[serde(default)]
    pub id: i64,
    pub full_name: String,
    pub default_branch: String,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub html_url: String,
}

/// A file in a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub sha: String,
}

/// A commit's files.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The root tree's id (the base for a new commit's tree).
    pub tree: String,
    pub files: Vec<TreeFile>,
    pub truncated: bool,
}

/// An open pull request, as a list shows it.
#[derive(Debug, Clone)]
pub struct PullSummary {
    pub number: u64,
    pub title: String,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub base_sha: String,
    pub user: String,
    pub body: String,
}

/// A new or changed file to commit.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub path: String,
    pub content: String,
}

/// Operations on one repository as one installation.
pub struct Repo<'a> {
    pub(super) client: &'a InstallationClient,
    pub(super) full_name: &'a str,
}

impl<'a> Repo<'a> {
    pub fn new(client: &'a InstallationClient, full_name: &'a str) -> Self {
        Repo { client, full_name }
    }

    /// `owner/name`.
    pub fn full_name(&self) -> &'a str {
        self.full_name
    }

    /// `/repos/{owner}/{name}{rest}`, owner and name encoded (`names::repo_path`).
    pub(super) fn path(&self, rest: &str) -> String {
        super::names::repo_path(self.full_name, rest)
    }

    pub async fn info(&self) -> Result<RepoInfo, GitHubError> {
        self.client.get(&self.path("")).await
    }

    /// The commit a branch points at.
    pub async fn branch_head(&self, branch: &str) -> Result<String, GitHubError> {
        #[derive(Deserialize)]
        struct Ref {
            object: Obj,
        }
        #[derive(Deserialize)]
        struct Obj {
            sha: String,
        }
        let r: Ref = self
            .client
            .get(&self.path(&format!(
                "/git/ref/heads/{}",
                super::names::ref_path(branch)
            )))
            .await?;
        Ok(r.object.sha)
    }

    /// Every file (blob) under a commit, recursively, with the root tree's id; `truncated`
    /// when GitHub cut the list.
    pub async fn files(&self, commit: &str) -> Result<Listing, GitHubError> {
        #[derive(Deserialize)]
        struct Tree {
            sha: String,
            tree: Vec<Entry>,
            #[serde(default)]
            truncated: bool,
        }
        #[derive(Deserialize)]
        struct Entry {
            path: String,
            #[serde(rename = "type")]
            kind: String,
            sha: String,
        }
        let t: Tree = self
            .client
            .get(&self.path(&format!(
                "/git/trees/{}?recursive=1",
                super::names::segment(commit)
            )))
            .await?;
        let files = t
            .tree
            .into_iter()
            .filter(|e| e.kind == "blob")
            .map(|e| TreeFile {
                path: e.path,
                sha: e.sha,
            })
            .collect();
        Ok(Listing {
            tree: t.sha,
            files,
            truncated: t.truncated,
        })
    }

    /// A blob's text (GitHub sends it base64-encoded).
    pub async fn blob(&self, sha: &str) -> Result<String, GitHubError> {
        #[derive(Deserialize)]
        struct Blob {
            content: String,
            #[serde(default)]
            encoding: String,
        }
        let path = self.path(&format!("/git/blobs/{}", super::names::segment(sha)));
        let b: Blob = self.client.get(&path).await?;
        let bytes = if b.encoding == "base64" {
            let compact: String = b.content.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| GitHubError::Decode {
                    path: path.clone(),
                    message: e.to_string(),
                })?
        } else {
            b.content.into_bytes()
        };
        String::from_utf8(bytes).map_err(|e| GitHubError::Decode {
            path,
            message: e.to_string(),
        })
    }

    /// Open pull requests (the first 100, newest first).
    pub async fn open_pulls(&self) -> Result<Vec<PullSummary>, GitHubError> {
        let list: Vec<Value> = self
            .client
            .get(&self.path("/pulls?state=open&per_page=100"))
            .await?;
        Ok(list.iter().filter_map(summary).collect())
    }

    /// Whether GitHub can merge the PR cleanly (`None` while it is still computing).
    pub async fn mergeable(&self, number: u64) -> Result<Option<bool>, GitHubError> {
        let pr: Value = self
            .client
            .get(&self.path(&format!("/pulls/{number}")))
            .await?;
        Ok(pr["mergeable"].as_bool())
    }

    /// Commits `files` on top of `parent` (whose tree is `base_tree`) and returns the commit.
    pub async fn commit_files(
        &self,
        parent: &str,
        base_tree: &str,
        files: &[NewFile],
        message: &str,
    ) -> Result<String, GitHubError> {
        let mut entries = Vec::new();
        for f in files {
            let blob: Value = self
                .client
                .json(
                    Method::POST,
                    &self.path("/git/blobs"),
                    Some(&json!({"content": f.content, "encoding": "utf-8"})),
                )
                .await?;
            entries.push(json!({
                "path": f.path, "mode": "100644", "type": "blob",
                "sha": blob["sha"].as_str().unwrap_or_default(),
            }));
        }
        let tree: Value = self
            .client
            .json(
                Method::POST,
                &self.path("/git/trees"),
                Some(&json!({"base_tree": base_tree, "tree": entries})),
            )
            .await?;
        let commit: Value = self
            .client
            .json(
                Method::POST,
                &self.path("/git/commits"),
                Some(&json!({
                    "message": message,
                    "tree": tree["sha"].as_str().unwrap_or_default(),
                    "parents": [parent],
                })),
            )
            .await?;
        Ok(commit["sha"].as_str().unwrap_or_default().to_owned())
    }

    /// The tree of a commit.
    pub async fn commit_tree(&self, commit: &str) -> Result<String, GitHubError> {
        let c: Value = self
            .client
            .get(&self.path(&format!("/git/commits/{}", super::names::segment(commit))))
            .await?;
        Ok(c["tree"]["sha"].as_str().unwrap_or_default().to_owned())
    }

    /// Points `branch` at `sha`, creating it or moving it (forced). A branch thought new that
    /// exists already (left by a closed PR) is moved.
    pub async fn set_branch(
        &self,
        branch: &str,
        sha: &str,
        exists: bool,
    ) -> Result<(), GitHubError> {
        if !exists {
            let r = self
                .client
                .send(
                    Method::POST,
                    &self.path("/git/refs"),
                    Some(&json!({"ref": format!("refs/heads/{branch}"), "sha": sha})),
                )
                .await?;
            if r.status.is_success() {
                return Ok(());
            }
            if r.status.as_u16() != 422 {
                return Err(GitHubError::Status {
                    status: r.status.as_u16(),
                    method: "POST".into(),
                    path: self.path("/git/refs"),
                    message: String::from_utf8_lossy(&r.body).chars().take(300).collect(),
                });
            }
        }
        {
            self.client
                .json::<Value>(
                    Method::PATCH,
                    &self.path(&format!(
                        "/git/refs/heads/{}",
                        super::names::ref_path(branch)
                    )),
                    Some(&json!({"sha": sha, "force": true})),
                )
                .await?;
        }
        Ok(())
    }

    pub async fn delete_branch(&self, branch: &str) -> Result<(), GitHubError> {
        let r = self
            .client
            .send(
                Method::DELETE,
                &self.path(&format!(
                    "/git/refs/heads/{}",
                    super::names::ref_path(branch)
                )),
                None,
            )
            .await?;
        // Already gone is as good as deleted.
        if r.status.is_success() || r.status.as_u16() == 422 {
            Ok(())
        } else {
            Err(GitHubError::Status {
                status: r.status.as_u16(),
                method: "DELETE".into(),
                path: self.path(&format!(
                    "/git/refs/heads/{}",
                    super::names::ref_path(branch)
                )),
                message: String::new(),
            })
        }
    }

    pub async fn create_pull(
        &self,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
    ) -> Result<u64, GitHubError> {
        let pr: Value = self
            .client
            .json(
                Method::POST,
                &self.path("/pulls"),
                Some(&json!({"title": title, "head": head, "base": base, "body": body})),
            )
            .await?;
        Ok(pr["number"].as_u64().unwrap_or_default())
    }

    pub async fn update_pull(
        &self,
        number: u64,
        title: Option<&str>,
        body: Option<&str>,
        state: Option<&str>,
    ) -> Result<(), GitHubError> {
        let mut patch = serde_json::Map::new();
        if let Some(t) = title {
            patch.insert("title".into(), json!(t));
        }
        if let Some(b) = body {
            patch.insert("body".into(), json!(b));
        }
        if let Some(s) = state {
            patch.insert("state".into(), json!(s));
        }
        self.client
            .json::<Value>(
                Method::PATCH,
                &self.path(&format!("/pulls/{number}")),
                Some(&Value::Object(patch)),
            )
            .await?;
        Ok(())
    }

    pub async fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), GitHubError> {
        if labels.is_empty() {
            return Ok(());
        }
        self.client
            .json::<Value>(
                Method::POST,
                &self.path(&format!("/issues/{number}/labels")),
                Some(&json!({ "labels": labels })),
            )
            .await?;
        Ok(())
    }

    pub async fn add_assignees(&self, number: u64, logins: &[String]) -> Result<(), GitHubError> {
        if logins.is_empty() {
            return Ok(());
        }
        self.client
            .json::<Value>(
                Method::POST,
                &self.path(&format!("/issues/{number}/assignees")),
                Some(&json!({ "assignees": logins })),
            )
            .await?;
        Ok(())
    }

    pub async fn comment(&self, number: u64, body: &str) -> Result<(), GitHubError> {
        self.client
            .json::<Value>(
                Method::POST,
                &self.path(&format!("/issues/{number}/comments")),
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(())
    }
}

/// An issue, as a list shows it.
#[derive(Debug, Clone)]
pub struct IssueSummary {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// Who opened it (upkeep's own issues are opened by its bot).
    pub author: String,
}

impl Repo<'_> {
    /// The open PR whose head is `branch` in this repository.
    pub async fn open_pull_for(
        &self,
        branch: &str,
    ) -> Result<Option<(PullSummary, Vec<String>)>, GitHubError> {
        let list = self.pulls_for(branch, "open").await?;
        Ok(list.iter().find_map(|v| {
            let labels = v["labels"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            summary(v)
                .filter(|p| p.head_ref == branch)
                .map(|p| (p, labels))
        }))
    }

    /// The closed PRs (merged or not) whose head is `branch`, newest first (one page).
    pub async fn closed_pulls_for(&self, branch: &str) -> Result<Vec<PullSummary>, GitHubError> {
        let list = self.pulls_for(branch, "closed").await?;
        Ok(list
            .iter()
            .filter_map(summary)
            .filter(|p| p.head_ref == branch)
            .collect())
    }

    async fn pulls_for(&self, branch: &str, state: &str) -> Result<Vec<Value>, GitHubError> {
        let owner = self.full_name.split('/').next().unwrap_or_default();
        self.client
            .get(&self.path(&format!(
                "/pulls?state={state}&head={}:{}&per_page=100",
                super::names::query_value(owner),
                super::names::query_value(branch)
            )))
            .await
    }

    /// Merges a PR if its head is still `sha`; `false` when GitHub refuses (not mergeable,
    /// head moved, branch protection). Squash first (one commit per update, easy to revert);
    /// a repository whose settings turn squash merges off gets a merge commit, then a rebase.
    pub async fn merge(&self, number: u64, sha: &str, title: &str) -> Result<bool, GitHubError> {
        let path = self.path(&format!("/pulls/{number}/merge"));
        for method in ["squash", "merge", "rebase"] {
            let r = self
                .client
                .send(
                    Method::PUT,
                    &path,
                    Some(&json!({"sha": sha, "merge_method": method, "commit_title": title})),
                )
                .await?;
            let message = String::from_utf8_lossy(&r.body);
            match r.status.as_u16() {
                200 => return Ok(true),
                // "Squash merges are not allowed on this repository.": try the next method.
                405 if message.contains("not allowed on this repository") => continue,
                405 | 409 | 422 => return Ok(false),
                status => {
                    return Err(GitHubError::Status {
                        status,
                        method: "PUT".into(),
                        path,
                        message: message.chars().take(300).collect(),
                    })
                }
            }
        }
        Ok(false)
    }

    /// Open issues (not pull requests): every page up to 1,000 issues, one request when a
    /// repository has fewer than 100 open.
    pub async fn open_issues(&self) -> Result<Vec<IssueSummary>, GitHubError> {
        let mut list: Vec<Value> = Vec::new();
        for page in 1..=10 {
            let batch: Vec<Value> = self
                .client
                .get(&self.path(&format!("/issues?state=open&per_page=100&page={page}")))
                .await?;
            let full = batch.len() == 100;
            list.extend(batch);
            if !full {
                break;
            }
        }
        Ok(list
            .iter()
            .filter(|i| i.get("pull_request").is_none_or(Value::is_null))
            .filter_map(|i| {
                Some(IssueSummary {
                    number: i["number"].as_u64()?,
                    title: i["title"].as_str().unwrap_or_default().to_owned(),
                    body: i["body"].as_str().unwrap_or_default().to_owned(),
                    author: i["user"]["login"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect())
    }

    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<u64, GitHubError> {
        let issue: Value = self
            .client
            .json(
                Method::POST,
                &self.path("/issues"),
                Some(&json!({"title": title, "body": body, "labels": labels})),
            )
            .await?;
        Ok(issue["number"].as_u64().unwrap_or_default())
    }

    /// Replaces an issue's body.
    pub async fn update_issue_body(&self, number: u64, body: &str) -> Result<(), GitHubError> {
        self.client
            .json::<Value>(
                Method::PATCH,
                &self.path(&format!("/issues/{number}")),
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(())
    }

    pub async fn close_issue(&self, number: u64) -> Result<(), GitHubError> {
        self.client
            .json::<Value>(
                Method::PATCH,
                &self.path(&format!("/issues/{number}")),
                Some(&json!({"state": "closed", "state_reason": "completed"})),
            )
            .await?;
        Ok(())
    }
}

pub(super) fn summary(v: &Value) -> Option<PullSummary> {
    Some(PullSummary {
        number: v["number"].as_u64()?,
        title: v["title"].as_str().unwrap_or_default().to_owned(),
        head_ref: v["head"]["ref"].as_str()?.to_owned(),
        head_sha: v["head"]["sha"].as_str().unwrap_or_default().to_owned(),
        base_ref: v["base"]["ref"].as_str().unwrap_or_default().to_owned(),
        base_sha: v["base"]["sha"].as_str().unwrap_or_default().to_owned(),
        user: v["user"]["login"].as_str().unwrap_or_default().to_owned(),
        body: v["body"].as_str().unwrap_or_default().to_owned(),
    })
}
