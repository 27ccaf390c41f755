//! The commands people write in comments to upkeep (issue 6), how they are parsed,
//! who may run them, and the help text. Pure, in its own crate so it can be fuzzed cheaply;
//! upkeep re-exports it as `upkeep::commands`, and `commands::run` carries commands out.

pub mod parse;

pub use parse::{parse, Found};

/// What `ignore this … version` covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IgnoreScope {
    Dependency,
    Major,
    Minor,
    Patch,
}

/// A command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Rebase,
    Recreate,
    Merge,
    CancelMerge,
    Close,
    Reopen,
    Ignore(IgnoreScope),
    ShowIgnores,
    Unignore {
        dependency: String,
        condition: Option<String>,
    },
    Update,
    Audit,
    Retry,
    Sync,
    Bench(Vec<String>),
    Revert(Vec<String>),
    Unknown {
        suggestion: Option<String>,
    },
}

impl Command {
    /// Whether it changes something (and so needs write access).
    pub fn changes_state(&self) -> bool {
        !matches!(
            self,
            Command::Help | Command::ShowIgnores | Command::Unknown { .. }
        )
    }

    /// Whether only a repository admin may run it.
    pub fn needs_admin(&self) -> bool {
        matches!(self, Command::Sync)
    }

    /// Whether it only makes sense on one of upkeep's own PRs.
    pub fn needs_upkeep_pr(&self) -> bool {
        matches!(
            self,
            Command::Rebase
                | Command::Recreate
                | Command::Merge
                | Command::CancelMerge
                | Command::Close
                | Command::Reopen
                | Command::Ignore(_)
        )
    }
}

/// Permission levels that may run state-changing commands.
pub const WRITE_LEVELS: &[&str] = &["admin", "maintain", "write"];

/// The help text, with the slug people mention.
pub fn help(slug: &str) -> String {
    format!(
        "Commands for `@{slug}` (one per line, at the start of the line):\n\n\
         On upkeep's pull requests:\n\
         - `@{slug} rebase` — rebuild it on the default branch\n\
         - `@{slug} recreate` — rebuild it from scratch, dropping edits made to it\n\
         - `@{slug} merge` — merge it once every check is green; `@{slug} cancel merge` undoes that\n\
         - `@{slug} close` / `@{slug} reopen`\n\
         - `@{slug} ignore this dependency` / `ignore this major version` / `ignore this minor version` / `ignore this patch version` — \
         opens a PR that adds the ignore to `.github/upkeep.toml`, and applies it at once\n\
         - `@{slug} show ignore conditions`\n\n\
         Anywhere in the repository:\n\
         - `@{slug} unignore DEPENDENCY [major|minor|patch]` — opens a PR that removes the ignore\n\
         - `@{slug} update` — run the dependency pass now\n\
         - `@{slug} audit` — audit the lockfiles now\n\
         - `@{slug} retry` — run the last failed job again\n\
         - `@{slug} sync` — (admins) look at GitHub again: decide upkeep's open PRs whose CI finished unheard, \
         pass the default branch's latest CI through auto-revert, pick up a rename or a new default branch\n\
         - `@{slug} bench` — on a pull request: post its benchmark comparison\n\
         - `@{slug} revert` — on a merged pull request: open a PR that reverts it\n\n\
         Commands that change something need write, maintain or admin permission on the repository."
    )
}
