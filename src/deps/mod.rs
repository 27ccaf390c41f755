//! Dependency updates (issue 4). The pure core: Cargo's own semver rules, the choice of version
//! (MSRV, yanked, pre-releases, cooldown) that explains every newer version it passes over,
//! lockfile reading, workspace discovery from a git tree, requirement rewriting and the plan
//! that decides which pull requests should exist.

pub mod body;
pub mod lockfile;
pub mod plan;
pub mod requirement;
pub mod rewrite;
pub mod select;
pub mod semver_rules;
pub mod workspace;

pub use plan::{
    plan, Held, OpenPr, Plan, PlanInput, PlannedPr, PrKind, RequirementEdit, Update, Waiting,
};
pub use select::{select, Candidate, Constraints, Scope, Selection, Skip};
pub use semver_rules::{classify, compatible, Change, Level};
pub use workspace::{discover, DeclSource, Declared, Discovery, Member, Workspace};
