//! The weekly health report: a seeded store's week rendered as the dashboard's section and the
//! operator's issue, matched against reviewed snapshots (tests/fixtures/weekly_report/;
//! `UPKEEP_UPDATE_SNAPSHOTS=1` rewrites them for review), on SQLite and PostgreSQL; and the
//! facts recorded once each from GitHub's real `pull_request` webhooks.

mod common;

use common::TestDb;
use upkeep::report::{gather, record, weekly};
use upkeep::store::repositories::RepositoryRef;
use upkeep::store::reverts::Decision;
use upkeep::store::Store;
use upkeep::time::DAY_MS;

/// Monday 2026-12-07, 09:00 UTC: the report is of 30 November to 6 December.
const NOW: i64 = 1_796_601_600_000 + 9 * 3_600_000;
const REPO: i64 = 101;
const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/weekly_report")
        .join(name);
    if std::env::var("UPKEEP_UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPKEEP_UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} changed; if on purpose, rewrite it with UPKEEP_UPDATE_SNAPSHOTS=1",
        path.display()
    );
}

fn revert(sha: &str, decision: &str, at: i64) -> Decision {
    Decision {
        sha: sha.into(),
        cause: "ci".into(),
        decision: decision.into(),
        reason: "confirmed culprit".into(),
        pr_number: Some(3),
        revert_pr: Some(9),
        issue_number: None,
        created_at: at,
    }
}

