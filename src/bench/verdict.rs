//! Deciding, per benchmark, whether a head result regressed against its base (pure core). A
//! change counts only when it is statistically significant after Holm's correction for every
//! benchmark compared at once (Welch's t-test on the faster half of each run's per-iteration
//! sample times: the slow tail is interference, and its outliers widen a test on every sample
//! until a clean 10 % change looks "too noisy"), when the
//! confidence interval of the ratio of means lies beyond zero, and when it is larger than both
//! the configured minimum (default 5 %) and the benchmark's noise band learned from the default
//! branch's history. A benchmark whose history is noisier than `max_noise`, or whose interval is
//! wider than the change it would need to show, is "too noisy to tell" rather than a false
//! alarm. criterion's own rule and a fixed ratio alert are here too, for comparison.

use std::collections::BTreeMap;

use super::criterion::Measured;
use super::stats;

/// How strict the verdicts are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Smallest relative change ever reported (0.05 = 5 %).
    pub min_change: f64,
    /// Family-wise significance level.
    pub alpha: f64,
    /// Of the ratio interval.
    pub confidence: f64,
    /// A history noisier than this makes a benchmark too noisy to judge.
    pub max_noise: f64,
    /// History changes needed before a noise band is trusted.
    pub min_history: usize,
    /// Which quantile of a run's per-iteration times stands for it (`Measured::level`); the
    /// history handed to `compare` must be made of the same.
    pub quantile: f64,
    /// The share of each run's fastest samples that the significance test and the interval
    /// use (`stats::fastest`); 1.0 uses every sample.
    pub fast_share: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_change: 0.05,
            alpha: 0.05,
            confidence: 0.99,
            max_noise: 0.5,
            min_history: 4,
            quantile: super::criterion::TYPICAL_QUANTILE,
            fast_share: 0.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regressed,
    Improved,
    Unchanged,
    TooNoisy,
    /// One pair of processes and no history (`upkeep check`): a change no larger than what
    /// two runs of the same code moved apart on the corpora; re-run to confirm.
    Unconfirmed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::TooNoisy => "too noisy to tell",
            Verdict::Unconfirmed => "unconfirmed",
        }
    }
}

/// One benchmark, compared.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    pub full_id: String,
    /// Typical time per iteration (`Measured::typical`), nanoseconds: the baseline's (the
    /// centre of the default branch's recent results) and the head's.
    pub base_ns: f64,
    pub head_ns: f64,
    /// Relative change of the typical time (`0.1` = 10 % slower).
    pub change: f64,
    /// Confidence interval of the relative change.
    pub interval: (f64, f64),
    pub p_value: f64,
    /// After Holm's correction over the whole comparison.
    pub p_adjusted: f64,
    /// The benchmark's noise band from history, when known.
    pub noise_band: Option<f64>,
    /// The change a verdict needs: max(minimum, noise band).
    pub threshold: f64,
    /// The smallest slowdown this benchmark's verdict catches 95 % of the time
    /// (`bench::limits`, filled in by whoever has the history's results), when known.
    pub limit: Option<f64>,
    pub verdict: Verdict,
}

