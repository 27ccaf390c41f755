//! GitHub App authentication and the client's manners, against the fake GitHub (which verifies
//! the JWT with the App's public key and holds every request to GitHub's OpenAPI description):
//! installation tokens are exchanged once and reused until near expiry, 5xx is retried with
//! back-off, Retry-After and the rate-limit reset are waited out, and the client gives up after
//! its budget instead of hammering.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fake_github::{FakeGitHub, Fault};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use upkeep::github::{GitHubApp, GitHubError, RetryPolicy, Transport};
use upkeep::heal::breaker::BreakerPolicy;

const TOKENS: &str = "apps/create-installation-access-token";

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        max_wait: Duration::from_secs(5),
        request_timeout: Duration::from_secs(2),
    }
}

fn app_for(uri: &str, policy: RetryPolicy) -> Arc<GitHubApp> {
    let key = SecretString::from(std::fs::read_to_string(common::private_key_path()).unwrap());
    let url = url::Url::parse(uri).unwrap();
    Arc::new(GitHubApp::new(common::APP_ID, &key, &url, policy).unwrap())
}

/// The App, installation 7 on `o`, and repository `o/r`, before the fake starts.
fn world() -> fake_github::Builder {
    FakeGitHub::builder()
        .app(common::APP_ID, &common::public_key_pem())
        .installation(7, "o")
        .repository(7, "o/r")
}

/// A world with the App, installation 7 on `o`, and repository `o/r`.
async fn github() -> Option<FakeGitHub> {
    common::shared_dir()?;
    Some(world().start().await)
}

