//! What an alert tells a person, and when: each signal's grace period (how long its corrective
//! action and the breakers get before a person is called), the ops issue's marker, title and
//! body (the evidence and what to check), its closing comment, and the line an alert webhook
//! receives (Slack-compatible `text`). Pure.

use std::time::Duration;

use super::signal::Signal;

/// How long an open alert may last before the ops issue is opened.
pub fn grace(signal: Signal) -> Duration {
    Duration::from_secs(match signal {
        Signal::QueueLagSeconds | Signal::JobFailureRatio => 15 * 60,
        Signal::GithubErrorRatio | Signal::WebhookDeliveries | Signal::RateLimitRemainingRatio => {
            30 * 60
        }
    })
}

/// The marker that finds an alert's ops issue again.
pub fn marker(signal: Signal) -> String {
    format!("<!-- upkeep:alert {} -->", signal.name())
}

pub fn title(signal: Signal) -> String {
    format!("upkeep alert: {}", signal.name())
}

/// What upkeep did and what to check, by signal (the ops issue and `/status` say the same).
pub fn check(signal: Signal) -> &'static str {
    match signal {
        Signal::QueueLagSeconds => "Jobs wait far longer than usual. upkeep released the leases of dead workers and woke the workers. Check `/status` for an open breaker, `upkeep jobs --state running` for jobs that never finish, and the log for time-outs.",
        Signal::JobFailureRatio => "Far more job attempts fail than usual. Check the log for the error kind, `upkeep jobs --state failed`, and `/status` for an open breaker or drift.",
        Signal::GithubErrorRatio => "GitHub answers with errors far more than usual; the breakers hold work back and nothing is lost. Check https://www.githubstatus.com; if GitHub is fine, check this host's network.",
        Signal::WebhookDeliveries => "Far fewer webhook deliveries arrive than usual. upkeep swept GitHub's delivery log and checked the App's webhook. Check the App's \"Advanced\" page for failed deliveries, and that the public URL reaches this server.",
        Signal::RateLimitRemainingRatio => "An installation's API budget is nearly spent. Scheduled work waits for the reset; check `/status` for its forecast and the log for the repository using it.",
    }
}

/// The ops issue's body.
/// `chart` is the last hours' picture (`chart_lines`), or empty.
pub fn body(
    signal: Signal,
    since: &str,
    value: f64,
    threshold: f64,
    open_for: Duration,
    chart: &str,
) -> String {
    format!(
        "`{}` departed from its normal at {since} and has not recovered in {} minutes, \
         after upkeep's own corrective action.\n\n\
         | | |\n|---|---|\n| value when it opened | {value:.3} |\n| threshold learnt for this hour | {threshold:.3} |\n\n\
         {chart}\
         **What to check.** {}\n\n\
         This issue closes itself when the signal is back to normal.\n\n{}",
        signal.name(),
        open_for.as_secs() / 60,
        check(signal),
        marker(signal)
    )
}

/// The chart of a signal's last hours for the ops issue: a text sparkline of `values` (one a
/// minute) and, when upkeep has a public address, the SVG chart it serves (`at_ms` keeps
/// GitHub's image proxy from showing a stale copy).
pub fn chart_lines(
    signal: Signal,
    values: &[f64],
    public_url: Option<&url::Url>,
    at_ms: i64,
) -> String {
    let hours = super::chart::HOURS;
    let mut s = if values.is_empty() {
        format!("**Last {hours} hours:** no samples.\n\n")
    } else {
        format!(
            "**Last {hours} hours** (peak per 10 minutes): `{}`\n\n",
            super::chart::sparkline(values, (hours * 6) as usize)
        )
    };
    if let Some(base) = public_url {
        s.push_str(&format!(
            "![{name}, last {hours} hours]({}/status/signals/{name}.svg?at={at_ms})\n\n",
            base.as_str().trim_end_matches('/'),
            name = signal.name(),
        ));
    }
    s
}

/// The comment that closes the ops issue.
pub fn recovered(signal: Signal, at: &str, value: f64) -> String {
    format!(
        "`{}` is back to normal since {at} (now {value:.3}). Closing.",
        signal.name()
    )
}

/// The alert webhook's message (`{"text": …}`), for an open or a close.
pub fn webhook_text(signal: Signal, event: &str, value: f64, threshold: f64) -> String {
    match event {
        "open" => format!(
            "upkeep alert open: {} = {value:.3} (threshold {threshold:.3})",
            signal.name()
        ),
        _ => format!("upkeep alert closed: {} = {value:.3}", signal.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_the_evidence_the_fix_and_the_marker() {
        let b = body(
            Signal::GithubErrorRatio,
            "2026-12-06T10:00:00Z",
            0.9,
            0.25,
            Duration::from_secs(31 * 60),
            &chart_lines(Signal::GithubErrorRatio, &[0.0, 0.5, 1.0], None, 0),
        );
        assert!(b.contains("| value when it opened | 0.900 |"));
        assert!(
            b.contains("**Last 6 hours** (peak per 10 minutes): `▁▅█`"),
            "{b}"
        );
        assert!(!b.contains("!["));
        let url = url::Url::parse("https://upkeep.example.org/").unwrap();
        let chart = chart_lines(Signal::QueueLagSeconds, &[], Some(&url), 7);
        assert!(chart.contains("no samples"));
        assert!(chart.contains(
            "![queue_lag_seconds, last 6 hours](https://upkeep.example.org/status/signals/queue_lag_seconds.svg?at=7)"
        ));
        assert!(b.contains("31 minutes"));
        assert!(b.contains("githubstatus"));
        assert!(b.ends_with(&marker(Signal::GithubErrorRatio)));
        assert!(grace(Signal::QueueLagSeconds) < grace(Signal::GithubErrorRatio));
    }
}
