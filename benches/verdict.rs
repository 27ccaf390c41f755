//! What judging a benchmark run costs upkeep's host: the ingest of a run works out every
//! benchmark's detection limit by running the verdict over the default branch's history (a
//! search over some hundred pairs, ten candidate slowdowns each), and an interleaved job is
//! judged on its rounds. Measured on real results: 20 consecutive runs of upkeep's own seven
//! benchmarks (tests/fixtures/bench-noise-short) as the history, and a five-round job of the
//! same runs. Run: `cargo bench --bench verdict`. Target (issue 24): the limits of a
//! 50-benchmark repository (seven times this) well under a second per ingest, off the runtime.

use std::collections::BTreeMap;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use upkeep::bench::interleave::{compare_rounds, Rounds};
use upkeep::bench::limits::limits;
use upkeep::bench::{from_layout, Measured, Rules};

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("under")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&p).expect("file"));
            }
        }
    }
    out
}

fn run(n: u32) -> Vec<Measured> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/bench-noise-short/upkeep/run{n}"));
    from_layout(&files_under(&dir), "new").expect("corpus run")
}

fn bench(c: &mut Criterion) {
    let sets: Vec<(String, Vec<Measured>)> = (1..=20).map(|n| (format!("c{n}"), run(n))).collect();
    let rules = Rules::default();
    c.bench_function("verdict/detection limits, 7 benchmarks x 20 results", |b| {
        b.iter(|| {
            let found = limits(&sets, 7, &rules);
            assert_eq!(found.len(), 7);
            found
        })
    });
    let rounds: Rounds = (0..5)
        .map(|r| (sets[2 * r].1.clone(), sets[2 * r + 1].1.clone()))
        .collect();
    c.bench_function("verdict/interleaved job, 7 benchmarks x 5 rounds", |b| {
        b.iter(|| compare_rounds(&rounds, &rules))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
