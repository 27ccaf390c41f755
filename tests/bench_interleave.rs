//! Interleaved wall-time runs judged on real noise. The noise corpora (tests/fixtures/bench-noise*)
//! are runs of the same code made one after another on one machine: consecutive runs are what
//! an interleaved job makes, base and head taking turns. Every window of 2N consecutive runs is
//! one job of N rounds (the base first in odd rounds, the head in even ones); with no change it
//! is an A/A job, and with the head's samples × 1.10 a 10 % slowdown. Issue 24 asks, on every
//! benchmark whose published limit is at most 10 %: 10 % slowdowns caught ≥ 95 % at ≤ 1 % false
//! alarms; and the limits honest: a slowdown of exactly the limit caught ≥ 95 %. criterion's
//! own rule and a 200 % alert judge the first round's pair beside it. The tables are printed
//! (`cargo test --test bench_interleave -- --nocapture`) for docs/PERFORMANCE.md.

mod common;

use std::collections::BTreeMap;

use upkeep::bench::interleave::{compare_rounds, Rounds};
use upkeep::bench::verdict::{criterion_rule, ratio_alert};
use upkeep::bench::{Measured, Rules, Verdict};

const CORPORA: [&str; 4] = [
    "bench-noise",
    "bench-noise-quiet",
    "bench-noise-steady",
    "bench-noise-short",
];

fn scaled(run: &[Measured], factor: &dyn Fn(&str) -> f64) -> Vec<Measured> {
    run.iter()
        .map(|m| Measured {
            samples: m.samples.iter().map(|s| s * factor(&m.id)).collect(),
            ..m.clone()
        })
        .collect()
}

