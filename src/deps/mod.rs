//! Dependency updates (issue 4). The pure core: Cargo's own semver rules, the choice of version
//! (MSRV, yanked, pre-releases, cooldown) that explains every newer version it passes over,
//! lockfile reading, workspace discovery from a git tree, requirement rewriting and the plan
//! that decides which pull requests should exist (pure); and its drivers: the pass that reads a
//! repository and opens, updates and closes the PRs (`pass`, `files`), and what happens when CI
//! finishes on one of them (`after_ci`). `duplicates` names the crates the lockfile holds at
//! several versions, and what requires each copy.

pub mod after_ci;
pub mod body;
pub mod branches;
pub mod daily;
pub mod duplicates;
pub mod edits;
pub(crate) mod files;
pub mod lockfile;
pub mod pass;
pub mod plan;
pub mod reach;
pub mod requirement;
pub mod rewrite;
pub mod select;
pub mod semver_rules;
pub mod workspace;

pub use branches::{is_upkeep_branch, BRANCH_PREFIX};
pub use plan::{
    plan, Held, OpenPr, Plan, PlanInput, PlannedPr, PrKind, RequirementEdit, Update, Waiting,
};
pub use select::{select, Candidate, Constraints, Scope, Selection, Skip};
pub use semver_rules::{classify, compatible, Change, Level};
pub use workspace::{discover, DeclSource, Declared, Discovery, Member, Workspace};
