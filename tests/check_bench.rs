//! `upkeep check PATH` on local benchmark results, with no history: criterion's `base` against
//! `new`, and gungraun's summaries (each holding the new run's counts and the run's before).
//! One pair of processes must not call process noise a change: a real A/A pair from this
//! machine's noise corpus is called nothing, a 25 % change is `unconfirmed`, a 4× slowdown is
//! still `regressed`; instruction counts come first, and see a real 2 % change.

mod common;

use std::path::Path;

use serde_json::{json, Value};

use common::bench_artifacts::results_of;
use common::check_cli::{check, fixture_copy};
use common::registry::LoopbackRegistry;

/// Writes a criterion result for `id` under `dir/<which>/` with samples around `mean` ns.
fn criterion_result(dir: &Path, which: &str, id: &str, mean: f64) {
    let d = dir.join(which);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("benchmark.json"),
        json!({ "full_id": id }).to_string(),
    )
    .unwrap();
    let iters: Vec<f64> = (1..=50).map(f64::from).collect();
    let times: Vec<f64> = iters
        .iter()
        .map(|n| n * mean * (1.0 + 0.01 * ((n * 7.0) % 5.0 - 2.0) / 2.0))
        .collect();
    std::fs::write(
        d.join("sample.json"),
        json!({ "sampling_mode": "Linear", "iters": iters, "times": times }).to_string(),
    )
    .unwrap();
}

#[tokio::test]
async fn one_pair_in_target_criterion_calls_only_what_process_noise_cannot_make() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture_copy();
    let crit = repo.join("target/criterion");
    criterion_result(&crit.join("parse"), "base", "parse", 1000.0);
    criterion_result(&crit.join("parse"), "new", "parse", 1250.0);
    criterion_result(&crit.join("slow"), "base", "slow", 1000.0);
    criterion_result(&crit.join("slow"), "new", "slow", 4000.0);
    criterion_result(
        &crit.join("group/render/64"),
        "base",
        "group/render/64",
        500.0,
    );
    criterion_result(
        &crit.join("group/render/64"),
        "new",
        "group/render/64",
        501.0,
    );
    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let benches = report["benchmarks"].as_array().unwrap();
    let verdict = |id: &str| {
        benches
            .iter()
            .find(|b| b["full_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {benches:#?}"))["verdict"]
            .clone()
    };
    assert_eq!(verdict("slow"), "regressed", "4× is beyond process noise");
    assert_eq!(verdict("parse"), "unconfirmed", "+25 % is inside it");
    assert_eq!(verdict("group/render/64"), "unchanged");
    let parse = benches.iter().find(|b| b["full_id"] == "parse").unwrap();
    assert!((parse["change"].as_f64().unwrap() - 0.25).abs() < 0.01);
    assert!(report["instruction_counts"].is_null(), "no target/gungraun");
    let (_, text, _) = check(&repo, &registry.url(), &[]);
    assert!(text.contains("parse: +25.0 %"), "{text}");
    assert!(
        text.contains("unconfirmed (one pair of processes moves up to ×2.5 on shared machines; re-run to confirm)"),
        "{text}"
    );
    assert!(text.contains("slow: +300.0 %"), "{text}");
}

/// Run `run` of a noise corpus's upkeep source as criterion's `which` results under `crit`,
/// every sample and estimate × `factor`.
fn corpus_run_as(crit: &Path, corpus: &str, run: u32, which: &str, factor: f64) {
    for (path, bytes) in results_of(corpus, run, factor) {
        let to = crit.join(path.replace("/new/", &format!("/{which}/")));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
}

#[tokio::test]
async fn a_real_a_a_pair_from_this_machine_is_called_nothing_and_four_times_slower_is() {
    let registry = LoopbackRegistry::start().await;
    // The noisiest source on record: upkeep's own benchmarks, a run two apart in a working day.
    for (factor, called) in [(1.0, None), (4.0, Some("regressed"))] {
        let (_tmp, repo) = fixture_copy();
        let crit = repo.join("target/criterion");
        corpus_run_as(&crit, "bench-noise-short", 3, "base", 1.0);
        corpus_run_as(&crit, "bench-noise-short", 5, "new", factor);
        let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
        assert!(ok, "{stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        let benches = report["benchmarks"].as_array().unwrap();
        assert_eq!(benches.len(), 7, "{benches:#?}");
        for b in benches {
            let verdict = b["verdict"].as_str().unwrap();
            match called {
                None => assert!(
                    !matches!(verdict, "regressed" | "improved"),
                    "×{factor}: {b:#}"
                ),
                Some(expected) => assert_eq!(verdict, expected, "×{factor}: {b:#}"),
            }
        }
    }
}

/// The corpus summary `file` of run `run` (e.g. `extra-1`) under `target/gungraun`; with
/// `same_as_before`, the run before counted exactly what this one did (an A/A pair).
fn summary_as(repo: &Path, run: &str, file: &str, same_as_before: bool) {
    let src = common::repo_root().join(format!(
        "tests/fixtures/bench-instructions/{run}/{file}.json"
    ));
    let mut v: Value = serde_json::from_slice(&std::fs::read(src).unwrap()).unwrap();
    if same_as_before {
        for (_, metric) in v["profiles"][0]["summaries"]["total"]["summary"]["Callgrind"]
            .as_object_mut()
            .unwrap()
        {
            if let Some(both) = metric["metrics"]["Both"].as_array_mut() {
                both[1] = both[0].clone();
            }
        }
    }
    let dir = repo.join("target/gungraun/upkeep/instructions").join(file);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary.json"), v.to_string()).unwrap();
}

#[tokio::test]
async fn instruction_counts_are_judged_first_and_see_a_real_two_percent_change() {
    let registry = LoopbackRegistry::start().await;
    let (_tmp, repo) = fixture_copy();
    // A real extra pass over the input: the run before it was the same code without it.
    summary_as(&repo, "extra-1", "plan_lockfile.lockfile_300", false);
    summary_as(&repo, "same-3", "audit_lockfile.mixed", true);
    let crit = repo.join("target/criterion");
    criterion_result(&crit.join("parse"), "base", "parse", 1000.0);
    criterion_result(&crit.join("parse"), "new", "parse", 1001.0);

    let (ok, stdout, stderr) = check(&repo, &registry.url(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let counted = report["instruction_counts"].as_array().unwrap();
    assert_eq!(counted.len(), 2, "{counted:#?}");
    assert_eq!(
        counted[0]["id"],
        "instructions::noisiest::plan_lockfile lockfile_300"
    );
    assert_eq!(counted[0]["verdict"], "regressed");
    let ir = &counted[0]["metrics"][0];
    assert_eq!(ir["metric"], "instructions");
    assert!(
        (ir["judged"]["change"].as_f64().unwrap() - 0.0199).abs() < 0.001,
        "{ir:#}"
    );
    assert_eq!(counted[1]["verdict"], "unchanged", "{:#}", counted[1]);

    let (_, text, _) = check(&repo, &registry.url(), &[]);
    let counts_at = text
        .find("instruction counts (target/gungraun")
        .unwrap_or_else(|| panic!("{text}"));
    let times_at = text
        .find("benchmarks (target/criterion")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(counts_at < times_at, "counts first: {text}");
    assert!(
        text.contains("instructions::noisiest::plan_lockfile lockfile_300: instructions +1.99 % (threshold ±1.0 %)"),
        "{text}"
    );
}
