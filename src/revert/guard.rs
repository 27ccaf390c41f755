//! The safeguards, in Findit's order: auto-revert on at all → no kill switch → the culprit is
//! not itself a revert → not already reverted → the day's quota of revert PRs not used up →
//! not opted out (label `upkeep:no-revert`, or an author listed in `revert.skip_authors`) →
//! young enough (`revert.max_age_hours`). A writer's `@upkeep revert` skips the last three: a
//! person decided. The merge quota is asked separately, when a revert PR would be merged.

use crate::config::{RevertConfig, RevertMode};

/// The merge under suspicion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    pub sha: String,
    pub message: String,
    /// When it was committed (epoch ms).
    pub committed_at_ms: i64,
    /// The pull request it merged, when there is one.
    pub pr: Option<SuspectPr>,
}

/// The pull request a suspect merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspectPr {
    pub number: u64,
    pub title: String,
    pub author: String,
    pub labels: Vec<String>,
}

/// What else the decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Situation {
    pub now_ms: i64,
    /// An open issue labelled `upkeep:disable-revert` by a writer.
    pub kill_switch: Option<u64>,
    /// Revert PRs upkeep opened on this repository today (UTC).
    pub created_today: i64,
    /// upkeep reverted this commit before (or a later commit says it reverts it).
    pub already_reverted: bool,
    /// The writer who asked with `@upkeep revert`.
    pub requested_by: Option<String>,
}

/// Why upkeep will not revert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("auto-revert is off (`revert.mode = \"off\"`)")]
    Off,
    #[error("issue #{0} (labelled `upkeep:disable-revert`) stops every revert while it is open")]
    KillSwitch(u64),
    #[error("it is itself a revert, and upkeep never reverts a revert")]
    IsRevert,
    #[error("it was reverted already")]
    AlreadyReverted,
    #[error("today's quota of {0} revert pull requests is used up (`revert.max_created_per_day`)")]
    CreateQuota(i64),
    #[error("its pull request is labelled `upkeep:no-revert`")]
    OptedOut,
    #[error("its author {0} is listed in `revert.skip_authors`")]
    SkippedAuthor(String),
    #[error("it has no parent commit to go back to")]
    NoParent,
    #[error("it is {0} hours old, older than `revert.max_age_hours` = {1}")]
    TooOld(i64, i64),
}

impl Refusal {
    /// Whether a person should hear about it (an issue): not when people said so themselves,
    /// nor when the revert exists already.
    pub fn needs_a_person(&self) -> bool {
        !matches!(
            self,
            Refusal::Off | Refusal::KillSwitch(_) | Refusal::AlreadyReverted
        )
    }
}

/// Whether a commit (by its message, or the PR it merged) is a revert.
pub fn is_revert(message: &str, pr: Option<&SuspectPr>) -> bool {
    let first = message.lines().next().unwrap_or_default();
    first.starts_with("Revert \"")
        || first.starts_with("Revert '")
        || message.contains("This reverts commit ")
        || pr.is_some_and(|p| p.labels.iter().any(|l| l == super::LABEL))
}

/// Whether upkeep may revert `suspect`.
pub fn check(suspect: &Suspect, config: &RevertConfig, s: &Situation) -> Result<(), Refusal> {
    if config.mode == RevertMode::Off && s.requested_by.is_none() {
        return Err(Refusal::Off);
    }
    if let Some(issue) = s.kill_switch {
        return Err(Refusal::KillSwitch(issue));
    }
    if is_revert(&suspect.message, suspect.pr.as_ref()) {
        return Err(Refusal::IsRevert);
    }
    if s.already_reverted {
        return Err(Refusal::AlreadyReverted);
    }
    if s.created_today >= config.max_created_per_day {
        return Err(Refusal::CreateQuota(config.max_created_per_day));
    }
    if s.requested_by.is_some() {
        return Ok(());
    }
    if let Some(pr) = &suspect.pr {
        if pr.labels.iter().any(|l| l == super::NO_REVERT) {
            return Err(Refusal::OptedOut);
        }
        if config
            .skip_authors
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&pr.author))
        {
            return Err(Refusal::SkippedAuthor(pr.author.clone()));
        }
    }
    let age_hours = (s.now_ms - suspect.committed_at_ms).max(0) / 3_600_000;
    if age_hours >= config.max_age_hours {
        return Err(Refusal::TooOld(age_hours, config.max_age_hours));
    }
    Ok(())
}

