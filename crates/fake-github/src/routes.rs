//! The operations the fake models, by operation id. Each route reads and changes the world and
//! answers in GitHub's shape, starting from the description's own examples where they exist.
//! Adding an endpoint: a match arm in `route` and a function here (docs/TESTING.md).

use std::time::SystemTime;

use rand::Rng;
use serde_json::{json, Value};

use crate::exchange::{
    authorised_repository, check_app_jwt, decode, installation_auth, rfc3339, Ctx, Reply,
};
use crate::world::World;

/// Operations answered in this file.
pub(crate) const OPS: [&str; 8] = [
    "apps/list-installations",
    "apps/list-repos-accessible-to-installation",
    "apps/create-installation-access-token",
    "apps/create-from-manifest",
    "repos/get",
    "issues/create",
    "search/issues-and-pull-requests",
    "repos/list-releases",
];

/// Runs the route for an operation; `None` when the fake does not model it.
pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    Some(match op {
        "apps/list-installations" => list_installations(world, ctx),
        "apps/list-repos-accessible-to-installation" => list_installation_repositories(world, ctx),
        "apps/create-installation-access-token" => create_installation_token(world, ctx),
        "apps/create-from-manifest" => convert_manifest(world, ctx),
        "repos/get" => get_repository(world, ctx),
        "issues/create" => create_issue(world, ctx),
        "search/issues-and-pull-requests" => search_issues(world, ctx),
        "repos/list-releases" => list_releases(world, ctx),
        _ => {
            return crate::git_routes::route(op, world, ctx)
                .or_else(|| crate::issue_routes::route(op, world, ctx))
                .or_else(|| crate::actions_routes::route(op, world, ctx))
                .or_else(|| crate::merge_routes::route(op, world, ctx))
                .or_else(|| crate::hook_routes::route(op, world, ctx))
                .or_else(|| crate::code_scanning_routes::route(op, world, ctx));
        }
    })
}

/// `page` and `per_page` of a list request (GitHub's defaults: 1 and 30, at most 100).
fn page_of(ctx: &Ctx<'_>) -> (usize, usize) {
    let page = ctx
        .param("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let per_page = ctx
        .param("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    (page, per_page)
}

/// A repository's releases, newest first, a page at a time.
fn list_releases(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let name = match authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let (page, per_page) = page_of(ctx);
    let items: Vec<Value> = world.repositories[&name]
        .releases
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|r| {
            let mut item = ctx.spec.example("release").unwrap_or_else(|| json!({}));
            if let (Some(item), Some(r)) = (item.as_object_mut(), r.as_object()) {
                for (k, v) in r {
                    item.insert(k.clone(), v.clone());
                }
            }
            item
        })
        .collect();
    Reply::json(200, json!(items))
}

fn list_installations(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    let (page, per_page) = page_of(ctx);
    let items: Vec<Value> = world
        .installations
        .values()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|i| {
            let mut item = ctx
                .spec
                .example("base-installation-items")
                .and_then(|list| list.get(0).cloned())
                .unwrap_or_else(|| json!({}));
            item["id"] = json!(i.id);
            item["account"]["login"] = json!(i.account);
            item["permissions"] = json!(i.permissions);
            item["app_id"] = json!(world.app_id);
            item["suspended_at"] = Value::Null;
            item["suspended_by"] = Value::Null;
            item
        })
        .collect();
    Reply::json(200, Value::Array(items))
}

fn list_installation_repositories(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let installation = match installation_auth(world, ctx) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let (page, per_page) = page_of(ctx);
    let granted: Vec<&crate::world::Repository> = world
        .repositories
        .values()
        .filter(|r| r.installation == installation)
        .collect();
    let items: Vec<Value> = granted
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|r| {
            let (owner, short) = r.full_name.split_once('/').unwrap_or(("", &r.full_name));
            let mut item = ctx
                .spec
                .example("repository-paginated-2")
                .and_then(|page| page["repositories"].get(0).cloned())
                .unwrap_or_else(|| json!({}));
            item["id"] = json!(r.id);
            item["name"] = json!(short);
            item["full_name"] = json!(r.full_name);
            item["owner"] = crate::world::simple_user(owner, "Organization");
            item["private"] = json!(r.private);
            item["default_branch"] = json!(r.default_branch);
            item
        })
        .collect();
    Reply::json(
        200,
        json!({ "total_count": granted.len(), "repositories": items }),
    )
}

fn create_installation_token(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    let Ok(id) = ctx.segment(2).parse::<i64>() else {
        return Reply::message(404, "Not Found");
    };
    if !world.installations.contains_key(&id) {
        return Reply::message(404, "Not Found");
    }
    let token = format!("ghs_{:032x}", rand::rng().random::<u128>());
    let expiry = SystemTime::now() + world.token_lifetime;
    world.tokens.insert(token.clone(), (id, expiry));
    let mut body = ctx
        .spec
        .example("installation-token")
        .unwrap_or_else(|| json!({}));
    body["token"] = json!(token);
    body["expires_at"] = json!(rfc3339(expiry));
    Reply::json(201, body)
}

fn convert_manifest(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let code = ctx.segment(1).to_owned();
    let Some((id, pem, secret)) = world.manifest_codes.remove(&code) else {
        return Reply::message(404, "Not Found");
    };
    let mut body = ctx
        .spec
        .example("integration-from-manifest")
        .unwrap_or_else(|| json!({}));
    body["id"] = json!(id);
    body["pem"] = json!(pem);
    body["webhook_secret"] = json!(secret);
    let slug = body["slug"].as_str().unwrap_or("upkeep").to_owned();
    body["html_url"] = json!(format!("https://github.com/apps/{slug}"));
    Reply::json(201, body)
}

