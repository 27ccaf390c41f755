//! What each job kind does. `delivery` turns a stored webhook into our typed event and acts on
//! it; `daily` is a repository's scheduled pass. Capabilities (dependency updates, audits,
//! benchmarks, reverts) plug in here as they land; until then their events are recorded as seen.

use std::sync::Arc;

use serde::Deserialize;
use tracing::info;

use crate::deps::after_ci::{self, AfterCi};
use crate::deps::pass::{DepsPass, PassError};
use crate::github::app::SharedApp;
use crate::github::GitHubApp;

use crate::queue::scheduler::{DAILY_JOB, DEPS_JOB};
use crate::queue::worker::{JobError, JobHandler};
use crate::store::jobs::Job;
use crate::store::repositories::RepositoryRef;
use crate::store::{Store, StoreError};
use crate::time::now_ms;
use crate::webhook::events::{self, Event};
use crate::webhook::DELIVERY_JOB;

/// The application's job handler.
pub struct AppHandler {
    store: Store,
    github: SharedApp,
    deps: DepsPass,
    permissions: crate::commands::run::PermissionCache,
}

impl AppHandler {
    pub fn new(store: Store, github: SharedApp, deps: DepsPass) -> Self {
        AppHandler {
            store,
            github,
            deps,
            permissions: Default::default(),
        }
    }

    fn github(&self) -> Option<Arc<GitHubApp>> {
        self.github.read().ok().and_then(|g| g.clone())
    }

    async fn delivery(&self, job: &Job) -> Result<(), JobError> {
        #[derive(Deserialize)]
        struct Payload {
            delivery_id: String,
        }
        let payload: Payload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad delivery job payload: {e}")))?;
        let delivery = self
            .store
            .delivery(&payload.delivery_id)
            .await?
            .ok_or_else(|| {
                JobError::Permanent(format!("delivery {} is not stored", payload.delivery_id))
            })?;
        let event = Event::parse(&delivery.event, delivery.payload.as_bytes()).map_err(|e| {
            JobError::Permanent(format!("{} payload does not parse: {e}", delivery.event))
        })?;
        let outcome = match self.act_on_github(&event, &delivery.delivery_id).await? {
            Some(outcome) => outcome,
            None => self.act(event).await?,
        };
        info!(delivery = %delivery.delivery_id, event = %delivery.event, outcome, "delivery processed");
        self.store
            .mark_delivery_processed(&delivery.delivery_id, outcome, now_ms())
            .await
            .map_err(JobError::from)
    }

