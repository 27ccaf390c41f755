//! RustSec advisories (issue 5): the advisory database (a local copy, or fetched with git and
//! refreshed hourly), a lockfile's findings as cargo-audit reports them with dependency chains,
//! which advisories an update fixes, the pure security plan (how each vulnerable crate gets
//! fixed, what nothing fixes yet) and what people read about an advisory (security PR sections,
//! advisory issues). The drivers: `fixes` (security PRs and advisory issues in a
//! repository's pass), `check` (the `upkeep/audit` check run on PRs) and `triggers` (when an audit
//! runs outside the daily pass).

pub mod check;
pub mod code_scanning;
pub mod db;
pub mod findings;
pub mod fixes;
pub mod plan;
pub mod report;
pub mod sarif;
pub mod source;
pub mod triggers;

pub use db::{AdvisoryDb, AdvisoryRef, AuditError};
pub use findings::{audit, Finding};
pub use plan::{security_plan, SecurityFix, SecurityInput, SecurityPlan, Unfixable};
pub use source::{Advisories, AdvisoryHealth, AdvisorySource};
