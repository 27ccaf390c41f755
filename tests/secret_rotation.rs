//! Rotating the webhook secret without losing a delivery: while `UPKEEP_WEBHOOK_SECRET_PREVIOUS`
//! is set, deliveries signed with either secret are taken (GitHub switches over when the App's
//! setting is saved, and deliveries in flight still carry the old signature); anything else is
//! refused, and each use of the old secret is counted so the operator sees when it can go.

mod common;

use common::{TestDb, TestServer, SECRET};

const PREVIOUS: &str = "the-secret-before-this-one";
const PING: &[u8] = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;

#[tokio::test]
async fn both_secrets_are_taken_during_a_rotation_and_no_other() {
    let db = TestDb::sqlite();
    let settings = common::settings(&db.url, &[("UPKEEP_WEBHOOK_SECRET_PREVIOUS", PREVIOUS)]);
    let server = TestServer::start(settings).await;
    let signed = |secret: &str| Some(upkeep::webhook::sign(secret.as_bytes(), PING));

    let new = server
        .post_webhook("ping", "rot-1", PING, signed(SECRET))
        .await;
    assert_eq!(new.status(), 200);
    assert_eq!(
        server.metric("upkeep_webhook_previous_secret_total").await,
        0.0
    );
    let old = server
        .post_webhook("ping", "rot-2", PING, signed(PREVIOUS))
        .await;
    assert_eq!(old.status(), 200, "the previous secret still works");
    assert_eq!(
        server.metric("upkeep_webhook_previous_secret_total").await,
        1.0
    );
    let forged = server
        .post_webhook("ping", "rot-3", PING, signed("a-secret-nobody-set-here"))
        .await;
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn without_a_previous_secret_the_old_one_is_refused() {
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let old = server
        .post_webhook(
            "ping",
            "rot-4",
            PING,
            Some(upkeep::webhook::sign(PREVIOUS.as_bytes(), PING)),
        )
        .await;
    assert_eq!(old.status(), 401);
}

#[test]
fn a_short_previous_secret_is_a_start_up_error_naming_the_variable() {
    let mut env = std::collections::HashMap::new();
    for (k, v) in [
        ("UPKEEP_APP_ID", "1"),
        (
            "UPKEEP_PRIVATE_KEY_PATH",
            common::private_key_path().to_str().unwrap(),
        ),
        ("UPKEEP_WEBHOOK_SECRET", SECRET),
        ("UPKEEP_WEBHOOK_SECRET_PREVIOUS", "short"),
    ] {
        env.insert(k.to_owned(), v.to_owned());
    }
    let err = upkeep::server::settings::Settings::load(
        &env,
        upkeep::server::settings::Environment::Workstation,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("UPKEEP_WEBHOOK_SECRET_PREVIOUS"),
        "{err}"
    );
    assert!(!err.to_string().contains("short"), "never echoed");
}
