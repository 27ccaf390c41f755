//! The `upkeep` binary: version, manifest, migrate, jobs, and start-up refusing a bad
//! configuration with every problem named and no secret printed.

mod common;

use std::process::Command;

use common::TestDb;
use upkeep::store::jobs::NewJob;
use upkeep::time::now_ms;

fn upkeep() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_upkeep"));
    for (k, _) in std::env::vars() {
        if k.starts_with("UPKEEP_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn version_is_printed() {
    let out = upkeep().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("upkeep {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn manifest_prints_json_with_our_urls() {
    let out = upkeep()
        .arg("manifest")
        .env("UPKEEP_PUBLIC_URL", "https://bot.example.com")
        .output()
        .unwrap();
    assert!(out.status.success());
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        m["hook_attributes"]["url"],
        "https://bot.example.com/webhook"
    );
    assert_eq!(m["default_permissions"]["workflows"], "write");
}

#[test]
fn serve_refuses_a_bad_configuration_naming_every_problem_without_secrets() {
    let out = upkeep()
        .arg("serve")
        .env("UPKEEP_LISTEN", "not-an-address")
        .env("UPKEEP_APP_ID", "12")
        .env(
            "UPKEEP_PRIVATE_KEY",
            "-----BEGIN RSA PRIVATE KEY-----\nhunter2\n-----END RSA PRIVATE KEY-----",
        )
        .env("UPKEEP_WEBHOOK_SECRET", "hunter2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for var in [
        "UPKEEP_LISTEN",
        "UPKEEP_PRIVATE_KEY",
        "UPKEEP_WEBHOOK_SECRET",
    ] {
        assert!(err.contains(var), "{var} not named in:\n{err}");
    }
    assert!(!err.contains("hunter2"), "a secret was printed:\n{err}");
}

#[tokio::test]
async fn migrate_then_jobs_lists_queued_failed_and_dead_jobs() {
    let db = TestDb::sqlite();
    let out = upkeep()
        .arg("migrate")
        .env("UPKEEP_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = db.store().await;
    let job = |key| NewJob {
        kind: "daily",
        dedupe_key: key,
        payload: "{}",
        run_at: None,
        max_attempts: 1,
        repository_id: Some(5),
    };
    store
        .enqueue(&job("daily:5:2026-11-28"), now_ms())
        .await
        .unwrap();
    store
        .enqueue(&job("daily:6:2026-11-28"), now_ms())
        .await
        .unwrap();
    let claimed = store
        .claim_job("t", now_ms(), now_ms() + 60_000)
        .await
        .unwrap()
        .unwrap();
    store
        .fail_job(claimed.id, "t", "GitHub said no", None, now_ms())
        .await
        .unwrap();
    let out = upkeep()
        .arg("jobs")
        .env("UPKEEP_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("dead") && listing.contains("GitHub said no"),
        "{listing}"
    );
    assert!(listing.contains("queued"), "{listing}");
    let bad = upkeep()
        .args(["jobs", "--state", "zombie"])
        .env("UPKEEP_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
