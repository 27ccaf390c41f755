//! The process edge: the HTTP server and the process that runs it (`http`), first-run setup
//! (`setup`), health checks (`health`), the SVG charts (`charts`) and error answers (`responses`), the CPUs the process may use (`cpus`), settings from the environment (`settings`) and their hot reload (`reload`), logging
//! and metrics (`telemetry`), and the state the server and setup share (`state`, `setup_states`).

mod charts;
pub mod cpus;
pub mod health;
pub mod http;
pub mod live;
pub mod memory;
pub mod reload;
mod responses;
pub mod settings;
pub mod setup;
mod setup_states;
pub mod state;
pub mod telemetry;

pub use http::*;
pub use state::AppState;