#[tokio::test]
async fn the_jwt_is_rs256_issued_in_the_past_and_short_lived() {
    let jwt = app_for("http://127.0.0.1:9", policy()).jwt().unwrap();
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
    let Some(github) = github().await else { return };
    let client = app_for(&github.uri(), policy()).installation(7);
    for _ in 0..3 {
        let repo: Value = client.get("/repos/o/r").await.unwrap();
        assert_eq!(repo["full_name"], "o/r");
    }
    // The fake verified the JWT on the exchange; the token served the three reads.
    assert_eq!(github.calls_to(TOKENS), 1);
    assert_eq!(github.calls_to("repos/get"), 3);
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use() {
    let Some(_) = common::shared_dir() else {
        return;
    };
    // Tokens that live two minutes are inside the five-minute margin: every use refreshes.
    let github = FakeGitHub::builder()
        .app(common::APP_ID, &common::public_key_pem())
        .installation(9, "o")
        .repository(9, "o/r")
        .token_lifetime(Duration::from_secs(120))
        .start()
        .await;
    let client = app_for(&github.uri(), policy()).installation(9);
    let _: Value = client.get("/repos/o/r").await.unwrap();
    let _: Value = client.get("/repos/o/r").await.unwrap();
    assert_eq!(github.calls_to(TOKENS), 2);
}

#[tokio::test]
async fn a_jwt_from_another_key_is_refused_by_the_fake() {
    let Some(_) = common::shared_dir() else {
        return;
    };
    let other_key = b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh\nkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ\n0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg\ncKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc\nmwIDAQAB\n-----END PUBLIC KEY-----\n";
    let github = FakeGitHub::builder()
        .app(common::APP_ID, other_key)
        .installation(7, "o")
        .start()
        .await;
    let err = app_for(&github.uri(), policy())
        .installation_token(7)
        .await
        .unwrap_err();
    assert!(
        matches!(err, GitHubError::Status { status: 401, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_back_off() {
    let Some(github) = github().await else { return };
    github.fault("repos/get", Fault::server_error(502).times(2));
    let started = Instant::now();
    let _: Value = app_for(&github.uri(), policy())
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
    assert_eq!(github.calls_to("repos/get"), 3);
}

#[tokio::test]
async fn it_gives_up_after_its_budget_with_a_clear_error() {
    let Some(github) = github().await else { return };
    github.fault("repos/get", Fault::server_error(503).times(100));
    let err = app_for(&github.uri(), policy())
        .installation(7)
        .get::<Value>("/repos/o/r")
        .await
        .unwrap_err();
    match &err {
        GitHubError::Status {
            status: 503,
            message,
            ..
        } => assert_eq!(message, "Server Error"),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("GET /repos/o/r"), "{err}");
    assert!(err.is_transient());
    // Four attempts, the budget, and not one more.
    assert_eq!(github.calls_to("repos/get"), 4);
}

/// Installation 7 with `o/r` and installation 8 with `p/q`.
async fn two_installations() -> Option<FakeGitHub> {
    common::shared_dir()?;
    Some(
        world()
            .installation(8, "p")
            .repository(8, "p/q")
            .start()
            .await,
    )
}

/// Installation 7 creates an issue in the background; returns once GitHub has told it to wait
/// (a limit is injected on `issues/create`), with the write still waiting.
async fn a_write_told_to_wait(
    github: &FakeGitHub,
    app: &Arc<GitHubApp>,
) -> tokio::task::JoinHandle<Result<Value, GitHubError>> {
    let writer = Arc::clone(app);
    let waiting = tokio::spawn(async move {
        writer
            .installation(7)
            .json::<Value>(
                http::Method::POST,
                "/repos/o/r/issues",
                Some(&json!({ "title": "x" })),
            )
            .await
    });
    common::eventually(10, "the write is told to wait", || async {
        (github.calls_to("issues/create") > 0).then_some(())
    })
    .await;
    waiting
}

#[tokio::test]
async fn a_rate_limit_storm_on_one_installation_does_not_slow_another() {
    let Some(github) = two_installations().await else {
        return;
    };
    let storm = Fault {
        status: 429,
        headers: vec![("retry-after".into(), "3".into())],
        body: json!({ "message": "You have exceeded a secondary rate limit." }),
        delay: None,
        times: 100,
    };
    github.fault("issues/create", storm);
    let app = app_for(&github.uri(), policy());
    let waiting = a_write_told_to_wait(&github, &app).await;
    let started = Instant::now();
    for _ in 0..5 {
        let repo: Value = app.installation(8).get("/repos/p/q").await.unwrap();
        assert_eq!(repo["full_name"], "p/q");
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "installation 8 waited {:?} behind installation 7's limit",
        started.elapsed()
    );
    assert!(
        !waiting.is_finished(),
        "installation 7 still waits out its Retry-After"
    );
    waiting.abort();
}

#[tokio::test]
async fn a_secondary_limit_on_a_write_pauses_that_installation_s_writes_not_its_reads() {
    let Some(github) = github().await else { return };
    github.fault("issues/create", Fault::secondary_rate_limit(3).times(100));
    let app = app_for(&github.uri(), policy());
    let waiting = a_write_told_to_wait(&github, &app).await;
    let started = Instant::now();
    let repo: Value = app.installation(7).get("/repos/o/r").await.unwrap();
    assert_eq!(repo["full_name"], "o/r");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the read waited {:?} behind the write's limit",
        started.elapsed()
    );
    assert!(
        !waiting.is_finished(),
        "the write still waits out its Retry-After"
    );
    waiting.abort();
}

#[tokio::test]
async fn an_open_breaker_sends_nothing_until_its_probe_and_one_installation_does_not_stop_another()
{
    let Some(github) = two_installations().await else {
        return;
    };
    github.fault("repos/get", Fault::server_error(503).times(100));
    let key = SecretString::from(std::fs::read_to_string(common::private_key_path()).unwrap());
    let url = url::Url::parse(&github.uri()).unwrap();
    let breaker = BreakerPolicy {
        open_base: Duration::from_millis(400),
        open_max: Duration::from_millis(400),
        jitter: 0.0,
        ..BreakerPolicy::default()
    };
    let transport = Transport::with_breaker(&url, policy(), breaker).unwrap();
    let app = Arc::new(GitHubApp::with_transport(common::APP_ID, &key, transport).unwrap());
    let client = app.installation(7);

    // Four failed attempts (its retry budget), then the fifth failure opens the breaker: the
    // call that saw it is told GitHub is unavailable, not given a 503 to retry.
    let first = client.get::<Value>("/repos/o/r").await.unwrap_err();
    assert!(
        matches!(first, GitHubError::Status { status: 503, .. }),
        "{first}"
    );
    let second = client.get::<Value>("/repos/o/r").await.unwrap_err();
    assert!(
        matches!(second, GitHubError::Unavailable { .. }),
        "{second}"
    );
    assert_eq!(github.calls_to("repos/get"), 5);
    // While it is open nothing is sent, and the caller learns when to come back.
    for _ in 0..10 {
        match client.get::<Value>("/repos/o/r").await.unwrap_err() {
            GitHubError::Unavailable { until_ms } => assert!(until_ms > upkeep::time::now_ms()),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(github.calls_to("repos/get"), 5);
    // Another installation's calls still go.
    let other: Result<Value, _> = app
        .installation(8)
        .json(
            http::Method::POST,
            "/repos/p/q/issues",
            Some(&json!({ "title": "still here" })),
        )
        .await;
    assert!(other.is_ok(), "{other:?}");

    // GitHub is back; after the open period one probe goes, and closes it.
    github.clear_faults();
    tokio::time::sleep(Duration::from_millis(450)).await;
    let repo: Value = client.get("/repos/o/r").await.unwrap();
    assert_eq!(repo["full_name"], "o/r");
    assert_eq!(github.calls_to("repos/get"), 6);
    let states = app.transport().breakers().states();
    assert!(
        states.iter().all(|s| s.state.name() == "closed"),
        "{states:?}"
    );
}

#[tokio::test]
async fn retry_after_on_a_secondary_limit_is_waited_out() {
    let Some(github) = github().await else { return };
    github.fault("issues/create", Fault::secondary_rate_limit(1));
    let issue: Value = app_for(&github.uri(), policy())
        .installation(7)
        .json(
            http::Method::POST,
            "/repos/o/r/issues",
            Some(&json!({"title": "t"})),
        )
        .await
        .unwrap();
    assert_eq!(issue["number"], 1);
    let calls: Vec<_> = github
        .calls()
        .into_iter()
        .filter(|c| c.operation.as_deref() == Some("issues/create"))
        .collect();
    assert_eq!(calls.len(), 2);
    assert!(
        calls[1].at - calls[0].at >= Duration::from_secs(1),
        "did not wait: {:?}",
        calls[1].at - calls[0].at
    );
}

#[tokio::test]
async fn an_exhausted_primary_limit_waits_for_the_reset_time() {
    let Some(github) = github().await else { return };
    github.fault(
        "repos/get",
        Fault::primary_rate_limit(Duration::from_secs(1)),
    );
    let started = Utc::now().timestamp();
    let _: Value = app_for(&github.uri(), policy())
        .installation(7)
        .get("/repos/o/r")
        .await
        .unwrap();
    assert!(
        Utc::now().timestamp() > started,
        "the retry came before the reset time"
    );
    assert_eq!(github.calls_to("repos/get"), 2);
}

#[tokio::test]
async fn a_wait_beyond_the_policy_becomes_a_rate_limited_error_without_more_requests() {
    let Some(github) = github().await else { return };
    github.fault(
        "repos/get",
        Fault::primary_rate_limit(Duration::from_secs(3600)),
    );
    let client = app_for(&github.uri(), policy()).installation(7);
    match client.get::<Value>("/repos/o/r").await.unwrap_err() {
        GitHubError::RateLimited { until_ms } => {
            assert!(until_ms > Utc::now().timestamp_millis() + 3_000_000)
        }
        other => panic!("unexpected {other:?}"),
    }
    // The next call is not even sent: the client remembers the limit.
    assert!(matches!(
        client.get::<Value>("/repos/o/r").await,
        Err(GitHubError::RateLimited { .. })
    ));
    assert_eq!(github.calls_to("repos/get"), 1);
}

#[tokio::test]
async fn a_hanging_github_times_out() {
    let Some(github) = github().await else { return };
    github.fault("issues/create", Fault::timeout(Duration::from_secs(10)));
    let started = Instant::now();
    let err = app_for(&github.uri(), policy())
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
    assert_eq!(github.calls_to("issues/create"), 1);
}

#[tokio::test]
async fn githubs_own_refusals_are_returned_at_once_not_retried() {
    let Some(github) = github().await else { return };
    github.fault("issues/create", Fault::refusal(422, "Validation Failed"));
    github.fault("repos/get", Fault::refusal(409, "Git Repository is empty."));
    let client = app_for(&github.uri(), policy()).installation(7);
    let err = client
        .json::<Value>(
            http::Method::POST,
            "/repos/o/r/issues",
            Some(&json!({"title": "t"})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GitHubError::Status { status: 422, message, .. } if message == "Validation Failed"),
        "{err:?}"
    );
    assert!(!err.is_transient());
    let err = client.get::<Value>("/repos/o/r").await.unwrap_err();
    assert!(
        matches!(&err, GitHubError::Status { status: 409, .. }),
        "{err:?}"
    );
    assert_eq!(github.calls_to("issues/create"), 1);
    assert_eq!(github.calls_to("repos/get"), 1);
}

#[tokio::test]
async fn a_reset_connection_is_retried_for_a_read_and_reported_for_a_write() {
    let Some(github) = github().await else { return };
    let client = app_for(&github.uri(), policy()).installation(7);
    // Warm up: the token exchange and a read, so the client holds a pooled connection.
    let _: Value = client.get("/repos/o/r").await.unwrap();
    github.reset_connections(1);
    let repo: Value = client.get("/repos/o/r").await.unwrap();
    assert_eq!(repo["full_name"], "o/r");
    // The reset request never reached GitHub; the retry did.
    assert_eq!(github.calls_to("repos/get"), 2);

    github.reset_connections(1);
    let err = client
        .json::<Value>(
            http::Method::POST,
            "/repos/o/r/issues",
            Some(&json!({"title": "t"})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GitHubError::Transport { .. }), "{err:?}");
    // A POST whose connection dropped may have been applied: it is not repeated blindly.
    assert_eq!(github.calls_to("issues/create"), 0);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_too() {
    let Some(github) = github().await else { return };
    let mut fault = Fault::secondary_rate_limit(1);
    fault.status = 429;
    github.fault("repos/get", fault);
    let started = Instant::now();
    let _: Value = app_for(&github.uri(), policy())
        .installation(7)
        .get("/repos/o/r")
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "did not wait: {:?}",
        started.elapsed()
    );
    assert_eq!(github.calls_to("repos/get"), 2);
}
