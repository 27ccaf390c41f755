//! Comment commands: the parser lives in the `upkeep-commands` crate (pure, fuzzed on its own);
//! `jobs::commands_run` carries commands out.

pub use upkeep_commands::*;
