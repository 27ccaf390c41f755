//! What a repository asks of upkeep, from `.github/upkeep.toml`: the typed configuration with
//! defaults good enough that a repository without the file gets useful behaviour (daily runs,
//! at most five PRs, compatible updates as one lockfile refresh, breaking ones as requirement
//! bumps, MSRV respected, nothing merged automatically). Questions the plan asks of it
//! (is this update ignored, which group is it in, may it merge itself) are answered here. Pure.

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc, Weekday};
use semver::{Version, VersionReq};

use crate::deps::Level;

/// Where the file lives in a repository.
pub const PATH: &str = ".github/upkeep.toml";

/// How often the dependency pass runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interval {
    /// Every day.
    Daily,
    /// Once a week, on that day.
    Weekly(Weekday),
    /// A five-field cron expression, in the schedule's time zone.
    Cron(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub interval: Interval,
    /// The time of day (ignored for cron).
    pub time: NaiveTime,
    pub timezone: chrono_tz::Tz,
}

impl Schedule {
    /// The first time after `now` the dependency pass should run.
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = now.with_timezone(&self.timezone);
        let at = |date: chrono::NaiveDate| {
            self.timezone
                .from_local_datetime(&date.and_time(self.time))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        };
        match &self.interval {
            Interval::Cron(expr) => croner::Cron::from_str(expr)
                .ok()
                .and_then(|c| c.find_next_occurrence(&local, false).ok())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now + chrono::Duration::days(1)),
            interval => {
                // The next 8 days hold every daily and weekly occurrence (a day skipped by a
                // daylight-saving gap falls to the next).
                (0..9)
                    .filter_map(|d| local.date_naive().checked_add_days(chrono::Days::new(d)))
                    .filter(|date| match interval {
                        Interval::Weekly(day) => date.weekday() == *day,
                        _ => true,
                    })
                    .filter_map(at)
                    .find(|t| *t > now)
                    .unwrap_or(now + chrono::Duration::days(1))
            }
        }
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            interval: Interval::Daily,
            time: NaiveTime::from_hms_opt(5, 0, 0).unwrap_or(NaiveTime::MIN),
            timezone: chrono_tz::UTC,
        }
    }
}

/// What to do with updates a requirement already admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompatibleStrategy {
    /// Only `Cargo.lock` changes (the default: requirements stay as loose as they are).
    Lockfile,
    /// Also raise the requirement in the manifests to the new version.
    Bump,
}

/// What to do with updates a requirement excludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakingStrategy {
    /// Bump the requirement everywhere it appears (the default).
    Bump,
    /// Do not propose breaking updates at all.
    Ignore,
}

/// Days a release must have been public before it is proposed, by update level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cooldown {
    pub major: i64,
    pub minor: i64,
    pub patch: i64,
}

impl Cooldown {
    pub fn as_pairs(&self) -> Vec<(Level, i64)> {
        vec![
            (Level::Major, self.major),
            (Level::Minor, self.minor),
            (Level::Patch, self.patch),
        ]
    }
}

/// One `[[ignore]]` entry. With neither versions nor update types it ignores the dependency
/// altogether; otherwise only the versions or kinds of update it names.
#[derive(Debug, Clone)]
pub struct IgnoreRule {
    pub dependency: glob::Pattern,
    pub versions: Vec<VersionReq>,
    pub update_types: Vec<Level>,
    /// Why; shown on the dashboard (and required to silence an advisory).
    pub reason: Option<String>,
}

impl IgnoreRule {
    /// Whether this rule ignores moving `name` to `version` with an update of `level`.
    pub fn ignores(&self, name: &str, version: &Version, level: Level) -> bool {
        if !self.dependency.matches(name) {
            return false;
        }
        if self.versions.is_empty() && self.update_types.is_empty() {
            return true;
        }
        self.versions.iter().any(|r| r.matches(version)) || self.update_types.contains(&level)
    }

    /// Whether this rule ignores the dependency whatever the version.
    pub fn ignores_entirely(&self, name: &str) -> bool {
        self.dependency.matches(name) && self.versions.is_empty() && self.update_types.is_empty()
    }
}

/// An `[[ignore]]` entry naming an advisory: it is not acted on (no PR, no issue, no failing
/// check) and the dashboard shows it with the reason, which is required.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdvisoryIgnore {
    /// The RUSTSEC id or one of its aliases (CVE, GHSA).
    pub id: String,
    pub reason: String,
}

