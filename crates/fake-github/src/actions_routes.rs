//! GitHub Actions: workflow runs, their artifacts (the download answers 302 to a short-lived URL
//! on the fake's blob store, as GitHub redirects to its storage), re-running failed jobs,
//! workflow dispatch, and the pull requests associated with a commit.

use serde_json::{json, Value};

use crate::exchange::{Ctx, Reply};
use crate::world::{Repository, World};

pub(crate) const OPS: [&str; 8] = [
    "actions/list-workflow-runs-for-repo",
    "actions/list-workflow-runs",
    "actions/re-run-workflow",
    "actions/get-workflow-run",
    "actions/list-workflow-run-artifacts",
    "actions/download-artifact",
    "actions/re-run-workflow-failed-jobs",
    "actions/create-workflow-dispatch",
];

pub(crate) const EXTRA: [&str; 6] = [
    "repos/list-pull-requests-associated-with-commit",
    "repos/get-combined-status-for-ref",
    "checks/rerequest-suite",
    "checks/list-suites-for-ref",
    "checks/list-for-ref",
    "checks/get-suite",
];

/// Where artifact downloads are redirected; not part of the API, so not held to it.
pub const BLOB_PREFIX: &str = "/_blobs/artifacts/";

pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    if !OPS.contains(&op) && !EXTRA.contains(&op) {
        return None;
    }
    let name = match crate::exchange::authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return Some(r),
    };
    let base_url = world.base_url.clone();
    let repo = world.repositories.get_mut(&name)?;
    let api = format!("https://api.github.com/repos/{name}");
    let run_id = ctx.segment(5).parse::<i64>().unwrap_or(0);
    Some(match op {
        "actions/list-workflow-runs-for-repo" => list_runs(repo, ctx, &api, None),
        "actions/list-workflow-runs" => {
            // By id or by file name (the fake's runs all belong to one workflow per name).
            let wanted = ctx.segment(5).to_owned();
            list_runs(repo, ctx, &api, Some(wanted))
        }
        "actions/get-workflow-run" => match repo.workflow_runs.iter().find(|r| r["id"] == run_id) {
            Some(run) => Reply::json(200, run_json(ctx, &api, run)),
            None => Reply::message(404, "Not Found"),
        },
        "actions/list-workflow-run-artifacts" => list_artifacts(repo, ctx, &api, run_id),
        "actions/download-artifact" => match repo.artifacts.iter().find(|a| a.id == run_id) {
            Some(a) => Reply::redirect(&format!(
                "{base_url}{BLOB_PREFIX}{}/{}?expires=60",
                name.replace('/', "~"),
                a.id
            )),
            None => Reply::message(404, "Not Found"),
        },
        "actions/re-run-workflow-failed-jobs" | "actions/re-run-workflow" => {
            match repo.workflow_runs.iter_mut().find(|r| r["id"] == run_id) {
                Some(run) => {
                    run["status"] = json!("queued");
                    run["conclusion"] = Value::Null;
                    run["run_attempt"] = json!(run["run_attempt"].as_i64().unwrap_or(1) + 1);
                    repo.reruns.push(run_id);
                    Reply::json(201, json!({}))
                }
                None => Reply::message(404, "Not Found"),
            }
        }
        "actions/create-workflow-dispatch" => {
            let Some(git_ref) = ctx.body.and_then(|b| b["ref"].as_str()) else {
                return Some(Reply::message(422, "Invalid request."));
            };
            let branch = git_ref.trim_start_matches("refs/heads/");
            if !repo.refs.contains_key(&format!("heads/{branch}"))
                && !repo.refs.contains_key(&format!("tags/{branch}"))
            {
                return Some(Reply::message(422, &format!("No ref found for: {git_ref}")));
            }
            repo.dispatches
                .push((ctx.segment(5).to_owned(), git_ref.to_owned()));
            Reply::empty(204)
        }
        "checks/list-suites-for-ref" => {
            let sha = commit_of(repo, &ref_in_path(ctx, "check-suites"));
            let app = ctx.param("app_id").and_then(|a| a.parse::<i64>().ok());
            let suites: Vec<Value> = repo
                .check_suites
                .iter()
                .filter(|s| s["head_sha"] == sha.as_str())
                .filter(|s| app.is_none_or(|a| s["app_id"] == a))
                .map(|s| suite_json(ctx, &api, s))
                .collect();
            Reply::json(
                200,
                json!({ "total_count": suites.len(), "check_suites": suites }),
            )
        }
        "checks/rerequest-suite" => {
            let id = ctx.segment(4).parse::<i64>().unwrap_or(0);
            match repo.check_suites.iter_mut().find(|s| s["id"] == id) {
                Some(suite) => {
                    suite["status"] = json!("queued");
                    suite["conclusion"] = Value::Null;
                    repo.reruns.push(id);
                    Reply::json(201, json!({}))
                }
                None => Reply::message(404, "Not Found"),
            }
        }
        "checks/get-suite" => match repo
            .check_suites
            .iter()
            .find(|s| s["id"] == ctx.segment(4).parse::<i64>().unwrap_or(0))
        {
            Some(s) => Reply::json(200, suite_json(ctx, &api, s)),
            None => Reply::message(404, "Not Found"),
        },
        "repos/get-combined-status-for-ref" => {
            let sha = commit_of(repo, &ref_in_path(ctx, "status"));
            combined_status(repo, ctx, &api, &sha)
        }
        "checks/list-for-ref" => {
            let sha = commit_of(repo, &ref_in_path(ctx, "check-runs"));
            let runs: Vec<Value> = repo
                .check_runs
                .iter()
                .filter(|r| r["head_sha"] == sha.as_str())
                .cloned()
                .collect();
            Reply::json(
                200,
                json!({ "total_count": runs.len(), "check_runs": runs }),
            )
        }
        _ => pulls_for_commit(repo, ctx),
    })
}

