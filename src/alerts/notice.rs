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
pub fn body(signal: Signal, since: &str, value: f64, threshold: f64, open_for: Duration) -> String {
    format!(
        "`{}` departed from its normal at {since} and has not recovered in {} minutes, \
         after upkeep's own corrective action.\n\n\
         | | |\n|---|---|\n| value when it opened | {value:.3} |\n| threshold learnt for this hour | {threshold:.3} |\n\n\
         **What to check.** {}\n\n\
         This issue closes itself when the signal is back to normal.\n\n{}",
        signal.name(),
        open_for.as_secs() / 60,
        check(signal),
        marker(signal)
    )
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
        );
        assert!(b.contains("| value when it opened | 0.900 |"));
        assert!(b.contains("31 minutes"));
        assert!(b.contains("githubstatus"));
        assert!(b.ends_with(&marker(Signal::GithubErrorRatio)));
        assert!(grace(Signal::QueueLagSeconds) < grace(Signal::GithubErrorRatio));
    }
}
