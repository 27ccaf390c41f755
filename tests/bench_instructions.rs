//! Instruction counts beat runner noise: the corpus of real gungraun runs on this machine
//! (tests/fixtures/bench-instructions: six runs of `cargo bench --bench instructions` with no
//! change, `same-N`, and six with a real change of about 2%, one more partial pass over each
//! input, `extra-N`; three of upkeep's benchmarks and one of a third-party crate, toml_edit)
//! judged by `bench::counts`, beside a fixed 200% alert. And the summary parser, strictly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;
use upkeep::bench::counts::{judge, CountRules};
use upkeep::bench::gungraun::{from_summary, GungraunError, Metric};
use upkeep::bench::Verdict;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bench-instructions")
}

/// Instruction counts by kind (`same`, `extra`), then benchmark, one per run in run order.
fn corpus() -> BTreeMap<String, BTreeMap<String, Vec<f64>>> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    let mut out: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for run in runs {
        let name = run.file_name().unwrap().to_string_lossy().into_owned();
        let kind = name.split('-').next().unwrap().to_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&run)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let counted = from_summary(&std::fs::read(&f).unwrap()).unwrap();
            let ir = counted
                .iter()
                .find(|c| c.metric == Metric::Instructions)
                .expect("every summary counts instructions");
            out.entry(kind.clone())
                .or_default()
                .entry(ir.id.clone())
                .or_default()
                .push(ir.value);
        }
    }
    out
}

/// (comparisons, calls) over every ordered pair of runs: `base` from `same`, `head` from
/// `heads`, the history the other `same` runs.
fn tally(
    same: &[f64],
    heads: &[f64],
    aa: bool,
    rule: impl Fn(f64, f64, &[f64]) -> Verdict,
) -> (usize, usize) {
    let (mut n, mut called) = (0, 0);
    for (i, base) in same.iter().enumerate() {
        for (j, head) in heads.iter().enumerate() {
            if aa && i == j {
                continue;
            }
            let history: Vec<f64> = same
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != i && !(aa && *k == j))
                .map(|(_, v)| *v)
                .collect();
            n += 1;
            let v = rule(*base, *head, &history);
            if (aa && v != Verdict::Unchanged) || (!aa && v == Verdict::Regressed) {
                called += 1;
            }
        }
    }
    (n, called)
}

#[test]
fn two_percent_changes_are_caught_and_no_change_is_called_one() {
    let corpus = corpus();
    let (same, extra) = (&corpus["same"], &corpus["extra"]);
    assert_eq!(same.len(), 4, "four benchmarks: {:?}", same.keys());
    let rules = CountRules::default();
    let upkeep = |b: f64, h: f64, hist: &[f64]| judge(b, h, hist, &rules).verdict;
    let no_history = |b: f64, h: f64, _: &[f64]| judge(b, h, &[], &rules).verdict;
    let alert_200 = |b: f64, h: f64, _: &[f64]| {
        if h > 2.0 * b {
            Verdict::Regressed
        } else {
            Verdict::Unchanged
        }
    };
    let (mut aa, mut aa_false, mut changes, mut caught) = (0, 0, 0, 0);
    let (mut caught_prior, mut caught_200, mut false_prior) = (0, 0, 0);
    for (id, runs) in same {
        let heads = &extra[id];
        assert_eq!((runs.len(), heads.len()), (6, 6), "{id}");
        let change = heads.iter().sum::<f64>() / runs.iter().sum::<f64>() - 1.0;
        assert!(
            (0.015..0.03).contains(&change),
            "{id}: the corpus's change is about 2%, not {change}"
        );
        let (n, called) = tally(runs, runs, true, upkeep);
        aa += n;
        aa_false += called;
        false_prior += tally(runs, runs, true, no_history).1;
        let (n, c) = tally(runs, heads, false, upkeep);
        changes += n;
        caught += c;
        caught_prior += tally(runs, heads, false, no_history).1;
        caught_200 += tally(runs, heads, false, alert_200).1;
        let spread = runs.iter().cloned().fold(f64::MIN, f64::max)
            / runs.iter().cloned().fold(f64::MAX, f64::min)
            - 1.0;
        println!(
            "{id}: A/A spread {:.5}%, change {:+.3}%",
            spread * 100.0,
            change * 100.0
        );
    }
    println!(
        "upkeep (history): {aa_false}/{aa} A/A false alarms, {caught}/{changes} 2% changes caught; \
         no history (prior): {false_prior}/{aa} false, {caught_prior}/{changes} caught; \
         200% alert: {caught_200}/{changes} caught"
    );
    assert!(aa_false as f64 <= 0.005 * aa as f64, "{aa_false}/{aa}");
    assert!(
        false_prior as f64 <= 0.005 * aa as f64,
        "{false_prior}/{aa}"
    );
    assert!(caught as f64 >= 0.99 * changes as f64, "{caught}/{changes}");
    assert!(
        caught_prior as f64 >= 0.99 * changes as f64,
        "{caught_prior}/{changes}"
    );
    assert_eq!(caught_200, 0, "a 200% alert sees no 2% change");
}

