//! The fake's state: the App, installations and their tokens, repositories, issues, manifest
//! codes, and rate-limit budgets. Tests read and change it through `FakeGitHub::with_world`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::git::{Commit, Objects};

/// An installation of the App.
#[derive(Debug, Clone)]
pub struct Installation {
    pub id: i64,
    pub account: String,
    /// What the installation has accepted (name → level); the App's permissions when added.
    /// A token of the installation is refused (403) what these do not allow.
    pub permissions: BTreeMap<String, String>,
}

/// A repository.
#[derive(Debug, Clone)]
pub struct Repository {
    pub id: i64,
    pub installation: i64,
    pub full_name: String,
    pub default_branch: String,
    pub private: bool,
    /// Issues and pull requests share GitHub's numbering.
    pub issues: Vec<Value>,
    pub objects: Objects,
    /// `heads/main` → commit id.
    pub refs: BTreeMap<String, String>,
    /// Pull requests in GitHub's shape (they share the issues' numbers).
    pub pulls: Vec<Value>,
    /// Issue and pull request comments in GitHub's shape.
    pub comments: Vec<Value>,
    /// Reactions: (comment id, content, user).
    pub reactions: Vec<(i64, String, String)>,
    pub check_runs: Vec<Value>,
    /// Commit statuses, oldest first (`sha`, `context`, `state`, …).
    pub statuses: Vec<Value>,
    /// Collaborators: login → permission (`admin`, `maintain`, `write`, `triage`, `read`).
    pub permissions: BTreeMap<String, String>,
    /// Workflow runs in GitHub's shape.
    pub workflow_runs: Vec<Value>,
    pub artifacts: Vec<Artifact>,
    /// Workflow dispatches asked for: (workflow id or file name, ref).
    pub dispatches: Vec<(String, String)>,
    /// Merge methods the repository's settings turn off (`squash`, `merge`, `rebase`): GitHub
    /// answers 405 to a merge that asks for one.
    pub disallowed_merge_methods: Vec<String>,
    /// Runs whose failed jobs were asked to re-run, and check suites re-requested.
    pub reruns: Vec<i64>,
    /// Check suites (CI results set by the test): id, head sha, branch, status, conclusion.
    pub check_suites: Vec<Value>,
    /// Issue events (issue number, event in GitHub's shape): `labeled` ones.
    pub issue_events: Vec<(i64, Value)>,
    /// Whether code scanning is on (off: uploads answer 403, as without Advanced Security).
    pub code_scanning: bool,
    /// SARIF uploads, oldest first.
    pub sarif_uploads: Vec<SarifUpload>,
    /// Published releases, newest first (`tag_name`, `published_at`, `draft`, `prerelease`).
    pub releases: Vec<Value>,
}

/// One SARIF upload to code scanning, decoded.
#[derive(Debug, Clone)]
pub struct SarifUpload {
    pub id: String,
    pub commit_sha: String,
    pub git_ref: String,
    pub log: Value,
}

impl SarifUpload {
    /// The run's category (`automationDetails.id`; empty without one).
    pub fn category(&self) -> &str {
        self.log["runs"][0]["automationDetails"]["id"]
            .as_str()
            .unwrap_or_default()
    }
}

/// A workflow run's artifact and its zip body.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub id: i64,
    pub run_id: i64,
    pub name: String,
    pub zip: Vec<u8>,
}

