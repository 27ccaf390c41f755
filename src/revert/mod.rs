//! Auto-revert's pure core (issue 8): which commits are suspects when the default branch turns
//! red (`bisect`), which one a bisection tests next and when it has found the culprit, whether
//! the safeguards let upkeep revert it (`guard`), and the text people read (`report`). Those are pure.
//! The drivers gather their inputs from GitHub and the store and carry out what is decided:
//! `watch` (CI results on the default branch, bisection), `suites` (other CIs' check suites),
//! `regression` (benchmark regressions), and `act` (the revert PR, the issue for a person).

pub mod act;
pub mod bisect;
pub mod guard;
pub mod regression;
pub mod report;
pub mod suites;
pub mod watch;

pub use bisect::{next_step, suspects, Outcome, Step, Suspects};
pub use guard::{check, is_revert, Refusal, Situation, Suspect, SuspectPr};

/// The label on revert PRs.
pub const LABEL: &str = "upkeep:revert";
/// A PR with this label is never reverted automatically.
pub const NO_REVERT: &str = "upkeep:no-revert";
/// While an open issue carries this label (applied by a writer), upkeep reverts nothing.
pub const KILL_SWITCH: &str = "upkeep:disable-revert";
/// Branches revert PRs come from.
pub const BRANCH_PREFIX: &str = "upkeep/revert/";
/// Branches a bisection dispatches CI on.
pub const BISECT_PREFIX: &str = "upkeep/bisect/";

/// A commit id shortened for people.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}