/// Compares `head` with `base` benchmark by benchmark (those in both), worst first. `history`
/// holds, per benchmark, the typical time (`Measured::typical`, ns) of each recent
/// default-branch result, the base's included.
pub fn compare(
    base: &[Measured],
    head: &[Measured],
    history: &BTreeMap<String, Vec<f64>>,
    rules: &Rules,
) -> Vec<Comparison> {
    let base: BTreeMap<&str, &Measured> = base.iter().map(|m| (m.id.as_str(), m)).collect();
    let pairs: Vec<(&Measured, &Measured)> = head
        .iter()
        .filter_map(|h| Some((*base.get(h.id.as_str())?, h)))
        .collect();
    // Per pair: the p-value and the ratio interval (ratio, low, high).
    type Tested = Option<(f64, (f64, f64, f64))>;
    let tests: Vec<Tested> = pairs
        .iter()
        .map(|(b, h)| {
            let (b, h) = (
                stats::fastest(&b.samples, rules.fast_share),
                stats::fastest(&h.samples, rules.fast_share),
            );
            let w = stats::welch(&b, &h)?;
            let r = stats::ratio_interval(&b, &h, rules.confidence)?;
            Some((w.p, r))
        })
        .collect();
    let ps: Vec<f64> = tests.iter().map(|t| t.map_or(1.0, |t| t.0)).collect();
    let adjusted = stats::holm(&ps);
    let mut out: Vec<Comparison> = pairs
        .iter()
        .zip(tests)
        .zip(adjusted)
        .map(|(((b, h), test), p_adjusted)| {
            // The baseline is the centre (median) of the default branch's recent results when
            // there are enough of them, so one unlucky base run does not make an alarm; the
            // noise band is how far those results stray from their centre.
            let levels = history.get(&h.id).filter(|l| l.len() >= rules.min_history);
            let base_ns =
                levels.map_or_else(|| b.level(rules.quantile), |l| stats::quantile(l, 0.5));
            let band = levels.and_then(|l| {
                let devs: Vec<f64> = l.iter().map(|x| x / base_ns - 1.0).collect();
                stats::noise_band(&devs, rules.min_history)
            });
            let threshold = rules.min_change.max(band.unwrap_or(0.0));
            let head_ns = h.level(rules.quantile);
            let change = head_ns / base_ns - 1.0;
            let (p_value, interval, verdict) = match test {
                Some((p, (r, lo, hi))) => {
                    // The interval's width comes from the samples (head against the base run),
                    // centred on the change.
                    let interval = (change - (r - lo), change + (hi - r));
                    let verdict = decide(change, interval, p_adjusted, band, threshold, rules);
                    (p, interval, verdict)
                }
                // Bencher lines: no samples, only the spread.
                None => summary_verdict(b, h, threshold),
            };
            Comparison {
                full_id: h.id.clone(),
                base_ns,
                head_ns,
                change,
                interval,
                p_value,
                p_adjusted,
                noise_band: band,
                threshold,
                limit: None,
                verdict,
            }
        })
        .collect();
    worst_first(&mut out);
    out
}

/// The order every table shows comparisons in: regressions, then what cannot be told, then no
/// change, then improvements; larger slowdowns first within each.
pub(super) fn worst_first(cs: &mut [Comparison]) {
    cs.sort_by(|a, b| {
        rank(a.verdict)
            .cmp(&rank(b.verdict))
            .then(b.change.total_cmp(&a.change))
    });
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Regressed => 0,
        Verdict::TooNoisy | Verdict::Unconfirmed => 1,
        Verdict::Unchanged => 2,
        Verdict::Improved => 3,
    }
}

fn decide(
    change: f64,
    (lo, hi): (f64, f64),
    p_adjusted: f64,
    band: Option<f64>,
    threshold: f64,
    rules: &Rules,
) -> Verdict {
    if band.is_some_and(|b| b > rules.max_noise) {
        return Verdict::TooNoisy;
    }
    let significant = p_adjusted < rules.alpha;
    if significant && change > threshold && lo > 0.0 {
        return Verdict::Regressed;
    }
    if significant && change < -threshold && hi < 0.0 {
        return Verdict::Improved;
    }
    if hi - lo > 2.0 * threshold {
        return Verdict::TooNoisy;
    }
    Verdict::Unchanged
}