/// A busy week of one repository, and of the upkeep serving it.
async fn seed(store: &Store) {
    let (from, to) = weekly::last_week(NOW);
    let widgets = RepositoryRef {
        id: REPO,
        full_name: "acme/widgets",
        private: false,
    };
    store
        .upsert_installation(7, "acme", "Organization", &[widgets], from - 30 * DAY_MS)
        .await
        .unwrap();

    // Five upkeep PRs opened, three merged (1 h, 5 h 20 min, 2 d 3 h), one closed unmerged,
    // one of the merged a security fix; two regressions caught. One of each outside the week.
    let facts: &[(&str, &str, i64, Option<f64>)] = &[
        ("o1", weekly::kind::PR_OPENED, from + HOUR, None),
        ("o2", weekly::kind::PR_OPENED, from + 2 * HOUR, None),
        ("o3", weekly::kind::PR_OPENED, from + DAY_MS, None),
        ("o4", weekly::kind::PR_OPENED, from + 3 * DAY_MS, None),
        ("o5", weekly::kind::PR_OPENED, to - MINUTE, None),
        ("m1", weekly::kind::PR_MERGED, from + 2 * HOUR, Some(3600.0)),
        ("m2", weekly::kind::PR_MERGED, from + DAY_MS, Some(19_200.0)),
        (
            "m3",
            weekly::kind::PR_MERGED,
            from + 5 * DAY_MS,
            Some(183_600.0),
        ),
        ("c1", weekly::kind::PR_CLOSED, from + 4 * DAY_MS, None),
        ("f1", weekly::kind::ADVISORY_FIXED, from + 5 * DAY_MS, None),
        (
            "b1",
            weekly::kind::BENCH_REGRESSION,
            from + 2 * DAY_MS,
            None,
        ),
        (
            "b2",
            weekly::kind::BENCH_REGRESSION,
            from + 6 * DAY_MS,
            None,
        ),
        ("before", weekly::kind::PR_OPENED, from - 1, None),
        ("after", weekly::kind::PR_MERGED, to, Some(60.0)),
    ];
    for (key, kind, at, value) in facts {
        assert!(store
            .record_repo_event(key, REPO, kind, *at, *value)
            .await
            .unwrap());
    }
    assert!(
        !store
            .record_repo_event("m1", REPO, weekly::kind::PR_MERGED, from, Some(1.0))
            .await
            .unwrap(),
        "a fact is recorded once"
    );
    for d in [
        revert("aaaaaaa", "reverted", from + 3 * DAY_MS),
        revert("bbbbbbb", "rerun", from + 3 * DAY_MS),
        revert("ccccccc", "reverted", from - DAY_MS),
    ] {
        store.record_revert_decision(REPO, &d).await.unwrap();
    }

    // upkeep started on Thursday at noon and was down 90 minutes on Saturday night; a sample a
    // minute otherwise. 12 deliveries an hour; the budget at its lowest 15 % left.
    let started = from + 3 * DAY_MS + 12 * HOUR;
    let down = (from + 5 * DAY_MS + 22 * HOUR)..(from + 5 * DAY_MS + 22 * HOUR + 90 * MINUTE);
    let mut tx = store.pool().begin().await.unwrap();
    let mut t = started;
    while t < to {
        if !down.contains(&t) {
            let budget = if t == from + 4 * DAY_MS { 0.15 } else { 0.8 };
            let deliveries = if (t / MINUTE) % 5 == 0 { 1.0 } else { 0.0 };
            for (name, value) in [
                ("queue_lag_seconds", 2.0),
                ("webhook_deliveries", deliveries),
                ("rate_limit_remaining_ratio", budget),
            ] {
                sqlx::query("INSERT INTO signal_samples (name, t, value) VALUES ($1, $2, $3)")
                    .bind(name)
                    .bind(t)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
        }
        t += MINUTE;
    }
    tx.commit().await.unwrap();
    let counted = [
        (
            weekly::counts::DELIVERIES_RECOVERED,
            down.end + MINUTE,
            31.0,
        ),
        (
            weekly::counts::DELIVERIES_RECOVERED,
            down.end + 11 * MINUTE,
            19.0,
        ),
        (
            weekly::counts::BREAKER_OPENINGS,
            down.start - 5 * MINUTE,
            2.0,
        ),
        (weekly::counts::BREAKER_OPENINGS, from + 4 * DAY_MS, 1.0),
        (
            "alert_opened.github_error_ratio",
            down.start - 4 * MINUTE,
            1.0,
        ),
        ("alert_opened.github_error_ratio", from + 4 * DAY_MS, 1.0),
        (
            "alert_opened.webhook_deliveries",
            down.end + 2 * MINUTE,
            1.0,
        ),
        // The week before, not counted.
        (weekly::counts::BREAKER_OPENINGS, from - HOUR, 5.0),
    ];
    for (name, t, value) in counted {
        store.record_sample(name, t, value).await.unwrap();
    }
}

async fn the_week_of_a_seeded_store(store: &Store) {
    seed(store).await;
    let week = weekly::last_week(NOW);
    let repo = gather::repo_week(store, REPO, week, Some(1))
        .await
        .unwrap()
        .expect("known all week");
    assert_eq!(
        (
            repo.prs_opened,
            repo.prs_merged,
            repo.prs_closed,
            repo.reverts
        ),
        (5, 3, 1, 1)
    );
    snapshot("dashboard_section.md", &weekly::render_repo(&repo));

    let mut ops = gather::ops_week(store, week).await.unwrap();
    assert_eq!(ops.minutes_counted, 3 * 24 * 60 + 12 * 60);
    assert_eq!(ops.minutes_up, ops.minutes_counted - 90);
    assert_eq!((ops.deliveries_recovered, ops.breaker_openings), (50, 3));
    assert_eq!(ops.budget_lowest, Some(0.15));
    assert!(ops.database_bytes > 0);
    // The size depends on the engine and its version; the snapshot shows a fixed one.
    ops.database_bytes = 3 * 1024 * 1024 + 300 * 1024;
    snapshot("ops_issue.md", &weekly::render_ops(&ops));
    assert_eq!(
        weekly::ops_title(&ops),
        "upkeep health report: week of 2026-11-30"
    );

    // A repository upkeep met during the week gets no section (it would read as quiet).
    let newcomer = RepositoryRef {
        id: 202,
        full_name: "acme/new",
        private: false,
    };
    store
        .add_repositories(7, &[newcomer], week.0 + DAY_MS)
        .await
        .unwrap();
    assert_eq!(
        gather::repo_week(store, 202, week, Some(0)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_seeded_week_renders_as_its_reviewed_snapshots_on_sqlite() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    the_week_of_a_seeded_store(&store).await;
}

#[tokio::test]
async fn a_seeded_week_renders_as_its_reviewed_snapshots_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    the_week_of_a_seeded_store(&store).await;
}

/// GitHub's `pull_request` payload for `action`, as upkeep's own PR on `branch`.
fn upkeep_pr(shared: &std::path::Path, action: &str, branch: &str, merged: bool) -> Vec<u8> {
    let text =
        std::fs::read_to_string(shared.join("github-webhooks/pull_request/opened.payload.json"))
            .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["action"] = action.into();
    v["repository"]["id"] = REPO.into();
    let pr = &mut v["pull_request"];
    pr["user"]["login"] = "upkeep[bot]".into();
    pr["head"]["ref"] = branch.into();
    pr["created_at"] = "2026-12-01T10:00:00Z".into();
    if action == "closed" {
        pr["state"] = "closed".into();
        pr["merged"] = merged.into();
        pr["closed_at"] = "2026-12-01T15:20:00Z".into();
        pr["merged_at"] = if merged {
            "2026-12-01T15:20:00Z".into()
        } else {
            serde_json::Value::Null
        };
    }
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn upkeep_prs_are_counted_once_each_from_real_webhooks() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let db = TestDb::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    let deliveries = [
        ("opened", "upkeep/cargo/serde", false),
        ("opened", "upkeep/cargo/serde", false),
        ("closed", "upkeep/cargo/serde", true),
        ("closed", "upkeep/cargo/serde", true),
        ("opened", "upkeep/security/time", false),
        ("closed", "upkeep/security/time", true),
        // A person's branch and a person's PR on an upkeep-looking branch count nothing.
        ("opened", "feature/faster", false),
    ];
    for (i, (action, branch, merged)) in deliveries.iter().enumerate() {
        let mut body = upkeep_pr(&shared, action, branch, *merged);
        if *branch == "upkeep/security/time" {
            let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            v["number"] = 77.into();
            body = serde_json::to_vec(&v).unwrap();
        }
        let event = upkeep::webhook::events::Event::parse("pull_request", &body).unwrap();
        let upkeep::webhook::events::Event::PullRequest(e) = event else {
            panic!("delivery {i} is not a pull_request event");
        };
        record::pull_request(&store, &e, "upkeep[bot]", NOW)
            .await
            .unwrap();
    }
    let person = upkeep_pr(&shared, "opened", "upkeep/cargo/rand", false);
    let upkeep::webhook::events::Event::PullRequest(mut e) =
        upkeep::webhook::events::Event::parse("pull_request", &person).unwrap()
    else {
        panic!("not a pull_request event");
    };
    e.pull_request.user.login = "octocat".into();
    e.number = 500;
    record::pull_request(&store, &e, "upkeep[bot]", NOW)
        .await
        .unwrap();

    let facts = store.repo_events_between(REPO, 0, i64::MAX).await.unwrap();
    let kinds: Vec<(&str, Option<f64>)> =
        facts.iter().map(|f| (f.kind.as_str(), f.value)).collect();
    assert_eq!(
        kinds,
        [
            ("pr_opened", None),
            ("pr_opened", None),
            ("advisory_fixed", None),
            ("pr_merged", Some(19_200.0)),
            ("pr_merged", Some(19_200.0)),
        ],
        "{facts:?}"
    );
}
