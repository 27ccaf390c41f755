//! Finding the culprit. From the red commit back along first parents to the last green one:
//! the commits in between are the suspects (commits CI never ran on included). A red commit
//! before the suspect means the failure is older and not the suspect's fault. With several
//! suspects, a binary search over them, each step one CI run on the candidate, capped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A CI result on one commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Green,
    Red,
}

/// What the history before a red commit says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suspects {
    /// A commit before is red too: the failure was already there.
    RedBefore { sha: String },
    /// The commits since the last green one, oldest first (the red commit last).
    Since {
        green: String,
        candidates: Vec<String>,
    },
    /// No green commit within the history looked at.
    NoGreen,
}

/// `history`: the red commit's first-parent ancestors, newest first, each with its CI result
/// when CI ran on it.
pub fn suspects(red: &str, history: &[(String, Option<Outcome>)]) -> Suspects {
    let mut candidates = vec![red.to_owned()];
    for (sha, outcome) in history {
        match outcome {
            Some(Outcome::Green) => {
                candidates.reverse();
                return Suspects::Since {
                    green: sha.clone(),
                    candidates,
                };
            }
            Some(Outcome::Red) => return Suspects::RedBefore { sha: sha.clone() },
            None => candidates.push(sha.clone()),
        }
    }
    Suspects::NoGreen
}

/// The next step of a bisection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The first red commit right after a green one.
    Culprit(String),
    /// Run CI on this commit next.
    Test(String),
    /// Out of runs: these are still suspects (oldest first).
    Ambiguous(Vec<String>),
}

/// `candidates` oldest first (the last is known red; the commit before the first is green),
/// `results` what CI said on the ones tested, `runs` how many runs the bisection used.
pub fn next_step(
    candidates: &[String],
    results: &BTreeMap<String, Outcome>,
    runs: i64,
    max_runs: i64,
) -> Step {
    let last = candidates.len().saturating_sub(1);
    let hi = candidates
        .iter()
        .position(|c| results.get(c) == Some(&Outcome::Red))
        .unwrap_or(last)
        .min(last);
    // The newest green before the first red (-1: the known green commit before them all).
    let lo = candidates[..hi]
        .iter()
        .rposition(|c| results.get(c) == Some(&Outcome::Green))
        .map_or(-1, |i| i as isize);
    let hi = hi as isize;
    let at = |i: isize| candidates.get(i as usize).cloned().unwrap_or_default();
    if hi - lo <= 1 {
        return Step::Culprit(at(hi));
    }
    if runs >= max_runs {
        return Step::Ambiguous(((lo + 1)..=hi).map(at).collect());
    }
    Step::Test(at(lo + (hi - lo) / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shas(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn the_commit_right_after_green_is_the_only_suspect() {
        let history = vec![("g".to_owned(), Some(Outcome::Green))];
        assert_eq!(
            suspects("r", &history),
            Suspects::Since {
                green: "g".into(),
                candidates: vec!["r".into()]
            }
        );
    }

    #[test]
    fn commits_ci_skipped_are_suspects_too() {
        let history = vec![
            ("b".to_owned(), None),
            ("a".to_owned(), None),
            ("g".to_owned(), Some(Outcome::Green)),
        ];
        assert_eq!(
            suspects("r", &history),
            Suspects::Since {
                green: "g".into(),
                candidates: vec!["a".into(), "b".into(), "r".into()]
            }
        );
    }

    #[test]
    fn red_before_means_not_the_suspects_fault() {
        let history = vec![("b".to_owned(), None), ("a".to_owned(), Some(Outcome::Red))];
        assert_eq!(
            suspects("r", &history),
            Suspects::RedBefore { sha: "a".into() }
        );
        assert_eq!(suspects("r", &[("x".into(), None)]), Suspects::NoGreen);
    }

    #[test]
    fn bisection_finds_every_culprit_within_log2_runs() {
        for n in 1..40usize {
            for culprit in 0..n {
                let c = shas(n);
                let mut results = BTreeMap::new();
                let mut runs = 0;
                let found = loop {
                    match next_step(&c, &results, runs, 64) {
                        Step::Culprit(s) => break s,
                        Step::Test(s) => {
                            let i = c.iter().position(|x| *x == s).unwrap();
                            assert!(!results.contains_key(&s), "tests {s} twice");
                            let o = if i >= culprit {
                                Outcome::Red
                            } else {
                                Outcome::Green
                            };
                            results.insert(s, o);
                            runs += 1;
                        }
                        Step::Ambiguous(_) => unreachable!(),
                    }
                };
                assert_eq!(found, c[culprit]);
                let bound = (n as f64).log2().ceil() as i64;
                assert!(runs <= bound, "n={n}: {runs} runs > {bound}");
            }
        }
    }

    #[test]
    fn out_of_runs_names_what_is_left() {
        let c = shas(8);
        let results: BTreeMap<_, _> = [("c3".to_owned(), Outcome::Green)].into();
        assert_eq!(
            next_step(&c, &results, 1, 1),
            Step::Ambiguous(vec!["c4".into(), "c5".into(), "c6".into(), "c7".into()])
        );
    }

    #[test]
    fn a_green_after_a_red_does_not_confuse_it() {
        let c = shas(4);
        let results: BTreeMap<_, _> = [
            ("c1".to_owned(), Outcome::Red),
            ("c2".to_owned(), Outcome::Green),
        ]
        .into();
        assert_eq!(next_step(&c, &results, 2, 6), Step::Test("c0".into()));
    }
}
