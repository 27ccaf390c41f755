//! `upkeep check` output for people: the plan per workspace, what waits and why, and any
//! configuration or discovery problems. The JSON form is the [`Report`] itself.

use std::fmt::Write as _;

use super::Report;
use crate::bench::gungraun::Metric;
use crate::bench::prior::BETWEEN_PROCESS_FACTOR;
use crate::bench::Verdict;
use crate::deps::{Held, PrKind};

/// The report as text.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "upkeep check {} (index {})", report.path, report.index);
    for p in &report.config_problems {
        let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  config .github/upkeep.toml{line}: {}: {}",
            p.key, p.message
        );
    }
    for ws in &report.workspaces {
        let root = if ws.root.is_empty() { "/" } else { &ws.root };
        let _ = writeln!(
            out,
            "\nworkspace {root}: {} member{}, {} locked package{}{}{}",
            ws.members.len(),
            plural(ws.members.len()),
            ws.locked_packages,
            plural(ws.locked_packages),
            ws.lockfile_format
                .map(|f| format!(" (Cargo.lock v{f})"))
                .unwrap_or_else(|| " (no Cargo.lock)".into()),
            ws.msrv
                .as_ref()
                .map(|m| format!(", MSRV {m}"))
                .unwrap_or_default(),
        );
        for p in &ws.problems {
            let _ = writeln!(out, "  problem: {p}");
        }
        if ws.plan.pull_requests.is_empty() {
            let _ = writeln!(out, "  nothing to update");
        }
        for pr in &ws.plan.pull_requests {
            let kind = match pr.kind {
                PrKind::Yanked => "yanked",
                PrKind::Refresh => "refresh",
                PrKind::Bump => "bump",
                PrKind::Security => "security",
            };
            let merge = if pr.automerge { ", automerge" } else { "" };
            let _ = writeln!(out, "  [{kind}] {}  ({}{merge})", pr.title, pr.branch);
            for u in &pr.updates {
                let rust = u
                    .rust_version
                    .as_ref()
                    .map(|r| format!(", needs Rust {r}"))
                    .unwrap_or_default();
                let yanked = if u.from_yanked {
                    ", from a yanked release"
                } else {
                    ""
                };
                let fixes = if u.advisories_fixed.is_empty() {
                    String::new()
                } else {
                    let ids: Vec<&str> = u.advisories_fixed.iter().map(|a| a.id.as_str()).collect();
                    format!(", fixes {}", ids.join(" "))
                };
                let _ = writeln!(
                    out,
                    "      {} {} -> {} ({}{}{rust}{yanked}{fixes})",
                    u.name,
                    u.from,
                    u.to,
                    serde_json::to_value(u.change.level)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    if u.change.breaking { ", breaking" } else { "" },
                );
            }
            for e in &pr.edits {
                let _ = writeln!(
                    out,
                    "      {} [{}] {} = \"{}\" -> \"{}\"",
                    e.manifest,
                    e.table.join("."),
                    e.key,
                    e.from,
                    e.to
                );
            }
        }
        if !ws.advisories.is_empty() {
            let _ = writeln!(out, "  advisories:");
        }
        for f in &ws.advisories {
            let id = f.id.as_deref().unwrap_or("yanked");
            let severity = f
                .severity
                .as_ref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "      {id} {} {} ({}{severity}): {}",
                f.krate, f.version, f.kind, f.title
            );
            if f.chain.len() > 1 {
                let _ = writeln!(out, "        via {}", f.chain.join(" -> "));
            }
        }
        security(&mut out, &ws.security);
        if !ws.duplicates.is_empty() {
            let _ = writeln!(out, "  locked at several versions:");
        }
        for d in &ws.duplicates {
            let _ = writeln!(
                out,
                "      {}",
                crate::deps::duplicates::line(d).replace('`', "")
            );
            for r in &d.removable {
                let _ = writeln!(
                    out,
                    "        {}",
                    crate::deps::duplicates::removal_line(&d.name, r).replace('`', "")
                );
            }
        }
        if !ws.unreachable.is_empty() {
            let _ = writeln!(out, "  not updated (out of upkeep's reach):");
        }
        for u in &ws.unreachable {
            let at = u
                .version
                .as_ref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "      {}{at}: {}",
                u.package,
                u.reason().replace('`', "")
            );
        }
        if !ws.plan.waiting.is_empty() {
            let _ = writeln!(out, "  waiting:");
        }
        for w in &ws.plan.waiting {
            let to =
                w.to.as_ref()
                    .map(|v| format!(" -> {v}"))
                    .unwrap_or_default();
            let why = match &w.held {
                Held::Limit => "the open pull request limit is reached".to_owned(),
                Held::Cooldown { until } => format!("cooldown until {}", until.format("%Y-%m-%d")),
                Held::Ignored => "ignored by .github/upkeep.toml".to_owned(),
                Held::Msrv { rust_version } => {
                    format!("needs Rust {rust_version}, above the MSRV")
                }
                Held::Requirement { detail } => detail.clone(),
                Held::BreakingOff => "breaking updates are off (strategy.breaking)".to_owned(),
                Held::Unreachable { detail } => detail.clone(),
            };
            let _ = writeln!(out, "      {} {}{to}: {why}", w.name, w.from);
        }
    }
    if let Some(counted) = &report.instruction_counts {
        let _ = writeln!(
            out,
            "instruction counts (target/gungraun, new against the run before):"
        );
        for c in counted {
            let change = |m| {
                c.metric(m)
                    .map(|m| format!("{:+.2} %", 100.0 * m.judged.change))
                    .unwrap_or_else(|| "–".into())
            };
            let threshold = c
                .metric(Metric::Instructions)
                .map_or(0.0, |m| m.judged.threshold);
            let _ = writeln!(
                out,
                "  {}: instructions {} (threshold ±{:.1} %), estimated cycles {} {}",
                c.id,
                change(Metric::Instructions),
                100.0 * threshold,
                change(Metric::EstimatedCycles),
                c.verdict.as_str()
            );
        }
    }
    if let Some(benchmarks) = &report.benchmarks {
        let _ = writeln!(out, "benchmarks (target/criterion, new against base):");
        for c in benchmarks {
            let _ = writeln!(
                out,
                "  {}: {:+.1} % [{:+.1} %, {:+.1} %] {}",
                c.full_id,
                100.0 * c.change,
                100.0 * c.interval.0,
                100.0 * c.interval.1,
                verdict_text(c.verdict)
            );
        }
    }
    for e in &report.index_errors {
        let _ = writeln!(out, "index error: {e}");
    }
    out
}

