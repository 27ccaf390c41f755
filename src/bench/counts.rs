//! The verdict for instruction counts and the other Callgrind metrics (gungraun). A count is
//! near-deterministic: the same code on the same input executes the same instructions, up to
//! what the run does not fix (hash seeds, the allocator's choices, the environment's size). So
//! a change is judged against that benchmark's own history of counts on the default branch:
//! the threshold is a multiple of the largest step the history shows between consecutive
//! commits that did not change it, floored at `Rules::floor`; without history, a stated prior
//! (measured on the corpora in docs/PERFORMANCE.md). Pure.

use std::collections::BTreeMap;

use super::gungraun::{Counted, Metric};
use super::verdict::Verdict;

/// How counts are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountRules {
    /// No change smaller than this is ever called (1%: below it a count's meaning is lost in
    /// the code's ordinary churn).
    pub floor: f64,
    /// The threshold is this many times the history's noise.
    pub k: f64,
    /// The relative noise assumed without enough history (see `PRIOR_NOISE`).
    pub prior_noise: f64,
    /// History steps needed before the history's own noise is used.
    pub min_steps: usize,
}

/// The largest relative step between A/A runs of the instruction-count corpus
/// (docs/PERFORMANCE.md), rounded up: used until a benchmark has history of its own.
pub const PRIOR_NOISE: f64 = 0.002;

impl Default for CountRules {
    fn default() -> Self {
        CountRules {
            floor: 0.01,
            k: 4.0,
            prior_noise: PRIOR_NOISE,
            min_steps: 4,
        }
    }
}

/// A count's verdict, the relative change and the threshold it was held to.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CountVerdict {
    pub verdict: Verdict,
    pub change: f64,
    pub threshold: f64,
}

/// The relative noise of a history of counts (oldest first): the largest step between
/// neighbours, ignoring the largest `1 in 10` (a real change in the history is not noise).
pub fn noise(history: &[f64]) -> Option<f64> {
    let mut steps: Vec<f64> = history
        .windows(2)
        .filter(|w| w[0] > 0.0 && w[1].is_finite())
        .map(|w| (w[1] / w[0] - 1.0).abs())
        .collect();
    if steps.is_empty() {
        return None;
    }
    steps.sort_by(f64::total_cmp);
    let keep = steps.len() - steps.len() / 10;
    steps.get(keep.saturating_sub(1)).copied()
}

/// Judges `head` against `base` (one run each) with the history's noise.
pub fn judge(base: f64, head: f64, history: &[f64], rules: &CountRules) -> CountVerdict {
    let steps = history.len().saturating_sub(1);
    let noise = match noise(history) {
        Some(n) if steps >= rules.min_steps => n,
        _ => rules.prior_noise,
    };
    let threshold = (rules.k * noise).max(rules.floor);
    let change = if base > 0.0 { head / base - 1.0 } else { 0.0 };
    let verdict = if !(base > 0.0 && head.is_finite()) {
        Verdict::Unchanged
    } else if change > threshold {
        Verdict::Regressed
    } else if change < -threshold {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    CountVerdict {
        verdict,
        change,
        threshold,
    }
}

/// The metrics a benchmark's verdict rests on. The cache metrics (RAM, LL and L1 hits) are
/// shown with their change but not judged: a small count of RAM hits moves by whole percents
/// when one allocation lands on another cache line.
pub const JUDGED: [Metric; 2] = [Metric::Instructions, Metric::EstimatedCycles];

/// One metric of one benchmark, base against head.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricChange {
    pub metric: Metric,
    pub base: f64,
    pub head: f64,
    pub judged: CountVerdict,
}

/// One benchmark's counts compared: each metric both runs have, and the verdict of the
/// judged ones (a regression in either wins).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CountComparison {
    pub id: String,
    pub metrics: Vec<MetricChange>,
    pub verdict: Verdict,
}

impl CountComparison {
    pub fn metric(&self, metric: Metric) -> Option<&MetricChange> {
        self.metrics.iter().find(|m| m.metric == metric)
    }
}

