//! The statistics benchmark verdicts rest on, pure: means and variances of per-iteration
//! sample times, Welch's t-test, a confidence interval for the ratio of means (delta method with
//! Welch–Satterthwaite degrees of freedom), the noise band of a benchmark's history (Q3 + 3·IQR
//! of the changes between adjacent commits, as rustc-perf does), and Holm's correction for many
//! benchmarks compared at once. Student's t distribution comes from `statrs`.

use statrs::distribution::{ContinuousCDF, StudentsT};

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The sample variance (n − 1).
pub fn variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// Welch's unequal-variance t-test on the means of `a` and `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    pub t: f64,
    pub df: f64,
    /// Two-sided.
    pub p: f64,
}

pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (va, vb) = (variance(a) / a.len() as f64, variance(b) / b.len() as f64);
    let se = (va + vb).sqrt();
    let diff = mean(b) - mean(a);
    if se == 0.0 {
        // Identical constant samples: no evidence either way unless they differ.
        let p = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(Welch {
            t: if diff == 0.0 {
                0.0
            } else {
                f64::INFINITY.copysign(diff)
            },
            df: (a.len() + b.len() - 2) as f64,
            p,
        });
    }
    let df =
        (va + vb).powi(2) / (va.powi(2) / (a.len() - 1) as f64 + vb.powi(2) / (b.len() - 1) as f64);
    let t = diff / se;
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    Some(Welch { t, df, p })
}

/// `mean(b) / mean(a)` with a two-sided `confidence` interval (delta method).
pub fn ratio_interval(a: &[f64], b: &[f64], confidence: f64) -> Option<(f64, f64, f64)> {
    let w = welch(a, b)?;
    let (ma, mb) = (mean(a), mean(b));
    if ma <= 0.0 {
        return None;
    }
    let r = mb / ma;
    let rel = variance(b) / (b.len() as f64 * mb * mb) + variance(a) / (a.len() as f64 * ma * ma);
    let se = r * rel.sqrt();
    let q = if w.df.is_finite() && w.df > 0.0 {
        StudentsT::new(0.0, 1.0, w.df)
            .ok()?
            .inverse_cdf(0.5 + confidence / 2.0)
    } else {
        1.96
    };
    Some((r, r - q * se, r + q * se))
}

