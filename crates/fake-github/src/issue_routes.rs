//! Pull requests, comments, labels, reactions, issue listing and updates, check runs and
//! collaborator permissions. Objects are kept in GitHub's own JSON shape, started from the
//! description's examples, so what a test reads back is what GitHub would show.

use serde_json::{json, Value};

use crate::exchange::{now_secs, rfc3339_secs, Ctx, Reply};
use crate::git::{Commit, Object};
use crate::world::{Repository, World};

/// The login the App acts as.
pub const BOT: &str = "upkeep[bot]";

pub(crate) const OPS: [&str; 16] = [
    "pulls/create",
    "pulls/list",
    "pulls/get",
    "pulls/update",
    "pulls/merge",
    "issues/create-comment",
    "issues/list-comments",
    "issues/update-comment",
    "issues/add-labels",
    "issues/add-assignees",
    "issues/list-for-repo",
    "issues/update",
    "reactions/create-for-issue-comment",
    "checks/create",
    "checks/update",
    "repos/get-collaborator-permission-level",
];

pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    if !OPS.contains(&op) {
        return None;
    }
    let name = match crate::exchange::authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return Some(r),
    };
    let id = world.next_id();
    let repo = world.repositories.get_mut(&name)?;
    let api = format!("https://api.github.com/repos/{name}");
    let web = format!("https://github.com/{name}");
    let body = ctx.body.cloned().unwrap_or_default();
    let number = ctx.segment(4).parse::<i64>().unwrap_or(0);
    crate::mergeable::sync_pulls(repo);
    Some(match op {
        "pulls/create" => create_pull(repo, ctx, &api, &web, id, &body),
        "pulls/list" => list_pulls(repo, ctx),
        "pulls/get" => {
            find_pull(repo, number).map_or_else(not_found, |p| Reply::json(200, p.clone()))
        }
        "pulls/update" => update_pull(repo, number, &body),
        "pulls/merge" => merge_pull(repo, number, &body),
        "issues/create-comment" => create_comment(ctx, repo, number, &api, &web, id, &body),
        "issues/list-comments" => Reply::json(
            200,
            Value::Array(repo.comments_on(number).into_iter().cloned().collect()),
        ),
        "issues/update-comment" => update_comment(repo, ctx.segment(5).parse().unwrap_or(0), &body),
        "issues/add-labels" => add_labels(repo, number, &api, &body),
        "issues/add-assignees" => add_assignees(ctx, repo, number, &api, &body),
        "issues/list-for-repo" => list_issues(repo, ctx),
        "issues/update" => update_issue(repo, number, &body),
        "reactions/create-for-issue-comment" => {
            react(ctx, repo, ctx.segment(5).parse().unwrap_or(0), id, &body)
        }
        "checks/create" => create_check(repo, &api, id, &body),
        "checks/update" => update_check(repo, ctx.segment(4).parse().unwrap_or(0), &body),
        "repos/get-collaborator-permission-level" => permission(repo, ctx.segment(4), ctx),
        _ => return None,
    })
}

/// An issue or a pull request by number (they share GitHub's numbering).
fn issue_or_pull_mut(repo: &mut Repository, number: i64) -> Option<&mut Value> {
    repo.pulls
        .iter_mut()
        .chain(repo.issues.iter_mut())
        .find(|i| i["number"] == number)
}

fn not_found() -> Reply {
    Reply::message(404, "Not Found")
}

fn now() -> String {
    rfc3339_secs(now_secs())
}

fn user(ctx: &Ctx<'_>, login: &str) -> Value {
    let mut u = ctx.spec.example("simple-user").unwrap_or_else(|| json!({}));
    u["login"] = json!(login);
    u["type"] = json!(if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    });
    u
}

fn find_pull(repo: &Repository, number: i64) -> Option<&Value> {
    repo.pulls.iter().find(|p| p["number"] == number)
}

fn find_pull_mut(repo: &mut Repository, number: i64) -> Option<&mut Value> {
    repo.pulls.iter_mut().find(|p| p["number"] == number)
}

