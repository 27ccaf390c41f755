//! The benchmark baseline on both databases: result sets kept per repository, branch, commit and
//! runner class come back as they went in — a criterion result's samples, a bencher line's
//! estimate and spread — newest commits only, oldest first, the judged commit left out; and
//! gungraun's counts per metric the same way, moved with a renamed default branch and pruned
//! like the times, the newest commits kept.

mod common;

use common::TestDb;
use upkeep::bench::gungraun::{Counted, Metric};
use upkeep::bench::Measured;
use upkeep::store::bench::ResultKey;
use upkeep::store::repositories::RepositoryRef;
use upkeep::store::Store;

fn key(commit: &str) -> ResultKey<'_> {
    ResultKey {
        repository_id: 1,
        branch: "main",
        commit_sha: commit,
        runner_class: "linux/x64/ubuntu-latest",
        run_id: 7,
    }
}

async fn keeps_results(store: Store) {
    let sampled = Measured {
        id: "g/parse".into(),
        samples: vec![10.5, 11.25, 10.75],
        summary: None,
    };
    let line = Measured {
        id: "render".into(),
        samples: Vec::new(),
        summary: Some((50_000.0, 150.0)),
    };
    for (at, commit) in ["a", "b", "c"].into_iter().enumerate() {
        store
            .put_bench_results(&key(commit), &[sampled.clone(), line.clone()], at as i64)
            .await
            .unwrap();
    }
    let history = store
        .bench_history(1, "main", "linux/x64/ubuntu-latest", "c", 2)
        .await
        .unwrap();
    let commits: Vec<&str> = history.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        commits,
        ["a", "b"],
        "the newest two but the judged one, oldest first"
    );
    assert_eq!(history[1].1, [sampled, line]);
    let other_runner = store
        .bench_history(1, "main", "macos/arm64/macos-latest", "", 10)
        .await
        .unwrap();
    assert!(other_runner.is_empty());
}

#[tokio::test]
async fn results_come_back_as_they_went_in_on_sqlite() {
    let db = TestDb::sqlite();
    keeps_results(db.store().await).await;
}

#[tokio::test]
async fn results_come_back_as_they_went_in_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    keeps_results(db.store().await).await;
}

fn counted(id: &str, metric: Metric, value: f64) -> Counted {
    Counted {
        id: id.into(),
        metric,
        value,
    }
}

async fn keeps_counts(store: Store) {
    for (at, commit) in ["a", "b", "c", "d"].into_iter().enumerate() {
        let n = 1000.0 + at as f64;
        let counts = [
            counted("parse", Metric::Instructions, n),
            counted("parse", Metric::RamHits, 12.0),
            counted("plan", Metric::Instructions, 2.0 * n),
        ];
        store
            .put_bench_counts(&key(commit), &counts, 1000 * at as i64)
            .await
            .unwrap();
    }
    assert!(
        store.has_bench_results(1, "b").await.unwrap(),
        "a run with counts alone was read"
    );
    assert!(!store.has_bench_results(1, "z").await.unwrap());
    let history = store
        .bench_count_history(1, "main", "linux/x64/ubuntu-latest", "d", 2)
        .await
        .unwrap();
    let commits: Vec<&str> = history.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(commits, ["b", "c"]);
    assert_eq!(
        history[1].1,
        [
            counted("parse", Metric::Instructions, 1002.0),
            counted("parse", Metric::RamHits, 12.0),
            counted("plan", Metric::Instructions, 2004.0),
        ]
    );

    // The default branch is renamed: its history goes with it.
    let repo = RepositoryRef {
        id: 1,
        full_name: "o/r",
        private: false,
    };
    store
        .upsert_installation(7, "o", "Organization", &[repo], 0)
        .await
        .unwrap();
    store.set_default_branch(1, "main", 4000).await.unwrap();
    store.set_default_branch(1, "trunk", 5000).await.unwrap();
    let moved = store
        .bench_count_history(1, "trunk", "linux/x64/ubuntu-latest", "", 10)
        .await
        .unwrap();
    assert_eq!(moved.len(), 4);

    // Old counts go, but never the newest two commits'.
    let gone = store.purge_bench_results(10_000, 2, 1000).await.unwrap();
    assert_eq!(gone, 2 * 3, "commits a and b, three counts each");
    let left = store
        .bench_count_history(1, "trunk", "linux/x64/ubuntu-latest", "", 10)
        .await
        .unwrap();
    let commits: Vec<&str> = left.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(commits, ["c", "d"]);
}

#[tokio::test]
async fn counts_come_back_move_and_are_pruned_on_sqlite() {
    let db = TestDb::sqlite();
    keeps_counts(db.store().await).await;
}

#[tokio::test]
async fn counts_come_back_move_and_are_pruned_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    keeps_counts(db.store().await).await;
}
