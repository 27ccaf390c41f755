//! Reading benchmark results, strictly (they come from artifacts: untrusted input). Three
//! forms: criterion's directory layout (every `**/<which>/benchmark.json` with its
//! `sample.json` and `estimates.json`, keyed on `full_id`, at whatever depth), cargo-criterion's
//! JSON messages (`benchmark-complete`, with `iteration_count` and `measured_values`), and
//! `cargo bench --output-format bencher` lines (a point estimate and a spread, no samples).
//! Every result becomes per-iteration times in nanoseconds, or an estimate and its spread when
//! there are no samples. Pure: files come in as `(path, bytes)`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Limits on what one result set may hold.
pub const MAX_BENCHMARKS: usize = 5_000;
pub const MAX_SAMPLES: usize = 100_000;
pub const MAX_ID_LEN: usize = 512;
pub const MAX_JSON_FILE: usize = 16 * 1024 * 1024;

/// Which quantile of a run's per-iteration times stands for the run. Timing noise on a shared
/// machine only ever adds time (another process, a cache flushed, a frequency dip), so the fast
/// end of a run is the most stable measure of the code's own cost — the reasoning behind
/// Julia's BenchmarkTools judging by the minimum (Chen & Revels, "Robust benchmarking in noisy
/// environments", 2016). The minimum itself is one sample's luck; the 5th percentile is the
/// fast end without it. On both noise corpora it raised fewer false alarms and caught more
/// slowdowns than the median (docs/PERFORMANCE.md).
pub const TYPICAL_QUANTILE: f64 = 0.05;

/// One benchmark's measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// criterion's `full_id` (`group/function/value`).
    pub id: String,
    /// Time per iteration of each sample, in nanoseconds (empty for a bencher line).
    pub samples: Vec<f64>,
    /// For a bencher line: the estimate and its `+/-` spread, in nanoseconds.
    pub summary: Option<(f64, f64)>,
}

impl Measured {
    /// The typical time per iteration: the [`TYPICAL_QUANTILE`] of the samples, or a bencher
    /// line's estimate.
    pub fn typical(&self) -> f64 {
        self.level(TYPICAL_QUANTILE)
    }

    /// The `q` quantile of the per-iteration times (a bencher line: its estimate).
    pub fn level(&self, q: f64) -> f64 {
        match self.summary {
            Some((m, _)) if self.samples.is_empty() => m,
            _ => super::stats::quantile(&self.samples, q),
        }
    }

