//! gungraun's `summary.json` (schema v6: gungraun 0.16–0.19, iai-callgrind 0.16), one per
//! benchmark, read strictly: the Callgrind profile's total, each metric the new run's value
//! (`Left`, or the first of `Both`). Everything from outside is bounded first: the file's size,
//! the benchmark id's length, the number of metrics; a value must be a finite count. Other
//! tools' profiles (DHAT, Memcheck...) are skipped. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// A summary larger than this is refused (gungraun's are a few KiB).
pub const MAX_SUMMARY_BYTES: usize = 1024 * 1024;
/// The schema versions read.
pub const VERSIONS: &[&str] = &["6"];
const MAX_ID_LEN: usize = super::criterion::MAX_ID_LEN;
const MAX_METRICS: usize = 64;
const MAX_BENCHMARKS: usize = super::criterion::MAX_BENCHMARKS;

/// What a result measures. Wall time is criterion's; the rest are Callgrind's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Instructions executed (Callgrind's `Ir`).
    Instructions,
    /// Callgrind's estimate of CPU cycles from instructions and cache simulation.
    EstimatedCycles,
    /// Memory accesses served by RAM in the cache simulation (`RamHits`).
    RamHits,
    /// ... by the last-level cache (`LLhits`).
    LlHits,
    /// ... by the first-level caches (`L1hits`).
    L1Hits,
    /// Wall time per iteration (criterion).
    WallTime,
}

impl Metric {
    /// Every metric, in the order tables show them: counts first.
    pub const ALL: [Metric; 6] = [
        Metric::Instructions,
        Metric::EstimatedCycles,
        Metric::RamHits,
        Metric::LlHits,
        Metric::L1Hits,
        Metric::WallTime,
    ];

    /// The name stored and shown (`instructions`, `wall_time`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Instructions => "instructions",
            Metric::EstimatedCycles => "estimated_cycles",
            Metric::RamHits => "ram_hits",
            Metric::LlHits => "ll_hits",
            Metric::L1Hits => "l1_hits",
            Metric::WallTime => "wall_time",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Callgrind's event name for a count.
    fn from_event(event: &str) -> Option<Metric> {
        Some(match event {
            "Ir" => Metric::Instructions,
            "EstimatedCycles" => Metric::EstimatedCycles,
            "RamHits" => Metric::RamHits,
            "LLhits" => Metric::LlHits,
            "L1hits" => Metric::L1Hits,
            _ => return None,
        })
    }

    /// Whether the metric is a count (near-deterministic) rather than a time.
    pub fn is_count(self) -> bool {
        self != Metric::WallTime
    }
}

