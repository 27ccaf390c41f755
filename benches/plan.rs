//! Planning cost without the network: a workspace of 4 members with 60 direct dependencies and
//! a 300-package `Cargo.lock`, each crate with 40 published versions (some yanked, some needing
//! a newer Rust, some fresh), from the files to the plan: lockfile parse, discovery, plan.
//! Run: `cargo bench --bench plan`. Target (issue 4): < 50 ms.

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use upkeep::config::{self};
use upkeep::deps::{discover, plan, Discovery, PlanInput};

#[path = "support/plan_world.rs"]
mod plan_world;
use plan_world::world;

fn bench(c: &mut Criterion) {
    let (tree, files, index) = world();
    let parsed =
        config::parse("[cooldown]\nsemver-patch-days = 3\nopen-pull-requests-limit = 10\n");
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap();
    c.bench_function("plan/300-crate lockfile (discover + parse + plan)", |b| {
        b.iter(|| {
            let Discovery::Found(ws) = discover(&tree, &files) else {
                panic!("all files are there")
            };
            let p = plan(&PlanInput {
                workspace: &ws[0],
                config: &parsed.config,
                versions: &index,
                open_prs: &[],
                now,
            });
            assert!(!p.pull_requests.is_empty());
            p
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
