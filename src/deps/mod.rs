//! Dependency updates (issue 4). So far: Cargo's own semver rules, the pure core every later
//! part (the plan, PR titles, ignore conditions, cooldowns) classifies updates with.

pub mod semver_rules;

pub use semver_rules::{classify, compatible, Change, Level};
