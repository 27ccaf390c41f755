//! The judge itself: requests and responses GitHub would accept pass; ones it would not are
//! caught with the operation id and the schema error.

use fake_github::openapi::{shared_dir, Spec};
use serde_json::json;

fn spec() -> Option<&'static Spec> {
    if !shared_dir()
        .join("github-openapi/api.github.com.json")
        .exists()
    {
        eprintln!(
            "SKIPPED: {} has no github-openapi (set UPKEEP_SHARED_DIR)",
            shared_dir().display()
        );
        return None;
    }
    Some(Spec::shared())
}

#[test]
fn requests_find_their_operations() {
    let Some(spec) = spec() else { return };
    assert!(spec.len() > 800);
    let cases = [
        (
            "POST",
            "/app/installations/7/access_tokens",
            "apps/create-installation-access-token",
        ),
        (
            "POST",
            "/app-manifests/abc/conversions",
            "apps/create-from-manifest",
        ),
        ("GET", "/repos/o/r", "repos/get"),
        (
            "GET",
            "/repos/o/r/contents/src/deep/lib.rs",
            "repos/get-content",
        ),
        (
            "GET",
            "/repos/o/r/pulls/comments",
            "pulls/list-review-comments-for-repo",
        ),
        ("GET", "/repos/o/r/pulls/12", "pulls/get"),
        (
            "PATCH",
            "/repos/o/r/git/refs/heads/upkeep/cargo/serde",
            "git/update-ref",
        ),
    ];
    for (method, path, id) in cases {
        let op = spec
            .find(method, path)
            .unwrap_or_else(|| panic!("{method} {path} found nothing"));
        assert_eq!(op.id, id, "{method} {path}");
    }
    assert!(spec.find("GET", "/no/such/endpoint/at/all").is_none());
    assert!(spec
        .find("DELETE", "/app-manifests/abc/conversions")
        .is_none());
}

#[test]
fn a_wrong_request_body_is_caught_with_the_operation_and_the_error() {
    let Some(spec) = spec() else { return };
    let op = spec.operation("issues/create").unwrap();
    assert_eq!(
        spec.check_request(
            op,
            Some(&json!({"title": "Upkeep dashboard", "labels": ["upkeep"]}))
        ),
        Ok(())
    );
    let missing = spec
        .check_request(op, Some(&json!({"body": "no title"})))
        .unwrap_err();
    assert_eq!(missing.operation, "issues/create");
    assert!(missing.message.contains("title"), "{missing}");
    let wrong_type = spec
        .check_request(op, Some(&json!({"title": "t", "labels": "upkeep"})))
        .unwrap_err();
    assert!(wrong_type.message.contains("labels"), "{wrong_type}");
    assert!(
        spec.check_request(op, None).is_err(),
        "a required body was missing"
    );
}

#[test]
fn responses_are_held_to_the_schema_for_their_status() {
    let Some(spec) = spec() else { return };
    let op = spec
        .operation("apps/create-installation-access-token")
        .unwrap();
    let good = json!({"token": "ghs_x", "expires_at": "2026-11-28T20:00:00Z"});
    assert_eq!(spec.check_response(op, 201, Some(&good)), Ok(()));
    let bad = json!({"token": 5});
    let err = spec.check_response(op, 201, Some(&bad)).unwrap_err();
    assert!(
        err.message.contains("expires_at") || err.message.contains("token"),
        "{err}"
    );
    // A status GitHub never answers for this operation.
    assert!(spec.check_response(op, 418, Some(&good)).is_err());
    // nullable fields accept null (repository.mirror_url is nullable in GitHub's description).
    let repo = spec.operation("repos/get").unwrap();
    let err = spec
        .check_response(repo, 200, Some(&json!({"id": 1})))
        .unwrap_err();
    assert!(err.message.contains("required"), "{err}");
}
