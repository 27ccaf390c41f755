//! The fake itself: every modelled operation passes GitHub's description both ways; a wrong
//! request, an operation the fake does not model and a path GitHub does not have are each
//! caught loudly; rate-limit headers count down per installation.

mod common;

use common::{available, jwt, APP_ID};
use fake_github::{FakeGitHub, Fault};
use serde_json::{json, Value};

async fn world() -> FakeGitHub {
    let public = common::public_key();
    FakeGitHub::builder()
        .app(APP_ID, &public)
        .installation(7, "o")
        .repository(7, "o/r")
        .manifest_code("c0de", 99, "PEM", "whsec")
        .start()
        .await
}

/// The App, installation 7 on `o`, and repository `o/r`; more to add before `start()`.
fn o_r() -> fake_github::Builder {
    let public = common::public_key();
    FakeGitHub::builder()
        .app(APP_ID, &public)
        .installation(7, "o")
        .repository(7, "o/r")
}

/// An installation token for installation 7, exchanged with a real JWT.
async fn token(github: &FakeGitHub) -> String {
    let (status, token, _) = call(
        github,
        reqwest::Method::POST,
        "/app/installations/7/access_tokens",
        &jwt(),
        None,
    )
    .await;
    assert_eq!(status, 201);
    token["token"].as_str().unwrap().to_owned()
}

