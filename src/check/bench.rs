//! `upkeep check PATH` compares benchmarks too: criterion keeps the latest run in
//! `target/criterion/**/new` and the previous (or a saved baseline) in `**/base`; the same pure
//! verdicts the server gives decide each benchmark (no history locally, so the minimum change
//! alone is the threshold).

use std::collections::BTreeMap;
use std::path::Path;

use crate::bench::{compare, from_layout, Comparison, ParseError, Rules};

/// Bytes read from `target/criterion` at most (result files are small; reports are skipped).
const MAX_TOTAL: u64 = 256 * 1024 * 1024;

/// The comparison of `root/target/criterion`'s `new` results against `base`, when both exist.
pub fn compare_local(root: &Path) -> Result<Option<Vec<Comparison>>, ParseError> {
    let dir = root.join("target/criterion");
    if !dir.is_dir() {
        return Ok(None);
    }
    let files = result_files(&dir);
    let base = from_layout(&files, "base")?;
    let new = from_layout(&files, "new")?;
    if base.is_empty() || new.is_empty() {
        return Ok(None);
    }
    Ok(Some(compare(
        &base,
        &new,
        &BTreeMap::new(),
        &Rules::default(),
    )))
}

/// `benchmark.json` and `sample.json` files under `dir`, by relative path.
fn result_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
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
            } else if kind.is_file()
                && matches!(
                    e.file_name().to_str(),
                    Some("benchmark.json" | "sample.json")
                )
            {
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