fn create_pull(
    repo: &mut Repository,
    ctx: &Ctx<'_>,
    api: &str,
    web: &str,
    id: i64,
    body: &Value,
) -> Reply {
    let (Some(title), Some(head), Some(base)) = (
        body["title"].as_str(),
        body["head"].as_str(),
        body["base"].as_str(),
    ) else {
        return Reply::message(422, "Validation Failed");
    };
    let head_branch = head.split_once(':').map_or(head, |(_, b)| b);
    let (Some(head_sha), Some(base_sha)) = (
        repo.refs.get(&format!("heads/{head_branch}")).cloned(),
        repo.refs.get(&format!("heads/{base}")).cloned(),
    ) else {
        return Reply::message(422, "Validation Failed");
    };
    if repo
        .pulls
        .iter()
        .any(|p| p["state"] == "open" && p["head"]["ref"] == head_branch)
    {
        return Reply::message(422, &format!("A pull request already exists for {head}."));
    }
    let number = repo.next_number();
    let mut pr = ctx
        .spec
        .example("pull-request")
        .unwrap_or_else(|| json!({}));
    pr["id"] = json!(id);
    pr["node_id"] = json!(format!("PR_{id}"));
    pr["number"] = json!(number);
    pr["title"] = json!(title);
    pr["body"] = body.get("body").cloned().unwrap_or(Value::Null);
    pr["state"] = json!("open");
    pr["draft"] = json!(body["draft"].as_bool().unwrap_or(false));
    pr["merged"] = json!(false);
    pr["merged_at"] = Value::Null;
    pr["closed_at"] = Value::Null;
    pr["merge_commit_sha"] = Value::Null;
    pr["mergeable"] = json!(true);
    pr["mergeable_state"] = json!("clean");
    pr["labels"] = json!([]);
    // GitHub's example fills these with teams its own schema refuses; a new PR has none.
    pr["requested_teams"] = json!([]);
    pr["requested_reviewers"] = json!([]);
    pr["assignees"] = json!([]);
    pr["assignee"] = Value::Null;
    pr["milestone"] = Value::Null;
    pr["user"] = user(ctx, BOT);
    pr["head"]["ref"] = json!(head_branch);
    pr["head"]["sha"] = json!(head_sha);
    pr["head"]["label"] = json!(format!(
        "{}:{head_branch}",
        repo.full_name.split('/').next().unwrap_or("")
    ));
    pr["base"]["ref"] = json!(base);
    pr["base"]["sha"] = json!(base_sha);
    pr["url"] = json!(format!("{api}/pulls/{number}"));
    pr["html_url"] = json!(format!("{web}/pull/{number}"));
    pr["issue_url"] = json!(format!("{api}/issues/{number}"));
    pr["created_at"] = json!(now());
    pr["updated_at"] = json!(now());
    repo.pulls.push(pr.clone());
    Reply::json(201, pr)
}

fn list_pulls(repo: &Repository, ctx: &Ctx<'_>) -> Reply {
    let get = |k: &str| ctx.param(k);
    let state = get("state").unwrap_or("open");
    let head = get("head").map(|h| h.replace("%3A", ":"));
    let items = simple_pulls(repo, ctx, |p| {
        (state == "all" || p["state"] == state)
            && head.as_deref().is_none_or(|h| {
                p["head"]["label"] == h || p["head"]["ref"] == h.split(':').nth(1).unwrap_or(h)
            })
    });
    Reply::json(200, Value::Array(items))
}

/// Pull requests in the "simple" shape lists use, filtered.
pub(crate) fn simple_pulls(
    repo: &Repository,
    ctx: &Ctx<'_>,
    keep: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let template = ctx
        .spec
        .example("pull-request-simple-items")
        .and_then(|a| a.get(0).cloned())
        .unwrap_or_else(|| json!({}));
    repo.pulls
        .iter()
        .filter(|p| keep(p))
        .map(|p| {
            let mut item = template.clone();
            for key in [
                "id",
                "number",
                "title",
                "body",
                "state",
                "draft",
                "user",
                "head",
                "base",
                "url",
                "html_url",
                "issue_url",
                "labels",
                "created_at",
                "updated_at",
                "closed_at",
                "merged_at",
                "merge_commit_sha",
                "requested_teams",
                "requested_reviewers",
                "assignees",
                "assignee",
                "milestone",
            ] {
                item[key] = p[key].clone();
            }
            item
        })
        .collect()
}

