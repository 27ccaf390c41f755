//! The noise corpora (tests/fixtures/bench-noise, -quiet, -steady and -short, made by
//! scripts/bench-noise-corpus.sh): real criterion runs of upkeep's own benchmarks and the `hex`
//! crate's, repeated on one machine with no code change. Every ordered pair of runs is an A/A
//! comparison (no change happened), judged with the history a default branch would have (every
//! run but the head's), and a 10 % slowdown injected into the head's samples should be called a
//! regression. Issue 7 asks for at most 1 % false alarms and at least 95 % caught; the
//! assertions guard what the rules reach today on this machine's noise (docs/PERFORMANCE.md has
//! the figures). criterion's own rule and a fixed 200 % alert run on the same pairs; the tables
//! are printed (`cargo test --test bench_noise -- --nocapture`) for docs/PERFORMANCE.md.

mod common;

use std::collections::BTreeMap;

use upkeep::bench::stats;
use upkeep::bench::verdict::{criterion_rule, ratio_alert};
use upkeep::bench::{compare, Measured, Rules, Verdict};

/// The corpora: `bench-noise` (the first: every upkeep run, then every hex run, criterion at
/// `--warm-up-time 1 --measurement-time 2`), `bench-noise-quiet` (criterion's default timings,
/// the two sources taking turns, the machine otherwise idle) and `bench-noise-steady` (the same
/// with address-space randomisation off, as the reusable workflow runs benchmarks; a day
/// without slow spells) and `bench-noise-short` (36 runs, the same with criterion at
/// `--warm-up-time 1 --measurement-time 1`: three times the runs, so the rare spell and the
/// slow drift of a working day show).
const CORPORA: [&str; 4] = [
    "bench-noise",
    "bench-noise-quiet",
    "bench-noise-steady",
    "bench-noise-short",
];

/// The corpora whose runs caught slow spells from the machine's neighbours (whole runs or
/// stretches of them several to 85 % slower): where the choices below were made and pay off.
const WITH_SPELLS: [&str; 3] = ["bench-noise", "bench-noise-quiet", "bench-noise-short"];

/// Typical times (the `q` quantile) per benchmark of every run but `skip` (the default branch's
/// history).
fn history(runs: &[Vec<Measured>], skip: &[usize], q: f64) -> BTreeMap<String, Vec<f64>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (r, run) in runs.iter().enumerate() {
        if skip.contains(&r) {
            continue;
        }
        for m in run {
            out.entry(m.id.clone()).or_default().push(m.level(q));
        }
    }
    out
}

