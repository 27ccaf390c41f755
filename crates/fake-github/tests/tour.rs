//! One world, every operation the fake models, each through the description's check in both
//! directions: the request the test sends and the answer the fake gives.

use std::collections::BTreeSet;

mod common;

use common::{available, jwt, APP_ID};
use fake_github::{modelled_operations, FakeGitHub};
use serde_json::{json, Value};

struct Tour {
    github: FakeGitHub,
    token: String,
    http: reqwest::Client,
}

impl Tour {
    async fn go(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.github.uri()))
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn every_modelled_operation_passes_the_description_in_both_directions() {
    if !available() {
        return;
    }
    let public = common::public_key();
    let github = FakeGitHub::builder()
        .app(APP_ID, &public)
        .installation(7, "o")
        .repository(7, "o/r")
        .files(
            "o/r",
            &[
                ("Cargo.toml", "[package]\nname = \"r\"\n"),
                ("Cargo.lock", "version = 4\n"),
            ],
        )
        .collaborator("o/r", "alice", "write")
        .manifest_code("c0de", 99, "PEM", "whsec")
        .start()
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = http
        .post(format!(
            "{}/app/installations/7/access_tokens",
            github.uri()
        ))
        .header("authorization", format!("Bearer {}", jwt()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = Tour {
        github,
        token,
        http,
    };

    // Apps and repositories.
    assert_eq!(
        t.go("POST", "/app-manifests/c0de/conversions", None)
            .await
            .0,
        201
    );
    assert_eq!(t.go("GET", "/repos/o/r", None).await.0, 200);
    // The App's delivery log (App JWT): one failed attempt, listed, then read whole.
    t.github.lose(
        502,
        "ping",
        json!({ "zen": "Keep it logically awesome.", "hook_id": 1 }),
    );
    let app_get = |path: String| {
        let request = t
            .http
            .get(format!("{}{path}", t.github.uri()))
            .header("authorization", format!("Bearer {}", jwt()));
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, log) = app_get("/app/hook/deliveries?per_page=100".into()).await;
    assert_eq!(status, 200);
    assert_eq!(log[0]["status_code"], 502);
    let (status, one) = app_get(format!("/app/hook/deliveries/{}", log[0]["id"])).await;
    assert_eq!(status, 200);
    assert_eq!(one["request"]["payload"]["hook_id"], 1);
    // The App itself (JWT): its permissions and events.
    let (status, app) = app_get("/app".into()).await;
    assert_eq!(status, 200);
    assert_eq!(app["permissions"]["checks"], "write");
    // The App's webhook configuration (JWT): read, then put back where it belongs.
    let (status, config) = app_get("/app/hook/config".into()).await;
    assert_eq!(status, 200);
    assert_eq!(config["secret"], "********");
    let patched = t
        .http
        .patch(format!("{}/app/hook/config", t.github.uri()))
        .header("authorization", format!("Bearer {}", jwt()))
        .json(&json!({ "url": "https://moved.example/webhook", "content_type": "json", "insecure_ssl": "0" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["url"], "https://moved.example/webhook");
    // What reconciling reads: the App's installations (JWT), an installation's repositories.
    let (status, installations) = app_get("/app/installations?per_page=100&page=1".into()).await;
    assert_eq!(status, 200);
    assert_eq!(installations[0]["id"], 7);
    let (status, granted) = t
        .go(
            "GET",
            "/installation/repositories?per_page=100&page=1",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(granted["repositories"][0]["full_name"], "o/r");
    // Git data and contents.
    let (_, main) = t.go("GET", "/repos/o/r/git/ref/heads/main", None).await;
    let head = main["object"]["sha"].as_str().unwrap().to_owned();
    let (_, commit) = t
        .go("GET", &format!("/repos/o/r/git/commits/{head}"), None)
        .await;
    let tree = commit["tree"]["sha"].as_str().unwrap().to_owned();
    let (_, listing) = t
        .go(
            "GET",
            &format!("/repos/o/r/git/trees/{tree}?recursive=1"),
            None,
        )
        .await;
    let blob = listing["tree"][0]["sha"].as_str().unwrap().to_owned();
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/git/blobs/{blob}"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        t.go("GET", "/repos/o/r/contents/Cargo.lock", None).await.0,
        200
    );
    let (_, new_blob) = t
        .go(
            "POST",
            "/repos/o/r/git/blobs",
            Some(json!({"content": "version = 4\n# bumped\n"})),
        )
        .await;
    let (_, new_tree) = t
        .go("POST", "/repos/o/r/git/trees", Some(json!({"base_tree": tree, "tree": [{"path": "Cargo.lock", "mode": "100644", "type": "blob", "sha": new_blob["sha"]}]})))
        .await;
    let (_, new_commit) = t.go("POST", "/repos/o/r/git/commits", Some(json!({"message": "Refresh Cargo.lock", "tree": new_tree["sha"], "parents": [head]}))).await;
    let sha = new_commit["sha"].as_str().unwrap().to_owned();
    assert_eq!(
        t.go(
            "POST",
            "/repos/o/r/git/refs",
            Some(json!({"ref": "refs/heads/upkeep/cargo/lockfile", "sha": sha}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        t.go(
            "PATCH",
            "/repos/o/r/git/refs/heads/upkeep/cargo/lockfile",
            Some(json!({"sha": sha, "force": true}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/compare/main...{sha}"), None)
            .await
            .0,
        200
    );
    // Merging a commit into a branch: merged, then already contained.
    let (_, main) = t.go("GET", "/repos/o/r/git/ref/heads/main", None).await;
    let main_sha = main["object"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(
        t.go(
            "POST",
            "/repos/o/r/git/refs",
            Some(json!({"ref": "refs/heads/scratch", "sha": main_sha}))
        )
        .await
        .0,
        201
    );
    let merge = json!({"base": "scratch", "head": sha, "commit_message": "Merge it"});
    let (status, merged) = t.go("POST", "/repos/o/r/merges", Some(merge.clone())).await;
    assert_eq!(status, 201, "{merged}");
    assert_eq!(merged["parents"].as_array().unwrap().len(), 2);
    assert_eq!(t.go("POST", "/repos/o/r/merges", Some(merge)).await.0, 204);
    // Pull requests, issues, comments, reactions, labels.
    let (_, pr) = t.go("POST", "/repos/o/r/pulls", Some(json!({"title": "Refresh Cargo.lock", "head": "upkeep/cargo/lockfile", "base": "main"}))).await;
    let n = pr["number"].as_i64().unwrap();
    assert_eq!(
        t.go("GET", "/repos/o/r/pulls?state=open", None).await.0,
        200
    );
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/pulls/{n}"), None).await.0,
        200
    );
    assert_eq!(
        t.go(
            "PATCH",
            &format!("/repos/o/r/pulls/{n}"),
            Some(json!({"body": "table"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/commits/{sha}/pulls"), None)
            .await
            .0,
        200
    );
    let (_, comment) = t
        .go(
            "POST",
            &format!("/repos/o/r/issues/{n}/comments"),
            Some(json!({"body": "hello"})),
        )
        .await;
    let cid = comment["id"].as_i64().unwrap();
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/issues/{n}/comments"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        t.go(
            "PATCH",
            &format!("/repos/o/r/issues/comments/{cid}"),
            Some(json!({"body": "edited"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go(
            "POST",
            &format!("/repos/o/r/issues/comments/{cid}/reactions"),
            Some(json!({"content": "+1"}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        t.go(
            "POST",
            &format!("/repos/o/r/issues/{n}/labels"),
            Some(json!({"labels": ["dependencies"]}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go(
            "POST",
            &format!("/repos/o/r/issues/{n}/assignees"),
            Some(json!({"assignees": ["octocat"]}))
        )
        .await
        .0,
        201
    );
    let (_, issue) = t
        .go(
            "POST",
            "/repos/o/r/issues",
            Some(json!({"title": "Upkeep dashboard"})),
        )
        .await;
    assert_eq!(
        t.go(
            "PATCH",
            &format!("/repos/o/r/issues/{}", issue["number"]),
            Some(json!({"body": "<!-- upkeep:dashboard -->"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go("GET", "/repos/o/r/issues?state=all", None).await.0,
        200
    );
    let (status, found) = t
        .go(
            "GET",
            "/search/issues?q=repo%3Ao%2Fr+is%3Aissue+%22upkeep%3Adashboard%22",
            None,
        )
        .await;
    assert_eq!(
        (status, found["total_count"].as_i64()),
        (200, Some(1)),
        "{found}"
    );
    let (_, none) = t
        .go(
            "GET",
            "/search/issues?q=repo%3Ao%2Fr+is%3Apr+%22upkeep%3Adashboard%22",
            None,
        )
        .await;
    assert_eq!(none["total_count"].as_i64(), Some(0));
    assert_eq!(
        t.go("GET", "/repos/o/r/collaborators/alice/permission", None)
            .await
            .0,
        200
    );
    // Checks and Actions.
    let (_, run) = t
        .go(
            "POST",
            "/repos/o/r/check-runs",
            Some(json!({"name": "upkeep/audit", "head_sha": sha})),
        )
        .await;
    assert_eq!(
        t.go(
            "PATCH",
            &format!("/repos/o/r/check-runs/{}", run["id"]),
            Some(json!({"conclusion": "success"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/commits/{sha}/check-runs"), None)
            .await
            .0,
        200
    );
    // Commit statuses: the latest per context; any failure makes the whole a failure.
    t.github.with_world(|w| {
        w.add_status("o/r", &sha, "ci/jenkins", "pending");
        w.add_status("o/r", &sha, "ci/jenkins", "failure");
        w.add_status("o/r", &sha, "lint", "success");
    });
    let (status, combined) = t
        .go("GET", &format!("/repos/o/r/commits/{sha}/status"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(combined["state"], "failure");
    assert_eq!(combined["total_count"], 2);
    assert_eq!(combined["statuses"][0]["context"], "lint");
    assert_eq!(combined["statuses"][1]["state"], "failure");
    let suite = t
        .github
        .with_world(|w| w.add_check_suite("o/r", &sha, "upkeep/cargo/lockfile", "success"));
    assert_eq!(
        t.go(
            "GET",
            &format!("/repos/o/r/commits/{sha}/check-suites"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/check-suites/{suite}"), None)
            .await
            .0,
        200
    );
    let external = t
        .github
        .with_world(|w| w.add_app_check_suite("o/r", &sha, "main", "failure", (77, "circleci")));
    let (status, listed) = t
        .go(
            "GET",
            &format!("/repos/o/r/commits/{sha}/check-suites?app_id=77"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["check_suites"][0]["app"]["slug"], "circleci");
    assert_eq!(
        t.go(
            "POST",
            &format!("/repos/o/r/check-suites/{external}/rerequest"),
            Some(json!({}))
        )
        .await
        .0,
        201
    );
    let wf = t
        .github
        .with_world(|w| w.add_workflow_run("o/r", "ci", "main", &head, "push", "failure"));
    let artifact = t
        .github
        .with_world(|w| w.add_artifact("o/r", wf, "upkeep-criterion", b"PK\x05\x06".to_vec()));
    assert_eq!(
        t.go("GET", "/repos/o/r/actions/runs?branch=main", None)
            .await
            .0,
        200
    );
    assert_eq!(
        t.go("GET", &format!("/repos/o/r/actions/runs/{wf}"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        t.go(
            "GET",
            &format!("/repos/o/r/actions/runs/{wf}/artifacts"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go(
            "GET",
            &format!("/repos/o/r/actions/artifacts/{artifact}/zip"),
            None
        )
        .await
        .0,
        302
    );
    assert_eq!(
        t.go(
            "POST",
            &format!("/repos/o/r/actions/runs/{wf}/rerun-failed-jobs"),
            None
        )
        .await
        .0,
        201
    );
    let (status, listed) = t
        .go(
            "GET",
            "/repos/o/r/actions/workflows/ci.yml/runs?branch=main&event=push",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["workflow_runs"][0]["id"], wf);
    assert_eq!(
        t.go(
            "POST",
            &format!("/repos/o/r/actions/runs/{wf}/rerun"),
            Some(json!({}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        t.go(
            "POST",
            "/repos/o/r/actions/workflows/ci.yml/dispatches",
            Some(json!({"ref": "main"}))
        )
        .await
        .0,
        204
    );
    // Issue events: the label a person put on the pull request.
    t.github.label_issue("o/r", n, "upkeep:no-revert", "alice");
    let (status, events) = t
        .go("GET", &format!("/repos/o/r/issues/{n}/events"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(events[0]["actor"]["login"], "alice");
    assert_eq!(events[0]["label"]["name"], "upkeep:no-revert");
    // Another repository's releases (public: any installation's token reads them).
    t.github.with_world(|w| {
        w.add_repository(99, "rust-lang/rust");
        w.add_release("rust-lang/rust", "1.83.0", "2024-11-28T15:00:00Z", false);
    });
    let (status, releases) = t
        .go("GET", "/repos/rust-lang/rust/releases?per_page=100", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(releases[0]["tag_name"], "1.83.0");
    // A SARIF upload to code scanning (gzip, then base64).
    let sarif = {
        use base64::Engine as _;
        use std::io::Write as _;
        let log = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "upkeep"}}, "results": []}]});
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(log.to_string().as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())
    };
    let main_sha = t
        .github
        .with_world(|w| w.repositories["o/r"].head().unwrap().clone());
    let (status, receipt) = t
        .go(
            "POST",
            "/repos/o/r/code-scanning/sarifs",
            Some(json!({"commit_sha": main_sha, "ref": "refs/heads/main", "sarif": sarif})),
        )
        .await;
    assert_eq!(status, 202, "{receipt}");
    assert!(receipt["id"].is_string());
    // GraphQL, then the merge and the branch clean-up.
    let (status, _) = t
        .go("POST", "/graphql", Some(json!({"query": "mutation($input: EnablePullRequestAutoMergeInput!) { enablePullRequestAutoMerge(input: $input) { pullRequest { number } } }", "variables": {"input": {"pullRequestId": pr["node_id"], "mergeMethod": "SQUASH"}}})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        t.go(
            "PUT",
            &format!("/repos/o/r/pulls/{n}/merge"),
            Some(json!({"merge_method": "squash"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.go(
            "DELETE",
            "/repos/o/r/git/refs/heads/upkeep/cargo/lockfile",
            None
        )
        .await
        .0,
        204
    );

    t.github.assert_conformant();
    let called: BTreeSet<String> = t
        .github
        .calls()
        .into_iter()
        .filter(|c| c.status < 500)
        .filter_map(|c| c.operation)
        .collect();
    let modelled: BTreeSet<String> = modelled_operations()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let missed: Vec<&String> = modelled.difference(&called).collect();
    assert!(
        missed.is_empty(),
        "modelled but not exercised here: {missed:?}"
    );
}
