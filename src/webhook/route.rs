//! Where each stored webhook delivery goes: parsed into a typed event, then handed to the
//! capability that acts on it — a comment to `commands`, a finished CI run to `revert`, `bench`
//! and `deps::after_ci`, a PR to the `upkeep/audit` check, a dashboard edit to `dashboard` —
//! or recorded in the store (installations, declined updates, closed advisory issues).

use serde::Deserialize;
use tracing::info;

use crate::deps::after_ci;
use crate::drift::accepted::{is_paused, Feature};
use crate::handles::Handles;
use crate::queue::worker::JobError;
use crate::store::jobs::Job;
use crate::store::repositories::RepositoryRef;
use crate::store::StoreError;
use crate::time::now_ms;
use crate::webhook::events::{self, Event};

/// Acts on the delivery a `delivery` job names.
pub async fn delivery(h: &Handles, job: &Job) -> Result<(), JobError> {
    #[derive(Deserialize)]
    struct Payload {
        delivery_id: String,
    }
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad delivery job payload: {e}")))?;
    let delivery = h
        .store
        .delivery(&payload.delivery_id)
        .await?
        .ok_or_else(|| {
            JobError::Permanent(format!("delivery {} is not stored", payload.delivery_id))
        })?;
    let event = Event::parse(&delivery.event, delivery.payload.as_bytes()).map_err(|e| {
        JobError::Permanent(format!("{} payload does not parse: {e}", delivery.event))
    })?;
    if let Event::PullRequest(e) = &event {
        crate::report::record::pull_request(&h.store, e, &h.deps.bot_login(), now_ms()).await?;
    }
    let outcome = match act_on_github(h, &event, &delivery.delivery_id).await? {
        Some(outcome) => outcome,
        None => act(h, event).await?,
    };
    info!(delivery = %delivery.delivery_id, event = %delivery.event, outcome, "delivery processed");
    h.store
        .mark_delivery_processed(&delivery.delivery_id, outcome, now_ms())
        .await
        .map_err(JobError::from)
}

