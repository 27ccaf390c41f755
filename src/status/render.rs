//! The status page as HTML: one server-rendered page, no script, that reloads itself every
//! 30 seconds and reads on a phone (one column, system fonts, tables that wrap). Every text
//! is escaped, though all of it is upkeep's own. Pure.

use std::fmt::Write;

use super::model::Status;

/// How often the page reloads itself (seconds).
pub const REFRESH_S: u32 = 30;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A name with a line-break opportunity after each `_`, so `github_error_ratio` wraps at its
/// words on a phone instead of letter by letter.
fn breakable(name: &str) -> String {
    escape(name).replace('_', "_<wbr>")
}

/// A time, breakable between its date and its clock (`2026-12-06T` / `10:00:00Z`).
fn when(time: &str) -> String {
    escape(time).replacen('T', "T<wbr>", 1)
}

/// A coloured badge for a state name.
fn badge(state: &str) -> String {
    let class = match state {
        "closed" | "ok" => "ok",
        "half_open" => "warn",
        _ => "bad",
    };
    format!(
        "<span class=\"badge {class}\">{}</span>",
        escape(&state.replace('_', "-"))
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:52rem;padding:1rem;color:#1f2328;background:#fff}\
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top;overflow-wrap:break-word}\
th{font-weight:600;color:#57606a}.muted{color:#57606a;font-size:.9rem}\
.badge{display:inline-block;white-space:nowrap;padding:.05rem .5rem;border-radius:1rem;font-size:.85rem;font-weight:600}\
.ok{background:#dafbe1;color:#116329}.warn{background:#fff8c5;color:#7d4e00}.bad{background:#ffebe9;color:#a40e26}\
.summary{font-size:1.05rem;margin:.6rem 0}";

/// The page.
pub fn html(status: &Status) -> String {
    let mut page = String::new();
    let open_alerts = status.alerts.iter().filter(|a| a.state == "open").count();
    let down = status
        .dependencies
        .iter()
        .filter(|d| d.state != "closed")
        .count();
    let summary = if open_alerts == 0 && down == 0 {
        format!("{} All dependencies answer; no open alert.", badge("ok"))
    } else {
        format!(
            "{} {open_alerts} open alert{}, {down} dependenc{} not closed.",
            badge("open"),
            if open_alerts == 1 { "" } else { "s" },
            if down == 1 { "y" } else { "ies" }
        )
    };
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"{REFRESH_S}\">\
<title>upkeep status</title><style>{STYLE}</style></head><body>\
<h1>upkeep status</h1><p class=\"muted\">version {} · started {} · reloads every {REFRESH_S} s · <a href=\"/status.json\">JSON</a></p>\
<p class=\"summary\" id=\"summary\">{summary}</p>",
        escape(status.version),
        escape(&status.started_at),
    );

    page.push_str("<h2>Alerts</h2>");
    if status.alerts.is_empty() {
        page.push_str("<p class=\"muted\" id=\"alerts\">None.</p>");
    } else {
        page.push_str("<table id=\"alerts\"><tr><th>signal</th><th>state</th><th>since</th><th>what happened</th></tr>");
        for a in &status.alerts {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                breakable(a.signal),
                badge(a.state),
                when(&a.since),
                escape(&a.detail)
            );
        }
        page.push_str("</table>");
    }

    page.push_str("<h2>Dependencies</h2><table id=\"dependencies\"><tr><th>dependency</th><th>breaker</th><th>failures</th><th>since</th></tr>");
    for d in &status.dependencies {
        let mut state = badge(d.state);
        let not_closed: Vec<String> = d
            .installations
            .iter()
            .filter(|(_, s)| **s != "closed")
            .map(|(id, s)| format!("installation {} {}", escape(id), escape(s)))
            .collect();
        if !not_closed.is_empty() {
            let _ = write!(
                state,
                "<br><span class=\"muted\">{}</span>",
                not_closed.join(", ")
            );
        }
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{state}</td><td>{:.0}%{}</td><td>{}</td></tr>",
            breakable(d.name),
            d.failure_ratio * 100.0,
            d.last_error_kind
                .map(|k| format!(" <span class=\"muted\">({})</span>", escape(k)))
                .unwrap_or_default(),
            when(d.since.as_deref().unwrap_or("not called yet")),
        );
    }
    page.push_str("</table>");

    let q = &status.queue;
    let _ = write!(
        page,
        "<h2>Queue</h2><table id=\"queue\"><tr><th>queued</th><th>running</th><th>waiting to retry</th><th>dead</th><th>oldest waiting</th></tr>\
<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        q.queued,
        q.running,
        q.failed,
        q.dead,
        q.oldest_queued_age_s
            .map(|s| format!("{s} s"))
            .unwrap_or_else(|| "nothing waits".to_owned())
    );

    let d = &status.deliveries;
    let _ = write!(
        page,
        "<h2>Webhook deliveries</h2><table id=\"deliveries\"><tr><th>last received</th><th>recovered from GitHub's log</th></tr>\
<tr><td>{}</td><td>{}</td></tr></table>",
        when(d.last_received_at.as_deref().unwrap_or("none yet")),
        d.recovered_total
    );

    page.push_str("<h2>Rate limits</h2>");
    if status.rate_limit.is_empty() {
        page.push_str(
            "<p class=\"muted\" id=\"rate-limit\">No installation has been called yet.</p>",
        );
    } else {
        page.push_str("<table id=\"rate-limit\"><tr><th>installation</th><th>remaining</th><th>resets</th><th>runs out at this pace</th></tr>");
        for (id, r) in &status.rate_limit {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(id),
                r.remaining,
                when(&r.reset_at),
                when(
                    r.forecast_exhausted_at
                        .as_deref()
                        .unwrap_or("not before the reset")
                )
            );
        }
        page.push_str("</table>");
    }

    page.push_str("<h2>Drift</h2>");
    if status.drift.is_empty() {
        page.push_str("<p class=\"muted\" id=\"drift\">None found.</p>");
    } else {
        page.push_str(
            "<table id=\"drift\"><tr><th>what</th><th>found</th><th>how to fix</th></tr>",
        );
        for d in &status.drift {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.kind),
                escape(&d.detail),
                escape(&d.fix)
            );
        }
        page.push_str("</table>");
    }
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::model::{Alert, Deliveries, Queue};

    fn status() -> Status {
        Status {
            version: "0.1.0",
            started_at: "2026-12-06T10:00:00Z".to_owned(),
            dependencies: vec![crate::status::model::dependency("github", &[], true)],
            queue: Queue::default(),
            deliveries: Deliveries {
                last_received_at: None,
                recovered_total: 3,
            },
            rate_limit: Default::default(),
            drift: vec![],
            alerts: vec![],
            config: Default::default(),
        }
    }

    #[test]
    fn a_quiet_page_says_all_is_well_and_reloads_itself() {
        let page = html(&status());
        assert!(
            page.contains("All dependencies answer; no open alert."),
            "{page}"
        );
        assert!(page.contains("http-equiv=\"refresh\" content=\"30\""));
        assert!(page.contains("name=\"viewport\""));
        assert!(!page.contains("<script"), "no script");
    }

    #[test]
    fn an_alert_is_summed_up_and_its_text_escaped() {
        let mut s = status();
        s.alerts.push(Alert {
            signal: "database_restored",
            state: "open",
            since: "2026-12-06T10:00:00Z".to_owned(),
            value: 1.0,
            threshold: 0.0,
            detail: "<b>restored</b> & kept".to_owned(),
        });
        let page = html(&s);
        assert!(
            page.contains("1 open alert, 0 dependencies not closed."),
            "{page}"
        );
        assert!(page.contains("&lt;b&gt;restored&lt;/b&gt; &amp; kept"));
        assert!(!page.contains("<b>restored</b>"));
    }
}
