//! The fake's pull requests, comments, labels, reactions, checks and permissions, and its GraphQL
//! auto-merge and revert-pull-request mutations, each answer held to GitHub's description.

mod common;

use common::{available, call, o_r, token};
use serde_json::{json, Value};

#[tokio::test]
async fn pull_requests_comments_labels_reactions_checks_and_permissions_conform() {
    if !available() {
        return;
    }
    let github = o_r()
        .files("o/r", &[("Cargo.toml", "[package]\nname = \"r\"\n")])
        .collaborator("o/r", "alice", "maintain")
        .start()
        .await;
    let t = token(&github).await;
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let (github, t) = (&github, &t);
        async move { call(github, method, &path, t, body).await }
    };
    use reqwest::Method as M;
    let (_, main, _) = send(M::GET, "/repos/o/r/git/ref/heads/main".into(), None).await;
    let head = main["object"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(
        send(
            M::POST,
            "/repos/o/r/git/refs".into(),
            Some(json!({"ref": "refs/heads/upkeep/cargo/serde", "sha": head}))
        )
        .await
        .0,
        201
    );

    let (status, pr, _) = send(M::POST, "/repos/o/r/pulls".into(), Some(json!({"title": "Bump serde", "head": "upkeep/cargo/serde", "base": "main", "body": "table"}))).await;
    assert_eq!(status, 201, "{pr}");
    let n = pr["number"].as_i64().unwrap();
    assert_eq!(
        send(
            M::POST,
            "/repos/o/r/pulls".into(),
            Some(json!({"title": "again", "head": "upkeep/cargo/serde", "base": "main"}))
        )
        .await
        .0,
        422
    );
    let (_, open, _) = send(
        M::GET,
        "/repos/o/r/pulls?state=open&head=o:upkeep/cargo/serde".into(),
        None,
    )
    .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(
        send(
            M::PATCH,
            format!("/repos/o/r/pulls/{n}"),
            Some(json!({"title": "Bump serde from 1.0.1 to 1.0.2"}))
        )
        .await
        .0,
        200
    );
    let (_, got, _) = send(M::GET, format!("/repos/o/r/pulls/{n}"), None).await;
    assert_eq!(got["title"], "Bump serde from 1.0.1 to 1.0.2");

    let (status, comment, _) = send(
        M::POST,
        format!("/repos/o/r/issues/{n}/comments"),
        Some(json!({"body": "@upkeep rebase"})),
    )
    .await;
    assert_eq!(status, 201);
    let cid = comment["id"].as_i64().unwrap();
    assert_eq!(
        send(
            M::PATCH,
            format!("/repos/o/r/issues/comments/{cid}"),
            Some(json!({"body": "edited"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        send(
            M::POST,
            format!("/repos/o/r/issues/comments/{cid}/reactions"),
            Some(json!({"content": "eyes"}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        send(
            M::POST,
            format!("/repos/o/r/issues/comments/{cid}/reactions"),
            Some(json!({"content": "eyes"}))
        )
        .await
        .0,
        200
    );
    let (_, comments, _) = send(M::GET, format!("/repos/o/r/issues/{n}/comments"), None).await;
    assert_eq!(comments[0]["body"], "edited");
    let (status, labels, _) = send(
        M::POST,
        format!("/repos/o/r/issues/{n}/labels"),
        Some(json!({"labels": ["dependencies", "upkeep:needs-human"]})),
    )
    .await;
    assert_eq!((status, labels.as_array().unwrap().len()), (200, 2));

    let (status, run, _) = send(
        M::POST,
        "/repos/o/r/check-runs".into(),
        Some(json!({"name": "upkeep/audit", "head_sha": head, "status": "in_progress"})),
    )
    .await;
    assert_eq!(status, 201);
    let run_id = run["id"].as_i64().unwrap();
    let (status, done, _) = send(M::PATCH, format!("/repos/o/r/check-runs/{run_id}"), Some(json!({"conclusion": "failure", "output": {"title": "1 vulnerability", "summary": "RUSTSEC-2020-0071"}}))).await;
    assert_eq!((status, done["status"].as_str()), (200, Some("completed")));

    let (status, merged, _) = send(
        M::PUT,
        format!("/repos/o/r/pulls/{n}/merge"),
        Some(json!({"merge_method": "squash"})),
    )
    .await;
    assert_eq!((status, merged["merged"].as_bool()), (200, Some(true)));
    let (_, main_after, _) = send(M::GET, "/repos/o/r/git/ref/heads/main".into(), None).await;
    assert_eq!(main_after["object"]["sha"], merged["sha"]);
    assert_eq!(
        send(M::PUT, format!("/repos/o/r/pulls/{n}/merge"), None)
            .await
            .0,
        405
    );

    let (status, issue, _) = send(
        M::POST,
        "/repos/o/r/issues".into(),
        Some(json!({"title": "Upkeep dashboard"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        issue["number"].as_i64(),
        Some(n + 1),
        "issues and pull requests share numbers"
    );
    assert_eq!(
        send(
            M::PATCH,
            format!("/repos/o/r/issues/{}", n + 1),
            Some(json!({"state": "closed"}))
        )
        .await
        .0,
        200
    );
    let (_, open_issues, _) = send(M::GET, "/repos/o/r/issues?state=open".into(), None).await;
    assert!(open_issues.as_array().unwrap().is_empty());

    let (status, perm, _) = send(
        M::GET,
        "/repos/o/r/collaborators/alice/permission".into(),
        None,
    )
    .await;
    assert_eq!(
        (status, perm["role_name"].as_str()),
        (200, Some("maintain"))
    );
    assert_eq!(
        send(
            M::GET,
            "/repos/o/r/collaborators/mallory/permission".into(),
            None
        )
        .await
        .0,
        404
    );
    github.assert_conformant();
}

#[tokio::test]
async fn graphql_auto_merge_and_revert_pull_request() {
    if !available() {
        return;
    }
    let github = o_r()
        .files("o/r", &[("Cargo.toml", "[package]\nname = \"r\"\n")])
        .start()
        .await;
    let t = token(&github).await;
    use reqwest::Method as M;
    let (_, main, _) = call(&github, M::GET, "/repos/o/r/git/ref/heads/main", &t, None).await;
    let green = main["object"]["sha"].as_str().unwrap().to_owned();
    let (_, green_commit, _) = call(
        &github,
        M::GET,
        &format!("/repos/o/r/git/commits/{green}"),
        &t,
        None,
    )
    .await;
    // A change on a branch, a pull request for it.
    let (_, tree, _) = call(&github, M::POST, "/repos/o/r/git/trees", &t, Some(json!({"base_tree": green_commit["tree"]["sha"], "tree": [{"path": "src/lib.rs", "mode": "100644", "type": "blob", "content": "broken"}]}))).await;
    let (_, commit, _) = call(
        &github,
        M::POST,
        "/repos/o/r/git/commits",
        &t,
        Some(json!({"message": "Break it", "tree": tree["sha"], "parents": [green]})),
    )
    .await;
    call(
        &github,
        M::POST,
        "/repos/o/r/git/refs",
        &t,
        Some(json!({"ref": "refs/heads/feature", "sha": commit["sha"]})),
    )
    .await;
    let (_, pr, _) = call(
        &github,
        M::POST,
        "/repos/o/r/pulls",
        &t,
        Some(json!({"title": "Feature", "head": "feature", "base": "main"})),
    )
    .await;
    let node = pr["node_id"].as_str().unwrap().to_owned();

    let gql = |query: &str, input: Value| {
        call(
            &github,
            M::POST,
            "/graphql",
            &t,
            Some(json!({"query": query, "variables": {"input": input}})),
        )
    };
    let (status, auto, _) = gql("mutation($input: EnablePullRequestAutoMergeInput!) { enablePullRequestAutoMerge(input: $input) { pullRequest { number } } }", json!({"pullRequestId": node, "mergeMethod": "SQUASH"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        auto["data"]["enablePullRequestAutoMerge"]["pullRequest"]["number"],
        pr["number"]
    );
    let n = pr["number"].as_i64().unwrap();
    let (_, got, _) = call(&github, M::GET, &format!("/repos/o/r/pulls/{n}"), &t, None).await;
    assert_eq!(got["auto_merge"]["merge_method"], "squash");

    // Merged, then reverted: the revert's tree is the tree before the merge.
    call(
        &github,
        M::PUT,
        &format!("/repos/o/r/pulls/{n}/merge"),
        &t,
        Some(json!({"merge_method": "merge"})),
    )
    .await;
    let (status, revert, _) = gql("mutation($input: RevertPullRequestInput!) { revertPullRequest(input: $input) { revertPullRequest { number url } } }", json!({"pullRequestId": node, "title": "Revert \"Feature\""})).await;
    assert_eq!(status, 200, "{revert}");
    let rn = revert["data"]["revertPullRequest"]["revertPullRequest"]["number"]
        .as_i64()
        .unwrap();
    let (_, rpr, _) = call(&github, M::GET, &format!("/repos/o/r/pulls/{rn}"), &t, None).await;
    let (_, rcommit, _) = call(
        &github,
        M::GET,
        &format!(
            "/repos/o/r/git/commits/{}",
            rpr["head"]["sha"].as_str().unwrap()
        ),
        &t,
        None,
    )
    .await;
    assert_eq!(rcommit["tree"]["sha"], green_commit["tree"]["sha"]);

    // A mutation the fake does not model is a violation, never a silent answer.
    let (status, _, _) = gql(
        "mutation { deleteRepository(input: {}) { clientMutationId } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 400);
    let violations = github.take_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].operation, "graphql");
}
