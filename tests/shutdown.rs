//! SIGTERM stops the real binary within its deadline even while a worker is stuck on a GitHub
//! call that never answers (it used to wait for the call's timeouts and retries: minutes), and
//! the job in hand goes back in line without spending an attempt.

mod common;

use std::time::Duration;

use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_within_the_deadline_with_a_worker_stuck_on_github() {
    if common::shared_dir().is_none() {
        return;
    }
    let github = FakeGitHub::builder()
        .app(common::APP_ID, &common::public_key_pem())
        .installation(7, "octo-org")
        .repository(7, "octo-org/lib")
        .start()
        .await;
    let db = common::TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let mut server = common::binary::start(&db, data.path(), &github.uri()).await;
    // The App's own checks at start are done first, so the stall is the comment's.
    common::eventually(30, "the start-up checks done", || {
        let done = github.calls_to("apps/list-installations") >= 1
            && github.calls_to("apps/list-webhook-deliveries") >= 1;
        async move { done.then_some(()) }
    })
    .await;
    // The first GitHub call the comment needs never gets an answer.
    github.stall(0, false);
    let endpoint = Endpoint {
        url: format!("{}/webhook", server.base),
        secret: common::SECRET.into(),
    };
    let d = github
        .deliver(
            &endpoint,
            "issue_comment",
            "created.payload.json",
            7,
            Some("octo-org/lib"),
            |p| {
                p["comment"]["body"] = json!("@upkeep help");
                p["comment"]["user"]["type"] = json!("User");
                p["sender"]["type"] = json!("User");
            },
        )
        .await;
    assert_eq!(d.status, 202);
    common::eventually(30, "a worker stuck on GitHub", || {
        let s = github.stalled();
        async move { s }
    })
    .await;
    let took = server
        .terminate(Duration::from_secs(30))
        .expect("the process did not stop within 30 s of SIGTERM");
    println!("SIGTERM with a stuck worker: stopped in {took:?}");
    assert!(
        took <= upkeep::server::SHUTDOWN_DEADLINE + Duration::from_secs(3),
        "stopped after {took:?}"
    );
    let store = db.store().await;
    let jobs = store.list_jobs(&["queued"], 10).await.unwrap();
    let job = jobs
        .iter()
        .find(|j| j.kind == "delivery")
        .expect("the delivery's job is back in line");
    assert_eq!(job.attempts, 0, "the stop spent an attempt: {job:?}");
    assert_eq!(job.crashes, 0);
}
