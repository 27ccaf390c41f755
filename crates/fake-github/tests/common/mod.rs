//! Shared by the fake's own tests: the test App's id and keys, a JWT for it, and the check that
//! GitHub's description is there.
#![allow(dead_code)]

use fake_github::openapi::shared_dir;
use serde_json::json;

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
