//! What people read about a comparison: the check run's title and Markdown table (worst first),
//! and the PR comment, found again by its marker and edited in place. Pure.

use std::fmt::Write as _;

use super::verdict::{Comparison, Verdict};

/// The marker in upkeep's benchmark comment on a PR.
pub const COMMENT_MARKER: &str = "<!-- upkeep:bench -->";

/// Counts by verdict: (regressed, improved, too noisy, total).
pub fn counts(cs: &[Comparison]) -> (usize, usize, usize, usize) {
    let n = |v| cs.iter().filter(|c| c.verdict == v).count();
    (
        n(Verdict::Regressed),
        n(Verdict::Improved),
        n(Verdict::TooNoisy),
        cs.len(),
    )
}

/// The check run's title.
pub fn title(cs: &[Comparison]) -> String {
    let (r, i, noisy, total) = counts(cs);
    match (r, total) {
        (_, 0) => "No benchmark to compare with the baseline".to_owned(),
        (0, _) => {
            format!("No regression in {total} benchmarks ({i} improved, {noisy} too noisy to tell)")
        }
        _ => format!("{r} of {total} benchmarks regressed"),
    }
}

/// Nanoseconds, readably.
fn time(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

/// The table, worst first. `base` names what was compared against; `chart` turns a
/// benchmark id into its trend chart's URL, linked from regressed rows.
pub fn table(
    cs: &[Comparison],
    base: &str,
    chart: Option<&(dyn Fn(&str) -> String + Sync)>,
) -> String {
    let mut s = format!(
        "Compared with {base}. A change counts only when it is significant (Welch's t-test, Holm-corrected), its interval excludes zero, and it exceeds both 5 % and the benchmark's own noise band from the default branch's history. Times are each run's 5th percentile per iteration (noise only adds time).\n\n"
    );
    let _ = writeln!(
        s,
        "| Benchmark | Base | Head | Change | 99 % interval | Noise band | Verdict |\n|---|---|---|---|---|---|---|"
    );
    for c in cs {
        let band = c
            .noise_band
            .map(|b| format!("±{:.1} %", 100.0 * b))
            .unwrap_or_else(|| "–".into());
        let trend = match (c.verdict, chart) {
            (Verdict::Regressed, Some(url)) => format!(" ([trend]({}))", url(&c.full_id)),
            _ => String::new(),
        };
        let mark = match c.verdict {
            Verdict::Regressed => "🔴 regressed",
            Verdict::Improved => "🟢 improved",
            Verdict::Unchanged => "unchanged",
            Verdict::TooNoisy => "❔ too noisy to tell",
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {:+.1} % | [{:+.1} %, {:+.1} %] | {band} | {mark}{trend} |",
            c.full_id.replace('|', "\\|"),
            time(c.base_ns),
            time(c.head_ns),
            100.0 * c.change,
            100.0 * c.interval.0,
            100.0 * c.interval.1,
        );
    }
    s
}

/// The PR comment (only posted when something regressed).
pub fn comment(
    cs: &[Comparison],
    base: &str,
    slug: &str,
    chart: Option<&(dyn Fn(&str) -> String + Sync)>,
) -> String {
    format!(
        "**Benchmarks**: {}.\n\n{}\nComment `@{slug} bench` to post this comparison again.\n\n{COMMENT_MARKER}\n",
        title(cs),
        table(cs, base, chart)
    )
}
