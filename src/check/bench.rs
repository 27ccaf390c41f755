//! `upkeep check` compares benchmarks too, with no history: criterion keeps the latest run in
//! `target/criterion/**/new` and the previous (or a saved baseline) in `**/base`, and gungraun
//! keeps each benchmark's `summary.json` under `target/gungraun` with the new run's counts beside
//! the previous run's. Counts are judged first, by the same core the server uses (without
//! history, its stated prior); times by the server's verdicts, and then by the between-process
//! prior (`bench::prior`): one pair of processes cannot tell a change smaller than what two runs
//! of the same code move apart, so such a change is `unconfirmed`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::bench::counts::{compare_counts, CountComparison, CountHistory, CountRules};
use crate::bench::gungraun::{pairs_of_summary, GungraunError};
use crate::bench::prior::without_history;
use crate::bench::{compare, from_layout, Comparison, ParseError, Rules};

/// Bytes read from `target/criterion` or `target/gungraun` at most (result files are small;
/// reports are skipped).
const MAX_TOTAL: u64 = 256 * 1024 * 1024;

/// The comparison of `root/target/criterion`'s `new` results against `base`, when both exist.
pub fn compare_local(root: &Path) -> Result<Option<Vec<Comparison>>, ParseError> {
    let dir = root.join("target/criterion");
    if !dir.is_dir() {
        return Ok(None);
    }
    let files = result_files(&dir, &["benchmark.json", "sample.json"]);
    let base = from_layout(&files, "base")?;
    let new = from_layout(&files, "new")?;
    if base.is_empty() || new.is_empty() {
        return Ok(None);
    }
    Ok(Some(without_history(compare(
        &base,
        &new,
        &BTreeMap::new(),
        &Rules::default(),
    ))))
}

/// The counts of `root/target/gungraun`'s summaries, new run against the previous one, for the
/// benchmarks that have both.
pub fn compare_local_counts(root: &Path) -> Result<Option<Vec<CountComparison>>, GungraunError> {
    let dir = root.join("target/gungraun");
    if !dir.is_dir() {
        return Ok(None);
    }
    let (mut new, mut old) = (Vec::new(), Vec::new());
    for (path, bytes) in result_files(&dir, &["summary.json"]) {
        let (n, o) = pairs_of_summary(&bytes).map_err(|e| GungraunError::In {
            path,
            source: Box::new(e),
        })?;
        new.extend(n);
        old.extend(o);
    }
    if new.is_empty() || old.is_empty() {
        return Ok(None);
    }
    Ok(Some(compare_counts(
        &old,
        &new,
        &CountHistory::new(),
        &CountRules::default(),
    )))
}

/// The files named one of `names` under `dir`, by relative path.
fn result_files(dir: &Path, names: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && e.file_name() != "report" {
                stack.push(p);
            } else if kind.is_file() && e.file_name().to_str().is_some_and(|n| names.contains(&n)) {
                let size = e.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
                total = total.saturating_add(size);
                if total > MAX_TOTAL {
                    return out;
                }
                if let (Ok(bytes), Ok(rel)) = (std::fs::read(&p), p.strip_prefix(dir)) {
                    out.insert(rel.to_string_lossy().into_owned(), bytes);
                }
            }
        }
    }
    out
}