/// Per benchmark and metric, the counts of each result set, oldest first.
pub type CountHistory = BTreeMap<(String, Metric), Vec<f64>>;

/// The history of `sets` (oldest first), as `compare_counts` reads it.
pub fn history_of(sets: &[(String, Vec<Counted>)]) -> CountHistory {
    let mut out = CountHistory::new();
    for (_, counted) in sets {
        for c in counted {
            if c.value.is_finite() && c.value > 0.0 {
                out.entry((c.id.clone(), c.metric))
                    .or_default()
                    .push(c.value);
            }
        }
    }
    out
}

/// Every benchmark both `base` and `head` counted, judged metric by metric against its own
/// history; regressions first, then improvements, each by its instruction change, largest
/// first.
pub fn compare_counts(
    base: &[Counted],
    head: &[Counted],
    history: &CountHistory,
    rules: &CountRules,
) -> Vec<CountComparison> {
    let before: BTreeMap<(&str, Metric), f64> = base
        .iter()
        .map(|c| ((c.id.as_str(), c.metric), c.value))
        .collect();
    let mut out: BTreeMap<&str, CountComparison> = BTreeMap::new();
    for c in head {
        let Some(&was) = before.get(&(c.id.as_str(), c.metric)) else {
            continue;
        };
        let past = history
            .get(&(c.id.clone(), c.metric))
            .map_or(&[][..], Vec::as_slice);
        let judged = judge(was, c.value, past, rules);
        let entry = out.entry(c.id.as_str()).or_insert_with(|| CountComparison {
            id: c.id.clone(),
            metrics: Vec::new(),
            verdict: Verdict::Unchanged,
        });
        if JUDGED.contains(&c.metric) {
            entry.verdict = worse(entry.verdict, judged.verdict);
        }
        entry.metrics.push(MetricChange {
            metric: c.metric,
            base: was,
            head: c.value,
            judged,
        });
    }
    let mut out: Vec<CountComparison> = out.into_values().collect();
    for c in &mut out {
        c.metrics.sort_by_key(|m| m.metric);
    }
    let rank = |v: Verdict| match v {
        Verdict::Regressed => 0,
        Verdict::Improved => 1,
        _ => 2,
    };
    let change = |c: &CountComparison| {
        c.metric(Metric::Instructions)
            .map_or(0.0, |m| m.judged.change.abs())
    };
    out.sort_by(|a, b| {
        rank(a.verdict)
            .cmp(&rank(b.verdict))
            .then(change(b).total_cmp(&change(a)))
            .then(a.id.cmp(&b.id))
    });
    out
}

