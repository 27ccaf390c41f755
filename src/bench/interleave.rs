//! Interleaved wall-time runs. With `interleave: N` the reusable workflow builds a pull
//! request's base and head in one job and runs their benchmarks alternately, N rounds (the base
//! first in odd rounds, the head first in even ones), uploading each process's results under
//! `interleaved/round-R/baseline/` and `interleaved/round-R/head/`. Two processes of one round
//! share the machine's state (its neighbours, its clock, the hour) far more than a PR's run and
//! a baseline pushed hours before, so the verdict uses the per-round pairing: each round's
//! head-over-base ratio of typical times, their geometric mean, and a t-interval over the
//! rounds, with Holm's correction across benchmarks. A change counts when it is significant,
//! its interval excludes zero and it exceeds the minimum change. Each benchmark's detection
//! limit comes from its own rounds' spread: the smallest slowdown whose interval would clear
//! the bar 95 % of the time. Pure.

use std::collections::BTreeMap;

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::criterion::{from_layout, Measured, ParseError};
use super::limits::POWER;
use super::stats;
use super::verdict::{worst_first, Comparison, Rules, Verdict};

/// Where the rounds are in the artifact.
pub const DIR: &str = "interleaved/";
/// More rounds than this are refused (a job runs a handful).
pub const MAX_ROUNDS: u32 = 50;

/// Each round's (base, head) results, in round order.
pub type Rounds = Vec<(Vec<Measured>, Vec<Measured>)>;
/// Result files by path.
pub type Files = BTreeMap<String, Vec<u8>>;

/// An artifact's files split into the usual results and the interleaved rounds (`None` when
/// there are none). A round with only one side (a cancelled job) is left out.
pub fn split(files: &Files) -> Result<(Files, Option<Rounds>), ParseError> {
    let mut usual = BTreeMap::new();
    let mut sides: BTreeMap<(u32, bool), Files> = BTreeMap::new();
    for (path, bytes) in files {
        let Some(rest) = path.strip_prefix(DIR) else {
            usual.insert(path.clone(), bytes.clone());
            continue;
        };
        let bad = |message: &str| ParseError::Bad {
            path: path.chars().take(200).collect(),
            message: message.to_owned(),
        };
        let mut parts = rest.splitn(3, '/');
        let round = parts
            .next()
            .and_then(|r| r.strip_prefix("round-"))
            .and_then(|r| r.parse::<u32>().ok())
            .filter(|r| (1..=MAX_ROUNDS).contains(r))
            .ok_or_else(|| bad("not under interleaved/round-R/ (R from 1 to 50)"))?;
        let head = match parts.next() {
            Some("head") => true,
            Some("baseline") => false,
            _ => return Err(bad("not under a round's baseline/ or head/")),
        };
        let inner = parts.next().ok_or_else(|| bad("no result file"))?;
        sides
            .entry((round, head))
            .or_default()
            .insert(inner.to_owned(), bytes.clone());
    }
    if sides.is_empty() {
        return Ok((usual, None));
    }
    let mut rounds = Rounds::new();
    let numbers: std::collections::BTreeSet<u32> = sides.keys().map(|(r, _)| *r).collect();
    for r in numbers {
        let (Some(base), Some(head)) = (sides.get(&(r, false)), sides.get(&(r, true))) else {
            continue;
        };
        rounds.push((from_layout(base, "new")?, from_layout(head, "new")?));
    }
    Ok((usual, Some(rounds)))
}

/// One benchmark's per-round log ratios (head over base), rounds where both have it.
fn log_ratios(rounds: &Rounds, id: &str, rules: &Rules) -> Vec<f64> {
    rounds
        .iter()
        .filter_map(|(base, head)| {
            let b = base.iter().find(|m| m.id == id)?.level(rules.quantile);
            let h = head.iter().find(|m| m.id == id)?.level(rules.quantile);
            (b > 0.0 && h > 0.0 && b.is_finite() && h.is_finite()).then(|| (h / b).ln())
        })
        .collect()
}

/// Student's t quantile with `df` degrees of freedom.
fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(p))
        .unwrap_or(f64::INFINITY)
}

