//! GitHub answers 503 for two hours. Lived on a simulated clock (`upkeep::time::skip_ahead`,
//! moved in step with the fake GitHub's): the queue's due times, leases and the breakers see two
//! hours pass in under a minute. Nothing dies (a job's eight attempts would have been spent in
//! 21 minutes without the breaker), GitHub sees at most one request per installation per minute
//! once the breaker is open, and every queued command is answered within two minutes of GitHub's
//! return. This binary holds one test: the clock it moves is the whole process's.

mod commands_world;
mod common;

use std::time::Duration;

use commands_world::*;

const HELP: &str = "@upkeep help";
const INSTALLATION: i64 = 7;
const MINUTE_MS: i64 = 60_000;

/// Moves upkeep's clock and the fake's by `by`, once no job is running (a job in hand keeps
/// its lease on real time), then gives the workers a moment to claim what fell due.
async fn step(world: &World, by: Duration) {
    common::eventually(30, "no job running", || async {
        let counts = world.store.job_counts().await.unwrap();
        counts
            .iter()
            .all(|(state, n)| state != "running" || *n == 0)
            .then_some(())
    })
    .await;
    upkeep::time::skip_ahead(by);
    world.github.skip_ahead(by);
    tokio::time::sleep(Duration::from_millis(60)).await;
}

#[tokio::test]
async fn a_two_hour_outage_kills_no_job_and_costs_github_one_request_a_minute() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let answered_before = world.replies(pr).len();

    world.github.outage(503);
    let mut comments = Vec::new();
    for i in 0..10 {
        comments.push(
            world
                .say_without_waiting(pr, &format!("person{i}"), HELP)
                .await,
        );
    }
    // The first failures open the installation's breaker, or the App's when the installation
    // token has to be minted first: either way jobs now wait instead of knocking.
    common::eventually(60, "a breaker opens", || async {
        world
            .server
            .text("/metrics")
            .await
            .lines()
            .any(|l| l.starts_with("upkeep_circuit_state{") && l.ends_with(" 2"))
            .then_some(())
    })
    .await;
    let opened_at = world.github.now_ms();

    while world.github.now_ms() < opened_at + 120 * MINUTE_MS {
        step(&world, Duration::from_secs(15)).await;
    }
    world.github.recover();
    let recovered_at = world.github.now_ms();
    let mut steps = 0;
    while world.replies(pr).len() < answered_before + 10 {
        steps += 1;
        assert!(
            steps < 100,
            "commands still unanswered 500 s after GitHub came back"
        );
        step(&world, Duration::from_secs(5)).await;
    }
    let done_after_ms = world.github.now_ms() - recovered_at;
    world.settled().await;

    world.assert_each_answered_once(pr, answered_before, &comments);
    assert!(
        done_after_ms <= 2 * MINUTE_MS,
        "the commands were answered {done_after_ms} ms after GitHub came back"
    );

    // While the breaker was open: at most one request per installation in any minute.
    let probes: Vec<i64> = world
        .github
        .calls()
        .iter()
        .filter(|c| c.installation == Some(INSTALLATION))
        .filter(|c| c.at_ms > opened_at && c.at_ms < recovered_at)
        .map(|c| c.at_ms)
        .collect();
    for pair in probes.windows(2) {
        assert!(
            pair[1] - pair[0] >= MINUTE_MS,
            "two requests {} ms apart while the breaker was open: {probes:?}",
            pair[1] - pair[0]
        );
    }
    let app_calls = world
        .github
        .calls()
        .iter()
        .filter(|c| c.installation.is_none() && c.at_ms > opened_at && c.at_ms < recovered_at)
        .count();
    println!(
        "2 h outage: {} requests for the installation while open ({:.1}/hour), {app_calls} App-level; all 10 commands answered {:.0} s after GitHub was back",
        probes.len(),
        probes.len() as f64 / 2.0,
        done_after_ms as f64 / 1000.0
    );
}
