//! The Git Data API and the contents API over the world's object databases: refs, commits,
//! trees, blobs and files, with git's own object ids.

use base64::Engine;
use serde_json::{json, Value};

use crate::exchange::{Ctx, Reply};
use crate::git::{Commit, Object, TreeEntry};
use crate::world::{Repository, World};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(crate) const OPS: [&str; 12] = [
    "git/get-ref",
    "git/create-ref",
    "git/update-ref",
    "git/delete-ref",
    "git/get-commit",
    "git/create-commit",
    "git/get-tree",
    "git/create-tree",
    "git/get-blob",
    "git/create-blob",
    "repos/get-content",
    "repos/compare-commits",
];

/// Runs a git or contents route; `None` when the operation is not one of these.
pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    if !OPS.contains(&op) {
        return None;
    }
    let repo = match crate::exchange::authorised_repository(world, ctx) {
        Ok(name) => name,
        Err(reply) => return Some(reply),
    };
    let api = format!("https://api.github.com/repos/{repo}");
    let repo = world.repositories.get_mut(&repo)?;
    Some(match op {
        "git/get-ref" => get_ref(repo, &api, &ref_name(ctx, 6)),
        "git/create-ref" => create_ref(repo, &api, ctx),
        "git/update-ref" => update_ref(repo, &api, ctx),
        "git/delete-ref" => match repo.refs.remove(&ref_name(ctx, 6)) {
            Some(_) => Reply::empty(204),
            None => Reply::message(422, "Reference does not exist"),
        },
        "git/get-commit" => get_commit(repo, &api, ctx.segment(5)),
        "git/create-commit" => create_commit(repo, &api, ctx),
        "git/get-tree" => get_tree(repo, &api, ctx.segment(5), ctx.param("recursive").is_some()),
        "git/create-tree" => create_tree(repo, &api, ctx),
        "git/get-blob" => get_blob(repo, &api, ctx.segment(5)),
        "git/create-blob" => create_blob(repo, &api, ctx),
        "repos/get-content" => get_content(repo, &api, ctx),
        "repos/compare-commits" => compare(repo, &api, ctx),
        _ => return None,
    })
}

/// `heads/main` from `/repos/o/r/git/ref/heads/main` (the rest of the path from segment `from`).
fn ref_name(ctx: &Ctx<'_>, from: usize) -> String {
    ctx.path.split('/').skip(from).collect::<Vec<_>>().join("/")
}

fn ref_json(api: &str, name: &str, sha: &str) -> Value {
    json!({
        "ref": format!("refs/{name}"),
        "node_id": format!("REF_{sha}"),
        "url": format!("{api}/git/refs/{name}"),
        "object": { "type": "commit", "sha": sha, "url": format!("{api}/git/commits/{sha}") }
    })
}

fn get_ref(repo: &Repository, api: &str, name: &str) -> Reply {
    match repo.refs.get(name) {
        Some(sha) => Reply::json(200, ref_json(api, name, sha)),
        None => Reply::message(404, "Not Found"),
    }
}

fn create_ref(repo: &mut Repository, api: &str, ctx: &Ctx<'_>) -> Reply {
    let body = ctx.body.cloned().unwrap_or_default();
    let (Some(full), Some(sha)) = (body["ref"].as_str(), body["sha"].as_str()) else {
        return Reply::message(422, "Invalid request.");
    };
    let Some(name) = full.strip_prefix("refs/").filter(|n| n.contains('/')) else {
        return Reply::message(
            422,
            "Reference name must start with 'refs/' and have at least two slashes.",
        );
    };
    if !matches!(repo.objects.get(sha), Some(Object::Commit(_))) {
        return Reply::message(422, "Object does not exist");
    }
    if repo.refs.contains_key(name) {
        return Reply::message(422, "Reference already exists");
    }
    repo.refs.insert(name.to_owned(), sha.to_owned());
    Reply::json(201, ref_json(api, name, sha))
}

/// Whether `ancestor` is reachable from `descendant` by parents.
fn reachable(repo: &Repository, ancestor: &str, descendant: &str) -> bool {
    let mut todo = vec![descendant.to_owned()];
    while let Some(sha) = todo.pop() {
        if sha == ancestor {
            return true;
        }
        if let Some(Object::Commit(c)) = repo.objects.get(&sha) {
            todo.extend(c.parents.iter().cloned());
        }
    }
    false
}

fn update_ref(repo: &mut Repository, api: &str, ctx: &Ctx<'_>) -> Reply {
    let name = ref_name(ctx, 6);
    let body = ctx.body.cloned().unwrap_or_default();
    let Some(sha) = body["sha"].as_str() else {
        return Reply::message(422, "Invalid request.");
    };
    let Some(current) = repo.refs.get(&name).cloned() else {
        return Reply::message(422, "Reference does not exist");
    };
    if !matches!(repo.objects.get(sha), Some(Object::Commit(_))) {
        return Reply::message(422, "Object does not exist");
    }
    let force = body["force"].as_bool().unwrap_or(false);
    if !force && !reachable(repo, &current, sha) {
        return Reply::message(422, "Update is not a fast forward");
    }
    repo.refs.insert(name.clone(), sha.to_owned());
    Reply::json(200, ref_json(api, &name, sha))
}

