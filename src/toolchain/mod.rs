//! Toolchain pins (issue 25): a `rust-toolchain.toml` or `rust-toolchain` pinned to a stable
//! release gets one PR to the newest stable rust-lang/rust has published, after the cooldown.
//! Pure: `pin` (read and rewrite the file) and `choose` (which release). Driver: `pr` (the
//! release list from GitHub, the PR on `upkeep/toolchain`, found again by its marker).
//! `rust-version` (the MSRV) is a different number and never moved by that PR; `msrv_ci`
//! (pure) and `msrv_pr` (driver) keep CI steps pinned to the MSRV in step with it instead.

pub mod choose;
pub mod msrv_ci;
pub mod msrv_pr;
pub mod pin;
pub mod pr;

pub use choose::{choose, releases_from, Decision, Release};
pub use pin::{Pin, PinError};
