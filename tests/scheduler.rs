//! The daily schedule: every repository gets one pass a day at its own time; replicas ticking
//! together and restarts never enqueue a slot twice; a slot missed while down runs at start-up.

mod common;

use common::{eventually, TestDb, TestServer};
use upkeep::queue::scheduler::{due_slot, tick};
use upkeep::store::repositories::RepositoryRef;
use upkeep::store::Store;
use upkeep::time::now_ms;

async fn install(store: &Store, repos: i64) {
    let names: Vec<String> = (0..repos).map(|i| format!("o/r{i}")).collect();
    let refs: Vec<RepositoryRef> = names
        .iter()
        .enumerate()
        .map(|(i, n)| RepositoryRef {
            id: 1000 + i as i64,
            full_name: n,
            private: false,
        })
        .collect();
    store
        .upsert_installation(1, "o", "Organization", &refs, now_ms())
        .await
        .unwrap();
}

async fn replicas_ticking_together_enqueue_each_slot_once(db: TestDb) {
    let a = db.store().await;
    let b = db.store().await;
    install(&a, 40).await;
    let now = now_ms();
    let (x, y) = tokio::join!(
        tick(&a, now, Default::default()),
        tick(&b, now, Default::default())
    );
    assert_eq!(x.unwrap() + y.unwrap(), 40);
    // A restart (a new connection) ticking again at the same slot adds nothing.
    let restarted = db.store().await;
    assert_eq!(
        tick(&restarted, now + 1_000, Default::default())
            .await
            .unwrap(),
        0
    );
    let counts = a.job_counts().await.unwrap();
    assert_eq!(counts, vec![("queued".to_owned(), 40)]);
    // Each repository's job is keyed by its own slot.
    for id in [1000, 1017, 1039] {
        let (slot, key) = due_slot(id, now, Default::default());
        let job = a.job_by_key(&key).await.unwrap().unwrap();
        assert_eq!(job.run_at, slot);
        assert_eq!(job.repository_id, Some(id));
    }
    // The next day brings one more pass each.
    assert_eq!(
        tick(&b, now + upkeep::time::DAY_MS, Default::default())
            .await
            .unwrap(),
        40
    );
}

#[tokio::test]
async fn replicas_ticking_together_on_sqlite_enqueue_each_slot_once() {
    replicas_ticking_together_enqueue_each_slot_once(TestDb::sqlite()).await;
}

#[tokio::test]
async fn replicas_ticking_together_on_postgres_enqueue_each_slot_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    replicas_ticking_together_enqueue_each_slot_once(db).await;
}

#[tokio::test]
async fn a_slot_missed_while_down_runs_at_start_up() {
    if common::shared_dir().is_none() {
        return;
    }
    // Three repositories on GitHub without Rust in them: each pass looks and leaves.
    let mut builder = fake_github::FakeGitHub::builder()
        .app(common::APP_ID, &common::public_key_pem())
        .installation(1, "o");
    for i in 0..3 {
        let name = format!("o/r{i}");
        builder = builder
            .repository(1, &name)
            .files(&name, &[("README.md", "# not Rust\n")]);
    }
    let github = builder.start().await;
    let db = TestDb::sqlite();
    let store = db.store().await;
    install(&store, 3).await;
    // Nothing ran while the server was down; starting it runs each repository's latest slot.
    let server = TestServer::start(common::settings(
        &db.url,
        &[("UPKEEP_GITHUB_API_URL", &github.uri())],
    ))
    .await;
    eventually(15, "three daily passes", || {
        let store = store.clone();
        async move {
            let done = store.list_jobs(&["done"], 10).await.unwrap();
            (done.iter().filter(|j| j.kind == "daily").count() == 3).then_some(())
        }
    })
    .await;
    server.stop().await;
    assert_eq!(
        github.calls_to("repos/get"),
        3,
        "one dependency pass per repository"
    );
    // Each first pass recorded when the repository's schedule (default: daily) wants the next.
    for repo in store.active_repositories().await.unwrap() {
        let next = repo.deps_next_at.expect("next pass recorded");
        assert!(
            next > now_ms() && next <= now_ms() + upkeep::time::DAY_MS,
            "{next}"
        );
    }
}

#[tokio::test]
async fn a_dependency_pass_is_enqueued_once_when_its_schedule_comes_due() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    install(&store, 2).await;
    let now = now_ms();
    store
        .set_deps_next_at(1000, now - 1_000, now)
        .await
        .unwrap();
    store
        .set_deps_next_at(1001, now + upkeep::time::DAY_MS, now)
        .await
        .unwrap();
    tick(&store, now, Default::default()).await.unwrap();
    tick(&store, now + 500, Default::default()).await.unwrap();
    let key = format!("deps:1000:{}", now - 1_000);
    let job = store
        .job_by_key(&key)
        .await
        .unwrap()
        .expect("due pass enqueued");
    assert_eq!(job.kind, "deps");
    assert_eq!(job.repository_id, Some(1000));
    let deps_jobs = store
        .list_jobs(&["queued"], 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "deps")
        .count();
    assert_eq!(
        deps_jobs, 1,
        "once, and not for the repository due tomorrow"
    );
}

async fn old_processed_deliveries_are_deleted_and_nothing_else(db: TestDb) {
    use upkeep::queue::scheduler::KEEP_DELIVERIES_MS;
    use upkeep::store::deliveries::{NewDelivery, Stored};
    let store = db.store().await;
    let now = now_ms();
    let old = now - KEEP_DELIVERIES_MS - 1_000;
    let delivery = |id: &'static str, received_at: i64| NewDelivery {
        delivery_id: id,
        event: "push",
        action: None,
        installation_id: Some(1),
        repository_id: Some(1000),
        repository: Some("o/r0"),
        received_at,
        payload: "{}",
        enqueue: false,
    };
    for (id, at) in [
        ("old-done", old),
        ("old-pending", old),
        ("recent-done", now - 1_000),
    ] {
        store
            .store_delivery(&delivery(id, at), "delivery")
            .await
            .unwrap();
    }
    store
        .mark_delivery_processed("old-done", "recorded", old + 1)
        .await
        .unwrap();
    store
        .mark_delivery_processed("recent-done", "recorded", now)
        .await
        .unwrap();

    tick(&store, now, Default::default()).await.unwrap();

    assert!(
        store.delivery("old-done").await.unwrap().is_none(),
        "processed and older than 30 days"
    );
    assert!(
        store.delivery("old-pending").await.unwrap().is_some(),
        "an unprocessed delivery is kept whatever its age: its work is not done"
    );
    assert!(store.delivery("recent-done").await.unwrap().is_some());
    // A redelivery of a kept id is still a duplicate.
    assert_eq!(
        store
            .store_delivery(&delivery("recent-done", now), "delivery")
            .await
            .unwrap(),
        Stored::Duplicate
    );
}

#[tokio::test]
async fn old_processed_deliveries_are_deleted_on_sqlite() {
    old_processed_deliveries_are_deleted_and_nothing_else(TestDb::sqlite()).await;
}

#[tokio::test]
async fn old_processed_deliveries_are_deleted_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    old_processed_deliveries_are_deleted_and_nothing_else(db).await;
}