fn commit_json(api: &str, sha: &str, c: &Commit) -> Value {
    let date = crate::exchange::rfc3339_secs(c.time);
    let person = json!({ "name": "Octocat", "email": "octocat@github.com", "date": date });
    json!({
        "sha": sha,
        "node_id": format!("C_{sha}"),
        "url": format!("{api}/git/commits/{sha}"),
        "html_url": format!("{}/commit/{sha}", api.replace("api.github.com/repos", "github.com")),
        "author": person,
        "committer": person,
        "message": c.message,
        "tree": { "sha": c.tree, "url": format!("{api}/git/trees/{}", c.tree) },
        "parents": c.parents.iter().map(|p| json!({
            "sha": p, "url": format!("{api}/git/commits/{p}"),
            "html_url": format!("{}/commit/{p}", api.replace("api.github.com/repos", "github.com"))
        })).collect::<Vec<_>>(),
        "verification": { "verified": true, "reason": "valid", "signature": null, "payload": null, "verified_at": date }
    })
}

fn get_commit(repo: &Repository, api: &str, sha: &str) -> Reply {
    match repo.objects.get(sha) {
        Some(Object::Commit(c)) => Reply::json(200, commit_json(api, sha, c)),
        _ => Reply::message(404, "Not Found"),
    }
}