fn slowed(runs: &[Measured], factor: f64) -> Vec<Measured> {
    runs.iter()
        .map(|m| Measured {
            samples: m.samples.iter().map(|s| s * factor).collect(),
            ..m.clone()
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    pairs: usize,
    /// A/A pairs called regressed or improved.
    false_alarms: usize,
    /// A/A pairs called too noisy to tell.
    noisy: usize,
    /// Slowed pairs called regressed.
    caught: usize,
}

/// One corpus judged by upkeep's rule, criterion's and a 200 % alert.
struct Judged {
    per_source: Vec<(String, usize, usize, Tally)>,
    /// upkeep's rule, per `source benchmark`.
    per_bench: BTreeMap<String, Tally>,
    ours: Tally,
    crit: Tally,
    alert: Tally,
}

fn pct(n: usize, d: usize) -> f64 {
    100.0 * n as f64 / d.max(1) as f64
}

fn judge(name: &str, rules: &Rules) -> Judged {
    let corpus = common::noise_corpus::corpus(name);
    assert!(
        corpus.len() >= 2,
        "the corpus needs upkeep's and a third-party crate's runs"
    );
    let (mut ours, mut crit, mut alert) = (Tally::default(), Tally::default(), Tally::default());
    let mut per_source = Vec::new();
    let mut per_bench: BTreeMap<String, Tally> = BTreeMap::new();
    for (source, runs) in &corpus {
        assert!(runs.len() >= 4, "{source}: at least 4 runs");
        let mut here = Tally::default();
        for base in 0..runs.len() {
            for head in 0..runs.len() {
                if base == head {
                    continue;
                }
                let h = history(runs, &[head], rules.quantile);
                let same = compare(&runs[base], &runs[head], &h, rules);
                let slow = slowed(&runs[head], 1.10);
                let worse = compare(&runs[base], &slow, &h, rules);
                for c in &same {
                    let w = worse.iter().find(|x| x.full_id == c.full_id).unwrap();
                    let bench = per_bench
                        .entry(format!("{source} `{}`", c.full_id))
                        .or_default();
                    for t in [&mut ours, &mut here, bench] {
                        t.pairs += 1;
                        t.false_alarms += usize::from(matches!(
                            c.verdict,
                            Verdict::Regressed | Verdict::Improved
                        ));
                        t.noisy += usize::from(c.verdict == Verdict::TooNoisy);
                        t.caught += usize::from(w.verdict == Verdict::Regressed);
                    }
                }
                for b in &runs[base] {
                    let (Some(hm), Some(sm)) = (
                        runs[head].iter().find(|m| m.id == b.id),
                        slow.iter().find(|m| m.id == b.id),
                    ) else {
                        continue;
                    };
                    crit.pairs += 1;
                    alert.pairs += 1;
                    crit.false_alarms += usize::from(matches!(
                        criterion_rule(b, hm),
                        Verdict::Regressed | Verdict::Improved
                    ));
                    crit.caught += usize::from(criterion_rule(b, sm) == Verdict::Regressed);
                    alert.false_alarms +=
                        usize::from(ratio_alert(b, hm, 2.0) == Verdict::Regressed);
                    alert.caught += usize::from(ratio_alert(b, sm, 2.0) == Verdict::Regressed);
                }
            }
        }
        per_source.push((source.clone(), runs.len(), runs[0].len(), here));
    }
    let judged = Judged {
        per_source,
        per_bench,
        ours,
        crit,
        alert,
    };
    print_tables(
        &format!("{name}, runs stand for their {} quantile", rules.quantile),
        &judged,
    );
    judged
}

fn print_tables(name: &str, j: &Judged) {
    let Judged {
        per_source,
        per_bench,
        ours,
        crit,
        alert,
    } = j;
    println!("\n{name}:\n");
    println!("| source | runs | benchmarks | A/A pairs | false alarms | too noisy | 10 % slowdowns caught |");
    println!("|---|---|---|---|---|---|---|");
    for (source, runs, benches, t) in per_source {
        println!(
            "| {source} | {runs} | {benches} | {} | {:.2} % | {:.2} % | {:.1} % |",
            t.pairs,
            pct(t.false_alarms, t.pairs),
            pct(t.noisy, t.pairs),
            pct(t.caught, t.pairs)
        );
    }
    println!("\n| source and benchmark | A/A pairs | false alarms | too noisy | 10 % slowdowns caught |\n|---|---|---|---|---|");
    for (bench, t) in per_bench {
        println!(
            "| {bench} | {} | {} | {} | {:.0} % |",
            t.pairs,
            t.false_alarms,
            t.noisy,
            pct(t.caught, t.pairs)
        );
    }
    println!("\n| rule | A/A pairs | false alarms | too noisy | 10 % slowdowns caught |\n|---|---|---|---|---|");
    for (name, t) in [
        (
            "upkeep (Welch + Holm, 99 % interval, max(5 %, noise band))",
            ours,
        ),
        ("criterion's rule (p < 0.05, interval beyond ±1 %)", crit),
        ("fixed 200 % alert", alert),
    ] {
        println!(
            "| {name} | {} | {:.2} % | {:.1} % | {:.1} % |",
            t.pairs,
            pct(t.false_alarms, t.pairs),
            pct(t.noisy, t.pairs),
            pct(t.caught, t.pairs)
        );
    }
}

/// Guards what the rules reach on each corpus today. Issue 7's targets — at most 1 % false
/// alarms and at least 95 % of 10 % slowdowns caught — are met on none for one run per
/// commit (see the bound below and docs/PERFORMANCE.md); these keep the figures from sliding.
#[test]
fn verdicts_on_real_noise_raise_few_false_alarms_and_catch_most_ten_percent_slowdowns() {
    // (corpus, most false alarms, fewest caught), in percent.
    for (name, most_false, fewest_caught) in [
        ("bench-noise", 1.0, 70.0),
        ("bench-noise-quiet", 4.5, 68.0),
        ("bench-noise-steady", 2.0, 76.0),
        ("bench-noise-short", 2.0, 81.0),
    ] {
        let Judged {
            ours, crit, alert, ..
        } = judge(name, &Rules::default());
        let (false_alarms, caught) = (
            pct(ours.false_alarms, ours.pairs),
            pct(ours.caught, ours.pairs),
        );
        assert!(
            false_alarms <= most_false,
            "{name}: false alarms {false_alarms:.2} %"
        );
        assert!(caught >= fewest_caught, "{name}: caught {caught:.1} %");
        assert!(
            ours.false_alarms * 10 < crit.false_alarms,
            "{name}: at least ten times fewer false alarms than criterion's rule"
        );
        assert!(
            caught > pct(alert.caught, alert.pairs),
            "{name}: a 200 % alert catches nothing of 10 %"
        );
    }
}

/// Where the benchmarks themselves are steady, the targets hold: on the short corpus (36 runs)
/// the `hex` crate's nine benchmarks, CPU-bound, raise at most 1 % false alarms and catch at
/// least 95 % of 10 % slowdowns on one run. What keeps the whole corpus from the targets is
/// upkeep's own three benchmarks that wait on the operating system (docs/PERFORMANCE.md).
#[test]
fn on_steady_benchmarks_one_run_meets_the_targets() {
    let judged = judge("bench-noise-short", &Rules::default());
    let (_, _, _, hex) = judged
        .per_source
        .iter()
        .find(|(source, ..)| source == "hex")
        .unwrap();
    let (false_alarms, caught) = (pct(hex.false_alarms, hex.pairs), pct(hex.caught, hex.pairs));
    assert!(false_alarms <= 1.0, "hex: {false_alarms:.2} % false alarms");
    assert!(caught >= 95.0, "hex: {caught:.1} % caught");
}

/// The significance test and the interval on the faster half of each run's samples, against
/// every sample: a clean 10 % slowdown on a benchmark whose runs agree is no longer lost to the
/// slow tail's outliers widening the interval ("too noisy to tell"). More caught and fewer "too
/// noisy" where runs have slow tails; never fewer caught on any corpus (on the steady one, whose
/// tails are clean, the two are the same). What users see, confirmed by a re-run, keeps its false
/// alarms under 1 % (`a_confirming_rerun_removes_the_one_run_spikes`).
#[test]
fn the_fast_half_of_the_samples_tests_better_than_all_of_them() {
    for name in CORPORA {
        let half = judge(name, &Rules::default()).ours;
        let all = judge(
            name,
            &Rules {
                fast_share: 1.0,
                ..Rules::default()
            },
        )
        .ours;
        let spells = WITH_SPELLS.contains(&name);
        assert!(
            half.caught > all.caught || (!spells && half.caught == all.caught),
            "{name}: {} caught on the fast half, {} on every sample",
            half.caught,
            all.caught
        );
        assert!(
            half.noisy < all.noisy || (!spells && half.noisy <= all.noisy),
            "{name}: {} too noisy on the fast half, {} on every sample",
            half.noisy,
            all.noisy
        );
    }
}

/// Noise on a shared machine only adds time, so the fast end of a run (its 5th percentile) is a
/// steadier measure than its median where the machine had slow spells: fewer false alarms and
/// more slowdowns caught on both such corpora — the second made after the choice, so it is a
/// check, not a fit. On the steady corpus, without spells, the median does a little better
/// (`webhook/ingest_sqlite` has runs whose fast end is 30 % under the rest); over all three
/// corpora the fast end still raises fewer false alarms and catches more.
#[test]
fn the_fast_end_of_a_run_beats_its_median() {
    let (mut fast_total, mut median_total) = (Tally::default(), Tally::default());
    for name in CORPORA {
        let fast = judge(name, &Rules::default()).ours;
        let median = judge(
            name,
            &Rules {
                quantile: 0.5,
                ..Rules::default()
            },
        )
        .ours;
        if WITH_SPELLS.contains(&name) {
            assert!(
                fast.false_alarms < median.false_alarms,
                "{name}: {} false alarms at the fast end, {} at the median",
                fast.false_alarms,
                median.false_alarms
            );
            assert!(
                fast.caught > median.caught,
                "{name}: {} caught at the fast end, {} at the median",
                fast.caught,
                median.caught
            );
        }
        for (total, t) in [(&mut fast_total, fast), (&mut median_total, median)] {
            total.false_alarms += t.false_alarms;
            total.caught += t.caught;
        }
    }
    assert!(
        fast_total.false_alarms < median_total.false_alarms
            && fast_total.caught > median_total.caught,
        "over every corpus: {} false alarms and {} caught at the fast end, {} and {} at the median",
        fast_total.false_alarms,
        fast_total.caught,
        median_total.false_alarms,
        median_total.caught
    );
}

/// No rule that judges one run per commit reaches issue 7's targets on this machine's noise:
/// the tripwire fails the day a corpus is quiet enough, so the guards above get tightened.
#[test]
fn no_single_run_rule_can_reach_the_targets_on_this_machines_noise() {
    for name in CORPORA {
        let bound = bound(name);
        assert!(
            bound < 95.0,
            "{name} became quiet enough for issue 7's targets ({bound:.1} %): tighten the guards"
        );
    }
}

/// What auto-revert and PRs act on — a regression that a re-run confirms — stays under 1 % false
/// alarms on every corpus.
#[test]
fn a_confirming_rerun_removes_the_one_run_spikes() {
    for name in CORPORA {
        let t = confirmed(name);
        assert!(
            pct(t.false_alarms, t.pairs) <= 1.0,
            "{name}: {} of {}",
            t.false_alarms,
            t.pairs
        );
    }
}

/// The most any rule that judges one run per commit could catch on this corpus without a false
/// alarm: per benchmark, the head run's typical time against the median of the other runs, and
/// the threshold — chosen knowing every run, which no real rule can — that raises no false alarm
/// and catches the most 10 % slowdowns. Printed for docs/PERFORMANCE.md
/// (`cargo test --test bench_noise -- --nocapture`).
fn bound(name: &str) -> f64 {
    let corpus = common::noise_corpus::corpus(name);
    println!("\n{name}:\n");
    println!("| source | benchmark | run-to-run spread | best threshold | 10 % slowdowns caught at best |");
    println!("|---|---|---|---|---|");
    let (mut heads, mut caught) = (0usize, 0usize);
    for (source, runs) in &corpus {
        let ids: Vec<String> = runs[0].iter().map(|m| m.id.clone()).collect();
        for id in ids {
            let typical: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.iter().find(|m| m.id == id).map(Measured::typical))
                .collect();
            let devs: Vec<f64> = (0..typical.len())
                .map(|h| {
                    let others: Vec<f64> = typical
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| *k != h)
                        .map(|(_, t)| *t)
                        .collect();
                    typical[h] / stats::quantile(&others, 0.5) - 1.0
                })
                .collect();
            // No false alarm: the threshold is at least the largest A/A deviation.
            let threshold = devs.iter().fold(0.05_f64, |t, d| t.max(d.abs()));
            let here = devs
                .iter()
                .filter(|d| (1.0 + **d) * 1.10 - 1.0 > threshold)
                .count();
            let lo = devs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = devs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            println!(
                "| {source} | `{id}` | {:+.0} % to {:+.0} % | {:.1} % | {:.0} % |",
                lo * 100.0,
                hi * 100.0,
                threshold * 100.0,
                100.0 * here as f64 / devs.len() as f64
            );
            heads += devs.len();
            caught += here;
        }
    }
    let bound = pct(caught, heads);
    println!("\nAt best, with no false alarm: {bound:.1} % of 10 % slowdowns caught ({caught} of {heads}).");
    bound
}

