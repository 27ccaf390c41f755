//! A SQLite file that heals: checked at start (`PRAGMA quick_check`), backed up daily with
//! `VACUUM INTO` (the newest 7 kept under `<data dir>/backups`), and, when found corrupt, moved
//! aside and replaced by the newest backup that passes the same check. What happened after that
//! backup comes back from GitHub's delivery log (the missed-delivery sweep reads from the mark
//! the backup holds). Never a crash loop: with no good backup upkeep starts on an empty file.
//! PostgreSQL is left to its server (connection loss is survived by the pool).
//!
//! `VACUUM INTO` rather than copying the file: it is SQLite's own consistent online copy (a copy
//! of a WAL database taken mid-write is not a database), and it writes a compact file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::backups;
use crate::store::{Store, StoreError};
use crate::time::now_ms;

/// How long the integrity check of one file may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum DatabaseHealError {
    #[error("cannot move or copy {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("the backup failed: {0}")]
    Backup(String),
}

/// What the check at start found, and did.
#[derive(Debug, Clone, PartialEq)]
pub enum StartCheck {
    /// Not a SQLite file (PostgreSQL, or in memory).
    NotSqlite,
    /// No file yet: a first start.
    Fresh,
    Healthy,
    /// The file was corrupt: moved to `aside`, the backup `from` put in its place.
    Restored {
        aside: PathBuf,
        from: PathBuf,
    },
    /// The file was corrupt and no backup passed the check: moved aside, starting empty.
    Replaced {
        aside: PathBuf,
    },
}

/// `PRAGMA quick_check` on a file: `Err` with what SQLite reported (or why it would not open).
pub async fn quick_check(path: &Path) -> Result<(), String> {
    let check = async {
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .disable_statement_logging()
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        let rows = sqlx::query("PRAGMA quick_check")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        let lines: Vec<String> = rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect();
        if lines == ["ok"] {
            Ok(())
        } else {
            Err(lines.join("; ").chars().take(500).collect())
        }
    };
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {CHECK_TIMEOUT:?}")))
}

/// Checks the database a `sqlite:` URL names before the store opens it, and restores it from
/// the newest good backup when it is corrupt.
pub async fn check_at_start(url: &str, data_dir: &Path) -> Result<StartCheck, DatabaseHealError> {
    let Some(path) = crate::store::sqlite_file(url) else {
        return Ok(StartCheck::NotSqlite);
    };
    if !path.exists() {
        return Ok(StartCheck::Fresh);
    }
    let problem = match quick_check(&path).await {
        Ok(()) => {
            info!(database = %path.display(), "database passed its integrity check");
            return Ok(StartCheck::Healthy);
        }
        Err(problem) => problem,
    };
    let aside = PathBuf::from(format!("{}.corrupt-{}", path.display(), now_ms()));
    error!(database = %path.display(), %problem, aside = %aside.display(), "the database is corrupt: moving it aside and restoring the newest good backup");
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            std::fs::rename(&from, &to).map_err(|e| DatabaseHealError::Io(from.clone(), e))?;
        }
    }
    metrics::counter!("upkeep_database_restored_total").increment(1);
    for name in backups::newest_first(&backup_names(data_dir)) {
        let backup = data_dir.join(backups::FOLDER).join(&name);
        if let Err(problem) = quick_check(&backup).await {
            warn!(backup = %backup.display(), %problem, "this backup is corrupt too; trying an older one");
            continue;
        }
        std::fs::copy(&backup, &path).map_err(|e| DatabaseHealError::Io(backup.clone(), e))?;
        error!(database = %path.display(), from = %backup.display(), aside = %aside.display(), "database restored from a backup: events since then come back from GitHub's delivery log; the corrupt file is kept for inspection");
        return Ok(StartCheck::Restored {
            aside,
            from: backup,
        });
    }
    error!(database = %path.display(), aside = %aside.display(), "no good backup: starting on an empty database (repositories are learnt again from GitHub's events; the corrupt file is kept)");
    Ok(StartCheck::Replaced { aside })
}

/// The mark: when the last restore (or empty start) happened (ms).
pub const RESTORED_AT: &str = "database-restored-at";
/// The mark: when the backup that restore used was taken (ms), or `NO_BACKUP`.
pub const RESTORED_FROM: &str = "database-restored-from";
/// `RESTORED_FROM` when no backup passed the check and upkeep started on an empty database.
pub const NO_BACKUP: i64 = 0;

/// After a restore (or an empty start), what the store lost is fetched back: the delivery
/// sweep recovers every event GitHub logged since the backup was taken (`sweep::LOST`), and
/// every installation is reconciled, for what is older than GitHub's log.
pub async fn after_restore(store: &Store, check: &StartCheck) -> Result<(), StoreError> {
    let now = now_ms();
    let lost_since = match check {
        StartCheck::Restored { from, .. } => from
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(backups::taken_at)
            .unwrap_or(now - super::missed::KEPT_MS),
        StartCheck::Replaced { .. } => now - super::missed::KEPT_MS,
        _ => return Ok(()),
    };
    // A backup taken while a sweep held its lease would otherwise stop sweeps for minutes,
    // just when the store most needs one.
    store.clear_leases().await?;
    store.set_mark(super::sweep::LOST, lost_since).await?;
    // The status page shows the restore as an alert for a day.
    store.set_mark(RESTORED_AT, now).await?;
    store
        .set_mark(
            RESTORED_FROM,
            match check {
                StartCheck::Restored { .. } => lost_since,
                _ => NO_BACKUP,
            },
        )
        .await?;
    super::resync::enqueue_everything(store, &format!("restored:{now}"), now).await?;
    Ok(())
}

/// The file names in the backups folder (none when it does not exist).
fn backup_names(data_dir: &Path) -> Vec<String> {
    std::fs::read_dir(data_dir.join(backups::FOLDER))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Takes a backup now (a SQLite store only), then deletes all but the newest `KEEP`.
pub async fn backup(store: &Store, data_dir: &Path) -> Result<PathBuf, DatabaseHealError> {
    let dir = data_dir.join(backups::FOLDER);
    std::fs::create_dir_all(&dir).map_err(|e| DatabaseHealError::Io(dir.clone(), e))?;
    let target = dir.join(backups::name_for(now_ms()));
    // Written under another name first: a half-written file is never taken for a backup.
    let partial = PathBuf::from(format!("{}.partial", target.display()));
    let quoted = partial.display().to_string().replace('\'', "''");
    sqlx::query(&format!("VACUUM INTO '{quoted}'"))
        .execute(store.pool())
        .await
        .map_err(|e| DatabaseHealError::Backup(e.to_string()))?;
    std::fs::rename(&partial, &target).map_err(|e| DatabaseHealError::Io(partial.clone(), e))?;
    for name in backups::to_delete(&backup_names(data_dir), backups::KEEP) {
        let old = dir.join(name);
        if let Err(e) = std::fs::remove_file(&old) {
            warn!(backup = %old.display(), error = %e, "an old backup could not be deleted");
        }
    }
    Ok(target)
}

/// Takes a backup whenever one is due (daily), checking every `every`, until shutdown.
pub async fn run_backups(
    store: Store,
    data_dir: PathBuf,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    if store.sqlite_path().is_none() {
        return;
    }
    loop {
        if backups::due(&backup_names(&data_dir), now_ms()) {
            match backup(&store, &data_dir).await {
                Ok(path) => info!(backup = %path.display(), "database backed up"),
                Err(e) => {
                    error!(error = %e, "the daily database backup failed; it is tried again within the hour")
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}
