//! The benchmark noise corpora (tests/fixtures/bench-noise*, made by
//! scripts/bench-noise-corpus.sh): real criterion runs of the same code, one after another on
//! one machine, per source (upkeep's own benchmarks, the `hex` crate's).

use std::collections::BTreeMap;

use upkeep::bench::{from_layout, Measured};

/// Per source: the runs, each a list of benchmarks.
pub fn corpus(name: &str) -> BTreeMap<String, Vec<Vec<Measured>>> {
    let root = super::repo_root().join("tests/fixtures").join(name);
    let mut out = BTreeMap::new();
    for source in std::fs::read_dir(&root).unwrap() {
        let source = source.unwrap().path();
        if !source.is_dir() {
            continue;
        }
        let mut runs: Vec<_> = std::fs::read_dir(&source)
            .unwrap()
            .map(|r| r.unwrap().path())
            .collect();
        // run1, run2, …, run10: in the order they ran.
        runs.sort_by_key(|r| {
            r.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("run"))
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(u32::MAX)
        });
        let runs: Vec<Vec<Measured>> = runs
            .iter()
            .map(|r| from_layout(&super::files_under(r), "new").unwrap())
            .collect();
        out.insert(
            source.file_name().unwrap().to_string_lossy().into_owned(),
            runs,
        );
    }
    out
}

/// Run `run` (from 1) of `source` in `corpus`.
pub fn run(corpus: &str, source: &str, run: u32) -> Vec<Measured> {
    let dir = super::repo_root().join(format!("tests/fixtures/{corpus}/{source}/run{run}"));
    from_layout(&super::files_under(&dir), "new").unwrap()
}
