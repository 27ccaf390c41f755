//! Budget-aware work: an installation whose hourly API budget is nearly spent keeps what is
//! left for people. Below the 20% reserve the scheduled dependency pass waits for the reset
//! (deferred, no attempt spent) while an `@upkeep rebase` is done at once. The fake GitHub
//! reports each installation's budget in the `x-ratelimit-*` headers, as GitHub does.

mod commands_world;
mod common;

use std::time::{Duration, Instant};

use commands_world::*;
use common::repo_world::REPO;
use upkeep::queue::scheduler::DEPS_JOB;
use upkeep::time::now_ms;

#[tokio::test]
async fn at_fifteen_percent_of_its_budget_the_scheduled_pass_waits_and_a_rebase_does_not() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let repository_id = world.github.with_world(|w| w.repositories[REPO].id);
    // The day's pass ran before the budget drops (else it would wait for the reset too, and
    // the world would never settle).
    world.daily_done().await;
    // 750 of 5,000 requests left this hour.
    world
        .github
        .with_world(|w| w.set_rate_remaining(Some(7), 750));

    let asked = Instant::now();
    world.say(pr, "maintainer", "@upkeep rebase").await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Rebuilt") || reply.contains("up to date"),
        "the rebase is done, not put off: {reply}"
    );
    assert!(asked.elapsed() < Duration::from_secs(20));

    // The schedule's pass falls due (the key the scheduler gives it).
    let due = now_ms();
    let calls_before = world.github.calls().len();
    upkeep::audit::triggers::enqueue_pass(
        &world.store,
        DEPS_JOB,
        repository_id,
        &due.to_string(),
        due,
    )
    .await
    .unwrap();
    let job = common::eventually(30, "the scheduled pass is deferred", || async {
        world
            .store
            .list_jobs(&["queued"], 10)
            .await
            .unwrap()
            .into_iter()
            .find(|j| {
                j.kind == DEPS_JOB
                    && j.last_error
                        .as_deref()
                        .is_some_and(|e| e.contains("budget"))
            })
    })
    .await;
    assert_eq!(job.attempts, 0, "waiting spends no attempt");
    assert!(
        job.run_at >= due + 50 * 60 * 1000,
        "it waits for the reset, about an hour away: run_at - now = {} ms",
        job.run_at - due
    );
    assert_eq!(
        world.github.calls().len(),
        calls_before,
        "the waiting pass asked GitHub for nothing"
    );

    // People still come first: another command while the pass waits.
    let before = world.replies(pr).len();
    world
        .say_without_waiting(pr, "maintainer", "@upkeep help")
        .await;
    common::eventually(20, "the help command is answered", || async {
        (world.replies(pr).len() > before).then_some(())
    })
    .await;
}
