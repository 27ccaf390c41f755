//! RustSec advisories (issue 5). So far: the advisory database read from a local copy with the
//! `rustsec` crate (`UPKEEP_ADVISORY_DB`, `--advisory-db`), which advisories an update fixes
//! (for dependency PR bodies and `upkeep check`), and a lockfile's findings as cargo-audit
//! reports them, with dependency chains (for `upkeep check`). Fetching the database, audits, security
//! PRs and advisory issues come with the rest of issue 5.

pub mod db;
pub mod findings;
pub mod plan;
pub mod report;
pub mod source;

pub use db::{AdvisoryDb, AdvisoryRef, AuditError};
pub use findings::{audit, Finding};
pub use plan::{security_plan, SecurityFix, SecurityInput, SecurityPlan, Unfixable};
pub use source::{Advisories, AdvisoryHealth, AdvisorySource};
