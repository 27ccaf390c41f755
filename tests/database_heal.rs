//! A SQLite file that heals: upkeep backs itself up (`VACUUM INTO`, the newest 7 kept), and a
//! file found corrupt at start is moved aside and replaced by the newest good backup — or, with
//! none, by an empty database — instead of the server failing to start for good.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{eventually, unique_delivery, TestDb, TestServer};
use upkeep::heal::database;

const INSTALLED: &[u8] = br#"{"action":"created","installation":{"id":77,"account":{"id":5,"login":"octo-org","type":"Organization"}},"repositories":[{"id":901,"full_name":"octo-org/lib","private":false}],"sender":{"id":5,"login":"octo-org","type":"Organization"}}"#;

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_corrupt_database_is_restored_from_the_newest_backup_at_start() {
    let db = TestDb::sqlite();
    let settings = common::settings(&db.url, &[]);
    let backups = settings.data_dir.join("backups");
    let server = TestServer::start_killable(settings.clone(), common::fast_background()).await;
    let answer = server
        .deliver("installation", &unique_delivery(), INSTALLED)
        .await;
    assert_eq!(answer.status(), 202);
    let store = db.store().await;
    eventually(10, "the installation is stored", || async {
        (store.active_repositories().await.unwrap().len() == 1).then_some(())
    })
    .await;
    // The daily backup: the first is due at once; this one holds the installation.
    database::backup(&store, &settings.data_dir).await.unwrap();
    assert!(!files_in(&backups).is_empty());
    store.close().await;
    server.kill();

    let path = db.sqlite_path();
    common::corrupt_sqlite(&path).await;
    assert!(database::quick_check(&path).await.is_err());

    let server = TestServer::start_killable(settings.clone(), common::fast_background()).await;
    let store = db.store().await;
    let repos = store.active_repositories().await.unwrap();
    assert_eq!(repos.len(), 1, "the backup's state is back");
    assert_eq!(repos[0].full_name, "octo-org/lib");
    let dir = path.parent().unwrap();
    assert!(
        files_in(dir)
            .iter()
            .any(|f| f.starts_with("upkeep.db.corrupt-")),
        "the corrupt file is kept for inspection: {:?}",
        files_in(dir)
    );
    assert!(server.metric("upkeep_database_restored_total").await >= 1.0);
    // The operator sees it as an open alert on the status page, with what to check.
    let status: serde_json::Value =
        serde_json::from_str(&server.text("/status.json").await).unwrap();
    let alerts = status["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["signal"], "database_restored");
    assert_eq!(alerts[0]["state"], "open");
    assert!(alerts[0]["detail"]
        .as_str()
        .unwrap()
        .contains("Check the disk"));
    let page = server.text("/status").await;
    assert!(page.contains("1 open alert"), "{page}");
    assert!(database::quick_check(&path).await.is_ok());
    // And it keeps working: a new delivery is stored and processed.
    let answer = server
        .deliver("installation", &unique_delivery(), INSTALLED)
        .await;
    assert_eq!(answer.status(), 202);
    store.close().await;
    server.kill();
}

#[tokio::test]
async fn with_no_good_backup_upkeep_starts_empty_instead_of_failing_for_good() {
    let db = TestDb::sqlite();
    let settings = common::settings(&db.url, &[]);
    let server = TestServer::start_killable(settings.clone(), common::fast_background()).await;
    // The server takes its first backup at start; then it is killed.
    let backups = settings.data_dir.join("backups");
    eventually(10, "the first backup", || async {
        files_in(&backups)
            .iter()
            .any(|f| f.ends_with(".db"))
            .then_some(())
    })
    .await;
    server.kill();
    // The only backup is corrupt too.
    for name in files_in(&backups) {
        common::corrupt_sqlite(&backups.join(name)).await;
    }
    common::corrupt_sqlite(&db.sqlite_path()).await;

    let server = TestServer::start_killable(settings.clone(), common::fast_background()).await;
    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let status: serde_json::Value =
        serde_json::from_str(&server.text("/status.json").await).unwrap();
    assert_eq!(
        status["alerts"][0]["signal"], "database_replaced",
        "{status}"
    );
    let answer = server
        .deliver("installation", &unique_delivery(), INSTALLED)
        .await;
    assert_eq!(answer.status(), 202);
    server.kill();
}

#[tokio::test]
async fn backups_are_compact_copies_and_the_newest_seven_are_kept() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let data = tempfile::tempdir().unwrap();
    let mut taken = Vec::new();
    for _ in 0..9 {
        taken.push(database::backup(&store, data.path()).await.unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let kept = files_in(&data.path().join("backups"));
    assert_eq!(kept.len(), 7, "{kept:?}");
    for path in &taken[2..] {
        assert!(path.exists(), "{} was deleted", path.display());
        assert!(database::quick_check(path).await.is_ok());
    }
    assert!(!taken[0].exists() && !taken[1].exists());
}
