//! The `[revert]` table of `.github/upkeep.toml`: how far auto-revert may go on a repository.
//! The key names (`mode`, `max_age_hours`, …) are the interface and stay as issue 8 gives them.

use toml_edit::{Item, Table};

use super::reader::Cx;

/// What auto-revert does with a confirmed culprit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevertMode {
    /// Never looks.
    Off,
    /// Finds and confirms culprits, and only reports what it would do (dashboard, issue).
    DryRun,
    /// Opens the revert PR; a person merges it (the default).
    Pr,
    /// Opens the revert PR and merges it once its own CI is green.
    Merge,
}

/// `[revert]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertConfig {
    pub mode: RevertMode,
    /// Culprits older than this are left to people.
    pub max_age_hours: i64,
    /// Revert PRs opened per repository per UTC day.
    pub max_created_per_day: i64,
    /// Revert PRs merged by upkeep per repository per UTC day.
    pub max_merged_per_day: i64,
    /// Authors whose merges are never reverted automatically.
    pub skip_authors: Vec<String>,
    /// Times a failed run's failed jobs are re-run before the failure counts (flake check).
    pub reruns: i64,
    /// Workflow runs a bisection may dispatch before it gives up and asks a person.
    pub max_bisect_runs: i64,
    /// Workflows (by name), or CI apps outside Actions (by name), whose failure on the default
    /// branch counts; empty: all of them.
    pub workflows: Vec<String>,
}

impl Default for RevertConfig {
    fn default() -> Self {
        RevertConfig {
            mode: RevertMode::Pr,
            max_age_hours: 24,
            max_created_per_day: 3,
            max_merged_per_day: 2,
            skip_authors: Vec::new(),
            reruns: 1,
            max_bisect_runs: 6,
            workflows: Vec::new(),
        }
    }
}

impl RevertConfig {
    /// Whether a failure of workflow `name` counts.
    pub fn watches(&self, name: &str) -> bool {
        self.workflows.is_empty() || self.workflows.iter().any(|w| w == name)
    }
}

pub(super) const KEYS: &[&str] = &[
    "mode",
    "max_age_hours",
    "max_created_per_day",
    "max_merged_per_day",
    "skip_authors",
    "reruns",
    "max_bisect_runs",
    "workflows",
];

impl Cx<'_> {
    pub(super) fn revert(&mut self, t: &Table, c: &mut RevertConfig) {
        self.unknown_keys("revert", t, KEYS);
        if let Some(item) = t.get("mode") {
            let mode = self.word("revert.mode", item, &["off", "dry-run", "pr", "merge"]);
            c.mode = match mode.as_deref() {
                Some("off") => RevertMode::Off,
                Some("dry-run") => RevertMode::DryRun,
                Some("merge") => RevertMode::Merge,
                Some(_) => RevertMode::Pr,
                None => c.mode,
            };
        }
        let int = |cx: &mut Self, key: &str, max: i64, slot: &mut i64| {
            if let Some(n) = t
                .get(key)
                .and_then(|item: &Item| cx.integer(&format!("revert.{key}"), item, 0, max))
            {
                *slot = n;
            }
        };
        int(self, "max_age_hours", 24 * 30, &mut c.max_age_hours);
        int(self, "max_created_per_day", 50, &mut c.max_created_per_day);
        int(self, "max_merged_per_day", 50, &mut c.max_merged_per_day);
        int(self, "reruns", 3, &mut c.reruns);
        int(self, "max_bisect_runs", 20, &mut c.max_bisect_runs);
        if let Some(v) = t
            .get("skip_authors")
            .and_then(|i| self.strings("revert.skip_authors", i))
        {
            c.skip_authors = v;
        }
        if let Some(v) = t
            .get("workflows")
            .and_then(|i| self.strings("revert.workflows", i))
        {
            c.workflows = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_push_workflow_counts_unless_some_are_named() {
        assert!(RevertConfig::default().watches("anything"));
        let c = RevertConfig {
            workflows: vec!["ci".into()],
            ..RevertConfig::default()
        };
        assert!(c.watches("ci") && !c.watches("bench"));
    }
}
