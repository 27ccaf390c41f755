//! The self-tuning alerts in the running server, on the fake GitHub: a GitHub outage opens
//! `github_error_ratio` on `/status.json` and in `upkeep_alerts_open`, the breaker shows in
//! `upkeep_breaker_state`, and the alert closes once GitHub is back. Sampled every 300 ms
//! here instead of every minute; nothing is learnt yet, so the stated default applies. The
//! status page during the outage is rendered in headless Chromium and checked.

mod commands_world;
mod common;

use std::time::Duration;

use commands_world::{World, CONFIG};

const HELP: &str = "@upkeep help";

async fn alerts(world: &World) -> Vec<serde_json::Value> {
    let status: serde_json::Value =
        serde_json::from_str(&world.server.text("/status.json").await).unwrap();
    status["alerts"].as_array().cloned().unwrap_or_default()
}

async fn metric(world: &World, line: &str) -> Option<f64> {
    world
        .server
        .text("/metrics")
        .await
        .lines()
        .find_map(|l| l.strip_prefix(line))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn a_github_outage_opens_its_alert_and_recovery_closes_it() {
    let background = upkeep::server::Background {
        alert_sample_every: Duration::from_millis(300),
        ..common::fast_background()
    };
    let Some(world) = World::with_background(CONFIG, background).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    world.github.outage(503);
    for i in 0..6 {
        world
            .say_without_waiting(pr, &format!("person{i}"), HELP)
            .await;
    }
    let down = std::time::Instant::now();
    let alert = common::eventually(20, "the GitHub alert open on /status.json", || async {
        alerts(&world)
            .await
            .into_iter()
            .find(|a| a["signal"] == "github_error_ratio" && a["state"] == "open")
    })
    .await;
    println!("the alert opened {:?} into the outage", down.elapsed());
    assert_eq!(
        alert["threshold"], 0.25,
        "the stated default: nothing learnt yet"
    );
    assert!(alert["detail"].as_str().unwrap().contains("breakers"));
    assert_eq!(
        metric(&world, "upkeep_alerts_open{signal=\"github_error_ratio\"} ").await,
        Some(1.0)
    );
    // The alert reads GitHub's answers and may open before the breaker has seen the five
    // failures it opens on (the transport retries a 503 first): wait for the breaker too.
    common::eventually(20, "GitHub's breaker open", || async {
        (metric(&world, "upkeep_breaker_state{dependency=\"github\"} ").await == Some(2.0))
            .then_some(())
    })
    .await;
    // The operator's page, rendered by a real browser at a phone's width.
    if let Some(browser) = common::browser::chromium() {
        let url = world.server.url("/status");
        let dom = common::browser::rendered_dom(&browser, &url);
        assert!(dom.contains("<h1>upkeep status</h1>"), "{dom}");
        let dependencies = &dom[dom.find("id=\"dependencies\"").unwrap()..];
        let github_row = &dependencies[dependencies.find("<td>github</td>").unwrap()..];
        let github_row = &github_row[..github_row.find("</tr>").unwrap()];
        assert!(github_row.contains("badge bad\">open"), "{github_row}");
        assert!(
            dom.contains("github_<wbr>error_<wbr>ratio"),
            "the open alert is listed, breakable at its words"
        );
        assert!(!dom.contains("<script"), "no script on the page");
        let dir = tempfile::tempdir().unwrap();
        let shot = dir.path().join("status.png");
        common::browser::screenshot(&browser, &url, &shot);
        // `UPKEEP_STATUS_SCREENSHOT=docs/status-page.png` keeps it (how the docs' one was made).
        if let Some(keep) = std::env::var_os("UPKEEP_STATUS_SCREENSHOT") {
            std::fs::copy(&shot, common::repo_root().join(keep)).unwrap();
        }
    }

    world.github.recover();
    let up = std::time::Instant::now();
    common::eventually(90, "the GitHub alert closed", || async {
        (!alerts(&world)
            .await
            .iter()
            .any(|a| a["signal"] == "github_error_ratio"))
        .then_some(())
    })
    .await;
    println!("the alert closed {:?} after GitHub was back", up.elapsed());
    assert_eq!(
        metric(&world, "upkeep_alerts_open{signal=\"github_error_ratio\"} ").await,
        Some(0.0)
    );
    // What was learnt is kept for the next start.
    assert!(world
        .store
        .alert_state(upkeep::alerts::sampler::LEARNT)
        .await
        .unwrap()
        .is_some());
}