fn update_pull(repo: &mut Repository, number: i64, body: &Value) -> Reply {
    let Some(pr) = find_pull_mut(repo, number) else {
        return not_found();
    };
    if pr["merged"] == true && body.get("state").is_some() {
        return Reply::message(422, "Validation Failed");
    }
    for key in ["title", "body"] {
        if let Some(v) = body.get(key) {
            pr[key] = v.clone();
        }
    }
    if let Some(state) = body["state"].as_str() {
        pr["state"] = json!(state);
        pr["closed_at"] = if state == "closed" {
            json!(now())
        } else {
            Value::Null
        };
    }
    pr["updated_at"] = json!(now());
    Reply::json(200, pr.clone())
}

/// Merges by a merge commit whose tree is the head's (the fake models no conflicts unless a
/// test injects a 405/409 fault).
fn merge_pull(repo: &mut Repository, number: i64, body: &Value) -> Reply {
    let Some(pr) = find_pull(repo, number).cloned() else {
        return not_found();
    };
    if pr["state"] != "open" {
        return Reply::message(405, "Pull Request is not mergeable");
    }
    let (Some(head), Some(base)) = (pr["head"]["sha"].as_str(), pr["base"]["ref"].as_str()) else {
        return Reply::message(405, "Pull Request is not mergeable");
    };
    let Some(Object::Commit(head_commit)) = repo.objects.get(head).cloned() else {
        return Reply::message(405, "Pull Request is not mergeable");
    };
    let base_ref = format!("heads/{base}");
    let base_sha = repo.refs.get(&base_ref).cloned().unwrap_or_default();
    let method = body["merge_method"].as_str().unwrap_or("merge");
    if repo.disallowed_merge_methods.iter().any(|m| m == method) {
        let what = match method {
            "squash" => "Squash merges",
            "rebase" => "Rebase merges",
            _ => "Merge commits",
        };
        return Reply::message(405, &format!("{what} are not allowed on this repository."));
    }
    let parents = if method == "merge" {
        vec![base_sha, head.to_owned()]
    } else {
        vec![base_sha]
    };
    let message = body["commit_title"]
        .as_str()
        .map_or_else(|| format!("Merge pull request #{number}"), str::to_owned);
    let sha = repo.objects.commit(Commit {
        tree: head_commit.tree,
        parents,
        message: message.clone(),
        author: "GitHub <noreply@github.com>".into(),
        time: now_secs(),
    });
    repo.refs.insert(base_ref, sha.clone());
    if let Some(pr) = find_pull_mut(repo, number) {
        pr["state"] = json!("closed");
        pr["merged"] = json!(true);
        pr["merged_at"] = json!(now());
        pr["closed_at"] = json!(now());
        pr["merge_commit_sha"] = json!(sha);
    }
    Reply::json(
        200,
        json!({ "sha": sha, "merged": true, "message": "Pull Request successfully merged" }),
    )
}

fn create_comment(
    ctx: &Ctx<'_>,
    repo: &mut Repository,
    number: i64,
    api: &str,
    web: &str,
    id: i64,
    body: &Value,
) -> Reply {
    let Some(text) = body["body"].as_str() else {
        return Reply::message(422, "Validation Failed");
    };
    if number <= 0 || number >= repo.next_number() {
        return not_found();
    }
    let comment = json!({
        "id": id, "node_id": format!("IC_{id}"), "url": format!("{api}/issues/comments/{id}"),
        "html_url": format!("{web}/issues/{number}#issuecomment-{id}"), "body": text,
        "user": user(ctx, BOT),
        "created_at": now(), "updated_at": now(), "issue_url": format!("{api}/issues/{number}"),
        "author_association": "NONE"
    });
    repo.comments.push(comment.clone());
    Reply::json(201, comment)
}

