//! Auditing lockfiles with the advisory database loaded once: the 22 real lockfiles of
//! `tests/fixtures/audit-corpus`, cycled to 100, against `../shared/advisory-db`.
//! Run: `cargo bench --bench audit`. Target (issue 5): < 5 ms per lockfile.

use std::collections::BTreeSet;
use std::path::PathBuf;

// The allocator the server runs with (src/main.rs), so the benchmarks measure what production
// does; it also narrowed the spread between runs of the same code (docs/PERFORMANCE.md,
// "Reducing the noise upkeep owns").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion};
use upkeep::audit::{audit, AdvisoryDb};

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("UPKEEP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let db = AdvisoryDb::open(&shared.join("advisory-db")).expect("../shared/advisory-db");
    let corpus = root.join("tests/fixtures/audit-corpus");
    let mut locks: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("audit.lock")).ok())
        .collect();
    locks.sort();
    let hundred: Vec<&String> = locks.iter().cycle().take(100).collect();
    let none = BTreeSet::new();
    let mut group = c.benchmark_group("audit");
    group.sample_size(20);
    group.bench_function("100 lockfiles, database loaded once", |b| {
        b.iter(|| {
            hundred
                .iter()
                .map(|l| audit(&db, l, &none).unwrap().len())
                .sum::<usize>()
        })
    });
    group.bench_function("load the database", |b| {
        b.iter(|| AdvisoryDb::open(&shared.join("advisory-db")).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
