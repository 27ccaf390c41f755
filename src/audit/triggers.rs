//! When a repository is audited outside its daily run: a push to the default branch that
//! changes a `Cargo.lock`, and an advisory database refresh that brings new or changed
//! advisories for a crate the repository locks. Each enqueues an `audit` job (security PRs and
//! advisory issues only), deduplicated by what caused it.

use std::collections::BTreeSet;

use tracing::info;

use crate::store::jobs::NewJob;
use crate::store::{Store, StoreError};
use crate::webhook::events::PushEvent;

/// The job kind of an audit outside the daily run.
pub const AUDIT_JOB: &str = "audit";

/// Enqueues an audit of `repository_id`, once per `cause`.
pub async fn enqueue_audit(
    store: &Store,
    repository_id: i64,
    cause: &str,
    now: i64,
) -> Result<bool, StoreError> {
    enqueue_pass(store, AUDIT_JOB, repository_id, cause, now).await
}

/// Enqueues a pass of `kind` (`audit` or `deps`) on `repository_id` to run now, once per `cause`.
pub async fn enqueue_pass(
    store: &Store,
    kind: &str,
    repository_id: i64,
    cause: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let key = format!("{kind}:{repository_id}:{cause}");
    let payload = serde_json::json!({ "repository_id": repository_id }).to_string();
    store
        .enqueue(
            &NewJob {
                kind,
                dedupe_key: &key,
                payload: &payload,
                run_at: Some(now),
                max_attempts: crate::queue::DEFAULT_MAX_ATTEMPTS,
                repository_id: Some(repository_id),
            },
            now,
        )
        .await
}

/// Whether a push lands on the default branch and changes a `Cargo.lock`.
pub fn push_changes_lockfile(e: &PushEvent) -> bool {
    let default = e.repository.default_branch.as_deref().unwrap_or("main");
    if e.deleted || e.git_ref != format!("refs/heads/{default}") {
        return false;
    }
    let is_lock = |p: &String| p == "Cargo.lock" || p.ends_with("/Cargo.lock");
    // A forced push, or one with more commits than the payload lists, may change it unseen.
    e.forced
        || e.commits.len() >= 20
        || e.commits.iter().any(|c| {
            c.added.iter().any(is_lock)
                || c.modified.iter().any(is_lock)
                || c.removed.iter().any(is_lock)
        })
}

/// After a refresh that changed advisories of `packages`: an audit of every repository that
/// locks one of them, once per database version (`db_key`). Returns how many were enqueued.
pub async fn audit_after_refresh(
    store: &Store,
    packages: &BTreeSet<String>,
    db_key: &str,
    now: i64,
) -> Result<usize, StoreError> {
    if packages.is_empty() {
        return Ok(0);
    }
    let mut enqueued = 0;
    for repository_id in store.repositories_locking(packages).await? {
        if enqueue_audit(store, repository_id, &format!("db:{db_key}"), now).await? {
            enqueued += 1;
        }
    }
    info!(
        crates = packages.len(),
        repositories = enqueued,
        "advisories changed: audits enqueued"
    );
    Ok(enqueued)
}