#[test]
fn a_real_summary_reads_as_counts_instructions_first() {
    let file = corpus_dir().join("same-1/plan_lockfile.lockfile_300.json");
    let counted = from_summary(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(counted[0].metric, Metric::Instructions);
    assert_eq!(
        counted[0].id,
        "instructions::noisiest::plan_lockfile lockfile_300"
    );
    let metrics: Vec<&str> = counted.iter().map(|c| c.metric.as_str()).collect();
    assert_eq!(
        metrics,
        [
            "instructions",
            "estimated_cycles",
            "ram_hits",
            "ll_hits",
            "l1_hits"
        ]
    );
    assert!(counted.iter().all(|c| c.value > 0.0));
}

#[test]
fn summaries_upkeep_cannot_trust_are_refused_with_the_reason() {
    let real =
        std::fs::read(corpus_dir().join("same-1/parse_delivery.pull_request_opened.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&real).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut w = v.clone();
        f(&mut w);
        from_summary(&serde_json::to_vec(&w).unwrap())
    };
    assert_eq!(
        with(&|w| w["version"] = "7".into()),
        Err(GungraunError::UnsupportedVersion("7".into()))
    );
    assert_eq!(
        with(&|w| w["id"] = "x".repeat(600).into()),
        Err(GungraunError::IdTooLong)
    );
    let ir = "/profiles/0/summaries/total/summary/Callgrind/Ir/metrics/Both/0/Int";
    assert!(matches!(
        with(&|w| *w.pointer_mut(ir).unwrap() = (-5).into()),
        Err(GungraunError::BadValue(_))
    ));
    assert!(matches!(
        with(&|w| w["profiles"] = serde_json::json!([])),
        Err(GungraunError::Missing(_))
    ));
    assert_eq!(
        from_summary(&vec![b' '; 2 * 1024 * 1024]),
        Err(GungraunError::TooLarge(2 * 1024 * 1024))
    );
    // A comparison run (`Both`: new, old) reads the new value.
    *v.pointer_mut("/profiles/0/summaries/total/summary/Callgrind/Ir/metrics")
        .unwrap() = serde_json::json!({"Both": [{"Int": 120}, {"Int": 100}]});
    let counted = from_summary(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(counted[0].value, 120.0);
}

proptest! {
    #[test]
    fn no_input_makes_the_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = from_summary(&bytes);
    }
}

/// The summaries the last `cargo bench --bench instructions -- --save-summary=json` wrote on
/// this machine all parse (`.ci/run` runs the benchmarks first and sets
/// `UPKEEP_FRESH_GUNGRAUN=1`; elsewhere this is skipped with the reason).
#[test]
fn summaries_this_machine_just_wrote_parse() {
    if std::env::var("UPKEEP_FRESH_GUNGRAUN").as_deref() != Ok("1") {
        println!("skipped: set UPKEEP_FRESH_GUNGRAUN=1 after running the instruction benchmarks");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/gungraun/upkeep/instructions");
    let mut found = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "summary.json") {
                let counted = from_summary(&std::fs::read(&p).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert_eq!(counted[0].metric, Metric::Instructions);
                found += 1;
            }
        }
    }
    assert_eq!(found, 4, "one summary per benchmark");
}
