//! API breakage on pull requests (issue 25): the reusable workflow's `semver` job runs
//! cargo-semver-checks on the PR head against its base branch in the repository's own Actions;
//! upkeep reads its report from the `upkeep-semver` artifact and reports the `upkeep/semver`
//! check, on people's PRs and on upkeep's own. Pure: `report` (the tool's console output) and
//! `verdict` (the check). Driver: `ingest`. Nothing runs on upkeep's host.

pub mod ingest;
pub mod report;
pub mod verdict;

pub use report::{parse, CrateCheck, Lint, Report, Required};
pub use verdict::{verdict, Verdict, CHECK};
