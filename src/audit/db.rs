//! The RustSec advisory database, opened from a directory (a checkout of
//! `rustsec/advisory-db`) with the `rustsec` crate, and the one question dependency updates ask
//! of it: which advisories does moving a crate from one version to another leave behind.
//! Withdrawn advisories are ignored, as cargo-audit ignores them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use rustsec::database::Query;
use semver::Version;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the advisory database at {path} cannot be read: {message}")]
    Open { path: String, message: String },
    #[error("Cargo.lock cannot be audited: {0}")]
    Lockfile(String),
    #[error("fetching the advisory database from {url}: {message}")]
    Fetch { url: String, message: String },
}

/// An advisory, as a PR body or `upkeep check` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdvisoryRef {
    /// `RUSTSEC-YYYY-NNNN`.
    pub id: String,
    /// CVE and GHSA ids.
    pub aliases: Vec<String>,
    pub title: String,
    /// CVSS severity (`low` … `critical`), when the advisory has a CVSS vector.
    pub severity: Option<String>,
    /// `vulnerability`, or the informational kind (`unmaintained`, `unsound`, `notice`).
    pub kind: String,
}

/// An opened advisory database.
pub struct AdvisoryDb {
    db: rustsec::Database,
}

impl AdvisoryDb {
    /// Opens the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, AuditError> {
        rustsec::Database::open(dir)
            .map(|db| AdvisoryDb { db })
            .map_err(|e| AuditError::Open {
                path: dir.display().to_string(),
                message: e.to_string(),
            })
    }

    /// The `rustsec` database itself.
    pub fn database(&self) -> &rustsec::Database {
        &self.db
    }

    /// The advisory with this RUSTSEC id.
    pub fn advisory(&self, id: &str) -> Option<&rustsec::Advisory> {
        let id = rustsec::advisory::Id::from_str(id).ok()?;
        self.db.get(&id)
    }

    /// Crates whose advisories are new here or differ from `older` (withdrawn ones included).
    pub fn changed_packages(&self, older: &AdvisoryDb) -> BTreeSet<String> {
        let before: BTreeMap<String, String> = older
            .db
            .iter()
            .map(|a| (a.metadata.id.to_string(), format!("{a:?}")))
            .collect();
        self.db
            .iter()
            .filter(|a| before.get(a.metadata.id.as_str()) != Some(&format!("{a:?}")))
            .map(|a| a.metadata.package.as_str().to_owned())
            .collect()
    }

    /// How many advisories it holds.
    pub fn len(&self) -> usize {
        self.db.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Advisories that affect `name` at `from` and no longer at `to`.
    pub fn fixed_by(&self, name: &str, from: &Version, to: &Version) -> Vec<AdvisoryRef> {
        let Ok(package) = rustsec::package::Name::from_str(name) else {
            return Vec::new();
        };
        let query = Query::crate_scope()
            .package_name(package)
            .package_version(from.clone());
        self.db
            .query(&query)
            .into_iter()
            .filter(|a| !a.versions.is_vulnerable(to))
            .map(|a| AdvisoryRef {
                id: a.metadata.id.to_string(),
                aliases: a.metadata.aliases.iter().map(ToString::to_string).collect(),
                title: a.metadata.title.clone(),
                severity: a.metadata.cvss.as_ref().map(|c| c.severity().to_string()),
                kind: a
                    .metadata
                    .informational
                    .as_ref()
                    .map_or_else(|| "vulnerability".to_owned(), |i| i.to_string()),
            })
            .collect()
    }
}
