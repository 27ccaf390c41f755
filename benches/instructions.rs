//! Instruction counts (gungraun, under Valgrind's Callgrind) for the code whose wall time is
//! noisiest between processes: parsing a webhook delivery, auditing a lockfile, planning a
//! 300-crate lockfile; and, for comparison, a third-party crate's (`toml_edit` reading that
//! lockfile). Counts barely move between runs, so a 1–2% change is visible where wall
//! time needs 10% or more. `UPKEEP_BENCH_EXTRA_PASS=1` adds one more pass over each input (a
//! real change of about 2%, for the detection corpus in docs/PERFORMANCE.md).
//! Run: `cargo bench --bench instructions` (needs `valgrind` and `gungraun-runner` 0.17.2).

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::PathBuf;

use gungraun::{library_benchmark, library_benchmark_group, main, LibraryBenchmarkConfig};
use upkeep::audit::{audit, AdvisoryDb};

#[path = "support/plan_world.rs"]
mod plan_world;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared() -> PathBuf {
    std::env::var_os("UPKEEP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"))
}

/// Whether the run adds the detection corpus's change (`UPKEEP_BENCH_EXTRA_PASS=1`).
fn extra_passes() -> bool {
    std::env::var("UPKEEP_BENCH_EXTRA_PASS").as_deref() == Ok("1")
}

/// One pass over `bytes`: what a careless extra validation of the input costs.
fn pass_over(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(*b))
}

/// `passes` passes over `bytes` (the last one partial) when the corpus's change is asked for:
/// each benchmark's figure is what makes its instruction count about 2% larger (measured on
/// this machine, docs/PERFORMANCE.md).
fn extra_work(bytes: &[u8], passes: f64, on: bool) -> u64 {
    if !on {
        return 0;
    }
    let mut check = 0;
    for _ in 0..passes as usize {
        check ^= pass_over(bytes);
    }
    let rest = ((passes - passes.floor()) * bytes.len() as f64) as usize;
    check ^ pass_over(&bytes[..rest.min(bytes.len())])
}

fn delivery() -> (Vec<u8>, bool) {
    let body = std::fs::read(shared().join("github-webhooks/pull_request/opened.payload.json"))
        .expect("../shared/github-webhooks (set UPKEEP_SHARED_DIR)");
    (body, extra_passes())
}

#[library_benchmark]
#[bench::pull_request_opened(setup = delivery)]
fn parse_delivery((body, extra): (Vec<u8>, bool)) -> usize {
    black_box(extra_work(&body, 0.0537, extra));
    let event = upkeep::webhook::events::Event::parse("pull_request", &body).expect("parses");
    black_box(format!("{event:?}").len())
}

fn lockfile() -> (AdvisoryDb, String, bool) {
    let db = AdvisoryDb::open(&shared().join("advisory-db")).expect("../shared/advisory-db");
    let lock = std::fs::read_to_string(root().join("tests/fixtures/audit-corpus/mixed/audit.lock"))
        .expect("audit corpus");
    (db, lock, extra_passes())
}

#[library_benchmark]
#[bench::mixed(setup = lockfile)]
fn audit_lockfile((db, lock, extra): (AdvisoryDb, String, bool)) -> usize {
    black_box(extra_work(lock.as_bytes(), 9.46, extra));
    black_box(audit(&db, &lock, &BTreeSet::new()).expect("audits").len())
}

fn planning() -> (plan_world::World, bool) {
    (plan_world::world(), extra_passes())
}

#[library_benchmark]
#[bench::lockfile_300(setup = planning)]
fn plan_lockfile((world, extra): (plan_world::World, bool)) -> usize {
    black_box(extra_work(world.1["Cargo.lock"].as_bytes(), 1.57, extra));
    let config = plan_world::config();
    black_box(plan_world::plan_once(&world, &config).pull_requests.len())
}

/// A third-party crate's code: `toml_edit` reading the 300-package `Cargo.lock`.
fn toml_text() -> (String, bool) {
    let (_, files, _) = plan_world::world();
    (files["Cargo.lock"].clone(), extra_passes())
}

#[library_benchmark]
#[bench::lockfile_300(setup = toml_text)]
fn toml_edit_parse((text, extra): (String, bool)) -> usize {
    black_box(extra_work(text.as_bytes(), 0.879, extra));
    let doc: toml_edit::DocumentMut = text.parse().expect("parses");
    black_box(doc.len())
}

library_benchmark_group!(
    name = noisiest;
    benchmarks = parse_delivery, audit_lockfile, plan_lockfile, toml_edit_parse
);

main!(
    // gungraun clears the benchmark's environment; these two it needs.
    config = LibraryBenchmarkConfig::default()
        .pass_through_envs(["UPKEEP_BENCH_EXTRA_PASS", "UPKEEP_SHARED_DIR"]);
    library_benchmark_groups = noisiest
);
