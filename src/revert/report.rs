//! What people read about a revert: the revert commit's message (git's own wording, so tools
//! and people recognise it), the revert PR, the comment to the culprit's author, and the issue
//! filed when a person must decide. Built from typed data only.

use super::guard::{Refusal, Suspect};
use super::short;

/// Why upkeep believes the suspect broke the default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A workflow failed on the default branch and passed on the commit before.
    Checks {
        workflow: String,
        run_url: String,
        /// Failed check runs on the red commit: name and link.
        failed: Vec<(String, Option<String>)>,
        /// The last green commit.
        green: Option<String>,
        /// How many times the failed jobs were re-run and failed again.
        reruns: i64,
    },
    /// The benchmark comparison (a Markdown table) that regressed.
    Bench { table: String },
    /// A writer asked with `@upkeep revert`.
    Request { by: String },
}

impl Evidence {
    fn render(&self) -> String {
        match self {
            Evidence::Checks {
                workflow,
                run_url,
                failed,
                green,
                reruns,
            } => {
                let mut out = format!("The [`{workflow}` run]({run_url}) failed");
                if *reruns > 0 {
                    out.push_str(&format!(
                        " and failed again when its failed jobs were re-run {reruns} time{}",
                        if *reruns == 1 { "" } else { "s" }
                    ));
                }
                match green {
                    Some(g) => out.push_str(&format!("; it passed on {g}, the commit before.\n")),
                    None => out.push_str(".\n"),
                }
                if !failed.is_empty() {
                    out.push_str("\nFailing checks:\n");
                    for (name, url) in failed {
                        match url {
                            Some(u) => out.push_str(&format!("- [{name}]({u})\n")),
                            None => out.push_str(&format!("- {name}\n")),
                        }
                    }
                }
                out
            }
            Evidence::Bench { table } => {
                format!("Benchmarks regressed on the default branch with this merge:\n\n{table}\n")
            }
            Evidence::Request { by } => format!("@{by} asked for this revert.\n"),
        }
    }
}

/// The branch a revert PR comes from.
pub fn branch(sha: &str) -> String {
    format!("{}{}", super::BRANCH_PREFIX, short(sha))
}

/// The hidden marker in a revert PR's body.
pub fn marker(sha: &str) -> String {
    format!("<!-- upkeep:revert {sha} -->")
}

/// The culprit's subject: its PR's title, or its commit's first line.
fn subject(s: &Suspect) -> String {
    match &s.pr {
        Some(pr) => format!("{} (#{})", pr.title, pr.number),
        None => s.message.lines().next().unwrap_or_default().to_owned(),
    }
}

pub fn title(s: &Suspect) -> String {
    format!("Revert \"{}\"", subject(s))
}

/// git's own revert message.
pub fn commit_message(s: &Suspect) -> String {
    format!("{}\n\nThis reverts commit {}.", title(s), s.sha)
}

pub fn pr_body(s: &Suspect, evidence: &Evidence, merges_itself: bool, slug: &str) -> String {
    let culprit = match &s.pr {
        Some(pr) => format!("#{} by @{} (merged as {})", pr.number, pr.author, s.sha),
        None => format!("commit {}", s.sha),
    };
    let merge = if merges_itself {
        "upkeep merges this PR once its own CI is green (`revert.mode = \"merge\"`)."
    } else {
        "A person merges this PR (`revert.mode = \"pr\"`)."
    };
    format!(
        "This reverts {culprit}.\n\n{}\n{merge}\n\n\
         **To reland**: fix the cause on a new branch that starts from the original change \
         (`git revert` this revert), and open a PR; CI runs on it as on any other.\n\n\
         To stop auto-revert on a PR, label it `{}`; to stop it everywhere, open an issue \
         labelled `{}`. Comment `@{slug} revert` on a merged PR to revert it on request.\n\n{}\n",
        evidence.render(),
        super::NO_REVERT,
        super::KILL_SWITCH,
        marker(&s.sha)
    )
}