/// What the default branch's revert flow sees: a regression is acted on only when a re-run of
/// the same commit regresses too. Each head run's re-run is the next run in the corpus (runs
/// were made one after the other, so drift is shared as it would be in a re-run), judged with a
/// history holding neither.
fn confirmed(name: &str) -> Tally {
    let corpus = common::noise_corpus::corpus(name);
    let rules = Rules::default();
    let mut t = Tally::default();
    for (source, runs) in &corpus {
        let mut here = Tally::default();
        let n = runs.len();
        for head in 0..n {
            let again = (head + 1) % n;
            let h = history(runs, &[head, again], rules.quantile);
            for base in (0..n).filter(|b| *b != head && *b != again) {
                let verdicts = |run: &[Measured]| -> BTreeMap<String, Verdict> {
                    compare(&runs[base], run, &h, &rules)
                        .into_iter()
                        .map(|c| (c.full_id, c.verdict))
                        .collect()
                };
                let (first, second) = (verdicts(&runs[head]), verdicts(&runs[again]));
                let (slow1, slow2) = (
                    verdicts(&slowed(&runs[head], 1.10)),
                    verdicts(&slowed(&runs[again], 1.10)),
                );
                for (id, v) in &first {
                    let alarm = |v: &Verdict| matches!(v, Verdict::Regressed | Verdict::Improved);
                    here.pairs += 1;
                    here.false_alarms += usize::from(alarm(v) && second.get(id).is_some_and(alarm));
                    here.caught += usize::from(
                        slow1.get(id) == Some(&Verdict::Regressed)
                            && slow2.get(id) == Some(&Verdict::Regressed),
                    );
                }
            }
        }
        println!(
            "\n{name} {source}: | upkeep's rule, confirmed by a re-run | {} | {:.2} % | {:.1} % |",
            here.pairs,
            pct(here.false_alarms, here.pairs),
            pct(here.caught, here.pairs)
        );
        t.pairs += here.pairs;
        t.false_alarms += here.false_alarms;
        t.caught += here.caught;
    }
    println!(
        "\n{name}: | upkeep's rule, confirmed by a re-run | {} | {:.2} % | {:.1} % |",
        t.pairs,
        pct(t.false_alarms, t.pairs),
        pct(t.caught, t.pairs)
    );
    t
}