/// The worse of two verdicts: a regression outranks an improvement, which outranks no change.
fn worse(a: Verdict, b: Verdict) -> Verdict {
    match (a, b) {
        (Verdict::Regressed, _) | (_, Verdict::Regressed) => Verdict::Regressed,
        (Verdict::Improved, _) | (_, Verdict::Improved) => Verdict::Improved,
        _ => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_two_percent_change_is_seen_where_counts_do_not_move() {
        let history = [
            1_000_000.0,
            1_000_050.0,
            999_980.0,
            1_000_010.0,
            1_000_000.0,
        ];
        let r = CountRules::default();
        assert_eq!(
            judge(1_000_000.0, 1_020_000.0, &history, &r).verdict,
            Verdict::Regressed
        );
        assert_eq!(
            judge(1_000_000.0, 980_000.0, &history, &r).verdict,
            Verdict::Improved
        );
        assert_eq!(
            judge(1_000_000.0, 1_004_000.0, &history, &r).verdict,
            Verdict::Unchanged
        );
    }

    #[test]
    fn a_noisy_history_raises_the_threshold_and_a_short_one_uses_the_prior() {
        let noisy = [100.0, 103.0, 100.0, 97.0, 100.0, 103.0];
        let v = judge(100.0, 104.0, &noisy, &CountRules::default());
        assert_eq!(v.verdict, Verdict::Unchanged);
        assert!(v.threshold > 0.1, "{v:?}");
        let short = judge(100.0, 102.0, &[100.0, 150.0], &CountRules::default());
        assert_eq!(short.threshold, 0.01);
        assert_eq!(short.verdict, Verdict::Regressed);
    }

    #[test]
    fn one_real_change_in_the_history_is_not_taken_for_noise() {
        let mut history: Vec<f64> = (0..20).map(|i| 1000.0 + f64::from(i % 2)).collect();
        history.push(1100.0);
        let n = noise(&history).unwrap();
        assert!(n < 0.002, "{n}");
    }

    fn counted(id: &str, metric: Metric, value: f64) -> Counted {
        Counted {
            id: id.into(),
            metric,
            value,
        }
    }

    #[test]
    fn a_benchmark_is_judged_on_instructions_and_cycles_and_cache_hits_are_only_shown() {
        let base = [
            counted("a", Metric::Instructions, 1000.0),
            counted("a", Metric::RamHits, 100.0),
            counted("b", Metric::Instructions, 1000.0),
            counted("gone", Metric::Instructions, 1000.0),
        ];
        let head = [
            counted("a", Metric::Instructions, 1001.0),
            counted("a", Metric::RamHits, 150.0),
            counted("b", Metric::Instructions, 1030.0),
            counted("new", Metric::Instructions, 1000.0),
        ];
        let cs = compare_counts(&base, &head, &CountHistory::new(), &CountRules::default());
        let ids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["b", "a"],
            "regressions first; only benchmarks in both"
        );
        assert_eq!(cs[0].verdict, Verdict::Regressed);
        assert_eq!(
            cs[1].verdict,
            Verdict::Unchanged,
            "RAM hits +50 % is shown, not judged"
        );
        let ram = cs[1].metric(Metric::RamHits).unwrap();
        assert_eq!(ram.judged.verdict, Verdict::Regressed);
        assert!((ram.judged.change - 0.5).abs() < 1e-9);
    }

    #[test]
    fn each_benchmark_and_metric_is_held_to_its_own_history() {
        let sets = vec![
            (
                "c1".to_owned(),
                vec![
                    counted("steady", Metric::Instructions, 1000.0),
                    counted("wobbly", Metric::Instructions, 1000.0),
                ],
            ),
            (
                "c2".to_owned(),
                vec![
                    counted("steady", Metric::Instructions, 1000.0),
                    counted("wobbly", Metric::Instructions, 1040.0),
                ],
            ),
            (
                "c3".to_owned(),
                vec![
                    counted("steady", Metric::Instructions, 1000.0),
                    counted("wobbly", Metric::Instructions, 1000.0),
                ],
            ),
            (
                "c4".to_owned(),
                vec![
                    counted("steady", Metric::Instructions, 1000.0),
                    counted("wobbly", Metric::Instructions, 1040.0),
                ],
            ),
            (
                "c5".to_owned(),
                vec![
                    counted("steady", Metric::Instructions, 1000.0),
                    counted("wobbly", Metric::Instructions, 1000.0),
                ],
            ),
        ];
        let history = history_of(&sets);
        let base = &sets[4].1;
        let head = [
            counted("steady", Metric::Instructions, 1030.0),
            counted("wobbly", Metric::Instructions, 1030.0),
        ];
        let cs = compare_counts(base, &head, &history, &CountRules::default());
        let verdict = |id: &str| cs.iter().find(|c| c.id == id).unwrap().verdict;
        assert_eq!(verdict("steady"), Verdict::Regressed);
        assert_eq!(verdict("wobbly"), Verdict::Unchanged);
    }

    proptest! {
        #[test]
        fn equal_counts_are_never_a_change(base in 1.0f64..1e12, h in proptest::collection::vec(1.0f64..1e12, 0..30)) {
            prop_assert_eq!(judge(base, base, &h, &CountRules::default()).verdict, Verdict::Unchanged);
        }

        #[test]
        fn the_threshold_is_never_below_the_floor(h in proptest::collection::vec(1.0f64..1e6, 0..30)) {
            let v = judge(100.0, 100.5, &h, &CountRules::default());
            prop_assert!(v.threshold >= 0.01);
            prop_assert_eq!(v.verdict, Verdict::Unchanged);
        }
    }
}