/// GitHub's combined status of a commit: the latest status per context; `failure` when any is
/// `failure` or `error`, `pending` when any is pending or there are none, else `success`.
fn combined_status(repo: &Repository, ctx: &Ctx<'_>, api: &str, sha: &str) -> Reply {
    let mut latest: Vec<Value> = Vec::new();
    for status in repo.statuses.iter().filter(|s| s["sha"] == sha) {
        latest.retain(|s| s["context"] != status["context"]);
        latest.push(status.clone());
    }
    latest.reverse();
    let any = |states: &[&str]| {
        latest
            .iter()
            .any(|s| states.iter().any(|state| s["state"] == *state))
    };
    let state = if any(&["failure", "error"]) {
        "failure"
    } else if latest.is_empty() || any(&["pending"]) {
        "pending"
    } else {
        "success"
    };
    let statuses: Vec<Value> = latest
        .into_iter()
        .map(|mut s| {
            if let Some(fields) = s.as_object_mut() {
                fields.remove("sha");
            }
            s
        })
        .collect();
    // The repository as GitHub's own example has it, under this one's name.
    let mut repository = ctx
        .spec
        .example("combined-commit-status")
        .map(|e| e["repository"].clone())
        .unwrap_or_else(|| json!({}));
    repository["full_name"] = json!(repo.full_name);
    repository["url"] = json!(api);
    Reply::json(
        200,
        json!({
            "state": state,
            "sha": sha,
            "total_count": statuses.len(),
            "statuses": statuses,
            "repository": repository,
            "commit_url": format!("{api}/commits/{sha}"),
            "url": format!("{api}/commits/{sha}/status"),
        }),
    )
}

/// The `{ref}` of `/repos/{owner}/{repo}/commits/{ref}/<tail>` (a ref may hold slashes).
fn ref_in_path(ctx: &Ctx<'_>, tail: &str) -> String {
    ctx.path
        .split('/')
        .skip(5)
        .take_while(|s| *s != tail)
        .collect::<Vec<_>>()
        .join("/")
}