/// The job of `n` rounds made by the 2n runs from `start`, its head × `factor` per benchmark.
fn job(runs: &[Vec<Measured>], start: usize, n: usize, factor: &dyn Fn(&str) -> f64) -> Rounds {
    (0..n)
        .map(|r| {
            let (first, second) = (&runs[start + 2 * r], &runs[start + 2 * r + 1]);
            // ABBA: the base first in odd rounds (r = 0, 2, …), the head first in even ones.
            let (base, head) = if r % 2 == 0 {
                (first, second)
            } else {
                (second, first)
            };
            (base.clone(), scaled(head, factor))
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    jobs: usize,
    false_alarms: usize,
    /// Benchmark-jobs whose published limit is at most 10 %, and of them the 10 % slowdowns caught.
    within: usize,
    caught_10: usize,
    /// Slowdowns of exactly the published limit, and caught.
    at_limit: usize,
    caught_at_limit: usize,
    crit_false: usize,
    crit_caught: usize,
    alert_false: usize,
    alert_caught: usize,
}

fn pct(n: usize, d: usize) -> f64 {
    100.0 * n as f64 / d.max(1) as f64
}

/// Per corpus, and per source and benchmark over every corpus.
type Judged = (BTreeMap<&'static str, Tally>, BTreeMap<String, Tally>);

fn judge(n: usize) -> Judged {
    let rules = Rules::default();
    let called = |v: Verdict| matches!(v, Verdict::Regressed | Verdict::Improved);
    let mut out = BTreeMap::new();
    let mut per_bench: BTreeMap<String, Tally> = BTreeMap::new();
    for name in CORPORA {
        let t: &mut Tally = out.entry(name).or_default();
        for (source, runs) in common::noise_corpus::corpus(name) {
            let runs = &runs;
            for start in 0..=runs.len().saturating_sub(2 * n) {
                let same = compare_rounds(&job(runs, start, n, &|_| 1.0), &rules);
                let slow = compare_rounds(&job(runs, start, n, &|_| 1.10), &rules);
                let limits: BTreeMap<String, f64> = same
                    .iter()
                    .filter_map(|c| Some((c.full_id.clone(), c.limit?)))
                    .collect();
                let at_limit = compare_rounds(
                    &job(runs, start, n, &|id| {
                        1.0 + limits.get(id).copied().unwrap_or(0.0)
                    }),
                    &rules,
                );
                for c in &same {
                    let b: &mut Tally = per_bench
                        .entry(format!("{source} `{}`", c.full_id))
                        .or_default();
                    b.jobs += 1;
                    b.false_alarms += usize::from(called(c.verdict));
                    t.jobs += 1;
                    t.false_alarms += usize::from(called(c.verdict));
                    let regressed = |cs: &[upkeep::bench::Comparison]| {
                        cs.iter()
                            .any(|x| x.full_id == c.full_id && x.verdict == Verdict::Regressed)
                    };
                    let limit = c.limit.unwrap_or(f64::INFINITY);
                    if limit <= 0.10 {
                        t.within += 1;
                        t.caught_10 += usize::from(regressed(&slow));
                        b.within += 1;
                        b.caught_10 += usize::from(regressed(&slow));
                    }
                    if limit <= 3.0 {
                        t.at_limit += 1;
                        t.caught_at_limit += usize::from(regressed(&at_limit));
                        b.at_limit += 1;
                        b.caught_at_limit += usize::from(regressed(&at_limit));
                    }
                    // The first round's pair alone, as criterion or a 200 % alert would see it.
                    let (base, head) = (&runs[start], &runs[start + 1]);
                    let b = base.iter().find(|m| m.id == c.full_id).unwrap();
                    let h = head.iter().find(|m| m.id == c.full_id).unwrap();
                    let hs = &scaled(std::slice::from_ref(h), &|_| 1.10)[0];
                    t.crit_false += usize::from(called(criterion_rule(b, h)));
                    t.crit_caught += usize::from(criterion_rule(b, hs) == Verdict::Regressed);
                    t.alert_false += usize::from(ratio_alert(b, h, 2.0) == Verdict::Regressed);
                    t.alert_caught += usize::from(ratio_alert(b, hs, 2.0) == Verdict::Regressed);
                }
            }
        }
    }
    println!("\n{n} rounds:\n\n| corpus | benchmark-jobs | upkeep interleaved: false alarms | limit ≤ 10 %: share, 10 % caught | at exactly the limit: caught | criterion's rule (round 1): false alarms, 10 % caught | 200 % alert: false alarms, 10 % caught |\n|---|---|---|---|---|---|---|");
    for (name, t) in &out {
        println!(
            "| {name} | {} | {:.2} % | {:.0} %, {:.1} % | {:.1} % | {:.1} %, {:.1} % | {:.2} %, {:.1} % |",
            t.jobs,
            pct(t.false_alarms, t.jobs),
            pct(t.within, t.jobs),
            pct(t.caught_10, t.within),
            pct(t.caught_at_limit, t.at_limit),
            pct(t.crit_false, t.jobs),
            pct(t.crit_caught, t.jobs),
            pct(t.alert_false, t.jobs),
            pct(t.alert_caught, t.jobs),
        );
    }
    (out, per_bench)
}

#[test]
fn interleaved_jobs_catch_ten_percent_where_their_limit_says_so_with_few_false_alarms() {
    for n in [3, 5] {
        let (tallies, per_bench) = judge(n);
        let sum = |f: &dyn Fn(&Tally) -> usize| tallies.values().map(f).sum::<usize>();
        let (jobs, false_alarms) = (sum(&|t| t.jobs), sum(&|t| t.false_alarms));
        let (within, caught) = (sum(&|t| t.within), sum(&|t| t.caught_10));
        let (at, caught_at) = (sum(&|t| t.at_limit), sum(&|t| t.caught_at_limit));
        println!(
            "\n{n} rounds, all corpora: false alarms {false_alarms} of {jobs} ({:.2} %); limit ≤ 10 % on {within} ({:.0} %), 10 % caught {caught} ({:.1} %); at the limit caught {caught_at} of {at} ({:.1} %)",
            pct(false_alarms, jobs),
            pct(within, jobs),
            pct(caught, within),
            pct(caught_at, at)
        );
        assert!(jobs > 500, "{jobs}");
        assert!(
            pct(false_alarms, jobs) <= 1.0,
            "{n} rounds: {false_alarms} of {jobs}"
        );
        assert!(
            within > jobs / 2,
            "{n} rounds: most benchmarks can see 10 %: {within} of {jobs}"
        );
        assert!(
            pct(caught, within) >= 95.0,
            "{n} rounds: {caught} of {within}"
        );
        assert!(
            pct(caught_at, at) >= 95.0,
            "{n} rounds: {caught_at} of {at}"
        );
        // Issue 24 asks it of every benchmark whose limit is at most 10 %; at 5 rounds, the
        // recommended setting, each one is held to it on its own.
        println!("\n{n} rounds, per benchmark:\n\n| source and benchmark | jobs | false alarms | limit ≤ 10 % in | 10 % caught | at exactly the limit: caught |\n|---|---|---|---|---|---|");
        for (id, b) in &per_bench {
            println!(
                "| {id} | {} | {} | {} | {:.1} % | {:.1} % |",
                b.jobs,
                b.false_alarms,
                b.within,
                pct(b.caught_10, b.within),
                pct(b.caught_at_limit, b.at_limit)
            );
            if n == 5 && b.at_limit > 0 {
                assert!(
                    pct(b.caught_at_limit, b.at_limit) >= 95.0,
                    "{id}: {} of {} at the limit",
                    b.caught_at_limit,
                    b.at_limit
                );
            }
            if n == 5 && b.within > 0 {
                assert!(
                    pct(b.false_alarms, b.jobs) <= 1.0,
                    "{id}: {} of {}",
                    b.false_alarms,
                    b.jobs
                );
                assert!(
                    pct(b.caught_10, b.within) >= 95.0,
                    "{id}: {} of {}",
                    b.caught_10,
                    b.within
                );
            }
        }
    }
}