/// One count of one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    /// `module_path id` (`instructions::noisiest::parse_delivery pull_request_opened`).
    pub id: String,
    pub metric: Metric,
    pub value: f64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GungraunError {
    #[error("the summary is {0} bytes, over the {MAX_SUMMARY_BYTES} byte limit")]
    TooLarge(usize),
    #[error("the summary is not JSON: {0}")]
    Json(String),
    #[error("summary schema version {0:?} is not one upkeep reads (it reads {VERSIONS:?}: gungraun 0.16 to 0.19)")]
    UnsupportedVersion(String),
    #[error("the summary lacks {0}")]
    Missing(&'static str),
    #[error("the benchmark id is over {MAX_ID_LEN} characters")]
    IdTooLong,
    #[error("{0}: not a finite, non-negative count")]
    BadValue(String),
    #[error("more than {MAX_METRICS} metrics in one summary")]
    TooManyMetrics,
    #[error("more than {MAX_BENCHMARKS} benchmarks")]
    TooMany,
    #[error("{path}: {source}")]
    In {
        path: String,
        source: Box<GungraunError>,
    },
}

/// The counts of one `summary.json`: the new run's.
pub fn from_summary(bytes: &[u8]) -> Result<Vec<Counted>, GungraunError> {
    Ok(read(bytes)?.0)
}

/// The new run's counts and the old run's, where gungraun compared with one (a local re-run:
/// `Both` holds the new value and the previous one; `Right` alone is the old run's).
pub fn pairs_of_summary(bytes: &[u8]) -> Result<(Vec<Counted>, Vec<Counted>), GungraunError> {
    read(bytes)
}

/// (new, old) counts of one summary.
fn read(bytes: &[u8]) -> Result<(Vec<Counted>, Vec<Counted>), GungraunError> {
    if bytes.len() > MAX_SUMMARY_BYTES {
        return Err(GungraunError::TooLarge(bytes.len()));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| GungraunError::Json(e.to_string()))?;
    let version = v["version"]
        .as_str()
        .ok_or(GungraunError::Missing("a version"))?;
    if !VERSIONS.contains(&version) {
        let shown: String = version.chars().take(16).collect();
        return Err(GungraunError::UnsupportedVersion(shown));
    }
    let module = v["module_path"]
        .as_str()
        .ok_or(GungraunError::Missing("module_path"))?;
    let id = match v["id"].as_str() {
        Some(id) => format!("{module} {id}"),
        None => module.to_owned(),
    };
    if id.chars().count() > MAX_ID_LEN {
        return Err(GungraunError::IdTooLong);
    }
    let profiles = v["profiles"]
        .as_array()
        .ok_or(GungraunError::Missing("profiles"))?;
    let (mut new, mut old) = (Vec::new(), Vec::new());
    let mut found = false;
    for profile in profiles {
        if profile["tool"].as_str() != Some("Callgrind") {
            continue;
        }
        let metrics = profile["summaries"]["total"]["summary"]["Callgrind"]
            .as_object()
            .ok_or(GungraunError::Missing("the Callgrind total"))?;
        if metrics.len() > MAX_METRICS {
            return Err(GungraunError::TooManyMetrics);
        }
        found = true;
        for (event, diff) in metrics {
            let Some(metric) = Metric::from_event(event) else {
                continue;
            };
            let values = &diff["metrics"];
            let (now, before) = match (values.get("Left"), values.get("Right"), values.get("Both"))
            {
                (Some(left), _, _) => (Some(left), None),
                (None, Some(right), _) => (None, Some(right)),
                (None, None, Some(both)) => (Some(&both[0]), Some(&both[1])),
                _ => (None, None),
            };
            for (value, into) in [(now, &mut new), (before, &mut old)] {
                let Some(value) = value else { continue };
                let n = value
                    .get("Int")
                    .and_then(Value::as_f64)
                    .or_else(|| value.get("Float").and_then(Value::as_f64))
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .ok_or_else(|| GungraunError::BadValue(format!("{id} {event}")))?;
                into.push(Counted {
                    id: id.clone(),
                    metric,
                    value: n,
                });
            }
        }
    }
    if !found || new.is_empty() {
        return Err(GungraunError::Missing("a Callgrind profile"));
    }
    new.sort_by_key(|c| c.metric);
    old.sort_by_key(|c| c.metric);
    Ok((new, old))
}

/// Every gungraun summary in an artifact's files (`…/summary.json`), in path order; a
/// benchmark id seen twice keeps its first summary. The error names the file.
pub fn from_files(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<Counted>, GungraunError> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (path, bytes) in files {
        if path.rsplit('/').next() != Some("summary.json") {
            continue;
        }
        let counted = from_summary(bytes).map_err(|e| GungraunError::In {
            path: shown(path),
            source: Box::new(e),
        })?;
        let Some(id) = counted.first().map(|c| c.id.clone()) else {
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        if seen.len() > MAX_BENCHMARKS {
            return Err(GungraunError::TooMany);
        }
        out.extend(counted);
    }
    Ok(out)
}

/// A path from outside, cut to a length a message can carry.
fn shown(path: &str) -> String {
    let cut: String = path.chars().take(200).collect();
    if cut.len() < path.len() {
        format!("{cut}…")
    } else {
        cut
    }
}
