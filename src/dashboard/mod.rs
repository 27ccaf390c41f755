//! The dashboard issue: its text, rendered and read back (`render`, pure), and its drivers: `pass`
//! keeps it current, `ticks` acts on the boxes people tick.

pub mod pass;
pub mod render;
pub mod ticks;

pub use render::*;
