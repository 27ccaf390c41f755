//! Shared by the fake's own tests: the test App's id and keys, a JWT for it, the check that
//! GitHub's description is there, a world with repository `o/r`, and raw calls to it.
#![allow(dead_code)]

use fake_github::openapi::shared_dir;
use fake_github::FakeGitHub;
use serde_json::json;
use serde_json::Value;

pub const APP_ID: u64 = 4242;

pub fn fixtures() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

pub fn public_key() -> Vec<u8> {
    std::fs::read(fixtures().join("test-app-key.pub.pem")).unwrap()
}

/// Whether GitHub's description is there; prints why a test is skipped when not.
pub fn available() -> bool {
    let ok = shared_dir()
        .join("github-openapi/api.github.com.json")
        .exists();
    if !ok {
        eprintln!(
            "SKIPPED: {} has no github-openapi (set UPKEEP_SHARED_DIR)",
            shared_dir().display()
        );
    }
    ok
}

/// A JWT for the test App, as upkeep makes it.
pub fn jwt() -> String {
    let key = std::fs::read(fixtures().join("test-app-key.pem")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"iss": APP_ID, "iat": now - 60, "exp": now + 540}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(&key).unwrap(),
    )
    .unwrap()
}

pub async fn world() -> FakeGitHub {
    let public = public_key();
    FakeGitHub::builder()
        .app(APP_ID, &public)
        .installation(7, "o")
        .repository(7, "o/r")
        .manifest_code("c0de", 99, "PEM", "whsec")
        .start()
        .await
}

/// The App, installation 7 on `o`, and repository `o/r`; more to add before `start()`.
pub fn o_r() -> fake_github::Builder {
    let public = public_key();
    FakeGitHub::builder()
        .app(APP_ID, &public)
        .installation(7, "o")
        .repository(7, "o/r")
}

/// An installation token for installation 7, exchanged with a real JWT.
pub async fn token(github: &FakeGitHub) -> String {
    let (status, token, _) = call(
        github,
        reqwest::Method::POST,
        "/app/installations/7/access_tokens",
        &jwt(),
        None,
    )
    .await;
    assert_eq!(status, 201);
    token["token"].as_str().unwrap().to_owned()
}

pub async fn call(
    github: &FakeGitHub,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", github.uri()))
        .header("authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), headers)
}