    /// The mean time per iteration.
    pub fn mean(&self) -> f64 {
        match self.summary {
            Some((m, _)) if self.samples.is_empty() => m,
            _ => super::stats::mean(&self.samples),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("{path}: {message}")]
    Bad { path: String, message: String },
    #[error("more than {MAX_BENCHMARKS} benchmarks")]
    TooMany,
}

fn bad(path: &str, message: impl Into<String>) -> ParseError {
    ParseError::Bad {
        path: path.to_owned(),
        message: message.into(),
    }
}

#[derive(Deserialize)]
struct BenchmarkJson {
    full_id: String,
}

#[derive(Deserialize)]
struct SampleJson {
    iters: Vec<f64>,
    times: Vec<f64>,
}

/// The part of criterion's `estimates.json` that is read: the mean per-iteration time and its
/// confidence interval, in nanoseconds.
#[derive(Deserialize)]
struct EstimatesJson {
    mean: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// How far `estimates.json`'s mean may stray from the mean of `sample.json` before the two are
/// called inconsistent. criterion's point estimate is that very mean, so only rounding is let by.
const ESTIMATE_TOLERANCE: f64 = 1e-6;

/// Criterion's layout: every `<dir>/<which>/benchmark.json` (`which` is `new` for the latest run,
/// `base` for the saved baseline) with `sample.json` or `estimates.json` beside it, or both.
/// Samples are what verdicts are made from; without them (a workflow that dropped them to stay
/// under its size bound), the estimated mean and the half-width of its confidence interval
/// stand for the result, as a bencher line's estimate and spread do. When both are there they
/// must agree: criterion's estimated mean is the mean of the samples.
pub fn from_layout(
    files: &BTreeMap<String, Vec<u8>>,
    which: &str,
) -> Result<Vec<Measured>, ParseError> {
    let suffix = format!("{which}/benchmark.json");
    let mut out: BTreeMap<String, Measured> = BTreeMap::new();
    for (path, bytes) in files {
        let Some(dir) = path.strip_suffix(&suffix) else {
            continue;
        };
        if !(dir.is_empty() || dir.ends_with('/')) || dir.contains("/report/") {
            continue;
        }
        let meta: BenchmarkJson = json(path, bytes)?;
        let id = check_id(path, &meta.full_id)?;
        let measured = measured_in(files, &format!("{dir}{which}/"), id.clone())?;
        if out.len() >= MAX_BENCHMARKS {
            return Err(ParseError::TooMany);
        }
        out.insert(id, measured);
    }
    Ok(out.into_values().collect())
}

/// One benchmark's `sample.json` and `estimates.json` in `dir`, whichever are there.
fn measured_in(
    files: &BTreeMap<String, Vec<u8>>,
    dir: &str,
    id: String,
) -> Result<Measured, ParseError> {
    let sample_path = format!("{dir}sample.json");
    let estimates_path = format!("{dir}estimates.json");
    let samples = match files.get(&sample_path) {
        Some(bytes) => {
            let sample: SampleJson = json(&sample_path, bytes)?;
            Some(per_iteration(&sample_path, &sample.iters, &sample.times)?)
        }
        None => None,
    };
    let estimate = match files.get(&estimates_path) {
        Some(bytes) => Some(mean_estimate(
            &estimates_path,
            json(&estimates_path, bytes)?,
        )?),
        None => None,
    };
    if let (Some(samples), Some((mean, _))) = (&samples, estimate) {
        let from_samples = super::stats::mean(samples);
        if (mean / from_samples - 1.0).abs() > ESTIMATE_TOLERANCE {
            return Err(bad(
                &estimates_path,
                format!("its mean ({mean} ns) is not the mean of sample.json ({from_samples} ns)"),
            ));
        }
    }
    match (samples, estimate) {
        (Some(samples), _) => Ok(Measured {
            id,
            samples,
            summary: None,
        }),
        (None, Some(summary)) => Ok(Measured {
            id,
            samples: Vec::new(),
            summary: Some(summary),
        }),
        (None, None) => Err(bad(
            &sample_path,
            "missing beside benchmark.json (and no estimates.json either)",
        )),
    }
}

/// The mean and the half-width of its interval, checked: finite, positive, the estimate inside
/// its interval.
fn mean_estimate(path: &str, e: EstimatesJson) -> Result<(f64, f64), ParseError> {
    let (point, lo, hi) = (
        e.mean.point_estimate,
        e.mean.confidence_interval.lower_bound,
        e.mean.confidence_interval.upper_bound,
    );
    if [point, lo, hi].iter().all(|v| v.is_finite() && *v >= 0.0) && lo <= point && point <= hi {
        Ok((point, (hi - lo) / 2.0))
    } else {
        Err(bad(
            path,
            "the mean's estimate is not a finite non-negative number inside its interval",
        ))
    }
}

/// What an artifact's result files hold, in every form upkeep reads: criterion's layout (the
/// `new` results), then cargo-criterion's messages in any `*.jsonl` file (`cargo criterion
/// --message-format=json > results.jsonl`), then libtest-style lines in any `*.txt` file
/// (`cargo bench -- --output-format bencher > results.txt`). A benchmark found in more than one
/// form counts once, in the first (samples beat a bencher line's summary).
pub fn from_files(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<Measured>, ParseError> {
    let mut out = from_layout(files, "new")?;
    let mut seen: std::collections::BTreeSet<String> = out.iter().map(|m| m.id.clone()).collect();
    type Reader = fn(&str) -> Result<Vec<Measured>, ParseError>;
    let readers: [(&str, Reader); 2] = [(".jsonl", from_cargo_criterion), (".txt", from_bencher)];
    for (suffix, read) in readers {
        for (path, bytes) in files.iter().filter(|(p, _)| p.ends_with(suffix)) {
            if bytes.len() > MAX_JSON_FILE {
                return Err(bad(path, "file too large"));
            }
            let text = std::str::from_utf8(bytes).map_err(|_| bad(path, "not UTF-8 text"))?;
            let found = read(text).map_err(|e| match e {
                ParseError::Bad { path: at, message } => bad(path, format!("{at}: {message}")),
                other => other,
            })?;
            for m in found {
                if seen.insert(m.id.clone()) {
                    if out.len() >= MAX_BENCHMARKS {
                        return Err(ParseError::TooMany);
                    }
                    out.push(m);
                }
            }
        }
    }
    Ok(out)
}

/// cargo-criterion's `--message-format=json` output: one JSON object per line; only
/// `benchmark-complete` messages count.
pub fn from_cargo_criterion(text: &str) -> Result<Vec<Measured>, ParseError> {
    #[derive(Deserialize)]
    struct Message {
        reason: String,
        #[serde(default)]
        id: String,
        #[serde(default)]
        iteration_count: Vec<f64>,
        #[serde(default)]
        measured_values: Vec<f64>,
        #[serde(default)]
        unit: String,
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if !line.starts_with('{') {
            continue;
        }
        let at = format!("line {}", i + 1);
        let m: Message = json(&at, line.as_bytes())?;
        if m.reason != "benchmark-complete" {
            continue;
        }
        if m.unit != "ns" {
            return Err(bad(&at, format!("unit `{}` (only ns is read)", m.unit)));
        }
        let samples = per_iteration(&at, &m.iteration_count, &m.measured_values)?;
        if out.len() >= MAX_BENCHMARKS {
            return Err(ParseError::TooMany);
        }
        out.push(Measured {
            id: check_id(&at, &m.id)?,
            samples,
            summary: None,
        });
    }
    Ok(out)
}

/// `test NAME ... bench:   1,234 ns/iter (+/- 56)` lines.
pub fn from_bencher(text: &str) -> Result<Vec<Measured>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.trim().strip_prefix("test ") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once(" ... bench:") else {
            continue;
        };
        let at = format!("line {}", i + 1);
        let number = |s: &str| -> Result<f64, ParseError> {
            s.trim()
                .replace([',', '_'], "")
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(&at, format!("`{s}` is not a number")))
        };
        let (value, rest) = rest
            .split_once("ns/iter")
            .ok_or_else(|| bad(&at, "no ns/iter"))?;
        let spread = rest
            .trim()
            .strip_prefix("(+/-")
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| bad(&at, "no (+/- …)"))?;
        if out.len() >= MAX_BENCHMARKS {
            return Err(ParseError::TooMany);
        }
        out.push(Measured {
            id: check_id(&at, name.trim())?,
            samples: Vec::new(),
            summary: Some((number(value)?, number(spread)?)),
        });
    }
    Ok(out)
}

