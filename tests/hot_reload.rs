//! The `UPKEEP_CONFIG` file is read again when it changes, without a restart: a new webhook
//! secret is in force within seconds (with the old one accepted as the previous secret during
//! the rotation), and an invalid edit is reported with its line and column while the last good
//! configuration stays in force.

mod common;

use std::time::Duration;

use common::{TestDb, TestServer};

const FIRST: &str = "first-webhook-secret-0001";
const SECOND: &str = "second-webhook-secret-0002";
const PING: &[u8] = br#"{"zen":"Design for failure.","hook_id":1}"#;

async fn ping(server: &TestServer, secret: &str, n: &mut u32) -> u16 {
    *n += 1;
    server
        .post_webhook(
            "ping",
            &format!("reload-{n}"),
            PING,
            Some(upkeep::webhook::sign(secret.as_bytes(), PING)),
        )
        .await
        .status()
        .as_u16()
}

/// The configuration reload error `/status.json` shows, once it does.
async fn reload_error(server: &TestServer, what: &str) -> serde_json::Value {
    common::eventually(5, what, || async {
        let status: serde_json::Value =
            serde_json::from_str(&server.text("/status.json").await).unwrap();
        status["drift"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["kind"] == "config_reload").cloned())
    })
    .await
}

#[tokio::test]
async fn a_new_secret_applies_without_a_restart_and_a_bad_edit_changes_nothing() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("upkeep.toml");
    std::fs::write(&file, format!("webhook_secret = \"{FIRST}\"\n")).unwrap();
    let settings = common::settings(
        &db.url,
        &[
            ("UPKEEP_WEBHOOK_SECRET", ""),
            ("UPKEEP_CONFIG", file.to_str().unwrap()),
        ],
    );
    let server = TestServer::start(settings).await;
    let mut n = 0;
    assert_eq!(ping(&server, FIRST, &mut n).await, 200);
    assert_eq!(ping(&server, SECOND, &mut n).await, 401);

    // The rotation: the new secret, and the old one as the previous.
    std::fs::write(
        &file,
        format!("webhook_secret = \"{SECOND}\"\nwebhook_secret_previous = \"{FIRST}\"\n"),
    )
    .unwrap();
    let changed = std::time::Instant::now();
    loop {
        if ping(&server, SECOND, &mut n).await == 200 {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(5),
            "the new secret in force within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        ping(&server, FIRST, &mut n).await,
        200,
        "the previous one too"
    );

    // A broken edit: reported where it is, and the last good configuration stays.
    std::fs::write(
        &file,
        format!("webhook_secret = \"{SECOND}\"\nwebhook_secrt = \"x\"\n"),
    )
    .unwrap();
    let drift = reload_error(&server, "the bad edit is reported").await;
    let detail = drift["detail"].as_str().unwrap();
    assert!(detail.contains("line 2, column 1"), "{detail}");
    assert!(
        !detail.contains(SECOND),
        "the secret is never shown: {detail}"
    );
    assert_eq!(ping(&server, SECOND, &mut n).await, 200);
    assert_eq!(ping(&server, FIRST, &mut n).await, 200);

    // Fixed: the report goes, and dropping the previous secret ends the rotation.
    std::fs::write(&file, format!("webhook_secret = \"{SECOND}\"\n")).unwrap();
    common::eventually(5, "the old secret is refused", || async {
        let mut m = 1000 + n;
        (ping(&server, FIRST, &mut m).await == 401).then_some(())
    })
    .await;
    let status: serde_json::Value =
        serde_json::from_str(&server.text("/status.json").await).unwrap();
    assert_eq!(status["drift"], serde_json::json!([]));
}

#[tokio::test]
async fn the_log_level_worker_maximum_advisory_refresh_and_retention_change_without_a_restart() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("upkeep.toml");
    std::fs::write(&file, "workers = 3\nlog_level = \"info\"\n").unwrap();
    let settings = common::settings(
        &db.url,
        &[
            ("UPKEEP_WORKERS", ""),
            ("UPKEEP_CONFIG", file.to_str().unwrap()),
        ],
    );
    let server = TestServer::start(settings).await;
    let workers = || async {
        let status: serde_json::Value =
            serde_json::from_str(&server.text("/status.json").await).unwrap();
        status["queue"]["workers_max"].as_u64().unwrap()
    };
    assert_eq!(workers().await, 3);

    std::fs::write(
        &file,
        "workers = 12\nlog_level = \"info,upkeep=debug\"\nadvisory_refresh_minutes = 15\nbench_retention_days = 30\n",
    )
    .unwrap();
    common::eventually(5, "the new worker maximum in force", || async {
        (workers().await == 12).then_some(())
    })
    .await;
    let status: serde_json::Value =
        serde_json::from_str(&server.text("/status.json").await).unwrap();
    assert_eq!(
        status["config"],
        serde_json::json!({"advisory_refresh_minutes": 15, "bench_retention_days": 30,
            "daily_window": "00:00-24:00", "alerts_to": []})
    );

    // A log level that is not one is refused, and the maximum stays.
    std::fs::write(&file, "workers = 5\nlog_level = \"loud\"\n").unwrap();
    let drift = reload_error(&server, "the bad level is reported").await;
    assert!(
        drift["detail"]
            .as_str()
            .unwrap()
            .contains("UPKEEP_LOG_LEVEL"),
        "{drift}"
    );
    assert_eq!(workers().await, 12, "the last good configuration stays");
}

