//! Reconciling, the driver: when the events that would have told upkeep are gone (away longer
//! than GitHub's delivery log covers, a database restored from a backup or started empty) or a
//! repository admin says `@upkeep sync`, read the world from GitHub and act on it through the
//! paths the events take. `heal::reconcile` decides what to act on.
//!
//! Three job kinds, fanned out so each is small and a crash repeats only its own part:
//! `reconcile-app` lists the App's installations (JWT) and brings the stored ones in line;
//! `reconcile-installation` lists an installation's repositories (renames, transfers, a new
//! default branch, repositories granted or removed while away); `reconcile-repository` decides
//! upkeep's open PRs and passes the default branch's latest results through the revert watch
//! (and reads benchmark results nobody read). Every effect underneath is find-or-create, so a
//! job run twice, or a sync next to a webhook, does nothing twice.

use serde_json::json;
use tracing::info;

use super::reconcile::{
    self, LiveRepo, OpenPull, PullKind, Reconciled, RepoChange, RunSummary, StoredRepo,
};
use crate::deps::pass::DepsPass;
use crate::github::listings;
use crate::github::repo::Repo;
use crate::github::InstallationClient;
use crate::handles::Handles;
use crate::queue::worker::JobError;
use crate::store::jobs::{Job, NewJob};
use crate::store::repositories::RepositoryRef;
use crate::store::{Store, StoreError};
use crate::time::now_ms;
use crate::webhook::events::{CheckSuiteEvent, WorkflowRunEvent};

/// Lists the App's installations and fans out to each.
pub const APP_JOB: &str = "reconcile-app";
/// Lists one installation's repositories and fans out to each.
pub const INSTALLATION_JOB: &str = "reconcile-installation";
/// Decides one repository's open PRs and default-branch results.
pub const REPOSITORY_JOB: &str = "reconcile-repository";

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    #[serde(default)]
    id: i64,
    cause: String,
}

async fn enqueue(
    store: &Store,
    kind: &str,
    id: i64,
    cause: &str,
    repository_id: Option<i64>,
    now: i64,
) -> Result<bool, StoreError> {
    let key = format!("{kind}:{id}:{cause}");
    let payload = serde_json::to_string(&Payload {
        id,
        cause: cause.to_owned(),
    })
    .unwrap_or_default();
    store
        .enqueue(
            &NewJob {
                kind,
                dedupe_key: &key,
                payload: &payload,
                run_at: Some(now),
                max_attempts: crate::queue::DEFAULT_MAX_ATTEMPTS,
                repository_id,
            },
            now,
        )
        .await
}

/// Queues a reconcile of everything the App is installed on, once per `cause`.
pub async fn enqueue_everything(store: &Store, cause: &str, now: i64) -> Result<bool, StoreError> {
    enqueue(store, APP_JOB, 0, cause, None, now).await
}

/// Queues a reconcile of one installation's repositories, once per `cause` (a job that found
/// its repository gone under its stored name asks for one).
pub async fn enqueue_installation(
    store: &Store,
    installation: i64,
    cause: &str,
    now: i64,
) -> Result<bool, StoreError> {
    enqueue(store, INSTALLATION_JOB, installation, cause, None, now).await
}

fn payload(job: &Job) -> Result<Payload, JobError> {
    serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad reconcile job payload: {e}")))
}

/// `reconcile-app`: the App's installations as GitHub lists them.
pub async fn app(h: &Handles, job: &Job) -> Result<(), JobError> {
    let p = payload(job)?;
    let store = &h.store;
    let Some(github) = h.github() else {
        return Ok(());
    };
    let (installations, complete) = listings::app_installations(&github).await?;
    let now = now_ms();
    let listed: Vec<i64> = installations.iter().map(|i| i.id).collect();
    for i in &installations {
        let (login, kind) = i
            .account
            .as_ref()
            .map_or(("", ""), |a| (a.login.as_str(), a.kind.as_str()));
        store
            .upsert_installation(i.id, login, kind, &[], now)
            .await?;
        let suspended = i.suspended_at.is_some().then_some(now);
        store
            .set_installation_suspended(i.id, suspended, now)
            .await?;
    }
    if complete {
        for gone in store.live_installations().await? {
            if !listed.contains(&gone) {
                info!(installation = gone, "the App is no longer installed there");
                store.delete_installation(gone, now).await?;
            }
        }
    }
    for i in installations.iter().filter(|i| i.suspended_at.is_none()) {
        enqueue(store, INSTALLATION_JOB, i.id, &p.cause, None, now).await?;
    }
    Ok(())
}

