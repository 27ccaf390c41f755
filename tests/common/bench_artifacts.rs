//! Benchmark artifacts for scenario tests: a corpus run zipped as the reusable workflow uploads
//! it, with every sample scaled (a slowdown), with or without gungraun's instruction counts, and
//! any zip.

use std::io::Write;

use serde_json::{json, Value};

/// A zip of one corpus run (`tests/fixtures/bench-noise/upkeep/runN`), every sample and estimate ×
/// `factor`.
pub fn artifact_from_run(run: u32, factor: f64) -> Vec<u8> {
    zip_of(&entries_from_run(run, factor))
}

/// `artifact_from_run` with gungraun's summaries beside criterion's results, where the reusable
/// workflow puts them (`gungraun/…/summary.json`): those of one run of the instruction-count
/// corpus (`tests/fixtures/bench-instructions/<counts>`, e.g. `same-1` or `extra-1`).
pub fn artifact_with_counts(run: u32, factor: f64, counts: &str) -> Vec<u8> {
    let mut entries = entries_from_run(run, factor);
    let dir = super::repo_root().join(format!("tests/fixtures/bench-instructions/{counts}"));
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().replace('.', "/");
        entries.push((
            format!("gungraun/upkeep/instructions/{name}/summary.json"),
            std::fs::read(&p).unwrap(),
        ));
    }
    zip_of(&entries)
}

fn entries_from_run(run: u32, factor: f64) -> Vec<(String, Vec<u8>)> {
    let mut entries = results_of("bench-noise", run, factor);
    entries.push((
        "upkeep-runner.json".into(),
        br#"{"os":"Linux","arch":"X64","label":"ubuntu-latest"}"#.to_vec(),
    ));
    entries
}

/// An interleaved job as the reusable workflow uploads it (`interleave: rounds`): the 2 ×
/// `rounds` consecutive runs of `corpus` from run `first` taking turns as base and head (the
/// base first in odd rounds), every head sample × `factor`.
pub fn interleaved_artifact(corpus: &str, first: u32, rounds: u32, factor: f64) -> Vec<u8> {
    let mut entries = Vec::new();
    for r in 0..rounds {
        let (a, b) = (first + 2 * r, first + 2 * r + 1);
        let (base, head) = if r % 2 == 0 { (a, b) } else { (b, a) };
        for (side, run, f) in [("baseline", base, 1.0), ("head", head, factor)] {
            for (path, bytes) in results_of(corpus, run, f) {
                entries.push((format!("interleaved/round-{}/{side}/{path}", r + 1), bytes));
            }
        }
    }
    entries.push((
        "upkeep-runner.json".into(),
        br#"{"os":"Linux","arch":"X64","label":"ubuntu-latest"}"#.to_vec(),
    ));
    zip_of(&entries)
}

/// The result files of run `run` of `corpus`'s upkeep source, every time × `factor`.
pub fn results_of(corpus: &str, run: u32, factor: f64) -> Vec<(String, Vec<u8>)> {
    let root = super::repo_root().join(format!("tests/fixtures/{corpus}/upkeep/run{run}"));
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let mut bytes = std::fs::read(&p).unwrap();
            if rel.ends_with("sample.json") {
                let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                let times: Vec<f64> = v["times"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_f64().unwrap() * factor)
                    .collect();
                v["times"] = json!(times);
                bytes = serde_json::to_vec(&v).unwrap();
            }
            if rel.ends_with("estimates.json") {
                // The same slowdown in criterion's estimates, which must agree with the samples.
                let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                scale_times(&mut v, factor);
                bytes = serde_json::to_vec(&v).unwrap();
            }
            entries.push((rel, bytes));
        }
    }
    entries
}

/// Every time in an `estimates.json` × `factor` (all its numbers but confidence levels).
fn scale_times(v: &mut Value, factor: f64) {
    match v {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if key != "confidence_level" {
                    scale_times(field, factor);
                }
            }
        }
        Value::Number(n) => *v = json!(n.as_f64().unwrap() * factor),
        _ => {}
    }
}

pub fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in entries {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}
