//! Keeping the dashboard issue current at the end of every pass: found among the open issues
//! the pass already listed (by marker), rendered from what the pass saw and did, and written
//! only when its text changed — an unchanged dashboard costs no request. Between passes, an
//! auto-revert decision rewrites the auto-revert section alone (`refresh_reverts`).

use crate::dashboard::{self, Dashboard, IgnoreLine, RevertLine};
use crate::deps::pass::{DepsPass, Gathered, PassError, PassOptions, PassOutcome};
use crate::github::repo::Repo;
use crate::queue::worker::JobError;
use crate::store::reverts::Decision;
use crate::store::Store;

/// How many auto-revert decisions the dashboard lists.
const REVERT_LINES: i64 = 10;

/// Rewrites only the auto-revert section of the repository's dashboard (upkeep's own issue,
/// by `bot`, when there is one) from the decisions recorded: what an auto-revert decision
/// changes between passes. A dashboard whose text would not change costs no write.
pub(crate) async fn refresh_reverts(
    repo: &Repo<'_>,
    store: &Store,
    repository_id: i64,
    bot: &str,
) -> Result<(), JobError> {
    let Some(issue) = repo
        .open_issues()
        .await?
        .into_iter()
        .find(|i| i.author == bot && dashboard::is_dashboard(&i.body))
    else {
        return Ok(());
    };
    let decisions = store
        .recent_revert_decisions(repository_id, REVERT_LINES)
        .await?;
    let body = dashboard::with_reverts(&issue.body, &revert_lines(decisions));
    if body.trim_end() != issue.body.trim_end() {
        repo.update_issue_body(issue.number, &body).await?;
    }
    Ok(())
}

/// Auto-revert decisions as the dashboard lists them.
fn revert_lines(decisions: Vec<Decision>) -> Vec<RevertLine> {
    decisions
        .into_iter()
        .map(|d| RevertLine {
            at: chrono::DateTime::from_timestamp_millis(d.created_at)
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            sha: d.sha,
            decision: d.decision,
            reason: d.reason,
            revert_pr: d.revert_pr,
            issue: d.issue_number,
        })
        .collect()
}

impl DepsPass {
    pub(crate) async fn dashboard(
        &self,
        repo: &Repo<'_>,
        g: &Gathered,
        options: &PassOptions,
        outcome: &mut PassOutcome,
    ) -> Result<(), PassError> {
        let mut open_prs: Vec<(u64, String, String)> = g
            .open
            .iter()
            .filter(|p| !outcome.closed.contains(&p.number))
            .map(|p| (p.number, p.title.clone(), p.head_ref.clone()))
            .collect();
        for (number, title, branch) in &outcome.published {
            match open_prs.iter_mut().find(|p| p.0 == *number) {
                Some(p) => p.1 = title.clone(),
                None => open_prs.push((*number, title.clone(), branch.clone())),
            }
        }
        open_prs.sort();
        let pending: Vec<&crate::config::edit::IgnoreEdit> =
            options.ignore_edits.iter().filter(|e| e.add).collect();
        let ignores = g
            .config
            .ignore
            .iter()
            .map(|r| {
                let mut condition: Vec<String> =
                    r.versions.iter().map(ToString::to_string).collect();
                condition.extend(
                    r.update_types
                        .iter()
                        .map(|l| format!("{l:?} updates").to_lowercase()),
                );
                let dependency = r.dependency.as_str().to_owned();
                IgnoreLine {
                    pending: pending.iter().any(|e| e.covers(r)),
                    dependency,
                    condition: condition.join(", "),
                    reason: r.reason.clone(),
                }
            })
            .collect();
        // What the store adds to the dashboard (auto-revert's decisions, quarantined jobs, last
        // week's report) is the page's, not the pass's work: a database that errs, or is too
        // slow to answer within `OPTIONAL_READ`, leaves that part out of this render (the
        // next pass puts it back) instead of failing or holding the pass (a PostgreSQL outage
        // mid-pass cost it an attempt).
        let id = g.repository_id;
        let (reverts, quarantined, weekly, blind) = match &self.store {
            Some(store) => (
                optional(
                    id,
                    "revert decisions",
                    store.recent_revert_decisions(id, REVERT_LINES),
                )
                .await
                .map(revert_lines)
                .unwrap_or_default(),
                optional(id, "quarantined jobs", store.quarantined_jobs(id, 10))
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|j| (j.kind, j.last_error.unwrap_or_default()))
                    .collect(),
                optional(
                    id,
                    "last week's facts",
                    crate::report::gather::repo_week(
                        store,
                        id,
                        crate::report::weekly::last_week(crate::time::now_ms()),
                        Some(outcome.advisories.len()),
                    ),
                )
                .await
                .flatten()
                .map(|w| crate::report::weekly::render_repo(&w)),
                optional(
                    id,
                    "benchmark detection limits",
                    crate::bench::blind::blind_benchmarks(store, id, &g.default_branch),
                )
                .await
                .unwrap_or_default(),
            ),
            None => (Vec::new(), Vec::new(), None, Vec::new()),
        };
        let body = dashboard::render(&Dashboard {
            slug: &self.slug,
            open_prs,
            held_back: &outcome.held_back,
            waiting: &outcome.held,
            ignores,
            advisories: &outcome.advisories,
            silenced: &outcome.ignored_advisories,
            config_problems: &outcome.config_messages,
            paused: &outcome.paused,
            reverts: &reverts,
            quarantined: &quarantined,
            weekly: weekly.as_deref(),
            blind: &blind,
            toolchain: outcome.toolchain.as_deref(),
            unreachable: &outcome.unreachable,
            duplicates: g
                .workspaces
                .iter()
                .filter_map(|ws| {
                    let (_, locked) = ws.lockfile.as_ref()?;
                    Some((ws.root.clone(), crate::deps::duplicates::duplicates(locked)))
                })
                .collect(),
        });
        match g.issues.iter().find(|i| dashboard::is_dashboard(&i.body)) {
            Some(issue) => {
                if issue.body.trim_end() != body.trim_end() {
                    repo.update_issue_body(issue.number, &body).await?;
                }
                outcome.dashboard = Some(issue.number);
            }
            None => {
                let number = repo.create_issue(dashboard::TITLE, &body, &[]).await?;
                outcome.dashboard = Some(number);
            }
        }
        Ok(())
    }
}

/// How long the dashboard waits for each optional read of the store.
const OPTIONAL_READ: std::time::Duration = std::time::Duration::from_secs(2);

/// An optional part of the dashboard: `None` (logged) when the store errs or does not answer
/// within `OPTIONAL_READ`.
async fn optional<T>(
    repository: i64,
    what: &str,
    read: impl std::future::Future<Output = Result<T, crate::store::StoreError>>,
) -> Option<T> {
    match tokio::time::timeout(OPTIONAL_READ, read).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            tracing::warn!(repository, error = %e, "{what} unreadable; left out of the dashboard");
            None
        }
        Err(_) => {
            tracing::warn!(
                repository,
                "{what} not read within 2 s; left out of the dashboard"
            );
            None
        }
    }
}
