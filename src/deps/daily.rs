//! A repository's scheduled pass, as the queue runs it: the daily slot (the dependency pass
//! until the repository has a schedule of its own, else the audit), and the pass itself with
//! what the next passes need stored afterwards (when the next dependency pass is due, which
//! crates are locked).

use tracing::info;

use crate::handles::Handles;
use crate::queue::worker::JobError;
use crate::store::jobs::Job;
use crate::time::now_ms;

use super::pass::PassError;

/// The daily slot: the dependency pass (which audits too) runs here only until the
/// repository has a schedule of its own (its first pass records one); on other days the
/// slot audits.
pub async fn daily(h: &Handles, job: &Job) -> Result<(), JobError> {
    let repository_id = job
        .repository_id
        .ok_or_else(|| JobError::Permanent("daily job without a repository".into()))?;
    let first = h
        .store
        .repository(repository_id)
        .await?
        .is_some_and(|r| r.deps_next_at.is_none());
    pass(h, job, first).await?;
    h.store
        .set_last_daily_run(repository_id, now_ms())
        .await
        .map_err(JobError::from)
}

/// The dependency pass and audit (`deps`), or the audit alone; then what the next
/// passes need: the time the schedule wants the next dependency pass, and which crates
/// the repository locks (for audits after an advisory database refresh).
pub async fn pass(h: &Handles, job: &Job, deps: bool) -> Result<(), JobError> {
    let repository_id = job
        .repository_id
        .ok_or_else(|| JobError::Permanent("daily job without a repository".into()))?;
    let repository =
        h.store.repository(repository_id).await?.ok_or_else(|| {
            JobError::Permanent(format!("repository {repository_id} is not stored"))
        })?;
    let Some(github) = h.github() else {
        // First-run setup: no credentials yet. Try again later without using an attempt.
        return Err(JobError::Defer {
            until_ms: now_ms() + 10 * 60 * 1000,
            reason: "the GitHub App is not registered yet".into(),
        });
    };
    if !h.store.is_granted(repository_id).await? {
        info!(repo = %repository.full_name, "no longer granted: nothing to do");
        return Ok(());
    }
    let client = github.installation(repository.installation_id);
    if crate::queue::scheduler::is_scheduled(&job.kind, &job.dedupe_key) {
        let budget = github.transport().budget(repository.installation_id);
        if let Some(until_ms) = budget
            .as_ref()
            .and_then(|b| b.scheduled_wait(now_ms(), crate::heal::budget::DEFAULT_RESERVE))
        {
            info!(repo = %repository.full_name, installation = repository.installation_id, remaining = budget.as_ref().map(|b| b.remaining), until_ms, "the API budget is below its reserve: the scheduled pass waits for the reset");
            return Err(JobError::Defer {
                until_ms,
                reason: "the installation's API budget is below its 20% reserve; scheduled work waits for the reset".into(),
            });
        }
    }
    info!(repo = %repository.full_name, installation = repository.installation_id, deps, "pass");
    let mut options = crate::commands::run::pass_options(&h.store, repository_id).await?;
    options.deps = deps;
    let result = h
        .deps
        .run_with(&client, &repository.full_name, &options)
        .await;
    let outcome = match result {
        Ok(o) => o,
        Err(PassError::GitHub(crate::github::GitHubError::Status {
            status: 404, path, ..
        })) if path == crate::github::names::repo_path(&repository.full_name, "") => {
            // Renamed, transferred or removed while nobody listened: reconciling the
            // installation finds out which, and the next attempt uses what it found.
            crate::heal::resync::enqueue_installation(
                &h.store,
                repository.installation_id,
                &format!("missing:{repository_id}:{}", now_ms() / 3_600_000),
                now_ms(),
            )
            .await?;
            return Err(JobError::Retry(format!(
                "{} is not found under that name: reconciling its installation",
                repository.full_name
            )));
        }
        Err(e) => return Err(JobError::from(e)),
    };
    h.store
        .set_locked_crates(repository_id, &outcome.locked_crates)
        .await?;
    if !deps {
        return Ok(());
    }
    let next = outcome
        .next_run_at
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| now_ms() + crate::time::DAY_MS);
    h.store
        .set_deps_next_at(repository_id, next, now_ms())
        .await
        .map_err(JobError::from)
}
