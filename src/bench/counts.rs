//! The verdict for instruction counts and the other Callgrind metrics (gungraun). A count is
//! near-deterministic: the same code on the same input executes the same instructions, up to
//! what the run does not fix (hash seeds, the allocator's choices, the environment's size). So
//! a change is judged against that benchmark's own history of counts on the default branch:
//! the threshold is a multiple of the largest step the history shows between consecutive
//! commits that did not change it, floored at `Rules::floor`; without history, a stated prior
//! (measured on the corpora in docs/PERFORMANCE.md). Pure.

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
#[derive(Debug, Clone, Copy, PartialEq)]
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
