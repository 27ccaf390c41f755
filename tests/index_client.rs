//! The sparse-index client against a registry served by wiremock: one request per crate, none
//! while the cached copy is fresh, a conditional one (`If-None-Match`) after that, and the
//! versions read into plan candidates.

use std::time::Duration;

use upkeep::index::{Answered, IndexClient};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SERDE: &str = concat!(
    r#"{"name":"serde","vers":"1.0.100","deps":[],"cksum":"aa","features":{},"yanked":false}"#,
    "\n",
    r#"{"name":"serde","vers":"1.0.228","deps":[],"cksum":"bb","features":{},"yanked":false,"rust_version":"1.61","pubtime":"2025-09-27T16:51:35Z"}"#,
    "\n",
    r#"{"name":"serde","vers":"1.0.229","deps":[],"cksum":"cc","features":{},"yanked":true}"#,
    "\n"
);

async fn registry() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/se/rd/serde"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/se/rd/serde"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_string(SERDE),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let conditional = r.headers.get("if-none-match").is_some();
            format!(
                "{}{}",
                r.url.path(),
                if conditional { " (conditional)" } else { "" }
            )
        })
        .collect()
}

#[tokio::test]
async fn a_fresh_copy_costs_no_request_and_a_stale_one_a_conditional_request() {
    let server = registry().await;
    let fresh = IndexClient::new(
        &server.uri(),
        Duration::from_secs(5),
        Duration::from_secs(600),
    )
    .unwrap();
    let (entries, how) = fresh.versions("serde").await.unwrap();
    assert_eq!((entries.len(), how), (3, Answered::Fetched));
    let (_, how) = fresh.versions("serde").await.unwrap();
    assert_eq!(how, Answered::Fresh);
    assert_eq!(requests(&server).await, vec!["/se/rd/serde"]);

    let stale = IndexClient::new(
        &format!("sparse+{}", server.uri()),
        Duration::from_secs(5),
        Duration::ZERO,
    )
    .unwrap();
    stale.versions("serde").await.unwrap();
    let (entries, how) = stale.versions("serde").await.unwrap();
    assert_eq!((entries.len(), how), (3, Answered::NotModified));
    assert_eq!(
        requests(&server).await,
        vec!["/se/rd/serde", "/se/rd/serde", "/se/rd/serde (conditional)"]
    );
}

#[tokio::test]
async fn candidates_carry_yanked_rust_version_and_publication_time_and_unknown_crates_are_empty() {
    let server = registry().await;
    let client = IndexClient::new(
        &server.uri(),
        Duration::from_secs(5),
        Duration::from_secs(600),
    )
    .unwrap();
    let (found, errors) = client
        .candidates(["serde".to_owned(), "nope".to_owned(), "serde".to_owned()])
        .await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        found["nope"],
        vec![],
        "a 404 is a crate the registry does not have"
    );
    let serde = &found["serde"];
    assert_eq!(serde.len(), 3);
    assert_eq!(serde[1].rust_version, Some(semver::Version::new(1, 61, 0)));
    assert_eq!(
        serde[1].published.map(|t| t.to_rfc3339()),
        Some("2025-09-27T16:51:35+00:00".to_owned())
    );
    assert!(serde[2].yanked);
    let paths = requests(&server).await;
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.as_str() == "/se/rd/serde")
            .count(),
        1,
        "one request per crate: {paths:?}"
    );
}

#[tokio::test]
async fn a_server_error_is_an_error_naming_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let client = IndexClient::new(&server.uri(), Duration::from_secs(5), Duration::ZERO).unwrap();
    let err = client.versions("tokio").await.unwrap_err();
    assert!(err.to_string().contains("/to/ki/tokio"), "{err}");
    assert!(err.to_string().contains("500"), "{err}");
    assert!(IndexClient::new("ftp://x", Duration::from_secs(1), Duration::ZERO).is_err());
}

#[tokio::test]
async fn a_registry_that_keeps_failing_opens_its_breaker_and_is_left_alone_until_the_probe() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let policy = upkeep::heal::breaker::BreakerPolicy {
        open_base: Duration::from_millis(300),
        open_max: Duration::from_millis(300),
        jitter: 0.0,
        ..Default::default()
    };
    let client = IndexClient::new(&server.uri(), Duration::from_secs(5), Duration::ZERO)
        .unwrap()
        .with_breaker(policy);
    let names = [
        "tokio", "serde", "rand", "log", "syn", "quote", "regex", "libc",
    ];
    let mut unavailable = 0;
    for name in names {
        if let Err(e) = client.versions(name).await {
            if e.unavailable_until().is_some() {
                unavailable += 1;
            }
        }
    }
    // Five failures in a row open it; the three lookups after that send nothing.
    assert_eq!(requests(&server).await.len(), 5);
    assert_eq!(unavailable, 3);
    // The registry is back: after the open period one probe goes through, and it closes.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(client.versions("tokio").await.is_ok());
    assert!(client.versions("serde").await.is_ok());
    assert_eq!(requests(&server).await.len(), 2);
}
