//! Dependency updates (issue 4). So far the pure core's base: Cargo's own semver rules, which
//! every later part classifies updates with, and the choice of version (MSRV, yanked,
//! pre-releases, cooldown), which explains every newer version it passes over.

pub mod lockfile;
pub mod select;
pub mod semver_rules;

pub use select::{select, Candidate, Constraints, Scope, Selection, Skip};
pub use semver_rules::{classify, compatible, Change, Level};
