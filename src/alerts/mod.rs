//! Alerts whose thresholds tune themselves. `signal` names what is watched and its stated
//! defaults; `baseline` learns each signal's normal by hour of day and kind of day from its
//! own history (robust quantiles); `detector` opens an alert on a sustained departure and
//! closes it with hysteresis; `replay` runs the same core over a trace (`upkeep alerts
//! replay FILE`); `chart` draws a signal's last hours for the ops issue. All pure but
//! `sampler`, the driver that feeds them every minute, keeps the samples and acts on what
//! opens, and `escalate`, which calls a person.

pub mod baseline;
pub mod chart;
pub mod detector;
pub mod escalate;
pub mod notice;
pub mod open_alert;
pub mod replay;
pub mod sampler;
pub mod signal;

pub use detector::{Detector, Event};
pub use signal::Signal;
