//! The App's private key rotated on GitHub: the operator generates a new key on the App's
//! settings page and replaces the file `UPKEEP_PRIVATE_KEY_PATH` names. The next JWT signed
//! with the old key is refused; upkeep reads the file again, signs again and goes on, without
//! a restart. Without a key file there is nothing to re-read and the refusal stands.

mod common;

use http::Method;
use secrecy::SecretString;
use upkeep::github::{GitHubApp, GitHubError, RetryPolicy};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::repo_root().join("tests/fixtures").join(name)).unwrap()
}

#[tokio::test]
async fn a_key_replaced_on_disk_after_github_rotated_it_is_read_again_on_refusal() {
    let github = fake_github::FakeGitHub::builder()
        .app(common::APP_ID, &common::public_key_pem())
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("app-key.pem");
    std::fs::write(&key_file, fixture("test-app-key.pem")).unwrap();
    let url = url::Url::parse(&github.uri()).unwrap();
    let key = SecretString::from(fixture("test-app-key.pem"));
    let with_file = GitHubApp::new(common::APP_ID, &key, &url, RetryPolicy::default())
        .unwrap()
        .with_key_file(Some(key_file.clone()));
    let without = GitHubApp::new(common::APP_ID, &key, &url, RetryPolicy::default()).unwrap();
    for app in [&with_file, &without] {
        let r = app.app_request(Method::GET, "/app/hook/config", None).await;
        assert!(r.is_ok(), "{:?}", r.err());
    }

    // Rotated on GitHub; the new key written where upkeep reads it.
    github.with_world(|w| {
        w.app_public_key = Some(fixture("test-app-key-2.pub.pem").into_bytes());
    });
    std::fs::write(&key_file, fixture("test-app-key-2.pem")).unwrap();

    let r = with_file
        .app_request(Method::GET, "/app/hook/config", None)
        .await;
    assert!(r.is_ok(), "the key read again: {:?}", r.err());
    let refused = github.calls().iter().filter(|c| c.status == 401).count();
    assert_eq!(refused, 1, "one refusal, then the new key");
    let r = without
        .app_request(Method::GET, "/app/hook/config", None)
        .await;
    assert!(
        matches!(r, Err(GitHubError::Status { status: 401, .. })),
        "no file to read again: {:?}",
        r.err()
    );
}

#[tokio::test]
async fn a_key_file_that_changed_is_read_before_github_has_to_refuse_the_old_key() {
    let github = fake_github::FakeGitHub::builder()
        .app(common::APP_ID, &common::public_key_pem())
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("app-key.pem");
    std::fs::write(&key_file, fixture("test-app-key.pem")).unwrap();
    let url = url::Url::parse(&github.uri()).unwrap();
    let key = SecretString::from(fixture("test-app-key.pem"));
    let app = GitHubApp::new(common::APP_ID, &key, &url, RetryPolicy::default())
        .unwrap()
        .with_key_file(Some(key_file.clone()));
    assert!(app.app_request(Method::GET, "/app", None).await.is_ok());

    github.with_world(|w| {
        w.app_public_key = Some(fixture("test-app-key-2.pub.pem").into_bytes());
    });
    std::fs::write(&key_file, fixture("test-app-key-2.pem")).unwrap();
    // What the server's file watch does when the file's content changes.
    assert!(app.reload_key());
    assert!(app.app_request(Method::GET, "/app", None).await.is_ok());
    let refused = github.calls().iter().filter(|c| c.status == 401).count();
    assert_eq!(
        refused, 0,
        "the new key was in use before GitHub saw the old one"
    );
}