/// `upkeep check` has one pair of processes and no history. On every ordered A/A pair of every
/// corpus, upkeep's verdicts with the between-process prior call nothing; criterion's own rule
/// and upkeep's verdicts without the prior call many pairs; a 4× slowdown is called by all.
/// The largest factor between two runs is printed: the prior's figure (`bench::prior`).
#[test]
fn one_pair_without_history_calls_no_process_noise_a_change_and_four_times_slower_one() {
    use upkeep::bench::prior::{without_history, BETWEEN_PROCESS_FACTOR};
    let rules = Rules::default();
    println!("\n| corpus | A/A pairs | upkeep with the prior: called | without it | criterion's rule | 200 % alert | 4× caught (prior) |\n|---|---|---|---|---|---|---|");
    let mut widest: f64 = 1.0;
    let (mut all_pairs, mut all_called, mut all_slow_missed) = (0, 0, 0);
    let mut missed_as: BTreeMap<String, usize> = BTreeMap::new();
    for name in CORPORA {
        let (mut pairs, mut called, mut raw, mut crit, mut alert, mut caught) = (0, 0, 0, 0, 0, 0);
        for runs in common::noise_corpus::corpus(name).values() {
            for (i, base) in runs.iter().enumerate() {
                for (j, head) in runs.iter().enumerate() {
                    if i == j {
                        continue;
                    }
                    let same = compare(base, head, &BTreeMap::new(), &rules);
                    let slow = slowed(head, 4.0);
                    let four = without_history(compare(base, &slow, &BTreeMap::new(), &rules));
                    for c in &same {
                        let ratio = 1.0 + c.change;
                        widest = widest.max(ratio.max(1.0 / ratio));
                        raw += usize::from(matches!(
                            c.verdict,
                            Verdict::Regressed | Verdict::Improved
                        ));
                        let b = base.iter().find(|m| m.id == c.full_id).unwrap();
                        let h = head.iter().find(|m| m.id == c.full_id).unwrap();
                        crit += usize::from(matches!(
                            criterion_rule(b, h),
                            Verdict::Regressed | Verdict::Improved
                        ));
                        alert += usize::from(ratio_alert(b, h, 2.0) == Verdict::Regressed);
                    }
                    for c in without_history(same) {
                        pairs += 1;
                        called += usize::from(matches!(
                            c.verdict,
                            Verdict::Regressed | Verdict::Improved
                        ));
                    }
                    for c in &four {
                        if c.verdict == Verdict::Regressed {
                            caught += 1;
                        } else {
                            let ratio = format!("{} ×{:.1}", c.verdict.as_str(), 1.0 + c.change);
                            *missed_as.entry(ratio).or_insert(0usize) += 1;
                        }
                    }
                }
            }
        }
        println!(
            "| {name} | {pairs} | {called} | {raw} ({:.1} %) | {crit} ({:.1} %) | {alert} ({:.2} %) | {caught} / {pairs} |",
            pct(raw, pairs),
            pct(crit, pairs),
            pct(alert, pairs)
        );
        all_pairs += pairs;
        all_called += called;
        all_slow_missed += pairs - caught;
    }
    println!("\nwidest factor between two runs of the same code: ×{widest:.2} (prior ×{BETWEEN_PROCESS_FACTOR})");
    assert!(all_pairs > 20_000, "{all_pairs}");
    assert_eq!(all_called, 0, "A/A pairs called a change without history");
    println!(
        "4× slowdowns not called regressed: {all_slow_missed} of {all_pairs}, as {missed_as:?}"
    );
    // A base run caught inside a neighbour's slow spell (up to ×2.29) makes a 4× slower head
    // only ~×1.75 slower than it: honest to call that unconfirmed.
    assert!(
        pct(all_slow_missed, all_pairs) < 1.0,
        "4× slowdowns not called regressed: {all_slow_missed} of {all_pairs}"
    );
    assert!(
        widest < BETWEEN_PROCESS_FACTOR,
        "×{widest}: the prior no longer covers the corpora"
    );
}