    /// Events that make upkeep act on GitHub: a pull request opened or pushed to gets the
    /// `upkeep/audit` check; CI finished on an upkeep PR may merge it or call a person. `None`
    /// for every other event (stored-state events go to `act`).
    async fn act_on_github(
        &self,
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
                return self.audit_pull_request(e).await.map(Some);
            }
            Event::IssueComment(e) => {
                let (Some(installation), Some(github)) = (e.installation.as_ref(), self.github())
                else {
                    return Ok(Some("recorded"));
                };
                let client = github.installation(installation.id);
                let conversation = crate::commands::run::Conversation {
                    store: &self.store,
                    client: &client,
                    deps: &self.deps,
                    permissions: &self.permissions,
                    repository_id: e.repository.id,
                    full_name: &e.repository.full_name,
                    delivery_id,
                };
                return conversation.on_comment(e).await.map(Some);
            }
            Event::Issues(e)
                if e.sender.kind != "Bot"
                    && e.issue.user.login == self.deps.bot_login()
                    && crate::dashboard::is_dashboard(
                        e.issue.body.as_deref().unwrap_or_default(),
                    ) =>
            {
                return self.on_dashboard(e).await.map(Some);
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
                    crate::deps::pass::is_upkeep_branch(b)
                        || b.starts_with(crate::revert::BRANCH_PREFIX)
                }),
                e.sha.as_str(),
            ),
            _ => return Ok(None),
        };
        let (Some(installation), Some(branch)) = (installation, branch) else {
            return Ok(Some("recorded"));
        };
        if !crate::deps::pass::is_upkeep_branch(branch) {
            // Anyone's workflow run may carry benchmark results.
            if let (Event::WorkflowRun(e), Some(github)) = (event, self.github()) {
                let client = github.installation(installation);
                let reverted =
                    crate::revert::watch::on_workflow_run(&self.store, &client, e, &self.deps.slug)
                        .await?;
                // Any run may carry benchmark results, whatever auto-revert made of it.
                let bench = crate::bench::ingest::on_workflow_run(
                    &self.store,
                    &client,
                    e,
                    &self.deps.slug,
                    self.deps.public_url.as_deref(),
                )
                .await?;
                return Ok(Some(reverted.unwrap_or(bench)));
            }
            if let (Event::Status(e), Some(github)) = (event, self.github()) {
                let client = github.installation(installation);
                let reverted = crate::revert::watch::on_status(
                    &self.store,
                    &client,
                    e,
                    branch,
                    &self.deps.slug,
                )
                .await?;
                return Ok(Some(reverted.unwrap_or("recorded")));
            }
            if let (Event::CheckSuite(e), Some(github)) = (event, self.github()) {
                let client = github.installation(installation);
                let reverted = crate::revert::suites::on_check_suite(
                    &self.store,
                    &client,
                    e,
                    &self.deps.slug,
                    github.app_id() as i64,
                )
                .await?;
                return Ok(Some(reverted.unwrap_or("recorded")));
            }
            return Ok(Some("recorded"));
        }
        let Some(github) = self.github() else {
            return Ok(Some("recorded"));
        };
        let client = github.installation(installation);
        let outcome = after_ci::on_ci_finished(&client, repo, branch, sha).await?;
        Ok(Some(match outcome {
            AfterCi::NotOurs => "recorded",
            AfterCi::Pending => "ci pending",
            AfterCi::Merged(_) => "merged",
            AfterCi::GreenLeftOpen(_) => "green",
            AfterCi::NeedsHuman { .. } => "needs a person",
            AfterCi::RedLeftOpen(_) => "red",
        }))
    }

    /// A person ticked a box on the dashboard (the pass does it and unticks it), closed it
    /// (dashboard off) or reopened it (on again, refreshed).
    async fn on_dashboard(&self, e: &events::IssuesEvent) -> Result<&'static str, JobError> {
        let id = e.repository.id;
        match e.action.as_str() {
            "closed" => {
                self.store.set_dashboard_off(id, true, now_ms()).await?;
                return Ok("dashboard off");
            }
            "reopened" => {
                self.store.set_dashboard_off(id, false, now_ms()).await?;
                crate::audit::triggers::enqueue_pass(
                    &self.store,
                    DEPS_JOB,
                    id,
                    &format!("dashboard:{}", now_ms()),
                    now_ms(),
                )
                .await?;
                return Ok("dashboard on");
            }
            "edited" => {}
            _ => return Ok("recorded"),
        }
        let actions = crate::dashboard::ticked(e.issue.body.as_deref().unwrap_or_default());
        let (Some(installation), Some(github), false) =
            (e.installation.as_ref(), self.github(), actions.is_empty())
        else {
            return Ok("dashboard edited");
        };
        let closed = e.issue.state.as_deref() == Some("closed");
        let client = github.installation(installation.id);
        let repo = crate::github::repo::Repo::new(&client, &e.repository.full_name);
        let level = self
            .permissions
            .level(&repo, &e.repository.full_name, &e.sender.login)
            .await?;
        if closed || !crate::commands::WRITE_LEVELS.contains(&level.as_str()) {
            // Ticks count only from people who may change things, on a dashboard that is on.
            return Ok("dashboard tick ignored");
        }
        let mut options = crate::commands::run::pass_options(&self.store, id).await?;
        options.deps = true;
        options.dashboard = Some(true);
        for a in actions {
            match a {
                crate::dashboard::Action::Create(branch) => {
                    options.create_now.insert(branch);
                }
                crate::dashboard::Action::Rebase(number) => {
                    if let Ok((p, _, _)) = repo.pull(number).await {
                        options.rebuild.insert(p.head_ref);
                    }
                }
            }
        }
        match self
            .deps
            .run_with(&client, &e.repository.full_name, &options)
            .await
        {
            Ok(_) => Ok("dashboard actions done"),
            Err(PassError::GitHub(e)) => Err(JobError::from(e)),
            Err(e) => Err(JobError::Retry(e.to_string())),
        }
    }

    /// The `upkeep/audit` check on a PR that changes a lockfile.
    async fn audit_pull_request(
        &self,
        e: &events::PullRequestEvent,
    ) -> Result<&'static str, JobError> {
        let (Some(installation), Some(github)) = (e.installation.as_ref(), self.github()) else {
            return Ok("recorded");
        };
        let Some(db) = self.deps.advisories.as_ref().and_then(|a| a.current()) else {
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

    async fn act(&self, event: Event) -> Result<&'static str, StoreError> {
        let now = now_ms();
        match event {
            Event::Installation(e) => {
                let id = e.installation.id;
                match e.action.as_str() {
                    "created" | "new_permissions_accepted" | "unsuspend" => {
                        let repos = refs(e.repositories.as_deref().unwrap_or_default());
                        self.store
                            .upsert_installation(
                                id,
                                &e.installation.account.login,
                                &e.installation.account.kind,
                                &repos,
                                now,
                            )
                            .await?;
                        if e.action == "unsuspend" {
                            self.store.set_installation_suspended(id, None, now).await?;
                        }
                        Ok("installation synced")
                    }
                    "deleted" => self
                        .store
                        .delete_installation(id, now)
                        .await
                        .map(|_| "installation deleted"),
                    "suspend" => self
                        .store
                        .set_installation_suspended(id, Some(now), now)
                        .await
                        .map(|_| "installation suspended"),
                    _ => Ok("ignored action"),
                }
            }
            Event::InstallationRepositories(e) => {
                let id = e.installation.id;
                if self.store.installation(id).await?.is_none() {
                    self.store
                        .upsert_installation(
                            id,
                            &e.installation.account.login,
                            &e.installation.account.kind,
                            &[],
                            now,
                        )
                        .await?;
                }
                self.store
                    .add_repositories(id, &refs(&e.repositories_added), now)
                    .await?;
                let removed: Vec<i64> = e.repositories_removed.iter().map(|r| r.id).collect();
                self.store.remove_repositories(&removed, now).await?;
                Ok("repositories synced")
            }
            Event::PullRequest(e)
                if e.action == "closed"
                    && e.pull_request.user.login == self.deps.bot_login()
                    && e.pull_request.head.git_ref == crate::commands::ignore_pr::IGNORE_BRANCH =>
            {
                // Merged: the file says it now; closed: a person said no. Either way the
                // pending changes are done.
                self.store.clear_pending_ignores(e.repository.id).await?;
                Ok("ignore changes settled")
            }
            Event::PullRequest(e)
                if e.action == "closed"
                    && e.pull_request.merged != Some(true)
                    && e.pull_request.user.login == self.deps.bot_login()
                    && crate::deps::pass::is_upkeep_branch(&e.pull_request.head.git_ref)
                    && e.sender.kind != "Bot" =>
            {
                // A person closed upkeep's PR unmerged: do not propose the same update again.
                let body = e.pull_request.body.as_deref().unwrap_or_default();
                match crate::deps::body::fingerprint_of(body) {
                    Some(fingerprint) => {
                        self.store
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
                    &self.store,
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
                    && e.issue.user.login == self.deps.bot_login() =>
            {
                // A person closed an advisory issue: not filed again until the situation changes.
                let body = e.issue.body.as_deref().unwrap_or_default();
                match crate::audit::report::issue_marker_of(body) {
                    Some((id, state)) => {
                        self.store
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

    /// The daily slot: the dependency pass (which audits too) runs here only until the
    /// repository has a schedule of its own (its first pass records one); on other days the
    /// slot audits.
    async fn daily(&self, job: &Job) -> Result<(), JobError> {
        let repository_id = job
            .repository_id
            .ok_or_else(|| JobError::Permanent("daily job without a repository".into()))?;
        let first = self
            .store
            .repository(repository_id)
            .await?
            .is_some_and(|r| r.deps_next_at.is_none());
        self.pass(job, first).await?;
        self.store
            .set_last_daily_run(repository_id, now_ms())
            .await
            .map_err(JobError::from)
    }

    /// The dependency pass and audit (`deps`), or the audit alone; then what the next
    /// passes need: the time the schedule wants the next dependency pass, and which crates
    /// the repository locks (for audits after an advisory database refresh).
    async fn pass(&self, job: &Job, deps: bool) -> Result<(), JobError> {
        let repository_id = job
            .repository_id
            .ok_or_else(|| JobError::Permanent("daily job without a repository".into()))?;
        let repository = self.store.repository(repository_id).await?.ok_or_else(|| {
            JobError::Permanent(format!("repository {repository_id} is not stored"))
        })?;
        let Some(github) = self.github() else {
            // First-run setup: no credentials yet. Try again later without using an attempt.
            return Err(JobError::Defer {
                until_ms: now_ms() + 10 * 60 * 1000,
                reason: "the GitHub App is not registered yet".into(),
            });
        };
        let client = github.installation(repository.installation_id);
        info!(repo = %repository.full_name, installation = repository.installation_id, deps, "pass");
        let mut options = crate::commands::run::pass_options(&self.store, repository_id).await?;
        options.deps = deps;
        let result = self
            .deps
            .run_with(&client, &repository.full_name, &options)
            .await;
        let outcome = match result {
            Ok(o) => o,
            Err(PassError::GitHub(e)) => return Err(JobError::from(e)),
            Err(e) => return Err(JobError::Retry(e.to_string())),
        };
        self.store
            .set_locked_crates(repository_id, &outcome.locked_crates)
            .await?;
        if !deps {
            return Ok(());
        }
        let next = outcome
            .next_run_at
            .map(|t| t.timestamp_millis())
            .unwrap_or_else(|| now_ms() + crate::time::DAY_MS);
        self.store
            .set_deps_next_at(repository_id, next, now_ms())
            .await
            .map_err(JobError::from)
    }
}

impl JobHandler for AppHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        match job.kind.as_str() {
            DELIVERY_JOB => self.delivery(job).await,
            DAILY_JOB => self.daily(job).await,
            DEPS_JOB => self.pass(job, true).await,
            crate::audit::triggers::AUDIT_JOB => self.pass(job, false).await,
            other => Err(JobError::Permanent(format!("unknown job kind {other:?}"))),
        }
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
