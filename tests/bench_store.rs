//! The benchmark baseline on both databases: result sets kept per repository, branch, commit and
//! runner class come back as they went in — a criterion result's samples, a bencher line's
//! estimate and spread — newest commits only, oldest first, the judged commit left out.

mod common;

use common::TestDb;
use upkeep::bench::Measured;
use upkeep::store::bench::ResultKey;
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
