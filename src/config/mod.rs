//! A repository's own configuration, `.github/upkeep.toml` (issue 4): the typed settings with
//! their defaults, a forgiving parser that reports every problem with its line and a
//! did-you-mean while the valid rest applies, and the questions the plan asks of it — all pure — and `fetch`, which reads the file from a
//! repository.

pub mod edit;
pub mod fetch;
pub mod fix;
pub mod fix_pr;
pub mod parse;
mod reader;
pub mod repo;
pub mod requirements;
pub mod revert;
pub mod suggest;

pub use parse::{parse, Parsed};
pub use reader::{Fix, Problem};
pub use repo::{
    AdvisoryIgnore, BreakingStrategy, CompatibleStrategy, Cooldown, Group, IgnoreRule, Interval,
    RepoConfig, Schedule,
};
pub use requirements::{PackageRule, Requirements};
pub use revert::{RevertConfig, RevertMode};
