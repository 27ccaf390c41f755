//! What people read about a comparison: the check run's title and Markdown table (worst first),
//! and the PR comment, found again by its marker and edited in place. Pure.

use std::fmt::Write as _;

use super::counts::{CountComparison, PRIOR_NOISE};
use super::gungraun::Metric;
use super::limits::{self, WANTED};
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

/// The check run's title over wall times alone.
pub fn title(cs: &[Comparison]) -> String {
    title_with(&[], cs)
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

/// What the head was compared with.
#[derive(Debug, Clone, Copy)]
pub enum Basis<'a> {
    /// The default branch's latest results (named), their noise band from its history.
    History(&'a str),
    /// The PR's base, built and run in the same job, `rounds` rounds taking turns.
    Interleaved { base: &'a str, rounds: usize },
}

impl Basis<'_> {
    fn intro(&self) -> String {
        match self {
            Basis::History(base) => format!(
                "Compared with {base}. A change counts only when it is significant (Welch's t-test, Holm-corrected), its interval excludes zero, and it exceeds both 5 % and the benchmark's own noise band from the default branch's history. Times are each run's 5th percentile per iteration (noise only adds time)."
            ),
            Basis::Interleaved { base, rounds } => format!(
                "Compared with {base}, built and run in the same job: {rounds} rounds, base and head taking turns, so both saw the same machine. Each round's head-over-base ratio is one measurement; a change counts only when their mean is significant (t-test over the rounds, Holm-corrected), its interval excludes zero, and it exceeds 5 %. Base and Head are the rounds' medians of each run's 5th percentile per iteration."
            ),
        }
    }
}

/// The table, worst first. `basis` says what was compared against; `chart` turns a
/// benchmark id into its trend chart's URL, linked from regressed rows.
pub fn table(
    cs: &[Comparison],
    basis: &Basis<'_>,
    chart: Option<&(dyn Fn(&str) -> String + Sync)>,
) -> String {
    let mut s = format!("{}\n\n", basis.intro());
    let _ = writeln!(
        s,
        "| Benchmark | Base | Head | Change | 99 % interval | Noise band | Can detect | Verdict |\n|---|---|---|---|---|---|---|---|"
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
        let mark = mark(c.verdict);
        let detect = c.limit.map_or_else(|| "–".to_owned(), limits::text);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:+.1} % | [{:+.1} %, {:+.1} %] | {band} | {detect} | {mark}{trend} |",
            code(&c.full_id),
            time(c.base_ns),
            time(c.head_ns),
            100.0 * c.change,
            100.0 * c.interval.0,
            100.0 * c.interval.1,
        );
    }
    s.push_str(&blind_spots(cs));
    s
}

/// A verdict as the tables show it.
fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Regressed => "🔴 regressed",
        Verdict::Improved => "🟢 improved",
        Verdict::Unchanged => "unchanged",
        Verdict::TooNoisy => "❔ too noisy to tell",
        Verdict::Unconfirmed => "❔ unconfirmed (re-run to confirm)",
    }
}

/// A benchmark id as inline code in a Markdown table (its `|` escaped).
fn code(id: &str) -> String {
    format!("`{}`", id.replace('|', "\\|"))
}

/// The benchmarks whose detection limit is above [`WANTED`], widest first, and what that
/// means: a smaller slowdown there is not seen, however the rule is tuned, and how to fix it.
fn blind_spots(cs: &[Comparison]) -> String {
    let mut wide: Vec<(&str, f64)> = cs
        .iter()
        .filter_map(|c| Some((c.full_id.as_str(), c.limit.filter(|l| *l > WANTED)?)))
        .collect();
    if wide.is_empty() {
        return String::new();
    }
    wide.sort_by(|a, b| b.1.total_cmp(&a.1));
    let list: Vec<String> = wide
        .iter()
        .map(|(id, limit)| format!("{} ({})", code(id), limits::text(*limit)))
        .collect();
    format!(
        "\n**Blind spots**: {} cannot see a {:.0} % slowdown on this runner class: the smallest slowdown caught 95 % of the time, from the default branch's recent results, is shown. A smaller one there is not seen, and its absence proves nothing. To fix: {}.\n",
        list.join(", "),
        100.0 * WANTED,
        limits::FIX
    )
}

/// The PR comment (only posted when something regressed).
pub fn comment(
    counted: &[CountComparison],
    count_base: &str,
    cs: &[Comparison],
    basis: &Basis<'_>,
    slug: &str,
    chart: Option<&(dyn Fn(&str) -> String + Sync)>,
) -> String {
    format!(
        "**Benchmarks**: {}.\n\n{}\nComment `@{slug} bench` to post this comparison again.\n\n{COMMENT_MARKER}\n",
        title_with(counted, cs),
        summary(counted, count_base, cs, basis, chart)
    )
}