/// Whether upkeep may merge another revert PR today.
pub fn may_merge(config: &RevertConfig, merged_today: i64) -> bool {
    config.mode == RevertMode::Merge && merged_today < config.max_merged_per_day
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn suspect() -> Suspect {
        Suspect {
            sha: "abc".into(),
            message: "Merge pull request #7 from a/b\n\nFaster parser".into(),
            committed_at_ms: 100 * HOUR,
            pr: Some(SuspectPr {
                number: 7,
                title: "Faster parser".into(),
                author: "alice".into(),
                labels: vec![],
            }),
        }
    }

    fn now() -> Situation {
        Situation {
            now_ms: 101 * HOUR,
            ..Situation::default()
        }
    }

    #[test]
    fn a_fresh_merge_may_be_reverted() {
        assert_eq!(check(&suspect(), &RevertConfig::default(), &now()), Ok(()));
    }

    #[test]
    fn each_safeguard_holds() {
        let c = RevertConfig::default();
        let mut s = suspect();
        s.message = "Revert \"Faster parser\"\n\nThis reverts commit abc.".into();
        assert_eq!(check(&s, &c, &now()), Err(Refusal::IsRevert));

        let mut labelled = suspect();
        labelled.pr.as_mut().unwrap().labels = vec![crate::revert::NO_REVERT.into()];
        assert_eq!(check(&labelled, &c, &now()), Err(Refusal::OptedOut));

        let skip = RevertConfig {
            skip_authors: vec!["Alice".into()],
            ..c.clone()
        };
        assert_eq!(
            check(&suspect(), &skip, &now()),
            Err(Refusal::SkippedAuthor("alice".into()))
        );

        let late = Situation {
            now_ms: 125 * HOUR,
            ..now()
        };
        assert_eq!(check(&suspect(), &c, &late), Err(Refusal::TooOld(25, 24)));

        let quota = Situation {
            created_today: 3,
            ..now()
        };
        assert_eq!(check(&suspect(), &c, &quota), Err(Refusal::CreateQuota(3)));

        let killed = Situation {
            kill_switch: Some(4),
            ..now()
        };
        assert_eq!(check(&suspect(), &c, &killed), Err(Refusal::KillSwitch(4)));

        let again = Situation {
            already_reverted: true,
            ..now()
        };
        assert_eq!(check(&suspect(), &c, &again), Err(Refusal::AlreadyReverted));

        let off = RevertConfig {
            mode: RevertMode::Off,
            ..c
        };
        assert_eq!(check(&suspect(), &off, &now()), Err(Refusal::Off));
    }

    #[test]
    fn a_writers_request_skips_age_and_opt_outs_but_not_the_kill_switch() {
        let c = RevertConfig::default();
        let mut s = suspect();
        s.pr.as_mut().unwrap().labels = vec![crate::revert::NO_REVERT.into()];
        let asked = Situation {
            now_ms: 500 * HOUR,
            requested_by: Some("bob".into()),
            ..Situation::default()
        };
        assert_eq!(check(&s, &c, &asked), Ok(()));
        let killed = Situation {
            kill_switch: Some(9),
            ..asked
        };
        assert_eq!(check(&s, &c, &killed), Err(Refusal::KillSwitch(9)));
    }

    #[test]
    fn merging_needs_merge_mode_and_quota() {
        let c = RevertConfig::default();
        assert!(!may_merge(&c, 0));
        let m = RevertConfig {
            mode: RevertMode::Merge,
            ..c
        };
        assert!(may_merge(&m, 1));
        assert!(!may_merge(&m, 2));
    }
}