fn json<'a, T: Deserialize<'a>>(path: &str, bytes: &'a [u8]) -> Result<T, ParseError> {
    if bytes.len() > MAX_JSON_FILE {
        return Err(bad(path, "file too large"));
    }
    serde_json::from_slice(bytes).map_err(|e| bad(path, e.to_string()))
}

fn check_id(path: &str, id: &str) -> Result<String, ParseError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(bad(
            path,
            "benchmark id empty, too long or with control characters",
        ));
    }
    Ok(id.to_owned())
}

/// `times[i] / iters[i]`, checked: same length, at least two, positive and finite.
fn per_iteration(path: &str, iters: &[f64], times: &[f64]) -> Result<Vec<f64>, ParseError> {
    if iters.len() != times.len() {
        return Err(bad(path, "iters and times differ in length"));
    }
    if iters.len() < 2 || iters.len() > MAX_SAMPLES {
        return Err(bad(path, format!("{} samples", iters.len())));
    }
    iters
        .iter()
        .zip(times)
        .map(|(n, t)| {
            if n.is_finite() && *n >= 1.0 && t.is_finite() && *t >= 0.0 {
                Ok(t / n)
            } else {
                Err(bad(path, "a sample is not a positive finite number"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn the_layout_is_read_at_any_depth_and_keyed_on_full_id() {
        let files = layout(&[
            (
                "criterion/g/f/new/benchmark.json",
                r#"{"full_id":"g/f/100","group_id":"g"}"#,
            ),
            (
                "criterion/g/f/new/sample.json",
                r#"{"sampling_mode":"Linear","iters":[1,2],"times":[10,22]}"#,
            ),
            (
                "target/criterion/plain/new/benchmark.json",
                r#"{"full_id":"plain"}"#,
            ),
            (
                "target/criterion/plain/new/sample.json",
                r#"{"iters":[4,4],"times":[8,12]}"#,
            ),
            (
                "target/criterion/plain/base/benchmark.json",
                r#"{"full_id":"plain"}"#,
            ),
            (
                "target/criterion/plain/base/sample.json",
                r#"{"iters":[4,4],"times":[4,4]}"#,
            ),
        ]);
        let new = from_layout(&files, "new").unwrap();
        assert_eq!(new.len(), 2);
        assert_eq!(new[0].id, "g/f/100");
        assert_eq!(new[0].samples, [10.0, 11.0]);
        assert_eq!(new[1].samples, [2.0, 3.0]);
        assert_eq!(from_layout(&files, "base").unwrap()[0].samples, [1.0, 1.0]);
    }

    #[test]
    fn broken_or_hostile_results_are_errors_naming_the_file() {
        let missing = layout(&[("a/new/benchmark.json", r#"{"full_id":"a"}"#)]);
        assert!(from_layout(&missing, "new")
            .unwrap_err()
            .to_string()
            .contains("a/new/sample.json"));
        let uneven = layout(&[
            ("a/new/benchmark.json", r#"{"full_id":"a"}"#),
            ("a/new/sample.json", r#"{"iters":[1,2,3],"times":[1,2]}"#),
        ]);
        assert!(from_layout(&uneven, "new").is_err());
        let negative = layout(&[
            ("a/new/benchmark.json", r#"{"full_id":"a"}"#),
            ("a/new/sample.json", r#"{"iters":[1,0],"times":[1,2]}"#),
        ]);
        assert!(from_layout(&negative, "new").is_err());
        let control = layout(&[
            ("a/new/benchmark.json", "{\"full_id\":\"a\\u0007\"}"),
            ("a/new/sample.json", r#"{"iters":[1,1],"times":[1,2]}"#),
        ]);
        assert!(from_layout(&control, "new").is_err());
    }

    fn estimates(mean: f64, lo: f64, hi: f64) -> String {
        format!(
            r#"{{"mean":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{lo},"upper_bound":{hi}}},"point_estimate":{mean},"standard_error":1.0}},"median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1,"upper_bound":2}},"point_estimate":1.5,"standard_error":0.1}},"slope":null}}"#
        )
    }

    #[test]
    fn without_samples_the_estimated_mean_and_its_interval_stand_for_the_result() {
        let only = estimates(100.0, 96.0, 104.0);
        let files = layout(&[
            ("c/a/new/benchmark.json", r#"{"full_id":"a"}"#),
            ("c/a/new/estimates.json", &only),
        ]);
        let m = &from_layout(&files, "new").unwrap()[0];
        assert!(m.samples.is_empty());
        assert_eq!(m.summary, Some((100.0, 4.0)));
        assert_eq!(m.typical(), 100.0);
    }

    #[test]
    fn estimates_that_disagree_with_the_samples_or_make_no_sense_are_refused() {
        let agreeing = estimates(11.0, 10.0, 12.0);
        let both = layout(&[
            ("a/new/benchmark.json", r#"{"full_id":"a"}"#),
            ("a/new/sample.json", r#"{"iters":[1,1],"times":[10,12]}"#),
            ("a/new/estimates.json", &agreeing),
        ]);
        let m = &from_layout(&both, "new").unwrap()[0];
        assert_eq!(
            (m.samples.as_slice(), m.summary),
            (&[10.0, 12.0][..], None),
            "samples are what counts when they are there"
        );
        let doctored = estimates(9.0, 8.0, 10.0);
        let disagreeing = layout(&[
            ("a/new/benchmark.json", r#"{"full_id":"a"}"#),
            ("a/new/sample.json", r#"{"iters":[1,1],"times":[10,12]}"#),
            ("a/new/estimates.json", &doctored),
        ]);
        let e = from_layout(&disagreeing, "new").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "a/new/estimates.json: its mean (9 ns) is not the mean of sample.json (11 ns)"
            ),
            "{e}"
        );
        for (mean, lo, hi) in [
            (5.0, 6.0, 7.0),
            (-1.0, -2.0, 0.0),
            (f64::INFINITY, 0.0, 1.0),
        ] {
            let odd = estimates(mean, lo, hi).replace("inf", "1e999");
            let files = layout(&[
                ("a/new/benchmark.json", r#"{"full_id":"a"}"#),
                ("a/new/estimates.json", &odd),
            ]);
            assert!(from_layout(&files, "new").is_err(), "{odd}");
        }
        let shapeless = layout(&[
            ("a/new/benchmark.json", r#"{"full_id":"a"}"#),
            ("a/new/estimates.json", r#"{"Mean":{"point_estimate":1}}"#),
        ]);
        assert!(from_layout(&shapeless, "new")
            .unwrap_err()
            .to_string()
            .starts_with("a/new/estimates.json: "));
    }

    #[test]
    fn an_artifact_may_hold_any_of_the_three_forms_and_a_benchmark_counts_once() {
        let files = layout(&[
            ("c/a/new/benchmark.json", r#"{"full_id":"a"}"#),
            ("c/a/new/sample.json", r#"{"iters":[1,1],"times":[10,12]}"#),
            (
                "results.jsonl",
                r#"{"reason":"benchmark-complete","id":"b","iteration_count":[1,1],"measured_values":[5,7],"unit":"ns"}
{"reason":"benchmark-complete","id":"a","iteration_count":[1,1],"measured_values":[1,1],"unit":"ns"}"#,
            ),
            (
                "bench.txt",
                "test c ... bench: 40 ns/iter (+/- 2)\ntest b ... bench: 1 ns/iter (+/- 0)\n",
            ),
            ("notes.md", "test d ... bench: 1 ns/iter (+/- 0)\n"),
        ]);
        let m = from_files(&files).unwrap();
        let ids: Vec<&str> = m.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(
            m[0].samples,
            [10.0, 12.0],
            "the layout's samples, not the message's"
        );
        assert_eq!(m[1].samples, [5.0, 7.0]);
        assert_eq!(m[2].summary, Some((40.0, 2.0)));
        let broken = layout(&[(
            "x/results.jsonl",
            r#"{"reason":"benchmark-complete","id":"b","iteration_count":[1],"measured_values":[5,7],"unit":"ns"}"#,
        )]);
        let e = from_files(&broken).unwrap_err().to_string();
        assert!(e.starts_with("x/results.jsonl: line 1:"), "{e}");
        let binary = BTreeMap::from([("r.txt".to_owned(), vec![0xff, 0xfe])]);
        assert!(from_files(&binary)
            .unwrap_err()
            .to_string()
            .contains("not UTF-8"));
    }

    #[test]
    fn cargo_criterion_messages_and_bencher_lines_are_read() {
        let messages = r#"{"reason":"group-complete","group_name":"g"}
{"reason":"benchmark-complete","id":"g/f","iteration_count":[2,4],"measured_values":[20,44],"unit":"ns"}"#;
        let m = from_cargo_criterion(messages).unwrap();
        assert_eq!(m[0].id, "g/f");
        assert_eq!(m[0].samples, [10.0, 11.0]);
        let lines = "running 2 tests\ntest parse ... bench:       1,234 ns/iter (+/- 56)\ntest b::c ... bench:          12 ns/iter (+/- 1)\n";
        let b = from_bencher(lines).unwrap();
        assert_eq!(b[0].id, "parse");
        assert_eq!(b[0].summary, Some((1234.0, 56.0)));
        assert_eq!(b[1].mean(), 12.0);
    }
}
