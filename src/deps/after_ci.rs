//! What happens when CI finishes on an upkeep dependency PR (a `check_suite` or `workflow_run`
//! completed, or a commit status settled, on an `upkeep/cargo/…` branch). The verdict comes from
//! every check run and commit status on the head commit, not from the one suite that reported, and a green one waits for every workflow run on
//! that commit to finish (a run exists before its jobs have check runs), so a PR is never merged
//! while another workflow still runs. Green, and allowed by `automerge` when the PR was made →
//! squash-merged (GitHub refuses if the head moved or branch protection says no). Red on a breaking
//! bump → label `upkeep:needs-human`, one comment naming the failing checks, and one issue per
//! dependency ("demo-rand 0.9 needs a manual migration"), found again by a hidden marker so a
//! second red run adds nothing.

use tracing::info;

use crate::deps::body;
use crate::deps::is_upkeep_branch;
use crate::github::checks::RunResult;
use crate::github::repo::Repo;
use crate::github::{GitHubError, InstallationClient};

/// The label on a PR or issue that needs a person.
pub const NEEDS_HUMAN: &str = "upkeep:needs-human";

/// The marker of a migration issue: `<!-- upkeep:migration NAME LINE -->`.
const MIGRATION: &str = "<!-- upkeep:migration ";

/// What CI's end led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterCi {
    NotOurs,
    /// Some check runs are still going (or there are none yet).
    Pending,
    Merged(u64),
    /// Green, but automerge does not cover it (or GitHub refused the merge).
    GreenLeftOpen(u64),
    /// Red on a breaking bump: labelled, commented, issues filed (their numbers).
    NeedsHuman {
        pr: u64,
        issues: Vec<u64>,
    },
    /// Red, already handled for this PR, or not a bump (the next pass rebuilds it).
    RedLeftOpen(u64),
}

impl AfterCi {
    /// What it led to, as a job's outcome says it.
    pub fn outcome(&self) -> &'static str {
        match self {
            AfterCi::NotOurs => "recorded",
            AfterCi::Pending => "ci pending",
            AfterCi::Merged(_) => "merged",
            AfterCi::GreenLeftOpen(_) => "green",
            AfterCi::NeedsHuman { .. } => "needs a person",
            AfterCi::RedLeftOpen(_) => "red",
        }
    }
}

pub const RED: &[&str] = &[
    "failure",
    "timed_out",
    "cancelled",
    "action_required",
    "startup_failure",
    "stale",
];

/// Whether CI on a commit is still going (or has not started: no check runs yet).
pub fn pending(runs: &[RunResult]) -> bool {
    runs.is_empty() || runs.iter().any(|r| r.status != "completed")
}

/// The check runs that failed.
pub fn failing(runs: &[RunResult]) -> Vec<&RunResult> {
    runs.iter()
        .filter(|r| r.conclusion.as_deref().is_some_and(|c| RED.contains(&c)))
        .collect()
}

/// Acts on a finished CI run for `branch` at `sha`.
pub async fn on_ci_finished(
    client: &InstallationClient,
    full_name: &str,
    branch: &str,
    sha: &str,
) -> Result<AfterCi, GitHubError> {
    if !is_upkeep_branch(branch) {
        return Ok(AfterCi::NotOurs);
    }
    let repo = Repo::new(client, full_name);
    let runs = repo.ci_results(sha).await?;
    if pending(&runs) {
        return Ok(AfterCi::Pending);
    }
    let Some((pr, labels)) = repo.open_pull_for(branch).await? else {
        return Ok(AfterCi::NotOurs);
    };
    if pr.head_sha != sha {
        // An older commit's CI: the PR has moved on.
        return Ok(AfterCi::Pending);
    }
    let fields = body::marker_fields(&pr.body);
    let field = |k: &str| fields.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let failing = failing(&runs);
    if failing.is_empty() {
        if field("automerge") == Some("yes") && repo.merge(pr.number, sha, &pr.title).await? {
            info!(repo = full_name, pr = pr.number, "green: merged");
            return Ok(AfterCi::Merged(pr.number));
        }
        return Ok(AfterCi::GreenLeftOpen(pr.number));
    }
    if field("kind") != Some("bump") || labels.iter().any(|l| l == NEEDS_HUMAN) {
        return Ok(AfterCi::RedLeftOpen(pr.number));
    }
    let list: String = failing
        .iter()
        .map(|r| match &r.html_url {
            Some(url) => format!(
                "- [{}]({url}): {}\n",
                r.name,
                r.conclusion.as_deref().unwrap_or("")
            ),
            None => format!("- {}: {}\n", r.name, r.conclusion.as_deref().unwrap_or("")),
        })
        .collect();
    repo.add_labels(pr.number, &[NEEDS_HUMAN.to_owned()])
        .await?;
    repo.comment(
        pr.number,
        &format!("CI fails on this breaking update, so it needs a person:\n\n{list}\nupkeep will not merge it. Push fixes to this branch, or close it and comment `@upkeep ignore this major version` to stop proposing it."),
    )
    .await?;
    let open = repo.open_issues().await?;
    let mut issues = Vec::new();
    for (name, _from, to) in body::marker_updates(&pr.body) {
        let line = version_line(&to);
        let marker = format!("{MIGRATION}{name} {line} -->");
        if open.iter().any(|i| i.body.contains(&marker)) {
            continue;
        }
        let number = repo
            .create_issue(
                &format!("{name} {line} needs a manual migration"),
                &format!(
                    "Updating `{name}` to {to} breaks the build: see #{} and its failing checks:\n\n{list}\nThis issue closes itself once the workspace is on {name} {line}.\n\n{marker}\n",
                    pr.number
                ),
                &[NEEDS_HUMAN.to_owned()],
            )
            .await?;
        issues.push(number);
    }
    info!(
        repo = full_name,
        pr = pr.number,
        ?issues,
        "red on a breaking bump: needs a person"
    );
    Ok(AfterCi::NeedsHuman {
        pr: pr.number,
        issues,
    })
}

/// The release line a version belongs to by Cargo's rules: `2.0` for 2.x, `0.9` for 0.9.x,
/// `0.0.3` for 0.0.3.
pub fn version_line(version: &str) -> String {
    match semver::Version::parse(version) {
        Ok(v) if v.major > 0 => format!("{}.0", v.major),
        Ok(v) if v.minor > 0 => format!("0.{}", v.minor),
        Ok(v) => format!("0.0.{}", v.patch),
        Err(_) => version.to_owned(),
    }
}

/// The migration issues a workspace no longer needs: their crate is now locked on (or past)
/// the line they were filed for. `locked` is `(name, version)` of the default branch's lockfile.
pub fn resolved_migrations<'a>(
    open: &'a [crate::github::repo::IssueSummary],
    locked: &[(String, semver::Version)],
) -> Vec<&'a crate::github::repo::IssueSummary> {
    open.iter()
        .filter(|issue| {
            let Some(start) = issue.body.find(MIGRATION).map(|i| i + MIGRATION.len()) else {
                return false;
            };
            let mut words = issue.body[start..].split_whitespace();
            let (Some(name), Some(line)) = (words.next(), words.next()) else {
                return false;
            };
            let Ok(target) = semver::Version::parse(&pad(line)) else {
                return false;
            };
            locked.iter().any(|(n, v)| n == name && *v >= target)
        })
        .collect()
}

fn pad(line: &str) -> String {
    match line.matches('.').count() {
        0 => format!("{line}.0.0"),
        1 => format!("{line}.0"),
        _ => line.to_owned(),
    }
}
