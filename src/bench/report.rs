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
            "| {} | {} | {} | {:+.1} % | [{:+.1} %, {:+.1} %] | {band} | {mark}{trend} |",
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

/// A benchmark id as inline code in a Markdown table (its `|` escaped).
fn code(id: &str) -> String {
    format!("`{}`", id.replace('|', "\\|"))
}

/// How far apart runs of the same code may be before a benchmark is called a blind spot.
const BLIND_BAND: f64 = 0.10;

/// The benchmarks whose noise band is over [`BLIND_BAND`], widest first, and what that means:
/// a slowdown under the band cannot be told from noise there, however the rule is tuned.
fn blind_spots(cs: &[Comparison]) -> String {
    let mut wide: Vec<(&str, f64)> = cs
        .iter()
        .filter_map(|c| {
            Some((
                c.full_id.as_str(),
                c.noise_band.filter(|b| *b > BLIND_BAND)?,
            ))
        })
        .collect();
    if wide.is_empty() {
        return String::new();
    }
    wide.sort_by(|a, b| b.1.total_cmp(&a.1));
    let list: Vec<String> = wide
        .iter()
        .map(|(id, band)| format!("{} (±{:.0} %)", code(id), 100.0 * band))
        .collect();
    format!(
        "\n**Blind spots**: {} stray{} more than {:.0} % between runs of the same code on this runner class, so a smaller slowdown there cannot be told from noise. Benchmarks that wait on the disk, the network or other threads do this on shared runners; more work per iteration, or a dedicated runner, narrows it.\n",
        list.join(", "),
        if wide.len() == 1 { "s" } else { "" },
        100.0 * BLIND_BAND
    )
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
            verdict,
        }
    }

    #[test]
    fn benchmarks_noisier_than_ten_percent_are_named_as_blind_spots_widest_first() {
        let cs = [
            compared("steady", Some(0.02), Verdict::Unchanged),
            compared("sqlite", Some(0.43), Verdict::TooNoisy),
            compared("disk", Some(0.15), Verdict::Unchanged),
            compared("new", None, Verdict::Unchanged),
        ];
        let t = table(&cs, "`main`", None);
        assert!(
            t.contains("**Blind spots**: `sqlite` (±43 %), `disk` (±15 %) stray more than 10 %"),
            "{t}"
        );
        assert!(!t.contains("`steady` (±"), "{t}");
        let quiet = table(&cs[..1], "`main`", None);
        assert!(!quiet.contains("Blind spots"), "{quiet}");
        let one = table(&cs[1..2], "`main`", None);
        assert!(one.contains("`sqlite` (±43 %) strays more"), "{one}");
    }
}
