//! `.github/upkeep.toml`: defaults without a file, every documented key read, and every typo or
//! bad value reported with its line and a did-you-mean while the valid rest still applies.

use chrono::{NaiveTime, Weekday};
use semver::Version;
use upkeep::config::{
    parse, BreakingStrategy, CompatibleStrategy, Interval, RevertConfig, RevertMode,
};
use upkeep::deps::Level;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn a_repository_without_a_file_gets_useful_defaults() {
    let parsed = parse("");
    assert!(parsed.problems.is_empty());
    let c = parsed.config;
    assert_eq!(c.schedule.interval, Interval::Daily);
    assert_eq!(c.open_pull_requests_limit, 5);
    assert_eq!(c.compatible, CompatibleStrategy::Lockfile);
    assert_eq!(c.breaking, BreakingStrategy::Bump);
    assert!(c.msrv, "MSRV is respected by default");
    assert!(c.automerge.is_empty(), "nothing merges itself by default");
    assert_eq!(c.labels, vec!["dependencies"]);
}

#[test]
fn every_documented_key_is_read() {
    let parsed = parse(
        r#"
open-pull-requests-limit = 2
labels = ["deps", "rust"]
assignees = "octocat"
commit-message-prefix = "chore(deps)"
msrv = false
automerge = ["patch", "semver-minor"]

[schedule]
interval = "weekly"
day = "friday"
time = "06:30"
timezone = "Europe/Berlin"

[strategy]
compatible = "bump"
breaking = "ignore"

[cooldown]
default-days = 2
semver-major-days = 14

[[ignore]]
dependency-name = "tokio*"
versions = [">=2"]

[[ignore]]
dependency-name = "rand"
update-types = ["version-update:semver-major"]
reason = "waiting for the ecosystem"

[[ignore]]
dependency-name = "openssl-sys"

[groups.serde]
patterns = ["serde*"]
exclude-patterns = ["serde_yaml"]
"#,
    );
    assert_eq!(parsed.problems, vec![]);
    let c = parsed.config;
    assert_eq!(c.open_pull_requests_limit, 2);
    assert_eq!(c.labels, vec!["deps", "rust"]);
    assert_eq!(c.assignees, vec!["octocat"]);
    assert_eq!(c.prefixed("Bump a"), "chore(deps): Bump a");
    assert!(!c.msrv);
    assert_eq!(c.automerge, vec![Level::Patch, Level::Minor]);
    assert_eq!(c.schedule.interval, Interval::Weekly(Weekday::Fri));
    assert_eq!(c.schedule.time, NaiveTime::from_hms_opt(6, 30, 0).unwrap());
    assert_eq!(c.schedule.timezone, chrono_tz::Europe::Berlin);
    assert_eq!(c.compatible, CompatibleStrategy::Bump);
    assert_eq!(c.breaking, BreakingStrategy::Ignore);
    assert_eq!(
        (c.cooldown.major, c.cooldown.minor, c.cooldown.patch),
        (14, 2, 2)
    );
    assert!(c.is_ignored("tokio-util", &v("2.0.0"), Level::Major));
    assert!(!c.is_ignored("tokio-util", &v("1.9.0"), Level::Minor));
    assert!(c.is_ignored("rand", &v("0.10.0"), Level::Major));
    assert!(!c.is_ignored("rand", &v("0.9.3"), Level::Patch));
    assert!(c.is_ignored("openssl-sys", &v("0.9.1"), Level::Patch));
    assert_eq!(
        c.ignore[1].reason.as_deref(),
        Some("waiting for the ecosystem")
    );
    assert_eq!(
        c.group_of("serde_json", Level::Major)
            .map(|g| g.name.as_str()),
        Some("serde")
    );
    assert!(c.group_of("serde_yaml", Level::Major).is_none());
}

#[test]
fn typos_are_reported_with_their_line_and_a_suggestion_and_the_rest_applies() {
    let parsed = parse(
        "open-pull-request-limit = 3\nlabels = [\"deps\"]\n\n[schedule]\nintreval = \"weekly\"\ntimezone = \"Mars/Olympus\"\n\n[strategy]\ncompatible = \"lockfil\"\n",
    );
    let c = &parsed.config;
    assert_eq!(c.labels, vec!["deps"], "the valid rest still applies");
    assert_eq!(
        c.open_pull_requests_limit, 5,
        "the misspelt key keeps its default"
    );
    let by_key = |k: &str| {
        parsed
            .problems
            .iter()
            .find(|p| p.key == k)
            .unwrap_or_else(|| panic!("no problem for {k}: {:?}", parsed.problems))
    };
    let limit = by_key("open-pull-request-limit");
    assert_eq!(limit.line, Some(1));
    assert!(
        limit
            .message
            .contains("did you mean `open-pull-requests-limit`"),
        "{}",
        limit.message
    );
    let interval = by_key("schedule.intreval");
    assert_eq!(interval.line, Some(5));
    assert!(interval.message.contains("did you mean `interval`"));
    let tz = by_key("schedule.timezone");
    assert_eq!(tz.line, Some(6));
    assert!(tz.message.contains("Mars/Olympus"));
    let strategy = by_key("strategy.compatible");
    assert_eq!(strategy.line, Some(9));
    assert!(strategy.message.contains("did you mean `lockfile`"));
    assert_eq!(parsed.problems.len(), 4, "{:?}", parsed.problems);
}