/// A `[groups.NAME]` entry: breaking updates of the dependencies it matches travel in one PR.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub patterns: Vec<glob::Pattern>,
    pub exclude_patterns: Vec<glob::Pattern>,
    /// Which kinds of update the group takes (all when empty).
    pub update_types: Vec<Level>,
}

impl Group {
    pub fn contains(&self, name: &str, level: Level) -> bool {
        self.patterns.iter().any(|p| p.matches(name))
            && !self.exclude_patterns.iter().any(|p| p.matches(name))
            && (self.update_types.is_empty() || self.update_types.contains(&level))
    }
}

/// The whole configuration of one repository.
#[derive(Debug, Clone)]
pub struct RepoConfig {
    pub schedule: Schedule,
    pub open_pull_requests_limit: usize,
    pub ignore: Vec<IgnoreRule>,
    /// Advisories silenced, each with its reason.
    pub ignore_advisories: Vec<AdvisoryIgnore>,
    pub groups: Vec<Group>,
    pub compatible: CompatibleStrategy,
    pub breaking: BreakingStrategy,
    pub cooldown: Cooldown,
    /// Which kinds of update may merge themselves once green (none by default).
    pub automerge: Vec<Level>,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    /// Put in front of commit messages and PR titles (`"chore(deps)"` gives `chore(deps): …`).
    pub commit_message_prefix: Option<String>,
    /// Respect the workspace's `rust-version` when choosing versions.
    pub msrv: bool,
    /// Auto-revert (`[revert]`).
    pub revert: super::revert::RevertConfig,
    /// Upload the audit's findings to GitHub code scanning as SARIF (`[audit] code-scanning`).
    pub code_scanning: bool,
    /// Whether the lockfile refresh raises requirements to the locked versions (`requirements`).
    pub requirements: super::requirements::Requirements,
    /// Per-member exceptions (`[[package]]`).
    pub package_rules: Vec<super::requirements::PackageRule>,
}

impl Default for RepoConfig {
    fn default() -> Self {
        RepoConfig {
            schedule: Schedule::default(),
            open_pull_requests_limit: 5,
            ignore: Vec::new(),
            ignore_advisories: Vec::new(),
            groups: Vec::new(),
            compatible: CompatibleStrategy::Lockfile,
            breaking: BreakingStrategy::Bump,
            cooldown: Cooldown::default(),
            automerge: Vec::new(),
            labels: vec!["dependencies".to_owned()],
            assignees: Vec::new(),
            commit_message_prefix: None,
            msrv: true,
            revert: super::revert::RevertConfig::default(),
            code_scanning: false,
            requirements: super::requirements::Requirements::Lockfile,
            package_rules: Vec::new(),
        }
    }
}

impl RepoConfig {
    /// Whether moving `name` to `version` (an update of `level`) is ignored.
    pub fn is_ignored(&self, name: &str, version: &Version, level: Level) -> bool {
        self.ignore.iter().any(|r| r.ignores(name, version, level))
    }

    /// The reason an advisory (by its id or any alias) is silenced, if it is.
    pub fn advisory_ignored<'a>(&'a self, id: &str, aliases: &[String]) -> Option<&'a str> {
        self.ignore_advisories
            .iter()
            .find(|i| i.id == id || aliases.contains(&i.id))
            .map(|i| i.reason.as_str())
    }

    /// The group a breaking update of `name` belongs to, if any (the first that matches).
    pub fn group_of(&self, name: &str, level: Level) -> Option<&Group> {
        self.groups.iter().find(|g| g.contains(name, level))
    }

    /// Whether a PR whose largest update is `level` may merge itself once green.
    pub fn automerges(&self, level: Level) -> bool {
        self.automerge.contains(&level)
    }

    /// Whether the refresh raises the requirements of workspace member `member`.
    pub fn bumps_requirements(&self, member: &str, has_lib: bool) -> bool {
        super::requirements::for_member(self.requirements, &self.package_rules, member, has_lib)
            == super::requirements::Requirements::Bump
    }

    /// `title` with the configured prefix.
    pub fn prefixed(&self, title: &str) -> String {
        match &self.commit_message_prefix {
            Some(p) if !p.is_empty() => format!("{p}: {title}"),
            _ => title.to_owned(),
        }
    }
}
