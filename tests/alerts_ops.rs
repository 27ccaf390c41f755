//! An alert upkeep cannot fix calls a person: still open after its grace period (lived on a
//! simulated clock), it opens one issue in `UPKEEP_OPS_REPO` with the evidence and what to
//! check, posts to `UPKEEP_ALERT_WEBHOOK`, and when the signal recovers the issue closes itself
//! with a comment. Here the signal is an installation's API budget, nearly spent (the fake
//! GitHub reports what is left in its rate-limit headers).

mod commands_world;
mod common;

use std::time::Duration;

use commands_world::{World, CONFIG};
use common::repo_world::REPO;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const HELP: &str = "@upkeep help";

/// upkeep's alert issues in the ops repository: (number, state, body, comments).
fn ops_issues(world: &World) -> Vec<(i64, String, String, Vec<String>)> {
    issues_titled(world, "upkeep alert:")
}

/// upkeep's issues in the ops repository whose title starts with `prefix`.
fn issues_titled(world: &World, prefix: &str) -> Vec<(i64, String, String, Vec<String>)> {
    world.github.with_world(|w| {
        let repo = &w.repositories[REPO];
        repo.issues
            .iter()
            .filter(|i| i["title"].as_str().unwrap_or("").starts_with(prefix))
            .map(|i| {
                let n = i["number"].as_i64().unwrap();
                (
                    n,
                    i["state"].as_str().unwrap().to_owned(),
                    i["body"].as_str().unwrap_or("").to_owned(),
                    repo.comments_on(n)
                        .iter()
                        .filter_map(|c| c["body"].as_str().map(str::to_owned))
                        .collect(),
                )
            })
            .collect()
    })
}

#[tokio::test]
async fn an_alert_past_its_grace_opens_one_ops_issue_that_closes_on_recovery() {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let background = upkeep::server::Background {
        alert_sample_every: Duration::from_millis(300),
        ..common::fast_background()
    };
    let webhook = format!("{}/alerts", hook.uri());
    let Some(world) = World::with_settings(
        CONFIG,
        background,
        &[
            ("UPKEEP_OPS_REPO", REPO),
            ("UPKEEP_ALERT_WEBHOOK", &webhook),
        ],
    )
    .await
    else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");

    // The budget nearly spent: 1 % left, as GitHub's headers say on the next answer. (Scheduled
    // work now waits for the reset, so nothing here waits for the queue to settle.)
    world
        .github
        .with_world(|w| w.set_rate_remaining(Some(7), 50));
    world.say_without_waiting(pr, "person0", HELP).await;
    common::eventually(20, "the budget alert open", || async {
        let status: serde_json::Value =
            serde_json::from_str(&world.server.text("/status.json").await).unwrap();
        status["alerts"].as_array().and_then(|a| {
            a.iter()
                .find(|a| a["signal"] == "rate_limit_remaining_ratio")
                .cloned()
        })
    })
    .await;
    assert!(ops_issues(&world).is_empty(), "not before its grace period");

    // Thirty-one minutes later, still open: a person is called, once.
    upkeep::time::skip_ahead(Duration::from_secs(31 * 60));
    let issues = common::eventually(20, "the ops issue", || async {
        let issues = ops_issues(&world);
        (!issues.is_empty()).then_some(issues)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let issues_later = ops_issues(&world);
    assert_eq!(
        issues_later.len(),
        1,
        "one issue however many rounds: {issues_later:?}"
    );
    let (number, state, body, _) = &issues[0];
    assert_eq!(state, "open");
    assert!(body.contains("rate_limit_remaining_ratio"), "{body}");
    assert!(body.contains("What to check"), "{body}");
    assert!(
        body.contains("**Last 6 hours** (peak per 10 minutes): `"),
        "{body}"
    );

    // The budget refills: the alert closes, and so does the issue, with a comment.
    world
        .github
        .with_world(|w| w.set_rate_remaining(Some(7), 5000));
    world.say_without_waiting(pr, "person1", HELP).await;
    let closed = common::eventually(30, "the ops issue closed", || async {
        ops_issues(&world)
            .into_iter()
            .find(|i| i.0 == *number && i.1 == "closed")
    })
    .await;
    assert!(
        closed.3.iter().any(|c| c.contains("back to normal")),
        "{closed:?}"
    );
    assert_eq!(ops_issues(&world).len(), 1);

    // The webhook got the open and the close, each with Slack's `text`.
    let posted: Vec<serde_json::Value> = hook
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let events: Vec<&str> = posted
        .iter()
        .filter(|p| p["signal"] == "rate_limit_remaining_ratio")
        .map(|p| p["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["open", "close"], "{posted:?}");
    assert!(posted[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("upkeep alert open"));

    // A week ends (the simulated clock again): one health report for the operator, however
    // many rounds pass; the next week's report closes it, so one stays open. (The 31 minutes
    // above may have crossed a Monday already, filing a report of a few minutes.)
    upkeep::time::skip_ahead(Duration::from_secs(8 * 86_400));
    let report_of = || {
        let (from, _) = upkeep::report::weekly::last_week(upkeep::time::now_ms());
        format!(
            "upkeep health report: week of {}",
            upkeep::report::weekly::week_name(from)
        )
    };
    let title = report_of();
    let first = common::eventually(20, "the weekly report", || async {
        issues_titled(&world, &title).into_iter().next()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reports = issues_titled(&world, "upkeep health report:");
    assert_eq!(
        issues_titled(&world, &title).len(),
        1,
        "filed once: {reports:?}"
    );
    assert_eq!(
        reports.iter().filter(|r| r.1 == "open").count(),
        1,
        "{reports:?}"
    );
    for row in ["| uptime |", "| alerts opened |", "| database size |"] {
        assert!(first.2.contains(row), "{row}: {}", first.2);
    }
    upkeep::time::skip_ahead(Duration::from_secs(7 * 86_400));
    let next = report_of();
    assert_ne!(next, title);
    common::eventually(
        20,
        "the next week's report, the last one closed",
        || async {
            let open = issues_titled(&world, &next)
                .into_iter()
                .any(|i| i.1 == "open");
            let closed = issues_titled(&world, &title)
                .into_iter()
                .all(|i| i.1 == "closed");
            (open && closed).then_some(())
        },
    )
    .await;
    let reports = issues_titled(&world, "upkeep health report:");
    assert_eq!(
        reports.iter().filter(|r| r.1 == "open").count(),
        1,
        "{reports:?}"
    );
    world.github.assert_conformant();
}
