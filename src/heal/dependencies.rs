//! The circuit breakers of the dependencies upkeep calls besides GitHub (whose breakers live in
//! its transport, per installation): the package registries, the advisory database fetch, the
//! git hosts cargo fetches from, and the database. Made once per process, handed to the work
//! that calls each dependency, and read by the status page.

use std::sync::Arc;
use std::time::Duration;

use super::breaker::BreakerPolicy;
use super::breakers::Breakers;

/// The one scope of the database's breaker.
pub const DATABASE: &str = "store";

#[derive(Debug, Clone)]
pub struct Dependencies {
    /// Scope: each registry's index URL.
    pub index: Arc<Breakers>,
    /// Scope: `fetch`.
    pub advisory_db: Arc<Breakers>,
    /// Scope: each host.
    pub git: Arc<Breakers>,
    /// Scope: `DATABASE`.
    pub database: Arc<Breakers>,
}

impl Dependencies {
    /// Each dependency's breaker with its own policy; the advisory fetch runs every
    /// `advisories_every`.
    pub fn new(advisories_every: Duration) -> Self {
        Dependencies {
            index: Arc::new(Breakers::new("index", BreakerPolicy::default())),
            advisory_db: Arc::new(Breakers::new(
                "advisory_db",
                BreakerPolicy::for_period(advisories_every),
            )),
            git: Arc::new(Breakers::new("git", BreakerPolicy::for_git_host())),
            database: Arc::new(Breakers::new("database", BreakerPolicy::for_database())),
        }
    }
}
