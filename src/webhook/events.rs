//! Our own tolerant types for the webhook events upkeep acts on. Only the fields we use are read;
//! every `action` is a plain string, so an action GitHub adds tomorrow is ignored, not an error
//! (octocrab's beta webhook models fail the whole payload on an unknown action).

use serde::Deserialize;

/// The few fields every delivery is filed under, read on the hot path before storing.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub action: Option<String>,
    pub installation: Option<Id>,
    pub repository: Option<EnvelopeRepository>,
}

/// The repository as the intake reads it: stored as sent, whatever its name; the job that
/// processes the delivery checks the name (`RepositoryRef`) and refuses it for good.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct EnvelopeRepository {
    pub id: i64,
    pub full_name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Id {
    pub id: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RepositoryRef {
    pub id: i64,
    /// `owner/name`, checked against GitHub's rules where the payload is read.
    #[serde(deserialize_with = "crate::github::names::deserialize_full_name")]
    pub full_name: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub default_branch: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationInfo {
    pub id: i64,
    pub account: Account,
    /// What the installation has accepted (name → `read`/`write`/`admin`).
    #[serde(default)]
    pub permissions: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationEvent {
    pub action: String,
    pub installation: InstallationInfo,
    #[serde(default)]
    pub repositories: Option<Vec<RepositoryRef>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRepositoriesEvent {
    pub action: String,
    pub installation: InstallationInfo,
    #[serde(default)]
    pub repositories_added: Vec<RepositoryRef>,
    #[serde(default)]
    pub repositories_removed: Vec<RepositoryRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PushCommit {
    pub id: String,
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
    #[serde(default)]
    pub modified: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PushEvent {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
    #[serde(default)]
    pub commits: Vec<PushCommit>,
    #[serde(default)]
    pub forced: bool,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitRefInfo {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub id: i64,
    pub number: i64,
    pub state: String,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    pub user: Account,
    pub head: GitRefInfo,
    pub base: GitRefInfo,
    #[serde(default)]
    pub merged: Option<bool>,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub merged_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub number: i64,
    pub pull_request: PullRequest,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub number: i64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    pub user: Account,
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Present when the issue is a pull request.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    pub id: i64,
    #[serde(default)]
    pub body: Option<String>,
    pub user: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueCommentEvent {
    pub action: String,
    pub issue: Issue,
    pub comment: Comment,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssuesEvent {
    pub action: String,
    pub issue: Issue,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
    pub sender: Account,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckSuite {
    pub id: i64,
    /// The CI app the suite belongs to.
    #[serde(default)]
    pub app: Option<SuiteApp>,
    #[serde(default)]
    pub head_branch: Option<String>,
    pub head_sha: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SuiteApp {
    pub id: i64,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckSuiteEvent {
    pub action: String,
    pub check_suite: CheckSuite,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
}

/// A commit status was set (CI that reports statuses rather than check runs).
#[derive(Debug, Clone, Deserialize)]
pub struct StatusEvent {
    pub sha: String,
    /// `pending`, `success`, `failure` or `error`.
    pub state: String,
    pub context: String,
    /// Branches whose history holds the commit (at most 10; not always their head).
    #[serde(default)]
    pub branches: Vec<BranchName>,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BranchName {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckRun {
    pub id: i64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckRunEvent {
    pub action: String,
    pub check_run: CheckRun,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    pub head_sha: String,
    pub event: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    pub workflow_id: i64,
    #[serde(default)]
    pub run_attempt: Option<i64>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// The repository the run's code came from: a fork's for fork PRs.
    #[serde(default)]
    pub head_repository: Option<RepositoryRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRunEvent {
    pub action: String,
    pub workflow_run: WorkflowRun,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
}

/// A repository was renamed, transferred or edited (its default branch, among others).
#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryEvent {
    pub action: String,
    pub repository: RepositoryRef,
    pub installation: Option<Id>,
    /// What an `edited` changed; upkeep reads only whether `default_branch` is among it.
    #[serde(default)]
    pub changes: Option<serde_json::Value>,
}

/// A delivery turned into the event upkeep understands.
#[derive(Debug, Clone)]
pub enum Event {
    Ping,
    Installation(InstallationEvent),
    InstallationRepositories(InstallationRepositoriesEvent),
    Push(PushEvent),
    PullRequest(Box<PullRequestEvent>),
    IssueComment(Box<IssueCommentEvent>),
    Issues(Box<IssuesEvent>),
    CheckSuite(CheckSuiteEvent),
    CheckRun(CheckRunEvent),
    WorkflowRun(Box<WorkflowRunEvent>),
    Status(Box<StatusEvent>),
    Repository(Box<RepositoryEvent>),
    /// Stored and acknowledged, not acted on.
    Ignored(String),
}

/// Event names upkeep acts on; everything else is stored and ignored.
pub const HANDLED_EVENTS: [&str; 11] = [
    "installation",
    "installation_repositories",
    "push",
    "pull_request",
    "issue_comment",
    "issues",
    "check_suite",
    "check_run",
    "workflow_run",
    "status",
    "repository",
];

/// Whether deliveries of this event get a processing job.
pub fn is_handled(event: &str) -> bool {
    HANDLED_EVENTS.contains(&event)
}

impl Event {
    /// Parses a payload of the named event into our types.
    pub fn parse(event: &str, payload: &[u8]) -> Result<Event, serde_json::Error> {
        Ok(match event {
            "ping" => Event::Ping,
            "installation" => Event::Installation(serde_json::from_slice(payload)?),
            "installation_repositories" => {
                Event::InstallationRepositories(serde_json::from_slice(payload)?)
            }
            "push" => Event::Push(serde_json::from_slice(payload)?),
            "pull_request" => Event::PullRequest(Box::new(serde_json::from_slice(payload)?)),
            "issue_comment" => Event::IssueComment(Box::new(serde_json::from_slice(payload)?)),
            "issues" => Event::Issues(Box::new(serde_json::from_slice(payload)?)),
            "check_suite" => Event::CheckSuite(serde_json::from_slice(payload)?),
            "check_run" => Event::CheckRun(serde_json::from_slice(payload)?),
            "workflow_run" => Event::WorkflowRun(Box::new(serde_json::from_slice(payload)?)),
            "status" => Event::Status(Box::new(serde_json::from_slice(payload)?)),
            "repository" => Event::Repository(Box::new(serde_json::from_slice(payload)?)),
            other => Event::Ignored(other.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_action_is_not_an_error() {
        let payload = br#"{"action":"teleported","check_run":{"id":1,"name":"ci","head_sha":"abc","status":"completed","conclusion":"success"},"repository":{"id":2,"full_name":"o/r"}}"#;
        let Event::CheckRun(e) = Event::parse("check_run", payload).unwrap() else {
            panic!("not a check run")
        };
        assert_eq!(e.action, "teleported");
    }

    #[test]
    fn an_event_we_do_not_handle_is_ignored() {
        assert!(matches!(Event::parse("star", b"{}").unwrap(), Event::Ignored(e) if e == "star"));
    }
}