#[tokio::test]
async fn a_credentials_file_rewritten_by_hand_is_used_without_a_restart() {
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join(upkeep::server::settings::CREDENTIALS_FILE);
    let pem = std::fs::read_to_string(common::private_key_path()).unwrap();
    let write = |secret: &str| {
        let stored = serde_json::json!({
            "app_id": common::APP_ID, "slug": "upkeep", "pem": pem, "webhook_secret": secret
        });
        std::fs::write(&file, stored.to_string()).unwrap();
    };
    write(FIRST);
    let settings = common::settings(
        &db.url,
        &[
            ("UPKEEP_APP_ID", ""),
            ("UPKEEP_PRIVATE_KEY_PATH", ""),
            ("UPKEEP_WEBHOOK_SECRET", ""),
            ("UPKEEP_DATA_DIR", data.path().to_str().unwrap()),
        ],
    );
    let server = TestServer::start(settings).await;
    let mut n = 0;
    assert_eq!(ping(&server, FIRST, &mut n).await, 200);

    write(SECOND);
    common::eventually(5, "the file's new secret in force", || async {
        let mut m = 2000 + n;
        (ping(&server, SECOND, &mut m).await == 200).then_some(())
    })
    .await;
    assert_eq!(ping(&server, FIRST, &mut n).await, 401);

    // A broken file keeps what is in use, and says so.
    std::fs::write(&file, "{ \"app_id\": ").unwrap();
    let drift = common::eventually(5, "the broken file is reported", || async {
        let status: serde_json::Value =
            serde_json::from_str(&server.text("/status.json").await).unwrap();
        status["drift"].as_array().and_then(|d| {
            d.iter()
                .find(|d| d["kind"] == "credentials_reload")
                .cloned()
        })
    })
    .await;
    assert!(
        drift["detail"].as_str().unwrap().contains("line 1"),
        "{drift}"
    );
    assert_eq!(ping(&server, SECOND, &mut n).await, 200);
}

#[tokio::test]
async fn the_daily_window_and_where_alerts_go_change_without_a_restart() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("upkeep.toml");
    std::fs::write(&file, "daily_window = \"01:00-06:00\"\n").unwrap();
    let settings = common::settings(
        &db.url,
        &[
            ("UPKEEP_CONFIG", file.to_str().unwrap()),
            ("UPKEEP_ALERT_WEBHOOK", "http://127.0.0.1:9/alerts"),
        ],
    );
    let server = TestServer::start(settings).await;
    let config = || async {
        let status: serde_json::Value =
            serde_json::from_str(&server.text("/status.json").await).unwrap();
        status["config"].clone()
    };
    let before = config().await;
    assert_eq!(before["daily_window"], "01:00-06:00");
    assert_eq!(before["alerts_to"], serde_json::json!(["webhook"]));

    // The window wraps past midnight now, an ops repository is named, and the file's webhook
    // loses to the environment's, as at start.
    std::fs::write(
        &file,
        "daily_window = \"22:30-04:00\"\nops_repo = \"acme/ops\"\nalert_webhook = \"http://127.0.0.1:9/other\"\n",
    )
    .unwrap();
    let after = common::eventually(5, "the new window in force", || async {
        let c = config().await;
        (c["daily_window"] == "22:30-04:00").then_some(c)
    })
    .await;
    assert_eq!(
        after["alerts_to"],
        serde_json::json!(["ops_issue", "webhook"])
    );
    assert!(
        !server.text("/status.json").await.contains("acme/ops"),
        "the page names no repository"
    );

    // A window that is not one is refused with the format, and the last good one stays.
    std::fs::write(&file, "daily_window = \"late\"\n").unwrap();
    let drift = reload_error(&server, "the bad window is reported").await;
    assert!(
        drift["detail"].as_str().unwrap().contains("HH:MM-HH:MM"),
        "{drift}"
    );
    assert_eq!(config().await["daily_window"], "22:30-04:00");

    // Taken out of the file: the whole day again, and no ops issue.
    std::fs::write(&file, "").unwrap();
    let last = common::eventually(5, "the window back to the whole day", || async {
        let c = config().await;
        (c["daily_window"] == "00:00-24:00").then_some(c)
    })
    .await;
    assert_eq!(last["alerts_to"], serde_json::json!(["webhook"]));
}
