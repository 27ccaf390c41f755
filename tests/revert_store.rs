//! Auto-revert's memory on both databases: decisions recorded and counted per day (the quotas),
//! found again per commit (never twice), listed newest first (the dashboard); a bisection
//! started once per red commit and workflow, and found again by the commit under test.

mod common;

use std::collections::BTreeMap;

use common::TestDb;
use upkeep::revert::Outcome;
use upkeep::store::reverts::{Bisection, Decision};
use upkeep::store::Store;

fn decision(sha: &str, decision: &str, at: i64, revert_pr: Option<i64>) -> Decision {
    Decision {
        sha: sha.into(),
        cause: "ci".into(),
        decision: decision.into(),
        reason: format!("because {decision}"),
        pr_number: Some(3),
        revert_pr,
        issue_number: None,
        created_at: at,
    }
}

async fn remembers(store: Store) {
    store
        .record_revert_decision(1, &decision("a", "rerun", 10, None))
        .await
        .unwrap();
    store
        .record_revert_decision(1, &decision("a", "reverted", 20, Some(9)))
        .await
        .unwrap();
    store
        .record_revert_decision(1, &decision("b", "reverted", 30, Some(11)))
        .await
        .unwrap();
    store
        .record_revert_decision(2, &decision("c", "reverted", 30, Some(12)))
        .await
        .unwrap();
    assert_eq!(
        store
            .revert_decisions_since(1, "reverted", 0)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .revert_decisions_since(1, "reverted", 25)
            .await
            .unwrap(),
        1
    );
    let a = store.revert_decisions_for(1, "a").await.unwrap();
    assert_eq!(
        a.iter().map(|d| d.decision.as_str()).collect::<Vec<_>>(),
        ["rerun", "reverted"]
    );
    assert_eq!(a[1], decision("a", "reverted", 20, Some(9)));
    let recent = store.recent_revert_decisions(1, 2).await.unwrap();
    assert_eq!(
        recent.iter().map(|d| d.sha.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );

    let mut b = Bisection {
        red_sha: "r".into(),
        workflow_id: 5,
        workflow_name: "ci".into(),
        run_url: "https://x/runs/1".into(),
        green_sha: "g".into(),
        candidates: vec!["x".into(), "y".into(), "r".into()],
        results: BTreeMap::from([("r".to_owned(), Outcome::Red)]),
        testing: None,
        runs: 0,
    };
    assert!(store.start_bisection(1, &b, 1).await.unwrap());
    assert!(
        !store.start_bisection(1, &b, 2).await.unwrap(),
        "once per red commit"
    );
    b.testing = Some("y".into());
    b.runs = 1;
    store.update_bisection(1, &b, None).await.unwrap();
    assert_eq!(
        store.bisection_testing(1, 5, "y").await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(store.bisection_testing(1, 6, "y").await.unwrap(), None);
    store.update_bisection(1, &b, Some(3)).await.unwrap();
    assert_eq!(
        store.bisection_testing(1, 5, "y").await.unwrap(),
        None,
        "done"
    );
}

#[tokio::test]
async fn decisions_and_bisections_on_sqlite() {
    let db = TestDb::sqlite();
    remembers(db.store().await).await;
}

#[tokio::test]
async fn decisions_and_bisections_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    remembers(db.store().await).await;
}

/// Two replicas (two pools on one database) and a repository's revert lease: one holder at a
/// time, renewable by its holder, free again when given back or run out, and of many takers
/// racing for a free lease exactly one gets it.
async fn one_replica_holds_the_lease(url: &str) {
    let (a, b) = (
        Store::open(url).await.unwrap(),
        Store::open(url).await.unwrap(),
    );
    let lease = "revert:1";
    assert!(a.take_lease(lease, "a", 100, 200).await.unwrap());
    assert!(
        !b.take_lease(lease, "b", 150, 250).await.unwrap(),
        "a holds it"
    );
    assert!(a.take_lease(lease, "a", 150, 300).await.unwrap(), "renewed");
    assert!(
        !b.take_lease(lease, "b", 250, 350).await.unwrap(),
        "renewed to 300"
    );
    assert!(
        b.take_lease("revert:2", "b", 250, 350).await.unwrap(),
        "another repository's"
    );
    b.release_lease(lease, "b").await.unwrap();
    assert!(
        !b.take_lease(lease, "b", 260, 360).await.unwrap(),
        "b cannot give back a's"
    );
    a.release_lease(lease, "a").await.unwrap();
    assert!(
        b.take_lease(lease, "b", 270, 370).await.unwrap(),
        "given back"
    );
    assert!(
        a.take_lease(lease, "a", 400, 500).await.unwrap(),
        "b's ran out at 370"
    );

    let racers: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                store
                    .take_lease("revert:3", &format!("r{i}"), 1_000, 2_000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for r in racers {
        won += usize::from(r.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one racer gets a free lease");
}

#[tokio::test]
async fn one_replica_holds_the_revert_lease_on_sqlite() {
    let db = TestDb::sqlite();
    one_replica_holds_the_lease(&db.url).await;
}

#[tokio::test]
async fn one_replica_holds_the_revert_lease_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    one_replica_holds_the_lease(&db.url).await;
}