/// Events that make upkeep act on GitHub: a pull request opened or pushed to gets the
/// `upkeep/audit` check; CI finished on an upkeep PR may merge it or call a person. `None`
/// for every other event (stored-state events go to `act`).
pub async fn act_on_github(
    h: &Handles,
    event: &Event,
    delivery_id: &str,
) -> Result<Option<&'static str>, JobError> {
    let (repo, installation, branch, sha) = match event {
        Event::WorkflowRun(e) if e.action == "completed" => (
            &e.repository.full_name,
            e.installation.as_ref().map(|i| i.id),
            e.workflow_run.head_branch.as_deref(),
            e.workflow_run.head_sha.as_str(),
        ),
        Event::PullRequest(e)
            if matches!(e.action.as_str(), "opened" | "synchronize" | "reopened") =>
        {
            return audit_pull_request(h, e).await.map(Some);
        }
        Event::IssueComment(e) => {
            let (Some(installation), Some(github)) = (e.installation.as_ref(), h.github()) else {
                return Ok(Some("recorded"));
            };
            let client = github.installation(installation.id);
            let conversation = crate::commands::conversation::Conversation {
                store: &h.store,
                client: &client,
                deps: &h.deps,
                permissions: &h.permissions,
                repository_id: e.repository.id,
                full_name: &e.repository.full_name,
                delivery_id,
            };
            return conversation.on_comment(e).await.map(Some);
        }
        Event::Issues(e)
            if e.sender.kind != "Bot"
                && e.issue.user.login == h.deps.bot_login()
                && crate::dashboard::is_dashboard(e.issue.body.as_deref().unwrap_or_default()) =>
        {
            return crate::dashboard::ticks::on_dashboard(h, e).await.map(Some);
        }
        Event::CheckSuite(e) if e.action == "completed" => (
            &e.repository.full_name,
            e.installation.as_ref().map(|i| i.id),
            e.check_suite.head_branch.as_deref(),
            e.check_suite.head_sha.as_str(),
        ),
        // A status names the branches that hold its commit: CI settled on upkeep's branch
        // if one of them is (a pending status settles nothing).
        Event::Status(e) if e.state != "pending" => (
            &e.repository.full_name,
            e.installation.as_ref().map(|i| i.id),
            e.branches.iter().map(|b| b.name.as_str()).find(|b| {
                crate::deps::is_upkeep_branch(b) || b.starts_with(crate::revert::BRANCH_PREFIX)
            }),
            e.sha.as_str(),
        ),
        _ => return Ok(None),
    };
    let (Some(installation), Some(branch)) = (installation, branch) else {
        return Ok(Some("recorded"));
    };
    if !crate::deps::is_upkeep_branch(branch) {
        // Anyone's workflow run may carry benchmark results.
        if let (Event::WorkflowRun(e), Some(github)) = (event, h.github()) {
            let client = github.installation(installation);
            // What needs a permission this installation has not accepted waits, instead of
            // failing on GitHub's 403s.
            let paused = crate::drift::installations::paused_for(&h.store, installation).await;
            let reverted = if is_paused(&paused, Feature::Reverts) {
                None
            } else {
                crate::revert::watch::on_workflow_run(&h.store, &client, e, &h.deps.slug).await?
            };
            if is_paused(&paused, Feature::Benchmarks) {
                return Ok(Some(
                    reverted.unwrap_or("benchmarks paused: permissions not accepted"),
                ));
            }
            // And an API report (the `semver` job), whatever became of the rest of the run.
            let api = crate::api::ingest::on_workflow_run(&client, e).await?;
            // Any run may carry benchmark results, whatever auto-revert made of it.
            let bench = crate::bench::ingest::on_workflow_run(
                &h.store,
                &client,
                e,
                &h.deps.slug,
                h.deps.public_url.as_deref(),
            )
            .await?;
            let bench = match (bench, api) {
                ("no benchmark results" | "recorded", Some(api)) => api,
                (bench, _) => bench,
            };
            return Ok(Some(reverted.unwrap_or(bench)));
        }
        let reverts_paused = || async {
            is_paused(
                &crate::drift::installations::paused_for(&h.store, installation).await,
                Feature::Reverts,
            )
        };
        if matches!(event, Event::Status(_) | Event::CheckSuite(_)) && reverts_paused().await {
            return Ok(Some("auto-revert paused: permissions not accepted"));
        }
        if let (Event::Status(e), Some(github)) = (event, h.github()) {
            let client = github.installation(installation);
            let reverted =
                crate::revert::watch::on_status(&h.store, &client, e, branch, &h.deps.slug).await?;
            return Ok(Some(reverted.unwrap_or("recorded")));
        }
        if let (Event::CheckSuite(e), Some(github)) = (event, h.github()) {
            let client = github.installation(installation);
            let reverted = crate::revert::suites::on_check_suite(
                &h.store,
                &client,
                e,
                &h.deps.slug,
                github.app_id() as i64,
            )
            .await?;
            return Ok(Some(reverted.unwrap_or("recorded")));
        }
        return Ok(Some("recorded"));
    }
    let Some(github) = h.github() else {
        return Ok(Some("recorded"));
    };
    let client = github.installation(installation);
    // upkeep's own PRs get the API check too (a major bump of a public dependency can break).
    if let Event::WorkflowRun(e) = event {
        crate::api::ingest::on_workflow_run(&client, e).await?;
    }
    let outcome = after_ci::on_ci_finished(&client, repo, branch, sha).await?;
    Ok(Some(outcome.outcome()))
}

/// The `upkeep/audit` check on a PR that changes a lockfile.
pub async fn audit_pull_request(
    h: &Handles,
    e: &events::PullRequestEvent,
) -> Result<&'static str, JobError> {
    let (Some(installation), Some(github)) = (e.installation.as_ref(), h.github()) else {
        return Ok("recorded");
    };
    let Some(db) = h.deps.advisories.as_ref().and_then(|a| a.current()) else {
        return Ok("no advisory database yet");
    };
    let client = github.installation(installation.id);
    let conclusion = crate::audit::check::on_pull_request(
        &client,
        &e.repository.full_name,
        &e.pull_request.base.sha,
        &e.pull_request.head.sha,
        &db,
    )
    .await?;
    Ok(match conclusion.as_deref() {
        None => "no lockfile change",
        Some("failure") => "audit failed",
        Some("neutral") => "audit warnings",
        Some(_) => "audit passed",
    })
}

