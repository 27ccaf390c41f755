//! The App's webhook stays pointed at upkeep: a hook moved by hand (another URL, `form`, TLS
//! checks off) is put back with one `PATCH /app/hook/config` at start; a hook that is right, or
//! a server with no public URL, gets no PATCH; a correction GitHub refuses is on the status
//! page with what to change by hand.

mod common;

use common::{repo_world, TestDb, TestServer};
use fake_github::HookConfig;
use fake_github::{FakeGitHub, Fault};
use serde_json::json;

const PUBLIC: &str = "https://upkeep.example.org";
const GET: &str = "apps/get-webhook-config-for-app";
const PATCH: &str = "apps/update-webhook-config-for-app";

/// A fake GitHub whose App's hook was changed by hand.
async fn drifted_github() -> FakeGitHub {
    let github = repo_world::github_with(&repo_world::fixture_files(None)).await;
    github.with_world(|w| {
        w.hook_config = HookConfig {
            url: "https://old-host.example.org/hooks/github".into(),
            content_type: "form".into(),
            insecure_ssl: "1".into(),
            secret: Some("whsec".into()),
        }
    });
    github
}

async fn start(github: &FakeGitHub, db: &TestDb, public: Option<&str>) -> TestServer {
    let settings = common::settings(
        &db.url,
        &[
            ("UPKEEP_GITHUB_API_URL", &github.uri()),
            ("UPKEEP_PUBLIC_URL", public.unwrap_or("")),
        ],
    );
    TestServer::start_killable(settings, common::fast_background()).await
}

#[tokio::test]
async fn a_drifted_hook_is_put_back_once_and_left_alone_when_right() {
    let github = drifted_github().await;
    let db = TestDb::sqlite();
    let server = start(&github, &db, Some(PUBLIC)).await;
    common::eventually(20, "the hook is put back", || async {
        (github.calls_to(PATCH) == 1).then_some(())
    })
    .await;
    let patch = github
        .calls()
        .into_iter()
        .find(|c| c.operation.as_deref() == Some(PATCH))
        .unwrap();
    assert_eq!(
        patch.body.unwrap(),
        json!({"url": "https://upkeep.example.org/webhook", "content_type": "json", "insecure_ssl": "0"}),
        "exactly the drifted fields, and never the secret"
    );
    let config = github.with_world(|w| w.hook_config.clone());
    assert_eq!(config.url, "https://upkeep.example.org/webhook");
    assert_eq!(
        config.secret.as_deref(),
        Some("whsec"),
        "the secret is kept"
    );
    server.kill();

    // Started again: read, found right, not touched.
    let reads = github.calls_to(GET);
    let server = start(&github, &db, Some(PUBLIC)).await;
    common::eventually(20, "the hook is read again", || async {
        (github.calls_to(GET) > reads).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(github.calls_to(PATCH), 1, "nothing drifted: no PATCH");
    server.kill();
    github.assert_conformant();
}

#[tokio::test]
async fn without_a_public_url_the_hook_is_not_touched() {
    let github = drifted_github().await;
    let db = TestDb::sqlite();
    let server = start(&github, &db, None).await;
    // The delivery sweep runs at start: once it has, the hook check has had its turn too.
    common::eventually(20, "the server has read the delivery log", || async {
        (github.calls_to("apps/list-webhook-deliveries") > 0).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(github.calls_to(PATCH), 0);
    assert_eq!(
        github.with_world(|w| w.hook_config.content_type.clone()),
        "form"
    );
    server.kill();
}

#[tokio::test]
async fn a_correction_github_refuses_is_on_the_status_page_with_the_fix() {
    let github = drifted_github().await;
    github.fault(
        PATCH,
        Fault::refusal(403, "Resource not accessible by integration"),
    );
    let db = TestDb::sqlite();
    let server = start(&github, &db, Some(PUBLIC)).await;
    let drift = common::eventually(20, "the drift is reported", || async {
        let status: serde_json::Value =
            serde_json::from_str(&server.text("/status.json").await).unwrap();
        let drift = status["drift"].as_array().cloned().unwrap_or_default();
        (!drift.is_empty()).then_some(drift)
    })
    .await;
    assert_eq!(drift.len(), 3, "{drift:?}");
    assert!(drift.iter().all(|d| d["kind"] == "webhook_config"));
    assert!(
        drift[0]["fix"]
            .as_str()
            .unwrap()
            .contains("https://upkeep.example.org/webhook"),
        "{drift:?}"
    );
    let page = server.text("/status").await;
    assert!(page.contains("webhook_config"), "{page}");
    server.kill();
}

#[tokio::test]
async fn an_app_without_a_permission_the_manifest_asks_for_is_reported_naming_it() {
    let github = repo_world::github_with(&repo_world::fixture_files(None)).await;
    github.with_world(|w| {
        w.app_permissions.remove("checks");
        w.app_events.retain(|e| e != "check_run");
    });
    let db = TestDb::sqlite();
    let server = start(&github, &db, None).await;
    let drift = common::eventually(20, "the App's drift is reported", || async {
        let status: serde_json::Value =
            serde_json::from_str(&server.text("/status.json").await).unwrap();
        let drift = status["drift"].as_array().cloned().unwrap_or_default();
        (drift.len() >= 2).then_some(drift)
    })
    .await;
    assert_eq!(drift[0]["kind"], "app_permission");
    assert!(
        drift[0]["detail"]
            .as_str()
            .unwrap()
            .contains("checks: none"),
        "{drift:?}"
    );
    assert!(
        drift[0]["fix"]
            .as_str()
            .unwrap()
            .contains("/settings/apps/upkeep/permissions"),
        "the exact page: {drift:?}"
    );
    assert_eq!(drift[1]["kind"], "app_event");
    assert!(drift[1]["detail"].as_str().unwrap().contains("check_run"));
    assert_eq!(drift.len(), 2, "nothing else lacks: {drift:?}");
    server.kill();
    github.assert_conformant();
}
