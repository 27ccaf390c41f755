//! The names of upkeep's own PR branches, which every capability that meets a branch asks
//! about (CI results, comments, closed PRs). Pure.

/// Branches of dependency PRs start with this.
pub const BRANCH_PREFIX: &str = "upkeep/cargo/";

/// Whether a branch is one of upkeep's PR branches (dependency or security).
pub fn is_upkeep_branch(branch: &str) -> bool {
    branch.starts_with(BRANCH_PREFIX) || branch.starts_with(crate::audit::plan::BRANCH_PREFIX)
}
