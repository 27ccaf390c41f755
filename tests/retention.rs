//! A year in the life of a busy repository, lived day by day with the hourly pruning run at the
//! end of each day: the tables that grow stay bounded, the history verdicts need is kept, and
//! the database file stays under a stated size. The same year without pruning is the control.

mod common;

use common::TestDb;
use sqlx::Row;
use upkeep::heal::prune::prune;
use upkeep::heal::retention::Retention;
use upkeep::store::Store;
use upkeep::time::DAY_MS;

const START: i64 = 1_767_225_600_000; // 2026-01-01
const BENCHMARKS: usize = 50;
const PUSHES_PER_DAY: usize = 2;
const COMMANDS_PER_DAY: usize = 20;

/// One day of history: two pushes with 50 benchmark results each (100 samples apiece), a
/// revert decision, a dead job, 20 commands with their allowance rows, and a bisection a week.
async fn live_one_day(store: &Store, day: i64) {
    let t = START + day * DAY_MS;
    let samples = format!(
        "[{}]",
        (0..100)
            .map(|i| format!("{}.{}", 120_000 + i * 37, i % 10))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut tx = store.pool().begin().await.unwrap();
    for push in 0..PUSHES_PER_DAY {
        let sha = format!("{:040x}", day * 10 + push as i64);
        let at = t + push as i64 * 3_600_000;
        for b in 0..BENCHMARKS {
            sqlx::query(
                "INSERT INTO bench_results (repository_id, branch, commit_sha, runner_class, full_id, \
                 mean_ns, samples, run_id, created_at, spread_ns) VALUES (1, 'main', $1, 'linux-x64', $2, $3, $4, $5, $6, -1)",
            )
            .bind(&sha)
            .bind(format!("group/bench_{b:02}"))
            .bind(120_000.0 + b as f64)
            .bind(&samples)
            .bind(day * 10 + push as i64)
            .bind(at)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    sqlx::query(
        "INSERT INTO reverts (repository_id, sha, cause, decision, reason, created_at) \
         VALUES (1, $1, 'ci', 'watched', 'the suite went green again on the next commit', $2)",
    )
    .bind(format!("{day:040x}"))
    .bind(t)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, run_at, last_error, \
         repository_id, created_at, updated_at) VALUES ('daily', $1, $2, 'dead', 8, $3, $4, 1, $3, $3)",
    )
    .bind(format!("daily:1:{day}"))
    .bind(format!("{{\"repository_id\":1,\"padding\":\"{}\"}}", "x".repeat(400)))
    .bind(t)
    .bind("GitHub answered 502 to GET /repos/o/r/contents/Cargo.lock: Server Error")
    .execute(&mut *tx)
    .await
    .unwrap();
    for c in 0..COMMANDS_PER_DAY as i64 {
        sqlx::query(
            "INSERT INTO command_runs (repository_id, comment_id, command_key, ran_at, claimed_by, done_at) \
             VALUES (1, $1, 'rebase', $2, 'worker-0', $2)",
        )
        .bind(day * 100 + c)
        .bind(t + c)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO command_rate (repository_id, login, window_start, used, told) \
             VALUES (1, $1, $2, 1, 0) ON CONFLICT (repository_id, login) DO NOTHING",
        )
        .bind(format!("person{day}-{c}"))
        .bind(t)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    if day % 7 == 0 {
        sqlx::query(
            "INSERT INTO bisections (repository_id, red_sha, workflow_id, workflow_name, run_url, \
             green_sha, candidates, results, runs, done_at, created_at) \
             VALUES (1, $1, 9, 'CI', 'https://github.com/o/r/actions/runs/1', $2, $3, '{}', 4, $4, $4)",
        )
        .bind(format!("{day:040x}"))
        .bind(format!("{:040x}", day + 1))
        .bind(format!("[{}]", vec!["\"0123456789abcdef0123456789abcdef01234567\""; 16].join(",")))
        .bind(t)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// Lives a year (pruning at each day's end when `pruned`); the counts at the end.
async fn a_year(db: &TestDb, pruned: bool) -> Store {
    let store = Store::open(&db.url).await.unwrap();
    let retention = Retention::default();
    for day in 0..365 {
        live_one_day(&store, day).await;
        if pruned {
            prune(&store, &retention, START + (day + 1) * DAY_MS)
                .await
                .unwrap();
        }
    }
    store
}

async fn bounded_after_a_year(db: &TestDb) -> Store {
    let store = a_year(db, true).await;
    let bench = count(&store, "bench_results").await;
    let per_day = (PUSHES_PER_DAY * BENCHMARKS) as i64;
    assert!(bench <= 91 * per_day, "bench_results: {bench} rows");
    assert!(bench >= 89 * per_day, "the last 90 days are kept: {bench}");
    assert_eq!(count(&store, "jobs").await, 30, "dead jobs: 30 days");
    let reverts = count(&store, "reverts").await;
    assert!((364..=365).contains(&reverts), "reverts: a year, {reverts}");
    assert!(
        count(&store, "bisections").await <= 14,
        "bisections: 90 days"
    );
    let runs = count(&store, "command_runs").await;
    assert!(runs <= 61 * COMMANDS_PER_DAY as i64, "command_runs: {runs}");
    assert!(count(&store, "command_rate").await <= 2 * COMMANDS_PER_DAY as i64);
    store
}

#[tokio::test]
async fn a_year_of_history_stays_bounded_on_sqlite() {
    let db = TestDb::sqlite();
    let store = bounded_after_a_year(&db).await;
    sqlx::query("VACUUM").execute(store.pool()).await.unwrap();
    let path = store.sqlite_path().unwrap().to_owned();
    let pruned = std::fs::metadata(&path).unwrap().len();
    store.close().await;

    let control = TestDb::sqlite();
    let unpruned_store = a_year(&control, false).await;
    sqlx::query("VACUUM")
        .execute(unpruned_store.pool())
        .await
        .unwrap();
    let unpruned = std::fs::metadata(unpruned_store.sqlite_path().unwrap())
        .unwrap()
        .len();
    println!(
        "a year of one busy repository: {:.1} MiB pruned, {:.1} MiB unpruned",
        pruned as f64 / 1_048_576.0,
        unpruned as f64 / 1_048_576.0
    );
    assert!(
        pruned < 16 * 1_048_576,
        "the stated bound is 16 MiB a busy repository: {pruned} bytes"
    );
    assert!(pruned * 3 < unpruned);
}

#[tokio::test]
async fn a_year_of_history_stays_bounded_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    bounded_after_a_year(&db).await;
}

#[tokio::test]
async fn the_history_a_verdict_reads_survives_however_old() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    // A quiet repository: five pushes, the last a year ago.
    for day in 0..5 {
        live_one_day(&store, day).await;
    }
    prune(&store, &Retention::default(), START + 400 * DAY_MS)
        .await
        .unwrap();
    assert_eq!(
        count(&store, "bench_results").await,
        (5 * PUSHES_PER_DAY * BENCHMARKS) as i64,
        "the newest 30 commits of a branch are kept whatever their age"
    );
    let history = store
        .bench_history(1, "main", "linux-x64", "", 20)
        .await
        .unwrap();
    assert_eq!(history.len(), 10);
}