/// The `p` quantile of `xs` (linear interpolation, as numpy's default).
pub fn quantile(xs: &[f64], p: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = p.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The samples at or under `xs`'s `share` quantile: its fast part (`share` 0.5: the faster
/// half). Interference on a shared machine only ever adds time, so the slow tail of a run is
/// mostly other processes; a test on the fast part measures the code. At least two samples
/// are kept whenever `xs` has two.
pub fn fastest(xs: &[f64], share: f64) -> Vec<f64> {
    if share >= 1.0 {
        return xs.to_vec();
    }
    let cut = quantile(xs, share);
    let kept: Vec<f64> = xs.iter().copied().filter(|x| *x <= cut).collect();
    if kept.len() >= 2 || xs.len() < 2 {
        return kept;
    }
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.truncate(2);
    sorted
}

/// The noise band of a benchmark: Q3 + 3·IQR of the absolute relative changes between
/// adjacent default-branch results; `None` with fewer than `min_points` changes.
pub fn noise_band(changes: &[f64], min_points: usize) -> Option<f64> {
    let abs: Vec<f64> = changes
        .iter()
        .filter(|c| c.is_finite())
        .map(|c| c.abs())
        .collect();
    if abs.len() < min_points.max(1) {
        return None;
    }
    let (q1, q3) = (quantile(&abs, 0.25), quantile(&abs, 0.75));
    Some(q3 + 3.0 * (q3 - q1))
}

/// The centre (median) of a benchmark's recent results and its noise band around that centre
/// (`None` with fewer than `min_points` results).
pub fn centre_and_band(levels: &[f64], min_points: usize) -> (f64, Option<f64>) {
    let centre = quantile(levels, 0.5);
    let devs: Vec<f64> = levels.iter().map(|x| x / centre - 1.0).collect();
    (centre, noise_band(&devs, min_points))
}

/// Holm's step-down adjustment: the adjusted p-values, in the input's order.
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| ps[i].total_cmp(&ps[j]));
    let mut out = vec![1.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let adjusted = ((m - rank) as f64 * ps[i]).min(1.0);
        running = running.max(adjusted);
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_textbook_example() {
        // Wikipedia's first Welch example: t = 2.46 (b − a), ν = 24.99, p = 0.021.
        let a = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let b = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let w = welch(&a, &b).unwrap();
        assert!((w.t - 2.4554).abs() < 1e-3, "{w:?}");
        assert!((w.p - 0.021).abs() < 1e-3, "{w:?}");
        assert!((w.df - 24.988).abs() < 1e-2, "{w:?}");
    }

    #[test]
    fn identical_samples_are_no_evidence() {
        let a = [1.0, 1.0, 1.0];
        assert_eq!(welch(&a, &a).unwrap().p, 1.0);
    }

    #[test]
    fn the_ratio_interval_holds_the_ratio() {
        let a: Vec<f64> = (0..100).map(|i| 100.0 + (i % 7) as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.1).collect();
        let (r, lo, hi) = ratio_interval(&a, &b, 0.95).unwrap();
        assert!((r - 1.1).abs() < 1e-9);
        assert!(lo < r && r < hi && hi - lo < 0.02, "{lo} {hi}");
    }

    #[test]
    fn holm_adjusts_step_down_and_keeps_order() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        // sorted: 0.005×4=0.02, 0.01×3=0.03, 0.03×2=0.06, 0.04×1=0.04→0.06
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
    }

    #[test]
    fn the_noise_band_is_q3_plus_three_iqr_of_absolute_changes() {
        let band = noise_band(&[0.01, -0.02, 0.03, -0.04], 4).unwrap();
        // |.| = 1,2,3,4 %: Q1 = 1.75 %, Q3 = 3.25 %, band = 3.25 + 4.5 = 7.75 %.
        assert!((band - 0.0775).abs() < 1e-12, "{band}");
        assert_eq!(noise_band(&[0.01], 4), None);
    }

    #[test]
    fn the_fast_part_drops_the_slow_tail() {
        let xs = [5.0, 1.0, 9.0, 2.0, 100.0, 3.0];
        let mut half = fastest(&xs, 0.5);
        half.sort_by(f64::total_cmp);
        assert_eq!(half, [1.0, 2.0, 3.0]);
        assert_eq!(fastest(&xs, 1.0), xs);
        assert_eq!(fastest(&[4.0, 3.0, 7.0], 0.0), [3.0, 4.0]);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn the_fast_part_is_the_fast_end_and_big_enough_to_test(
                xs in prop::collection::vec(1.0f64..1e6, 2..200),
                share in 0.0f64..1.0,
            ) {
                let fast = fastest(&xs, share);
                prop_assert!(fast.len() >= 2);
                prop_assert!(fast.len() as f64 >= (share * (xs.len() - 1) as f64).floor());
                let slowest_kept = fast.iter().copied().fold(f64::MIN, f64::max);
                let dropped = xs.len() - fast.len();
                let mut sorted = xs.clone();
                sorted.sort_by(f64::total_cmp);
                // Nothing dropped is faster than what was kept.
                prop_assert!(sorted[..xs.len() - dropped].iter().all(|x| *x <= slowest_kept));
            }

            #[test]
            fn p_values_are_probabilities(
                a in prop::collection::vec(1.0f64..1e6, 2..50),
                b in prop::collection::vec(1.0f64..1e6, 2..50),
            ) {
                let w = welch(&a, &b).unwrap();
                prop_assert!((0.0..=1.0).contains(&w.p));
                let adj = holm(&[w.p, w.p / 2.0]);
                prop_assert!(adj.iter().all(|p| (0.0..=1.0).contains(p)));
            }

            #[test]
            fn scaling_both_samples_keeps_the_ratio_and_p(
                a in prop::collection::vec(1.0f64..1e3, 3..30),
                b in prop::collection::vec(1.0f64..1e3, 3..30),
                k in 0.001f64..1000.0,
            ) {
                let (ka, kb): (Vec<f64>, Vec<f64>) = (a.iter().map(|x| x * k).collect(), b.iter().map(|x| x * k).collect());
                let (r1, _, _) = ratio_interval(&a, &b, 0.95).unwrap();
                let (r2, _, _) = ratio_interval(&ka, &kb, 0.95).unwrap();
                prop_assert!((r1 - r2).abs() <= 1e-9 * r1.abs().max(1.0));
                let (p1, p2) = (welch(&a, &b).unwrap().p, welch(&ka, &kb).unwrap().p);
                prop_assert!((p1 - p2).abs() < 1e-6);
            }
        }
    }
}
