//! The GraphQL mutations upkeep uses, answered in GitHub's shapes: `enablePullRequestAutoMerge`
//! and `revertPullRequest`. GraphQL is not in the REST description, so these are checked here:
//! a mutation the fake does not know, or a missing input, is a violation.
//!
//! Pull requests are named by node id (`PR_<id>`, as the REST answers give it).

use serde_json::{json, Value};

use crate::exchange::now_secs;
use crate::git::{Commit, Object};
use crate::world::World;

/// Answers one GraphQL request: the body's `query` and `variables`. `Err` is a violation.
pub(crate) fn answer(
    world: &mut World,
    spec: &crate::openapi::Spec,
    installation: Option<i64>,
    body: &Value,
) -> Result<Value, String> {
    let query = body["query"]
        .as_str()
        .ok_or("a GraphQL request carries a query string")?;
    let vars = &body["variables"];
    if installation.is_none() {
        return Ok(
            json!({ "message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql" }),
        );
    }
    let input = &vars["input"];
    if query.contains("enablePullRequestAutoMerge") {
        let id = input["pullRequestId"]
            .as_str()
            .ok_or("enablePullRequestAutoMerge needs input.pullRequestId")?;
        let method = input["mergeMethod"].as_str().unwrap_or("MERGE").to_owned();
        let Some(pr) = find_pr(world, id) else {
            return Ok(error(&format!(
                "Could not resolve to a node with the global id of '{id}'"
            )));
        };
        if pr["state"] != "open" {
            return Ok(error("Pull request is in clean status"));
        }
        let mut bot = spec.example("simple-user").unwrap_or_else(|| json!({}));
        bot["login"] = json!(crate::issue_routes::BOT);
        bot["type"] = json!("Bot");
        pr["auto_merge"] = json!({ "merge_method": method.to_lowercase(), "enabled_by": bot, "commit_title": "", "commit_message": "" });
        let number = pr["number"].clone();
        return Ok(
            json!({ "data": { "enablePullRequestAutoMerge": { "pullRequest": {
            "id": id, "number": number, "autoMergeRequest": { "mergeMethod": method, "enabledAt": crate::exchange::rfc3339_secs(now_secs()) }
        } } } }),
        );
    }
    if query.contains("revertPullRequest") {
        let id = input["pullRequestId"]
            .as_str()
            .ok_or("revertPullRequest needs input.pullRequestId")?;
        return Ok(revert(world, id, input));
    }
    Err(format!(
        "the fake GitHub does not model this GraphQL operation: {}",
        query.chars().take(80).collect::<String>()
    ))
}

fn error(message: &str) -> Value {
    json!({ "data": null, "errors": [{ "type": "UNPROCESSABLE", "message": message }] })
}

fn find_pr<'a>(world: &'a mut World, node_id: &str) -> Option<&'a mut Value> {
    world
        .repositories
        .values_mut()
        .flat_map(|r| r.pulls.iter_mut())
        .find(|p| p["node_id"] == node_id)
}

/// Opens a pull request that reverts a merged one: a branch from the base's head with a commit
/// restoring the merge commit's first parent's tree, as GitHub's revert button does when the
/// merge is still the tip; a base that moved on is refused (the fake models no three-way merge).
fn revert(world: &mut World, node_id: &str, input: &Value) -> Value {
    let next_id = world.next_id();
    let Some(repo) = world
        .repositories
        .values_mut()
        .find(|r| r.pulls.iter().any(|p| p["node_id"] == node_id))
    else {
        return error(&format!(
            "Could not resolve to a node with the global id of '{node_id}'"
        ));
    };
    let Some(pr) = repo.pulls.iter().find(|p| p["node_id"] == node_id).cloned() else {
        return error("not found");
    };
    let (Some(merge), Some(base)) = (pr["merge_commit_sha"].as_str(), pr["base"]["ref"].as_str())
    else {
        return error("Pull request is not merged");
    };
    let base_ref = format!("heads/{base}");
    if repo.refs.get(&base_ref).map(String::as_str) != Some(merge) {
        return error("Could not revert: the base branch has moved on");
    }
    let Some(Object::Commit(merged)) = repo.objects.get(merge).cloned() else {
        return error("merge commit missing");
    };
    let Some(Object::Commit(parent)) = merged
        .parents
        .first()
        .and_then(|p| repo.objects.get(p))
        .cloned()
    else {
        return error("merge commit has no parent");
    };
    let number = pr["number"].as_i64().unwrap_or(0);
    let title = input["title"].as_str().map_or_else(
        || format!("Revert \"{}\"", pr["title"].as_str().unwrap_or("")),
        str::to_owned,
    );
    let sha = repo.objects.commit(Commit {
        tree: parent.tree,
        parents: vec![merge.to_owned()],
        message: format!("{title}\n\nThis reverts commit {merge}."),
        author: "upkeep[bot] <upkeep[bot]@users.noreply.github.com>".into(),
        time: now_secs(),
    });
    let branch = format!(
        "revert-{number}-{}",
        pr["head"]["ref"].as_str().unwrap_or("branch")
    );
    repo.refs.insert(format!("heads/{branch}"), sha.clone());
    let revert_number = repo.next_number();
    let mut revert_pr = pr.clone();
    revert_pr["id"] = json!(next_id);
    revert_pr["node_id"] = json!(format!("PR_{next_id}"));
    revert_pr["number"] = json!(revert_number);
    revert_pr["title"] = json!(title);
    revert_pr["body"] = input.get("body").cloned().unwrap_or(Value::Null);
    revert_pr["state"] = json!("open");
    revert_pr["draft"] = json!(input["draft"].as_bool().unwrap_or(false));
    revert_pr["merged"] = json!(false);
    revert_pr["merged_at"] = Value::Null;
    revert_pr["closed_at"] = Value::Null;
    revert_pr["merge_commit_sha"] = Value::Null;
    revert_pr["head"]["ref"] = json!(branch);
    revert_pr["head"]["sha"] = json!(sha);
    revert_pr["base"]["sha"] = json!(merge);
    let url = format!("https://github.com/{}/pull/{revert_number}", repo.full_name);
    revert_pr["html_url"] = json!(url);
    repo.pulls.push(revert_pr);
    json!({ "data": { "revertPullRequest": {
        "pullRequest": { "id": node_id, "number": number },
        "revertPullRequest": { "id": format!("PR_{next_id}"), "number": revert_number, "url": url }
    } } })
}