fn get_repository(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let name = match authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let repo = &world.repositories[&name];
    let mut body = ctx
        .spec
        .example("full-repository")
        .unwrap_or_else(|| json!({}));
    let (owner, short) = name.split_once('/').unwrap_or((&name, &name));
    body["id"] = json!(repo.id);
    body["name"] = json!(short);
    body["full_name"] = json!(name);
    body["owner"]["login"] = json!(owner);
    body["default_branch"] = json!(repo.default_branch);
    body["private"] = json!(repo.private);
    // GitHub's own example predates this required field.
    body["has_discussions"] = json!(false);
    Reply::json(200, body)
}

fn create_issue(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let name = match authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let Some(title) = ctx.body.and_then(|b| b["title"].as_str()) else {
        return Reply::message(422, "Validation Failed");
    };
    let id = world.next_id();
    let Some(repo) = world.repositories.get_mut(&name) else {
        return Reply::message(404, "Not Found");
    };
    let number = repo.next_number();
    let mut issue = ctx.spec.example("issue").unwrap_or_else(|| json!({}));
    issue["id"] = json!(id);
    issue["number"] = json!(number);
    issue["title"] = json!(title);
    issue["body"] = ctx.body.map(|b| b["body"].clone()).unwrap_or(Value::Null);
    issue["state"] = json!("open");
    issue["html_url"] = json!(format!("https://github.com/{name}/issues/{number}"));
    // Opened by whoever is calling: the App's bot.
    issue["user"]["login"] = json!(crate::issue_routes::BOT);
    issue["user"]["type"] = json!("Bot");
    // A new issue: not a pull request, not closed, labelled as asked.
    if let Some(map) = issue.as_object_mut() {
        map.remove("pull_request");
    }
    issue["closed_at"] = Value::Null;
    issue["comments"] = json!(0);
    let labels: Vec<Value> = ctx
        .body
        .and_then(|b| b["labels"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l.as_str())
        .enumerate()
        .map(|(i, l)| json!({"id": i + 1, "node_id": format!("L_{l}"), "url": format!("https://api.github.com/repos/{name}/labels/{l}"), "name": l, "description": "", "color": "ededed", "default": false}))
        .collect();
    issue["labels"] = Value::Array(labels);
    repo.issues.push(issue.clone());
    Reply::json(201, issue)
}

/// Issue and pull request search over the repositories the installation may see, with the
/// qualifiers upkeep uses: `repo:`, `is:issue`/`is:pr`, `is:open`/`is:closed`, `state:`,
/// `label:`, `in:body`/`in:title`, and quoted or bare words that must all appear.
fn search_issues(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let installation = match installation_auth(world, ctx) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(q) = ctx.param("q").map(decode) else {
        return Reply::message(422, "Validation Failed");
    };
    let mut words = Vec::new();
    let mut rest = q.as_str();
    while let Some(start) = rest.find('"') {
        words.extend(rest[..start].split_whitespace().map(str::to_owned));
        let after = &rest[start + 1..];
        let end = after.find('"').unwrap_or(after.len());
        words.push(format!("\"{}", &after[..end]));
        rest = after.get(end + 1..).unwrap_or("");
    }
    words.extend(rest.split_whitespace().map(str::to_owned));
    let template = ctx
        .spec
        .example("issue-search-result-item-paginated")
        .and_then(|p| p["items"].get(0).cloned())
        .unwrap_or_else(|| json!({}));
    let mut items = Vec::new();
    for repo in world
        .repositories
        .values()
        .filter(|r| r.installation == installation)
    {
        let all = repo
            .issues
            .iter()
            .map(|i| (i, false))
            .chain(repo.pulls.iter().map(|p| (p, true)));
        for (item, is_pr) in all {
            let text = format!(
                "{} {}",
                item["title"].as_str().unwrap_or(""),
                item["body"].as_str().unwrap_or("")
            );
            let keep = words.iter().all(|w| match w.split_once(':') {
                _ if w.starts_with('"') => text.contains(&w[1..]),
                Some(("repo", name)) => repo.full_name == name,
                Some(("is", "issue")) => !is_pr,
                Some(("is", "pr")) => is_pr,
                Some(("is", state)) | Some(("state", state)) => item["state"] == state,
                Some(("label", label)) => item["labels"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["name"] == label)),
                Some(("in", _)) => true,
                _ => text.contains(w.as_str()),
            });
            if keep {
                let mut out = template.clone();
                for key in [
                    "id",
                    "node_id",
                    "number",
                    "title",
                    "body",
                    "state",
                    "labels",
                    "html_url",
                    "url",
                    "user",
                    "created_at",
                    "updated_at",
                    "closed_at",
                ] {
                    if !item[key].is_null() || key == "body" || key == "closed_at" {
                        out[key] = item[key].clone();
                    }
                }
                if !is_pr {
                    out.as_object_mut().map(|o| o.remove("pull_request"));
                }
                out["score"] = json!(1.0);
                items.push(out);
            }
        }
    }
    Reply::json(
        200,
        json!({ "total_count": items.len(), "incomplete_results": false, "items": items, "search_type": "lexical" }),
    )
}
