//! Benchmark baselines (issue 7). The pure core: reading criterion results (its
//! directory layout, cargo-criterion messages, bencher lines) as per-iteration sample times, the
//! statistics, and the verdict per benchmark — regressed, improved, unchanged or too noisy to
//! tell — with criterion's own rule and a fixed ratio alert beside it for comparison. The driver,
//! `ingest`, reads results from a finished workflow run's artifact and reports the verdict.
//! Instruction counts (gungraun's Callgrind summaries) are read by `gungraun` and judged by
//! `counts` against each benchmark's own history of counts.

pub mod artifact;
pub mod blind;
pub mod chart;
pub mod counts;
pub mod criterion;
pub mod gungraun;
pub mod ingest;
pub mod interleave;
pub mod limits;
pub mod prior;
pub mod report;
pub mod stats;
pub mod verdict;

pub use criterion::{
    from_bencher, from_cargo_criterion, from_files, from_layout, Measured, ParseError,
};
pub use verdict::{compare, Comparison, Rules, Verdict};