pub async fn act(h: &Handles, event: Event) -> Result<&'static str, StoreError> {
    let now = now_ms();
    match event {
        Event::Installation(e) => {
            let id = e.installation.id;
            match e.action.as_str() {
                "created" | "new_permissions_accepted" | "unsuspend" => {
                    let repos = refs(e.repositories.as_deref().unwrap_or_default());
                    h.store
                        .upsert_installation(
                            id,
                            &e.installation.account.login,
                            &e.installation.account.kind,
                            &repos,
                            now,
                        )
                        .await?;
                    if e.action == "unsuspend" {
                        h.store.set_installation_suspended(id, None, now).await?;
                    }
                    crate::drift::installations::record(
                        &h.store,
                        id,
                        &e.installation.permissions,
                        now,
                    )
                    .await?;
                    if e.action == "new_permissions_accepted" {
                        // Paused features resume at once; the reconcile catches up on what
                        // they missed (PRs whose CI finished, runs on the default branch).
                        crate::heal::resync::enqueue_installation(
                            &h.store,
                            id,
                            &format!("permissions-accepted:{now}"),
                            now,
                        )
                        .await?;
                        return Ok("permissions accepted");
                    }
                    Ok("installation synced")
                }
                "deleted" => h
                    .store
                    .delete_installation(id, now)
                    .await
                    .map(|_| "installation deleted"),
                "suspend" => h
                    .store
                    .set_installation_suspended(id, Some(now), now)
                    .await
                    .map(|_| "installation suspended"),
                _ => Ok("ignored action"),
            }
        }
        Event::InstallationRepositories(e) => {
            let id = e.installation.id;
            if h.store.installation(id).await?.is_none() {
                h.store
                    .upsert_installation(
                        id,
                        &e.installation.account.login,
                        &e.installation.account.kind,
                        &[],
                        now,
                    )
                    .await?;
            }
            h.store
                .add_repositories(id, &refs(&e.repositories_added), now)
                .await?;
            let removed: Vec<i64> = e.repositories_removed.iter().map(|r| r.id).collect();
            h.store.remove_repositories(&removed, now).await?;
            Ok("repositories synced")
        }
        Event::PullRequest(e)
            if e.action == "closed"
                && e.pull_request.user.login == h.deps.bot_login()
                && e.pull_request.head.git_ref == crate::commands::ignore_pr::IGNORE_BRANCH =>
        {
            // Merged: the file says it now; closed: a person said no. Either way the
            // pending changes are done.
            h.store.clear_pending_ignores(e.repository.id).await?;
            Ok("ignore changes settled")
        }
        Event::PullRequest(e)
            if e.action == "closed"
                && e.pull_request.merged != Some(true)
                && e.pull_request.user.login == h.deps.bot_login()
                && crate::deps::is_upkeep_branch(&e.pull_request.head.git_ref)
                && e.sender.kind != "Bot" =>
        {
            // A person closed upkeep's PR unmerged: do not propose the same update again.
            let body = e.pull_request.body.as_deref().unwrap_or_default();
            match crate::deps::body::fingerprint_of(body) {
                Some(fingerprint) => {
                    h.store
                        .record_declined(
                            e.repository.id,
                            &e.pull_request.head.git_ref,
                            fingerprint,
                            now,
                        )
                        .await?;
                    Ok("update declined")
                }
                None => Ok("recorded"),
            }
        }
        Event::Push(e) if crate::audit::triggers::push_changes_lockfile(&e) => {
            crate::audit::triggers::enqueue_audit(
                &h.store,
                e.repository.id,
                &format!("push:{}", e.after),
                now,
            )
            .await?;
            Ok("audit enqueued")
        }
        Event::Issues(e)
            if e.action == "closed"
                && e.sender.kind != "Bot"
                && e.issue.user.login == h.deps.bot_login() =>
        {
            // A person closed an advisory issue: not filed again until the situation changes.
            let body = e.issue.body.as_deref().unwrap_or_default();
            match crate::audit::report::issue_marker_of(body) {
                Some((id, state)) => {
                    h.store
                        .record_declined(
                            e.repository.id,
                            &crate::audit::fixes::declined_issue_key(id),
                            state,
                            now,
                        )
                        .await?;
                    Ok("advisory issue closed by a person")
                }
                None => Ok("recorded"),
            }
        }
        Event::Repository(e) => {
            let r = &e.repository;
            match e.action.as_str() {
                "renamed" | "transferred" => {
                    h.store.rename_repository(r.id, &r.full_name, now).await?;
                    Ok("repository renamed")
                }
                "edited"
                    if e.changes
                        .as_ref()
                        .is_some_and(|c| c.get("default_branch").is_some()) =>
                {
                    match r.default_branch.as_deref() {
                        Some(branch) => {
                            h.store.set_default_branch(r.id, branch, now).await?;
                            Ok("default branch recorded")
                        }
                        None => Ok("recorded"),
                    }
                }
                _ => Ok("ignored action"),
            }
        }
        Event::Ping | Event::Ignored(_) => Ok("ignored"),
        // Acted on by the capabilities that land with issues 4 to 8.
        Event::Push(_)
        | Event::PullRequest(_)
        | Event::IssueComment(_)
        | Event::Issues(_)
        | Event::CheckSuite(_)
        | Event::CheckRun(_)
        | Event::WorkflowRun(_)
        | Event::Status(_) => Ok("recorded"),
    }
}

fn refs(repos: &[events::RepositoryRef]) -> Vec<RepositoryRef<'_>> {
    repos
        .iter()
        .map(|r| RepositoryRef {
            id: r.id,
            full_name: &r.full_name,
            private: r.private,
        })
        .collect()
}
