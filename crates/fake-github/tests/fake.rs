//! The fake itself: every modelled operation passes GitHub's description both ways; a wrong
//! request, an operation the fake does not model and a path GitHub does not have are each
//! caught loudly; rate-limit headers count down per installation.

mod common;

use common::{available, call, jwt, token, world};
use fake_github::Fault;
use serde_json::json;

#[tokio::test]
async fn every_modelled_operation_passes_the_description_both_ways() {
    if !available() {
        return;
    }
    let github = world().await;
    let token = token(&github).await;
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
    let (status, _, _) = call(&github, reqwest::Method::GET, "/repos/o/r/tags", "x", None).await;
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
    assert_eq!(violations[0].operation, "repos/list-tags");
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
