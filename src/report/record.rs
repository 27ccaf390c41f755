//! Facts for the weekly report, recorded as they happen, once each (keyed, so a redelivered
//! event or a re-run job counts nothing twice): upkeep's own pull requests opened, merged
//! (with the time it took) and closed, from their webhooks; benchmark regressions caught, from
//! the benchmark verdict. Driver.

use super::weekly::kind;
use crate::store::{Store, StoreError};
use crate::webhook::events::PullRequestEvent;

fn ms(rfc3339: Option<&str>) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339?)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// An upkeep pull request opened or closed (`bot` is upkeep's own login); other PRs and
/// actions record nothing.
pub async fn pull_request(
    store: &Store,
    e: &PullRequestEvent,
    bot: &str,
    now: i64,
) -> Result<(), StoreError> {
    let pr = &e.pull_request;
    if pr.user.login != bot || !crate::deps::is_upkeep_branch(&pr.head.git_ref) {
        return Ok(());
    }
    let repo = e.repository.id;
    match e.action.as_str() {
        "opened" => {
            let at = ms(pr.created_at.as_deref()).unwrap_or(now);
            let key = format!("{}:{repo}:{}", kind::PR_OPENED, e.number);
            store
                .record_repo_event(&key, repo, kind::PR_OPENED, at, None)
                .await?;
        }
        "closed" => {
            let key = format!("pr_done:{repo}:{}", e.number);
            if pr.merged == Some(true) {
                let at = ms(pr.merged_at.as_deref()).unwrap_or(now);
                let took = ms(pr.created_at.as_deref()).map(|c| ((at - c).max(0) / 1000) as f64);
                store
                    .record_repo_event(&key, repo, kind::PR_MERGED, at, took)
                    .await?;
                if pr
                    .head
                    .git_ref
                    .starts_with(crate::audit::plan::BRANCH_PREFIX)
                {
                    let key = format!("{}:{repo}:{}", kind::ADVISORY_FIXED, e.number);
                    store
                        .record_repo_event(&key, repo, kind::ADVISORY_FIXED, at, None)
                        .await?;
                }
            } else {
                let at = ms(pr.closed_at.as_deref()).unwrap_or(now);
                store
                    .record_repo_event(&key, repo, kind::PR_CLOSED, at, None)
                    .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A benchmark regression upkeep reported (a confirmed one on a pull request, or one on the
/// default branch), once per repository and commit.
pub async fn bench_regression(
    store: &Store,
    repository_id: i64,
    sha: &str,
    now: i64,
) -> Result<(), StoreError> {
    let key = format!("{}:{repository_id}:{sha}", kind::BENCH_REGRESSION);
    store
        .record_repo_event(&key, repository_id, kind::BENCH_REGRESSION, now, None)
        .await?;
    Ok(())
}
