//! PostgreSQL stopped for 30 seconds in the middle of a dependency pass: the pass finishes once
//! the database is back, with exactly the PRs and the dashboard a pass without the outage
//! leaves, and no job dead, quarantined or charged an attempt for the outage. Stops the
//! machine's shared PostgreSQL server, so .ci/run runs it on its own, at the end.

mod commands_world;
mod common;

use std::time::Duration;

use commands_world::{dashboards, prs_by_branch, World, CONFIG};
use common::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops the shared PostgreSQL server; .ci/run runs it on its own at the end"]
async fn postgres_stopped_for_30_s_in_the_middle_of_a_pass_loses_and_doubles_nothing() {
    if common::shared_dir().is_none() {
        return;
    }
    // What a first pass leaves when nothing goes wrong.
    let clean = World::installing_killable(CONFIG, |_| ()).await.unwrap();
    clean.daily_done().await;
    let expected = prs_by_branch(&clean.github);
    assert!(expected.len() >= 2, "the pass opens PRs: {expected:?}");
    drop(clean);

    let db = TestDb::postgres()
        .await
        .expect("PostgreSQL is required for this test");
    // GitHub answers a little slowly, so the pass is still going when the database goes. The
    // queue's lease is production's (60 s): the worker keeps the job through the outage.
    let mut background = common::fast_background();
    background.queue.lease = Duration::from_secs(60);
    let world = World::installing_on(db, background, CONFIG, |g| {
        g.slow(Duration::from_millis(150))
    })
    .await
    .unwrap();
    common::eventually(90, "the pass has opened its first PR", || async {
        (!prs_by_branch(&world.github).is_empty()).then_some(())
    })
    .await;
    assert!(
        prs_by_branch(&world.github).len() < expected.len(),
        "the database goes in the middle of the pass"
    );
    common::pg_cluster("stop");
    tokio::time::sleep(Duration::from_secs(30)).await;
    common::pg_cluster("start");
    world.github.fast();

    // `daily_done` also asserts that no job died.
    world.daily_done().await;
    assert_eq!(prs_by_branch(&world.github), expected);
    assert_eq!(dashboards(&world.github), 1);
    let stuck = world
        .store
        .list_jobs(&["quarantined", "dead"], 10)
        .await
        .unwrap();
    assert!(stuck.is_empty(), "{stuck:#?}");
    let daily = world
        .store
        .list_jobs(&["done"], 100)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == upkeep::queue::scheduler::DAILY_JOB)
        .unwrap();
    assert_eq!(
        daily.attempts, 1,
        "the outage cost the pass no attempt: {daily:?}"
    );
    world.github.assert_conformant();
}
