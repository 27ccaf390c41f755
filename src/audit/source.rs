//! Keeping a copy of the RustSec advisory database: a shallow `git clone` of the configured
//! repository into the data directory, in a new directory named by its commit, validated by
//! opening it, then swapped in atomically by replacing a symlink. A failed fetch or a broken
//! clone never replaces the last good copy; the `Advisories` holder reports itself degraded,
//! with the copy's age, until a fetch succeeds again. With `UPKEEP_ADVISORY_DB` a local
//! directory is used as it is and the network is never touched.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::db::{AdvisoryDb, AuditError};
use crate::time::now_ms;

/// RustSec's advisory database.
pub const DEFAULT_URL: &str = "https://github.com/rustsec/advisory-db.git";

/// Where the database comes from and where copies live.
#[derive(Debug, Clone)]
pub struct AdvisorySource {
    pub url: String,
    /// The data directory; copies live in `advisory-db.<commit>`, `advisory-db` links to one.
    pub dir: PathBuf,
    pub git: PathBuf,
    pub timeout: Duration,
}

impl AdvisorySource {
    pub fn new(url: &str, data_dir: &Path) -> Self {
        AdvisorySource {
            url: url.to_owned(),
            dir: data_dir.to_owned(),
            git: PathBuf::from("git"),
            timeout: Duration::from_secs(300),
        }
    }

    fn link(&self) -> PathBuf {
        self.dir.join("advisory-db")
    }

    /// The copy in use, if any.
    pub fn current(&self) -> Option<PathBuf> {
        std::fs::canonicalize(self.link()).ok()
    }

    /// Fetches the newest commit; returns its directory and whether it differs from the copy in
    /// use. The copy in use changes only once the new one opened cleanly.
    pub async fn fetch(&self) -> Result<(PathBuf, bool), AuditError> {
        let fail = |message: String| AuditError::Fetch {
            url: self.url.clone(),
            message,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| fail(e.to_string()))?;
        let staging = self
            .dir
            .join(format!("advisory-db.fetching-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let staging_arg = staging.to_string_lossy().into_owned();
        self.git(
            &[
                "clone",
                "--depth",
                "1",
                "--quiet",
                "--",
                &self.url,
                &staging_arg,
            ],
            None,
        )
        .await
        .map_err(fail)?;
        let commit = self
            .git(&["rev-parse", "HEAD"], Some(&staging))
            .await
            .map_err(fail)?;
        let target = self.dir.join(format!("advisory-db.{}", commit.trim()));
        let current = self.current();
        if current.is_some() && current == std::fs::canonicalize(&target).ok() {
            let _ = std::fs::remove_dir_all(&staging);
            return Ok((target, false));
        }
        if let Err(e) = AdvisoryDb::open(&staging) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(fail(format!("the fetched copy does not open: {e}")));
        }
        let _ = std::fs::remove_dir_all(&target);
        std::fs::rename(&staging, &target).map_err(|e| fail(e.to_string()))?;
        let previous = self.current();
        let new_link = self.dir.join("advisory-db.link-new");
        let _ = std::fs::remove_file(&new_link);
        symlink(&target, &new_link).map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&new_link, self.link()).map_err(|e| fail(e.to_string()))?;
        if let Some(old) = previous.filter(|p| *p != target) {
            let _ = std::fs::remove_dir_all(old);
        }
        Ok((target, true))
    }

    async fn git(&self, args: &[&str], dir: Option<&Path>) -> Result<String, String> {
        let mut cmd = tokio::process::Command::new(&self.git);
        cmd.args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(d) = dir {
            cmd.current_dir(d);
        }
        let out = tokio::time::timeout(self.timeout, cmd.output())
            .await
            .map_err(|_| format!("git {} timed out", args[0]))?
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr)
                .trim()
                .chars()
                .take(500)
                .collect());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("advisory-db swaps need symlinks"))
}

/// The database in use, where it came from, and how fresh it is.
pub struct Advisories {
    source: Option<AdvisorySource>,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    db: Option<Arc<AdvisoryDb>>,
    /// When the copy in use was last confirmed current (ms).
    fresh_at: Option<i64>,
    last_error: Option<String>,
}

