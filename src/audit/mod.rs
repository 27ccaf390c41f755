//! RustSec advisories (issue 5). So far: the advisory database read from a local copy with the
//! `rustsec` crate (`UPKEEP_ADVISORY_DB`, `--advisory-db`), and which advisories an update
//! fixes, for dependency PR bodies and `upkeep check`. Fetching the database, audits, security
//! PRs and advisory issues come with the rest of issue 5.

pub mod db;

pub use db::{AdvisoryDb, AdvisoryRef, AuditError};
