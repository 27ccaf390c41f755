//! First run without credentials: the page posts the manifest to GitHub with a `state`; the
//! callback checks it, exchanges the code, saves the credentials with mode 0600 and the server
//! accepts signed webhooks at once, without a restart.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{unique_delivery, TestDb, TestServer};
use fake_github::FakeGitHub;

fn state_from(page: &str) -> String {
    let start = page.find("?state=").expect("a state in the form action") + "?state=".len();
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

async fn unconfigured(github: &FakeGitHub) -> (TestDb, TestServer, std::path::PathBuf) {
    unconfigured_at(github, "https://upkeep.example.org").await
}

async fn unconfigured_at(
    github: &FakeGitHub,
    public_url: &str,
) -> (TestDb, TestServer, std::path::PathBuf) {
    let db = TestDb::sqlite();
    let settings = common::settings(
        &db.url,
        &[
            ("UPKEEP_APP_ID", ""),
            ("UPKEEP_PRIVATE_KEY_PATH", ""),
            ("UPKEEP_WEBHOOK_SECRET", ""),
            ("UPKEEP_GITHUB_API_URL", &github.uri()),
            ("UPKEEP_PUBLIC_URL", public_url),
        ],
    );
    assert!(settings.app.is_none());
    let credentials = settings.credentials_path();
    let server = TestServer::start(settings).await;
    (db, server, credentials)
}

#[tokio::test]
async fn registering_through_the_manifest_flow_saves_credentials_and_starts_serving() {
    if common::shared_dir().is_none() {
        return;
    }
    let pem = std::fs::read_to_string(common::private_key_path()).unwrap();
    let github = FakeGitHub::builder()
        .manifest_code("code123", 777, &pem, "a-freshly-made-webhook-secret")
        .start()
        .await;
    let (_db, server, credentials) = unconfigured(&github).await;

    // Before registration a webhook cannot be verified: say so, store nothing.
    assert_eq!(
        server
            .deliver("ping", &unique_delivery(), b"{}")
            .await
            .status(),
        503
    );

    let page = server.text("/").await;
    assert!(page.contains("Register GitHub App"));
    assert!(page.contains("https://github.com/settings/apps/new?state="));
    assert!(
        page.contains("https://upkeep.example.org/webhook"),
        "the manifest names our webhook URL"
    );
    let state = state_from(&page);

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = no_redirects
        .get(server.url(&format!("/setup/callback?code=code123&state={state}")))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    let location = back.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://github.com/apps/")
            && location.ends_with("/installations/new"),
        "{location}"
    );
    assert_eq!(github.calls_to("apps/create-from-manifest"), 1);
    let mode = std::fs::metadata(&credentials)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&credentials).unwrap()).unwrap();
    assert_eq!(saved["app_id"], 777);

    // The server now verifies deliveries with the returned secret.
    let body = br#"{"zen":"hi","hook_id":1}"#;
    let sig = upkeep::webhook::sign(b"a-freshly-made-webhook-secret", body);
    let r = server
        .post_webhook("ping", &unique_delivery(), body, Some(sig))
        .await;
    assert_eq!(r.status(), 200);
    // And a second visit to the callback (a replayed state) is refused.
    let again = no_redirects
        .get(server.url(&format!("/setup/callback?code=code123&state={state}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    server.stop().await;
}

#[tokio::test]
async fn a_callback_with_a_state_we_did_not_issue_is_refused_without_calling_github() {
    if common::shared_dir().is_none() {
        return;
    }
    let github = FakeGitHub::builder()
        .manifest_code("code123", 777, "pem", "secret")
        .start()
        .await;
    let (_db, server, credentials) = unconfigured(&github).await;
    let r = server
        .http
        .get(server.url("/setup/callback?code=code123&state=0123456789abcdef"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(!credentials.exists());
    assert!(
        github.calls().is_empty(),
        "GitHub was called: {:?}",
        github.calls()
    );
    server.stop().await;
}

#[tokio::test]
async fn the_organization_form_targets_the_organizations_page() {
    if common::shared_dir().is_none() {
        return;
    }
    let github = FakeGitHub::builder().start().await;
    let (_db, server, _) = unconfigured(&github).await;
    let page = server.text("/setup/org?name=rust-lang").await;
    assert!(page.contains("https://github.com/organizations/rust-lang/settings/apps/new?state="));
    let bad = server
        .http
        .get(server.url("/setup/org?name=%3Cscript%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    server.stop().await;
}

#[tokio::test]
async fn the_first_run_page_says_when_github_cannot_reach_the_webhook_url_and_what_happens_instead()
{
    let github = FakeGitHub::builder().start().await;
    let (_db, server, _) = unconfigured_at(&github, "http://192.168.1.20:3000").await;
    let page = server.text("/").await;
    assert!(page.contains("id=\"unreachable\""), "{page}");
    assert!(page.contains("http://192.168.1.20:3000/webhook"), "{page}");
    assert!(page.contains("fetches the App's deliveries from GitHub itself"));
    drop(server);

    let (_db, server, _) = unconfigured_at(&github, "https://upkeep.example.org").await;
    assert!(!server.text("/").await.contains("id=\"unreachable\""));
}
