//! Adaptive concurrency: how many jobs run at once follows GitHub. While GitHub answers slowly
//! the limit falls to one job at a time (AIMD: halved on each slow or failed answer, at most
//! once per cooldown); when GitHub is quick again it climbs back to the maximum, and no command
//! is lost or answered twice on the way. In its own binary: it reads process-wide metrics.

mod commands_world;
mod common;

use std::time::Duration;

use commands_world::*;
use upkeep::heal::aimd::AimdPolicy;

const HELP: &str = "@upkeep help";

#[tokio::test]
async fn slow_github_cuts_the_jobs_at_once_to_one_and_quick_github_brings_them_back() {
    let mut background = common::fast_background();
    // The production threshold is 5 s; the test's GitHub is "slow" at 400 ms.
    background.concurrency = AimdPolicy {
        slow_ms: 250,
        decrease: 0.5,
        cooldown_ms: 100,
    };
    let Some(world) = World::with_background(CONFIG, background).await else {
        return;
    };
    let max = world.server.metric("upkeep_workers_max").await;
    assert!(max >= 2.0, "the default maximum follows the CPUs: {max}");
    assert_eq!(world.server.metric("upkeep_workers_allowed").await, max);
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let before = world.replies(pr).len();

    world.github.slow(Duration::from_millis(400));
    let mut comments = Vec::new();
    for i in 0..12 {
        comments.push(
            world
                .say_without_waiting(pr, &format!("person{}", i % 10), HELP)
                .await,
        );
    }
    common::eventually(60, "one job at a time while GitHub is slow", || async {
        (world.server.metric("upkeep_workers_allowed").await == 1.0).then_some(())
    })
    .await;

    world.github.fast();
    world.settled().await;
    world.assert_each_answered_once(pr, before, &comments);
    // Quick answers bring the limit back up: a few more commands' calls are enough.
    let mut more = Vec::new();
    for i in 0..10 {
        more.push(world.say(pr, &format!("person{i}"), HELP).await);
    }
    common::eventually(30, "the maximum again once GitHub is quick", || async {
        (world.server.metric("upkeep_workers_allowed").await == max).then_some(())
    })
    .await;
    world.assert_each_answered_once(pr, before, &[comments, more].concat());
    world.github.assert_conformant();
}
