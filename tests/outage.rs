//! GitHub goes down for thirty seconds, for real, while forty commands wait: the breaker opens
//! after a handful of failures, so upkeep barely knocks while GitHub is down, and every command
//! is answered exactly once after it is back, with no job spending its attempts on the outage.
//! (The two-hour outage lives in tests/outage_simulated.rs: it moves the process's clock.)

mod commands_world;
mod common;

use std::time::{Duration, Instant};

use commands_world::*;

const HELP: &str = "@upkeep help";

/// The state `/status.json` shows for GitHub's breakers, and its installations' states.
async fn github_on_status_page(world: &World) -> (String, serde_json::Value) {
    let status: serde_json::Value =
        serde_json::from_str(&world.server.text("/status.json").await).unwrap();
    let github = status["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "github")
        .cloned()
        .unwrap();
    (
        github["state"].as_str().unwrap().to_owned(),
        github["installations"].clone(),
    )
}

#[tokio::test]
async fn a_thirty_second_outage_costs_github_few_requests_and_loses_no_command() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let answered_before = world.replies(pr).len();
    let calls_before = world.github.calls().len();

    world.github.outage(503);
    let down = Instant::now();
    let mut comments = Vec::new();
    for i in 0..40 {
        // Ten people, so no one reaches the per-person command allowance.
        let person = format!("person{}", i % 10);
        comments.push(world.say_without_waiting(pr, &person, HELP).await);
    }
    // The operator sees it: GitHub's breaker open on the status page within 20 seconds.
    common::eventually(20, "the status page shows GitHub open", || async {
        (github_on_status_page(&world).await.0 == "open").then_some(())
    })
    .await;
    let shown_open_after = down.elapsed();
    tokio::time::sleep_until((down + Duration::from_secs(30)).into()).await;
    let during: Vec<_> = world.github.calls()[calls_before..]
        .iter()
        .map(|c| format!("{} {} → {}", c.method, c.path, c.status))
        .collect();
    world.github.recover();
    let up = Instant::now();

    common::eventually(150, "the 40 commands are answered", || async {
        (world.replies(pr).len() >= answered_before + 40).then_some(())
    })
    .await;
    let answered_after = up.elapsed();
    // No job died of the outage (settled fails on a dead job).
    world.settled().await;

    world.assert_each_answered_once(pr, answered_before, &comments);
    let (state, installations) = github_on_status_page(&world).await;
    assert_eq!(
        state, "closed",
        "closed again after the recovery: {installations}"
    );
    assert!(shown_open_after <= Duration::from_secs(20));
    println!("status page showed GitHub open {shown_open_after:?} into the outage");
    assert!(
        during.len() <= 15,
        "{} requests during the 30 s outage:\n{}",
        during.len(),
        during.join("\n")
    );
    println!(
        "outage of 30 s, 40 commands: {} requests during it; all answered {:.1} s after GitHub was back\n{}",
        during.len(),
        answered_after.as_secs_f64(),
        during.join("\n")
    );
}

#[tokio::test]
async fn a_missing_permission_is_not_an_outage_and_is_not_retried() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let answered_before = world.replies(pr).len();
    let op = "reactions/create-for-issue-comment";
    let before = world.github.calls_to(op);
    // The installation did not grant what the first step needs: GitHub says so with a 403.
    world.github.fault(
        op,
        fake_github::Fault::refusal(403, "Resource not accessible by integration").times(20),
    );
    world.allow_dead.set(true);
    for i in 0..6 {
        world
            .say_without_waiting(pr, &format!("person{i}"), HELP)
            .await;
    }
    world.settled().await;
    let dead = world.store.list_jobs(&["dead"], 10).await.unwrap();
    assert_eq!(
        dead.len(),
        6,
        "each command stops at once: nothing to retry"
    );
    for job in &dead {
        let error = job.last_error.as_deref().unwrap_or_default();
        assert!(
            error.contains("lacks a permission"),
            "the error says what a person must do: {error}"
        );
    }
    assert_eq!(
        world.github.calls_to(op),
        before + 6,
        "one request per command: a 403 is not retried"
    );

    // Six refusals in a row did not open the breaker: GitHub answered each time, so the next
    // command (with the permission back) is answered at once instead of a minute later.
    world.github.clear_faults();
    let asked = std::time::Instant::now();
    world.say_without_waiting(pr, "person9", HELP).await;
    common::eventually(10, "the next command is answered", || async {
        (world.replies(pr).len() > answered_before).then_some(())
    })
    .await;
    assert!(asked.elapsed() < Duration::from_secs(10));
    assert_eq!(world.replies(pr).len(), answered_before + 1);
}
