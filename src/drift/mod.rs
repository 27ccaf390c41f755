//! Configuration that corrects itself: the App's own settings on GitHub compared with what
//! upkeep needs, put back where the fix is certain and reported with the exact fix where it is
//! not. `hook` (pure) decides whether the App's webhook drifted from the public URL and what
//! `PATCH` puts it back; `hook_watch` (driver) reads and corrects it at start and hourly;
//! `permissions` (pure) compares the App's permissions and events with `app-manifest.yml`
//! and `app_watch` (driver) reads `GET /app` for it; `finding` holds what each check found for
//! the status page.

pub mod accepted;
pub mod app_watch;
pub mod finding;
pub mod hook;
pub mod hook_watch;
pub mod installations;
pub mod permissions;
