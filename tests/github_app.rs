//! GitHub App authentication and the client's manners, against a wiremock GitHub: the JWT is
//! GitHub's shape, installation tokens are exchanged once and reused until near expiry, 5xx is
//! retried with back-off, Retry-After and the rate-limit reset are waited out, and the client
//! gives up after its budget instead of hammering.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use upkeep::github::{GitHubApp, GitHubError, RetryPolicy};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        max_wait: Duration::from_secs(5),
        request_timeout: Duration::from_secs(2),
    }
}

fn app(server: &MockServer, policy: RetryPolicy) -> Arc<GitHubApp> {
    let key = SecretString::from(std::fs::read_to_string(common::private_key_path()).unwrap());
    let url = url::Url::parse(&server.uri()).unwrap();
    Arc::new(GitHubApp::new(common::APP_ID, &key, &url, policy).unwrap())
}

async fn token_endpoint(
    server: &MockServer,
    installation: i64,
    token: &str,
    expires_in: chrono::Duration,
    times: u64,
) {
    Mock::given(method("POST"))
        .and(path(format!(
            "/app/installations/{installation}/access_tokens"
        )))
        .and(header("accept", "application/vnd.github+json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "token": token,
            "expires_at": (Utc::now() + expires_in).to_rfc3339(),
            "permissions": {"contents": "write"},
            "repository_selection": "all"
        })))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_jwt_is_rs256_issued_in_the_past_and_short_lived() {
    let server = MockServer::start().await;
    let jwt = app(&server, policy()).jwt().unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&common::public_key_pem()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat"]);
    let claims = jsonwebtoken::decode::<Value>(jwt.expose_secret(), &key, &validation)
        .unwrap()
        .claims;
    let now = Utc::now().timestamp();
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        (now - 62..=now - 58).contains(&iat),
        "iat {iat} is not 60 s before {now}"
    );
    assert!(
        exp > now && exp <= now + 600,
        "exp {exp} is not within 10 minutes of {now}"
    );
    assert_eq!(claims["iss"].as_u64(), Some(common::APP_ID));
}

#[tokio::test]
async fn an_installation_token_is_exchanged_once_and_reused() {
    let server = MockServer::start().await;
    token_endpoint(&server, 7, "ghs_first", chrono::Duration::hours(1), 1).await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r"))
        .and(header("authorization", "Bearer ghs_first"))
        .and(header("x-github-api-version", "2022-11-28"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 1, "full_name": "o/r"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let client = app(&server, policy()).installation(7);
    for _ in 0..3 {
        let repo: Value = client.get("/repos/o/r").await.unwrap();
        assert_eq!(repo["full_name"], "o/r");
    }
    // The token exchange itself was made as the App, with a JWT.
    let requests = server.received_requests().await.unwrap();
    let exchange = requests
        .iter()
        .find(|r| r.url.path().ends_with("/access_tokens"))
        .unwrap();
    let auth = exchange
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        auth.starts_with("Bearer ey"),
        "the exchange must carry a JWT"
    );
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use() {
    let server = MockServer::start().await;
    // Expires in two minutes: inside the five-minute margin, so every use refreshes it.
    token_endpoint(&server, 9, "ghs_short", chrono::Duration::minutes(2), 2).await;
    Mock::given(method("GET"))
        .and(path("/rate_limit"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"resources": {}})))
        .mount(&server)
        .await;
    let client = app(&server, policy()).installation(9);
    let _: Value = client.get("/rate_limit").await.unwrap();
    let _: Value = client.get("/rate_limit").await.unwrap();
}

#[tokio::test]
async fn server_errors_are_retried_with_back_off() {
    let server = MockServer::start().await;
    token_endpoint(&server, 7, "ghs", chrono::Duration::hours(1), 1).await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .with_priority(2)
        .mount(&server)
        .await;
    let started = Instant::now();
    let _: Value = app(&server, policy())
        .installation(7)
        .get("/repos/o/r")
        .await
        .unwrap();
    // Two back-offs: at least 50 ms and 100 ms (half of 100 ms and 200 ms, equal jitter).
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    let gets = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/repos/o/r")
        .count();
    assert_eq!(gets, 3);
}

#[tokio::test]
async fn it_gives_up_after_its_budget_with_a_clear_error() {
    let server = MockServer::start().await;
    token_endpoint(&server, 7, "ghs", chrono::Duration::hours(1), 1).await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"message": "Service Unavailable"})),
        )
        .expect(4)
        .mount(&server)
        .await;
    let err = app(&server, policy())
        .installation(7)
        .get::<Value>("/repos/o/r")
        .await
        .unwrap_err();
    match &err {
        GitHubError::Status {
            status: 503,
            message,
            ..
        } => assert_eq!(message, "Service Unavailable"),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("GET /repos/o/r"), "{err}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn retry_after_on_a_secondary_limit_is_waited_out() {
    let server = MockServer::start().await;
    token_endpoint(&server, 7, "ghs", chrono::Duration::hours(1), 1).await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "You have exceeded a secondary rate limit."})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 1})))
        .with_priority(2)
        .mount(&server)
        .await;
    let started = Instant::now();
    let issue: Value = app(&server, policy())
        .installation(7)
        .json(
            http::Method::POST,
            "/repos/o/r/issues",
            Some(&json!({"title": "t"})),
        )
        .await
        .unwrap();
    assert_eq!(issue["number"], 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "did not wait: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_exhausted_primary_limit_waits_for_the_reset_time() {
    let server = MockServer::start().await;
    token_endpoint(&server, 7, "ghs", chrono::Duration::hours(1), 1).await;
    let reset = Utc::now().timestamp() + 1;
    Mock::given(method("GET"))
        .and(path("/repos/o/r"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"message": "API rate limit exceeded"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .with_priority(2)
        .mount(&server)
        .await;
    let _: Value = app(&server, policy())
        .installation(7)
        .get("/repos/o/r")
        .await
        .unwrap();
    assert!(
        Utc::now().timestamp() >= reset,
        "the retry came before the reset time"
    );
}

#[tokio::test]
async fn a_wait_beyond_the_policy_becomes_a_rate_limited_error_without_more_requests() {
    let server = MockServer::start().await;
    token_endpoint(&server, 7, "ghs", chrono::Duration::hours(1), 1).await;
    let reset = Utc::now().timestamp() + 3600;
    Mock::given(method("GET"))
        .and(path("/repos/o/r"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"id": 1})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = app(&server, policy()).installation(7);
    // The last allowed request succeeds and teaches the client the limit is spent…
    let _: Value = client.get("/repos/o/r").await.unwrap();
    // …so the next one is not sent at all.
    let err = client.get::<Value>("/repos/o/r").await.unwrap_err();
    match err {
        GitHubError::RateLimited { until_ms } => assert_eq!(until_ms, reset * 1000),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_github_times_out() {
    let server = MockServer::start().await;
    token_endpoint(&server, 7, "ghs", chrono::Duration::hours(1), 1).await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(10)))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = app(&server, policy())
        .installation(7)
        .json::<Value>(
            http::Method::POST,
            "/repos/o/r/issues",
            Some(&json!({"title": "t"})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GitHubError::Timeout { .. }), "{err:?}");
    // A POST that timed out is not repeated: it may have been applied.
    assert!(started.elapsed() < Duration::from_secs(4));
}
