//! Names from payloads never steer a request: a signed delivery whose repository is called
//! `../../app/hook/config#` or `a/b?x=1&y=` is stored, refused for good by the job that reads
//! it (one attempt, a clear error), and sends nothing to GitHub.

mod common;

use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::json;

#[tokio::test]
async fn a_repository_name_github_would_not_send_is_refused_for_good_and_reaches_no_url() {
    if common::shared_dir().is_none() {
        return;
    }
    let github = FakeGitHub::builder()
        .app(common::APP_ID, &common::public_key_pem())
        .installation(7, "Codertocat")
        .repository(7, "Codertocat/Hello-World")
        .start()
        .await;
    let db = common::TestDb::sqlite();
    let server = common::TestServer::start(common::settings(
        &db.url,
        &[("UPKEEP_GITHUB_API_URL", &github.uri())],
    ))
    .await;
    let store = db.store().await;
    let endpoint = Endpoint {
        url: server.url("/webhook"),
        secret: common::SECRET.into(),
    };
    for name in ["Codertocat/../../app/hook/config#", "a/b?x=1&y=", "a/.."] {
        let d = github
            .deliver(
                &endpoint,
                "issue_comment",
                "created.payload.json",
                7,
                Some("Codertocat/Hello-World"),
                |p| {
                    p["repository"]["full_name"] = json!(name);
                    p["comment"]["body"] = json!("@upkeep help");
                    p["comment"]["user"]["type"] = json!("User");
                    p["sender"]["type"] = json!("User");
                },
            )
            .await;
        assert_eq!(d.status, 202, "stored as sent: nothing is lost at the door");
    }
    common::jobs_settled(&store).await;
    let dead = store.list_jobs(&["dead"], 10).await.unwrap();
    assert_eq!(dead.len(), 3, "{dead:#?}");
    for job in &dead {
        assert_eq!(job.attempts, 1, "an invalid name is never retried: {job:?}");
        let error = job.last_error.as_deref().unwrap_or_default();
        assert!(
            error.contains("is not a GitHub account name")
                || error.contains("is not one GitHub allows"),
            "{error}"
        );
    }
    // Only the App's background checks, which name no repository: the sweep of its delivery
    // log, the drift check of the App itself and of what its installations accepted.
    const BACKGROUND: [&str; 4] = [
        "apps/list-webhook-deliveries",
        "apps/get-authenticated",
        "apps/get-webhook-config-for-app",
        "apps/list-installations",
    ];
    let sent: Vec<_> = github
        .calls()
        .into_iter()
        .filter(|c| !BACKGROUND.contains(&c.operation.as_deref().unwrap_or_default()))
        .collect();
    assert!(sent.is_empty(), "requests were sent: {sent:#?}");
    server.stop().await;
}
