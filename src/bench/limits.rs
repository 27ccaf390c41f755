//! Honest detection limits: the smallest slowdown a benchmark's verdict catches 95 % of the time
//! on its runner class, found by running the verdict itself over the default branch's recent
//! results. Each ordered pair of results up to [`REACH`] apart stands for a comparison the
//! server could make (one as the baseline run, the other as the head, the rest as the
//! history), the head slowed by a candidate amount; the limit is the smallest whole percent
//! caught in [`POWER`] of the pairs. Everything the verdict does counts: the threshold (minimum change or noise band,
//! which sets the false-alarm rate), the significance test against the baseline run's samples
//! (at the Bonferroni level over the benchmarks compared together, what Holm's correction asks
//! of one change), the interval. A benchmark whose limit is above the minimum change says so,
//! with the fix, and is never judged as if it could see less. Pure.

use std::collections::BTreeMap;

use super::criterion::Measured;
use super::verdict::{compare, Rules, Verdict};

/// The share of slowdowns at the limit the verdict must catch.
pub const POWER: f64 = 0.95;
/// The slowdown the verdicts aim to see: a benchmark whose limit is above it is named, in the
/// check run and on the dashboard, with what would fix it.
pub const WANTED: f64 = 0.10;
/// The largest limit looked for (300 %): past it, a benchmark cannot detect anything useful.
const MAX_PERCENT: u32 = 300;
/// How far apart (in results) a baseline and a head may be: neighbours, as the server pairs
/// them, and a little further, so a few results give enough pairs (about six per result: the
/// search runs the verdict some ten times over them).
pub const REACH: usize = 3;

/// Per benchmark, its limit (`0.14` = 14 %) from `sets` (the default branch's recent result
/// sets, oldest first), when it has enough results to tell; `family` benchmarks are compared
/// together.
pub fn limits(
    sets: &[(String, Vec<Measured>)],
    family: usize,
    rules: &Rules,
) -> BTreeMap<String, f64> {
    let mut runs: BTreeMap<&str, Vec<&Measured>> = BTreeMap::new();
    for (_, set) in sets {
        for m in set {
            runs.entry(m.id.as_str()).or_default().push(m);
        }
    }
    runs.into_iter()
        .filter_map(|(id, runs)| Some((id.to_owned(), detection_limit(&runs, family, rules)?)))
        .collect()
}

/// One benchmark's limit from its recent results (oldest first); `None` with fewer than
/// `rules.min_history + 1` results; infinite when not even [`MAX_PERCENT`] would be caught.
pub fn detection_limit(runs: &[&Measured], family: usize, rules: &Rules) -> Option<f64> {
    if runs.len() < rules.min_history + 1 {
        return None;
    }
    let rules = Rules {
        alpha: rules.alpha / family.max(1) as f64,
        ..*rules
    };
    let levels: Vec<f64> = runs.iter().map(|m| m.level(rules.quantile)).collect();
    let caught = |percent: u32| {
        let factor = 1.0 + f64::from(percent) / 100.0;
        let (mut pairs, mut hits) = (0usize, 0usize);
        for (h, head) in runs.iter().enumerate() {
            let others: Vec<f64> = levels
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != h)
                .map(|(_, l)| *l)
                .collect();
            let history = BTreeMap::from([(head.id.clone(), others)]);
            let slow = [slowed(head, factor)];
            for (b, base) in runs.iter().enumerate() {
                if b == h || b.abs_diff(h) > REACH {
                    continue;
                }
                pairs += 1;
                let c = compare(std::slice::from_ref(*base), &slow, &history, &rules);
                hits += usize::from(c.first().is_some_and(|c| c.verdict == Verdict::Regressed));
            }
        }
        hits as f64 >= POWER * pairs as f64
    };
    // The catch rate grows with the slowdown: the smallest whole percent that is caught.
    let (mut lo, mut hi) = (
        ((rules.min_change * 100.0).round() as u32).max(1),
        MAX_PERCENT,
    );
    if !caught(hi) {
        return Some(f64::INFINITY);
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if caught(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(f64::from(hi) / 100.0)
}

/// A benchmark whose detection limit is above `WANTED` on one runner class.
#[derive(Debug, Clone, PartialEq)]
pub struct Blind {
    pub id: String,
    pub runner_class: String,
    /// The smallest slowdown caught 95 % of the time (infinite: none up to 300 %).
    pub limit: f64,
}

/// A limit as people read it: `≥ 14 %`, or `> 300 %` when nothing was caught.
pub fn text(limit: f64) -> String {
    if limit.is_finite() {
        format!("≥ {:.0} %", 100.0 * limit)
    } else {
        format!("> {MAX_PERCENT} %")
    }
}

/// What makes a benchmark see less, said where its limit is shown.
pub const FIX: &str = "count instructions instead of time (gungraun benchmarks, the reusable workflow's `gungraun-bench-args`: counts see 1-2 %), run a pull request's base and head in turns in one job (the workflow's `interleave: 5`), or give each run more samples (a longer criterion `measurement_time`)";

/// `m` with every time × `factor`.
fn slowed(m: &Measured, factor: f64) -> Measured {
    Measured {
        id: m.id.clone(),
        samples: m.samples.iter().map(|s| s * factor).collect(),
        summary: m
            .summary
            .map(|(mean, spread)| (mean * factor, spread * factor)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run around `level` ns: 40 samples with a 1 % wobble.
    fn run(level: f64) -> Measured {
        Measured {
            id: "b".into(),
            samples: (0..40)
                .map(|i| level * (1.0 + 0.01 * f64::from(i % 5) / 4.0))
                .collect(),
            summary: None,
        }
    }

    #[test]
    fn a_steady_benchmark_sees_about_the_minimum_and_a_noisy_one_says_how_much_it_cannot() {
        let rules = Rules::default();
        let steady: Vec<Measured> = [100.0, 100.5, 99.8, 100.2, 100.1, 99.9]
            .into_iter()
            .map(run)
            .collect();
        let refs: Vec<&Measured> = steady.iter().collect();
        let limit = detection_limit(&refs, 1, &rules).unwrap();
        assert!((0.05..=0.08).contains(&limit), "{limit}");
        let noisy: Vec<Measured> = [100.0, 112.0, 95.0, 104.0, 90.0, 108.0, 101.0]
            .into_iter()
            .map(run)
            .collect();
        let refs: Vec<&Measured> = noisy.iter().collect();
        let limit = detection_limit(&refs, 1, &rules).unwrap();
        assert!(limit > 0.2, "{limit}");
        assert_eq!(
            detection_limit(&refs[..4], 1, &rules),
            None,
            "too little history"
        );
    }

    #[test]
    fn limits_are_per_benchmark_of_the_sets() {
        let sets: Vec<(String, Vec<Measured>)> = [100.0, 100.5, 99.8, 100.2, 100.1]
            .into_iter()
            .enumerate()
            .map(|(i, l)| (format!("c{i}"), vec![run(l)]))
            .collect();
        let got = limits(&sets, 1, &Rules::default());
        assert_eq!(got.keys().collect::<Vec<_>>(), ["b"]);
    }
}
