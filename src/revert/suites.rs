//! Auto-revert for CI outside GitHub Actions: a CI app's check suite that completes red on a
//! push to the default branch. Confirmation asks GitHub to re-request the suite (the app runs it
//! again; `revert.reruns` times) and a green answer is a flake. The history is read from the same
//! app's suites on the red commit's first parents. One suspect is reverted as with Actions;
//! several cannot be bisected (such CI cannot be dispatched on a commit), so a person gets an
//! issue listing them. GitHub Actions' own suites are left to `workflow_run`, and upkeep's own
//! suite (its `upkeep/*` check runs) is never a reason to revert.

use crate::config::RevertMode;
use crate::github::InstallationClient;
use crate::queue::worker::JobError;
use crate::revert::act::outcome;
use crate::revert::act::{Results, Reverter, HISTORY};
use crate::revert::watch::{Failure, Watch};
use crate::revert::{self, suspects, Outcome, Suspects};
use crate::store::Store;
use crate::webhook::events::CheckSuiteEvent;

/// GitHub Actions' app id.
const ACTIONS_APP: i64 = 15368;

/// Acts on a completed check suite; `None` when auto-revert has nothing to do with it.
pub async fn on_check_suite(
    store: &Store,
    client: &InstallationClient,
    e: &CheckSuiteEvent,
    slug: &str,
    own_app: i64,
) -> Result<Option<&'static str>, JobError> {
    let suite = &e.check_suite;
    let Some(app) = suite.app.as_ref() else {
        return Ok(None);
    };
    let default_branch = e.repository.default_branch.as_deref().unwrap_or("main");
    let ours_or_actions = app.id == own_app
        || app.id == ACTIONS_APP
        || app.slug.as_deref() == Some("github-actions")
        || app.slug.as_deref() == Some(slug);
    let result = outcome(suite.conclusion.as_deref());
    let branch = suite.head_branch.as_deref().unwrap_or_default();
    if e.action != "completed" || ours_or_actions || result.is_none() {
        return Ok(None);
    }
    if branch.starts_with(revert::BRANCH_PREFIX) {
        // A revert PR's own CI, outside Actions: merged when green in merge mode.
        let r = Reverter::for_repository(store, client, &e.repository, slug).await?;
        if r.config.mode != RevertMode::Merge {
            return Ok(None);
        }
        return Watch { r }
            .revert_ci(branch, &suite.head_sha)
            .await
            .map(Some);
    }
    if branch != default_branch {
        return Ok(None);
    }
    let sha = suite.head_sha.as_str();
    let cause = format!("app:{}", app.id);
    let cause = cause.as_str();
    let earlier = store.revert_decisions_for(e.repository.id, sha).await?;
    let reruns = earlier
        .iter()
        .filter(|d| d.cause == cause && d.decision == "rerun")
        .count() as i64;
    let name = app
        .name
        .clone()
        .or_else(|| app.slug.clone())
        .unwrap_or_else(|| format!("app {}", app.id));
    if result == Some(Outcome::Green) && reruns == 0 {
        return Ok(None);
    }
    let r = Reverter::for_repository(store, client, &e.repository, slug).await?;
    if r.config.mode == RevertMode::Off {
        return Ok(Some("auto-revert is off"));
    }
    let watch = Watch { r };
    if !watch.r.config.watches(&name) {
        return Ok(Some("CI not watched by auto-revert"));
    }
    if result == Some(Outcome::Green) {
        let why = format!("`{name}` passed when its check suite was re-run");
        watch
            .r
            .record(sha, cause, "flake", &why, (None, None, None))
            .await?;
        return Ok(Some("a flake: passed on re-run"));
    }
    if reruns < watch.r.config.reruns {
        watch.r.repo.rerequest_suite(suite.id).await?;
        let why = format!(
            "`{name}` failed; its check suite was re-requested to rule out a flake ({} of {})",
            reruns + 1,
            watch.r.config.reruns
        );
        watch
            .r
            .record(sha, cause, "rerun", &why, (None, None, None))
            .await?;
        return Ok(Some("re-requested to rule out a flake"));
    }
    if earlier
        .iter()
        .any(|d| d.cause == cause && d.decision != "rerun")
    {
        return Ok(Some("red commit already handled"));
    }
    let history = watch
        .r
        .walk_back(sha, Results::Suites { app_id: app.id })
        .await?;
    let url = format!(
        "https://github.com/{}/commit/{sha}/checks",
        e.repository.full_name
    );
    Ok(Some(match suspects(sha, &history) {
        Suspects::RedBefore { sha: before } => {
            let why = format!(
                "`{name}` failed on {} before it too: the failure is older",
                revert::short(&before)
            );
            watch
                .r
                .record(sha, cause, "red-before", &why, (None, None, None))
                .await?;
            "red before the suspect: not reverted"
        }
        Suspects::NoGreen => {
            let why = format!("no green `{name}` suite in the last {HISTORY} commits");
            watch
                .r
                .record(sha, cause, "no-green", &why, (None, None, None))
                .await?;
            "no green commit to compare with"
        }
        Suspects::Since { green, candidates } => {
            let f = Failure {
                red: sha.to_owned(),
                name,
                url,
                green,
                workflow_id: None,
                cause: cause.to_owned(),
            };
            if candidates.len() == 1 {
                watch.culprit(&f, sha).await?
            } else {
                watch
                    .ambiguous(
                        &f,
                        candidates,
                        "CI outside GitHub Actions cannot be dispatched on a commit, so there is no bisection",
                    )
                    .await?
            }
        }
    }))
}