/// The check run's title over both kinds of result: instruction counts and wall times.
pub fn title_with(counted: &[CountComparison], cs: &[Comparison]) -> String {
    let (r, i, noisy, total) = counts(cs);
    let n = |v| counted.iter().filter(|c| c.verdict == v).count();
    let (r, i, total) = (
        r + n(Verdict::Regressed),
        i + n(Verdict::Improved),
        total + counted.len(),
    );
    match (r, total) {
        (_, 0) => "No benchmark to compare with the baseline".to_owned(),
        (0, _) if counted.is_empty() => {
            format!("No regression in {total} benchmarks ({i} improved, {noisy} too noisy to tell)")
        }
        (0, _) => format!("No regression in {total} benchmarks ({i} improved)"),
        _ => format!("{r} of {total} benchmarks regressed"),
    }
}

/// A count, readably (`3.83 M`).
fn count(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.2} G", n / 1e9),
        n if n >= 1e6 => format!("{:.2} M", n / 1e6),
        n if n >= 1e3 => format!("{:.2} k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// The instruction-count table, worst first.
pub fn count_table(counted: &[CountComparison], base: &str) -> String {
    let mut s = format!(
        "### Instruction counts (Callgrind)\n\nCompared with {base}. Counts hardly move between runs of the same code, so a change counts when it exceeds both 1 % and four times the largest step that benchmark's count took between the default branch's recent commits ({:.1} % until it has that history). The verdict rests on instructions and estimated cycles; cache hits are shown, not judged.\n\n",
        100.0 * PRIOR_NOISE
    );
    let _ = writeln!(
        s,
        "| Benchmark | Instructions | Change | Threshold | Est. cycles | RAM hits | Verdict |\n|---|---|---|---|---|---|---|"
    );
    let change = |c: &CountComparison, m: Metric| {
        c.metric(m)
            .map(|m| format!("{:+.2} %", 100.0 * m.judged.change))
            .unwrap_or_else(|| "–".into())
    };
    for c in counted {
        let (instructions, threshold) = match c.metric(Metric::Instructions) {
            Some(m) => (
                format!("{} → {}", count(m.base), count(m.head)),
                format!("±{:.1} %", 100.0 * m.judged.threshold),
            ),
            None => ("–".into(), "–".into()),
        };
        let _ = writeln!(
            s,
            "| {} | {instructions} | {} | {threshold} | {} | {} | {} |",
            code(&c.id),
            change(c, Metric::Instructions),
            change(c, Metric::EstimatedCycles),
            change(c, Metric::RamHits),
            mark(c.verdict),
        );
    }
    s
}

/// Everything compared, instruction counts first (against `count_base`, the default branch's
/// counts); the wall-time table under its own heading when both are there.
pub fn summary(
    counted: &[CountComparison],
    count_base: &str,
    cs: &[Comparison],
    basis: &Basis<'_>,
    chart: Option<&(dyn Fn(&str) -> String + Sync)>,
) -> String {
    if counted.is_empty() {
        return table(cs, basis, chart);
    }
    let mut s = count_table(counted, count_base);
    if !cs.is_empty() {
        s.push_str("\n### Wall time\n\n");
        s.push_str(&table(cs, basis, chart));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(id: &str, band: Option<f64>, verdict: Verdict) -> Comparison {
        Comparison {
            full_id: id.into(),
            base_ns: 100.0,
            head_ns: 101.0,
            change: 0.01,
            interval: (-0.02, 0.04),
            p_value: 0.5,
            p_adjusted: 1.0,
            noise_band: band,
            threshold: band.unwrap_or(0.05).max(0.05),
            limit: None,
            verdict,
        }
    }

    #[test]
    fn benchmarks_that_cannot_see_ten_percent_are_named_as_blind_spots_widest_first() {
        let limited = |id: &str, limit: Option<f64>| Comparison {
            limit,
            ..compared(id, Some(0.02), Verdict::Unchanged)
        };
        let cs = [
            limited("steady", Some(0.06)),
            limited("sqlite", Some(0.43)),
            limited("disk", Some(0.15)),
            limited("wild", Some(f64::INFINITY)),
            limited("new", None),
        ];
        let t = table(&cs, &Basis::History("`main`"), None);
        assert!(
            t.contains("**Blind spots**: `wild` (> 300 %), `sqlite` (≥ 43 %), `disk` (≥ 15 %) cannot see a 10 % slowdown"),
            "{t}"
        );
        assert!(t.contains("| ≥ 6 % | unchanged |"), "{t}");
        assert!(t.contains("| – | unchanged |"), "{t}");
        assert!(t.contains("gungraun-bench-args"), "the fix is named: {t}");
        let quiet = table(&cs[..1], &Basis::History("`main`"), None);
        assert!(!quiet.contains("Blind spots"), "{quiet}");
    }
}
