//! The parser's cost on the comments a stranger can write: GitHub's cap is 65,536 characters,
//! and the target is under 5 ms for one such comment, whatever it holds (issue 19).
//! Run: `cargo bench -p upkeep-commands --bench parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CAP: usize = 65_536;

fn fill(line: &str) -> String {
    line.repeat(CAP / line.len())
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_65536_chars");
    group.throughput(Throughput::Bytes(CAP as u64));
    let cases = [
        // ~5,000 commands, all the same: the old quadratic key counting.
        ("help_flood", fill("@upkeep help\n")),
        // ~4,000 typos: each one looks for a suggestion.
        ("typo_flood", fill("@upkeep rebsae\n")),
        // One line of 65,536 characters after the mention.
        (
            "one_long_line",
            format!("@upkeep bench {}", "word ".repeat(CAP / 5 - 3)),
        ),
        // No command at all: ordinary prose.
        (
            "prose",
            fill("This change looks good to me, thanks for the update!\n"),
        ),
    ];
    for (name, body) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| upkeep_commands::parse(std::hint::black_box(body), "upkeep"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