/// `reconcile-installation`: the installation's repositories as GitHub lists them.
pub async fn installation(h: &Handles, job: &Job) -> Result<(), JobError> {
    let p = payload(job)?;
    let store = &h.store;
    let Some(github) = h.github() else {
        return Ok(());
    };
    let client = github.installation(p.id);
    let (listed, complete) = listings::installation_repositories(&client).await?;
    let live: Vec<LiveRepo> = listed
        .iter()
        .filter(|r| crate::github::names::check_full_name(&r.full_name).is_ok())
        .map(|r| LiveRepo {
            id: r.id,
            full_name: r.full_name.clone(),
            default_branch: r.default_branch.clone().unwrap_or_else(|| "main".into()),
            private: r.private,
        })
        .collect();
    let stored: Vec<StoredRepo> = store
        .granted_repositories(p.id)
        .await?
        .into_iter()
        .map(|(id, full_name, default_branch)| StoredRepo {
            id,
            full_name,
            default_branch,
        })
        .collect();
    let now = now_ms();
    for change in reconcile::repositories(&stored, &live, complete) {
        apply(store, p.id, &change, now).await?;
    }
    for repo in &live {
        enqueue(store, REPOSITORY_JOB, repo.id, &p.cause, Some(repo.id), now).await?;
    }
    Ok(())
}

/// Records one repository change.
async fn apply(
    store: &Store,
    installation: i64,
    change: &RepoChange,
    now: i64,
) -> Result<(), StoreError> {
    match change {
        RepoChange::Renamed { id, from, to } => {
            info!(installation, repository = id, from = %from, to = %to, "repository renamed or transferred while upkeep was away");
            store.rename_repository(*id, to, now).await
        }
        RepoChange::DefaultBranch { id, from, to } => {
            info!(installation, repository = id, from = ?from, to = %to, "default branch recorded");
            store.set_default_branch(*id, to, now).await.map(|_| ())
        }
        RepoChange::Added(r) => {
            info!(installation, repository = r.id, repo = %r.full_name, "repository granted while upkeep was away");
            let added = RepositoryRef {
                id: r.id,
                full_name: &r.full_name,
                private: r.private,
            };
            store.add_repositories(installation, &[added], now).await?;
            store
                .set_default_branch(r.id, &r.default_branch, now)
                .await
                .map(|_| ())
        }
        RepoChange::Removed { id, full_name } => {
            info!(installation, repository = id, repo = %full_name, "repository no longer granted");
            store.remove_repositories(&[*id], now).await
        }
    }
}

/// `reconcile-repository`.
pub async fn repository_job(h: &Handles, job: &Job) -> Result<(), JobError> {
    let p = payload(job)?;
    let store = &h.store;
    let Some(repo) = store.repository(p.id).await? else {
        return Ok(());
    };
    let Some(github) = h.github() else {
        return Ok(());
    };
    let client = github.installation(repo.installation_id);
    let done = repository(store, &client, &h.deps, p.id, &repo.full_name).await?;
    info!(repository = p.id, repo = %repo.full_name, cause = %p.cause, ?done, "repository reconciled");
    Ok(())
}