fn create_commit(repo: &mut Repository, api: &str, ctx: &Ctx<'_>) -> Reply {
    let body = ctx.body.cloned().unwrap_or_default();
    let (Some(message), Some(tree)) = (body["message"].as_str(), body["tree"].as_str()) else {
        return Reply::message(422, "Invalid request.");
    };
    if !matches!(repo.objects.get(tree), Some(Object::Tree(_))) {
        return Reply::message(422, "Tree SHA does not exist");
    }
    let parents: Vec<String> = body["parents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if parents
        .iter()
        .any(|p| !matches!(repo.objects.get(p), Some(Object::Commit(_))))
    {
        return Reply::message(422, "Parent SHA does not exist or is not a commit object");
    }
    let commit = Commit {
        tree: tree.to_owned(),
        parents,
        message: message.to_owned(),
        author: "upkeep[bot] <upkeep[bot]@users.noreply.github.com>".into(),
        time: crate::exchange::now_secs(),
    };
    let sha = repo.objects.commit(commit.clone());
    Reply::json(201, commit_json(api, &sha, &commit))
}

fn tree_json(repo: &Repository, api: &str, sha: &str, recursive: bool) -> Option<Value> {
    let Some(Object::Tree(entries)) = repo.objects.get(sha) else {
        return None;
    };
    let mut out = Vec::new();
    let mut stack: Vec<(String, Vec<TreeEntry>)> = vec![(String::new(), entries.clone())];
    while let Some((prefix, entries)) = stack.pop() {
        for e in entries {
            let path = format!("{prefix}{}", e.name);
            let kind = if e.is_tree() { "tree" } else { "blob" };
            let mut item = json!({
                "path": path, "mode": if e.is_tree() { "040000" } else { e.mode.as_str() },
                "type": kind, "sha": e.sha, "url": format!("{api}/git/{kind}s/{}", e.sha)
            });
            if let Some(Object::Blob(b)) = repo.objects.get(&e.sha) {
                item["size"] = json!(b.len());
            }
            out.push(item);
            if recursive && e.is_tree() {
                if let Some(Object::Tree(children)) = repo.objects.get(&e.sha) {
                    stack.push((format!("{path}/"), children.clone()));
                }
            }
        }
    }
    Some(
        json!({ "sha": sha, "url": format!("{api}/git/trees/{sha}"), "tree": out, "truncated": false }),
    )
}

fn get_tree(repo: &Repository, api: &str, sha: &str, recursive: bool) -> Reply {
    // A commit id or a ref name is accepted where a tree is asked for, as GitHub does.
    let tree = match repo.objects.get(sha) {
        Some(Object::Commit(c)) => c.tree.clone(),
        Some(_) => sha.to_owned(),
        None => match repo
            .refs
            .get(&format!("heads/{sha}"))
            .and_then(|c| repo.objects.get(c))
        {
            Some(Object::Commit(c)) => c.tree.clone(),
            _ => return Reply::message(404, "Not Found"),
        },
    };
    match tree_json(repo, api, &tree, recursive) {
        Some(body) => Reply::json(200, body),
        None => Reply::message(404, "Not Found"),
    }
}

fn create_tree(repo: &mut Repository, api: &str, ctx: &Ctx<'_>) -> Reply {
    let body = ctx.body.cloned().unwrap_or_default();
    let mut files: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    if let Some(base) = body["base_tree"].as_str() {
        for (path, blob) in repo.objects.files(base) {
            if let Some(Object::Blob(b)) = repo.objects.get(&blob) {
                files.insert(path, b.clone());
            }
        }
    }
    for item in body["tree"].as_array().cloned().unwrap_or_default() {
        let Some(path) = item["path"].as_str() else {
            return Reply::message(422, "Invalid tree info");
        };
        match (item.get("content").and_then(Value::as_str), item.get("sha")) {
            (Some(content), _) => {
                files.insert(path.to_owned(), content.as_bytes().to_vec());
            }
            (None, Some(Value::Null)) => {
                files.remove(path);
            }
            (None, Some(Value::String(sha))) => match repo.objects.get(sha) {
                Some(Object::Blob(b)) => {
                    files.insert(path.to_owned(), b.clone());
                }
                _ => return Reply::message(422, "Invalid tree info"),
            },
            _ => return Reply::message(422, "Invalid tree info"),
        }
    }
    let sha = repo.objects.tree_from_files(&files);
    match tree_json(repo, api, &sha, false) {
        Some(body) => Reply::json(201, body),
        None => Reply::message(422, "Invalid tree info"),
    }
}

fn get_blob(repo: &Repository, api: &str, sha: &str) -> Reply {
    match repo.objects.get(sha) {
        Some(Object::Blob(b)) => Reply::json(
            200,
            json!({
                "content": B64.encode(b), "encoding": "base64", "url": format!("{api}/git/blobs/{sha}"),
                "sha": sha, "size": b.len(), "node_id": format!("B_{sha}")
            }),
        ),
        _ => Reply::message(404, "Not Found"),
    }
}

fn create_blob(repo: &mut Repository, api: &str, ctx: &Ctx<'_>) -> Reply {
    let body = ctx.body.cloned().unwrap_or_default();
    let Some(content) = body["content"].as_str() else {
        return Reply::message(422, "Invalid request.");
    };
    let bytes = match body["encoding"].as_str().unwrap_or("utf-8") {
        "base64" => match B64.decode(content.replace('\n', "")) {
            Ok(b) => b,
            Err(_) => return Reply::message(422, "Invalid base64 content"),
        },
        _ => content.as_bytes().to_vec(),
    };
    let sha = repo.objects.blob(&bytes);
    Reply::json(
        201,
        json!({ "url": format!("{api}/git/blobs/{sha}"), "sha": sha }),
    )
}

fn get_content(repo: &Repository, api: &str, ctx: &Ctx<'_>) -> Reply {
    let path = ref_name(ctx, 5);
    let git_ref = ctx
        .param("ref")
        .map(str::to_owned)
        .unwrap_or_else(|| repo.default_branch.clone());
    let commit = repo
        .refs
        .get(&format!("heads/{git_ref}"))
        .cloned()
        .or_else(|| repo.objects.get(&git_ref).map(|_| git_ref.clone()));
    let Some(Object::Commit(c)) = commit.as_deref().and_then(|c| repo.objects.get(c)) else {
        return Reply::message(404, "No commit found for the ref");
    };
    let Some((sha, bytes)) = repo.objects.file(&c.tree, &path) else {
        return Reply::message(404, "Not Found");
    };
    let name = path.rsplit('/').next().unwrap_or(&path);
    let html = format!(
        "{}/blob/{git_ref}/{path}",
        api.replace("api.github.com/repos", "github.com")
    );
    Reply::json(
        200,
        json!({
            "type": "file", "encoding": "base64", "size": bytes.len(), "name": name, "path": path,
            "content": B64.encode(&bytes), "sha": sha,
            "url": format!("{api}/contents/{path}?ref={git_ref}"),
            "git_url": format!("{api}/git/blobs/{sha}"), "html_url": html,
            "download_url": format!("https://raw.githubusercontent.com/{}/{git_ref}/{path}", api.trim_start_matches("https://api.github.com/repos/")),
            "_links": { "git": format!("{api}/git/blobs/{sha}"), "self": format!("{api}/contents/{path}?ref={git_ref}"), "html": html }
        }),
    )
}

/// A commit named by a branch or an id.
fn resolve(repo: &Repository, name: &str) -> Option<String> {
    repo.refs
        .get(&format!("heads/{name}"))
        .cloned()
        .or_else(|| {
            matches!(repo.objects.get(name), Some(Object::Commit(_))).then(|| name.to_owned())
        })
}

/// Every commit reachable from `tip`, tip first (parents breadth-first).
fn ancestors(repo: &Repository, tip: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut order = Vec::new();
    let mut queue = std::collections::VecDeque::from([tip.to_owned()]);
    while let Some(sha) = queue.pop_front() {
        if !seen.insert(sha.clone()) {
            continue;
        }
        if let Some(Object::Commit(c)) = repo.objects.get(&sha) {
            queue.extend(c.parents.iter().cloned());
        }
        order.push(sha);
    }
    order
}

fn commit_summary(repo: &Repository, ctx: &Ctx<'_>, api: &str, sha: &str) -> Value {
    let mut out = ctx
        .spec
        .example("commit-comparison")
        .and_then(|c| c["commits"].get(0).cloned())
        .unwrap_or_else(|| json!({}));
    let web = api.replace("api.github.com/repos", "github.com");
    out["sha"] = json!(sha);
    out["node_id"] = json!(format!("C_{sha}"));
    out["url"] = json!(format!("{api}/commits/{sha}"));
    out["html_url"] = json!(format!("{web}/commit/{sha}"));
    out["comments_url"] = json!(format!("{api}/commits/{sha}/comments"));
    if let Some(Object::Commit(c)) = repo.objects.get(sha) {
        out["commit"]["message"] = json!(c.message);
        out["commit"]["tree"]["sha"] = json!(c.tree);
        out["parents"] = Value::Array(
            c.parents
                .iter()
                .map(|p| json!({ "sha": p, "url": format!("{api}/commits/{p}"), "html_url": format!("{web}/commit/{p}") }))
                .collect(),
        );
    }
    out
}

fn compare(repo: &Repository, api: &str, ctx: &Ctx<'_>) -> Reply {
    let basehead = ref_name(ctx, 5);
    let Some((base_name, head_name)) = basehead.split_once("...") else {
        return Reply::message(404, "Not Found");
    };
    let (Some(base), Some(head)) = (resolve(repo, base_name), resolve(repo, head_name)) else {
        return Reply::message(404, "Not Found");
    };
    let from_base = ancestors(repo, &base);
    let from_head = ancestors(repo, &head);
    let base_set: std::collections::HashSet<&String> = from_base.iter().collect();
    let head_set: std::collections::HashSet<&String> = from_head.iter().collect();
    let merge_base = from_head
        .iter()
        .find(|c| base_set.contains(c))
        .cloned()
        .unwrap_or_else(|| base.clone());
    let mut ahead: Vec<&String> = from_head.iter().filter(|c| !base_set.contains(c)).collect();
    ahead.reverse();
    let behind = from_base.iter().filter(|c| !head_set.contains(c)).count();
    let status = match (ahead.len(), behind) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let tree_of = |sha: &str| match repo.objects.get(sha) {
        Some(Object::Commit(c)) => c.tree.clone(),
        _ => String::new(),
    };
    let old = repo.objects.files(&tree_of(&merge_base));
    let new = repo.objects.files(&tree_of(&head));
    let web = api.replace("api.github.com/repos", "github.com");
    let lines = |blob: Option<&String>| match blob.and_then(|b| repo.objects.get(b)) {
        Some(Object::Blob(b)) => String::from_utf8_lossy(b)
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let mut files = Vec::new();
    for path in old
        .keys()
        .chain(new.keys().filter(|p| !old.contains_key(*p)))
    {
        let (before, after) = (old.get(path), new.get(path));
        if before == after {
            continue;
        }
        let status = match (before, after) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "modified",
        };
        let (a, b) = (lines(before), lines(after));
        let additions = b.iter().filter(|l| !a.contains(l)).count();
        let deletions = a.iter().filter(|l| !b.contains(l)).count();
        let sha = after.or(before).cloned().unwrap_or_default();
        files.push(json!({
            "sha": sha, "filename": path, "status": status, "additions": additions, "deletions": deletions,
            "changes": additions + deletions, "blob_url": format!("{web}/blob/{head}/{path}"),
            "raw_url": format!("{web}/raw/{head}/{path}"), "contents_url": format!("{api}/contents/{path}?ref={head}")
        }));
    }
    Reply::json(
        200,
        json!({
            "url": format!("{api}/compare/{basehead}"),
            "html_url": format!("{web}/compare/{basehead}"),
            "permalink_url": format!("{web}/compare/{base}...{head}"),
            "diff_url": format!("{web}/compare/{basehead}.diff"),
            "patch_url": format!("{web}/compare/{basehead}.patch"),
            "base_commit": commit_summary(repo, ctx, api, &base),
            "merge_base_commit": commit_summary(repo, ctx, api, &merge_base),
            "status": status,
            "ahead_by": ahead.len(),
            "behind_by": behind,
            "total_commits": ahead.len(),
            "commits": ahead.iter().map(|c| commit_summary(repo, ctx, api, c)).collect::<Vec<_>>(),
            "files": files,
        }),
    )
}