async fn call(
    github: &FakeGitHub,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", github.uri()))
        .header("authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn every_modelled_operation_passes_the_description_both_ways() {
    if !available() {
        return;
    }
    let github = world().await;
    let (status, token, _) = call(
        &github,
        reqwest::Method::POST,
        "/app/installations/7/access_tokens",
        &jwt(),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let token = token["token"].as_str().unwrap().to_owned();
    let (status, repo, _) = call(&github, reqwest::Method::GET, "/repos/o/r", &token, None).await;
    assert_eq!((status, repo["full_name"].as_str()), (200, Some("o/r")));
    let (status, issue, _) = call(
        &github,
        reqwest::Method::POST,
        "/repos/o/r/issues",
        &token,
        Some(json!({"title": "Upkeep dashboard", "body": "hi"})),
    )
    .await;
    assert_eq!((status, issue["number"].as_i64()), (201, Some(1)));
    let (status, app, _) = call(
        &github,
        reqwest::Method::POST,
        "/app-manifests/c0de/conversions",
        "",
        None,
    )
    .await;
    assert_eq!((status, app["id"].as_u64()), (201, Some(99)));
    // Refusals GitHub gives are in its shapes too.
    let (status, _, _) = call(
        &github,
        reqwest::Method::GET,
        "/repos/o/r",
        "ghs_stolen",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, body, _) = call(
        &github,
        reqwest::Method::POST,
        "/app/installations/8/access_tokens",
        &jwt(),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(github.calls().len(), 6);
    github.assert_conformant();
}

#[tokio::test]
async fn a_deliberately_wrong_request_is_caught_with_the_operation_and_the_error() {
    if !available() {
        return;
    }
    let github = world().await;
    let (_, token, _) = call(
        &github,
        reqwest::Method::POST,
        "/app/installations/7/access_tokens",
        &jwt(),
        None,
    )
    .await;
    let token = token["token"].as_str().unwrap().to_owned();
    call(
        &github,
        reqwest::Method::POST,
        "/repos/o/r/issues",
        &token,
        Some(json!({"title": "t", "labels": "not-a-list"})),
    )
    .await;
    let violations = github.take_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].operation, "issues/create");
    assert!(
        violations[0].message.contains("labels"),
        "{}",
        violations[0]
    );
}

#[tokio::test]
async fn an_operation_the_fake_does_not_model_fails_loudly() {
    if !available() {
        return;
    }
    let github = world().await;
    let (status, _, _) = call(
        &github,
        reqwest::Method::GET,
        "/repos/o/r/releases",
        "x",
        None,
    )
    .await;
    assert_eq!(status, 501);
    let (status, _, _) = call(
        &github,
        reqwest::Method::GET,
        "/repos/o/r/no-such-thing",
        "x",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let violations = github.take_violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(
        violations[0].message.contains("not modelled"),
        "{}",
        violations[0]
    );
    assert_eq!(violations[0].operation, "repos/list-releases");
    assert!(
        violations[1].message.contains("no such operation"),
        "{}",
        violations[1]
    );
}

#[tokio::test]
async fn rate_limit_headers_count_down_per_installation_and_faults_apply_in_order() {
    if !available() {
        return;
    }
    let github = world().await;
    let (_, token, _) = call(
        &github,
        reqwest::Method::POST,
        "/app/installations/7/access_tokens",
        &jwt(),
        None,
    )
    .await;
    let token = token["token"].as_str().unwrap().to_owned();
    let remaining = |h: &reqwest::header::HeaderMap| {
        h["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    let (_, _, first) = call(&github, reqwest::Method::GET, "/repos/o/r", &token, None).await;
    let (_, _, second) = call(&github, reqwest::Method::GET, "/repos/o/r", &token, None).await;
    assert_eq!(remaining(&first) - 1, remaining(&second));
    github.fault("repos/get", Fault::server_error(502));
    github.fault("repos/get", Fault::refusal(409, "Git Repository is empty."));
    let (a, _, _) = call(&github, reqwest::Method::GET, "/repos/o/r", &token, None).await;
    let (b, _, _) = call(&github, reqwest::Method::GET, "/repos/o/r", &token, None).await;
    let (c, _, _) = call(&github, reqwest::Method::GET, "/repos/o/r", &token, None).await;
    assert_eq!((a, b, c), (502, 409, 200));
}

#[tokio::test]
async fn the_git_data_and_contents_apis_round_trip_with_gits_own_ids() {
    if !available() {
        return;
    }
    let github = o_r()
        .files(
            "o/r",
            &[
                ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
                ("crates/a/Cargo.toml", "[package]\nname = \"a\"\n"),
            ],
        )
        .start()
        .await;
    let t = token(&github).await;
    let get = |path: String| {
        let (github, t) = (&github, &t);
        async move { call(github, reqwest::Method::GET, &path, t, None).await }
    };

    let (status, main, _) = get("/repos/o/r/git/ref/heads/main".into()).await;
    assert_eq!(status, 200);
    let head = main["object"]["sha"].as_str().unwrap().to_owned();
    let (_, commit, _) = get(format!("/repos/o/r/git/commits/{head}")).await;
    let tree = commit["tree"]["sha"].as_str().unwrap().to_owned();
    let (_, listing, _) = get(format!("/repos/o/r/git/trees/{tree}?recursive=1")).await;
    let paths: Vec<&str> = listing["tree"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "blob")
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"Cargo.toml") && paths.contains(&"crates/a/Cargo.toml"),
        "{paths:?}"
    );
    let (status, file, _) = get("/repos/o/r/contents/crates/a/Cargo.toml".into()).await;
    assert_eq!(status, 200);
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD
        .decode(file["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, b"[package]\nname = \"a\"\n");

    // A change through the Git Data API: blob, tree on the base, commit, branch.
    let post = |path: &str, body: Value| {
        let (github, t, path) = (&github, &t, path.to_owned());
        async move { call(github, reqwest::Method::POST, &path, t, Some(body)).await }
    };
    let (status, blob, _) = post(
        "/repos/o/r/git/blobs",
        json!({"content": "[package]\nname = \"a\"\nversion = \"2\"\n", "encoding": "utf-8"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, new_tree, _) = post(
        "/repos/o/r/git/trees",
        json!({"base_tree": tree, "tree": [{"path": "crates/a/Cargo.toml", "mode": "100644", "type": "blob", "sha": blob["sha"]}]}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, new_commit, _) = post(
        "/repos/o/r/git/commits",
        json!({"message": "Bump a", "tree": new_tree["sha"], "parents": [head]}),
    )
    .await;
    assert_eq!(status, 201);
    let new_sha = new_commit["sha"].as_str().unwrap().to_owned();
    let (status, _, _) = post(
        "/repos/o/r/git/refs",
        json!({"ref": "refs/heads/upkeep/cargo/a", "sha": new_sha}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = post(
        "/repos/o/r/git/refs",
        json!({"ref": "refs/heads/upkeep/cargo/a", "sha": new_sha}),
    )
    .await;
    assert_eq!(status, 422, "a second branch of the same name is refused");
    // Moving the branch back is not a fast-forward: refused unless forced.
    let patch = |body: Value| {
        call(
            &github,
            reqwest::Method::PATCH,
            "/repos/o/r/git/refs/heads/upkeep/cargo/a",
            &t,
            Some(body),
        )
    };
    assert_eq!(patch(json!({"sha": head})).await.0, 422);
    assert_eq!(patch(json!({"sha": head, "force": true})).await.0, 200);
    let (status, _, _) = call(
        &github,
        reqwest::Method::DELETE,
        "/repos/o/r/git/refs/heads/upkeep/cargo/a",
        &t,
        None,
    )
    .await;
    assert_eq!(status, 204);
    // The new commit's tree holds the change and keeps the rest.
    let files = github.with_world(|w| {
        let repo = &w.repositories["o/r"];
        repo.objects.files(new_tree["sha"].as_str().unwrap())
    });
    assert_eq!(files.len(), 2);
    github.assert_conformant();
}

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
async fn workflow_runs_artifacts_reruns_dispatches_and_commit_pulls_conform() {
    if !available() {
        return;
    }
    let github = o_r()
        .files("o/r", &[("Cargo.toml", "[package]\nname = \"r\"\n")])
        .start()
        .await;
    let head = github.with_world(|w| w.repositories["o/r"].head().cloned().unwrap());
    let run =
        github.with_world(|w| w.add_workflow_run("o/r", "bench", "main", &head, "push", "success"));
    let zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    let artifact =
        github.with_world(|w| w.add_artifact("o/r", run, "upkeep-criterion", zip.clone()));
    let t = token(&github).await;
    use reqwest::Method as M;
    let (status, runs, _) = call(
        &github,
        M::GET,
        "/repos/o/r/actions/runs?branch=main&event=push",
        &t,
        None,
    )
    .await;
    assert_eq!((status, runs["total_count"].as_i64()), (200, Some(1)));
    let (status, one, _) = call(
        &github,
        M::GET,
        &format!("/repos/o/r/actions/runs/{run}"),
        &t,
        None,
    )
    .await;
    assert_eq!((status, one["conclusion"].as_str()), (200, Some("success")));
    let (status, artifacts, _) = call(
        &github,
        M::GET,
        &format!("/repos/o/r/actions/runs/{run}/artifacts"),
        &t,
        None,
    )
    .await;
    assert_eq!(
        (status, artifacts["artifacts"][0]["name"].as_str()),
        (200, Some("upkeep-criterion"))
    );

    // The download is a redirect to storage outside the API; following it yields the zip.
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = no_follow
        .get(format!(
            "{}/repos/o/r/actions/artifacts/{artifact}/zip",
            github.uri()
        ))
        .header("authorization", format!("Bearer {t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let body = reqwest::get(&location)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), zip.as_slice());

    assert_eq!(
        call(
            &github,
            M::POST,
            &format!("/repos/o/r/actions/runs/{run}/rerun-failed-jobs"),
            &t,
            None
        )
        .await
        .0,
        201
    );
    assert_eq!(
        github.with_world(|w| w.repositories["o/r"].reruns.clone()),
        vec![run]
    );
    let dispatch = |git_ref: &str| {
        call(
            &github,
            M::POST,
            "/repos/o/r/actions/workflows/bench.yml/dispatches",
            &t,
            Some(json!({"ref": git_ref})),
        )
    };
    assert_eq!(dispatch("main").await.0, 204);
    assert_eq!(dispatch("no-such-branch").await.0, 422);

    let (status, pulls, _) = call(
        &github,
        M::GET,
        &format!("/repos/o/r/commits/{head}/pulls"),
        &t,
        None,
    )
    .await;
    assert_eq!((status, pulls.as_array().map(Vec::len)), (200, Some(0)));
    github.assert_conformant();
}

#[tokio::test]
async fn compare_lists_the_commits_and_files_between_two_refs() {
    if !available() {
        return;
    }
    let github = o_r()
        .files(
            "o/r",
            &[
                ("Cargo.toml", "[package]\nname = \"r\"\n"),
                ("Cargo.lock", "version = 4\n"),
            ],
        )
        .start()
        .await;
    let green = github.with_world(|w| w.repositories["o/r"].head().cloned().unwrap());
    // Two merges land on main: one edits Cargo.lock, one adds a file.
    github.with_world(|w| {
        let repo = w.repositories.get_mut("o/r").unwrap();
        let files = |extra: &[(&str, &str)]| {
            let mut f: std::collections::BTreeMap<String, Vec<u8>> = [
                (
                    "Cargo.toml".to_owned(),
                    b"[package]\nname = \"r\"\n".to_vec(),
                ),
                (
                    "Cargo.lock".to_owned(),
                    b"version = 4\n# serde 1.0.228\n".to_vec(),
                ),
            ]
            .into();
            for (p, c) in extra {
                f.insert((*p).to_owned(), c.as_bytes().to_vec());
            }
            f
        };
        repo.commit_files(&files(&[]), "Bump serde", 1);
        repo.commit_files(&files(&[("src/lib.rs", "pub fn f() {}\n")]), "Add f", 2);
    });
    let t = token(&github).await;
    let (status, cmp, _) = call(
        &github,
        reqwest::Method::GET,
        &format!("/repos/o/r/compare/{green}...main"),
        &t,
        None,
    )
    .await;
    assert_eq!(status, 200, "{cmp} {:?}", github.violations());
    assert_eq!(
        (
            cmp["status"].as_str(),
            cmp["ahead_by"].as_i64(),
            cmp["behind_by"].as_i64()
        ),
        (Some("ahead"), Some(2), Some(0))
    );
    let messages: Vec<&str> = cmp["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["Bump serde", "Add f"], "oldest first");
    let files: Vec<(&str, &str)> = cmp["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["filename"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(files, [("Cargo.lock", "modified"), ("src/lib.rs", "added")]);
    github.assert_conformant();
}

#[tokio::test]
async fn check_suites_and_check_runs_of_a_commit_are_listed() {
    if !available() {
        return;
    }
    let github = o_r()
        .files("o/r", &[("Cargo.toml", "[package]\nname = \"r\"\n")])
        .start()
        .await;
    let head = github.with_world(|w| w.repositories["o/r"].head().cloned().unwrap());
    let suite = github.with_world(|w| w.add_check_suite("o/r", &head, "main", "failure"));
    github.with_world(|w| w.add_check_run("o/r", &head, "test", "failure"));
    let t = token(&github).await;
    let (status, suites, _) = call(
        &github,
        reqwest::Method::GET,
        "/repos/o/r/commits/main/check-suites",
        &t,
        None,
    )
    .await;
    assert_eq!((status, suites["total_count"].as_i64()), (200, Some(1)));
    assert_eq!(suites["check_suites"][0]["conclusion"], "failure");
    let (status, one, _) = call(
        &github,
        reqwest::Method::GET,
        &format!("/repos/o/r/check-suites/{suite}"),
        &t,
        None,
    )
    .await;
    assert_eq!(
        (status, one["head_sha"].as_str()),
        (200, Some(head.as_str()))
    );
    let (status, runs, _) = call(
        &github,
        reqwest::Method::GET,
        &format!("/repos/o/r/commits/{head}/check-runs"),
        &t,
        None,
    )
    .await;
    assert_eq!(
        (status, runs["check_runs"][0]["name"].as_str()),
        (200, Some("test"))
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