/// Reconciles one repository, known as `full_name`: its name and default branch, upkeep's open
/// PRs, the default branch's latest results.
pub async fn repository(
    store: &Store,
    client: &InstallationClient,
    deps: &DepsPass,
    repository_id: i64,
    full_name: &str,
) -> Result<Reconciled, JobError> {
    let installation = client.installation_id();
    let mut done = Reconciled::default();
    let now = now_ms();
    let info = Repo::new(client, full_name).info().await?;
    if info.id != 0 && info.id != repository_id {
        return Err(JobError::Permanent(format!(
            "{full_name} is now another repository (id {}), not {repository_id}",
            info.id
        )));
    }
    // The name to compare is the stored one: `full_name` may come fresh from an event.
    let stored_name = store
        .repository(repository_id)
        .await?
        .map_or_else(|| full_name.to_owned(), |r| r.full_name);
    if info.full_name != stored_name {
        store
            .rename_repository(repository_id, &info.full_name, now)
            .await?;
        done.renamed = Some((stored_name, info.full_name.clone()));
    }
    let before = store
        .set_default_branch(repository_id, &info.default_branch, now)
        .await?;
    done.branch = info.default_branch.clone();
    // A first record is not news; a different branch is.
    done.new_default_branch = before
        .as_deref()
        .is_some_and(|b| b != info.default_branch.as_str());
    let full_name = info.full_name.as_str();
    let repo = Repo::new(client, full_name);
    let slug = deps.slug.as_str();

    let open: Vec<OpenPull> = repo
        .open_pulls()
        .await?
        .into_iter()
        .map(|p| OpenPull {
            number: p.number,
            head_ref: p.head_ref,
            head_sha: p.head_sha,
            author: p.user,
        })
        .collect();
    for (kind, pull) in reconcile::pulls_to_decide(&open, &deps.bot_login()) {
        let outcome = match kind {
            PullKind::Update => {
                let after = crate::deps::after_ci::on_ci_finished(
                    client,
                    full_name,
                    &pull.head_ref,
                    &pull.head_sha,
                )
                .await?;
                after.outcome()
            }
            PullKind::Revert => {
                crate::revert::watch::on_revert_pr(
                    store,
                    client,
                    full_name,
                    repository_id,
                    &pull.head_ref,
                    &pull.head_sha,
                    slug,
                )
                .await?
            }
        };
        done.pulls.push((pull.number, outcome));
    }

    let repository = json!({
        "id": repository_id,
        "full_name": full_name,
        "private": info.private,
        "default_branch": info.default_branch,
    });
    let installation_ref = json!({ "id": installation });
    let runs = repo.finished_push_runs(&info.default_branch).await?;
    let summaries: Vec<RunSummary> = runs
        .iter()
        .filter_map(|r| {
            Some(RunSummary {
                id: r["id"].as_i64()?,
                workflow_id: r["workflow_id"].as_i64()?,
                event: r["event"].as_str()?.to_owned(),
                head_branch: r["head_branch"].as_str().map(str::to_owned),
                status: r["status"].as_str().map(str::to_owned),
                created_at: r["created_at"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect();
    for id in reconcile::runs_to_watch(&summaries, &info.default_branch) {
        let Some(run) = runs.iter().find(|r| r["id"].as_i64() == Some(id)) else {
            continue;
        };
        let payload = json!({
            "action": "completed",
            "workflow_run": run,
            "repository": repository,
            "installation": installation_ref,
        });
        let Ok(e) = serde_json::from_value::<WorkflowRunEvent>(payload) else {
            continue;
        };
        let reverted = crate::revert::watch::on_workflow_run(store, client, &e, slug).await?;
        // Benchmark results nobody read: only when none of the commit's are stored, so a
        // run read before gets no second check run.
        let success = e.workflow_run.conclusion.as_deref() == Some("success");
        let bench = if success
            && !store
                .has_bench_results(repository_id, &e.workflow_run.head_sha)
                .await?
        {
            Some(
                crate::bench::ingest::on_workflow_run(
                    store,
                    client,
                    &e,
                    slug,
                    deps.public_url.as_deref(),
                )
                .await?,
            )
        } else {
            None
        };
        let what = reverted.or(bench).unwrap_or("nothing to do");
        done.results.push((format!("run {id}"), what));
    }

    let tip = match repo.branch_head(&info.default_branch).await {
        Ok(tip) => tip,
        // An empty repository: no commit, so no suite either.
        Err(crate::github::GitHubError::Status { status: 404, .. }) => return Ok(done),
        Err(e) => return Err(e.into()),
    };
    let suites = repo.suites_on(&tip).await?;
    let summaries: Vec<reconcile::SuiteSummary> = suites
        .iter()
        .filter_map(|s| {
            Some(reconcile::SuiteSummary {
                id: s["id"].as_i64()?,
                app_id: s["app"]["id"].as_i64(),
                status: s["status"].as_str().map(str::to_owned),
                conclusion: s["conclusion"].as_str().map(str::to_owned),
            })
        })
        .collect();
    for id in reconcile::suites_to_watch(&summaries) {
        let Some(suite) = suites.iter().find(|s| s["id"].as_i64() == Some(id)) else {
            continue;
        };
        let mut suite = suite.clone();
        // A suite listed by commit may not name a branch; it is the default branch's tip.
        if suite["head_branch"].is_null() {
            suite["head_branch"] = json!(info.default_branch);
        }
        let payload = json!({
            "action": "completed",
            "check_suite": suite,
            "repository": repository,
            "installation": installation_ref,
        });
        let Ok(e) = serde_json::from_value::<CheckSuiteEvent>(payload) else {
            continue;
        };
        let reverted =
            crate::revert::suites::on_check_suite(store, client, &e, slug, client.app_id() as i64)
                .await?;
        done.results
            .push((format!("suite {id}"), reverted.unwrap_or("nothing to do")));
    }
    Ok(done)
}
