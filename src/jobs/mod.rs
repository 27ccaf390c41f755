//! The durable job queue on the store, its workers and the daily scheduler. A small table-based
//! queue rather than a crate: none of the queue crates (mid-2026) runs on both SQLite and
//! PostgreSQL with replica-safe scheduling (see docs/ARCHITECTURE.md).

pub mod after_ci;
pub mod audit_check;
pub mod audit_triggers;
pub mod bench_ingest;
pub mod commands_run;
pub mod dashboard_pass;
mod deps_files;
pub mod deps_pass;
pub mod handlers;
pub mod ignore_pr;
pub mod queue;
pub mod repo_locks;
pub mod revert_act;
pub mod revert_bench;
pub mod revert_suites;
pub mod revert_watch;
pub mod scheduler;
pub mod security_pass;
pub mod worker;

pub use queue::{backoff, QueueConfig};
pub use worker::{JobError, JobHandler, Priority, Worker};

/// Attempts before a job is declared dead.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