/// A wall-time verdict as the text report says it.
fn verdict_text(v: Verdict) -> String {
    match v {
        Verdict::Unconfirmed => format!(
            "unconfirmed (one pair of processes moves up to ×{BETWEEN_PROCESS_FACTOR} on shared machines; re-run to confirm)"
        ),
        v => v.as_str().to_owned(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The security plan: the first change each fix would try, what no release fixes, what is
/// silenced.
fn security(out: &mut String, plan: &crate::audit::SecurityPlan) {
    if plan.fixes.is_empty() && plan.unfixable.is_empty() && plan.ignored.is_empty() {
        return;
    }
    let _ = writeln!(out, "  security:");
    for fix in &plan.fixes {
        let ids: Vec<&str> = fix
            .findings
            .iter()
            .filter_map(|f| f.id.as_deref())
            .collect();
        let first = fix.attempts.first().map(|a| {
            a.updates
                .iter()
                .map(|u| format!("{} {} -> {}", u.name, u.from, u.to))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let _ = writeln!(
            out,
            "      fix {} {} ({}): {} ({}; {} way{} to try)",
            fix.krate,
            fix.from,
            ids.join(", "),
            first.unwrap_or_default(),
            fix.branch,
            fix.attempts.len(),
            if fix.attempts.len() == 1 { "" } else { "s" }
        );
    }
    for u in &plan.unfixable {
        let _ = writeln!(
            out,
            "      no fix {} {} {}: {}",
            u.finding.id.as_deref().unwrap_or_default(),
            u.finding.krate,
            u.finding.version,
            u.reason
        );
    }
    for (f, reason) in &plan.ignored {
        let _ = writeln!(
            out,
            "      ignored {} {} {}: {reason}",
            f.id.as_deref().unwrap_or_default(),
            f.krate,
            f.version
        );
    }
}