/// How `/readyz` sees the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryHealth {
    /// `healthy`, `degraded` (stale or failing) or `missing`.
    pub status: &'static str,
    pub detail: Option<String>,
}

impl Advisories {
    /// A local directory, used as it is (no network, never refreshed).
    pub fn local(db: AdvisoryDb) -> Self {
        Advisories {
            source: None,
            state: RwLock::new(State {
                db: Some(Arc::new(db)),
                fresh_at: Some(now_ms()),
                last_error: None,
            }),
        }
    }

    /// Copies fetched from `source`; the copy already on disk, if any, is used until a fetch
    /// succeeds.
    pub fn remote(source: AdvisorySource) -> Self {
        let db = source
            .current()
            .and_then(|p| AdvisoryDb::open(&p).ok())
            .map(Arc::new);
        Advisories {
            source: Some(source),
            state: RwLock::new(State {
                db,
                fresh_at: None,
                last_error: None,
            }),
        }
    }

    /// Which copy is in use (`advisory-db.<commit>`), the same on every replica that fetched
    /// the same commit; `None` for a local directory.
    pub fn version(&self) -> Option<String> {
        let path = self.source.as_ref()?.current()?;
        Some(path.file_name()?.to_string_lossy().into_owned())
    }

    pub fn current(&self) -> Option<Arc<AdvisoryDb>> {
        self.state.read().ok().and_then(|s| s.db.clone())
    }

    /// Fetches and swaps in a newer copy; `Ok(true)` when the database changed. On failure the
    /// last good copy stays in use.
    pub async fn refresh(&self) -> Result<bool, AuditError> {
        self.update().await.map(|changed| changed.is_some())
    }

    /// As [`Advisories::refresh`], saying which crates have new or changed advisories (`None`
    /// when nothing changed; empty on the very first copy, which the daily runs cover).
    pub async fn update(&self) -> Result<Option<BTreeSet<String>>, AuditError> {
        let before = self.current();
        if !self.fetch_and_swap().await? {
            return Ok(None);
        }
        let after = self.current();
        Ok(Some(match (before, after) {
            (Some(old), Some(new)) => new.changed_packages(&old),
            _ => BTreeSet::new(),
        }))
    }

    async fn fetch_and_swap(&self) -> Result<bool, AuditError> {
        let Some(source) = &self.source else {
            return Ok(false);
        };
        let result = match source.fetch().await {
            Ok((path, changed)) => {
                let reopened = if changed || self.current().is_none() {
                    let opened = tokio::task::spawn_blocking(move || AdvisoryDb::open(&path))
                        .await
                        .map_err(|e| AuditError::Fetch {
                            url: source.url.clone(),
                            message: e.to_string(),
                        })?;
                    Some(Arc::new(opened?))
                } else {
                    None
                };
                Ok((reopened, changed))
            }
            Err(e) => Err(e),
        };
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok((reopened, changed)) => {
                if let Some(db) = reopened {
                    state.db = Some(db);
                }
                state.fresh_at = Some(now_ms());
                state.last_error = None;
                Ok(changed)
            }
            Err(e) => {
                state.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Healthy while fresh; degraded when the last fetch failed or the copy is older than
    /// `max_age`, with its age; missing when there is no copy at all.
    pub fn health(&self, max_age: Duration) -> AdvisoryHealth {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let age = state
            .fresh_at
            .map(|t| Duration::from_millis((now_ms() - t).max(0) as u64));
        match (&state.db, &state.last_error, age) {
            (None, err, _) => AdvisoryHealth {
                status: "missing",
                detail: err.clone(),
            },
            (Some(_), Some(err), age) => AdvisoryHealth {
                status: "degraded",
                detail: Some(match age {
                    Some(a) => format!("{err}; using a copy {} min old", a.as_secs() / 60),
                    None => format!("{err}; using the copy on disk"),
                }),
            },
            (Some(_), None, Some(a)) if a > max_age => AdvisoryHealth {
                status: "degraded",
                detail: Some(format!("copy is {} min old", a.as_secs() / 60)),
            },
            _ => AdvisoryHealth {
                status: "healthy",
                detail: None,
            },
        }
    }
}