/// The comment on the culprit's PR.
pub fn author_comment(s: &Suspect, revert_pr: u64, evidence: &Evidence) -> String {
    let who =
        s.pr.as_ref()
            .map(|p| format!("@{}, t", p.author))
            .unwrap_or_else(|| "T".to_owned());
    format!(
        "{who}his merge ({}) broke the default branch, so upkeep opened #{revert_pr} to revert it.\n\n{}\nOnce the cause is fixed, reland it with a new PR.",
        short(&s.sha),
        evidence.render()
    )
}

/// The hidden marker of the note to culprit `sha`'s author (looked for before writing it).
pub fn author_note_marker(sha: &str) -> String {
    format!("<!-- upkeep:revert-note {} -->", short(sha))
}

/// Why a person must decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// The bisection ran out of runs with these suspects left (oldest first).
    Ambiguous(Vec<String>),
    /// The revert does not apply cleanly on the default branch.
    Conflict(Suspect),
    /// The safeguards said no.
    Refused(Suspect, Refusal),
    /// `revert.mode = "dry-run"`: what upkeep would have done.
    DryRun(Suspect),
}

/// The hidden marker of the issue about red commit `red`.
pub fn issue_marker(red: &str) -> String {
    format!("<!-- upkeep:revert-issue {red} -->")
}

/// The issue filed when a person must decide: title and body.
pub fn issue(red: &str, handover: &Handover, evidence: &Evidence) -> (String, String) {
    let (title, what) = match handover {
        Handover::Ambiguous(candidates) => (
            format!("The default branch broke at {}: culprit not found", short(red)),
            format!(
                "The bisection ran out of CI runs (`revert.max_bisect_runs`) with these commits still suspect, oldest first:\n\n{}\n",
                candidates
                    .iter()
                    .map(|c| format!("- {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        ),
        Handover::Conflict(s) => (
            format!("Reverting {} conflicts: a person must revert it", subject(s)),
            format!(
                "{} broke the default branch, but later commits changed the same lines, so its revert does not apply cleanly.\n",
                s.sha
            ),
        ),
        Handover::Refused(s, why) => (
            format!("The default branch broke at {}: not reverted", subject(s)),
            format!("{} is the culprit, but upkeep did not revert it: {why}.\n", s.sha),
        ),
        Handover::DryRun(s) => (
            format!("Auto-revert (dry run) would revert {}", subject(s)),
            format!(
                "{} is the culprit; with `revert.mode = \"pr\"` upkeep would have opened a revert PR.\n",
                s.sha
            ),
        ),
    };
    (
        title,
        format!("{what}\n{}\n{}\n", evidence.render(), issue_marker(red)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revert::SuspectPr;

    fn suspect() -> Suspect {
        Suspect {
            sha: "0123456789abcdef".into(),
            message: "Faster parser (#7)".into(),
            committed_at_ms: 0,
            pr: Some(SuspectPr {
                number: 7,
                title: "Faster parser".into(),
                author: "alice".into(),
                labels: vec![],
            }),
        }
    }

    #[test]
    fn the_commit_says_what_git_says() {
        let s = suspect();
        assert_eq!(
            commit_message(&s),
            "Revert \"Faster parser (#7)\"\n\nThis reverts commit 0123456789abcdef."
        );
        assert!(crate::revert::is_revert(&commit_message(&s), None));
        assert_eq!(branch(&s.sha), "upkeep/revert/0123456");
    }

    #[test]
    fn the_pr_names_the_culprit_the_evidence_and_how_to_reland() {
        let e = Evidence::Checks {
            workflow: "ci".into(),
            run_url: "https://github.com/o/r/actions/runs/1".into(),
            failed: vec![("test".into(), Some("https://x/1".into()))],
            green: Some("fedcba9".into()),
            reruns: 1,
        };
        let body = pr_body(&suspect(), &e, false, "upkeep");
        for needle in [
            "#7 by @alice",
            "[`ci` run](https://github.com/o/r/actions/runs/1)",
            "re-run 1 time;",
            "- [test](https://x/1)",
            "To reland",
            "<!-- upkeep:revert 0123456789abcdef -->",
        ] {
            assert!(body.contains(needle), "{needle} missing from\n{body}");
        }
        let c = author_comment(&suspect(), 9, &e);
        assert!(c.starts_with("@alice, this merge (0123456)"), "{c}");
    }
}
