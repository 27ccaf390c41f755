//! Missed deliveries come back by themselves: events GitHub failed to deliver (upkeep down, a
//! proxy answering 502, a time-out) are read back from GitHub's delivery log and processed once,
//! with or without a public URL, however many replicas sweep. The fake GitHub logs every
//! delivery attempt it makes and serves `GET /app/hook/deliveries` from that log.

mod commands_world;
mod common;

use std::collections::HashMap;

use commands_world::*;
use common::TestServer;

const HELP: &str = "@upkeep help";

/// `upkeep_deliveries_recovered_total` as `/metrics` shows it (0 before the first recovery).
async fn recovered_total(server: &TestServer) -> f64 {
    server.metric("upkeep_deliveries_recovered_total").await
}

/// How many times each stored delivery id is stored (it is the primary key: at most once).
async fn stored(world: &World, guids: &[String]) -> usize {
    world.store.known_deliveries(guids).await.unwrap().len()
}

#[tokio::test]
async fn deliveries_github_failed_while_upkeep_was_down_are_processed_once_after_it_starts() {
    let Some(mut world) = World::new_killable(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    // Delivered fine: answered once, never fetched back.
    for _ in 0..5 {
        world.say(pr, "visitor", HELP).await;
    }
    assert_eq!(world.replies(pr).len(), 5);
    let fetched_before = world.github.calls_to("apps/get-webhook-delivery");

    // upkeep is away (a deploy, a proxy in trouble): 50 comments never reach it. GitHub logs
    // each failed attempt (connection refused or timed out: 0; the proxy: 502, 503).
    let mut lost = Vec::new();
    for i in 0..50 {
        let status = [0, 502, 503][i % 3];
        // Ten people, so no one reaches the per-person command allowance.
        let person = format!("person{}", i % 10);
        lost.push(world.lose_comment(pr, &person, HELP, status));
    }
    // One more failed, and a maintainer pressed "Redeliver": its latest attempt worked.
    let (redelivered_comment, guid) = world.lose_comment(pr, "maintainer", HELP, 502);
    let d = world.github.redeliver(&world.endpoint(), &guid).await;
    assert_eq!(d.status, 202);
    world.settled().await;
    let answered_before = world.replies(pr).len();
    assert_eq!(answered_before, 6);

    world.crash_and_restart().await;
    common::eventually(60, "the 50 missed comments are answered", || async {
        (world.replies(pr).len() >= answered_before + 50).then_some(())
    })
    .await;
    world.settled().await;

    assert_eq!(
        world.replies(pr).len(),
        answered_before + 50,
        "each missed comment answered exactly once"
    );
    for (comment, _) in &lost {
        assert_eq!(
            world.reactions(*comment),
            ["eyes", "+1"],
            "comment {comment}"
        );
    }
    assert_eq!(
        world.reactions(redelivered_comment),
        ["eyes", "+1"],
        "the redelivered comment was answered by its redelivery, and not again"
    );
    let guids: Vec<String> = lost.iter().map(|(_, g)| g.clone()).collect();
    assert_eq!(stored(&world, &guids).await, 50);
    assert_eq!(
        world.github.calls_to("apps/get-webhook-delivery") - fetched_before,
        50,
        "only the failed ones are fetched, each once"
    );
    assert!(recovered_total(&world.server).await >= 50.0);

    // Sweeping again finds nothing new to do.
    world.crash_and_restart().await;
    world.settled().await;
    assert_eq!(world.replies(pr).len(), answered_before + 50);
    assert_eq!(
        world.github.calls_to("apps/get-webhook-delivery") - fetched_before,
        50
    );
    world.github.assert_conformant();
}

#[tokio::test]
async fn two_replicas_starting_together_recover_each_missed_delivery_once() {
    let Some(mut world) = World::new_killable(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let before = world.replies(pr).len();
    let lost: Vec<(i64, String)> = (0..30)
        .map(|i| world.lose_comment(pr, &format!("person{}", i % 10), HELP, 0))
        .collect();

    // Two replicas on the same database start at once; both sweep at start. What the killed
    // server holds is read before the second replica can claim anything.
    let claims = common::running_claims(&world.store).await;
    let second = TestServer::start_killable(world.settings.clone(), common::fast_background());
    let (second, ()) = tokio::join!(second, world.crash_and_restart_after(claims));
    common::eventually(60, "the 30 missed comments are answered", || async {
        (world.replies(pr).len() >= before + 30).then_some(())
    })
    .await;
    world.settled().await;
    assert_eq!(world.replies(pr).len(), before + 30);

    let fetched: HashMap<String, usize> =
        world
            .github
            .calls()
            .iter()
            .fold(HashMap::new(), |mut m, c| {
                if c.operation.as_deref() == Some("apps/get-webhook-delivery") {
                    *m.entry(c.path.clone()).or_default() += 1;
                }
                m
            });
    assert_eq!(fetched.len(), 30, "every missed delivery fetched");
    assert!(
        fetched.values().all(|n| *n == 1),
        "none fetched twice: {fetched:?}"
    );
    let guids: Vec<String> = lost.iter().map(|(_, g)| g.clone()).collect();
    assert_eq!(stored(&world, &guids).await, 30);
    second.kill();
    world.github.assert_conformant();
}

#[tokio::test]
async fn without_a_public_url_the_sweep_is_how_events_arrive() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    assert!(
        world.settings.public_url.is_none(),
        "the test server has no public URL: GitHub cannot reach it"
    );
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let before = world.replies(pr).len();
    // GitHub tries and times out: nothing arrives by push.
    let (comment, _) = world.lose_comment(pr, "visitor", HELP, 0);
    let started = std::time::Instant::now();
    common::eventually(
        45,
        "the comment comes in through the 30-second sweep",
        || async { (world.replies(pr).len() > before).then_some(()) },
    )
    .await;
    assert!(started.elapsed() <= std::time::Duration::from_secs(40));
    // The 👍 follows the reply: wait for the command's job to finish before reading it.
    world.settled().await;
    assert_eq!(world.reactions(comment), ["eyes", "+1"]);
    world.github.assert_conformant();
}

#[tokio::test]
async fn events_taken_after_the_newest_backup_come_back_after_a_restore_and_are_answered_once() {
    let Some(mut world) = World::new_killable(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    world.settled().await;
    // The backup is taken while a sweep holds its lease (as the running app's often does).
    let sweep = upkeep::heal::sweep::LEASE;
    common::eventually(10, "the sweep's lease taken", || async {
        let now = upkeep::time::now_ms();
        let store = &world.store;
        store
            .take_lease(sweep, "a sweep in flight", now, now + 300_000)
            .await
            .unwrap()
            .then_some(())
    })
    .await;
    upkeep::heal::database::backup(&world.store, &world.settings.data_dir)
        .await
        .unwrap();
    world
        .store
        .release_lease(sweep, "a sweep in flight")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Taken and answered after the backup: GitHub's log says these were delivered fine.
    let before = world.replies(pr).len();
    let mut comments = Vec::new();
    for i in 0..5 {
        comments.push(world.say(pr, &format!("person{i}"), HELP).await);
    }
    world.assert_each_answered_once(pr, before, &comments);
    let fetched_before = world.github.calls_to("apps/get-webhook-delivery");

    // The disk fails under upkeep: the file is corrupt when it comes back.
    world.server.go_down(&world.store).await;
    world.store.close().await;
    common::corrupt_sqlite(&world._db.sqlite_path()).await;
    world.server.come_back(&world.settings).await;
    world.store = upkeep::store::Store::open(&world._db.url).await.unwrap();

    // The restored store forgot the five; the log brings them back, and the replies already on
    // GitHub keep them from being answered twice.
    common::eventually(60, "the five deliveries stored again", || async {
        (world.github.calls_to("apps/get-webhook-delivery") >= fetched_before + 5).then_some(())
    })
    .await;
    world.settled().await;
    world.assert_each_answered_once(pr, before, &comments);
    assert_eq!(
        world.github.calls_to("apps/get-webhook-delivery") - fetched_before,
        5,
        "only what the restored store lost is fetched"
    );
    assert!(recovered_total(&world.server).await >= 5.0);
    // Once all is back (the sweep marks it after its last store), succeeded deliveries are
    // left alone again.
    common::eventually(10, "the lost mark cleared", || async {
        let lost = world.store.mark(upkeep::heal::sweep::LOST).await.unwrap();
        (lost == Some(i64::MAX)).then_some(())
    })
    .await;
    world.github.assert_conformant();
}