impl Repository {
    /// The code-scanning alerts open on `git_ref`: the results (rule id, file, line) of the
    /// latest upload of each category, as GitHub keeps them.
    pub fn code_scanning_alerts(&self, git_ref: &str) -> Vec<(String, String, u64)> {
        let mut latest: Vec<&SarifUpload> = Vec::new();
        for u in self
            .sarif_uploads
            .iter()
            .rev()
            .filter(|u| u.git_ref == git_ref)
        {
            if !latest.iter().any(|l| l.category() == u.category()) {
                latest.push(u);
            }
        }
        let mut out: Vec<(String, String, u64)> = latest
            .iter()
            .flat_map(|u| u.log["runs"].as_array().cloned().unwrap_or_default())
            .flat_map(|run| run["results"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                let at = &r["locations"][0]["physicalLocation"];
                (
                    r["ruleId"].as_str().unwrap_or_default().to_owned(),
                    at["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    at["region"]["startLine"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// The next issue or pull request number.
    pub fn next_number(&self) -> i64 {
        (self.issues.len() + self.pulls.len()) as i64 + 1
    }

    /// Issue `number`, to change it as a person would on github.com.
    pub fn issue_mut(&mut self, number: i64) -> Option<&mut serde_json::Value> {
        self.issues.iter_mut().find(|i| i["number"] == number)
    }

    /// Issue `number`.
    pub fn issue(&self, number: i64) -> Option<&serde_json::Value> {
        self.issues.iter().find(|i| i["number"] == number)
    }

    /// The comments on issue or pull request `number`, oldest first.
    pub fn comments_on(&self, number: i64) -> Vec<&serde_json::Value> {
        let suffix = format!("/issues/{number}");
        self.comments
            .iter()
            .filter(|c| {
                c["issue_url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(&suffix))
            })
            .collect()
    }

    /// The issues whose body contains `needle` (a bot's marker), oldest first.
    pub fn issues_containing(&self, needle: &str) -> Vec<&serde_json::Value> {
        self.issues
            .iter()
            .filter(|i| i["body"].as_str().unwrap_or_default().contains(needle))
            .collect()
    }

    /// The commit the default branch points at.
    pub fn head(&self) -> Option<&String> {
        self.refs.get(&format!("heads/{}", self.default_branch))
    }

    /// Commits `files` (path → content) on top of the default branch, replacing the tree.
    pub fn commit_files(
        &mut self,
        files: &BTreeMap<String, Vec<u8>>,
        message: &str,
        time: i64,
    ) -> String {
        let tree = self.objects.tree_from_files(files);
        let parents = self.head().cloned().into_iter().collect();
        let sha = self.objects.commit(Commit {
            tree,
            parents,
            message: message.to_owned(),
            author: "Octocat <octocat@github.com>".into(),
            time,
        });
        self.refs
            .insert(format!("heads/{}", self.default_branch), sha.clone());
        sha
    }
}

/// One attempt at delivering a webhook, as GitHub logs it for `GET /app/hook/deliveries`.
#[derive(Debug, Clone)]
pub struct HookDelivery {
    /// The attempt's id (each attempt has its own).
    pub id: i64,
    /// The event's id, `X-GitHub-Delivery`: shared by every attempt at the same event.
    pub guid: String,
    pub delivered_at: SystemTime,
    pub redelivery: bool,
    /// What the App answered; 0 when it could not be reached or did not answer in time.
    pub status_code: u16,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub payload: Value,
}

/// The App's webhook configuration (`GET`/`PATCH /app/hook/config`).
#[derive(Debug, Clone, PartialEq)]
pub struct HookConfig {
    pub url: String,
    pub content_type: String,
    pub insecure_ssl: String,
    pub secret: Option<String>,
}

impl Default for HookConfig {
    fn default() -> Self {
        HookConfig {
            url: "https://upkeep.example/webhook".into(),
            content_type: "json".into(),
            insecure_ssl: "0".into(),
            secret: Some("whsec".into()),
        }
    }
}

/// Everything the fake GitHub knows.
#[derive(Debug)]
pub struct World {
    pub app_id: u64,
    pub app_public_key: Option<Vec<u8>>,
    pub installations: BTreeMap<i64, Installation>,
    pub repositories: BTreeMap<String, Repository>,
    /// Installation tokens: token → (installation, expiry).
    pub tokens: HashMap<String, (i64, SystemTime)>,
    pub manifest_codes: HashMap<String, (u64, String, String)>,
    pub token_lifetime: Duration,
    /// The fake's own base URL (artifact downloads redirect to it).
    pub base_url: String,
    /// Every webhook delivery attempt GitHub made to the App, oldest first (its delivery log).
    pub hook_deliveries: Vec<HookDelivery>,
    /// Where GitHub sends the App's webhooks, and how.
    pub hook_config: HookConfig,
    /// The App's permissions and events as its settings page has them (`GET /app`); by
    /// default those upkeep's manifest asks for.
    pub app_permissions: BTreeMap<String, String>,
    pub app_events: Vec<String>,
    /// Requests left this hour, per installation (`None`: the App or anonymous).
    rate_remaining: HashMap<Option<i64>, u32>,
    next_id: i64,
}

/// GitHub's hourly budget for an installation.
pub const RATE_LIMIT: u32 = 5_000;

impl Default for World {
    fn default() -> Self {
        World {
            app_id: 0,
            app_public_key: None,
            installations: BTreeMap::new(),
            repositories: BTreeMap::new(),
            tokens: HashMap::new(),
            manifest_codes: HashMap::new(),
            token_lifetime: Duration::from_secs(3600),
            base_url: String::new(),
            hook_deliveries: Vec::new(),
            hook_config: HookConfig::default(),
            app_permissions: [
                ("contents", "write"),
                ("pull_requests", "write"),
                ("issues", "write"),
                ("checks", "write"),
                ("actions", "write"),
                ("workflows", "write"),
                ("statuses", "read"),
                ("security_events", "write"),
                ("metadata", "read"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            app_events: [
                "push",
                "pull_request",
                "issue_comment",
                "issues",
                "check_suite",
                "check_run",
                "workflow_run",
                "status",
                "repository",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            rate_remaining: HashMap::new(),
            next_id: 1_000,
        }
    }
}

impl World {
    pub fn add_installation(&mut self, id: i64, account: &str) {
        self.installations.insert(
            id,
            Installation {
                id,
                account: account.to_owned(),
                permissions: self.app_permissions.clone(),
            },
        );
    }

    pub fn add_repository(&mut self, installation: i64, full_name: &str) {
        let id = self.next_id();
        self.repositories.insert(
            full_name.to_owned(),
            Repository {
                id,
                installation,
                full_name: full_name.to_owned(),
                default_branch: "main".into(),
                private: false,
                issues: Vec::new(),
                objects: Objects::default(),
                refs: BTreeMap::new(),
                pulls: Vec::new(),
                comments: Vec::new(),
                reactions: Vec::new(),
                check_runs: Vec::new(),
                statuses: Vec::new(),
                permissions: BTreeMap::new(),
                workflow_runs: Vec::new(),
                artifacts: Vec::new(),
                dispatches: Vec::new(),
                disallowed_merge_methods: Vec::new(),
                reruns: Vec::new(),
                check_suites: Vec::new(),
                issue_events: Vec::new(),
                code_scanning: true,
                sarif_uploads: Vec::new(),
                releases: Vec::new(),
            },
        );
    }

    /// Renames (or transfers) a repository: GitHub then knows it only by its new name (the
    /// fake does not redirect the old one).
    pub fn rename_repository(&mut self, from: &str, to: &str) {
        if let Some(mut repo) = self.repositories.remove(from) {
            repo.full_name = to.to_owned();
            self.repositories.insert(to.to_owned(), repo);
        }
    }

    /// Adds a completed workflow run; its id.
    /// Publishes release `tag` of `repo` at `published_at` (RFC 3339), listed first.
    pub fn add_release(&mut self, repo: &str, tag: &str, published_at: &str, prerelease: bool) {
        let id = self.next_id();
        let Some(r) = self.repositories.get_mut(repo) else {
            return;
        };
        r.releases.insert(
            0,
            serde_json::json!({
                "id": id,
                "tag_name": tag,
                "name": format!("Rust {tag}"),
                "draft": false,
                "prerelease": prerelease,
                "created_at": published_at,
                "published_at": published_at,
                "html_url": format!("https://github.com/{repo}/releases/tag/{tag}"),
            }),
        );
    }

    pub fn add_workflow_run(
        &mut self,
        repo: &str,
        name: &str,
        branch: &str,
        head_sha: &str,
        event: &str,
        conclusion: &str,
    ) -> i64 {
        let id = self.next_id();
        // One workflow per name, with its file: `ci` is `.github/workflows/ci.yml`.
        let workflow_id = 161_000 + name.bytes().map(i64::from).sum::<i64>();
        if let Some(r) = self.repositories.get_mut(repo) {
            r.workflow_runs.push(serde_json::json!({
                "id": id, "name": name, "head_branch": branch, "head_sha": head_sha, "event": event,
                "status": "completed", "conclusion": conclusion, "run_attempt": 1,
                "workflow_id": workflow_id, "path": format!(".github/workflows/{name}.yml")
            }));
        }
        id
    }

    /// The re-run of workflow run `id` that the app asked for ends with `conclusion`; its
    /// attempt number. Panics when the app asked for no re-run of it: a test that ends one
    /// checks that it was asked for.
    pub fn end_rerun(&mut self, repo: &str, id: i64, conclusion: &str) -> i64 {
        let r = self
            .repositories
            .get_mut(repo)
            .unwrap_or_else(|| panic!("no repository {repo}"));
        assert!(
            r.reruns.contains(&id),
            "the app asked for no re-run of {id}"
        );
        let run = r
            .workflow_runs
            .iter_mut()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no workflow run {id}"));
        run["status"] = serde_json::json!("completed");
        run["conclusion"] = serde_json::json!(conclusion);
        run["run_attempt"].as_i64().unwrap_or(1)
    }

    /// Sets workflow run `id`'s status and conclusion (`queued`, `in_progress` with `None`;
    /// `completed` with one).
    pub fn set_workflow_run(
        &mut self,
        repo: &str,
        id: i64,
        status: &str,
        conclusion: Option<&str>,
    ) {
        let run = self
            .repositories
            .get_mut(repo)
            .and_then(|r| r.workflow_runs.iter_mut().find(|r| r["id"] == id))
            .unwrap_or_else(|| panic!("no workflow run {id} in {repo}"));
        run["status"] = serde_json::json!(status);
        run["conclusion"] = serde_json::json!(conclusion);
    }

    /// Commit status `id` of `repo` (a copy).
    pub fn status(&self, repo: &str, id: i64) -> Option<serde_json::Value> {
        self.repositories
            .get(repo)?
            .statuses
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
    }

    /// Workflow run `id` of `repo` as the world has it now (a copy).
    pub fn workflow_run(&self, repo: &str, id: i64) -> Option<serde_json::Value> {
        self.repositories
            .get(repo)?
            .workflow_runs
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
    }

    /// CI outside checks set commit status `context` on `sha` to `state` (`pending`, `success`,
    /// `failure` or `error`); its id. A later status of the same context replaces it.
    pub fn add_status(&mut self, repo: &str, sha: &str, context: &str, state: &str) -> i64 {
        let id = self.next_id();
        if let Some(r) = self.repositories.get_mut(repo) {
            r.statuses.push(serde_json::json!({
                "id": id, "node_id": format!("SC_{id}"), "sha": sha, "context": context,
                "state": state, "description": null,
                "target_url": format!("https://ci.example.com/{context}/{id}"),
                "avatar_url": null, "url": format!("https://api.github.com/repos/{repo}/statuses/{sha}"),
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            }));
        }
        id
    }

    /// Adds a completed check suite for a commit (a CI result); its id.
    pub fn add_check_suite(
        &mut self,
        repo: &str,
        head_sha: &str,
        branch: &str,
        conclusion: &str,
    ) -> i64 {
        let id = self.next_id();
        if let Some(r) = self.repositories.get_mut(repo) {
            r.check_suites.push(serde_json::json!({
                "id": id, "head_sha": head_sha, "head_branch": branch, "status": "completed", "conclusion": conclusion
            }));
        }
        id
    }

    /// Adds a completed check suite of CI app `app_id` (`app_slug`) for a commit; its id.
    pub fn add_app_check_suite(
        &mut self,
        repo: &str,
        head_sha: &str,
        branch: &str,
        conclusion: &str,
        (app_id, app_slug): (i64, &str),
    ) -> i64 {
        let id = self.add_check_suite(repo, head_sha, branch, conclusion);
        if let Some(r) = self.repositories.get_mut(repo) {
            if let Some(s) = r.check_suites.iter_mut().find(|s| s["id"] == id) {
                s["app_id"] = serde_json::json!(app_id);
                s["app_slug"] = serde_json::json!(app_slug);
            }
        }
        id
    }

    /// Adds a check run for a commit (a CI job's result); its id.
    pub fn add_check_run(
        &mut self,
        repo: &str,
        head_sha: &str,
        name: &str,
        conclusion: &str,
    ) -> i64 {
        let id = self.next_id();
        if let Some(r) = self.repositories.get_mut(repo) {
            r.check_runs.push(serde_json::json!({
                "id": id, "head_sha": head_sha, "name": name, "status": "completed", "conclusion": conclusion,
                "node_id": format!("CR_{id}"), "external_id": "", "url": "", "html_url": "", "details_url": null,
                "started_at": null, "completed_at": null,
                "output": { "title": null, "summary": null, "text": null, "annotations_count": 0, "annotations_url": "" },
                "check_suite": { "id": id + 1 }, "app": null, "pull_requests": []
            }));
        }
        id
    }

    /// Attaches an artifact (a zip body) to a workflow run; its id.
    pub fn add_artifact(&mut self, repo: &str, run_id: i64, name: &str, zip: Vec<u8>) -> i64 {
        let id = self.next_id();
        if let Some(r) = self.repositories.get_mut(repo) {
            r.artifacts.push(Artifact {
                id,
                run_id,
                name: name.to_owned(),
                zip,
            });
        }
        id
    }

    /// A comment by `login` (a person, or a bot when it ends in `[bot]`) on issue or PR
    /// `number`, as GitHub records it; its id.
    pub fn add_comment(&mut self, repo: &str, number: i64, login: &str, body: &str) -> i64 {
        let id = self.next_id();
        let api = format!("https://api.github.com/repos/{repo}");
        let kind = if login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        };
        if let Some(r) = self.repositories.get_mut(repo) {
            r.comments.push(serde_json::json!({
                "id": id, "node_id": format!("IC_{id}"), "url": format!("{api}/issues/comments/{id}"),
                "html_url": format!("https://github.com/{repo}/issues/{number}#issuecomment-{id}"),
                "body": body, "user": simple_user(login, kind),
                "created_at": "2026-11-29T00:00:00Z", "updated_at": "2026-11-29T00:00:00Z",
                "issue_url": format!("{api}/issues/{number}"), "author_association": "MEMBER"
            }));
        }
        id
    }

    /// A fresh id for anything GitHub numbers globally.
    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// Logs one delivery attempt of `payload` (event `event`, id `guid`) that the App answered
    /// with `status_code` (0: not reached).
    pub fn log_delivery(&mut self, guid: &str, event: &str, payload: &Value, status_code: u16) {
        let id = self.hook_deliveries.len() as i64 + 1;
        let redelivery = self.hook_deliveries.iter().any(|d| d.guid == guid);
        self.hook_deliveries.push(HookDelivery {
            id,
            guid: guid.to_owned(),
            delivered_at: SystemTime::now(),
            redelivery,
            status_code,
            event: event.to_owned(),
            action: payload["action"].as_str().map(str::to_owned),
            installation_id: payload["installation"]["id"].as_i64(),
            repository_id: payload["repository"]["id"].as_i64(),
            payload: payload.clone(),
        });
    }

    /// The installation a token belongs to, if the token is live.
    pub fn token_installation(&self, token: &str) -> Option<i64> {
        let (installation, expiry) = self.tokens.get(token)?;
        (SystemTime::now() < *expiry).then_some(*installation)
    }

    /// Sets what is left of an installation's hourly budget (`None`: the App's own).
    pub fn set_rate_remaining(&mut self, installation: Option<i64>, left: u32) {
        self.rate_remaining.insert(installation, left);
    }

    /// Counts one request against its budget; what is left.
    pub fn spend_rate_limit(&mut self, installation: Option<i64>) -> u32 {
        let left = self
            .rate_remaining
            .entry(installation)
            .or_insert(RATE_LIMIT);
        *left = left.saturating_sub(1);
        *left
    }
}

/// A `simple-user` as GitHub shapes it.
pub fn simple_user(login: &str, kind: &str) -> serde_json::Value {
    let u = format!("https://api.github.com/users/{login}");
    serde_json::json!({
        "login": login, "id": 9, "node_id": "U_9", "avatar_url": "https://avatars.githubusercontent.com/u/9",
        "gravatar_id": "", "url": u, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{u}/followers"), "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"), "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"), "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"), "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"), "type": kind, "site_admin": false
    })
}
