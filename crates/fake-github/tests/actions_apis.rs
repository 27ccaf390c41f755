//! The fake's GitHub Actions (workflow runs, artifacts, re-runs, dispatches, a commit's pulls) and
//! a commit's check suites and check runs, each answer held to GitHub's description.

mod common;

use common::{available, call, o_r, token};
use serde_json::json;

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
