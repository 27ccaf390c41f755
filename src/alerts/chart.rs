//! A signal's last hours as a small SVG line chart (the ops issue links it; `/status/signals/
//! <signal>.svg` serves it) and as a text sparkline, which reads in any mail client and in the
//! issue itself when upkeep has no public address. Pure.

use std::fmt::Write as _;

use crate::bench::chart::esc;

const W: f64 = 600.0;
const H: f64 = 160.0;
const PAD: f64 = 32.0;
/// How far back the charts look.
pub const HOURS: i64 = 6;

/// `points` are `(t ms, value)` in time order between `from_ms` and `to_ms`; `threshold`, when
/// known, is drawn as a dashed red line. Gaps longer than three minutes (upkeep was down, or
/// another replica sampled) break the line.
pub fn svg(
    signal: &str,
    points: &[(i64, f64)],
    threshold: Option<f64>,
    (from_ms, to_ms): (i64, i64),
) -> String {
    let finite: Vec<(i64, f64)> = points
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    let top = finite
        .iter()
        .map(|(_, v)| *v)
        .chain(threshold)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let top = top * 1.1;
    let span = (to_ms - from_ms).max(1) as f64;
    let x = |t: i64| PAD + (t - from_ms) as f64 / span * (W - 2.0 * PAD);
    let y = |v: f64| H - PAD - (v.max(0.0) / top) * (H - 2.0 * PAD);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11"><rect width="{W}" height="{H}" fill="#fff"/><text x="{PAD}" y="16">{} — last {HOURS} hours</text>"##,
        esc(signal)
    );
    let _ = write!(
        s,
        r##"<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/><text x="{PAD}" y="{l}">{} h ago</text><text x="{r}" y="{l}" text-anchor="end">now</text><text x="4" y="{t}">{}</text>"##,
        HOURS,
        number(top),
        b = H - PAD,
        r = W - PAD,
        l = H - PAD + 14.0,
        t = PAD + 4.0,
    );
    if let Some(th) = threshold.filter(|t| t.is_finite()) {
        let _ = write!(
            s,
            r##"<line x1="{PAD}" y1="{ty:.1}" x2="{r}" y2="{ty:.1}" stroke="#d73a49" stroke-dasharray="4 3"/><text x="{r}" y="{ly:.1}" text-anchor="end" fill="#d73a49">threshold {}</text>"##,
            number(th),
            ty = y(th),
            ly = y(th) - 3.0,
            r = W - PAD,
        );
    }
    for run in runs(&finite) {
        let path: Vec<String> = run
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="#0366d6" stroke-width="1.5" points="{}"/>"##,
            path.join(" ")
        );
    }
    if finite.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#666">no samples</text>"##,
            W / 2.0,
            H / 2.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Consecutive samples at most three minutes apart.
fn runs(points: &[(i64, f64)]) -> Vec<&[(i64, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].0 - points[i - 1].0 > 180_000 {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// `▁▂▅█`: `values` in at most `width` buckets (each its maximum), scaled to the largest.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || width == 0 {
        return String::new();
    }
    let per = v.len().div_ceil(width);
    let buckets: Vec<f64> = v
        .chunks(per)
        .map(|c| c.iter().copied().fold(f64::MIN, f64::max))
        .collect();
    let top = buckets.iter().copied().fold(0.0_f64, f64::max);
    buckets
        .iter()
        .map(|b| {
            if top <= 0.0 {
                BARS[0]
            } else {
                BARS[((b.max(0.0) / top) * 7.0).round() as usize]
            }
        })
        .collect()
}

fn number(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_its_line_threshold_and_gaps() {
        let minute = 60_000;
        let mut points: Vec<(i64, f64)> = (0..30).map(|i| (i * minute, i as f64)).collect();
        // Ten minutes without a sample: the line breaks there.
        points.extend((40..60).map(|i| (i * minute, 5.0)));
        let s = svg("queue_lag_seconds", &points, Some(20.0), (0, 60 * minute));
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 2, "{s}");
        assert!(s.contains("threshold 20"));
        assert!(s.contains("queue_lag_seconds — last 6 hours"));
        let empty = svg("x<y", &[], None, (0, 1));
        assert!(empty.contains("no samples") && empty.contains("x&lt;y"));
    }

    #[test]
    fn a_sparkline_keeps_each_bucket_s_peak() {
        assert_eq!(
            sparkline(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 8),
            "▁▂▃▄▅▆▇█"
        );
        assert_eq!(sparkline(&[0.0, 7.0, 0.0, 0.0], 2), "█▁");
        assert_eq!(sparkline(&[0.0, 0.0], 4), "▁▁");
        assert_eq!(sparkline(&[], 4), "");
    }
}
