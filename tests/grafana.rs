//! The Grafana dashboard committed under docs/ reads only metrics the server exports: every
//! `upkeep_*` name in its queries is one the server describes (name and help, in
//! src/server/telemetry.rs), so a renamed metric cannot leave a panel silently empty.

mod common;

use std::collections::BTreeSet;

/// The `upkeep_*` metric names a PromQL expression reads (a histogram's `_bucket` is its name).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("upkeep_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        names.push(name.strip_suffix("_bucket").unwrap_or(name).to_owned());
        rest = &tail[end..];
    }
    names
}

#[test]
fn every_panel_reads_a_metric_upkeep_describes() {
    let text = std::fs::read_to_string(common::repo_root().join("docs/grafana-dashboard.json"))
        .expect("docs/grafana-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    let mut used = BTreeSet::new();
    for p in panels {
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{}", p["title"]);
        for t in targets {
            let names = metric_names(t["expr"].as_str().expect("expr"));
            assert!(!names.is_empty(), "a query reads no upkeep metric: {t}");
            used.extend(names);
        }
    }
    // What the server describes (name and help) at start: telemetry.rs.
    let telemetry =
        std::fs::read_to_string(common::repo_root().join("src/server/telemetry.rs")).unwrap();
    let missing: Vec<&String> = used
        .iter()
        .filter(|n| !telemetry.contains(&format!("\"{n}\"")))
        .collect();
    assert!(missing.is_empty(), "not exported by upkeep: {missing:?}");
    for required in [
        "upkeep_breaker_state",
        "upkeep_alerts_open",
        "upkeep_rate_limit_remaining",
        "upkeep_deliveries_recovered_total",
    ] {
        assert!(used.contains(required), "the dashboard shows {required}");
    }
}