/// The published detection limits are honest: in windows of 12 consecutive runs (a default
/// branch's recent history), every other run in turn is the head and the other 11 the history its
/// limits are computed from (`bench::limits`, as ingest does); the head then has one benchmark
/// slowed by exactly that benchmark's limit and is compared, all benchmarks together, with each
/// other run as the baseline: at least 95 % must be called regressed. The limits per benchmark
/// are printed for docs/PERFORMANCE.md.
#[test]
fn a_slowdown_of_exactly_the_published_limit_is_caught_95_percent_of_the_time() {
    let rules = Rules::default();
    let (mut all, mut all_caught) = (0usize, 0usize);
    println!("\n| corpus | source and benchmark | published limit (median, range) | slowdowns at the limit caught |\n|---|---|---|---|");
    for name in CORPORA {
        for (source, runs) in common::noise_corpus::corpus(name) {
            let mut per_bench: BTreeMap<String, (Vec<f64>, usize, usize)> = BTreeMap::new();
            for window in runs.chunks(12).filter(|w| w.len() == 12) {
                for head in (0..window.len()).step_by(2) {
                    let sets: Vec<(String, Vec<Measured>)> = window
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != head)
                        .map(|(i, r)| (format!("run{i}"), r.clone()))
                        .collect();
                    let limits = upkeep::bench::limits::limits(&sets, window[head].len(), &rules);
                    let h = history(window, &[head], rules.quantile);
                    for (id, limit) in limits.iter().filter(|(_, l)| l.is_finite()) {
                        let slow: Vec<Measured> = window[head]
                            .iter()
                            .map(|m| {
                                if &m.id == id {
                                    slowed(std::slice::from_ref(m), 1.0 + limit).remove(0)
                                } else {
                                    m.clone()
                                }
                            })
                            .collect();
                        let e = per_bench.entry(id.clone()).or_default();
                        e.0.push(*limit);
                        for (_, base) in &sets {
                            let c = compare(base, &slow, &h, &rules);
                            let caught = c
                                .iter()
                                .any(|c| &c.full_id == id && c.verdict == Verdict::Regressed);
                            e.1 += 1;
                            e.2 += usize::from(caught);
                        }
                    }
                }
            }
            for (id, (limits, n, caught)) in per_bench {
                println!(
                    "| {name} | {source} `{id}` | ≥ {:.0} % ({:.0}–{:.0} %) | {:.1} % |",
                    100.0 * stats::quantile(&limits, 0.5),
                    100.0 * stats::quantile(&limits, 0.0),
                    100.0 * stats::quantile(&limits, 1.0),
                    pct(caught, n)
                );
                all += n;
                all_caught += caught;
            }
        }
    }
    println!(
        "\nall: {all_caught} of {all} slowdowns at the limit caught ({:.2} %)",
        pct(all_caught, all)
    );
    assert!(all > 5_000, "{all}");
    assert!(pct(all_caught, all) >= 95.0, "{all_caught} of {all}");
}
