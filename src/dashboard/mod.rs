//! The dashboard issue: its text, rendered and read back (`render`, pure), and the driver that
//! keeps it current (`pass`).

pub mod pass;
pub mod render;

pub use render::*;
