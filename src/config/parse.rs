//! Reading `.github/upkeep.toml` forgivingly: every unknown key and bad value becomes a
//! [`Problem`] (with its line and a did-you-mean), the value keeps its default, and the valid
//! rest still applies. A repository is never left without updates because of one typo; the
//! problems are reported back on it as a check run. Parsed with `toml_edit` because it keeps
//! spans, so a problem can point at its line.

use std::str::FromStr;

use chrono::{NaiveTime, Weekday};
use semver::VersionReq;
use toml_edit::{Document, Item, Table};

use super::reader::{Cx, Problem};
use super::repo::{
    AdvisoryIgnore, BreakingStrategy, CompatibleStrategy, Group, IgnoreRule, Interval, RepoConfig,
};
use super::suggest::did_you_mean;
use crate::deps::Level;

/// The configuration that applies, and what was wrong with the file.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub config: RepoConfig,
    pub problems: Vec<Problem>,
}

const TOP: &[&str] = &[
    "schedule",
    "open-pull-requests-limit",
    "ignore",
    "groups",
    "strategy",
    "cooldown",
    "automerge",
    "labels",
    "assignees",
    "commit-message-prefix",
    "msrv",
    "revert",
    "audit",
    "requirements",
    "package",
];
const AUDIT: &[&str] = &["code-scanning"];
const SCHEDULE: &[&str] = &["interval", "day", "time", "timezone", "cron"];
const STRATEGY: &[&str] = &["compatible", "breaking"];
const COOLDOWN: &[&str] = &[
    "default-days",
    "semver-major-days",
    "semver-minor-days",
    "semver-patch-days",
];
const IGNORE: &[&str] = &[
    "dependency-name",
    "advisory",
    "versions",
    "update-types",
    "reason",
];
const GROUP: &[&str] = &["patterns", "exclude-patterns", "update-types"];
const UPDATE_TYPES: &[&str] = &["major", "minor", "patch"];

/// Parses the file's text. Never fails: problems come back beside the configuration.
pub fn parse(text: &str) -> Parsed {
    let mut cx = Cx {
        text,
        problems: Vec::new(),
    };
    let mut config = RepoConfig::default();
    match Document::parse(text) {
        Ok(doc) => cx.top(doc.as_table(), &mut config),
        Err(e) => {
            let line = e.span().map(|s| cx.line(s.start));
            cx.problems.push(Problem {
                key: String::new(),
                message: format!(
                    "not valid TOML, so defaults apply: {}",
                    e.message().trim_end()
                ),
                line,
                fix: None,
            });
        }
    }
    Parsed {
        config,
        problems: cx.problems,
    }
}