/// A commit id from a branch name or an id.
fn commit_of(repo: &Repository, name: &str) -> String {
    repo.refs
        .get(&format!("heads/{name}"))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

fn suite_json(ctx: &Ctx<'_>, api: &str, suite: &Value) -> Value {
    let mut out = ctx.spec.example("check-suite").unwrap_or_else(|| json!({}));
    for key in ["id", "head_sha", "head_branch", "status", "conclusion"] {
        out[key] = suite[key].clone();
    }
    out["after"] = suite["head_sha"].clone();
    if let Some(app) = suite["app_id"].as_i64() {
        out["app"]["id"] = json!(app);
        out["app"]["slug"] = suite["app_slug"].clone();
        out["app"]["name"] = suite["app_slug"].clone();
    }
    out["url"] = json!(format!("{api}/check-suites/{}", suite["id"]));
    out["check_runs_url"] = json!(format!("{api}/check-suites/{}/check-runs", suite["id"]));
    out["head_commit"]["id"] = suite["head_sha"].clone();
    out["pull_requests"] = json!([]);
    out
}

fn run_json(ctx: &Ctx<'_>, api: &str, run: &Value) -> Value {
    let mut out = ctx
        .spec
        .example("workflow-run")
        .unwrap_or_else(|| json!({}));
    for key in [
        "id",
        "name",
        "head_branch",
        "head_sha",
        "event",
        "status",
        "conclusion",
        "run_attempt",
        "workflow_id",
        "path",
    ] {
        if !run[key].is_null() {
            out[key] = run[key].clone();
        }
    }
    let id = &run["id"];
    out["url"] = json!(format!("{api}/actions/runs/{id}"));
    out["artifacts_url"] = json!(format!("{api}/actions/runs/{id}/artifacts"));
    out["html_url"] = json!(format!(
        "{}/actions/runs/{id}",
        api.replace("api.github.com/repos", "github.com")
    ));
    out["pull_requests"] = json!([]);
    // The run's code comes from the repository itself unless the run says otherwise (a fork).
    let own = api.rsplit("/repos/").next().unwrap_or_default().to_owned();
    let from = run["head_repository"]["full_name"]
        .as_str()
        .map_or(own.clone(), str::to_owned);
    for (key, name) in [("head_repository", from), ("repository", own)] {
        if let Some(r) = out.get_mut(key).and_then(Value::as_object_mut) {
            r.insert("full_name".into(), json!(name));
            if let Some((_, short)) = name.split_once('/') {
                r.insert("name".into(), json!(short));
            }
        }
    }
    out
}

fn list_runs(repo: &Repository, ctx: &Ctx<'_>, api: &str, workflow: Option<String>) -> Reply {
    let get = |k: &str| ctx.param(k);
    let runs: Vec<Value> = repo
        .workflow_runs
        .iter()
        .filter(|r| {
            workflow.as_deref().is_none_or(|w| {
                w.parse::<i64>().is_ok_and(|id| r["workflow_id"] == id)
                    || r["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with(&format!("/{w}")))
            })
        })
        .filter(|r| get("branch").is_none_or(|b| r["head_branch"] == b))
        .filter(|r| get("event").is_none_or(|e| r["event"] == e))
        .filter(|r| get("head_sha").is_none_or(|s| r["head_sha"] == s))
        .filter(|r| get("status").is_none_or(|s| r["status"] == s || r["conclusion"] == s))
        .map(|r| run_json(ctx, api, r))
        .collect();
    Reply::json(
        200,
        json!({ "total_count": runs.len(), "workflow_runs": runs }),
    )
}

fn list_artifacts(repo: &Repository, ctx: &Ctx<'_>, api: &str, run_id: i64) -> Reply {
    let template = ctx
        .spec
        .example("artifact-paginated")
        .and_then(|p| p["artifacts"].get(0).cloned())
        .unwrap_or_else(|| json!({}));
    let run = repo.workflow_runs.iter().find(|r| r["id"] == run_id);
    let items: Vec<Value> = repo
        .artifacts
        .iter()
        .filter(|a| a.run_id == run_id)
        .map(|a| {
            let mut item = template.clone();
            item["id"] = json!(a.id);
            item["node_id"] = json!(format!("A_{}", a.id));
            item["name"] = json!(a.name);
            item["size_in_bytes"] = json!(a.zip.len());
            item["url"] = json!(format!("{api}/actions/artifacts/{}", a.id));
            item["archive_download_url"] = json!(format!("{api}/actions/artifacts/{}/zip", a.id));
            item["expired"] = json!(false);
            if let Some(run) = run {
                item["workflow_run"]["id"] = run["id"].clone();
                item["workflow_run"]["head_branch"] = run["head_branch"].clone();
                item["workflow_run"]["head_sha"] = run["head_sha"].clone();
            }
            item
        })
        .collect();
    Reply::json(
        200,
        json!({ "total_count": items.len(), "artifacts": items }),
    )
}

fn pulls_for_commit(repo: &Repository, ctx: &Ctx<'_>) -> Reply {
    let sha = ctx.segment(4);
    let numbers: Vec<i64> = repo
        .pulls
        .iter()
        .filter(|p| p["head"]["sha"] == sha || p["merge_commit_sha"] == sha)
        .filter_map(|p| p["number"].as_i64())
        .collect();
    Reply::json(
        200,
        Value::Array(crate::issue_routes::simple_pulls(repo, ctx, |p| {
            numbers.contains(&p["number"].as_i64().unwrap_or(0))
        })),
    )
}

/// The zip body behind a redirect URL from `download-artifact`.
pub(crate) fn blob(world: &World, path: &str) -> Option<Vec<u8>> {
    let rest = path.strip_prefix(BLOB_PREFIX)?;
    let (repo, id) = rest.split_once('/')?;
    let id: i64 = id.parse().ok()?;
    let repo = world.repositories.get(&repo.replace('~', "/"))?;
    repo.artifacts
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.zip.clone())
}