#[test]
fn bad_values_keep_their_defaults() {
    let parsed = parse(
        "open-pull-requests-limit = -1\nmsrv = \"yes\"\nautomerge = [\"majr\"]\n[schedule]\ninterval = \"cron\"\ncron = \"not cron\"\ntime = \"25:99\"\n[[ignore]]\nversions = [\">=1\"]\n[[ignore]]\ndependency-name = \"x\"\nversions = [\"one\"]\n",
    );
    let mut keys: Vec<&str> = parsed.problems.iter().map(|p| p.key.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "automerge",
            "ignore[1]",
            "ignore[2].versions",
            "msrv",
            "open-pull-requests-limit",
            "schedule.cron",
            "schedule.time",
        ],
        "{:#?}",
        parsed.problems
    );
    let automerge = parsed
        .problems
        .iter()
        .find(|p| p.key == "automerge")
        .unwrap();
    assert!(automerge.message.contains("did you mean `major`"));
    let c = parsed.config;
    assert_eq!(c.open_pull_requests_limit, 5);
    assert!(c.msrv);
    assert_eq!(c.schedule.interval, Interval::Daily);
    assert_eq!(c.ignore.len(), 1, "the entry with a name still applies");
}

#[test]
fn a_file_that_is_not_toml_is_one_problem_with_a_line_and_defaults_apply() {
    let parsed = parse("labels = [\"a\"\n\n[schedule\n");
    assert_eq!(parsed.problems.len(), 1);
    assert!(parsed.problems[0].message.contains("not valid TOML"));
    assert!(parsed.problems[0].line.is_some());
    assert_eq!(parsed.config.open_pull_requests_limit, 5);
}

#[test]
fn a_cron_schedule_is_kept_verbatim() {
    let parsed = parse("[schedule]\ninterval = \"cron\"\ncron = \"30 4 * * 1-5\"\n");
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert_eq!(
        parsed.config.schedule.interval,
        Interval::Cron("30 4 * * 1-5".into())
    );
}

#[test]
fn the_schedule_says_when_the_next_pass_runs() {
    use chrono::TimeZone;
    // Saturday 2026-11-28 12:00 UTC.
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .unwrap();
    let next = |toml: &str| parse(toml).config.schedule.next_after(now).to_rfc3339();
    assert_eq!(
        next(""),
        "2026-11-29T05:00:00+00:00",
        "daily at 05:00 UTC by default"
    );
    assert_eq!(
        next("[schedule]\ntime = \"13:30\"\n"),
        "2026-11-28T13:30:00+00:00",
        "later today"
    );
    assert_eq!(
        next("[schedule]\ninterval = \"weekly\"\nday = \"tuesday\"\ntime = \"06:00\"\ntimezone = \"Europe/Berlin\"\n"),
        "2026-12-01T05:00:00+00:00",
        "Tuesday 06:00 in Berlin is 05:00 UTC in winter"
    );
    assert_eq!(
        next("[schedule]\ninterval = \"cron\"\ncron = \"0 9 1 * *\"\n"),
        "2026-12-01T09:00:00+00:00"
    );
}

#[test]
fn an_advisory_is_silenced_only_with_a_reason() {
    let parsed = parse(
        r#"
[[ignore]]
advisory = "RUSTSEC-2099-0003"
reason = "we never call the affected function"

[[ignore]]
advisory = "CVE-2099-0001"

[[ignore]]
advisory = "not-an-id"
reason = "x"
"#,
    );
    let c = &parsed.config;
    assert_eq!(
        c.advisory_ignored("RUSTSEC-2099-0003", &[]),
        Some("we never call the affected function")
    );
    assert_eq!(
        c.advisory_ignored("RUSTSEC-2099-0001", &["CVE-2099-0001".to_owned()]),
        None,
        "no reason, not silenced"
    );
    let problems: Vec<(&str, Option<usize>, &str)> = parsed
        .problems
        .iter()
        .map(|p| (p.key.as_str(), p.line, p.message.as_str()))
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, "ignore[2]");
    assert_eq!(problems[0].1, Some(6));
    assert!(
        problems[0].2.contains("only with a `reason`"),
        "{problems:?}"
    );
    assert_eq!(problems[1].0, "ignore[3].advisory");
    assert!(problems[1].2.contains("not an advisory id"), "{problems:?}");
    assert!(
        c.ignore.is_empty(),
        "advisory entries are not dependency ignores"
    );
}

#[test]
fn the_revert_table_is_read_and_its_mistakes_reported() {
    let parsed = parse(
        "[revert]\nmode = \"merge\"\nmax_age_hours = 48\nskip_authors = [\"bot\"]\nmax_bisect_run = 3\n",
    );
    let r = &parsed.config.revert;
    assert_eq!(r.mode, RevertMode::Merge);
    assert_eq!(r.max_age_hours, 48);
    assert_eq!(r.skip_authors, ["bot"]);
    assert_eq!(r.max_bisect_runs, 6, "the misspelt key keeps the default");
    assert_eq!(parsed.problems.len(), 1);
    assert!(parsed.problems[0]
        .message
        .contains("did you mean `max_bisect_runs`"));
    assert_eq!(parsed.problems[0].line, Some(5));

    let bad = parse("[revert]\nmode = \"merg\"\nreruns = 9\n");
    assert_eq!(bad.config.revert, RevertConfig::default());
    assert_eq!(bad.problems.len(), 2, "{:?}", bad.problems);
    assert!(bad.problems[0].message.contains("did you mean `merge`"));
}
