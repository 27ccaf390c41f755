//! The process edge: the HTTP server and the process that runs it (`http`), first-run setup
//! (`setup`), health checks (`health`), settings from the environment (`settings`) and logging
//! and metrics (`telemetry`).

pub mod health;
pub mod http;
pub mod settings;
pub mod setup;
pub mod telemetry;

pub use http::*;
