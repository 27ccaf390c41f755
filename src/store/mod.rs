//! The durable store: one sqlx `AnyPool` over an embedded SQLite file (WAL, busy timeout) or a
//! PostgreSQL server, chosen by the URL. Queries are written once in the SQL both databases
//! share (`$n` placeholders, `ON CONFLICT`, `RETURNING`); the few that differ ask `dialect()`.
//! Migrations live in `migrations/sqlite` and `migrations/postgres` and run at start-up.

pub mod alert_state;
pub mod bench;
pub mod bench_counts;
pub mod blobs;
pub mod commands;
pub mod declined;
pub mod deliveries;
pub mod history;
pub mod jobs;
pub mod leases;
pub mod locked;
pub mod marks;
pub mod permissions;
pub mod repositories;
pub mod retention;
pub mod reverts;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

/// SQLite's page cache per connection (KiB); the server sizes it from the memory it may use
/// (`server::memory`) before opening the store.
static SQLITE_CACHE_KIB: AtomicU64 = AtomicU64::new(2_000);

/// Sets SQLite's page cache for connections opened from now on.
pub fn set_sqlite_cache_kib(kib: u64) {
    SQLITE_CACHE_KIB.store(kib.max(256), Ordering::Relaxed);
}

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite: or postgres://)")]
    UnsupportedUrl,
    #[error("database file {0} is missing or unreadable: {1}")]
    FileUnavailable(PathBuf, std::io::Error),
    #[error("database did not answer within {0:?}")]
    Timeout(Duration),
    /// A stored delivery payload that does not decompress to UTF-8 text.
    #[error("stored payload of delivery {0} is corrupt")]
    CorruptPayload(String),
    /// A batched write failed; every delivery in the batch gets this.
    #[error("storing failed: {0}")]
    Batch(String),
}

impl StoreError {
    /// Whether the database could not be reached (a lost or refused connection, a pool that
    /// timed out, PostgreSQL shutting down or starting, SQLite busy past its timeout), as
    /// opposed to a query it refused. Such an error is an outage: worth waiting out, and no
    /// job's fault.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Timeout(_) => true,
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    // PostgreSQL: connection exceptions (08…), shutdown and start-up (57P…);
                    // SQLite: busy (5) and locked (6).
                    code.starts_with("08") || code.starts_with("57P") || code == "5" || code == "6"
                }),
                _ => false,
            },
            StoreError::Batch(message) => message.contains("connection"),
            _ => false,
        }
    }
}

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// The webhook intake's own connection (SQLite; PostgreSQL shares the pool, which has ten):
    /// storing a delivery never waits for a worker to give the workers' connection back, only
    /// for SQLite's write lock while another write commits.
    intake: AnyPool,
    dialect: Dialect,
    sqlite_path: Option<PathBuf>,
}

/// The file a `sqlite:` URL names (`None` for PostgreSQL or an in-memory database).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let path_only = rest.trim_start_matches("//").split('?').next()?;
    (!path_only.is_empty() && path_only != ":memory:").then(|| PathBuf::from(path_only))
}

impl Store {
    /// The SQLite file this store works on, if it is one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.sqlite_path.as_deref()
    }

    /// Connects (creating a SQLite file if needed) without running migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (dialect, sqlite_path, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path_part = rest.trim_start_matches("//");
            let url = if path_part.contains("mode=") {
                url.to_owned()
            } else if path_part.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Dialect::Sqlite, sqlite_file(&url), url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, None, url.to_owned())
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = Self::pool_for(dialect)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        let intake = match dialect {
            // An in-memory database is one per connection: it keeps one.
            Dialect::Sqlite if sqlite_path.is_some() => {
                Self::pool_for(dialect)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await?
            }
            _ => pool.clone(),
        };
        Ok(Store {
            pool,
            intake,
            dialect,
            sqlite_path,
        })
    }

    fn pool_for(dialect: Dialect) -> AnyPoolOptions {
        match dialect {
            // SQLite has one writer at a time; one pooled connection serialises writes in-process
            // instead of spinning on the file lock, which keeps latency flat under load.
            Dialect::Sqlite => AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        let cache = SQLITE_CACHE_KIB.load(Ordering::Relaxed);
                        conn.execute(
                            format!(
                                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; \
                                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA cache_size = -{cache};"
                            )
                            .as_str(),
                        )
                        .await?;
                        Ok(())
                    })
                }),
            Dialect::Postgres => AnyPoolOptions::new().max_connections(10),
        }
    }

    /// The same database through the intake's own connection: what the webhook path (the
    /// delivery writer, the readiness probe) uses, so a busy worker cannot make it wait.
    pub fn for_intake(&self) -> Store {
        Store {
            pool: self.intake.clone(),
            ..self.clone()
        }
    }

    /// Connects and applies every pending migration.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations for this store's dialect.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Dialect::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Answers whether the database can serve a query now, within `timeout`. For SQLite the file
    /// itself must still be there and readable: open connections would keep answering from a
    /// deleted or moved file, which is exactly the failure this check exists to catch.
    pub async fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        if let Some(path) = &self.sqlite_path {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| StoreError::FileUnavailable(path.clone(), e))?;
        }
        let query = async {
            sqlx::query("SELECT COUNT(*) FROM installations WHERE id = -1")
                .fetch_one(&self.pool)
                .await
        };
        match tokio::time::timeout(timeout, query).await {
            Ok(result) => result.map(|_| ()).map_err(StoreError::from),
            Err(_) => Err(StoreError::Timeout(timeout)),
        }
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
        self.intake.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_use_the_page_cache_the_server_sized() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cache.db").display());
        set_sqlite_cache_kib(12_345);
        let store = Store::open(&url).await.unwrap();
        let size: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(size, -12_345, "negative: KiB, as SQLite takes it");
    }
}
