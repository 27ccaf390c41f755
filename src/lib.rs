//! upkeep: a GitHub App that keeps Rust repositories healthy.
//!
//! The library holds everything; `main.rs` is a thin command-line edge. See
//! `docs/ARCHITECTURE.md` for the map: one folder per capability (pure core and drivers), the
//! queue, the webhook intake and the process edge.

pub mod alerts;
pub mod api;
pub mod app_manifest;
pub mod audit;
pub mod bench;
pub mod cargo;
pub mod check;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod deps;
pub mod drift;
pub mod github;
pub mod handles;
pub mod heal;
pub mod index;
pub mod queue;
pub mod report;
pub mod revert;
pub mod server;
pub mod status;
pub mod store;
pub mod tally;
pub mod text;
pub mod time;
pub mod toolchain;
pub mod webhook;