impl Cx<'_> {
    fn update_types(&mut self, key: &str, item: &Item) -> Vec<Level> {
        let words = self.strings(key, item).unwrap_or_default();
        let mut out = Vec::new();
        for w in words {
            let norm = w
                .to_ascii_lowercase()
                .trim_start_matches("version-update:")
                .trim_start_matches("semver-")
                .to_owned();
            match norm.as_str() {
                "major" => out.push(Level::Major),
                "minor" => out.push(Level::Minor),
                "patch" => out.push(Level::Patch),
                _ => {
                    let hint = did_you_mean(&norm, UPDATE_TYPES)
                        .map(|k| format!("; did you mean `{k}`?"))
                        .unwrap_or_else(|| "; expected major, minor or patch".to_owned());
                    self.report(key, item.span(), format!("unknown update type `{w}`{hint}"));
                }
            }
        }
        out
    }

    pub(super) fn patterns(&mut self, key: &str, item: &Item) -> Vec<glob::Pattern> {
        let mut out = Vec::new();
        for p in self.strings(key, item).unwrap_or_default() {
            match glob::Pattern::new(&p) {
                Ok(pat) => out.push(pat),
                Err(e) => self.report(key, item.span(), format!("`{p}` is not a glob: {e}")),
            }
        }
        out
    }

    fn top(&mut self, root: &Table, c: &mut RepoConfig) {
        self.unknown_keys("", root, TOP);
        if let Some(item) = root.get("schedule") {
            match item.as_str() {
                // `schedule = "daily"` (Dependabot's shape) means the interval.
                Some(s) if matches!(s, "daily" | "weekly") => {
                    let inline = format!("{{ interval = \"{s}\" }}");
                    let what = format!("`\"{s}\"` → `{inline}`");
                    self.report_fix(
                        "schedule",
                        item.span(),
                        format!("expected a table; did you mean `schedule = {inline}`?"),
                        Some((inline, what)),
                    );
                }
                _ => {
                    if let Some(t) = self.table("schedule", item) {
                        self.schedule(&t, c);
                    }
                }
            }
        }
        if let Some(item) = root.get("open-pull-requests-limit") {
            if let Some(n) = self.integer("open-pull-requests-limit", item, 0, 100) {
                c.open_pull_requests_limit = n as usize;
            }
        }
        if let Some(item) = root.get("strategy") {
            if let Some(t) = self.table("strategy", item) {
                self.strategy(&t, c);
            }
        }
        if let Some(item) = root.get("cooldown") {
            if let Some(t) = self.table("cooldown", item) {
                self.cooldown(&t, c);
            }
        }
        if let Some(item) = root.get("ignore") {
            self.ignores(item, c);
        }
        if let Some(item) = root.get("groups") {
            if let Some(t) = self.table("groups", item) {
                self.groups(&t, c);
            }
        }
        if let Some(item) = root.get("automerge") {
            c.automerge = self.update_types("automerge", item);
        }
        if let Some(item) = root.get("labels") {
            if let Some(v) = self.strings("labels", item) {
                c.labels = v;
            }
        }
        if let Some(item) = root.get("assignees") {
            if let Some(v) = self.strings("assignees", item) {
                c.assignees = v;
            }
        }
        if let Some(item) = root.get("commit-message-prefix") {
            c.commit_message_prefix = self.string("commit-message-prefix", item);
        }
        if let Some(item) = root.get("revert") {
            if let Some(t) = self.table("revert", item) {
                self.revert(&t, &mut c.revert);
            }
        }
        if let Some(item) = root.get("audit") {
            if let Some(t) = self.table("audit", item) {
                self.unknown_keys("audit", &t, AUDIT);
                if let Some(item) = t.get("code-scanning") {
                    if let Some(b) = self.boolean("audit.code-scanning", item) {
                        c.code_scanning = b;
                    }
                }
            }
        }
        if let Some(item) = root.get("requirements") {
            if let Some(r) = self.requirements("requirements", item) {
                c.requirements = r;
            }
        }
        if let Some(item) = root.get("package") {
            c.package_rules = self.package_rules(item);
        }
        if let Some(item) = root.get("msrv") {
            if let Some(b) = self.boolean("msrv", item) {
                c.msrv = b;
            }
        }
    }

    fn schedule(&mut self, t: &Table, c: &mut RepoConfig) {
        self.unknown_keys("schedule", t, SCHEDULE);
        let interval = t
            .get("interval")
            .and_then(|i| self.word("schedule.interval", i, &["daily", "weekly", "cron"]));
        if let Some(item) = t.get("time") {
            if let Some(s) = self.string("schedule.time", item) {
                match NaiveTime::parse_from_str(&s, "%H:%M") {
                    Ok(time) => c.schedule.time = time,
                    Err(_) => self.report(
                        "schedule.time",
                        item.span(),
                        format!("`{s}` is not a time of day like \"05:30\""),
                    ),
                }
            }
        }
        if let Some(item) = t.get("timezone") {
            if let Some(s) = self.string("schedule.timezone", item) {
                match chrono_tz::Tz::from_str(&s) {
                    Ok(tz) => c.schedule.timezone = tz,
                    Err(_) => self.report(
                        "schedule.timezone",
                        item.span(),
                        format!("`{s}` is not an IANA time zone like \"Europe/Berlin\""),
                    ),
                }
            }
        }
        match interval.as_deref() {
            Some("weekly") => {
                let day = match t.get("day") {
                    Some(item) => self.weekday(item),
                    None => Some(Weekday::Mon),
                };
                c.schedule.interval = Interval::Weekly(day.unwrap_or(Weekday::Mon));
            }
            Some("cron") => match t.get("cron") {
                Some(item) => {
                    if let Some(expr) = self.string("schedule.cron", item) {
                        match croner::Cron::from_str(&expr) {
                            Ok(_) => c.schedule.interval = Interval::Cron(expr),
                            Err(e) => self.report(
                                "schedule.cron",
                                item.span(),
                                format!("`{expr}` is not a cron expression: {e}; daily kept"),
                            ),
                        }
                    }
                }
                None => self.report(
                    "schedule.cron",
                    t.span(),
                    "interval = \"cron\" needs a `cron` expression; daily kept".to_owned(),
                ),
            },
            _ => {}
        }
    }

    fn weekday(&mut self, item: &Item) -> Option<Weekday> {
        const DAYS: &[&str] = &[
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let day = self.word("schedule.day", item, DAYS)?;
        Weekday::from_str(&day).ok()
    }

    fn strategy(&mut self, t: &Table, c: &mut RepoConfig) {
        self.unknown_keys("strategy", t, STRATEGY);
        if let Some(item) = t.get("compatible") {
            match self
                .word("strategy.compatible", item, &["lockfile", "bump"])
                .as_deref()
            {
                Some("bump") => c.compatible = CompatibleStrategy::Bump,
                Some(_) => c.compatible = CompatibleStrategy::Lockfile,
                None => {}
            }
        }
        if let Some(item) = t.get("breaking") {
            match self
                .word("strategy.breaking", item, &["bump", "ignore"])
                .as_deref()
            {
                Some("ignore") => c.breaking = BreakingStrategy::Ignore,
                Some(_) => c.breaking = BreakingStrategy::Bump,
                None => {}
            }
        }
    }

    fn cooldown(&mut self, t: &Table, c: &mut RepoConfig) {
        self.unknown_keys("cooldown", t, COOLDOWN);
        let days = |cx: &mut Self, key: &str| {
            t.get(key)
                .and_then(|item| cx.integer(&format!("cooldown.{key}"), item, 0, 365))
        };
        if let Some(d) = days(self, "default-days") {
            c.cooldown.major = d;
            c.cooldown.minor = d;
            c.cooldown.patch = d;
        }
        if let Some(d) = days(self, "semver-major-days") {
            c.cooldown.major = d;
        }
        if let Some(d) = days(self, "semver-minor-days") {
            c.cooldown.minor = d;
        }
        if let Some(d) = days(self, "semver-patch-days") {
            c.cooldown.patch = d;
        }
    }

    fn ignores(&mut self, item: &Item, c: &mut RepoConfig) {
        let Some(array) = item.as_array_of_tables() else {
            self.report(
                "ignore",
                item.span(),
                "expected [[ignore]] entries".to_owned(),
            );
            return;
        };
        for (i, t) in array.iter().enumerate() {
            let key = format!("ignore[{}]", i + 1);
            self.unknown_keys(&key, t, IGNORE);
            if let Some(item) = t.get("advisory") {
                self.advisory_ignore(&key, t, item, c);
                continue;
            }
            let Some(name_item) = t.get("dependency-name") else {
                self.report(
                    &key,
                    t.span(),
                    "needs a `dependency-name` (or an `advisory` id); entry ignored".into(),
                );
                continue;
            };
            let Some(dependency) = self
                .patterns(&format!("{key}.dependency-name"), name_item)
                .into_iter()
                .next()
            else {
                continue;
            };
            let mut versions = Vec::new();
            if let Some(v) = t.get("versions") {
                let vkey = format!("{key}.versions");
                for s in self.strings(&vkey, v).unwrap_or_default() {
                    match VersionReq::parse(&s) {
                        Ok(r) => versions.push(r),
                        Err(e) => self.report(
                            &vkey,
                            v.span(),
                            format!("`{s}` is not a version range: {e}"),
                        ),
                    }
                }
            }
            let update_types = t
                .get("update-types")
                .map(|v| self.update_types(&format!("{key}.update-types"), v))
                .unwrap_or_default();
            let reason = t
                .get("reason")
                .and_then(|v| self.string(&format!("{key}.reason"), v));
            c.ignore.push(IgnoreRule {
                dependency,
                versions,
                update_types,
                reason,
            });
        }
    }

    /// `advisory = "RUSTSEC-…"`: silences that advisory, but only with a `reason`.
    fn advisory_ignore(&mut self, key: &str, t: &Table, item: &Item, c: &mut RepoConfig) {
        let Some(id) = self.string(&format!("{key}.advisory"), item) else {
            return;
        };
        if !is_advisory_id(&id) {
            self.report(
                &format!("{key}.advisory"),
                item.span(),
                format!("`{id}` is not an advisory id (RUSTSEC-YYYY-NNNN, CVE-… or GHSA-…)"),
            );
            return;
        }
        let reason = t
            .get("reason")
            .and_then(|v| self.string(&format!("{key}.reason"), v))
            .filter(|r| !r.trim().is_empty());
        match reason {
            Some(reason) => c.ignore_advisories.push(AdvisoryIgnore { id, reason }),
            None => self.report(
                key,
                t.span(),
                format!("`{id}` is silenced only with a `reason` saying why; it is still reported"),
            ),
        }
    }

    fn groups(&mut self, t: &Table, c: &mut RepoConfig) {
        for (name, item) in t.iter() {
            let key = format!("groups.{name}");
            let Some(g) = self.table(&key, item) else {
                continue;
            };
            self.unknown_keys(&key, &g, GROUP);
            let patterns = g
                .get("patterns")
                .map(|p| self.patterns(&format!("{key}.patterns"), p))
                .unwrap_or_default();
            if patterns.is_empty() {
                self.report(&key, g.span(), "needs `patterns`; group ignored".to_owned());
                continue;
            }
            let exclude_patterns = g
                .get("exclude-patterns")
                .map(|p| self.patterns(&format!("{key}.exclude-patterns"), p))
                .unwrap_or_default();
            let update_types = g
                .get("update-types")
                .map(|v| self.update_types(&format!("{key}.update-types"), v))
                .unwrap_or_default();
            c.groups.push(Group {
                name: name.to_owned(),
                patterns,
                exclude_patterns,
                update_types,
            });
        }
    }
}

/// `RUSTSEC-2024-0001`, `CVE-2024-1234` or `GHSA-xxxx-xxxx-xxxx`.
fn is_advisory_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    match parts.as_slice() {
        ["RUSTSEC" | "CVE", year, n] => {
            year.len() == 4
                && year.chars().all(|c| c.is_ascii_digit())
                && n.len() >= 4
                && n.chars().all(|c| c.is_ascii_digit())
        }
        ["GHSA", a, b, c] => [a, b, c]
            .iter()
            .all(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_alphanumeric())),
        _ => false,
    }
}