/// Without samples: a change beyond the threshold and beyond both spreads.
fn summary_verdict(base: &Measured, head: &Measured, threshold: f64) -> (f64, (f64, f64), Verdict) {
    let (b, h) = (base.mean(), head.mean());
    let spread = base.summary.map_or(0.0, |s| s.1) + head.summary.map_or(0.0, |s| s.1);
    let rel = spread / b;
    let change = h / b - 1.0;
    let verdict = if rel > 2.0 * threshold.max(0.5) {
        Verdict::TooNoisy
    } else if change > threshold.max(rel) {
        Verdict::Regressed
    } else if change < -threshold.max(rel) {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    (f64::NAN, (change - rel, change + rel), verdict)
}

/// criterion's own rule, for comparison: a p-value under 0.05 and a change interval entirely
/// beyond its ±1 % noise threshold.
pub fn criterion_rule(base: &Measured, head: &Measured) -> Verdict {
    let (Some(w), Some((_, lo, hi))) = (
        stats::welch(&base.samples, &head.samples),
        stats::ratio_interval(&base.samples, &head.samples, 0.95),
    ) else {
        return Verdict::TooNoisy;
    };
    if w.p >= 0.05 {
        Verdict::Unchanged
    } else if lo - 1.0 > 0.01 {
        Verdict::Regressed
    } else if hi - 1.0 < -0.01 {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

/// A fixed ratio alert (github-action-benchmark's default: head at least twice the base).
pub fn ratio_alert(base: &Measured, head: &Measured, ratio: f64) -> Verdict {
    if head.mean() / base.mean() >= ratio {
        Verdict::Regressed
    } else {
        Verdict::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, samples: Vec<f64>) -> Measured {
        Measured {
            id: id.into(),
            samples,
            summary: None,
        }
    }

    /// Deterministic noise around `mean` with relative spread `spread`.
    fn noisy(mean: f64, spread: f64, seed: u64, n: usize) -> Vec<f64> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                mean * (1.0 + spread * u)
            })
            .collect()
    }

    #[test]
    fn a_real_slowdown_beyond_noise_and_minimum_is_a_regression() {
        let base = [m("a", noisy(100.0, 0.02, 1, 100))];
        let head = [m("a", noisy(110.0, 0.02, 2, 100))];
        let c = compare(&base, &head, &BTreeMap::new(), &Rules::default());
        assert_eq!(c[0].verdict, Verdict::Regressed, "{c:?}");
        assert!((c[0].change - 0.10).abs() < 0.01);
    }

    #[test]
    fn a_significant_but_small_change_is_not_an_alarm() {
        let base = [m("a", noisy(100.0, 0.01, 1, 100))];
        let head = [m("a", noisy(102.0, 0.01, 2, 100))];
        let c = compare(&base, &head, &BTreeMap::new(), &Rules::default());
        assert_eq!(c[0].verdict, Verdict::Unchanged, "{c:?}");
    }

    #[test]
    fn a_benchmark_with_a_noisy_history_needs_a_larger_change() {
        let base = [m("a", noisy(100.0, 0.02, 1, 100))];
        let head = [m("a", noisy(110.0, 0.02, 2, 100))];
        let history =
            BTreeMap::from([("a".to_owned(), vec![100.0, 104.0, 92.0, 103.0, 91.0, 106.0])]);
        let c = compare(&base, &head, &history, &Rules::default());
        assert!(c[0].threshold > 0.10, "{c:?}");
        assert_ne!(c[0].verdict, Verdict::Regressed);
    }

    #[test]
    fn improvements_and_regressions_sort_worst_first() {
        let base = [
            m("fast", noisy(100.0, 0.01, 1, 50)),
            m("slow", noisy(100.0, 0.01, 3, 50)),
        ];
        let head = [
            m("fast", noisy(80.0, 0.01, 2, 50)),
            m("slow", noisy(130.0, 0.01, 4, 50)),
        ];
        let c = compare(&base, &head, &BTreeMap::new(), &Rules::default());
        assert_eq!(c[0].full_id, "slow");
        assert_eq!(c[0].verdict, Verdict::Regressed);
        assert_eq!(c[1].verdict, Verdict::Improved);
    }

    #[test]
    fn the_comparison_rules_answer_too() {
        let (b, h) = (
            m("a", noisy(100.0, 0.01, 1, 50)),
            m("a", noisy(250.0, 0.01, 2, 50)),
        );
        assert_eq!(criterion_rule(&b, &h), Verdict::Regressed);
        assert_eq!(ratio_alert(&b, &h, 2.0), Verdict::Regressed);
        assert_eq!(ratio_alert(&b, &b, 2.0), Verdict::Unchanged);
    }
}