/// Every benchmark the rounds have (two rounds at least), compared, worst first; each
/// comparison's `limit` is its detection limit from its rounds' spread.
pub fn compare_rounds(rounds: &Rounds, rules: &Rules) -> Vec<Comparison> {
    let ids: std::collections::BTreeSet<&str> = rounds
        .iter()
        .flat_map(|(_, head)| head.iter().map(|m| m.id.as_str()))
        .collect();
    struct Paired {
        id: String,
        n: f64,
        mean: f64,
        se: f64,
        p: f64,
        base_ns: f64,
        head_ns: f64,
    }
    let mut paired = Vec::new();
    for id in ids {
        let d = log_ratios(rounds, id, rules);
        if d.len() < 2 {
            continue;
        }
        let n = d.len() as f64;
        let mean = stats::mean(&d);
        let se = (stats::variance(&d) / n).sqrt();
        let df = n - 1.0;
        let p = if se > 0.0 {
            let t = (mean / se).abs();
            StudentsT::new(0.0, 1.0, df).map_or(1.0, |dist| 2.0 * (1.0 - dist.cdf(t)))
        } else if mean == 0.0 {
            1.0
        } else {
            0.0
        };
        let levels = |head: bool| -> Vec<f64> {
            rounds
                .iter()
                .filter_map(|(b, h)| {
                    let side = if head { h } else { b };
                    Some(side.iter().find(|m| m.id == id)?.level(rules.quantile))
                })
                .collect()
        };
        paired.push(Paired {
            id: id.to_owned(),
            n,
            mean,
            se,
            p,
            base_ns: stats::quantile(&levels(false), 0.5),
            head_ns: stats::quantile(&levels(true), 0.5),
        });
    }
    let adjusted = stats::holm(&paired.iter().map(|p| p.p).collect::<Vec<_>>());
    let family = paired.len().max(1) as f64;
    let mut out: Vec<Comparison> = paired
        .into_iter()
        .zip(adjusted)
        .map(|(p, p_adjusted)| {
            let df = p.n - 1.0;
            let q = t_quantile(0.5 + rules.confidence / 2.0, df);
            let (lo, hi) = (p.mean - q * p.se, p.mean + q * p.se);
            let change = p.mean.exp() - 1.0;
            let interval = (lo.exp() - 1.0, hi.exp() - 1.0);
            let significant = p_adjusted < rules.alpha;
            let verdict = if significant && change > rules.min_change && interval.0 > 0.0 {
                Verdict::Regressed
            } else if significant && change < -rules.min_change && interval.1 < 0.0 {
                Verdict::Improved
            } else {
                Verdict::Unchanged
            };
            // The bar a slowdown must clear: the interval's half-width (at the stricter of the
            // confidence level and the Bonferroni level of the family) or the minimum change,
            // whichever is higher; plus the t quantile of the power for the mean's own noise.
            let q_family = t_quantile(1.0 - rules.alpha / (2.0 * family), df).max(q);
            let bar = (q_family * p.se).max((1.0 + rules.min_change).ln());
            let limit = (bar + t_quantile(POWER, df) * p.se).exp() - 1.0;
            Comparison {
                full_id: p.id,
                base_ns: p.base_ns,
                head_ns: p.head_ns,
                change,
                interval,
                p_value: p.p,
                p_adjusted,
                noise_band: None,
                threshold: rules.min_change,
                limit: Some((limit * 100.0 - 1e-9).ceil() / 100.0),
                verdict,
            }
        })
        .collect();
    worst_first(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, level: f64) -> Measured {
        Measured {
            id: id.into(),
            samples: (0..20)
                .map(|i| level * (1.0 + 0.001 * f64::from(i)))
                .collect(),
            summary: None,
        }
    }

    /// Rounds whose shared machine state moves both sides by `drift[r]`, the head × `factor`.
    fn rounds(drift: &[f64], factor: f64) -> Rounds {
        drift
            .iter()
            .map(|d| (vec![m("b", 100.0 * d)], vec![m("b", 100.0 * d * factor)]))
            .collect()
    }

    #[test]
    fn a_slowdown_is_seen_through_drift_both_sides_share() {
        // The machine drifts by 30 % between rounds; within a round both sides see it.
        let drift = [1.0, 1.3, 0.9, 1.2, 1.05];
        let same = compare_rounds(&rounds(&drift, 1.0), &Rules::default());
        assert_eq!(same[0].verdict, Verdict::Unchanged);
        let slow = compare_rounds(&rounds(&drift, 1.08), &Rules::default());
        assert_eq!(slow[0].verdict, Verdict::Regressed, "{slow:?}");
        assert!((slow[0].change - 0.08).abs() < 1e-6);
        assert!(slow[0].limit.unwrap() <= 0.06, "{slow:?}");
    }

    #[test]
    fn rounds_that_disagree_give_a_wide_limit_and_no_verdict() {
        let noisy: Rounds = [(100.0, 130.0), (100.0, 80.0), (100.0, 115.0), (100.0, 92.0)]
            .into_iter()
            .map(|(b, h)| (vec![m("b", b)], vec![m("b", h)]))
            .collect();
        let c = &compare_rounds(&noisy, &Rules::default())[0];
        assert_eq!(c.verdict, Verdict::Unchanged);
        assert!(c.limit.unwrap() > 0.3, "{c:?}");
    }

    #[test]
    fn the_artifact_splits_into_usual_results_and_complete_rounds() {
        let bench = |level: f64| {
            [
                (
                    "b/new/benchmark.json".to_owned(),
                    br#"{"full_id":"b"}"#.to_vec(),
                ),
                (
                    "b/new/sample.json".to_owned(),
                    format!(r#"{{"iters":[1,2],"times":[{level},{}]}}"#, 2.0 * level).into_bytes(),
                ),
            ]
        };
        let mut files = BTreeMap::new();
        for (p, b) in bench(100.0) {
            files.insert(p, b);
        }
        for (prefix, level) in [
            ("interleaved/round-1/baseline/", 100.0),
            ("interleaved/round-1/head/", 110.0),
            ("interleaved/round-2/baseline/", 100.0),
        ] {
            for (p, b) in bench(level) {
                files.insert(format!("{prefix}{p}"), b);
            }
        }
        let (usual, rounds) = split(&files).unwrap();
        assert_eq!(usual.len(), 2);
        let rounds = rounds.unwrap();
        assert_eq!(rounds.len(), 1, "round 2 has no head");
        assert_eq!(rounds[0].1[0].id, "b");

        let mut evil = BTreeMap::new();
        evil.insert("interleaved/round-99/head/x".to_owned(), Vec::new());
        assert!(split(&evil).is_err());
        let mut evil = BTreeMap::new();
        evil.insert("interleaved/round-1/other/x".to_owned(), Vec::new());
        assert!(split(&evil).is_err());
    }
}
