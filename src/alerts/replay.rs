//! `upkeep alerts replay FILE`: the alert core run over a trace of JSON lines
//! `{"t": RFC 3339, "signal": NAME, "value": NUMBER}` in time order, printing one JSON line per
//! event, `{"t", "signal", "event", "value", "threshold"}`. Lines are read one at a time and
//! bounded; a line that is not a sample stops the replay with its number and what is wrong
//! (never its text). Pure over a reader and a writer.

use std::io::{BufRead, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::detector::{Detector, Event};
use super::signal::Signal;

/// The longest line read: a sample is far shorter.
pub const MAX_LINE: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("line {line}: {what}")]
    Line { line: usize, what: String },
    #[error("reading the trace: {0}")]
    Read(#[from] std::io::Error),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    t: String,
    signal: String,
    value: f64,
}

/// One event as a JSON line.
pub fn event_line(e: &Event) -> String {
    serde_json::json!({
        "t": e.t.to_rfc3339_opts(SecondsFormat::Secs, true),
        "signal": e.signal.name(),
        "event": e.event,
        "value": e.value,
        "threshold": e.threshold,
    })
    .to_string()
}

/// Replays `trace` through a fresh detector, writing each event to `out`; how many samples
/// were read.
pub fn replay(mut trace: impl BufRead, out: &mut impl Write) -> Result<usize, ReplayError> {
    let mut detector = Detector::default();
    let mut last: Option<DateTime<Utc>> = None;
    let mut samples = 0;
    let reader = &mut trace;
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        // Bounded: never more than MAX_LINE + 1 bytes of one line in memory.
        let n =
            std::io::Read::take(&mut *reader, MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        line += 1;
        let bad = |what: String| ReplayError::Line { line, what };
        if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
            return Err(bad(format!("longer than {MAX_LINE} bytes")));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| bad("not UTF-8".into()))?;
        if text.trim().is_empty() {
            continue;
        }
        let s: Sample = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "not a sample {{\"t\", \"signal\", \"value\"}} (column {})",
                e.column()
            ))
        })?;
        let t = DateTime::parse_from_rfc3339(&s.t)
            .map_err(|_| bad("`t` is not an RFC 3339 time".into()))?
            .with_timezone(&Utc);
        let signal = Signal::from_name(&s.signal).ok_or_else(|| {
            let known: Vec<&str> = Signal::ALL.iter().map(|s| s.name()).collect();
            bad(format!("unknown signal; known: {}", known.join(", ")))
        })?;
        if !s.value.is_finite() {
            return Err(bad("`value` is not a finite number".into()));
        }
        if last.is_some_and(|l| t < l) {
            return Err(bad("out of time order".into()));
        }
        last = Some(t);
        samples += 1;
        if let Some(e) = detector.observe(t, signal, s.value) {
            writeln!(out, "{}", event_line(&e))?;
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(trace: &str) -> Result<Vec<serde_json::Value>, ReplayError> {
        let mut out = Vec::new();
        replay(trace.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect())
    }

    #[test]
    fn an_outage_in_a_trace_opens_and_closes() {
        let mut trace = String::new();
        for m in 0..60 {
            let v = if (10..30).contains(&m) { 0.9 } else { 0.0 };
            trace.push_str(&format!(
                "{{\"t\":\"2026-11-02T10:{m:02}:00Z\",\"signal\":\"github_error_ratio\",\"value\":{v}}}\n"
            ));
        }
        let events = run(&trace).unwrap();
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0]["event"], "open");
        assert_eq!(events[0]["t"], "2026-11-02T10:12:00Z");
        assert_eq!(events[0]["threshold"], 0.25);
        assert_eq!(events[1]["event"], "close");
        assert_eq!(events[1]["t"], "2026-11-02T10:34:00Z");
    }

    #[test]
    fn bad_lines_are_named_by_number_never_echoed() {
        let ok = "{\"t\":\"2026-11-02T10:00:00Z\",\"signal\":\"queue_lag_seconds\",\"value\":1}\n";
        let e = run(&format!(
            "{ok}{{\"t\":\"yesterday\",\"signal\":\"queue_lag_seconds\",\"value\":1}}\n"
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(e, "line 2: `t` is not an RFC 3339 time");
        let e = run("{\"t\":\"2026-11-02T10:00:00Z\",\"signal\":\"secret-sauce\",\"value\":1}\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("line 1: unknown signal") && !e.contains("secret-sauce"),
            "{e}"
        );
        let long = format!("{}\n", "x".repeat(5000));
        assert!(run(&long)
            .unwrap_err()
            .to_string()
            .contains("longer than 1024"));
        let backwards = "{\"t\":\"2026-11-02T10:01:00Z\",\"signal\":\"queue_lag_seconds\",\"value\":1}\n{\"t\":\"2026-11-02T10:00:00Z\",\"signal\":\"queue_lag_seconds\",\"value\":1}\n";
        assert_eq!(
            run(backwards).unwrap_err().to_string(),
            "line 2: out of time order"
        );
    }
}
