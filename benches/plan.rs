//! Planning cost without the network: a workspace of 4 members with 60 direct dependencies and
//! a 300-package `Cargo.lock`, each crate with 40 published versions (some yanked, some needing
//! a newer Rust, some fresh), from the files to the plan: lockfile parse, discovery, plan.
//! Run: `cargo bench --bench plan`. Target (issue 4): < 50 ms.

// The allocator the server runs with (src/main.rs), so the benchmarks measure what production
// does; it also narrowed the spread between runs of the same code (docs/PERFORMANCE.md,
// "Reducing the noise upkeep owns").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "support/plan_world.rs"]
mod plan_world;
use plan_world::world;

fn bench(c: &mut Criterion) {
    let world = world();
    let config = plan_world::config();
    c.bench_function("plan/300-crate lockfile (discover + parse + plan)", |b| {
        b.iter(|| {
            let p = plan_world::plan_once(&world, &config);
            assert!(!p.pull_requests.is_empty());
            p
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
