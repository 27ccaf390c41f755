//! How long each growing table keeps its rows, and the order pruning goes in. Pure: the
//! defaults are the README's promise; `prune` (the driver) applies them hourly in batches.
//! Done jobs (7 days), blobs (14 days) and processed deliveries (30 days) are pruned by the
//! scheduler's tick already.

use crate::time::DAY_MS;

/// Rows deleted per statement: small enough that SQLite's write lock is never held long.
pub const BATCH: i64 = 1_000;

/// What is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    /// Dead and quarantined jobs (people may want to `@upkeep retry` or read them).
    pub dead_jobs_ms: i64,
    /// Revert decisions (the dashboard's history and the culprit memory).
    pub reverts_ms: i64,
    /// Finished bisections.
    pub bisections_ms: i64,
    /// Benchmark results...
    pub bench_ms: i64,
    /// ...except the newest this many commits per repository, branch and runner class.
    pub bench_keep_commits: i64,
    /// Exactly-once markers of commands.
    pub command_runs_ms: i64,
    /// Per-person command allowances.
    pub command_rate_ms: i64,
    /// Signal samples (alert charts, the operator's weekly report).
    pub samples_ms: i64,
    /// Facts about repositories (their weekly reports).
    pub repo_events_ms: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            dead_jobs_ms: 30 * DAY_MS,
            reverts_ms: 365 * DAY_MS,
            bisections_ms: 90 * DAY_MS,
            bench_ms: 90 * DAY_MS,
            bench_keep_commits: 30,
            command_runs_ms: 60 * DAY_MS,
            command_rate_ms: DAY_MS,
            samples_ms: 15 * DAY_MS,
            repo_events_ms: 400 * DAY_MS,
        }
    }
}

/// One table's pruning at `now_ms`: which, and rows older than when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    DeadJobs { before: i64 },
    Reverts { before: i64 },
    Bisections { before: i64 },
    BenchResults { before: i64, keep_commits: i64 },
    CommandRuns { before: i64 },
    CommandRate { before: i64 },
    Samples { before: i64 },
    RepoEvents { before: i64 },
}

impl Retention {
    /// Every rule at `now_ms`.
    pub fn rules(&self, now_ms: i64) -> Vec<Rule> {
        vec![
            Rule::DeadJobs {
                before: now_ms - self.dead_jobs_ms,
            },
            Rule::Reverts {
                before: now_ms - self.reverts_ms,
            },
            Rule::Bisections {
                before: now_ms - self.bisections_ms,
            },
            Rule::BenchResults {
                before: now_ms - self.bench_ms,
                keep_commits: self.bench_keep_commits,
            },
            Rule::CommandRuns {
                before: now_ms - self.command_runs_ms,
            },
            Rule::CommandRate {
                before: now_ms - self.command_rate_ms,
            },
            Rule::Samples {
                before: now_ms - self.samples_ms,
            },
            Rule::RepoEvents {
                before: now_ms - self.repo_events_ms,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_cuts_at_its_own_age() {
        let now = 1000 * DAY_MS;
        let rules = Retention::default().rules(now);
        assert_eq!(rules.len(), 8);
        assert!(rules.contains(&Rule::DeadJobs {
            before: now - 30 * DAY_MS
        }));
        assert!(rules.contains(&Rule::BenchResults {
            before: now - 90 * DAY_MS,
            keep_commits: 30
        }));
    }
}