fn update_comment(repo: &mut Repository, id: i64, body: &Value) -> Reply {
    let Some(c) = repo.comments.iter_mut().find(|c| c["id"] == id) else {
        return not_found();
    };
    if let Some(text) = body["body"].as_str() {
        c["body"] = json!(text);
    }
    c["updated_at"] = json!(now());
    Reply::json(200, c.clone())
}

fn add_labels(repo: &mut Repository, number: i64, api: &str, body: &Value) -> Reply {
    let names: Vec<String> = body["labels"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let Some(target) = issue_or_pull_mut(repo, number) else {
        return not_found();
    };
    let mut labels = target["labels"].as_array().cloned().unwrap_or_default();
    for name in names {
        if !labels.iter().any(|l| l["name"] == name.as_str()) {
            labels.push(json!({
                "id": labels.len() + 1, "node_id": format!("L_{name}"), "url": format!("{api}/labels/{name}"),
                "name": name, "description": "", "color": "ededed", "default": false
            }));
        }
    }
    target["labels"] = Value::Array(labels.clone());
    Reply::json(200, Value::Array(labels))
}

/// Assigns people to an issue or pull request; answers with the issue's shape (a pull request
/// is an issue too).
fn add_assignees(
    ctx: &Ctx<'_>,
    repo: &mut Repository,
    number: i64,
    api: &str,
    body: &Value,
) -> Reply {
    let logins: Vec<String> = body["assignees"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let users: Vec<Value> = logins.iter().map(|l| user(ctx, l)).collect();
    let Some(target) = issue_or_pull_mut(repo, number) else {
        return not_found();
    };
    target["assignees"] = Value::Array(users.clone());
    target["assignee"] = users.first().cloned().unwrap_or(Value::Null);
    let mut issue = ctx.spec.example("issue").unwrap_or_else(|| json!({}));
    for key in [
        "id",
        "number",
        "title",
        "body",
        "state",
        "user",
        "labels",
        "created_at",
        "updated_at",
        "closed_at",
    ] {
        issue[key] = target[key].clone();
    }
    issue["assignees"] = Value::Array(users.clone());
    issue["assignee"] = users.first().cloned().unwrap_or(Value::Null);
    issue["milestone"] = Value::Null;
    issue["url"] = json!(format!("{api}/issues/{number}"));
    Reply::json(201, issue)
}

fn list_issues(repo: &Repository, ctx: &Ctx<'_>) -> Reply {
    let state = ctx.param("state").unwrap_or("open");
    let wanted: Vec<String> = ctx
        .param("labels")
        .map(|l| {
            crate::exchange::decode(l)
                .split(',')
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let items: Vec<Value> = repo
        .issues
        .iter()
        .filter(|i| state == "all" || i["state"] == state)
        .filter(|i| {
            wanted.iter().all(|w| {
                i["labels"]
                    .as_array()
                    .is_some_and(|ls| ls.iter().any(|l| l["name"] == w.as_str()))
            })
        })
        .cloned()
        .collect();
    Reply::json(200, Value::Array(items))
}

fn update_issue(repo: &mut Repository, number: i64, body: &Value) -> Reply {
    let Some(issue) = repo.issues.iter_mut().find(|i| i["number"] == number) else {
        return not_found();
    };
    for key in ["title", "body"] {
        if let Some(v) = body.get(key) {
            issue[key] = v.clone();
        }
    }
    if let Some(state) = body["state"].as_str() {
        issue["state"] = json!(state);
        issue["closed_at"] = if state == "closed" {
            json!(now())
        } else {
            Value::Null
        };
    }
    Reply::json(200, issue.clone())
}

fn react(ctx: &Ctx<'_>, repo: &mut Repository, comment: i64, id: i64, body: &Value) -> Reply {
    let Some(content) = body["content"].as_str() else {
        return Reply::message(422, "Validation Failed");
    };
    if !repo.comments.iter().any(|c| c["id"] == comment) {
        return not_found();
    }
    let existing = repo
        .reactions
        .iter()
        .any(|(c, k, u)| *c == comment && k == content && u == BOT);
    if !existing {
        repo.reactions
            .push((comment, content.to_owned(), BOT.to_owned()));
    }
    let reaction = json!({
        "id": id, "node_id": format!("REA_{id}"), "content": content, "created_at": now(),
        "user": user(ctx, BOT)
    });
    Reply::json(if existing { 200 } else { 201 }, reaction)
}

fn create_check(repo: &mut Repository, api: &str, id: i64, body: &Value) -> Reply {
    let (Some(name), Some(head_sha)) = (body["name"].as_str(), body["head_sha"].as_str()) else {
        return Reply::message(422, "Validation Failed");
    };
    let status = body["status"]
        .as_str()
        .unwrap_or(if body.get("conclusion").is_some() {
            "completed"
        } else {
            "queued"
        });
    let run = json!({
        "id": id, "head_sha": head_sha, "node_id": format!("CR_{id}"), "external_id": body.get("external_id").cloned().unwrap_or(json!("")),
        "url": format!("{api}/check-runs/{id}"), "html_url": format!("https://github.com/{}/runs/{id}", api.trim_start_matches("https://api.github.com/repos/")),
        "details_url": body.get("details_url").cloned().unwrap_or(Value::Null), "status": status,
        "conclusion": body.get("conclusion").cloned().unwrap_or(Value::Null),
        "started_at": now(), "completed_at": if status == "completed" { json!(now()) } else { Value::Null },
        "output": {
            "title": body["output"]["title"].clone(), "summary": body["output"]["summary"].clone(),
            "text": body["output"]["text"].clone(), "annotations_count": body["output"]["annotations"].as_array().map_or(0, Vec::len),
            "annotations_url": format!("{api}/check-runs/{id}/annotations")
        },
        "name": name, "check_suite": { "id": id + 1 }, "app": null, "pull_requests": []
    });
    repo.check_runs.push(run.clone());
    Reply::json(201, run)
}

fn update_check(repo: &mut Repository, id: i64, body: &Value) -> Reply {
    let Some(run) = repo.check_runs.iter_mut().find(|r| r["id"] == id) else {
        return not_found();
    };
    for key in ["status", "conclusion", "details_url", "name"] {
        if let Some(v) = body.get(key) {
            run[key] = v.clone();
        }
    }
    if body.get("conclusion").is_some() {
        run["status"] = json!("completed");
        run["completed_at"] = json!(now());
    }
    if let Some(output) = body.get("output") {
        for key in ["title", "summary", "text"] {
            if let Some(v) = output.get(key) {
                run["output"][key] = v.clone();
            }
        }
    }
    Reply::json(200, run.clone())
}

fn permission(repo: &Repository, login: &str, ctx: &Ctx<'_>) -> Reply {
    let Some(level) = repo.permissions.get(login) else {
        return Reply::message(404, &format!("{login} is not a user"));
    };
    let role = match level.as_str() {
        "admin" | "maintain" | "triage" => level.clone(),
        "write" => "write".into(),
        _ => "read".into(),
    };
    let legacy = match level.as_str() {
        "admin" => "admin",
        "maintain" | "write" => "write",
        "triage" | "read" => "read",
        _ => "none",
    };
    let mut collaborator = ctx.spec.example("simple-user").unwrap_or_else(|| json!({}));
    collaborator["login"] = json!(login);
    collaborator["permissions"] = json!({
        "admin": level == "admin", "maintain": level == "admin" || level == "maintain",
        "push": legacy == "admin" || legacy == "write", "triage": true, "pull": true
    });
    collaborator["role_name"] = json!(role);
    Reply::json(
        200,
        json!({ "permission": legacy, "role_name": role, "user": collaborator }),
    )
}
