//! A benchmark's trend as a small SVG line chart: the default branch's recent results (oldest
//! left), the noise band around their centre shaded, and, when given, the head being judged as
//! a red point. Pure; the server serves it at a stable URL the check run's table links to.

use std::fmt::Write as _;

const W: f64 = 640.0;
const H: f64 = 240.0;
const PAD: f64 = 40.0;

/// Escapes text for SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart for `title`: `points` are `(commit, ns)`, oldest first; `band` is the relative
/// noise band around their `centre`.
pub fn svg(
    title: &str,
    points: &[(String, f64)],
    centre: f64,
    band: Option<f64>,
    head: Option<f64>,
) -> String {
    let values: Vec<f64> = points
        .iter()
        .map(|p| p.1)
        .chain(head)
        .filter(|v| v.is_finite())
        .collect();
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n<text x=\"{PAD}\" y=\"20\">{}</text>\n",
        esc(title)
    );
    if values.is_empty() {
        s.push_str("<text x=\"40\" y=\"120\">no results yet</text>\n</svg>\n");
        return s;
    }
    let band_ns = band
        .filter(|_| centre.is_finite())
        .map(|b| (centre * (1.0 - b), centre * (1.0 + b)));
    let lo = values
        .iter()
        .copied()
        .chain(band_ns.map(|b| b.0))
        .fold(f64::INFINITY, f64::min);
    let hi = values
        .iter()
        .copied()
        .chain(band_ns.map(|b| b.1))
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
    let (lo, hi) = (lo - span * 0.1, hi + span * 0.1);
    let n = points.len() + usize::from(head.is_some());
    let x = |i: usize| PAD + (W - 2.0 * PAD) * (i as f64 + 0.5) / n.max(1) as f64;
    let y = |v: f64| H - PAD - (H - 2.0 * PAD) * (v - lo) / (hi - lo);
    if let Some((b0, b1)) = band_ns {
        let _ = writeln!(
            s,
            "<rect x=\"{PAD}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#dde8f5\"><title>noise band ±{:.1} %</title></rect>",
            y(b1),
            W - 2.0 * PAD,
            (y(b0) - y(b1)).max(0.0),
            100.0 * band.unwrap_or_default()
        );
    }
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1)))
        .collect();
    let _ = writeln!(
        s,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2\"/>",
        line.join(" ")
    );
    for (i, (commit, v)) in points.iter().enumerate() {
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1f5fa8\"><title>{} {:.1} ns</title></circle>",
            x(i),
            y(*v),
            esc(&commit.chars().take(7).collect::<String>()),
            v
        );
    }
    if let Some(h) = head {
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#c62828\"><title>head {h:.1} ns</title></circle>",
            x(points.len()),
            y(h)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{PAD}\" y=\"{:.1}\">{:.1} ns</text>\n<text x=\"{PAD}\" y=\"{:.1}\">{:.1} ns</text>\n</svg>",
        PAD - 6.0,
        hi,
        H - PAD + 16.0,
        lo
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_every_point_the_band_and_the_head_and_escapes_the_title() {
        let points: Vec<(String, f64)> = (0..5)
            .map(|i| (format!("c{i}"), 100.0 + i as f64))
            .collect();
        let chart = svg(
            "parse <fast> & \"small\"",
            &points,
            102.0,
            Some(0.05),
            Some(130.0),
        );
        assert!(chart.starts_with("<svg"));
        assert_eq!(chart.matches("<circle").count(), 6);
        assert!(chart.contains("noise band ±5.0 %"));
        assert!(chart.contains("parse &lt;fast&gt; &amp; &quot;small&quot;"));
        assert!(chart.contains("head 130.0 ns"));
        assert!(svg("x", &[], f64::NAN, None, None).contains("no results yet"));
    }
}
